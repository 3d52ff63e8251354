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
            .field("token", &format_args!("<redacted {} bytes>", self.token.len()))
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
/// application's claims type. Times are seconds since the Unix epoch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegisteredClaims {
    /// `iss`.
    pub iss: Option<String>,
    /// `sub`.
    pub sub: Option<String>,
    /// `jti`.
    pub jti: Option<String>,
    /// `sid` (OpenID Connect session id).
    pub sid: Option<String>,
    /// `exp` (always present on a verified token).
    pub exp: i64,
    /// `nbf`.
    pub nbf: Option<i64>,
    /// `iat`.
    pub iat: Option<i64>,
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
        self.inner.registered.sub.as_deref()
    }

    /// `iss`.
    pub fn issuer(&self) -> Option<&str> {
        self.inner.registered.iss.as_deref()
    }

    /// `jti`.
    pub fn jti(&self) -> Option<&str> {
        self.inner.registered.jti.as_deref()
    }

    /// `sid`.
    pub fn session_id(&self) -> Option<&str> {
        self.inner.registered.sid.as_deref()
    }

    /// `exp`.
    pub fn expires_at(&self) -> i64 {
        self.inner.registered.exp
    }

    /// `iat`.
    pub fn issued_at(&self) -> Option<i64> {
        self.inner.registered.iat
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
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
            // The cast saturates; reject what would saturate.
            if v.is_finite() && v.abs() < 9.0e15 {
                Ok(v.floor() as i64)
            } else {
                Err(E::custom("NumericDate out of range"))
            }
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
            RegisteredClaims::default(),
        );
        assert_eq!(v.sub.as_deref(), Some("alice"));
    }
}
