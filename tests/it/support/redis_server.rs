//! A real `redis-server` for the tests of the `redis` state backend: started by the test on a
//! free loopback port, without persistence, killed when dropped. Never a shared daemon.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

use super::eventually;
use super::outside::installed_or_skipped;

pub struct RedisServer {
    child: Child,
    pub url: String,
}

impl RedisServer {
    /// A fresh server, or None when `redis-server` is not installed (outside CI: skipped).
    pub async fn start() -> Option<Self> {
        let installed = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed_or_skipped("redis-server", installed) {
            return None;
        }
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let server = Self {
            child,
            url: format!("redis://127.0.0.1:{port}"),
        };
        let client = server.client();
        eventually("redis-server answering PING", || {
            let client = client.clone();
            async move {
                match client.get_multiplexed_async_connection().await {
                    Ok(mut c) => redis::cmd("PING")
                        .query_async::<String>(&mut c)
                        .await
                        .is_ok(),
                    Err(_) => false,
                }
            }
        })
        .await;
        Some(server)
    }

    /// A plain client, for looking at what the backend stored.
    pub fn client(&self) -> redis::Client {
        redis::Client::open(self.url.as_str()).unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing listens on (just released by the OS).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
