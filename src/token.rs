//! The request extensions through which tollgate's layers talk.
//!
//! | type | put there by | read by |
//! |---|---|---|
//! | [`BearerToken`] | [`BearerLayer`](crate::bearer::BearerLayer) | `JwtLayer`, your handlers |
//! | [`Unauthenticated`] | an optional `BearerLayer` that found no token | `JwtLayer` (passes the request on), extractors |
//! | [`Verified<C>`] | [`JwtLayer`](crate::jwt::JwtLayer) | later layers, handlers, [`Claims`](crate::extract::Claims) |

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Where a [`BearerToken`] was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenSource {
    /// `Authorization: Bearer …` (RFC 6750 §2.1).
    AuthorizationHeader,
    /// A named cookie.
    Cookie,
    /// A named custom header carrying the bare token.
    Header,
    /// A URI query parameter (RFC 6750 §2.3).
    Query,
}

/// The bearer token of the request, as found by
/// [`BearerLayer`](crate::bearer::BearerLayer).
///
/// Its `Debug` output never shows the token.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken {
    token: Box<str>,
    source: TokenSource,
}

impl BearerToken {
    /// A token found in `source`.
    pub fn new(token: impl Into<Box<str>>, source: TokenSource) -> Self {
        Self {
            token: token.into(),
            source,
        }
    }

    /// The token text.
    pub fn as_str(&self) -> &str {
        &self.token
    }

    /// Where it was found.
    pub fn source(&self) -> TokenSource {
        self.source
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerToken")
            .field(
                "token",
                &format_args!("<redacted {} bytes>", self.token.len()),
            )
            .field("source", &self.source)
            .finish()
    }
}

/// Marks a request that an optional
/// [`BearerLayer`](crate::bearer::BearerLayer) let through without a token.
///
/// Later layers pass such a request on instead of refusing it as
/// misconfigured; extractors answer 401 for it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unauthenticated;

/// The registered claims of a verified token, whatever the claims type.
///
/// Later layers (revocation, sessions) read these without knowing the
/// application's claims type. Times are seconds since the Unix epoch. The
/// strings share one allocation.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RegisteredClaims {
    text: String,
    iss: Option<Span>,
    sub: Option<Span>,
    jti: Option<Span>,
    sid: Option<Span>,
    exp: i64,
    nbf: Option<i64>,
    iat: Option<i64>,
}

type Span = (u32, u32);

impl RegisteredClaims {
    /// Claims of a token that expires at `exp`; add the others with the
    /// `with_*` methods.
    pub fn new(exp: i64) -> Self {
        Self {
            exp,
            ..Self::default()
        }
    }

    pub(crate) fn from_parts(
        strings: [Option<&str>; 4],
        exp: i64,
        nbf: Option<i64>,
        iat: Option<i64>,
    ) -> Self {
        let len = strings.iter().flatten().map(|s| s.len()).sum();
        let mut text = String::with_capacity(len);
        let [iss, sub, jti, sid] = strings.map(|s| s.map(|s| push(&mut text, s)));
        Self {
            text,
            iss,
            sub,
            jti,
            sid,
            exp,
            nbf,
            iat,
        }
    }

    fn span(&self, span: Option<Span>) -> Option<&str> {
        span.and_then(|(start, end)| self.text.get(start as usize..end as usize))
    }

    /// `iss`.
    pub fn iss(&self) -> Option<&str> {
        self.span(self.iss)
    }

    /// `sub`.
    pub fn sub(&self) -> Option<&str> {
        self.span(self.sub)
    }

    /// `jti`.
    pub fn jti(&self) -> Option<&str> {
        self.span(self.jti)
    }

    /// `sid` (OpenID Connect session id).
    pub fn sid(&self) -> Option<&str> {
        self.span(self.sid)
    }

    /// `exp` (always present on a verified token).
    pub fn exp(&self) -> i64 {
        self.exp
    }

    /// `nbf`.
    pub fn nbf(&self) -> Option<i64> {
        self.nbf
    }

    /// `iat`.
    pub fn iat(&self) -> Option<i64> {
        self.iat
    }

