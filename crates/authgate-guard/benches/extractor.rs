//! What the axum extractors and the tower layer cost on top of bare
//! verification. Target: the extractor adds under 2 µs to a verification.
//!
//! One EdDSA access token, verified by a `Guard` over static keys (a JWKS
//! source verifies the same way once its keys are held: fetching never sits
//! on this path). Benchmarks:
//! - `verify/cached`: `Verifier::verify_token` answering from its cache: the
//!   baseline every request of a returning client pays;
//! - `verify/cold`: the same with the cache off, a full EdDSA verification;
//! - `bearer/parse`: the strict `Authorization` header parser alone;
//! - `guard/authenticate`: header parsing plus the above, through `Guard`;
//! - `extractor/principal`, `extractor/claims`: the axum extractors on
//!   fresh request parts (building the parts is outside the measurement);
//! - `layer/guarded` and `layer/bare`: a trivial tower service with and
//!   without the `GuardLayer` in front.
//!
//! The cached path never waits, so futures are polled once, without a
//! runtime; a future that did not finish at once would fail the bench.
//!
//! `cargo bench -p authgate-guard --bench extractor`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use authgate_guard::{Claims, Guard, GuardLayer, ManualClock, Principal, Verifier, VerifierConfig};
use authgate_jwt::{Algorithm, KeySet, SigningKey, sign};
use authgate_proto::AccessClaims;
use axum::extract::FromRequestParts;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use http::request::Parts;
use tower::{Layer, Service, service_fn};

const NOW: i64 = 1_800_000_000;
const ISS: &str = "https://auth.example";

/// Polls `future` once: the cached path must be ready at once.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the cached path waited"),
    }
}

struct Fixture {
    guard: Guard,
    cold: Verifier,
    token: String,
    header: String,
}

fn fixture() -> Fixture {
    let key = SigningKey::generate(Algorithm::EdDSA)
        .unwrap()
        .with_kid("k1");
    let mut keys = KeySet::new();
    keys.insert(key.verifying_key().clone()).unwrap();
    let claims = serde_json::json!({
        "iss": ISS, "sub": "0193a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b", "aud": "api",
        "exp": NOW + 900, "iat": NOW, "nbf": NOW, "jti": "0193a5b2-9000-7000-8000-00000000abcd",
        "sid": "0193a5b2-8000-7000-8000-000000000001", "roles": ["user", "analyst"],
    });
    let token = sign(&key, Some("at+jwt"), &claims).unwrap();
    let guard = Guard::builder(VerifierConfig::new(ISS, "api"))
        .keys(keys.clone())
        .clock(Arc::new(ManualClock::at_unix(NOW)))
        .build()
        .unwrap();
    let cold = Verifier::new(VerifierConfig::new(ISS, "api").cache_capacity(0), keys).unwrap();
    let header = format!("Bearer {token}");
    // Warm the cache, and check that every path accepts the token.
    ready(guard.authenticate(Some(&header))).unwrap();
    cold.verify_token(&token, NOW).unwrap();
    Fixture {
        guard,
        cold,
        token,
        header,
    }
}

fn parts(header: &str) -> Parts {
    http::Request::get("/api/me")
        .header("authorization", header)
        .body(())
        .unwrap()
        .into_parts()
        .0
}

fn bench(c: &mut Criterion) {
    let f = fixture();
    let verifier = f.guard.verifier().unwrap().clone();

    let mut group = c.benchmark_group("verify");
    group.bench_function("cached", |b| {
        b.iter(|| verifier.verify_token(black_box(&f.token), NOW).unwrap())
    });
    group.bench_function("cold", |b| {
        b.iter(|| f.cold.verify_token(black_box(&f.token), NOW).unwrap())
    });
    group.finish();

    c.bench_function("bearer/parse", |b| {
        b.iter(|| {
            authgate_guard::parse_bearer(black_box(&f.header))
                .unwrap()
                .len()
        })
    });

    c.bench_function("guard/authenticate", |b| {
        b.iter(|| ready(f.guard.authenticate(Some(black_box(&f.header)))).unwrap())
    });

    let mut group = c.benchmark_group("extractor");
    group.bench_function("principal", |b| {
        b.iter_batched_ref(
            || parts(&f.header),
            |parts| ready(Principal::from_request_parts(parts, &f.guard)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("claims", |b| {
        b.iter_batched_ref(
            || parts(&f.header),
            |parts| ready(Claims::<AccessClaims>::from_request_parts(parts, &f.guard)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();

    let inner = service_fn(|_request: http::Request<()>| async {
        Ok::<_, Infallible>(http::Response::new(String::new()))
    });
    let mut guarded = GuardLayer::new(f.guard.clone()).layer(inner);
    let mut bare = inner;
    let request = || {
        http::Request::get("/api/me")
            .header("authorization", &f.header)
            .body(())
            .unwrap()
    };
    let mut group = c.benchmark_group("layer");
    group.bench_function("guarded", |b| {
        b.iter_batched(
            request,
            |request| {
                let response = ready(guarded.call(request)).unwrap();
                assert_eq!(response.status(), 200);
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("bare", |b| {
        b.iter_batched(
            request,
            |request| ready(bare.call(request)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
