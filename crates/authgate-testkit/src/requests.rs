//! One helper per endpoint of docs/http-api.md. Each returns the raw response, so a
//! test can check status, headers and body; the `_ok` variants also check
//! success and parse the body.

use authgate_proto::{LoginResponse, PublicUser, RefreshResponse, RegisterResponse};
use reqwest::{Method, RequestBuilder, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::app::{PASSWORD, TestApp, TestUser};
use crate::check::expect_json;

impl TestApp {
    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A request to `path`, to add headers or a body to before sending.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// `GET path` without credentials.
    pub async fn get(&self, path: &str) -> Response {
        send(self.request(Method::GET, path)).await
    }

    /// `GET path` with `Authorization: header_value`, sent as given (any scheme, any length).
    pub async fn get_with_auth(&self, path: &str, header_value: &str) -> Response {
        send(
            self.request(Method::GET, path)
                .header(header::AUTHORIZATION, header_value),
        )
        .await
    }

    /// `POST path` with `body` as JSON (`Content-Type: application/json`).
    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        send(self.request(Method::POST, path).json(body)).await
    }

    /// `POST path` with `body` as bytes and the given `Content-Type` (none for `None`).
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Response {
        let mut request = self.request(Method::POST, path).body(body);
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        send(request).await
    }

    /// `POST /auth/register` with an email, a password and optionally a username.
    pub async fn register(&self, email: &str, password: &str, username: Option<&str>) -> Response {
        let mut body = json!({"email": email, "password": password});
        if let Some(username) = username {
            body["username"] = json!(username);
        }
        self.post_json("/auth/register", &body).await
    }

    /// `POST /auth/login` with `identifier` (an email or a username, sent as `email`).
    pub async fn login(&self, identifier: &str, password: &str) -> Response {
        self.post_json(
            "/auth/login",
            &json!({"email": identifier, "password": password}),
        )
        .await
    }

    /// `POST /auth/refresh` with a refresh token.
    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post_json("/auth/refresh", &json!({"refresh_token": refresh_token}))
            .await
    }

    /// `POST /auth/logout` as the owner of `access`, with an optional JSON body
    /// (`{"refresh_token": …}` or `{"all": true}`); no body at all for `None`.
    pub async fn logout(&self, access: &str, body: Option<&Value>) -> Response {
        let mut request = self
            .request(Method::POST, "/auth/logout")
            .bearer_auth(access);
        if let Some(body) = body {
            request = request.json(body);
        }
        send(request).await
    }

    /// `GET /me` with a Bearer token.
    pub async fn me(&self, access: &str) -> Response {
        send(self.request(Method::GET, "/me").bearer_auth(access)).await
    }

    /// `GET /auth/sessions` with a Bearer token.
    pub async fn sessions(&self, access: &str) -> Response {
        send(
            self.request(Method::GET, "/auth/sessions")
                .bearer_auth(access),
        )
        .await
    }

    /// `DELETE /auth/sessions/{id}` with a Bearer token; `id` is sent as given.
    pub async fn delete_session(&self, access: &str, id: &str) -> Response {
        send(
            self.request(Method::DELETE, &format!("/auth/sessions/{id}"))
                .bearer_auth(access),
        )
        .await
    }

    /// Registers a user, checking for 201, and returns it.
    pub async fn register_ok(
        &self,
        email: &str,
        password: &str,
        username: Option<&str>,
    ) -> PublicUser {
        let response = self.register(email, password, username).await;
        expect_json::<RegisterResponse>(response, StatusCode::CREATED)
            .await
            .user
    }

    /// Logs in, checking for 200, and returns the tokens.
    pub async fn login_ok(&self, identifier: &str, password: &str) -> LoginResponse {
        expect_json(self.login(identifier, password).await, StatusCode::OK).await
    }

    /// Refreshes, checking for 200, and returns the new tokens.
    pub async fn refresh_ok(&self, refresh_token: &str) -> RefreshResponse {
        expect_json(self.refresh(refresh_token).await, StatusCode::OK).await
    }

    /// Registers a fresh user (unique email, [`PASSWORD`], no username) and
    /// logs them in once.
    pub async fn new_user(&self) -> TestUser {
        let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
        let user = self.register_ok(&email, PASSWORD, None).await;
        let tokens = self.login_ok(&email, PASSWORD).await;
        TestUser {
            user,
            email,
            password: PASSWORD.to_owned(),
            access: tokens.access_token,
            refresh: tokens.refresh_token,
        }
    }
}

/// Sends a request; failing to get any response at all fails the test.
async fn send(request: RequestBuilder) -> Response {
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("the server answers: {e}"))
}
