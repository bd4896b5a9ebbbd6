//! Ordered submission: everything queued on a connection is sent in queue order, without
//! waiting for earlier results.
//!
//! The worker takes each job in turn and sends its request before taking the next: the
//! statement functions (`exec`, `batch`) queue their request with `send_raw` before their
//! first await, so polling a job once sends it (a COPY, started by tokio-postgres, is waited
//! for instead). A job joins the jobs in flight (`core::inflight`), which the worker's loop
//! polls before it takes the next job (`biased`). A job whose statement is not cached must be
//! prepared first (one round trip); the worker waits for that before sending anything later,
//! so an INSERT that needs preparing can never be overtaken by a cached SELECT behind it.
//! Jobs already sent keep being driven meanwhile.
//!
//! A job that can be cancelled (`signal`, `timeoutMillis`) is a barrier: nothing is sent behind
//! it until it has been answered, and its CancelRequest goes out only once every request before
//! it has been answered, so a cancel can only ever stop the statement it was meant for.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use futures_util::{pin_mut, poll};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::Statement;

use crate::core::batch;
use crate::core::cancel_handle::CancelHandle;
use crate::core::copy::{CopyIn, CopyOut};
use crate::core::driver::Roam;
use crate::core::error::Result;
use crate::core::inflight::Inflight;
use crate::core::progress::Sent;
use crate::core::reply::take_parted;
pub use crate::core::reply::Reply;
use crate::core::retry::Retry;
use crate::core::session::Params;
use crate::core::session::Session;
use crate::core::sql_text::{copy_in_only, is_copy_from_stdin};
use crate::core::{exec, script};

pub enum Job {
    Query {
        sql: String,
        params: Params,
        reply: Reply,
        cancel: Option<Arc<CancelHandle>>,
        /// Where the statement goes if this connection closes before it runs (`pool.query`).
        retry: Option<Arc<dyn Retry>>,
    },
    Many {
        sql: String,
        sets: Params,
        returning: bool,
        /// Its batch ends with an `EndSegment`, which must know of a refused set.
        segment: bool,
        reply: Reply,
    },
    /// Parameterless SQL over the simple protocol (transaction control).
    Simple { sql: String, reply: Reply },
    /// `simpleQuery`: a script over the simple protocol, one result per statement.
    Script { sql: String, reply: Reply },
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
        cancel: Option<Arc<CancelHandle>>,
    },
    /// Statements of a pipeline sent with one Sync (see `core::batch`), one reply for all.
    Batch {
        statements: Params,
        reply: Reply,
        implicit: bool,
    },
    /// The end of a segment (an implicit pipeline segment, or an executeMany batch): COMMIT (or
    /// RELEASE of `savepoint`), or ROLLBACK (back to `savepoint`) when `rollback` is set or a
    /// statement or parameter set of the segment was refused before it was sent
    /// (`Session::segment_failed`). Answered `[OK][u8 rolled back]`.
    EndSegment {
        rollback: bool,
        savepoint: Option<String>,
        reply: Reply,
    },
    /// Prepares (or finds in the cache) a statement, in queue order.
    Prepare {
        sql: String,
        reply: oneshot::Sender<Result<Statement>>,
    },
}

impl Job {
    /// The SQL of a job that runs a cached statement.
    fn cached_sql(&self) -> Option<&str> {
        match self {
            Job::Query { sql, .. }
            | Job::Many { sql, .. }
            | Job::CopyIn { sql, .. }
            | Job::CopyOut { sql, .. }
            | Job::Prepare { sql, .. } => Some(sql),
            _ => None,
        }
    }

    /// A job that will not be sent (its session is over): a retryable statement goes to its
    /// retry, any other reports the closed connection (its reply, dropped).
    fn unsent(self) {
        if let Job::Query {
            sql,
            params,
            reply,
            retry: Some(retry),
            ..
        } = self
        {
            retry.retry(sql, params, reply);
        }
    }

    fn cancel(&self) -> Option<&Arc<CancelHandle>> {
        match self {
            Job::Query { cancel, .. } | Job::Uncached { cancel, .. } => cancel.as_ref(),
            _ => None,
        }
    }
}

