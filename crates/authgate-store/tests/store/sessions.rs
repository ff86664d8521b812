//! `SessionStore`: sessions, refresh-token chains, rotation under
//! concurrency, revocation and clean-up.

use std::sync::Arc;

use authgate_core::{
    AuditStore, RefreshToken, Session, SessionCursor, SessionStore, StoreError, TokenHash,
    UserStore,
};
use authgate_proto::{AuditEvent, AuditKind};
use uuid::Uuid;

use crate::fixtures::{at, session, token, user};

/// Creates `session` with the first token `"{name}-0"`, returning the session.
pub(crate) async fn create(sessions: &dyn SessionStore, session: &Session, name: &str) -> Session {
    let first = token(&format!("{name}-0"), session, 0, session.created_at);
    assert!(sessions.create_session(session, &first).await.unwrap());
    session.clone()
}

/// A user with one session (1 h from `at(0)`) and its first token `"s-0"`.
async fn one_session(
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
) -> (Session, RefreshToken) {
    let ann = user("ann@example.com", Some("ann"));
    users.insert_user(&ann).await.unwrap();
    let s = session(ann.id, at(0), 3600);
    let first = token("s-0", &s, 0, at(0));
    assert!(sessions.create_session(&s, &first).await.unwrap());
    (s, first)
}

