//! `/backchannel/authentication`: authenticates the client, validates its CIBA request, and
//! creates the `bc_auth` record whose ticket drives `issue`, `fail` and `complete`.

use actix_web::HttpResponse;
use serde_json::Value;

use super::{reject, request_object, Rejection};
use crate::config::DeliveryMode;
use crate::emulator::clients::{mode_name, Authenticated, Credentials};
use crate::emulator::codes;
use crate::emulator::envelope::{read_parameters, Envelope};
use crate::emulator::params::{Body, Params};
use crate::emulator::scopes;
use crate::emulator::state::{random_token, Emulator};
use crate::emulator::store::{BcAuth, Stage};

const BAD_REQUEST: &str = "BAD_REQUEST";

/// The backchannel authentication request parameters that may appear once only (`resource`
/// may repeat).
const SINGLE_VALUED: &[&str] = &[
    "scope",
    "client_notification_token",
    "acr_values",
    "login_hint_token",
    "id_token_hint",
    "login_hint",
    "binding_message",
    "user_code",
    "requested_expiry",
    "request",
    "authorization_details",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
];
const MAX_NOTIFICATION_TOKEN: usize = 1024;

/// The validated request.
struct Request {
    scopes: Vec<String>,
    hint_type: &'static str,
    hint: String,
    sub: Option<String>,
    notification_token: Option<String>,
    user_code: Option<String>,
    binding_message: Option<String>,
    acrs: Option<Vec<String>>,
    requested_expiry: u64,
    resources: Vec<String>,
    authorization_details: Option<Vec<Value>>,
    /// A signed request's `request_context`, as JSON text.
    request_context: Option<String>,
    /// What Authlete reports without refusing: dropped and defaulted ACRs.
    warnings: Vec<String>,
}

pub(crate) fn handle(state: &Emulator, body: &Body) -> HttpResponse {
    let codes = [codes::A166201, codes::A166202, codes::A166301];
    let params = match read_parameters(body, codes) {
        Ok(params) => params,
        Err(refusal) => return refusal.ok(),
    };
    if let Some(name) = params.repeated(SINGLE_VALUED) {
        return Envelope::oauth(codes::A166304, &[name], BAD_REQUEST, "invalid_request").ok();
    }
    let creds = Credentials::presented(body, &params);
    let client = match state.clients.authenticate(&creds, false) {
        Ok(client) => client,
        Err(failure) if failure.public => {
            return Envelope::oauth(
                failure.code,
                &failure.args(),
                BAD_REQUEST,
                "unauthorized_client",
            )
            .ok()
        }
        Err(failure) => {
            return Envelope::oauth(
                failure.code,
                &failure.args(),
                "UNAUTHORIZED",
                "invalid_client",
            )
            .ok()
        }
    };
    match validate(state, &client, &params) {
        Ok(request) => accept(state, &client, request),
        Err((code, args, error)) => {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            Envelope::oauth(code, &args, BAD_REQUEST, error).ok()
        }
    }
}

fn validate(
    state: &Emulator,
    client: &Authenticated<'_>,
    params: &Params,
) -> Result<Request, Rejection> {
    // A signed request's parameters are the claims of its request object.
    let signed = request_object::verify(state, client, params)?;
    let request_context = signed.as_ref().and_then(|s| s.request_context.clone());
    let params = signed.as_ref().map_or(params, |s| &s.params);
    let Some(scope) = params.get("scope") else {
        return Err(reject(codes::A176301, &[], "invalid_request"));
    };
    let scopes = scopes::supported(scope);
    if !scopes.iter().any(|s| s == "openid") {
        return Err(reject(codes::A176304, &["openid"], "invalid_scope"));
    }
    let notification_token = notification_token(client.client.mode, params)?;
    let (hint_type, hint, sub) = hint(state, client, params)?;
    let user_code_required = client.client.user_code_required && state.settings.user_code_supported;
    let user_code = params.get("user_code").map(str::to_owned);
    if user_code_required && user_code.is_none() {
        return Err(reject(codes::A177301, &[], "missing_user_code"));
    }
    let requested_expiry = match params
        .get("requested_expiry")
        .map(|v| v.trim().parse::<i64>())
    {
        None => 0,
        Some(Err(_)) => return Err(reject(codes::A201301, &[], "invalid_request")),
        Some(Ok(n)) if n <= 0 => return Err(reject(codes::A201302, &[], "invalid_request")),
        Some(Ok(n)) => n.unsigned_abs(),
    };
    let authorization_details = authorization_details(params)?;
    let (acrs, warnings) = acrs(state, client, params);
    Ok(Request {
        resources: params
            .all("resource")
            .into_iter()
            .map(str::to_owned)
            .collect(),
        authorization_details,
        request_context,
        scopes,
        hint_type,
        hint,
        sub,
        notification_token,
        user_code,
        binding_message: params.get("binding_message").map(str::to_owned),
        acrs,
        warnings,
        requested_expiry,
    })
}

