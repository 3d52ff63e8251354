//! Taking tokens back: [`RevocationList`] and [`RevocationLayer`].
//!
//! A stateless token cannot be recalled; a deny list checked on every
//! request can. The [`RevocationList`] lives in process memory, so the
//! check never waits on the network, and is shared (cloned) between the
//! layer and whatever revokes: a logout handler, an admin endpoint.
//!
//! The layer sits behind [`JwtLayer`](crate::jwt::JwtLayer) and refuses,
//! with 401 `invalid_token` ("token revoked", [`ErrorKind::Revoked`](crate::error::ErrorKind::Revoked);
//! gRPC 16), a token
//! - revoked by `(iss, jti)` ([`RevocationList::revoke_token`]), until
//!   that token's `exp` plus the leeway;
//! - of a revoked session `sid` ([`RevocationList::revoke_session`]: device
//!   logout);
//! - of a subject `sub` issued before an instant
//!   ([`RevocationList::revoke_subject_before`]: log out everywhere; a new
//!   login after it works);
//! - issued before an instant, by anyone
//!   ([`RevocationList::revoke_all_before`]) or by one issuer
//!   ([`RevocationList::revoke_issuer_before`]): mass logout.
//!
//! Revocation is keyed on claims, never on the token's bytes: an ECDSA
//! signature can be rewritten (`s` → `n - s`) into another valid token with
//! the same claims, and that one is refused too. The verified-token cache
//! of [`JwtVerifier`](crate::jwt::JwtVerifier) does not bypass this layer:
//! a cached token is checked like any other, so a revocation takes effect
//! on the very next request.
//!
//! Without a `JwtLayer` in front the layer answers 500 (a server
//! misconfiguration); anonymous requests let through by an optional
//! [`BearerLayer`](crate::bearer::BearerLayer) pass.
//!
//! ```
//! use tollgate::bearer::BearerLayer;
//! use tollgate::jwt::{Algorithm, JwtLayer, JwtVerifier, Key};
//! use tollgate::revocation::{RevocationLayer, RevocationList};
//! use tollgate::token::StandardClaims;
//! use tower::{ServiceBuilder, ServiceExt};
//! use http::{Request, Response};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let secret = b"an HMAC secret of at least 32 bytes!";
//! let verifier = JwtVerifier::<StandardClaims>::builder()
//!     .key(Key::hmac(Algorithm::HS256, secret).unwrap())
//!     .build()
//!     .unwrap();
//! let revoked = RevocationList::new();
//! let service = ServiceBuilder::new()
//!     .layer(BearerLayer::new())
//!     .layer(JwtLayer::new(verifier))
//!     .layer(RevocationLayer::<StandardClaims>::new(revoked.clone()))
//!     .service_fn(|_req: Request<String>| async {
//!         Ok::<_, std::convert::Infallible>(Response::new(String::from("hello")))
//!     });
//!
//! let now = revoked.now();
//! let claims = serde_json::json!({ "sub": "alice", "jti": "t-1", "iat": now, "exp": now + 600 });
//! let token = jsonwebtoken::encode(
//!     &jsonwebtoken::Header::new(Algorithm::HS256),
//!     &claims,
//!     &jsonwebtoken::EncodingKey::from_secret(secret).unwrap(),
//! )
//! .unwrap();
//! let request = || {
//!     Request::builder()
//!         .header("authorization", format!("Bearer {token}"))
//!         .body(String::new())
//!         .unwrap()
//! };
//! assert_eq!(service.clone().oneshot(request()).await.unwrap().status(), 200);
//!
//! revoked.revoke_token("", "t-1", now + 600).unwrap();
//! let response = service.oneshot(request()).await.unwrap();
//! assert_eq!(response.status(), 401);
//! assert!(response.headers()["www-authenticate"].to_str().unwrap().contains("token revoked"));
//! # });
//! ```

mod layer;
mod list;
mod service;

pub use self::layer::RevocationLayer;
pub use self::list::{
    DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_LIFETIME, RevocationCounts, RevocationError, RevocationList,
    RevocationListBuilder,
};
pub use self::service::Revocation;
pub use crate::future::ResponseFuture;
