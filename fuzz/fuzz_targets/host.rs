//! The admin listener's `Host` check (SPEC §2): any value and allow-list, no panic; with an
//! empty allow-list only loopback literals and `localhost` pass, and a value carrying anything
//! a URL authority could hide behind (userinfo, path, whitespace) never does.
#![no_main]

use authlete_gateway::http::host::host_allowed;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first line is the `Host` value; the others, the allow-list.
    let mut lines = text.split('\n');
    let value = lines.next().unwrap_or("");
    let allowed: Vec<String> = lines.map(str::to_owned).collect();

    let trimmed = value.trim();
    let suspicious = trimmed.contains(['@', '/', '\\', '?', '#', ' ', '\t', '%']);
    if host_allowed(value, &allowed) {
        assert!(!suspicious, "{value:?} allowed");
    }
    if host_allowed(value, &[]) {
        assert!(!suspicious, "{value:?} allowed");
        let host = match trimmed.strip_prefix('[') {
            Some(rest) => rest.split(']').next().unwrap_or(""),
            None => trimmed.split(':').next().unwrap_or(""),
        };
        let loopback = host.eq_ignore_ascii_case("localhost")
            || host.parse::<std::net::IpAddr>().is_ok_and(|ip| match ip {
                std::net::IpAddr::V6(v6) => {
                    v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
                }
                std::net::IpAddr::V4(v4) => v4.is_loopback(),
            });
        assert!(loopback, "{value:?} allowed with an empty allow-list");
    }
});