pub async fn submission_worker(
    session: Arc<Session>,
    mut jobs: mpsc::UnboundedReceiver<(u64, Job)>,
) {
    let progress = session.progress.clone();
    let mut inflight = Inflight::default();
    loop {
        tokio::select! {
            biased;
            Some(()) = inflight.next_done(), if !inflight.is_empty() => {}
            job = jobs.recv() => {
                let Some((seq, job)) = job else { break };
                if session.broken.load(Ordering::Relaxed) {
                    // The session is over (FATAL, lost, or given up after an unanswered
                    // cancel): the job's reply reports the closed connection, or it is retried.
                    job.unsent();
                    progress.done(seq);
                    continue;
                }
                let job = match job {
                    Job::Batch { statements, reply, implicit } => {
                        // Sending may take round trips (statements to prepare): nothing queued
                        // later goes out before the whole batch has.
                        let sent = alongside(&mut inflight, batch::send(&session, statements, reply, implicit)).await;
                        match sent {
                            Some(sent) => {
                                let s = session.clone();
                                let guard = Sent::new(&progress, seq, None);
                                inflight.push(tracked(&session, guard, |guard| async move {
                                    batch::finish(&s, sent).await;
                                    drop(guard);
                                }));
                            }
                            None => progress.done(seq),
                        }
                        continue;
                    }
                    Job::EndSegment { rollback, savepoint, reply } => {
                        // Decided as it is sent: every job of the segment has been sent (and so
                        // checked) by now.
                        let failed = session.segment_failed.swap(false, Ordering::Relaxed);
                        Job::EndSegment { rollback: rollback || failed, savepoint, reply }
                    }
                    job => job,
                };
                let stmt = match job.cached_sql() {
                    Some(sql) => {
                        // A cached one is taken as it is (no preparing future, ~1.2 KB).
                        let stmt = match session.cache.get(sql) {
                            Some(s) => Ok(s),
                            None => alongside(&mut inflight, session.statement(sql)).await,
                        };
                        // Preparing a COPY runs nothing; only a statement described with no
                        // parameters and no columns can be one, so only its text is read.
                        let copy_in = |s: &Statement| {
                            s.params().is_empty() && s.columns().is_empty() && is_copy_from_stdin(sql)
                        };
                        match stmt {
                            Ok(s) if !matches!(job, Job::CopyIn { .. }) && copy_in(&s) => {
                                Some(Err(copy_in_only()))
                            }
                            stmt => Some(stmt),
                        }
                    }
                    None => None,
                };
                let cancel = job.cancel().cloned();
                if cancel.as_ref().is_some_and(|c| !c.start()) {
                    // Cancelled while queued: never sent; its caller has settled already.
                    drop(job);
                    progress.done(seq);
                    continue;
                }
                // Jobs that take the connection for themselves: a script until it is answered (a
                // COPY FROM STDIN in it is ended with CopyFail, which is only safe with nothing
                // sent behind it), a COPY until it ends (started by tokio-postgres, whose
                // futures say nothing about when they write).
                let copy = matches!(job, Job::CopyIn { .. } | Job::CopyOut { .. });
                let alone = copy || matches!(job, Job::Script { .. });
                let s = session.clone();
                let guard = Sent::new(&progress, seq, cancel.clone());
                let mut fut = tracked(&session, guard, move |guard| run(s, stmt, job, guard));
                if alone {
                    alongside(&mut inflight, fut).await;
                } else if cancel.is_some() && poll!(&mut fut).is_ready() {
                    // A cancellable job is sent before its barrier starts (which may cancel it).
                } else {
                    // Sent by the set's next poll (made before the next job is taken) if not yet.
                    inflight.push(fut);
                }
                if copy {
                    // A running COPY owns the connection: the server would take anything sent
                    // behind a COPY FROM STDIN as its data, and a CancelRequest meant for the
                    // COPY must not find another statement running. Nothing goes out until it
                    // ends (its handle holds the job's place in flight until then).
                    alongside(&mut inflight, progress.wait_through(seq, || session.broken.load(Ordering::Relaxed))).await;
                }
                if let Some(cancel) = cancel {
                    alongside(&mut inflight, barrier(&session, &cancel)).await;
                }
            }
        }
    }
    while inflight.next_done().await.is_some() {}
}

