//! The cost of `BearerLayer` + `JwtLayer` against the floor: raw
//! `jsonwebtoken::decode` with the same key and validation, in the same run.
//!
//! ```text
//! cargo bench --bench verify
//! ```
//!
//! Groups: `verify/<alg>/<size>` with `raw_decode` (the floor), `verifier`
//! (`JwtVerifier::verify` alone), `bare_handler` (a request built and sent
//! to a ready handler with no layer: the harness's own cost) and `layers`
//! (the same request through both layers to that handler). The layers'
//! cost is `layers - bare_handler`, compared with `raw_decode`;
//! `reject` for hostile input: a 1 MiB `Authorization` header, and an
//! 8 KiB token of garbage.

// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

mod common;

use common::{handler, ready, request};

use std::convert::Infallible;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use http::{HeaderValue, Request, Response};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use tollgate::bearer::BearerLayer;
use tollgate::jwt::{JwtLayer, JwtVerifier, Key};
use tollgate::token::StandardClaims;
use tower::{Service, ServiceBuilder};

const HMAC_SECRET: &[u8] = b"tollgate test secret, 32+ bytes long!";
const RSA_PRIVATE: &[u8] = include_bytes!("../tests/keys/rsa_private.pem");
const RSA_PUBLIC: &[u8] = include_bytes!("../tests/keys/rsa_public.pem");
const EC_PRIVATE: &[u8] = include_bytes!("../tests/keys/ec_private.pem");
const EC_PUBLIC: &[u8] = include_bytes!("../tests/keys/ec_public.pem");
const ED_PRIVATE: &[u8] = include_bytes!("../tests/keys/ed_private.pem");
const ED_PUBLIC: &[u8] = include_bytes!("../tests/keys/ed_public.pem");

struct Material {
    encoding: EncodingKey,
    decoding: DecodingKey,
    key: Key,
}

fn material(alg: Algorithm) -> Material {
    match alg {
        Algorithm::HS256 => Material {
            encoding: EncodingKey::from_secret(HMAC_SECRET).unwrap(),
            decoding: DecodingKey::from_secret(HMAC_SECRET).unwrap(),
            key: Key::hmac(alg, HMAC_SECRET).unwrap(),
        },
        Algorithm::RS256 => Material {
            encoding: EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap(),
            decoding: DecodingKey::from_rsa_pem(RSA_PUBLIC).unwrap(),
            key: Key::rsa_pem(alg, RSA_PUBLIC).unwrap(),
        },
        Algorithm::ES256 => Material {
            encoding: EncodingKey::from_ec_pem(EC_PRIVATE).unwrap(),
            decoding: DecodingKey::from_ec_pem(EC_PUBLIC).unwrap(),
            key: Key::ec_pem(alg, EC_PUBLIC).unwrap(),
        },
        _ => Material {
            encoding: EncodingKey::from_ed_pem(ED_PRIVATE).unwrap(),
            decoding: DecodingKey::from_ed_pem(ED_PUBLIC).unwrap(),
            key: Key::ed_pem(ED_PUBLIC).unwrap(),
        },
    }
}

fn claims(large: bool) -> serde_json::Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut claims = serde_json::json!({
        "iss": "https://issuer.example.com",
        "sub": "248289761001",
        "aud": "api.example.com",
        "jti": "7f3c2a9e51d4",
        "iat": now,
        "exp": now + 3600,
    });
    if large {
        let groups: Vec<String> = (0..70)
            .map(|i| format!("group-{i:03}-engineering"))
            .collect();
        claims["groups"] = groups.into();
        claims["scope"] = "read write admin:users admin:billing".into();
    }
    claims
}

fn validation(alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    v.set_issuer(&["https://issuer.example.com"]);
    v.set_audience(&["api.example.com"]);
    v.leeway = 60;
    v
}

fn verifier(key: Key) -> JwtVerifier<StandardClaims> {
    JwtVerifier::builder()
        .key(key)
        .issuer("https://issuer.example.com")
        .audience("api.example.com")
        .leeway(Duration::from_secs(60))
        // Every iteration verifies in full; `benches/stack.rs` measures
        // the cache.
        .no_cache()
        .build()
        .unwrap()
}

fn stack(
    verifier: JwtVerifier<StandardClaims>,
) -> impl Service<Request<String>, Response = Response<String>, Error = Infallible> + Clone {
    ServiceBuilder::new()
        .layer(BearerLayer::new())
        .layer(JwtLayer::new(verifier))
        .service_fn(handler)
}

fn bench_verify(c: &mut Criterion) {
    tollgate::jwt::crypto_provider();
    for alg in [
        Algorithm::HS256,
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
    ] {
        for (size, large) in [("small", false), ("large", true)] {
            let m = material(alg);
            let token =
                jsonwebtoken::encode(&Header::new(alg), &claims(large), &m.encoding).unwrap();
            let validation = validation(alg);
            let verifier = verifier(m.key.clone());
            let mut service = stack(verifier.clone());
            let header = HeaderValue::try_from(format!("Bearer {token}")).unwrap();
            assert!(
                jsonwebtoken::decode::<StandardClaims>(&token, &m.decoding, &validation).is_ok()
            );
            assert!(verifier.verify(&token).is_ok());
            assert_eq!(ready(service.call(request(&header))).unwrap().status(), 200);

            let mut group = c.benchmark_group(format!("verify/{alg:?}/{size}({}B)", token.len()));
            group.bench_function("raw_decode", |b| {
                b.iter(|| {
                    jsonwebtoken::decode::<StandardClaims>(&token, &m.decoding, &validation)
                        .unwrap()
                })
            });
            group.bench_function("verifier", |b| b.iter(|| verifier.verify(&token).unwrap()));
            let mut bare = tower::service_fn(handler);
            group.bench_function("bare_handler", |b| {
                b.iter(|| ready(bare.call(request(&header))).unwrap())
            });
            group.bench_function("layers", |b| {
                b.iter(|| ready(service.call(request(&header))).unwrap())
            });
            group.finish();
        }
    }
}

fn bench_reject(c: &mut Criterion) {
    let m = material(Algorithm::HS256);
    let mut service = stack(verifier(m.key));
    let mut group = c.benchmark_group("reject");
    let huge = HeaderValue::try_from(format!("Bearer {}", "A".repeat(1 << 20))).unwrap();
    group.bench_function("1MiB_header", |b| {
        b.iter(|| ready(service.call(request(&huge))).unwrap())
    });
    assert_eq!(ready(service.call(request(&huge))).unwrap().status(), 401);
    let garbage = HeaderValue::try_from(format!(
        "Bearer {}.{}.{}",
        "A".repeat(4000),
        "B".repeat(4000),
        "C".repeat(100)
    ))
    .unwrap();
    assert_eq!(
        ready(service.call(request(&garbage))).unwrap().status(),
        401
    );
    group.bench_function("8KiB_garbage_token", |b| {
        b.iter(|| ready(service.call(request(&garbage))).unwrap())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = bench_verify, bench_reject
}
criterion_main!(benches);
