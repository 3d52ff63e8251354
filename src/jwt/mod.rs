//! Verifying JWTs: [`JwtVerifier`] and [`JwtLayer`].
//!
//! The layer reads the [`BearerToken`](crate::token::BearerToken) that
//! [`BearerLayer`](crate::bearer::BearerLayer) found, verifies it, and puts
//! [`Verified<C>`](crate::token::Verified) in the request extensions, or
//! answers 401 `invalid_token` with an [`ErrorKind`](crate::error::ErrorKind)
//! saying what failed. Without a `BearerLayer` in front it answers 500 (a
//! misconfiguration, logged as an error); behind an optional one it lets
//! [`Unauthenticated`](crate::token::Unauthenticated) requests through.
//!
//! Security rules it keeps:
//! - the algorithm comes from the key, never the token; one algorithm per
//!   [`Key`]; `none` (in any casing) never passes; HMAC secrets shorter
//!   than their hash are refused when the key is made;
//! - hostile input is refused before decoding (size, two dots, base64url);
//! - `exp` is required and now must be strictly before it (plus leeway,
//!   60 s by default); `nbf` and `iat` may not be in the future; an
//!   optional maximum lifetime; `iss` and `aud` required once configured
//!   and compared exactly; `typ` checkable; unknown or empty `crit` refused;
//! - `jku`, `x5u`, `jwk` headers are never followed; `kid` only selects a
//!   key already in memory.
//!
//! Keys come from [`Key`]s and [`KeySet`]s given to the builder, or, with
//! the `remote-jwks` feature, from a `RemoteJwks` that fetches and refreshes
//! a JWKS URL or an OIDC issuer's keys (see the `remote` module). One
//! verifier can trust several [`Issuer`]s, each with its own keys,
//! audiences and algorithms: the token's `iss` picks one before anything
//! is verified.
//!
//! With the `cache` feature (default) a verified token is kept, keyed by
//! the whole token, and not verified again while it lives (bounded by
//! [`JwtVerifierBuilder::cache_max_bytes`] and
//! [`cache_max_ttl`](JwtVerifierBuilder::cache_max_ttl), never past `exp`):
//! a hit checks `exp` and `nbf` again, and whether a remote key set has
//! replaced the keys since; every later layer still runs. Rejections are
//! never cached.
//!
//! ```
//! use std::time::Duration;
//! use tollgate::bearer::BearerLayer;
//! use tollgate::jwt::{Algorithm, JwtLayer, JwtVerifier, Key};
//! use tollgate::token::{StandardClaims, Verified};
//! use tower::{ServiceBuilder, ServiceExt};
//! use http::{Request, Response};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let secret = b"an HMAC secret of at least 32 bytes!";
//! let verifier = JwtVerifier::<StandardClaims>::builder()
//!     .key(Key::hmac(Algorithm::HS256, secret).unwrap())
//!     .issuer("https://issuer.example")
//!     .audience("api")
//!     .max_lifetime(Duration::from_secs(3600))
//!     .build()
//!     .unwrap();
//!
//! let service = ServiceBuilder::new()
//!     .layer(BearerLayer::new())
//!     .layer(JwtLayer::new(verifier))
//!     .service_fn(|req: Request<String>| async move {
//!         let claims = req.extensions().get::<Verified<StandardClaims>>().unwrap();
//!         Ok::<_, std::convert::Infallible>(Response::new(claims.subject().unwrap().to_owned()))
//!     });
//!
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
//! let claims = serde_json::json!({
//!     "iss": "https://issuer.example", "aud": "api", "sub": "alice",
//!     "iat": now, "exp": now + 600,
//! });
//! let token = jsonwebtoken::encode(
//!     &jsonwebtoken::Header::new(Algorithm::HS256),
//!     &claims,
//!     &jsonwebtoken::EncodingKey::from_secret(secret).unwrap(),
//! )
//! .unwrap();
//!
//! let request = Request::builder()
//!     .header("authorization", format!("Bearer {token}"))
//!     .body(String::new())
//!     .unwrap();
//! let response = service.clone().oneshot(request).await.unwrap();
//! assert_eq!(response.body(), "alice");
//!
//! let tampered = format!("{}x", &token[..token.len() - 1]);
//! let request = Request::builder()
//!     .header("authorization", format!("Bearer {tampered}"))
//!     .body(String::new())
//!     .unwrap();
//! let response = service.oneshot(request).await.unwrap();
//! assert_eq!(response.status(), 401);
//! assert!(response.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
//! # });
//! ```

mod cache;
mod claims;
mod crypto;
mod future;
mod issuer;
mod key;
mod layer;
#[cfg(feature = "remote-jwks")]
#[cfg_attr(docsrs, doc(cfg(feature = "remote-jwks")))]
pub mod remote;
mod service;
mod verifier;

pub use self::cache::{CacheStats, DEFAULT_CACHE_BYTES, DEFAULT_CACHE_TTL};
pub use self::crypto::crypto_provider;
pub use self::future::ResponseFuture;
pub use self::issuer::Issuer;
pub use self::key::{Key, KeySet};
pub use self::layer::JwtLayer;
#[cfg(feature = "remote-jwks")]
pub use self::remote::{RemoteJwks, RemoteJwksBuilder};
pub use self::service::Jwt;
pub use self::verifier::{DEFAULT_LEEWAY, JwtVerifier, JwtVerifierBuilder, MAX_LEEWAY};
pub use jsonwebtoken::Algorithm;
