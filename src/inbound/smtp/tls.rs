//! STARTTLS for the inbound SMTP listener: the certificate chain and private key the owner
//! names (`HUNDRED_INBOUND_TLS_CERT`, `HUNDRED_INBOUND_TLS_KEY`, PEM files), read once at
//! start-up so a bad file stops it with one line naming the variable.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::config::{ConfigError, TlsFiles};

/// The listener's certificate, ready to serve STARTTLS.
#[derive(Clone)]
pub struct InboundTls {
    cert_file: PathBuf,
    acceptor: TlsAcceptor,
}

impl std::fmt::Debug for InboundTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "InboundTls({})", self.cert_file.display())
    }
}

/// What is wrong with the certificate or key, and which variable names the file.
#[derive(Debug)]
pub struct TlsProblem {
    pub variable: &'static str,
    pub problem: String,
}

const CERT: &str = "HUNDRED_INBOUND_TLS_CERT";
const KEY: &str = "HUNDRED_INBOUND_TLS_KEY";

impl InboundTls {
    /// Reads the configured files at start-up; a problem is a configuration error naming
    /// the variable of the file at fault.
    pub fn from_files(files: &TlsFiles) -> Result<Self, ConfigError> {
        Self::load(&files.cert_file, &files.key_file)
            .map_err(|tls| ConfigError::new(tls.variable, tls.problem))
    }

    /// Reads the certificate chain (leaf first) and the key, and checks they belong together.
    pub fn load(cert_file: &Path, key_file: &Path) -> Result<Self, TlsProblem> {
        let problem = |variable, problem: String| TlsProblem { variable, problem };
        let certs = CertificateDer::pem_file_iter(cert_file)
            .map_err(|err| problem(CERT, format!("cannot read {}: {err}", cert_file.display())))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| problem(CERT, format!("{} is not PEM: {err}", cert_file.display())))?;
        if certs.is_empty() {
            return Err(problem(
                CERT,
                format!("{} holds no CERTIFICATE", cert_file.display()),
            ));
        }
        let key = PrivateKeyDer::from_pem_file(key_file).map_err(|err| {
            problem(
                KEY,
                format!("no private key read from {}: {err}", key_file.display()),
            )
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| problem(CERT, err.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|err| {
                problem(
                    KEY,
                    format!(
                        "{} does not go with the certificate in {}: {err}",
                        key_file.display(),
                        cert_file.display()
                    ),
                )
            })?;
        Ok(Self {
            cert_file: cert_file.to_path_buf(),
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// The certificate file, for the configuration summary.
    pub fn cert_file(&self) -> &Path {
        &self.cert_file
    }

    pub(super) fn acceptor(&self) -> TlsAcceptor {
        self.acceptor.clone()
    }
}
