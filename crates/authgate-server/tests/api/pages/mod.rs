//! The hosted pages, through a small cookie-keeping client that does not
//! follow redirects: rendering and escaping, the route guard and every
//! `return_to` spelling, form tokens and origins, cookie attributes, and
//! browser sessions ending by revocation, disable, idle and lifetime.

mod account_fresh;
mod admin;
mod admin_actions;
mod admin_relying_parties;
mod client_console;
mod guard;
mod mfa;
mod outage;
mod password;
mod recovery;
mod security;
mod sessions;
mod verification;

use std::collections::BTreeMap;

use authgate_testkit::reqwest::{self, StatusCode, header};
use authgate_testkit::{PASSWORD, TestApp};

/// A browser: keeps cookies, follows no redirect, sends our own `Origin`.
pub(super) struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    /// Cookie name → value, as the server set them.
    pub(super) cookies: BTreeMap<String, String>,
    /// Every `Set-Cookie` line received, last first.
    pub(super) set_cookies: Vec<String>,
}

/// A page as received.
#[derive(Debug)]
pub(super) struct Page {
    pub(super) status: StatusCode,
    pub(super) headers: header::HeaderMap,
    pub(super) body: String,
}

impl Page {
    /// The `Location` of a redirect.
    pub(super) fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .map_or("", |v| v.to_str().unwrap())
    }

    /// The value of the first hidden `csrf` field.
    pub(super) fn csrf(&self) -> String {
        let start = self
            .body
            .find(r#"name="csrf" value=""#)
            .unwrap_or_else(|| panic!("a form token in {}", self.body))
            + r#"name="csrf" value=""#.len();
        self.body[start..start + 43].to_owned()
    }
}

impl<'a> Browser<'a> {
    pub(super) fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .user_agent("pages-test-browser")
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
            set_cookies: Vec::new(),
        }
    }

    /// The server's origin as its pages expect it.
    pub(super) fn origin(&self) -> String {
        self.app.state.web.origin().to_owned()
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn receive(&mut self, response: reqwest::Response) -> Page {
        for line in response.headers().get_all(header::SET_COOKIE) {
            let line = line.to_str().unwrap().to_owned();
            let (pair, attributes) = line.split_once(';').unwrap_or((&line, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
            self.set_cookies.insert(0, line.clone());
        }
        Page {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    /// `GET path` as a browser navigating.
    pub(super) async fn get(&mut self, path: &str) -> Page {
        let response = self
            .client
            .get(self.app.url(path))
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.receive(response).await
    }

    /// `POST path` with `fields` from `origin` (`None`: no `Origin` header).
    pub(super) async fn post_from(
        &mut self,
        origin: Option<&str>,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Page {
        let mut request = self
            .client
            .post(self.app.url(path))
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(
                form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(fields)
                    .finish(),
            );
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        let response = request.send().await.unwrap();
        self.receive(response).await
    }

    /// `POST path` from our own origin.
    pub(super) async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let origin = self.origin();
        self.post_from(Some(&origin), path, fields).await
    }

    /// Logs in through the login page with `return_to`; the answer to the POST.
    pub(super) async fn login_to(
        &mut self,
        identifier: &str,
        password: &str,
        return_to: &str,
    ) -> Page {
        let form = self.get("/login").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let csrf = form.csrf();
        self.post(
            "/login",
            &[
                ("csrf", &csrf),
                ("identifier", identifier),
                ("password", password),
                ("return_to", return_to),
            ],
        )
        .await
    }

    /// Logs in through the login page; asserts it lands on the account page.
    pub(super) async fn login(&mut self, identifier: &str) {
        let done = self.login_to(identifier, PASSWORD, "").await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        assert_eq!(done.location(), "/account");
    }

    /// The session form token of the account page.
    pub(super) async fn account_csrf(&mut self) -> String {
        let page = self.get("/account").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        page.csrf()
    }

    /// The session cookie's value.
    pub(super) fn session_cookie(&self) -> Option<&String> {
        self.cookies.get("authgate_session")
    }
}
