//! Key sets fetched from an identity provider: [`RemoteJwks`].
//!
//! A `RemoteJwks` serves a JWKS URL, or an OIDC issuer whose
//! `/.well-known/openid-configuration` names the `jwks_uri` (and whose
//! discovered `issuer` must equal the configured one). It keeps the keys
//! fresh by itself:
//!
//! - **Reads never wait on I/O.** Requests read an immutable snapshot of
//!   the keys through [`arc_swap`]; fetches run beside them, in one
//!   background task per key set, and swap in a new snapshot when done. No
//!   lock is ever held across I/O.
//! - **Refresh** runs every [`refresh_interval`](RemoteJwksBuilder::refresh_interval)
//!   (5 min by default), or when the response's `Cache-Control: max-age`
//!   says, within [`max_age_bounds`](RemoteJwksBuilder::max_age_bounds), and
//!   always well before the keys would go stale.
//! - **An unknown `kid`** starts one refetch, shared by every request that
//!   needs it (single flight), and at most one per
//!   [`unknown_kid_cooldown`](RemoteJwksBuilder::unknown_kid_cooldown)
//!   (30 s by default): a flood of tokens with random `kid`s makes one
//!   fetch per cooldown. A request waits at most for the fetch in flight
//!   (itself bounded by the [`timeout`](RemoteJwksBuilder::timeout)); once
//!   the cooldown holds, it is answered at once.
//! - **Failures** (timeouts, non-2xx answers, bad JSON, an empty or
//!   oversized document, a discovery document naming another issuer) keep
//!   the last good keys and retry with exponential backoff. Keys older
//!   than [`max_staleness`](RemoteJwksBuilder::max_staleness) (24 h by
//!   default) stop being served: tokens are refused with
//!   [`ErrorKind::KeysUnavailable`](crate::error::ErrorKind::KeysUnavailable)
//!   until a fetch succeeds (fail closed).
//! - **Startup** is the caller's choice: [`build`](RemoteJwksBuilder::build)
//!   returns at once and fetches in the background (tokens are refused
//!   until keys arrive; a request that comes during the first fetch waits
//!   for it, bounded by the timeout), while
//!   [`build_and_wait`](RemoteJwksBuilder::build_and_wait) waits, bounded,
//!   for the first keys.
//! - **JWK hygiene** is [`KeySet::from_jwks_with_algorithms`]'s: encryption
//!   keys and keys without `verify` in `key_ops` are skipped, each key is
//!   pinned to its `alg` or to the one configured algorithm that fits it,
//!   and unsupported keys are skipped with a warning without failing the
//!   rest of the set.
//!
//! Every fetch uses the [`reqwest::Client`] given to
//! [`client`](RemoteJwksBuilder::client) (TLS roots, proxies, timeouts), or
//! a default one with rustls. Fetches are logged with `tracing` and counted
//! in [`RemoteJwks::stats`] (and, with the `metrics` feature, as
//! `tollgate_jwks_*` metrics).
//!
//! ```no_run
//! use std::time::Duration;
//! use tollgate::jwt::{Algorithm, Issuer, JwtVerifier, RemoteJwks};
//!
//! # async fn run() -> Result<(), tollgate::error::ConfigError> {
//! let keys = RemoteJwks::discover("https://accounts.example.com")
//!     .algorithms([Algorithm::RS256])
//!     .build_and_wait(Duration::from_secs(10))
//!     .await?;
//! let verifier = JwtVerifier::<tollgate::token::StandardClaims>::builder()
//!     .trust(Issuer::new("https://accounts.example.com").remote(keys).audience("api"))
//!     .build()?;
//! # drop(verifier); Ok(()) }
//! ```

use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use http::header::{ACCEPT, CACHE_CONTROL};
use jsonwebtoken::Algorithm;
use reqwest::Url;
use tokio::sync::{mpsc, watch};

pub use reqwest;

use super::future::Wait;
use super::key::KeySet;
use crate::error::ConfigError;

