//! The two calls made once per query (`poolSubmitQuery`, `clientSubmitQuery`) as plain
//! Node-API callbacks, whose arguments mostly do not cross as JS values.
//!
//! Why not `#[napi]`: its generated wrapper costs about 2.6k instructions per call beyond the
//! function's body (a native-borrow scope with its allocations and barriers, and generic
//! argument conversion), measured with callgrind on W1 (`pool.query` in a loop).
//!
//! Why no arguments: reading six of them through Node-API still cost ~1.4k instructions per
//! query (W1), ~600 of them the SQL text (its UTF-8 length, a copy, an allocation) and ~260 the
//! parameter buffer. Now (lib/completions.js `queryRequest`):
//! - the numbers (handle, request id, inbox, parameter length, the SQL's number) are written
//!   by JS into a small header buffer registered once per thread (`submitHead`);
//! - the parameters are at the start of lib/params.js's scratch buffer, registered again
//!   whenever it is replaced (`submitScratch`); larger ones (beyond `COPY_PARAMS_MAX`) come as
//!   a buffer of their own, the call's second argument;
//! - a SQL text is sent once and named by the number it gets after (`internSql`), for the
//!   first `SQL_TEXTS` texts of a thread; any other comes as the call's first argument.
//!
//! One thread may run several copies of lib/ over this one addon (Jest gives every test file
//! its own module registry; the addon is loaded once per process). They share this thread's
//! state without mixing it up: `submitHead` hands every copy the same header buffer; the
//! native side numbers the SQL texts, so a number means one text whichever copy asked; and a
//! copy whose scratch buffer is not the registered one (`CURRENT`, written here when one is
//! registered, differs from the registration it got) registers it again before it submits.

use std::cell::{Cell, RefCell};
use std::ptr;

use napi::bindgen_prelude::{BufferSlice, FromNapiValue, JsValue};
use napi::{sys, Env, JsError};

use crate::core::conn::Params;

/// `(handle, sql, params, id, inbox)`, what both calls receive.
pub struct SubmitArgs {
    /// The pool's or the client's number (`handles`).
    pub handle: u32,
    pub sql: String,
    /// A copy of the parameters, or their own buffer (see `super::params`).
    pub params: Params,
    /// The request id the response is delivered under.
    pub id: u32,
    /// The completions inbox's number.
    pub inbox: u32,
}

/// The header's words (u32, native byte order: JS writes them through a Uint32Array).
const HANDLE: usize = 0;
const ID: usize = 1;
const INBOX: usize = 2;
/// The parameters' length in bytes.
const LENGTH: usize = 3;
/// The SQL's number (`internSql`), or `SQL_ARGUMENT`: the text is the call's first argument.
const SQL: usize = 4;
/// 1: the parameters are the call's second argument (a buffer of their own), not in the
/// scratch buffer.
const OWN: usize = 5;
/// Written here: the registration number of the scratch buffer registered last.
const CURRENT: usize = 6;
const WORDS: usize = 8;
const SQL_ARGUMENT: u32 = u32::MAX;
/// How many SQL texts a thread numbers (each at most 2,048 characters: lib/completions.js).
const SQL_TEXTS: usize = 1024;

/// A JS buffer whose memory the native side reads, kept alive by a reference.
#[derive(Clone, Copy)]
struct Pinned {
    data: *const u8,
    len: usize,
    reference: sys::napi_ref,
}

const UNSET: Pinned = Pinned {
    data: ptr::null(),
    len: 0,
    reference: ptr::null_mut(),
};

