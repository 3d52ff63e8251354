//! Bad configurations are refused with a clear `Err` when keys and
//! verifiers are built; good ones in every supported encoding load.

mod common;

use std::time::Duration;

use common::*;
use jsonwebtoken::Algorithm;
use serde_json::json;
use tollgate::jwt::{JwtVerifier, Key, KeySet};
use tollgate::token::StandardClaims;

fn err(result: Result<Key, tollgate::error::ConfigError>) -> String {
    result.expect_err("must be refused").to_string()
}

#[test]
fn hmac_secrets_shorter_than_the_hash_are_refused() {
    for (alg, min) in [
        (Algorithm::HS256, 32),
        (Algorithm::HS384, 48),
        (Algorithm::HS512, 64),
    ] {
        assert!(err(Key::hmac(alg, &vec![1; min - 1])).contains(&format!("at least {min}")));
        assert!(Key::hmac(alg, &vec![1; min]).is_ok());
    }
    let short_jwk = json!({"kty": "oct", "alg": "HS256", "k": b64(&[1; 16])}).to_string();
    assert!(err(Key::from_jwk(&short_jwk)).contains("at least 32"));
}

#[test]
fn keys_must_match_their_algorithm_family_and_curve() {
    assert!(Key::hmac(Algorithm::RS256, HMAC_SECRET).is_err());
    assert!(Key::rsa_pem(Algorithm::ES256, RSA_PUBLIC).is_err());
    assert!(Key::rsa_pem(Algorithm::RS256, EC_PUBLIC).is_err());
    assert!(Key::ec_pem(Algorithm::RS256, EC_PUBLIC).is_err());
    assert!(Key::ec_pem(Algorithm::ES256, RSA_PUBLIC).is_err());
    assert!(Key::ed_pem(EC_PUBLIC).is_err());
    let p384 = include_bytes!("keys/ec384_public.pem");
    assert!(err(Key::ec_pem(Algorithm::ES256, p384)).contains("curve"));
    assert!(Key::ec_pem(Algorithm::ES384, p384).is_ok());
    assert!(err(Key::ec_pem(Algorithm::ES384, EC_PUBLIC)).contains("curve"));
}

#[test]
fn weak_or_garbage_rsa_keys_are_refused() {
    let weak = include_bytes!("keys/rsa1024_public.pem");
    assert!(err(Key::rsa_pem(Algorithm::RS256, weak)).contains("1024 bits"));
    assert!(Key::rsa_der(Algorithm::RS256, b"not a key at all").is_err());
    assert!(
        Key::rsa_pem(
            Algorithm::RS256,
            b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
        )
        .is_err()
    );
}

#[test]
fn every_encoding_loads_and_verifies() {
    let keys = [
        Key::rsa_pem(Algorithm::RS256, RSA_PUBLIC).unwrap(),
        Key::rsa_der(Algorithm::RS256, include_bytes!("keys/rsa_public.spki.der")).unwrap(),
        Key::rsa_der(
            Algorithm::RS256,
            include_bytes!("keys/rsa_public.pkcs1.der"),
        )
        .unwrap(),
    ];
    let t = token(Algorithm::RS256, &claims(json!({})));
    for key in keys {
        let v = JwtVerifier::<StandardClaims>::builder()
            .key(key)
            .clock(tollgate::clock::ManualClock::new(NOW))
            .build()
            .unwrap();
        assert_eq!(v.verify(&t).unwrap().subject(), Some("alice"));
    }
    for (key, alg) in [
        (
            Key::ec_der(Algorithm::ES256, include_bytes!("keys/ec_public.der")).unwrap(),
            Algorithm::ES256,
        ),
        (
            Key::ed_der(include_bytes!("keys/ed_public.der")).unwrap(),
            Algorithm::EdDSA,
        ),
    ] {
        let v = JwtVerifier::<StandardClaims>::builder()
            .key(key)
            .clock(tollgate::clock::ManualClock::new(NOW))
            .build()
            .unwrap();
        assert!(v.verify(&token(alg, &claims(json!({})))).is_ok(), "{alg:?}");
    }
}

#[test]
fn jwk_hygiene() {
    let ec = |extra: serde_json::Value| {
        let mut jwk = json!({
            "kty": "EC", "crv": "P-256",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
        });
        for (k, v) in extra.as_object().unwrap() {
            jwk[k] = v.clone();
        }
        jwk.to_string()
    };
    assert!(err(Key::from_jwk(&ec(json!({"use": "enc"})))).contains("encryption"));
    assert!(err(Key::from_jwk(&ec(json!({"key_ops": ["encrypt"]})))).contains("verify"));
    assert!(Key::from_jwk(&ec(json!({"key_ops": ["verify"]}))).is_ok());
    assert!(
        err(Key::from_jwk(&ec(json!({"alg": "RSA-OAEP"})))).contains("not a signature algorithm")
    );
    assert!(Key::from_jwk_with_alg(&ec(json!({"alg": "ES256"})), Algorithm::ES384).is_err());
    assert!(Key::from_jwk_with_alg(&ec(json!({})), Algorithm::RS256).is_err());
    let rsa_without_alg = json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"}).to_string();
    assert!(err(Key::from_jwk(&rsa_without_alg)).contains("need an `alg`"));
    assert_eq!(
        Key::from_jwk(&ec(json!({"kid": "k"}))).unwrap().kid(),
        Some("k")
    );
}

