use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::de::DeserializeOwned;

#[cfg(feature = "cache")]
use super::cache::VerifiedCache;
use super::cache::{CacheStats, DEFAULT_CACHE_BYTES, DEFAULT_CACHE_TTL};
use super::claims::{Header, Registered, Sink, Str, Tee};
#[cfg(feature = "remote-jwks")]
use super::future::Wait;
use super::issuer::{Group, Issuer, KeySource, KeySources};
use super::key::{Key, KeySet, verify_raw};
#[cfg(feature = "remote-jwks")]
use super::remote::RemoteJwks;
use crate::clock::{Clock, SystemClock};
use crate::error::{ConfigError, Error, ErrorKind};
use crate::token::{RegisteredClaims, StandardClaims, Verified};

/// The longest decoded JOSE header accepted: room for an `x5c` chain.
const MAX_HEADER_LEN: usize = 8 * 1024;

/// The default clock-skew allowance: 60 s.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

/// The largest leeway a verifier accepts: 5 min.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);

/// Verifies compact JWS tokens and checks their claims.
///
/// Cheap to clone (one `Arc`). Built with [`JwtVerifier::builder`]; used by
/// [`JwtLayer`](super::JwtLayer), and usable alone.
pub struct JwtVerifier<C = StandardClaims> {
    config: Arc<Config>,
    #[cfg(feature = "cache")]
    cache: Option<Arc<VerifiedCache<C>>>,
    _claims: PhantomData<fn() -> C>,
}

struct Config {
    /// One group, or several each naming its issuers.
    groups: Vec<Group>,
    leeway: i64,
    max_lifetime: Option<i64>,
    typ: Option<Box<str>>,
    required: Vec<Box<str>>,
    required_mask: u64,
    required_registered: [bool; 4],
    understood_crit: Vec<Box<str>>,
    clock: Arc<dyn Clock>,
    max_token_len: usize,
    #[cfg_attr(not(feature = "cache"), allow(dead_code))]
    cache_ttl: Duration,
}

/// `sub`, `jti`, `sid`, `iat`: the registered claims that can be required
/// by name beyond `exp` (always required), `iss` and `aud` (required when
/// configured).
const REQUIRABLE: [&str; 4] = ["sub", "jti", "sid", "iat"];

impl<C> Clone for JwtVerifier<C> {
    fn clone(&self) -> Self {
        Self {
            config: Arc::clone(&self.config),
            #[cfg(feature = "cache")]
            cache: self.cache.clone(),
            _claims: PhantomData,
        }
    }
}

impl<C> fmt::Debug for JwtVerifier<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        f.debug_struct("JwtVerifier")
            .field("issuers", &c.groups)
            .field("leeway", &c.leeway)
            .field("max_lifetime", &c.max_lifetime)
            .field("typ", &c.typ)
            .field("required", &c.required)
            .field("clock", &c.clock)
            .field("max_token_len", &c.max_token_len)
            .field("cache", &self.cache_stats())
            .finish()
    }
}

impl<C> JwtVerifier<C> {
    /// Configure a verifier.
    pub fn builder() -> JwtVerifierBuilder<C> {
        JwtVerifierBuilder {
            sources: KeySources::default(),
            trusted: Vec::new(),
            issuers: Vec::new(),
            audiences: Vec::new(),
            leeway: DEFAULT_LEEWAY,
            max_lifetime: None,
            typ: None,
            required: Vec::new(),
            understood_crit: Vec::new(),
            clock: Arc::new(SystemClock),
            max_token_len: crate::DEFAULT_MAX_TOKEN_LEN,
            cache_bytes: Some(DEFAULT_CACHE_BYTES),
            cache_ttl: DEFAULT_CACHE_TTL,
            _claims: PhantomData,
        }
    }

    /// Hits and misses of the verified-token cache; `None` when it is off.
    pub fn cache_stats(&self) -> Option<CacheStats> {
        #[cfg(feature = "cache")]
        return self.cache.as_ref().map(|c| c.stats());
        #[cfg(not(feature = "cache"))]
        None
    }

