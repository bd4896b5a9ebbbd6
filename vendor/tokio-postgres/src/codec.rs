use bytes::{Buf, Bytes, BytesMut};
use fallible_iterator::FallibleIterator;
use postgres_protocol::message::backend;
use postgres_protocol::message::frontend::CopyData;
use std::io;
use tokio_util::codec::{Decoder, Encoder};

/// ferropg: the longest backend message accepted (1 GiB, PostgreSQL's MaxAllocSize, and room
/// for the header).
const MAX_MESSAGE_LEN: usize = (1 << 30) + 1024;

pub enum FrontendMessage {
    Raw(Bytes),
    CopyData(CopyData<Box<dyn Buf + Send>>),
}

pub enum BackendMessage {
    Normal {
        messages: BackendMessages,
        request_complete: bool,
    },
    Async(backend::Message),
}

pub struct BackendMessages(pub(crate) BytesMut);

impl BackendMessages {
    pub fn empty() -> BackendMessages {
        BackendMessages(BytesMut::new())
    }
}

impl FallibleIterator for BackendMessages {
    type Item = backend::Message;
    type Error = io::Error;

    fn next(&mut self) -> io::Result<Option<backend::Message>> {
        backend::Message::parse(&mut self.0)
    }
}

/// ferropg patch: the codec records the status byte of every `ReadyForQuery` it frames, so the
/// client can tell whether the session is idle, in a transaction block or in a failed one.
#[derive(Default)]
pub struct PostgresCodec {
    pub(crate) transaction_status: std::sync::Arc<std::sync::atomic::AtomicU8>,
    /// ferropg patch: the session's parameters as the server last reported them
    /// (ParameterStatus), recorded when framed, so before anything the server sent after them.
    pub(crate) parameters: std::sync::Arc<parking_lot::Mutex<std::collections::HashMap<String, String>>>,
    /// ferropg patch: why the stream could not be framed (a malformed message length), once
    /// it could not: the requests in flight report it instead of a closed connection.
    pub(crate) fault: std::sync::Arc<std::sync::OnceLock<String>>,
}

impl Encoder<FrontendMessage> for PostgresCodec {
    type Error = io::Error;

    fn encode(&mut self, item: FrontendMessage, dst: &mut BytesMut) -> io::Result<()> {
        match item {
            FrontendMessage::Raw(buf) => dst.extend_from_slice(&buf),
            FrontendMessage::CopyData(data) => data.write(dst),
        }

        Ok(())
    }
}

impl Decoder for PostgresCodec {
    type Item = BackendMessage;
    type Error = io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BackendMessage>, io::Error> {
        let r = self.frame(src);
        if let Err(e) = &r {
            let _ = self.fault.set(e.to_string());
        }
        r
    }
}

impl PostgresCodec {
    fn frame(&mut self, src: &mut BytesMut) -> Result<Option<BackendMessage>, io::Error> {
        let mut idx = 0;
        let mut request_complete = false;

        while let Some(header) = backend::Header::parse(&src[idx..])? {
            let len = header.len() as usize + 1;
            // ferropg: PostgreSQL builds each message in at most 1 GiB (MaxAllocSize); a
            // longer one is refused as soon as its header arrives, not buffered while its
            // bytes do (a broken or hostile server could claim 2 GiB).
            if len > MAX_MESSAGE_LEN {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("a message of {len} bytes from the server, beyond what PostgreSQL sends"),
                ));
            }
            if src[idx..].len() < len {
                break;
            }

            match header.tag() {
                backend::NOTICE_RESPONSE_TAG
                | backend::NOTIFICATION_RESPONSE_TAG
                | backend::PARAMETER_STATUS_TAG => {
                    if idx == 0 {
                        let message = backend::Message::parse(src)?.unwrap();
                        if let backend::Message::ParameterStatus(body) = &message {
                            let name = body.name()?.to_string();
                            let value = body.value()?.to_string();
                            self.parameters.lock().insert(name, value);
                        }
                        return Ok(Some(BackendMessage::Async(message)));
                    } else {
                        break;
                    }
                }
                _ => {}
            }

            idx += len;

            if header.tag() == backend::READY_FOR_QUERY_TAG {
                // Tag (1 byte) and length (4) precede the status byte; `len` covers all 6.
                if let Some(status) = src.get(idx - 1) {
                    self.transaction_status
                        .store(*status, std::sync::atomic::Ordering::Relaxed);
                }
                request_complete = true;
                break;
            }
        }

        if idx == 0 {
            Ok(None)
        } else {
            Ok(Some(BackendMessage::Normal {
                messages: BackendMessages(src.split_to(idx)),
                request_complete,
            }))
        }
    }
}
