//! The napi surface: translation only. Every async method resolves with a response buffer
//! (`core::wire`): success or an error with all its fields, which `lib/errors.js` turns into
//! a real JS error created on the caller's stack.

mod client;
mod password;
mod pool;

use napi::bindgen_prelude::Buffer;

use crate::core::error::Error;
use crate::core::result::error_buffer;

fn error_response(e: &Error) -> Buffer {
    Buffer::from(error_buffer(e))
}

fn respond(r: crate::core::error::Result<Vec<u8>>) -> Buffer {
    match r {
        Ok(b) => Buffer::from(b),
        Err(e) => error_response(&e),
    }
}
