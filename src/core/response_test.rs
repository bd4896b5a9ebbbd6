//! Byte-fixture tests of the one response reader (`core::response`).

use bytes::BytesMut;
use fallible_iterator::FallibleIterator;
use postgres_protocol::message::backend::Message;

use crate::core::error::Error;
use crate::core::response::*;

/// One backend message: tag, length, body.
fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
    v.extend_from_slice(body);
    v
}
fn cstr(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}
fn complete(tag: &str) -> Vec<u8> {
    msg(b'C', &cstr(tag))
}
fn ready(status: u8) -> Vec<u8> {
    msg(b'Z', &[status])
}
fn data_row(values: &[Option<&[u8]>]) -> Vec<u8> {
    let mut b = (values.len() as u16).to_be_bytes().to_vec();
    for v in values {
        match v {
            Some(v) => {
                b.extend_from_slice(&(v.len() as i32).to_be_bytes());
                b.extend_from_slice(v);
            }
            None => b.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }
    msg(b'D', &b)
}
fn row_description(names: &[&str]) -> Vec<u8> {
    let mut b = (names.len() as u16).to_be_bytes().to_vec();
    for n in names {
        b.extend(cstr(n));
        b.extend_from_slice(&0u32.to_be_bytes()); // table
        b.extend_from_slice(&0i16.to_be_bytes()); // column
        b.extend_from_slice(&25u32.to_be_bytes()); // text
        b.extend_from_slice(&(-1i16).to_be_bytes());
        b.extend_from_slice(&(-1i32).to_be_bytes());
        b.extend_from_slice(&0i16.to_be_bytes());
    }
    msg(b'T', &b)
}
fn error(severity: &str, code: &str, message: &str) -> Vec<u8> {
    let mut b = Vec::new();
    for (t, v) in [
        (b'S', severity),
        (b'V', severity),
        (b'C', code),
        (b'M', message),
    ] {
        b.push(t);
        b.extend(cstr(v));
    }
    b.push(b'D');
    b.extend(cstr("some detail"));
    b.push(0);
    msg(b'E', &b)
}
fn notice() -> Vec<u8> {
    let mut b = vec![b'S'];
    b.extend(cstr("NOTICE"));
    b.push(b'M');
    b.extend(cstr("hello"));
    b.push(0);
    msg(b'N', &b)
}
fn parameter_status() -> Vec<u8> {
    let mut b = cstr("TimeZone");
    b.extend(cstr("UTC"));
    msg(b'S', &b)
}

/// What a request's bytes say, as `index:event` strings.
fn read(parts: &[Vec<u8>]) -> Vec<String> {
    let mut buf = BytesMut::from(&parts.concat()[..]);
    let mut t = Tracker::default();
    let mut out = Vec::new();
    while let Some(m) = Message::parse(&mut buf).unwrap() {
        if let Some((i, e)) = t.step(m).unwrap() {
            out.push(match e {
                Event::Columns(c) => {
                    format!("{i}:columns {}", c.fields().count().unwrap())
                }
                Event::Row(r) => format!("{i}:row {}", r.ranges().count().unwrap()),
                Event::Done(tag) => format!("{i}:done {tag}"),
                Event::Failed(e) => format!("{i}:failed {} {}", e.code(), e),
                Event::CopyIn => format!("{i}:copy in"),
                Event::CopyOut => format!("{i}:copy out"),
                Event::CopyData(d) => format!("{i}:data {}", d.len()),
                Event::Ready(s) => format!("{i}:ready {}", s.name()),
            });
        }
    }
    assert!(buf.is_empty(), "every byte is a whole message");
    out
}

const PARSE_COMPLETE: [u8; 5] = [b'1', 0, 0, 0, 4];
const BIND_COMPLETE: [u8; 5] = [b'2', 0, 0, 0, 4];

#[test]
fn rows_then_the_tag_then_the_status() {
    let v = read(&[
        PARSE_COMPLETE.to_vec(),
        BIND_COMPLETE.to_vec(),
        data_row(&[Some(b"\0\0\0\x01"), None]),
        data_row(&[Some(b"\0\0\0\x02"), Some(b"x")]),
        complete("SELECT 2"),
        ready(b'I'),
    ]);
    assert_eq!(v, ["0:row 2", "0:row 2", "0:done SELECT 2", "1:ready idle"]);
}

#[test]
fn an_error_mid_batch_answers_its_statement_and_the_rest_get_nothing() {
    // Three statements, one Sync: the second fails, the third is skipped by the server.
    let v = read(&[
        BIND_COMPLETE.to_vec(),
        complete("INSERT 0 1"),
        BIND_COMPLETE.to_vec(),
        error("ERROR", "42P01", "relation \"nope\" does not exist"),
        ready(b'I'),
    ]);
    assert_eq!(
        v,
        [
            "0:done INSERT 0 1",
            "1:failed 42P01 relation \"nope\" does not exist",
            "2:ready idle"
        ]
    );
}

#[test]
fn an_error_after_partial_rows_fails_that_statement_in_a_transaction() {
    let v = read(&[
        BIND_COMPLETE.to_vec(),
        data_row(&[Some(b"1")]),
        data_row(&[Some(b"2")]),
        error("ERROR", "22012", "division by zero"),
        ready(b'E'),
    ]);
    assert_eq!(
        v,
        [
            "0:row 1",
            "0:row 1",
            "0:failed 22012 division by zero",
            "1:ready inError"
        ]
    );
}

#[test]
fn notices_and_parameter_status_between_results_say_nothing_about_statements() {
    // tokio-postgres's framing hands these to the connection, not to the request; should
    // one reach a request, it must not shift which statement the next message answers.
    let v = read(&[
        row_description(&["a"]),
        notice(),
        data_row(&[Some(b"x")]),
        complete("SELECT 1"),
        parameter_status(),
        complete("SET"),
        ready(b'T'),
    ]);
    assert_eq!(
        v,
        [
            "0:columns 1",
            "0:row 1",
            "0:done SELECT 1",
            "1:done SET",
            "2:ready inTransaction"
        ]
    );
}

#[test]
fn a_script_answers_statement_by_statement_and_an_empty_query_has_an_empty_tag() {
    let v = read(&[
        complete("BEGIN"),
        msg(b'I', &[]),
        row_description(&["a", "b"]),
        data_row(&[Some(b"1"), Some(b"2")]),
        complete("SELECT 1"),
        ready(b'T'),
    ]);
    assert_eq!(
        v,
        [
            "0:done BEGIN",
            "1:done ",
            "2:columns 2",
            "2:row 2",
            "2:done SELECT 1",
            "3:ready inTransaction"
        ]
    );
}

#[test]
fn a_copy_start_and_its_data() {
    let mut copy_out = vec![0u8];
    copy_out.extend_from_slice(&1u16.to_be_bytes());
    copy_out.extend_from_slice(&0u16.to_be_bytes());
    let v = read(&[
        msg(b'H', &copy_out),
        msg(b'd', b"1\tone\n"),
        msg(b'c', &[]),
        complete("COPY 1"),
        msg(b'G', &copy_out),
        error("ERROR", "57014", "COPY from stdin failed: not supported"),
        ready(b'I'),
    ]);
    assert_eq!(
        v,
        [
            "0:copy out",
            "0:data 6",
            "0:done COPY 1",
            "1:copy in",
            "1:failed 57014 COPY from stdin failed: not supported",
            "2:ready idle"
        ]
    );
}

#[test]
fn a_fatal_error_ends_the_session_without_ready_for_query() {
    let v = read(&[
        BIND_COMPLETE.to_vec(),
        data_row(&[Some(b"1")]),
        error(
            "FATAL",
            "57P01",
            "terminating connection due to administrator command",
        ),
    ]);
    assert_eq!(v.len(), 2);
    assert!(v[1].starts_with(
        "0:failed ERR_CONNECTION_CLOSED the server closed the connection: terminating connection"
    ));
}

#[test]
fn server_error_fields_are_kept() {
    let mut buf = BytesMut::from(&error("ERROR", "23505", "duplicate key")[..]);
    let Some(Message::ErrorResponse(body)) = Message::parse(&mut buf).unwrap() else {
        panic!("not an ErrorResponse")
    };
    match Error::from_response(&body) {
        Error::Db(d) => {
            assert_eq!(
                (d.severity.as_str(), d.code.as_str(), d.message.as_str()),
                ("ERROR", "23505", "duplicate key")
            );
            assert_eq!(d.detail.as_deref(), Some("some detail"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn tags_give_command_and_rows() {
    assert_eq!(
        (tag_command("INSERT 0 3"), tag_rows("INSERT 0 3")),
        ("INSERT", Some(3))
    );
    assert_eq!(
        (tag_command("SELECT 5"), tag_rows("SELECT 5")),
        ("SELECT", Some(5))
    );
    assert_eq!(
        (tag_command("MERGE 2"), tag_rows("MERGE 2")),
        ("MERGE", Some(2))
    );
    assert_eq!(
        (tag_command("CREATE TABLE"), tag_rows("CREATE TABLE")),
        ("CREATE", None)
    );
    assert_eq!((tag_command("DO"), tag_rows("DO")), ("DO", None));
    assert_eq!((tag_command(""), tag_rows("")), ("", None));
    // The largest count a tag can hold, one past it, and what is not a count.
    assert_eq!(tag_rows("SELECT 18446744073709551615"), Some(u64::MAX));
    assert_eq!(tag_rows("SELECT 18446744073709551616"), None);
    assert_eq!(tag_rows("SELECT "), None);
    assert_eq!(tag_rows("SELECT 1x"), None);
    assert_eq!(tag_rows("COPY 1200"), Some(1200));
    assert_eq!(tag_command("ALTER TABLE"), "ALTER");
}
