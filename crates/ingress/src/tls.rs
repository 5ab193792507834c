//! Native TLS for the webhook listener (rustls, ring): the certificate chain
//! and private key are read from PEM files, and read again when either file
//! changes (checked at most every `check_every`, on a handshake), so a
//! renewed certificate is served without a restart. A file that does not
//! load keeps the certificate in use, with an error in the log. The
//! alternative, a TLS-terminating proxy in front, is in `deploy/`.

use rustls::crypto::ring::sign::any_supported_type;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

/// Where the certificate and its key are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// Longest time a changed file goes unnoticed.
    pub check_every: Duration,
}

/// A certificate that cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or holds no usable PEM.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// rustls refused the configuration.
    #[error("tls configuration")]
    Config(#[source] rustls::Error),
}

fn file_error(path: &Path, message: impl std::fmt::Display) -> TlsError {
    TlsError::File {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

fn load(files: &TlsFiles) -> Result<Arc<CertifiedKey>, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| file_error(&files.cert, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_error(&files.cert, e))?;
    if certs.is_empty() {
        return Err(file_error(&files.cert, "no certificate in the file"));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| file_error(&files.key, e))?;
    let signing = any_supported_type(&key).map_err(|e| file_error(&files.key, e))?;
    Ok(Arc::new(CertifiedKey::new(certs, signing)))
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Serves the loaded certificate; reloads it when a file changed.
#[derive(Debug)]
struct Reloading {
    files: TlsFiles,
    current: RwLock<Arc<CertifiedKey>>,
    /// When the files were last looked at, and their modification times then.
    seen: Mutex<(Instant, Option<SystemTime>, Option<SystemTime>)>,
}

impl Reloading {
    fn maybe_reload(&self) {
        let Ok(mut seen) = self.seen.try_lock() else {
            return; // another handshake is checking
        };
        if seen.0.elapsed() < self.files.check_every {
            return;
        }
        let stamps = (modified(&self.files.cert), modified(&self.files.key));
        seen.0 = Instant::now();
        if (seen.1, seen.2) == stamps {
            return;
        }
        match load(&self.files) {
            Ok(key) => {
                if let Ok(mut current) = self.current.write() {
                    *current = key;
                }
                (seen.1, seen.2) = stamps;
                tracing::info!(cert = %self.files.cert.display(), "TLS certificate reloaded");
            }
            Err(e) => {
                tracing::error!(error = %hookgate_core::Chain(&e), "TLS certificate changed but does not load; serving the previous one")
            }
        }
    }
}

impl ResolvesServerCert for Reloading {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.maybe_reload();
        self.current.read().ok().map(|k| k.clone())
    }
}

/// A rustls server configuration serving the files' certificate, reloaded
/// on change. Fails when the files do not load now.
pub fn server_config(files: TlsFiles) -> Result<rustls::ServerConfig, TlsError> {
    let first = load(&files)?;
    let stamps = (modified(&files.cert), modified(&files.key));
    let resolver = Reloading {
        current: RwLock::new(first),
        seen: Mutex::new((Instant::now(), stamps.0, stamps.1)),
        files,
    };
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Config)?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
    Ok(config)
}
