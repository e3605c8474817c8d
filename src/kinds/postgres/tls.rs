//! PostgreSQL over TLS with rustls (aws-lc; never OpenSSL): the connector for a DSN's
//! `sslmode`, its trusted roots (`sslrootcert` or the system's), and TLS failures in words.

use std::error::Error as _;
use std::sync::{Arc, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, aws_lc_rs};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::dsn::{TlsSettings, Verification};

/// The connector tokio-postgres is given; with sslmode=disable it is never asked to connect.
pub fn connector(settings: &TlsSettings) -> Result<MakeRustlsConnect, String> {
    let provider = Arc::new(aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let verifier: Arc<dyn ServerCertVerifier> = match settings.verification() {
        Verification::None => Arc::new(AnyCertificate(provider)),
        Verification::Chain => Arc::new(ChainOnly(webpki(settings, provider)?)),
        Verification::ChainAndHost => webpki(settings, provider)?,
    };
    let config = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

fn webpki(
    settings: &TlsSettings,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, String> {
    let roots = roots(settings)?;
    WebPkiServerVerifier::builder_with_provider(roots, provider)
        .build()
        .map_err(|e| format!("TLS: {e}"))
}

/// The trusted roots: the PEM file named by `sslrootcert`, else the system's (read once).
pub fn roots(settings: &TlsSettings) -> Result<Arc<RootCertStore>, String> {
    match settings.rootcert_file() {
        Some(path) => roots_from_file(path).map(Arc::new),
        None => system_roots(),
    }
}

fn roots_from_file(path: &str) -> Result<RootCertStore, String> {
    let pem = std::fs::read(path).map_err(|e| {
        format!(
            "sslrootcert={path}: cannot read it: {}",
            failover_core::text::io_error(&e)
        )
    })?;
    let mut store = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| format!("sslrootcert={path}: not a PEM file: {e}"))?;
        store
            .add(cert)
            .map_err(|e| format!("sslrootcert={path}: {e}"))?;
    }
    if store.is_empty() {
        return Err(format!("sslrootcert={path}: no certificate in it"));
    }
    Ok(store)
}

fn system_roots() -> Result<Arc<RootCertStore>, String> {
    static SYSTEM: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    let store = SYSTEM.get_or_init(|| {
        let mut store = RootCertStore::empty();
        store.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        Arc::new(store)
    });
    if store.is_empty() {
        return Err("TLS: no system root certificates found: give sslrootcert=<file>".into());
    }
    Ok(store.clone())
}

/// A TLS failure of this connection in words ("TLS: certificate not trusted (sslrootcert=...)"),
/// or None when it failed for another reason.
pub fn describe(e: &tokio_postgres::Error, settings: &TlsSettings, host: &str) -> Option<String> {
    let mut source = e.source();
    while let Some(s) = source {
        let rustls_error = s.downcast_ref::<rustls::Error>().or_else(|| {
            s.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(r) = rustls_error {
            return Some(rustls_text(r, settings, host));
        }
        if s.to_string() == "server does not support TLS" {
            return Some(format!(
                "TLS: the server does not support TLS (sslmode={})",
                settings.mode.name()
            ));
        }
        source = s.source();
    }
    None
}

fn rustls_text(e: &rustls::Error, settings: &TlsSettings, host: &str) -> String {
    let roots = match settings.rootcert_file() {
        Some(path) => format!("sslrootcert={path}"),
        None => "the system's root certificates".to_string(),
    };
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => {
                format!("TLS: certificate not trusted ({roots})")
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!("TLS: certificate not valid for host {host} (sslmode=verify-full)")
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "TLS: certificate expired".into()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "TLS: certificate not valid yet".into()
            }
            other => format!("TLS: invalid certificate: {other:?}"),
        },
        other => format!("TLS: {other}"),
    }
}

/// prefer, and require without sslrootcert: encrypted, any certificate (libpq's rule). The
/// handshake's signatures are still checked, so the session is with the certificate's key.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// verify-ca: the chain up to a trusted root, whatever host the certificate names. webpki checks
/// the name only once the chain is good, so its name error is the only one forgiven.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
