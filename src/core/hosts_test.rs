//! Host, hostaddr and port lists, target_session_attrs, load balancing and TCP settings, as
//! libpq reads them.

use std::time::Duration;

use crate::core::config::{Config, Host};
use crate::core::hosts::{Endpoint, Keepalive, SessionAttrs, DEFAULT_KEEPALIVE};

fn resolve(s: &str) -> crate::core::error::Result<Config> {
    Config::resolve(&[], Some(s), &|_| None)
}

fn ep(host: Host, name: &str, port: u16) -> Endpoint {
    Endpoint {
        host,
        name: name.to_string(),
        port,
    }
}

#[test]
fn host_and_hostaddr_lists() {
    let c = resolve("host=a,b hostaddr=10.0.0.1, port=1,2").unwrap();
    assert_eq!(
        c.endpoints,
        vec![
            ep(Host::Tcp("10.0.0.1".into()), "a", 1),
            ep(Host::Tcp("b".into()), "b", 2)
        ]
    );
    let c = resolve("hostaddr=127.0.0.1 port=7").unwrap();
    assert_eq!(
        c.endpoints,
        vec![ep(Host::Tcp("127.0.0.1".into()), "127.0.0.1", 7)]
    );
    let c = resolve("postgres://u@a,b:6000,/d?host=x,y,/tmp").unwrap();
    assert_eq!(c.endpoints.len(), 3);
    assert_eq!(c.endpoints[2].host, Host::Unix("/tmp".into()));
    assert_eq!(c.endpoints[0].describe(), "x:5432");
    let e = resolve("host=a,b hostaddr=10.0.0.1").unwrap_err();
    assert!(e.to_string().contains("same number"), "{e}");
    let e = resolve("hostaddr=db.example").unwrap_err();
    assert!(e.to_string().contains("numeric IP addresses"), "{e}");
    let e = resolve("host=a,b,c port=1,2").unwrap_err();
    assert!(e.to_string().contains("2 ports for 3 hosts"), "{e}");
}

#[test]
fn session_attrs_and_load_balancing() {
    assert_eq!(
        resolve("host=a").unwrap().target_session_attrs,
        SessionAttrs::Any
    );
    for (v, a) in [
        ("read-write", SessionAttrs::ReadWrite),
        ("read-only", SessionAttrs::ReadOnly),
        ("primary", SessionAttrs::Primary),
        ("standby", SessionAttrs::Standby),
        ("prefer-standby", SessionAttrs::PreferStandby),
    ] {
        let c = resolve(&format!("host=a target_session_attrs={v}")).unwrap();
        assert_eq!(c.target_session_attrs, a);
    }
    let e = resolve("host=a target_session_attrs=master").unwrap_err();
    assert!(e.to_string().contains("prefer-standby"), "{e}");
    assert!(
        resolve("host=a load_balance_hosts=random")
            .unwrap()
            .load_balance
    );
    assert!(!resolve("host=a").unwrap().load_balance);
    assert!(resolve("host=a load_balance_hosts=yes").is_err());
    let env = |k: &str| (k == "PGTARGETSESSIONATTRS").then(|| "standby".to_string());
    let c = Config::resolve(&[], Some("host=a"), &env).unwrap();
    assert_eq!(c.target_session_attrs, SessionAttrs::Standby);
}

#[test]
fn keepalives_and_user_timeout() {
    let c = resolve("host=a").unwrap();
    assert_eq!(c.network.keepalive, Some(DEFAULT_KEEPALIVE));
    assert_eq!(c.network.user_timeout, None);
    let c = resolve(
        "host=a keepalives_idle=60 keepalives_interval=7 keepalives_count=2 tcp_user_timeout=9000",
    )
    .unwrap();
    assert_eq!(
        c.network.keepalive,
        Some(Keepalive {
            idle: Duration::from_secs(60),
            interval: Duration::from_secs(7),
            count: 2
        })
    );
    assert_eq!(c.network.user_timeout, Some(Duration::from_millis(9000)));
    assert_eq!(
        resolve("host=a keepalives=0").unwrap().network.keepalive,
        None
    );
    let e = resolve("host=a keepalives=2").unwrap_err();
    assert!(e.to_string().contains("'keepalives'"), "{e}");
}

#[test]
fn shuffle_keeps_every_item() {
    let mut v: Vec<u32> = (0..50).collect();
    crate::core::hosts::shuffle(&mut v);
    let mut sorted = v.clone();
    sorted.sort();
    assert_eq!(sorted, (0..50).collect::<Vec<_>>());
}
