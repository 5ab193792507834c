//! A TCP proxy a test can cut: the way to take a service "away" from one
//! gateway (connections reset, new ones refused at once) without stopping
//! the machine's shared service.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// A proxy on 127.0.0.1 to one upstream address; up when started.
#[derive(Debug, Clone)]
pub struct TcpProxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    pumps: Arc<Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
}

impl TcpProxy {
    /// Listens on a free port and forwards every connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let up = Arc::new(AtomicBool::new(true));
        let pumps: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (up2, pumps2) = (up.clone(), pumps.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    drop(client); // refused at once: reset
                    continue;
                }
                let pump = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                let mut list = pumps2.lock().unwrap_or_else(|p| p.into_inner());
                list.retain(|h| !h.is_finished());
                list.push(pump.abort_handle());
            }
        })
        .abort_handle();
        TcpProxy {
            addr,
            up,
            pumps,
            accept,
        }
    }

    /// Cuts every connection and refuses new ones (`false`), or lets them
    /// through again (`true`).
    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
        if !up {
            for pump in self.pumps.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
                pump.abort();
            }
        }
    }

    /// `url` (a `scheme://user@host:port/path` URL) through this proxy.
    pub fn url_through(&self, url: &str) -> String {
        let Some((scheme, rest)) = url.split_once("://") else {
            return url.to_owned();
        };
        let (auth, rest) = rest.rsplit_once('@').map_or(("", rest), |(a, r)| (a, r));
        let path = rest.find('/').map_or("", |i| &rest[i..]);
        let at = if auth.is_empty() {
            String::new()
        } else {
            format!("{auth}@")
        };
        format!("{scheme}://{at}{}{path}", self.addr)
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        // The last handle stops the proxy.
        if Arc::strong_count(&self.up) == 1 {
            self.accept.abort();
            self.set_up(false);
        }
    }
}
