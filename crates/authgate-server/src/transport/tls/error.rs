//! [`TlsError`]: why a certificate and key pair cannot be served. Each
//! message names the setting, the file and the problem, and never holds
//! any of the key file's content.

use std::path::PathBuf;

/// Why the TLS certificate and key cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// Only one of the two files is configured.
    #[error("server.tls.cert_file and server.tls.key_file must be set together")]
    Incomplete,
    /// A file cannot be read (missing, a directory, no permission).
    #[error("server.tls.{setting} {}: cannot read it: {source}", .path.display())]
    Read {
        /// `cert_file` or `key_file`.
        setting: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file holds no usable PEM block of the kind it should.
    #[error("server.tls.{setting} {}: {problem}", .path.display())]
    NotPem {
        /// `cert_file` or `key_file`.
        setting: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong, in words (never the content).
        problem: &'static str,
    },
    /// The certificate cannot be parsed as X.509.
    #[error("server.tls.cert_file {}: the certificate is not valid X.509", .path.display())]
    BadCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The key is of a kind or form the TLS library cannot sign with.
    #[error("server.tls.key_file {}: the private key cannot be used ({reason})", .path.display())]
    BadKey {
        /// The file.
        path: PathBuf,
        /// The TLS library's reason (it holds no key material).
        reason: String,
    },
    /// The key is not the certificate's.
    #[error(
        "server.tls.key_file {}: the private key does not match the certificate in {}",
        .key.display(), .cert.display()
    )]
    Mismatch {
        /// The key file.
        key: PathBuf,
        /// The certificate file.
        cert: PathBuf,
    },
    /// The certificate has expired.
    #[error("server.tls.cert_file {}: the certificate expired at {not_after}", .path.display())]
    Expired {
        /// The file.
        path: PathBuf,
        /// Its end of validity.
        not_after: String,
    },
    /// The certificate is not valid yet.
    #[error("server.tls.cert_file {}: the certificate is not valid before {not_before}", .path.display())]
    NotYetValid {
        /// The file.
        path: PathBuf,
        /// Its start of validity.
        not_before: String,
    },
    /// The TLS library refuses the protocol configuration (a bug).
    #[error("TLS configuration refused: {0}")]
    Config(String),
}
