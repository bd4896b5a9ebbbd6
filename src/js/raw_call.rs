//! The two calls made once per query (`poolSubmitQuery`, `clientSubmitQuery`) as plain
//! Node-API callbacks.
//!
//! Why not `#[napi]`: its generated wrapper costs about 2.6k instructions per call beyond the
//! function's body (a native-borrow scope with its allocations and barriers, and generic
//! argument conversion), measured with callgrind on W1 (`pool.query` in a loop). Read here with
//! one `napi_get_cb_info` and a plain call per argument, the same arguments cost about 1k.
//! Everything else keeps napi-rs: these two take only numbers, a string and a Buffer.

use std::ptr;

use napi::bindgen_prelude::{BufferSlice, FromNapiValue};
use napi::{sys, Env, JsError};

use crate::core::conn::Params;

/// `(handle, sql, params, paramsLength, id, inbox)`, the arguments of both calls.
pub struct SubmitArgs {
    /// The pool's or the client's number (`handles`).
    pub handle: u32,
    pub sql: String,
    /// The first `paramsLength` bytes of the parameter buffer (see `super::params_prefix`).
    pub params: Params,
    /// The request id the response is delivered under.
    pub id: u32,
    /// The completions inbox's number.
    pub inbox: u32,
}

const ARGS: usize = 6;

/// Runs `body` with the call's arguments; an error is thrown as napi-rs would throw it (an
/// `Error` with the status as `code`), so that callers see the same errors as before.
///
/// # Safety
/// `env` and `info` must be the ones Node-API passed to the running callback.
pub unsafe fn submit(
    env: sys::napi_env,
    info: sys::napi_callback_info,
    body: impl FnOnce(SubmitArgs) -> napi::Result<()>,
) -> sys::napi_value {
    // SAFETY: as this function's contract.
    let result = unsafe { read_args(env, info) }.and_then(body);
    if let Err(e) = result {
        // SAFETY: `env` is the running callback's env, on its thread.
        unsafe { JsError::from(e).throw_into(env) };
    }
    ptr::null_mut()
}

/// # Safety
/// As for [`submit`].
unsafe fn read_args(env: sys::napi_env, info: sys::napi_callback_info) -> napi::Result<SubmitArgs> {
    let mut argc = ARGS;
    let mut argv = [ptr::null_mut(); ARGS];
    // SAFETY: `argv` has room for `argc` values; Node-API fills the missing ones with
    // `undefined`, which the conversions below refuse.
    check(unsafe {
        sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            ptr::null_mut(),
            ptr::null_mut(),
        )
    })?;
    // SAFETY: each `argv[i]` is a value of this call, alive for its duration.
    unsafe {
        let length = u32_arg(env, argv[3])?;
        let buffer = BufferSlice::from_napi_value(env, argv[2])?;
        Ok(SubmitArgs {
            handle: u32_arg(env, argv[0])?,
            sql: String::from_napi_value(env, argv[1])?,
            params: super::params_prefix(&Env::from_raw(env), buffer, length)?,
            id: u32_arg(env, argv[4])?,
            inbox: u32_arg(env, argv[5])?,
        })
    }
}

/// # Safety
/// `value` must be a live value of `env`, on its thread.
unsafe fn u32_arg(env: sys::napi_env, value: sys::napi_value) -> napi::Result<u32> {
    let mut n = 0;
    // SAFETY: as this function's contract.
    check(unsafe { sys::napi_get_value_uint32(env, value, &mut n) })?;
    Ok(n)
}

fn check(status: sys::napi_status) -> napi::Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::new(
            napi::Status::InvalidArg,
            format!("ferropg: a submit call's argument has the wrong type (napi status {status})"),
        ))
    }
}

/// Sets `exports[name]` to the Node-API callback `cb`.
///
/// # Safety
/// `env` and `exports` must be the module's, during its registration.
pub unsafe fn define(
    env: sys::napi_env,
    exports: sys::napi_value,
    name: &std::ffi::CStr,
    cb: unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value,
) -> napi::Result<()> {
    let mut func = ptr::null_mut();
    // SAFETY: `name` is NUL-terminated (length -1: NAPI_AUTO_LENGTH); `cb` has Node-API's
    // signature.
    unsafe {
        check(sys::napi_create_function(
            env,
            name.as_ptr(),
            -1,
            Some(cb),
            ptr::null_mut(),
            &mut func,
        ))?;
        check(sys::napi_set_named_property(
            env,
            exports,
            name.as_ptr(),
            func,
        ))
    }
}
