//! Building the application from settings: stores, keys, services, router,
//! socket and background upkeep.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use authgate_core::{
    Argon2Settings, AuditLog, AuditSink, AuthDeps, AuthService, AuthSettings, Clock, FileSink,
    KeyManager, KeyringSettings, PasswordHasher, PasswordPolicy, RecordCache, RevocationList,
    SessionStore, StdoutSink,
};
use authgate_guard::{Permissions, Verifier, VerifierConfig};
use authgate_store::{PostgresStore, SqliteStore, Store};
use tokio::net::TcpListener;
use zeroize::Zeroizing;

use crate::config::{RegistrationMode, Settings};
use crate::master_key::{self, MasterKeySource};
use crate::state::AppState;

/// What start-up did, for the operator.
#[derive(Debug, Clone)]
pub struct StartupReport {
    /// Where the master key came from.
    pub master_key: MasterKeySource,
    /// The database in use.
    pub database: String,
    /// The signing key in force.
    pub signing_kid: String,
    /// Its algorithm.
    pub algorithm: String,
    /// Users registered so far (0 means: create the first admin).
    pub users: u64,
}

/// A built server, bound to its port, ready to run.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    state: AppState,
    report: StartupReport,
    /// The transport limits of `[server]`.
    limits: crate::serve::Limits,
}

/// Why the application could not be built.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BuildError(pub String);

impl Application {
    /// Builds everything `settings` describe, with time from `clock`, and
    /// binds `server.bind` (port 0 picks a free port, for tests).
    ///
    /// # Errors
    /// [`BuildError`] with a message fit for the operator.
    pub async fn build(settings: &Settings, clock: Arc<dyn Clock>) -> Result<Self, BuildError> {
        let limits = crate::serve::Limits::from_settings(&settings.server)?;
        let (state, report) = build_service(settings, clock).await?;
        let listener = TcpListener::bind(settings.server.bind)
            .await
            .map_err(|e| BuildError(format!("cannot listen on {}: {e}", settings.server.bind)))?;
        Ok(Self {
            listener,
            state,
            report,
            limits,
        })
    }

    /// The address actually bound.
    ///
    /// # Errors
    /// If the socket has no local address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// What start-up did.
    pub fn report(&self) -> &StartupReport {
        &self.report
    }

    /// The application state (tests reach the service and clock through it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    ///
    /// # Errors
    /// If the server fails.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let upkeep = tokio::spawn(upkeep(self.state.clone()));
        let follow = crate::scaleout::follow(self.state.clone());
        let state = self.state.clone();
        let app = crate::layers::wrap(
            crate::routes::router(self.state),
            self.limits.body_read_timeout,
        );
        let result = crate::serve::serve(self.listener, app, self.limits, shutdown).await;
        upkeep.abort();
        follow.abort();
        // Audit records and announcements are queued for background tasks
        // that die with the runtime when the process exits: the last
        // requests' records (failed logins above all) must be written first.
        state.auth.deps().audit.flush().await;
        state.auth.deps().bus.flush().await;
        result
    }
}

/// Opens the database named by the settings, choosing the backend by the
/// scheme of `storage.database_url`: `postgres://` or `postgresql://` is
/// PostgreSQL; `sqlite:` (or empty: `authgate.db` in `storage.data_dir`) is
/// SQLite. Returns it with a description for the operator (no password).
///
/// # Errors
/// [`BuildError`] when the URL names a backend this build does not have,
/// or the database cannot be opened.
pub async fn open_store(settings: &Settings) -> Result<(Arc<dyn Store>, String), BuildError> {
    let url = settings.storage.database_url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = PostgresStore::open(url)
            .await
            .map_err(|e| BuildError(format!("cannot open the database: {e}")))?;
        let location = store.location().to_owned();
        return Ok((Arc::new(store), location));
    }
    if !url.is_empty() && !url.starts_with("sqlite:") {
        return Err(BuildError(format!(
            "storage.database_url: expected a sqlite:, postgres:// or postgresql:// URL (got a {} URL)",
            url.split(':').next().unwrap_or("non-SQLite")
        )));
    }
    let path = match url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        Some(path) if !path.is_empty() => std::path::PathBuf::from(path),
        _ => settings.storage.data_dir.join("authgate.db"),
    };
    create_private_dir(&settings.storage.data_dir)?;
    // Password hashes, refresh-token hashes and sealed keys: the owner's only.
    make_private_file(&path)?;
    let store = SqliteStore::open(&path)
        .await
        .map_err(|e| BuildError(format!("cannot open the database {}: {e}", path.display())))?;
    Ok((Arc::new(store), format!("sqlite:{}", path.display())))
}

