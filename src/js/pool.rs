//! `NativePool`: the napi face of `core::pool::Pool`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::{Buffer, BufferSlice, Either};
use napi::Env;
use napi_derive::napi;

use super::client::NativeClient;
use super::completions::Completions;
use super::error_response;
use super::events::{EventsFn, JsEvents};
use super::local;
use super::loop_driver;
use super::password::{JsPassword, PasswordFn};
use super::resolve_config;
use crate::core::config::Transport;
use crate::core::driver::Driver;
use crate::core::events::Events;
use crate::core::lease::Leases;
use crate::core::pool::{PasswordSource, Pool};

#[napi]
pub struct NativePool {
    /// Runs this pool's connections and its `pool.query` tasks.
    driver: Arc<dyn Driver>,
    pool: Arc<Pool>,
    leases: Arc<Leases>,
    reaper: AtomicBool,
}

/// `pool.stats()`.
#[napi(object)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub waiting: u32,
    pub max: u32,
}

#[napi]
impl NativePool {
    /// Validates the configuration; opens no connection.
    #[napi(constructor)]
    pub fn new(
        env: Env,
        settings: HashMap<String, String>,
        conn_string: Option<String>,
        password: Option<PasswordFn>,
        events: Option<EventsFn>,
    ) -> napi::Result<Self> {
        let config = resolve_config(settings, conn_string)
            .map_err(|e| napi::Error::new(napi::Status::InvalidArg, e.to_string()))?;
        let source = password.map(|f| Arc::new(JsPassword(f)) as Arc<dyn PasswordSource>);
        let events = events.map(|f| Arc::new(JsEvents(f)) as Arc<dyn Events>);
        let driver = loop_driver::driver(&env, config.transport.unwrap_or(Transport::Loop))?;
        let pool = Pool::new(config, source, events, driver.clone())
            .map_err(|e| napi::Error::new(napi::Status::InvalidArg, e.to_string()))?;
        Ok(NativePool {
            driver,
            pool: Arc::new(pool),
            leases: Arc::default(),
            reaper: AtomicBool::new(false),
        })
    }

    fn touch(&self) {
        if !self.reaper.swap(true, Ordering::Relaxed) {
            self.pool.start_reaper();
        }
    }

    /// Runs one query on a pooled connection; the response goes to `inbox` under `id`.
    #[napi(js_name = "submitQuery")]
    pub fn query(
        &self,
        env: &Env,
        sql: String,
        params: BufferSlice,
        id: u32,
        inbox: &Completions,
    ) -> napi::Result<()> {
        let params = super::params(env, params)?;
        let reply = inbox.reply(id);
        local::submit(|| {
            // Riding a busy connection needs no task; borrowing one does.
            if let Some(borrow) = self.leases.query(&self.pool, sql, params, reply) {
                let pool = self.pool.clone();
                let start_reaper = !self.reaper.swap(true, Ordering::Relaxed);
                self.driver.spawn(Box::pin(async move {
                    // The reaper needs the runtime: started from inside the task.
                    if start_reaper {
                        pool.start_reaper();
                    }
                    borrow.await
                }))
            }
        });
        Ok(())
    }

    /// Borrows a connection until `release()`.
    #[napi(ts_return_type = "Promise<NativeClient | Buffer>")]
    pub async fn connect(&self) -> Either<NativeClient, Buffer> {
        self.touch();
        match self.pool.get().await {
            Ok(o) => Either::A(NativeClient::pooled(o)),
            Err(e) => Either::B(error_response(&e)),
        }
    }

    #[napi]
    pub fn stats(&self) -> PoolStats {
        let s = self.pool.stats();
        PoolStats {
            size: s.size as u32,
            idle: s.idle as u32,
            waiting: s.waiting as u32,
            max: s.max as u32,
        }
    }

    /// Closes idle connections now and the others when they are released.
    #[napi]
    pub fn close(&self) {
        self.pool.close();
    }
}
