//! Reading the certificate chain and private key from their PEM files and
//! checking them before they are served: present and readable, PEM, a key
//! the certificate's, and the certificate valid now.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use zeroize::Zeroizing;

use super::error::TlsError;

/// The two files of `[server.tls]`.
#[derive(Debug, Clone)]
pub(super) struct PairFiles {
    /// The certificate chain, leaf first.
    pub(super) cert: PathBuf,
    /// The leaf's private key.
    pub(super) key: PathBuf,
}

/// What the two files held when last read: their bytes (the key's wiped
/// when dropped).
pub(super) struct PairBytes {
    cert: Vec<u8>,
    key: Zeroizing<Vec<u8>>,
}

impl PairBytes {
    /// A digest of both files, to tell whether they changed since the last
    /// look without keeping the key's bytes around.
    pub(super) fn fingerprint(&self) -> [u8; 32] {
        let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        for part in [&self.cert[..], &self.key[..]] {
            context.update(&(part.len() as u64).to_be_bytes());
            context.update(part);
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(context.finish().as_ref());
        out
    }
}

impl PairFiles {
    /// Both files' bytes.
    ///
    /// # Errors
    /// [`TlsError::Read`] naming the file that cannot be read.
    pub(super) fn read(&self) -> Result<PairBytes, TlsError> {
        let read = |setting: &'static str, path: &Path| {
            std::fs::read(path).map_err(|source| TlsError::Read {
                setting,
                path: path.to_path_buf(),
                source,
            })
        };
        Ok(PairBytes {
            cert: read("cert_file", &self.cert)?,
            key: Zeroizing::new(read("key_file", &self.key)?),
        })
    }

    /// The certified key `bytes` make, checked: the certificate valid at
    /// `now` (Unix seconds) and the key its own.
    ///
    /// # Errors
    /// [`TlsError`] naming the file and the problem.
    pub(super) fn certified_key(
        &self,
        bytes: &PairBytes,
        now: i64,
        provider: &CryptoProvider,
    ) -> Result<Arc<CertifiedKey>, TlsError> {
        let chain = self.chain(&bytes.cert)?;
        let key = self.private_key(&bytes.key)?;
        self.check_validity(&chain[0], now)?;
        match CertifiedKey::from_der(chain, key, provider) {
            Ok(certified) => Ok(Arc::new(certified)),
            Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
                Err(TlsError::Mismatch {
                    key: self.key.clone(),
                    cert: self.cert.clone(),
                })
            }
            Err(error) => Err(TlsError::BadKey {
                path: self.key.clone(),
                reason: error.to_string(),
            }),
        }
    }

    /// The certificates of the cert file, in order; at least one.
    fn chain(&self, pem_bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
        let not_pem = |problem| TlsError::NotPem {
            setting: "cert_file",
            path: self.cert.clone(),
            problem,
        };
        let chain = CertificateDer::pem_slice_iter(pem_bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| not_pem("is not PEM: a CERTIFICATE block is malformed"))?;
        if chain.is_empty() {
            return Err(not_pem("holds no PEM CERTIFICATE block"));
        }
        Ok(chain)
    }

    /// The private key of the key file. Its parse errors are described,
    /// never quoted: they could quote a line of the key.
    fn private_key(&self, pem_bytes: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
        PrivateKeyDer::from_pem_slice(pem_bytes).map_err(|error| TlsError::NotPem {
            setting: "key_file",
            path: self.key.clone(),
            problem: match error {
                pem::Error::NoItemsFound => "holds no PEM PRIVATE KEY block (PKCS#8, RSA or EC)",
                _ => "is not PEM: a block is malformed",
            },
        })
    }

    /// Refuses a leaf certificate not valid at `now`.
    fn check_validity(&self, leaf: &CertificateDer<'_>, now: i64) -> Result<(), TlsError> {
        let (_, parsed) = x509_parser::parse_x509_certificate(leaf.as_ref()).map_err(|_| {
            TlsError::BadCertificate {
                path: self.cert.clone(),
            }
        })?;
        let validity = parsed.validity();
        if now > validity.not_after.timestamp() {
            return Err(TlsError::Expired {
                path: self.cert.clone(),
                not_after: validity.not_after.to_string(),
            });
        }
        if now < validity.not_before.timestamp() {
            return Err(TlsError::NotYetValid {
                path: self.cert.clone(),
                not_before: validity.not_before.to_string(),
            });
        }
        Ok(())
    }
}
