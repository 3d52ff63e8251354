//! Helpers shared by the benches: drive a stack whose handler is ready at
//! once, without a runtime.
#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::Criterion;

use http::header::AUTHORIZATION;
use http::{HeaderValue, Request, Response};

/// Polls a future that the handler makes ready at once.
pub(crate) fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the stack should answer without waiting"),
    }
}

/// A request carrying `value` as its `Authorization` header.
pub(crate) fn request(value: &HeaderValue) -> Request<String> {
    let mut request = Request::new(String::new());
    request.headers_mut().insert(AUTHORIZATION, value.clone());
    request
}

/// The floor: a handler that answers at once.
pub(crate) fn handler(
    _req: Request<String>,
) -> std::future::Ready<Result<Response<String>, Infallible>> {
    std::future::ready(Ok(Response::new(String::new())))
}

/// Short runs with enough samples for stable medians on a 2-core machine.
pub(crate) fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
}
