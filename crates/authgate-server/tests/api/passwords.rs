//! The password policy of docs/http-api.md, and hashes upgraded to new argon2
//! parameters at the next login.

use authgate_testkit::reqwest::StatusCode;
use authgate_testkit::{PASSWORD, TestApp, assert_error, spawn_app, spawn_app_with};

/// Registers with `password` and expects 400 `invalid_request` about the
/// password, whose description contains `why` and never the password.
async fn assert_refused(
    app: &TestApp,
    email: &str,
    password: &str,
    username: Option<&str>,
    why: &str,
) {
    let error = assert_error(
        app.register(email, password, username).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    assert!(
        error.description.starts_with("password"),
        "{}",
        error.description
    );
    assert!(error.description.contains(why), "{}", error.description);
    assert!(
        !error.description.contains(password),
        "{}",
        error.description
    );
}

#[tokio::test]
async fn a_password_shorter_than_8_characters_is_refused() {
    let app = spawn_app().await;
    assert_refused(&app, "kim@example.com", "Zq9#vT!", None, "at least 8").await;
    // Characters, not bytes: seven two-byte characters are still seven.
    assert_refused(&app, "kim@example.com", "ÄÖÜßéèñ", None, "at least 8").await;
}

#[tokio::test]
async fn a_password_over_256_characters_is_refused_and_256_is_accepted() {
    let app = spawn_app().await;
    let longest = PASSWORD.repeat(256 / PASSWORD.len()) + &"x".repeat(256 % PASSWORD.len());
    assert_eq!(longest.chars().count(), 256);
    let too_long = format!("{longest}y");
    assert_refused(&app, "lee@example.com", &too_long, None, "longer than 256").await;
    app.register_ok("lee@example.com", &longest, None).await;
    app.login_ok("lee@example.com", &longest).await;
    // At login too, an over-long password is refused before any hashing.
    assert_error(
        app.login("lee@example.com", &too_long).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn a_password_equal_to_the_email_or_username_is_refused() {
    let app = spawn_app().await;
    let email = "maximilian.quartermain@example.com";
    assert_refused(&app, email, email, None, "must not equal").await;
    assert_refused(&app, email, &email.to_uppercase(), None, "must not equal").await;
    assert_refused(
        &app,
        email,
        "Kettle-Orbit-Velvet-42",
        Some("kettle-orbit-velvet-42"),
        "must not equal",
    )
    .await;
}

#[tokio::test]
async fn a_password_the_strength_estimator_finds_weak_is_refused() {
    let app = spawn_app().await;
    for weak in [
        "password123",
        "qwertyuiop",
        "aaaaaaaaaaaa",
        "nora@example.com1",
    ] {
        assert_refused(&app, "nora@example.com", weak, None, "too weak").await;
    }
}

#[tokio::test]
async fn the_strength_estimator_can_be_turned_off() {
    let app = spawn_app_with(|s| s.passwords.min_strength = 0).await;
    app.register_ok("omar@example.com", "password123", None)
        .await;
    // The length rule still holds.
    assert_refused(&app, "omar2@example.com", "short", None, "at least 8").await;
}

#[tokio::test]
async fn a_hash_made_with_old_argon2_parameters_is_upgraded_at_the_next_login() {
    let mut app = spawn_app().await;
    let alice = app.new_user().await;
    let stored_hash = |app: &TestApp| {
        let settings = app.settings.clone();
        let id = alice.user.id;
        async move {
            let (users, _) = authgate_server::open_store(&settings).await.unwrap();
            users.user_by_id(id).await.unwrap().unwrap().password_hash
        }
    };
    let before = stored_hash(&app).await;
    assert!(
        before.starts_with("$argon2id$v=19$m=64,t=1,p=1$"),
        "{before}"
    );

    app.restart_with(|s| s.passwords.argon2_memory_kib = 128)
        .await;
    app.login_ok(&alice.email, PASSWORD).await;
    let after = stored_hash(&app).await;
    assert!(
        after.starts_with("$argon2id$v=19$m=128,t=1,p=1$"),
        "{after}"
    );

    // The upgraded hash still checks the same password, and only that one.
    app.login_ok(&alice.email, PASSWORD).await;
    assert_eq!(stored_hash(&app).await, after, "no second upgrade");
    assert_error(
        app.login(&alice.email, "violet-harbor-quantum-47-lanterns")
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}
