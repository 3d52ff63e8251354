use std::fmt;
use std::task::{Context, Poll};

use http::{Request, Response};
use serde::de::DeserializeOwned;
use tower_service::Service;

#[cfg(feature = "remote-jwks")]
use super::future::Pending;
use super::future::ResponseFuture;
use super::verifier::Started;
use super::{JwtLayer, JwtVerifier};
use crate::error::{DefaultRejection, Error, Rejection, reject};
use crate::token::{BearerToken, StandardClaims, Unauthenticated};

/// The service made by [`JwtLayer`].
pub struct Jwt<S, C = StandardClaims, R = DefaultRejection> {
    pub(crate) inner: S,
    pub(crate) verifier: JwtVerifier<C>,
    pub(crate) rejection: R,
}

impl<S, C> Jwt<S, C> {
    /// Wraps `inner`, verifying with `verifier`.
    pub fn new(inner: S, verifier: JwtVerifier<C>) -> Self {
        tower_layer::Layer::layer(&JwtLayer::new(verifier), inner)
    }

    /// Same as [`JwtLayer::new`].
    pub fn layer(verifier: JwtVerifier<C>) -> JwtLayer<C> {
        JwtLayer::new(verifier)
    }
}

impl<S, C, R> Jwt<S, C, R> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Consumes `self`, returning the wrapped service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone, C, R: Clone> Clone for Jwt<S, C, R> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            verifier: self.verifier.clone(),
            rejection: self.rejection.clone(),
        }
    }
}

impl<S: fmt::Debug, C, R: fmt::Debug> fmt::Debug for Jwt<S, C, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwt")
            .field("inner", &self.inner)
            .field("verifier", &self.verifier)
            .field("rejection", &self.rejection)
            .finish()
    }
}

/// `S: Clone` because a token whose key a remote key set must refetch
/// waits for the fetch before the request goes on: the service made ready
/// moves into the response future and a clone takes its place.
impl<S, C, R, ReqBody, ResBody> Service<Request<ReqBody>> for Jwt<S, C, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    C: DeserializeOwned + Send + Sync + 'static,
    R: Rejection<ResBody>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody, C, R>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let extensions = req.extensions();
        let started = match extensions.get::<BearerToken>() {
            Some(token) => self.verifier.start(token.as_str()),
            None if extensions.get::<Unauthenticated>().is_some() => {
                return ResponseFuture::inner(self.inner.call(req));
            }
            None => Started::Done(Err(Error::missing_layer("BearerLayer"))),
        };
        match started {
            Started::Done(Ok(verified)) => {
                req.extensions_mut().insert(verified);
                ResponseFuture::inner(self.inner.call(req))
            }
            Started::Done(Err(error)) => {
                ResponseFuture::rejected(reject(&self.rejection, error, req.headers()))
            }
            #[cfg(feature = "remote-jwks")]
            Started::Wait { wait, .. } => {
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                ResponseFuture::waiting(
                    wait,
                    Pending {
                        inner,
                        request: req,
                        verifier: self.verifier.clone(),
                        rejection: self.rejection.clone(),
                    },
                )
            }
        }
    }
}
