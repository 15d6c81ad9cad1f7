//! The routes of both listeners; one module per endpoint, thin handlers.

pub mod admin;
mod admin_guard;
pub mod backchannel;
pub mod console;
pub mod decisions;
pub mod introspection;
pub mod metadata;
pub mod observe;
pub mod purge;
pub mod revocation;
pub mod token;
pub mod userinfo;

use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::app::AppState;
use crate::authlete::dto::ClientCredentials;
use crate::error::GatewayError;
use crate::http::form::read_parameters;
use crate::http::FormBody;
use admin_guard::{guard_admin, require_json};

/// The client's credentials and form body, for the endpoints that forward both to Authlete
/// (backchannel authentication, token, revocation). Credentials are checked first, so a
/// malformed `Authorization` is refused without reading the body.
pub async fn client_form(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<(ClientCredentials, FormBody), GatewayError> {
    let credentials = state.credentials.collect(req)?;
    let form = read_parameters(req, payload, state.settings.server.max_body_bytes).await?;
    Ok((credentials, form))
}

/// 404 `{"error":"not_found"}` for unknown paths.
pub async fn not_found() -> Result<HttpResponse, GatewayError> {
    Err(GatewayError::NotFound)
}

/// One mounted resource: its path (relative to the listener's base, or to the console's
/// scope), the `Allow` of its 405 answer, and the handler of each method it serves. The tables
/// below are the only place routes are declared, so what they list is what is mounted (the
/// OpenAPI document, `openapi.yaml`, is checked against them).
pub struct Route {
    pub path: &'static str,
    /// The methods named in the 405 answer's `Allow` (a CORS preflight may answer `OPTIONS`
    /// without being listed there).
    pub allow: &'static str,
    pub handlers: &'static [(Method, Handler)],
}

/// Builds the route of one method's handler.
pub type Handler = fn() -> actix_web::Route;

impl Route {
    /// Every method with a handler.
    pub fn methods(&self) -> impl Iterator<Item = &'static Method> {
        self.handlers.iter().map(|(method, _)| method)
    }

    /// The resource: each handler for its method, and 405 with `Allow` for any other.
    fn resource(&self) -> actix_web::Resource {
        self.build(|route| route)
    }

    /// The resource of a route behind the admin guard: its POST handlers take JSON only.
    fn guarded_resource(&self) -> actix_web::Resource {
        self.build(|route| route.wrap(from_fn(require_json)))
    }

    fn build(&self, post: impl Fn(actix_web::Route) -> actix_web::Route) -> actix_web::Resource {
        let allow = self.allow;
        let resource = web::resource(self.path).default_service(web::to(move || async move {
            Err::<HttpResponse, _>(GatewayError::MethodNotAllowed { allow })
        }));
        self.handlers
            .iter()
            .fold(resource, |resource, (method, handler)| {
                let route = handler().method(method.clone());
                resource.route(match *method {
                    Method::POST => post(route),
                    _ => route,
                })
            })
    }
}

/// The public listener's routes (SPEC §3, §5.3), relative to `public_url`'s path.
pub const PUBLIC: &[Route] = &[
    Route {
        path: "/backchannel/authentication",
        allow: "POST",
        handlers: &[(Method::POST, || {
            web::route().to(backchannel::backchannel_authentication)
        })],
    },
    Route {
        path: "/token",
        allow: "POST",
        handlers: &[(Method::POST, || web::route().to(token::token))],
    },
    Route {
        path: "/device/decisions",
        allow: "POST",
        handlers: &[(Method::POST, || {
            web::route().to(decisions::device_decisions)
        })],
    },
    Route {
        path: "/.well-known/openid-configuration",
        allow: "GET, HEAD, OPTIONS",
        handlers: &[
            (Method::GET, || web::route().to(metadata::discovery)),
            (Method::HEAD, || web::route().to(metadata::discovery)),
            (Method::OPTIONS, || web::route().to(metadata::preflight)),
        ],
    },
    Route {
        path: "/jwks",
        allow: "GET, HEAD, OPTIONS",
        handlers: &[
            (Method::GET, || web::route().to(metadata::jwks)),
            (Method::HEAD, || web::route().to(metadata::jwks)),
            (Method::OPTIONS, || web::route().to(metadata::preflight)),
        ],
    },
    Route {
        path: "/introspection",
        allow: "POST",
        handlers: &[(Method::POST, || {
            web::route().to(introspection::introspection)
        })],
    },
    Route {
        path: "/revocation",
        allow: "POST",
        handlers: &[(Method::POST, || web::route().to(revocation::revocation))],
    },
    Route {
        path: "/userinfo",
        allow: "GET, POST",
        handlers: &[
            (Method::GET, || web::route().to(userinfo::userinfo)),
            (Method::POST, || web::route().to(userinfo::userinfo)),
            (Method::OPTIONS, || web::route().to(userinfo::preflight)),
        ],
    },
];

