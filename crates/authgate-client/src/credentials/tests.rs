//! The credentials file: what it keeps, and what it refuses.

use super::*;
use crate::store::tests::user;

/// A new directory only its owner can use, as the client makes one.
fn private_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
    }
    dir
}

/// Writes `bytes` to `path` as a file only its owner can read, as the
/// client itself would, replacing any file there.
fn write_owner_only(path: &Path, bytes: &[u8]) {
    let _ = fs::remove_file(path);
    private::write_private(path, bytes).unwrap();
}

/// What refusing `result` said.
fn refusal<T: fmt::Debug>(result: Result<T, Error>) -> String {
    match result {
        Err(e @ Error::Credentials { .. }) => e.to_string(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn credentials(server: &str) -> Credentials {
    Credentials {
        server: server.into(),
        access_token: "access-secret".into(),
        refresh_token: Some("refresh-secret".into()),
        user: user(&["user"]),
    }
}

#[test]
fn saved_credentials_load_back() {
    let dir = tempfile::tempdir().unwrap();
    let file = CredentialsFile::for_server(dir.path(), "http://127.0.0.1:8080");
    assert_eq!(file.load().unwrap(), None);
    file.save(&credentials("http://127.0.0.1:8080")).unwrap();
    assert_eq!(
        file.load().unwrap(),
        Some(credentials("http://127.0.0.1:8080"))
    );
}

#[cfg(unix)]
#[test]
fn the_file_is_readable_by_its_owner_only_and_the_directory_too() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("authgate");
    let file = CredentialsFile::for_server(&config, "https://auth.example.com");
    file.save(&credentials("https://auth.example.com")).unwrap();
    let mode = fs::metadata(file.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let mode = fs::metadata(&config).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "{mode:o}");
    // Saving again (the rename path) keeps the mode.
    file.save(&credentials("https://auth.example.com")).unwrap();
    let mode = fs::metadata(file.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
}

#[test]
fn saving_leaves_no_temporary_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    let file = CredentialsFile::for_server(dir.path(), "https://a.example");
    file.save(&credentials("https://a.example")).unwrap();
    file.save(&credentials("https://a.example")).unwrap();
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn each_server_gets_its_own_file() {
    let dir = Path::new("/config");
    let http = CredentialsFile::for_server(dir, "http://auth.example.com");
    let https = CredentialsFile::for_server(dir, "https://auth.example.com");
    assert_ne!(http, https);
    let name = https.path().file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with("auth.example.com-"), "{name}");
    let port = CredentialsFile::for_server(dir, "http://127.0.0.1:8080/../x");
    assert_eq!(port.path().parent(), Some(dir));
}

#[test]
fn list_finds_every_server_and_skips_strangers() {
    let dir = tempfile::tempdir().unwrap();
    for server in ["https://b.example", "https://a.example"] {
        CredentialsFile::for_server(dir.path(), server)
            .save(&credentials(server))
            .unwrap();
    }
    write_owner_only(&dir.path().join("junk.json"), b"{}");
    let found = CredentialsFile::list(dir.path()).unwrap();
    let servers: Vec<_> = found.iter().map(|(_, c)| c.server.as_str()).collect();
    assert_eq!(servers, ["https://a.example", "https://b.example"]);
    assert!(
        CredentialsFile::list(&dir.path().join("missing"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_corrupt_or_huge_file_is_an_error_not_a_panic() {
    let dir = private_dir();
    let file = CredentialsFile::for_server(dir.path(), "https://a.example");
    write_owner_only(file.path(), b"not json");
    assert!(refusal(file.load()).contains("not a credentials file"));
    write_owner_only(file.path(), &vec![b' '; 70 * 1024]);
    assert!(refusal(file.load()).contains("over 64 KiB"));
}

#[test]
fn delete_removes_the_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = CredentialsFile::for_server(dir.path(), "https://a.example");
    file.save(&credentials("https://a.example")).unwrap();
    assert!(file.delete().unwrap());
    assert!(!file.delete().unwrap());
}

#[test]
fn credentials_round_trip_through_a_store() {
    let store = AuthStore::new();
    credentials("https://a.example").restore_into(&store);
    assert_eq!(store.refresh_token().as_deref(), Some("refresh-secret"));
    let back = Credentials::from_store("https://a.example", &store).unwrap();
    assert_eq!(back, credentials("https://a.example"));
    let debug = format!("{back:?}");
    assert!(!debug.contains("secret"), "{debug}");
}

#[test]
fn saved_credentials_pair_the_tokens_with_the_user_of_their_session() {
    let store = AuthStore::new();
    credentials("https://a.example").restore_into(&store);
    // Another thread logs out and in as bob just after the tokens are read.
    store.set_after_read({
        let store = store.clone();
        move || {
            store.logout();
            let bob = PublicUser {
                email: "bob@example.com".into(),
                ..user(&["user"])
            };
            store.login(Tokens::new("access-bob", "refresh-bob"), bob);
        }
    });
    let saved = Credentials::from_store("https://a.example", &store).unwrap();
    assert_eq!(saved, credentials("https://a.example"));
}

#[test]
fn a_file_holding_another_servers_credentials_is_refused_and_not_listed() {
    let dir = tempfile::tempdir().unwrap();
    let mine = CredentialsFile::for_server(dir.path(), "https://a.example");
    let other = CredentialsFile::for_server(dir.path(), "https://evil.example");
    other.save(&credentials("https://evil.example")).unwrap();
    fs::rename(other.path(), mine.path()).unwrap();
    let refused = refusal(mine.load());
    assert!(refused.contains("https://evil.example"), "{refused}");
    assert!(refused.contains("not of https://a.example"), "{refused}");
    assert!(CredentialsFile::list(dir.path()).unwrap().is_empty());
    refusal(mine.save(&credentials("https://evil.example")));
}

#[cfg(unix)]
mod unix {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn chmod(path: &Path, mode: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn a_file_other_users_may_read_is_refused_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let file = CredentialsFile::for_server(dir.path(), "https://a.example");
        file.save(&credentials("https://a.example")).unwrap();
        for mode in [0o640, 0o604, 0o620] {
            chmod(file.path(), mode);
            let refused = refusal(file.load());
            assert!(refused.contains(&format!("mode {mode:o}")), "{refused}");
            assert!(refused.contains("chmod 600"), "{refused}");
            refusal(CredentialsFile::list(dir.path()));
        }
        chmod(file.path(), 0o600);
        assert!(file.load().unwrap().is_some());
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    /// Gives `path` to the user `uid`. Only a privileged process can give a
    /// file away, so the tests calling this are ignored unless run as root
    /// (`--include-ignored`), and fail here, saying so, when they are not.
    fn give_away(path: &Path, uid: u32) {
        if let Err(e) = std::os::unix::fs::chown(path, Some(uid), None) {
            panic!(
                "chown {} to uid {uid}: {e} (this test needs root)",
                path.display()
            );
        }
    }

    #[test]
    fn a_directory_other_users_may_use_is_refused_and_made_private_by_saving() {
        let dir = tempfile::tempdir().unwrap();
        chmod(dir.path(), 0o755);
        let file = CredentialsFile::for_server(dir.path(), "https://a.example");
        assert_eq!(file.load().unwrap(), None, "nothing there to trust");
        file.save(&credentials("https://a.example")).unwrap();
        assert_eq!(mode(dir.path()), 0o700);
        for loose in [0o750, 0o705, 0o770] {
            chmod(dir.path(), loose);
            let refused = refusal(file.load());
            assert!(refused.contains(&format!("mode {loose:o}")), "{refused}");
            assert!(refused.contains("chmod 700"), "{refused}");
            refusal(CredentialsFile::list(dir.path()));
        }
        file.save(&credentials("https://a.example")).unwrap();
        assert_eq!(mode(dir.path()), 0o700);
        assert!(file.load().unwrap().is_some());
    }

    #[test]
    #[ignore = "needs root: only root can give a directory or file to another user (scripts/test in CI runs as root)"]
    fn credentials_are_not_written_into_another_users_directory() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let stranger = fs::metadata(dir.path()).unwrap().uid() + 1;
        give_away(dir.path(), stranger);
        chmod(dir.path(), 0o755);
        let file = CredentialsFile::for_server(dir.path(), "https://a.example");
        let refused = refusal(file.save(&credentials("https://a.example")));
        assert!(
            refused.contains(&format!("owned by uid {stranger}")),
            "{refused}"
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        assert_eq!(mode(dir.path()), 0o755);
    }

    #[test]
    fn a_symbolic_link_in_place_of_the_file_is_not_followed() {
        let dir = private_dir();
        let elsewhere = tempfile::tempdir().unwrap();
        let planted = CredentialsFile::for_server(elsewhere.path(), "https://a.example");
        planted.save(&credentials("https://a.example")).unwrap();
        let file = CredentialsFile::for_server(dir.path(), "https://a.example");
        std::os::unix::fs::symlink(planted.path(), file.path()).unwrap();
        let refused = refusal(file.load());
        assert!(refused.contains("symbolic link"), "{refused}");
        refusal(CredentialsFile::list(dir.path()));
    }

    #[test]
    #[ignore = "needs root: only root can give a directory or file to another user (scripts/test in CI runs as root)"]
    fn a_file_owned_by_another_user_is_refused() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let file = CredentialsFile::for_server(dir.path(), "https://a.example");
        file.save(&credentials("https://a.example")).unwrap();
        let stranger = fs::metadata(dir.path()).unwrap().uid() + 1;
        give_away(file.path(), stranger);
        let refused = refusal(file.load());
        assert!(
            refused.contains(&format!("owned by uid {stranger}")),
            "{refused}"
        );
    }

    #[test]
    fn saving_syncs_the_directory_once_the_new_file_is_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let file = CredentialsFile::for_server(dir.path(), "https://a.example");
        let name = file.path().file_name().unwrap().to_owned();
        file.save(&credentials("https://a.example")).unwrap();
        file.save(&credentials("https://a.example")).unwrap();
        // After each rename, so nothing of the old file can come back.
        let expected = (dir.path().to_path_buf(), vec![name]);
        assert_eq!(private::tests::synced(), [expected.clone(), expected]);
    }
}
