//! The file-system side of the credentials file: only its owner may read
//! or change it, and a new version is on disk before it is relied on.
//!
//! On Unix, a credentials file is used only if it is a regular file (not
//! reached through a symbolic link) owned by the owner of its directory,
//! with no group or other permission bits, in a directory with none
//! either. Saving tightens the directory to 0700 when this process's user
//! owns it, and refuses to write into anyone else's. Elsewhere these checks
//! are left to the platform's ACLs.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Error;

/// Opens the credentials file `path` in `dir` for reading, after checking
/// that only their owner can use them; `None` when either is missing.
///
/// # Errors
/// [`Error::Credentials`] when `dir` or `path` may be read or changed by
/// someone else, `path` is a symbolic link or not a regular file, or it
/// cannot be opened.
pub(super) fn open_private(dir: &Path, path: &Path) -> Result<Option<File>, Error> {
    // The file first: where there is none, there is nothing to trust.
    let file = match open_no_follow(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            let link = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
            return Err(if link {
                Error::credentials(path, "is a symbolic link: refusing to follow it")
            } else {
                Error::credentials(path, e)
            });
        }
    };
    let Some(owner) = private_dir_owner(dir)? else {
        return Ok(None);
    };
    // Of the file opened (fstat), not of whatever the path names by now.
    let metadata = file.metadata().map_err(|e| Error::credentials(path, e))?;
    if !metadata.is_file() {
        return Err(Error::credentials(path, "is not a regular file"));
    }
    check_owner_only(path, &metadata, owner, 0o600)?;
    Ok(Some(file))
}

/// `dir`'s owner (a uid; `0` off Unix), after checking that it is a
/// directory only its owner can use; `None` when it does not exist.
///
/// # Errors
/// [`Error::Credentials`] when it is not such a directory.
pub(super) fn private_dir_owner(dir: &Path) -> Result<Option<u32>, Error> {
    let metadata = match fs::metadata(dir) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::credentials(dir, e)),
    };
    if !metadata.is_dir() {
        return Err(Error::credentials(dir, "is not a directory"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let owner = metadata.uid();
        check_owner_only(dir, &metadata, owner, 0o700)?;
        Ok(Some(owner))
    }
    #[cfg(not(unix))]
    Ok(Some(0))
}

/// Makes `dir` private to its owner (mode 0700), who must be the owner of
/// `probe`, a file this process just created in it: the only way to learn
/// this process's user without `unsafe`.
///
/// # Errors
/// [`Error::Credentials`] when someone else owns `dir`, or its mode cannot
/// be read or changed.
#[cfg(unix)]
pub(super) fn make_dir_private(dir: &Path, probe: &Path) -> Result<(), Error> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let metadata = fs::metadata(dir).map_err(|e| Error::credentials(dir, e))?;
    let me = fs::symlink_metadata(probe)
        .map_err(|e| Error::credentials(probe, e))?
        .uid();
    if metadata.uid() != me {
        return Err(Error::credentials(
            dir,
            format!(
                "is owned by uid {}, not by this user (uid {me}): refusing to write credentials there",
                metadata.uid()
            ),
        ));
    }
    let mode = metadata.mode() & 0o777;
    if mode & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::credentials(dir, e))?;
        tracing::warn!(target: "authgate_client", dir = %dir.display(), "credentials directory had mode {mode:o}; changed it to 700");
    }
    Ok(())
}

/// Off Unix, permissions are the platform's ACLs, not changed here.
#[cfg(not(unix))]
pub(super) fn make_dir_private(_: &Path, _: &Path) -> Result<(), Error> {
    Ok(())
}

/// Opens `path` read-only without following a symbolic link at its end.
#[cfg(unix)]
fn open_no_follow(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .read(true)
        // O_NONBLOCK: a FIFO planted there cannot hang the open; it has no
        // effect on reading a regular file.
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

/// Opens `path` read-only.
#[cfg(not(unix))]
fn open_no_follow(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

/// Refuses `path` unless `owner` owns it and it has no group or other
/// permission bits; `fix` is the mode suggested instead.
#[cfg(unix)]
fn check_owner_only(
    path: &Path,
    metadata: &fs::Metadata,
    owner: u32,
    fix: u32,
) -> Result<(), Error> {
    use std::os::unix::fs::MetadataExt;
    if metadata.uid() != owner {
        return Err(Error::credentials(
            path,
            format!(
                "is owned by uid {}, not by the owner of its directory (uid {owner}): refusing it",
                metadata.uid()
            ),
        ));
    }
    let mode = metadata.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::credentials(
            path,
            format!(
                "has mode {mode:o}, so other users may read or change it: refusing it \
                 (`chmod {fix:o}` it if no one else can have read it, else log in again)"
            ),
        ));
    }
    Ok(())
}

/// Off Unix, permissions are the platform's ACLs, not checked here.
#[cfg(not(unix))]
fn check_owner_only(_: &Path, _: &fs::Metadata, _: u32, _: u32) -> Result<(), Error> {
    Ok(())
}

/// A temporary name beside `path`, unique within the process.
pub(super) fn temp_path(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map_or_else(|| "credentials".into(), |n| n.to_string_lossy());
    path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// Creates `path` (a new file) with mode 0600 and writes `bytes` to disk.
pub(super) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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
pub(super) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Writes `dir`'s entries to disk, so a rename into it survives a power
/// cut: until then the old file, holding a refresh token the server has
/// already rotated away, may come back.
#[cfg(unix)]
pub(super) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()?;
    #[cfg(test)]
    tests::record_sync(dir);
    Ok(())
}

/// Off Unix a directory cannot be opened as a file to sync; NTFS
/// journals the rename itself.
#[cfg(not(unix))]
pub(super) fn sync_dir(_: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use std::cell::RefCell;
    use std::ffi::OsString;
    use std::path::{Path, PathBuf};

    thread_local! {
        /// Each directory this thread synced, with the names it held then:
        /// what a power cut right after the sync would leave.
        static SYNCED: RefCell<Vec<(PathBuf, Vec<OsString>)>> = const { RefCell::new(Vec::new()) };
    }

    /// Notes that `dir` was just synced.
    pub(super) fn record_sync(dir: &Path) {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .map(|entries| entries.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        names.sort();
        SYNCED.with(|synced| synced.borrow_mut().push((dir.to_path_buf(), names)));
    }

    /// The directories this thread synced so far, with their names then.
    pub(in crate::credentials) fn synced() -> Vec<(PathBuf, Vec<OsString>)> {
        SYNCED.with(|synced| synced.borrow().clone())
    }
}
