use std::fmt;
use std::marker::PhantomData;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use super::{RevocationLayer, RevocationList};
use crate::error::{DefaultRejection, Error, Rejection, reject};
use crate::future::ResponseFuture;
use crate::token::{StandardClaims, Unauthenticated, Verified};

/// The service made by [`RevocationLayer`].
pub struct Revocation<S, C = StandardClaims, R = DefaultRejection> {
    pub(crate) inner: S,
    pub(crate) list: RevocationList,
    pub(crate) rejection: R,
    pub(crate) _claims: PhantomData<fn() -> C>,
}

impl<S, C> Revocation<S, C> {
    /// Wraps `inner`, checking against `list`.
    pub fn new(inner: S, list: RevocationList) -> Self {
        tower_layer::Layer::layer(&RevocationLayer::new(list), inner)
    }

    /// Same as [`RevocationLayer::new`].
    pub fn layer(list: RevocationList) -> RevocationLayer<C> {
        RevocationLayer::new(list)
    }
}

impl<S, C, R> Revocation<S, C, R> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Consumes `self`, returning the wrapped service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone, C, R: Clone> Clone for Revocation<S, C, R> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            list: self.list.clone(),
            rejection: self.rejection.clone(),
            _claims: PhantomData,
        }
    }
}

impl<S: fmt::Debug, C, R: fmt::Debug> fmt::Debug for Revocation<S, C, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Revocation")
            .field("inner", &self.inner)
            .field("list", &self.list)
            .field("rejection", &self.rejection)
            .finish()
    }
}

impl<S, C, R, ReqBody, ResBody> Service<Request<ReqBody>> for Revocation<S, C, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    C: Send + Sync + 'static,
    R: Rejection<ResBody>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let extensions = req.extensions();
        let result = match extensions.get::<Verified<C>>() {
            Some(verified) => self.list.check(verified.registered()),
            None if extensions.get::<Unauthenticated>().is_some() => Ok(()),
            None => Err(Error::missing_layer("JwtLayer")),
        };
        match result {
            Ok(()) => ResponseFuture::future(self.inner.call(req)),
            Err(error) => ResponseFuture::rejected(reject(&self.rejection, error, req.headers())),
        }
    }
}
