//! Files and directories only their owner may read: the data directory,
//! the SQLite database and its companions.

use std::path::{Path, PathBuf};

/// Why a private file or directory could not be made so.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FsError {
    /// The data directory could not be created.
    #[error("cannot create the data directory {}: {source}", .path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The database file could not be created.
    #[error("cannot create the database {}: {source}", .path.display())]
    CreateDatabase {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file's mode could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file open to other users could not be tightened to 0600.
    #[error("{} is open to other users (mode {mode:o}) and cannot be tightened: {source}", .path.display())]
    Tighten {
        /// The file.
        path: PathBuf,
        /// Its mode (permission bits).
        mode: u32,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Creates `dir` (and its parents) readable only by its owner. An existing
/// one is left as it is (it may be a directory of the operator's, `.` even)
/// with a warning if others may enter it: the files that matter in it are
/// created (or tightened to) 0600 whatever the directory's mode.
///
/// # Errors
/// [`FsError::CreateDir`].
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), FsError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| FsError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(dir)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                path = %dir.display(),
                mode = format!("{:o}", meta.permissions().mode() & 0o777),
                "the data directory is open to other users; its secrets are kept 0600, but 0700 is safer"
            );
        }
    }
    Ok(())
}

/// Creates the SQLite file `path` as 0600 if it does not exist (SQLite
/// gives its `-wal` and `-shm` files the database file's mode), or
/// tightens an existing one, and those files, to 0600.
///
/// # Errors
/// [`FsError`] when the file cannot be created or tightened.
pub(crate) fn make_private_file(path: &Path) -> Result<(), FsError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map_err(|source| FsError::CreateDatabase {
            path: path.to_path_buf(),
            source,
        })?;
    owner_only(path)?;
    for suffix in ["-wal", "-shm"] {
        let mut companion = path.as_os_str().to_owned();
        companion.push(suffix);
        let companion = PathBuf::from(companion);
        if companion.exists() {
            owner_only(&companion)?;
        }
    }
    Ok(())
}

/// Sets `path` to 0600 if it grants anything to group or others, and says so.
fn owner_only(path: &Path) -> Result<(), FsError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let current = std::fs::metadata(path)
            .map_err(|source| FsError::Read {
                path: path.to_path_buf(),
                source,
            })?
            .permissions()
            .mode()
            & 0o777;
        if current & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(
                |source| FsError::Tighten {
                    path: path.to_path_buf(),
                    mode: current,
                    source,
                },
            )?;
            tracing::warn!(
                path = %path.display(),
                was = format!("{current:o}"),
                "tightened permissions to 600: the database holds password and token hashes"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
