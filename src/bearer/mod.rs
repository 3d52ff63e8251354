//! Finding the bearer token: [`BearerLayer`].
//!
//! Per RFC 6750 §2 a request carries its access token in exactly one place.
//! The layer looks in the places it is told to (the `Authorization: Bearer`
//! header by default; a cookie, a custom header and, only when explicitly
//! enabled, a query parameter), caps the token's size before anything is
//! decoded, and puts what it finds into the request extensions as a
//! [`BearerToken`](crate::token::BearerToken).
//!
//! | request | answer |
//! |---|---|
//! | one well-formed token | passed on, with `BearerToken` in its extensions |
//! | no token | 401, `WWW-Authenticate: Bearer` without `error` (§3.1); passed on with [`Unauthenticated`](crate::token::Unauthenticated) when the layer is optional |
//! | an `Authorization` header of another scheme (`Basic …`) | as no token |
//! | tokens in two places, two `Authorization` headers, two cookies of the name | 400 `invalid_request` |
//! | `Bearer` with no token, two tokens, or characters outside b64token | 400 `invalid_request` |
//! | a token over the cap (8 KiB by default) | 401 `invalid_token` |
//!
//! The form-encoded body parameter of RFC 6750 §2.2 is not supported: it
//! would need the layer to buffer the body.
//!
//! ```
//! use tollgate::bearer::BearerLayer;
//! use tollgate::token::BearerToken;
//! use tower::{ServiceBuilder, ServiceExt};
//! use http::{Request, Response};
//!
//! # tokio_test_block_on(async {
//! let layer = BearerLayer::builder()
//!     .cookie("access_token")
//!     .max_token_len(4096)
//!     .build()
//!     .unwrap();
//! let service = ServiceBuilder::new().layer(layer).service_fn(|req: Request<String>| async move {
//!     let token = req.extensions().get::<BearerToken>().unwrap();
//!     Ok::<_, std::convert::Infallible>(Response::new(token.as_str().to_owned()))
//! });
//!
//! let request = Request::builder()
//!     .header("cookie", "theme=dark; access_token=abc.def.ghi")
//!     .body(String::new())
//!     .unwrap();
//! let response = service.clone().oneshot(request).await.unwrap();
//! assert_eq!(response.body(), "abc.def.ghi");
//!
//! let request = Request::builder()
//!     .header("authorization", "Bearer abc.def.ghi")
//!     .header("cookie", "access_token=abc.def.ghi")
//!     .body(String::new())
//!     .unwrap();
//! let response = service.oneshot(request).await.unwrap();
//! assert_eq!(response.status(), 400);
//! # });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

mod extract;
mod layer;
mod service;

pub use self::layer::{BearerLayer, BearerLayerBuilder};
pub use self::service::Bearer;
pub use crate::future::ResponseFuture;

pub use crate::DEFAULT_MAX_TOKEN_LEN;

/// The default name of the query parameter (RFC 6750 §2.3).
pub const DEFAULT_QUERY_PARAMETER: &str = "access_token";
