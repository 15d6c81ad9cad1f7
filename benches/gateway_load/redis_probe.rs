//! The Redis server of the state comparison, seen from the benchmark: checked before the run
//! (the gateway does not wait for Redis at start), described in the report, its CPU time and
//! command counts read before and after, and this run's keys removed at the end.

use std::collections::BTreeMap;

use redis::aio::MultiplexedConnection;

/// What the report says about the server.
pub struct Server {
    /// `host:port` of the URL (never its password).
    pub address: String,
    pub version: String,
    /// `appendonly` and `appendfsync`, or why they could not be read.
    pub persistence: String,
}

/// The server's CPU time and per-command counts at one instant (`INFO cpu`, `INFO commandstats`).
pub struct Stats {
    cpu_secs: f64,
    /// Command → (calls, total µs spent in it).
    commands: BTreeMap<String, (u64, u64)>,
}

impl Stats {
    /// What happened between `before` and `self`: CPU seconds, and the commands that ran, by
    /// calls (descending) with µs per call.
    pub fn since(&self, before: &Stats) -> (f64, Vec<(String, u64, f64)>) {
        let mut commands: Vec<_> = self
            .commands
            .iter()
            .filter_map(|(name, (calls, usec))| {
                let (calls0, usec0) = before.commands.get(name).copied().unwrap_or((0, 0));
                let calls = calls.checked_sub(calls0).filter(|n| *n > 0)?;
                let usec = usec.saturating_sub(usec0) as f64;
                Some((name.clone(), calls, usec / calls as f64))
            })
            .collect();
        commands.sort_by_key(|c| std::cmp::Reverse(c.1));
        (self.cpu_secs - before.cpu_secs, commands)
    }
}

async fn connect(url: &str) -> Result<MultiplexedConnection, String> {
    let client = redis::Client::open(url).map_err(|e| format!("--redis-url: {e}"))?;
    client
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| format!("Redis at --redis-url does not answer: {e}"))
}

/// Checks that Redis answers and reads what the report says about it.
pub async fn probe(url: &str) -> Result<Server, String> {
    let mut con = connect(url).await?;
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(&mut con)
        .await
        .map_err(|e| format!("Redis INFO: {e}"))?;
    let version = field(&info, "redis_version").unwrap_or("?").to_owned();
    let config: Result<BTreeMap<String, String>, _> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("append*")
        .query_async(&mut con)
        .await;
    let persistence = match config {
        Ok(c) => format!(
            "appendonly {}, appendfsync {}",
            c.get("appendonly").map_or("?", String::as_str),
            c.get("appendfsync").map_or("?", String::as_str)
        ),
        Err(e) => format!("persistence not readable ({e})"),
    };
    let parsed = url::Url::parse(url).map_err(|e| format!("--redis-url: {e}"))?;
    let address = format!(
        "{}:{}",
        parsed.host_str().unwrap_or("?"),
        parsed.port().unwrap_or(6379)
    );
    Ok(Server {
        address,
        version,
        persistence,
    })
}

/// The server's CPU time and command counts now.
pub async fn stats(url: &str) -> Result<Stats, String> {
    let mut con = connect(url).await?;
    let cpu: String = info("cpu")
        .query_async(&mut con)
        .await
        .map_err(|e| format!("Redis INFO cpu: {e}"))?;
    let stats: String = info("commandstats")
        .query_async(&mut con)
        .await
        .map_err(|e| format!("Redis INFO commandstats: {e}"))?;
    let seconds = |name| field(&cpu, name).and_then(|v| v.parse::<f64>().ok());
    let cpu_secs = seconds("used_cpu_user").unwrap_or(0.0) + seconds("used_cpu_sys").unwrap_or(0.0);
    // `cmdstat_evalsha:calls=12,usec=345,usec_per_call=28.75,...`
    let commands = stats
        .lines()
        .filter_map(|line| {
            let (name, values) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let value = |key: &str| {
                values
                    .split(',')
                    .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
                    .and_then(|v| v.parse::<u64>().ok())
            };
            Some((name.to_owned(), (value("calls")?, value("usec")?)))
        })
        .collect();
    Ok(Stats { cpu_secs, commands })
}

/// Removes every key under `key_prefix` (this run's own); returns how many there were.
pub async fn remove_keys(url: &str, key_prefix: &str) -> Result<usize, String> {
    let mut con = connect(url).await?;
    let pattern = format!("{{{key_prefix}}}:*");
    let (mut cursor, mut removed) = (0u64, 0usize);
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut con)
            .await
            .map_err(|e| format!("Redis SCAN: {e}"))?;
        if !keys.is_empty() {
            let _: usize = redis::cmd("UNLINK")
                .arg(&keys)
                .query_async(&mut con)
                .await
                .map_err(|e| format!("Redis UNLINK: {e}"))?;
            removed += keys.len();
        }
        if next == 0 {
            return Ok(removed);
        }
        cursor = next;
    }
}

fn info(section: &str) -> redis::Cmd {
    let mut cmd = redis::cmd("INFO");
    cmd.arg(section);
    cmd
}

/// The value of `name:value` in an `INFO` answer.
fn field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
}
