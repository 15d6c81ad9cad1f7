//! A raw TCP HTTP/1.1 server that misbehaves on purpose, for the faults wiremock cannot make:
//! a body broken off by a reset or a close, an endless or trickling body, an answer that never
//! comes. Requests to its `path` meet the next fault of the script, one request per connection
//! (the last fault repeats); any other path gets a 404 at once.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// What the server does with one request to its path, once the request has been read whole.
#[derive(Debug, Clone)]
pub enum Fault {
    /// A complete answer, then the connection closes.
    Answer {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Reads the request, then resets the connection (RST): no answer at all.
    ResetBeforeAnswer,
    /// The head promises a JSON body of `Content-Length: 4096`; `sent` of it arrives, then a
    /// reset (RST).
    ResetMidBody { sent: &'static str },
    /// The head promises `Content-Length: 4096`; `sent` of it arrives, then an orderly close (FIN).
    CloseMidBody { sent: &'static str },
    /// A 200 framed by the connection's close, without `Content-Length` (RFC 9112 §6.3): `body`
    /// is the whole answer. awc reads such an HTTP/1.1 body as empty.
    CloseDelimited { body: &'static str },
    /// `status` with `bytes` bytes of JSON whitespace, `Content-Length` declared, sent at full
    /// speed.
    Huge { status: u16, bytes: usize },
    /// A chunked 200 whose chunks never end, sent as fast as the peer reads them.
    Endless,
    /// A 200 head promising `Content-Length: 4096`, then a byte every `every`, forever.
    Trickle { every: Duration },
    /// Reads the request and holds the connection open without a byte of answer.
    Silent,
}

impl Fault {
    /// Whether the peer can only end the exchange at its own timeout: nothing in the answer
    /// tells it the answer is over or broken.
    pub fn holds_to_timeout(&self) -> bool {
        matches!(self, Fault::Silent | Fault::Trickle { .. })
    }

    /// A complete answer with a JSON body.
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Fault::Answer {
            status,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    /// A complete answer, `Content-Length` framed, with `body` as it is (truncated JSON, HTML…).
    pub fn text(status: u16, body: &str) -> Self {
        Fault::Answer {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    /// A complete answer with extra headers and an empty JSON object.
    pub fn status_with(status: u16, headers: &[(&'static str, &str)]) -> Self {
        Fault::Answer {
            status,
            headers: headers.iter().map(|(n, v)| (*n, (*v).to_owned())).collect(),
            body: "{}".to_owned(),
        }
    }
}

/// The declared length of the faults that break a body off.
const DECLARED: usize = 4096;

pub struct FaultyServer {
    pub addr: SocketAddr,
    served: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    acceptor: tokio::task::JoinHandle<()>,
}

impl FaultyServer {
    /// Listens on 127.0.0.1:0; requests to `path` meet `script` in order.
    pub async fn start(path: &str, script: Vec<Fault>) -> Self {
        assert!(!script.is_empty(), "a script of at least one fault");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let served = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let acceptor = {
            let counters = (served.clone(), requests.clone());
            let (script, path) = (script.clone(), path.to_owned());
            tokio::spawn(async move {
                // Connections live as long as the acceptor: aborting it closes them all.
                let mut connections = JoinSet::new();
                while let Ok((stream, _)) = listener.accept().await {
                    let (script, counters, path) = (script.clone(), counters.clone(), path.clone());
                    connections.spawn(async move {
                        serve(stream, &path, &script, &counters).await;
                    });
                    while connections.try_join_next().is_some() {}
                }
            })
        };
        Self {
            addr,
            served,
            requests,
            acceptor,
        }
    }

    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests to the path met so far (each met one fault).
    pub fn served(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }

    /// Requests to any path so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for FaultyServer {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

/// Requests met at the path, and at any path.
type Counters = (Arc<AtomicUsize>, Arc<AtomicUsize>);

async fn serve(
    mut stream: TcpStream,
    path: &str,
    script: &Mutex<VecDeque<Fault>>,
    (served, requests): &Counters,
) {
    let Some(target) = read_request(&mut stream).await else {
        return;
    };
    requests.fetch_add(1, Ordering::SeqCst);
    if target.split('?').next() != Some(path) {
        let _ = write_answer(&mut stream, 404, &[], "").await;
        return;
    }
    let fault = {
        let mut script = script.lock().unwrap();
        if script.len() > 1 {
            script.pop_front()
        } else {
            script.front().cloned()
        }
    };
    served.fetch_add(1, Ordering::SeqCst);
    let Some(fault) = fault else { return };
    let _ = act(&mut stream, fault).await;
}

async fn act(stream: &mut TcpStream, fault: Fault) -> std::io::Result<()> {
    let promised = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {DECLARED}\r\n\r\n"
    );
    match fault {
        Fault::Answer {
            status,
            headers,
            body,
        } => write_answer(stream, status, &headers, &body).await?,
        Fault::ResetBeforeAnswer => reset(stream)?,
        Fault::ResetMidBody { sent } => {
            stream.write_all(promised.as_bytes()).await?;
            stream.write_all(sent.as_bytes()).await?;
            stream.flush().await?;
            // Let the head and the start of the body reach the peer before the reset.
            tokio::time::sleep(Duration::from_millis(50)).await;
            reset(stream)?;
        }
        Fault::CloseMidBody { sent } => {
            stream.write_all(promised.as_bytes()).await?;
            stream.write_all(sent.as_bytes()).await?;
            stream.shutdown().await?;
        }
        Fault::CloseDelimited { body } => {
            let head =
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body.as_bytes()).await?;
            stream.shutdown().await?;
        }
        Fault::Huge { status, bytes } => {
            let head = format!(
                "HTTP/1.1 {status} Fault\r\nContent-Type: application/json\r\nContent-Length: {bytes}\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await?;
            let block = vec![b' '; 64 * 1024];
            let mut left = bytes;
            while left > 0 {
                let n = left.min(block.len());
                stream.write_all(&block[..n]).await?;
                left -= n;
            }
            stream.shutdown().await?;
        }
        Fault::Endless => {
            let head =
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
            stream.write_all(head.as_bytes()).await?;
            let chunk = format!("{:x}\r\n{}\r\n", 16 * 1024, " ".repeat(16 * 1024));
            // Ends when the peer goes away (a write fails) or the server is dropped.
            loop {
                stream.write_all(chunk.as_bytes()).await?;
            }
        }
        Fault::Trickle { every } => {
            stream.write_all(promised.as_bytes()).await?;
            loop {
                stream.write_all(b" ").await?;
                tokio::time::sleep(every).await;
            }
        }
        Fault::Silent => std::future::pending::<()>().await,
    }
    Ok(())
}

/// Closes with a reset (RST) rather than an orderly FIN.
fn reset(stream: &TcpStream) -> std::io::Result<()> {
    stream.set_zero_linger()?;
    // The socket closes when the caller drops it, with the linger of zero: a reset.
    Ok(())
}

async fn write_answer(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(&'static str, String)],
    body: &str,
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} Fault\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

/// Reads one request, head and `Content-Length` body; returns its target (path and query).
async fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if buffer.len() > 64 * 1024 {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0);
    let mut body = buffer.len() - head_end;
    while body < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body += n;
    }
    head.lines().next()?.split(' ').nth(1).map(str::to_owned)
}
