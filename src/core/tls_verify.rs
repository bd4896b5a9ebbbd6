//! How much of the server's certificate is checked, as libpq decides it: nothing (the
//! connection is encrypted but the server unauthenticated), the chain (`verify-ca`, and any
//! mode when root certificates are present, as libpq's OpenSSL code does), or the chain and the
//! host name (`verify-full`). The handshake's own signatures are always verified: skipping the
//! certificate check must not also skip the proof that the server holds its key.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

/// What a [`Verifier`] checks beyond the handshake signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Any certificate (`require`, `prefer`, `allow` without root certificates).
    Nothing,
    /// The chain leads to a trusted root; any name.
    Chain,
    /// The chain, and the certificate names the host.
    ChainAndName,
}

#[derive(Debug)]
pub struct Verifier {
    check: Check,
    /// Present when the chain is checked.
    webpki: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl Verifier {
    pub fn new(
        check: Check,
        webpki: Option<Arc<WebPkiServerVerifier>>,
        provider: Arc<CryptoProvider>,
    ) -> Verifier {
        Verifier {
            check,
            webpki,
            provider,
        }
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let webpki = match (&self.webpki, self.check) {
            (Some(w), Check::Chain | Check::ChainAndName) => w,
            _ => return Ok(ServerCertVerified::assertion()),
        };
        let r =
            webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        match r {
            // webpki checks the chain (and revocation) before the name, so a name error means
            // the chain passed: all that verify-ca asks.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if self.check == Check::Chain => Ok(ServerCertVerified::assertion()),
            r => r,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