/// The admin listener's routes that answer any `Host` (SPEC §2, §8).
pub const ADMIN: &[Route] = &[
    Route {
        path: "/metrics",
        allow: "GET, HEAD",
        handlers: &[
            (Method::GET, || web::route().to(admin::metrics)),
            (Method::HEAD, || web::route().to(admin::metrics)),
        ],
    },
    Route {
        path: "/healthz",
        allow: "GET, HEAD",
        handlers: &[
            (Method::GET, || web::route().to(admin::healthz)),
            (Method::HEAD, || web::route().to(admin::healthz)),
        ],
    },
    Route {
        path: "/readyz",
        allow: "GET, HEAD",
        handlers: &[
            (Method::GET, || web::route().to(admin::readyz)),
            (Method::HEAD, || web::route().to(admin::readyz)),
        ],
    },
];

/// The admin listener's routes behind the admin guard (SPEC §2), besides the console's.
pub const ADMIN_GUARDED: &[Route] = &[Route {
    path: "/cache/purge",
    allow: "POST",
    handlers: &[(Method::POST, || web::route().to(purge::purge))],
}];

/// Where the console is mounted on the admin listener.
pub const CONSOLE_SCOPE: &str = "/console";

/// The console's routes (SPEC §5.4), relative to `CONSOLE_SCOPE`; mounted only with
/// `admin.console = true`.
pub const CONSOLE: &[Route] = &[
    Route {
        path: "",
        allow: "GET",
        handlers: &[(Method::GET, || web::route().to(console::page))],
    },
    Route {
        path: "/app.js",
        allow: "GET",
        handlers: &[(Method::GET, || web::route().to(console::script))],
    },
    Route {
        path: "/requests",
        allow: "GET",
        handlers: &[(Method::GET, || web::route().to(console::requests))],
    },
    Route {
        path: "/decisions",
        allow: "POST",
        handlers: &[(Method::POST, || web::route().to(console::decide))],
    },
    Route {
        path: "/notifications",
        allow: "GET, POST",
        handlers: &[
            (Method::GET, || web::route().to(console::notifications)),
            (Method::POST, || {
                web::route().to(console::receive_notification)
            }),
        ],
    },
];

/// The `route` label of a request no route matched.
pub const UNMATCHED: &str = "unmatched";

/// The public listener's routes, relative to `public_url`'s path.
pub fn public_routes(cfg: &mut web::ServiceConfig) {
    for route in PUBLIC {
        cfg.service(route.resource());
    }
}

/// The admin listener's routes; the console only with `admin.console = true`.
pub fn admin_routes(cfg: &mut web::ServiceConfig, console_enabled: bool) {
    for route in ADMIN {
        cfg.service(route.resource());
    }
    for route in ADMIN_GUARDED {
        cfg.service(route.guarded_resource().wrap(from_fn(guard_admin)));
    }
    if console_enabled {
        cfg.service(console_scope());
    }
}

/// The console under one scope, so that the admin guard covers every path the router sends
/// into it, including ones no console resource matches (404 after the guard).
fn console_scope() -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    CONSOLE
        .iter()
        .fold(web::scope(CONSOLE_SCOPE), |scope, route| {
            scope.service(route.guarded_resource())
        })
        .default_service(web::to(not_found))
        .wrap(from_fn(guard_admin))
}
