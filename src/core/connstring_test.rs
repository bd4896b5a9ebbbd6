//! Connection strings (URL and key=value) resolved into a `Config` (see `connstring`).

use crate::core::config::{Config, Host, SslMode};
use crate::core::error::Result;
use std::time::Duration;

fn resolve(s: &str) -> Result<Config> {
    Config::resolve(&[], Some(s), &|_| None)
}

#[test]
fn url_with_everything() {
    let c = resolve("postgresql://al%40ice:p%3Ass@db.example:6543/my%20db?application_name=app&connect_timeout=7&options=-c%20statement_timeout%3D5").unwrap();
    assert_eq!(c.user, "al@ice");
    assert_eq!(c.password.as_deref(), Some("p:ss"));
    assert_eq!(c.endpoints[0].host, Host::Tcp("db.example".into()));
    assert_eq!(c.endpoints[0].port, 6543);
    assert_eq!(c.dbname, "my db");
    assert_eq!(c.application_name.as_deref(), Some("app"));
    assert_eq!(c.connect_timeout, Some(Duration::from_secs(7)));
    assert_eq!(c.options.as_deref(), Some("-c statement_timeout=5"));
}

#[test]
fn url_socket_ipv6_and_multi_host() {
    let c = resolve("postgres://u@%2Fvar%2Frun%2Fpostgresql/db").unwrap();
    assert_eq!(
        c.endpoints[0].host,
        Host::Unix("/var/run/postgresql".into())
    );
    let c = resolve("postgres://u@[::1]:5433/db").unwrap();
    assert_eq!(c.endpoints[0].host, Host::Tcp("::1".into()));
    assert_eq!(c.endpoints[0].port, 5433);
    let c = resolve("postgres://u@a:1,b:2/db").unwrap();
    let ports: Vec<u16> = c.endpoints.iter().map(|e| e.port).collect();
    assert_eq!(ports, vec![1, 2]);
    let c = resolve("postgres:///db?host=/tmp&user=x").unwrap();
    assert_eq!(c.endpoints[0].host, Host::Unix("/tmp".into()));
    assert_eq!(c.user, "x");
}

#[test]
fn key_value_strings() {
    let c = resolve(
        "host=localhost port = 5000 user=bob password='it''s' dbname='a b\\'c' sslmode=disable",
    )
    .unwrap_err();
    // `'it''s'` is not libpq syntax: the stray quote leaves a key without '='.
    assert!(c.to_string().contains("expected '='"), "{c}");
    let c = resolve(
        "host=localhost port = 5000 user=bob password='it\\'s' dbname='a b' sslmode=disable",
    )
    .unwrap();
    assert_eq!(c.endpoints[0].port, 5000);
    assert_eq!(c.password.as_deref(), Some("it's"));
    assert_eq!(c.dbname, "a b");
    assert_eq!(c.tls.mode, SslMode::Disable);
}

#[test]
fn a_malformed_url_is_not_repeated_with_its_password() {
    for s in [
        "postgres:/u:Secr3t-x@h/db",
        "u:Secr3t-x@h/db",
        "postgres//u:Secr3t-x@h/db",
        "host=h u:Secr3t-x@h",
    ] {
        let e = resolve(s).unwrap_err().to_string();
        assert!(!e.contains("Secr3t"), "{s}: {e}");
    }
    // A plain wrong key is still named.
    let e = resolve("hots=h").unwrap_err().to_string();
    assert!(e.contains("'hots'"), "{e}");
}