pub(crate) async fn created_session_and_first_token_read_back(
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
) {
    let (s, first) = one_session(users, sessions).await;
    assert_eq!(sessions.session(s.id).await.unwrap(), Some(s.clone()));
    assert_eq!(
        sessions.refresh_token(&first.hash).await.unwrap(),
        Some(first)
    );
    assert_eq!(
        sessions
            .refresh_token(&TokenHash::of("unknown"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(sessions.session(Uuid::now_v7()).await.unwrap(), None);
    assert_eq!(
        sessions.live_sessions(s.user_id, at(1)).await.unwrap(),
        vec![s]
    );
    assert_eq!(sessions.count_live_sessions(at(1)).await.unwrap(), 1);
}

pub(crate) async fn failed_create_session_leaves_no_session_behind(
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
) {
    let (s, _) = one_session(users, sessions).await;
    // Same first-token hash as the existing session: the token insert fails.
    let other = session(s.user_id, at(10), 3600);
    let clash = token("s-0", &other, 0, at(10));
    assert!(sessions.create_session(&other, &clash).await.is_err());
    assert_eq!(sessions.session(other.id).await.unwrap(), None);
    // Nor for an unknown user.
    let orphan = session(Uuid::now_v7(), at(10), 3600);
    let orphan_first = token("o-0", &orphan, 0, at(10));
    assert!(
        !sessions
            .create_session(&orphan, &orphan_first)
            .await
            .unwrap()
    );
    assert_eq!(sessions.session(orphan.id).await.unwrap(), None);
    assert_eq!(
        sessions.refresh_token(&orphan_first.hash).await.unwrap(),
        None
    );
    // Nor for a disabled one: a login that read the user as enabled before
    // a disable committed must not leave a live session behind it.
    let bob = user("bob@example.com", Some("bob"));
    users.insert_user(&bob).await.unwrap();
    users.set_active(bob.id, false, at(10)).await.unwrap();
    let late = session(bob.id, at(10), 3600);
    let late_first = token("l-0", &late, 0, at(10));
    assert!(!sessions.create_session(&late, &late_first).await.unwrap());
    assert_eq!(sessions.session(late.id).await.unwrap(), None);
    assert_eq!(
        sessions.refresh_token(&late_first.hash).await.unwrap(),
        None
    );
    users.set_active(bob.id, true, at(11)).await.unwrap();
    assert!(sessions.create_session(&late, &late_first).await.unwrap());
    assert_eq!(sessions.count_live_sessions(at(11)).await.unwrap(), 2);
}

pub(crate) async fn live_sessions_are_unrevoked_unexpired_and_newest_first(
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
) {
    let ann = user("ann@example.com", None);
    users.insert_user(&ann).await.unwrap();
    let old = create(sessions, &session(ann.id, at(0), 3600), "old").await;
    let new = create(sessions, &session(ann.id, at(100), 3600), "new").await;
    let short = create(sessions, &session(ann.id, at(50), 100), "short").await;
    let gone = create(sessions, &session(ann.id, at(60), 3600), "gone").await;
    sessions.revoke_session(gone.id, at(70)).await.unwrap();
    assert_eq!(
        sessions.live_sessions(ann.id, at(120)).await.unwrap(),
        vec![new.clone(), short.clone(), old.clone()]
    );
    // Expiry is exclusive: at expires_at the session is over.
    assert_eq!(
        sessions.live_sessions(ann.id, at(150)).await.unwrap(),
        vec![new, old]
    );
    assert_eq!(sessions.count_live_sessions(at(120)).await.unwrap(), 3);
    assert_eq!(sessions.count_live_sessions(at(150)).await.unwrap(), 2);
    assert_eq!(sessions.count_live_sessions(at(10_000)).await.unwrap(), 0);
}

pub(crate) async fn rotate_marks_the_parent_used_inserts_the_successor_and_touches_the_session(
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
) {
    let (s, first) = one_session(users, sessions).await;
    let next = token("s-1", &s, 1, at(30));
    assert!(
        sessions
            .rotate(&first.hash, &next, b"sealed s-1", at(30))
            .await
            .unwrap()
    );

    let parent = sessions.refresh_token(&first.hash).await.unwrap().unwrap();
    assert_eq!(parent.used_at, Some(at(30)));
    assert_eq!(parent.successor, Some(next.hash));
    assert_eq!(parent.successor_sealed.as_deref(), Some(&b"sealed s-1"[..]));
    assert_eq!(parent.generation, 0);
    assert_eq!(
        sessions.refresh_token(&next.hash).await.unwrap(),
        Some(next.clone())
    );
    let touched = sessions.session(s.id).await.unwrap().unwrap();
    assert_eq!(touched.last_used_at, at(30));
    assert_eq!(touched.created_at, s.created_at);

    // The successor rotates in turn.
    let third = token("s-2", &s, 2, at(60));
    assert!(
        sessions
            .rotate(&next.hash, &third, b"sealed s-2", at(60))
            .await
            .unwrap()
    );
    assert_eq!(
        sessions.session(s.id).await.unwrap().unwrap().last_used_at,
        at(60)
    );
}

pub(crate) async fn rotating_a_used_parent_again_returns_false_and_changes_nothing(
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
) {
    let (s, first) = one_session(users, sessions).await;
    let winner = token("s-1", &s, 1, at(30));
    assert!(
        sessions
            .rotate(&first.hash, &winner, b"sealed winner", at(30))
            .await
            .unwrap()
    );
    let before = sessions.refresh_token(&first.hash).await.unwrap();

    let loser = token("s-1-again", &s, 1, at(40));
    assert!(
        !sessions
            .rotate(&first.hash, &loser, b"sealed loser", at(40))
            .await
            .unwrap()
    );
    assert_eq!(sessions.refresh_token(&first.hash).await.unwrap(), before);
    assert_eq!(sessions.refresh_token(&loser.hash).await.unwrap(), None);
    assert_eq!(
        sessions.session(s.id).await.unwrap().unwrap().last_used_at,
        at(30)
    );
}

pub(crate) async fn rotate_refuses_revoked_expired_sessions_and_unknown_parents(
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
) {
    let (s, first) = one_session(users, sessions).await;
    // Unknown parent.
    let next = token("s-1", &s, 1, at(10));
    assert!(
        !sessions
            .rotate(&TokenHash::of("nope"), &next, b"x", at(10))
            .await
            .unwrap()
    );
    // Expired session (expires_at = at(3600); expiry is exclusive).
    assert!(
        !sessions
            .rotate(&first.hash, &next, b"x", at(3600))
            .await
            .unwrap()
    );
    assert_eq!(sessions.refresh_token(&next.hash).await.unwrap(), None);
    assert_eq!(
        sessions
            .refresh_token(&first.hash)
            .await
            .unwrap()
            .unwrap()
            .used_at,
        None
    );
    // Revoked session.
    assert!(sessions.revoke_session(s.id, at(20)).await.unwrap());
    assert!(
        !sessions
            .rotate(&first.hash, &next, b"x", at(30))
            .await
            .unwrap()
    );
    let parent = sessions.refresh_token(&first.hash).await.unwrap().unwrap();
    assert_eq!(parent.used_at, None);
    assert_eq!(parent.successor, None);
    assert_eq!(sessions.refresh_token(&next.hash).await.unwrap(), None);
    assert_eq!(
        sessions.session(s.id).await.unwrap().unwrap().last_used_at,
        at(0)
    );
}

pub(crate) async fn concurrent_rotations_of_one_parent_have_exactly_one_winner(
    users: &dyn UserStore,
    sessions: Arc<dyn SessionStore>,
) {
    const RACERS: usize = 20;
    let (s, first) = one_session(users, sessions.as_ref()).await;
    let candidates: Vec<RefreshToken> = (0..RACERS)
        .map(|n| token(&format!("racer-{n}"), &s, 1, at(30)))
        .collect();
    // Reads from every racer at once first, so a pooled store opens its
    // connections now rather than one per racer during the race.
    let readers: Vec<_> = (0..RACERS)
        .map(|_| {
            let (sessions, parent) = (sessions.clone(), first.hash);
            tokio::spawn(async move { sessions.refresh_token(&parent).await })
        })
        .collect();
    for reader in readers {
        reader.await.unwrap().unwrap();
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(RACERS));
    let mut tasks = Vec::new();
    for candidate in candidates.clone() {
        let (sessions, barrier, parent) = (sessions.clone(), barrier.clone(), first.hash);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            sessions
                .rotate(&parent, &candidate, b"sealed", at(30))
                .await
        }));
    }
    let mut winners = 0;
    for task in tasks {
        if task.await.unwrap().unwrap() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
    let parent = sessions.refresh_token(&first.hash).await.unwrap().unwrap();
    let chosen = parent.successor.unwrap();
    for candidate in &candidates {
        let stored = sessions.refresh_token(&candidate.hash).await.unwrap();
        assert_eq!(stored.is_some(), candidate.hash == chosen);
    }
}

pub(crate) async fn revoke_session_is_idempotent_and_reports_the_first_time(
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
) {
    let (s, _) = one_session(users, sessions).await;
    assert!(sessions.revoke_session(s.id, at(10)).await.unwrap());
    assert!(!sessions.revoke_session(s.id, at(20)).await.unwrap());
    assert_eq!(
        sessions.session(s.id).await.unwrap().unwrap().revoked_at,
        Some(at(10))
    );
    assert!(
        !sessions
            .revoke_session(Uuid::now_v7(), at(20))
            .await
            .unwrap()
    );
    assert_eq!(sessions.count_live_sessions(at(30)).await.unwrap(), 0);
}

pub(crate) async fn revoke_user_sessions_returns_only_the_ones_it_revoked(
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
) {
    let ann = user("ann@example.com", None);
    let bob = user("bob@example.com", None);
    users.insert_user(&ann).await.unwrap();
    users.insert_user(&bob).await.unwrap();
    let a1 = create(sessions, &session(ann.id, at(0), 3600), "a1").await;
    let a2 = create(sessions, &session(ann.id, at(1), 3600), "a2").await;
    let a3 = create(sessions, &session(ann.id, at(2), 3600), "a3").await;
    sessions.revoke_session(a3.id, at(5)).await.unwrap();
    let b1 = create(sessions, &session(bob.id, at(0), 3600), "b1").await;

    let mut ids = sessions.revoke_user_sessions(ann.id, at(10)).await.unwrap();
    ids.sort();
    let mut expected = vec![a1.id, a2.id];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(
        sessions
            .revoke_user_sessions(ann.id, at(20))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        sessions.session(a3.id).await.unwrap().unwrap().revoked_at,
        Some(at(5))
    );
    assert_eq!(
        sessions.live_sessions(bob.id, at(20)).await.unwrap(),
        vec![b1]
    );
}

pub(crate) async fn revoked_since_lists_sessions_revoked_at_or_after_the_instant(
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
) {
    let ann = user("ann@example.com", None);
    users.insert_user(&ann).await.unwrap();
    let early = create(sessions, &session(ann.id, at(0), 3600), "early").await;
    let exact = create(sessions, &session(ann.id, at(0), 3600), "exact").await;
    let late = create(sessions, &session(ann.id, at(0), 3600), "late").await;
    create(sessions, &session(ann.id, at(0), 3600), "never").await;
    sessions.revoke_session(early.id, at(10)).await.unwrap();
    sessions.revoke_session(exact.id, at(20)).await.unwrap();
    sessions.revoke_session(late.id, at(30)).await.unwrap();

    let mut ids = sessions.revoked_since(at(20)).await.unwrap();
    ids.sort();
    let mut expected = vec![exact.id, late.id];
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(sessions.revoked_since(at(0)).await.unwrap().len(), 3);
    assert!(sessions.revoked_since(at(31)).await.unwrap().is_empty());
}

pub(crate) async fn wipe_sealed_successors_clears_only_tokens_used_before_the_instant(
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
) {
    let (s, first) = one_session(users, sessions).await;
    let second = token("s-1", &s, 1, at(10));
    let third = token("s-2", &s, 2, at(20));
    assert!(
        sessions
            .rotate(&first.hash, &second, b"sealed s-1", at(10))
            .await
            .unwrap()
    );
    assert!(
        sessions
            .rotate(&second.hash, &third, b"sealed s-2", at(20))
            .await
            .unwrap()
    );

    assert_eq!(
        sessions.wipe_sealed_successors(at(10)).await.unwrap(),
        0,
        "the bound is exclusive"
    );
    assert_eq!(sessions.wipe_sealed_successors(at(20)).await.unwrap(), 1);
    let wiped = sessions.refresh_token(&first.hash).await.unwrap().unwrap();
    assert_eq!(wiped.successor_sealed, None);
    assert_eq!(
        wiped.successor,
        Some(second.hash),
        "the chain is kept for reuse detection"
    );
    assert_eq!(wiped.used_at, Some(at(10)));
    let kept = sessions.refresh_token(&second.hash).await.unwrap().unwrap();
    assert_eq!(kept.successor_sealed.as_deref(), Some(&b"sealed s-2"[..]));
    assert_eq!(
        sessions.wipe_sealed_successors(at(20)).await.unwrap(),
        0,
        "nothing left to wipe"
    );
    assert_eq!(sessions.wipe_sealed_successors(at(100)).await.unwrap(), 1);
}

pub(crate) async fn purge_ended_deletes_only_what_ended_before_the_instant(
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
) {
    let ann = user("ann@example.com", Some("ann"));
    users.insert_user(&ann).await.unwrap();
    // Sessions of an hour from t=0: `expired` ends at 3600, `revoked` is
    // revoked at 100, `recent` is revoked at 5000, `live` runs to 3600 + 10000.
    let mut made = Vec::new();
    for (name, ttl) in [
        ("expired", 3600),
        ("revoked", 3600),
        ("recent", 3600),
        ("live", 13_600),
    ] {
        let s = session(ann.id, at(0), ttl);
        let first = token(&format!("{name}-0"), &s, 0, at(0));
        sessions.create_session(&s, &first).await.unwrap();
        made.push((s, first));
    }
    let [
        (expired, expired_token),
        (revoked, revoked_token),
        (recent, _),
        (live, live_token),
    ] = <[_; 4]>::try_from(made).unwrap();
    assert!(sessions.revoke_session(revoked.id, at(100)).await.unwrap());
    assert!(sessions.revoke_session(recent.id, at(5000)).await.unwrap());
    sessions
        .revoke_token("old-jti", at(1000), at(10))
        .await
        .unwrap();
    sessions
        .revoke_token("new-jti", at(9000), at(10))
        .await
        .unwrap();

    // At 4000: `expired` ended at 3600 and `revoked` at 100; the rest did not.
    assert_eq!(
        sessions.purge_ended(at(4000), 1).await.unwrap(),
        2,
        "one session and one revocation: the limit applies to each"
    );
    assert_eq!(sessions.purge_ended(at(4000), 100).await.unwrap(), 1);
    assert_eq!(sessions.purge_ended(at(4000), 100).await.unwrap(), 0);

    for (gone, its_token) in [(&expired, &expired_token), (&revoked, &revoked_token)] {
        assert_eq!(sessions.session(gone.id).await.unwrap(), None);
        assert_eq!(
            sessions.refresh_token(&its_token.hash).await.unwrap(),
            None,
            "its refresh tokens went with it"
        );
    }
    assert!(sessions.session(recent.id).await.unwrap().is_some());
    assert!(sessions.session(live.id).await.unwrap().is_some());
    assert!(
        sessions
            .refresh_token(&live_token.hash)
            .await
            .unwrap()
            .is_some()
    );
    let kept: Vec<_> = sessions
        .revoked_tokens_since(at(0), at(0))
        .await
        .unwrap()
        .into_iter()
        .map(|(jti, _)| jti)
        .collect();
    assert_eq!(kept, ["new-jti"]);
}

/// A client that disconnects mid-login drops the request future while the
/// store is inside a transaction. Under load this once left a pooled SQLite
/// connection inside its transaction, failing every later write; writes now
/// run to completion on their own task, so abandoned ones leave the store
/// usable, whatever the backend.
pub(crate) async fn writes_abandoned_midway_leave_the_store_usable(
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
) {
    let owner = user("owner@example.com", None);
    users.insert_user(&owner).await.unwrap();
    for round in 0..200 {
        let s = session(owner.id, at(1_000), 3_600);
        let first = token(&format!("abandoned-{round}"), &s, 0, at(1_000));
        let write = sessions.create_session(&s, &first);
        // Poll it a little, then drop it, as axum does when the client goes away.
        let _ = tokio::time::timeout(std::time::Duration::from_micros(round % 50), write).await;
    }
    // Every later write still works, promptly, and reads see it.
    for round in 0..20 {
        let s = session(owner.id, at(2_000), 3_600);
        let first = token(&format!("after-{round}"), &s, 0, at(2_000));
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            sessions.create_session(&s, &first),
        )
        .await
        .expect("a write after abandoned ones does not hang")
        .expect("a write after abandoned ones succeeds");
        assert_eq!(sessions.session(s.id).await.unwrap(), Some(s));
    }
}