thread_local! {
    // Per JS thread: each (main or worker) has its own buffers and texts.
    static HEAD: Cell<Pinned> = const { Cell::new(UNSET) };
    static SCRATCH: Cell<Pinned> = const { Cell::new(UNSET) };
    /// The registration number of `SCRATCH` (0: none yet).
    static SCRATCH_NO: Cell<u32> = const { Cell::new(0) };
    static TEXTS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Keeps the Buffer `value` alive and records where its memory is, in `slot` (on the JS
/// thread, during a call); the buffer it replaces is released.
///
/// # Safety
/// `value` must be a live value of `env`, on its thread.
unsafe fn pin(
    env: sys::napi_env,
    slot: &'static std::thread::LocalKey<Cell<Pinned>>,
    value: sys::napi_value,
    min: usize,
) -> napi::Result<()> {
    let raw = env;
    let mut data = ptr::null_mut();
    let mut len = 0;
    let mut reference = ptr::null_mut();
    // SAFETY: `value` is a live Buffer value of this env, on its thread (the contract); the
    // reference created here keeps it (and so its memory) alive until it is replaced.
    unsafe {
        check(sys::napi_get_buffer_info(raw, value, &mut data, &mut len))?;
        if len < min {
            return Err(napi::Error::from_reason(
                "ferropg: a submit buffer is too small",
            ));
        }
        check(sys::napi_create_reference(raw, value, 1, &mut reference))?;
    }
    let old = slot.with(|s| {
        s.replace(Pinned {
            data: data as *const u8,
            len,
            reference,
        })
    });
    if !old.reference.is_null() {
        // SAFETY: a reference this thread created in `pin`, deleted once.
        unsafe { sys::napi_delete_reference(raw, old.reference) };
    }
    Ok(())
}

/// The first `N` arguments of a Node-API call; Node-API fills the missing ones with
/// `undefined`, which the conversions that read them refuse.
///
/// # Safety
/// `env` and `info` must be those of the Node-API callback running now.
unsafe fn args<const N: usize>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> napi::Result<[sys::napi_value; N]> {
    let mut argc = N;
    let mut argv = [ptr::null_mut(); N];
    // SAFETY: `argv` has room for `argc` values; `env` and `info` as the function's contract.
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
    Ok(argv)
}

/// `submitHead(candidate)`: this thread's header buffer, the one the submit calls read. The
/// first call registers `candidate` (a Buffer of at least `WORDS` words); every call returns
/// the registered one, so that every copy of lib/ in the thread writes the same header. A
/// plain Node-API callback (it returns a value napi-rs has no type for), registered in
/// `super::exports`.
///
/// # Safety
/// Called by Node-API only, with its `env` and `info`.
pub unsafe extern "C" fn submit_head(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: `env` and `info` are this callback's (the contract).
    let result = (|| -> napi::Result<sys::napi_value> {
        unsafe {
            if HEAD.with(Cell::get).data.is_null() {
                let [candidate] = args::<1>(env, info)?;
                pin(env, &HEAD, candidate, WORDS * 4)?;
            }
            let mut value = ptr::null_mut();
            check(sys::napi_get_reference_value(
                env,
                HEAD.with(Cell::get).reference,
                &mut value,
            ))?;
            Ok(value)
        }
    })();
    match result {
        Ok(value) => value,
        Err(e) => {
            // SAFETY: `env` is the running callback's env, on its thread.
            unsafe { JsError::from(e).throw_into(env) };
            ptr::null_mut()
        }
    }
}

/// Registers lib/params.js's scratch buffer, where the parameters of the next submit are;
/// returns its registration number, also written into the header's `CURRENT` word.
#[napi_derive::napi(js_name = "submitScratch")]
pub fn submit_scratch(env: &Env, buf: BufferSlice) -> napi::Result<u32> {
    let head = HEAD.with(Cell::get);
    if head.data.is_null() {
        return Err(napi::Error::from_reason(
            "ferropg: no submit header registered",
        ));
    }
    // SAFETY: `buf.raw()` is a live Buffer value of this call.
    unsafe { pin(env.raw(), &SCRATCH, buf.raw(), 0)? };
    let n = SCRATCH_NO.with(|c| {
        let n = c.get().wrapping_add(1).max(1);
        c.set(n);
        n
    });
    // SAFETY: `head` is the pinned header's memory, at least WORDS words (checked when it was
    // pinned), alive while its reference is; written on the JS thread, where JS writes it too,
    // never during this call.
    unsafe { ptr::write_unaligned((head.data as *mut u32).add(CURRENT), n) };
    Ok(n)
}

/// Numbers the SQL text `sql` for this thread's submit calls: its number, or `SQL_ARGUMENT`
/// once `SQL_TEXTS` texts are numbered (it is then passed as a string).
#[napi_derive::napi(js_name = "internSql")]
pub fn intern_sql(sql: String) -> u32 {
    TEXTS.with(|t| {
        let mut t = t.borrow_mut();
        if t.len() >= SQL_TEXTS {
            return SQL_ARGUMENT;
        }
        t.push(sql);
        (t.len() - 1) as u32
    })
}

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
    let head = HEAD.with(Cell::get);
    if head.data.is_null() {
        return Err(napi::Error::from_reason(
            "ferropg: no submit header registered",
        ));
    }
    // SAFETY: `head` is the memory of the pinned header buffer, at least WORDS words long
    // (checked when `submit_head` pinned it), alive as long as its reference, which is never
    // replaced (one header per thread); JS writes it on this same thread, never during this
    // call. Unaligned reads: nothing promises the buffer's alignment.
    let word = |i: usize| unsafe { ptr::read_unaligned(head.data.cast::<u32>().add(i)) };
    let (sql_no, own) = (word(SQL), word(OWN) != 0);
    let argv = if sql_no == SQL_ARGUMENT || own {
        // SAFETY: `env` and `info` are this call's (the caller's contract).
        unsafe { args::<2>(env, info)? }
    } else {
        [ptr::null_mut(); 2]
    };
    let sql = if sql_no == SQL_ARGUMENT {
        // SAFETY: a value of this call, alive for its duration.
        unsafe { String::from_napi_value(env, argv[0])? }
    } else {
        TEXTS
            .with(|t| t.borrow().get(sql_no as usize).cloned())
            .ok_or_else(|| napi::Error::from_reason("ferropg: unknown SQL number"))?
    };
    let length = word(LENGTH) as usize;
    let params: Params = if own {
        // SAFETY: a value of this call, alive for its duration.
        let buf = unsafe { BufferSlice::from_napi_value(env, argv[1])? };
        if buf.len() != length {
            return Err(napi::Error::from_reason(
                "ferropg: parameter length beyond its buffer",
            ));
        }
        super::params(&Env::from_raw(env), buf)?
    } else {
        let scratch = SCRATCH.with(Cell::get);
        if scratch.data.is_null() || length > scratch.len || length > super::COPY_PARAMS_MAX {
            return Err(napi::Error::from_reason(
                "ferropg: parameter length beyond its buffer",
            ));
        }
        // SAFETY: `scratch` is the memory of the pinned scratch buffer (as `head` above), and
        // `length` is within it (checked). The next query writes it again: copied now.
        Box::new(unsafe { std::slice::from_raw_parts(scratch.data, length) }.to_vec())
    };
    Ok(SubmitArgs {
        handle: word(HANDLE),
        sql,
        params,
        id: word(ID),
        inbox: word(INBOX),
    })
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
