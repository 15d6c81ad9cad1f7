//! Requests written byte for byte on a TCP connection, for the request targets an HTTP client
//! would normalise or refuse to send (absolute-form, `#`, `\`, raw non-ASCII bytes), and for
//! repeated `Host` headers.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What came back on the connection.
#[derive(Debug)]
pub struct RawReply {
    /// 0 when the connection closed without a status line.
    pub status: u16,
    pub body: String,
}

/// Sends `method target HTTP/1.1`, then `headers` (each `Name: value`, written as given),
/// `Connection: close` and, when there is one, the body with its `Content-Length`; reads the
/// answer until the server closes the connection. `base` is `http://host:port`.
pub async fn raw_request(
    base: &str,
    method: &str,
    target: &[u8],
    headers: &[&str],
    body: Option<&str>,
) -> RawReply {
    let mut request = Vec::new();
    request.extend_from_slice(method.as_bytes());
    request.push(b' ');
    request.extend_from_slice(target);
    request.extend_from_slice(b" HTTP/1.1\r\n");
    for header in headers {
        request.extend_from_slice(header.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"Connection: close\r\n");
    if let Some(body) = body {
        request.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    request.extend_from_slice(b"\r\n");
    request.extend_from_slice(body.unwrap_or_default().as_bytes());
    raw_exchange(base, &request).await
}

/// Writes `request` as it is on a new connection to `base` and reads the answer until the
/// server closes the connection.
pub async fn raw_exchange(base: &str, request: &[u8]) -> RawReply {
    let address = base.trim_start_matches("http://");
    let exchange = async {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream.write_all(request).await.unwrap();
        let mut answer = Vec::new();
        // A reset after the answer (the server closing with unread bytes) ends the read.
        let _ = stream.read_to_end(&mut answer).await;
        answer
    };
    let answer = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .unwrap_or_else(|_| panic!("no answer to {}", String::from_utf8_lossy(request)));
    parse(&answer)
}

fn parse(answer: &[u8]) -> RawReply {
    let text = String::from_utf8_lossy(answer);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    RawReply {
        status,
        body: if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        },
    }
}

/// The payload of a chunked body.
fn dechunk(mut body: &str) -> String {
    let mut payload = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        payload.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    payload
}
