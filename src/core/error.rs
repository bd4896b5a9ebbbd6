//! The driver's error model: a server error with every field PostgreSQL sent, or a driver
//! error with a stable string code. `src/js` turns both into real JS error objects.

use std::fmt;

use fallible_iterator::FallibleIterator;
use postgres_protocol::message::backend::ErrorResponseBody;

/// Fields of a server `ErrorResponse`, named as node-postgres names them on `DatabaseError`.
#[derive(Debug, Clone, Default)]
pub struct DbFields {
    pub message: String,
    pub severity: String,
    pub code: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    pub position: Option<u32>,
    pub internal_position: Option<u32>,
    pub internal_query: Option<String>,
    pub where_: Option<String>,
    pub schema: Option<String>,
    pub table: Option<String>,
    pub column: Option<String>,
    pub data_type: Option<String>,
    pub constraint: Option<String>,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub routine: Option<String>,
}

/// Every code a driver error can carry (also the `DriverErrorCode` union of `index.d.ts`,
/// which a test keeps in step; the JS facade adds a few of its own there).
/// The unnamed-statement counterpart of the server's "cached plan must not change result
/// type": what a statement was described with no longer holds (see `exec::check_columns`).
pub(crate) const STALE_COLUMNS: &str = "the statement's result columns changed since it was described (a schema change); it is described again on its next use";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    ClientClosed,
    Connection,
    ConnectionClosed,
    CopyEnded,
    Decode,
    InvalidArgument,
    InvalidConfig,
    InvalidParameter,
    PasswordFunction,
    PipelineAborted,
    PoolClosed,
    PoolTimeout,
    Protocol,
    Tls,
    UnsupportedType,
}

impl Code {
    /// Every code, for the test that checks `index.d.ts`.
    pub const ALL: &'static [Code] = &[
        Code::ClientClosed,
        Code::Connection,
        Code::ConnectionClosed,
        Code::CopyEnded,
        Code::Decode,
        Code::InvalidArgument,
        Code::InvalidConfig,
        Code::InvalidParameter,
        Code::PasswordFunction,
        Code::PipelineAborted,
        Code::PoolClosed,
        Code::PoolTimeout,
        Code::Protocol,
        Code::Tls,
        Code::UnsupportedType,
    ];

    /// The stable string JS sees as `err.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::ClientClosed => "ERR_CLIENT_CLOSED",
            Code::Connection => "ERR_CONNECTION",
            Code::ConnectionClosed => "ERR_CONNECTION_CLOSED",
            Code::CopyEnded => "ERR_COPY_ENDED",
            Code::Decode => "ERR_DECODE",
            Code::InvalidArgument => "ERR_INVALID_ARGUMENT",
            Code::InvalidConfig => "ERR_INVALID_CONFIG",
            Code::InvalidParameter => "ERR_INVALID_PARAMETER",
            Code::PasswordFunction => "ERR_PASSWORD_FUNCTION",
            Code::PipelineAborted => "ERR_PIPELINE_ABORTED",
            Code::PoolClosed => "ERR_POOL_CLOSED",
            Code::PoolTimeout => "ERR_POOL_TIMEOUT",
            Code::Protocol => "ERR_PROTOCOL",
            Code::Tls => "ERR_TLS",
            Code::UnsupportedType => "ERR_UNSUPPORTED_TYPE",
        }
    }
}

