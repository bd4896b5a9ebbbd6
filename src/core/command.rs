//! The `command` of a result (node-postgres's name for the first word of the command tag).
//!
//! tokio-postgres keeps the CommandComplete tag to itself (it exposes only the row count), so
//! the command is read from the statement text: the first keyword, skipping comments; for
//! `WITH ...`, the first keyword after the common table expressions. `VALUES` and `TABLE`
//! report `SELECT`, as the server does.

pub fn command_of(sql: &str) -> String {
    let b = sql.as_bytes();
    let mut i = 0;
    let mut depth = 0i32;
    let mut after_with = false;
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
            let word = sql[start..i].to_ascii_uppercase();
            if depth != 0 {
                continue;
            }
            if !after_with {
                if word == "WITH" {
                    after_with = true;
                    continue;
                }
                return normalize(word);
            }
            if matches!(
                word.as_str(),
                "SELECT" | "INSERT" | "UPDATE" | "DELETE" | "MERGE" | "VALUES" | "TABLE"
            ) {
                return normalize(word);
            }
        } else {
            i += 1;
        }
    }
    String::new()
}

fn normalize(word: String) -> String {
    match word.as_str() {
        "VALUES" | "TABLE" => "SELECT".into(),
        _ => word,
    }
}

#[cfg(test)]
mod tests {
    use super::command_of;

    #[test]
    fn reads_the_command() {
        assert_eq!(command_of("  select 1"), "SELECT");
        assert_eq!(
            command_of("-- hi\n/* x */ insert into t values (1)"),
            "INSERT"
        );
        assert_eq!(
            command_of("WITH a AS (SELECT 1), b(x) AS (select 2) UPDATE t SET x = 1"),
            "UPDATE"
        );
        assert_eq!(
            command_of("with recursive r as (select 1) select * from r"),
            "SELECT"
        );
        assert_eq!(command_of("values (1)"), "SELECT");
        assert_eq!(command_of("create table t ()"), "CREATE");
        assert_eq!(command_of(""), "");
    }
}