/// Default interval between background refreshes: 5 min.
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(300);
/// Default cooldown between refetches caused by unknown `kid`s: 30 s.
pub const DEFAULT_UNKNOWN_KID_COOLDOWN: Duration = Duration::from_secs(30);
/// Default bound on one fetch (discovery and JWKS together): 5 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default cap on a fetched document: 256 KiB.
pub const DEFAULT_MAX_BODY_LEN: usize = 256 * 1024;
/// Default age after which keys stop being served: 24 h.
pub const DEFAULT_MAX_STALENESS: Duration = Duration::from_secs(24 * 3600);

/// A key set fetched from a JWKS URL or through OIDC discovery, refreshed
/// in the background; see the [module docs](self).
///
/// Cheap to clone; clones share the keys and the background task, which
/// stops when the last clone is dropped.
#[derive(Clone)]
pub struct RemoteJwks {
    inner: Arc<Inner>,
}

struct Inner {
    source: Source,
    client: reqwest::Client,
    settings: Settings,
    snapshot: ArcSwapOption<Snapshot>,
    state: Mutex<FetchState>,
    /// Asks the background task for a fetch now.
    wake: mpsc::Sender<()>,
    /// Counts finished fetches; waiters watch clones of it. The only
    /// sender is the background task's, so if the task is gone a waiter
    /// is told at once instead of waiting forever.
    done: watch::Receiver<u64>,
    stats: Counters,
}

enum Source {
    Jwks(Url),
    Discovery { issuer: String, document: Url },
}

struct Settings {
    refresh_interval: Duration,
    min_max_age: Duration,
    max_max_age: Duration,
    cooldown: Duration,
    timeout: Duration,
    max_body_len: usize,
    max_staleness: Duration,
    backoff_min: Duration,
    backoff_max: Duration,
    algorithms: Vec<Algorithm>,
    allow_http: bool,
}

pub(crate) struct Snapshot {
    keys: Arc<KeySet>,
    /// The document the keys came from: an identical one keeps them (and
    /// the generation) instead of parsing again.
    document: Arc<[u8]>,
    /// Changes whenever the keys do; the verified-token cache drops
    /// entries verified under another generation.
    generation: u64,
    fetched: Instant,
    /// Set by the background task when the keys pass the maximum
    /// staleness: a flag read per request costs less than a clock read.
    stale: AtomicBool,
}

#[derive(Default)]
struct FetchState {
    in_flight: bool,
    last_unknown_kid_fetch: Option<Instant>,
    jwks_uri: Option<Url>,
    last_outcome: Option<Result<usize, FetchError>>,
}

#[derive(Default)]
struct Counters {
    ok: AtomicU64,
    failed: AtomicU64,
    rate_limited: AtomicU64,
    requested: AtomicU64,
}

/// What a remote key set has done so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JwksStats {
    /// Fetches that loaded a key set.
    pub fetches_ok: u64,
    /// Fetches that failed (the previous keys were kept).
    pub fetches_failed: u64,
    /// Refetches that an unknown `kid` (or missing keys) started.
    pub refetches: u64,
    /// Refetches refused because the cooldown had not passed.
    pub refetches_rate_limited: u64,
    /// Keys in the current snapshot.
    pub keys: usize,
    /// How old the current snapshot is; `None` before the first success.
    pub age: Option<Duration>,
}

/// Why a fetch failed. Its `Display` names the URL and the cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchError {
    message: String,
}

impl FetchError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FetchError {}

