//! `ServiceClientStore`, token revocations (`SessionStore::revoke_token`) and `AuditStore`.

use authgate_core::{
    AuditCursor, AuditFilter, AuditStore, ServiceClient, ServiceClientStore, SessionStore,
    StoreError, TokenHash,
};
use authgate_proto::{AuditEvent, AuditKind};
use uuid::Uuid;

use crate::fixtures::{T0, at};

fn client(id: &str) -> ServiceClient {
    ServiceClient {
        id: id.to_owned(),
        name: format!("service {id}"),
        secret_hash: TokenHash::of("secret"),
        roles: vec!["support".to_owned()],
        created_at: T0,
        is_active: true,
    }
}

fn event(kind: AuditKind, user: Option<Uuid>, secs: i64) -> AuditEvent {
    let mut details = serde_json::Map::new();
    details.insert("reason".into(), "bad_password".into());
    AuditEvent {
        id: Uuid::now_v7(),
        at: at(secs),
        kind,
        user_id: user,
        actor_id: Some("admin-1".into()),
        client_id: Some("svc".into()),
        session_id: Some(Uuid::now_v7()),
        ip: Some("203.0.113.9".parse().unwrap()),
        user_agent: Some("tests/1".into()),
        details,
    }
}

pub(crate) async fn inserted_client_reads_back_and_ids_are_unique(store: &dyn ServiceClientStore) {
    assert_eq!(store.client("svc").await.unwrap(), None);
    store.insert_client(&client("svc")).await.unwrap();
    assert_eq!(store.client("svc").await.unwrap(), Some(client("svc")));
    let mut again = client("svc");
    again.name = "other".into();
    let err = store.insert_client(&again).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict("client_id")), "{err:?}");
    assert_eq!(
        store.client("svc").await.unwrap().unwrap().name,
        "service svc"
    );
}

pub(crate) async fn revoked_tokens_are_listed_until_they_expire(store: &dyn SessionStore) {
    store.revoke_token("t1", at(900), at(10)).await.unwrap();
    store.revoke_token("t2", at(100), at(20)).await.unwrap();
    // Idempotent: the second revocation of t1 changes nothing.
    store.revoke_token("t1", at(5000), at(30)).await.unwrap();
    assert_eq!(
        store.revoked_tokens_since(at(0), at(50)).await.unwrap(),
        vec![("t1".to_owned(), at(900)), ("t2".to_owned(), at(100))]
    );
    assert_eq!(
        store.revoked_tokens_since(at(15), at(50)).await.unwrap(),
        vec![("t2".to_owned(), at(100))]
    );
    assert_eq!(
        store.revoked_tokens_since(at(0), at(100)).await.unwrap(),
        vec![("t1".to_owned(), at(900))],
        "an expired token needs no revocation record"
    );
}

pub(crate) async fn audit_events_read_back_newest_first_and_filter(store: &dyn AuditStore) {
    let ann = Uuid::now_v7();
    let bob = Uuid::now_v7();
    let first = event(AuditKind::LOGIN_FAILED, Some(ann), 0);
    let second = event(AuditKind::LOGIN_SUCCEEDED, Some(ann), 10);
    let third = event(AuditKind::LOGIN_FAILED, Some(bob), 20);
    let mut bare = event(AuditKind::KEY_ROTATED, None, 30);
    bare.actor_id = None;
    bare.client_id = None;
    bare.session_id = None;
    bare.ip = None;
    bare.user_agent = None;
    bare.details.clear();
    for e in [&first, &second, &third, &bare] {
        store.append_event(e).await.unwrap();
    }
    let all = |limit| AuditFilter {
        limit,
        ..AuditFilter::default()
    };
    assert_eq!(
        store.events(&all(10)).await.unwrap(),
        vec![bare.clone(), third.clone(), second.clone(), first.clone()]
    );
    assert_eq!(
        store.events(&all(2)).await.unwrap(),
        vec![bare, third.clone()]
    );
    let anns = AuditFilter {
        user_id: Some(ann),
        ..all(10)
    };
    assert_eq!(
        store.events(&anns).await.unwrap(),
        vec![second, first.clone()]
    );
    let failed = AuditFilter {
        kind: Some("login.failed".into()),
        ..all(10)
    };
    assert_eq!(
        store.events(&failed).await.unwrap(),
        vec![third.clone(), first]
    );
    let recent = AuditFilter {
        since: Some(at(20)),
        kind: Some("login.failed".into()),
        ..all(10)
    };
    assert_eq!(store.events(&recent).await.unwrap(), vec![third]);
    assert_eq!(store.count_events("login.failed", at(0)).await.unwrap(), 2);
    assert_eq!(store.count_events("login.failed", at(1)).await.unwrap(), 1);
    assert_eq!(store.count_events("logout", at(0)).await.unwrap(), 0);
}

