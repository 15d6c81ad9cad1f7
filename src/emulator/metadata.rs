//! The raw (non-envelope) management answers: the discovery document, the JWK Set, and the
//! `Client` and `Service` objects.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::{json, Value};

use super::clients::{mode_name, Client};
use super::codes;
use super::envelope::api_failure;
use super::jose::VERIFIED_ALGS;
use super::params::Body;
use super::scopes;
use super::state::Emulator;
use super::token::SUPPORTED_GRANT_TYPES;

const AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

/// `service/configuration`: the discovery document, with the optional RFC 6902 `patch`.
pub(crate) fn configuration(state: &Emulator, body: &Body) -> HttpResponse {
    let mut document = discovery(state);
    if let Some(patch) = body.string("patch") {
        let applied = serde_json::from_str::<json_patch::Patch>(&patch)
            .map_err(|e| e.to_string())
            .and_then(|p| json_patch::patch(&mut document, &p).map_err(|e| e.to_string()));
        // Authlete's catalogue has no code for a patch that cannot be applied.
        if applied.is_err() {
            return api_failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                codes::A001101,
                &["/service/configuration"],
            );
        }
    }
    raw(&document, body.flag("pretty"))
}

/// The client authentication methods the service accepts; `none` once a public client exists.
fn auth_methods(state: &Emulator) -> Vec<&'static str> {
    let mut methods = AUTH_METHODS.to_vec();
    if state.clients.any_public() {
        methods.push("none");
    }
    methods
}

fn discovery(state: &Emulator) -> Value {
    let auth_methods = auth_methods(state);
    let mut document = json!({
        "issuer": state.issuer,
        "backchannel_authentication_endpoint": state.endpoint("/backchannel/authentication"),
        "token_endpoint": state.endpoint("/token"),
        "jwks_uri": state.endpoint("/jwks"),
        "introspection_endpoint": state.endpoint("/introspection"),
        "revocation_endpoint": state.endpoint("/revocation"),
        "userinfo_endpoint": state.endpoint("/userinfo"),
        "scopes_supported": scopes::SUPPORTED,
        "response_types_supported": [],
        "grant_types_supported": SUPPORTED_GRANT_TYPES,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "userinfo_signing_alg_values_supported": [],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "claims_supported": scopes::all_claims(),
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "tls_client_certificate_bound_access_tokens": false,
        "backchannel_token_delivery_modes_supported": ["poll", "ping", "push"],
        "backchannel_user_code_parameter_supported": state.settings.user_code_supported,
        // RFC 9449 §5.1: the algorithms of the DPoP proofs the token endpoint verifies.
        "dpop_signing_alg_values_supported": VERIFIED_ALGS,
    });
    let supported_acrs = &state.settings.supported_acrs;
    if let Some(map) = document.as_object_mut() {
        if !supported_acrs.is_empty() {
            map.insert("acr_values_supported".into(), json!(supported_acrs));
        }
    }
    // The algorithms it verifies, once a client may sign its requests; none before.
    if state.clients.any_signing() {
        if let Some(map) = document.as_object_mut() {
            map.insert(
                "backchannel_authentication_request_signing_alg_values_supported".into(),
                json!(VERIFIED_ALGS),
            );
        }
    }
    document
}

/// `service/jwks/get`: the JWK Set; private members only with `includePrivateKeys=true`.
pub(crate) fn jwks(state: &Emulator, body: &Body) -> HttpResponse {
    let set = json!({"keys": [state.key.jwk(body.flag("includePrivateKeys"))]});
    raw(&set, body.flag("pretty"))
}

/// `client/get/{id}` by numeric id or alias; unknown → 404 with an envelope.
pub(crate) fn client(state: &Emulator, ident: &str, path: &str) -> HttpResponse {
    match state.clients.find(ident) {
        Some((client, _)) => raw(&client_object(state, client), false),
        // A numeric ID and an alias (Authlete's "client identifier") have codes of their own.
        None if ident.parse::<u64>().is_ok() => {
            api_failure(StatusCode::NOT_FOUND, codes::A001212, &[path, ident])
        }
        None => api_failure(StatusCode::NOT_FOUND, codes::A001218, &[path, ident]),
    }
}

fn client_object(state: &Emulator, c: &Client) -> Value {
    let mut value = json!({
        "clientId": c.id,
        "clientIdAlias": c.alias,
        "clientIdAliasEnabled": true,
        "clientType": if c.is_public() { "PUBLIC" } else { "CONFIDENTIAL" },
        "grantTypes": c.grant_types,
        "tokenAuthMethod": c.method.wire(),
        "idTokenSignAlg": "RS256",
        "bcDeliveryMode": mode_name(c.mode),
        "bcUserCodeRequired": c.user_code_required,
        "tlsClientCertificateBoundAccessTokens": false,
        "serviceNumber": state.service_id,
    });
    let optional = [
        ("clientName", c.name.clone()),
        (
            "clientSecret",
            c.secret.as_ref().map(|s| s.expose().to_owned()),
        ),
        ("bcNotificationEndpoint", c.endpoint.clone()),
        ("bcRequestSignAlg", c.request_signing_alg.clone()),
    ];
    if let Some(map) = value.as_object_mut() {
        for (key, v) in optional {
            if let Some(v) = v {
                map.insert(key.into(), v.into());
            }
        }
        if !c.default_acrs.is_empty() {
            map.insert("defaultAcrs".into(), json!(c.default_acrs));
        }
        if let Some(jwks) = &c.jwks {
            map.insert("jwks".into(), jwks.to_string().into());
        }
    }
    value
}

/// `service/get`: the `Service` object with its CIBA settings.
pub(crate) fn service(state: &Emulator) -> HttpResponse {
    let s = &state.settings;
    let grant_types: Vec<&str> = vec!["CIBA", "REFRESH_TOKEN", "CLIENT_CREDENTIALS"];
    let service = json!({
        "apiKey": state.service_id,
        "serviceName": "Embedded Authlete emulator",
        "issuer": state.issuer,
        "backchannelAuthenticationEndpoint": state.endpoint("/backchannel/authentication"),
        "tokenEndpoint": state.endpoint("/token"),
        "jwksUri": state.endpoint("/jwks"),
        "introspectionEndpoint": state.endpoint("/introspection"),
        "revocationEndpoint": state.endpoint("/revocation"),
        "userInfoEndpoint": state.endpoint("/userinfo"),
        "supportedBackchannelTokenDeliveryModes": ["POLL", "PING", "PUSH"],
        "backchannelAuthReqIdDuration": s.auth_req_id_lifetime.as_secs(),
        "backchannelPollingInterval": s.polling_interval.as_secs(),
        "backchannelUserCodeParameterSupported": s.user_code_supported,
        "backchannelBindingMessageRequiredInFapi": false,
        "supportedGrantTypes": grant_types,
        "supportedTokenAuthMethods": ["CLIENT_SECRET_BASIC", "CLIENT_SECRET_POST"],
        "supportedScopes": scopes::objects(&scopes::SUPPORTED.map(String::from)),
        "accessTokenDuration": s.access_token_lifetime.as_secs(),
        "refreshTokenDuration": s.refresh_token_lifetime.as_secs(),
        "idTokenDuration": s.id_token_lifetime.as_secs(),
        "errorDescriptionOmitted": false,
        "errorUriOmitted": false,
        "clientIdAliasEnabled": true,
        "supportedAcrs": s.supported_acrs,
    });
    raw(&service, false)
}

fn raw(value: &Value, pretty: bool) -> HttpResponse {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    HttpResponse::Ok()
        .content_type("application/json;charset=UTF-8")
        .body(text.unwrap_or_default())
}
