//! The connection service file, as libpq reads it (PostgreSQL docs, "The Connection Service
//! File"): INI-style groups of connection settings, found by `service=name` or `PGSERVICE`, in
//! `PGSERVICEFILE` (default `~/.pg_service.conf`) and then in `PGSYSCONFDIR/pg_service.conf`
//! (default `/etc/postgresql-common`, Debian's libpq location). The first file that defines the
//! service supplies it; its settings rank below the connection string and above the PG*
//! variables.

use std::path::PathBuf;

use crate::core::error::{Error, Result};
use crate::core::keys::canonical;

/// The settings of service `name`, and the file they came from.
pub fn settings(
    name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Vec<(String, String)>, PathBuf)> {
    let user_file = env("PGSERVICEFILE")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".pg_service.conf")));
    let system_file =
        PathBuf::from(env("PGSYSCONFDIR").unwrap_or_else(|| "/etc/postgresql-common".to_string()))
            .join("pg_service.conf");
    for file in user_file.into_iter().chain([system_file]) {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        if let Some(found) = parse(&text, name, &file)? {
            return Ok((found, file));
        }
    }
    Err(Error::config(format!(
        "definition of service \"{name}\" not found (looked in PGSERVICEFILE or ~/.pg_service.conf, then PGSYSCONFDIR/pg_service.conf)"
    )))
}

/// The settings of group `[name]` in `text`, if it has one.
pub fn parse(
    text: &str,
    name: &str,
    file: &std::path::Path,
) -> Result<Option<Vec<(String, String)>>> {
    let mut in_group = false;
    let mut found = None::<Vec<(String, String)>>;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(group) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            if in_group {
                break;
            }
            in_group = group == name;
            if in_group {
                found = Some(Vec::new());
            }
            continue;
        }
        if !in_group {
            continue;
        }
        let syntax = |what: &str| {
            Error::config(format!(
                "{what} in service file \"{}\", line {}",
                file.display(),
                i + 1
            ))
        };
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| syntax("syntax error (expected key=value)"))?;
        let key = key.trim();
        if key == "service" {
            return Err(syntax("nested service specifications not supported"));
        }
        if canonical(key).is_none() {
            return Err(syntax(&format!("unknown setting '{key}'")));
        }
        if let Some(f) = found.as_mut() {
            f.push((key.to_string(), value.trim().to_string()));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_group_and_refuses_what_libpq_refuses() {
        let f = std::path::Path::new("/x/pg_service.conf");
        let text = "# services\n[other]\nhost=o\n\n[app]\nhost=db.example.com\nport = 6432\ndbname=app\nsslmode=verify-full\n[later]\nhost=l\n";
        let s = parse(text, "app", f).unwrap().unwrap();
        assert_eq!(
            s,
            vec![
                ("host".to_string(), "db.example.com".to_string()),
                ("port".to_string(), "6432".to_string()),
                ("dbname".to_string(), "app".to_string()),
                ("sslmode".to_string(), "verify-full".to_string()),
            ]
        );
        assert_eq!(parse(text, "missing", f).unwrap(), None);
        let e = parse("[a]\nservice=b\n", "a", f).unwrap_err();
        assert!(e.to_string().contains("nested service"), "{e}");
        let e = parse("[a]\nbogus=1\n", "a", f).unwrap_err();
        assert!(
            e.to_string().contains("'bogus'") && e.to_string().contains("line 2"),
            "{e}"
        );
        let e = parse("[a]\nhost\n", "a", f).unwrap_err();
        assert!(e.to_string().contains("syntax error"), "{e}");
    }

    #[test]
    fn user_file_first_then_the_system_file() {
        let dir = std::env::temp_dir().join(format!("ferropg-service-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("user.conf"), "[a]\nhost=user\n").unwrap();
        std::fs::write(
            dir.join("pg_service.conf"),
            "[a]\nhost=system\n[b]\nhost=sys-b\n",
        )
        .unwrap();
        let d = dir.clone();
        let env = move |k: &str| match k {
            "PGSERVICEFILE" => Some(d.join("user.conf").display().to_string()),
            "PGSYSCONFDIR" => Some(d.display().to_string()),
            _ => None,
        };
        assert_eq!(settings("a", &env).unwrap().0[0].1, "user");
        assert_eq!(settings("b", &env).unwrap().0[0].1, "sys-b");
        let e = settings("c", &env).unwrap_err();
        assert!(e.to_string().contains("service \"c\" not found"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
