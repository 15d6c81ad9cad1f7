//! A real `redis-server` for the tests of the `redis` state backend: started by the test on a
//! free loopback port, without persistence, killed when dropped. Never a shared daemon: a
//! server that exits while starting (its port was taken meanwhile) is reported with its log,
//! and the one answering must be ours (its `process_id`), not another test's.

use std::io::Read;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use authlete_gateway::config::{Secret, Settings};

use super::outside::installed_or_skipped;

/// How long a server may take to answer its first `PING`.
const START_LOOKS: u32 = 1000;
const PAUSE: Duration = Duration::from_millis(10);

pub struct RedisServer {
    child: Child,
    pub port: u16,
    pub url: String,
    /// Arguments beyond the defaults, kept for a restart (a cluster node's, for instance).
    extra: Vec<String>,
}

impl RedisServer {
    /// A fresh server, or None when `redis-server` is not installed (outside CI: skipped). A
    /// port taken between choosing and binding it is replaced by another.
    pub async fn start() -> Option<Self> {
        if !installed_or_skipped("redis-server", runs("redis-server")) {
            return None;
        }
        Some(Self::start_with(|_| Vec::new()).await)
    }

    /// A fresh server started with the arguments `extra` gives for its port, once
    /// `redis-server` is known to be installed.
    pub(super) async fn start_with(extra: impl Fn(u16) -> Vec<String>) -> Self {
        let mut failures = Vec::new();
        for _ in 0..3 {
            let port = free_port();
            match Self::try_start_on(port, extra(port)).await {
                Ok(server) => return server,
                Err(failure) => failures.push(failure),
            }
        }
        panic!("redis-server did not start:\n{}", failures.join("\n---\n"));
    }

    /// A server on `port` (one a test just freed), panicking with its log if it cannot bind it.
    pub async fn start_on(port: u16) -> Self {
        Self::start_on_with(port, Vec::new()).await
    }

    async fn start_on_with(port: u16, extra: Vec<String>) -> Self {
        match Self::try_start_on(port, extra).await {
            Ok(server) => server,
            Err(failure) => panic!("redis-server did not start on {port}:\n{failure}"),
        }
    }

    async fn try_start_on(port: u16, extra: Vec<String>) -> Result<Self, String> {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--loglevel", "warning"])
            .args(&extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("redis-server starts");
        let mut server = Self {
            child,
            port,
            url: format!("redis://127.0.0.1:{port}"),
            extra,
        };
        server.answering().await?;
        Ok(server)
    }

    /// Waits until this server — not another one on the same port — answers.
    async fn answering(&mut self) -> Result<(), String> {
        let client = self.client();
        let ours = self.child.id().to_string();
        for _ in 0..START_LOOKS {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("exited with {status}:\n{}", self.output()));
            }
            if let Ok(mut c) = client.get_multiplexed_async_connection().await {
                let info: String = redis::cmd("INFO")
                    .arg("server")
                    .query_async(&mut c)
                    .await
                    .unwrap_or_default();
                if info
                    .lines()
                    .any(|l| l.trim() == format!("process_id:{ours}"))
                {
                    return Ok(());
                }
            }
            actix_web::rt::time::sleep(PAUSE).await;
        }
        Err(format!("not answering after {:?}", PAUSE * START_LOOKS))
    }

    /// What the server wrote, once it has exited.
    fn output(&mut self) -> String {
        let mut out = String::new();
        if let Some(mut stdout) = self.child.stdout.take() {
            let _ = stdout.read_to_string(&mut out);
        }
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = stderr.read_to_string(&mut out);
        }
        out
    }

    /// Kills the server (no shutdown handshake: its connections are reset).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A new server on the same port, after `kill`.
    pub async fn restart(&mut self) {
        self.kill();
        *self = Self::start_on_with(self.port, self.extra.clone()).await;
    }

    /// Stops (`SIGSTOP`) or resumes (`SIGCONT`) the server: while stopped, the kernel still
    /// accepts connections and data, and nothing answers — a host gone silent.
    pub fn freeze(&self, frozen: bool) {
        let signal = if frozen { "-STOP" } else { "-CONT" };
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal}");
    }

    /// A plain client, for looking at what the backend stored.
    pub fn client(&self) -> redis::Client {
        redis::Client::open(self.url.as_str()).unwrap()
    }
}

/// Where a test's gateways keep their shared state: one server, or a cluster.
pub trait SharedRedis {
    /// Points the `[state.redis]` of `s` at this Redis: its url, or a cluster's seed nodes.
    fn point(&self, s: &mut Settings);
}

/// A Redis URL, such as one nothing listens on.
impl SharedRedis for String {
    fn point(&self, s: &mut Settings) {
        s.state.redis.url = Some(Secret::new(self));
    }
}

impl SharedRedis for RedisServer {
    fn point(&self, s: &mut Settings) {
        s.state.redis.url = Some(Secret::new(&self.url));
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether `program --version` runs.
pub(super) fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A loopback port nothing listens on (just released by the OS).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
