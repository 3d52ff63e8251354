use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use super::BearerLayer;
use super::extract::Sources;
use crate::error::{DefaultRejection, Rejection, reject};
use crate::future::ResponseFuture;
use crate::token::Unauthenticated;

/// The service made by [`BearerLayer`].
#[derive(Clone, Debug)]
pub struct Bearer<S, R = DefaultRejection> {
    pub(crate) inner: S,
    pub(crate) sources: Arc<Sources>,
    pub(crate) optional: bool,
    pub(crate) rejection: R,
}

impl<S> Bearer<S> {
    /// Wraps `inner` with the default [`BearerLayer`].
    pub fn new(inner: S) -> Self {
        tower_layer::Layer::layer(&BearerLayer::new(), inner)
    }

    /// The default layer; same as [`BearerLayer::new`].
    pub fn layer() -> BearerLayer {
        BearerLayer::new()
    }
}

impl<S, R> Bearer<S, R> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Consumes `self`, returning the wrapped service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, R, ReqBody, ResBody> Service<Request<ReqBody>> for Bearer<S, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    R: Rejection<ResBody>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        match self.sources.extract(req.headers(), req.uri()) {
            Ok(Some(token)) => {
                req.extensions_mut().insert(token);
            }
            Ok(None) if self.optional => {
                req.extensions_mut().insert(Unauthenticated);
            }
            Ok(None) => {
                let error = crate::error::ErrorKind::MissingToken.into();
                return ResponseFuture::rejected(reject(&self.rejection, error, req.headers()));
            }
            Err(error) => {
                return ResponseFuture::rejected(reject(&self.rejection, error, req.headers()));
            }
        }
        ResponseFuture::future(self.inner.call(req))
    }
}
