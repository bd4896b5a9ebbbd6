//! The only decisions taken from SQL text: those that must be made before anything is sent,
//! when the server cannot have said anything yet. Everything else comes from the server's
//! messages (`core::response`).

use crate::core::error::{Code, Error};

/// True for statements that cannot open or close a transaction: `pool.query` may pipeline them
/// onto a busy connection (`core::lease`). Only a statement that starts with one of these
/// keywords (after whitespace) rides; anything else (comments first, `WITH`, `BEGIN`, ...)
/// borrows a connection of its own. When this errs, the server's transaction status after the
/// statement still decides whether the connection stays in use.
pub fn can_share(sql: &str) -> bool {
    let b = sql.trim_start().as_bytes();
    // One letter more than the longest keyword, so that "SELECTED" is not "SELECT".
    let n = b
        .iter()
        .take(7)
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    let word = &b[..n];
    [
        "SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "TABLE",
    ]
    .iter()
    .any(|k| word.eq_ignore_ascii_case(k.as_bytes()))
}

/// True for `COPY ... FROM STDIN`: once the server has started such a COPY it takes the
/// following messages on the wire as COPY data, so it may only be sent by `copyIn` (which
/// holds the connection), never as a query pipelined with others.
pub fn is_copy_from_stdin(sql: &str) -> bool {
    // Every query passes here: most are told apart without splitting them into words, by a
    // scan that compares a window only where an `s` starts one.
    let b = sql.as_bytes();
    let has_stdin = b.iter().enumerate().any(|(i, &c)| {
        c | 0x20 == b's'
            && b.get(i..i + 5)
                .is_some_and(|w| w.eq_ignore_ascii_case(b"stdin"))
    });
    if !has_stdin {
        return false;
    }
    let words = top_level_words(sql);
    words
        .first()
        .is_some_and(|w| w.eq_ignore_ascii_case("COPY"))
        && words
            .windows(2)
            .any(|p| p[0].eq_ignore_ascii_case("FROM") && p[1].eq_ignore_ascii_case("STDIN"))
}

/// The error of a `COPY ... FROM STDIN` sent as a query (see `sql_text::is_copy_from_stdin`).
pub fn copy_in_only() -> Error {
    Error::driver(
        Code::InvalidArgument,
        "COPY ... FROM STDIN runs through copyIn() (or copyFrom()), not as a query",
    )
}

/// The words of `sql` outside comments, quotes and parentheses.
fn top_level_words(sql: &str) -> Vec<&str> {
    let b = sql.as_bytes();
    let mut words = Vec::new();
    let mut depth = 0i32;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'-' && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if c == b'\'' || c == b'"' {
            i += 1;
            while i < b.len() && b[i] != c {
                i += 1;
            }
            i += 1;
        } else if c == b'(' {
            depth += 1;
            i += 1;
        } else if c == b')' {
            depth -= 1;
            i += 1;
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            if depth == 0 {
                words.push(&sql[start..i]);
            }
        } else {
            i += 1;
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_from_stdin_is_recognised_through_comments_and_options() {
        assert!(is_copy_from_stdin("copy t from stdin"));
        assert!(is_copy_from_stdin(
            "/* load */ COPY s.t (a, b) FROM STDIN WITH (FORMAT csv)"
        ));
        assert!(is_copy_from_stdin("-- x\nCOPY \"from\" FROM\n  stdin"));
        assert!(!is_copy_from_stdin("COPY t TO STDOUT"));
        assert!(!is_copy_from_stdin("COPY (SELECT 'from stdin') TO STDOUT"));
        assert!(!is_copy_from_stdin("COPY t FROM '/tmp/stdin.csv'"));
        assert!(!is_copy_from_stdin("SELECT 1 FROM stdin"));
    }

    #[test]
    fn only_plain_statements_share_a_busy_connection() {
        assert!(can_share("  select 1"));
        assert!(can_share("INSERT INTO t VALUES (1)"));
        assert!(!can_share("BEGIN"));
        assert!(!can_share("/* x */ SELECT 1"));
        assert!(!can_share("WITH a AS (SELECT 1) SELECT * FROM a"));
        assert!(!can_share("SELECTED"));
    }
}
