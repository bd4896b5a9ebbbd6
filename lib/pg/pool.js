'use strict'
// ferropg/pg's Pool: pg-pool's API and events over ferropg/pg Clients. One difference on
// purpose: a client released while the server says it is inside a transaction (or a failed one)
// is closed, not handed to the next borrower.
const EventEmitter = require('node:events')
const { inspect } = require('node:util')
const { redacted } = require('./config')
const { Client } = require('./client')
const { defaults } = require('./types')
const tracing = require('./tracing')

function settleWith(promise, callback) {
  if (typeof callback !== 'function') return promise
  promise.then((r) => callback(undefined, r, r?.release), (e) => callback(e))
  return undefined
}

class Pool extends EventEmitter {
  #idleListeners = new WeakMap()

  constructor(options = {}) {
    super()
    this.options = { ...options }
    if (options.password !== undefined) {
      Object.defineProperty(this.options, 'password', { configurable: true, enumerable: false, writable: true, value: options.password })
    }
    this.options.max = options.max ?? options.poolSize ?? defaults.max
    this.options.min = options.min ?? 0
    this.options.maxUses = options.maxUses ?? Infinity
    this.options.allowExitOnIdle = options.allowExitOnIdle ?? false
    this.options.maxLifetimeSeconds = options.maxLifetimeSeconds ?? 0
    this.options.idleTimeoutMillis = options.idleTimeoutMillis ?? 10000
    this.Client = options.Client ?? Client
    this._clients = []
    this._idle = [] // { client, timer }
    this._pending = [] // { resolve, reject, timer }
    this._expired = new WeakSet()
    this.ending = false
    this.ended = false
  }

  /** inspect(): as pg-pool shows a pool, with the password and TLS key material hidden. */
  [inspect.custom](depth, options, show = inspect) {
    return `Pool ${show({ ...this, options: redacted(this.options) }, { ...options, depth })}`
  }

  get totalCount() { return this._clients.length }
  get idleCount() { return this._idle.length }
  get waitingCount() { return this._pending.length }
  get expiredCount() { return this._clients.filter((c) => this._expired.has(c)).length }

  /** A client: `connect()` resolves with it, `connect((err, client, release) => ...)` calls back. */
  connect(callback) {
    if (this.ending) return settleWith(Promise.reject(new Error('Cannot use a pool after calling end on the pool')), callback)
    if (tracing.poolConnectChannel.hasSubscribers) return settleWith(tracing.tracePoolConnect(this, () => this.#acquire()), callback)
    return settleWith(this.#acquire(), callback)
  }

  #acquire() {
    const idle = this._idle.pop()
    if (idle) {
      clearTimeout(idle.timer)
      return Promise.resolve(this.#handOut(idle.client))
    }
    if (this._clients.length < this.options.max) return this.#open()
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject, timer: null }
      const ms = this.options.connectionTimeoutMillis
      if (ms) {
        waiter.timer = setTimeout(() => {
          this._pending.splice(this._pending.indexOf(waiter), 1)
          reject(new Error('timeout exceeded when trying to connect'))
        }, ms)
      }
      this._pending.push(waiter)
    })
  }