pub(crate) async fn live_sessions_page_walks_every_live_session_once_newest_first(
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
) {
    let ann = user("ann@example.com", None);
    users.insert_user(&ann).await.unwrap();
    let bob = user("bob@example.com", None);
    users.insert_user(&bob).await.unwrap();
    // Five sessions, two of them created in the same microsecond (the id
    // breaks the tie), one revoked, one expired, and one of someone else.
    let mut made = Vec::new();
    for (i, start) in [0, 10, 10, 20, 30].into_iter().enumerate() {
        made.push(
            create(
                sessions,
                &session(ann.id, at(start), 3600),
                &format!("p{i}"),
            )
            .await,
        );
    }
    let gone = create(sessions, &session(ann.id, at(15), 3600), "gone").await;
    sessions.revoke_session(gone.id, at(40)).await.unwrap();
    create(sessions, &session(ann.id, at(-3600), 3610), "expired").await;
    create(sessions, &session(bob.id, at(25), 3600), "bob").await;

    let all = sessions.live_sessions(ann.id, at(50)).await.unwrap();
    assert_eq!(all.len(), 5);
    let mut walked = Vec::new();
    let mut after: Option<SessionCursor> = None;
    loop {
        let page = sessions
            .live_sessions_page(ann.id, at(50), after, 2)
            .await
            .unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = Some(SessionCursor::after(last));
        walked.extend(page);
    }
    assert_eq!(
        walked, all,
        "every live session once, in the listing's order"
    );
    let first = sessions
        .live_sessions_page(ann.id, at(50), None, 3)
        .await
        .unwrap();
    assert_eq!(first, all[..3]);
    // A session that appears before the cursor does not shift the next page.
    create(sessions, &session(ann.id, at(45), 3600), "newer").await;
    let next = sessions
        .live_sessions_page(ann.id, at(50), Some(SessionCursor::after(&all[2])), 3)
        .await
        .unwrap();
    assert_eq!(next, all[3..]);
}

