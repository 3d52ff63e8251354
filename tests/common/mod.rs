//! Shared test helpers: keys, raw token crafting, and a bearer → jwt stack.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{Request, Response, StatusCode};
use jsonwebtoken::{Algorithm, EncodingKey};
use tollgate::bearer::BearerLayer;
use tollgate::clock::ManualClock;
use tollgate::jwt::{JwtLayer, JwtVerifier, JwtVerifierBuilder, Key};
use tollgate::token::{StandardClaims, Verified};
use tower::{ServiceBuilder, ServiceExt};

pub const NOW: i64 = 1_700_000_000;
pub const HMAC_SECRET: &[u8] = b"tollgate test secret, 32+ bytes long!";
pub const RSA_PRIVATE: &[u8] = include_bytes!("../keys/rsa_private.pem");
pub const RSA_PUBLIC: &[u8] = include_bytes!("../keys/rsa_public.pem");
pub const EC_PRIVATE: &[u8] = include_bytes!("../keys/ec_private.pem");
pub const EC_PUBLIC: &[u8] = include_bytes!("../keys/ec_public.pem");
pub const EC2_PRIVATE: &[u8] = include_bytes!("../keys/ec2_private.pem");
pub const ED_PRIVATE: &[u8] = include_bytes!("../keys/ed_private.pem");
pub const ED_PUBLIC: &[u8] = include_bytes!("../keys/ed_public.pem");

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn encoding_key(alg: Algorithm) -> EncodingKey {
    tollgate::jwt::crypto_provider();
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            EncodingKey::from_secret(HMAC_SECRET).unwrap()
        }
        Algorithm::ES256 => EncodingKey::from_ec_pem(EC_PRIVATE).unwrap(),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(ED_PRIVATE).unwrap(),
        _ => EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap(),
    }
}

pub fn verification_key(alg: Algorithm) -> Key {
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            Key::hmac(alg, HMAC_SECRET).unwrap()
        }
        Algorithm::ES256 => Key::ec_pem(alg, EC_PUBLIC).unwrap(),
        Algorithm::EdDSA => Key::ed_pem(ED_PUBLIC).unwrap(),
        _ => Key::rsa_pem(alg, RSA_PUBLIC).unwrap(),
    }
}

/// A compact JWS over exactly these header and payload texts.
pub fn sign_raw(header: &str, payload: &str, key: &EncodingKey, alg: Algorithm) -> String {
    let message = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).unwrap();
    format!("{message}.{signature}")
}

/// HMAC-SHA256 over the texts with an arbitrary secret (key confusion).
pub fn hs256_with_secret(header: &str, payload: &str, secret: &[u8]) -> String {
    let message = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, message.as_bytes());
    format!("{message}.{}", b64(tag.as_ref()))
}

/// The token with one character in the middle of its signature changed.
pub fn tamper(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let at = token.rfind('.').unwrap() + 8;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

pub fn claims(extra: serde_json::Value) -> String {
    let mut base = serde_json::json!({
        "iss": "https://issuer.test",
        "aud": "api",
        "sub": "alice",
        "jti": "t-1",
        "iat": NOW - 10,
        "exp": NOW + 600,
    });
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            base.as_object_mut().unwrap().remove(k);
        } else {
            base[k] = v.clone();
        }
    }
    base.to_string()
}

pub fn token(alg: Algorithm, payload: &str) -> String {
    sign_raw(
        &format!(r#"{{"alg":"{alg:?}","typ":"JWT"}}"#),
        payload,
        &encoding_key(alg),
        alg,
    )
}

pub fn builder(alg: Algorithm) -> JwtVerifierBuilder<StandardClaims> {
    JwtVerifier::<StandardClaims>::builder()
        .key(verification_key(alg))
        .issuer("https://issuer.test")
        .audience("api")
        .clock(ManualClock::new(NOW))
}

/// bearer → jwt → a handler that answers with the subject.
pub async fn call_with(
    verifier: JwtVerifier<StandardClaims>,
    request: Request<String>,
) -> Response<String> {
    ServiceBuilder::new()
        .layer(BearerLayer::new())
        .layer(JwtLayer::new(verifier))
        .service_fn(|req: Request<String>| async move {
            let v = req.extensions().get::<Verified<StandardClaims>>().unwrap();
            Ok::<_, Infallible>(Response::new(v.subject().unwrap_or("").to_owned()))
        })
        .oneshot(request)
        .await
        .unwrap()
}

pub fn bearer_request(token: &str) -> Request<String> {
    Request::builder()
        .uri("/")
        .header("authorization", format!("Bearer {token}"))
        .body(String::new())
        .unwrap()
}

/// The `WWW-Authenticate` header, or "".
pub fn challenge<B>(response: &Response<B>) -> String {
    response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Status and `WWW-Authenticate` of the answer to `token`.
pub async fn outcome(verifier: &JwtVerifier<StandardClaims>, token: &str) -> (StatusCode, String) {
    let response = call_with(verifier.clone(), bearer_request(token)).await;
    (response.status(), challenge(&response))
}

pub fn error_kind<B>(response: &Response<B>) -> Option<tollgate::error::ErrorKind> {
    response
        .extensions()
        .get::<tollgate::error::Error>()
        .map(|e| e.kind())
}
