//! Reading what the TLS settings name: root certificates, the client certificate and key, and
//! revocation lists, with libpq's defaults (`~/.postgresql/root.crt`, `postgresql.crt`,
//! `postgresql.key`, `root.crl`) and its rules for when a missing file is an error.
//! Read for every new connection, as libpq does, so that rotated files take effect.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use rustls::RootCertStore;

use crate::core::error::{Code, Error, Result};
use crate::core::tls_settings::{Pem, Roots, SslMode, TlsSettings};

/// What a connection's TLS handshake is configured with.
pub struct Material {
    /// The authorities the server's chain must lead to; `None`: the chain is not checked.
    pub roots: Option<Arc<RootCertStore>>,
    /// Where the roots came from, for error messages.
    pub roots_origin: String,
    pub client: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    pub crls: Vec<CertificateRevocationListDer<'static>>,
}

fn tls_error(message: String) -> Error {
    Error::driver(Code::Tls, message)
}

/// `~/.postgresql/<name>` when the home directory is known.
fn default_file(home: Option<&Path>, name: &str) -> Option<PathBuf> {
    home.map(|h| h.join(".postgresql").join(name))
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        tls_error(format!(
            "could not read the {what} file \"{}\": {e}",
            path.display()
        ))
    })
}

fn text<'a>(pem: &'a Pem, what: &str, buf: &'a mut Vec<u8>) -> Result<(&'a [u8], String)> {
    Ok(match pem {
        Pem::Inline(s) => (s.as_bytes(), format!("the {what} given inline")),
        Pem::File(p) => {
            *buf = read(p, what)?;
            (
                buf.as_slice(),
                format!("the {what} file \"{}\"", p.display()),
            )
        }
    })
}

fn certificates(pem: &Pem, what: &str) -> Result<(Vec<CertificateDer<'static>>, String)> {
    let mut buf = Vec::new();
    let (bytes, origin) = text(pem, what, &mut buf)?;
    let certs = CertificateDer::pem_slice_iter(bytes)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| tls_error(format!("{origin} is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(tls_error(format!("{origin} holds no certificate")));
    }
    Ok((certs, origin))
}

/// The platform's trust store, read once per process (it can be a large file to parse).
fn system_roots() -> Result<Arc<RootCertStore>> {
    static ROOTS: OnceLock<std::result::Result<Arc<RootCertStore>, String>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            let mut store = RootCertStore::empty();
            let (_added, _ignored) = store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                let why = found
                    .errors
                    .first()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default();
                return Err(format!(
                    "sslrootcert=system: no trusted certificate found in the system's store{why}"
                ));
            }
            Ok(Arc::new(store))
        })
        .clone()
        .map_err(tls_error)
}

fn roots(t: &TlsSettings) -> Result<(Option<Arc<RootCertStore>>, String)> {
    let verify = matches!(t.mode, SslMode::VerifyCa | SslMode::VerifyFull);
    let pem = match &t.roots {
        Roots::System => return Ok((Some(system_roots()?), "the system's trust store".into())),
        Roots::Pem(p) => p.clone(),
        Roots::Default => match default_file(t.home.as_deref(), "root.crt") {
            Some(p) => Pem::File(p),
            None if verify => {
                return Err(tls_error(format!(
                    "sslmode={} needs a root certificate, and the home directory is unknown: set sslrootcert to a file, or to 'system' for the platform's trust store",
                    mode_name(t.mode)
                )))
            }
            None => return Ok((None, String::new())),
        },
    };
    if let Pem::File(p) = &pem {
        // libpq: a missing root file means "do not check the chain", except where a mode
        // promises a check.
        if !p.exists() {
            if verify {
                return Err(tls_error(format!(
                    "root certificate file \"{}\" does not exist: either provide the file, use the system's trusted roots with sslrootcert=system, or change sslmode to disable server certificate verification",
                    p.display()
                )));
            }
            return Ok((None, String::new()));
        }
    }
    let (certs, origin) = certificates(&pem, "root certificate")?;
    let mut store = RootCertStore::empty();
    for c in certs {
        store.add(c).map_err(|e| {
            tls_error(format!(
                "{origin} holds a certificate rustls cannot use: {e}"
            ))
        })?;
    }
    Ok((Some(Arc::new(store)), origin))
}

