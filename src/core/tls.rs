//! TLS with rustls (ring provider, no system OpenSSL) over whatever byte stream a driver gives
//! (a tokio socket on the runtime, a libuv-polled socket on the JS thread), so both transports
//! get the same TLS.
//!
//! ferropg asks for TLS itself ([`negotiate`]: the SSLRequest, or nothing with
//! `sslnegotiation=direct`) and then hands tokio-postgres a stream on which the TLS handshake is
//! the next thing to do, with its `SslNegotiation::Direct`. Why: the decisions libpq makes
//! around that exchange (require or fall back, retry without TLS in `prefer`, with it in
//! `allow`) and the error that says which check failed are then ferropg's, and the
//! CancelRequest can take the same path.

use std::io;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::ServerName;
use rustls::{CertificateError, ClientConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::core::driver::{delegate_io, Stream};
use crate::core::error::{Code, Error, Result};
use crate::core::tls_files::{load, mode_name, Material};
use crate::core::tls_settings::{SslMode, TlsSettings, TlsVersion};
use crate::core::tls_verify::{Check, Verifier};

/// What a TLS handshake with one server needs: the rustls configuration and the name.
#[derive(Clone)]
pub struct Connector {
    config: Arc<ClientConfig>,
    /// Checked when built; kept as text (a `ServerName` held across the connection task's
    /// awaits trips rustc's higher-ranked Send inference).
    name: String,
    /// For error messages: where the roots came from.
    roots_origin: String,
    mode: SslMode,
}

impl Connector {
    /// Reads the files the settings name and builds the handshake's configuration for `host`.
    pub fn new(t: &TlsSettings, host: &str) -> Result<Connector> {
        let material = load(t)?;
        let roots_origin = material.roots_origin.clone();
        let config = client_config(t, material)?;
        let name_text = t.server_name.clone().unwrap_or_else(|| host.to_string());
        server_name(&name_text).map_err(|m| Error::driver(Code::Tls, m))?;
        Ok(Connector {
            config: Arc::new(config),
            name: name_text,
            roots_origin,
            mode: t.mode,
        })
    }

    /// Says which check failed, in the user's terms.
    fn describe(&self, e: &io::Error) -> String {
        let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
        match inner {
            Some(rustls::Error::InvalidCertificate(c)) => match c {
                CertificateError::UnknownIssuer => format!(
                    "the server's certificate is not trusted: its chain does not lead to a certificate in {}",
                    self.roots_origin
                ),
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                    format!(
                        "the server's certificate does not match the host name \"{}\" (sslmode={})",
                        self.name,
                        mode_name(self.mode)
                    )
                }
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    "the server's certificate has expired".to_string()
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    "the server's certificate is not valid yet".to_string()
                }
                CertificateError::Revoked => {
                    "the server's certificate is revoked (sslcrl)".to_string()
                }
                CertificateError::UnknownRevocationStatus => {
                    "the server's certificate cannot be checked for revocation: sslcrl holds no list from its issuer"
                        .to_string()
                }
                other => format!("the server's certificate was refused: {other:?}"),
            },
            Some(rustls::Error::AlertReceived(alert)) => format!(
                "the server ended the TLS handshake ({alert:?}): it may require a client certificate it trusts (sslcert, sslkey)"
            ),
            Some(other) => format!("the TLS handshake failed: {other}"),
            None => format!("the TLS handshake failed: {e}"),
        }
    }
}

fn server_name(name: &str) -> std::result::Result<ServerName<'static>, String> {
    ServerName::try_from(name.to_string())
        .map_err(|_| format!("'{name}' is not a host name or IP address a certificate can name"))
}

fn client_config(t: &TlsSettings, material: Material) -> Result<ClientConfig> {
    let fail = |e: rustls::Error| Error::driver(Code::Tls, format!("TLS configuration: {e}"));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: Vec<&'static rustls::SupportedProtocolVersion> = [
        (TlsVersion::V1_2, &rustls::version::TLS12),
        (TlsVersion::V1_3, &rustls::version::TLS13),
    ]
    .into_iter()
    .filter(|(v, _)| *v >= t.min_version && *v <= t.max_version)
    .map(|(_, p)| p)
    .collect();
    let webpki = match material.roots {
        Some(roots) => Some(
            WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .with_crls(material.crls)
                .build()
                .map_err(|e| {
                    Error::driver(Code::Tls, format!("TLS configuration (sslcrl): {e}"))
                })?,
        ),
        None => None,
    };
    let check = match (t.mode, &webpki) {
        (SslMode::VerifyFull, _) => Check::ChainAndName,
        (SslMode::VerifyCa, _) => Check::Chain,
        // libpq checks the chain whenever root certificates are present, whatever the mode.
        (_, Some(_)) => Check::Chain,
        (_, None) => Check::Nothing,
    };
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(fail)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Verifier::new(check, webpki, provider)));
    let mut config = match material.client {
        Some((certs, key)) => builder.with_client_auth_cert(certs, key).map_err(fail)?,
        None => builder.with_no_client_auth(),
    };
    // PostgreSQL 17+ checks it (and requires it with sslnegotiation=direct); older servers
    // ignore it. libpq 17 sends it too.
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    config.enable_sni = t.sni;
    Ok(config)
}

/// Why a TLS handshake failed (the cause tokio-postgres's error carries; see
/// [`tls_failure`]).
#[derive(Debug)]
pub struct TlsFailure(pub String);

impl std::fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsFailure {}

/// The TLS failure behind a connection error, if that is what it was.
pub fn tls_failure(e: &tokio_postgres::Error) -> Option<&TlsFailure> {
    std::error::Error::source(e).and_then(|s| s.downcast_ref::<TlsFailure>())
}

