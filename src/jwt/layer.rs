use std::fmt;

use tower_layer::Layer;

use super::{Jwt, JwtVerifier};
use crate::error::DefaultRejection;
use crate::token::StandardClaims;

/// Verifies the [`BearerToken`](crate::token::BearerToken) found by
/// [`BearerLayer`](crate::bearer::BearerLayer) and puts
/// [`Verified<C>`](crate::token::Verified) in the request extensions; see
/// the [module docs](crate::jwt).
pub struct JwtLayer<C = StandardClaims, R = DefaultRejection> {
    pub(crate) verifier: JwtVerifier<C>,
    pub(crate) rejection: R,
}

impl<C> JwtLayer<C> {
    /// A layer that verifies with `verifier` and answers rejections per
    /// RFC 6750 (gRPC status for gRPC calls).
    pub fn new(verifier: JwtVerifier<C>) -> Self {
        Self {
            verifier,
            rejection: DefaultRejection::new(),
        }
    }
}

impl<C, R> JwtLayer<C, R> {
    /// Renders rejections with `rejection` instead.
    pub fn with_rejection<R2>(self, rejection: R2) -> JwtLayer<C, R2> {
        JwtLayer {
            verifier: self.verifier,
            rejection,
        }
    }

    /// The verifier.
    pub fn verifier(&self) -> &JwtVerifier<C> {
        &self.verifier
    }
}

impl<C, R: Clone> Clone for JwtLayer<C, R> {
    fn clone(&self) -> Self {
        Self {
            verifier: self.verifier.clone(),
            rejection: self.rejection.clone(),
        }
    }
}

impl<C, R: fmt::Debug> fmt::Debug for JwtLayer<C, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtLayer")
            .field("verifier", &self.verifier)
            .field("rejection", &self.rejection)
            .finish()
    }
}

impl<S, C, R: Clone> Layer<S> for JwtLayer<C, R> {
    type Service = Jwt<S, C, R>;

    fn layer(&self, inner: S) -> Self::Service {
        Jwt {
            inner,
            verifier: self.verifier.clone(),
            rejection: self.rejection.clone(),
        }
    }
}
