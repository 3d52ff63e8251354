//! The gateway's admin API: revoke tokens, see what the list holds.
//!
//! `POST /admin/revocations` takes one JSON object and answers 200 once the
//! revocation is in force (the next request with a revoked token gets 401):
//!
//! | body | revokes |
//! |---|---|
//! | `{"jti": "…", "iss": "…", "exp": 1767225600}` | one token; `iss` may be left out when one issuer is trusted, `exp` defaults to now + the maximum token lifetime |
//! | `{"sid": "…"}` | every token of the session |
//! | `{"sub": "…", "before": 1767225600}` | every token of the subject issued before `before` (default: every token issued so far) |
//! | `{"before": 1767225600, "iss": "…"}` | every token issued before `before`, of one issuer or (without `iss`) of all |
//!
//! `GET /admin/revocations` answers the counts. Both need
//! `Authorization: Bearer <admin token>`, compared in constant time.

use std::sync::Arc;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;
use tollgate::revocation::{RevocationError, RevocationList};

/// What the admin API needs.
pub(crate) struct Admin {
    /// The admin bearer token.
    pub(crate) token: String,
    /// The list the gateway checks.
    pub(crate) list: RevocationList,
    /// The issuers the gateway trusts (to default `iss` when only one).
    pub(crate) issuers: Vec<String>,
    /// The longest token lifetime, in seconds (default `exp`).
    pub(crate) max_lifetime: i64,
}

/// `/admin/revocations`, guarded by the admin token.
pub(crate) fn router(admin: Admin) -> Router {
    Router::new()
        .route("/admin/revocations", post(revoke).get(counts))
        .layer(axum::extract::DefaultBodyLimit::max(16 * 1024))
        .with_state(Arc::new(admin))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    jti: Option<String>,
    iss: Option<String>,
    exp: Option<i64>,
    sid: Option<String>,
    sub: Option<String>,
    before: Option<i64>,
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

/// `None` when the admin token was presented; else the 401 to answer.
fn refused(admin: &Admin, headers: &HeaderMap) -> Option<Response> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if verify_slices_are_equal(presented.as_bytes(), admin.token.as_bytes()).is_ok() {
        return None;
    }
    let mut response = error(StatusCode::UNAUTHORIZED, "admin token required");
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer realm=\"tollgate-admin\""),
    );
    Some(response)
}

async fn counts(State(admin): State<Arc<Admin>>, headers: HeaderMap) -> Response {
    if let Some(response) = refused(&admin, &headers) {
        return response;
    }
    let c = admin.list.counts();
    axum::Json(json!({
        "tokens": c.tokens, "sessions": c.sessions, "subjects": c.subjects,
        "issuers": c.issuers, "all_before": c.all_before,
    }))
    .into_response()
}

async fn revoke(State(admin): State<Arc<Admin>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(response) = refused(&admin, &headers) {
        return response;
    }
    let body: Body = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("malformed body: {e}")),
    };
    let list = &admin.list;
    let now = list.now();
    let outcome = match body {
        Body {
            jti: Some(jti),
            iss,
            exp,
            sid: None,
            sub: None,
            before: None,
        } => {
            let iss = match (iss, admin.issuers.as_slice()) {
                (Some(iss), _) => iss,
                (None, []) => String::new(),
                (None, [only]) => only.clone(),
                (None, _) => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "several issuers are trusted: give `iss`",
                    );
                }
            };
            let exp = exp.unwrap_or(now.saturating_add(admin.max_lifetime));
            list.revoke_token(&iss, &jti, exp)
                .map(|()| json!({ "jti": jti, "iss": iss, "exp": exp }))
        }
        Body {
            sid: Some(sid),
            jti: None,
            iss: None,
            exp: None,
            sub: None,
            before: None,
        } => list.revoke_session(&sid).map(|()| json!({ "sid": sid })),
        Body {
            sub: Some(sub),
            before,
            jti: None,
            iss: None,
            exp: None,
            sid: None,
        } => {
            let before = before.unwrap_or(now.saturating_add(1));
            list.revoke_subject_before(&sub, before)
                .map(|()| json!({ "sub": sub, "before": before }))
        }
        Body {
            before: Some(before),
            iss,
            jti: None,
            exp: None,
            sid: None,
            sub: None,
        } => match iss {
            Some(iss) => list
                .revoke_issuer_before(&iss, before)
                .map(|()| json!({ "iss": iss, "before": before })),
            None => {
                list.revoke_all_before(before);
                Ok(json!({ "before": before }))
            }
        },
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "expected one of {jti, iss?, exp?}, {sid}, {sub, before?}, {before, iss?}",
            );
        }
    };
    match outcome {
        Ok(revoked) => {
            tracing::info!(%revoked, "revoked");
            axum::Json(json!({ "revoked": revoked })).into_response()
        }
        Err(e @ RevocationError::Full { .. }) => {
            error(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
        }
        Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}
