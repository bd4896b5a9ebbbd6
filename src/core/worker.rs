//! Ordered submission: everything queued on a connection is sent in queue order, without
//! waiting for earlier results.
//!
//! tokio-postgres writes a request when its future is first polled, so the worker polls each
//! job once, in order, before taking the next. A job whose statement is not cached must be
//! prepared first (one round trip); the worker waits for that before sending anything later,
//! so an INSERT that needs preparing can never be overtaken by a cached SELECT behind it.
//! Jobs already sent keep being driven meanwhile.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::stream::FuturesUnordered;
use futures_util::{pin_mut, poll, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::Statement;

use crate::core::conn::{Params, Shared};
use crate::core::copy::{CopyIn, CopyOut};
use crate::core::error::{Error, Result};
use crate::core::{batch, exec};

use crate::core::reply::take_parted;
pub use crate::core::reply::Reply;

pub enum Job {
    Query {
        sql: String,
        params: Params,
        reply: Reply,
    },
    Many {
        sql: String,
        sets: Params,
        returning: bool,
        reply: Reply,
    },
    Simple {
        sql: String,
        reply: Reply,
    },
    CopyIn {
        sql: String,
        reply: oneshot::Sender<Result<CopyIn>>,
    },
    CopyOut {
        sql: String,
        reply: oneshot::Sender<Result<CopyOut>>,
    },
    /// A parameterless statement run as an unnamed statement, outside the cache.
    Uncached {
        sql: String,
        reply: Reply,
    },
    /// Statements of a pipeline sent with one Sync (see `core::batch`), one reply each.
    Batch {
        statements: Params,
        replies: Vec<Reply>,
    },
    /// The end of a pipeline segment: COMMIT, or ROLLBACK when `rollback` is set or a
    /// statement of the segment was refused before it was sent (`Shared::segment_failed`).
    EndSegment {
        rollback: bool,
        reply: Reply,
    },
    /// Prepares (or finds in the cache) a statement, in queue order.
    Prepare {
        sql: String,
        reply: oneshot::Sender<Result<Statement>>,
    },
}

impl Job {
    fn sql(&self) -> &str {
        match self {
            Job::Query { sql, .. }
            | Job::Many { sql, .. }
            | Job::Simple { sql, .. }
            | Job::CopyIn { sql, .. }
            | Job::CopyOut { sql, .. }
            | Job::Prepare { sql, .. }
            | Job::Uncached { sql, .. } => sql,
            Job::Batch { .. } | Job::EndSegment { .. } => "",
        }
    }
}

/// Updates what the connection knows of its transaction after `sql` is sent.
pub(crate) fn track_transaction(shared: &Shared, sql: &str) {
    if let Some(inside) = transaction_effect(sql) {
        shared.in_transaction.store(inside, Ordering::Relaxed);
        if inside {
            shared.segment_failed.store(false, Ordering::Relaxed);
        }
    }
}

/// How a statement changes the transaction state (None: it does not).
fn transaction_effect(sql: &str) -> Option<bool> {
    let mut words = sql
        .split(|c: char| c.is_whitespace() || c == ';')
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase);
    match words.next()?.as_str() {
        "BEGIN" | "START" => Some(true),
        "COMMIT" | "END" | "ABORT" => Some(false),
        "ROLLBACK" => match words.next().as_deref() {
            Some("TO") | Some("PREPARED") => None,
            _ => Some(false),
        },
        "PREPARE" => (words.next().as_deref() == Some("TRANSACTION")).then_some(false),
        _ => None,
    }
}

pub async fn submission_worker(shared: Arc<Shared>, mut jobs: mpsc::UnboundedReceiver<Job>) {
    let mut inflight = FuturesUnordered::new();
    loop {
        tokio::select! {
            biased;
            Some(()) = inflight.next(), if !inflight.is_empty() => {}
            job = jobs.recv() => {
                let Some(job) = job else { break };
                let job = match job {
                    Job::Batch { statements, replies } => {
                        // Sending may take round trips (statements to prepare): nothing queued
                        // later goes out before the whole batch has.
                        let sent = alongside(&mut inflight, batch::send(&shared, statements, replies)).await;
                        if sent.is_some() {
                            let sh = shared.clone();
                            inflight.push(Offload {
                                job: Some(Box::pin(async move {
                                    batch::finish(&sh, sent).await;
                                })),
                                offload: shared.offload,
                            });
                        }
                        continue;
                    }
                    Job::EndSegment { rollback, reply } => {
                        let failed = shared.segment_failed.swap(false, Ordering::Relaxed);
                        let sql = if rollback || failed { "ROLLBACK" } else { "COMMIT" };
                        Job::Simple { sql: sql.into(), reply }
                    }
                    job => job,
                };
                let sql = job.sql().to_string();
                let stmt = match job {
                    Job::Simple { .. } | Job::Uncached { .. } | Job::Batch { .. } | Job::EndSegment { .. } => None,
                    _ => Some(alongside(&mut inflight, statement(&shared, &sql)).await),
                };
                track_transaction(&shared, &sql);
                let mut fut = Offload {
                    job: Some(Box::pin(run(shared.clone(), stmt, job))),
                    offload: shared.offload,
                };
                if poll!(&mut fut).is_pending() {
                    inflight.push(fut);
                }
            }
        }
    }
    while inflight.next().await.is_some() {}
}

/// Awaits `fut` while driving the jobs already sent.
async fn alongside<F: Future>(inflight: &mut FuturesUnordered<Offload>, fut: F) -> F::Output {
    pin_mut!(fut);
    loop {
        tokio::select! {
            biased;
            out = &mut fut => return out,
            Some(()) = inflight.next(), if !inflight.is_empty() => {}
        }
    }
}