    /// With `iss`.
    #[must_use]
    pub fn with_iss(mut self, iss: &str) -> Self {
        self.iss = Some(push(&mut self.text, iss));
        self
    }

    /// With `sub`.
    #[must_use]
    pub fn with_sub(mut self, sub: &str) -> Self {
        self.sub = Some(push(&mut self.text, sub));
        self
    }

    /// With `jti`.
    #[must_use]
    pub fn with_jti(mut self, jti: &str) -> Self {
        self.jti = Some(push(&mut self.text, jti));
        self
    }

    /// With `sid`.
    #[must_use]
    pub fn with_sid(mut self, sid: &str) -> Self {
        self.sid = Some(push(&mut self.text, sid));
        self
    }

    /// With `nbf`.
    #[must_use]
    pub fn with_nbf(mut self, nbf: i64) -> Self {
        self.nbf = Some(nbf);
        self
    }

    /// With `iat`.
    #[must_use]
    pub fn with_iat(mut self, iat: i64) -> Self {
        self.iat = Some(iat);
        self
    }
}

/// Appends `s` and returns where it stands. Claims come from a token capped
/// far below 4 GiB, so the offsets fit.
fn push(text: &mut String, s: &str) -> Span {
    let start = text.len();
    text.push_str(s);
    (start as u32, text.len() as u32)
}

impl fmt::Debug for RegisteredClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisteredClaims")
            .field("iss", &self.iss())
            .field("sub", &self.sub())
            .field("jti", &self.jti())
            .field("sid", &self.sid())
            .field("exp", &self.exp)
            .field("nbf", &self.nbf)
            .field("iat", &self.iat)
            .finish()
    }
}

/// A verified token's claims, put in the request extensions by
/// [`JwtLayer`](crate::jwt::JwtLayer).
///
/// Cheap to clone (one `Arc`). Dereferences to the claims `C`.
pub struct Verified<C> {
    inner: Arc<VerifiedInner<C>>,
}

struct VerifiedInner<C> {
    claims: C,
    registered: RegisteredClaims,
}

impl<C> Verified<C> {
    /// Claims that have been verified. Useful to build requests in tests of
    /// handlers that sit behind `JwtLayer`.
    pub fn new(claims: C, registered: RegisteredClaims) -> Self {
        Self {
            inner: Arc::new(VerifiedInner { claims, registered }),
        }
    }

    /// The application's claims.
    pub fn claims(&self) -> &C {
        &self.inner.claims
    }

    /// The registered claims, whatever `C` is.
    pub fn registered(&self) -> &RegisteredClaims {
        &self.inner.registered
    }

    /// `sub`.
    pub fn subject(&self) -> Option<&str> {
        self.inner.registered.sub()
    }

    /// `iss`.
    pub fn issuer(&self) -> Option<&str> {
        self.inner.registered.iss()
    }

    /// `jti`.
    pub fn jti(&self) -> Option<&str> {
        self.inner.registered.jti()
    }

    /// `sid`.
    pub fn session_id(&self) -> Option<&str> {
        self.inner.registered.sid()
    }

    /// `exp`.
    pub fn expires_at(&self) -> i64 {
        self.inner.registered.exp()
    }

    /// `iat`.
    pub fn issued_at(&self) -> Option<i64> {
        self.inner.registered.iat()
    }
}

impl<C> Clone for Verified<C> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<C> Deref for Verified<C> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.inner.claims
    }
}

impl<C> fmt::Debug for Verified<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verified")
            .field("registered", &self.inner.registered)
            .finish_non_exhaustive()
    }
}

/// `aud`: one audience or several.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Audience {
    /// `"aud": "api"`.
    One(String),
    /// `"aud": ["api", "admin"]`.
    Many(Vec<String>),
}

impl Audience {
    /// Whether `audience` is one of them.
    pub fn contains(&self, audience: &str) -> bool {
        self.iter().any(|a| a == audience)
    }

    /// Every audience.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let (one, many) = match self {
            Self::One(a) => (Some(a.as_str()), &[][..]),
            Self::Many(v) => (None, v.as_slice()),
        };
        one.into_iter().chain(many.iter().map(String::as_str))
    }
}

