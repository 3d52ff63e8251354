//! A catalogue of hostile and invalid tokens, each with the exact answer it
//! must get through `BearerLayer` → `JwtLayer`.

mod common;

use std::time::Duration;

use common::*;
use http::StatusCode;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;
use tollgate::error::ErrorKind;
use tollgate::jwt::{JwtVerifier, Key};
use tollgate::token::StandardClaims;

/// Asserts the status, the RFC 6750 code and the exact kind.
async fn expect(verifier: &JwtVerifier<StandardClaims>, token: &str, kind: ErrorKind, case: &str) {
    let response = call_with(verifier.clone(), bearer_request(token)).await;
    let challenge = challenge(&response);
    assert_eq!(error_kind(&response), Some(kind), "{case}: kind");
    assert_eq!(response.status(), kind.status(), "{case}: status");
    match kind.code() {
        Some(code) => assert!(
            challenge.contains(&format!("error=\"{}\"", code.as_str())),
            "{case}: challenge {challenge}"
        ),
        None => assert_eq!(challenge, "Bearer", "{case}"),
    }
    assert!(!challenge.contains(token), "{case}: token echoed");
}

async fn expect_ok(verifier: &JwtVerifier<StandardClaims>, token: &str, case: &str) {
    let (status, challenge) = outcome(verifier, token).await;
    assert_eq!(status, StatusCode::OK, "{case}: {challenge}");
}

fn hs256(header: &str, payload: &str) -> String {
    sign_raw(
        header,
        payload,
        &encoding_key(Algorithm::HS256),
        Algorithm::HS256,
    )
}

const HS: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

