//! Where a notification goes: the endpoint URL checked against the scheme rule, and its host
//! resolved once and filtered by the address policy (SPEC §6 SSRF guard).

use std::future::Future;
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
#[derive(Debug, PartialEq, Eq)]
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
        self.vet_with(policy, &SystemResolver).await
    }

    /// `vet`, with the names resolved by `resolver`.
    async fn vet_with(
        &self,
        policy: &AddressPolicy,
        resolver: &impl Resolve,
    ) -> Result<Vec<SocketAddr>, Vetting> {
        let candidates: Vec<IpAddr> = match &self.host {
            Host::Ipv4(ip) => vec![IpAddr::V4(*ip)],
            Host::Ipv6(ip) => vec![IpAddr::V6(*ip)],
            Host::Domain(name) => resolver
                .lookup(name, self.port)
                .await
                .map_err(Vetting::Unresolved)?,
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

/// Resolves an endpoint's host name; the system's resolver, or a test's.
trait Resolve {
    fn lookup(&self, name: &str, port: u16) -> impl Future<Output = io::Result<Vec<IpAddr>>>;
}

/// The system's resolver (`getaddrinfo`, through tokio).
struct SystemResolver;

impl Resolve for SystemResolver {
    async fn lookup(&self, name: &str, port: u16) -> io::Result<Vec<IpAddr>> {
        Ok(tokio::net::lookup_host((name, port))
            .await?
            .map(|addr| addr.ip())
            .collect())
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::sync::Arc;
    use std::time::Duration;

    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::outbox::http::{notification_client, post};

    #[test]
    fn an_endpoint_is_an_absolute_https_url_or_http_when_allowed() {
        let parsed = Endpoint::parse("https://rp.example.com/cb#frag", false).unwrap();
        assert_eq!(parsed.uri(), "https://rp.example.com/cb");
        assert_eq!(parsed.authority(), "rp.example.com:443");
        let parsed = Endpoint::parse("http://[::1]:8443/cb", true).unwrap();
        assert_eq!(parsed.authority(), "[::1]:8443");
        assert_eq!(
            Endpoint::parse("http://rp.example.com/cb", false).err(),
            Some(Refusal::Insecure)
        );
        for malformed in [
            "ftp://rp.example.com/",
            "/cb",
            "https://",
            "data:text/plain,x",
        ] {
            assert_eq!(
                Endpoint::parse(malformed, true).err(),
                Some(Refusal::Malformed),
                "{malformed}"
            );
        }
    }

    #[actix_rt::test]
    async fn a_name_is_resolved_by_the_system_and_filtered_by_the_policy() {
        let endpoint = Endpoint::parse("http://localhost:8443/cb", true).unwrap();
        let loopback = AddressPolicy::new(vec!["127.0.0.0/8".parse().unwrap()], false);
        let vetted = endpoint.vet(&loopback).await.unwrap();
        assert!(
            vetted.contains(&SocketAddr::from(([127, 0, 0, 1], 8443))),
            "{vetted:?}"
        );
        assert!(
            vetted.iter().all(|a| a.ip().is_loopback() && a.is_ipv4()),
            "{vetted:?}"
        );
        let public_only = AddressPolicy::new(Vec::new(), false);
        assert!(matches!(
            endpoint.vet(&public_only).await,
            Err(Vetting::Blocked)
        ));
    }

    /// A name whose every lookup answers the next address in line (the last one repeats): a
    /// DNS-rebinding attacker's server.
    struct Rebinding {
        answers: RefCell<VecDeque<IpAddr>>,
        lookups: RefCell<usize>,
    }

    impl Resolve for Rebinding {
        async fn lookup(&self, _name: &str, _port: u16) -> io::Result<Vec<IpAddr>> {
            *self.lookups.borrow_mut() += 1;
            let mut answers = self.answers.borrow_mut();
            let next = match answers.len() {
                1 => answers[0],
                _ => answers.pop_front().unwrap(),
            };
            Ok(vec![next])
        }
    }

    /// SPEC §6: a notification host is resolved once and checked, and the connection goes to
    /// the address that passed, never to what the name says by then. Here the name first
    /// answers an address the policy permits (the receiver's; 127.0.0.1 stands for a public
    /// address through `allowed_networks`), then the cloud metadata address.
    #[actix_rt::test]
    async fn a_rebound_name_is_reached_only_at_the_vetted_address() {
        let receiver = MockServer::start().await;
        let port = receiver.address().port();
        Mock::given(method("POST"))
            .and(path("/cb"))
            .and(header("host", format!("rebind.example:{port}").as_str()))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&receiver)
            .await;
        let policy = AddressPolicy::new(vec!["127.0.0.1/32".parse().unwrap()], false);
        let rebinding = Rebinding {
            answers: RefCell::new(
                ["127.0.0.1", "169.254.169.254"]
                    .map(|a| a.parse().unwrap())
                    .into(),
            ),
            lookups: RefCell::new(0),
        };
        let endpoint = Endpoint::parse(&format!("http://rebind.example:{port}/cb"), true).unwrap();

        let vetted = endpoint.vet_with(&policy, &rebinding).await.unwrap();
        assert_eq!(vetted, vec![SocketAddr::from(([127, 0, 0, 1], port))]);

        // The name now points at the metadata address; the request goes to the vetted one.
        let tls = Arc::new(crate::tls::client_config(&[]).unwrap());
        let timeout = Duration::from_secs(10);
        let client = notification_client(tls, timeout, 4);
        let request = client.post(endpoint.uri()).address(vetted[0]);
        let reply = post(request, "{}".into(), timeout)
            .await
            .unwrap_or_else(|e| panic!("{}", e.why));
        assert_eq!(reply.status, 204);
        assert_eq!(
            *rebinding.lookups.borrow(),
            1,
            "resolved once, for the check"
        );

        // Without a vetted address a client (a fresh one: no pooled connection to the vetted
        // address) resolves nothing itself, so there is no second lookup to be rebound.
        let tls = Arc::new(crate::tls::client_config(&[]).unwrap());
        let fresh = notification_client(tls, timeout, 4);
        let unvetted = post(fresh.post(endpoint.uri()), "{}".into(), timeout).await;
        assert!(
            unvetted.is_err(),
            "a request without a vetted address was sent"
        );

        // The next attempt vets again and refuses the rebound address.
        assert!(matches!(
            endpoint.vet_with(&policy, &rebinding).await,
            Err(Vetting::Blocked)
        ));
        assert_eq!(*rebinding.lookups.borrow(), 2);
        receiver.verify().await;
    }
}