/// An audit record of a logout by `user_id`.
fn logout_event(user_id: Uuid) -> AuditEvent {
    AuditEvent {
        id: Uuid::now_v7(),
        at: at(5),
        kind: AuditKind::LOGOUT,
        user_id: Some(user_id),
        actor_id: None,
        client_id: None,
        session_id: None,
        ip: None,
        user_agent: None,
        details: serde_json::Map::new(),
    }
}

pub(crate) async fn revoking_several_sessions_is_one_transaction_with_its_audit_record(
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
    audit: &dyn AuditStore,
) {
    let ann = user("ann@example.com", None);
    users.insert_user(&ann).await.unwrap();
    let own = create(sessions, &session(ann.id, at(0), 3600), "own").await;
    let other = create(sessions, &session(ann.id, at(1), 3600), "other").await;

    // The last write of the transaction fails (its audit record's id is
    // taken), after both revocations ran: neither may remain.
    let taken = logout_event(ann.id);
    audit.append_event(&taken).await.unwrap();
    let err = sessions
        .revoke_sessions_audited(&[own.id, other.id], at(5), Some(&taken))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict("audit event id")),
        "{err:?}"
    );
    for id in [own.id, other.id] {
        assert_eq!(
            sessions.session(id).await.unwrap().unwrap().revoked_at,
            None,
            "a failure part-way revokes nothing"
        );
    }

    let logout = logout_event(ann.id);
    let revoked = sessions
        .revoke_sessions_audited(&[own.id, other.id], at(5), Some(&logout))
        .await
        .unwrap();
    assert_eq!(revoked, vec![own.id, other.id]);
    for id in [own.id, other.id] {
        assert_eq!(
            sessions.session(id).await.unwrap().unwrap().revoked_at,
            Some(at(5))
        );
    }
    let again = sessions
        .revoke_sessions_audited(&[own.id, other.id], at(6), None)
        .await
        .unwrap();
    assert!(
        again.is_empty(),
        "only sessions this call revoked are returned"
    );
}

