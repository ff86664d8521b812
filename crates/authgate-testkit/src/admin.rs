//! Helpers for the administration and OAuth tests: users with roles,
//! service clients and their tokens, form posts.

use authgate_core::Origin;
use reqwest::{Response, StatusCode};
use uuid::Uuid;

use crate::app::{PASSWORD, TestApp, TestUser};
use crate::check::expect_json;

/// A service client made for a test: its id and its secret.
#[derive(Debug, Clone)]
pub struct TestClient {
    /// The `client_id`.
    pub id: String,
    /// The secret, as shown once at creation.
    pub secret: String,
}

impl TestApp {
    /// A fresh user (see [`TestApp::new_user`]) whose roles are replaced by
    /// `roles` in the store before logging in, so the token carries them.
    pub async fn new_user_with_roles(&self, roles: &[&str]) -> TestUser {
        let mut user = self.new_user().await;
        let id: Uuid = user.user.id;
        let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
        self.store()
            .await
            .set_roles(id, &roles, self.now())
            .await
            .expect("roles are stored")
            .expect("the user exists");
        let tokens = self.login_ok(&user.email, PASSWORD).await;
        user.user.roles = roles;
        user.access = tokens.access_token;
        user.refresh = tokens.refresh_token;
        user
    }

    /// A service client with `roles`, created through the service as
    /// `authgate client add` does.
    pub async fn new_client(&self, roles: &[&str]) -> TestClient {
        let created = self
            .state
            .auth
            .create_client(
                None,
                "test service",
                roles.iter().map(|r| (*r).to_owned()).collect(),
                &Origin::default(),
            )
            .await
            .expect("the client is created");
        TestClient {
            id: created.client.id.clone(),
            secret: created.secret.to_string(),
        }
    }

    /// POSTs `fields` form-urlencoded to `path`, with HTTP Basic client
    /// credentials when given.
    pub async fn post_form(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        basic: Option<&TestClient>,
    ) -> Response {
        let mut request = self.client.post(self.url(path)).form(fields);
        if let Some(client) = basic {
            request = request.basic_auth(&client.id, Some(&client.secret));
        }
        request.send().await.expect("the server answers")
    }

    /// A client-credentials access token for `client`, checking for 200.
    pub async fn client_token(&self, client: &TestClient) -> String {
        let response = self
            .post_form(
                "/oauth/token",
                &[("grant_type", "client_credentials")],
                Some(client),
            )
            .await;
        let body: serde_json::Value = expect_json(response, StatusCode::OK).await;
        body["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }
}
