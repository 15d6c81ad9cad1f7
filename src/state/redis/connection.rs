//! What the link connects with: one Redis server through a `ConnectionManager`, or a Redis
//! Cluster through a `ClusterConnection` (`state.redis.cluster`, SPEC §12). Both are one
//! `Connection`, so every operation and `Script::invoke_async` run unchanged on either.
//!
//! On a cluster every key carries the one hash tag `{<key_prefix>}`, so every script runs on the
//! master that owns that slot (its "home"); the cluster connection follows `MOVED` and `ASK` when
//! the slot moves, and reconnects to nodes by itself. The link above still bounds every command
//! and replaces the whole connection when Redis stops answering.
//!
//! URLs may hold a password: no message here repeats one (the URL parser's messages can).

use std::net::IpAddr;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::io::tcp::{socket2::TcpKeepalive, TcpSettings};
use redis::{
    Client, Cmd, ConnectionInfo, FromRedisValue, IntoConnectionInfo, Pipeline, RedisFuture,
    RedisResult, Value,
};

use crate::config::{parse_redis_url, RedisSettings};

/// How many times a cluster command is tried again (after a `MOVED` or `ASK` redirect, a
/// `TRYAGAIN`, a lost node), all within the command timeout.
const CLUSTER_RETRIES: u32 = 5;
/// The shortest wait before a cluster command is tried again after `TRYAGAIN` or a lost node
/// (the crate's default, 1.28 s, would outlast any command timeout); it doubles up to the
/// command timeout.
const CLUSTER_MIN_RETRY_WAIT: Duration = Duration::from_millis(10);

/// Makes connections; the probe of the link calls it once per attempt.
pub(super) enum Connector {
    Server {
        client: Client,
        config: ConnectionManagerConfig,
    },
    Cluster {
        client: ClusterClient,
        /// The master owning the slot of the hash tag, where every key lives.
        home: Route,
        hash_tag: String,
    },
}

