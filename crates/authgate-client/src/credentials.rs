//! Token persistence for command-line programs: one credentials file per
//! server, readable by its owner only (0600 from creation), replaced
//! atomically so a crash never leaves half a file.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use authgate_proto::PublicUser;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::store::{AuthStore, Tokens};

/// The largest credentials file read (64 KiB); a real one is a few KiB.
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// What a credentials file holds: the server, the tokens and the user.
/// `Debug` hides both tokens.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// The server the tokens belong to (normalised URL).
    pub server: String,
    /// The access token.
    pub access_token: String,
    /// The refresh token, the newest of the rotation.
    pub refresh_token: Option<String>,
    /// The user who logged in.
    pub user: PublicUser,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("server", &self.server)
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("user", &self.user.email)
            .finish()
    }
}

impl Credentials {
    /// The session in `store` as credentials for `server`; `None` when
    /// logged out.
    pub fn from_store(server: &str, store: &AuthStore) -> Option<Self> {
        // One read, so the tokens and the user are of the same session.
        let session = store.session()?;
        Some(Self {
            server: server.to_owned(),
            access_token: session.tokens.access,
            refresh_token: session.tokens.refresh,
            user: session.user?,
        })
    }

    /// Logs `store` in with these credentials.
    pub fn restore_into(&self, store: &AuthStore) {
        let tokens = Tokens {
            access: self.access_token.clone(),
            refresh: self.refresh_token.clone(),
        };
        store.login(tokens, self.user.clone());
    }
}

/// The credentials file of one server inside a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialsFile {
    /// Where the file lives.
    path: PathBuf,
}

impl CredentialsFile {
    /// The file for `server` in `dir` (which the program chooses, e.g.
    /// `~/.config/authgate`). The name is the server's host and port made
    /// file-safe plus a hash of the whole URL, so `http://` and
    /// `https://` of one host get different files.
    pub fn for_server(dir: &Path, server: &str) -> Self {
        let without_scheme = server.split_once("://").map_or(server, |(_, rest)| rest);
        let readable: String = without_scheme
            .chars()
            .take(64)
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Self {
            path: dir.join(format!("{readable}-{:016x}.json", fnv1a(server))),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the credentials; `None` when there is no file.
    ///
    /// # Errors
    /// [`Error::Credentials`] when the file cannot be read, is over 64 KiB
    /// or is not a credentials file.
    pub fn load(&self) -> Result<Option<Credentials>, Error> {
        let file = match File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::credentials(&self.path, e)),
        };
        let mut text = String::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| Error::credentials(&self.path, e))?;
        if text.len() as u64 > MAX_FILE_BYTES {
            return Err(Error::credentials(&self.path, "file is over 64 KiB"));
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|_| Error::credentials(&self.path, "not a credentials file"))
    }

    /// Writes the credentials: to a new file that only the owner can read
    /// (mode 0600 from its creation), in the same directory, then renamed
    /// over the old one. The directory is created (0700) if missing.
    ///
    /// # Errors
    /// [`Error::Credentials`] when the directory or file cannot be written.
    pub fn save(&self, credentials: &Credentials) -> Result<(), Error> {
        let dir = self
            .path
            .parent()
            .ok_or_else(|| Error::credentials(&self.path, "no parent directory"))?;
        create_private_dir(dir).map_err(|e| Error::credentials(dir, e))?;
        let text = serde_json::to_vec_pretty(credentials)
            .map_err(|e| Error::credentials(&self.path, e))?;
        let temp = temp_path(&self.path);
        let written = write_private(&temp, &text).and_then(|()| fs::rename(&temp, &self.path));
        if let Err(e) = written {
            // Best effort: the temporary file is useless now.
            let _ = fs::remove_file(&temp);
            return Err(Error::credentials(&self.path, e));
        }
        Ok(())
    }

    /// Deletes the file; `false` when there was none.
    ///
    /// # Errors
    /// [`Error::Credentials`] when it exists but cannot be deleted.
    pub fn delete(&self) -> Result<bool, Error> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::credentials(&self.path, e)),
        }
    }

    /// The credentials files in `dir` (none if `dir` does not exist), for
    /// a program that was not told which server to use. Files that cannot
    /// be read are skipped.
    ///
    /// # Errors
    /// [`Error::Credentials`] when `dir` exists but cannot be listed.
    pub fn list(dir: &Path) -> Result<Vec<(Self, Credentials)>, Error> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::credentials(dir, e)),
        };
        let mut found = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|ext| ext != "json") {
                continue;
            }
            let file = Self { path };
            if let Ok(Some(credentials)) = file.load() {
                found.push((file, credentials));
            }
        }
        found.sort_by(|a, b| a.1.server.cmp(&b.1.server));
        Ok(found)
    }
}

