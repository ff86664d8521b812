//! authgate-guard and the example service against a real authgate server
//! started in-process (authgate-testkit): the JWKS fetched and cached,
//! rotations picked up without a restart, the unknown-kid refetch limit
//! under a flood of garbage tokens, role and permission denials, the skip
//! policy, and a guard started while authgate is down.
//!
//! JWKS requests are counted by a small proxy in front of the real server
//! (`support::CountingProxy`), never by a stand-in for it. The guards here
//! read the server's own manual clock and run without their background
//! task, so each test steps the schedule itself (`JwksHandle::tick`) and
//! never sleeps; one test runs the background task on the system clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod down_at_start;
mod flood;
mod introspection;
mod jwks;
mod roles;
mod rotation;
mod skip;
mod support;
