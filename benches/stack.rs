//! The whole stack (bearer → jwt → revocation) with and without the
//! verified-token cache, the revocation check alone, and the memory of a
//! revoked `jti`.
//!
//! ```text
//! cargo bench --bench stack
//! ```
//!
//! Groups, all in one run:
//! - `stack/<alg>`: `bare_handler` (a request built and sent to a ready
//!   handler, no layer: the floor), `uncached` (every request verified in
//!   full) and `cached` (the same token again: a cache hit), both through
//!   `BearerLayer` + `JwtLayer` + `RevocationLayer` with 1 million revoked
//!   tokens in the list;
//! - `revocation/check`: `RevocationList::is_revoked` for a token that is
//!   not revoked, with 0 and with 1 million revoked `jti`s, and for one
//!   that is;
//! - the bytes a revoked `jti` costs, measured with a counting allocator
//!   over 1 million entries, printed as `revocation/bytes_per_jti`.

// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

mod common;

use common::{handler, ready, request};

use std::alloc::System;
use std::convert::Infallible;
use std::time::{SystemTime, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use http::{HeaderValue, Request, Response};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tollgate::bearer::BearerLayer;
use tollgate::jwt::{JwtLayer, JwtVerifier, Key};
use tollgate::revocation::{RevocationLayer, RevocationList};
use tollgate::token::{RegisteredClaims, StandardClaims};
use tower::{Service, ServiceBuilder};

/// Counts heap bytes, to measure what the revocation list holds.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const RSA_PRIVATE: &[u8] = include_bytes!("../tests/keys/rsa_private.pem");
const RSA_PUBLIC: &[u8] = include_bytes!("../tests/keys/rsa_public.pem");
const EC_PRIVATE: &[u8] = include_bytes!("../tests/keys/ec_private.pem");
const EC_PUBLIC: &[u8] = include_bytes!("../tests/keys/ec_public.pem");
const ISSUER: &str = "https://issuer.example.com";
const REVOKED: usize = 1_000_000;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A list with `n` revoked tokens of the issuer, none of them the bench's.
fn list_with(n: usize) -> RevocationList {
    let list = RevocationList::new();
    let exp = now() + 3600;
    for i in 0..n {
        list.revoke_token(ISSUER, &format!("revoked-{i:08}"), exp)
            .unwrap();
    }
    list
}

fn stack(
    verifier: JwtVerifier<StandardClaims>,
    list: RevocationList,
) -> impl Service<Request<String>, Response = Response<String>, Error = Infallible> + Clone {
    ServiceBuilder::new()
        .layer(BearerLayer::new())
        .layer(JwtLayer::new(verifier))
        .layer(RevocationLayer::<StandardClaims>::new(list))
        .service_fn(handler)
}

fn bench_stack(c: &mut Criterion) {
    tollgate::jwt::crypto_provider();
    let list = list_with(REVOKED);
    for alg in [Algorithm::RS256, Algorithm::ES256] {
        let (encoding, key) = match alg {
            Algorithm::RS256 => (
                EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap(),
                Key::rsa_pem(alg, RSA_PUBLIC).unwrap(),
            ),
            _ => (
                EncodingKey::from_ec_pem(EC_PRIVATE).unwrap(),
                Key::ec_pem(alg, EC_PUBLIC).unwrap(),
            ),
        };
        let claims = serde_json::json!({
            "iss": ISSUER, "aud": "api", "sub": "248289761001", "jti": "7f3c2a9e51d4",
            "sid": "s-1", "iat": now(), "exp": now() + 3600,
        });
        let token = jsonwebtoken::encode(&Header::new(alg), &claims, &encoding).unwrap();
        let builder = || {
            JwtVerifier::<StandardClaims>::builder()
                .key(key.clone())
                .issuer(ISSUER)
                .audience("api")
        };
        let mut uncached = stack(builder().no_cache().build().unwrap(), list.clone());
        let cached_verifier = builder().build().unwrap();
        let mut cached = stack(cached_verifier.clone(), list.clone());
        let header = HeaderValue::try_from(format!("Bearer {token}")).unwrap();
        assert_eq!(
            ready(uncached.call(request(&header))).unwrap().status(),
            200
        );
        assert_eq!(ready(cached.call(request(&header))).unwrap().status(), 200);
        assert_eq!(ready(cached.call(request(&header))).unwrap().status(), 200);
        let stats = cached_verifier.cache_stats().unwrap();
        assert_eq!(
            (stats.misses, stats.hits),
            (1, 1),
            "the second call is a hit"
        );

        let mut group = c.benchmark_group(format!("stack/{alg:?}"));
        let mut bare = tower::service_fn(handler);
        group.bench_function("bare_handler", |b| {
            b.iter(|| ready(bare.call(request(&header))).unwrap())
        });
        group.bench_function("uncached", |b| {
            b.iter(|| ready(uncached.call(request(&header))).unwrap())
        });
        group.bench_function("cached", |b| {
            b.iter(|| ready(cached.call(request(&header))).unwrap())
        });
        group.finish();
    }
}

fn bench_revocation(c: &mut Criterion) {
    let exp = now() + 3600;
    let claims = RegisteredClaims::new(exp)
        .with_iss(ISSUER)
        .with_sub("248289761001")
        .with_jti("7f3c2a9e51d4")
        .with_iat(now());
    let mut group = c.benchmark_group("revocation/check");
    let empty = RevocationList::new();
    group.bench_function("0_entries", |b| b.iter(|| empty.is_revoked(&claims)));
    let full = list_with(REVOKED);
    assert!(!full.is_revoked(&claims));
    group.bench_function("1M_entries", |b| b.iter(|| full.is_revoked(&claims)));
    let revoked = RegisteredClaims::new(exp)
        .with_iss(ISSUER)
        .with_jti("revoked-00500000")
        .with_iat(now());
    assert!(full.is_revoked(&revoked));
    group.bench_function("1M_entries_revoked", |b| {
        b.iter(|| full.is_revoked(&revoked))
    });
    group.finish();

    // Memory: live heap before and after filling a list (the names are
    // built one at a time and freed, so only the list's own bytes stay).
    let region = Region::new(GLOBAL);
    let measured = list_with(REVOKED);
    let change = region.change();
    let bytes = change.bytes_allocated as isize - change.bytes_deallocated as isize
        + change.bytes_reallocated;
    println!(
        "revocation/bytes_per_jti: {:.1} bytes per revoked jti ({bytes} bytes for {REVOKED})",
        bytes as f64 / REVOKED as f64
    );
    assert_eq!(measured.counts().tokens, REVOKED);
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = bench_stack, bench_revocation
}
criterion_main!(benches);
