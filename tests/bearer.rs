//! `BearerLayer` through the public API: sources, RFC 6750 answers, the
//! optional mode, gRPC rendering and custom rejections.

mod common;

use std::convert::Infallible;

use common::*;
use http::{HeaderMap, HeaderName, Request, Response, StatusCode};
use jsonwebtoken::Algorithm;
use serde_json::json;
use tollgate::bearer::{Bearer, BearerLayer};
use tollgate::error::{Error, ErrorKind};
use tollgate::jwt::JwtLayer;
use tollgate::token::{BearerToken, StandardClaims, Unauthenticated, Verified};
use tower::{Service, ServiceBuilder, ServiceExt};

/// Answers with `source:token`, or `anonymous`.
async fn echo(req: Request<String>) -> Result<Response<String>, Infallible> {
    let body = match req.extensions().get::<BearerToken>() {
        Some(t) => format!("{:?}:{}", t.source(), t.as_str()),
        None if req.extensions().get::<Unauthenticated>().is_some() => "anonymous".into(),
        None => "nothing".into(),
    };
    Ok(Response::new(body))
}

async fn run(layer: BearerLayer, req: Request<String>) -> Response<String> {
    ServiceBuilder::new()
        .layer(layer)
        .service_fn(echo)
        .oneshot(req)
        .await
        .unwrap()
}

fn req() -> http::request::Builder {
    Request::builder().uri("/")
}