/// A running job. On a connection driven from the JS thread (`offload`), a job whose result
/// comes in parts (a large one) is moved to the runtime once its first part is out: decoding
/// the rest of its rows then runs beside the JS thread, which builds rows from the parts
/// meanwhile, instead of taking turns with it. The connection's protocol task stays where it is.
struct Offload {
    job: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    offload: bool,
}

impl Future for Offload {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(job) = self.job.as_mut() else {
            return Poll::Ready(());
        };
        take_parted();
        if job.as_mut().poll(cx).is_ready() {
            self.job = None;
            return Poll::Ready(());
        }
        if self.offload && take_parted() {
            if let (Ok(rt), Some(job)) = (tokio::runtime::Handle::try_current(), self.job.take()) {
                rt.spawn(job);
                return Poll::Ready(());
            }
        }
        Poll::Pending
    }
}

/// The cached statement for `sql`, prepared on a miss.
pub async fn statement(shared: &Shared, sql: &str) -> Result<Statement> {
    if let Some(s) = shared.cache.get(sql) {
        return Ok(s);
    }
    let s = shared.client.prepare(sql).await?;
    shared.cache.put(sql, &s);
    Ok(s)
}

/// A statement that failed because the session ended (FATAL, socket closed) leaves a
/// connection that must not be handed out again, even before tokio-postgres notices.
fn note<T>(shared: &Shared, r: &Result<T>) {
    if let Err(e) = r {
        note_error(shared, e);
    }
}

/// See [`note`].
pub(crate) fn note_error(shared: &Shared, e: &Error) {
    if e.code() == "ERR_CONNECTION_CLOSED" {
        shared.broken.store(true, Ordering::Relaxed);
    }
}

async fn run(shared: Arc<Shared>, stmt: Option<Result<Statement>>, job: Job) {
    match (job, stmt) {
        (Job::Query { sql, params, reply }, Some(stmt)) => {
            let r = match stmt {
                Ok(stmt) => exec::query(&shared, stmt, &sql, (*params).as_ref(), &reply).await,
                Err(e) => Err(e),
            };
            note(&shared, &r);
            reply.send(r);
        }
        (
            Job::Many {
                sql,
                sets,
                returning,
                reply,
            },
            Some(stmt),
        ) => {
            let r = match stmt {
                Ok(stmt) => {
                    exec::execute_many(&shared, &stmt, &sql, (*sets).as_ref(), returning).await
                }
                Err(e) => Err(e),
            };
            note(&shared, &r);
            reply.send(r);
        }
        (Job::CopyIn { reply, .. }, Some(stmt)) => {
            let r = match stmt {
                Ok(stmt) => match shared.client.copy_in::<_, bytes::Bytes>(&stmt).await {
                    Ok(sink) => Ok(CopyIn::new(sink)),
                    Err(e) => {
                        // tokio-postgres follows a COPY FROM STDIN that the server refused to
                        // start with a second Sync and then drops the connection on the extra
                        // ReadyForQuery: never hand this connection out again.
                        shared.broken.store(true, Ordering::Relaxed);
                        Err(e.into())
                    }
                },
                Err(e) => Err(e),
            };
            let _ = reply.send(r);
        }
        (Job::CopyOut { reply, .. }, Some(stmt)) => {
            let r = match stmt {
                Ok(stmt) => shared
                    .client
                    .copy_out(&stmt)
                    .await
                    .map(|s| CopyOut::new(s, shared.canceller.clone()))
                    .map_err(Into::into),
                Err(e) => Err(e),
            };
            let _ = reply.send(r);
        }
        (Job::Prepare { reply, .. }, Some(stmt)) => {
            let _ = reply.send(stmt);
        }
        (Job::Uncached { sql, reply }, _) => {
            let r = exec::query_uncached(&shared, &sql).await;
            note(&shared, &r);
            reply.send(r);
        }
        (Job::Simple { sql, reply }, _) => {
            let r = shared.client.batch_execute(&sql).await.map_err(Into::into);
            note(&shared, &r);
            reply.send(r.map(|()| vec![crate::core::wire::status::OK]));
        }
        // The others always come with a statement (see the worker).
        (Job::Query { reply, .. } | Job::Many { reply, .. }, None) => drop(reply),
        (Job::CopyIn { reply, .. }, None) => drop(reply),
        (Job::CopyOut { reply, .. }, None) => drop(reply),
        (Job::Prepare { reply, .. }, None) => drop(reply),
        // Sent by the worker itself (see `batch`).
        (Job::Batch { replies, .. }, _) => drop(replies),
        (Job::EndSegment { reply, .. }, _) => drop(reply),
    }
}

#[cfg(test)]
mod tests {
    use super::transaction_effect;

    #[test]
    fn tracks_transaction_control() {
        assert_eq!(transaction_effect("begin"), Some(true));
        assert_eq!(
            transaction_effect("  START TRANSACTION ISOLATION LEVEL SERIALIZABLE"),
            Some(true)
        );
        assert_eq!(transaction_effect("COMMIT;"), Some(false));
        assert_eq!(transaction_effect("rollback"), Some(false));
        assert_eq!(transaction_effect("ROLLBACK TO SAVEPOINT a"), None);
        assert_eq!(transaction_effect("PREPARE TRANSACTION 'x'"), Some(false));
        assert_eq!(transaction_effect("PREPARE q AS SELECT 1"), None);
        assert_eq!(transaction_effect("SELECT 1"), None);
    }
}