/// libpq refuses a private key file that others can read: 0600 or less when the current user
/// owns it, 0640 or less when root does.
fn check_key_permissions(path: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).map_err(|e| {
        tls_error(format!(
            "could not read the private key file \"{}\": {e}",
            path.display()
        ))
    })?;
    if !meta.is_file() {
        return Err(tls_error(format!(
            "the private key file \"{}\" is not a regular file",
            path.display()
        )));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    let mode = meta.mode();
    let group_or_world = 0o077;
    let root_forbidden = 0o037; // group write/execute, and anything for others
    if (meta.uid() == euid && mode & group_or_world != 0)
        || (meta.uid() == 0 && mode & root_forbidden != 0)
    {
        return Err(tls_error(format!(
            "the private key file \"{}\" has group or world access; it must have permissions u=rw (0600) or less if owned by the current user, or u=rw,g=r (0640) or less if owned by root",
            path.display()
        )));
    }
    Ok(())
}

type ClientIdentity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn client(t: &TlsSettings) -> Result<Option<ClientIdentity>> {
    let home = t.home.as_deref();
    // libpq: a certificate file that is not there means "no client certificate".
    let cert = match &t.cert {
        Some(Pem::File(p)) if !p.exists() => return Ok(None),
        Some(c) => c.clone(),
        None => match default_file(home, "postgresql.crt") {
            Some(p) if p.exists() => Pem::File(p),
            _ => return Ok(None),
        },
    };
    let (certs, _) = certificates(&cert, "client certificate")?;
    let key = match &t.key {
        Some(k) => k.clone(),
        None => match default_file(home, "postgresql.key") {
            Some(p) => Pem::File(p),
            None => {
                return Err(tls_error(
                    "a client certificate is set but no sslkey".into(),
                ))
            }
        },
    };
    if let Pem::File(p) = &key {
        if !p.exists() {
            return Err(tls_error(format!(
                "certificate present, but not private key file \"{}\"",
                p.display()
            )));
        }
        check_key_permissions(p)?;
    }
    let mut buf = Vec::new();
    let (bytes, origin) = text(&key, "private key", &mut buf)?;
    if bytes.windows(b"ENCRYPTED".len()).any(|w| w == b"ENCRYPTED") {
        return Err(tls_error(format!(
            "{origin} is encrypted; ferropg reads unencrypted PEM keys only (sslpassword is not supported)"
        )));
    }
    let key = PrivateKeyDer::from_pem_slice(bytes)
        .map_err(|e| tls_error(format!("{origin} holds no usable private key: {e}")))?;
    Ok(Some((certs, key)))
}

fn crls(t: &TlsSettings) -> Result<Vec<CertificateRevocationListDer<'static>>> {
    let path = match &t.crl {
        Some(p) => p.clone(),
        None => match default_file(t.home.as_deref(), "root.crl") {
            Some(p) => p,
            None => return Ok(Vec::new()),
        },
    };
    // libpq reads the file only when it exists.
    if !path.exists() {
        return Ok(Vec::new());
    }
    let bytes = read(&path, "certificate revocation list")?;
    CertificateRevocationListDer::pem_slice_iter(&bytes)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| {
            tls_error(format!(
                "the certificate revocation list file \"{}\" is not valid PEM: {e}",
                path.display()
            ))
        })
}

/// Reads everything the settings name (on the runtime: this touches the file system).
pub fn load(t: &TlsSettings) -> Result<Material> {
    let (roots, roots_origin) = roots(t)?;
    let crls = if roots.is_some() {
        crls(t)?
    } else {
        Vec::new()
    };
    Ok(Material {
        roots,
        roots_origin,
        client: client(t)?,
        crls,
    })
}

/// libpq's name of an sslmode.
pub fn mode_name(mode: SslMode) -> &'static str {
    match mode {
        SslMode::Disable => "disable",
        SslMode::Allow => "allow",
        SslMode::Prefer => "prefer",
        SslMode::Require => "require",
        SslMode::VerifyCa => "verify-ca",
        SslMode::VerifyFull => "verify-full",
    }
}