impl fmt::Debug for RemoteJwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteJwks")
            .field("source", &self.inner.label())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl RemoteJwks {
    /// Keys from the JWKS document at `url`.
    pub fn builder(url: impl Into<String>) -> RemoteJwksBuilder {
        RemoteJwksBuilder::new(Target::Jwks(url.into()))
    }

    /// Keys of the OIDC issuer `issuer`, found through
    /// `{issuer}/.well-known/openid-configuration` (OpenID Connect
    /// Discovery 1.0 §4); the document's `issuer` must equal `issuer`
    /// exactly.
    pub fn discover(issuer: impl Into<String>) -> RemoteJwksBuilder {
        RemoteJwksBuilder::new(Target::Discovery(issuer.into()))
    }

    /// Counters and the age of the current keys.
    pub fn stats(&self) -> JwksStats {
        let c = &self.inner.stats;
        let snapshot = self.inner.snapshot.load();
        JwksStats {
            fetches_ok: c.ok.load(Ordering::Relaxed),
            fetches_failed: c.failed.load(Ordering::Relaxed),
            refetches: c.requested.load(Ordering::Relaxed),
            refetches_rate_limited: c.rate_limited.load(Ordering::Relaxed),
            keys: snapshot.as_ref().map_or(0, |s| s.keys.len()),
            age: snapshot.as_ref().map(|s| s.fetched.elapsed()),
        }
    }

    /// Whether keys are loaded and not older than the maximum staleness.
    pub fn is_ready(&self) -> bool {
        self.fresh(&self.inner.snapshot.load()).is_some()
    }

    /// Waits up to `within` for fresh keys (fetches keep being retried
    /// meanwhile); returns whether they are there.
    pub async fn wait_ready(&self, within: Duration) -> bool {
        let mut done = self.inner.subscribe();
        let deadline = later(within);
        while !self.is_ready() {
            // Err: the deadline passed, or the background task is gone.
            if !matches!(
                tokio::time::timeout_at(deadline, done.changed()).await,
                Ok(Ok(()))
            ) {
                return self.is_ready();
            }
        }
        true
    }

    /// Fetches now, whatever the schedule and cooldown (an admin action:
    /// "the provider just rotated"); joins a fetch already in flight.
    /// Returns how many keys were loaded.
    ///
    /// # Errors
    ///
    /// Why the fetch failed; the previous keys stay in place.
    pub async fn refresh(&self) -> Result<usize, FetchError> {
        let mut done = self.inner.subscribe();
        self.start_fetch();
        let bound = self.inner.settings.timeout + Duration::from_secs(1);
        // (Durations are at most a year: `build` checks.)
        match tokio::time::timeout(bound, done.changed()).await {
            Ok(Ok(())) => self
                .inner
                .lock()
                .last_outcome
                .clone()
                .unwrap_or_else(|| Err(FetchError::new("no fetch finished"))),
            _ => Err(FetchError::new("the fetch did not finish in time")),
        }
    }

    /// The current snapshot (no I/O, no lock).
    pub(crate) fn snapshot(&self) -> arc_swap::Guard<Option<Arc<Snapshot>>> {
        self.inner.snapshot.load()
    }

    /// The keys of `snapshot` and their generation, unless there are none
    /// yet or they are older than the maximum staleness.
    pub(crate) fn fresh<'s>(
        &self,
        snapshot: &'s Option<Arc<Snapshot>>,
    ) -> Option<(&'s KeySet, u64)> {
        snapshot
            .as_deref()
            .filter(|s| !s.stale.load(Ordering::Relaxed))
            .map(|s| (&*s.keys, s.generation))
    }

    /// Asks for a refetch because a token's key was not found; returns a
    /// future that resolves when the fetch this request may rely on has
    /// finished, or at once when the cooldown refuses a new one.
    pub(crate) fn refetch_for_unknown_key(&self) -> Wait {
        let done = self.inner.subscribe();
        let started = {
            let mut state = self.inner.lock();
            if state.in_flight {
                true
            } else if state
                .last_unknown_kid_fetch
                .is_some_and(|t| t.elapsed() < self.inner.settings.cooldown)
            {
                false
            } else {
                state.in_flight = true;
                state.last_unknown_kid_fetch = Some(Instant::now());
                self.inner.stats.requested.fetch_add(1, Ordering::Relaxed);
                let _ = self.inner.wake.try_send(());
                true
            }
        };
        if !started {
            self.inner
                .stats
                .rate_limited
                .fetch_add(1, Ordering::Relaxed);
            #[cfg(feature = "metrics")]
            metrics::counter!("tollgate_jwks_refetch_rate_limited_total", "source" => self.inner.label().to_owned())
                .increment(1);
            tracing::debug!(source = %self.inner.label(), "JWKS refetch refused by the cooldown");
            return Box::pin(std::future::ready(()));
        }
        // Bounded without a timer: the background task bounds each fetch
        // by the timeout, and if the task is gone `changed` fails at once.
        Box::pin(async move {
            let mut done = done;
            let _ = done.changed().await;
        })
    }

    fn start_fetch(&self) {
        let mut state = self.inner.lock();
        if !state.in_flight {
            state.in_flight = true;
            let _ = self.inner.wake.try_send(());
        }
    }
}

