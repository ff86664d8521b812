//! Finding the master key: the environment, a configured file, or one
//! generated into the data directory (0600) on first start.

use std::io::Write;
use std::path::{Path, PathBuf};

use authgate_core::MasterKey;

use crate::config::Settings;

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

/// Loads (or on first start generates) the master key.
///
/// # Errors
/// A message saying which source was wrong and how: unreadable file, not
/// base64 of 32 bytes, a key file readable by others.
pub fn load(settings: &Settings) -> Result<(MasterKey, MasterKeySource), String> {
    if settings.storage.master_key.is_set() {
        let key = MasterKey::from_base64(settings.storage.master_key.expose())
            .map_err(|e| format!("AUTHGATE_STORAGE__MASTER_KEY: {e}"))?;
        return Ok((key, MasterKeySource::Environment));
    }
    let path = if settings.storage.master_key_file.is_empty() {
        settings.storage.data_dir.join("master.key")
    } else {
        PathBuf::from(&settings.storage.master_key_file)
    };
    if path.exists() {
        check_private(&path)?;
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let key = MasterKey::from_base64(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok((key, MasterKeySource::File(path)));
    }
    if !settings.storage.master_key_file.is_empty() {
        return Err(format!(
            "storage.master_key_file {} does not exist",
            path.display()
        ));
    }
    // With PostgreSQL nothing else creates the data directory.
    crate::app::create_private_dir(&settings.storage.data_dir).map_err(|e| e.0)?;
    let (key, text) = MasterKey::generate().map_err(|e| e.to_string())?;
    write_private(&path, text.as_bytes())?;
    Ok((key, MasterKeySource::Generated(path)))
}

/// Writes a new file readable only by its owner, failing if it exists.
fn write_private(path: &Path, contents: &[u8]) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.write_all(contents)
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Refuses a key file that group or others can read.
fn check_private(path: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "{} is readable by other users (mode {:o}); run chmod 600 on it",
                path.display(),
                mode & 0o777
            ));
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
