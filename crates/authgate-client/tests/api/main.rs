//! authgate-client against the real server, in process (authgate-testkit).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod refresh;
mod session;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use authgate_client::{Error, HttpRequest, HttpResponse, ReqwestTransport, Transport};

/// The real transport, counting the requests to one path.
#[derive(Debug, Clone)]
pub struct Counting {
    /// The real network transport.
    inner: ReqwestTransport,
    /// The path counted.
    path: &'static str,
    /// How many requests went to `path`.
    pub count: Arc<AtomicU32>,
}

impl Counting {
    /// Counts the requests to `path` that `inner` sends.
    pub fn new(inner: ReqwestTransport, path: &'static str) -> Self {
        Self {
            inner,
            path,
            count: Arc::new(AtomicU32::new(0)),
        }
    }

    /// How many requests went to the path so far.
    pub fn calls(&self) -> u32 {
        self.count.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl Transport for Counting {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        if request.path == self.path {
            self.count.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.send(request).await
    }
}