impl Inner {
    /// A receiver that sees fetches finished from now on.
    fn subscribe(&self) -> watch::Receiver<u64> {
        let mut done = self.done.clone();
        done.mark_unchanged();
        done
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FetchState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What logs and metrics call this key set: the JWKS URL or the issuer.
    fn label(&self) -> &str {
        match &self.source {
            Source::Jwks(url) => url.as_str(),
            Source::Discovery { issuer, .. } => issuer,
        }
    }

    /// One fetch: discovery when needed, then the JWKS.
    async fn fetch(&self, rediscover: bool) -> Result<Fetched, FetchError> {
        let jwks_uri = match &self.source {
            Source::Jwks(url) => url.clone(),
            Source::Discovery { issuer, document } => {
                let cached = self.lock().jwks_uri.clone();
                match cached {
                    Some(uri) if !rediscover => uri,
                    _ => {
                        let uri = self.discover(issuer, document).await?;
                        self.lock().jwks_uri = Some(uri.clone());
                        uri
                    }
                }
            }
        };
        let body = self
            .get(&jwks_uri, "application/jwk-set+json, application/json")
            .await?;
        let unchanged = self
            .snapshot
            .load()
            .as_ref()
            .is_some_and(|s| *s.document == *body.bytes);
        let keys = match unchanged {
            true => None,
            false => Some(
                KeySet::parse_jwks(&body.bytes, &self.settings.algorithms)
                    .map_err(|e| FetchError::new(format!("{jwks_uri}: {e}")))?,
            ),
        };
        Ok(Fetched {
            keys,
            document: body.bytes,
            max_age: body.max_age,
        })
    }

    async fn discover(&self, issuer: &str, document: &Url) -> Result<Url, FetchError> {
        #[derive(serde::Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: String,
        }
        let body = self.get(document, "application/json").await?;
        let doc: Discovery = serde_json::from_slice(&body.bytes)
            .map_err(|e| FetchError::new(format!("{document}: not a discovery document: {e}")))?;
        if doc.issuer != issuer {
            return Err(FetchError::new(format!(
                "{document}: discovered issuer {:?} is not the configured {issuer:?}",
                doc.issuer
            )));
        }
        let uri = Url::parse(&doc.jwks_uri)
            .map_err(|e| FetchError::new(format!("{document}: bad jwks_uri: {e}")))?;
        check_url(&uri, self.settings.allow_http)
            .map_err(|e| FetchError::new(format!("{document}: jwks_uri {e}")))?;
        Ok(uri)
    }

    async fn get(&self, url: &Url, accept: &'static str) -> Result<Body, FetchError> {
        let fail = |e: &dyn fmt::Display| FetchError::new(format!("{url}: {e}"));
        let mut response = self
            .client
            .get(url.clone())
            .header(ACCEPT, accept)
            .send()
            .await
            .map_err(|e| fail(&e))?;
        if !response.status().is_success() {
            return Err(fail(&format_args!("HTTP {}", response.status())));
        }
        let cap = self.settings.max_body_len;
        if response.content_length().is_some_and(|n| n > cap as u64) {
            return Err(fail(&format_args!("document larger than {cap} bytes")));
        }
        let max_age = max_age(response.headers());
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| fail(&e))? {
            if bytes.len() + chunk.len() > cap {
                return Err(fail(&format_args!("document larger than {cap} bytes")));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Body { bytes, max_age })
    }

