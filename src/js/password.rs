//! A user's password function, called on the JS thread for every new connection with the
//! server and role it is for.

use std::future::Future;
use std::pin::Pin;

use napi::bindgen_prelude::Promise;
use napi::threadsafe_function::ThreadsafeFunction;
use napi::Status;
use napi_derive::napi;

use crate::core::connect::{PasswordSource, PasswordTarget};
use crate::core::error::{Code, Error, Result};

/// What the password function receives: `{ host, port, user, database }`.
#[napi(object)]
pub struct PasswordRequest {
    /// The host as configured (a name, an address or a socket directory).
    pub host: String,
    pub port: u32,
    pub user: String,
    pub database: String,
}

/// Weak: a pool that only holds a password function does not keep the process alive.
pub type PasswordFn =
    ThreadsafeFunction<PasswordRequest, Promise<String>, PasswordRequest, Status, false, true>;

pub struct JsPassword(pub PasswordFn);

impl PasswordSource for JsPassword {
    fn password(
        &self,
        t: PasswordTarget,
    ) -> Pin<Box<dyn Future<Output = Result<String>> + Send + '_>> {
        Box::pin(async move {
            let fail = |e: napi::Error| {
                Error::driver(
                    Code::PasswordFunction,
                    format!("the password function failed: {}", e.reason),
                )
            };
            let request = PasswordRequest {
                host: t.host,
                port: t.port.into(),
                user: t.user,
                database: t.database,
            };
            let promise = self.0.call_async(request).await.map_err(fail)?;
            promise.await.map_err(fail)
        })
    }
}
