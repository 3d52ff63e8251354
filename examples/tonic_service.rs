//! A real gRPC service (`grpc.health.v1.Health`) behind tollgate's layers;
//! the handler reads the caller's claims from the request extensions.
//!
//! ```text
//! cargo run --example tonic_service            # serve on 127.0.0.1:50051
//! cargo run --example tonic_service -- --once  # serve, call itself, exit
//! ```
//!
//! At start it calls itself with a tonic client, with and without a
//! token, and prints what came back.

#[path = "shared/whoami.rs"]
mod whoami;

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use tollgate::bearer::BearerLayer;
use tollgate::jwt::{JwtLayer, JwtVerifier, Key};
use tollgate::token::StandardClaims;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use tower::ServiceBuilder;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let once = std::env::args().any(|a| a == "--once");
    let mut secret = [0u8; 32];
    SystemRandom::new()
        .fill(&mut secret)
        .map_err(|_| "no randomness")?;
    let verifier = JwtVerifier::<StandardClaims>::builder()
        .key(Key::hmac(Algorithm::HS256, &secret)?)
        .issuer("tonic-demo")
        .build()?;

    let listener = tokio::net::TcpListener::bind(if once {
        "127.0.0.1:0"
    } else {
        "127.0.0.1:50051"
    })
    .await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .layer(
                ServiceBuilder::new()
                    .layer(BearerLayer::new())
                    .layer(JwtLayer::new(verifier)),
            )
            .add_service(whoami::WhoAmI::server())
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    println!("gRPC health service on {addr}");

    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    tollgate::jwt::crypto_provider();
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &serde_json::json!({ "iss": "tonic-demo", "sub": "grace", "iat": now, "exp": now + 600 }),
        &EncodingKey::from_secret(&secret)?,
    )?;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    let mut client = HealthClient::new(channel);

    let mut request = tonic::Request::new(HealthCheckRequest::default());
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    let response = client.check(request).await?;
    println!(
        "with a token:    {:?}, x-subject = {:?}",
        response.get_ref().status(),
        response.metadata().get("x-subject")
    );
    let status = client
        .check(tonic::Request::new(HealthCheckRequest::default()))
        .await
        .expect_err("a call without a token must be refused");
    println!(
        "without a token: {:?} {:?}",
        status.code(),
        status.message()
    );

    if !once {
        server.await??;
    }
    Ok(())
}
