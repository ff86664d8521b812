//! Redis, optional, shared by every instance: revocations kept with the
//! remaining lifetime of the tokens they kill, login counters, and a pub/sub
//! channel that announces revocations, user changes and key changes.
//!
//! Redis only speeds things up; nothing depends on it for correctness. The
//! database is written first and stays the source of truth, so when Redis
//! does not answer the instances carry on: announcements are dropped (the
//! database poll finds the changes a few seconds later), login counters fall
//! back to the in-process limiter, and the subscription reconnects by itself.
//!
//! Files: `link` (the connection, its key prefix and the back-off after a
//! failure), `bus` (the [`RedisBus`]), `limiter` (the [`RedisLimiter`]).

mod bus;
mod limiter;
mod link;

pub use bus::RedisBus;
pub use limiter::RedisLimiter;
pub use link::{DEFAULT_PREFIX as DEFAULT_REDIS_PREFIX, RedisStore};
