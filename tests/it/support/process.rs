//! The gateway as a real process, for what only a process can show: SIGTERM, `kill -9`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The gateway's process; killed if the test ends before the process does.
pub struct GatewayProcess(pub Child);

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

impl GatewayProcess {
    /// Starts the binary with `config_path`; returns it with its public and admin base URLs,
    /// read from its log.
    pub fn spawn(config_path: &std::path::Path) -> (Self, String, String) {
        let (child, public, admin, _) = Self::spawn_logged(config_path);
        (child, public, admin)
    }

    /// As `spawn`, and also collects its log lines (the first 10 000).
    pub fn spawn_logged(config_path: &std::path::Path) -> (Self, String, String, Lines) {
        let lines = Lines::default();
        let kept = lines.clone();
        let mut child = Command::new(env!("CARGO_BIN_EXE_authlete-gateway"))
            .arg("--config")
            .arg(config_path)
            .env_remove("RUST_LOG")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (found, addresses) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(mut kept) = kept.0.lock() {
                    if kept.len() < 10_000 {
                        kept.push(line.clone());
                    }
                }
                // "listening on 127.0.0.1:X (public) and 127.0.0.1:Y (admin)"
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let words: Vec<&str> = rest.split_whitespace().collect();
                    let _ = found.send((words[0].to_owned(), words[3].to_owned()));
                }
            }
        });
        let child = Self(child);
        let (public, admin) = addresses.recv_timeout(Duration::from_secs(30)).unwrap();
        (
            child,
            format!("http://{public}"),
            format!("http://{admin}"),
            lines,
        )
    }

    /// `kill -9`: the process ends at once, holding whatever it held.
    pub fn kill_9(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The log lines a gateway process wrote so far.
#[derive(Clone, Default)]
pub struct Lines(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl Lines {
    pub fn snapshot(&self) -> Vec<String> {
        self.0.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// The head of a configuration file for a gateway process in front of the embedded emulator:
/// loopback listeners on free ports, one worker, the console, and the user alice. `server` holds
/// more keys of the `[server]` table, one per line.
pub fn embedded_config_head(server: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
workers = 1
{server}
[admin]
listen = "127.0.0.1:0"
console = true

[authlete]
backend = "embedded"

[[users.static]]
subject = "alice"
login_hints = ["alice@example.com"]
"#
    )
}