/// The core settings the configuration describes.
///
/// # Errors
/// [`BuildError`] for inconsistent settings.
pub fn auth_settings(settings: &Settings) -> Result<AuthSettings, BuildError> {
    let mut auth = AuthSettings::new(settings.issuer());
    auth.audiences = settings.tokens.audiences.clone();
    auth.access_ttl = settings.tokens.access_ttl.as_time();
    auth.refresh_ttl = settings.tokens.refresh_ttl.as_time();
    auth.refresh_reuse_grace = settings.tokens.refresh_reuse_grace.as_time();
    auth.leeway = settings.tokens.leeway.as_time();
    auth.registration_open = settings.registration.mode == RegistrationMode::Open;
    auth.default_roles = settings.registration.default_roles.clone();
    auth.password_policy = PasswordPolicy {
        min_length: settings.passwords.min_length,
        min_strength: settings.passwords.min_strength.min(4),
    };
    let permissions = permissions(settings)?;
    auth.known_roles = permissions.roles().map(str::to_owned).collect();
    if let Some(role) = auth
        .default_roles
        .iter()
        .find(|r| !permissions.is_known_role(r))
    {
        return Err(BuildError(format!(
            "registration.default_roles: unknown role {role:?} (define it in [roles])"
        )));
    }
    if !auth.audiences.contains_key("default") {
        return Err(BuildError("tokens.audiences must define `default`".into()));
    }
    if auth.access_ttl <= time::Duration::ZERO || auth.refresh_ttl <= auth.access_ttl {
        return Err(BuildError(
            "tokens.access_ttl must be positive and shorter than tokens.refresh_ttl".into(),
        ));
    }
    Ok(auth)
}

/// The role → permission policy of `[roles]`: `admin` holds everything,
/// `user` exists (with no administration permission) even when not listed.
///
/// # Errors
/// [`BuildError`] for a malformed role or permission name, or for `user`
/// given one of the server's administration permissions.
pub(crate) fn permissions(settings: &Settings) -> Result<Permissions, BuildError> {
    let valid = |name: &str| {
        !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b))
    };
    let mut roles = settings.roles.clone();
    roles.entry("user".to_owned()).or_default();
    for (role, perms) in &roles {
        if !valid(role) {
            return Err(BuildError(format!("roles: invalid role name {role:?}")));
        }
        if let Some(p) = perms.iter().find(|p| !valid(p)) {
            return Err(BuildError(format!(
                "roles.{role}: invalid permission name {p:?}"
            )));
        }
    }
    if let Some(p) = roles["user"]
        .iter()
        .find(|p| crate::authz::SERVER_PERMISSIONS.contains(&p.as_str()))
    {
        return Err(BuildError(format!(
            "roles.user: the built-in `user` role cannot hold the administration permission {p:?}; \
             define another role"
        )));
    }
    Ok(Permissions::new(roles))
}

/// The audit log of `[audit] sinks`: `database`, `stdout`, `file:<path>`.
///
/// # Errors
/// [`BuildError`] for an unknown or repeated sink.
fn audit_log(
    settings: &Settings,
    store: Arc<dyn authgate_core::AuditStore>,
) -> Result<AuditLog, BuildError> {
    let mut database = None;
    let mut others: Vec<Arc<dyn AuditSink>> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for sink in &settings.audit.sinks {
        let sink = sink.trim();
        if !seen.insert(sink.to_owned()) {
            return Err(BuildError(format!("audit.sinks: {sink:?} is listed twice")));
        }
        match sink {
            "database" => database = Some(store.clone()),
            "stdout" => others.push(Arc::new(StdoutSink)),
            _ => match sink.strip_prefix("file:") {
                Some(path) if !path.trim().is_empty() => {
                    others.push(Arc::new(FileSink::new(path.trim())));
                }
                _ => {
                    return Err(BuildError(format!(
                        "audit.sinks: unknown sink {sink:?} (use \"database\", \"stdout\" or \"file:/path\")"
                    )));
                }
            },
        }
    }
    Ok(AuditLog::new(database, others))
}