    /// Records a fetch's outcome; returns the delay before the next one.
    fn finish(&self, outcome: Result<Fetched, FetchError>, failures: &mut u32) -> Duration {
        let s = &self.settings;
        let label = self.label();
        let (recorded, delay) = match outcome {
            Ok(fetched) => {
                *failures = 0;
                let previous = self.snapshot.load_full();
                let (keys, document, generation) = match (fetched.keys, previous) {
                    (None, Some(p)) => (p.keys.clone(), p.document.clone(), p.generation),
                    (keys, previous) => (
                        Arc::new(keys.unwrap_or_default()),
                        Arc::from(fetched.document),
                        previous.map_or(1, |p| p.generation + 1),
                    ),
                };
                let count = keys.len();
                self.snapshot.store(Some(Arc::new(Snapshot {
                    keys,
                    document,
                    generation,
                    fetched: Instant::now(),
                    stale: AtomicBool::new(false),
                })));
                self.stats.ok.fetch_add(1, Ordering::Relaxed);
                let delay = fetched.max_age.map_or(s.refresh_interval, |age| {
                    age.clamp(s.min_max_age, s.max_max_age)
                });
                // Refresh well before the keys would go stale, so failures
                // have time to be retried.
                let delay = delay.min(s.max_staleness / 2);
                tracing::info!(source = %label, keys = count, next_in = ?delay, "JWKS fetched");
                #[cfg(feature = "metrics")]
                {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0.0, |d| d.as_secs_f64());
                    metrics::counter!("tollgate_jwks_fetches_total", "source" => label.to_owned(), "outcome" => "ok")
                        .increment(1);
                    metrics::gauge!("tollgate_jwks_keys", "source" => label.to_owned())
                        .set(count as f64);
                    metrics::gauge!("tollgate_jwks_last_success_timestamp_seconds", "source" => label.to_owned())
                        .set(now);
                }
                (Ok(count), delay)
            }
            Err(error) => {
                *failures = failures.saturating_add(1);
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
                let backoff = s
                    .backoff_min
                    .saturating_mul(1u32 << (*failures - 1).min(16))
                    .min(s.backoff_max);
                let age = self.snapshot.load().as_ref().map(|s| s.fetched.elapsed());
                tracing::warn!(
                    source = %label,
                    %error,
                    failures = *failures,
                    keys_age = ?age,
                    retry_in = ?backoff,
                    "JWKS fetch failed; keeping the last good keys"
                );
                #[cfg(feature = "metrics")]
                metrics::counter!("tollgate_jwks_fetches_total", "source" => label.to_owned(), "outcome" => "failed")
                    .increment(1);
                (Err(error), backoff.min(s.refresh_interval))
            }
        };
        self.lock().last_outcome = Some(recorded);
        delay.max(Duration::from_millis(100))
    }
}

struct Fetched {
    /// `None`: the same document as the current snapshot's.
    keys: Option<KeySet>,
    document: Vec<u8>,
    max_age: Option<Duration>,
}

struct Body {
    bytes: Vec<u8>,
    max_age: Option<Duration>,
}

/// `Cache-Control: max-age`, unless `no-cache` or `no-store` says not to
/// keep the document (then zero, which the lower bound raises).
fn max_age(headers: &http::HeaderMap) -> Option<Duration> {
    let mut age = None;
    for value in headers.get_all(CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',').map(str::trim) {
            let (name, arg) = directive.split_once('=').unwrap_or((directive, ""));
            if name.eq_ignore_ascii_case("no-cache") || name.eq_ignore_ascii_case("no-store") {
                return Some(Duration::ZERO);
            }
            if name.eq_ignore_ascii_case("max-age")
                && let Ok(secs) = arg.trim_matches('"').parse::<u64>()
            {
                age = Some(Duration::from_secs(secs));
            }
        }
    }
    age
}

