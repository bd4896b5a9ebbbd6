//! The TLS keys as libpq reads them: defaults, implied modes and refused combinations.

use crate::core::config::{Config, SslMode};
use crate::core::tls_settings::{ChannelBinding, Pem, Roots, TlsVersion};

fn env_with(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |k| {
        vars.iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| v.to_string())
    }
}

fn resolve(s: &str) -> crate::core::error::Result<Config> {
    Config::resolve(&[], Some(s), &env_with(&[("HOME", "/home/u")]))
}

#[test]
fn defaults_are_libpqs() {
    let c = resolve("host=h").unwrap();
    assert_eq!(c.tls.mode, SslMode::Prefer);
    assert_eq!(c.tls.roots, Roots::Default);
    assert_eq!(c.tls.channel_binding, ChannelBinding::Prefer);
    assert!(c.tls.sni && !c.tls.direct);
    assert_eq!(c.tls.allowed_auth, None);
    assert_eq!(
        (c.tls.min_version, c.tls.max_version),
        (TlsVersion::V1_2, TlsVersion::V1_3)
    );
    assert_eq!(c.tls.home.as_deref(), Some(std::path::Path::new("/home/u")));
}

#[test]
fn system_roots_imply_verify_full_and_refuse_weaker_modes() {
    let c = resolve("host=h sslrootcert=system").unwrap();
    assert_eq!(
        (c.tls.mode, c.tls.roots),
        (SslMode::VerifyFull, Roots::System)
    );
    let e = resolve("host=h sslrootcert=system sslmode=require").unwrap_err();
    assert!(e.to_string().contains("weak sslmode 'require'"), "{e}");
    let c = resolve("host=h sslrootcert=/x/ca.pem sslmode=require").unwrap();
    assert_eq!(c.tls.roots, Roots::Pem(Pem::File("/x/ca.pem".into())));
}

#[test]
fn refused_combinations_name_the_keys() {
    let e = resolve("host=h sslnegotiation=direct").unwrap_err();
    assert!(
        e.to_string()
            .contains("'sslnegotiation=direct' needs sslmode require"),
        "{e}"
    );
    assert!(
        resolve("host=h sslnegotiation=direct sslmode=require")
            .unwrap()
            .tls
            .direct
    );
    let e = resolve("host=h channel_binding=require sslmode=disable").unwrap_err();
    assert!(
        e.to_string().contains("channel_binding=require needs TLS"),
        "{e}"
    );
    let e = resolve("host=h sslsni=yes").unwrap_err();
    assert!(
        e.to_string().contains("'sslsni' must be one of 1, 0"),
        "{e}"
    );
    let e = resolve("host=h ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.2")
        .unwrap_err();
    assert!(e.to_string().contains("ssl_min_protocol_version"), "{e}");
    let e = resolve("host=h ssl_min_protocol_version=TLSv1.1").unwrap_err();
    assert!(e.to_string().contains("TLSv1.2, TLSv1.3"), "{e}");
}

#[test]
fn require_auth_lists_and_negations() {
    use tokio_postgres::config::{
        AUTH_GSS, AUTH_MD5, AUTH_NONE, AUTH_PASSWORD, AUTH_SCRAM, AUTH_SSPI,
    };
    let allowed =
        |s: &str| resolve(&format!("host=h require_auth={s}")).map(|c| c.tls.allowed_auth);
    assert_eq!(allowed("scram-sha-256").unwrap(), Some(AUTH_SCRAM));
    assert_eq!(
        allowed("md5,password").unwrap(),
        Some(AUTH_MD5 | AUTH_PASSWORD)
    );
    assert_eq!(
        allowed("!password,!md5").unwrap(),
        Some(AUTH_NONE | AUTH_SCRAM | AUTH_GSS | AUTH_SSPI)
    );
    assert!(allowed("md5,!none")
        .unwrap_err()
        .to_string()
        .contains("mixes"));
    assert!(allowed("kerberos")
        .unwrap_err()
        .to_string()
        .contains("'kerberos'"));
}

#[test]
fn environment_variables_are_named_in_errors() {
    let env = env_with(&[("PGSSLMODE", "sometimes"), ("PGCHANNELBINDING", "require")]);
    let e = Config::resolve(&[], Some("host=h"), &env).unwrap_err();
    assert!(e.to_string().contains("'PGSSLMODE'"), "{e}");
    let env = env_with(&[
        ("PGSSLMODE", "verify-ca"),
        ("PGSSLROOTCERT", "/r.pem"),
        ("PGSSLCERT", "/c.pem"),
        ("PGSSLKEY", "/k.pem"),
        ("PGSSLCRL", "/l.pem"),
        ("PGSSLSNI", "0"),
        ("PGREQUIREAUTH", "scram-sha-256"),
        ("PGSSLNEGOTIATION", "direct"),
    ]);
    let c = Config::resolve(&[], Some("host=h"), &env).unwrap();
    assert_eq!(c.tls.mode, SslMode::VerifyCa);
    assert_eq!(c.tls.roots, Roots::Pem(Pem::File("/r.pem".into())));
    assert_eq!(c.tls.cert, Some(Pem::File("/c.pem".into())));
    assert_eq!(c.tls.key, Some(Pem::File("/k.pem".into())));
    assert_eq!(c.tls.crl.as_deref(), Some(std::path::Path::new("/l.pem")));
    assert!(!c.tls.sni && c.tls.direct);
    // The connection string wins over the environment.
    let c = Config::resolve(&[], Some("host=h sslmode=require"), &env).unwrap();
    assert_eq!(c.tls.mode, SslMode::Require);
}

#[test]
fn inline_pem_wins_over_files() {
    let explicit = vec![
        (
            "ssl.ca".to_string(),
            "-----BEGIN CERTIFICATE-----".to_string(),
        ),
        ("sslrootcert".to_string(), "/file".to_string()),
        ("ssl.key".to_string(), "KEY".to_string()),
    ];
    let c = Config::resolve(&explicit, None, &env_with(&[])).unwrap();
    assert!(matches!(c.tls.roots, Roots::Pem(Pem::Inline(_))));
    assert_eq!(c.tls.key, Some(Pem::Inline("KEY".into())));
    assert_eq!(c.tls.home, None);
}
