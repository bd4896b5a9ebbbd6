//! Connection events to JS: one buffer per event through a weak ThreadsafeFunction (an idle
//! listener never keeps the process alive). `lib/events.js` decodes them.

use napi::bindgen_prelude::Buffer;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;

use crate::core::error::Error;
use crate::core::events::Events;
use crate::core::result::error_buffer;
use crate::core::wire::Writer;

pub type EventsFn = ThreadsafeFunction<Buffer, (), Buffer, Status, false, true>;

const NOTIFICATION: u8 = 1;
const NOTICE: u8 = 2;
const CLOSED: u8 = 3;

pub struct JsEvents(pub EventsFn);

impl JsEvents {
    fn send(&self, w: Writer) {
        self.0
            .call(Buffer::from(w.buf), ThreadsafeFunctionCallMode::NonBlocking);
    }
}

impl Events for JsEvents {
    fn notification(&self, channel: &str, payload: &str, process_id: i32) {
        let mut w = Writer::with_capacity(16 + channel.len() + payload.len());
        w.u8(NOTIFICATION);
        w.str(channel);
        w.str(payload);
        w.i32(process_id);
        self.send(w);
    }

    fn notice(&self, notice: Error) {
        let mut w = Writer::with_capacity(256);
        w.u8(NOTICE);
        w.buf.extend_from_slice(&error_buffer(&notice));
        self.send(w);
    }

    fn closed(&self) {
        let mut w = Writer::with_capacity(1);
        w.u8(CLOSED);
        self.send(w);
    }
}