/// An audit record of a refresh of `s`, as the service writes it.
fn refreshed_event(s: &Session) -> AuditEvent {
    AuditEvent {
        kind: AuditKind::TOKEN_REFRESHED,
        session_id: Some(s.id),
        ..logout_event(s.user_id)
    }
}

/// The ids of the audit records about `user`, newest first.
async fn recorded_ids(audit: &dyn AuditStore, user: Uuid) -> Vec<Uuid> {
    audit
        .events(&authgate_core::AuditFilter {
            user_id: Some(user),
            limit: 50,
            ..authgate_core::AuditFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect()
}

pub(crate) async fn a_rotation_and_its_audit_record_commit_together_or_not_at_all(
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
    audit: &dyn AuditStore,
) {
    let (s, first) = one_session(users, sessions).await;
    let next = token("s-1", &s, 1, at(30));

    // The record's id is taken: its insert, the last step, fails after the
    // claim ran, and the claim must not remain.
    let taken = refreshed_event(&s);
    audit.append_event(&taken).await.unwrap();
    let err = sessions
        .rotate_audited(&first.hash, &next, b"sealed", at(30), Some(&taken))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict("audit event id")),
        "{err:?}"
    );
    assert_eq!(
        sessions.refresh_token(&first.hash).await.unwrap(),
        Some(first.clone()),
        "the parent is still unused"
    );
    assert_eq!(sessions.refresh_token(&next.hash).await.unwrap(), None);

    let recorded = refreshed_event(&s);
    assert!(
        sessions
            .rotate_audited(&first.hash, &next, b"sealed", at(30), Some(&recorded))
            .await
            .unwrap()
    );
    // A lost race writes no record.
    let lost = refreshed_event(&s);
    let other = token("s-1-again", &s, 1, at(31));
    assert!(
        !sessions
            .rotate_audited(&first.hash, &other, b"sealed", at(31), Some(&lost))
            .await
            .unwrap()
    );
    let ids = recorded_ids(audit, s.user_id).await;
    assert!(ids.contains(&recorded.id), "{ids:?}");
    assert!(!ids.contains(&lost.id), "{ids:?}");
}

