//! ferropg: a PostgreSQL driver for Node.js.
//!
//! Layout (see `docs/architecture.md`):
//! - [`core`]: the behaviour, in pure Rust (configuration, connections, pool, statement cache,
//!   type conversion, wire formats). It never imports napi and is tested with `cargo test`.
//! - `js` (feature `node`): the only `#[napi]` code; parses arguments, calls `core`, and hands
//!   back one buffer per result.
//!
//! Rows cross the boundary once per result: the core writes every value of a result into one
//! buffer, and the JS facade (`lib/`) builds rows from it with a constructor made once per
//! column set. No napi call is made per value.

pub mod core;

#[cfg(feature = "node")]
mod js;