/// Plain `http` only to a loopback host, unless allowed: a JWKS fetched in
/// clear text can be replaced on the way.
fn check_url(url: &Url, allow_http: bool) -> Result<(), String> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_http => Ok(()),
        "http" => {
            let host = url.host_str().unwrap_or_default();
            let ip = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = host.eq_ignore_ascii_case("localhost")
                || ip.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if loopback {
                Ok(())
            } else {
                Err(format!(
                    "{url} is plain http to a non-loopback host; use https (or allow_insecure_http)"
                ))
            }
        }
        other => Err(format!("{url}: scheme {other:?} is not http(s)")),
    }
}

/// Now plus `d`, or a date too far to matter when that overflows.
fn later(d: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 86_400))
}

/// The background task: fetches, then sleeps until the next refresh, a
/// request for a refetch, or the moment the keys go stale. It holds the
/// key set weakly and ends when the last handle is dropped.
async fn run(weak: Weak<Inner>, mut wake: mpsc::Receiver<()>, done: watch::Sender<u64>) {
    let mut failures = 0;
    let mut scheduled = true;
    loop {
        let (delay, snapshot, max_staleness) = {
            let Some(inner) = weak.upgrade() else { return };
            inner.lock().in_flight = true;
            let outcome =
                match tokio::time::timeout(inner.settings.timeout, inner.fetch(scheduled)).await {
                    Ok(outcome) => outcome,
                    Err(_) => Err(FetchError::new(format!(
                        "{}: no answer within {:?}",
                        inner.label(),
                        inner.settings.timeout
                    ))),
                };
            // A failed JWKS fetch may mean the jwks_uri moved: rediscover.
            scheduled = outcome.is_err();
            let delay = inner.finish(outcome, &mut failures);
            // Requests that came during the fetch were served by it.
            while wake.try_recv().is_ok() {}
            inner.lock().in_flight = false;
            done.send_modify(|n| *n += 1);
            (
                delay,
                inner.snapshot.load_full(),
                inner.settings.max_staleness,
            )
        };
        let next = later(delay);
        let stale_at = snapshot
            .as_ref()
            .filter(|s| !s.stale.load(Ordering::Relaxed))
            .and_then(|s| s.fetched.checked_add(max_staleness))
            .map(tokio::time::Instant::from_std);
        let mut stale_timer = std::pin::pin!(tokio::time::sleep_until(stale_at.unwrap_or(next)));
        let mut watching = stale_at.is_some();
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(next) => {
                    scheduled = true;
                    break;
                }
                () = &mut stale_timer, if watching => {
                    watching = false;
                    if let Some(s) = &snapshot {
                        s.stale.store(true, Ordering::Relaxed);
                        tracing::warn!(
                            age = ?s.fetched.elapsed(),
                            "JWKS keys passed the maximum staleness; refusing tokens until a fetch succeeds"
                        );
                    }
                }
                asked = wake.recv() => match asked {
                    Some(()) => break,
                    // Every handle is gone.
                    None => return,
                },
            }
        }
    }
}

enum Target {
    Jwks(String),
    Discovery(String),
}

/// Configures a [`RemoteJwks`].
#[must_use]
pub struct RemoteJwksBuilder {
    target: Target,
    client: Option<reqwest::Client>,
    settings: Settings,
}

impl fmt::Debug for RemoteJwksBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = match &self.target {
            Target::Jwks(url) | Target::Discovery(url) => url,
        };
        f.debug_struct("RemoteJwksBuilder")
            .field("target", target)
            .field("refresh_interval", &self.settings.refresh_interval)
            .field("cooldown", &self.settings.cooldown)
            .field("timeout", &self.settings.timeout)
            .field("max_staleness", &self.settings.max_staleness)
            .field("algorithms", &self.settings.algorithms)
            .finish_non_exhaustive()
    }
}

