//! authgate-client wired to a [`TestApp`]: a client of the app's URL whose
//! clock is the server's, so one [`TestApp::advance`] moves both.

use std::sync::Arc;

use authgate_client::{Client, ReqwestTransport};

use crate::app::TestApp;

impl TestApp {
    /// A transport to this server through [`TestApp::client`] (no proxy).
    /// It keeps the current address: make a new one after a restart.
    pub fn client_transport(&self) -> ReqwestTransport {
        ReqwestTransport::with_client(&self.base_url, self.client.clone())
            .expect("the test server's URL is valid")
    }

    /// The server's clock as the client's: both crates read the one
    /// `Clock` of authgate-proto, so they can share the instance.
    pub fn client_clock(&self) -> Arc<dyn authgate_client::Clock> {
        Arc::clone(&self.clock) as Arc<dyn authgate_client::Clock>
    }

    /// An [`authgate_client::Client`] of this server on the server's clock,
    /// logged out, with the default 60 s refresh margin.
    pub fn auth_client(&self) -> Client {
        Client::builder(self.client_transport())
            .clock(self.client_clock())
            .build()
    }
}