    /// Verifies `token` and returns its claims.
    ///
    /// In order, each step cheaper than the next: the size cap; the shape
    /// (exactly two dots, base64url alphabet, no padding); the header (its
    /// `alg` must be the one pinned to the key its `kid` selects; `crit`
    /// and `typ`); the signature; then the claims: `exp` (required, now
    /// strictly before it plus leeway), `nbf`, `iat`, the maximum lifetime,
    /// `iss`, `aud`, the required claims, and last the deserialization into
    /// `C`.
    ///
    /// A token verified before and still in the verified-token cache skips
    /// all that: only its time claims are checked again (and, for a remote
    /// key set, that its keys have not changed since).
    ///
    /// # Errors
    ///
    /// An [`Error`] whose kind says which check failed.
    pub fn verify(&self, token: &str) -> Result<Verified<C>, Error>
    where
        C: DeserializeOwned + Send + Sync + 'static,
    {
        match self.start(token) {
            Started::Done(result) => result,
            // The refetch is started; this call does not wait for it.
            #[cfg(feature = "remote-jwks")]
            Started::Wait { error, .. } => Err(error),
        }
    }

    /// [`verify`](Self::verify), and when the token names a `kid` that a
    /// remote key set does not hold (or that set has no fresh keys), waits
    /// for the refetch this starts or joins (bounded by the fetch timeout;
    /// not at all when the cooldown refuses one) and tries once more. A
    /// rotated key is accepted on its first token this way.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify).
    pub async fn verify_async(&self, token: &str) -> Result<Verified<C>, Error>
    where
        C: DeserializeOwned + Send + Sync + 'static,
    {
        match self.start(token) {
            Started::Done(result) => result,
            #[cfg(feature = "remote-jwks")]
            Started::Wait { wait, .. } => {
                wait.await;
                self.retry(token)
            }
        }
    }

    /// Verifies, or says what to wait for before [`retry`](Self::retry).
    pub(crate) fn start(&self, token: &str) -> Started<C>
    where
        C: DeserializeOwned + Send + Sync + 'static,
    {
        match self.attempt(token) {
            Ok(verified) => Started::Done(Ok(verified)),
            Err(Fail::Error(error)) => Started::Done(Err(error)),
            #[cfg(feature = "remote-jwks")]
            Err(Fail::Refetch(remote, error)) => Started::Wait {
                wait: remote.refetch_for_unknown_key(),
                error,
            },
        }
    }

    /// Verifies after a refetch, without asking for another one.
    pub(crate) fn retry(&self, token: &str) -> Result<Verified<C>, Error>
    where
        C: DeserializeOwned + Send + Sync + 'static,
    {
        self.attempt(token).map_err(Fail::into_error)
    }