/// A connection to a server or to a cluster; cheap to clone.
#[derive(Clone)]
pub(super) enum Connection {
    Server(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Connector {
    /// Checks the URLs of `settings` (`url`, or the seed nodes of `urls` on a cluster), warning
    /// about each plain `redis://` one to another host; `hash_tag` is `{<key_prefix>}`.
    pub(super) fn new(s: &RedisSettings, hash_tag: &str) -> Result<Self, String> {
        if s.cluster {
            Self::cluster(s, hash_tag)
        } else {
            Self::server(s)
        }
    }

    fn server(s: &RedisSettings) -> Result<Self, String> {
        let url = s.url.as_ref().map(|url| url.expose().trim());
        let url = url.ok_or("state.redis.url is required with state.backend = \"redis\"")?;
        let info = endpoint("state.redis.url", url)?;
        let tcp = keepalive(info.tcp_settings().clone());
        let client = Client::open(info.set_tcp_settings(tcp))
            .map_err(|_| "state.redis.url is not a valid Redis URL")?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(s.connect_timeout))
            .set_response_timeout(Some(s.command_timeout))
            // The prober of the link is the retry: one attempt per probe.
            .set_number_of_retries(0);
        Ok(Self::Server { client, config })
    }

    fn cluster(s: &RedisSettings, hash_tag: &str) -> Result<Self, String> {
        if s.urls.0.is_empty() {
            return Err("state.redis.urls is required with state.redis.cluster = true".into());
        }
        let mut seeds = Vec::with_capacity(s.urls.0.len());
        for (i, url) in s.urls.0.iter().enumerate() {
            let key = format!("state.redis.urls[{i}]");
            seeds.push(endpoint(&key, url.expose().trim())?);
        }
        let min_wait = millis(CLUSTER_MIN_RETRY_WAIT);
        let client = ClusterClient::builder(seeds)
            .connection_timeout(s.connect_timeout)
            .response_timeout(s.command_timeout)
            // Redirects and retries included, a command ends within the command timeout.
            .overall_response_timeout(Some(s.command_timeout))
            .retries(CLUSTER_RETRIES)
            .min_retry_wait(min_wait)
            .max_retry_wait(millis(s.command_timeout).max(min_wait + 1))
            // For every node, the seeds and those the cluster names.
            .tcp_settings(keepalive(TcpSettings::default()))
            .build()
            // The seeds are parsed already: these messages name a setting, never a URL.
            .map_err(|e| format!("state.redis.urls: {e}"))?;
        Ok(Self::Cluster {
            client,
            home: Route::with_key(hash_tag, SlotAddr::Master),
            hash_tag: hash_tag.to_owned(),
        })
    }

    /// A fresh connection: to one server, or to a cluster through its seed nodes (it learns
    /// the other nodes from them).
    pub(super) async fn connect(&self) -> RedisResult<Connection> {
        match self {
            Self::Server { client, config } => {
                ConnectionManager::new_with_config(client.clone(), config.clone())
                    .await
                    .map(Connection::Server)
            }
            Self::Cluster { client, .. } => {
                client.get_async_connection().await.map(Connection::Cluster)
            }
        }
    }

    /// Whether Redis answers on `connection`: one server answers `PING`; a cluster answers
    /// `EXISTS` on the hash tag from the master serving its slot (a keyless command would pass
    /// while that slot has no master, or the cluster is down).
    pub(super) async fn check(&self, connection: &mut Connection) -> RedisResult<()> {
        match self {
            Self::Server { .. } => redis::cmd("PING").query_async(connection).await,
            Self::Cluster { hash_tag, .. } => {
                let mut exists = redis::cmd("EXISTS");
                exists.arg(hash_tag);
                exists.query_async::<i64>(connection).await.map(drop)
            }
        }
    }

    /// Runs `cmd` where the gateway's keys live: on a cluster, the master of the home slot
    /// (a keyless command would otherwise go to a random node, or to every master).
    pub(super) async fn at_home<T: FromRedisValue>(
        &self,
        connection: &mut Connection,
        cmd: Cmd,
    ) -> RedisResult<T> {
        match (self, connection) {
            (Self::Cluster { home, .. }, Connection::Cluster(c)) => {
                let route = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(*home));
                Ok(redis::from_redis_value(c.route_command(cmd, route).await?)?)
            }
            (_, connection) => cmd.query_async(connection).await,
        }
    }
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Server(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Server(c) => c.req_packed_commands(cmd, offset, count),
            Self::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Server(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

/// The connection info of the URL in `key`: checked as the configuration checks it, with a
/// warning when it is plain `redis://` to another host.
fn endpoint(key: &str, url: &str) -> Result<ConnectionInfo, String> {
    let parsed = parse_redis_url(url).map_err(|e| format!("{key}: {e}"))?;
    if parsed.scheme() == "redis" && !is_loopback(&parsed) {
        log::warn!(
            "{key} is plain redis:// to a non-loopback host: state and any password cross the \
             network in the clear; use rediss://"
        );
    }
    url.into_connection_info()
        .map_err(|_| format!("{key} is not a valid Redis URL"))
}

/// TCP keepalive on every connection, so that a peer gone without a reset is noticed by the
/// kernel within about 25 s even when no command is waiting (a waiting command notices sooner,
/// by its timeout).
fn keepalive(tcp: TcpSettings) -> TcpSettings {
    let probes = TcpKeepalive::new()
        .with_time(Duration::from_secs(10))
        .with_interval(Duration::from_secs(5));
    #[cfg(any(target_os = "linux", target_os = "macos", target_os = "freebsd"))]
    let probes = probes.with_retries(3);
    let tcp = tcp.set_keepalive(probes);
    // Also bounds how long written data may stay unacknowledged.
    #[cfg(target_os = "linux")]
    let tcp = tcp.set_user_timeout(Duration::from_secs(25));
    tcp
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Whether `url` names this host. `redis://` is not a special scheme to the URL parser, so an
/// IPv4 address arrives as a domain name.
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => {
            name == "localhost" || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Secret, SecretList};

    #[test]
    fn loopback_hosts_are_recognised_in_redis_urls() {
        for url in [
            "redis://127.0.0.1:6379",
            "redis://localhost",
            "redis://[::1]:6379",
        ] {
            assert!(is_loopback(&parse_redis_url(url).unwrap()), "{url}");
        }
        for url in ["redis://10.0.0.5:6379", "redis://redis.internal"] {
            assert!(!is_loopback(&parse_redis_url(url).unwrap()), "{url}");
        }
    }

    fn cluster(urls: &[&str]) -> RedisSettings {
        RedisSettings {
            cluster: true,
            urls: SecretList(urls.iter().map(|u| Secret::new(*u)).collect()),
            ..RedisSettings::default()
        }
    }

    #[test]
    fn a_cluster_connects_through_its_seed_nodes_and_homes_on_the_hash_tag_slot() {
        let settings = cluster(&["redis://127.0.0.1:7000", "redis://127.0.0.1:7001"]);
        let Ok(Connector::Cluster { home, .. }) = Connector::new(&settings, "{agw}") else {
            panic!("a cluster connector");
        };
        assert_eq!(home, Route::with_key("{agw}:poll:00", SlotAddr::Master));
        assert_ne!(home, Route::with_key("{other}", SlotAddr::Master));
    }

    #[test]
    fn no_error_about_a_seed_node_repeats_its_password() {
        for urls in [
            &[
                "redis://:hunter2-secret@127.0.0.1:7000",
                "http://:hunter2-secret@x",
            ][..],
            &[
                "rediss://u:hunter2-secret@127.0.0.1:7000",
                "redis://:hunter2-secret@[::1",
            ],
            // Seeds that disagree are refused by the cluster client.
            &[
                "redis://:hunter2-secret@127.0.0.1:7000",
                "redis://:other@127.0.0.1:7001",
            ],
            &[
                "rediss://:hunter2-secret@127.0.0.1:7000",
                "redis://:hunter2-secret@x:7001",
            ],
        ] {
            let Err(e) = Connector::new(&cluster(urls), "{agw}") else {
                panic!("{urls:?} refused");
            };
            assert!(!e.contains("hunter2"), "{e}");
            assert!(e.starts_with("state.redis.urls"), "{e}");
        }
        let settings = RedisSettings {
            url: Some(Secret::new("redis://:hunter2-secret@[::1")),
            ..RedisSettings::default()
        };
        let Err(e) = Connector::new(&settings, "{agw}") else {
            panic!("refused");
        };
        assert!(
            !e.contains("hunter2") && e.starts_with("state.redis.url"),
            "{e}"
        );
    }
}
