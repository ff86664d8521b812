//! Upkeep of a running deployment: purging what ended long ago, picking up
//! other writers' revocations, pruning the in-process caches, applying key
//! transitions and other instances' announcements. The server's background
//! loop and the administration commands both run it from here.

use time::OffsetDateTime;
use tokio::sync::mpsc;

use crate::audit::Origin;
use crate::bus::Change;
use crate::error::AuthError;
use crate::keys::KeyManager;
use crate::store::SessionStore;

use super::AuthService;

/// How long ended sessions and expired revocations are kept before
/// [`Maintenance::purge_ended`] deletes them.
pub const PURGE_RETENTION: time::Duration = time::Duration::days(1);
/// How often [`Upkeep`] purges.
pub const PURGE_PERIOD: time::Duration = time::Duration::minutes(10);
/// Rows per purge transaction, so the SQLite write lock is held briefly.
const PURGE_BATCH: u32 = 1000;
/// Batches per purge run; what is left waits for the next period.
const PURGE_MAX_BATCHES: usize = 100;

/// The domain's housekeeping over one service and its signing keys.
#[derive(Debug, Clone)]
pub struct Maintenance {
    /// The service whose stores and caches are kept.
    auth: AuthService,
    /// The signing keys whose schedule is applied.
    keys: KeyManager,
}

impl Maintenance {
    /// Housekeeping for `auth` and `keys` (the keys `auth` signs with).
    pub fn new(auth: AuthService, keys: KeyManager) -> Self {
        Self { auth, keys }
    }

    /// Deletes sessions, refresh tokens, access-token revocations and
    /// OpenID Connect authorization codes that ended more than a day (or one
    /// access-token lifetime, if longer) ago, in batches; returns how many
    /// sessions, revocations and codes went.
    ///
    /// The retention keeps every row an answer can still depend on: a
    /// revoked session's access tokens die within one lifetime, and instances
    /// read revocations back only for that long; a spent code presented
    /// again within the day still revokes what it gave.
    pub async fn purge_ended(&self) -> u64 {
        let settings = self.auth.settings();
        let retention = PURGE_RETENTION.max(settings.access_ttl + settings.leeway);
        let before = self.auth.deps().clock.now() - retention;
        let sessions = self.auth.deps().sessions.clone();
        let mut purged = 0;
        for _ in 0..PURGE_MAX_BATCHES {
            match sessions.purge_ended(before, PURGE_BATCH).await {
                Ok(0) => break,
                Ok(n) => purged += n,
                Err(e) => {
                    tracing::warn!(error = %e, "purging ended sessions failed; will retry");
                    break;
                }
            }
        }
        if purged > 0 {
            tracing::info!(purged, "purged ended sessions and revocations");
        }
        purged + self.purge_codes(before).await
    }

    /// Deletes the authorization codes that expired before `before`, spent
    /// or not, in batches; returns how many went.
    async fn purge_codes(&self, before: OffsetDateTime) -> u64 {
        let oidc = self.auth.deps().oidc.clone();
        let mut purged = 0;
        for _ in 0..PURGE_MAX_BATCHES {
            match oidc.purge_codes(before, PURGE_BATCH).await {
                Ok(0) => break,
                Ok(n) => purged += n,
                Err(e) => {
                    tracing::warn!(error = %e, "purging expired authorization codes failed; will retry");
                    break;
                }
            }
        }
        if purged > 0 {
            tracing::info!(purged, "purged expired authorization codes");
        }
        purged
    }

    /// Applies the key transitions due now (or picks up another instance's);
    /// a failure is logged and retried at the next call.
    pub async fn tick_keys(&self) {
        // A rotation applied here is recorded by the key manager (key.rotated,
        // in the key transaction).
        if let Err(e) = self.keys.tick().await {
            tracing::error!(error = %e, "key rotation check failed; will retry");
        }
    }

    /// Rotates the signing keys now on behalf of `actor` (recorded in
    /// `key.rotated`) and announces the change to the other instances.
    ///
    /// # Errors
    /// As [`KeyManager::rotate_now`].
    pub async fn rotate_keys_by(
        &self,
        actor: Option<&str>,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        self.keys.rotate_now_by(actor, origin).await?;
        self.auth.deps().bus.publish(Change::KeysChanged);
        Ok(())
    }

    /// Sends the changes other instances announce to `sink`.
    pub fn subscribe(&self, sink: mpsc::Sender<Change>) {
        self.auth.deps().bus.subscribe(sink);
    }

    /// Applies another instance's revocation or user change to this
    /// instance's caches (a key change is [`Maintenance::tick_keys`]'s).
    pub fn apply(&self, change: &Change) {
        let deps = self.auth.deps();
        change.apply_to(&deps.revocations, &deps.records);
    }

    /// The periodic upkeep, starting now.
    pub fn upkeep(&self) -> Upkeep {
        let now = self.auth.deps().clock.now();
        let grace = self.auth.settings().refresh_reuse_grace;
        let period = std::time::Duration::try_from(grace)
            .unwrap_or(std::time::Duration::from_secs(10))
            .clamp(
                std::time::Duration::from_secs(1),
                std::time::Duration::from_secs(10),
            );
        Upkeep {
            maintenance: self.clone(),
            period,
            seen_until: now,
            purged_at: now,
        }
    }
}

/// Periodic upkeep: wipe sealed refresh successors once their grace window
/// has closed, pick up sessions revoked by anyone else sharing the store (an
/// `authgate user disable` run beside the server, another instance), forget
/// revocations whose tokens have all expired, apply the key schedule, and
/// now and then delete the sessions and revocations that ended long ago.
#[derive(Debug)]
pub struct Upkeep {
    /// What does the work.
    maintenance: Maintenance,
    /// How often [`Upkeep::run_once`] should run: the refresh grace window,
    /// clamped to 1–10 seconds.
    period: std::time::Duration,
    /// Revocations up to here have been read (less one period of overlap).
    seen_until: OffsetDateTime,
    /// When the last purge ran.
    purged_at: OffsetDateTime,
}

impl Upkeep {
    /// How often to call [`Upkeep::run_once`].
    pub fn period(&self) -> std::time::Duration {
        self.period
    }

    /// One pass of the upkeep; failures are logged and retried next pass.
    pub async fn run_once(&mut self) {
        let maintenance = &self.maintenance;
        let deps = maintenance.auth.deps();
        let settings = maintenance.auth.settings();
        let clock = &deps.clock;
        let now = clock.now();
        if now - self.purged_at >= PURGE_PERIOD {
            maintenance.purge_ended().await;
            self.purged_at = now;
        }
        let sessions: &dyn SessionStore = deps.sessions.as_ref();
        if let Err(e) = sessions
            .wipe_sealed_successors(now - settings.refresh_reuse_grace)
            .await
        {
            tracing::warn!(error = %e, "wiping sealed refresh successors failed; will retry");
        }
        // Overlap one period so a revocation committed during the last pass is not missed.
        match sessions.revoked_since(self.seen_until - self.period).await {
            Ok(revoked) => {
                let forget_after =
                    clock.unix() + (settings.access_ttl + settings.leeway).whole_seconds();
                for sid in revoked {
                    deps.revocations.revoke_session(sid, forget_after);
                }
                self.seen_until = now;
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
            .revoked_tokens_since(OffsetDateTime::UNIX_EPOCH, now)
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
        deps.revocations.prune(clock.unix());
        deps.limiter.prune().await;
        deps.records
            .prune((clock.now().unix_timestamp_nanos() / 1_000_000) as i64);
        maintenance.tick_keys().await;
    }
}