/// Awaits `fut` while driving the jobs already sent.
async fn alongside<F: Future>(inflight: &mut Inflight<Offload>, fut: F) -> F::Output {
    pin_mut!(fut);
    loop {
        tokio::select! {
            biased;
            out = &mut fut => return out,
            Some(()) = inflight.next_done(), if !inflight.is_empty() => {}
        }
    }
}

/// A sent job, in flight until its guard drops (at the end of the job, or, for a COPY,
/// when the COPY ends). `job` receives the guard.
fn tracked<F>(session: &Arc<Session>, guard: Sent, job: impl FnOnce(Sent) -> F) -> Offload
where
    F: Future<Output = ()> + Send + 'static,
{
    let job: Pin<Box<dyn Future<Output = ()> + Send>> = match guard.cancel().cloned() {
        // Given up (see `barrier`): the job is dropped (its guard with it), and its reply
        // reports the closed connection.
        Some(c) => {
            let job = job(guard);
            Box::pin(async move {
                tokio::select! {
                    biased;
                    () = job => {}
                    () = c.abandoned() => {}
                }
            })
        }
        // Boxed as it is: a wrapper would copy the job's future (~1.9 KB) once more per query.
        None => Box::pin(job(guard)),
    };
    Offload {
        job: Some(job),
        roam: session.roam.clone(),
    }
}

/// How long a cancelled statement may take to answer once its first CancelRequest goes out;
/// past it the server is taken for unresponsive and the connection is given up (the call then
/// settles with ERR_CONNECTION_CLOSED: the statement's outcome is unknown).
///
/// Why 1 s: `timeoutMillis` is the caller's deadline, and only the server's answer can say
/// "cancelled, did not run" (57014); a server that answers at all does so within a few round
/// trips of the CancelRequest (the postmaster signals the backend at once: ~10 ms past the
/// timeout here, `faults.test.js`), and one repeat (CANCEL_REPEAT) still fits. A longer wait only delays the caller of
/// a stalled link or a stopped backend (it was 5 s); a shorter one would give up connections
/// whose answer is merely a round trip away.
const CANCEL_GRACE: Duration = Duration::from_secs(1);

/// A CancelRequest that reaches the backend between two statements is ignored (the one before
/// has answered, this one has not started): it is repeated this often while the statement runs.
const CANCEL_REPEAT: Duration = Duration::from_millis(500);

/// Holds the queue behind a cancellable job until it is answered; sends its CancelRequest
/// when its caller asks and it is the one running (every request before it answered), and
/// repeats it until the statement ends. Nothing is sent behind it meanwhile, so a repeat can
/// only reach this statement or an idle backend.
async fn barrier(session: &Session, cancel: &CancelHandle) {
    let mut give_up: Option<Instant> = None;
    let mut next_cancel: Option<Instant> = None;
    loop {
        let progressed = session.progress.changed();
        let changed = cancel.changed();
        if cancel.is_done() {
            return;
        }
        let now = Instant::now();
        let running = cancel.wanted() && session.progress.inflight() == 1;
        if running && !cancel.is_abandoned() && next_cancel.is_none_or(|t| now >= t) {
            let until = *give_up.get_or_insert(now + CANCEL_GRACE);
            next_cancel = Some(now + CANCEL_REPEAT);
            // A failed CancelRequest leaves the statement to finish on its own, within the grace.
            let _ = tokio::time::timeout_at(until, session.canceller.cancel()).await;
            continue;
        }
        let wake = match (give_up, next_cancel) {
            (Some(g), Some(n)) if !cancel.is_abandoned() => Some((g.min(n), g)),
            _ => None,
        };
        let timer = async {
            match wake {
                Some((at, _)) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = progressed => {}
            () = changed => {}
            () = timer => {
                if wake.is_some_and(|(_, g)| Instant::now() >= g) {
                    // No answer: nothing more goes to this server on this connection. The job,
                    // dropped, answers at its next poll (driven beside this barrier).
                    session.broken.store(true, Ordering::Relaxed);
                    cancel.abandon();
                }
            }
        }
    }
}

/// A running job. On a connection driven from the JS thread (`roam`), a job whose result
/// comes in parts (a large one) is moved to the runtime once its first part is out, and asks
/// the connection's protocol task to follow it there until it ends: reading the socket and
/// decoding the rest of its rows then run beside the JS thread, which builds rows from the
/// parts meanwhile, instead of taking turns with it.
struct Offload {
    job: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    roam: Option<Arc<Roam>>,
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
        if self.roam.is_some() && take_parted() {
            if let (Ok(rt), Some(roam)) = (tokio::runtime::Handle::try_current(), &self.roam) {
                let away = roam.leave();
                if let Some(job) = self.job.take() {
                    rt.spawn(async move {
                        job.await;
                        drop(away);
                    });
                    return Poll::Ready(());
                }
            }
        }
        Poll::Pending
    }
}

