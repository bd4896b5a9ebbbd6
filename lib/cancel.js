'use strict'
// `signal` and `timeoutMillis`.
//
// One statement (`cancellableRequest`: query, cursor FETCH): the native side knows where the
// statement is. Not sent yet: it is taken out of the queue and the call rejects at once,
// without touching the server. Sent: a CancelRequest goes out once it is the statement running
// (never while another caller's statement runs; nothing is sent behind it meanwhile), and its
// answer settles the call: ERR_QUERY_CANCELLED (57014 as `cause`) when the server stopped it,
// its result when it completed first.
//
// Several statements on a client held exclusively (`cancellable`: executeMany): once the
// statements queued before the operation have been answered, every statement running is the
// operation's own, so the CancelRequest is sent then and repeated every half second until the
// operation ends (it may fire between two of its statements); the call settles only once every
// request sent has been processed by the server.
const { FerroError } = require('./errors')
const { abandon } = require('./completions')

const NOT_SENT = 0 // cancelRequest(): the statement was taken out of the queue

const RETRY_MS = 500

function cancelledError(reason, cause) {
  const timeout = reason instanceof FerroError && reason.code === 'ERR_QUERY_TIMEOUT'
  // `cause` is the server's 57014 when the server stopped a statement, else the reason.
  const e = new FerroError('ERR_QUERY_CANCELLED', timeout ? reason.message : 'the statement was cancelled by its signal', { cause: cause ?? reason })
  e.reason = reason
  return e
}

/** The error of a statement whose cancel was asked for. */
function afterCancel(reason, e) {
  if (e?.code === '57014') return cancelledError(reason, e)
  if (e?.code === 'ERR_CONNECTION_CLOSED') {
    // The server did not answer in time after the CancelRequest: the driver gave the
    // connection up, and whether the statement ran is unknown.
    const lost = new FerroError('ERR_CONNECTION_CLOSED', `${reason?.message ?? 'cancelled'}; the server did not answer the cancel in time, so the connection was closed: the statement's outcome is unknown`, { cause: e })
    lost.reason = reason
    return lost
  }
  return e
}

/** Checks `{ signal, timeoutMillis }`; returns them or throws ERR_INVALID_ARGUMENT. */
function cancelOptions(options) {
  const signal = options?.signal
  const timeout = options?.timeoutMillis
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new FerroError('ERR_INVALID_ARGUMENT', "'signal' must be an AbortSignal")
  }
  if (timeout !== undefined && !(typeof timeout === 'number' && timeout >= 0 && Number.isFinite(timeout))) {
    throw new FerroError('ERR_INVALID_ARGUMENT', "'timeoutMillis' must be a non-negative number")
  }
  return { signal, timeout }
}

/** Runs `run()` (a statement on `native`) so that the signal or the timeout cancels it. */
async function cancellable(native, options, run) {
  const { signal, timeout } = cancelOptions(options)
  if (!signal && timeout === undefined) return run()
  if (signal?.aborted) throw cancelledError(signal.reason)
  let reason
  let retry = null
  // Statements queued before this operation are not its own: its CancelRequests wait until they
  // have been answered.
  const mark = native.requestsSubmitted
  // CancelRequests not yet processed by the server: the call settles only after them, or one
  // still in flight could cancel the caller's next statement on this connection.
  const sent = []
  let pending = null
  const fire = (r) => {
    if (reason !== undefined) return
    reason = r
    // One CancelRequest at a time: a repeat goes out only once the last one was processed.
    const send = () => {
      if (pending) return
      pending = native.cancelAfter(mark).catch(() => {}).then(() => (pending = null))
      sent.push(pending)
    }
    send()
    retry = setInterval(send, RETRY_MS)
  }
  // The operation calls this before it cleans up (ROLLBACK): no CancelRequest may hit that.
  const quiesce = async () => {
    clearInterval(retry)
    await Promise.all(sent)
  }
  const unwatch = watch({ signal, timeout }, fire)
  try {
    return await run(quiesce)
  } catch (e) {
    if (reason !== undefined && e?.code === '57014') throw cancelledError(reason, e)
    throw e
  } finally {
    unwatch()
    clearInterval(retry)
    await Promise.all(sent)
  }
}

/** The timer and signal listener of one call; `fire(reason)` runs once, on the first. */
function watch({ signal, timeout }, fire) {
  const onAbort = () => fire(signal.reason)
  signal?.addEventListener('abort', onAbort, { once: true })
  const timer =
    timeout === undefined
      ? null
      : setTimeout(() => fire(new FerroError('ERR_QUERY_TIMEOUT', `the statement ran longer than timeoutMillis (${timeout} ms)`)), timeout)
  return () => {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
  }
}

/**
 * Runs one cancellable statement. `start(stopped, submitted)` submits the statement (at once
 * when it can, else after waiting for its turn, unless `stopped()` by then), passes the
 * request `{ id, promise }` to `submitted` as it submits, and returns it (or a promise of it;
 * undefined when it did not submit); `finish(buf)` turns the response buffer into the result
 * (throwing its error).
 */
function cancellableRequest(native, options, start, finish) {
  const opts = cancelOptions(options)
  if (opts.signal?.aborted) return Promise.reject(cancelledError(opts.signal.reason))
  return new Promise((resolve, reject) => {
    let reason
    let req
    let settled = false
    let unwatch = null
    const done = (fn, v) => {
      if (settled) return
      settled = true
      unwatch?.()
      fn(v)
    }
    const fire = (r) => {
      if (reason !== undefined || settled) return
      reason = r
      // Not submitted yet (waiting for its turn on the client): it never will be.
      if (req === undefined) return done(reject, cancelledError(r))
      if (native.cancelRequest(req.id) === NOT_SENT) {
        abandon(req.id)
        done(reject, cancelledError(r))
      }
    }
    unwatch = watch(opts, fire)
    // The request is known from the moment it is submitted, so that a cancel fired right after
    // asks the native side (it may already be on the wire).
    const submitted = (r) => (req = r)
    // Called now, not in a later microtask: a statement submitted at once keeps its place
    // among the calls made after it.
    let started
    try {
      started = start(() => reason !== undefined, submitted)
    } catch (e) {
      return done(reject, e)
    }
    Promise.resolve(started)
      .then(
        (r) => {
          if (r === undefined) return done(reject, cancelledError(reason))
          r.promise.then((buf) => {
            try {
              done(resolve, finish(buf))
            } catch (e) {
              done(reject, reason === undefined ? e : afterCancel(reason, e))
            }
          })
        },
        (e) => done(reject, e),
      )
  })
}

/** One AbortSignal for `{ signal, timeoutMillis }` (copyFrom and COPY streams stop on it). */
function combinedSignal(options) {
  const { signal, timeout } = cancelOptions(options)
  const timed = timeout === undefined ? undefined : AbortSignal.timeout(timeout)
  if (signal && timed) return AbortSignal.any([signal, timed])
  return signal ?? timed
}

module.exports = { cancellable, cancellableRequest, cancelledError, cancelOptions, combinedSignal }