/// A temporary name beside `path`, unique within the process.
fn temp_path(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map_or_else(|| "credentials".into(), |n| n.to_string_lossy());
    path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// Creates `path` (a new file) with mode 0600 and writes `bytes` to disk.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Creates `dir` and its parents, the last with mode 0700.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// FNV-1a, 64 bits: a stable, dependency-free hash for file names.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::user;

    fn credentials(server: &str) -> Credentials {
        Credentials {
            server: server.into(),
            access_token: "access-secret".into(),
            refresh_token: Some("refresh-secret".into()),
            user: user(&["user"]),
        }
    }

    #[test]
    fn saved_credentials_load_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = CredentialsFile::for_server(dir.path(), "http://127.0.0.1:8080");
        assert_eq!(file.load().unwrap(), None);
        file.save(&credentials("http://127.0.0.1:8080")).unwrap();
        assert_eq!(
            file.load().unwrap(),
            Some(credentials("http://127.0.0.1:8080"))
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_readable_by_its_owner_only_and_the_directory_too() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("authgate");
        let file = CredentialsFile::for_server(&config, "https://auth.example.com");
        file.save(&credentials("https://auth.example.com")).unwrap();
        let mode = fs::metadata(file.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        let mode = fs::metadata(&config).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{mode:o}");
        // Saving again (the rename path) keeps the mode.
        file.save(&credentials("https://auth.example.com")).unwrap();
        let mode = fs::metadata(file.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }

    #[test]
    fn saving_leaves_no_temporary_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let file = CredentialsFile::for_server(dir.path(), "https://a.example");
        file.save(&credentials("https://a.example")).unwrap();
        file.save(&credentials("https://a.example")).unwrap();
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn each_server_gets_its_own_file() {
        let dir = Path::new("/config");
        let http = CredentialsFile::for_server(dir, "http://auth.example.com");
        let https = CredentialsFile::for_server(dir, "https://auth.example.com");
        assert_ne!(http, https);
        let name = https.path().file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("auth.example.com-"), "{name}");
        let port = CredentialsFile::for_server(dir, "http://127.0.0.1:8080/../x");
        assert_eq!(port.path().parent(), Some(dir));
    }

    #[test]
    fn list_finds_every_server_and_skips_strangers() {
        let dir = tempfile::tempdir().unwrap();
        for server in ["https://b.example", "https://a.example"] {
            CredentialsFile::for_server(dir.path(), server)
                .save(&credentials(server))
                .unwrap();
        }
        fs::write(dir.path().join("junk.json"), "{}").unwrap();
        let found = CredentialsFile::list(dir.path()).unwrap();
        let servers: Vec<_> = found.iter().map(|(_, c)| c.server.as_str()).collect();
        assert_eq!(servers, ["https://a.example", "https://b.example"]);
        assert!(
            CredentialsFile::list(&dir.path().join("missing"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_corrupt_or_huge_file_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let file = CredentialsFile::for_server(dir.path(), "https://a.example");
        fs::write(file.path(), "not json").unwrap();
        assert!(matches!(file.load(), Err(Error::Credentials { .. })));
        fs::write(file.path(), vec![b' '; 70 * 1024]).unwrap();
        assert!(matches!(file.load(), Err(Error::Credentials { .. })));
    }

    #[test]
    fn delete_removes_the_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = CredentialsFile::for_server(dir.path(), "https://a.example");
        file.save(&credentials("https://a.example")).unwrap();
        assert!(file.delete().unwrap());
        assert!(!file.delete().unwrap());
    }

    #[test]
    fn credentials_round_trip_through_a_store() {
        let store = AuthStore::new();
        credentials("https://a.example").restore_into(&store);
        assert_eq!(store.refresh_token().as_deref(), Some("refresh-secret"));
        let back = Credentials::from_store("https://a.example", &store).unwrap();
        assert_eq!(back, credentials("https://a.example"));
        let debug = format!("{back:?}");
        assert!(!debug.contains("secret"), "{debug}");
    }

    #[test]
    fn saved_credentials_pair_the_tokens_with_the_user_of_their_session() {
        let store = AuthStore::new();
        credentials("https://a.example").restore_into(&store);
        // Another thread logs out and in as bob just after the tokens are read.
        store.set_after_read({
            let store = store.clone();
            move || {
                store.logout();
                let bob = PublicUser {
                    email: "bob@example.com".into(),
                    ..user(&["user"])
                };
                store.login(Tokens::new("access-bob", "refresh-bob"), bob);
            }
        });
        let saved = Credentials::from_store("https://a.example", &store).unwrap();
        assert_eq!(saved, credentials("https://a.example"));
    }
}
