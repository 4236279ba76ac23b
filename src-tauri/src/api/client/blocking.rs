//! The client for code without an async runtime: the runbook CLI and synchronous tests.

use super::{Client, ClientError, EventStream, Request, Response};
use std::future::Future;

/// A [`Client`] for code without an async runtime (the runbook CLI, synchronous tests): it
/// owns a small runtime and runs each call on it, on a thread of its own when the caller is
/// already inside a runtime. It may be dropped anywhere, in a runtime or not.
pub struct BlockingClient {
    client: Client,
    /// Always `Some` until dropped.
    rt: Option<tokio::runtime::Runtime>,
}

impl Drop for BlockingClient {
    fn drop(&mut self) {
        // A runtime dropped the ordinary way blocks, which an async context forbids.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl BlockingClient {
    pub fn new(client: Client) -> Result<BlockingClient, ClientError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ClientError::Connect {
                server: client.server.clone(),
                reason: format!("cannot start the I/O runtime: {e}"),
            })?;
        Ok(BlockingClient {
            client,
            rt: Some(rt),
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn server(&self) -> &str {
        self.client.server()
    }

    /// [`Client::send`], blocking.
    pub fn send(&self, req: Request) -> Result<Response, ClientError> {
        self.run(self.client.send(req))
    }

    /// [`Client::events`], blocking; read it with [`BlockingClient::run`] and
    /// [`EventStream::next_event`] (the stream belongs to this client's runtime).
    pub fn events(&self, req: Request) -> Result<EventStream, ClientError> {
        self.run(self.client.events(req))
    }

    /// Runs `work` to completion on this client's runtime.
    pub fn run<F>(&self, work: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        let rt = self.rt.as_ref().expect("the runtime lives until drop");
        if tokio::runtime::Handle::try_current().is_err() {
            return rt.block_on(work);
        }
        // Inside a runtime a thread may not block on another: use a thread of our own.
        std::thread::scope(|s| {
            s.spawn(|| rt.block_on(work))
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}
