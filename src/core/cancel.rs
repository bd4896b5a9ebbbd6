//! CancelRequest: asks the server to stop what a connection is running, over a new socket
//! secured as the connection is (TLS when the session uses it, as libpq 17's cancel API does).

use tokio_postgres::CancelToken;

use crate::core::config::Host;
use crate::core::driver::{open, tokio_stream, Stream};
use crate::core::error::{Code, Error, Result};
use crate::core::hosts::Network;
use crate::core::tls::{negotiate, Answer, Connector, MaybeConnector};

/// What a CancelRequest for one connection needs: its key and the address it was opened on.
/// (tokio-postgres's own `cancel_query` only knows the address of connections it opened.)
#[derive(Clone)]
pub struct Canceller {
    pub token: CancelToken,
    pub host: Host,
    pub port: u16,
    pub network: Network,
    /// The session's TLS; its token then says "TLS already agreed on" (see `core::connect`).
    pub tls: Option<Connector>,
    pub direct: bool,
}

impl Canceller {
    /// Sends the CancelRequest; the statement then fails with 57014. Runs on the tokio runtime.
    pub async fn cancel(&self) -> Result<()> {
        let failed = |e: String| {
            Error::driver(
                Code::Connection,
                format!("could not send a cancel request: {e}"),
            )
        };
        let socket = open(&self.host, self.port, &self.network, false)
            .await
            .map_err(|e| failed(e.to_string()))?;
        let mut stream = Stream(tokio_stream(socket).map_err(|e| failed(e.to_string()))?);
        if self.tls.is_some() && negotiate(&mut stream, self.direct).await? != Answer::Tls {
            return Err(failed("the server no longer accepts TLS".into()));
        }
        self.token
            .cancel_query_raw(stream, MaybeConnector(self.tls.clone()))
            .await
            .map_err(Into::into)
    }
}