/// Every job but a plain query awaits its work boxed: a job's future, made and copied per
/// query, is as large as its largest arm.
async fn run(session: Arc<Session>, stmt: Option<Result<Statement>>, job: Job, sent: Sent) {
    let s = &*session;
    match (job, stmt) {
        (
            Job::Query {
                sql,
                params,
                reply,
                retry,
                ..
            },
            Some(stmt),
        ) => {
            let r = match stmt {
                Ok(stmt) => exec::query(s, stmt, &sql, (*params).as_ref(), &reply).await,
                // Preparing has no effect: a connection lost then leaves the statement unrun.
                Err(e) => Err(e.unrun()),
            };
            s.note(&r);
            match (r, retry) {
                (Err(e), Some(retry)) if e.is_unrun() => retry.retry(sql, params, reply),
                (r, _) => reply.send(r),
            }
        }
        (
            Job::Many {
                sql,
                sets,
                returning,
                segment,
                reply,
            },
            Some(stmt),
        ) => {
            let r = match stmt {
                Ok(stmt) => {
                    Box::pin(exec::execute_many(
                        s,
                        &stmt,
                        &sql,
                        (*sets).as_ref(),
                        returning,
                        segment,
                    ))
                    .await
                }
                Err(e) => Err(e),
            };
            s.note(&r);
            reply.send(r);
        }
        (Job::CopyIn { sql, reply }, Some(stmt)) => {
            let r = match stmt {
                // The COPY stays in flight until it ends.
                Ok(stmt) => Box::pin(CopyIn::start(s, &stmt, &sql, sent)).await,
                Err(e) => Err(e),
            };
            let _ = reply.send(r);
        }
        (Job::CopyOut { sql, reply }, Some(stmt)) => {
            let r = match stmt {
                Ok(stmt) => Box::pin(CopyOut::start(s, &stmt, &sql, sent)).await,
                Err(e) => Err(e),
            };
            let _ = reply.send(r);
        }
        (Job::Prepare { reply, .. }, Some(stmt)) => {
            let _ = reply.send(stmt);
        }
        (Job::Uncached { sql, reply, .. }, _) => {
            let r = Box::pin(exec::query_uncached(s, &sql)).await;
            s.note(&r);
            reply.send(r);
        }
        (Job::Simple { sql, reply }, _) => {
            let r = Box::pin(script::simple(s, &sql)).await;
            s.note(&r);
            reply.send(r);
        }
        (
            Job::EndSegment {
                rollback,
                savepoint,
                reply,
            },
            _,
        ) => {
            let sql = match (&savepoint, rollback) {
                (None, false) => "COMMIT".to_string(),
                (None, true) => "ROLLBACK".to_string(),
                (Some(sp), false) => format!("RELEASE SAVEPOINT {sp}"),
                (Some(sp), true) => format!("ROLLBACK TO SAVEPOINT {sp}; RELEASE SAVEPOINT {sp}"),
            };
            let r = Box::pin(script::simple(s, &sql)).await;
            s.note(&r);
            reply.send(r.map(|_| vec![crate::core::wire::status::OK, rollback as u8]));
        }
        (Job::Script { sql, reply }, _) => {
            let r = Box::pin(script::simple_query(s, &sql)).await;
            s.note(&r);
            reply.send(r);
        }
        // The others always come with a statement (see the worker).
        (job @ Job::Query { .. }, None) => job.unsent(),
        (Job::Many { reply, .. }, None) => drop(reply),
        (Job::CopyIn { reply, .. }, None) => drop(reply),
        (Job::CopyOut { reply, .. }, None) => drop(reply),
        (Job::Prepare { reply, .. }, None) => drop(reply),
        // Sent by the worker itself (see `batch`).
        (Job::Batch { reply, .. }, _) => drop(reply),
    }
}