/// The password hasher the configuration describes, one slot per core.
///
/// # Errors
/// [`BuildError`] for argon2 parameters argon2 refuses.
pub fn password_hasher(settings: &Settings) -> Result<PasswordHasher, BuildError> {
    let argon2 = Argon2Settings {
        memory_kib: settings.passwords.argon2_memory_kib,
        iterations: settings.passwords.argon2_iterations,
        parallelism: settings.passwords.argon2_parallelism,
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    PasswordHasher::new(argon2, cores).map_err(|e| BuildError(e.to_string()))
}

/// Builds the application state on the configured stores without a socket:
/// what `serve` runs, and what the administration commands use directly.
///
/// # Errors
/// [`BuildError`] with a message fit for the operator.
pub async fn build_service(
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> Result<(AppState, StartupReport), BuildError> {
    let auth_settings = auth_settings(settings)?;
    let shared = crate::scaleout::open(settings, clock.clone())?;
    let (store, database) = open_store(settings).await?;
    let (master, master_source) = master_key::load(settings).map_err(BuildError)?;
    let algorithm = settings.tokens.algorithm.parse().map_err(|_| {
        BuildError(format!(
            "tokens.algorithm: unsupported algorithm {:?}",
            settings.tokens.algorithm
        ))
    })?;
    let keyring_settings = KeyringSettings {
        algorithm,
        rsa_bits: settings.keys.rsa_bits,
        hmac_secret: settings
            .tokens
            .hmac_secret
            .is_set()
            .then(|| Zeroizing::new(settings.tokens.hmac_secret.expose().as_bytes().to_vec())),
        rotation_interval: settings.keys.rotation_interval.as_time(),
        publish_lead: settings.keys.publish_lead.as_time(),
        verify_window: auth_settings.access_ttl + auth_settings.leeway,
    };
    if !matches!(keyring_settings.rsa_bits, 2048 | 3072 | 4096) {
        return Err(BuildError(
            "keys.rsa_bits must be 2048, 3072 or 4096".into(),
        ));
    }
    if keyring_settings.rotation_interval <= keyring_settings.verify_window {
        return Err(BuildError(
            "keys.rotation_interval must be longer than tokens.access_ttl + tokens.leeway".into(),
        ));
    }
    let master = Arc::new(master);
    let audit = Arc::new(audit_log(settings, store.clone())?);
    let keys = KeyManager::load(
        store.clone(),
        master.clone(),
        keyring_settings,
        clock.clone(),
    )
    .await
    .map_err(|e| BuildError(e.to_string()))?
    .with_audit(audit.clone());
    let ring = keys.ring();

    let mut verifier_config = VerifierConfig::new(
        auth_settings.issuer.clone(),
        auth_settings
            .audience(None)
            .map_err(|e| BuildError(e.to_string()))?,
    )
    .leeway_secs(auth_settings.leeway.whole_seconds());
    // authgate's own Bearer endpoints accept tokens of any configured audience (API.md).
    for audience in auth_settings.audiences.values() {
        verifier_config = verifier_config.audience(audience.clone());
    }
    let verifier = Verifier::new(verifier_config, ring.verifying.clone())
        .map_err(|e| BuildError(e.to_string()))?;

    // Sessions revoked recently may still have live access tokens: remember them.
    let revocations = Arc::new(RevocationList::new());
    let horizon = clock.now() - auth_settings.access_ttl - auth_settings.leeway;
    let forget_after =
        clock.unix() + (auth_settings.access_ttl + auth_settings.leeway).whole_seconds();
    for sid in store
        .revoked_since(horizon)
        .await
        .map_err(|e| BuildError(e.to_string()))?
    {
        revocations.revoke_session(sid, forget_after);
    }
    for (jti, expires_at) in store
        .revoked_tokens_since(horizon, clock.now())
        .await
        .map_err(|e| BuildError(e.to_string()))?
    {
        revocations.revoke_token(&jti, expires_at.unix_timestamp());
    }

    let users = authgate_core::UserStore::count_users(store.as_ref())
        .await
        .map_err(|e| BuildError(e.to_string()))?;
    let report = StartupReport {
        master_key: master_source,
        database,
        signing_kid: ring.signing.kid().unwrap_or_default().to_owned(),
        algorithm: ring.signing.algorithm().to_string(),
        users,
    };
    let deps = AuthDeps {
        users: store.clone(),
        sessions: store.clone(),
        clients: store.clone(),
        audit: audit.clone(),
        limiter: shared.limiter,
        keyring: keys.keyring().clone(),
        hasher: password_hasher(settings)?,
        revocations,
        records: Arc::new(RecordCache::new()),
        bus: shared.bus,
        master,
        clock: clock.clone(),
    };
    let auth = AuthService::new(deps, auth_settings).map_err(|e| BuildError(e.to_string()))?;
    let state = AppState::new(crate::state::SharedState {
        auth,
        verifier: Arc::new(verifier),
        probes: Arc::new(
            std::iter::once(("database", store as Arc<dyn authgate_core::Ping>))
                .chain(shared.redis.map(|redis| ("redis", redis)))
                .collect(),
        ),
        verifier_keys: Arc::new(std::sync::Mutex::new(ring.version.clone())),
        permissions: Arc::new(permissions(settings)?),
        metrics: crate::metrics::install(),
        keys,
        clock,
        trusted_proxies: Arc::new(settings.server.trusted_proxies.clone()),
        public_url: Arc::from(settings.server.public_url.trim_end_matches('/')),
    });
    Ok((state, report))
}

/// Periodic upkeep: wipe sealed refresh successors once their grace window
/// has closed, pick up sessions revoked by anyone else sharing the store (an
/// `authgate user disable` run beside the server, another instance), forget
/// revocations whose tokens have all expired, and now and then delete the
/// sessions and revocations that ended long ago.
async fn upkeep(state: AppState) {
    let settings = state.auth.settings().clone();
    let period = Duration::try_from(settings.refresh_reuse_grace)
        .unwrap_or(Duration::from_secs(10))
        .clamp(Duration::from_secs(1), Duration::from_secs(10));
    let mut tick = tokio::time::interval(period);
    let mut seen_until = state.clock.now();
    let mut purged_at = seen_until;
    loop {
        tick.tick().await;
        // The recorder keeps every latency sample until it is folded into
        // the histograms, which only a scrape or this does: without it a
        // server nobody scrapes grows by 8 bytes a request, without bound.
        // First, so that a store stalling the steps below cannot stop it.
        if let Some(metrics) = &state.metrics {
            metrics.run_upkeep();
        }
        let now = state.clock.now();
        if now - purged_at >= crate::state::PURGE_PERIOD {
            state.purge_ended().await;
            purged_at = now;
        }
        let deps = state.auth.deps();
        let sessions: &dyn SessionStore = deps.sessions.as_ref();
        if let Err(e) = sessions
            .wipe_sealed_successors(now - settings.refresh_reuse_grace)
            .await
        {
            tracing::warn!(error = %e, "wiping sealed refresh successors failed; will retry");
        }
        // Overlap one period so a revocation committed during the last pass is not missed.
        match sessions.revoked_since(seen_until - period).await {
            Ok(revoked) => {
                let forget_after =
                    state.clock.unix() + (settings.access_ttl + settings.leeway).whole_seconds();
                for sid in revoked {
                    deps.revocations.revoke_session(sid, forget_after);
                }
                seen_until = now;
            }
            Err(e) => tracing::warn!(error = %e, "reading recent revocations failed; will retry"),
        }
        // Every token revocation still in force, not only recent ones: a
        // window by `revoked_at` (the revoking instance's clock, read before
        // its commit) would miss a commit slower than the overlap or a clock
        // behind ours, and that token would then pass here until it expired.
        // Rows live only until their token expires (minutes), so the read is
        // small; a revoked session, by contrast, is re-read from its row.
        match sessions
            .revoked_tokens_since(time::OffsetDateTime::UNIX_EPOCH, now)
            .await
        {
            Ok(revoked) => {
                for (jti, expires_at) in revoked {
                    deps.revocations
                        .revoke_token(&jti, expires_at.unix_timestamp());
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading recent token revocations failed; will retry")
            }
        }
        deps.revocations.prune(state.clock.unix());
        deps.limiter.prune().await;
        deps.records
            .prune((state.clock.now().unix_timestamp_nanos() / 1_000_000) as i64);
        state.sync_keys().await;
    }
}

/// Creates `dir` (and its parents) readable only by its owner. An existing
/// one is left as it is (it may be a directory of the operator's, `.` even)
/// with a warning if others may enter it: the files that matter in it are
/// created (or tightened to) 0600 whatever the directory's mode.
pub(crate) fn create_private_dir(dir: &std::path::Path) -> Result<(), BuildError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| {
        BuildError(format!(
            "cannot create the data directory {}: {e}",
            dir.display()
        ))
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(dir)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                path = %dir.display(),
                mode = format!("{:o}", meta.permissions().mode() & 0o777),
                "the data directory is open to other users; its secrets are kept 0600, but 0700 is safer"
            );
        }
    }
    Ok(())
}

