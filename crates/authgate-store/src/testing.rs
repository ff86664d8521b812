//! Test support, compiled only with the `test-util` feature (never in the
//! server): the backing services a test may use, a fresh PostgreSQL schema
//! per test, a Redis key prefix per test, and a TCP proxy that can cut a
//! test's link to a service.
//!
//! Unlike the rest of the crate, [`service_url`] reads the environment: it
//! is how `scripts/test` tells the tests where PostgreSQL and Redis run.
#![allow(
    clippy::panic,
    reason = "test support: a required service that is missing fails the test"
)]

use std::net::SocketAddr;
use std::str::FromStr;

use authgate_core::StoreError;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::PostgresStore;

/// The environment variable naming the PostgreSQL server tests may use.
pub const POSTGRES_URL_VAR: &str = "AUTHGATE_TEST_POSTGRES_URL";

/// The environment variable naming the Redis server tests may use.
pub const REDIS_URL_VAR: &str = "AUTHGATE_TEST_REDIS_URL";

/// A key prefix of its own for one test (`authgate-test-<32 hex>:`), so
/// tests sharing one Redis neither see each other's keys nor hear each
/// other's announcements. Every key the server writes expires by itself.
pub fn redis_prefix() -> String {
    format!("authgate-test-{}:", uuid::Uuid::new_v4().simple())
}

/// The URL in the environment variable `var`, for the test named `test`.
///
/// Service tests are `#[ignore]`d with a reason naming the variable, so a
/// plain `cargo test` counts them as not run; one that is run anyway
/// (`--include-ignored`, as `scripts/test` does) needs its service, and
/// without the variable it fails saying how to get it.
pub fn service_url(var: &str, test: &str) -> String {
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "{test}: {var} is not set; run `scripts/test`, which starts PostgreSQL and Redis \
             and sets it, or set it to a server of your own"
        ),
    }
}

/// A schema of its own for one test, in the database at the URL it was
/// created from, so tests run in parallel. Dropped (best effort, with
/// everything in it) when this value is.
#[derive(Debug)]
pub struct TestSchema {
    /// The database URL as configured, credentials included.
    base_url: String,
    /// `test_` and 32 random hex digits: a safe identifier.
    name: String,
}

