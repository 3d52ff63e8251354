//! axum extractors (feature `axum`).
//!
//! [`Claims<C>`] takes the [`Verified<C>`] that
//! [`JwtLayer`](crate::jwt::JwtLayer) put in the request. As
//! `Option<Claims<C>>` it is `None` for a request an optional
//! [`BearerLayer`](crate::bearer::BearerLayer) let through without a token.
//! A route reached without the layers is a server misconfiguration: the
//! rejection says which layer is missing, with status 500.

use std::ops::Deref;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;

use crate::error::{Error, ErrorKind, http_response};
use crate::token::{Unauthenticated, Verified};

/// The verified claims of the request.
///
/// ```
/// use axum::{Router, routing::get};
/// use tollgate::extract::Claims;
/// use tollgate::token::StandardClaims;
///
/// async fn me(claims: Claims<StandardClaims>) -> String {
///     claims.subject().unwrap_or("anonymous").to_owned()
/// }
///
/// async fn greet(claims: Option<Claims<StandardClaims>>) -> &'static str {
///     if claims.is_some() { "welcome back" } else { "hello, stranger" }
/// }
///
/// let app: Router = Router::new().route("/me", get(me)).route("/", get(greet));
/// ```
#[derive(Debug)]
pub struct Claims<C>(pub Verified<C>);

impl<C> Clone for Claims<C> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<C> Deref for Claims<C> {
    type Target = Verified<C>;

    fn deref(&self) -> &Verified<C> {
        &self.0
    }
}

/// Why [`Claims`] could not be extracted.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClaimsRejection {
    /// An optional `BearerLayer` let the request through without a token;
    /// answered 401 with `WWW-Authenticate: Bearer`.
    Unauthenticated,
    /// No `JwtLayer` (or no `BearerLayer`) ran for this route; answered 500.
    MissingLayer,
}

impl IntoResponse for ClaimsRejection {
    fn into_response(self) -> Response {
        match self {
            Self::Unauthenticated => http_response(&Error::new(ErrorKind::MissingToken), None),
            Self::MissingLayer => {
                tracing::error!(
                    "Claims extractor used on a route without tollgate's BearerLayer and JwtLayer \
                     (or with a different claims type)"
                );
                let mut response = http_response(
                    &Error::with_detail(ErrorKind::MissingLayer, "JwtLayer"),
                    None,
                );
                *response.body_mut() = "Claims<C> needs tollgate's BearerLayer and JwtLayer \
                                        in front of this route"
                    .into();
                response
            }
        }
    }
}

impl std::fmt::Display for ClaimsRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unauthenticated => "the request carries no token",
            Self::MissingLayer => "no JwtLayer ran for this route",
        })
    }
}

impl std::error::Error for ClaimsRejection {}

impl<S, C> FromRequestParts<S> for Claims<C>
where
    S: Send + Sync,
    C: Send + Sync + 'static,
{
    type Rejection = ClaimsRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Verified<C>>() {
            Some(verified) => Ok(Claims(verified.clone())),
            None if parts.extensions.get::<Unauthenticated>().is_some() => {
                Err(ClaimsRejection::Unauthenticated)
            }
            None => Err(ClaimsRejection::MissingLayer),
        }
    }
}

impl<S, C> OptionalFromRequestParts<S> for Claims<C>
where
    S: Send + Sync,
    C: Send + Sync + 'static,
{
    type Rejection = ClaimsRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        match parts.extensions.get::<Verified<C>>() {
            Some(verified) => Ok(Some(Claims(verified.clone()))),
            None if parts.extensions.get::<Unauthenticated>().is_some() => Ok(None),
            None => Err(ClaimsRejection::MissingLayer),
        }
    }
}
