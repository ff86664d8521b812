//! Register, login, refresh and logout (`/auth/*`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::redact::{REDACTED, redact_opt};
use crate::token_type::TokenType;
use crate::user::PublicUser;

/// Body of `POST /auth/register`.
///
/// The fields are raw input: the server parses and validates them (email
/// syntax, username pattern, password policy). `Debug` hides the password.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterRequest {
    /// The email to register; must be unique (case-insensitively).
    pub email: String,
    /// The chosen password, in clear: only ever sent over TLS, never stored.
    pub password: String,
    /// An optional username (`[A-Za-z0-9_.-]{3,64}`), unique if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// An optional display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl fmt::Debug for RegisterRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisterRequest")
            .field("email", &self.email)
            .field("password", &REDACTED)
            .field("username", &self.username)
            .field("name", &self.name)
            .finish()
    }
}

/// Response of `POST /auth/register` (201).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterResponse {
    /// The new user, with the configured default roles.
    pub user: PublicUser,
}

/// Body of `POST /auth/login`.
///
/// The user may be named by `email` or by `username`, and either
/// identifier is accepted in either field; [`LoginRequest::identifier`]
/// picks the one given. `Debug` hides the password.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    /// The email (or username) of the user logging in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The username (or email) of the user logging in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The password, in clear.
    pub password: String,
    /// The short name of the audience the access token is for (a key of
    /// `[tokens.audiences]`). Defaults to `"default"` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
}

impl LoginRequest {
    /// The identifier the user gave, from `email` or `username`.
    ///
    /// A field that is absent, `null` or blank counts as not given. Returns
    /// `None` when neither is given, or when both are given with different
    /// values (ambiguous: the server answers 400 `invalid_request`). The
    /// value is returned as sent; trimming and lower-casing are the
    /// server's job.
    pub fn identifier(&self) -> Option<&str> {
        fn given(field: Option<&str>) -> Option<&str> {
            field.filter(|value| !value.trim().is_empty())
        }
        match (
            given(self.email.as_deref()),
            given(self.username.as_deref()),
        ) {
            (Some(email), Some(username)) => (email == username).then_some(email),
            (Some(one), None) | (None, Some(one)) => Some(one),
            (None, None) => None,
        }
    }
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .field("username", &self.username)
            .field("password", &REDACTED)
            .field("audience", &self.audience)
            .finish()
    }
}

/// Response of `POST /auth/login` (200). `Debug` hides both tokens.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    /// The signed access token (a JWT) to send as `Authorization: Bearer`.
    pub access_token: String,
    /// Always `"Bearer"`.
    pub token_type: TokenType,
    /// Seconds until the access token expires (e.g. 900).
    pub expires_in: u64,
    /// The opaque refresh token; single use, rotated on every refresh.
    pub refresh_token: String,
    /// Seconds until the refresh token expires (e.g. 2592000).
    pub refresh_expires_in: u64,
    /// The user who logged in.
    pub user: PublicUser,
}

impl fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginResponse")
            .field("access_token", &REDACTED)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &REDACTED)
            .field("refresh_expires_in", &self.refresh_expires_in)
            .field("user", &self.user)
            .finish()
    }
}

/// Body of `POST /auth/refresh`. `Debug` hides the token.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshRequest {
    /// The current refresh token; it stops working once used.
    pub refresh_token: String,
}

impl fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshRequest")
            .field("refresh_token", &REDACTED)
            .finish()
    }
}

/// Response of `POST /auth/refresh` (200): the login response without
/// `user`. `Debug` hides both tokens.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshResponse {
    /// The new access token.
    pub access_token: String,
    /// Always `"Bearer"`.
    pub token_type: TokenType,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The successor refresh token, to be used next time.
    pub refresh_token: String,
    /// Seconds until the successor refresh token expires.
    pub refresh_expires_in: u64,
}

impl fmt::Debug for RefreshResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshResponse")
            .field("access_token", &REDACTED)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &REDACTED)
            .field("refresh_expires_in", &self.refresh_expires_in)
            .finish()
    }
}