  async #open() {
    const client = new this.Client(this.options)
    this._clients.push(client)
    // Listens only while the client is idle, as pg-pool does: a borrowed client's lost
    // connection is its borrower's to handle (its query rejects), not the pool's 'error'.
    this.#idleListeners.set(client, (err) => {
      // An idle client's connection failed: forget it and tell the pool's listeners.
      err.client = client
      this.#remove(client)
      this.emit('error', err, client)
    })
    client.once('end', () => this.#remove(client))
    let timer
    try {
      const ms = this.options.connectionTimeoutMillis
      const connecting = client.connect()
      await (ms
        ? Promise.race([connecting, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('Connection terminated due to connection timeout')), ms)))])
        : connecting)
    } catch (e) {
      this.#remove(client)
      client.end().catch(() => {})
      throw e
    } finally {
      clearTimeout(timer)
    }
    if (this.options.maxLifetimeSeconds > 0) {
      setTimeout(() => {
        this._expired.add(client)
        const at = this._idle.findIndex((i) => i.client === client)
        if (at !== -1) this.#destroy(client)
      }, this.options.maxLifetimeSeconds * 1000).unref()
    }
    this.emit('connect', client)
    return this.#handOut(client)
  }

  #handOut(client) {
    client.removeListener('error', this.#idleListeners.get(client))
    client._poolUseCount = (client._poolUseCount ?? 0) + 1
    let released = false
    client.release = (err) => {
      if (released) throw new Error('Release called on client which has already been released to the pool.')
      released = true
      this.#release(client, err)
    }
    this.emit('acquire', client)
    return client
  }

  #release(client, err) {
    tracing.publishRelease(client, err)
    this.emit('release', err, client)
    const dirty = client.getTransactionStatus() !== 'I'
    if (err || dirty || !client._queryable || this.ending || this._expired.has(client) || client._poolUseCount >= this.options.maxUses) {
      this.#destroy(client)
      this.#pulse()
      return
    }
    const waiter = this._pending.shift()
    if (waiter) {
      clearTimeout(waiter.timer)
      waiter.resolve(this.#handOut(client))
      return
    }
    client.on('error', this.#idleListeners.get(client))
    const entry = { client, timer: null }
    if (this.options.idleTimeoutMillis > 0) {
      entry.timer = setTimeout(() => {
        this._idle.splice(this._idle.indexOf(entry), 1)
        this.#destroy(client)
      }, this.options.idleTimeoutMillis)
      if (this.options.allowExitOnIdle) entry.timer.unref()
    }
    this._idle.push(entry)
  }

  // A waiter may now open a connection of its own (one was closed).
  #pulse() {
    if (this._pending.length === 0 || this._clients.length >= this.options.max || this.ending) return
    const waiter = this._pending.shift()
    clearTimeout(waiter.timer)
    this.#open().then(waiter.resolve, waiter.reject)
  }

  #remove(client) {
    const at = this._clients.indexOf(client)
    if (at === -1) return
    this._clients.splice(at, 1)
    const idle = this._idle.findIndex((i) => i.client === client)
    if (idle !== -1) {
      clearTimeout(this._idle[idle].timer)
      this._idle.splice(idle, 1)
    }
    tracing.publishRemove(client)
    this.emit('remove', client)
    this.#pulse()
  }

  #destroy(client) {
    this.#remove(client)
    client.end().catch(() => {})
  }

  /** `query(text, values?, callback?)` on a client borrowed for the call, as pg-pool. */
  query(text, values, callback) {
    if (typeof text === 'function') throw new TypeError('Passing a function as the first parameter to pool.query is not supported')
    if (typeof values === 'function') {
      callback = values
      values = undefined
    }
    const run = (async () => {
      const client = await this.connect()
      let result
      try {
        result = await client.query(text, values)
      } catch (e) {
        client.release(e)
        throw e
      }
      client.release()
      return result
    })()
    if (typeof callback !== 'function') return run
    run.then((r) => callback(undefined, r), (e) => callback(e))
    return undefined
  }

  end(callback) {
    if (this.ending) return settleWith(Promise.reject(new Error('Called end on pool more than once')), callback)
    this.ending = true
    const done = (async () => {
      for (const w of this._pending.splice(0)) {
        clearTimeout(w.timer)
        w.reject(new Error('Cannot use a pool after calling end on the pool'))
      }
      const idle = this._idle.splice(0)
      for (const i of idle) clearTimeout(i.timer)
      await Promise.all(idle.map((i) => (this.#remove(i.client), i.client.end().catch(() => {}))))
      // Clients still borrowed are closed when released (`ending`).
      while (this._clients.length > 0) await new Promise((r) => this.once('remove', r))
      this.ended = true
    })()
    if (typeof callback !== 'function') return done
    done.then(() => callback(), callback)
    return undefined
  }
}

module.exports = { Pool }
