'use strict'
// `signal` and `timeoutMillis`: when either fires, the driver sends a CancelRequest so the
// server really stops the statement; the call then rejects with ERR_QUERY_CANCELLED and the
// server's 57014 as `cause`. The request is repeated every half second until the statement
// ends (a statement still queued behind others is not running yet when the first one lands),
// and the call settles only once every request sent has been processed by the server.
const { FerroError } = require('./errors')

const RETRY_MS = 500

function cancelledError(reason, cause) {
  const timeout = reason instanceof FerroError && reason.code === 'ERR_QUERY_TIMEOUT'
  // `cause` is the server's 57014 when the server stopped a statement, else the reason.
  const e = new FerroError('ERR_QUERY_CANCELLED', timeout ? reason.message : 'the statement was cancelled by its signal', { cause: cause ?? reason })
  e.reason = reason
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
  // CancelRequests not yet processed by the server: the call settles only after them, or one
  // still in flight could cancel the caller's next statement on this connection.
  const sent = []
  const fire = (r) => {
    if (reason !== undefined) return
    reason = r
    const send = () => sent.push(native.cancel().catch(() => {}))
    send()
    retry = setInterval(send, RETRY_MS)
  }
  const onAbort = () => fire(signal.reason)
  signal?.addEventListener('abort', onAbort, { once: true })
  const timer =
    timeout === undefined
      ? null
      : setTimeout(() => fire(new FerroError('ERR_QUERY_TIMEOUT', `the statement ran longer than timeoutMillis (${timeout} ms)`)), timeout)
  try {
    return await run()
  } catch (e) {
    if (reason !== undefined && e?.code === '57014') throw cancelledError(reason, e)
    throw e
  } finally {
    clearTimeout(timer)
    clearInterval(retry)
    signal?.removeEventListener('abort', onAbort)
    await Promise.all(sent)
  }
}

/** One AbortSignal for `{ signal, timeoutMillis }` (copyFrom and COPY streams stop on it). */
function combinedSignal(options) {
  const { signal, timeout } = cancelOptions(options)
  const timed = timeout === undefined ? undefined : AbortSignal.timeout(timeout)
  if (signal && timed) return AbortSignal.any([signal, timed])
  return signal ?? timed
}

module.exports = { cancellable, cancelledError, cancelOptions, combinedSignal }
