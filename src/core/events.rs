//! Asynchronous messages of a connection: notifications (LISTEN/NOTIFY) and notices.
//!
//! tokio-postgres surfaces them only to whoever drives its `Connection` with `poll_message`;
//! `drive` is that loop, and hands each message to the connection's `Events`, if any.

use std::future::poll_fn;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_postgres::{AsyncMessage, Connection};

use crate::core::error::Error;
use crate::core::hangup::Hangup;

/// Receives what a connection reports outside of any statement.
pub trait Events: Send + Sync {
    fn notification(&self, channel: &str, payload: &str, process_id: i32);
    /// A notice, as the error it is shaped like (severity NOTICE, WARNING, ...).
    fn notice(&self, notice: Error);
    /// The connection ended (closed by either side, or lost).
    fn closed(&self);
}

/// Drives the protocol until the connection ends (or `hangup` asks it to: the socket is then
/// dropped), forwarding notifications and notices.
pub async fn drive<S, T>(
    mut connection: Connection<S, T>,
    events: Option<Arc<dyn Events>>,
    hangup: Arc<Hangup>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
    T: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        let next = poll_fn(|cx| {
            if hangup.poll(cx).is_ready() {
                return std::task::Poll::Ready(None);
            }
            connection.poll_message(cx)
        });
        match next.await {
            Some(Ok(AsyncMessage::Notification(n))) => {
                if let Some(e) = &events {
                    e.notification(n.channel(), n.payload(), n.process_id());
                }
            }
            Some(Ok(AsyncMessage::Notice(db))) => {
                if let Some(e) = &events {
                    e.notice(Error::from_notice(&db));
                }
            }
            Some(Ok(_)) => {}
            // The statements in flight see the connection end: ERR_CONNECTION_CLOSED, or
            // ERR_PROTOCOL when the stream could not be framed (the vendored codec's fault).
            Some(Err(_)) | None => break,
        }
    }
    if let Some(e) = &events {
        e.closed();
    }
}
