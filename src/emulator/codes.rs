//! The result codes the emulator answers with, and their messages.
//!
//! Messages quoted in `authlete-api.md` are Authlete's verbatim; the others follow the same
//! style and class digit (`2` caller error, `3` client error, `0` success). `{}` marks a
//! placeholder, filled in order by [`Code::message`].

/// One entry of the result-code catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Code {
    pub id: &'static str,
    text: &'static str,
}

impl Code {
    /// `"[Axxxxxx] text"`, with each `{}` replaced by the next argument.
    pub fn message(&self, args: &[&str]) -> String {
        let mut out = format!("[{}] ", self.id);
        let mut args = args.iter();
        let mut parts = self.text.split("{}").peekable();
        while let Some(part) = parts.next() {
            out.push_str(part);
            if parts.peek().is_some() {
                out.push_str(args.next().copied().unwrap_or(""));
            }
        }
        out
    }
}

macro_rules! codes {
    ($($name:ident => $text:literal;)*) => {
        $(pub(crate) const $name: Code = Code { id: stringify!($name), text: $text };)*
    };
}

codes! {
    // API-call problems (the path is the first argument).
    A001101 => "{}, Authlete Server error.";
    A001202 => "{}, Authorization header is missing.";
    A001203 => "{}, Credentials in Authorization header are malformed: {}";
    A001204 => "{}, The request body could not be parsed: {}";
    A001212 => "{}, The client '{}' does not exist.";
    A003201 => "{}, No service has the API credentials.";
    A003204 => "{}, The API credentials do not match the service.";
    // Client identification and authentication.
    A157301 => "The client authentication failed because the client secret is wrong.";
    A157302 => "The client used the client authentication method '{}', but the registered one is '{}'.";
    A157303 => "The client used more than one client authentication method.";
    A157304 => "The client authentication method '{}' is not supported.";
    A168303 => "The client ID in the Authorization header differs from the 'client_id' request parameter.";
    A168304 => "The client '{}' does not exist.";
    A168309 => "There is no way to identify the client application.";
    A168311 => "Public clients are not allowed to use the CIBA flow.";
    // /backchannel/authentication
    A155301 => "The backchannel token delivery mode of the client is '{}', but the backchannel authentication request does not contain a client notification token.";
    A155302 => "The length of the client notification token exceeds 1024.";
    A155303 => "The client notification token does not follow the syntax defined in RFC 6750 Section 2.1.";
    A166201 => "The request does not contain 'parameters' parameter.";
    A166301 => "The value of 'parameters' is malformed.";
    A167309 => "The backchannel authentication request contains a request object, but the client has not registered 'backchannel_authentication_request_signing_alg'.";
    A174301 => "The backchannel authentication request does not contain any hint.";
    A174302 => "The backchannel authentication request contains multiple hints.";
    A175301 => "Failed to parse the ID token hint: {}";
    A175304 => "The signature of the ID token hint is invalid.";
    A175306 => "The value of the 'iss' claim of the ID token hint is not the issuer of this service.";
    A175307 => "The 'aud' claim of the ID token hint does not contain the client ID.";
    A175310 => "The ID token hint does not contain the 'sub' claim.";
    A176301 => "The backchannel authentication request does not contain 'scope' parameter.";
    A176304 => "The backchannel authentication request does not include the mandatory scope '{}'.";
    A177301 => "The backchannel authentication request does not include a user code.";
    A179001 => "The backchannel authentication request was processed successfully.";
    A201301 => "The value of 'requested_expiry' is not an integer.";
    A201302 => "The value of 'requested_expiry' is not a positive integer.";
    // /backchannel/authentication/issue
    A181201 => "The ticket does not exist.";
    A181203 => "The ticket has already expired.";
    A181204 => "The ticket has already been consumed by /api/backchannel/authentication/complete API.";
    A181205 => "The ticket has already been used to issue an auth_req_id by the previous API call.";
    A182201 => "The request does not contain 'ticket' parameter or its value is empty.";
    A183001 => "An auth_req_id was issued successfully.";
    // /backchannel/authentication/fail
    A185001 => "Successfully generated an error response for the backchannel authentication request.";
    A186202 => "No record that holds the ticket.";
    // /backchannel/authentication/complete
    A187201 => "The request does not contain a valid 'result' parameter.";
    A188201 => "The request does not contain 'subject' parameter or its value is empty although the result is AUTHORIZED.";
    A190201 => "The value of 'claims' is not a JSON object.";
    A195201 => "The value of 'authTime' must not be negative.";
    A196201 => "The ticket is not found.";
    A196202 => "The ticket has already expired.";
    A196203 => "The ticket has already been consumed by the previous API call.";
    A196204 => "No auth_req_id has been issued for the ticket. Call /api/backchannel/authentication/issue API with the ticket in advance before calling this API.";
    A197101 => "Failed to generate an ID token: {}";
    A198001 => "Successfully updated the database so that the token endpoint can generate tokens (mode = {}, result = {}).";
    A198002 => "Successfully updated the database so that the token endpoint can generate an error (mode = {}, result = {}).";
    A198003 => "Successfully generated tokens to be delivered in the push mode.";
    A198004 => "Successfully prepared error content to be delivered in the push mode (result = {}).";
    // /auth/token
    A041301 => "The token request does not contain 'grant_type' parameter.";
    A047101 => "The grant type '{}' is not supported by this service.";
    A047302 => "The grant type '{}' is not allowed for the client.";
    A053001 => "The token request (grant_type=refresh_token) was processed successfully.";
    A053301 => "The token request does not contain 'refresh_token' parameter.";
    A053302 => "The refresh token does not exist.";
    A053303 => "The refresh token has expired.";
    A053304 => "The client is not the owner of the refresh token.";
    A053305 => "The requested scopes exceed the scopes of the refresh token.";
    A061001 => "The token request (grant_type=client_credentials) was processed successfully.";
    A061301 => "Public clients cannot use the client credentials flow.";
    A200001 => "Generated an error response corresponding to the result ({}) given to the /api/backchannel/authentication/complete API.";
    A200002 => "The token request (grant_type=urn:openid:params:grant-type:ciba) was processed successfully.";
    A200101 => "Failed to generate tokens: {}";
    A200301 => "The token request does not contain 'auth_req_id' parameter.";
    A200302 => "The value of 'auth_req_id' is empty.";
    A200303 => "The token request contains 'auth_req_id' more than once.";
    A200304 => "The 'auth_req_id' does not exist.";
    A200305 => "The client is not the owner of the 'auth_req_id'.";
    A200306 => "The 'auth_req_id' cannot be used at the token endpoint because it has issued in the 'push' mode.";
    A200307 => "The 'auth_req_id' has expired.";
    A200308 => "The end-user has not been authenticated yet.";
    A200310 => "The auth_req_id for token issuance was consumed by another transaction, so tokens are not issued.";
    A200312 => "The client polls the token endpoint more often than the interval allows.";
    // Introspection, revocation, userinfo.
    A056001 => "The access token is valid.";
    A056201 => "The request does not contain 'token' parameter or its value is empty.";
    A056301 => "The access token does not exist.";
    A056302 => "The access token has expired.";
    A056303 => "The access token does not cover the required scopes.";
    A056304 => "The subject associated with the access token is different from the required subject.";
    A091001 => "The access token presented at the userinfo endpoint is valid.";
    A091303 => "The access token does not cover the 'openid' scope.";
    A091304 => "The access token is not associated with any subject.";
    A096001 => "Generated the content of a userinfo response successfully.";
    A096201 => "The value of 'claims' is not a JSON object.";
    A113001 => "The token has been revoked successfully.";
    A113002 => "The token does not exist, so there was nothing to revoke.";
    A114301 => "The revocation request does not contain 'token' parameter.";
    A114302 => "The client is not the owner of the token.";
    A145001 => "The token was introspected successfully.";
    A146201 => "The introspection request does not contain 'token' parameter.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_fills_placeholders_in_order() {
        assert_eq!(
            A001203.message(&["/auth/token", "Basic xyz"]),
            "[A001203] /auth/token, Credentials in Authorization header are malformed: Basic xyz"
        );
        assert_eq!(
            A174301.message(&[]),
            "[A174301] The backchannel authentication request does not contain any hint."
        );
    }
}
