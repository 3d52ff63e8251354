//! An authenticating reverse proxy: tokens are verified at the edge, and
//! only valid requests reach the upstream, with the caller's identity in
//! `x-auth-*` headers and (unless told otherwise) without the token.
//!
//! ```text
//! cargo run --release --all-features --example gateway     # dev key, demo upstream
//! cargo run --release --all-features --example gateway -- --help
//! cargo run --release --all-features --example gateway -- --upstream http://127.0.0.1:3000 \
//!     --jwks ./jwks.json --issuer https://issuer.example --audience api
//! cargo run --release --all-features --example gateway -- \
//!     --oidc-issuer https://accounts.example.com --audience api     # discovery
//! cargo run --release --all-features --example gateway -- \
//!     --jwks https://a.example/jwks.json --issuer https://a.example \
//!     --jwks https://b.example/jwks.json --issuer https://b.example   # two issuers
//! ```
//!
//! Key sources: `--jwks` takes a file or an `http(s)` URL (fetched and
//! refreshed in the background), `--oidc-issuer` an issuer found through
//! OIDC discovery; both can be repeated. One `--jwks` alone serves every
//! `--issuer`; with several sources, each `--jwks` pairs with the
//! `--issuer` in the same position, and each `--oidc-issuer` is its own
//! issuer. The gateway waits up to `--keys-wait` for remote keys at start,
//! then serves anyway (tokens are refused until keys arrive).
//!
//! Every verified token is checked against an in-memory revocation list.
//! With `--admin-token` (or `TOLLGATE_ADMIN_TOKEN`), `POST
//! /admin/revocations` revokes by `jti`, `sid`, `sub` or instant, and `GET
//! /admin/revocations` shows the counts (see `examples/shared/admin.rs`).
//!
//! With no arguments it listens on 127.0.0.1:8080, generates an Ed25519 dev
//! signing key, serves its public JWKS at `/.well-known/jwks.json`, fronts a
//! built-in upstream that echoes the caller's identity, and prints a `curl`
//! line with a freshly minted token. `/healthz` and the JWKS are public;
//! every other path needs a valid token.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::Parser;
use http::header::{AUTHORIZATION, CONNECTION, HOST};
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use tollgate::bearer::BearerLayer;
use tollgate::jwt::{Issuer, JwtLayer, JwtVerifier, Key, KeySet, RemoteJwks};
use tollgate::revocation::{RevocationLayer, RevocationList};
use tollgate::token::{StandardClaims, Verified};

#[path = "shared/admin.rs"]
mod admin;
use tower::ServiceBuilder;

/// Verify bearer tokens at the edge and forward valid requests upstream.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Upstream base URL (http). Default: a built-in demo upstream that
    /// echoes the caller's identity.
    #[arg(long)]
    upstream: Option<Uri>,
    /// Trust the keys of this JWKS file or `http(s)` URL (repeatable).
    #[arg(long, conflicts_with = "hs256_secret_file")]
    jwks: Vec<String>,
    /// Trust this OIDC issuer, its keys found through
    /// `/.well-known/openid-configuration` (repeatable).
    #[arg(long, conflicts_with = "hs256_secret_file")]
    oidc_issuer: Vec<String>,
    /// Pin keys of remote sources that carry no `alg` (repeatable), e.g.
    /// `RS256`; a key naming another algorithm is skipped.
    #[arg(long, value_parser = parse_algorithm)]
    algorithm: Vec<Algorithm>,
    /// How long to wait at start for remote keys before serving anyway.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    keys_wait: Duration,
    /// Trust HS256 tokens signed with the secret in this file (at least 32
    /// bytes; one trailing newline is ignored).
    #[arg(long)]
    hs256_secret_file: Option<PathBuf>,
    /// Accepted issuer (repeatable). With the dev key: `tollgate-dev`.
    #[arg(long)]
    issuer: Vec<String>,
    /// Accepted audience (repeatable). With the dev key: `tollgate-demo`.
    #[arg(long)]
    audience: Vec<String>,
    /// Clock-skew allowance, e.g. `30s` (at most 5 min).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    leeway: Duration,
    /// Refuse tokens whose `exp - iat` is longer than this, or that lack `iat`.
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    max_lifetime: Duration,
    /// Forward requests without any token too (without identity headers).
    #[arg(long)]
    optional: bool,
    /// Forward the `Authorization` header to the upstream.
    #[arg(long)]
    keep_authorization: bool,
    /// Turn on the admin API (`/admin/revocations`), guarded by this bearer
    /// token (at least 16 characters). Off when unset.
    #[arg(long, env = "TOLLGATE_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Refuse new revocations beyond this many entries (default: no limit).
    #[arg(long)]
    max_revocations: Option<usize>,
}

