//! The napi surface: translation only. Every async method resolves with a response buffer
//! (`core::wire`): success or an error with all its fields, which `lib/errors.js` turns into
//! a real JS error created on the caller's stack.

mod allocator;
mod client;
mod completions;
mod copy;
mod events;
mod handles;
mod local;
mod loop_driver;
mod password;
mod pool;
mod raw_call;
mod uv;
mod uv_stream;

use napi::bindgen_prelude::{Buffer, BufferSlice};
use napi::Env;

use std::collections::HashMap;

use crate::core::config::Config;
use crate::core::conn::Params;
use crate::core::error::Error;
use crate::core::result::error_buffer;

/// Resolves settings, a connection string and the process environment into a `Config`.
fn resolve_config(
    settings: HashMap<String, String>,
    conn_string: Option<String>,
) -> crate::core::error::Result<Config> {
    let pairs: Vec<(String, String)> = settings.into_iter().collect();
    Config::resolve(&pairs, conn_string.as_deref(), &|k| std::env::var(k).ok())
}

fn error_response(e: &Error) -> Buffer {
    Buffer::from(error_buffer(e))
}

/// Up to this size a query's parameters are copied (see `params`).
const COPY_PARAMS_MAX: usize = 64 * 1024;

/// A query's encoded parameters, kept until the query runs. Small ones (nearly all) are copied:
/// a memcpy of a few bytes costs less than the reference that keeps a JS buffer alive (created
/// here, deleted on the JS thread later); large ones are kept by reference, not copied.
fn params(env: &Env, buf: BufferSlice) -> napi::Result<Params> {
    if buf.len() <= COPY_PARAMS_MAX {
        Ok(Box::new(buf.to_vec()))
    } else {
        Ok(Box::new(buf.into_buffer(env)?))
    }
}

/// Adds the per-query calls made as plain Node-API callbacks (see `raw_call`).
#[napi_derive::napi(module_exports)]
pub fn exports(exports: napi::bindgen_prelude::Object, env: Env) -> napi::Result<()> {
    allocator::configure();
    let (env, exports) = (env.raw(), napi::JsValue::value(&exports).value);
    // SAFETY: the module's env and exports object, during its registration.
    unsafe {
        raw_call::define(env, exports, c"poolSubmitQuery", pool::pool_submit_query)?;
        raw_call::define(env, exports, c"submitHead", raw_call::submit_head)?;
        raw_call::define(
            env,
            exports,
            c"clientSubmitQuery",
            client::client_submit_query,
        )
    }
}

/// One runtime worker: a query's task and the connection's protocol task then run on the same
/// thread, so a round trip costs the two JS-thread handoffs and no hop between workers.
/// FERROPG_WORKER_THREADS overrides it (for measurements).
#[napi_derive::module_init]
fn init() {
    let workers = std::env::var("FERROPG_WORKER_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build();
    // If building fails, napi falls back to its default runtime.
    if let Ok(rt) = rt {
        napi::bindgen_prelude::create_custom_tokio_runtime(rt);
    }
}