impl RemoteJwksBuilder {
    fn new(target: Target) -> Self {
        Self {
            target,
            client: None,
            settings: Settings {
                refresh_interval: DEFAULT_REFRESH_INTERVAL,
                min_max_age: Duration::from_secs(60),
                max_max_age: Duration::from_secs(3600),
                cooldown: DEFAULT_UNKNOWN_KID_COOLDOWN,
                timeout: DEFAULT_TIMEOUT,
                max_body_len: DEFAULT_MAX_BODY_LEN,
                max_staleness: DEFAULT_MAX_STALENESS,
                backoff_min: Duration::from_secs(1),
                backoff_max: Duration::from_secs(120),
                algorithms: Vec::new(),
                allow_http: false,
            },
        }
    }

    /// Fetches with `client` (its TLS roots, proxies and timeouts), for
    /// every fetch including refreshes. By default a client with rustls
    /// and the platform's roots.
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Refreshes this often when the provider sends no `max-age` (5 min by
    /// default).
    pub fn refresh_interval(mut self, interval: Duration) -> Self {
        self.settings.refresh_interval = interval;
        self
    }

    /// Bounds applied to the provider's `Cache-Control: max-age` (1 min to
    /// 1 h by default).
    pub fn max_age_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.settings.min_max_age = min;
        self.settings.max_max_age = max;
        self
    }

    /// At most one refetch caused by unknown `kid`s per `cooldown` (30 s by
    /// default).
    pub fn unknown_kid_cooldown(mut self, cooldown: Duration) -> Self {
        self.settings.cooldown = cooldown;
        self
    }

    /// Bound on one fetch, discovery included (5 s by default).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = timeout;
        self
    }

    /// Refuses documents longer than this (256 KiB by default).
    pub fn max_body_len(mut self, bytes: usize) -> Self {
        self.settings.max_body_len = bytes;
        self
    }

    /// Stops serving keys this old when no fetch has succeeded since
    /// (24 h by default). The background task marks them stale on time;
    /// requests read a flag, not a clock.
    pub fn max_staleness(mut self, staleness: Duration) -> Self {
        self.settings.max_staleness = staleness;
        self
    }

    /// Retry delays after a failed fetch: `min`, doubling up to `max` (1 s
    /// to 2 min by default; never longer than the refresh interval).
    pub fn retry_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.settings.backoff_min = min;
        self.settings.backoff_max = max;
        self
    }

    /// Trusts only these algorithms: a JWK naming another is skipped, and a
    /// JWK without `alg` is pinned to the one of them that fits its type
    /// (RSA keys without `alg` need this).
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.settings.algorithms = algorithms.into_iter().collect();
        self
    }

    /// Allows plain `http` URLs to hosts other than loopback ones. Only for
    /// networks where nobody can tamper with the answer.
    pub fn allow_insecure_http(mut self) -> Self {
        self.settings.allow_http = true;
        self
    }

    /// Starts the key set: the first fetch and the refreshes run in a task
    /// on the current Tokio runtime. Returns at once; tokens are refused
    /// until keys arrive.
    ///
    /// # Errors
    ///
    /// When called outside a Tokio runtime, the URL is not absolute
    /// `https` (or `http` to a loopback host), a duration is zero or above
    /// a year, the `max-age` bounds are inverted, or the default HTTP
    /// client cannot be built.
    pub fn build(self) -> Result<RemoteJwks, ConfigError> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| ConfigError::with_source("RemoteJwks needs a Tokio runtime", e))?;
        let s = &self.settings;
        let durations = [
            s.refresh_interval,
            s.cooldown,
            s.timeout,
            s.max_staleness,
            s.backoff_min,
        ];
        if durations.contains(&Duration::ZERO) {
            return Err(ConfigError::new(
                "RemoteJwks: refresh interval, cooldown, timeout, staleness and backoff \
                 must be above zero",
            ));
        }
        const YEAR: Duration = Duration::from_secs(365 * 86_400);
        if durations
            .iter()
            .chain([&s.backoff_max, &s.max_max_age])
            .any(|d| *d > YEAR)
        {
            return Err(ConfigError::new(
                "RemoteJwks: durations above a year are refused",
            ));
        }
        if s.min_max_age > s.max_max_age || s.backoff_min > s.backoff_max {
            return Err(ConfigError::new(
                "RemoteJwks: a lower bound is above its upper bound",
            ));
        }
        if s.max_body_len == 0 {
            return Err(ConfigError::new("RemoteJwks: maximum body length of zero"));
        }
        let source = match self.target {
            Target::Jwks(url) => {
                let url = parse_url(&url, s.allow_http)?;
                Source::Jwks(url)
            }
            Target::Discovery(issuer) => {
                let document = format!(
                    "{}/.well-known/openid-configuration",
                    issuer.trim_end_matches('/')
                );
                let document = parse_url(&document, s.allow_http)?;
                Source::Discovery { issuer, document }
            }
        };
        let client = match self.client {
            Some(client) => client,
            None => reqwest::Client::builder()
                .connect_timeout(self.settings.timeout)
                .build()
                .map_err(|e| ConfigError::with_source("cannot build the HTTP client", e))?,
        };
        let (wake, wake_rx) = mpsc::channel(1);
        let (done, done_rx) = watch::channel(0);
        let inner = Arc::new(Inner {
            source,
            client,
            settings: self.settings,
            snapshot: ArcSwapOption::empty(),
            state: Mutex::new(FetchState {
                in_flight: true,
                ..FetchState::default()
            }),
            wake,
            done: done_rx,
            stats: Counters::default(),
        });
        runtime.spawn(run(Arc::downgrade(&inner), wake_rx, done));
        Ok(RemoteJwks { inner })
    }

    /// [`build`](Self::build), then waits up to `within` for the first
    /// keys (retrying failed fetches meanwhile).
    ///
    /// # Errors
    ///
    /// As [`build`](Self::build), and when no keys were loaded in time;
    /// the error names the last failure.
    pub async fn build_and_wait(self, within: Duration) -> Result<RemoteJwks, ConfigError> {
        let jwks = self.build()?;
        if !jwks.wait_ready(within).await {
            let last = jwks.inner.lock().last_outcome.clone();
            let why = match last {
                Some(Err(e)) => e.to_string(),
                _ => "no fetch finished".to_owned(),
            };
            return Err(ConfigError::new(format!(
                "no keys from {} within {within:?}: {why}",
                jwks.inner.label()
            )));
        }
        Ok(jwks)
    }
}