    fn attempt(&self, token: &str) -> Result<Verified<C>, Fail>
    where
        C: DeserializeOwned + Send + Sync + 'static,
    {
        let config = &*self.config;
        let bytes = token.as_bytes();
        if bytes.len() > config.max_token_len {
            return Err(ErrorKind::TokenTooLarge.into());
        }
        #[cfg(feature = "cache")]
        if let Some(cache) = &self.cache {
            if let Some(entry) = cache.get(token)
                && self.generation(entry.group as usize) == Some(entry.generation)
            {
                cache.hit();
                let r = entry.verified.registered();
                self.check_window(r.exp(), r.nbf(), config.clock.now())?;
                return Ok(entry.verified);
            }
            cache.miss();
        }
        let (first, second) = split_compact(bytes)?;
        let signing_input = &bytes[..second];

        if first > MAX_HEADER_LEN / 3 * 4 + 3 {
            return Err(ErrorKind::MalformedToken.into());
        }
        let (mut stack, mut heap) = ([0u8; 256], Vec::new());
        let header_json = decode_small(&bytes[..first], &mut stack, &mut heap)?;
        let header: Header<'_> =
            serde_json::from_slice(header_json).map_err(|_| ErrorKind::MalformedToken)?;
        let alg = parse_alg(&header.alg.0).ok_or(ErrorKind::UnsupportedAlgorithm)?;
        if let Some(crit) = &header.crit {
            let understood = |name: &Str<'_>| config.understood_crit.iter().any(|u| **u == *name.0);
            if crit.is_empty() || !crit.iter().all(understood) {
                return Err(ErrorKind::UnsupportedCritical.into());
            }
        }
        if let Some(expected) = &config.typ {
            match &header.typ {
                Some(typ) if typ_matches(&typ.0, expected) => {}
                _ => return Err(ErrorKind::InvalidType.into()),
            }
        }
        let (mut stack, mut heap) = ([0u8; 512], Vec::new());
        let payload = decode_small(&bytes[first + 1..second], &mut stack, &mut heap)?;
        let (group_index, group) = self.select(payload)?;
        if !group.algorithms.is_empty() && !group.algorithms.contains(&alg) {
            return Err(ErrorKind::AlgorithmMismatch.into());
        }
        let kid = header.kid.as_ref().map(|k| &*k.0);
        #[cfg(feature = "remote-jwks")]
        let snapshot;
        // Without `remote-jwks` there is one kind of source.
        #[allow(clippy::infallible_destructuring_match)]
        let (keys, generation): (&KeySet, u64) = match &group.keys {
            KeySource::Static(keys) => (keys, 0),
            #[cfg(feature = "remote-jwks")]
            KeySource::Remote(remote) => {
                snapshot = remote.snapshot();
                remote.fresh(&snapshot).ok_or_else(|| {
                    Fail::Refetch(remote.clone(), ErrorKind::KeysUnavailable.into())
                })?
            }
        };
        let key = match (keys.find(kid), &group.keys) {
            (Some(key), _) => key,
            #[cfg(feature = "remote-jwks")]
            (None, KeySource::Remote(remote)) if kid.is_some() => {
                return Err(Fail::Refetch(remote.clone(), ErrorKind::UnknownKey.into()));
            }
            (None, _) => return Err(ErrorKind::UnknownKey.into()),
        };
        if key.algorithm() != alg {
            return Err(ErrorKind::AlgorithmMismatch.into());
        }
        let signature = decode_segment(&bytes[second + 1..])?;
        if !verify_raw(key, signing_input, &signature) {
            return Err(ErrorKind::InvalidSignature.into());
        }

        // One parse: `C` is deserialized through a tee that records the
        // registered claims on the way.
        let mut sink = Sink::new(&config.required);
        let mut de = serde_json::Deserializer::from_slice(payload);
        let claims = C::deserialize(Tee::top(&mut de, &mut sink))
            .and_then(|claims| de.end().map(|()| claims))
            .map_err(|_| ErrorKind::InvalidClaims)?;
        let registered = sink.registered().ok_or(ErrorKind::InvalidClaims)?;
        let now = config.clock.now();
        let registered = self.validate(registered, group, now)?;
        let verified = Verified::new(claims, registered);
        #[cfg(feature = "cache")]
        if let Some(cache) = &self.cache {
            // Until the token expires, and never longer than the bound.
            let left = verified
                .expires_at()
                .saturating_add(config.leeway)
                .saturating_sub(now);
            let ttl = Duration::from_secs(u64::try_from(left).unwrap_or(0)).min(config.cache_ttl);
            cache.insert(token, &verified, group_index as u32, generation, ttl);
        }
        #[cfg(not(feature = "cache"))]
        let _ = (group_index, generation);
        Ok(verified)
    }

    /// The current key generation of a group: 0 for static keys; for a
    /// remote set, its snapshot's, or `None` when its keys are not fresh.
    #[cfg(feature = "cache")]
    fn generation(&self, group: usize) -> Option<u64> {
        match &self.config.groups.get(group)?.keys {
            KeySource::Static(_) => Some(0),
            #[cfg(feature = "remote-jwks")]
            KeySource::Remote(remote) => remote.fresh(&remote.snapshot()).map(|(_, g)| g),
        }
    }