fn parse_algorithm(text: &str) -> Result<Algorithm, String> {
    text.parse()
        .map_err(|_| format!("unknown algorithm {text:?}"))
}

/// `90`, `90s`, `15m`, `24h`, `7d`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("not a duration: {text:?}"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit in {text:?} (use s, m, h or d)")),
    };
    Ok(Duration::from_secs(n * seconds))
}

/// Where verification keys come from.
enum Source {
    Static(KeySet),
    Remote(RemoteJwks),
}

/// The keys to trust, and what can mint demo tokens with them.
struct Keys {
    /// Issuers with their own keys; a lone source without issuer names
    /// has `None` and serves every `--issuer`.
    sources: Vec<(Option<String>, Source)>,
    minter: Option<(Header, EncodingKey)>,
    public_jwks: Option<String>,
}

async fn jwks_source(args: &Args, location: &str) -> Result<Source, Box<dyn std::error::Error>> {
    if !(location.starts_with("http://") || location.starts_with("https://")) {
        return Ok(Source::Static(KeySet::from_jwks_file(PathBuf::from(
            location,
        ))?));
    }
    remote(args, RemoteJwks::builder(location)).await
}

async fn remote(
    args: &Args,
    builder: tollgate::jwt::RemoteJwksBuilder,
) -> Result<Source, Box<dyn std::error::Error>> {
    let builder = builder.algorithms(args.algorithm.iter().copied());
    if args.keys_wait.is_zero() {
        return Ok(Source::Remote(builder.build()?));
    }
    let jwks = builder.build()?;
    if !jwks.wait_ready(args.keys_wait).await {
        tracing::warn!(
            source = ?jwks,
            "no keys yet; serving anyway, tokens are refused until keys arrive"
        );
    }
    Ok(Source::Remote(jwks))
}

async fn load_keys(args: &Args) -> Result<Keys, Box<dyn std::error::Error>> {
    let remote_count = args.jwks.len() + args.oidc_issuer.len();
    if remote_count > 0 {
        let mut sources = Vec::new();
        if args.jwks.len() == 1 && args.oidc_issuer.is_empty() {
            sources.push((None, jwks_source(args, &args.jwks[0]).await?));
        } else {
            if args.jwks.len() != args.issuer.len() {
                return Err("with several key sources, give one --issuer per --jwks, \
                            in the same order (--oidc-issuer names its own issuer)"
                    .into());
            }
            for (location, issuer) in args.jwks.iter().zip(&args.issuer) {
                sources.push((Some(issuer.clone()), jwks_source(args, location).await?));
            }
            for issuer in &args.oidc_issuer {
                let source = remote(args, RemoteJwks::discover(issuer)).await?;
                sources.push((Some(issuer.clone()), source));
            }
        }
        return Ok(Keys {
            sources,
            minter: None,
            public_jwks: None,
        });
    }
    if let Some(path) = &args.hs256_secret_file {
        let mut secret = std::fs::read(path)?;
        if secret.last() == Some(&b'\n') {
            secret.pop();
            if secret.last() == Some(&b'\r') {
                secret.pop();
            }
        }
        let mut set = KeySet::new();
        set.insert(Key::hmac(Algorithm::HS256, &secret)?)?;
        let encoding = EncodingKey::from_secret(&secret)?;
        return Ok(Keys {
            sources: vec![(None, Source::Static(set))],
            minter: Some((Header::new(Algorithm::HS256), encoding)),
            public_jwks: None,
        });
    }
    // A fresh Ed25519 dev key: gone when the process ends.
    let rng = SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| "key generation failed")?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| "bad generated key")?;
    let mut id = [0u8; 6];
    rng.fill(&mut id).map_err(|_| "no randomness")?;
    let kid = format!("dev-{}", URL_SAFE_NO_PAD.encode(id));
    let jwk = serde_json::json!({
        "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
    });
    let mut set = KeySet::new();
    set.insert(Key::from_jwk(&jwk.to_string())?)?;
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid);
    Ok(Keys {
        sources: vec![(None, Source::Static(set))],
        minter: Some((header, EncodingKey::from_ed_der(pkcs8.as_ref()))),
        public_jwks: Some(serde_json::json!({ "keys": [jwk] }).to_string()),
    })
}

