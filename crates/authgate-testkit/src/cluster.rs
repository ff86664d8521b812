//! Several servers sharing one PostgreSQL schema and one Redis key prefix,
//! as instances behind a load balancer share their stores.
//!
//! [`Cluster::start`] needs `AUTHGATE_TEST_POSTGRES_URL` and
//! `AUTHGATE_TEST_REDIS_URL`; without them it fails the test, like every
//! service test (they are `#[ignore]`d with the reason; `scripts/test` runs
//! them).

use std::sync::Arc;

use authgate_core::{ManualClock, MasterKey};
use authgate_server::Settings;
use authgate_store::testing::{
    POSTGRES_URL_VAR, REDIS_URL_VAR, TestSchema, redis_prefix, service_url,
};

use crate::app::{TestApp, spawn_app_on_clock};

/// The shared stores of a few test servers: a fresh schema, a key prefix of
/// their own, one master key (each instance must open the signing keys the
/// others sealed) and one clock: moving any instance's time moves them all,
/// and no instance runs ahead by however long the others took to start.
#[derive(Debug)]
pub struct Cluster {
    /// The schema every instance uses; dropped (with its data) last.
    pub schema: TestSchema,
    /// `storage.database_url` of every instance.
    pub database_url: String,
    /// `storage.redis_url` of every instance (tests may point one at a proxy).
    pub redis_url: String,
    /// `storage.redis_prefix` of every instance.
    pub redis_prefix: String,
    /// `storage.master_key` (base64) of every instance.
    master_key: String,
    /// The time of every instance.
    pub clock: Arc<ManualClock>,
}

impl Cluster {
    /// Fresh shared stores for `test`; fails the test when the services are
    /// not configured.
    pub async fn start(test: &str) -> Self {
        let postgres = service_url(POSTGRES_URL_VAR, test);
        let redis_url = service_url(REDIS_URL_VAR, test);
        let schema = TestSchema::create(&postgres)
            .await
            .expect("a test schema in PostgreSQL");
        let database_url = schema.url(None).expect("the schema's URL");
        let (_, master_key) = MasterKey::generate().expect("a random master key");
        Self {
            schema,
            database_url,
            redis_url,
            redis_prefix: redis_prefix(),
            master_key: master_key.to_string(),
            clock: Arc::new(ManualClock::new(time::OffsetDateTime::now_utc())),
        }
    }

    /// Points `settings` at the shared stores.
    pub fn configure(&self, settings: &mut Settings) {
        settings.storage.database_url = self.database_url.clone();
        settings.storage.redis_url = self.redis_url.clone();
        settings.storage.redis_prefix = self.redis_prefix.clone();
        settings.storage.master_key = self.master_key.clone().into();
    }

    /// One more instance on the shared stores and clock (its own port and
    /// data directory).
    pub async fn spawn(&self) -> TestApp {
        self.spawn_with(|_| {}).await
    }

    /// Like [`Cluster::spawn`], with `configure` applied after the shared
    /// settings (another Redis URL through a proxy, other limits, no Redis).
    pub async fn spawn_with(&self, configure: impl FnOnce(&mut Settings)) -> TestApp {
        spawn_app_on_clock(
            |settings| {
                self.configure(settings);
                configure(settings);
            },
            self.clock.clone(),
        )
        .await
    }
}
