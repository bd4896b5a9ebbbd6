//! The driver's behaviour, in pure Rust: no napi here, unit-tested with `cargo test`.

pub mod batch;
pub mod cancel;
pub mod cancel_handle;
pub mod config;
pub mod conn;
pub mod connect;
pub mod connstring;
#[cfg(test)]
mod connstring_test;
pub mod copy;
pub mod copy_from;
pub mod driver;
pub mod error;
pub mod events;
pub mod exec;
pub mod hangup;
pub mod hosts;
#[cfg(test)]
mod hosts_test;
pub mod inflight;
pub mod keys;
pub mod lease;
pub mod passfile;
pub mod pool;
pub mod pool_metrics;
pub mod progress;
pub mod reply;
pub mod response;
#[cfg(test)]
mod response_test;
pub mod result;
pub mod retry;
pub mod script;
pub mod service;
pub mod session;
pub mod sql_text;
pub mod stmt_cache;
pub mod tls;
pub mod tls_files;
pub mod tls_settings;
#[cfg(test)]
mod tls_settings_test;
pub mod tls_verify;
pub mod types;
pub mod wire;
pub mod worker;
