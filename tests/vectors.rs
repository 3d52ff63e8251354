//! Published JOSE test vectors: RFC 7515 Appendix A through the whole
//! verifier with the clock pinned, and the RFC 7520 cookbook at the
//! signature level. The vectors are copied into `tests/vectors/` from the
//! project's shared set (see its README for their sources).

use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde_json::Value;
use tollgate::clock::ManualClock;
use tollgate::error::ErrorKind;
use tollgate::jwt::{JwtVerifier, Key};

const APPENDIX_A: &str = include_str!("vectors/rfc7515_appendix_a.json");
/// One minute before the vectors' `exp` (2011-03-22T18:43:00Z).
const PINNED: i64 = 1_300_819_380 - 60;

#[derive(serde::Deserialize)]
struct JoeClaims {
    iss: String,
    #[serde(rename = "http://example.com/is_root")]
    is_root: bool,
}

fn vector(name: &str) -> (String, String) {
    let all: Value = serde_json::from_str(APPENDIX_A).unwrap();
    let v = &all[name];
    (
        v["token"].as_str().unwrap().to_owned(),
        v["jwk"].to_string(),
    )
}

fn verifier(key: Key, now: i64) -> JwtVerifier<JoeClaims> {
    JwtVerifier::<JoeClaims>::builder()
        .key(key)
        .issuer("joe")
        .leeway(Duration::ZERO)
        .clock(ManualClock::new(now))
        .build()
        .unwrap()
}

#[test]
fn rfc7515_a1_a2_a3_verify_with_the_clock_pinned() {
    for (name, alg) in [
        ("A.1_HS256", Algorithm::HS256),
        ("A.2_RS256", Algorithm::RS256),
        ("A.3_ES256", Algorithm::ES256),
    ] {
        let (token, jwk) = vector(name);
        let key = Key::from_jwk_with_alg(&jwk, alg).unwrap();
        let verified = verifier(key.clone(), PINNED)
            .verify(&token)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(verified.iss, "joe");
        assert!(verified.is_root);
        assert_eq!(verified.expires_at(), 1_300_819_380);
        // The same token once its time has come: expired, not silently fine.
        let late = verifier(key, 1_300_819_380).verify(&token).unwrap_err();
        assert_eq!(late.kind(), ErrorKind::Expired, "{name}");
    }
}

#[test]
fn rfc7515_a3_infers_es256_from_the_curve() {
    let (token, jwk) = vector("A.3_ES256");
    let key = Key::from_jwk(&jwk).unwrap();
    assert_eq!(key.algorithm(), Algorithm::ES256);
    assert!(verifier(key, PINNED).verify(&token).is_ok());
}

#[test]
fn rfc7515_a5_unsecured_is_rejected() {
    let all: Value = serde_json::from_str(APPENDIX_A).unwrap();
    let token = all["A.5_none_must_be_rejected"]["token"].as_str().unwrap();
    for name in ["A.1_HS256", "A.2_RS256", "A.3_ES256"] {
        let (_, jwk) = vector(name);
        let alg = match name {
            "A.1_HS256" => Algorithm::HS256,
            "A.2_RS256" => Algorithm::RS256,
            _ => Algorithm::ES256,
        };
        let err = verifier(Key::from_jwk_with_alg(&jwk, alg).unwrap(), PINNED)
            .verify(token)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MalformedToken, "{name}");
        // With a fake signature glued on it is the algorithm that is refused.
        let err = verifier(Key::from_jwk_with_alg(&jwk, alg).unwrap(), PINNED)
            .verify(&format!("{token}AAAA"))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnsupportedAlgorithm, "{name}");
    }
}

fn cookbook(file: &str) -> Value {
    let path = format!(
        "{}/tests/vectors/rfc7520/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn rfc7520_cookbook_signatures_verify() {
    for (file, alg) in [
        ("4_1.rsa_v15_signature.json", Algorithm::RS256),
        ("4_2.rsa-pss_signature.json", Algorithm::PS384),
        ("4_4.hmac-sha2_integrity_protection.json", Algorithm::HS256),
        ("curve25519_jws.json", Algorithm::EdDSA),
    ] {
        let v = cookbook(file);
        let jwk = v["input"]["key"].to_string();
        let key = Key::from_jwk_with_alg(&jwk, alg).unwrap_or_else(|e| panic!("{file}: {e}"));
        let input = v["signing"]["sig-input"].as_str().unwrap();
        let sig = v["signing"]["sig"].as_str().unwrap();
        assert!(key.verify_signature(input.as_bytes(), sig), "{file}");
        // One flipped byte of input: no longer valid.
        let mut tampered = input.as_bytes().to_vec();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(!key.verify_signature(&tampered, sig), "{file} tampered");
        // The cookbook's own protected header pins the same algorithm.
        assert_eq!(
            v["signing"]["protected"]["alg"].as_str(),
            Some(format!("{alg:?}").as_str())
        );
    }
}

#[test]
fn rfc7520_es512_is_refused_when_the_key_is_made() {
    let v = cookbook("4_3.ecdsa_signature.json");
    let jwk = v["input"]["key"].to_string();
    assert!(Key::from_jwk(&jwk).is_err());
}

#[test]
fn rfc7520_keys_load_from_a_jwks_document() {
    let rsa = cookbook("3_3.rsa_public_key.json");
    let ec = cookbook("3_1.ec_public_key.json");
    let mut rsa_with_alg = rsa.clone();
    rsa_with_alg["alg"] = "RS256".into();
    let jwks = serde_json::json!({ "keys": [rsa_with_alg, ec, {"kty": "RSA", "kid": "no-alg", "n": "AQAB", "e": "AQAB"}] });
    let set = tollgate::jwt::KeySet::from_jwks(&jwks.to_string()).unwrap();
    // The RSA key without alg is skipped, not fatal; EC P-521 is skipped too.
    assert_eq!(set.len(), 1);
    assert_eq!(set.keys().next().unwrap().algorithm(), Algorithm::RS256);
}
