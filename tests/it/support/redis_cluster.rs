//! A real Redis Cluster for the tests of `state.redis.cluster`: three masters (and, when asked,
//! one replica each), each a `redis-server --cluster-enabled yes` on free loopback ports (its
//! client port and its bus port), with its node file in a temporary directory, joined by
//! `redis-cli --cluster create` and awaited until every node says `cluster_state:ok`. Killed
//! when dropped. The rules of `redis_server` hold: outside CI a missing program is skipped.

use std::process::Command;

use authlete_gateway::config::{Secret, SecretList, Settings};
use tempfile::TempDir;

use super::eventually::eventually;
use super::outside::installed_or_skipped;
use super::redis_server::{free_port, runs, SharedRedis};
use super::RedisServer;

const MASTERS: usize = 3;

pub struct RedisCluster {
    pub nodes: Vec<RedisServer>,
    /// Holds every node's `nodes.conf`; removed when dropped, after the nodes.
    _dir: TempDir,
}

impl RedisCluster {
    /// A fresh cluster of three masters whose slots are all covered, or None when
    /// `redis-server` or `redis-cli` is not installed (outside CI: skipped).
    pub async fn start() -> Option<Self> {
        Self::start_with_replicas(0).await
    }

    /// As `start`, with `replicas` replicas per master.
    pub async fn start_with_replicas(replicas: usize) -> Option<Self> {
        for program in ["redis-server", "redis-cli"] {
            if !installed_or_skipped(program, runs(program)) {
                return None;
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let count = MASTERS * (1 + replicas);
        let mut nodes = Vec::with_capacity(count);
        for _ in 0..count {
            let at = dir.path().to_owned();
            nodes.push(RedisServer::start_with(|port| node_args(&at, port)).await);
        }
        let cluster = Self { nodes, _dir: dir };
        cluster.create(replicas);
        cluster.settled().await;
        Some(cluster)
    }

    /// The seed node URLs the gateway is given: every node.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.url.clone()).collect()
    }

    /// Joins the nodes and gives each master a third of the slots.
    fn create(&self, replicas: usize) {
        let addresses = self.nodes.iter().map(|n| format!("127.0.0.1:{}", n.port));
        let out = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(addresses)
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .output()
            .expect("redis-cli runs");
        assert!(
            out.status.success(),
            "redis-cli --cluster create: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Waits until every node says the cluster is ok and names the same owner for every slot.
    pub async fn settled(&self) {
        eventually("every node to say cluster_state:ok", || async {
            for i in 0..self.nodes.len() {
                let info: String = self.ask(i, redis::cmd("CLUSTER").arg("INFO")).await;
                if !info.lines().any(|l| l.trim() == "cluster_state:ok") {
                    return false;
                }
            }
            true
        })
        .await;
    }

    /// The node that owns `key`'s slot, by its index in `nodes`, as every node sees it.
    pub async fn owner_of(&self, key: &str) -> usize {
        let slot: u16 = self
            .ask(0, redis::cmd("CLUSTER").arg("KEYSLOT").arg(key))
            .await;
        let what = format!("the nodes to agree who owns slot {slot}");
        eventually(&what, || async {
            let mut owners = Vec::new();
            for i in 0..self.nodes.len() {
                let nodes: String = self.ask(i, redis::cmd("CLUSTER").arg("NODES")).await;
                owners.push(owner_port(&nodes, slot)?);
            }
            let port = owners[0];
            if owners.iter().any(|p| *p != port) {
                return None;
            }
            self.nodes.iter().position(|n| n.port == port)
        })
        .await
    }

    /// Moves `key`'s slot, with its keys, from its owner to node `to`, the way resharding does
    /// (IMPORTING/MIGRATING, `MIGRATE`, then `SETSLOT NODE` everywhere): a client that knew the
    /// old owner is answered `MOVED` from then on.
    pub async fn move_slot_of(&self, key: &str, to: usize) {
        let from = self.owner_of(key).await;
        assert_ne!(from, to, "the slot is on node {to} already");
        let slot: u16 = self
            .ask(0, redis::cmd("CLUSTER").arg("KEYSLOT").arg(key))
            .await;
        let (from_id, to_id) = (self.id(from).await, self.id(to).await);
        let setslot = |state: &str, id: &str| {
            redis::cmd("CLUSTER")
                .arg("SETSLOT")
                .arg(slot)
                .arg(state)
                .arg(id)
                .clone()
        };
        let _: () = self.ask(to, &mut setslot("IMPORTING", &from_id)).await;
        let _: () = self.ask(from, &mut setslot("MIGRATING", &to_id)).await;
        loop {
            let keys: Vec<String> = self
                .ask(
                    from,
                    redis::cmd("CLUSTER")
                        .arg("GETKEYSINSLOT")
                        .arg(slot)
                        .arg(100),
                )
                .await;
            if keys.is_empty() {
                break;
            }
            let mut migrate = redis::cmd("MIGRATE");
            migrate.arg("127.0.0.1").arg(self.nodes[to].port).arg("");
            migrate.arg(0).arg(5000).arg("KEYS").arg(&keys);
            let _: () = self.ask(from, &mut migrate).await;
        }
        for i in std::iter::once(to).chain((0..self.nodes.len()).filter(|i| *i != to)) {
            let _: () = self.ask(i, &mut setslot("NODE", &to_id)).await;
        }
        eventually("the slot to have moved on every node", || async {
            self.owner_of(key).await == to
        })
        .await;
    }

    /// Waits until the replicas of master `i` have every write it has taken so far (WAIT would
    /// count only the writes of the connection that sends it).
    pub async fn replicated(&self, i: usize) {
        eventually("the replicas to catch up", || async {
            let info: String = self.ask(i, redis::cmd("INFO").arg("replication")).await;
            let field = |line: &str, name: &str| {
                line.trim()
                    .split(',')
                    .find_map(|f| f.strip_prefix(name)?.parse::<u64>().ok())
            };
            let written = info.lines().find_map(|l| field(l, "master_repl_offset:"));
            let acked: Vec<u64> = info
                .lines()
                .filter(|l| l.starts_with("slave"))
                .filter_map(|l| field(l, "offset="))
                .collect();
            written.is_some_and(|w| !acked.is_empty() && acked.iter().all(|a| *a >= w))
        })
        .await;
    }

    /// The cluster node id of node `i`.
    pub async fn id(&self, i: usize) -> String {
        self.ask(i, redis::cmd("CLUSTER").arg("MYID")).await
    }

    /// Sends `cmd` to node `i` alone (no redirect followed).
    pub async fn ask<T: redis::FromRedisValue>(&self, i: usize, cmd: &mut redis::Cmd) -> T {
        let mut c = self.nodes[i]
            .client()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        cmd.query_async(&mut c)
            .await
            .unwrap_or_else(|e| panic!("node {i}: {e}"))
    }
}

impl SharedRedis for RedisCluster {
    fn point(&self, s: &mut Settings) {
        s.state.redis.cluster = true;
        s.state.redis.url = None;
        s.state.redis.urls = SecretList(self.urls().iter().map(Secret::new).collect());
    }
}

/// A cluster's seed nodes in a chosen order: the first is the one a subscription tries first.
impl SharedRedis for Vec<String> {
    fn point(&self, s: &mut Settings) {
        s.state.redis.cluster = true;
        s.state.redis.url = None;
        s.state.redis.urls = SecretList(self.iter().map(Secret::new).collect());
    }
}

/// A cluster node's arguments: its bus port (free, and not its client port) and its node file.
fn node_args(dir: &std::path::Path, port: u16) -> Vec<String> {
    let bus = std::iter::repeat_with(free_port)
        .find(|bus| *bus != port)
        .unwrap_or_default();
    let conf = dir.join(format!("nodes-{port}.conf"));
    [
        "--cluster-enabled",
        "yes",
        "--cluster-port",
        &bus.to_string(),
        "--cluster-config-file",
        &conf.to_string_lossy(),
        "--cluster-node-timeout",
        "2000",
        // The other slots are served while a node is down, as a cluster with replicas would.
        "--cluster-require-full-coverage",
        "no",
        // A replica's first sync starts at once, not after the default 5 s.
        "--repl-diskless-sync-delay",
        "0",
        "--dir",
        &dir.to_string_lossy(),
    ]
    .map(str::to_owned)
    .to_vec()
}

/// The client port of the master that `CLUSTER NODES` says owns `slot`.
fn owner_port(nodes: &str, slot: u16) -> Option<u16> {
    nodes.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let master = fields.get(2)?.split(',').any(|f| f == "master");
        let owns = fields.iter().skip(8).any(|range| {
            let mut ends = range.splitn(2, '-').map(|n| n.parse::<u16>().ok());
            match (ends.next().flatten(), ends.next()) {
                (Some(a), None) => a == slot,
                (Some(a), Some(Some(b))) => (a..=b).contains(&slot),
                _ => false,
            }
        });
        let address = fields.get(1)?.split('@').next()?;
        let port = address.rsplit(':').next()?.parse().ok()?;
        (master && owns).then_some(port)
    })
}
