//! An axum app whose routes read the verified claims.
//!
//! ```text
//! cargo run --example axum_app
//! ```
//!
//! It makes a random HS256 secret, mints a token with it and prints `curl`
//! lines: `/me` needs a token, `/` greets callers with or without one.

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use axum::Router;
use axum::routing::get;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use tollgate::bearer::BearerLayer;
use tollgate::extract::Claims;
use tollgate::jwt::{JwtLayer, JwtVerifier, Key};
use tollgate::token::StandardClaims;
use tower::ServiceBuilder;

async fn me(claims: Claims<StandardClaims>) -> String {
    format!(
        "you are {} (scopes: {})\n",
        claims.subject().unwrap_or("?"),
        claims.scopes().collect::<Vec<_>>().join(", ")
    )
}

async fn hello(claims: Option<Claims<StandardClaims>>) -> String {
    match claims {
        Some(c) => format!("welcome back, {}\n", c.subject().unwrap_or("?")),
        None => "hello, stranger\n".to_owned(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut secret = [0u8; 32];
    SystemRandom::new()
        .fill(&mut secret)
        .map_err(|_| "no randomness")?;
    let verifier = JwtVerifier::<StandardClaims>::builder()
        .key(Key::hmac(Algorithm::HS256, &secret)?)
        .issuer("axum-app")
        .audience("axum-app")
        .build()?;

    let app = Router::new()
        .route("/me", get(me))
        .route("/", get(hello))
        .layer(
            ServiceBuilder::new()
                .layer(BearerLayer::builder().optional(true).build()?)
                .layer(JwtLayer::new(verifier)),
        );

    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".into())
        .parse()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    tollgate::jwt::crypto_provider();
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &serde_json::json!({
            "iss": "axum-app", "aud": "axum-app", "sub": "ada", "scope": "read write",
            "iat": now, "exp": now + 900,
        }),
        &EncodingKey::from_secret(&secret)?,
    )?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}");
    println!("  curl http://{addr}/");
    println!("  curl -H 'Authorization: Bearer {token}' http://{addr}/me");
    axum::serve(listener, app).await?;
    Ok(())
}
