//! The revocation list and layer, and the verified-token cache, through
//! the public API: bearer → jwt → revocation stacks driven with `oneshot`.

mod common;

use std::convert::Infallible;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use http::{Request, Response, StatusCode};
use jsonwebtoken::Algorithm;
use proptest::prelude::*;
use serde_json::json;
use tollgate::bearer::BearerLayer;
use tollgate::clock::ManualClock;
use tollgate::error::ErrorKind;
use tollgate::jwt::{JwtLayer, JwtVerifier};
use tollgate::revocation::{RevocationError, RevocationLayer, RevocationList};
use tollgate::token::{RegisteredClaims, StandardClaims, Unauthenticated};
use tower::{ServiceBuilder, ServiceExt};

const ISS: &str = "https://issuer.test";

fn list(clock: &ManualClock) -> RevocationList {
    RevocationList::builder()
        .clock(clock.clone())
        .max_token_lifetime(Duration::from_secs(3600))
        .build()
        .unwrap()
}

/// bearer → jwt → revocation → a handler answering with the subject.
async fn call(
    verifier: &JwtVerifier<StandardClaims>,
    revoked: &RevocationList,
    token: &str,
) -> Response<String> {
    ServiceBuilder::new()
        .layer(BearerLayer::new())
        .layer(JwtLayer::new(verifier.clone()))
        .layer(RevocationLayer::<StandardClaims>::new(revoked.clone()))
        .service_fn(|req: Request<String>| async move {
            let sub = req
                .extensions()
                .get::<tollgate::token::Verified<StandardClaims>>()
                .and_then(|v| v.subject().map(str::to_owned))
                .unwrap_or_default();
            Ok::<_, Infallible>(Response::new(sub))
        })
        .oneshot(bearer_request(token))
        .await
        .unwrap()
}

#[track_caller]
fn assert_revoked(response: &Response<String>) {
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_kind(response), Some(ErrorKind::Revoked));
    let challenge = challenge(response);
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    assert!(challenge.contains("token revoked"), "{challenge}");
}

fn setup(alg: Algorithm) -> (ManualClock, JwtVerifier<StandardClaims>, RevocationList) {
    let clock = ManualClock::new(NOW);
    let verifier = builder(alg).clock(clock.clone()).build().unwrap();
    (clock.clone(), verifier, list(&clock))
}

#[tokio::test]
async fn a_revocation_holds_from_the_next_request_even_for_a_cached_token() {
    let (_clock, verifier, revoked) = setup(Algorithm::RS256);
    let t = token(Algorithm::RS256, &claims(json!({})));
    for _ in 0..3 {
        assert_eq!(call(&verifier, &revoked, &t).await.status(), 200);
    }
    let stats = verifier.cache_stats().unwrap();
    assert_eq!(
        (stats.misses, stats.hits),
        (1, 2),
        "verified once, then served from the cache"
    );

    revoked.revoke_token(ISS, "t-1", NOW + 600).unwrap();
    assert_revoked(&call(&verifier, &revoked, &t).await);
    assert_eq!(
        verifier.cache_stats().unwrap().hits,
        3,
        "the refused request was a cache hit"
    );
    // Another token of the same subject is untouched.
    let other = token(Algorithm::RS256, &claims(json!({"jti": "t-2"})));
    assert_eq!(call(&verifier, &revoked, &other).await.status(), 200);
    // The same jti from another issuer is another token.
    assert!(
        !revoked.is_revoked(
            &RegisteredClaims::new(NOW + 600)
                .with_iss("https://other")
                .with_jti("t-1")
        )
    );
}

/// `s` replaced by `n - s` (P-256 group order): another valid ECDSA
/// signature over the same claims, and so another token string.
fn malleate_es256(token: &str) -> String {
    const N: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63,
        0x25, 0x51,
    ];
    let (message, signature) = token.rsplit_once('.').unwrap();
    let mut sig = URL_SAFE_NO_PAD.decode(signature).unwrap();
    assert_eq!(sig.len(), 64);
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(N[i]) - i16::from(sig[32 + i]) - borrow;
        borrow = i16::from(d < 0);
        sig[32 + i] = (d + 256 * borrow) as u8;
    }
    assert_eq!(borrow, 0);
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(sig))
}