    /// `exp` and `nbf` against `now`, with the leeway: checked on every
    /// verification, and again on every cache hit.
    fn check_window(&self, exp: i64, nbf: Option<i64>, now: i64) -> Result<(), Error> {
        let leeway = self.config.leeway;
        if now >= exp.saturating_add(leeway) {
            return Err(ErrorKind::Expired.into());
        }
        if nbf.is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
            return Err(ErrorKind::NotYetValid.into());
        }
        Ok(())
    }

    /// The group whose keys verify this token: the only one, or the one
    /// naming the token's `iss`, read before anything is verified so that
    /// an unknown issuer touches no key source.
    fn select(&self, payload: &[u8]) -> Result<(usize, &Group), Error> {
        #[derive(serde::Deserialize)]
        struct Iss<'a> {
            #[serde(borrow)]
            iss: Option<Str<'a>>,
        }
        let groups = &self.config.groups;
        if let [only] = &groups[..] {
            return Ok((0, only));
        }
        let iss = serde_json::from_slice::<Iss<'_>>(payload)
            .map_err(|_| ErrorKind::InvalidClaims)?
            .iss
            .ok_or_else(|| Error::with_detail(ErrorKind::MissingClaim, "iss"))?;
        groups
            .iter()
            .enumerate()
            .find(|(_, g)| g.issuers.iter().any(|i| **i == *iss.0))
            .ok_or_else(|| ErrorKind::InvalidIssuer.into())
    }

    fn validate(
        &self,
        r: &Registered<'_>,
        group: &Group,
        now: i64,
    ) -> Result<RegisteredClaims, Error> {
        let config = &*self.config;
        let leeway = config.leeway;
        let exp = r
            .exp
            .ok_or_else(|| Error::with_detail(ErrorKind::MissingClaim, "exp"))?;
        self.check_window(exp, r.nbf, now)?;
        if r.iat.is_some_and(|iat| iat > now.saturating_add(leeway)) {
            return Err(ErrorKind::IssuedInFuture.into());
        }
        if let Some(max) = config.max_lifetime {
            let iat = r
                .iat
                .ok_or_else(|| Error::with_detail(ErrorKind::MissingClaim, "iat"))?;
            if exp.saturating_sub(iat) > max {
                return Err(ErrorKind::LifetimeTooLong.into());
            }
        }
        if !group.issuers.is_empty() {
            let iss = r
                .iss
                .as_ref()
                .ok_or_else(|| Error::with_detail(ErrorKind::MissingClaim, "iss"))?;
            if !group.issuers.iter().any(|i| **i == *iss.0) {
                return Err(ErrorKind::InvalidIssuer.into());
            }
        }
        if !group.audiences.is_empty() {
            let aud = r
                .aud
                .as_ref()
                .ok_or_else(|| Error::with_detail(ErrorKind::MissingClaim, "aud"))?;
            if !aud.contains_any(&group.audiences) {
                return Err(ErrorKind::InvalidAudience.into());
            }
        }
        let registered_present = [
            r.sub.is_some(),
            r.jti.is_some(),
            r.sid.is_some(),
            r.iat.is_some(),
        ];
        for (i, name) in REQUIRABLE.iter().enumerate() {
            if config.required_registered[i] && !registered_present[i] {
                return Err(Error::with_detail(ErrorKind::MissingClaim, *name));
            }
        }
        if r.present != config.required_mask {
            let missing = (0..config.required.len())
                .find(|i| r.present & (1 << i) == 0)
                .map(|i| config.required[i].to_string())
                .unwrap_or_default();
            return Err(Error::with_detail(ErrorKind::MissingClaim, missing));
        }
        Ok(RegisteredClaims::from_parts(
            [text(&r.iss), text(&r.sub), text(&r.jti), text(&r.sid)],
            exp,
            r.nbf,
            r.iat,
        ))
    }
}

/// Why an attempt stopped: an answer, or a remote key set to refetch.
enum Fail {
    Error(Error),
    #[cfg(feature = "remote-jwks")]
    Refetch(RemoteJwks, Error),
}

impl Fail {
    fn into_error(self) -> Error {
        match self {
            Self::Error(error) => error,
            #[cfg(feature = "remote-jwks")]
            Self::Refetch(_, error) => error,
        }
    }
}

impl From<Error> for Fail {
    fn from(error: Error) -> Self {
        Self::Error(error)
    }
}

impl From<ErrorKind> for Fail {
    fn from(kind: ErrorKind) -> Self {
        Self::Error(kind.into())
    }
}

/// What [`JwtVerifier::start`] decided.
pub(crate) enum Started<C> {
    Done(Result<Verified<C>, Error>),
    /// A refetch is started or joined: wait for it, then
    /// [`retry`](JwtVerifier::retry); `error` is the answer without waiting.
    #[cfg(feature = "remote-jwks")]
    Wait {
        wait: Wait,
        error: Error,
    },
}

/// The positions of the two dots of a compact JWS whose every other byte is
/// base64url, with no segment empty.
///
/// Written as branch-free folds so the compiler vectorizes them: this runs
/// on every byte of every token, hostile ones included.
fn split_compact(bytes: &[u8]) -> Result<(usize, usize), Error> {
    let mut dots = memchr::memchr_iter(b'.', bytes);
    let (Some(first), Some(second), None) = (dots.next(), dots.next(), dots.next()) else {
        return Err(ErrorKind::MalformedToken.into());
    };
    let invalid = bytes.iter().fold(0u8, |acc, &b| {
        let letter = (b | 0x20).wrapping_sub(b'a') < 26;
        let digit = b.wrapping_sub(b'0') < 10;
        acc | u8::from(!(letter | digit | (b == b'.') | (b == b'-') | (b == b'_')))
    });
    if invalid != 0 || first == 0 || second == first + 1 || second + 1 == bytes.len() {
        return Err(ErrorKind::MalformedToken.into());
    }
    Ok((first, second))
}