/// Every failure the core reports.
#[derive(Debug, Clone)]
pub enum Error {
    /// The server rejected something (SQLSTATE in `code`).
    Db(Box<DbFields>),
    /// The driver rejected something or lost the connection; `code` is stable (`ERR_*`).
    Driver {
        code: Code,
        message: String,
        /// A statement that failed this way certainly did not run (see [`Error::unrun`]).
        unrun: bool,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn driver(code: Code, message: impl Into<String>) -> Self {
        Error::Driver {
            code,
            message: message.into(),
            unrun: false,
        }
    }

    /// Marks an `ERR_CONNECTION_CLOSED` as certainly before the statement ran: its request
    /// was never sent, or the server's FATAL came before any answer to it (a backend ends a
    /// statement it was running by answering it or with a FATAL, after the answers already
    /// produced: buffered output goes out ahead of the FATAL). Other errors are returned as
    /// they are. `pool.query` retries such a statement once on another connection.
    pub fn unrun(self) -> Self {
        match self {
            Error::Driver {
                code: Code::ConnectionClosed,
                message,
                ..
            } => Error::Driver {
                code: Code::ConnectionClosed,
                message,
                unrun: true,
            },
            e => e,
        }
    }

    /// See [`Error::unrun`].
    pub fn is_unrun(&self) -> bool {
        matches!(self, Error::Driver { unrun: true, .. })
    }

    /// Is this the error after which a cached statement must be re-prepared?
    pub fn is_stale_statement(&self) -> bool {
        match self {
            Error::Db(d) => {
                d.code == "26000"
                    || (d.code == "0A000"
                        && d.message
                            .contains("cached plan must not change result type"))
            }
            Error::Driver { code, message, .. } => {
                *code == Code::Protocol && message == STALE_COLUMNS
            }
        }
    }

    pub fn config(message: impl Into<String>) -> Self {
        Self::driver(Code::InvalidConfig, message)
    }

    /// A message from the server that could not be read.
    pub fn malformed(e: impl fmt::Display) -> Self {
        Self::driver(
            Code::Protocol,
            format!("malformed message from the server: {e}"),
        )
    }

    pub fn param(message: impl Into<String>) -> Self {
        Self::driver(Code::InvalidParameter, message)
    }

    /// The SQLSTATE of a server error, if this is one.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            Error::Db(f) => Some(&f.code),
            Error::Driver { .. } => None,
        }
    }

    pub fn code(&self) -> &str {
        match self {
            Error::Db(f) => &f.code,
            Error::Driver { code, .. } => code.as_str(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Db(d) => write!(f, "{}", d.message),
            Error::Driver { message, .. } => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// A notice: the same fields as an error.
    pub fn from_notice(db: &tokio_postgres::error::DbError) -> Self {
        db_error(db)
    }

    /// An error while connecting: server errors (wrong password, unknown database) stay
    /// DatabaseErrors even though the server sends them as FATAL.
    pub fn from_connect(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => db_error(db),
            None => e.into(),
        }
    }
}

impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Self {
        if let Some(db) = e.as_db_error() {
            // FATAL/PANIC on an established session end it (pg_terminate_backend, shutdown,
            // idle timeouts): the connection is gone, whatever statement was running.
            if matches!(db.severity(), "FATAL" | "PANIC") {
                return Error::driver(
                    Code::ConnectionClosed,
                    format!(
                        "the server closed the connection: {} ({})",
                        db.message(),
                        db.code().code()
                    ),
                );
            }
            return db_error(db);
        }
        if e.is_closed() {
            return Error::driver(
                Code::ConnectionClosed,
                "the connection to the server is closed",
            );
        }
        // A message from the server that could not be read: the protocol is out of step (the
        // kinds are private; their texts are tokio-postgres's Display of Kind::Parse and
        // Kind::UnexpectedMessage).
        let text = e.to_string();
        if text.starts_with("error parsing response from server")
            || text.starts_with("unexpected message from server")
        {
            return match std::error::Error::source(&e) {
                Some(cause) => Error::driver(Code::Protocol, format!("{text}: {cause}")),
                None => Error::driver(Code::Protocol, text),
            };
        }
        // tokio-postgres never puts the password into its messages; they name the failing step
        // ("authentication error", ...) and the cause says why.
        match std::error::Error::source(&e) {
            Some(cause) => Error::driver(Code::Connection, format!("{e}: {cause}")),
            None => Error::driver(Code::Connection, e.to_string()),
        }
    }
}

