//! Start-up refuses every unusable certificate and key pair with a message
//! naming the file and the problem; a reload that fails keeps the old one.

use std::path::{Path, PathBuf};

use authgate_core::ManualClock;
use rcgen::{CertificateParams, KeyPair};
use time::{Duration as TimeDuration, OffsetDateTime};

use super::*;

/// A certificate for `localhost` valid from `from` to `until`, and its key, as PEM.
fn pair(from: OffsetDateTime, until: OffsetDateTime) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.not_before = from;
    params.not_after = until;
    (params.self_signed(&key).unwrap().pem(), key.serialize_pem())
}

fn valid_pair() -> (String, String) {
    let now = OffsetDateTime::now_utc();
    pair(now - TimeDuration::days(1), now + TimeDuration::days(30))
}

/// A directory with `cert.pem` and `key.pem` holding `cert` and `key`.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new(cert: &str, key: &str) -> Self {
        let files = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        files.write(cert, key);
        files
    }

    fn cert(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    fn key(&self) -> PathBuf {
        self.dir.path().join("key.pem")
    }

    fn write(&self, cert: &str, key: &str) {
        std::fs::write(self.cert(), cert).unwrap();
        std::fs::write(self.key(), key).unwrap();
    }

    fn settings(&self) -> TlsSettings {
        settings(&self.cert(), &self.key())
    }
}

fn settings(cert: &Path, key: &Path) -> TlsSettings {
    TlsSettings {
        cert_file: cert.display().to_string(),
        key_file: key.display().to_string(),
        ..TlsSettings::default()
    }
}

fn clock() -> Arc<dyn Clock> {
    Arc::new(ManualClock::new(OffsetDateTime::now_utc()))
}

/// The start-up error for `settings`, as the operator reads it.
fn refusal(settings: &TlsSettings) -> String {
    match Tls::from_settings(settings, clock()) {
        Ok(_) => panic!("the pair was accepted"),
        Err(error) => error.to_string(),
    }
}

fn served_cert(tls: &Tls) -> Vec<u8> {
    tls.reloader.0.current.load().cert[0].to_vec()
}

#[test]
fn no_files_is_no_tls_and_one_file_alone_is_refused() {
    assert!(
        Tls::from_settings(&TlsSettings::default(), clock())
            .unwrap()
            .is_none()
    );
    let only_cert = TlsSettings {
        cert_file: "/etc/authgate/cert.pem".into(),
        ..TlsSettings::default()
    };
    let err = refusal(&only_cert);
    assert!(err.contains("must be set together"), "{err}");
}

#[test]
fn a_valid_pair_is_served() {
    let (cert, key) = valid_pair();
    let files = Files::new(&cert, &key);
    let tls = Tls::from_settings(&files.settings(), clock())
        .unwrap()
        .unwrap();
    assert!(!served_cert(&tls).is_empty());
}