impl<'de> Deserialize<'de> for Audience {
    // By hand rather than `#[serde(untagged)]`, which buffers the value.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Audience;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Audience, E> {
                Ok(Audience::One(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Audience, E> {
                Ok(Audience::One(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Audience, A::Error> {
                let mut all = Vec::with_capacity(seq.size_hint().unwrap_or(1).min(16));
                while let Some(a) = seq.next_element::<String>()? {
                    all.push(a);
                }
                Ok(Audience::Many(all))
            }
        }
        d.deserialize_any(V)
    }
}

/// The usual access-token claims (RFC 7519, RFC 9068, OpenID Connect `sid`).
///
/// Use it as the claims type when nothing else is needed; use your own
/// `Deserialize` type otherwise: the registered claims stay available through
/// [`Verified::registered`] either way.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StandardClaims {
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
    /// Expiry (seconds since the epoch).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "numeric_date::option"
    )]
    pub exp: Option<i64>,
    /// Not before.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "numeric_date::option"
    )]
    pub nbf: Option<i64>,
    /// Issued at.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "numeric_date::option"
    )]
    pub iat: Option<i64>,
    /// Token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Session id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Space-separated scopes (RFC 8693 §4.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The OAuth client the token was issued to (RFC 9068).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

impl StandardClaims {
    /// The scopes in `scope`.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope
            .as_deref()
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
    }
}

/// RFC 7519 NumericDate: a JSON number of seconds, possibly fractional.
pub(crate) mod numeric_date {
    use std::fmt;

    use serde::Deserializer;
    use serde::de::{self, Visitor};

    pub(crate) struct NumericDate;

    /// Whole seconds of a fractional NumericDate. The cast saturates, so
    /// what would saturate is refused.
    pub(crate) fn from_f64(v: f64) -> Result<i64, ()> {
        if v.is_finite() && v.abs() < 9.0e15 {
            Ok(v.floor() as i64)
        } else {
            Err(())
        }
    }

    impl Visitor<'_> for NumericDate {
        type Value = i64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a NumericDate (JSON number of seconds)")
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom("NumericDate out of range"))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            from_f64(v).map_err(|()| E::custom("NumericDate out of range"))
        }
    }

    struct OptionalNumericDate;

    impl<'de> Visitor<'de> for OptionalNumericDate {
        type Value = Option<i64>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a NumericDate or null")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(NumericDate).map(Some)
        }
    }

    pub(crate) fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        d.deserialize_option(OptionalNumericDate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_token_debug_is_redacted() {
        let t = BearerToken::new("secret.token.value", TokenSource::AuthorizationHeader);
        let s = format!("{t:?}");
        assert!(!s.contains("secret"), "{s}");
        assert!(s.contains("18 bytes"), "{s}");
    }

    #[test]
    fn standard_claims_read_fractional_dates_and_audiences() {
        let c: StandardClaims = serde_json::from_str(
            r#"{"exp": 1700000000.9, "aud": ["a", "b"], "scope": "read  write"}"#,
        )
        .unwrap();
        assert_eq!(c.exp, Some(1_700_000_000));
        assert!(c.aud.as_ref().unwrap().contains("b"));
        assert_eq!(c.scopes().collect::<Vec<_>>(), ["read", "write"]);
        assert!(serde_json::from_str::<StandardClaims>(r#"{"exp": "1700000000"}"#).is_err());
    }

    #[test]
    fn verified_is_send_sync_and_derefs() {
        fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
        assert_send_sync::<Verified<StandardClaims>>();
        let v = Verified::new(
            StandardClaims {
                sub: Some("alice".into()),
                ..StandardClaims::default()
            },
            RegisteredClaims::new(10).with_sub("bob").with_jti("j"),
        );
        assert_eq!(v.sub.as_deref(), Some("alice"));
        assert_eq!(v.subject(), Some("bob"));
        assert_eq!(v.jti(), Some("j"));
        assert_eq!(v.issuer(), None);
        assert_eq!(v.expires_at(), 10);
    }
}
