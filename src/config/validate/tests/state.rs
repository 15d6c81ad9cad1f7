//! Validation of `[state]`.

use super::{assert_problems, assert_valid};
use crate::config::fixtures::{problems, EMBEDDED};

const SECRET: &str = "0123456789abcdef0123456789abcdef";

#[test]
fn memory_is_the_default_and_needs_nothing_else() {
    assert_valid(EMBEDDED);
    assert_valid(&format!("{EMBEDDED}\n[state]\nbackend = \"memory\"\n"));
}

#[test]
fn redis_needs_a_url_and_a_long_enough_key_hash_secret() {
    assert_problems(
        &format!("{EMBEDDED}\n[state]\nbackend = \"redis\"\n"),
        &[
            "state.redis.url: is required",
            "state.redis.key_hash_secret: is required",
        ],
    );
    assert_problems(
        &format!(
            "{EMBEDDED}\n[state]\nbackend = \"redis\"\n[state.redis]\nurl = \"redis://r:6379\"\n\
             key_hash_secret = \"short\"\n"
        ),
        &["state.redis.key_hash_secret: must be at least 32 bytes"],
    );
    for url in [
        "redis://127.0.0.1:6379/0",
        "rediss://:pw@redis.internal:6380",
    ] {
        assert_valid(&format!(
            "{EMBEDDED}\n[state]\nbackend = \"redis\"\n[state.redis]\nurl = \"{url}\"\n\
             key_hash_secret = \"{SECRET}\"\n"
        ));
    }
}

#[test]
fn a_bad_url_is_reported_without_its_password() {
    for (url, message) in [
        (
            "http://user:hunter2@r:6379",
            "must be a redis:// or rediss:// URL",
        ),
        (
            "rediss://:hunter2@r:6380/#insecure",
            "must not have a fragment",
        ),
        ("hunter2", "must be an absolute redis URL"),
    ] {
        let found = problems(&format!(
            "{EMBEDDED}\n[state]\nbackend = \"redis\"\n[state.redis]\nurl = \"{url}\"\n\
             key_hash_secret = \"{SECRET}\"\n"
        ));
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("state.redis.url: ") && p.contains(message)),
            "{found:#?}"
        );
        assert!(!found.iter().any(|p| p.contains("hunter2")), "{found:#?}");
    }
}

#[test]
fn the_key_prefix_cannot_carry_a_hash_tag_and_timeouts_are_positive() {
    assert_problems(
        &format!(
            "{EMBEDDED}\n[state.redis]\nkey_prefix = \"a{{b}}\"\nconnect_timeout_ms = 0\n\
             command_timeout_ms = 0\n"
        ),
        &[
            "state.redis.key_prefix: must not contain { or }",
            "state.redis.connect_timeout_ms: must be at least 1",
            "state.redis.command_timeout_ms: must be at least 1",
        ],
    );
}

#[test]
fn a_cluster_takes_its_seed_nodes_from_urls_only() {
    let redis = format!("{EMBEDDED}\n[state]\nbackend = \"redis\"\n[state.redis]\n");
    assert_problems(
        &format!("{redis}cluster = true\nkey_hash_secret = \"{SECRET}\"\n"),
        &["state.redis.urls: is required with state.redis.cluster = true"],
    );
    assert_valid(&format!(
        "{redis}cluster = true\nurls = [\"redis://10.0.0.1:7000\", \"rediss://:pw@r2:7001\"]\n\
         key_hash_secret = \"{SECRET}\"\n"
    ));
    assert_problems(
        &format!(
            "{redis}cluster = true\nurl = \"redis://r:6379\"\nurls = [\"redis://r:7000\", \
             \"http://:hunter2@r\"]\nkey_hash_secret = \"{SECRET}\"\n"
        ),
        &[
            "state.redis.url: is not used with state.redis.cluster = true",
            "state.redis.urls[1]: must be a redis:// or rediss:// URL",
        ],
    );
    assert_problems(
        &format!(
            "{redis}url = \"redis://r:6379\"\nurls = [\"redis://r:7000\"]\n\
             key_hash_secret = \"{SECRET}\"\n"
        ),
        &["state.redis.urls: lists cluster seed nodes"],
    );
}

#[test]
fn leases_outlast_three_commands_and_replica_names_are_printable() {
    assert_problems(
        &format!(
            "{EMBEDDED}\n[state.redis]\nlease_ms = 999\noutbox_capacity = 0\n\
             replica_name = \"a b\"\n"
        ),
        &[
            "state.redis.lease_ms: must be at least 1000 ms and 3 × command_timeout_ms",
            "state.redis.outbox_capacity: must be at least 1",
            "state.redis.replica_name: must be at most 128 printable ASCII characters",
        ],
    );
    assert_problems(
        &format!("{EMBEDDED}\n[state.redis]\nlease_ms = 2000\ncommand_timeout_ms = 700\n"),
        &["state.redis.lease_ms: must be at least 1000 ms and 3 × command_timeout_ms"],
    );
    assert_valid(&format!(
        "{EMBEDDED}\n[state.redis]\nlease_ms = 1500\ncommand_timeout_ms = 500\n\
         replica_name = \"gw-7f9c.pod-2\"\n"
    ));
}