fn mint(
    args: &Args,
    header: &Header,
    key: &EncodingKey,
) -> Result<String, jsonwebtoken::errors::Error> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let lifetime = args.max_lifetime.as_secs().min(3600);
    let mut jti = [0u8; 12];
    let _ = SystemRandom::new().fill(&mut jti);
    let claims = serde_json::json!({
        "iss": args.issuer.first(),
        "aud": args.audience.first(),
        "sub": "dev-user",
        "scope": "demo",
        "jti": URL_SAFE_NO_PAD.encode(jti),
        "iat": now,
        "exp": now + lifetime,
    });
    tollgate::jwt::crypto_provider();
    jsonwebtoken::encode(header, &claims, key)
}

/// The built-in upstream: echoes what the gateway told it about the caller.
async fn demo_upstream(request: Request<Body>) -> impl IntoResponse {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    axum::Json(serde_json::json!({
        "upstream": "tollgate demo",
        "method": request.method().as_str(),
        "path": request.uri().path(),
        "subject": header("x-auth-subject"),
        "issuer": header("x-auth-issuer"),
        "scope": header("x-auth-scope"),
        "authorization_forwarded": request.headers().contains_key(AUTHORIZATION),
    }))
}

const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::try_from(name.trim()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

#[derive(Clone)]
struct Proxy {
    client: Client<HttpConnector, Body>,
    upstream: Uri,
    keep_authorization: bool,
}

impl Proxy {
    async fn forward(self, request: Request<Body>) -> Result<Response, Infallible> {
        let (mut parts, body) = request.into_parts();
        let prefix = self.upstream.path().trim_end_matches('/');
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let uri = Uri::builder()
            .scheme(self.upstream.scheme_str().unwrap_or("http"))
            .authority(self.upstream.authority().map_or("", |a| a.as_str()))
            .path_and_query(format!("{prefix}{path}"))
            .build();
        let Ok(uri) = uri else {
            return Ok(bad_gateway());
        };
        let headers = &mut parts.headers;
        strip_hop_by_hop(headers);
        headers.remove(HOST);
        if !self.keep_authorization {
            headers.remove(AUTHORIZATION);
        }
        // Identity headers come from the gateway only, never the client.
        let spoofed: Vec<HeaderName> = headers
            .keys()
            .filter(|k| k.as_str().starts_with("x-auth-"))
            .cloned()
            .collect();
        for name in spoofed {
            headers.remove(name);
        }
        if let Some(claims) = parts.extensions.get::<Verified<StandardClaims>>() {
            let identity = [
                ("x-auth-subject", claims.subject()),
                ("x-auth-issuer", claims.issuer()),
                ("x-auth-scope", claims.scope.as_deref()),
                ("x-auth-client-id", claims.client_id.as_deref()),
            ];
            for (name, value) in identity {
                if let Some(Ok(value)) = value.map(HeaderValue::from_str) {
                    headers.insert(name, value);
                }
            }
        }
        if let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>()
            && let Ok(value) = HeaderValue::try_from(peer.ip().to_string())
        {
            headers.append("x-forwarded-for", value);
        }
        parts.uri = uri;
        match self.client.request(Request::from_parts(parts, body)).await {
            Ok(response) => {
                let (mut parts, body) = response.into_parts();
                strip_hop_by_hop(&mut parts.headers);
                Ok(Response::from_parts(parts, Body::new(body)))
            }
            Err(error) => {
                tracing::warn!(%error, "upstream request failed");
                Ok(bad_gateway())
            }
        }
    }
}

fn bad_gateway() -> Response {
    (
        StatusCode::BAD_GATEWAY,
        axum::Json(serde_json::json!({"error": "bad_gateway"})),
    )
        .into_response()
}

async fn spawn_demo_upstream() -> std::io::Result<Uri> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let app = Router::new().fallback(demo_upstream);
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "demo upstream stopped");
        }
    });
    Ok(format!("http://{addr}")
        .parse()
        .expect("a socket address is a valid authority"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tollgate=debug".into()),
        )
        .init();
    let mut args = Args::parse();
    let keys = load_keys(&args).await?;
    if keys.public_jwks.is_some() {
        if args.issuer.is_empty() {
            args.issuer.push("tollgate-dev".into());
        }
        if args.audience.is_empty() {
            args.audience.push("tollgate-demo".into());
        }
    }

    let mut verifier = JwtVerifier::<StandardClaims>::builder()
        .leeway(args.leeway)
        .max_lifetime(args.max_lifetime);
    for (name, source) in keys.sources {
        verifier = match name {
            None => {
                for issuer in &args.issuer {
                    verifier = verifier.issuer(issuer);
                }
                match source {
                    Source::Static(set) => verifier.key_set(set),
                    Source::Remote(jwks) => verifier.remote_jwks(jwks),
                }
            }
            Some(name) => {
                let mut issuer = Issuer::new(name);
                for alg in &args.algorithm {
                    issuer = issuer.algorithm(*alg);
                }
                verifier.trust(match source {
                    Source::Static(set) => issuer.key_set(set),
                    Source::Remote(jwks) => issuer.remote(jwks),
                })
            }
        };
    }
    for audience in &args.audience {
        verifier = verifier.audience(audience);
    }
    let verifier = verifier.build()?;
    let bearer = BearerLayer::builder().optional(args.optional).build()?;
    let mut revocations = RevocationList::builder()
        .leeway(args.leeway)
        .max_token_lifetime(args.max_lifetime);
    if let Some(max) = args.max_revocations {
        revocations = revocations.max_entries(max);
    }
    let revocations = revocations.build()?;
    {
        // Expired revocations are swept as the list grows; this sweeps the
        // rest once a minute.
        let revocations = revocations.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                revocations.purge_expired();
            }
        });
    }

    let (upstream, upstream_name) = match &args.upstream {
        Some(uri) if uri.scheme_str() == Some("http") && uri.authority().is_some() => {
            (uri.clone(), uri.to_string())
        }
        Some(uri) => return Err(format!("--upstream must be an http:// URL, got {uri}").into()),
        None => (
            spawn_demo_upstream().await?,
            "the built-in demo upstream".to_owned(),
        ),
    };
    let proxy = Proxy {
        client: Client::builder(TokioExecutor::new()).build_http(),
        upstream,
        keep_authorization: args.keep_authorization,
    };
    let protected = ServiceBuilder::new()
        .layer(bearer)
        .layer(JwtLayer::new(verifier))
        .layer(RevocationLayer::<StandardClaims>::new(revocations.clone()))
        .service_fn(move |request| proxy.clone().forward(request));

    let mut app = Router::new().route("/healthz", get(|| async { "ok" }));
    if let Some(jwks) = keys.public_jwks.clone() {
        app = app.route(
            "/.well-known/jwks.json",
            get(move || async move {
                (
                    [(http::header::CONTENT_TYPE, "application/jwk-set+json")],
                    jwks,
                )
            }),
        );
    }
    if let Some(token) = &args.admin_token {
        if token.len() < 16 {
            return Err("--admin-token must be at least 16 characters".into());
        }
        app = app.merge(admin::router(admin::Admin {
            token: token.clone(),
            list: revocations.clone(),
            issuers: args.issuer.clone(),
            max_lifetime: i64::try_from(args.max_lifetime.as_secs()).unwrap_or(i64::MAX),
        }));
    }
    let app = app.fallback_service(protected);

    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let local = listener.local_addr()?;
    let host = if local.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], local.port()))
    } else {
        local
    };
    println!("tollgate gateway listening on http://{local}, forwarding to {upstream_name}");
    match &keys.minter {
        Some((header, key)) => {
            let token = mint(&args, header, key)?;
            println!("try it (token valid for 1 hour):");
            println!("  curl -H 'Authorization: Bearer {token}' http://{host}/hello");
        }
        None => println!("send requests with 'Authorization: Bearer <token>' to http://{host}/"),
    }

    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