fn parse_url(url: &str, allow_http: bool) -> Result<Url, ConfigError> {
    let parsed =
        Url::parse(url).map_err(|e| ConfigError::with_source(format!("bad URL {url:?}"), e))?;
    check_url(&parsed, allow_http).map_err(ConfigError::new)?;
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(max_age(&headers), None);
        headers.insert(CACHE_CONTROL, "public, max-age=600".parse().unwrap());
        assert_eq!(max_age(&headers), Some(Duration::from_secs(600)));
        headers.insert(
            CACHE_CONTROL,
            "Max-Age=\"30\", must-revalidate".parse().unwrap(),
        );
        assert_eq!(max_age(&headers), Some(Duration::from_secs(30)));
        headers.insert(CACHE_CONTROL, "no-store".parse().unwrap());
        assert_eq!(max_age(&headers), Some(Duration::ZERO));
        headers.insert(CACHE_CONTROL, "max-age=abc".parse().unwrap());
        assert_eq!(max_age(&headers), None);
    }

    #[test]
    fn urls() {
        let ok = |u: &str| check_url(&Url::parse(u).unwrap(), false).is_ok();
        assert!(ok("https://idp.example/jwks"));
        assert!(ok("http://127.0.0.1:8080/jwks"));
        assert!(ok("http://[::1]:8080/jwks"));
        assert!(ok("http://localhost/jwks"));
        assert!(!ok("http://idp.example/jwks"));
        assert!(!ok("http://10.0.0.1/jwks"));
        assert!(!ok("ftp://idp.example/jwks"));
        assert!(!ok("file:///etc/jwks.json"));
        assert!(check_url(&Url::parse("http://idp.example/").unwrap(), true).is_ok());
    }
}
