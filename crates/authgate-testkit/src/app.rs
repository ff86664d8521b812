//! Spawning the server for a test, restarting it on the same data, and
//! the users tests log in with.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use authgate_core::{Clock, ManualClock};
use authgate_proto::PublicUser;
use authgate_server::{AppState, Application, Settings};
use tempfile::TempDir;
use time::OffsetDateTime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The password test users get unless a test says otherwise: strong enough
/// for the default policy (8 characters, zxcvbn score 2).
pub const PASSWORD: &str = "violet-harbor-quantum-47-lantern";

/// The `User-Agent` of [`TestApp::client`], which sessions record.
pub const USER_AGENT: &str = "authgate-testkit";

/// How long a server may take to finish in-flight requests when stopped.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// A running authgate server for one test, with its own data directory.
///
/// Dropping it stops the server and deletes the data directory.
#[derive(Debug)]
pub struct TestApp {
    /// Where the server listens (127.0.0.1 and a port picked by the OS);
    /// changes on [`TestApp::restart`].
    pub address: SocketAddr,
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base_url: String,
    /// The server's only source of time; tests move it instead of sleeping.
    pub clock: Arc<ManualClock>,
    /// The running server's state, to reach its service and keys
    /// (`state.auth`, `state.keys`); replaced on restart. The stores are
    /// [`TestApp::store`]'s.
    pub state: AppState,
    /// The data directory: the SQLite database and the generated master key.
    pub data_dir: PathBuf,
    /// A client with no proxy and the `User-Agent` [`USER_AGENT`].
    pub client: reqwest::Client,
    /// The settings the server runs with; [`TestApp::restart_with`] changes them.
    pub settings: Settings,
    /// Stops the running server; `None` only while restarting.
    server: Option<Server>,
    /// Owns the data directory, which is deleted with it; declared last so
    /// the server is stopped first.
    _dir: TempDir,
}

/// A server task and the way to stop it.
#[derive(Debug)]
struct Server {
    /// Completing it starts the graceful shutdown.
    shutdown: oneshot::Sender<()>,
    /// The task serving requests, to wait for its end.
    task: JoinHandle<std::io::Result<()>>,
}

/// A registered user with a live session, as [`TestApp::new_user`] makes one.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// The user as registration returned it.
    pub user: PublicUser,
    /// The email registered (unique per call).
    pub email: String,
    /// The password registered ([`PASSWORD`]).
    pub password: String,
    /// The access token of the login.
    pub access: String,
    /// The refresh token of the login.
    pub refresh: String,
}

/// Spawns a server with the test defaults; see [`spawn_app_with`].
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns a server with the test defaults, then `configure` applied to its
/// settings.
///
/// The defaults are `Settings::load(None, [])` (what an empty environment
/// gives) with a fresh temporary `storage.data_dir`, `server.bind =
/// 127.0.0.1:0`, and argon2 at 64 KiB and one pass: the same hashing code,
/// only cheaper, and the audit sinks `["database"]`. The password policy keeps its defaults. The clock is a
/// [`ManualClock`] starting at the real time.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    spawn_app_on_clock(configure, clock).await
}

/// [`spawn_app_with`] on a given clock (instances of one [`crate::Cluster`]
/// share theirs, as real instances share the time).
pub(crate) async fn spawn_app_on_clock(
    configure: impl FnOnce(&mut Settings),
    clock: Arc<ManualClock>,
) -> TestApp {
    let dir = TempDir::new().expect("a temporary data directory");
    let mut settings =
        Settings::load(None, Vec::<(String, String)>::new()).expect("the default settings load");
    settings.storage.data_dir = dir.path().to_path_buf();
    settings.server.bind = SocketAddr::from(([127, 0, 0, 1], 0));
    settings.passwords.argon2_memory_kib = 64;
    settings.passwords.argon2_iterations = 1;
    // Audit events go to the database only: JSON lines on stdout would
    // flood the test output (the stdout and file sinks have tests of their own).
    settings.audit.sinks = vec!["database".into()];
    configure(&mut settings);

    let client = reqwest::Client::builder()
        // A proxy from the environment must not see (or swallow) loopback traffic.
        .no_proxy()
        .user_agent(USER_AGENT)
        .build()
        .expect("an HTTP client");
    let (address, state, server) = start(&settings, &clock).await;
    TestApp {
        address,
        base_url: format!("http://{address}"),
        clock,
        state,
        data_dir: dir.path().to_path_buf(),
        client,
        settings,
        server: Some(server),
        _dir: dir,
    }
}

/// Builds the application as `authgate serve` does and serves it on a task.
async fn start(settings: &Settings, clock: &Arc<ManualClock>) -> (SocketAddr, AppState, Server) {
    let clock: Arc<dyn Clock> = clock.clone();
    let app = Application::build(settings, clock)
        .await
        .unwrap_or_else(|e| panic!("the application builds: {e}"));
    let address = app.local_addr().expect("the bound address");
    let state = app.state().clone();
    let (shutdown, stop) = oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async move {
        // Sender dropped or fired: either way, stop.
        let _ = stop.await;
    }));
    (address, state, Server { shutdown, task })
}

impl TestApp {
    /// Stops the server and starts a new one on the same data directory,
    /// settings and clock (a process restart, as far as the library goes:
    /// nothing in memory survives, the stores do). The port changes.
    pub async fn restart(&mut self) {
        self.restart_with(|_| {}).await;
    }

    /// Like [`TestApp::restart`], with `configure` applied to the settings
    /// first (new argon2 parameters, another audience, …).
    pub async fn restart_with(&mut self, configure: impl FnOnce(&mut Settings)) {
        self.stop().await;
        configure(&mut self.settings);
        let (address, state, server) = start(&self.settings, &self.clock).await;
        self.address = address;
        self.base_url = format!("http://{address}");
        self.state = state;
        self.server = Some(server);
    }

    /// Stops the server and waits until it has finished.
    async fn stop(&mut self) {
        let Some(server) = self.server.take() else {
            return;
        };
        // The receiver is gone only if the server already ended; the join says how.
        let _ = server.shutdown.send(());
        tokio::time::timeout(SHUTDOWN_TIMEOUT, server.task)
            .await
            .expect("the server stops within 10 s")
            .expect("the server task did not panic")
            .expect("the server shut down without error");
    }

    /// Moves the server's clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.clock
            .advance(time::Duration::try_from(by).expect("a duration that fits"));
    }

    /// The server's current time.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The server's database, opened beside it as another writer would
    /// (an `authgate` command, another instance): for tests that change or
    /// read rows behind the service's back. The service's own stores stay
    /// sealed inside it.
    pub async fn store(&self) -> Arc<dyn authgate_store::Store> {
        authgate_server::open_store(&self.settings)
            .await
            .unwrap_or_else(|e| panic!("the database opens: {e}"))
            .0
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            // Best effort: the test's runtime may already be shutting down.
            let _ = server.shutdown.send(());
        }
    }
}