fn challenge(r: &Response<String>) -> &str {
    r.headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

#[tokio::test]
async fn authorization_header_is_the_default() {
    let r = run(
        BearerLayer::new(),
        req()
            .header("authorization", "bearer  abc.def")
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(r.body(), "AuthorizationHeader:abc.def");
}

#[tokio::test]
async fn no_token_is_401_without_error_code() {
    for r in [
        req().body(String::new()).unwrap(),
        req()
            .header("authorization", "Basic dXNlcjpwYXNz")
            .body(String::new())
            .unwrap(),
        req().uri("/?access_token=abc").body(String::new()).unwrap(),
        req()
            .header("cookie", "access_token=abc")
            .body(String::new())
            .unwrap(),
    ] {
        let r = run(BearerLayer::new(), r).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(challenge(&r), "Bearer");
        assert_eq!(r.headers()["cache-control"], "no-store");
        assert_eq!(error_kind(&r), Some(ErrorKind::MissingToken));
    }
}

#[tokio::test]
async fn malformed_credentials_are_400_invalid_request() {
    for value in [
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "Bearer a,b",
        "Bearer \"abc\"",
        "Bearer a=b",
    ] {
        let r = run(
            BearerLayer::new(),
            req()
                .header("authorization", value)
                .body(String::new())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{value}");
        assert!(
            challenge(&r).contains(r#"error="invalid_request""#),
            "{value}"
        );
        assert_eq!(error_kind(&r), Some(ErrorKind::MalformedRequest), "{value}");
    }
}

#[tokio::test]
async fn several_tokens_are_400_invalid_request() {
    let layer = BearerLayer::builder()
        .cookie("at")
        .header(HeaderName::from_static("x-api-token"))
        .allow_query()
        .build()
        .unwrap();
    let cases = [
        req()
            .header("authorization", "Bearer a")
            .header("authorization", "Bearer a")
            .body(String::new())
            .unwrap(),
        req()
            .header("authorization", "Bearer a")
            .header("authorization", "Basic b")
            .body(String::new())
            .unwrap(),
        req()
            .header("authorization", "Bearer a")
            .header("cookie", "at=a")
            .body(String::new())
            .unwrap(),
        req()
            .header("cookie", "at=a; at=b")
            .body(String::new())
            .unwrap(),
        req()
            .header("cookie", "at=a")
            .header("cookie", "at=b")
            .body(String::new())
            .unwrap(),
        req()
            .header("x-api-token", "a")
            .header("x-api-token", "a")
            .body(String::new())
            .unwrap(),
        req()
            .uri("/?access_token=a&access_token=a")
            .body(String::new())
            .unwrap(),
        req()
            .uri("/?access_token=a")
            .header("x-api-token", "a")
            .body(String::new())
            .unwrap(),
    ];
    for (i, r) in cases.into_iter().enumerate() {
        let r = run(layer.clone(), r).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "case {i}");
        assert_eq!(error_kind(&r), Some(ErrorKind::MultipleTokens), "case {i}");
        assert!(challenge(&r).contains("invalid_request"), "case {i}");
    }
}

#[tokio::test]
async fn other_sources() {
    let layer = BearerLayer::builder()
        .authorization_header(false)
        .cookie("at")
        .header(HeaderName::from_static("x-api-token"))
        .allow_query_parameter("token")
        .build()
        .unwrap();
    let r = run(
        layer.clone(),
        req()
            .header("cookie", "a=1; at=\"c.d\"; b=2")
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(r.body(), "Cookie:c.d");
    let r = run(
        layer.clone(),
        req()
            .header("x-api-token", "h.i")
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(r.body(), "Header:h.i");
    let r = run(
        layer.clone(),
        req()
            .uri("/p?x=1&token=q%2Bw%2F")
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(r.body(), "Query:q+w/");
    // With the Authorization header off, a Bearer header is not a token.
    let r = run(
        layer.clone(),
        req()
            .header("authorization", "Bearer a")
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A malformed cookie value of ours is refused; other cookies are not ours.
    let r = run(
        layer.clone(),
        req()
            .header("cookie", "at=a b")
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = run(
        layer,
        req()
            .header("cookie", "other=a b; at=ok")
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(r.body(), "Cookie:ok");
}

#[tokio::test]
async fn size_cap_is_checked_first() {
    let layer = BearerLayer::builder().max_token_len(16).build().unwrap();
    let r = run(
        layer.clone(),
        req()
            .header("authorization", format!("Bearer {}", "a".repeat(16)))
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    // Over the cap: refused as too large even though it is also malformed.
    let r = run(
        layer,
        req()
            .header("authorization", format!("Bearer {}", "!".repeat(17)))
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(
        challenge(&r).contains(r#"error="invalid_token", error_description="token too large""#)
    );
    let huge = format!("Bearer {}", "A".repeat(1 << 20));
    let r = run(
        BearerLayer::new(),
        req()
            .header("authorization", huge)
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(error_kind(&r), Some(ErrorKind::TokenTooLarge));
}

#[tokio::test]
async fn optional_lets_anonymous_requests_through_to_jwt_and_handler() {
    let layer = BearerLayer::builder().optional(true).build().unwrap();
    let verifier = builder(Algorithm::HS256).build().unwrap();
    let svc = ServiceBuilder::new()
        .layer(layer)
        .layer(JwtLayer::new(verifier))
        .service_fn(|req: Request<String>| async move {
            let who = req
                .extensions()
                .get::<Verified<StandardClaims>>()
                .and_then(|v| v.subject().map(str::to_owned))
                .unwrap_or_else(|| "anonymous".into());
            Ok::<_, Infallible>(Response::new(who))
        });
    let r = svc
        .clone()
        .oneshot(req().body(String::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(r.body(), "anonymous");
    let t = token(Algorithm::HS256, &claims(json!({})));
    let r = svc.clone().oneshot(bearer_request(&t)).await.unwrap();
    assert_eq!(r.body(), "alice");
    // Optional does not mean lax: a bad token is still refused.
    let r = svc.clone().oneshot(bearer_request("a.b.c")).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = svc
        .oneshot(
            req()
                .header("authorization", "Bearer a b")
                .body(String::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn jwt_layer_without_bearer_layer_is_a_500() {
    let verifier = builder(Algorithm::HS256).build().unwrap();
    let t = token(Algorithm::HS256, &claims(json!({})));
    let r = ServiceBuilder::new()
        .layer(JwtLayer::new(verifier))
        .service_fn(echo)
        .oneshot(bearer_request(&t))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let e = r.extensions().get::<Error>().unwrap();
    assert_eq!(e.kind(), ErrorKind::MissingLayer);
    assert_eq!(e.detail(), Some("BearerLayer"));
}

#[tokio::test]
async fn grpc_callers_get_grpc_status() {
    let verifier = builder(Algorithm::HS256).build().unwrap();
    let svc = ServiceBuilder::new()
        .layer(BearerLayer::new())
        .layer(JwtLayer::new(verifier))
        .service_fn(echo);
    let grpc = || req().header("content-type", "application/grpc");
    let r = svc
        .clone()
        .oneshot(grpc().body(String::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["grpc-status"], "16");
    assert_eq!(r.headers()["grpc-message"], "missing token");
    let expired = token(Algorithm::HS256, &claims(json!({"exp": NOW - 3600})));
    let r = svc
        .oneshot(
            grpc()
                .header("authorization", format!("Bearer {expired}"))
                .body(String::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.headers()["grpc-status"], "16");
    assert_eq!(r.headers()["grpc-message"], "token expired");
    assert!(r.headers().get("www-authenticate").is_none());
}

#[tokio::test]
async fn rejection_rendering_can_be_replaced() {
    let layer = BearerLayer::new().with_rejection(|e: &Error, _: &HeaderMap| {
        let mut r = Response::new(format!("{{\"error\":\"{}\"}}", e.kind().description()));
        *r.status_mut() = e.kind().status();
        r
    });
    let r = ServiceBuilder::new()
        .layer(layer)
        .service_fn(echo)
        .oneshot(req().body(String::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.body(), r#"{"error":"missing token"}"#);
    assert_eq!(error_kind(&r), Some(ErrorKind::MissingToken));
}

#[test]
fn bad_configurations_are_refused() {
    assert!(
        BearerLayer::builder()
            .authorization_header(false)
            .build()
            .is_err()
    );
    assert!(BearerLayer::builder().cookie("bad name").build().is_err());
    assert!(BearerLayer::builder().cookie("").build().is_err());
    assert!(
        BearerLayer::builder()
            .allow_query_parameter("")
            .build()
            .is_err()
    );
    assert!(BearerLayer::builder().max_token_len(0).build().is_err());
    assert!(
        BearerLayer::builder()
            .max_token_len(2 << 20)
            .build()
            .is_err()
    );
}

#[test]
fn layers_services_and_futures_are_send_sync_clone() {
    fn assert_send_sync_clone<T: Send + Sync + Clone>(_: &T) {}
    fn assert_send<T: Send>(_: &T) {}
    let verifier = builder(Algorithm::HS256).build().unwrap();
    let bearer = BearerLayer::new();
    let jwt = JwtLayer::new(verifier);
    assert_send_sync_clone(&bearer);
    assert_send_sync_clone(&jwt);
    let mut svc = ServiceBuilder::new()
        .layer(bearer)
        .layer(jwt)
        .service_fn(echo);
    assert_send_sync_clone(&svc);
    let future = svc.call(req().body(String::new()).unwrap());
    assert_send(&future);
    let _ = Bearer::new(tower::service_fn(echo));
}
