//! `[users]` (the user directory) and `[ciba]`.

use std::collections::HashMap;

use super::{is_blank, Problems};
use crate::config::{
    CibaSettings, Secret, Settings, StaticUser, UserSource, MAX_LONG_POLL_TIMEOUT,
};

pub(super) fn check(settings: &Settings, p: &mut Problems) {
    let users = &settings.users;
    check_static_users(&users.static_users, p);
    if users.source == UserSource::Http {
        match &users.http {
            None => p.add("users.http", "is required with users.source = \"http\""),
            Some(http) => {
                p.https_unless("users.http.url", &http.url, http.allow_insecure_http);
                p.not_zero("users.http.timeout_ms", http.timeout);
                if http.bearer_token.as_ref().is_some_and(Secret::is_empty) {
                    p.add("users.http.bearer_token", "must not be empty when set");
                }
            }
        }
    }
    check_ciba(&settings.ciba, p);
}

fn check_static_users(users: &[StaticUser], p: &mut Problems) {
    let mut subjects: HashMap<&str, usize> = HashMap::new();
    let mut hints: HashMap<&str, usize> = HashMap::new();
    for (i, user) in users.iter().enumerate() {
        let key = format!("users.static[{i}]");
        if user.subject.trim().is_empty() {
            p.add(format!("{key}.subject"), "must not be empty");
        } else if let Some(first) = subjects.insert(&user.subject, i) {
            p.add(
                format!("{key}.subject"),
                format!("duplicates users.static[{first}].subject"),
            );
        }
        for (j, hint) in user.login_hints.iter().enumerate() {
            if hint.trim().is_empty() {
                p.add(format!("{key}.login_hints[{j}]"), "must not be empty");
                continue;
            }
            match hints.get(hint.as_str()) {
                Some(&owner) if owner != i => p.add(
                    format!("{key}.login_hints[{j}]"),
                    format!("is also a login hint of users.static[{owner}]"),
                ),
                _ => {
                    hints.insert(hint, i);
                }
            }
        }
        check_user_code(&key, user, p);
        for claim in user.claims.keys() {
            if crate::claims::is_protocol_claim(claim) {
                p.add(
                    format!("{key}.claims.{claim}"),
                    "is a registered JWT/protocol claim and cannot come from the directory",
                );
            }
        }
    }
}

fn check_user_code(key: &str, user: &StaticUser, p: &mut Problems) {
    match (&user.user_code, &user.user_code_sha256) {
        (Some(_), Some(_)) => p.add(key, "set only one of user_code and user_code_sha256"),
        (Some(code), None) if code.is_empty() => {
            p.add(format!("{key}.user_code"), "must not be empty")
        }
        (None, Some(hash)) => p.sha256_hex(format!("{key}.user_code_sha256"), hash.expose()),
        _ => {}
    }
    let no_code = is_blank(user.user_code.as_ref().map(Secret::expose))
        && is_blank(user.user_code_sha256.as_ref().map(Secret::expose));
    if user.user_code_required && no_code {
        p.add(
            format!("{key}.user_code_required"),
            "needs user_code or user_code_sha256 (otherwise every request fails)",
        );
    }
}

fn check_ciba(ciba: &CibaSettings, p: &mut Problems) {
    p.not_zero("ciba.default_interval_secs", ciba.default_interval);
    p.not_zero("ciba.max_request_lifetime_secs", ciba.max_request_lifetime);
    p.at_least(
        "ciba.max_pending_per_user",
        ciba.max_pending_per_user as u64,
        1,
    );
    p.at_least(
        "ciba.user_code_max_failures",
        ciba.user_code_max_failures as u64,
        1,
    );
    p.not_zero(
        "ciba.user_code_failure_window_secs",
        ciba.user_code_failure_window,
    );
    p.not_zero("ciba.long_poll_timeout_secs", ciba.long_poll_timeout);
    if ciba.long_poll_timeout > MAX_LONG_POLL_TIMEOUT {
        p.add(
            "ciba.long_poll_timeout_secs",
            format!("must be at most {}", MAX_LONG_POLL_TIMEOUT.as_secs()),
        );
    }
    p.at_least("ciba.max_parked_polls", ciba.max_parked_polls as u64, 1);
}
