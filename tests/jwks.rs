//! Remote key sets against a real identity-provider stand-in on 127.0.0.1
//! that serves a JWKS and a discovery document and counts requests.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus, header};
use axum::response::{IntoResponse, Response as AxumResponse};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{bearer_request, call_with};
use http::{Response, StatusCode};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use tollgate::error::{Error, ErrorKind};
use tollgate::jwt::remote::RemoteJwksBuilder;
use tollgate::jwt::remote::reqwest;
use tollgate::jwt::{Issuer, JwtVerifier, RemoteJwks};
use tollgate::token::StandardClaims;

// ---------------------------------------------------------------- provider

#[derive(Clone, Debug)]
enum Mode {
    Ok,
    Slow(Duration),
    Status(u16),
    Garbage,
    Empty,
    Huge,
}

struct Provider {
    addr: SocketAddr,
    state: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct Shared {
    keys: Mutex<Vec<Value>>,
    mode: Mutex<Option<Mode>>,
    /// The `issuer` the discovery document claims; the real one if `None`.
    claimed_issuer: Mutex<Option<String>>,
    cache_control: Mutex<Option<String>>,
    jwks_hits: AtomicUsize,
    discovery_hits: AtomicUsize,
    /// Requests that lacked `x-test-client: yes`.
    foreign_client_hits: AtomicUsize,
    base: Mutex<String>,
}

impl Provider {
    async fn start(kids: &[&str]) -> Self {
        let state = Arc::new(Shared::default());
        *state.keys.lock().unwrap() = kids.iter().map(|k| hs_jwk(k)).collect();
        let app = Router::new()
            .route("/jwks.json", get(jwks))
            .route("/.well-known/openid-configuration", get(discovery))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        *state.base.lock().unwrap() = format!("http://{addr}");
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            addr,
            state,
            server,
        }
    }

    fn issuer(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn jwks_url(&self) -> String {
        format!("http://{}/jwks.json", self.addr)
    }

    fn set_keys(&self, kids: &[&str]) {
        *self.state.keys.lock().unwrap() = kids.iter().map(|k| hs_jwk(k)).collect();
    }

    fn set_raw_keys(&self, keys: Vec<Value>) {
        *self.state.keys.lock().unwrap() = keys;
    }

    fn set_mode(&self, mode: Mode) {
        *self.state.mode.lock().unwrap() = Some(mode);
    }

    fn jwks_hits(&self) -> usize {
        self.state.jwks_hits.load(Ordering::SeqCst)
    }

    fn discovery_hits(&self) -> usize {
        self.state.discovery_hits.load(Ordering::SeqCst)
    }

    /// Stops accepting connections: later fetches are refused.
    fn stop(&self) {
        self.server.abort();
    }
}

async fn jwks(State(state): State<Arc<Shared>>, headers: HeaderMap) -> AxumResponse {
    state.jwks_hits.fetch_add(1, Ordering::SeqCst);
    if headers.get("x-test-client").is_none() {
        state.foreign_client_hits.fetch_add(1, Ordering::SeqCst);
    }
    let mode = state.mode.lock().unwrap().clone().unwrap_or(Mode::Ok);
    let document = json!({ "keys": *state.keys.lock().unwrap() }).to_string();
    let cache_control = state.cache_control.lock().unwrap().clone();
    match mode {
        Mode::Ok => {}
        Mode::Slow(delay) => tokio::time::sleep(delay).await,
        Mode::Status(code) => return AxumStatus::from_u16(code).unwrap().into_response(),
        Mode::Garbage => return "<html>not json</html>".into_response(),
        Mode::Empty => return r#"{"keys":[]}"#.into_response(),
        Mode::Huge => {
            let padding = "x".repeat(1024 * 1024);
            return format!(r#"{{"keys":[],"padding":"{padding}"}}"#).into_response();
        }
    }
    let mut response = document.into_response();
    if let Some(cc) = cache_control {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, cc.parse().unwrap());
    }
    response
}

async fn discovery(State(state): State<Arc<Shared>>) -> AxumResponse {
    state.discovery_hits.fetch_add(1, Ordering::SeqCst);
    let base = state.base.lock().unwrap().clone();
    let issuer = state
        .claimed_issuer
        .lock()
        .unwrap()
        .clone()
        .unwrap_or_else(|| base.clone());
    axum::Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{base}/jwks.json"),
        "id_token_signing_alg_values_supported": ["HS256", "RS256"],
    }))
    .into_response()
}

