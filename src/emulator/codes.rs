//! The result codes the emulator answers with, and their messages.
//!
//! Every code and message is Authlete's own, verbatim from its result-code catalogue (the
//! `APIResultCode` list of its v3 OpenAPI document); a test checks them against the catalogue's
//! lines kept in `tests/data/authlete-result-codes.tsv`. The catalogue marks the values Authlete
//! fills in as `{Name}`, `{{a|b}}` or `%s`; [`Code::message`] fills them in order.

/// One entry of the result-code catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Code {
    pub id: &'static str,
    text: &'static str,
}

impl Code {
    /// `"[Axxxxxx] text"`, with each placeholder replaced by the next argument.
    pub fn message(&self, args: &[&str]) -> String {
        let mut out = format!("[{}] ", self.id);
        let mut args = args.iter();
        let mut rest = self.text;
        while let Some((before, len)) = next_placeholder(rest) {
            out.push_str(&rest[..before]);
            out.push_str(args.next().copied().unwrap_or(""));
            rest = &rest[before + len..];
        }
        out.push_str(rest);
        out
    }
}

/// Where the next placeholder starts in `text`, and its length.
fn next_placeholder(text: &str) -> Option<(usize, usize)> {
    let brace = text.find('{').map(|at| {
        let close = if text[at..].starts_with("{{") {
            "}}"
        } else {
            "}"
        };
        let len = text[at..]
            .find(close)
            .map_or(text.len() - at, |end| end + close.len());
        (at, len)
    });
    let percent = ["%s", "%d"]
        .iter()
        .filter_map(|p| text.find(p))
        .min()
        .map(|at| (at, 2));
    match (brace, percent) {
        (Some(b), Some(p)) => Some(if b.0 < p.0 { b } else { p }),
        (b, p) => b.or(p),
    }
}

macro_rules! codes {
    ($($name:ident => $text:literal;)*) => {
        $(pub(crate) const $name: Code = Code { id: stringify!($name), text: $text };)*

        /// Every code the emulator can answer with.
        #[cfg(test)]
        pub(crate) const ALL: &[Code] = &[$($name),*];
    };
}