#[test]
fn a_missing_file_is_refused_naming_it() {
    let (cert, key) = valid_pair();
    let files = Files::new(&cert, &key);
    let missing = files.dir.path().join("nowhere.pem");
    let err = refusal(&settings(&missing, &files.key()));
    assert!(err.contains("server.tls.cert_file"), "{err}");
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(err.contains("cannot read"), "{err}");
    let err = refusal(&settings(&files.cert(), &missing));
    assert!(err.contains("server.tls.key_file"), "{err}");
    assert!(err.contains("cannot read"), "{err}");
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_is_refused_naming_it() {
    let (cert, key) = valid_pair();
    let files = Files::new(&cert, &key);
    // A directory where the key should be cannot be read as a file (a
    // mode of 000 would not stop root, which CI runs as).
    let dir = files.dir.path().join("a-directory");
    std::fs::create_dir(&dir).unwrap();
    let err = refusal(&settings(&files.cert(), &dir));
    assert!(
        err.contains("server.tls.key_file") && err.contains("cannot read"),
        "{err}"
    );
}

#[test]
fn files_that_are_not_pem_are_refused_without_quoting_them() {
    let (cert, key) = valid_pair();
    let files = Files::new("this is not a certificate\n", &key);
    let err = refusal(&files.settings());
    assert!(
        err.contains("server.tls.cert_file") && err.contains("no PEM CERTIFICATE block"),
        "{err}"
    );
    files.write(
        &cert,
        "MC4CAQAwBQYDK2VwBCIEIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
    );
    let err = refusal(&files.settings());
    assert!(
        err.contains("server.tls.key_file") && err.contains("no PEM PRIVATE KEY block"),
        "{err}"
    );
    assert!(!err.contains("MC4CAQAw"), "never the key's content: {err}");
    let broken = key.replace("-----END PRIVATE KEY-----", "");
    files.write(&cert, &broken);
    let err = refusal(&files.settings());
    assert!(err.contains("server.tls.key_file"), "{err}");
    let body: String = key.lines().nth(1).unwrap().chars().take(16).collect();
    assert!(!err.contains(&body), "never the key's content: {err}");
}

#[test]
fn a_key_that_is_not_the_certificates_is_refused() {
    let (cert, _) = valid_pair();
    let (_, other_key) = valid_pair();
    let files = Files::new(&cert, &other_key);
    let err = refusal(&files.settings());
    assert!(err.contains("does not match the certificate"), "{err}");
    assert!(err.contains(&files.key().display().to_string()), "{err}");
}

#[test]
fn an_expired_or_not_yet_valid_certificate_is_refused() {
    let now = OffsetDateTime::now_utc();
    let (cert, key) = pair(now - TimeDuration::days(60), now - TimeDuration::days(1));
    let files = Files::new(&cert, &key);
    let err = refusal(&files.settings());
    assert!(
        err.contains("server.tls.cert_file") && err.contains("expired"),
        "{err}"
    );
    let (cert, key) = pair(now + TimeDuration::days(1), now + TimeDuration::days(60));
    files.write(&cert, &key);
    let err = refusal(&files.settings());
    assert!(err.contains("not valid before"), "{err}");
}

#[test]
fn a_certificate_is_judged_by_the_servers_clock() {
    let (cert, key) = valid_pair();
    let files = Files::new(&cert, &key);
    let later = Arc::new(ManualClock::new(
        OffsetDateTime::now_utc() + TimeDuration::days(31),
    ));
    let err = Tls::from_settings(&files.settings(), later)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("expired"), "{err}");
}

#[test]
fn a_failed_reload_keeps_the_certificate_in_use_and_a_good_one_replaces_it() {
    let (cert, key) = valid_pair();
    let files = Files::new(&cert, &key);
    let tls = Tls::from_settings(&files.settings(), clock())
        .unwrap()
        .unwrap();
    let first = served_cert(&tls);

    let (other_cert, _) = valid_pair();
    files.write(&other_cert, &key);
    let err = tls.reloader.reload().unwrap_err().to_string();
    assert!(err.contains("does not match"), "{err}");
    assert_eq!(served_cert(&tls), first, "the old certificate stays");

    std::fs::remove_file(files.key()).unwrap();
    assert!(tls.reloader.reload().is_err());
    assert_eq!(served_cert(&tls), first);

    let (new_cert, new_key) = valid_pair();
    files.write(&new_cert, &new_key);
    tls.reloader.reload().unwrap();
    assert_ne!(served_cert(&tls), first, "the new certificate is served");
}

#[test]
fn the_periodic_look_reloads_only_changed_files() {
    let (cert, key) = valid_pair();
    let files = Files::new(&cert, &key);
    let tls = Tls::from_settings(&files.settings(), clock())
        .unwrap()
        .unwrap();
    let first = served_cert(&tls);
    tls.reloader.reload_if_changed();
    assert_eq!(served_cert(&tls), first);
    let (new_cert, new_key) = valid_pair();
    files.write(&new_cert, &new_key);
    tls.reloader.reload_if_changed();
    assert_ne!(served_cert(&tls), first);
}
