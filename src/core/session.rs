//! What the statements of one connection share: the tokio-postgres client, the statement
//! cache, the session's transaction status as the server states it, where its jobs stand, and
//! whether the connection may still be used.
//!
//! Every module that runs statements depends on this one, and it depends on none of them, so
//! the dependencies run one way: `conn` (the handle) -> `worker` (ordering) -> `exec`/`batch`
//! (statements) -> `response` (reading the server) -> `session`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio_postgres::Statement;

use crate::core::cancel::Canceller;
use crate::core::driver::Roam;
use crate::core::error::{Code, Error, Result};
use crate::core::hangup::Hangup;
use crate::core::progress::Progress;
use crate::core::stmt_cache::StatementCache;
use crate::core::types::TypeOptions;

/// The transaction status byte of a ReadyForQuery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxStatus {
    /// `I`: not in a transaction block.
    Idle,
    /// `T`: in a transaction block.
    InTransaction,
    /// `E`: in a failed transaction block (statements are refused until it ends).
    InError,
}

impl TxStatus {
    /// The status of a ReadyForQuery's byte (anything unknown counts as a failed block: the
    /// connection is then never taken for clean).
    pub fn from_byte(b: u8) -> TxStatus {
        match b {
            b'I' => TxStatus::Idle,
            b'T' => TxStatus::InTransaction,
            _ => TxStatus::InError,
        }
    }

    /// The name JS sees (`client.transactionStatus`).
    pub fn name(self) -> &'static str {
        match self {
            TxStatus::Idle => "idle",
            TxStatus::InTransaction => "inTransaction",
            TxStatus::InError => "inError",
        }
    }
}

/// Parameters as JS encoded them (a napi Buffer, or bytes in tests).
pub type Params = Box<dyn AsRef<[u8]> + Send>;

pub struct Session {
    pub client: tokio_postgres::Client,
    pub canceller: Canceller,
    pub cache: StatementCache,
    pub types: TypeOptions,
    /// A statement of the current segment (an implicit pipeline segment, or an executeMany
    /// batch) was refused before it was sent, which the server cannot know: the segment's end
    /// rolls back. Set by `batch` and `exec::execute_many`, read and cleared by the segment's
    /// end (`Job::EndSegment`): the one owner of that decision.
    pub segment_failed: AtomicBool,
    /// Set when the connection must not be reused (see `Conn::mark_broken`).
    pub broken: AtomicBool,
    /// Where the connection's jobs stand (queued, on the wire, done).
    pub progress: Arc<Progress>,
    /// Driven from the JS thread: large results finish on the runtime, and so does the
    /// protocol task while they run (see `worker::Offload`, `driver::Roam`).
    pub roam: Option<Arc<Roam>>,
    /// Statements are prepared by name (the default); false with `prepare: false`, for a
    /// transaction-mode pooler: the unnamed statement, parsed again in each request (see
    /// `exec::parse_unnamed`).
    pub named: bool,
    /// Ends the connection's protocol task (and so closes the socket).
    hangup: Arc<Hangup>,
}

impl Session {
    pub fn new(
        client: tokio_postgres::Client,
        canceller: Canceller,
        statement_cache_size: usize,
        types: TypeOptions,
        roam: Option<Arc<Roam>>,
        named: bool,
        hangup: Arc<Hangup>,
    ) -> Session {
        Session {
            client,
            canceller,
            cache: StatementCache::new(statement_cache_size),
            types,
            segment_failed: AtomicBool::new(false),
            broken: AtomicBool::new(false),
            progress: Arc::default(),
            roam,
            named,
            hangup,
        }
    }

    /// The status of the last ReadyForQuery the server sent on this connection (exact once
    /// every request sent has been answered).
    pub fn transaction_status(&self) -> TxStatus {
        TxStatus::from_byte(self.client.transaction_status())
    }

    /// The cached statement for `sql`, prepared on a miss.
    pub async fn statement(&self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.cache.get(sql) {
            return Ok(s);
        }
        let s = if self.named {
            self.client.prepare(sql).await?
        } else {
            self.client.prepare_unnamed(sql).await?
        };
        self.cache.put(sql, &s);
        Ok(s)
    }

    /// A statement that failed because the session ended (FATAL, socket closed), or because
    /// the server's messages could not be read (a malformed message: the stream is out of step
    /// from there on), leaves a connection that must not be used again, even before
    /// tokio-postgres notices: what follows is refused at once and the pool discards it. The
    /// socket is closed at once too (the protocol task is hung up), so that the server sees
    /// the connection end now, not when its owner closes it: after a malformed message the
    /// stream can no longer be read, and a `Client` may be kept long after.
    pub fn note_error(&self, e: &Error) {
        let broken = match e {
            Error::Driver { code, .. } => match code {
                Code::ConnectionClosed | Code::Connection => true,
                Code::Protocol => !e.is_stale_statement(),
                _ => false,
            },
            Error::Db(_) => false,
        };
        if broken {
            self.broken.store(true, Ordering::Relaxed);
            self.hangup.hang_up();
        }
    }

    /// [`Session::note_error`] for a result.
    pub fn note<T>(&self, r: &Result<T>) {
        if let Err(e) = r {
            self.note_error(e);
        }
    }
}
