//! Why a request was refused, and how that becomes a response.
//!
//! Every layer in tollgate refuses a request with an [`Error`] whose
//! [`ErrorKind`] names exactly what failed, for logs and metrics. The client
//! sees far less: an RFC 6750 answer for HTTP (status, `WWW-Authenticate:
//! Bearer …`, `Cache-Control: no-store`) or, for a request whose
//! `content-type` is `application/grpc*`, a trailers-only gRPC answer with
//! `grpc-status` 16 (UNAUTHENTICATED), 7 (PERMISSION_DENIED) or 13
//! (INTERNAL).
//!
//! | kind | HTTP | RFC 6750 `error` | gRPC |
//! |---|---|---|---|
//! | [`MissingToken`](ErrorKind::MissingToken) | 401 | none (§3.1) | 16 |
//! | [`MultipleTokens`](ErrorKind::MultipleTokens), [`MalformedRequest`](ErrorKind::MalformedRequest) | 400 | `invalid_request` | 16 |
//! | every token and claim kind | 401 | `invalid_token` | 16 |
//! | [`InsufficientScope`](ErrorKind::InsufficientScope) | 403 | `insufficient_scope` | 7 |
//! | [`MissingLayer`](ErrorKind::MissingLayer) | 500 | none | 13 |
//!
//! The rendering is replaceable: pass any [`Rejection`] (a closure
//! `Fn(&Error, &HeaderMap) -> Response<B>` is one) to a layer's
//! `with_rejection`. Whatever renders it, the [`Error`] is put in the
//! rejection response's extensions so outer layers and logs can see why.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::header::{CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Response, StatusCode};

/// What exactly was wrong with a request's credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request carries no token at all.
    MissingToken,
    /// The request carries tokens in more than one place, or several
    /// `Authorization` headers.
    MultipleTokens,
    /// A `Bearer` credential that is not a single b64token.
    MalformedRequest,
    /// The token is longer than the configured cap.
    TokenTooLarge,
    /// The token is not a compact JWS: wrong number of segments, characters
    /// outside base64url, or a header that is not valid JSON.
    MalformedToken,
    /// The header names an algorithm tollgate does not accept (`none`, or
    /// anything unknown).
    UnsupportedAlgorithm,
    /// The header's algorithm is not the one pinned to the key.
    AlgorithmMismatch,
    /// No key matches the token's `kid`.
    UnknownKey,
    /// The issuer's keys are not available: a remote key set whose first
    /// fetch has not succeeded yet, or whose keys are older than the
    /// configured maximum staleness (tollgate fails closed).
    KeysUnavailable,
    /// The signature does not verify.
    InvalidSignature,
    /// The header carries `crit` naming an extension tollgate does not
    /// understand, or an empty `crit`.
    UnsupportedCritical,
    /// The header's `typ` is not the configured one.
    InvalidType,
    /// The claims are not a JSON object of the expected shape (a registered
    /// claim of the wrong type, a duplicated registered claim, or claims that
    /// do not deserialize into the application's type).
    InvalidClaims,
    /// A required claim is absent.
    MissingClaim,
    /// `exp` has passed.
    Expired,
    /// `nbf` is in the future.
    NotYetValid,
    /// `iat` is in the future.
    IssuedInFuture,
    /// `exp - iat` is longer than the configured maximum lifetime.
    LifetimeTooLong,
    /// `iss` is not a configured issuer.
    InvalidIssuer,
    /// `aud` names no configured audience.
    InvalidAudience,
    /// The token was revoked.
    Revoked,
    /// The token lacks a scope or role the endpoint requires.
    InsufficientScope,
    /// A layer found no trace of the layer that must run before it: a
    /// server misconfiguration, answered with 500.
    MissingLayer,
}

/// The RFC 6750 §3.1 error code of a rejection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `invalid_request` (400).
    InvalidRequest,
    /// `invalid_token` (401).
    InvalidToken,
    /// `insufficient_scope` (403).
    InsufficientScope,
}

impl ErrorCode {
    /// The code as it appears in `WWW-Authenticate`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
        }
    }
}