#[tokio::test]
async fn the_ecdsa_twin_of_a_revoked_token_is_refused_too() {
    let (_clock, verifier, revoked) = setup(Algorithm::ES256);
    let t = token(Algorithm::ES256, &claims(json!({})));
    let twin = malleate_es256(&t);
    assert_ne!(t, twin);
    // Both verify: the twin is a different string with the same claims.
    assert_eq!(call(&verifier, &revoked, &t).await.status(), 200);
    assert_eq!(call(&verifier, &revoked, &twin).await.status(), 200);

    revoked.revoke_token(ISS, "t-1", NOW + 600).unwrap();
    assert_revoked(&call(&verifier, &revoked, &t).await);
    assert_revoked(&call(&verifier, &revoked, &twin).await);
}

#[tokio::test]
async fn log_out_everywhere_refuses_old_tokens_and_accepts_a_new_login() {
    let (clock, verifier, revoked) = setup(Algorithm::HS256);
    let old = token(Algorithm::HS256, &claims(json!({"iat": NOW - 10})));
    let bob = token(
        Algorithm::HS256,
        &claims(json!({"sub": "bob", "jti": "b-1"})),
    );
    assert_eq!(call(&verifier, &revoked, &old).await.status(), 200);

    // Covers every token issued up to and including this second.
    revoked
        .revoke_subject_before("alice", revoked.now() + 1)
        .unwrap();
    assert_revoked(&call(&verifier, &revoked, &old).await);
    assert_eq!(call(&verifier, &revoked, &bob).await.status(), 200);

    clock.advance(2);
    let fresh = token(
        Algorithm::HS256,
        &claims(json!({"iat": NOW + 2, "jti": "t-9"})),
    );
    let response = call(&verifier, &revoked, &fresh).await;
    assert_eq!(
        (response.status(), response.body().as_str()),
        (StatusCode::OK, "alice")
    );
    // A token without `iat` cannot show it came after: refused.
    let undated = token(
        Algorithm::HS256,
        &claims(json!({"iat": null, "jti": "t-8"})),
    );
    assert_revoked(&call(&verifier, &revoked, &undated).await);
}

#[tokio::test]
async fn a_session_is_revoked_with_every_token_it_holds() {
    let (_clock, verifier, revoked) = setup(Algorithm::HS256);
    let phone = token(
        Algorithm::HS256,
        &claims(json!({"sid": "phone", "jti": "p-1"})),
    );
    let phone_refreshed = token(
        Algorithm::HS256,
        &claims(json!({"sid": "phone", "jti": "p-2"})),
    );
    let laptop = token(
        Algorithm::HS256,
        &claims(json!({"sid": "laptop", "jti": "l-1"})),
    );
    revoked.revoke_session("phone").unwrap();
    assert_revoked(&call(&verifier, &revoked, &phone).await);
    assert_revoked(&call(&verifier, &revoked, &phone_refreshed).await);
    assert_eq!(call(&verifier, &revoked, &laptop).await.status(), 200);
}

#[tokio::test]
async fn mass_logout_globally_and_per_issuer() {
    let (clock, verifier, revoked) = setup(Algorithm::HS256);
    let t = token(Algorithm::HS256, &claims(json!({})));
    revoked
        .revoke_issuer_before("https://someone.else", NOW + 1)
        .unwrap();
    assert_eq!(call(&verifier, &revoked, &t).await.status(), 200);
    revoked.revoke_issuer_before(ISS, NOW - 10).unwrap();
    assert_eq!(
        call(&verifier, &revoked, &t).await.status(),
        200,
        "iat == before passes"
    );
    revoked.revoke_issuer_before(ISS, NOW - 9).unwrap();
    assert_revoked(&call(&verifier, &revoked, &t).await);

    let (_, verifier, revoked) = (clock.clone(), verifier, list(&clock));
    revoked.revoke_all_before(NOW);
    assert_revoked(&call(&verifier, &revoked, &t).await);
    assert_eq!(revoked.counts().all_before, Some(NOW));
    // An earlier instant changes nothing.
    revoked.revoke_all_before(NOW - 100);
    assert_eq!(revoked.counts().all_before, Some(NOW));
    clock.advance(5);
    let later = token(
        Algorithm::HS256,
        &claims(json!({"iat": NOW + 5, "jti": "t-5"})),
    );
    assert_eq!(call(&verifier, &revoked, &later).await.status(), 200);
}

