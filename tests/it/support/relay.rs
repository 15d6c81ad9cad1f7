//! A TCP relay in front of a server that can turn every connection it carries half-open: the
//! connections stay open and nothing crosses them any more (a host gone without a reset, or a
//! failover that moved the name), while new connections are relayed as before.

use std::net::SocketAddr;

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Relay {
    pub addr: SocketAddr,
    silence: watch::Sender<u64>,
}

impl Relay {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let silence = watch::Sender::new(0);
        let silenced = silence.subscribe();
        actix_web::rt::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let Ok(mut outbound) = TcpStream::connect(target).await else {
                    continue;
                };
                let mut silenced = silenced.clone();
                silenced.mark_unchanged();
                actix_web::rt::spawn(async move {
                    tokio::select! {
                        _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
                        // Both sockets stay open, unread, until the test's runtime ends.
                        _ = silenced.changed() => std::future::pending::<()>().await,
                    }
                });
            }
        });
        Self { addr, silence }
    }

    /// Every connection relayed so far goes silent; later ones are relayed.
    pub fn silence_open_connections(&self) {
        self.silence.send_modify(|n| *n += 1);
    }
}