impl TestSchema {
    /// Creates a fresh, empty schema in the database at `base_url`.
    ///
    /// # Errors
    /// When the database cannot be reached or refuses `CREATE SCHEMA`.
    pub async fn create(base_url: &str) -> Result<Self, StoreError> {
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = connect(base_url).await?;
        sqlx::query(&format!("CREATE SCHEMA \"{name}\""))
            .execute(&mut admin)
            .await
            .map_err(|e| StoreError::Other(format!("cannot create a test schema: {e}")))?;
        let _ = admin.close().await;
        Ok(Self {
            base_url: base_url.to_owned(),
            name,
        })
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Connection options whose `search_path` is this schema.
    ///
    /// # Errors
    /// When the base URL does not parse.
    pub fn options(&self) -> Result<PgConnectOptions, StoreError> {
        Ok(parse(&self.base_url)?.options([("search_path", self.name.as_str())]))
    }

    /// A URL for this schema (what `storage.database_url` takes), reaching
    /// the server directly or, with `via`, through that address (a
    /// [`TcpProxy`]).
    ///
    /// # Errors
    /// When the base URL does not parse or has no host to replace.
    pub fn url(&self, via: Option<SocketAddr>) -> Result<String, StoreError> {
        let mut url = url::Url::parse(&self.base_url)
            .map_err(|_| StoreError::Other("the test database URL does not parse".into()))?;
        if let Some(via) = via {
            url.set_ip_host(via.ip())
                .and_then(|()| url.set_port(Some(via.port())))
                .map_err(|()| StoreError::Other("the test database URL has no host".into()))?;
        }
        url.query_pairs_mut()
            .append_pair("options", &format!("-c search_path={}", self.name));
        Ok(url.into())
    }

    /// The host and port of the server, for a [`TcpProxy`] in front of it.
    ///
    /// # Errors
    /// When the base URL does not parse.
    pub fn server(&self) -> Result<String, StoreError> {
        let options = parse(&self.base_url)?;
        Ok(format!("{}:{}", options.get_host(), options.get_port()))
    }

    /// A store on this schema, migrated.
    ///
    /// # Errors
    /// As [`PostgresStore::open_with`].
    pub async fn open(&self) -> Result<PostgresStore, StoreError> {
        PostgresStore::open_with(self.options()?).await
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime and may follow a panic: do the
        // async clean-up on a thread with a runtime of its own, and ignore
        // its failure (a leftover schema only costs disk space).
        let (url, name) = (self.base_url.clone(), self.name.clone());
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut admin) = connect(&url).await {
                    let sql = format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE");
                    let _ = sqlx::query(&sql).execute(&mut admin).await;
                    let _ = admin.close().await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// The options in `url`, quietly (no `tracing` output per statement).
fn parse(url: &str) -> Result<PgConnectOptions, StoreError> {
    PgConnectOptions::from_str(url)
        .map(|o| o.disable_statement_logging())
        .map_err(|_| StoreError::Other("the test database URL does not parse".into()))
}

/// One connection to the database at `url`, for set-up and clean-up.
async fn connect(url: &str) -> Result<PgConnection, StoreError> {
    parse(url)?
        .connect()
        .await
        .map_err(|e| StoreError::Unavailable(format!("cannot reach the test database: {e}")))
}

/// A TCP proxy on 127.0.0.1 in front of a service, which a test can cut (the
/// service looks down: new connections are closed as soon as they are
/// accepted, and open ones are closed) and restore, without touching the
/// shared service. The proxy keeps its port the whole time, so no other
/// process can take it while the link is cut.
#[derive(Debug)]
pub struct TcpProxy {
    /// Where clients connect.
    addr: SocketAddr,
    /// `true` while the link is up; forwarders close their sockets when it
    /// turns `false`.
    up: watch::Sender<bool>,
    /// The accepting task (it owns the listener).
    acceptor: JoinHandle<()>,
}

impl TcpProxy {
    /// Starts a proxy to `target` (`host:port`) on a free local port.
    ///
    /// # Errors
    /// When no local port can be bound.
    pub async fn start(target: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (up, _) = watch::channel(true);
        let acceptor = tokio::spawn(forward(listener, target.to_owned(), up.clone()));
        Ok(Self { addr, up, acceptor })
    }

    /// The proxy's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Cuts the link: from the moment it returns, new connections are
    /// closed as soon as they are accepted; open ones are closed by their
    /// forwarding tasks as they notice (at once, on other tasks).
    pub async fn cut(&self) {
        self.up.send_replace(false);
    }

    /// Restores the link: new connections are forwarded again.
    ///
    /// # Errors
    /// None today (the port was never given up); kept for callers that
    /// treat a restore as fallible.
    pub async fn restore(&self) -> std::io::Result<()> {
        self.up.send_replace(true);
        Ok(())
    }
}

/// Accepts on `listener` for as long as the proxy lives: forwards each
/// connection to `target` until the link is cut, and closes at once those
/// that arrive while it is cut.
async fn forward(listener: TcpListener, target: String, up: watch::Sender<bool>) {
    while let Ok((mut client, _)) = listener.accept().await {
        if !*up.borrow() {
            drop(client);
            continue;
        }
        let (target, mut down) = (target.clone(), up.subscribe());
        tokio::spawn(async move {
            let Ok(mut server) = TcpStream::connect(&target).await else {
                return;
            };
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                _ = down.wait_for(|up| !*up) => {}
            }
        });
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.up.send_replace(false);
        self.acceptor.abort();
    }
}