codes! {
    // API-call problems (the API path is the first argument).
    A001101 => "{API Path}, Authlete Server error.";
    A001202 => "{API Path}, Authorization header is missing.";
    A001203 => "{API Path}, Credentials in Authorization header are malformed: {Header Value}";
    A001212 => "{API Path}, The client (ID = {Client ID}) does not exist.";
    A001218 => "{API Path}, The client (identifier = {Client Identifier}) does not exist.";
    A003201 => "{API Path}, No service has the API credentials.";
    A003204 => "{API Path}, The API credentials do not match those of the service (API Key = {Service's API Key}).";
    // Client identification and authentication.
    A157303 => "The request contains data for client authentication although the client type is 'public' and the client authentication method is 'none'.";
    A157304 => "The client authentication method is '{Client Authentication Method}' but the request does not include a client secret.";
    A157305 => "The client secret presented by the client does not match the expected one.";
    A157344 => "The client authentication method '{Client Authentication Method}' is not supported.";
    A168303 => "The client ID used in the Authorization header does not match the value of the 'client_id' request parameter.";
    A168309 => "The backchannel authentication request does not include any clue to identify the client application with. Adding the 'client_id' request parameter may solve this problem.";
    A168310 => "Information about the client application having the client ID '%s' was not found.";
    A168311 => "Public clients are not allowed to use the CIBA flow.";
    // Any API: a request parameter given more than once.
    A166304 => "The request parameter '%s' is included in the request more than once.";
    // /backchannel/authentication
    A155301 => "The backchannel token delivery mode of the client is '{Delivery Mode}', but the backchannel authentication request does not contain a client notification token.";
    A155302 => "The length of a client notification token must not exceed 1024.";
    A155303 => "The format of the client notification token must conform to the syntax for bearer credentials as defined in Section 2.1 of RFC 6750.";
    A166201 => "The API call does not contain the 'parameters' request parameter.";
    A166202 => "The format of the 'parameters' request parameter passed to this API does not conform to application/x-www-form-urlencoded.";
    A166301 => "The request does not contain any request parameters.";
    A167309 => "Use of the 'request' request parameter is not allowed because the 'backchannel_authentication_request_signing_alg' metadata of the client is not set.";
    // Signed backchannel requests (request objects), and FAPI-CIBA's own rules.
    A167301 => "When a backchannel authentication request contains the 'request' request parameter, other CIBA request parameters such as '{Request Parameter}' must not be present outside the JWT.";
    A167302 => "The value of the 'request' request parameter contained in the backchannel authentication request failed to be parsed as JOSE.";
    A167303 => "A request object included in a backchannel authentication request must be signed.";
    A167304 => "A request object included in a backchannel authentication request must not be encrypted.";
    A167305 => "The payload of the request object included in the backchannel authentication request failed to be parsed as JSON.";
    A167306 => "The request object included in the backchannel authentication request does not contain the 'iss' claim or its value is empty.";
    A167307 => "Failed to find a client application whose ID matches the value of the 'iss' claim in the request object included in the backchannel authentication request.";
    A167308 => "The signature algorithm of a request object included in a backchannel authentication request must be asymmetric.";
    A167310 => "The signature algorithm ('{Signature Algorithm}') of the request object included in the backchannel authentication request is different from the value ('{Signature Algorithm}') of the 'backchannel_authentication_request_signing_alg' metadata of the client.";
    A167311 => "Cannot verify the signature of the request object included in the backchannel authentication request because the client application has not registered its JWK Set.";
    A167312 => "Cannot find any appropriate JWK to verify the signature of the request object included in the backchannel authentication request with. (alg = '{Signature Algorithm}', kid = '{Key ID}')";
    A167313 => "Cannot determine a JWK to verify the signature of the request object included in the backchannel authentication request with because there exist multiple JWKs that satisfy the conditions. (alg = '{Signature Algorithm}', kid = '{Key ID}')";
    A167314 => "The signature of the request object included in the backchannel authentication request is invalid.";
    A167315 => "The request object included in the backchannel authentication request does not contain the '{Claim Name}' claim.";
    A167316 => "The value of the '{Claim Name}' claim in the request object included in the backchannel authentication request is null.";
    A167317 => "The value of the '{Claim Name}' claim in the request object included in the backchannel authentication request failed to be parsed as an integer.";
    A167318 => "The request object included in the backchannel authentication request has expired.";
    A167319 => "The 'iat' claim in the request object included in the backchannel authentication request claims that the JWT has issued in the future.";
    A167320 => "The 'nbf' claim in the request object included in the backchannel authentication request indicates that the JWT has not become valid yet.";
    A167321 => "The value of the 'aud' claim in a request object in a backchannel authentication request must match the issuer identifier of the OpenID provider.";
    A167322 => "Request parameters related to client authentication such as '{Request Parameter}' must be outside the JWT specified by the 'request' request parameter.";
    A167323 => "The value of the '{Claim Name}' claim in the request object included in the backchannel authentication request failed to be parsed as a string.";
    A167324 => "The value of the 'aud' claim in a request object in a backchannel authentication request must contain the issuer identifier of the OpenID provider.";
    A167325 => "The signature of the request object included in the backchannel authentication request couldn't be verified.";
    A167326 => "The type of the 'request_context' claim in the request object included in the backchannel authentication request is not a JSON object.";
    A243303 => "The request must be signed. Use the 'request' request parameter.";
    A243304 => "The lifetime of the signed authentication request exceeds the upper limit ({Number} seconds).";
    A243306 => "The signature algorithm ({Algorithm}) of the signed authentication request is not allowed.";
    A173301 => "The ACR value '{ACR Value}' required by the backchannel authentication request is ignored because it is not registered as a supported ACR value.";
    A173401 => "Because the 'acr_values' parameter was omitted, the default set of ACR values is implicitly used: {Default ACR Values}";
    A174301 => "The backchannel authentication request does not contain any hint.";
    A174302 => "The backchannel authentication request contains multiple hints.";
    A175301 => "The value of the 'id_token_hint' request parameter contained in the backchannel authentication request failed to be parsed as JOSE.";
    A175304 => "The payload of the 'id_token_hint' failed to be parsed as JSON.";
    A175305 => "The payload of the 'id_token_hint' does not contain the 'iss' claim.";
    A175306 => "The value of the 'iss' claim in the 'id_token_hint' is different from the issuer identifier of this server.";
    A175307 => "The payload of the 'id_token_hint' does not contain the 'aud' claim.";
    A175308 => "The 'aud' claim in the 'id_token_hint' does not contain the client ID.";
    A175309 => "The value of the 'aud' claim in the 'id_token_hint' does not match the client ID.";
    A175310 => "The payload of the 'id_token_hint' does not contain the 'sub' claim.";
    A176301 => "The backchannel authentication request does not contain the 'scope' request parameter or its value is empty.";
    A176304 => "The backchannel authentication request does not include the mandatory scope '{Scope Name}'.";
    A177301 => "The backchannel authentication request does not include a user code.";
    A179001 => "The backchannel authentication request was processed successfully.";
    A249301 => "The 'type' of the element (index = {Number}) in 'authorization_details' is null or empty.";
    A249304 => "The format of the value of 'authorization_details' is wrong.";
    A249305 => "The value of 'authorization_details' must be a JSON array.";
    A249306 => "The format of the element (index = {Number}) in 'authorization_details' is wrong.";
    A201301 => "The value of the 'requested_expiry' request parameter is not an integer.";
    A201302 => "The value of the 'requested_expiry' request parameter must be a positive integer.";
    // /backchannel/authentication/issue
    A181201 => "The ticket does not exist.";
    A181203 => "The ticket has already expired.";
    A181204 => "The ticket has already been consumed by /api/backchannel/authentication/complete API.";
    A181205 => "The ticket has already been used to issue an auth_req_id by the previous API call.";
    A182201 => "The request to /api/backchannel/authentication/issue API does not contain the 'ticket' request parameter or its value is empty.";
    A183001 => "An auth_req_id was issued successfully.";
    // /backchannel/authentication/fail
    A185001 => "Successfully generated an error response for the backchannel authentication request.";
    A186201 => "The 'ticket' request parameter is missing or its value is empty.";
    A186202 => "No record that holds the ticket.";
    // /backchannel/authentication/complete
    A187201 => "The mandatory request parameter 'result' is missing.";
    A188201 => "The 'subject' request parameter is missing or its value is empty.";
    A190201 => "The value of the 'claims' request parameter failed to be parsed as JSON.";
    A195201 => "The value of the 'authTime' request parameter must not be negative.";
    A256201 => "The value of 'idtHeaderParams' in the /api/backchannel/authentication/complete request failed to be parsed as a JSON object.";
    A196201 => "The ticket is not found.";
    A196202 => "The ticket has already expired.";
    A196203 => "The ticket has already been consumed by the previous API call.";
    A196204 => "No auth_req_id has been issued for the ticket. Call /api/backchannel/authentication/issue API with the ticket in advance before calling this API.";
    A197101 => "Failed to generate an ID token: {Error Message}";
    A198001 => "Successfully updated the database so that the token endpoint can generate tokens (mode = {Delivery Mode}, result = {Result}).";
    A198002 => "Successfully updated the database so that the token endpoint can generate an error response (mode = {Delivery Mode}, result = {Result}).";
    A198003 => "Successfully generated tokens that are to be delivered to the client notification endpoint (mode = {Delivery Mode}, result = {Result}).";
    A198004 => "Successfully prepared an error content that is to be reported to the client notification endpoint (mode = {Delivery Mode}, result = {Result}).";
    // /auth/token
    A047101 => "The grant type ({Grant Type}) is not supported. Consult the administrator of this authorization server.";
    A047201 => "The token request from the service does not contain 'parameters' parameter.";
    A047202 => "The format of the value of 'parameters' request parameter is wrong.";
    A047301 => "The token request does not contain any request parameters.";
    A047302 => "The grant type specified by the 'grant_type' request parameter is not included in the list of grant types that the client has declared it may use.";
    A048303 => "The token request contains multiple 'client_id' parameters.";
    A158301 => "The request contains multiple 'client_secret' parameters.";
    A049301 => "The token request does not contain 'grant_type' parameter.";
    A049302 => "The value of 'grant_type' in the token request is empty.";
    A049303 => "The token request contains multiple 'grant_type' parameters.";
    A052001 => "The token request (grant_type=client_credentials) was processed successfully.";
    A052301 => "Public clients are not allowed to use 'grant_type=client_credentials'.";
    A052302 => "The token request contains multiple 'scope' parameters.";
    A053001 => "The token request (grant_type=refresh_token) was processed successfully.";
    A053301 => "The token request does not contain 'refresh_token' parameter although 'grant_type' is 'refresh_token'.";
    A053302 => "The value of 'refresh_token' in the token request is empty.";
    A053303 => "The token request contains multiple 'refresh_token' parameters.";
    A053304 => "The token request contains multiple 'scope' parameters.";
    A053305 => "The refresh token passed to the token endpoint does not exist.";
    A053307 => "The refresh token does not belong to the client.";
    A053308 => "The refresh token has already expired.";
    A053309 => "The value of 'scope' in the token request contains a scope which is not covered by the old access token.";
    A200001 => "Generated an error response corresponding to the result ({Result}) given to the /api/backchannel/authentication/complete API.";
    A200002 => "The token request (grant_type=urn:openid:params:grant-type:ciba) was processed successfully.";
    A200102 => "Failed to generate an ID token.";
    A200301 => "The token request does not contain 'auth_req_id' parameter.";
    A200302 => "The value of 'auth_req_id' in the token request is empty.";
    A200303 => "The token request contains multiple 'auth_req_id' parameters.";
    A200304 => "The 'auth_req_id' does not exist.";
    A200305 => "The client is not the owner of the 'auth_req_id'.";
    A200306 => "The 'auth_req_id' cannot be used at the token endpoint because it has issued in the 'push' mode.";
    A200307 => "The 'auth_req_id' has expired.";
    A200308 => "The end-user has not been authenticated yet.";
    A200310 => "The auth_req_id for token issuance was consumed by another transaction, so tokens are not issued.";
    // /auth/introspection
    A056001 => "The access token is valid.";
    A057301 => "The request does not contain a valid access token.";
    A057302 => "The access token does not exist.";
    A064302 => "The access token does not cover the required scope '{Scope Name}'.";
    A065301 => "The access token has expired but it can be refreshed using the corresponding refresh token.";
    A065302 => "Both the access token and the refresh token have expired.";
    A065303 => "The access token has expired.";
    A066302 => "The subject associated with the access token is different from the subject required to access the protected resource.";
    // /auth/introspection/standard
    A145001 => "Introspection was performed successfully (type={{access_token|refresh_token|null}}, active={{true|false}}).";
    A145201 => "The standard introspection request from the service does not contain 'parameters' parameter.";
    A145202 => "The format of the value of 'parameters' request parameter is wrong.";
    A145301 => "The standard introspection request does not contain any request parameters.";
    A145302 => "The 'token' request parameter is missing.";
    // /auth/revocation
    A114303 => "The revocation request contains multiple 'client_id' parameters.";
    A114310 => "The revocation request contains multiple 'client_secret' parameters.";
    A113001 => "The token has been revoked successfully.";
    A113201 => "The revocation request from the service does not contain 'parameters' parameter.";
    A113202 => "The format of the value of 'parameters' request parameter is wrong.";
    A113301 => "The revocation request does not contain any request parameters.";
    A115301 => "The revocation request does not contain 'token' parameter.";
    A115302 => "The value of 'token' in the revocation request is empty.";
    A115303 => "The revocation request contains multiple 'token' parameters.";
    A116301 => "The presented token has not been issued to the client application (ID = {Client ID}).";
    // /auth/userinfo and /auth/userinfo/issue
    A091001 => "The access token presented at the userinfo endpoint is valid.";
    A092301 => "The request does not contain a valid access token.";
    A092302 => "The access token does not exist.";
    A093301 => "The access token has expired and does not have an associated refresh token.";
    A093302 => "Both the access token and the associated refresh token have expired.";
    A093303 => "The access token has expired, but it can be refreshed by using the associated refresh token.";
    A093304 => "The userinfo endpoint requires 'openid' scope, but the access token does not cover the scope.";
    A093305 => "The userinfo endpoint requires an access token to be associated with a subject.";
    A094201 => "The value of 'claims' in the /api/auth/userinfo/issue request failed to be parsed as a JSON object.";
    A096001 => "User information was obtained successfully.";
    // DPoP proofs and DPoP-bound tokens: token, userinfo and introspection APIs.
    A254301 => "There was a problem processing the DPoP header: {Error}";
    A254302 => "The DPoP signature algorithm ({Algorithm}) must not be symmetric or 'none'.";
    A254303 => "The DPoP header did not include a public key in JWK format.";
    A254304 => "The DPoP signature algorithm is missing.";
    A089311 => "Expected a DPoP header but none was provided.";
    A089312 => "Thumbprint of the provided DPoP key does not match the expected DPoP thumbprint.";
    A089313 => "There was an error processing the DPoP header: {Error}.";
    A089314 => "The DPoP signature algorithm ({Algorithm}) must not be symmetric or 'none'.";
    A089315 => "The DPoP header did not include a public key in JWK format.";
    A089316 => "The DPoP signature algorithm is missing.";
    A065308 => "Expected a DPoP header but none was provided.";
    A065309 => "Thumbprint of the provided DPoP key does not match the expected DPoP thumbprint.";
    A065310 => "There was an error processing the DPoP header: {Error}";
    A065311 => "The DPoP signature algorithm ({Algorithm}) must not be symmetric or 'none'.";
    A065312 => "The DPoP header did not include a public key in JWK format.";
    A065313 => "The DPoP signature algorithm is missing.";
    A053311 => "The DPoP thumbprint for the refresh token did not match the thumbprint presented in the request.";
}

#[cfg(test)]
mod tests {
    use super::*;

    const CATALOGUE: &str = include_str!("../../tests/data/authlete-result-codes.tsv");

    #[test]
    fn message_fills_placeholders_in_order() {
        assert_eq!(
            A001203.message(&["/auth/token", "Basic xyz"]),
            "[A001203] /auth/token, Credentials in Authorization header are malformed: Basic xyz"
        );
        assert_eq!(
            A166304.message(&["login_hint"]),
            "[A166304] The request parameter 'login_hint' is included in the request more than once."
        );
        assert_eq!(
            A145001.message(&["access_token", "true"]),
            "[A145001] Introspection was performed successfully (type=access_token, active=true)."
        );
        assert_eq!(
            A174301.message(&[]),
            "[A174301] The backchannel authentication request does not contain any hint."
        );
    }

    #[test]
    fn every_code_exists_in_authletes_catalogue_with_the_same_message() {
        let catalogue: std::collections::HashMap<&str, &str> = CATALOGUE
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split_once('\t'))
            .collect();
        for code in ALL {
            assert_eq!(
                catalogue.get(code.id).copied(),
                Some(code.text),
                "{} differs from Authlete's catalogue",
                code.id
            );
        }
    }
}