pub(crate) async fn refresh_context_reads_the_token_with_its_session_and_user(
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
) {
    let (s, first) = one_session(users, sessions).await;
    let ann = users.user_by_id(s.user_id).await.unwrap();
    let found = sessions
        .refresh_context(&first.hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.token, first);
    assert_eq!(found.session, Some(s.clone()));
    assert_eq!(found.user, ann);
    assert!(
        sessions
            .refresh_context(&TokenHash::of("unknown"))
            .await
            .unwrap()
            .is_none()
    );
    // What ended is still read as it is: the caller decides.
    assert!(sessions.revoke_session(s.id, at(5)).await.unwrap());
    let found = sessions
        .refresh_context(&first.hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.session.unwrap().revoked_at, Some(at(5)));
    assert_eq!(found.user, ann);
}

pub(crate) async fn concurrent_rotations_of_many_sessions_all_win(
    users: &dyn UserStore,
    sessions: Arc<dyn SessionStore>,
) {
    const SESSIONS: usize = 40;
    let ann = user("ann@example.com", Some("ann"));
    users.insert_user(&ann).await.unwrap();
    let mut chains = Vec::new();
    for n in 0..SESSIONS {
        let s = create(
            sessions.as_ref(),
            &session(ann.id, at(0), 3600),
            &format!("s{n}"),
        )
        .await;
        let first = token(&format!("s{n}-0"), &s, 0, at(0));
        let next = token(&format!("s{n}-1"), &s, 1, at(30));
        chains.push((first, next));
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(SESSIONS));
    let tasks: Vec<_> = chains
        .iter()
        .cloned()
        .map(|(first, next)| {
            let (sessions, barrier) = (sessions.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                sessions.rotate(&first.hash, &next, b"sealed", at(30)).await
            })
        })
        .collect();
    for task in tasks {
        assert!(
            task.await.unwrap().unwrap(),
            "every session's rotation wins"
        );
    }
    for (first, next) in &chains {
        let parent = sessions.refresh_token(&first.hash).await.unwrap().unwrap();
        assert_eq!(parent.successor, Some(next.hash));
        assert_eq!(
            sessions.refresh_token(&next.hash).await.unwrap().as_ref(),
            Some(next)
        );
    }
}

