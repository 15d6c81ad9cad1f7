//! A fixed-answer upstream for `bench/compare.sh`: it speaks the Authlete envelope (v3 paths,
//! `/api/{service_id}/...`) with one fixed JSON answer per API, so that it costs the same
//! however it is reached — through the gateway, through nginx, or directly.
//!
//! - `service/configuration`: the discovery document of `--discovery` (served raw, as Authlete
//!   does); `service/jwks/get`: `{"keys":[]}`;
//! - `auth/token`: `BAD_REQUEST` with `{"error":"authorization_pending"}` as `responseContent`;
//! - `backchannel/authentication`: `USER_IDENTIFICATION` of a poll-mode client, with a login hint
//!   cycling over `user0@example.com` … `user{N-1}@example.com` (`--users`) and a unique ticket;
//! - `backchannel/authentication/issue`: `OK` with a unique `auth_req_id`;
//! - `POST /token` (not under `/api/`): what the gateway answers a pending CIBA poll, 400
//!   `{"error":"authorization_pending"}`, for the arms that reach the upstream without the
//!   gateway (nginx as a reverse proxy, and the upstream directly).
//!
//! It checks no credentials and parses no request body: it is a measuring device, not an
//! emulator. It does read each body to its end (and drops it): a server that answers before the
//! body is read closes the connection, and every call would pay a new TCP connection where
//! Authlete keeps it alive. Anything else is answered 404.
//!
//! `cargo run --release --example bench_upstream -- --listen 127.0.0.1:8081 --discovery d.json`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use clap::Parser;

#[derive(Parser)]
#[command(about = "Fixed-answer Authlete upstream for bench/compare.sh")]
struct Options {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8081")]
    listen: std::net::SocketAddr,
    /// Worker threads; 0 means one per CPU.
    #[arg(long, default_value_t = 0)]
    workers: usize,
    /// The discovery document (JSON) served as `service/configuration`.
    #[arg(long)]
    discovery: std::path::PathBuf,
    /// Users the login hints cycle over.
    #[arg(long, default_value_t = 64)]
    users: u64,
}

struct Upstream {
    discovery: web::Bytes,
    users: u64,
    counter: AtomicU64,
}

const TOKEN_PENDING: &str = concat!(
    r#"{"resultCode":"A200308","resultMessage":"[A200308] The end-user has not been "#,
    r#"authenticated yet.","action":"BAD_REQUEST","responseContent":"#,
    r#""{\"error\":\"authorization_pending\"}"}"#
);
const PENDING_BODY: &str = r#"{"error":"authorization_pending"}"#;
const JWKS: &str = r#"{"keys":[]}"#;

fn json(status: StatusCode, body: impl Into<web::Bytes>) -> HttpResponse {
    let mut response = HttpResponse::build(status)
        .content_type("application/json")
        .body(body.into());
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn identification(n: u64, users: u64) -> String {
    format!(
        concat!(
            r#"{{"resultCode":"A179001","resultMessage":"[A179001] The backchannel "#,
            r#"authentication request was processed successfully.","action":"USER_IDENTIFICATION","#,
            r#""clientId":1001,"clientIdAliasUsed":false,"clientName":"Bench Client","#,
            r#""deliveryMode":"POLL","hintType":"LOGIN_HINT","hint":"user{}@example.com","#,
            r#""requestedExpiry":0,"scopes":[{{"defaultEntry":false,"name":"openid"}}],"#,
            r#""ticket":"bench-ticket-{}","userCodeRequired":false}}"#
        ),
        n % users.max(1),
        n
    )
}

fn issued(n: u64) -> String {
    format!(
        concat!(
            r#"{{"resultCode":"A183001","resultMessage":"[A183001] An auth_req_id was issued "#,
            r#"successfully.","action":"OK","authReqId":"bench-req-{n}","expiresIn":600,"#,
            r#""interval":5,"responseContent":"{{\"auth_req_id\":\"bench-req-{n}\","#,
            r#"\"expires_in\":600,\"interval\":5}}"}}"#
        ),
        n = n
    )
}

async fn answer(
    req: HttpRequest,
    _body: web::Bytes,
    upstream: web::Data<Arc<Upstream>>,
) -> HttpResponse {
    let path = req.path();
    if path == "/token" {
        return json(StatusCode::BAD_REQUEST, PENDING_BODY);
    }
    // `/api/{service_id}/{api}`: the service id is not checked.
    let api = path
        .strip_prefix("/api/")
        .and_then(|rest| rest.split_once('/'))
        .map(|(_, api)| api)
        .unwrap_or("");
    match api {
        "auth/token" => json(StatusCode::OK, TOKEN_PENDING),
        "backchannel/authentication" => {
            let n = upstream.counter.fetch_add(1, Ordering::Relaxed);
            json(StatusCode::OK, identification(n, upstream.users))
        }
        "backchannel/authentication/issue" => {
            let n = upstream.counter.fetch_add(1, Ordering::Relaxed);
            json(StatusCode::OK, issued(n))
        }
        "service/configuration" => json(StatusCode::OK, upstream.discovery.clone()),
        "service/jwks/get" => json(StatusCode::OK, JWKS),
        _ => HttpResponse::NotFound().finish(),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let options = Options::parse();
    let discovery = std::fs::read(&options.discovery)?;
    let upstream = Arc::new(Upstream {
        discovery: web::Bytes::from(discovery),
        users: options.users,
        counter: AtomicU64::new(0),
    });
    let workers = match options.workers {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(upstream.clone()))
            .default_service(web::to(answer))
    })
    .workers(workers)
    .bind(options.listen)?;
    println!("bench upstream listening on {}", options.listen);
    server.run().await
}