impl Error {
    /// A server's ErrorResponse, read from its fields. FATAL and PANIC end the session: they
    /// become `ERR_CONNECTION_CLOSED` (as `From<tokio_postgres::Error>` does).
    pub fn from_response(body: &ErrorResponseBody) -> Error {
        let mut d = DbFields::default();
        let mut fatal = false;
        let mut fields = body.fields();
        while let Ok(Some(f)) = fields.next() {
            let v = String::from_utf8_lossy(f.value_bytes()).into_owned();
            let num = || v.parse::<u32>().ok();
            match f.type_() {
                b'S' => d.severity = v,
                // The severity that is never translated: what decides a FATAL.
                b'V' => fatal = matches!(v.as_str(), "FATAL" | "PANIC"),
                b'C' => d.code = v,
                b'M' => d.message = v,
                b'D' => d.detail = Some(v),
                b'H' => d.hint = Some(v),
                b'P' => d.position = num(),
                b'p' => d.internal_position = num(),
                b'q' => d.internal_query = Some(v),
                b'W' => d.where_ = Some(v),
                b's' => d.schema = Some(v),
                b't' => d.table = Some(v),
                b'c' => d.column = Some(v),
                b'd' => d.data_type = Some(v),
                b'n' => d.constraint = Some(v),
                b'F' => d.file = Some(v),
                b'L' => d.line = num(),
                b'R' => d.routine = Some(v),
                _ => {}
            }
        }
        if fatal || matches!(d.severity.as_str(), "FATAL" | "PANIC") {
            return Error::driver(
                Code::ConnectionClosed,
                format!(
                    "the server closed the connection: {} ({})",
                    d.message, d.code
                ),
            );
        }
        Error::Db(Box::new(advise(d)))
    }
}

/// A statement ferropg prepared by name (tokio-postgres names them `s0`, `s1`, ...) that the
/// server does not have, or has twice: what a transaction-mode pooler in front of the server
/// does to named statements. The server's message is kept; the advice is added to it and to
/// the hint (the server gives none for these).
fn advise(mut d: DbFields) -> DbFields {
    let ours = d
        .message
        .strip_prefix("prepared statement \"s")
        .and_then(|rest| rest.split_once('"'))
        .is_some_and(|(digits, _)| {
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        });
    if ours && (d.code == "26000" || d.code == "42P05") && d.hint.is_none() {
        let advice = "ferropg prepares statements by name on each connection; behind a pooler in transaction mode (PgBouncer, Supavisor) that name may not be there: set prepare: false";
        d.message = format!("{} ({advice})", d.message);
        d.hint = Some(advice.to_string());
    }
    d
}

fn db_error(db: &tokio_postgres::error::DbError) -> Error {
    use tokio_postgres::error::ErrorPosition;
    let (position, internal_position, internal_query) = match db.position() {
        Some(ErrorPosition::Original(p)) => (Some(*p), None, None),
        Some(ErrorPosition::Internal { position, query }) => {
            (None, Some(*position), Some(query.clone()))
        }
        None => (None, None, None),
    };
    Error::Db(Box::new(advise(DbFields {
        message: db.message().to_string(),
        severity: db.severity().to_string(),
        code: db.code().code().to_string(),
        detail: db.detail().map(str::to_string),
        hint: db.hint().map(str::to_string),
        position,
        internal_position,
        internal_query,
        where_: db.where_().map(str::to_string),
        schema: db.schema().map(str::to_string),
        table: db.table().map(str::to_string),
        column: db.column().map(str::to_string),
        data_type: db.datatype().map(str::to_string),
        constraint: db.constraint().map(str::to_string),
        file: db.file().map(str::to_string),
        line: db.line(),
        routine: db.routine().map(str::to_string),
    })))
}

#[cfg(test)]
mod code_tests {
    use super::Code;

    #[test]
    fn every_driver_code_is_in_the_typescript_union() {
        let dts = include_str!("../../index.d.ts");
        let start = dts
            .find("export type DriverErrorCode")
            .expect("index.d.ts declares DriverErrorCode");
        let union = &dts[start..start + dts[start..].find("\n\n").unwrap_or(dts.len() - start)];
        for code in Code::ALL {
            assert!(
                union.contains(&format!("'{}'", code.as_str())),
                "{} is missing from DriverErrorCode in index.d.ts",
                code.as_str()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_closed_connection_is_marked_unrun() {
        let closed = Error::driver(Code::ConnectionClosed, "gone");
        assert!(!closed.is_unrun());
        let marked = closed.unrun();
        assert!(marked.is_unrun());
        assert_eq!(
            (marked.code(), marked.to_string()),
            ("ERR_CONNECTION_CLOSED", "gone".into())
        );
        // A refused parameter or a server error is what it is: never a reason to run again.
        assert!(!Error::param("bad $1").unrun().is_unrun());
        let db = Error::Db(Box::new(DbFields {
            code: "57014".into(),
            ..Default::default()
        }));
        assert!(!db.unrun().is_unrun());
    }
}
