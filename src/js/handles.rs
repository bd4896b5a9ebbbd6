//! Numbered handles for the calls made once per query (`poolSubmitQuery`, `drainInbox`).
//!
//! Why: napi-rs checks the type tag of every class instance a call receives (`&self`, or a
//! `&Class` argument) and records it in a process-wide borrow table for the call's duration.
//! Measured with callgrind on `pool.query`: ~10,000 of its ~75,000 instructions were that
//! bookkeeping for the submitting call and the inbox drain. These two calls take numbers
//! instead, looked up in a table of the JS thread that made the objects (the only thread that
//! calls them).

use std::cell::RefCell;
use std::sync::Arc;
use std::thread::LocalKey;

/// The live objects of one kind made on this thread, by number (slots are reused).
pub struct Table<T>(RefCell<Vec<Option<Arc<T>>>>);

impl<T> Table<T> {
    pub const fn new() -> Self {
        Table(RefCell::new(Vec::new()))
    }

    /// Stores `value`; its number until [`Table::remove`].
    pub fn add(&self, value: Arc<T>) -> u32 {
        let mut slots = self.0.borrow_mut();
        let at = match slots.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                slots.push(None);
                slots.len() - 1
            }
        };
        slots[at] = Some(value);
        at as u32
    }

    pub fn get(&self, n: u32) -> Option<Arc<T>> {
        self.0.borrow().get(n as usize).cloned().flatten()
    }

    pub fn remove(&self, n: u32) {
        if let Some(slot) = self.0.borrow_mut().get_mut(n as usize) {
            *slot = None;
        }
    }
}

/// The object numbered `n` in this thread's `table`; an error names `what` if there is none
/// (a bug in lib/, not a user error).
pub fn find<T>(table: &'static LocalKey<Table<T>>, n: u32, what: &str) -> napi::Result<Arc<T>> {
    table.with(|t| t.get(n)).ok_or_else(|| {
        napi::Error::from_reason(format!(
            "ferropg: no {what} with this handle on this thread"
        ))
    })
}
