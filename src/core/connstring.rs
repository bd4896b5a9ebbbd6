//! Connection strings: `postgres://` / `postgresql://` URLs and libpq `key=value` strings,
//! parsed into (key, value) pairs that `config::Config::resolve` validates. Keys are checked
//! here too, so an unknown key is reported with the string it came from; a password is never
//! echoed in an error.

use crate::core::error::{Error, Result};
use crate::core::keys::canonical;

/// Parses a `postgres://` / `postgresql://` URL or a libpq `key=value` string into pairs.
pub fn parse_conn_string(s: &str) -> Result<Vec<(String, String)>> {
    let t = s.trim();
    if let Some(rest) = t
        .strip_prefix("postgres://")
        .or_else(|| t.strip_prefix("postgresql://"))
    {
        parse_url(rest)
    } else if t.contains("://") {
        Err(Error::config(
            "the connection URL must start with postgres:// or postgresql://",
        ))
    } else {
        parse_key_value(t)
    }
}

/// A word where a setting name was expected, as an error shows it: a malformed URL lands here
/// whole (`postgres:/user:password@host`), so only what looks like a name is repeated.
fn shown_key(key: &str) -> String {
    let name_like = !key.is_empty()
        && key.len() <= 64
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    if name_like {
        format!("'{key}'")
    } else {
        "a word that is not a setting name (not repeated: it may hold a password)".to_string()
    }
}

fn decode(part: &str, what: &str) -> Result<String> {
    percent_encoding::percent_decode_str(part)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| {
            Error::config(format!(
                "the connection URL's {what} is not valid UTF-8 after percent-decoding"
            ))
        })
}

fn parse_url(rest: &str) -> Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    let (main, query) = match rest.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match main.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (main, None),
    };
    let (userinfo, hostlist) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    if let Some(u) = userinfo {
        let (user, pw) = match u.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (u, None),
        };
        if !user.is_empty() {
            out.push(("user".into(), decode(user, "user name")?));
        }
        if let Some(p) = pw {
            // Never echo the password, even in a decoding error.
            out.push(("password".into(), decode(p, "password")?));
        }
    }
    if !hostlist.is_empty() {
        let mut hosts = Vec::new();
        let mut ports = Vec::new();
        for spec in hostlist.split(',') {
            let (h, p) = if let Some(v6) = spec.strip_prefix('[') {
                let (addr, after) = v6.split_once(']').ok_or_else(|| {
                    Error::config(format!(
                        "the connection URL has an unclosed '[' in host '{spec}'"
                    ))
                })?;
                (addr.to_string(), after.strip_prefix(':'))
            } else {
                match spec.rsplit_once(':') {
                    Some((h, p)) => (decode(h, "host")?, Some(p)),
                    None => (decode(spec, "host")?, None),
                }
            };
            hosts.push(h);
            ports.push(p.unwrap_or("").to_string());
        }
        if hosts.iter().any(|h| !h.is_empty()) {
            out.push(("host".into(), hosts.join(",")));
        }
        if ports.iter().any(|p| !p.is_empty()) {
            let ports: Vec<String> = ports
                .into_iter()
                .map(|p| if p.is_empty() { "5432".to_string() } else { p })
                .collect();
            out.push(("port".into(), ports.join(",")));
        }
    }
    if let Some(p) = path.filter(|p| !p.is_empty()) {
        out.push(("dbname".into(), decode(p, "database name")?));
    }
    if let Some(q) = query {
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').ok_or_else(|| {
                Error::config(format!(
                    "the connection URL's query part '{}' has no '='",
                    redact_pair(pair)
                ))
            })?;
            let k = decode(k, "query key")?;
            if canonical(&k).is_none() {
                return Err(Error::config(format!(
                    "unknown connection setting '{k}' in the URL"
                )));
            }
            // Query parameters override the authority part, as in libpq.
            out.retain(|(existing, _)| canonical(existing) != canonical(&k));
            out.push((k, decode(v, "query value")?));
        }
    }
    Ok(out)
}

fn redact_pair(pair: &str) -> &str {
    if pair.starts_with("password") {
        "password"
    } else {
        pair
    }
}

fn parse_key_value(s: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(Error::config(format!(
                "connection string: expected '=' after {} (format is key=value key2='quoted value', or a URL starting with postgres:// or postgresql://)",
                shown_key(&key)
            )));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '\'' => {
                        closed = true;
                        break;
                    }
                    c => value.push(c),
                }
            }
            if !closed {
                return Err(Error::config(format!(
                    "connection string: the quoted value of '{key}' has no closing quote"
                )));
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        value.push(n);
                    }
                } else {
                    value.push(c);
                }
            }
        }
        if canonical(&key).is_none() {
            return Err(Error::config(format!(
                "unknown connection setting {}",
                shown_key(&key)
            )));
        }
        out.push((key, value));
    }
    Ok(out)
}
