//! Token persistence for command-line programs: one credentials file per
//! server, readable by its owner only (0600 from creation), replaced
//! atomically so a crash never leaves half a file, and refused when someone
//! else could have read or planted it (see `private`).

mod private;
#[cfg(test)]
mod tests;

use std::fmt;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use authgate_proto::PublicUser;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::store::{AuthStore, Tokens};
use private::{
    create_private_dir, make_dir_private, open_private, private_dir_owner, sync_dir, temp_path,
    write_private,
};

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
    /// The server it is for: a file holding another's is refused.
    server: String,
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
            server: server.to_owned(),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory the file is in.
    fn dir(&self) -> Result<&Path, Error> {
        self.path
            .parent()
            .ok_or_else(|| Error::credentials(&self.path, "no parent directory"))
    }

    /// Reads the credentials; `None` when there is no file.
    ///
    /// # Errors
    /// [`Error::Credentials`] when the file cannot be read, is over 64 KiB,
    /// is not a credentials file or holds another server's; and, on Unix,
    /// when it or its directory may be read or changed by other users, it
    /// is a symbolic link or it is owned by someone other than the
    /// directory's owner.
    pub fn load(&self) -> Result<Option<Credentials>, Error> {
        let Some(file) = open_private(self.dir()?, &self.path)? else {
            return Ok(None);
        };
        let credentials = read(&self.path, file)?;
        if credentials.server != self.server {
            return Err(Error::credentials(
                &self.path,
                format!(
                    "holds the credentials of {}, not of {}: refusing them",
                    credentials.server, self.server
                ),
            ));
        }
        Ok(Some(credentials))
    }

    /// Writes the credentials: to a new file that only the owner can read
    /// (mode 0600 from its creation), in the same directory, then renamed
    /// over the old one, and the directory synced so that a power cut
    /// cannot bring back the old file and its rotated-away refresh token.
    /// The directory is created (0700) if missing; on Unix, an existing one
    /// of this user that others may use is changed to 0700 (with a
    /// `tracing` warning).
    ///
    /// # Errors
    /// [`Error::Credentials`] when the credentials are another server's,
    /// the directory belongs to another user (on Unix), or the directory
    /// or file cannot be written or synced.
    pub fn save(&self, credentials: &Credentials) -> Result<(), Error> {
        if credentials.server != self.server {
            return Err(Error::credentials(
                &self.path,
                format!("is for {}, not for {}", self.server, credentials.server),
            ));
        }
        let dir = self.dir()?;
        create_private_dir(dir).map_err(|e| Error::credentials(dir, e))?;
        let text = serde_json::to_vec_pretty(credentials)
            .map_err(|e| Error::credentials(&self.path, e))?;
        let temp = temp_path(&self.path);
        let written = write_private(&temp, &text)
            .map_err(|e| Error::credentials(&self.path, e))
            // Checked with the new file, this user's: the directory's owner
            // must be the same.
            .and_then(|()| make_dir_private(dir, &temp))
            .and_then(|()| {
                fs::rename(&temp, &self.path).map_err(|e| Error::credentials(&self.path, e))
            });
        if let Err(e) = written {
            // Best effort: the temporary file is useless now.
            let _ = fs::remove_file(&temp);
            return Err(e);
        }
        sync_dir(dir).map_err(|e| Error::credentials(dir, e))
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
    /// a program that was not told which server to use. A `.json` file
    /// that is not a credentials file, or not the one its name says (the
    /// file [`for_server`](Self::for_server) names for the server it
    /// holds), is skipped.
    ///
    /// # Errors
    /// [`Error::Credentials`] when `dir` exists but cannot be listed, and
    /// for a `.json` file or a directory that [`load`](Self::load) would
    /// refuse as unsafe.
    pub fn list(dir: &Path) -> Result<Vec<(Self, Credentials)>, Error> {
        if private_dir_owner(dir)?.is_none() {
            return Ok(Vec::new());
        }
        let entries = fs::read_dir(dir).map_err(|e| Error::credentials(dir, e))?;
        let mut found = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|ext| ext != "json") {
                continue;
            }
            let Some(opened) = open_private(dir, &path)? else {
                continue; // deleted meanwhile
            };
            let Ok(credentials) = read(&path, opened) else {
                continue;
            };
            let file = Self::for_server(dir, &credentials.server);
            if file.path == path {
                found.push((file, credentials));
            }
        }
        found.sort_by(|a, b| a.1.server.cmp(&b.1.server));
        Ok(found)
    }
}

/// The credentials in the opened `file` (found at `path`).
fn read(path: &Path, file: File) -> Result<Credentials, Error> {
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| Error::credentials(path, e))?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::credentials(path, "file is over 64 KiB"));
    }
    serde_json::from_str(&text).map_err(|_| Error::credentials(path, "not a credentials file"))
}

/// FNV-1a, 64 bits: a stable, dependency-free hash for file names.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