/// Body of `POST /auth/logout`; the body itself is optional, and an empty
/// one (the [`Default`]) logs out the caller's session. `Debug` hides the
/// token.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoutRequest {
    /// The session's refresh token, so a client can end the session its
    /// refresh token belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// `true` revokes every session of the user, not just this one.
    /// Defaults to `false` (and is then left out when written).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all: bool,
}

impl fmt::Debug for LogoutRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogoutRequest")
            .field("refresh_token", &redact_opt(self.refresh_token.as_deref()))
            .field("all", &self.all)
            .finish()
    }
}

/// Body of `POST /auth/password/change`. `Debug` hides both passwords.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangePasswordRequest {
    /// The password now in force.
    pub current_password: String,
    /// The password to set: the registration rule applies.
    pub new_password: String,
}

impl fmt::Debug for ChangePasswordRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChangePasswordRequest")
            .field("current_password", &REDACTED)
            .field("new_password", &REDACTED)
            .finish()
    }
}

/// Answer of `POST /auth/password/change`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChangedResponse {
    /// `"Password changed."`
    pub message: String,
    /// How many other sessions of the account were ended (the caller's stays).
    pub sessions_ended: u64,
}

/// A response that only says what happened, e.g. `{"message": "Logged out."}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageResponse {
    /// A human-readable sentence.
    pub message: String,
}

impl MessageResponse {
    /// A response carrying `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::tests::{alice, alice_json};
    use serde_json::{Value, json};

    const PASSWORD: &str = "correct horse battery staple";
    const ACCESS: &str = "eyJhbGciOiJFZERTQSJ9.payload.signature";
    const REFRESH: &str = "q1w2e3r4t5y6u7i8o9p0-refresh";

    fn login(email: Option<&str>, username: Option<&str>) -> LoginRequest {
        LoginRequest {
            email: email.map(Into::into),
            username: username.map(Into::into),
            password: PASSWORD.into(),
            audience: None,
        }
    }

    #[test]
    fn register_request_with_only_email_and_password_round_trips() {
        let text = json!({"email": "alice@example.com", "password": PASSWORD});
        let request: RegisterRequest = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(request.username, None);
        assert_eq!(serde_json::to_value(&request).unwrap(), text);
    }

    #[test]
    fn register_request_accepts_a_null_username() {
        let request: RegisterRequest = serde_json::from_value(json!(
            {"email": "a@example.com", "password": PASSWORD, "username": null, "name": "A"}
        ))
        .unwrap();
        assert_eq!(request.username, None);
        assert_eq!(request.name.as_deref(), Some("A"));
    }

