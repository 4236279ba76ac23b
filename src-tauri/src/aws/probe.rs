//! The reachability probe of a region's device data endpoint: does it take a connection *and
//! answer* right now? A server that accepts and never answers (a hung process, a black-holed
//! load balancer) counts as down: the kernel accepts connections for a stopped process.
//! This is the devices' path, not the API's, so it can fail while the API answers (and the
//! other way round).

use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Connects to `target` (`host:port`), sends a few bytes and waits for any answer (data, a TLS
/// alert, or the server closing), all within `timeout`; returns how long it took.
pub async fn reach(target: &str, timeout: Duration) -> Result<Duration, String> {
    let started = Instant::now();
    let exchange = async {
        let mut s = TcpStream::connect(target)
            .await
            .map_err(|e| format!("data endpoint {target}: {e}"))?;
        // Plain HTTP: a TLS endpoint answers it with an alert or by closing, which is an answer.
        let _ = s.write_all(b"HEAD / HTTP/1.0\r\n\r\n").await;
        let mut buf = [0u8; 64];
        match s.read(&mut buf).await {
            Ok(_) => Ok(()),
            // A reset is an answer too: something is there and alive.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Ok(()),
            Err(e) => Err(format!("data endpoint {target}: {e}")),
        }
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(Ok(())) => Ok(started.elapsed()),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!(
            "data endpoint {target}: no answer within {} ms",
            timeout.as_millis()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_answering_port_is_reached_a_closed_one_named_and_a_silent_one_timed_out() {
        // Answers (and closes).
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let _ = s.write_all(b"HTTP/1.0 400 Bad Request\r\n\r\n").await;
            }
        });
        assert!(reach(&addr, Duration::from_secs(1)).await.is_ok());

        // Accepts and never answers: the listener is kept but never accepted from.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let quiet = silent.local_addr().unwrap().to_string();
        let err = reach(&quiet, Duration::from_millis(300)).await.unwrap_err();
        assert!(err.contains("no answer within 300 ms"), "{err}");
        drop(silent);

        // Refused.
        let err = reach(&quiet, Duration::from_secs(1)).await.unwrap_err();
        assert!(err.starts_with(&format!("data endpoint {quiet}:")), "{err}");
        assert!(!err.contains("no answer"), "{err}");
    }
}
