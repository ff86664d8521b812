//! The SQLite backend: every generic check against a fresh database file,
//! plus what only a file-backed store has to prove.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use authgate_core::{KeyStore, Ping, SessionStore, StoreError, UserStore};
use authgate_store::SqliteStore;
use tempfile::TempDir;

use crate::fixtures::{at, key, session, token, user};
use crate::{keys, sessions, users};

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

sqlite_tests! { |s|
    users::inserted_user_is_found_by_id_email_and_username(&s);
    users::users_without_username_coexist_and_are_found_by_email(&s);
    users::duplicate_email_is_a_conflict_on_email_and_inserts_nothing(&s);
    users::duplicate_username_is_a_conflict_on_username_and_inserts_nothing(&s);
    users::set_roles_and_password_hash_replace_them_and_touch_updated_at(&s);
    users::disabling_a_user_revokes_their_live_sessions_in_the_same_call(&s, &s);
    users::list_users_pages_by_id_after_the_cursor(&s);
    users::list_users_prefix_matches_email_or_username_literally(&s);
    sessions::created_session_and_first_token_read_back(&s, &s);
    sessions::failed_create_session_leaves_no_session_behind(&s, &s);
    sessions::live_sessions_are_unrevoked_unexpired_and_newest_first(&s, &s);
    sessions::rotate_marks_the_parent_used_inserts_the_successor_and_touches_the_session(&s, &s);
    sessions::rotating_a_used_parent_again_returns_false_and_changes_nothing(&s, &s);
    sessions::rotate_refuses_revoked_expired_sessions_and_unknown_parents(&s, &s);
    sessions::concurrent_rotations_of_one_parent_have_exactly_one_winner(&s, Arc::new(s.clone()));
    sessions::revoke_session_is_idempotent_and_reports_the_first_time(&s, &s);
    sessions::revoke_user_sessions_returns_only_the_ones_it_revoked(&s, &s);
    sessions::revoked_since_lists_sessions_revoked_at_or_after_the_instant(&s, &s);
    sessions::wipe_sealed_successors_clears_only_tokens_used_before_the_instant(&s, &s);
    keys::inserted_keys_are_listed_oldest_first_with_every_field(&s);
    keys::duplicate_kid_is_a_conflict_on_kid(&s);
    keys::ping_succeeds_on_an_open_store(&s);
}

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

/// A client that disconnects mid-login drops the request future while the
/// store is inside a transaction. Under load this once left a pooled
/// connection inside its transaction, failing every later write; writes now
/// run to completion on their own task, so abandoned ones leave the store usable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_abandoned_midway_leave_the_store_usable() {
    let (_dir, store) = open_temp().await;
    let owner = user("owner@example.com", None);
    store.insert_user(&owner).await.unwrap();
    for round in 0..200 {
        let s = session(owner.id, at(1_000), 3_600);
        let first = token(&format!("abandoned-{round}"), &s, 0, at(1_000));
        let write = store.create_session(&s, &first);
        // Poll it a little, then drop it, as axum does when the client goes away.
        let _ = tokio::time::timeout(std::time::Duration::from_micros(round % 50), write).await;
    }
    // Every later write still works, promptly.
    for round in 0..20 {
        let s = session(owner.id, at(2_000), 3_600);
        let first = token(&format!("after-{round}"), &s, 0, at(2_000));
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            store.create_session(&s, &first),
        )
        .await
        .expect("a write after abandoned ones does not hang")
        .expect("a write after abandoned ones succeeds");
    }
}