    #[test]
    fn register_request_debug_hides_password() {
        let request = RegisterRequest {
            email: "alice@example.com".into(),
            password: PASSWORD.into(),
            username: None,
            name: None,
        };
        let debug = format!("{request:?}");
        assert!(!debug.contains(PASSWORD), "{debug}");
        assert!(debug.contains(r#"password: "[redacted]""#), "{debug}");
        assert!(debug.contains("alice@example.com"), "{debug}");
    }

    #[test]
    fn register_response_wraps_the_user() {
        let response = RegisterResponse { user: alice() };
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            json!({"user": alice_json()})
        );
    }

    #[test]
    fn login_by_email_or_by_username_round_trips() {
        for text in [
            json!({"email": "alice@example.com", "password": PASSWORD}),
            json!({"username": "alice", "password": PASSWORD, "audience": "api"}),
        ] {
            let request: LoginRequest = serde_json::from_value(text.clone()).unwrap();
            assert_eq!(serde_json::to_value(&request).unwrap(), text);
        }
    }

    #[test]
    fn login_identifier_is_whichever_field_was_given() {
        assert_eq!(
            login(Some("alice@example.com"), None).identifier(),
            Some("alice@example.com")
        );
        assert_eq!(login(None, Some("alice")).identifier(), Some("alice"));
        assert_eq!(login(Some("alice"), None).identifier(), Some("alice"));
        assert_eq!(
            login(Some("alice"), Some("alice")).identifier(),
            Some("alice")
        );
        assert_eq!(login(Some("  "), Some("alice")).identifier(), Some("alice"));
    }

    #[test]
    fn login_identifier_is_none_when_missing_or_ambiguous() {
        assert_eq!(login(None, None).identifier(), None);
        assert_eq!(login(Some(""), None).identifier(), None);
        assert_eq!(
            login(Some("alice@example.com"), Some("bob")).identifier(),
            None
        );
    }

    #[test]
    fn login_request_without_password_is_rejected() {
        assert!(serde_json::from_value::<LoginRequest>(json!({"email": "a@example.com"})).is_err());
    }

    #[test]
    fn anonymous_login_request_debug_hides_password() {
        let debug = format!("{:?}", login(Some("alice@example.com"), None));
        assert!(!debug.contains(PASSWORD), "{debug}");
        assert!(debug.contains(r#"password: "[redacted]""#), "{debug}");
    }

    fn login_response() -> LoginResponse {
        LoginResponse {
            access_token: ACCESS.into(),
            token_type: TokenType::Bearer,
            expires_in: 900,
            refresh_token: REFRESH.into(),
            refresh_expires_in: 2_592_000,
            user: alice(),
        }
    }

    #[test]
    fn api_md_login_response_example_round_trips() {
        let text = json!({"access_token": ACCESS, "token_type": "Bearer", "expires_in": 900,
                          "refresh_token": REFRESH, "refresh_expires_in": 2_592_000,
                          "user": alice_json()});
        let response: LoginResponse = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(response, login_response());
        assert_eq!(serde_json::to_value(&response).unwrap(), text);
    }

    #[test]
    fn login_response_debug_hides_both_tokens() {
        let debug = format!("{:?}", login_response());
        assert!(!debug.contains(ACCESS), "{debug}");
        assert!(!debug.contains(REFRESH), "{debug}");
        assert!(debug.contains(r#"refresh_token: "[redacted]""#), "{debug}");
    }

    #[test]
    fn refresh_request_round_trips_and_debug_hides_the_token() {
        let text = json!({"refresh_token": REFRESH});
        let request: RefreshRequest = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(serde_json::to_value(&request).unwrap(), text);
        let debug = format!("{request:?}");
        assert!(!debug.contains(REFRESH), "{debug}");
    }

    #[test]
    fn refresh_response_is_login_minus_user_and_debug_hides_tokens() {
        let text = json!({"access_token": ACCESS, "token_type": "Bearer", "expires_in": 900,
                          "refresh_token": REFRESH, "refresh_expires_in": 2_592_000});
        let response: RefreshResponse = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(serde_json::to_value(&response).unwrap(), text);
        let debug = format!("{response:?}");
        assert!(
            !debug.contains(ACCESS) && !debug.contains(REFRESH),
            "{debug}"
        );
    }

    #[test]
    fn an_empty_logout_body_means_this_session_only() {
        let request: LogoutRequest = serde_json::from_value(json!({})).unwrap();
        assert_eq!(request, LogoutRequest::default());
        assert!(!request.all);
        assert_eq!(serde_json::to_value(&request).unwrap(), json!({}));
    }

    #[test]
    fn logout_all_and_logout_with_a_refresh_token_round_trip() {
        for text in [json!({"all": true}), json!({"refresh_token": REFRESH})] {
            let request: LogoutRequest = serde_json::from_value(text.clone()).unwrap();
            assert_eq!(serde_json::to_value(&request).unwrap(), text);
        }
    }

    #[test]
    fn logout_request_debug_hides_the_refresh_token() {
        let request = LogoutRequest {
            refresh_token: Some(REFRESH.into()),
            all: false,
        };
        let debug = format!("{request:?}");
        assert!(!debug.contains(REFRESH), "{debug}");
        assert!(debug.contains(r#"Some("[redacted]")"#), "{debug}");
    }

    #[test]
    fn logged_out_message_matches_api_md() {
        let value: Value = serde_json::to_value(MessageResponse::new("Logged out.")).unwrap();
        assert_eq!(value, json!({"message": "Logged out."}));
    }
}