/// The requested ACRs the service supports (all of them when it lists none), or the client's
/// default ACRs when the request names none; each dropped or defaulted value is a warning.
fn acrs(
    state: &Emulator,
    client: &Authenticated<'_>,
    params: &Params,
) -> (Option<Vec<String>>, Vec<String>) {
    let supported = &state.settings.supported_acrs;
    let mut warnings = Vec::new();
    let Some(requested) = params.get("acr_values") else {
        let defaults = &client.client.default_acrs;
        if defaults.is_empty() {
            return (None, warnings);
        }
        warnings.push(codes::A173401.message(&[&defaults.join(" ")]));
        return (Some(defaults.clone()), warnings);
    };
    let mut kept = Vec::new();
    for acr in requested.split_whitespace() {
        if supported.is_empty() || supported.iter().any(|s| s == acr) {
            kept.push(acr.to_owned());
        } else {
            warnings.push(codes::A173301.message(&[acr]));
        }
    }
    ((!kept.is_empty()).then_some(kept), warnings)
}

/// RFC 9396 `authorization_details`: a JSON array of objects, each with a `type`.
fn authorization_details(params: &Params) -> Result<Option<Vec<Value>>, Rejection> {
    let Some(text) = params.get("authorization_details") else {
        return Ok(None);
    };
    let elements = match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(elements)) => elements,
        Ok(_) => return Err(reject(codes::A249305, &[], "invalid_request")),
        Err(_) => return Err(reject(codes::A249304, &[], "invalid_request")),
    };
    for (index, element) in elements.iter().enumerate() {
        let index = index.to_string();
        let Some(object) = element.as_object() else {
            return Err(reject(
                codes::A249306,
                &[&index],
                "invalid_authorization_details",
            ));
        };
        if object
            .get("type")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(reject(
                codes::A249301,
                &[&index],
                "invalid_authorization_details",
            ));
        }
    }
    Ok(Some(elements))
}

/// Required in ping and push mode, at most 1024 characters of RFC 6750 `b64token`.
fn notification_token(mode: DeliveryMode, params: &Params) -> Result<Option<String>, Rejection> {
    let token = params.get("client_notification_token");
    if mode == DeliveryMode::Poll {
        return Ok(token.map(str::to_owned));
    }
    let Some(token) = token else {
        return Err(reject(
            codes::A155301,
            &[&mode_name(mode).to_ascii_lowercase()],
            "invalid_request",
        ));
    };
    if token.chars().count() > MAX_NOTIFICATION_TOKEN {
        return Err(reject(codes::A155302, &[], "invalid_request"));
    }
    if !is_b64token(token) {
        return Err(reject(codes::A155303, &[], "invalid_request"));
    }
    Ok(Some(token.to_owned()))
}

/// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// Exactly one of the three hints; an `id_token_hint` must be an ID token of this service.
fn hint(
    state: &Emulator,
    client: &Authenticated<'_>,
    params: &Params,
) -> Result<(&'static str, String, Option<String>), Rejection> {
    let hints: Vec<(&'static str, &str)> = [
        ("LOGIN_HINT", "login_hint"),
        ("LOGIN_HINT_TOKEN", "login_hint_token"),
        ("ID_TOKEN_HINT", "id_token_hint"),
    ]
    .into_iter()
    .filter_map(|(kind, name)| params.get(name).map(|value| (kind, value)))
    .collect();
    let (kind, value) = match hints.as_slice() {
        [] => return Err(reject(codes::A174301, &[], "invalid_request")),
        [one] => *one,
        _ => return Err(reject(codes::A174302, &[], "invalid_request")),
    };
    let sub = if kind == "ID_TOKEN_HINT" {
        Some(id_token_hint_sub(state, client, value)?)
    } else {
        None
    };
    Ok((kind, value.to_owned(), sub))
}