/// Concurrent new sessions all land, and one the database refuses (its id
/// is taken) fails alone: on SQLite they share group commits, and a group
/// that fails is retried write by write.
pub(crate) async fn a_refused_write_fails_alone_among_concurrent_ones(
    users: &dyn UserStore,
    sessions: Arc<dyn SessionStore>,
) {
    const SESSIONS: usize = 40;
    let ann = user("ann@example.com", Some("ann"));
    users.insert_user(&ann).await.unwrap();
    let taken = create(sessions.as_ref(), &session(ann.id, at(0), 3600), "taken").await;
    let mut fresh: Vec<Session> = (0..SESSIONS)
        .map(|_| session(ann.id, at(0), 3600))
        .collect();
    let duplicate = Session {
        id: taken.id,
        ..fresh[0].clone()
    };
    fresh[SESSIONS / 2] = duplicate;
    let barrier = Arc::new(tokio::sync::Barrier::new(SESSIONS));
    let tasks: Vec<_> = fresh
        .iter()
        .cloned()
        .enumerate()
        .map(|(n, s)| {
            let (sessions, barrier) = (sessions.clone(), barrier.clone());
            tokio::spawn(async move {
                let first = token(&format!("fresh-{n}"), &s, 0, at(0));
                barrier.wait().await;
                sessions.create_session(&s, &first).await
            })
        })
        .collect();
    for (n, task) in tasks.into_iter().enumerate() {
        let outcome = task.await.unwrap();
        if n == SESSIONS / 2 {
            assert!(outcome.is_err(), "a taken session id is refused");
        } else {
            assert!(outcome.unwrap(), "session {n} is created");
            let stored = sessions.session(fresh[n].id).await.unwrap();
            assert_eq!(stored.as_ref(), Some(&fresh[n]));
        }
    }
    assert_eq!(
        sessions.session(taken.id).await.unwrap().as_ref(),
        Some(&taken),
        "the session whose id was taken is unchanged"
    );
    let live = sessions.live_sessions(ann.id, at(1)).await.unwrap();
    assert_eq!(live.len(), SESSIONS, "the earlier one and 39 new ones");
}

/// A new session, its first token and its audit record are written
/// together: not at all for a disabled user, and not at all when the
/// record cannot be written (its id is taken).
pub(crate) async fn a_new_session_and_its_audit_record_commit_together_or_not_at_all(
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
    audit: &dyn AuditStore,
) {
    let ann = user("ann@example.com", Some("ann"));
    users.insert_user(&ann).await.unwrap();

    let s = session(ann.id, at(0), 3600);
    let first = token("s-0", &s, 0, at(0));
    let login = AuditEvent {
        session_id: Some(s.id),
        ..logout_event(ann.id)
    };
    assert!(
        sessions
            .create_session_audited(&s, &first, Some(&login))
            .await
            .unwrap()
    );
    assert_eq!(sessions.session(s.id).await.unwrap(), Some(s.clone()));
    assert_eq!(
        sessions.refresh_token(&first.hash).await.unwrap(),
        Some(first)
    );
    assert_eq!(recorded_ids(audit, ann.id).await, vec![login.id]);

    // The record's id is taken: the last step fails, and the session and
    // its token must not remain.
    let refused = session(ann.id, at(1), 3600);
    let refused_first = token("r-0", &refused, 0, at(1));
    let err = sessions
        .create_session_audited(&refused, &refused_first, Some(&login))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict("audit event id")),
        "{err:?}"
    );
    assert_eq!(sessions.session(refused.id).await.unwrap(), None);
    assert_eq!(
        sessions.refresh_token(&refused_first.hash).await.unwrap(),
        None
    );

    users.set_active(ann.id, false, at(2)).await.unwrap();
    let disabled = session(ann.id, at(3), 3600);
    let disabled_first = token("d-0", &disabled, 0, at(3));
    let unwritten = AuditEvent {
        session_id: Some(disabled.id),
        ..logout_event(ann.id)
    };
    assert!(
        !sessions
            .create_session_audited(&disabled, &disabled_first, Some(&unwritten))
            .await
            .unwrap(),
        "a disabled user gets no session"
    );
    assert_eq!(sessions.session(disabled.id).await.unwrap(), None);
    assert_eq!(
        sessions.refresh_token(&disabled_first.hash).await.unwrap(),
        None
    );
    assert_eq!(
        recorded_ids(audit, ann.id).await,
        vec![login.id],
        "and no record"
    );
}

