//! The `maxmemory-policy` check made on every (re)connection (SPEC §12): anything but
//! `noeviction` lets Redis drop keys when it is full — under `volatile-*` exactly the keys with
//! a TTL, which is every key of a request — so the guards would silently forget their state.
//! With `noeviction` a full Redis answers OOM instead, which counts as unavailable.

use std::time::Duration;

use super::connection::Connection;

/// Reads the policy (`CONFIG GET`, or `INFO memory` where an ACL refuses `CONFIG`) and logs one
/// warning when it is not `noeviction`, or when it cannot be read. On a cluster it asks the
/// master that holds the gateway's keys (the slot of the hash tag), not every node.
pub(super) async fn check(connection: &mut Connection, timeout: Duration) {
    let read = async {
        let mut get = redis::cmd("CONFIG");
        get.arg("GET").arg("maxmemory-policy");
        let config = connection.at_home::<Vec<String>>(get).await;
        if let Ok(Some(policy)) = config.map(|pair| pair.into_iter().nth(1)) {
            return Some(policy);
        }
        let mut memory = redis::cmd("INFO");
        memory.arg("memory");
        let info: String = connection.at_home(memory).await.ok()?;
        from_info(&info).map(str::to_owned)
    };
    match tokio::time::timeout(timeout * 2, read).await {
        Ok(Some(policy)) => {
            if let Some(warning) = warning(&policy) {
                log::warn!("state backend: {warning}");
            }
        }
        _ => log::warn!(
            "state backend: cannot read Redis's maxmemory-policy (neither CONFIG GET nor INFO \
             memory is allowed?); it should be noeviction"
        ),
    }
}

/// The policy in the `INFO memory` section.
fn from_info(info: &str) -> Option<&str> {
    info.lines()
        .find_map(|line| line.trim().strip_prefix("maxmemory_policy:"))
}

/// What to warn about a `maxmemory-policy`, if anything.
pub(super) fn warning(policy: &str) -> Option<String> {
    let at_risk = match policy {
        "noeviction" => return None,
        p if p.starts_with("volatile-") => "every key of a request has a TTL, so any of them",
        p if p.starts_with("allkeys-") => "any key",
        _ => "keys",
    };
    Some(format!(
        "Redis's maxmemory-policy is {policy}: when Redis is full, {at_risk} may be evicted and \
         the gateway's guards (polling control, pending places, lockout, registry) silently \
         lose their state; set maxmemory-policy noeviction"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_noeviction_passes_without_a_warning() {
        assert_eq!(warning("noeviction"), None);
        for policy in [
            "volatile-lru",
            "volatile-lfu",
            "volatile-ttl",
            "volatile-random",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "something-new",
        ] {
            let warning = warning(policy).unwrap_or_default();
            assert!(warning.contains(policy), "{policy}: {warning}");
            assert!(warning.contains("noeviction"), "{policy}: {warning}");
        }
        assert!(warning("volatile-ttl").unwrap().contains("TTL"));
    }

    #[test]
    fn the_policy_is_found_in_info_memory() {
        let info =
            "# Memory\r\nused_memory:1000\r\nmaxmemory:0\r\nmaxmemory_policy:allkeys-lru\r\n";
        assert_eq!(from_info(info), Some("allkeys-lru"));
        assert_eq!(from_info("# Memory\r\nused_memory:1\r\n"), None);
    }
}