/// Decodes into `stack` when it fits, into `heap` otherwise: most headers
/// and payloads are small, and this saves an allocation per request.
fn decode_small<'b>(
    segment: &[u8],
    stack: &'b mut [u8],
    heap: &'b mut Vec<u8>,
) -> Result<&'b [u8], Error> {
    match URL_SAFE_NO_PAD.decode_slice(segment, stack) {
        Ok(len) => Ok(&stack[..len]),
        Err(base64::DecodeSliceError::OutputSliceTooSmall) => {
            *heap = decode_segment(segment)?;
            Ok(heap)
        }
        Err(_) => Err(ErrorKind::MalformedToken.into()),
    }
}

fn decode_segment(segment: &[u8]) -> Result<Vec<u8>, Error> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| ErrorKind::MalformedToken.into())
}

fn text<'a>(s: &'a Option<Str<'_>>) -> Option<&'a str> {
    s.as_ref().map(|s| &*s.0)
}

/// Exact, case-sensitive names (RFC 7518 §3.1): `none`, `None`, `NONE` and
/// anything unknown are refused.
fn parse_alg(name: &str) -> Option<Algorithm> {
    Some(match name {
        "HS256" => Algorithm::HS256,
        "HS384" => Algorithm::HS384,
        "HS512" => Algorithm::HS512,
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        _ => return None,
    })
}

/// RFC 7515 §4.1.9: a `typ` without `/` means `application/` + it; media
/// types compare case-insensitively. `expected` is stored in full form.
fn typ_matches(typ: &str, expected: &str) -> bool {
    match typ.contains('/') {
        true => typ.eq_ignore_ascii_case(expected),
        false => expected
            .strip_prefix("application/")
            .is_some_and(|e| e.eq_ignore_ascii_case(typ)),
    }
}

/// Builds a [`JwtVerifier`]; strict by default, and refuses weak settings.
#[must_use]
pub struct JwtVerifierBuilder<C = StandardClaims> {
    sources: KeySources,
    trusted: Vec<Issuer>,
    issuers: Vec<Box<str>>,
    audiences: Vec<Box<str>>,
    leeway: Duration,
    max_lifetime: Option<Duration>,
    typ: Option<String>,
    required: Vec<Box<str>>,
    understood_crit: Vec<Box<str>>,
    clock: Arc<dyn Clock>,
    max_token_len: usize,
    #[cfg_attr(not(feature = "cache"), allow(dead_code))]
    cache_bytes: Option<u64>,
    cache_ttl: Duration,
    _claims: PhantomData<fn() -> C>,
}

impl<C> fmt::Debug for JwtVerifierBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifierBuilder")
            .field("keys", &self.sources)
            .field("trusted", &self.trusted)
            .field("issuers", &self.issuers)
            .field("audiences", &self.audiences)
            .finish_non_exhaustive()
    }
}

impl<C> JwtVerifierBuilder<C> {
    /// Trusts `key`.
    pub fn key(mut self, key: Key) -> Self {
        self.sources.keys.push(key);
        self
    }

    /// Trusts every key of `keys`.
    pub fn key_set(mut self, keys: KeySet) -> Self {
        self.sources.key_sets.push(keys);
        self
    }

    /// Trusts the keys fetched by `keys` (see [`RemoteJwks`]).
    #[cfg(feature = "remote-jwks")]
    #[cfg_attr(docsrs, doc(cfg(feature = "remote-jwks")))]
    pub fn remote_jwks(mut self, keys: RemoteJwks) -> Self {
        self.sources.remote = Some(keys);
        self
    }

    /// Trusts one more issuer with its own keys, audiences and algorithms;
    /// see [`Issuer`]. With several issuers (these, and the keys given to
    /// [`key`](Self::key) with their [`issuer`](Self::issuer) names), the
    /// token's `iss` selects whose keys verify it.
    pub fn trust(mut self, issuer: Issuer) -> Self {
        self.trusted.push(issuer);
        self
    }