#[test]
fn entries_expire_with_their_tokens() {
    let clock = ManualClock::new(NOW);
    let revoked = list(&clock);
    revoked.revoke_token(ISS, "short", NOW + 100).unwrap();
    revoked.revoke_token(ISS, "long", NOW + 10_000).unwrap();
    revoked.revoke_session("s").unwrap();
    revoked.revoke_subject_before("alice", NOW).unwrap();
    let counts = revoked.counts();
    assert_eq!((counts.tokens, counts.sessions, counts.subjects), (2, 1, 1));
    let short = RegisteredClaims::new(NOW + 100)
        .with_iss(ISS)
        .with_jti("short");

    // Kept while the token could still pass (now < exp + leeway of 60 s),
    // forgotten once it cannot.
    clock.set(NOW + 159);
    assert_eq!(revoked.purge_expired(), 0);
    assert!(revoked.is_revoked(&short));
    clock.set(NOW + 160);
    assert_eq!(revoked.purge_expired(), 1);
    assert!(!revoked.is_revoked(&short));
    assert_eq!(revoked.counts().tokens, 1);

    // Sessions and subjects: their instant + max lifetime (1 h) + leeway.
    clock.set(NOW + 3659);
    assert_eq!(revoked.purge_expired(), 0);
    clock.set(NOW + 3660);
    assert_eq!(revoked.purge_expired(), 2);
    clock.set(NOW + 10_060);
    assert_eq!(revoked.purge_expired(), 1);
    assert_eq!(revoked.counts(), Default::default());
}

#[test]
fn a_full_list_refuses_instead_of_forgetting() {
    let clock = ManualClock::new(NOW);
    let revoked = RevocationList::builder()
        .clock(clock.clone())
        .max_entries(3)
        .build()
        .unwrap();
    for jti in ["a", "b", "c"] {
        revoked.revoke_token(ISS, jti, NOW + 100).unwrap();
    }
    assert_eq!(
        revoked.revoke_token(ISS, "d", NOW + 100),
        Err(RevocationError::Full { max_entries: 3 })
    );
    assert_eq!(
        revoked.revoke_session("s"),
        Err(RevocationError::Full { max_entries: 3 })
    );
    // Nothing was dropped; escalating to a subject takes no room... but the
    // subject table counts too: the global epoch always works.
    for jti in ["a", "b", "c"] {
        assert!(revoked.is_revoked(&RegisteredClaims::new(NOW + 100).with_iss(ISS).with_jti(jti)));
    }
    revoked.revoke_all_before(NOW + 1);
    // Re-revoking a present entry needs no room.
    assert!(revoked.revoke_token(ISS, "a", NOW + 200).is_ok());
    // Expired entries make room.
    clock.set(NOW + 160);
    assert!(revoked.revoke_token(ISS, "d", NOW + 300).is_ok());
    assert_eq!(
        revoked.revoke_token(ISS, "", NOW),
        Err(RevocationError::Empty("jti"))
    );
    assert!(RevocationList::builder().max_entries(0).build().is_err());
}