/// A batch of events lands in order, across more rows than one `INSERT`
/// holds; a batch with one event the store refuses (a taken id) writes
/// none of them, so the sink can retry them one by one.
pub(crate) async fn a_batch_of_events_is_appended_in_order_or_not_at_all(store: &dyn AuditStore) {
    let user = Uuid::now_v7();
    let batch: Vec<std::sync::Arc<AuditEvent>> = (0..150)
        .map(|n| std::sync::Arc::new(event(AuditKind::LOGIN_SUCCEEDED, Some(user), n)))
        .collect();
    store.append_events(&batch).await.unwrap();
    let mine = AuditFilter {
        user_id: Some(user),
        limit: 500,
        ..AuditFilter::default()
    };
    let newest_first: Vec<AuditEvent> = batch.iter().rev().map(|e| (**e).clone()).collect();
    assert_eq!(store.events(&mine).await.unwrap(), newest_first);

    let other = Uuid::now_v7();
    let fresh = std::sync::Arc::new(event(AuditKind::LOGIN_FAILED, Some(other), 200));
    let mut taken = event(AuditKind::LOGIN_FAILED, Some(other), 201);
    taken.id = batch[3].id;
    let refused = store
        .append_events(&[fresh, std::sync::Arc::new(taken)])
        .await;
    assert!(refused.is_err(), "a taken id must fail the batch");
    let others = AuditFilter {
        user_id: Some(other),
        ..mine
    };
    assert_eq!(
        store.events(&others).await.unwrap(),
        vec![],
        "the refused batch's first event must not be written either"
    );
}

/// A change and the audit event recording it are one transaction: when the
/// event cannot be written (here: its id is taken), the change is not made.
pub(crate) async fn a_change_and_its_audit_event_commit_or_fail_together(
    users: &dyn authgate_core::UserStore,
    sessions: &dyn SessionStore,
    audit: &dyn AuditStore,
) {
    let taken = event(AuditKind::LOGIN_FAILED, None, 0);
    audit.append_event(&taken).await.unwrap();
    let ann = crate::fixtures::user("ann@example.com", Some("ann"));

    let err = users
        .insert_user_audited(&ann, Some(&taken))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict("audit event id")),
        "{err:?}"
    );
    assert_eq!(
        users.user_by_id(ann.id).await.unwrap(),
        None,
        "no user without its record"
    );

    let registered = event(AuditKind::USER_REGISTERED, Some(ann.id), 1);
    users
        .insert_user_audited(&ann, Some(&registered))
        .await
        .unwrap();
    assert!(users.user_by_id(ann.id).await.unwrap().is_some());

    let roles = vec!["admin".to_owned()];
    assert!(matches!(
        users
            .set_roles_audited(ann.id, &roles, at(2), Some(&taken))
            .await,
        Err(StoreError::Conflict("audit event id"))
    ));
    assert_eq!(
        users.user_by_id(ann.id).await.unwrap().unwrap().roles,
        ["user"]
    );

    let s = crate::fixtures::session(ann.id, at(0), 3600);
    let first = crate::fixtures::token("t-0", &s, 0, at(0));
    assert!(matches!(
        sessions
            .create_session_audited(&s, &first, Some(&taken))
            .await,
        Err(StoreError::Conflict("audit event id"))
    ));
    assert_eq!(
        sessions.session(s.id).await.unwrap(),
        None,
        "no session without its login record"
    );
    assert_eq!(sessions.refresh_token(&first.hash).await.unwrap(), None);
    let mut logged_in = event(AuditKind::LOGIN_SUCCEEDED, Some(ann.id), 2);
    logged_in.session_id = Some(s.id);
    sessions
        .create_session_audited(&s, &first, Some(&logged_in))
        .await
        .unwrap();
    assert!(sessions.session(s.id).await.unwrap().is_some());
    assert!(matches!(
        sessions
            .revoke_session_audited(s.id, at(3), Some(&taken))
            .await,
        Err(StoreError::Conflict("audit event id"))
    ));
    assert!(
        sessions
            .session(s.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none()
    );
    assert!(matches!(
        users
            .set_active_audited(ann.id, false, at(3), Some(&taken))
            .await,
        Err(StoreError::Conflict("audit event id"))
    ));
    assert!(users.user_by_id(ann.id).await.unwrap().unwrap().is_active);
    assert!(
        sessions
            .session(s.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none()
    );

    let disabled = event(AuditKind::USER_DISABLED, Some(ann.id), 4);
    let (_, revoked) = users
        .set_active_audited(ann.id, false, at(4), Some(&disabled))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked, [s.id]);
    let kinds: Vec<_> = audit
        .events(&AuditFilter {
            user_id: Some(ann.id),
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            AuditKind::USER_DISABLED,
            AuditKind::LOGIN_SUCCEEDED,
            AuditKind::USER_REGISTERED
        ]
    );
}