impl ErrorKind {
    /// A terse, client-safe description (never token contents).
    pub fn description(self) -> &'static str {
        match self {
            Self::MissingToken => "missing token",
            Self::MultipleTokens => "more than one token in the request",
            Self::MalformedRequest => "malformed bearer credentials",
            Self::TokenTooLarge => "token too large",
            Self::MalformedToken => "malformed token",
            Self::UnsupportedAlgorithm => "unsupported algorithm",
            Self::AlgorithmMismatch => "algorithm not allowed for this key",
            Self::UnknownKey => "unknown signing key",
            Self::KeysUnavailable => "signing keys unavailable",
            Self::InvalidSignature => "invalid signature",
            Self::UnsupportedCritical => "unsupported critical header",
            Self::InvalidType => "wrong token type",
            Self::InvalidClaims => "malformed claims",
            Self::MissingClaim => "missing required claim",
            Self::Expired => "token expired",
            Self::NotYetValid => "token not yet valid",
            Self::IssuedInFuture => "token issued in the future",
            Self::LifetimeTooLong => "token lifetime too long",
            Self::InvalidIssuer => "untrusted issuer",
            Self::InvalidAudience => "wrong audience",
            Self::Revoked => "token revoked",
            Self::InsufficientScope => "insufficient scope",
            Self::MissingLayer => "server misconfigured",
        }
    }

    /// The RFC 6750 error code, if this kind has one.
    pub fn code(self) -> Option<ErrorCode> {
        match self {
            Self::MissingToken | Self::MissingLayer => None,
            Self::MultipleTokens | Self::MalformedRequest => Some(ErrorCode::InvalidRequest),
            Self::InsufficientScope => Some(ErrorCode::InsufficientScope),
            _ => Some(ErrorCode::InvalidToken),
        }
    }

    /// The HTTP status of a rejection of this kind.
    pub fn status(self) -> StatusCode {
        match self {
            Self::MissingLayer => StatusCode::INTERNAL_SERVER_ERROR,
            Self::InsufficientScope => StatusCode::FORBIDDEN,
            Self::MultipleTokens | Self::MalformedRequest => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The gRPC status code of a rejection of this kind: 16 UNAUTHENTICATED,
    /// 7 PERMISSION_DENIED or 13 INTERNAL.
    pub fn grpc_status(self) -> u16 {
        match self {
            Self::MissingLayer => 13,
            Self::InsufficientScope => 7,
            _ => 16,
        }
    }
}

/// A refused request: what failed, and optionally which claim or layer.
///
/// Its `Display` is the client-safe description; it never holds token bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    detail: Option<Cow<'static, str>>,
}

impl Error {
    /// An error of this kind.
    pub fn new(kind: ErrorKind) -> Self {
        Self { kind, detail: None }
    }

    /// An error of this kind with a detail (a claim name, a layer name)
    /// that is shown to the client after the description.
    pub fn with_detail(kind: ErrorKind, detail: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            detail: Some(detail.into()),
        }
    }

    pub(crate) fn missing_layer(layer: &'static str) -> Self {
        Self::with_detail(ErrorKind::MissingLayer, layer)
    }

    /// What failed.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The detail, if any: the missing claim, the missing layer.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Self::new(kind)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.description())?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// A configuration that tollgate refuses to build.
