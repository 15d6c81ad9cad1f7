//! Where a notification goes: the endpoint URL checked against the scheme rule, and its host
//! resolved once and filtered by the address policy (SPEC §6 SSRF guard).

use std::io;
use std::net::{IpAddr, SocketAddr};

use url::{Host, Url};

use super::address::AddressPolicy;

/// A client notification endpoint that passed the scheme rule.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The URL as sent (without a fragment, which never goes on the wire).
    uri: String,
    host: Host<String>,
    port: u16,
    /// `host:port`, the key of the per-host in-flight bound.
    authority: String,
}

/// Why an endpoint is refused before any connection.
#[derive(Debug)]
pub enum Refusal {
    /// Not an absolute http(s) URL with a host.
    Malformed,
    /// `http` while `allow_insecure_http` is off.
    Insecure,
}

impl Endpoint {
    pub fn parse(raw: &str, allow_insecure_http: bool) -> Result<Self, Refusal> {
        let mut url = Url::parse(raw).map_err(|_| Refusal::Malformed)?;
        match url.scheme() {
            "https" => {}
            "http" if allow_insecure_http => {}
            "http" => return Err(Refusal::Insecure),
            _ => return Err(Refusal::Malformed),
        }
        url.set_fragment(None);
        let host = url.host().ok_or(Refusal::Malformed)?.to_owned();
        let port = url.port_or_known_default().ok_or(Refusal::Malformed)?;
        let authority = match &host {
            Host::Ipv6(ip) => format!("[{ip}]:{port}"),
            other => format!("{other}:{port}"),
        };
        Ok(Self {
            uri: url.into(),
            host,
            port,
            authority,
        })
    }

    pub fn uri(&self) -> &str {
        &self.uri
    }

    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The addresses this endpoint may be reached at: an IP literal is checked as is, a name is
    /// resolved once here, and every address the policy refuses is dropped. The caller connects
    /// to one of the returned addresses, so nothing is resolved again between check and use.
    pub async fn vet(&self, policy: &AddressPolicy) -> Result<Vec<SocketAddr>, Vetting> {
        let candidates: Vec<IpAddr> = match &self.host {
            Host::Ipv4(ip) => vec![IpAddr::V4(*ip)],
            Host::Ipv6(ip) => vec![IpAddr::V6(*ip)],
            Host::Domain(name) => tokio::net::lookup_host((name.as_str(), self.port))
                .await
                .map_err(Vetting::Unresolved)?
                .map(|addr| addr.ip())
                .collect(),
        };
        let allowed: Vec<SocketAddr> = candidates
            .into_iter()
            .filter(|ip| policy.permits(*ip))
            // Connect to `::ffff:a.b.c.d` as a.b.c.d: an IPv6 socket might not be available.
            .map(|ip| SocketAddr::new(ip.to_canonical(), self.port))
            .collect();
        if allowed.is_empty() {
            Err(Vetting::Blocked)
        } else {
            Ok(allowed)
        }
    }
}

/// Why `vet` found no address.
#[derive(Debug)]
pub enum Vetting {
    /// The name did not resolve; it may later.
    Unresolved(io::Error),
    /// Every address is one the policy refuses.
    Blocked,
}
