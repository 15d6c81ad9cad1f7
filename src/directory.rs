//! The user directory: finds the end-user named by a CIBA hint and checks the user code.
//!
//! The directory itself (`Directory`) is shared by every worker; the HTTP source also needs a
//! per-worker `DirectoryClient`, since awc's client is `!Send`.

mod remote;

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::authlete::FailReason;
use crate::config::{Secret, StaticUser};
use crate::telemetry::{self, KeyValue, SpanKind, SpanSpec};

pub use remote::{DirectoryClient, HttpDirectory};

/// What a lookup is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HintKind {
    LoginHint,
    LoginHintToken,
    Subject,
}

impl HintKind {
    /// The `hint_type` of the HTTP directory protocol.
    pub fn wire(self) -> &'static str {
        match self {
            HintKind::LoginHint => "login_hint",
            HintKind::LoginHintToken => "login_hint_token",
            HintKind::Subject => "subject",
        }
    }
}

/// A lookup: the hint and the context the directory may use to decide.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    pub kind: HintKind,
    pub hint: &'a str,
    pub user_code: Option<&'a str>,
    /// Sent to an HTTP directory as `X-Request-Id`.
    pub request_id: &'a str,
    pub client_id: Option<&'a str>,
    pub scopes: Vec<&'a str>,
    pub acr_values: &'a [String],
    pub binding_message: Option<&'a str>,
}

impl<'a> Query<'a> {
    /// A lookup by subject, outside a backchannel request (userinfo, `/complete`).
    pub fn subject(subject: &'a str, request_id: &'a str) -> Self {
        Self {
            kind: HintKind::Subject,
            hint: subject,
            user_code: None,
            request_id,
            client_id: None,
            scopes: Vec::new(),
            acr_values: &[],
            binding_message: None,
        }
    }
}

/// The user the directory found.
#[derive(Debug, Clone)]
pub struct User {
    pub subject: String,
    pub user_code_required: bool,
    /// Whether the request's user code is this user's; false when none was given.
    pub user_code_valid: bool,
    pub claims: serde_json::Map<String, serde_json::Value>,
}

/// Why no user came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// The directory answers with a `/fail` reason (unknown user, expired hint token, ...).
    Refused(FailReason),
    /// The directory could not answer; logged where it happened.
    Failed,
}

/// The configured directory.
pub enum Directory {
    Static(StaticDirectory),
    Http(HttpDirectory),
}

impl Directory {
    /// Finds a user; `client` is the calling worker's, used by the HTTP source only.
    pub async fn lookup(
        &self,
        query: Query<'_>,
        client: &DirectoryClient,
    ) -> Result<User, LookupError> {
        let source = match self {
            Directory::Static(_) => "static",
            Directory::Http(_) => "http",
        };
        let spec = || SpanSpec {
            name: "directory lookup".into(),
            kind: SpanKind::Client,
            attributes: vec![KeyValue::new("directory.source", source)],
            links: Vec::new(),
        };
        let lookup = async {
            match self {
                Directory::Static(directory) => directory.lookup(&query),
                Directory::Http(directory) => directory.lookup(&query, client).await,
            }
        };
        telemetry::in_span(spec, lookup, |found| {
            vec![KeyValue::new("directory.found", found.is_ok())]
        })
        .await
    }

    /// Whether the directory judges user codes itself and may refuse one without naming a
    /// subject (`invalid_user_code`): then the lockout counts guesses per hint as well.
    pub fn judges_user_codes(&self) -> bool {
        matches!(self, Directory::Http(_))
    }
}

/// `users.source = "static"`: users listed in the configuration, indexed by subject and by login
/// hint (the first user listed wins a name given twice).
pub struct StaticDirectory {
    users: Vec<StaticUser>,
    by_subject: HashMap<String, usize>,
    by_login_hint: HashMap<String, usize>,
}

impl StaticDirectory {
    pub fn new(users: Vec<StaticUser>) -> Self {
        let (mut by_subject, mut by_login_hint) = (HashMap::new(), HashMap::new());
        for (index, user) in users.iter().enumerate() {
            by_subject.entry(user.subject.clone()).or_insert(index);
            for hint in &user.login_hints {
                by_login_hint.entry(hint.clone()).or_insert(index);
            }
        }
        Self {
            users,
            by_subject,
            by_login_hint,
        }
    }

    fn lookup(&self, query: &Query<'_>) -> Result<User, LookupError> {
        let index = match query.kind {
            HintKind::Subject => self.by_subject.get(query.hint),
            HintKind::LoginHint => self.by_login_hint.get(query.hint),
            // Login hint tokens need a directory that can read them.
            HintKind::LoginHintToken => None,
        };
        let found = index.map(|&i| &self.users[i]);
        let user = found.ok_or(LookupError::Refused(FailReason::UnknownUserId))?;
        Ok(User {
            subject: user.subject.clone(),
            user_code_required: user.user_code_required,
            user_code_valid: query.user_code.is_some_and(|code| code_matches(user, code)),
            claims: user.claims.clone(),
        })
    }
}

/// Compares in constant time against the plain or hashed user code.
fn code_matches(user: &StaticUser, given: &str) -> bool {
    if let Some(code) = &user.user_code {
        return code.ct_eq(given.as_bytes());
    }
    if let Some(hash) = &user.user_code_sha256 {
        let digest = hex::encode(Sha256::digest(given.as_bytes()));
        return Secret::new(digest).ct_eq(hash.expose().as_bytes());
    }
    false
}

/// Constant-time equality of two byte strings.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}