/// The handshake for tokio-postgres; `None` connects without TLS (it is then never called).
#[derive(Clone)]
pub struct MaybeConnector(pub Option<Connector>);

impl tokio_postgres::tls::TlsConnect<Stream> for MaybeConnector {
    type Stream = TlsStream;
    type Error = TlsFailure;
    type Future = BoxFuture<'static, std::result::Result<TlsStream, TlsFailure>>;

    fn connect(self, stream: Stream) -> Self::Future {
        Box::pin(async move {
            let c = self
                .0
                .ok_or_else(|| TlsFailure("TLS was not configured for this connection".into()))?;
            let name = server_name(&c.name).map_err(TlsFailure)?;
            tokio_rustls::TlsConnector::from(c.config.clone())
                .connect(name, stream)
                .await
                .map(|s| TlsStream(Box::new(s)))
                .map_err(|e| TlsFailure(c.describe(&e)))
        })
    }
}

/// A TLS session over a driver's stream, with what SCRAM-SHA-256-PLUS binds to.
pub struct TlsStream(Box<tokio_rustls::client::TlsStream<Stream>>);

delegate_io!(TlsStream);

impl tokio_postgres::tls::TlsStream for TlsStream {
    fn channel_binding(&self) -> tokio_postgres::tls::ChannelBinding {
        let (_, session) = self.0.get_ref();
        match session
            .peer_certificates()
            .and_then(|c| c.first())
            .and_then(|c| end_point_hash(c))
        {
            Some(h) => tokio_postgres::tls::ChannelBinding::tls_server_end_point(h),
            None => tokio_postgres::tls::ChannelBinding::none(),
        }
    }
}

/// RFC 5929's tls-server-end-point: the server certificate hashed with the hash of its
/// signature algorithm (SHA-256 in place of MD5 and SHA-1). `None` for an algorithm without
/// one (Ed25519), where PostgreSQL offers no channel binding either.
pub fn end_point_hash(cert: &[u8]) -> Option<Vec<u8>> {
    use ring::digest::{digest, SHA256, SHA384, SHA512};
    let algorithm = match signature_oid(cert)? {
        // sha{1,256}WithRSAEncryption, md5WithRSAEncryption, ecdsa-with-SHA{1,256}
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04 | 0x05 | 0x0b]
        | [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01]
        | [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02] => &SHA256,
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c]
        | [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03] => &SHA384,
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d]
        | [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04] => &SHA512,
        _ => return None,
    };
    Some(digest(algorithm, cert).as_ref().to_vec())
}

/// One DER element: (tag, contents, what follows).
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |a, b| (a << 8) | *b as usize);
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The OID of `Certificate.signatureAlgorithm` (RFC 5280: SEQUENCE { tbsCertificate,
/// signatureAlgorithm SEQUENCE { OID, ... }, signature }).
fn signature_oid(cert: &[u8]) -> Option<&[u8]> {
    const SEQUENCE: u8 = 0x30;
    const OID: u8 = 0x06;
    let (SEQUENCE, body, _) = der(cert)? else {
        return None;
    };
    let (SEQUENCE, _, after_tbs) = der(body)? else {
        return None;
    };
    let (SEQUENCE, alg, _) = der(after_tbs)? else {
        return None;
    };
    let (OID, oid, _) = der(alg)? else {
        return None;
    };
    Some(oid)
}

/// How the server answered the request for TLS.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// Go on with the TLS handshake.
    Tls,
    /// The server does not do TLS: go on without it on the same socket.
    Plain,
}

/// Asks for TLS on a fresh connection (the SSLRequest), or nothing with
/// `sslnegotiation=direct`, where the handshake starts at once.
pub async fn negotiate(stream: &mut Stream, direct: bool) -> Result<Answer> {
    if direct {
        return Ok(Answer::Tls);
    }
    let io = |e: io::Error| Error::driver(Code::Connection, format!("while asking for TLS: {e}"));
    let mut request = bytes::BytesMut::new();
    postgres_protocol::message::frontend::ssl_request(&mut request);
    stream.write_all(&request).await.map_err(io)?;
    stream.flush().await.map_err(io)?;
    let mut answer = [0u8];
    stream.read_exact(&mut answer).await.map_err(io)?;
    match answer[0] {
        b'S' => Ok(Answer::Tls),
        b'N' => Ok(Answer::Plain),
        other => Err(Error::driver(
            Code::Protocol,
            format!(
                "the server answered the TLS request with '{}': it may not be PostgreSQL",
                other.escape_ascii()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_oid_of_a_certificate() {
        // A minimal Certificate: SEQUENCE { SEQUENCE {} (tbs), SEQUENCE { OID sha256WithRSA }, BIT STRING }
        let oid = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
        let mut alg = vec![0x06, oid.len() as u8];
        alg.extend_from_slice(&oid);
        let mut body = vec![0x30, 0x00, 0x30, alg.len() as u8];
        body.extend_from_slice(&alg);
        body.extend_from_slice(&[0x03, 0x01, 0x00]);
        let mut cert = vec![0x30, body.len() as u8];
        cert.extend_from_slice(&body);
        assert_eq!(signature_oid(&cert), Some(&oid[..]));
        let h = end_point_hash(&cert).unwrap();
        assert_eq!(h.len(), 32);
        // Truncated or foreign input: no answer, no panic.
        assert_eq!(signature_oid(&cert[..cert.len() - 4]), None);
        assert_eq!(signature_oid(&[0x30, 0x85, 1, 2]), None);
        assert_eq!(end_point_hash(&[]), None);
    }
}