#[tokio::test]
async fn valid_tokens_pass_for_every_algorithm() {
    for alg in [
        Algorithm::HS256,
        Algorithm::HS384,
        Algorithm::HS512,
        Algorithm::RS256,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
    ] {
        let key = match alg {
            Algorithm::HS384 | Algorithm::HS512 => {
                let secret = [7u8; 64];
                let t = sign_raw(
                    &format!(r#"{{"alg":"{alg:?}"}}"#),
                    &claims(json!({})),
                    &EncodingKey::from_secret(&secret).unwrap(),
                    alg,
                );
                let v = JwtVerifier::<StandardClaims>::builder()
                    .key(Key::hmac(alg, &secret).unwrap())
                    .clock(tollgate::clock::ManualClock::new(NOW))
                    .build()
                    .unwrap();
                expect_ok(&v, &t, &format!("{alg:?}")).await;
                continue;
            }
            _ => alg,
        };
        let verifier = builder(key).build().unwrap();
        expect_ok(
            &verifier,
            &token(alg, &claims(json!({}))),
            &format!("{alg:?}"),
        )
        .await;
    }
}

#[tokio::test]
async fn alg_none_in_every_casing() {
    let verifier = builder(Algorithm::HS256).build().unwrap();
    let payload = b64(claims(json!({})).as_bytes());
    for none in ["none", "None", "NONE", "nOnE"] {
        let header = b64(format!(r#"{{"alg":"{none}"}}"#).as_bytes());
        // Unsecured JWS has an empty signature: not even a compact JWS here.
        expect(
            &verifier,
            &format!("{header}.{payload}."),
            ErrorKind::MalformedToken,
            none,
        )
        .await;
        // With a signature glued on, the algorithm itself is refused.
        let t = format!("{header}.{payload}.AAAA");
        expect(&verifier, &t, ErrorKind::UnsupportedAlgorithm, none).await;
    }
    for weird in [
        r#"{"alg":""}"#,
        r#"{"alg":"ES512"}"#,
        r#"{"alg":"HS256 "}"#,
        r#"{"typ":"JWT"}"#,
    ] {
        let t = format!("{}.{payload}.AAAA", b64(weird.as_bytes()));
        let kind = if weird.contains("alg") {
            ErrorKind::UnsupportedAlgorithm
        } else {
            ErrorKind::MalformedToken
        };
        expect(&verifier, &t, kind, weird).await;
    }
}

#[tokio::test]
async fn hs256_signed_with_the_rsa_public_key_is_refused() {
    let verifier = builder(Algorithm::RS256).build().unwrap();
    let t = hs256_with_secret(HS, &claims(json!({})), RSA_PUBLIC);
    expect(&verifier, &t, ErrorKind::AlgorithmMismatch, "key confusion").await;
    // An HMAC key cannot be made from PEM text pretending to be RS256 either.
    assert!(Key::hmac(Algorithm::RS256, RSA_PUBLIC).is_err());
}

#[tokio::test]
async fn algorithm_swapped_within_a_family() {
    let rs = builder(Algorithm::RS256).build().unwrap();
    for alg in [Algorithm::RS384, Algorithm::RS512, Algorithm::PS256] {
        let t = token(alg, &claims(json!({})));
        expect(&rs, &t, ErrorKind::AlgorithmMismatch, &format!("{alg:?}")).await;
    }
    let hs = builder(Algorithm::HS256).build().unwrap();
    let t = sign_raw(
        r#"{"alg":"HS384"}"#,
        &claims(json!({})),
        &encoding_key(Algorithm::HS384),
        Algorithm::HS384,
    );
    expect(&hs, &t, ErrorKind::AlgorithmMismatch, "HS384 on HS256").await;
}

#[tokio::test]
async fn unknown_and_injected_kids() {
    let verifier = JwtVerifier::<StandardClaims>::builder()
        .key(verification_key(Algorithm::HS256).with_kid("k1"))
        .key(
            Key::hmac(Algorithm::HS256, &[9u8; 32])
                .unwrap()
                .with_kid("k2"),
        )
        .clock(tollgate::clock::ManualClock::new(NOW))
        .build()
        .unwrap();
    let payload = claims(json!({}));
    expect_ok(
        &verifier,
        &hs256(r#"{"alg":"HS256","kid":"k1"}"#, &payload),
        "k1",
    )
    .await;
    for kid in [
        r#""nope""#,
        r#""../../../../dev/null""#,
        r#""k1' OR '1'='1""#,
        r#""k1\u0000""#,
        r#""K1""#,
        r#""""#,
    ] {
        let t = hs256(&format!(r#"{{"alg":"HS256","kid":{kid}}}"#), &payload);
        expect(&verifier, &t, ErrorKind::UnknownKey, kid).await;
    }
    // Right kid, wrong key.
    let t = hs256(r#"{"alg":"HS256","kid":"k2"}"#, &payload);
    expect(
        &verifier,
        &t,
        ErrorKind::InvalidSignature,
        "k2 with k1's secret",
    )
    .await;
    // No kid with two keys: ambiguous.
    expect(
        &verifier,
        &hs256(HS, &payload),
        ErrorKind::UnknownKey,
        "no kid",
    )
    .await;
    // kid of the wrong JSON type.
    let t = hs256(r#"{"alg":"HS256","kid":1}"#, &payload);
    expect(&verifier, &t, ErrorKind::MalformedToken, "numeric kid").await;
}

#[tokio::test]
async fn embedded_jwk_jku_and_x5u_are_never_used() {
    let verifier = builder(Algorithm::ES256).build().unwrap();
    let attacker = EncodingKey::from_ec_pem(EC2_PRIVATE).unwrap();
    let payload = claims(json!({}));
    for header in [
        r#"{"alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}"#,
        r#"{"alg":"ES256","jku":"http://127.0.0.1:9/jwks.json"}"#,
        r#"{"alg":"ES256","x5u":"http://127.0.0.1:9/cert.pem"}"#,
    ] {
        let t = sign_raw(header, &payload, &attacker, Algorithm::ES256);
        expect(&verifier, &t, ErrorKind::InvalidSignature, header).await;
    }
}

#[tokio::test]
async fn ecdsa_all_zero_signature() {
    let verifier = builder(Algorithm::ES256).build().unwrap();
    let message = format!(
        "{}.{}",
        b64(br#"{"alg":"ES256"}"#),
        b64(claims(json!({})).as_bytes())
    );
    for len in [64, 1, 128] {
        let t = format!("{message}.{}", b64(&vec![0u8; len]));
        expect(
            &verifier,
            &t,
            ErrorKind::InvalidSignature,
            &format!("zeros {len}"),
        )
        .await;
    }
}

#[tokio::test]
async fn wrong_segment_counts_padding_and_alphabet() {
    let verifier = builder(Algorithm::HS256).build().unwrap();
    let good = token(Algorithm::HS256, &claims(json!({})));
    let parts: Vec<&str> = good.split('.').collect();
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    let malformed = [
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}.{s}"),
        h.to_string(),
        "..".to_owned(),
        format!(".{p}.{s}"),
        format!("{h}..{s}"),
        format!("{h}.{p}.{s}=="),
        format!("{h}.{p}+.{s}"),
        format!("{h}.{p}.{s}/"),
        format!("{h}~.{p}.{s}"),
        // Not base64url of JSON.
        format!("{}.{p}.{s}", b64(b"not json")),
    ];
    for t in &malformed {
        expect(&verifier, t, ErrorKind::MalformedToken, t).await;
    }
    // The signature covers the payload text as sent: a character added to it
    // fails the signature before the payload is ever decoded.
    let t = format!("{h}.{p}A.{s}");
    expect(&verifier, &t, ErrorKind::InvalidSignature, "payload + A").await;
    // Characters that are not even a b64token never reach the JWT layer.
    for t in [
        format!("{h}.{p}=.{s}"),
        format!("{h}.{p}.{s}!"),
        format!("{h}*.{p}.{s}"),
    ] {
        expect(&verifier, &t, ErrorKind::MalformedRequest, &t).await;
    }
}

#[tokio::test]
async fn tampered_payload_and_signature() {
    let verifier = builder(Algorithm::RS256).build().unwrap();
    let good = token(Algorithm::RS256, &claims(json!({})));
    let parts: Vec<&str> = good.split('.').collect();
    let forged = b64(claims(json!({"sub": "admin"})).as_bytes());
    let t = format!("{}.{forged}.{}", parts[0], parts[2]);
    expect(
        &verifier,
        &t,
        ErrorKind::InvalidSignature,
        "swapped payload",
    )
    .await;
    let short = &parts[2][..parts[2].len() - 4];
    let t = format!("{}.{}.{short}", parts[0], parts[1]);
    expect(
        &verifier,
        &t,
        ErrorKind::InvalidSignature,
        "truncated signature",
    )
    .await;
}

#[tokio::test]
async fn crit_headers() {
    let verifier = builder(Algorithm::HS256).build().unwrap();
    let payload = claims(json!({}));
    for header in [
        r#"{"alg":"HS256","crit":["exp"]}"#,
        r#"{"alg":"HS256","crit":[]}"#,
        r#"{"alg":"HS256","crit":["b64"],"b64":false}"#,
    ] {
        expect(
            &verifier,
            &hs256(header, &payload),
            ErrorKind::UnsupportedCritical,
            header,
        )
        .await;
    }
    let t = hs256(r#"{"alg":"HS256","crit":"exp"}"#, &payload);
    expect(
        &verifier,
        &t,
        ErrorKind::MalformedToken,
        "crit not an array",
    )
    .await;
    let understood = builder(Algorithm::HS256)
        .understood_critical("tenant-ext")
        .build()
        .unwrap();
    let t = hs256(
        r#"{"alg":"HS256","crit":["tenant-ext"],"tenant-ext":1}"#,
        &payload,
    );
    expect_ok(&understood, &t, "understood crit").await;
    let t = hs256(r#"{"alg":"HS256","crit":["tenant-ext","other"]}"#, &payload);
    expect(
        &understood,
        &t,
        ErrorKind::UnsupportedCritical,
        "one unknown",
    )
    .await;
}

#[tokio::test]
async fn expiry() {
    let verifier = builder(Algorithm::HS256).build().unwrap();
    let strict = builder(Algorithm::HS256)
        .leeway(Duration::ZERO)
        .build()
        .unwrap();
    let t = |extra| token(Algorithm::HS256, &claims(extra));
    expect(
        &verifier,
        &t(json!({"exp": NOW - 61})),
        ErrorKind::Expired,
        "past leeway",
    )
    .await;
    expect_ok(&verifier, &t(json!({"exp": NOW - 59})), "within leeway").await;
    expect(
        &strict,
        &t(json!({"exp": NOW})),
        ErrorKind::Expired,
        "exp == now",
    )
    .await;
    expect_ok(&strict, &t(json!({"exp": NOW + 1})), "exp == now + 1").await;
    expect(
        &verifier,
        &t(json!({"exp": NOW.to_string()})),
        ErrorKind::InvalidClaims,
        "exp string",
    )
    .await;
    expect(
        &verifier,
        &t(json!({"exp": true})),
        ErrorKind::InvalidClaims,
        "exp bool",
    )
    .await;
    expect(
        &verifier,
        &t(json!({"exp": 1e300})),
        ErrorKind::InvalidClaims,
        "exp huge",
    )
    .await;
    expect(
        &verifier,
        &t(json!({"exp": null})),
        ErrorKind::MissingClaim,
        "exp missing",
    )
    .await;
    expect_ok(
        &strict,
        &t(json!({"exp": (NOW as f64) + 1.5})),
        "fractional exp",
    )
    .await;
}

#[tokio::test]
async fn not_before_and_issued_at_in_the_future() {
    let verifier = builder(Algorithm::HS256).build().unwrap();
    let t = |extra| token(Algorithm::HS256, &claims(extra));
    expect(
        &verifier,
        &t(json!({"nbf": NOW + 61})),
        ErrorKind::NotYetValid,
        "nbf",
    )
    .await;
    expect_ok(&verifier, &t(json!({"nbf": NOW + 59})), "nbf within leeway").await;
    expect(
        &verifier,
        &t(json!({"iat": NOW + 61})),
        ErrorKind::IssuedInFuture,
        "iat",
    )
    .await;
    expect(
        &verifier,
        &t(json!({"nbf": "soon"})),
        ErrorKind::InvalidClaims,
        "nbf string",
    )
    .await;
}

#[tokio::test]
async fn maximum_lifetime() {
    let verifier = builder(Algorithm::HS256)
        .max_lifetime(Duration::from_secs(3600))
        .build()
        .unwrap();
    let t = |extra| token(Algorithm::HS256, &claims(extra));
    expect_ok(
        &verifier,
        &t(json!({"iat": NOW, "exp": NOW + 3600})),
        "exactly max",
    )
    .await;
    let long = t(json!({"iat": NOW - 10, "exp": NOW + 3600}));
    expect(&verifier, &long, ErrorKind::LifetimeTooLong, "too long").await;
    expect(
        &verifier,
        &t(json!({"iat": null})),
        ErrorKind::MissingClaim,
        "no iat",
    )
    .await;
}

#[tokio::test]
async fn audience_mismatches() {
    let verifier = builder(Algorithm::HS256).build().unwrap();
    let t = |aud| token(Algorithm::HS256, &claims(json!({ "aud": aud })));
    expect_ok(&verifier, &t(json!(["other", "api"])), "array containing").await;
    expect(
        &verifier,
        &t(json!("other")),
        ErrorKind::InvalidAudience,
        "other",
    )
    .await;
    expect(
        &verifier,
        &t(json!("API")),
        ErrorKind::InvalidAudience,
        "case",
    )
    .await;
    expect(
        &verifier,
        &t(json!(["x", "y"])),
        ErrorKind::InvalidAudience,
        "array without",
    )
    .await;
    expect(
        &verifier,
        &t(json!([])),
        ErrorKind::InvalidAudience,
        "empty array",
    )
    .await;
    expect(&verifier, &t(json!(5)), ErrorKind::InvalidClaims, "number").await;
    expect(
        &verifier,
        &t(json!(["api", 5])),
        ErrorKind::InvalidClaims,
        "array with number",
    )
    .await;
    expect(
        &verifier,
        &t(json!({"api": true})),
        ErrorKind::InvalidClaims,
        "object",
    )
    .await;
    let none = token(Algorithm::HS256, &claims(json!({ "aud": null })));
    expect(&verifier, &none, ErrorKind::MissingClaim, "missing").await;
}

#[tokio::test]
async fn issuer_mismatches() {
    let verifier = builder(Algorithm::HS256).build().unwrap();
    let t = |iss| token(Algorithm::HS256, &claims(json!({ "iss": iss })));
    expect(
        &verifier,
        &t(json!("https://evil.test")),
        ErrorKind::InvalidIssuer,
        "other",
    )
    .await;
    expect(
        &verifier,
        &t(json!("https://issuer.test/")),
        ErrorKind::InvalidIssuer,
        "slash",
    )
    .await;
    expect(&verifier, &t(json!(5)), ErrorKind::InvalidClaims, "number").await;
    expect(
        &verifier,
        &t(json!(["https://issuer.test"])),
        ErrorKind::InvalidClaims,
        "array",
    )
    .await;
    let none = token(Algorithm::HS256, &claims(json!({ "iss": null })));
    expect(&verifier, &none, ErrorKind::MissingClaim, "missing").await;
    let two = builder(Algorithm::HS256)
        .issuer("https://second.test")
        .build()
        .unwrap();
    expect_ok(&two, &t(json!("https://second.test")), "second issuer").await;
}

#[tokio::test]
async fn duplicate_json_keys() {
    let verifier = builder(Algorithm::HS256).build().unwrap();
    let base = claims(json!({}));
    let body = &base[1..];
    for dup in [
        format!(r#"{{"exp":{},{body}"#, NOW - 1000),
        format!(r#"{{"sub":"mallory",{body}"#),
        format!(r#"{{"\u0069ss":"https://evil.test",{body}"#),
        format!(r#"{{"aud":"x",{body}"#),
    ] {
        expect(&verifier, &hs256(HS, &dup), ErrorKind::InvalidClaims, &dup).await;
    }
    let t = hs256(r#"{"alg":"none","alg":"HS256"}"#, &base);
    expect(&verifier, &t, ErrorKind::MalformedToken, "duplicate alg").await;
}

#[tokio::test]
async fn payloads_that_are_not_claims() {
    let verifier = builder(Algorithm::HS256).build().unwrap();
    for payload in ["[]", "\"exp\"", "null", "{", "not json", "{}garbage"] {
        expect(
            &verifier,
            &hs256(HS, payload),
            ErrorKind::InvalidClaims,
            payload,
        )
        .await;
    }
    let t = hs256(HS, "{}");
    expect(&verifier, &t, ErrorKind::MissingClaim, "empty object").await;
}

#[tokio::test]
async fn oversized_tokens() {
    let verifier = builder(Algorithm::HS256).build().unwrap();
    let big = token(
        Algorithm::HS256,
        &claims(json!({ "pad": "x".repeat(9 * 1024) })),
    );
    expect(&verifier, &big, ErrorKind::TokenTooLarge, "9 KiB").await;
    let megabyte = "A".repeat(1 << 20);
    expect(&verifier, &megabyte, ErrorKind::TokenTooLarge, "1 MiB").await;
    // The verifier caps on its own too, when used without BearerLayer.
    let small = builder(Algorithm::HS256).max_token_len(64).build().unwrap();
    let t = token(Algorithm::HS256, &claims(json!({})));
    assert_eq!(
        small.verify(&t).unwrap_err().kind(),
        ErrorKind::TokenTooLarge
    );
}

#[tokio::test]
async fn type_checks() {
    let verifier = builder(Algorithm::HS256).typ("at+jwt").build().unwrap();
    let payload = claims(json!({}));
    for typ in ["at+jwt", "AT+JWT", "application/at+jwt"] {
        let t = hs256(&format!(r#"{{"alg":"HS256","typ":"{typ}"}}"#), &payload);
        expect_ok(&verifier, &t, typ).await;
    }
    for header in [
        r#"{"alg":"HS256","typ":"JWT"}"#,
        r#"{"alg":"HS256"}"#,
        r#"{"alg":"HS256","typ":"text/at+jwt"}"#,
    ] {
        expect(
            &verifier,
            &hs256(header, &payload),
            ErrorKind::InvalidType,
            header,
        )
        .await;
    }
}

#[tokio::test]
async fn required_claims() {
    let verifier = builder(Algorithm::HS256)
        .require_claim("tenant")
        .require_claim("jti")
        .build()
        .unwrap();
    let t = |extra| token(Algorithm::HS256, &claims(extra));
    expect_ok(&verifier, &t(json!({"tenant": "acme"})), "present").await;
    expect(&verifier, &t(json!({})), ErrorKind::MissingClaim, "tenant").await;
    expect(
        &verifier,
        &t(json!({"tenant": "acme", "jti": null})),
        ErrorKind::MissingClaim,
        "jti",
    )
    .await;
    let err = verifier.verify(&t(json!({}))).unwrap_err();
    assert_eq!(err.detail(), Some("tenant"));
    assert_eq!(err.to_string(), "missing required claim: tenant");
}

#[tokio::test]
async fn claims_that_do_not_fit_the_application_type() {
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Strict {
        tenant: String,
    }
    let verifier = JwtVerifier::<Strict>::builder()
        .key(verification_key(Algorithm::HS256))
        .clock(tollgate::clock::ManualClock::new(NOW))
        .build()
        .unwrap();
    let t = token(Algorithm::HS256, &claims(json!({"tenant": 5})));
    assert_eq!(
        verifier.verify(&t).unwrap_err().kind(),
        ErrorKind::InvalidClaims
    );
    let t = token(Algorithm::HS256, &claims(json!({"tenant": "acme"})));
    let v = verifier.verify(&t).unwrap();
    assert_eq!(v.tenant, "acme");
    assert_eq!(v.subject(), Some("alice"));
    assert_eq!(v.expires_at(), NOW + 600);
}
