use std::net::IpAddr;

use super::{is_globally_reachable, AddressPolicy};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn assert_refused(addresses: &[&str]) {
    for address in addresses {
        assert!(!is_globally_reachable(ip(address)), "{address} passed");
    }
}

fn assert_global(addresses: &[&str]) {
    for address in addresses {
        assert!(is_globally_reachable(ip(address)), "{address} was refused");
    }
}

#[test]
fn ipv4_special_purpose_blocks_are_refused() {
    assert_refused(&[
        "0.0.0.0",
        "0.1.2.3",
        "10.0.0.1",
        "10.255.255.255",
        "100.64.0.1",
        "100.127.255.254",
        "127.0.0.1",
        "127.8.9.10",
        "169.254.169.254",
        "172.16.0.1",
        "172.31.255.255",
        "192.0.0.1",
        "192.0.0.8",
        "192.0.0.170",
        "192.0.2.55",
        "192.88.99.1",
        "192.168.1.1",
        "198.18.0.1",
        "198.19.255.255",
        "198.51.100.7",
        "203.0.113.9",
        "224.0.0.251",
        "240.0.0.1",
        "255.255.255.255",
    ]);
}

#[test]
fn ipv4_global_addresses_and_registry_exceptions_pass() {
    assert_global(&[
        "8.8.8.8",
        "1.1.1.1",
        "100.63.255.255",
        "100.128.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "192.0.0.9",
        "192.0.0.10",
        "192.0.3.1",
        "192.31.196.1",
        "192.175.48.6",
        "198.17.255.255",
        "198.20.0.0",
        "223.255.255.255",
    ]);
}

#[test]
fn ipv6_special_purpose_blocks_are_refused() {
    assert_refused(&[
        "::",
        "::1",
        "64:ff9b:1::1",
        "100::1",
        "2001::1",
        "2001:2::1",
        "2001:10::1",
        "2001:db8::1",
        "2001:db8:ffff::1",
        "3fff::1",
        "5f00::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "febf::1",
        "fec0::1",
        "ff02::1",
    ]);
}

#[test]
fn ipv6_global_addresses_and_registry_exceptions_pass() {
    assert_global(&[
        "2606:4700::1111",
        "2a00:1450:4001::200e",
        "2001:1::1",
        "2001:1::2",
        "2001:3::1",
        "2001:4:112::1",
        "2001:20::1",
        "2001:30::1",
        "2620:4f:8000::1",
    ]);
}

#[test]
fn ipv6_addresses_embedding_ipv4_are_judged_by_the_ipv4_address() {
    assert_refused(&[
        "::ffff:10.0.0.1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::10.0.0.1",
        "::127.0.0.1",
        "64:ff9b::a00:1",
        "64:ff9b::7f00:1",
        "2002:0a00:0001::",
        "2002:7f00:1::1",
        "2002:a9fe:a9fe::",
    ]);
    assert_global(&[
        "::ffff:8.8.8.8",
        "::8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
        // 192.0.1.1 is global, 192.0.0.1 is not: every octet is read where it belongs.
        "::ffff:192.0.1.1",
        "64:ff9b::c000:101",
        "2002:c000:101::",
    ]);
    assert_refused(&["::ffff:192.0.0.1", "64:ff9b::c000:1", "2002:c000:1::"]);
}

#[test]
fn allowed_networks_admit_listed_private_addresses_only() {
    let policy = AddressPolicy::new(
        vec![
            "127.0.0.0/8".parse().unwrap(),
            "fd00::1/128".parse().unwrap(),
        ],
        false,
    );
    assert!(policy.permits(ip("127.0.0.1")));
    assert!(policy.permits(ip("::ffff:127.0.0.1")));
    assert!(policy.permits(ip("fd00::1")));
    assert!(policy.permits(ip("8.8.8.8")));
    assert!(!policy.permits(ip("::1")));
    assert!(!policy.permits(ip("10.0.0.1")));
    assert!(!policy.permits(ip("fd00::2")));
}

#[test]
fn allow_private_networks_admits_everything() {
    let policy = AddressPolicy::new(Vec::new(), true);
    assert!(policy.permits(ip("10.0.0.1")));
    assert!(policy.permits(ip("::1")));
}

#[test]
fn an_empty_policy_refuses_every_special_purpose_address() {
    let policy = AddressPolicy::new(Vec::new(), false);
    assert!(!policy.permits(ip("127.0.0.1")));
    assert!(!policy.permits(ip("::1")));
    assert!(policy.permits(ip("2606:4700::1111")));
}
