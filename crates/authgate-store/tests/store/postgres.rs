//! The PostgreSQL backend: every generic check in a fresh schema of its own,
//! plus what only a networked store has to prove (an unreachable or lost
//! database answers `Unavailable` promptly, and the store recovers by itself).
//!
//! Each test needs `AUTHGATE_TEST_POSTGRES_URL` (`#[ignore]`d without it;
//! see `testing::service_url`), except the two that need no server.

use std::time::{Duration, Instant};

use authgate_core::{KeyStore, Ping, SessionStore, StoreError, UserStore};
use authgate_store::PostgresStore;
use authgate_store::testing::{POSTGRES_URL_VAR, TcpProxy, TestSchema, service_url};

use crate::fixtures::{at, key, session, token, user};
use crate::{admin, keys, mfa, oidc, recovery, sessions, users, verification};

/// How long "promptly" may take: the pool's 3 s acquire timeout, plus slack
/// for a loaded CI machine.
const PROMPTLY: Duration = Duration::from_secs(8);

/// A fresh schema for `test` (it fails when no PostgreSQL server is
/// configured).
async fn fresh_schema(test: &str) -> TestSchema {
    let url = service_url(POSTGRES_URL_VAR, &format!("postgres::{test}"));
    TestSchema::create(&url).await.unwrap()
}

/// One `#[tokio::test]` per generic check, each in its own schema; `s`
/// names the store in the calls.
macro_rules! postgres_tests {
    (|$s:ident| $($module:ident :: $name:ident ( $($arg:expr),* );)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        #[ignore = "needs PostgreSQL: set AUTHGATE_TEST_POSTGRES_URL (scripts/test does)"]
        async fn $name() {
            let schema = fresh_schema(stringify!($name)).await;
            let $s = schema.open().await.unwrap();
            $module::$name($($arg),*).await;
        }
    )*};
}

generic_checks!(postgres_tests);

#[tokio::test]
#[ignore = "needs PostgreSQL: set AUTHGATE_TEST_POSTGRES_URL (scripts/test does)"]
async fn tables_live_in_the_test_schema_and_reopening_migrates_nothing_twice() {
    let schema = fresh_schema("tables_live_in_the_test_schema").await;
    let store = schema.open().await.unwrap();
    store
        .insert_user(&user("ann@example.com", None))
        .await
        .unwrap();
    // A second pool on the same schema (a second instance starting).
    let again = schema.open().await.unwrap();
    assert_eq!(again.count_users().await.unwrap(), 1);

    let mut conn = sqlx::ConnectOptions::connect(&schema.options().unwrap())
        .await
        .unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = $1 ORDER BY table_name",
    )
    .bind(schema.name())
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        tables,
        [
            "_sqlx_migrations",
            "audit_events",
            "clients",
            "email_verifications",
            "mfa_challenges",
            "oidc_clients",
            "oidc_codes",
            "oidc_consents",
            "outbox",
            "password_resets",
            "recovery_codes",
            "refresh_tokens",
            "revoked_tokens",
            "sessions",
            "signing_keys",
            "totp_factors",
            "users"
        ]
    );
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count();
    assert_eq!(applied, files as i64, "each migration applied once");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set AUTHGATE_TEST_POSTGRES_URL (scripts/test does)"]
async fn times_come_back_as_the_same_instant_at_microsecond_precision() {
    let schema = fresh_schema("times_come_back_as_the_same_instant").await;
    let store = schema.open().await.unwrap();
    let mut ann = user("ann@example.com", None);
    ann.created_at = time::macros::datetime!(2026-05-17 12:34:56.123456789 UTC);
    ann.updated_at = time::macros::datetime!(1999-12-31 23:59:59.999999999 UTC);
    store.insert_user(&ann).await.unwrap();
    let stored = store.user_by_id(ann.id).await.unwrap().unwrap();
    assert_eq!(
        stored.created_at,
        time::macros::datetime!(2026-05-17 12:34:56.123456 UTC)
    );
    assert_eq!(
        stored.updated_at,
        time::macros::datetime!(1999-12-31 23:59:59.999999 UTC),
        "floored like SQLite, not truncated toward PostgreSQL's 2000 epoch"
    );
}

/// Needs no PostgreSQL: nothing listens on the port.
#[tokio::test]
async fn a_database_that_cannot_be_reached_is_unavailable_promptly() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let started = Instant::now();
    let err = PostgresStore::open(&format!(
        "postgres://authgate:secret-password@127.0.0.1:{port}/authgate"
    ))
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(started.elapsed() < PROMPTLY, "took {:?}", started.elapsed());
    assert!(!err.to_string().contains("secret-password"), "{err}");
}

#[tokio::test]
async fn a_url_that_does_not_parse_is_refused_without_repeating_it() {
    let err = PostgresStore::open("postgres://ann:secret-password@[nope/db")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Other(_)), "{err:?}");
    assert!(!err.to_string().contains("secret-password"), "{err}");
}

