//! CancelRequest: asks the server to stop what a connection is running, over a new socket.

use tokio_postgres::{CancelToken, NoTls};

use crate::core::config::Host;
use crate::core::driver::{open, tokio_stream};
use crate::core::error::{Code, Error, Result};

/// What a CancelRequest for one connection needs: its key and the address it was opened on.
/// (tokio-postgres's own `cancel_query` only knows the address of connections it opened.)
#[derive(Clone)]
pub struct Canceller {
    pub token: CancelToken,
    pub host: Host,
    pub port: u16,
}

impl Canceller {
    /// Sends the CancelRequest; the statement then fails with 57014. Runs on the tokio runtime.
    pub async fn cancel(&self) -> Result<()> {
        let socket = open(&self.host, self.port).await.map_err(|e| {
            Error::driver(
                Code::Connection,
                format!("could not send a cancel request: {e}"),
            )
        })?;
        let stream =
            tokio_stream(socket).map_err(|e| Error::driver(Code::Connection, e.to_string()))?;
        self.token
            .cancel_query_raw(stream, NoTls)
            .await
            .map_err(Into::into)
    }
}
