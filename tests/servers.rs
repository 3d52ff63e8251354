//! Real servers on 127.0.0.1: axum with the `Claims` extractor, and tonic
//! with a tonic client.

mod common;

#[path = "../examples/shared/whoami.rs"]
mod whoami;

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use common::*;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::Algorithm;
use serde_json::json;
use tollgate::bearer::BearerLayer;
use tollgate::extract::Claims;
use tollgate::jwt::JwtLayer;
use tollgate::token::StandardClaims;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use tower::ServiceBuilder;

async fn me(claims: Claims<StandardClaims>) -> String {
    format!("hello {}", claims.subject().unwrap_or("?"))
}

async fn maybe(claims: Option<Claims<StandardClaims>>) -> String {
    match claims {
        Some(c) => format!("hello {}", c.subject().unwrap_or("?")),
        None => "hello stranger".into(),
    }
}

async fn spawn_axum(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn get_path(
    addr: SocketAddr,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, String, String) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let mut request = Request::get(format!("http://{addr}{path}"));
    if let Some(t) = token {
        request = request.header("authorization", format!("Bearer {t}"));
    }
    let response = client
        .request(request.body(Empty::new()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, challenge, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn axum_server_with_claims_extractor() {
    let verifier = builder(Algorithm::ES256).build().unwrap();
    let protected = Router::new().route("/me", get(me)).layer(
        ServiceBuilder::new()
            .layer(BearerLayer::new())
            .layer(JwtLayer::new(verifier.clone())),
    );
    let optional = Router::new()
        .route("/maybe", get(maybe))
        .route("/must", get(me))
        .layer(
            ServiceBuilder::new()
                .layer(BearerLayer::builder().optional(true).build().unwrap())
                .layer(JwtLayer::new(verifier)),
        );
    let unprotected = Router::new().route("/oops", get(me));
    let addr = spawn_axum(protected.merge(optional).merge(unprotected)).await;

    let t = token(Algorithm::ES256, &claims(json!({})));
    assert_eq!(get_path(addr, "/me", Some(&t)).await.2, "hello alice");

    let (status, challenge, _) = get_path(addr, "/me", None).await;
    assert_eq!(
        (status, challenge.as_str()),
        (StatusCode::UNAUTHORIZED, "Bearer")
    );

    let tampered = tamper(&t);
    let (status, challenge, _) = get_path(addr, "/me", Some(&tampered)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );

    assert_eq!(get_path(addr, "/maybe", None).await.2, "hello stranger");
    assert_eq!(get_path(addr, "/maybe", Some(&t)).await.2, "hello alice");
    // Claims (not Option) on an optional route: 401 for the anonymous.
    let (status, challenge, _) = get_path(addr, "/must", None).await;
    assert_eq!(
        (status, challenge.as_str()),
        (StatusCode::UNAUTHORIZED, "Bearer")
    );
    // Claims on a route without the layers: a loud 500 naming the layer.
    let (status, _, body) = get_path(addr, "/oops", Some(&t)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body.contains("JwtLayer"), "{body}");
}

#[tokio::test]
async fn tonic_server_and_client() {
    let verifier = builder(Algorithm::EdDSA).build().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .layer(
                ServiceBuilder::new()
                    .layer(BearerLayer::new())
                    .layer(JwtLayer::new(verifier)),
            )
            .add_service(whoami::WhoAmI::server())
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
            .unwrap();
    });
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = HealthClient::new(channel);

    let call = |token: Option<String>| {
        let mut request = tonic::Request::new(HealthCheckRequest {
            service: String::new(),
        });
        if let Some(t) = token {
            request
                .metadata_mut()
                .insert("authorization", format!("Bearer {t}").parse().unwrap());
        }
        request
    };

    let t = token(Algorithm::EdDSA, &claims(json!({})));
    let response = client.check(call(Some(t))).await.unwrap();
    assert_eq!(response.metadata().get("x-subject").unwrap(), "alice");
    assert_eq!(response.get_ref().status, 1);

    let status = client.check(call(None)).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    assert_eq!(status.message(), "missing token");

    let expired = token(Algorithm::EdDSA, &claims(json!({"exp": NOW - 3600})));
    let status = client.check(call(Some(expired))).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    assert_eq!(status.message(), "token expired");

    let rs = token(Algorithm::RS256, &claims(json!({})));
    let status = client.check(call(Some(rs))).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    assert_eq!(status.message(), "algorithm not allowed for this key");
}
