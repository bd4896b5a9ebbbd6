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
            // Its error's text is not repeated: a function that signs tokens may well put one
            // in it, and ferropg's errors carry no secrets (log inside the function instead).
            let fail = |_: napi::Error| {
                Error::driver(
                    Code::PasswordFunction,
                    "the password function threw, rejected or returned something other than a string (its error is not repeated: it may hold a secret)",
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
