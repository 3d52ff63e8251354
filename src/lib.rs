//! Composable `tower` layers for API token auth.
//!
//! tollgate finds, verifies and checks bearer tokens in front of any tower
//! server (axum, tonic, hyper), one layer per stage:
//!
//! | stage | layer | does | refuses with |
//! |---|---|---|---|
//! | find | [`BearerLayer`](bearer::BearerLayer) | takes the token from `Authorization: Bearer`, a cookie, a custom header or (opt-in) the query; caps its size; one place per request (RFC 6750 §2) | 400 `invalid_request`, 401 |
//! | verify | [`JwtLayer`](jwt::JwtLayer) | verifies the JWT against pinned keys (static, JWKS, or fetched from an identity provider), checks `exp`/`nbf`/`iat`/`iss`/`aud`/`typ`/`crit`/lifetime; verifies a token once and serves it from a cache after | 401 `invalid_token` |
//! | revoke | `RevocationLayer` (feature `revocation`) | refuses tokens revoked by `jti`, session, subject-before-T or epoch, from an in-memory list | 401 `invalid_token` |
//!
//! Layers talk through typed request extensions ([`token`]): a
//! [`BearerToken`](token::BearerToken), then a
//! [`Verified<C>`](token::Verified) carrying your claims type `C` and the
//! registered claims. Rejections are responses, never service errors: RFC
//! 6750 `WWW-Authenticate` answers for HTTP and `grpc-status` 16 / 7 for
//! gRPC (`content-type: application/grpc*`), with the [`Error`](error::Error)
//! in the response extensions; the rendering is replaceable ([`error`]).
//!
//! # axum
//!
//! ```
//! use axum::{Router, routing::get};
//! use tollgate::bearer::BearerLayer;
//! use tollgate::extract::Claims;
//! use tollgate::jwt::{Algorithm, JwtLayer, JwtVerifier, Key};
//! use tollgate::token::StandardClaims;
//! use tower::ServiceBuilder;
//!
//! async fn me(claims: Claims<StandardClaims>) -> String {
//!     format!("hello {}", claims.subject().unwrap_or("?"))
//! }
//!
//! # fn main() -> Result<(), tollgate::error::ConfigError> {
//! let verifier = JwtVerifier::<StandardClaims>::builder()
//!     .key(Key::hmac(Algorithm::HS256, b"a secret of at least thirty-two bytes")?)
//!     .issuer("https://issuer.example")
//!     .audience("api")
//!     .build()?;
//! let app: Router = Router::new().route("/me", get(me)).layer(
//!     ServiceBuilder::new()
//!         .layer(BearerLayer::new())
//!         .layer(JwtLayer::new(verifier)),
//! );
//! # Ok(()) }
//! ```
//!
//! # tonic
//!
//! The same layers go into `Server::builder().layer(…)`; handlers read the
//! claims from the request's extensions, and rejected calls get
//! `grpc-status` 16 UNAUTHENTICATED.
//!
//! ```no_run
//! use tollgate::bearer::BearerLayer;
//! use tollgate::jwt::{Algorithm, JwtLayer, JwtVerifier, Key};
//! use tollgate::token::StandardClaims;
//! use tower::ServiceBuilder;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = JwtVerifier::<StandardClaims>::builder()
//!     .key(Key::ed_pem(&std::fs::read("issuer.pub.pem")?)?)
//!     .issuer("https://issuer.example")
//!     .build()?;
//! let (_reporter, health) = tonic_health::server::health_reporter();
//! tonic::transport::Server::builder()
//!     .layer(
//!         ServiceBuilder::new()
//!             .layer(BearerLayer::new())
//!             .layer(JwtLayer::new(verifier)),
//!     )
//!     .add_service(health)
//!     .serve("127.0.0.1:50051".parse()?)
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! # Features
//!
//! | feature | default | enables |
//! |---|---|---|
//! | `bearer` | yes | [`bearer`]: `BearerLayer` |
//! | `jwt` | yes | [`jwt`]: `JwtVerifier`, `JwtLayer`, keys and JWKS |
//! | `aws-lc-rs` | yes | jsonwebtoken's aws-lc-rs backend (chosen when both backends are on) |
//! | `rust-crypto` | no | jsonwebtoken's pure-Rust backend |
//! | `revocation` | yes | [`revocation`]: `RevocationList`, `RevocationLayer` |
//! | `cache` | yes | the verified-token cache of `JwtVerifier` (moka) |
//! | `remote-jwks` | no | `jwt::remote`: `RemoteJwks`, keys from a JWKS URL or OIDC discovery, refreshed in the background |
//! | `metrics` | no | `tollgate_jwks_*` counters and gauges through the `metrics` facade |
//! | `axum` | no | [`extract`]: the `Claims<C>` extractor |
//! | `full` | no | all of the above but `rust-crypto` |
//!
//! `jwt` without any backend fails to compile with a message saying so.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod clock;
pub mod error;
mod future;
pub mod token;

#[cfg(feature = "bearer")]
#[cfg_attr(docsrs, doc(cfg(feature = "bearer")))]
pub mod bearer;

#[cfg(feature = "jwt")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwt")))]
pub mod jwt;

#[cfg(feature = "revocation")]
#[cfg_attr(docsrs, doc(cfg(feature = "revocation")))]
pub mod revocation;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod extract;

pub use crate::future::ResponseFuture;

/// The default cap on a token's length, in bytes: 8 KiB.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;