/// The database goes away under an open store: calls answer `Unavailable`
/// within the acquire timeout instead of hanging, nothing is written, and
/// once the database is back the same store serves again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set AUTHGATE_TEST_POSTGRES_URL (scripts/test does)"]
async fn a_lost_database_is_unavailable_promptly_and_the_store_recovers_by_itself() {
    let schema = fresh_schema("a_lost_database_is_unavailable_promptly").await;
    let proxy = TcpProxy::start(&schema.server().unwrap()).await.unwrap();
    let options = schema
        .options()
        .unwrap()
        .host("127.0.0.1")
        .port(proxy.addr().port());
    let store = PostgresStore::open_with(options).await.unwrap();
    let ann = user("ann@example.com", None);
    store.insert_user(&ann).await.unwrap();
    store.ping().await.unwrap();

    proxy.cut().await;
    let started = Instant::now();
    let err = store.ping().await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(started.elapsed() < PROMPTLY, "took {:?}", started.elapsed());
    let bob = user("bob@example.com", None);
    let err = store.insert_user(&bob).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let s = session(ann.id, at(0), 3600);
    let err = store
        .create_session(&s, &token("s-0", &s, 0, at(0)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let err = store.insert_key(&key("kid-a", at(0))).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");

    proxy.restore().await.unwrap();
    store.ping().await.unwrap();
    assert_eq!(
        store.user_by_login("ann@example.com").await.unwrap(),
        Some(ann)
    );
    assert_eq!(store.user_by_login("bob@example.com").await.unwrap(), None);
    assert_eq!(store.session(s.id).await.unwrap(), None);
    assert!(store.keys().await.unwrap().is_empty());
    // And it writes again.
    store.insert_user(&bob).await.unwrap();
    store
        .create_session(&s, &token("s-0", &s, 0, at(0)))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set AUTHGATE_TEST_POSTGRES_URL (scripts/test does)"]
async fn a_rotation_racing_an_uncommitted_revocation_waits_for_it_and_changes_nothing() {
    let schema = fresh_schema("a_rotation_racing_an_uncommitted_revocation").await;
    let store = schema.open().await.unwrap();
    let ann = user("ann@example.com", None);
    store.insert_user(&ann).await.unwrap();
    let s = session(ann.id, at(0), 3600);
    let first = token("s-0", &s, 0, at(0));
    assert!(store.create_session(&s, &first).await.unwrap());

    // A logout on another connection: the session row is updated, not committed.
    let mut revoker = sqlx::ConnectOptions::connect(&schema.options().unwrap())
        .await
        .unwrap();
    let revoker_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut revoker)
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut revoker).await.unwrap();
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2")
        .bind(at(5))
        .bind(s.id)
        .execute(&mut revoker)
        .await
        .unwrap();

    let successor = token("s-1", &s, 1, at(10));
    let rotation = tokio::spawn({
        let (store, parent, successor) = (store.clone(), first.hash, successor.clone());
        async move { store.rotate(&parent, &successor, b"sealed", at(10)).await }
    });
    // Wait until the rotation is blocked on the session's row lock, asking
    // on a third connection: inside the revoker's transaction the activity
    // view would be one snapshot, never updated. Only a backend our revoker
    // blocks counts: other tests' lock waits share the server.
    let mut watcher = sqlx::ConnectOptions::connect(&schema.options().unwrap())
        .await
        .unwrap();
    let started = Instant::now();
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)) \
             AND query LIKE 'UPDATE sessions SET last_used_at%'",
        )
        .bind(revoker_pid)
        .fetch_one(&mut watcher)
        .await
        .unwrap();
        if waiting > 0 || rotation.is_finished() {
            break;
        }

        assert!(
            started.elapsed() < PROMPTLY,
            "the rotation never reached the session"
        );
        tokio::task::yield_now().await;
    }
    sqlx::query("COMMIT").execute(&mut revoker).await.unwrap();

    assert!(
        !rotation.await.unwrap().unwrap(),
        "a rotation that finishes after the logout must not succeed"
    );
    assert_eq!(store.refresh_token(&successor.hash).await.unwrap(), None);
    let parent = store.refresh_token(&first.hash).await.unwrap().unwrap();
    assert_eq!(parent.used_at, None, "the parent is left as it was");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set AUTHGATE_TEST_POSTGRES_URL (scripts/test does)"]
async fn a_nul_the_input_rules_missed_is_unstorable_not_an_internal_error() {
    let schema = fresh_schema("a_nul_is_unstorable").await;
    let store = schema.open().await.unwrap();
    let err = store.user_by_login("al\u{0}ice").await.unwrap_err();
    assert!(matches!(err, StoreError::Unstorable(_)), "{err:?}");
    let err = authgate_core::AuthError::from(err);
    assert!(err.to_string().starts_with("request: "), "{err}");
}
