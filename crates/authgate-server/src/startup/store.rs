//! Choosing and opening the database `storage.database_url` names.

use std::sync::Arc;

use authgate_store::{PostgresStore, SqliteStore, Store};

use crate::config::Settings;
use crate::fs::{create_private_dir, make_private_file};

use super::error::BuildError;

/// Opens the database named by the settings, choosing the backend by the
/// scheme of `storage.database_url`: `postgres://` or `postgresql://` is
/// PostgreSQL; `sqlite:` (or empty: `authgate.db` in `storage.data_dir`) is
/// SQLite. Returns it with a description for the operator (no password).
///
/// # Errors
/// [`BuildError`] when the URL names a backend this build does not have,
/// or the database cannot be opened.
pub async fn open_store(settings: &Settings) -> Result<(Arc<dyn Store>, String), BuildError> {
    let url = settings.storage.database_url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = PostgresStore::open(url)
            .await
            .map_err(BuildError::OpenDatabase)?;
        let location = store.location().to_owned();
        return Ok((Arc::new(store), location));
    }
    if !url.is_empty() && !url.starts_with("sqlite:") {
        return Err(BuildError::DatabaseScheme {
            scheme: url_scheme(url),
        });
    }
    let path = match url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        Some(path) if !path.is_empty() => std::path::PathBuf::from(path),
        _ => settings.storage.data_dir.join("authgate.db"),
    };
    create_private_dir(&settings.storage.data_dir)?;
    // Password hashes, refresh-token hashes and sealed keys: the owner's only.
    make_private_file(&path)?;
    let store = match SqliteStore::open(&path).await {
        Ok(store) => store,
        Err(source) => return Err(BuildError::OpenSqlite { path, source }),
    };
    Ok((Arc::new(store), format!("sqlite:{}", path.display())))
}

/// How the operator is told which backend `url` named: its scheme when it
/// has one (letters, digits, `+`, `-`, `.` before a colon, at most 16), or
/// "scheme-less" otherwise. Never more of the URL: a libpq connection
/// string (`host=db password=…`) has no colon, and everything past the
/// scheme may hold a password.
fn url_scheme(url: &str) -> String {
    let scheme = url.split_once(':').map(|(scheme, _)| scheme);
    match scheme {
        Some(s)
            if (1..=16).contains(&s.len())
                && s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            s.to_owned()
        }
        _ => "scheme-less".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[tokio::test]
    async fn the_database_is_made_private_even_in_an_open_data_directory() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = std::env::temp_dir().join(format!("authgate-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut settings = Settings::default();
        settings.storage.data_dir = dir.clone();
        open_store(&settings).await.unwrap();
        assert_eq!(mode(&dir), 0o755, "the operator's directory is left alone");
        let db = dir.join("authgate.db");
        assert_eq!(mode(&db), 0o600);
        // An existing database left readable by others is tightened too.
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        open_store(&settings).await.unwrap();
        assert_eq!(mode(&db), 0o600);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_database_url_of_another_backend_is_refused_without_echoing_it() {
        let mut settings = Settings::default();
        settings.storage.data_dir =
            std::env::temp_dir().join(format!("authgate-{}", uuid::Uuid::new_v4()));
        settings.storage.database_url = "mysql://ann:secret@127.0.0.1/authgate".into();
        let err = open_store(&settings).await.unwrap_err().to_string();
        assert!(err.contains("storage.database_url"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        assert!(!settings.storage.data_dir.exists(), "nothing was created");
    }

    #[tokio::test]
    async fn a_libpq_connection_string_is_refused_without_echoing_any_of_it() {
        let mut settings = Settings::default();
        settings.storage.data_dir =
            std::env::temp_dir().join(format!("authgate-{}", uuid::Uuid::new_v4()));
        for url in [
            "host=db user=ann password=secret dbname=authgate",
            "password=secret@db/x:5432",
            "ann secret:x",
        ] {
            settings.storage.database_url = url.into();
            let err = open_store(&settings).await.unwrap_err().to_string();
            assert!(err.contains("storage.database_url"), "{err}");
            assert!(err.contains("scheme-less"), "{err}");
            assert!(!err.contains("secret") && !err.contains("ann"), "{err}");
        }
        assert!(!settings.storage.data_dir.exists(), "nothing was created");
    }
}
