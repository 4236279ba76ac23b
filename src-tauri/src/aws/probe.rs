//! The reachability probe of a region's device data endpoint: can a device open a TCP
//! connection to it right now? This is the devices' path, not the API's, so it can fail while
//! the API answers (and the other way round).

use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// Connects to `target` (`host:port`) within `timeout`; returns how long it took.
pub async fn reach(target: &str, timeout: Duration) -> Result<Duration, String> {
    let started = Instant::now();
    match tokio::time::timeout(timeout, TcpStream::connect(target)).await {
        Ok(Ok(_)) => Ok(started.elapsed()),
        Ok(Err(e)) => Err(format!("data endpoint {target}: {e}")),
        Err(_) => Err(format!(
            "data endpoint {target}: no connection within {} ms",
            timeout.as_millis()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_open_port_is_reached_and_a_closed_one_named() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        assert!(reach(&addr, Duration::from_secs(1)).await.is_ok());
        drop(l);
        let err = reach(&addr, Duration::from_secs(1)).await.unwrap_err();
        assert!(err.starts_with(&format!("data endpoint {addr}:")), "{err}");
    }
}
