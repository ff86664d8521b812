//! Verify and sign throughput of authgate-jwt beside jsonwebtoken, oxitoken
//! and the bare aws-lc-rs primitive, for HS256, RS256, ES256 and EdDSA.
//!
//! "Verify" is verification with full validation into a typed claims struct:
//! one realistic access token per algorithm, signed once by authgate, that
//! every library checks for signature, `exp`, `nbf`, `iat` (not jsonwebtoken:
//! it has no such check), `iss`, `aud` and header `typ` (jsonwebtoken: by
//! comparing the header it returns, as its `Validation` has no `typ`). The
//! setup asserts that each library accepts that token and refuses broken
//! variants, so no bench measures an error path. `bare` is the floor: the
//! aws-lc-rs verify call alone, with the key parsed and the signature decoded.
//! `claims-json` is serde_json reading the already-decoded claims into the
//! same struct, nothing else: with `bare`, the floor of any verify into that
//! struct built on aws-lc-rs and serde_json.
//! `authgate-parsed-header` verifies the same claims signed by jsonwebtoken,
//! whose header authgate cannot recognise byte for byte and so parses: the
//! cost of tokens from other issuers.
//!
//! oxitoken runs on a backend written in `jwt/oxi.rs` (see there for why),
//! over the same aws-lc-rs as the others.
//!
//! `cargo bench -p authgate-jwt --bench jwt`, then `python3
//! crates/authgate-jwt/benches/table.py` for the Markdown table.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

// The helpers sit in `jwt/`, where cargo does not take them for bench targets.
#[path = "jwt/claims.rs"]
mod claims;
#[path = "jwt/oxi.rs"]
mod oxi;
#[path = "jwt/setup.rs"]
mod setup;

use std::hint::black_box;
use std::time::Duration;

use authgate_jwt::Algorithm;
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};

use crate::setup::Fixture;

const ALGORITHMS: [Algorithm; 4] = [
    Algorithm::HS256,
    Algorithm::RS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

fn verify(c: &mut Criterion, f: &Fixture) {
    let mut group = c.benchmark_group(format!("verify/{}", f.alg));
    group.bench_function("authgate", |b| {
        b.iter(|| f.authgate_verify(black_box(&f.token)))
    });
    group.bench_function("authgate-parsed-header", |b| {
        b.iter(|| f.authgate_verify(black_box(&f.foreign_token)))
    });
    group.bench_function("jsonwebtoken", |b| {
        b.iter(|| f.jsonwebtoken_verify(black_box(&f.token)))
    });
    group.bench_function("oxitoken", |b| {
        b.iter(|| f.oxitoken_verify(black_box(&f.token)))
    });
    group.bench_function("bare", |b| b.iter(|| black_box(f).bare_verify()));
    group.bench_function("claims-json", |b| {
        b.iter(|| black_box(f).claims_json_parse())
    });
    group.finish();
}

fn sign(c: &mut Criterion, f: &Fixture) {
    let mut group = c.benchmark_group(format!("sign/{}", f.alg));
    if f.alg == Algorithm::RS256 {
        // An RSA-2048 signature takes about a millisecond: few, flat samples.
        group.sample_size(10).sampling_mode(SamplingMode::Flat);
    }
    group.bench_function("authgate", |b| {
        b.iter(|| f.authgate_sign(black_box(&f.claims)))
    });
    group.bench_function("jsonwebtoken", |b| {
        b.iter(|| f.jsonwebtoken_sign(black_box(&f.claims)))
    });
    group.bench_function("oxitoken", |b| {
        b.iter(|| f.oxitoken_sign(black_box(&f.claims)))
    });
    group.finish();
}

fn jwt(c: &mut Criterion) {
    let fixtures = ALGORITHMS.map(Fixture::new);
    for f in &fixtures {
        verify(c, f);
    }
    for f in &fixtures {
        sign(c, f);
    }
}

fn config() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
}

criterion_group! {
    name = benches;
    config = config();
    targets = jwt
}
criterion_main!(benches);
