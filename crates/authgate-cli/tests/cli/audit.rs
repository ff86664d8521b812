//! `authgate audit tail` through the real binary, on the stores directly (and
//! what `authgate user mfa-reset` records there).

use std::path::Path;
use std::process::{Output, Stdio};

use serde_json::Value;

use crate::support;

fn authgate(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    support::run_ok(args, stdin, &support::borrowed(&support::on_stores(dir)))
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn audit_tail_prints_the_trail_oldest_first_filtered_by_kind_and_user() {
    let dir = tempfile::tempdir().unwrap();
    let password = "violet-harbor-quantum-47-lantern\n";
    for email in ["ann@example.com", "bob@example.com"] {
        authgate(
            dir.path(),
            &["user", "add", "--email", email, "--password-stdin"],
            Some(password),
        );
    }
    authgate(dir.path(), &["user", "disable", "bob@example.com"], None);

    let all = lines(&authgate(dir.path(), &["audit", "tail", "--json"], None));
    let kinds: Vec<&str> = all.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["user.registered", "user.registered", "user.disabled"]
    );

    let disabled = lines(&authgate(
        dir.path(),
        &["audit", "tail", "--json", "--kind", "user.disabled"],
        None,
    ));
    assert_eq!(disabled.len(), 1);
    let bobs = lines(&authgate(
        dir.path(),
        &["audit", "tail", "--json", "--user", "bob@example.com"],
        None,
    ));
    assert_eq!(bobs.len(), 2);
    assert!(bobs.iter().all(|e| e["user_id"] == disabled[0]["user_id"]));
    let latest = lines(&authgate(
        dir.path(),
        &["audit", "tail", "--json", "--limit", "1"],
        None,
    ));
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0]["kind"], "user.disabled");
    // The human format names the kind too, and never the password.
    let text = String::from_utf8(authgate(dir.path(), &["audit", "tail"], None).stdout).unwrap();
    assert_eq!(text.lines().count(), 3);
    assert!(text.contains("user.disabled"));
    assert!(!text.contains("violet-harbor"));
}

#[test]
fn audit_tail_follow_prints_events_recorded_after_it_started() {
    use std::io::{BufRead, BufReader};
    use std::sync::mpsc;
    use std::time::Duration;

    let dir = tempfile::tempdir().unwrap();
    let password = "violet-harbor-quantum-47-lantern\n";
    authgate(
        dir.path(),
        &[
            "user",
            "add",
            "--email",
            "ann@example.com",
            "--password-stdin",
        ],
        Some(password),
    );
    let data_dir = dir.path().display().to_string();
    let mut child = support::command(
        &["audit", "tail", "--follow", "--json"],
        &[("AUTHGATE_STORAGE__DATA_DIR", &data_dir)],
    )
    .stdin(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first: Value =
        serde_json::from_str(&rx.recv_timeout(Duration::from_secs(20)).unwrap()).unwrap();
    assert_eq!(first["kind"], "user.registered");
    authgate(dir.path(), &["user", "disable", "ann@example.com"], None);
    let next = rx.recv_timeout(Duration::from_secs(20));
    let _ = child.kill();
    let _ = child.wait();
    let next: Value = serde_json::from_str(&next.expect("the new event is printed")).unwrap();
    assert_eq!(next["kind"], "user.disabled");
    assert!(rx.try_recv().is_err(), "nothing printed twice");
}

#[test]
fn user_list_and_audit_tail_print_identifiers_escaped() {
    use authgate_core::{AuditStore, Origin, UserStore};
    let dir = tempfile::tempdir().unwrap();
    // Rows from before the input rules: a bidi override and an ESC sequence.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = authgate_store::SqliteStore::open(&dir.path().join("authgate.db"))
            .await
            .unwrap();
        let now = time::OffsetDateTime::now_utc();
        let user = authgate_core::User {
            id: uuid::Uuid::now_v7(),
            email: "rtl\u{202e}moc.elpmaxe@evil.test".to_owned(),
            username: Some("esc\u{1b}[31m".to_owned()),
            name: None,
            password_hash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".to_owned(),
            roles: vec!["user".to_owned()],
            is_active: true,
            email_verified_at: None,
            created_at: now,
            updated_at: now,
        };
        store.insert_user(&user).await.unwrap();
        let mut event = authgate_core::audit_event(
            authgate_proto::AuditKind::CLIENT_CREATED,
            now,
            &Origin::default(),
        );
        event.actor_id = Some("svc\u{202e}x".to_owned());
        store.append_event(&event).await.unwrap();
    });
    let list = authgate(dir.path(), &["user", "list"], None);
    let list = String::from_utf8(list.stdout).unwrap();
    assert!(list.contains(r"rtl\u{202e}moc.elpmaxe@evil.test"), "{list}");
    assert!(list.contains(r"esc\u{1b}[31m"), "{list}");
    let tail = authgate(dir.path(), &["audit", "tail"], None);
    let tail = String::from_utf8(tail.stdout).unwrap();
    assert!(tail.contains(r"actor=svc\u{202e}x"), "{tail}");
    for out in [&list, &tail] {
        assert!(!out.contains(['\u{202e}', '\u{1b}']), "{out}");
    }
}

#[test]
fn user_mfa_reset_is_audited_without_an_actor_and_says_what_it_ended() {
    let dir = tempfile::tempdir().unwrap();
    authgate(
        dir.path(),
        &[
            "user",
            "add",
            "--email",
            "cy@example.com",
            "--password-stdin",
        ],
        Some("violet-harbor-quantum-47-lantern\n"),
    );
    let out = authgate(dir.path(), &["user", "mfa-reset", "cy@example.com"], None);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("reset the second factor of cy@example.com (")
            && text.trim_end().ends_with("revoked 0 session(s)"),
        "{text}"
    );
    let reset = lines(&authgate(
        dir.path(),
        &["audit", "tail", "--json", "--kind", "mfa.reset"],
        None,
    ));
    assert_eq!(reset.len(), 1);
    assert_eq!(reset[0]["actor_id"], Value::Null, "the operator");
    assert_eq!(reset[0]["details"]["factor"], "none");
}
