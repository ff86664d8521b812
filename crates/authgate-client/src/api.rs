//! The user endpoints of docs/http-api.md: register, login, logout, me, sessions.

use authgate_proto::{
    LoginRequest, LoginResponse, LogoutRequest, MeResponse, MfaLoginRequest, MfaRequiredResponse,
    PublicUser, RegisterRequest, RegisterResponse, SessionsResponse,
};
use uuid::Uuid;

use crate::audit::AuditKind;
use crate::client::{Client, check, json_body, parse};
use crate::error::Error;
use crate::refresh::failure;
use crate::store::Tokens;
use crate::transport::Method;

impl Client {
    /// `POST /auth/register`: creates an account (does not log in).
    ///
    /// # Errors
    /// `invalid_request` (the description says which field), `conflict`,
    /// `insufficient_scope` when registration is closed; transport errors.
    pub async fn register(&self, request: &RegisterRequest) -> Result<PublicUser, Error> {
        let response = self
            .send(Method::Post, "/auth/register", Some(json_body(request)?))
            .await?;
        Ok(parse::<RegisterResponse>(&response, 201)?.user)
    }

    /// `POST /auth/login` with an email or a username, then stores the
    /// session (tokens and user) in the store.
    ///
    /// # Errors
    /// `invalid_credentials`, `account_disabled`, `rate_limited` (with
    /// `retry_after`), `invalid_request`; [`Error::MfaRequired`] when the
    /// account has a second factor (see [`Client::login_with_code`]);
    /// transport errors.
    pub async fn login(&self, identifier: &str, password: &str) -> Result<PublicUser, Error> {
        self.login_with(&LoginRequest {
            email: Some(identifier.to_owned()),
            username: None,
            password: password.to_owned(),
            audience: None,
        })
        .await
    }

    /// Like [`Client::login`], with every field of the request (e.g. an
    /// `audience`).
    ///
    /// # Errors
    /// As [`Client::login`].
    pub async fn login_with(&self, request: &LoginRequest) -> Result<PublicUser, Error> {
        self.login_steps(request, None).await
    }

    /// Like [`Client::login_with`] for an account with a second factor:
    /// after the password, `POST /auth/login/mfa` with `code` (a current
    /// TOTP code or an unused recovery code). For an account without one,
    /// the code is not sent and this is [`Client::login_with`].
    ///
    /// # Errors
    /// As [`Client::login`]; a wrong, expired or used code is
    /// `invalid_credentials`.
    pub async fn login_with_code(
        &self,
        request: &LoginRequest,
        code: &str,
    ) -> Result<PublicUser, Error> {
        self.login_steps(request, Some(code)).await
    }

    /// The login, its second step when the server asks for one and `code`
    /// is given, and the store and audit record of the outcome.
    async fn login_steps(
        &self,
        request: &LoginRequest,
        code: Option<&str>,
    ) -> Result<PublicUser, Error> {
        let identifier = request.identifier().map(str::to_owned);
        let outcome = async {
            let response = self
                .send(Method::Post, "/auth/login", Some(json_body(request)?))
                .await?;
            check(&response, 200)?;
            let pending = serde_json::from_slice::<MfaRequiredResponse>(&response.body)
                .ok()
                .filter(|p| p.mfa_required);
            let Some(pending) = pending else {
                return parse::<LoginResponse>(&response, 200);
            };
            let Some(code) = code else {
                return Err(Error::MfaRequired);
            };
            let second = MfaLoginRequest {
                mfa_token: pending.mfa_token,
                code: code.to_owned(),
            };
            let response = self
                .send(Method::Post, "/auth/login/mfa", Some(json_body(&second)?))
                .await?;
            parse::<LoginResponse>(&response, 200)
        }
        .await;
        match outcome {
            Ok(response) => {
                let user = response.user.clone();
                self.inner
                    .server_offset
                    .learn(&response.access_token, self.now());
                self.inner
                    .store
                    .login(Tokens::from(&response), user.clone());
                self.audit(AuditKind::LoginSucceeded, Some(user.email.clone()), None);
                Ok(user)
            }
            Err(e) => {
                self.audit(AuditKind::LoginFailed, identifier, Some(failure(&e)));
                Err(e)
            }
        }
    }

    /// `POST /auth/logout` for this session (with its refresh token), then
    /// empties the store whatever the server said: the user asked to be
    /// logged out here.
    ///
    /// A session the server already considers over (`invalid_token`, a
    /// refused refresh token) counts as logged out. Logged out already, or
    /// the session replaced by another login meanwhile: `Ok`, and the new
    /// session is left alone.
    ///
    /// # Errors
    /// Transport errors and other refusals, after the store was emptied.
    pub async fn logout(&self) -> Result<(), Error> {
        let store = &self.inner.store;
        // One read, so the token, the user and the session counter all
        // belong to the session being ended.
        let Some(session) = store.session() else {
            return Ok(());
        };
        let user = session.user.map(|u| u.email);
        let body = json_body(&LogoutRequest {
            refresh_token: session.tokens.refresh,
            all: false,
        })?;
        let outcome = match self
            .authorized_in(
                Some(session.epoch),
                Method::Post,
                "/auth/logout",
                Some(body),
            )
            .await
        {
            Ok(response) => check(&response, 200),
            Err(e) => Err(e),
        };
        store.logout_in(session.epoch);
        let outcome = match outcome {
            Err(e) if e.is_session_over() => Ok(()),
            Err(e) if e.code().is_some_and(|c| c.http_status() == 401) => Ok(()),
            // A refresh during the call logged the store out, or another
            // login replaced this session: either way it is over here.
            Err(Error::NotAuthenticated) => Ok(()),
            other => other,
        };
        self.audit(
            AuditKind::LoggedOut,
            user,
            outcome.as_ref().err().map(failure),
        );
        outcome
    }

    /// `GET /me`: the logged-in user and their session.
    ///
    /// # Errors
    /// [`Error::NotAuthenticated`]; `invalid_token` if even a refreshed
    /// token is refused; refresh and transport errors.
    pub async fn me(&self) -> Result<MeResponse, Error> {
        let response = self.authorized(Method::Get, "/me", None).await?;
        parse(&response, 200)
    }

    /// `GET /auth/sessions`: the user's active sessions.
    ///
    /// # Errors
    /// As [`Client::me`].
    pub async fn sessions(&self) -> Result<SessionsResponse, Error> {
        let response = self.authorized(Method::Get, "/auth/sessions", None).await?;
        parse(&response, 200)
    }

    /// `DELETE /auth/sessions/{id}`: ends one of the user's sessions.
    ///
    /// # Errors
    /// `not_found` if it is not theirs or does not exist; as [`Client::me`].
    pub async fn revoke_session(&self, id: Uuid) -> Result<(), Error> {
        let response = self
            .authorized(Method::Delete, &format!("/auth/sessions/{id}"), None)
            .await?;
        check(&response, 204)
    }
}
