//! The response future of [`Jwt`](super::Jwt).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::{Request, Response};
use pin_project_lite::pin_project;
use serde::de::DeserializeOwned;
use tower_service::Service;

use super::JwtVerifier;
use crate::error::{Error, Rejection, reject};
use crate::token::BearerToken;

/// A wait for a remote key set's refetch (boxed: it is on the I/O path).
pub(crate) type Wait = Pin<Box<dyn Future<Output = ()> + Send>>;

pin_project! {
    /// Response future of [`Jwt`](super::Jwt): the inner service's future,
    /// a rejection ready at once, or (for a token whose `kid` a remote key
    /// set does not hold yet) a wait for the refetch before verifying again.
    pub struct ResponseFuture<S, ReqBody, C, R>
    where
        S: Service<Request<ReqBody>>,
    {
        #[pin]
        state: State<S, ReqBody, C, R>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, ReqBody, C, R>
    where
        S: Service<Request<ReqBody>>,
    {
        Inner { #[pin] future: S::Future },
        Rejected { response: Option<S::Response> },
        Waiting { wait: Wait, pending: Option<Pending<S, ReqBody, C, R>> },
    }
}

pub(crate) struct Pending<S, ReqBody, C, R> {
    pub(crate) inner: S,
    pub(crate) request: Request<ReqBody>,
    pub(crate) verifier: JwtVerifier<C>,
    pub(crate) rejection: R,
}

impl<S, ReqBody, C, R> ResponseFuture<S, ReqBody, C, R>
where
    S: Service<Request<ReqBody>>,
{
    pub(crate) fn inner(future: S::Future) -> Self {
        Self {
            state: State::Inner { future },
        }
    }

    pub(crate) fn rejected(response: S::Response) -> Self {
        Self {
            state: State::Rejected {
                response: Some(response),
            },
        }
    }

    #[cfg_attr(not(feature = "remote-jwks"), allow(dead_code))]
    pub(crate) fn waiting(wait: Wait, pending: Pending<S, ReqBody, C, R>) -> Self {
        Self {
            state: State::Waiting {
                wait,
                pending: Some(pending),
            },
        }
    }
}

impl<S, ReqBody, ResBody, C, R> Future for ResponseFuture<S, ReqBody, C, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    C: DeserializeOwned + Send + Sync + 'static,
    R: Rejection<ResBody>,
{
    type Output = Result<Response<ResBody>, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let next = match self.as_mut().project().state.project() {
                StateProj::Inner { future } => return future.poll(cx),
                StateProj::Rejected { response } => {
                    return Poll::Ready(Ok(response
                        .take()
                        .expect("future polled after completion")));
                }
                StateProj::Waiting { wait, pending } => {
                    ready!(wait.as_mut().poll(cx));
                    let Pending {
                        mut inner,
                        mut request,
                        verifier,
                        rejection,
                    } = pending.take().expect("future polled after completion");
                    let result = match request.extensions().get::<BearerToken>() {
                        Some(token) => verifier.retry(token.as_str()),
                        None => Err(Error::missing_layer("BearerLayer")),
                    };
                    match result {
                        Ok(verified) => {
                            request.extensions_mut().insert(verified);
                            State::Inner {
                                future: inner.call(request),
                            }
                        }
                        Err(error) => State::Rejected {
                            response: Some(reject(&rejection, error, request.headers())),
                        },
                    }
                }
            };
            self.as_mut().project().state.set(next);
        }
    }
}

impl<S, ReqBody, C, R> fmt::Debug for ResponseFuture<S, ReqBody, C, R>
where
    S: Service<Request<ReqBody>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Inner { .. } => "Inner",
            State::Rejected { .. } => "Rejected",
            State::Waiting { .. } => "Waiting",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