pub(crate) async fn clients_list_newest_first_and_delete_with_their_record(
    clients: &dyn ServiceClientStore,
    audit: &dyn AuditStore,
) {
    assert_eq!(clients.list_clients(10).await.unwrap(), vec![]);
    let mut older = client("svc_a");
    older.created_at = at(0);
    let mut newer = client("svc_b");
    newer.created_at = at(10);
    clients.insert_client(&older).await.unwrap();
    clients.insert_client(&newer).await.unwrap();
    assert_eq!(
        clients.list_clients(10).await.unwrap(),
        vec![newer.clone(), older.clone()]
    );
    assert_eq!(clients.list_clients(1).await.unwrap(), vec![newer.clone()]);

    let record = event(AuditKind::new("client.deleted"), None, 20);
    assert!(
        clients
            .delete_client_audited("svc_b", Some(&record))
            .await
            .unwrap()
    );
    assert_eq!(clients.client("svc_b").await.unwrap(), None);
    assert_eq!(clients.list_clients(10).await.unwrap(), vec![older]);
    let again = event(AuditKind::new("client.deleted"), None, 30);
    assert!(
        !clients
            .delete_client_audited("svc_b", Some(&again))
            .await
            .unwrap(),
        "deleting what is gone reports false"
    );
    let kinds = audit
        .events(&AuditFilter {
            kind: Some("client.deleted".into()),
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        kinds,
        vec![record],
        "only the delete that happened is recorded"
    );
}

pub(crate) async fn audit_pages_follow_the_cursor_and_the_range_end(store: &dyn AuditStore) {
    // Three events share a timestamp: a page must neither skip nor repeat them.
    let events: Vec<AuditEvent> = [0, 10, 10, 10, 20]
        .into_iter()
        .map(|secs| event(AuditKind::LOGIN_FAILED, None, secs))
        .collect();
    for e in &events {
        store.append_event(e).await.unwrap();
    }
    let mut newest_first = events.clone();
    newest_first.sort_by_key(|e| std::cmp::Reverse((e.at, e.id)));
    let page = |after: Option<&AuditEvent>| AuditFilter {
        limit: 2,
        after: after.map(|e| AuditCursor { at: e.at, id: e.id }),
        ..AuditFilter::default()
    };
    let mut seen = Vec::new();
    let mut last: Option<AuditEvent> = None;
    loop {
        let got = store.events(&page(last.as_ref())).await.unwrap();
        if got.is_empty() {
            break;
        }
        last = got.last().cloned();
        seen.extend(got);
    }
    assert_eq!(seen, newest_first);

    let until = AuditFilter {
        until: Some(at(10)),
        limit: 10,
        ..AuditFilter::default()
    };
    assert_eq!(
        store.events(&until).await.unwrap(),
        vec![newest_first[4].clone()],
        "the end of a range is exclusive"
    );
}

pub(crate) async fn disabling_a_client_keeps_it_listed_and_enabling_restores_it_each_with_its_record(
    clients: &dyn ServiceClientStore,
    audit: &dyn AuditStore,
) {
    clients.insert_client(&client("svc_d")).await.unwrap();
    let off = event(AuditKind::new("client.disabled"), None, 10);
    let disabled = clients
        .set_client_active_audited("svc_d", false, Some(&off))
        .await
        .unwrap()
        .expect("the client exists");
    assert!(!disabled.is_active);
    assert_eq!(
        clients.client("svc_d").await.unwrap(),
        Some(disabled.clone())
    );
    assert_eq!(clients.list_clients(10).await.unwrap(), vec![disabled]);

    let on = event(AuditKind::new("client.enabled"), None, 20);
    let enabled = clients
        .set_client_active_audited("svc_d", true, Some(&on))
        .await
        .unwrap()
        .expect("the client exists");
    assert_eq!(
        enabled,
        client("svc_d"),
        "enabled again, nothing else changed"
    );

    let stray = event(AuditKind::new("client.disabled"), None, 30);
    assert_eq!(
        clients
            .set_client_active_audited("svc_missing", false, Some(&stray))
            .await
            .unwrap(),
        None
    );
    let recorded: Vec<_> = audit
        .events(&AuditFilter {
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(
        recorded,
        vec![on.id, off.id],
        "no record for a missing client"
    );
}