///
/// Returned by the builders' `build` methods and the key constructors.
/// Keeps the underlying error as its [`source`](std::error::Error::source).
#[derive(Debug)]
pub struct ConfigError {
    message: Cow<'static, str>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl ConfigError {
    pub(crate) fn new(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn with_source(
        message: impl Into<Cow<'static, str>>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Turns a refused request into a response.
///
/// `headers` are the request's headers, to choose the form of the answer
/// (the default answers gRPC callers in gRPC). Implemented by
/// [`DefaultRejection`] and by every `Fn(&Error, &HeaderMap) -> Response<B>`
/// that is `Clone`. The layer puts the [`Error`] into the response's
/// extensions after this returns.
pub trait Rejection<B>: Clone {
    /// Render `error` for a request with these headers.
    fn reject(&self, error: &Error, headers: &HeaderMap) -> Response<B>;
}

impl<B, F> Rejection<B> for F
where
    F: Fn(&Error, &HeaderMap) -> Response<B> + Clone,
{
    fn reject(&self, error: &Error, headers: &HeaderMap) -> Response<B> {
        self(error, headers)
    }
}

/// RFC 6750 answers for HTTP, trailers-only answers for gRPC.
///
/// ```
/// use tollgate::error::{DefaultRejection, Error, ErrorKind, Rejection};
/// use http::HeaderMap;
///
/// let rejection = DefaultRejection::new().with_realm("api").unwrap();
/// let response: http::Response<String> =
///     rejection.reject(&Error::new(ErrorKind::Expired), &HeaderMap::new());
/// assert_eq!(response.status(), 401);
/// assert_eq!(
///     response.headers()["www-authenticate"],
///     r#"Bearer realm="api", error="invalid_token", error_description="token expired""#
/// );
/// assert_eq!(response.headers()["cache-control"], "no-store");
/// ```
#[derive(Clone, Debug, Default)]
pub struct DefaultRejection {
    realm: Option<Arc<str>>,
}

impl DefaultRejection {
    /// Answers without a realm.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `realm="…"` to every `WWW-Authenticate` challenge.
    ///
    /// # Errors
    ///
    /// When the realm is empty or has characters that cannot stand in a
    /// quoted string without escaping (`"`, `\`, controls, non-ASCII).
    pub fn with_realm(mut self, realm: impl Into<String>) -> Result<Self, ConfigError> {
        let realm = realm.into();
        if realm.is_empty() || !realm.bytes().all(is_plain_quoted_char) {
            return Err(ConfigError::new(
                "realm must be non-empty printable ASCII without `\"` or `\\`",
            ));
        }
        self.realm = Some(realm.into());
        Ok(self)
    }

    /// The realm, if one is set.
    pub fn realm(&self) -> Option<&str> {
        self.realm.as_deref()
    }
}

impl<B: Default> Rejection<B> for DefaultRejection {
    fn reject(&self, error: &Error, headers: &HeaderMap) -> Response<B> {
        if is_grpc(headers) {
            grpc_response(error)
        } else {
            http_response(error, self.realm.as_deref())
        }
    }
}

/// Whether the request is a gRPC call (`content-type: application/grpc*`).
pub fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes().starts_with(b"application/grpc"))
}

/// The RFC 6750 response for `error`: status, `WWW-Authenticate` and
/// `Cache-Control: no-store`, with an empty body.
pub fn http_response<B: Default>(error: &Error, realm: Option<&str>) -> Response<B> {
    let kind = error.kind();
    let mut response = Response::new(B::default());
    *response.status_mut() = kind.status();
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if kind == ErrorKind::MissingLayer {
        return response;
    }
    let mut challenge = String::with_capacity(96);
    challenge.push_str("Bearer");
    let mut sep = " ";
    if let Some(realm) = realm {
        challenge.push_str(" realm=\"");
        challenge.push_str(realm);
        challenge.push('"');
        sep = ", ";
    }
    if let Some(code) = kind.code() {
        challenge.push_str(sep);
        challenge.push_str("error=\"");
        challenge.push_str(code.as_str());
        challenge.push_str("\", error_description=\"");
        push_quoted_safe(&mut challenge, &error.to_string());
        challenge.push('"');
    }
    if let Ok(value) = HeaderValue::try_from(challenge) {
        headers.insert(WWW_AUTHENTICATE, value);
    }
    response
}

/// The trailers-only gRPC response for `error`: HTTP 200 with
/// `grpc-status` and a percent-encoded `grpc-message`.
pub fn grpc_response<B: Default>(error: &Error) -> Response<B> {
    let mut response = Response::new(B::default());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    headers.insert("grpc-status", HeaderValue::from(error.kind().grpc_status()));
    let mut message = String::new();
    for b in error.to_string().bytes() {
        if (0x20..0x7f).contains(&b) && b != b'%' {
            message.push(b as char);
        } else {
            message.push_str(&format!("%{b:02X}"));
        }
    }
    if let Ok(value) = HeaderValue::try_from(message) {
        headers.insert("grpc-message", value);
    }
    response
}

fn is_plain_quoted_char(b: u8) -> bool {
    (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\'
}

/// RFC 6750 §3: `error_description` values are restricted to %x20-21 /
/// %x23-5B / %x5D-7E; anything else is dropped.
fn push_quoted_safe(out: &mut String, text: &str) {
    out.extend(
        text.chars()
            .filter(|c| c.is_ascii() && is_plain_quoted_char(*c as u8)),
    );
}

/// Renders `error` with `rejection` and puts the error in the response's
/// extensions.
pub(crate) fn reject<B, R: Rejection<B>>(
    rejection: &R,
    error: Error,
    headers: &HeaderMap,
) -> Response<B> {
    if error.kind() == ErrorKind::MissingLayer {
        tracing::error!(
            detail = error.detail(),
            "tollgate layer is missing in front of this one"
        );
    } else {
        tracing::debug!(kind = ?error.kind(), detail = error.detail(), "request rejected");
    }
    let mut response = rejection.reject(&error, headers);
    response.extensions_mut().insert(error);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grpc_headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/grpc+proto"),
        );
        h
    }

