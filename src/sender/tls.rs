//! Certificate checks for `https://` receivers: one rustls client
//! configuration, used by the sender and by load's own connections.
//!
//! - Default: the platform's verifier (the system's roots), set up once per
//!   process at the first certificate checked.
//! - A CA file: its certificates are the only roots, and a server certificate
//!   identical to one of them is trusted as it is (the usual self-signed
//!   development certificate has `CA:TRUE` and is both its own CA and the
//!   server's certificate, which curl accepts and webpki alone refuses). The
//!   host name is checked either way.
//! - Insecure: any certificate (handshake signatures are still checked).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use tokio_rustls::rustls::server::ParsedCertificate;
use tokio_rustls::rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, Error, OtherError, RootCertStore,
    SignatureScheme,
};

use super::TlsOptions;

/// Why a TLS configuration could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsSetupError {
    /// The CA file could not be read.
    #[error("cannot read the CA file {path}: {problem}; give a PEM file of CA certificates")]
    Unreadable {
        /// The CA file.
        path: PathBuf,
        /// Why it could not be read or parsed.
        problem: String,
    },
    /// The CA file holds no PEM certificate.
    #[error(
        "the CA file {path} holds no PEM certificate; give a PEM file with `-----BEGIN CERTIFICATE-----` blocks"
    )]
    NoCertificate {
        /// The CA file.
        path: PathBuf,
    },
    /// The system's verifier could not be set up.
    #[error("cannot set up certificate checks: {0}")]
    Verifier(String),
}

/// The crypto provider every TLS configuration of the harness uses.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(tokio_rustls::rustls::crypto::ring::default_provider())
}

/// The client configuration for `options`, speaking HTTP/1.1.
pub fn client_config(options: &TlsOptions) -> Result<ClientConfig, TlsSetupError> {
    let provider = provider();
    let verifier: Arc<dyn ServerCertVerifier> = if options.insecure {
        Arc::new(Verifier::accept_any(&provider))
    } else if let Some(path) = &options.ca_cert {
        Arc::new(Verifier::ca_file(path, provider.clone())?)
    } else {
        Arc::new(Verifier::system(&provider))
    };
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError::Verifier(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The harness's certificate checks: the system's roots, a CA file's
/// certificates (as roots, and as themselves), or anything (`insecure`).
/// Handshake signatures are checked either way.
#[derive(Debug)]
struct Verifier {
    trust: Trust,
    algorithms: WebPkiSupportedAlgorithms,
}

/// Which server certificates a [`Verifier`] accepts.
#[derive(Debug)]
enum Trust {
    /// Those the platform's verifier accepts (the system's roots).
    System,
    /// Any certificate (`insecure`, for a development receiver).
    Anything,
    /// Certificates signed by a root of the file, or identical to one in it.
    CaFile {
        roots: Option<Arc<WebPkiServerVerifier>>,
        pinned: Vec<CertificateDer<'static>>,
    },
}

impl Verifier {
    fn system(provider: &CryptoProvider) -> Verifier {
        Verifier {
            algorithms: provider.signature_verification_algorithms,
            trust: Trust::System,
        }
    }

    fn accept_any(provider: &CryptoProvider) -> Verifier {
        Verifier {
            trust: Trust::Anything,
            algorithms: provider.signature_verification_algorithms,
        }
    }

    fn ca_file(path: &Path, provider: Arc<CryptoProvider>) -> Result<Verifier, TlsSetupError> {
        let unreadable = |problem: String| TlsSetupError::Unreadable {
            path: path.to_owned(),
            problem,
        };
        let pem = std::fs::read(path).map_err(|e| unreadable(e.to_string()))?;
        let pinned: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<_, _>>()
            .map_err(|e| unreadable(e.to_string()))?;
        if pinned.is_empty() {
            return Err(TlsSetupError::NoCertificate {
                path: path.to_owned(),
            });
        }
        let mut store = RootCertStore::empty();
        store.add_parsable_certificates(pinned.iter().cloned());
        let algorithms = provider.signature_verification_algorithms;
        // A file of certificates none of which can be a root still pins them.
        let roots = WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider)
            .build()
            .ok();
        Ok(Verifier {
            trust: Trust::CaFile { roots, pinned },
            algorithms,
        })
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
    ) -> Result<ServerCertVerified, Error> {
        let (roots, pinned) = match &self.trust {
            Trust::Anything => return Ok(ServerCertVerified::assertion()),
            Trust::System => {
                return system_verifier()?.verify_server_cert(
                    end_entity,
                    intermediates,
                    server_name,
                    ocsp_response,
                    now,
                );
            }
            Trust::CaFile { roots, pinned } => (roots, pinned),
        };
        if pinned.iter().any(|p| p.as_ref() == end_entity.as_ref()) {
            let parsed = ParsedCertificate::try_from(end_entity)?;
            tokio_rustls::rustls::client::verify_server_name(&parsed, server_name)?;
            return Ok(ServerCertVerified::assertion());
        }
        match roots {
            Some(roots) => {
                roots.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Err(Error::InvalidCertificate(CertificateError::UnknownIssuer)),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        tokio_rustls::rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        tokio_rustls::rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The platform's verifier (the system's roots), made when the first
/// certificate is checked and shared by every connection of the process:
/// reading the roots takes a few milliseconds, and a machine without any (a
/// slim container) can still test `http://` receivers.
fn system_verifier() -> Result<&'static rustls_platform_verifier::Verifier, Error> {
    static VERIFIER: OnceLock<Result<rustls_platform_verifier::Verifier, NoSystemRoots>> =
        OnceLock::new();
    VERIFIER
        .get_or_init(|| {
            rustls_platform_verifier::Verifier::new(provider()).map_err(|e| {
                NoSystemRoots(match e {
                    Error::General(why) => why,
                    other => other.to_string(),
                })
            })
        })
        .as_ref()
        .map_err(|e| Error::Other(OtherError(Arc::new(e.clone()))))
}

/// The system's CA certificates could not be loaded (none installed, or
/// unreadable); carried in the handshake's error so the sender can name it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NoSystemRoots(pub String);
