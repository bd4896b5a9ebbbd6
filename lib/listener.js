'use strict'
// listen/notify: listeners share one dedicated connection per Pool. If it is lost, it is
// reopened with backoff (100 ms doubling to 5 s), every channel is listened to again, and the
// subscriptions' onReconnect callbacks run so the application can catch up on what it missed.
const { FerroError } = require('./errors')

const MAX_BACKOFF = 5000

function quoteChannel(channel) {
  if (typeof channel !== 'string' || channel === '') throw new FerroError('ERR_INVALID_ARGUMENT', 'the channel must be a non-empty string')
  return '"' + channel.replace(/"/g, '""') + '"'
}

class Listener {
  #connect
  #client = null
  #connecting = null
  #channels = new Map() // channel -> Set of subscriptions
  #closed = false

  /** `connect(onEvent)` opens the dedicated connection. */
  constructor(connect) {
    this.#connect = connect
  }

  #dispatch(ev) {
    const subs = this.#channels.get(ev.channel)
    if (!subs) return
    for (const s of subs) s.onNotify({ channel: ev.channel, payload: ev.payload, processId: ev.processId })
  }

  async #ensure() {
    if (this.#client && !this.#client.closed) return this.#client
    this.#connecting ??= this.#connect({
      notification: (ev) => this.#dispatch(ev),
      closed: () => this.#lost(),
    }).then(
      (c) => {
        this.#client = c
        this.#connecting = null
        return c
      },
      (e) => {
        this.#connecting = null
        throw e
      },
    )
    return this.#connecting
  }

  #lost() {
    if (this.#closed) return
    this.#client = null
    let delay = 100
    const retry = async () => {
      if (this.#closed) return
      try {
        const c = await this.#ensure()
        for (const channel of this.#channels.keys()) await c.query(`LISTEN ${quoteChannel(channel)}`)
        for (const subs of this.#channels.values()) for (const s of subs) s.onReconnect?.()
      } catch {
        delay = Math.min(delay * 2, MAX_BACKOFF)
        setTimeout(retry, delay).unref()
      }
    }
    setTimeout(retry, delay).unref()
  }

  async listen(channel, onNotify, options = {}) {
    if (this.#closed) throw new FerroError('ERR_POOL_CLOSED', 'the pool is closed')
    const quoted = quoteChannel(channel)
    if (typeof onNotify !== 'function') throw new FerroError('ERR_INVALID_ARGUMENT', 'listen() needs a callback')
    const c = await this.#ensure()
    let subs = this.#channels.get(channel)
    if (!subs) {
      subs = new Set()
      this.#channels.set(channel, subs)
      try {
        await c.query(`LISTEN ${quoted}`)
      } catch (e) {
        this.#channels.delete(channel)
        throw e
      }
    }
    const sub = { channel, onNotify, onReconnect: options.onReconnect }
    subs.add(sub)
    let active = true
    return {
      channel,
      unlisten: async () => {
        if (!active) return
        active = false
        subs.delete(sub)
        if (subs.size === 0 && this.#channels.get(channel) === subs) {
          this.#channels.delete(channel)
          if (this.#client && !this.#client.closed) await this.#client.query(`UNLISTEN ${quoted}`)
        }
      },
    }
  }

  async close() {
    this.#closed = true
    this.#channels.clear()
    const c = this.#client ?? (await this.#connecting?.catch(() => null))
    this.#client = null
    await c?.close()
  }
}

module.exports = { Listener, quoteChannel }