    #[test]
    fn missing_token_has_no_error_code() {
        let r: Response<()> =
            DefaultRejection::new().reject(&Error::new(ErrorKind::MissingToken), &HeaderMap::new());
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()[WWW_AUTHENTICATE], "Bearer");
    }

    #[test]
    fn invalid_request_is_400() {
        let r: Response<()> = DefaultRejection::new()
            .with_realm("x")
            .unwrap()
            .reject(&Error::new(ErrorKind::MultipleTokens), &HeaderMap::new());
        assert_eq!(r.status(), 400);
        assert_eq!(
            r.headers()[WWW_AUTHENTICATE],
            "Bearer realm=\"x\", error=\"invalid_request\", error_description=\"more than one token in the request\""
        );
    }

    #[test]
    fn insufficient_scope_is_403_and_grpc_7() {
        let e = Error::new(ErrorKind::InsufficientScope);
        let r: Response<()> = DefaultRejection::new().reject(&e, &HeaderMap::new());
        assert_eq!(r.status(), 403);
        let g: Response<()> = DefaultRejection::new().reject(&e, &grpc_headers());
        assert_eq!(g.status(), 200);
        assert_eq!(g.headers()["grpc-status"], "7");
    }

    #[test]
    fn grpc_answer_is_trailers_only() {
        let e = Error::with_detail(ErrorKind::MissingClaim, "sub");
        let g: Response<()> = DefaultRejection::new().reject(&e, &grpc_headers());
        assert_eq!(g.headers()["grpc-status"], "16");
        assert_eq!(g.headers()["grpc-message"], "missing required claim: sub");
        assert_eq!(g.headers()[CONTENT_TYPE], "application/grpc");
    }

    #[test]
    fn missing_layer_is_500_and_grpc_13() {
        let e = Error::missing_layer("BearerLayer");
        let r: Response<()> = DefaultRejection::new().reject(&e, &HeaderMap::new());
        assert_eq!(r.status(), 500);
        assert!(r.headers().get(WWW_AUTHENTICATE).is_none());
        let g: Response<()> = DefaultRejection::new().reject(&e, &grpc_headers());
        assert_eq!(g.headers()["grpc-status"], "13");
    }

    #[test]
    fn bad_realms_are_refused() {
        for realm in ["", "a\"b", "a\\b", "é", "a\nb"] {
            assert!(
                DefaultRejection::new().with_realm(realm).is_err(),
                "{realm:?}"
            );
        }
    }

    #[test]
    fn unsafe_detail_characters_are_dropped() {
        let e = Error::with_detail(ErrorKind::MissingClaim, "a\"b\\c\u{e9}");
        let r: Response<()> = http_response(&e, None);
        assert_eq!(
            r.headers()[WWW_AUTHENTICATE],
            "Bearer error=\"invalid_token\", error_description=\"missing required claim: abc\""
        );
    }
}