#[test]
fn jwks_documents() {
    let good = |kid: &str| json!({"kty": "oct", "alg": "HS256", "kid": kid, "k": b64(HMAC_SECRET)});
    let doc = json!({"keys": [
        good("a"),
        {"kty": "oct", "alg": "HS256", "kid": "enc", "use": "enc", "k": b64(HMAC_SECRET)},
        {"kty": "unknown", "kid": "x"},
        {"kty": "EC", "crv": "P-521", "kid": "p521", "x": "AA", "y": "AA"},
        good("b"),
    ]});
    let set = KeySet::from_jwks(&doc.to_string()).unwrap();
    assert_eq!(set.len(), 2);
    assert!(set.find(Some("a")).is_some());
    assert!(set.find(Some("enc")).is_none());
    assert!(
        set.find(None).is_none(),
        "no kid with two keys is ambiguous"
    );

    let dup = json!({"keys": [good("a"), good("a")]}).to_string();
    assert!(
        KeySet::from_jwks(&dup)
            .unwrap_err()
            .to_string()
            .contains("duplicate kid")
    );
    let unnamed = json!({"keys": [
        {"kty": "oct", "alg": "HS256", "k": b64(HMAC_SECRET)},
        {"kty": "oct", "alg": "HS256", "k": b64(HMAC_SECRET)},
    ]})
    .to_string();
    assert!(KeySet::from_jwks(&unnamed).is_err());
    assert!(KeySet::from_jwks(r#"{"keys": []}"#).is_err());
    assert!(KeySet::from_jwks(r#"{"keys": [{"kty": "unknown"}]}"#).is_err());
    assert!(KeySet::from_jwks("[]").is_err());
    assert!(KeySet::from_jwks_file("/nonexistent/jwks.json").is_err());

    let single = json!({"keys": [good("only")]}).to_string();
    let set = KeySet::from_jwks(&single).unwrap();
    assert!(
        set.find(None).is_some(),
        "a lone key serves tokens without kid"
    );
    assert!(set.find(Some("other")).is_none());
}

#[test]
fn verifier_settings_are_checked() {
    let key = || verification_key(Algorithm::HS256);
    let build = |b: tollgate::jwt::JwtVerifierBuilder<StandardClaims>| {
        b.build().map(|_| ()).unwrap_err().to_string()
    };
    assert!(build(JwtVerifier::builder()).contains("no verification key"));
    assert!(
        build(
            JwtVerifier::builder()
                .key(key())
                .leeway(Duration::from_secs(301))
        )
        .contains("leeway")
    );
    assert!(
        build(
            JwtVerifier::builder()
                .key(key())
                .max_lifetime(Duration::ZERO)
        )
        .contains("zero")
    );
    assert!(build(JwtVerifier::builder().key(key()).issuer("")).contains("empty"));
    assert!(build(JwtVerifier::builder().key(key()).typ("")).contains("typ"));
    assert!(build(JwtVerifier::builder().key(key()).require_claim("aud")).contains("audience()"));
    assert!(
        build(
            JwtVerifier::builder()
                .key(key().with_kid("a"))
                .key(key().with_kid("a"))
        )
        .contains("duplicate kid")
    );
    assert!(build(JwtVerifier::builder().key(key()).key(key().with_kid("b"))).contains("only key"));
    let many = (0..65).fold(JwtVerifier::builder().key(key()), |b, i| {
        b.require_claim(format!("c{i}"))
    });
    assert!(build(many).contains("64"));
}

#[test]
fn debug_output_never_shows_key_material() {
    let secret_text = "this-secret-must-not-leak-anywhere-0123456789";
    let key = Key::hmac(Algorithm::HS256, secret_text.as_bytes())
        .unwrap()
        .with_kid("k1");
    let verifier = JwtVerifier::<StandardClaims>::builder()
        .key(key.clone())
        .build()
        .unwrap();
    for text in [
        format!("{key:?}"),
        format!("{verifier:?}"),
        format!(
            "{:?}",
            [key.clone()]
                .into_iter()
                .collect::<Result<KeySet, _>>()
                .unwrap()
        ),
    ] {
        assert!(!text.contains(secret_text), "{text}");
        assert!(!text.contains(&b64(secret_text.as_bytes())), "{text}");
        assert!(text.contains("k1"), "{text}");
    }
}