fn id_token_hint_sub(
    state: &Emulator,
    client: &Authenticated<'_>,
    token: &str,
) -> Result<String, Rejection> {
    use jsonwebtoken::errors::ErrorKind;
    // The catalogue has no code for a bad signature: a hint that is not a valid JWS of this
    // service fails as one that cannot be parsed.
    let claims = state.key.verify(token).map_err(|e| match e.kind() {
        ErrorKind::Json(_) => reject(codes::A175304, &[], "invalid_request"),
        _ => reject(codes::A175301, &[], "invalid_request"),
    })?;
    match claims.get("iss").and_then(Value::as_str) {
        None => return Err(reject(codes::A175305, &[], "invalid_request")),
        Some(iss) if iss != state.issuer => {
            return Err(reject(codes::A175306, &[], "invalid_request"))
        }
        Some(_) => {}
    }
    let numeric = client.client.id.to_string();
    let ours = |v: &Value| {
        v.as_str()
            .is_some_and(|a| a == client.client.alias || a == numeric)
    };
    let refused = match claims.get("aud") {
        None => Some(codes::A175307),
        Some(Value::Array(items)) => (!items.iter().any(ours)).then_some(codes::A175308),
        Some(value) => (!ours(value)).then_some(codes::A175309),
    };
    if let Some(code) = refused {
        return Err(reject(code, &[], "invalid_request"));
    }
    match claims.get("sub").and_then(Value::as_str) {
        Some(sub) if !sub.is_empty() => Ok(sub.to_owned()),
        _ => Err(reject(codes::A175310, &[], "invalid_request")),
    }
}

/// Stores the `bc_auth` record; its lifetime is the configured one, or `requested_expiry`
/// when that is shorter.
fn store_record(state: &Emulator, client: &Authenticated<'_>, request: &Request) -> String {
    let configured = state.settings.auth_req_id_lifetime.as_secs();
    let lifetime = match request.requested_expiry {
        0 => configured,
        requested => requested.min(configured),
    };
    let now = state.now_ms();
    let ticket = random_token();
    let record = BcAuth {
        client_id: client.client.id,
        client_ident: client.ident.clone(),
        alias_used: client.alias_used,
        mode: client.client.mode,
        notification_token: request.notification_token.clone(),
        scopes: request.scopes.clone(),
        lifetime_secs: lifetime,
        expires_at_ms: now + lifetime * 1000,
        auth_req_id: None,
        stage: Stage::Created,
    };
    let mut store = state.store();
    store.prune(now);
    store.bc.insert(ticket.clone(), record);
    ticket
}

/// Answers `USER_IDENTIFICATION` with a fresh ticket.
fn accept(state: &Emulator, client: &Authenticated<'_>, request: Request) -> HttpResponse {
    let ticket = store_record(state, client, &request);
    let c = client.client;
    let claim_names = scopes::claim_names(&request.scopes);
    Envelope::new(codes::A179001, &[])
        .action("USER_IDENTIFICATION")
        .set("ticket", ticket)
        .set("clientId", c.id)
        .set("clientIdAlias", c.alias.clone())
        .set("clientIdAliasUsed", client.alias_used)
        .set("clientName", c.name.clone())
        .set("clientAuthMethod", c.method.wire())
        .set("deliveryMode", mode_name(c.mode))
        .set("scopes", scopes::objects(&request.scopes))
        .set(
            "claimNames",
            (!claim_names.is_empty()).then_some(claim_names),
        )
        .set("clientNotificationToken", request.notification_token)
        .set("acrs", request.acrs)
        .set("hintType", request.hint_type)
        .set("hint", request.hint)
        .set("sub", request.sub)
        .set("bindingMessage", request.binding_message)
        .set("userCode", request.user_code)
        .set(
            "userCodeRequired",
            c.user_code_required && state.settings.user_code_supported,
        )
        .set("requestedExpiry", request.requested_expiry)
        .set("requestContext", request.request_context)
        .set(
            "warnings",
            (!request.warnings.is_empty()).then_some(request.warnings),
        )
        .set(
            "resources",
            (!request.resources.is_empty()).then_some(request.resources),
        )
        .set(
            "authorizationDetails",
            request
                .authorization_details
                .map(|elements| serde_json::json!({"elements": elements})),
        )
        .ok()
}
