//! authgate-client wired to a [`TestApp`]: a client of the app's URL whose
//! clock is the server's, so one [`TestApp::advance`] moves both.

use std::sync::Arc;

use authgate_client::{Client, ReqwestTransport};
use authgate_core::{Clock as _, ManualClock};

use crate::app::TestApp;

/// The server's [`ManualClock`] as the client's clock (Unix seconds).
#[derive(Debug, Clone)]
pub struct ServerClock(pub Arc<ManualClock>);

impl authgate_client::Clock for ServerClock {
    fn now(&self) -> i64 {
        self.0.unix()
    }
}

impl TestApp {
    /// A transport to this server through [`TestApp::client`] (no proxy).
    /// It keeps the current address: make a new one after a restart.
    pub fn client_transport(&self) -> ReqwestTransport {
        ReqwestTransport::with_client(&self.base_url, self.client.clone())
            .expect("the test server's URL is valid")
    }

    /// The server's clock as the client's.
    pub fn client_clock(&self) -> Arc<dyn authgate_client::Clock> {
        Arc::new(ServerClock(Arc::clone(&self.clock)))
    }

    /// An [`authgate_client::Client`] of this server on the server's clock,
    /// logged out, with the default 60 s refresh margin.
    pub fn auth_client(&self) -> Client {
        Client::builder(self.client_transport())
            .clock(self.client_clock())
            .build()
    }
}