// ------------------------------------------------------------------ tokens

fn secret(kid: &str) -> Vec<u8> {
    format!("HS256 secret of key {kid:>24}").into_bytes()
}

fn hs_jwk(kid: &str) -> Value {
    json!({
        "kty": "oct", "alg": "HS256", "use": "sig", "kid": kid,
        "k": URL_SAFE_NO_PAD.encode(secret(kid)),
    })
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// An HS256 token naming `kid`, signed with the secret of `signer`.
fn token(iss: &str, kid: &str, signer: &str) -> String {
    let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_owned());
    let claims = json!({
        "iss": iss, "aud": "api", "sub": format!("user-of-{signer}"),
        "iat": now(), "exp": now() + 600,
    });
    tollgate::jwt::crypto_provider();
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(&secret(signer)).unwrap(),
    )
    .unwrap()
}

fn verifier(jwks: RemoteJwks) -> JwtVerifier<StandardClaims> {
    JwtVerifier::builder()
        .remote_jwks(jwks)
        .audience("api")
        .build()
        .unwrap()
}

async fn call(verifier: &JwtVerifier<StandardClaims>, token: &str) -> Response<String> {
    call_with(verifier.clone(), bearer_request(token)).await
}

fn kind<B>(response: &Response<B>) -> Option<ErrorKind> {
    response.extensions().get::<Error>().map(Error::kind)
}

#[track_caller]
fn assert_refused<B>(response: &Response<B>, expected: ErrorKind) {
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("invalid_token"), "{challenge}");
    assert_eq!(kind(response), Some(expected));
}

/// Waits (bounded) until `done` holds.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn quiet() -> reqwest::Client {
    reqwest::Client::builder()
        .default_headers(
            [("x-test-client".parse().unwrap(), "yes".parse().unwrap())]
                .into_iter()
                .collect(),
        )
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// The provider's JWKS through the test client; refreshes only when asked
/// (1 h interval) unless a test says otherwise.
fn remote(provider: &Provider) -> RemoteJwksBuilder {
    RemoteJwks::builder(provider.jwks_url())
        .client(quiet())
        .refresh_interval(Duration::from_secs(3600))
}

/// Waits for the first keys, which must come.
async fn ready(builder: RemoteJwksBuilder) -> RemoteJwks {
    builder
        .build_and_wait(Duration::from_secs(5))
        .await
        .unwrap()
}

async fn loaded(provider: &Provider) -> RemoteJwks {
    ready(remote(provider).timeout(Duration::from_millis(500))).await
}

// ------------------------------------------------------------------- tests