#[tokio::test]
async fn concurrent_revokes_and_checks() {
    let revoked = RevocationList::new();
    let exp = revoked.now() + 3600;
    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..8 {
        let revoked = revoked.clone();
        tasks.spawn(async move {
            for i in 0..2_000 {
                revoked
                    .revoke_token(ISS, &format!("w{writer}-{i}"), exp)
                    .unwrap();
                if i % 100 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        });
    }
    for reader in 0..8 {
        let revoked = revoked.clone();
        tasks.spawn(async move {
            for i in 0..2_000 {
                // Never revoked by anyone.
                let claims = RegisteredClaims::new(exp)
                    .with_iss(ISS)
                    .with_jti(&format!("r{reader}-{i}"));
                assert!(!revoked.is_revoked(&claims));
                if i % 100 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap();
    }
    assert_eq!(revoked.counts().tokens, 16_000);
    for writer in 0..8 {
        for i in (0..2_000).step_by(97) {
            let claims = RegisteredClaims::new(exp)
                .with_iss(ISS)
                .with_jti(&format!("w{writer}-{i}"));
            assert!(revoked.is_revoked(&claims));
        }
    }
}

#[tokio::test]
async fn without_a_jwt_layer_it_is_a_server_error_and_anonymous_requests_pass() {
    let revoked = RevocationList::new();
    let handler =
        |_req: Request<String>| async { Ok::<_, Infallible>(Response::new(String::new())) };
    let response = ServiceBuilder::new()
        .layer(BearerLayer::new())
        .layer(RevocationLayer::<StandardClaims>::new(revoked.clone()))
        .service_fn(handler)
        .oneshot(bearer_request("a.b.c"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(challenge(&response).is_empty());

    let mut anonymous = Request::new(String::new());
    anonymous.extensions_mut().insert(Unauthenticated);
    let response = tollgate::revocation::Revocation::<_, StandardClaims>::new(
        tower::service_fn(handler),
        revoked,
    )
    .oneshot(anonymous)
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

// ------------------------------------------------------------ the cache

#[tokio::test]
async fn a_cached_token_still_expires_on_time() {
    let (clock, verifier, revoked) = setup(Algorithm::RS256);
    let t = token(Algorithm::RS256, &claims(json!({"exp": NOW + 300})));
    assert_eq!(call(&verifier, &revoked, &t).await.status(), 200);
    clock.set(NOW + 359);
    assert_eq!(call(&verifier, &revoked, &t).await.status(), 200);
    // 10:00 + 5 min + leeway: refused although cached.
    clock.set(NOW + 360);
    let response = call(&verifier, &revoked, &t).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_kind(&response), Some(ErrorKind::Expired));
    let stats = verifier.cache_stats().unwrap();
    assert_eq!((stats.misses, stats.hits), (1, 2));
}

#[tokio::test]
async fn failures_are_never_cached() {
    let (_clock, verifier, revoked) = setup(Algorithm::HS256);
    let good = token(Algorithm::HS256, &claims(json!({})));
    let bad = tamper(&good);
    for _ in 0..3 {
        let response = call(&verifier, &revoked, &bad).await;
        assert_eq!(error_kind(&response), Some(ErrorKind::InvalidSignature));
    }
    let stats = verifier.cache_stats().unwrap();
    assert_eq!((stats.hits, stats.misses), (0, 3));
    assert_eq!(call(&verifier, &revoked, &good).await.status(), 200);
    assert_eq!(call(&verifier, &revoked, &good).await.status(), 200);
    assert_eq!(verifier.cache_stats().unwrap().hits, 1);

    // A day at most; off when asked.
    let long = builder(Algorithm::HS256)
        .cache_max_ttl(Duration::from_secs(86_401))
        .build();
    assert!(long.unwrap_err().to_string().contains("24 hours"));
    let uncached = builder(Algorithm::HS256).no_cache().build().unwrap();
    assert!(uncached.cache_stats().is_none());
    assert!(uncached.verify(&good).is_ok());
}

// ---------------------------------------------------------- the model

#[derive(Clone, Debug)]
enum Op {
    Token {
        iss: usize,
        jti: usize,
        exp: i64,
    },
    Session(usize),
    Subject {
        sub: usize,
        before: i64,
    },
    All(i64),
    Issuer {
        iss: usize,
        before: i64,
    },
    Advance(i64),
    Purge,
    Check {
        iss: usize,
        jti: Option<usize>,
        sid: Option<usize>,
        sub: Option<usize>,
        iat: Option<i64>,
    },
}

const NAMES: [&str; 3] = ["a", "b", "c"];
const ISSUERS: [&str; 2] = ["", "https://i"];
const LEEWAY: i64 = 60;
const LIFETIME: i64 = 3600;

/// The rules, written the plain way.
#[derive(Default)]
struct Model {
    now: i64,
    tokens: Vec<(usize, usize, i64)>,
    sessions: Vec<(usize, i64)>,
    subjects: Vec<(usize, i64, i64)>,
    all: Option<i64>,
    issuers: Vec<(usize, i64)>,
}

impl Model {
    fn revoked(
        &self,
        iss: usize,
        jti: Option<usize>,
        sid: Option<usize>,
        sub: Option<usize>,
        iat: Option<i64>,
    ) -> bool {
        let before = |t: i64| iat.is_none_or(|iat| iat < t);
        self.all.is_some_and(before)
            || self.issuers.iter().any(|&(i, t)| i == iss && before(t))
            || self
                .tokens
                .iter()
                .any(|&(i, j, until)| i == iss && Some(j) == jti && until > self.now)
            || self
                .sessions
                .iter()
                .any(|&(s, until)| Some(s) == sid && until > self.now)
            || self
                .subjects
                .iter()
                .any(|&(s, t, until)| Some(s) == sub && before(t) && until > self.now)
    }
}

fn op() -> impl Strategy<Value = Op> {
    let name = 0..NAMES.len();
    let time = -200i64..4000;
    prop_oneof![
        (0..ISSUERS.len(), name.clone(), time.clone()).prop_map(|(iss, jti, exp)| Op::Token {
            iss,
            jti,
            exp
        }),
        name.clone().prop_map(Op::Session),
        (name.clone(), time.clone()).prop_map(|(sub, before)| Op::Subject { sub, before }),
        time.clone().prop_map(Op::All),
        (0..ISSUERS.len(), time.clone()).prop_map(|(iss, before)| Op::Issuer { iss, before }),
        (0i64..2000).prop_map(Op::Advance),
        Just(Op::Purge),
        (
            0..ISSUERS.len(),
            proptest::option::of(name.clone()),
            proptest::option::of(name.clone()),
            proptest::option::of(name),
            proptest::option::of(time),
        )
            .prop_map(|(iss, jti, sid, sub, iat)| Op::Check {
                iss,
                jti,
                sid,
                sub,
                iat
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn the_list_agrees_with_a_model(ops in proptest::collection::vec(op(), 1..60)) {
        let clock = ManualClock::new(0);
        let list = RevocationList::builder()
            .clock(clock.clone())
            .leeway(Duration::from_secs(LEEWAY as u64))
            .max_token_lifetime(Duration::from_secs(LIFETIME as u64))
            .build()
            .unwrap();
        let mut model = Model::default();
        for op in ops {
            match op {
                Op::Token { iss, jti, exp } => {
                    list.revoke_token(ISSUERS[iss], NAMES[jti], exp).unwrap();
                    model.tokens.push((iss, jti, exp + LEEWAY));
                }
                Op::Session(sid) => {
                    list.revoke_session(NAMES[sid]).unwrap();
                    model.sessions.push((sid, model.now + LIFETIME + LEEWAY));
                }
                Op::Subject { sub, before } => {
                    list.revoke_subject_before(NAMES[sub], before).unwrap();
                    model.subjects.push((sub, before, before + LIFETIME + LEEWAY));
                }
                Op::All(before) => {
                    list.revoke_all_before(before);
                    model.all = Some(model.all.map_or(before, |a| a.max(before)));
                }
                Op::Issuer { iss, before } => {
                    if ISSUERS[iss].is_empty() {
                        prop_assert!(list.revoke_issuer_before("", before).is_err());
                    } else {
                        list.revoke_issuer_before(ISSUERS[iss], before).unwrap();
                        model.issuers.push((iss, before));
                    }
                }
                Op::Advance(secs) => {
                    clock.advance(secs);
                    model.now += secs;
                }
                Op::Purge => {
                    list.purge_expired();
                    let now = model.now;
                    model.tokens.retain(|t| t.2 > now);
                    model.sessions.retain(|s| s.1 > now);
                    model.subjects.retain(|s| s.2 > now);
                    let distinct = |mut v: Vec<(usize, usize)>| { v.sort_unstable(); v.dedup(); v.len() };
                    let counts = list.counts();
                    prop_assert_eq!(counts.tokens, distinct(model.tokens.iter().map(|t| (t.0, t.1)).collect()));
                    prop_assert_eq!(counts.sessions, distinct(model.sessions.iter().map(|s| (s.0, 0)).collect()));
                    prop_assert_eq!(counts.subjects, distinct(model.subjects.iter().map(|s| (s.0, 0)).collect()));
                }
                Op::Check { iss, jti, sid, sub, iat } => {
                    let mut claims = RegisteredClaims::new(model.now + 10);
                    if !ISSUERS[iss].is_empty() {
                        claims = claims.with_iss(ISSUERS[iss]);
                    }
                    if let Some(j) = jti { claims = claims.with_jti(NAMES[j]); }
                    if let Some(s) = sid { claims = claims.with_sid(NAMES[s]); }
                    if let Some(s) = sub { claims = claims.with_sub(NAMES[s]); }
                    if let Some(t) = iat { claims = claims.with_iat(t); }
                    prop_assert_eq!(list.is_revoked(&claims), model.revoked(iss, jti, sid, sub, iat));
                }
            }
        }
    }
}