/// A password change is one transaction: the new hash, every other live
/// session of the user revoked (the caller's kept, another user's
/// untouched) and its record counting them; or, when the hash changed
/// meanwhile or the record cannot be written, nothing at all.
pub(crate) async fn a_password_change_ends_the_other_sessions_with_its_record_or_changes_nothing(
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
    audit: &dyn AuditStore,
) {
    let ann = user("ann@example.com", Some("ann"));
    let bob = user("bob@example.com", Some("bob"));
    users.insert_user(&ann).await.unwrap();
    users.insert_user(&bob).await.unwrap();
    let mine = create(sessions, &session(ann.id, at(0), 3600), "mine").await;
    let phone = create(sessions, &session(ann.id, at(1), 3600), "phone").await;
    let laptop = create(sessions, &session(ann.id, at(2), 3600), "laptop").await;
    let ended_long_ago = create(sessions, &session(ann.id, at(0), 10), "old").await;
    let bobs = create(sessions, &session(bob.id, at(0), 3600), "bob").await;
    let now = at(100);
    let changed = || AuditEvent {
        kind: AuditKind::PASSWORD_CHANGE,
        session_id: Some(mine.id),
        ..logout_event(ann.id)
    };
    let live = || async {
        let mut ids: Vec<Uuid> = sessions
            .live_sessions(ann.id, now)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        ids.sort();
        ids
    };
    let mut all_three = vec![mine.id, phone.id, laptop.id];
    all_three.sort();

    // The hash changed meanwhile: nothing happens.
    assert_eq!(
        users
            .change_password_audited(
                ann.id,
                "another-hash",
                "new-hash",
                mine.id,
                now,
                Some(&changed())
            )
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        users
            .user_by_id(ann.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        ann.password_hash
    );
    assert_eq!(live().await, all_three);

    // The record cannot be written (its id is taken): nothing happens.
    let taken = changed();
    audit.append_event(&taken).await.unwrap();
    let err = users
        .change_password_audited(
            ann.id,
            &ann.password_hash,
            "new-hash",
            mine.id,
            now,
            Some(&taken),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict("audit event id")),
        "{err:?}"
    );
    assert_eq!(
        users
            .user_by_id(ann.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        ann.password_hash
    );
    assert_eq!(live().await, all_three, "no session ended");

    let record = changed();
    let mut ended = users
        .change_password_audited(
            ann.id,
            &ann.password_hash,
            "new-hash",
            mine.id,
            now,
            Some(&record),
        )
        .await
        .unwrap()
        .expect("the hash was still in force");
    ended.sort();
    let mut others = vec![phone.id, laptop.id];
    others.sort();
    assert_eq!(ended, others, "the other live sessions, not the ended one");
    assert_eq!(
        users
            .user_by_id(ann.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "new-hash"
    );
    assert_eq!(live().await, vec![mine.id], "the caller's session stays");
    assert_eq!(
        sessions
            .session(phone.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(now)
    );
    assert_eq!(
        sessions
            .session(ended_long_ago.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        None,
        "an ended session is not revoked again"
    );
    assert_eq!(
        sessions.session(bobs.id).await.unwrap().unwrap().revoked_at,
        None,
        "another user's session is untouched"
    );
    // The refused attempts wrote no record: only the one appended by hand
    // (whose id was taken) and the change's own.
    let mut ids = recorded_ids(audit, ann.id).await;
    ids.sort();
    let mut expected = vec![taken.id, record.id];
    expected.sort();
    assert_eq!(ids, expected);
    let written = audit
        .events(&authgate_core::AuditFilter {
            user_id: Some(ann.id),
            kind: Some("password.change".into()),
            limit: 10,
            ..authgate_core::AuditFilter::default()
        })
        .await
        .unwrap();
    let written = written.iter().find(|e| e.id == record.id).unwrap();
    assert_eq!(
        written.details["sessions_ended"], 2,
        "the record counts them"
    );
}