#[tokio::test]
async fn a_rotated_key_is_accepted_on_its_first_token() {
    let provider = Provider::start(&["k1"]).await;
    let jwks = ready(remote(&provider).unknown_kid_cooldown(Duration::from_millis(200))).await;
    let verifier = verifier(jwks.clone());
    let iss = provider.issuer();
    assert_eq!(
        call(&verifier, &token(&iss, "k1", "k1")).await.status(),
        200
    );
    assert_eq!(provider.jwks_hits(), 1);

    // The provider rotates: k2 signs from now on. The first k2 token
    // triggers a refetch and waits for it; the refresh interval is 1 h.
    provider.set_keys(&["k1", "k2"]);
    let response = call(&verifier, &token(&iss, "k2", "k2")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.body(), "user-of-k2");
    assert_eq!(provider.jwks_hits(), 2);
    assert_eq!(jwks.stats().keys, 2);
    assert_eq!(jwks.stats().refetches, 1);

    // Known keys never cause a fetch.
    for _ in 0..50 {
        assert_eq!(
            call(&verifier, &token(&iss, "k1", "k1")).await.status(),
            200
        );
    }
    assert_eq!(provider.jwks_hits(), 2);

    // `verify_async` takes the same path; the sync `verify` starts the
    // refetch without waiting and answers at once.
    tokio::time::sleep(Duration::from_millis(250)).await;
    provider.set_keys(&["k2", "k3"]);
    let sync = verifier.verify(&token(&iss, "k3", "k3")).unwrap_err();
    assert_eq!(sync.kind(), ErrorKind::UnknownKey);
    eventually("the refetch the sync call started", || {
        jwks.stats().keys == 2 && provider.jwks_hits() == 3
    })
    .await;
    assert!(
        verifier
            .verify_async(&token(&iss, "k3", "k3"))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_removed_key_is_refused_after_the_next_refresh() {
    let provider = Provider::start(&["k1", "k2"]).await;
    let jwks = ready(remote(&provider).refresh_interval(Duration::from_millis(200))).await;
    let verifier = verifier(jwks.clone());
    let iss = provider.issuer();
    assert_eq!(
        call(&verifier, &token(&iss, "k2", "k2")).await.status(),
        200
    );

    provider.set_keys(&["k1"]);
    let seen = provider.jwks_hits();
    eventually("a scheduled refresh", || {
        provider.jwks_hits() > seen && jwks.stats().keys == 1
    })
    .await;
    assert_refused(
        &call(&verifier, &token(&iss, "k2", "k2")).await,
        ErrorKind::UnknownKey,
    );
    assert_eq!(
        call(&verifier, &token(&iss, "k1", "k1")).await.status(),
        200
    );

    // An explicit refresh reports what it loaded.
    provider.set_keys(&["k1", "k4"]);
    assert_eq!(jwks.refresh().await, Ok(2));
}

/// Sends `count` tokens with fresh random `kid`s at once; returns the
/// slowest answer's time. Every one must be 401 `UnknownKey`.
async fn flood(
    verifier: &JwtVerifier<StandardClaims>,
    iss: &str,
    wave: usize,
    count: usize,
) -> Duration {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..count {
        let verifier = verifier.clone();
        let token = token(iss, &format!("random-{wave}-{i}"), "k1");
        tasks.spawn(async move {
            let started = Instant::now();
            let response = call(&verifier, &token).await;
            (response.status(), kind(&response), started.elapsed())
        });
    }
    let mut slowest = Duration::ZERO;
    while let Some(result) = tasks.join_next().await {
        let (status, kind, elapsed) = result.unwrap();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(kind, Some(ErrorKind::UnknownKey));
        slowest = slowest.max(elapsed);
    }
    slowest
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_random_kids_makes_one_fetch_per_cooldown() {
    let provider = Provider::start(&["k1"]).await;
    let jwks = ready(remote(&provider).timeout(Duration::from_secs(1))).await;
    let verifier = verifier(jwks.clone());
    let iss = provider.issuer();
    // A slow provider: the first wave arrives while the one refetch runs
    // and shares it (single flight).
    provider.set_mode(Mode::Slow(Duration::from_millis(300)));
    let slowest = flood(&verifier, &iss, 1, 5_000).await;
    assert_eq!(provider.jwks_hits(), 2);
    assert_eq!(jwks.stats().refetches, 1);
    // Nobody waited past the bounded fetch (timeout 1 s; the margin is for
    // scheduling 5,000 tasks on 2 cores): a hang check, not a speed figure.
    assert!(slowest < Duration::from_secs(10), "{slowest:?}");

    // The second wave comes within the cooldown (30 s): no fetch at all,
    // every token refused at once.
    let slowest = flood(&verifier, &iss, 2, 5_000).await;
    assert_eq!(provider.jwks_hits(), 2, "one initial fetch, one refetch");
    let stats = jwks.stats();
    assert_eq!(stats.refetches, 1);
    assert!(stats.refetches_rate_limited >= 5_000, "{stats:?}");
    assert!(slowest < Duration::from_secs(10), "{slowest:?}");

    // Known keys still work.
    provider.set_mode(Mode::Ok);
    assert_eq!(
        call(&verifier, &token(&iss, "k1", "k1")).await.status(),
        200
    );
}

#[tokio::test]
async fn provider_failures_keep_the_last_good_keys() {
    for mode in [
        Mode::Status(500),
        Mode::Status(404),
        Mode::Garbage,
        Mode::Empty,
        Mode::Huge,
        Mode::Slow(Duration::from_secs(3)),
    ] {
        let provider = Provider::start(&["k1"]).await;
        let jwks = RemoteJwks::builder(provider.jwks_url())
            .client(quiet())
            .refresh_interval(Duration::from_secs(3600))
            .timeout(Duration::from_millis(500))
            .max_body_len(64 * 1024)
            .build_and_wait(Duration::from_secs(5))
            .await
            .unwrap();
        let verifier = verifier(jwks.clone());
        let iss = provider.issuer();
        provider.set_mode(mode.clone());

        let error = jwks.refresh().await.unwrap_err();
        assert_eq!(jwks.stats().fetches_failed, 1, "{mode:?}: {error}");
        assert_eq!(jwks.stats().keys, 1, "{mode:?}");
        assert_eq!(
            call(&verifier, &token(&iss, "k1", "k1")).await.status(),
            200,
            "{mode:?}"
        );

        // An unknown kid waits at most for the bounded fetch, then 401.
        let started = Instant::now();
        let response = call(&verifier, &token(&iss, "k9", "k9")).await;
        assert_refused(&response, ErrorKind::UnknownKey);
        assert!(started.elapsed() < Duration::from_secs(5), "{mode:?}");
        assert_eq!(
            call(&verifier, &token(&iss, "k1", "k1")).await.status(),
            200,
            "{mode:?}"
        );
    }
}

#[tokio::test]
async fn provider_down_keeps_the_last_good_keys() {
    let provider = Provider::start(&["k1"]).await;
    let jwks = loaded(&provider).await;
    let verifier = verifier(jwks.clone());
    let iss = provider.issuer();
    provider.stop();
    tokio::time::sleep(Duration::from_millis(50)).await;

    let error = jwks.refresh().await.unwrap_err();
    assert!(error.to_string().contains("jwks.json"), "{error}");
    assert_eq!(
        call(&verifier, &token(&iss, "k1", "k1")).await.status(),
        200
    );
    assert_refused(
        &call(&verifier, &token(&iss, "k2", "k2")).await,
        ErrorKind::UnknownKey,
    );
}

#[tokio::test]
async fn keys_older_than_the_maximum_staleness_are_not_served() {
    let provider = Provider::start(&["k1"]).await;
    let jwks = ready(
        remote(&provider)
            .max_staleness(Duration::from_secs(1))
            .retry_backoff(Duration::from_millis(100), Duration::from_millis(200))
            .timeout(Duration::from_millis(300)),
    )
    .await;
    let verifier = verifier(jwks.clone());
    let iss = provider.issuer();
    assert_eq!(
        call(&verifier, &token(&iss, "k1", "k1")).await.status(),
        200
    );

    // The provider fails from now on; the refreshes (every 0.5 s: half the
    // staleness) and their retries all fail.
    provider.set_mode(Mode::Status(503));
    eventually("the keys to go stale", || !jwks.is_ready()).await;
    assert!(jwks.stats().fetches_failed >= 1);
    assert_refused(
        &call(&verifier, &token(&iss, "k1", "k1")).await,
        ErrorKind::KeysUnavailable,
    );

    // The provider recovers: the next retry brings the keys back.
    provider.set_mode(Mode::Ok);
    eventually("fresh keys", || jwks.is_ready()).await;
    assert_eq!(
        call(&verifier, &token(&iss, "k1", "k1")).await.status(),
        200
    );
}

#[tokio::test]
async fn two_issuers_each_verified_with_their_own_keys_only() {
    let a = Provider::start(&["a1"]).await;
    let b = Provider::start(&["b1"]).await;
    let discover = |p: &Provider| {
        RemoteJwks::discover(p.issuer())
            .client(quiet())
            .build_and_wait(Duration::from_secs(5))
    };
    let (jwks_a, jwks_b) = (discover(&a).await.unwrap(), discover(&b).await.unwrap());
    assert_eq!((a.discovery_hits(), a.jwks_hits()), (1, 1));
    let verifier = JwtVerifier::<StandardClaims>::builder()
        .trust(Issuer::new(a.issuer()).remote(jwks_a).audience("api"))
        .trust(
            Issuer::new(b.issuer())
                .remote(jwks_b)
                .audience("api")
                .algorithm(Algorithm::HS256),
        )
        .build()
        .unwrap();
    let (iss_a, iss_b) = (a.issuer(), b.issuer());

    let ok = call(&verifier, &token(&iss_a, "a1", "a1")).await;
    assert_eq!(
        (ok.status(), ok.body().as_str()),
        (StatusCode::OK, "user-of-a1")
    );
    let ok = call(&verifier, &token(&iss_b, "b1", "b1")).await;
    assert_eq!(
        (ok.status(), ok.body().as_str()),
        (StatusCode::OK, "user-of-b1")
    );

    // Claims issuer A, signed with B's key: A's keys do not hold b1.
    let (a_hits, b_hits) = (a.jwks_hits(), b.jwks_hits());
    assert_refused(
        &call(&verifier, &token(&iss_a, "b1", "b1")).await,
        ErrorKind::UnknownKey,
    );
    // Claims A, names A's kid, signed with B's secret.
    assert_refused(
        &call(&verifier, &token(&iss_a, "a1", "b1")).await,
        ErrorKind::InvalidSignature,
    );
    assert_eq!(b.jwks_hits(), b_hits, "B's key source was never asked");
    assert!(a.jwks_hits() <= a_hits + 1);

    // An issuer nobody configured touches no key source at all.
    let (a_hits, b_hits) = (a.jwks_hits(), b.jwks_hits());
    for kid in ["a1", "b1", "zz"] {
        assert_refused(
            &call(&verifier, &token("https://evil.example", kid, kid)).await,
            ErrorKind::InvalidIssuer,
        );
    }
    assert_eq!((a.jwks_hits(), b.jwks_hits()), (a_hits, b_hits));
}

#[tokio::test]
async fn discovery_naming_another_issuer_is_refused() {
    let provider = Provider::start(&["k1"]).await;
    *provider.state.claimed_issuer.lock().unwrap() = Some("https://evil.example".into());
    let error = RemoteJwks::discover(provider.issuer())
        .client(quiet())
        .retry_backoff(Duration::from_millis(100), Duration::from_millis(100))
        .build_and_wait(Duration::from_millis(600))
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("evil.example"), "{message}");
    assert!(provider.discovery_hits() >= 1);
    assert_eq!(
        provider.jwks_hits(),
        0,
        "the JWKS of a mismatched issuer is never fetched"
    );
}

#[tokio::test]
async fn startup_without_waiting_refuses_until_keys_arrive() {
    let provider = Provider::start(&["k1"]).await;
    provider.set_mode(Mode::Status(503));
    let jwks = RemoteJwks::builder(provider.jwks_url())
        .client(quiet())
        .retry_backoff(Duration::from_millis(100), Duration::from_millis(200))
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let verifier = verifier(jwks.clone());
    let iss = provider.issuer();
    eventually("a failed first fetch", || jwks.stats().fetches_failed >= 1).await;
    let started = Instant::now();
    assert_refused(
        &call(&verifier, &token(&iss, "k1", "k1")).await,
        ErrorKind::KeysUnavailable,
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    provider.set_mode(Mode::Ok);
    eventually("the first keys", || jwks.is_ready()).await;
    assert_eq!(
        call(&verifier, &token(&iss, "k1", "k1")).await.status(),
        200
    );

    // Waiting for the first keys is bounded, and says why it gave up.
    let down = Provider::start(&["k1"]).await;
    down.set_mode(Mode::Status(500));
    let error = RemoteJwks::builder(down.jwks_url())
        .client(quiet())
        .build_and_wait(Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("500"), "{error}");
}

#[tokio::test]
async fn the_custom_client_makes_every_fetch() {
    let provider = Provider::start(&["k1"]).await;
    let jwks = RemoteJwks::discover(provider.issuer())
        .client(quiet())
        .refresh_interval(Duration::from_millis(150))
        .build_and_wait(Duration::from_secs(5))
        .await
        .unwrap();
    let verifier = verifier(jwks.clone());
    eventually("background refreshes", || provider.jwks_hits() >= 3).await;
    let _ = call(&verifier, &token(&provider.issuer(), "k7", "k7")).await;
    jwks.refresh().await.unwrap();
    assert_eq!(provider.state.foreign_client_hits.load(Ordering::SeqCst), 0);
    // Scheduled refreshes repeat discovery too (the jwks_uri may move).
    assert!(provider.discovery_hits() >= 3);
}

#[tokio::test]
async fn cache_control_max_age_sets_the_refresh_pace() {
    let provider = Provider::start(&["k1"]).await;
    *provider.state.cache_control.lock().unwrap() = Some("public, max-age=1".into());
    let _jwks =
        ready(remote(&provider).max_age_bounds(Duration::from_secs(1), Duration::from_secs(60)))
            .await;
    // With the 1 h interval alone there would be no second fetch.
    eventually("a refresh after max-age", || provider.jwks_hits() >= 3).await;
}

#[tokio::test]
async fn only_usable_signature_keys_are_loaded() {
    let provider = Provider::start(&[]).await;
    tollgate::jwt::crypto_provider();
    let rsa = EncodingKey::from_rsa_pem(include_bytes!("keys/rsa_private.pem")).unwrap();
    let mut rsa_jwk = serde_json::to_value(
        jsonwebtoken::jwk::Jwk::from_encoding_key(&rsa, Algorithm::RS256).unwrap(),
    )
    .unwrap();
    rsa_jwk.as_object_mut().unwrap().remove("alg");
    rsa_jwk["kid"] = json!("rsa-no-alg");
    let mut enc = hs_jwk("enc");
    enc["use"] = json!("enc");
    let mut wrap = hs_jwk("wrap");
    wrap["key_ops"] = json!(["encrypt", "wrapKey"]);
    let mut other_alg = hs_jwk("hs512");
    other_alg["alg"] = json!("HS512");
    provider.set_raw_keys(vec![
        rsa_jwk,
        enc,
        wrap,
        other_alg,
        json!({"kty": "EC", "crv": "secp256k1", "kid": "k256", "x": "AA", "y": "AA"}),
        json!({"kty": "unknown", "kid": "weird"}),
        hs_jwk("good"),
    ]);
    let jwks = ready(remote(&provider).algorithms([Algorithm::RS256, Algorithm::HS256])).await;
    // The RSA key without `alg` is pinned to RS256; the oct key to HS256.
    assert_eq!(jwks.stats().keys, 2);
    let verifier = verifier(jwks);
    let iss = provider.issuer();
    assert_eq!(
        call(&verifier, &token(&iss, "good", "good")).await.status(),
        200
    );

    let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
    header.kid = Some("rsa-no-alg".into());
    let claims = json!({"iss": iss, "aud": "api", "sub": "rsa", "exp": now() + 60});
    let rs = jsonwebtoken::encode(&header, &claims, &rsa).unwrap();
    assert_eq!(call(&verifier, &rs).await.status(), 200);
    // The same key cannot be used as PS256: it is pinned.
    let mut header = jsonwebtoken::Header::new(Algorithm::PS256);
    header.kid = Some("rsa-no-alg".into());
    let ps = jsonwebtoken::encode(&header, &claims, &rsa).unwrap();
    assert_refused(&call(&verifier, &ps).await, ErrorKind::AlgorithmMismatch);
    // Skipped keys are unknown.
    assert_refused(
        &call(&verifier, &token(&iss, "enc", "enc")).await,
        ErrorKind::UnknownKey,
    );
}

#[tokio::test]
async fn bad_configurations_are_refused() {
    for url in [
        "http://idp.example/jwks.json",
        "ftp://127.0.0.1/jwks",
        "not a url",
    ] {
        let error = RemoteJwks::builder(url).build().unwrap_err();
        assert!(!error.to_string().is_empty(), "{url}");
    }
    assert!(
        RemoteJwks::builder("http://idp.example/jwks.json")
            .allow_insecure_http()
            .build()
            .is_ok()
    );
    let zero = RemoteJwks::builder("https://idp.example/jwks.json")
        .unknown_kid_cooldown(Duration::ZERO)
        .build();
    assert!(zero.is_err());
    let huge = RemoteJwks::builder("https://idp.example/jwks.json")
        .max_staleness(Duration::MAX)
        .build();
    assert!(huge.unwrap_err().to_string().contains("above a year"));
    let inverted = RemoteJwks::builder("https://idp.example/jwks.json")
        .max_age_bounds(Duration::from_secs(60), Duration::from_secs(1))
        .build();
    assert!(inverted.is_err());

    let jwks = RemoteJwks::builder("https://idp.example/jwks.json")
        .build()
        .unwrap();
    let key = tollgate::jwt::Key::hmac(Algorithm::HS256, &secret("s")).unwrap();
    let both = JwtVerifier::<StandardClaims>::builder()
        .trust(Issuer::new("a").remote(jwks.clone()).key(key.clone()))
        .build();
    assert!(both.unwrap_err().to_string().contains("not both"));
    let twice = JwtVerifier::<StandardClaims>::builder()
        .trust(Issuer::new("a").remote(jwks.clone()))
        .trust(Issuer::new("a").key(key.clone()))
        .build();
    assert!(twice.unwrap_err().to_string().contains("twice"));
    let unnamed = JwtVerifier::<StandardClaims>::builder()
        .key(key.clone())
        .trust(Issuer::new("a").remote(jwks.clone()))
        .build();
    assert!(unnamed.unwrap_err().to_string().contains("issuer() names"));
    let wrong_alg = JwtVerifier::<StandardClaims>::builder()
        .trust(Issuer::new("a").key(key).algorithm(Algorithm::RS256))
        .build();
    assert!(wrong_alg.is_err());
    let keyless = JwtVerifier::<StandardClaims>::builder()
        .trust(Issuer::new("a"))
        .build();
    assert!(keyless.unwrap_err().to_string().contains("no key"));
}

#[test]
fn building_outside_a_runtime_is_an_error() {
    let error = RemoteJwks::builder("https://idp.example/jwks.json")
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("Tokio runtime"), "{error}");
}

#[tokio::test]
async fn debug_output_shows_no_key_material() {
    let provider = Provider::start(&["k1"]).await;
    let jwks = loaded(&provider).await;
    let text = format!("{jwks:?} {:?}", verifier(jwks.clone()));
    assert!(
        !text.contains(&URL_SAFE_NO_PAD.encode(secret("k1"))),
        "{text}"
    );
    assert!(text.contains("jwks.json"), "{text}");
}

#[test]
fn no_request_hangs_when_the_refresh_task_is_gone() {
    // Keys fetched on one runtime, which is then shut down (its background
    // task with it); requests keep coming on another.
    let first = tokio::runtime::Runtime::new().unwrap();
    let (provider, jwks) = first.block_on(async {
        let provider = Provider::start(&["k1"]).await;
        let jwks = loaded(&provider).await;
        (provider.issuer(), jwks)
    });
    drop(first);
    let verifier = verifier(jwks);
    let second = tokio::runtime::Runtime::new().unwrap();
    second.block_on(async {
        // Known keys keep working from the snapshot (verified locally; the
        // provider went down with the first runtime).
        let ok = verifier.verify_async(&token(&provider, "k1", "k1")).await;
        assert!(ok.is_ok());
        let error = tokio::time::timeout(
            Duration::from_secs(10),
            verifier.verify_async(&token(&provider, "k2", "k2")),
        )
        .await
        .expect("an unknown kid must not wait for a task that is gone")
        .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::UnknownKey);
    });
}
