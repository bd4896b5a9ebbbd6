//! The password file, as libpq reads it (PostgreSQL docs, "The Password File"): lines of
//! `hostname:port:database:username:password`, `*` matching anything in the first four fields,
//! `\:` and `\\` escaping, `#` starting a comment line, the first matching line winning. A file
//! that group or others can read is ignored (libpq warns and ignores it too). Read for each
//! connection attempt, so that a changed file takes effect without a restart.

use std::path::Path;

/// What a line must match: the connection being opened.
pub struct Target<'a> {
    /// The host as configured (a name, an address, or a socket directory).
    pub host: &'a str,
    /// Also match `localhost` (a Unix socket in the default directory, as libpq does).
    pub localhost_too: bool,
    pub port: u16,
    pub database: &'a str,
    pub user: &'a str,
}

/// Why the file gave no password (for the error when the server then asks for one).
#[derive(Debug, PartialEq, Eq)]
pub enum Miss {
    NoFile,
    /// Readable by group or others: ignored.
    Exposed,
    NoMatch,
}

/// The password of the first line matching `t`.
pub fn lookup(path: &Path, t: &Target<'_>) -> Result<String, Miss> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|_| Miss::NoFile)?;
    if !meta.is_file() {
        return Err(Miss::NoFile);
    }
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(Miss::Exposed);
    }
    let text = std::fs::read_to_string(path).map_err(|_| Miss::NoFile)?;
    find(&text, t).ok_or(Miss::NoMatch)
}

/// The first line of `text` matching `t`.
pub fn find(text: &str, t: &Target<'_>) -> Option<String> {
    let port = t.port.to_string();
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(fields)
        .find(|f| {
            let host_ok =
                matches(&f[0], t.host) || (t.localhost_too && matches(&f[0], "localhost"));
            host_ok && matches(&f[1], &port) && matches(&f[2], t.database) && matches(&f[3], t.user)
        })
        .map(|mut f| f.swap_remove(4))
}

fn matches(field: &str, value: &str) -> bool {
    field == "*" || field == value
}

/// The fields of a line (`\` escapes the next character; the password ends at the next
/// unescaped `:`, as in libpq); `None` for a line with fewer than five.
fn fields(line: &str) -> Option<Vec<String>> {
    let mut out = Vec::with_capacity(5);
    let mut cur = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ':' => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out.truncate(5);
    (out.len() == 5).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target<'a>(host: &'a str, db: &'a str, user: &'a str) -> Target<'a> {
        Target {
            host,
            localhost_too: false,
            port: 5432,
            database: db,
            user,
        }
    }

    #[test]
    fn first_matching_line_with_wildcards_and_escapes() {
        let text = "# comment\n\
                    db.example.com:5432:app:alice:first\n\
                    db.example.com:5432:app:alice:second\n\
                    *:5432:*:bob:b\\:c\\\\d:e\n\
                    short:line\n\
                    *:*:*:*:fallback\n";
        assert_eq!(
            find(text, &target("db.example.com", "app", "alice")).as_deref(),
            Some("first")
        );
        assert_eq!(
            find(text, &target("other", "x", "bob")).as_deref(),
            Some("b:c\\d")
        );
        assert_eq!(
            find(text, &target("h", "d", "carol")).as_deref(),
            Some("fallback")
        );
        let mut t = target("h", "d", "carol");
        t.port = 6543;
        assert_eq!(find("*:5432:*:*:x\n", &t), None);
        assert_eq!(
            find("h\\:x:5432:d:carol:y\n", &target("h:x", "d", "carol")).as_deref(),
            Some("y")
        );
    }

    #[test]
    fn localhost_matches_a_default_socket_directory() {
        let text = "localhost:5432:*:*:local\n";
        let mut t = target("/var/run/postgresql", "d", "u");
        assert_eq!(find(text, &t), None);
        t.localhost_too = true;
        assert_eq!(find(text, &t).as_deref(), Some("local"));
    }

    #[test]
    fn a_file_others_can_read_is_ignored() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("ferropg-pgpass-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("pgpass");
        std::fs::write(&f, "*:*:*:*:pw\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(lookup(&f, &target("h", "d", "u")), Err(Miss::Exposed));
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(lookup(&f, &target("h", "d", "u")).as_deref(), Ok("pw"));
        assert_eq!(
            lookup(&dir.join("none"), &target("h", "d", "u")),
            Err(Miss::NoFile)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
