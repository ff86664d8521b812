//! Finding the master key: the environment, a configured file, or one
//! generated into the data directory (0600) on first start.

use std::io::Write;
use std::path::{Path, PathBuf};

use authgate_core::{AuthError, MasterKey};

use crate::config::Settings;
use crate::fs::{FsError, create_private_dir};

/// Where the master key came from, for the start-up message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterKeySource {
    /// `AUTHGATE_STORAGE__MASTER_KEY`.
    Environment,
    /// An existing file.
    File(PathBuf),
    /// Generated now into this file.
    Generated(PathBuf),
}

/// Why the master key could not be loaded or generated; each message says
/// which source was wrong and how, never the key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MasterKeyError {
    /// `AUTHGATE_STORAGE__MASTER_KEY` is not base64 of 32 bytes.
    #[error("AUTHGATE_STORAGE__MASTER_KEY: {0}")]
    Environment(#[source] AuthError),
    /// The key file could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        /// The key file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The key file does not hold base64 of 32 bytes.
    #[error("{}: {source}", .path.display())]
    Malformed {
        /// The key file.
        path: PathBuf,
        /// Why.
        #[source]
        source: AuthError,
    },
    /// `storage.master_key_file` names a file that does not exist.
    #[error("storage.master_key_file {} does not exist", .path.display())]
    Missing {
        /// The configured path.
        path: PathBuf,
    },
    /// The key file is readable by group or others.
    #[error("{} is readable by other users (mode {mode:o}); run chmod 600 on it", .path.display())]
    OpenToOthers {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The data directory for a generated key could not be created.
    #[error(transparent)]
    DataDir(#[from] FsError),
    /// A new key could not be generated.
    #[error(transparent)]
    Generate(AuthError),
    /// The generated key's file could not be created.
    #[error("cannot create {}: {source}", .path.display())]
    Create {
        /// The key file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The generated key could not be written.
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        /// The key file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Loads (or on first start generates) the master key.
///
/// # Errors
/// [`MasterKeyError`] saying which source was wrong and how: unreadable
/// file, not base64 of 32 bytes, a key file readable by others.
pub fn load(settings: &Settings) -> Result<(MasterKey, MasterKeySource), MasterKeyError> {
    if settings.storage.master_key.is_set() {
        let key = MasterKey::from_base64(settings.storage.master_key.expose())
            .map_err(MasterKeyError::Environment)?;
        return Ok((key, MasterKeySource::Environment));
    }
    let path = if settings.storage.master_key_file.is_empty() {
        settings.storage.data_dir.join("master.key")
    } else {
        PathBuf::from(&settings.storage.master_key_file)
    };
    if path.exists() {
        check_private(&path)?;
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(source) => return Err(MasterKeyError::Read { path, source }),
        };
        return match MasterKey::from_base64(&text) {
            Ok(key) => Ok((key, MasterKeySource::File(path))),
            Err(source) => Err(MasterKeyError::Malformed { path, source }),
        };
    }
    if !settings.storage.master_key_file.is_empty() {
        return Err(MasterKeyError::Missing { path });
    }
    // With PostgreSQL nothing else creates the data directory.
    create_private_dir(&settings.storage.data_dir)?;
    let (key, text) = MasterKey::generate().map_err(MasterKeyError::Generate)?;
    write_private(&path, text.as_bytes())?;
    Ok((key, MasterKeySource::Generated(path)))
}

/// Writes a new file readable only by its owner, failing if it exists.
fn write_private(path: &Path, contents: &[u8]) -> Result<(), MasterKeyError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|source| MasterKeyError::Create {
            path: path.to_path_buf(),
            source,
        })?;
    file.write_all(contents)
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|source| MasterKeyError::Write {
            path: path.to_path_buf(),
            source,
        })
}

/// Refuses a key file that group or others can read.
fn check_private(path: &Path) -> Result<(), MasterKeyError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|source| MasterKeyError::Read {
                path: path.to_path_buf(),
                source,
            })?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(MasterKeyError::OpenToOthers {
                path: path.to_path_buf(),
                mode: mode & 0o777,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_start_without_a_data_directory_generates_the_key_into_a_new_one() {
        // What PostgreSQL deployments meet: the SQLite path, which used to
        // create the directory, never runs.
        let dir = std::env::temp_dir()
            .join(format!("authgate-{}", uuid::Uuid::new_v4()))
            .join("data");
        let mut settings = Settings::default();
        settings.storage.data_dir = dir.clone();
        let (key, source) = load(&settings).unwrap();
        assert_eq!(source, MasterKeySource::Generated(dir.join("master.key")));
        let (again, source) = load(&settings).unwrap();
        assert_eq!(source, MasterKeySource::File(dir.join("master.key")));
        let purpose = authgate_core::Purpose::SigningKey;
        let sealed = key.seal(purpose, b"secret", b"context").unwrap();
        assert_eq!(
            &again.open(purpose, &sealed, b"context").unwrap()[..],
            b"secret"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        let _ = std::fs::remove_dir_all(dir.parent().unwrap());
    }
}
