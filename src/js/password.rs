//! A user's password function, called on the JS thread for every new connection.

use std::future::Future;
use std::pin::Pin;

use napi::bindgen_prelude::Promise;
use napi::threadsafe_function::ThreadsafeFunction;
use napi::Status;

use crate::core::error::{Code, Error, Result};
use crate::core::pool::PasswordSource;

/// Weak: a pool that only holds a password function does not keep the process alive.
pub type PasswordFn = ThreadsafeFunction<(), Promise<String>, (), Status, false, true>;

pub struct JsPassword(pub PasswordFn);

impl PasswordSource for JsPassword {
    fn password(&self) -> Pin<Box<dyn Future<Output = Result<String>> + Send + '_>> {
        Box::pin(async move {
            let fail = |e: napi::Error| {
                Error::driver(
                    Code::PasswordFunction,
                    format!("the password function failed: {}", e.reason),
                )
            };
            let promise = self.0.call_async(()).await.map_err(fail)?;
            promise.await.map_err(fail)
        })
    }
}
