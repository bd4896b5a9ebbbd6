'use strict'
// Connection events from the native side (src/js/events.rs): notifications, notices, closed.
const { responseError } = require('./errors')

const NOTIFICATION = 1
const NOTICE = 2
const CLOSED = 3

function str(buf, p) {
  const n = buf.readUInt32LE(p)
  return [buf.toString('utf8', p + 4, p + 4 + n), p + 4 + n]
}

/** `{ kind: 'notification', channel, payload, processId }`, `{ kind: 'notice', notice }` or `{ kind: 'closed' }`. */
function decodeEvent(buf) {
  switch (buf[0]) {
    case NOTIFICATION: {
      const [channel, p1] = str(buf, 1)
      const [payload, p2] = str(buf, p1)
      return { kind: 'notification', channel, payload, processId: buf.readInt32LE(p2) }
    }
    case NOTICE: {
      const notice = responseError(buf.subarray(1))
      notice.name = 'Notice'
      return { kind: 'notice', notice }
    }
    default:
      return { kind: buf[0] === CLOSED ? 'closed' : 'unknown' }
  }
}

/** The native events callback for `handlers` ({ notification, notice, closed }); errors thrown by user code are rethrown asynchronously. */
function eventsCallback(handlers) {
  return (buf) => {
    const ev = decodeEvent(buf)
    const h = handlers[ev.kind]
    if (!h) return
    try {
      h(ev.kind === 'notice' ? ev.notice : ev)
    } catch (e) {
      // A listener's own error must not be lost, nor break the driver: surface it like an
      // EventEmitter listener error would.
      process.nextTick(() => {
        throw e
      })
    }
  }
}

module.exports = { decodeEvent, eventsCallback }
