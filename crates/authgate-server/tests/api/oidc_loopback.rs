//! OpenID Connect with a native app's loopback URIs (RFC 8252 §7.3): its
//! post-logout redirect URI follows the redirect URIs' rule, any port and
//! nothing else, as openid-client's test in tests/browser found it must.

use authgate_core::Origin;
use authgate_core::oidc::OidcClientSpec;
use authgate_testkit::reqwest::{StatusCode, header};
use authgate_testkit::spawn_app_with;

use crate::pages::Browser;

#[tokio::test]
async fn a_loopback_post_logout_uri_matches_any_port_and_nothing_else() {
    let app = spawn_app_with(|s| s.oidc.enabled = true).await;
    let client = app
        .state
        .auth
        .create_oidc_client(
            None,
            OidcClientSpec {
                name: "Desktop app".into(),
                public: true,
                redirect_uris: vec!["http://127.0.0.1/cb".into()],
                post_logout_redirect_uris: vec!["http://127.0.0.1/bye".into()],
                scopes: vec![],
                first_party: false,
            },
            &Origin::default(),
        )
        .await
        .unwrap()
        .client;
    let mut browser = Browser::new(&app);
    let logout = |uri: &str| {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &client.id)
            .append_pair("post_logout_redirect_uri", uri)
            .append_pair("state", "s1")
            .finish();
        format!("/oauth/logout?{query}")
    };

    for uri in ["http://127.0.0.1:53682/bye", "http://127.0.0.1/bye"] {
        let page = browser.get(&logout(uri)).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{uri}: {}", page.body);
        assert_eq!(page.location(), format!("{uri}?state=s1"));
    }
    for uri in [
        "http://127.0.0.1:53682/bye/",
        "http://127.0.0.1:53682/BYE",
        "http://127.0.0.1:53682/bye?next=x",
        "http://localhost:53682/bye",
        "https://127.0.0.1:53682/bye",
        "http://127.0.0.1:53682/cb",
    ] {
        let page = browser.get(&logout(uri)).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(page.headers.get(header::LOCATION).is_none(), "{uri}");
    }
}
