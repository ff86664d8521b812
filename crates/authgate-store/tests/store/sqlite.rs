//! The SQLite backend: every generic check against a fresh database file,
//! plus what only a file-backed store has to prove.

use std::path::{Path, PathBuf};

use authgate_core::{KeyStore, Ping, SessionStore, StoreError, UserStore};
use authgate_store::SqliteStore;
use tempfile::TempDir;

use crate::fixtures::{at, key, session, token, user};
use crate::{admin, keys, mfa, oidc, recovery, sessions, users, verification};

/// A store on a new file in its own temporary directory (removed on drop).
async fn open_temp() -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&db_path(dir.path())).await.unwrap();
    (dir, store)
}

fn db_path(dir: &Path) -> PathBuf {
    dir.join("authgate.db")
}

/// One `#[tokio::test]` per generic check, each with its own database; `s`
/// names the store in the calls.
macro_rules! sqlite_tests {
    (|$s:ident| $($module:ident :: $name:ident ( $($arg:expr),* );)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let (_dir, $s) = open_temp().await;
            $module::$name($($arg),*).await;
        }
    )*};
}

generic_checks!(sqlite_tests);

#[tokio::test]
async fn data_survives_closing_and_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let ann = user("ann@example.com", Some("ann"));
    let s = session(ann.id, at(0), 3600);
    let first = token("s-0", &s, 0, at(0));
    let next = token("s-1", &s, 1, at(10));
    let k = key("kid-a", at(0));
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store.insert_user(&ann).await.unwrap();
        store.create_session(&s, &first).await.unwrap();
        assert!(
            store
                .rotate(&first.hash, &next, b"sealed", at(10))
                .await
                .unwrap()
        );
        store.insert_key(&k).await.unwrap();
        store.close().await;
    }
    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(store.user_by_login("ann").await.unwrap(), Some(ann));
    let mut touched = s.clone();
    touched.last_used_at = at(10);
    assert_eq!(store.session(s.id).await.unwrap(), Some(touched));
    assert_eq!(
        store
            .refresh_token(&first.hash)
            .await
            .unwrap()
            .unwrap()
            .successor,
        Some(next.hash)
    );
    assert_eq!(store.refresh_token(&next.hash).await.unwrap(), Some(next));
    assert_eq!(store.keys().await.unwrap(), vec![k]);
}

#[tokio::test]
async fn open_creates_the_file_in_wal_mode_and_reopening_migrates_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let store = SqliteStore::open(&path).await.unwrap();
    store
        .insert_user(&user("ann@example.com", None))
        .await
        .unwrap();
    assert!(path.exists());
    assert!(
        dir.path().join("authgate.db-wal").exists(),
        "WAL journal in use"
    );
    // A second pool on the same file while the first is open.
    let again = SqliteStore::open(&path).await.unwrap();
    assert_eq!(again.count_users().await.unwrap(), 1);
}

#[tokio::test]
async fn a_closed_store_is_unavailable() {
    let (_dir, store) = open_temp().await;
    store.close().await;
    let err = store.ping().await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    std::fs::write(&path, vec![0x42; 8192]).unwrap();
    let err = SqliteStore::open(&path).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
}

#[tokio::test]
async fn a_missing_directory_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("authgate.db");
    let err = SqliteStore::open(&path).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}
