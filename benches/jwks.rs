//! What reading keys from a remote key set's snapshot adds to verification.
//!
//! ```text
//! cargo bench --features remote-jwks --bench jwks
//! ```
//!
//! One HS256 token (the cheapest signature, so the lookup is the largest
//! share), verified in the same run by:
//! - `raw_decode`: `jsonwebtoken::decode` with the same key (the floor);
//! - `static`: a `JwtVerifier` over the same JWKS loaded once as a `KeySet`;
//! - `remote`: a `JwtVerifier` over a `RemoteJwks` fetched from a server on
//!   127.0.0.1 (an `arc-swap` load of the snapshot, then the `kid` lookup);
//! - `remote_two_issuers`: the same remote set as one of two trusted
//!   issuers, so `iss` is read first to pick it.
//!
//! The snapshot's cost is `remote - static`.

// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::json;
use tollgate::jwt::{Issuer, JwtVerifier, Key, KeySet, RemoteJwks};
use tollgate::token::StandardClaims;

const ISSUER: &str = "https://issuer.example.com";

fn secret(kid: &str) -> Vec<u8> {
    format!("HS256 secret of key {kid:>24}").into_bytes()
}

fn bench(c: &mut Criterion) {
    tollgate::jwt::crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let kids = ["k0", "k1", "k2", "k3"];
    let document = json!({
        "keys": kids.iter().map(|kid| json!({
            "kty": "oct", "alg": "HS256", "kid": kid,
            "k": URL_SAFE_NO_PAD.encode(secret(kid)),
        })).collect::<Vec<_>>()
    })
    .to_string();
    let url = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let served = document.clone();
        let app = Router::new().route("/jwks.json", get(move || async move { served }));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}/jwks.json")
    });
    let remote = runtime
        .block_on(RemoteJwks::builder(url).build_and_wait(Duration::from_secs(10)))
        .unwrap();

    let static_verifier = JwtVerifier::<StandardClaims>::builder()
        .key_set(KeySet::from_jwks(&document).unwrap())
        .issuer(ISSUER)
        .audience("api")
        .build()
        .unwrap();
    let remote_verifier = JwtVerifier::<StandardClaims>::builder()
        .remote_jwks(remote.clone())
        .issuer(ISSUER)
        .audience("api")
        .build()
        .unwrap();
    let other = Key::hmac(Algorithm::HS256, &secret("other"))
        .unwrap()
        .with_kid("other");
    let two_issuers = JwtVerifier::<StandardClaims>::builder()
        .trust(Issuer::new("https://other.example.com").key(other))
        .trust(Issuer::new(ISSUER).remote(remote))
        .audience("api")
        .build()
        .unwrap();

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({
        "iss": ISSUER, "aud": "api", "sub": "248289761001",
        "iat": now, "exp": now + 3600, "jti": "f2b7a5e0",
    });
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k2".into());
    let token = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(&secret("k2")).unwrap(),
    )
    .unwrap();
    let decoding = DecodingKey::from_secret(&secret("k2")).unwrap();
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&["api"]);

    assert!(static_verifier.verify(&token).is_ok());
    assert!(remote_verifier.verify(&token).is_ok());
    assert!(two_issuers.verify(&token).is_ok());

    let mut group = c.benchmark_group("jwks/HS256");
    group.bench_function("raw_decode", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation).unwrap()
        })
    });
    group.bench_function("static", |b| {
        b.iter(|| static_verifier.verify(&token).unwrap())
    });
    group.bench_function("remote", |b| {
        b.iter(|| remote_verifier.verify(&token).unwrap())
    });
    group.bench_function("remote_two_issuers", |b| {
        b.iter(|| two_issuers.verify(&token).unwrap())
    });
    group.finish();
    drop(runtime);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(200)
        .measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