/// Creates the SQLite file `path` as 0600 if it does not exist (SQLite
/// gives its `-wal` and `-shm` files the database file's mode), or
/// tightens an existing one, and those files, to 0600.
fn make_private_file(path: &std::path::Path) -> Result<(), BuildError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(|e| {
        BuildError(format!(
            "cannot create the database {}: {e}",
            path.display()
        ))
    })?;
    owner_only(path)?;
    for suffix in ["-wal", "-shm"] {
        let mut companion = path.as_os_str().to_owned();
        companion.push(suffix);
        let companion = std::path::PathBuf::from(companion);
        if companion.exists() {
            owner_only(&companion)?;
        }
    }
    Ok(())
}

/// Sets `path` to 0600 if it grants anything to group or others, and says so.
fn owner_only(path: &std::path::Path) -> Result<(), BuildError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let current = std::fs::metadata(path)
            .map_err(|e| BuildError(format!("cannot read {}: {e}", path.display())))?
            .permissions()
            .mode()
            & 0o777;
        if current & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(
                |e| {
                    BuildError(format!(
                        "{} is open to other users (mode {current:o}) and cannot be tightened: {e}",
                        path.display()
                    ))
                },
            )?;
            tracing::warn!(
                path = %path.display(),
                was = format!("{current:o}"),
                "tightened permissions to 600: the database holds password and token hashes"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_redis_url_that_is_not_redis_stops_the_start_without_echoing_it() {
        let mut settings = Settings::default();
        settings.storage.data_dir =
            std::env::temp_dir().join(format!("authgate-{}", uuid::Uuid::new_v4()));
        settings.storage.redis_url = "memcached://ann:secret@127.0.0.1:11211".into();
        let err = build_service(&settings, Arc::new(authgate_core::SystemClock))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("storage.redis_url"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        assert!(!settings.storage.data_dir.exists(), "nothing was created");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_database_is_made_private_even_in_an_open_data_directory() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = std::env::temp_dir().join(format!("authgate-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut settings = Settings::default();
        settings.storage.data_dir = dir.clone();
        open_store(&settings).await.unwrap();
        assert_eq!(mode(&dir), 0o755, "the operator's directory is left alone");
        let db = dir.join("authgate.db");
        assert_eq!(mode(&db), 0o600);
        // An existing database left readable by others is tightened too.
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        open_store(&settings).await.unwrap();
        assert_eq!(mode(&db), 0o600);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_database_url_of_another_backend_is_refused_without_echoing_it() {
        let mut settings = Settings::default();
        settings.storage.data_dir =
            std::env::temp_dir().join(format!("authgate-{}", uuid::Uuid::new_v4()));
        settings.storage.database_url = "mysql://ann:secret@127.0.0.1/authgate".into();
        let err = open_store(&settings).await.unwrap_err().to_string();
        assert!(err.contains("storage.database_url"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        assert!(!settings.storage.data_dir.exists(), "nothing was created");
    }
}