    /// Accepts tokens whose `iss` is exactly `issuer`, verified with the
    /// keys given to [`key`](Self::key), [`key_set`](Self::key_set) or
    /// `remote_jwks`; may be called several times. Once any issuer is set,
    /// `iss` is required.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuers.push(issuer.into().into_boxed_str());
        self
    }

    /// Accepts tokens whose `aud` is, or contains, `audience`; may be called
    /// several times. Once any audience is set, `aud` is required. Applies
    /// to every [`Issuer`] that sets no audience of its own.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into().into_boxed_str());
        self
    }

    /// Clock-skew allowance for `exp`, `nbf` and `iat` (60 s by default, at
    /// most 5 min).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Refuses tokens whose `exp - iat` is longer than `max`, and tokens
    /// without `iat`.
    pub fn max_lifetime(mut self, max: Duration) -> Self {
        self.max_lifetime = Some(max);
        self
    }

    /// Requires the header `typ` to be this media type, e.g. `at+jwt`
    /// (RFC 9068). `at+jwt` and `application/at+jwt` are the same type.
    pub fn typ(mut self, typ: impl Into<String>) -> Self {
        self.typ = Some(typ.into());
        self
    }

    /// Requires the claim `name` to be present and not `null` (`exp` always
    /// is).
    pub fn require_claim(mut self, name: impl Into<String>) -> Self {
        self.required.push(name.into().into_boxed_str());
        self
    }

    /// Accepts tokens whose `crit` header names this extension. Without
    /// this, any `crit` is refused.
    pub fn understood_critical(mut self, name: impl Into<String>) -> Self {
        self.understood_crit.push(name.into().into_boxed_str());
        self
    }

    /// Reads time from `clock` instead of the system clock.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Refuses longer tokens before decoding them (8 KiB by default).
    pub fn max_token_len(mut self, bytes: usize) -> Self {
        self.max_token_len = bytes;
        self
    }

    /// Bounds the verified-token cache to about this many bytes of tokens
    /// (32 MiB by default); when full, moka evicts the least useful
    /// entries, which only costs a full verification later.
    #[cfg(feature = "cache")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
    pub fn cache_max_bytes(mut self, bytes: u64) -> Self {
        self.cache_bytes = Some(bytes);
        self
    }

    /// Keeps a token in the verified-token cache at most this long (5 min
    /// by default, 24 h at most), and never past its `exp`.
    #[cfg(feature = "cache")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
    pub fn cache_max_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// Verifies every token in full, every time.
    #[cfg(feature = "cache")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
    pub fn no_cache(mut self) -> Self {
        self.cache_bytes = None;
        self
    }

    /// The verifier.
    ///
    /// # Errors
    ///
    /// When there is no key, two keys of one issuer share a `kid`, an issuer
    /// has both static and remote keys, several issuers are trusted but
    /// keys given to [`key`](Self::key) have no [`issuer`](Self::issuer)
    /// name, an issuer is trusted twice, a key's algorithm is not among its
    /// issuer's, the leeway is over 5 min, the cache TTL over 24 h, the
    /// maximum lifetime is zero, an issuer, audience, `typ` or claim name is
    /// empty, or more than 64 custom claims are required.
    pub fn build(self) -> Result<JwtVerifier<C>, ConfigError>
    where
        C: Send + Sync + 'static,
    {
        let empty = |v: &[Box<str>]| v.iter().any(|s| s.is_empty());
        if empty(&self.issuers)
            || empty(&self.audiences)
            || empty(&self.required)
            || self
                .trusted
                .iter()
                .any(|i| i.name.is_empty() || empty(&i.audiences))
        {
            return Err(ConfigError::new(
                "JwtVerifier: empty issuer, audience or claim name",
            ));
        }
        let named_default = !self.issuers.is_empty();
        let mut groups = Vec::new();
        groups.extend(Group::new(
            self.issuers,
            self.sources,
            self.audiences.clone(),
            Vec::new(),
        )?);
        if groups.is_empty() && named_default {
            return Err(ConfigError::new(
                "JwtVerifier: issuer() names need keys from key(), key_set() or remote_jwks(); \
                 use trust(Issuer) to give an issuer its own keys",
            ));
        }
        for issuer in self.trusted {
            let audiences = match issuer.audiences.is_empty() {
                true => self.audiences.clone(),
                false => issuer.audiences,
            };
            let name = issuer.name.clone();
            let group = Group::new(
                vec![issuer.name.into_boxed_str()],
                issuer.sources,
                audiences,
                issuer.algorithms,
            )?
            .ok_or_else(|| ConfigError::new(format!("JwtVerifier: issuer {name:?} has no key")))?;
            groups.push(group);
        }
        if groups.is_empty() {
            return Err(ConfigError::new("JwtVerifier: no verification key"));
        }
        if groups.len() > 1 {
            if groups.iter().any(|g| g.issuers.is_empty()) {
                return Err(ConfigError::new(
                    "JwtVerifier: with several issuers, the keys given to key(), key_set() or \
                     remote_jwks() need issuer() names",
                ));
            }
            let mut names: Vec<&str> = groups
                .iter()
                .flat_map(|g| g.issuers.iter().map(|i| &**i))
                .collect();
            names.sort_unstable();
            if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
                return Err(ConfigError::new(format!(
                    "JwtVerifier: issuer {:?} is trusted twice",
                    w[0]
                )));
            }
        }
        if self.leeway > MAX_LEEWAY {
            return Err(ConfigError::new("JwtVerifier: leeway above 5 minutes"));
        }
        if self.cache_ttl > Duration::from_secs(86_400) {
            return Err(ConfigError::new("JwtVerifier: cache TTL above 24 hours"));
        }
        if self.max_lifetime == Some(Duration::ZERO) {
            return Err(ConfigError::new("JwtVerifier: maximum lifetime of zero"));
        }
        let typ = match self.typ {
            Some(t) if t.is_empty() => {
                return Err(ConfigError::new("JwtVerifier: empty typ"));
            }
            Some(t) if t.contains('/') => Some(t.to_ascii_lowercase().into_boxed_str()),
            Some(t) => Some(format!("application/{}", t.to_ascii_lowercase()).into_boxed_str()),
            None => None,
        };
        let mut required_registered = [false; 4];
        let mut required = Vec::new();
        for name in self.required {
            match &*name {
                "exp" => {}
                "iss" | "aud" | "nbf" => {
                    return Err(ConfigError::new(format!(
                        "JwtVerifier: require `{name}` with issuer(), audience() or not at all; \
                         `nbf` is checked whenever present"
                    )));
                }
                _ => match REQUIRABLE.iter().position(|r| **r == *name) {
                    Some(i) => required_registered[i] = true,
                    None if !required.contains(&name) => required.push(name),
                    None => {}
                },
            }
        }
        if required.len() > 64 {
            return Err(ConfigError::new(
                "JwtVerifier: more than 64 required claims",
            ));
        }
        let max_lifetime = self
            .max_lifetime
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Ok(JwtVerifier {
            config: Arc::new(Config {
                groups,
                leeway: i64::try_from(self.leeway.as_secs()).unwrap_or(i64::MAX),
                max_lifetime,
                typ,
                required_mask: match required.len() {
                    64 => u64::MAX,
                    n => (1u64 << n) - 1,
                },
                required,
                required_registered,
                understood_crit: self.understood_crit,
                clock: self.clock,
                max_token_len: self.max_token_len,
                cache_ttl: self.cache_ttl,
            }),
            #[cfg(feature = "cache")]
            cache: self
                .cache_bytes
                .filter(|&bytes| bytes > 0 && !self.cache_ttl.is_zero())
                .map(|bytes| Arc::new(VerifiedCache::new(bytes))),
            _claims: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_shape() {
        assert!(split_compact(b"a.b.c").is_ok());
        for bad in [
            &b"a.b"[..],
            b"a.b.c.d",
            b".b.c",
            b"a..c",
            b"a.b.",
            b"a.b.c=",
            b"a+b.c.d",
            b"a.b.c ",
            b"",
        ] {
            assert!(
                split_compact(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn typ_rule() {
        assert!(typ_matches("at+jwt", "application/at+jwt"));
        assert!(typ_matches("AT+JWT", "application/at+jwt"));
        assert!(typ_matches("application/at+JWT", "application/at+jwt"));
        assert!(!typ_matches("JWT", "application/at+jwt"));
        assert!(!typ_matches("text/at+jwt", "application/at+jwt"));
    }

    #[test]
    fn alg_names_are_exact() {
        for bad in ["none", "None", "NONE", "nOnE", "hs256", "ES512", ""] {
            assert_eq!(parse_alg(bad), None, "{bad}");
        }
        assert_eq!(parse_alg("EdDSA"), Some(Algorithm::EdDSA));
    }
}
