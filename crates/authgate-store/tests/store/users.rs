//! `UserStore`: insert and look-ups, conflicts, roles, enable/disable, paging.

use authgate_core::{SessionStore, StoreError, UserQuery, UserStore};
use uuid::Uuid;

use crate::fixtures::{at, session, user};

pub(crate) async fn inserted_user_is_found_by_id_email_and_username(store: &dyn UserStore) {
    let ann = user("ann@example.com", Some("ann"));
    store.insert_user(&ann).await.unwrap();
    assert_eq!(store.user_by_id(ann.id).await.unwrap(), Some(ann.clone()));
    assert_eq!(
        store.user_by_login("ann@example.com").await.unwrap(),
        Some(ann.clone())
    );
    assert_eq!(store.user_by_login("ann").await.unwrap(), Some(ann.clone()));
    assert_eq!(store.user_by_login("bob").await.unwrap(), None);
    assert_eq!(store.user_by_id(Uuid::now_v7()).await.unwrap(), None);
    assert_eq!(store.count_users().await.unwrap(), 1);
}

pub(crate) async fn users_without_username_coexist_and_are_found_by_email(store: &dyn UserStore) {
    let ann = user("ann@example.com", None);
    let bob = user("bob@example.com", None);
    store.insert_user(&ann).await.unwrap();
    store.insert_user(&bob).await.unwrap();
    assert_eq!(
        store.user_by_login("bob@example.com").await.unwrap(),
        Some(bob)
    );
    assert_eq!(store.count_users().await.unwrap(), 2);
}

pub(crate) async fn duplicate_email_is_a_conflict_on_email_and_inserts_nothing(
    store: &dyn UserStore,
) {
    store
        .insert_user(&user("ann@example.com", Some("ann")))
        .await
        .unwrap();
    let again = user("ann@example.com", Some("other"));
    let err = store.insert_user(&again).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict("email")), "{err:?}");
    assert_eq!(store.user_by_id(again.id).await.unwrap(), None);
    assert_eq!(store.user_by_login("other").await.unwrap(), None);
    assert_eq!(store.count_users().await.unwrap(), 1);
}

pub(crate) async fn duplicate_username_is_a_conflict_on_username_and_inserts_nothing(
    store: &dyn UserStore,
) {
    store
        .insert_user(&user("ann@example.com", Some("ann")))
        .await
        .unwrap();
    let again = user("other@example.com", Some("ann"));
    let err = store.insert_user(&again).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict("username")), "{err:?}");
    assert_eq!(store.user_by_id(again.id).await.unwrap(), None);
    assert_eq!(
        store.user_by_login("other@example.com").await.unwrap(),
        None
    );
    assert_eq!(store.count_users().await.unwrap(), 1);
}

pub(crate) async fn set_roles_and_password_hash_replace_them_and_touch_updated_at(
    store: &dyn UserStore,
) {
    let ann = user("ann@example.com", Some("ann"));
    store.insert_user(&ann).await.unwrap();
    let roles = vec!["admin".to_owned(), "support".to_owned()];
    let changed = store
        .set_roles(ann.id, &roles, at(10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.roles, roles);
    assert_eq!(changed.updated_at, at(10));
    assert_eq!(changed.created_at, ann.created_at);
    assert_eq!(store.user_by_id(ann.id).await.unwrap(), Some(changed));

    let old = ann.password_hash.clone();
    assert!(
        store
            .set_password_hash(ann.id, &old, "$argon2id$new", at(20))
            .await
            .unwrap()
    );
    // Against a hash that is no longer the stored one: nothing changes.
    assert!(
        !store
            .set_password_hash(ann.id, &old, "$argon2id$stale", at(25))
            .await
            .unwrap()
    );
    let stored = store.user_by_id(ann.id).await.unwrap().unwrap();
    assert_eq!(stored.password_hash, "$argon2id$new");
    assert_eq!(stored.updated_at, at(20));
    assert_eq!(stored.roles, roles);

    assert_eq!(
        store
            .set_roles(Uuid::now_v7(), &roles, at(30))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .set_active(Uuid::now_v7(), false, at(30))
            .await
            .unwrap(),
        None
    );
}

pub(crate) async fn disabling_a_user_revokes_their_live_sessions_in_the_same_call(
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
) {
    let ann = user("ann@example.com", Some("ann"));
    let bob = user("bob@example.com", Some("bob"));
    users.insert_user(&ann).await.unwrap();
    users.insert_user(&bob).await.unwrap();
    let live_a = crate::sessions::create(sessions, &session(ann.id, at(0), 3600), "a").await;
    let live_b = crate::sessions::create(sessions, &session(ann.id, at(1), 3600), "b").await;
    let expired = crate::sessions::create(sessions, &session(ann.id, at(0), 10), "c").await;
    let revoked = crate::sessions::create(sessions, &session(ann.id, at(0), 3600), "d").await;
    assert!(sessions.revoke_session(revoked.id, at(5)).await.unwrap());
    let bobs = crate::sessions::create(sessions, &session(bob.id, at(0), 3600), "e").await;

    let (disabled, mut ids) = users
        .set_active(ann.id, false, at(60))
        .await
        .unwrap()
        .unwrap();
    assert!(!disabled.is_active);
    assert_eq!(disabled.updated_at, at(60));
    ids.sort();
    let mut expected = vec![live_a.id, live_b.id];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(!users.user_by_id(ann.id).await.unwrap().unwrap().is_active);
    assert!(
        sessions
            .live_sessions(ann.id, at(60))
            .await
            .unwrap()
            .is_empty()
    );
    let a = sessions.session(live_a.id).await.unwrap().unwrap();
    assert_eq!(a.revoked_at, Some(at(60)));
    let earlier = sessions.session(revoked.id).await.unwrap().unwrap();
    assert_eq!(
        earlier.revoked_at,
        Some(at(5)),
        "an earlier revocation is kept"
    );
    assert_eq!(
        sessions
            .session(expired.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        None
    );
    assert_eq!(
        sessions.live_sessions(bob.id, at(60)).await.unwrap(),
        vec![bobs]
    );

    let (enabled, none) = users
        .set_active(ann.id, true, at(70))
        .await
        .unwrap()
        .unwrap();
    assert!(enabled.is_active);
    assert!(none.is_empty());
    assert!(
        sessions
            .live_sessions(ann.id, at(70))
            .await
            .unwrap()
            .is_empty(),
        "revocation is final"
    );
}

pub(crate) async fn list_users_pages_by_id_after_the_cursor(store: &dyn UserStore) {
    let mut ids = Vec::new();
    for n in 0..5 {
        let u = user(&format!("user{n}@example.com"), None);
        store.insert_user(&u).await.unwrap();
        ids.push(u.id);
    }
    ids.sort();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let query = UserQuery {
            after,
            limit: 2,
            prefix: None,
        };
        let page = store.list_users(&query).await.unwrap();
        assert!(page.len() <= 2);
        if page.is_empty() {
            break;
        }
        after = page.last().map(|u| u.id);
        seen.extend(page.iter().map(|u| u.id));
    }
    assert_eq!(seen, ids);
    let first = UserQuery {
        after: None,
        limit: 3,
        prefix: None,
    };
    let page: Vec<Uuid> = store
        .list_users(&first)
        .await
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(page, ids[..3]);
    let none = UserQuery {
        after: None,
        limit: 0,
        prefix: None,
    };
    assert!(store.list_users(&none).await.unwrap().is_empty());
}

pub(crate) async fn list_users_prefix_matches_email_or_username_literally(store: &dyn UserStore) {
    let ann = user("ann@example.com", Some("annie"));
    let abc = user("abc@example.com", Some("xyz"));
    let under = user("zed@example.com", Some("a_b"));
    let percent = user("a%c@example.com", None);
    let backslash = user(r"a\d@example.com", None);
    for u in [&ann, &abc, &under, &percent, &backslash] {
        store.insert_user(u).await.unwrap();
    }
    let find = |prefix: &str| {
        let query = UserQuery {
            after: None,
            limit: 100,
            prefix: Some(prefix.to_owned()),
        };
        async move {
            let mut emails: Vec<String> = store
                .list_users(&query)
                .await
                .unwrap()
                .into_iter()
                .map(|u| u.email)
                .collect();
            emails.sort();
            emails
        }
    };
    assert_eq!(find("ann").await, ["ann@example.com"]);
    assert_eq!(
        find("annie").await,
        ["ann@example.com"],
        "username matches too"
    );
    assert_eq!(
        find("a_").await,
        ["zed@example.com"],
        "'_' is not a wildcard"
    );
    assert_eq!(
        find("a%").await,
        ["a%c@example.com"],
        "'%' is not a wildcard"
    );
    assert_eq!(
        find(r"a\").await,
        [r"a\d@example.com"],
        "the escape character is literal"
    );
    assert_eq!(find("x").await, ["abc@example.com"]);
    assert_eq!(find("nobody").await, Vec::<String>::new());
    assert_eq!(find("").await.len(), 5);

    // Prefix and cursor together.
    let mut a_ids: Vec<Uuid> = [&ann, &abc, &under, &percent, &backslash]
        .iter()
        .filter(|u| {
            u.email.starts_with('a') || u.username.as_deref().is_some_and(|n| n.starts_with('a'))
        })
        .map(|u| u.id)
        .collect();
    a_ids.sort();
    let query = UserQuery {
        after: Some(a_ids[1]),
        limit: 2,
        prefix: Some("a".to_owned()),
    };
    let page: Vec<Uuid> = store
        .list_users(&query)
        .await
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(page, a_ids[2..4]);
}

pub(crate) async fn the_costs_of_stored_hashes_are_listed_once_each(store: &dyn UserStore) {
    assert!(store.password_hash_costs().await.unwrap().is_empty());
    let mut old = user("old@example.com", None);
    old.password_hash = "$argon2id$v=19$m=4096,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".to_owned();
    store.insert_user(&old).await.unwrap();
    store
        .insert_user(&user("ann@example.com", None))
        .await
        .unwrap();
    store
        .insert_user(&user("bob@example.com", None))
        .await
        .unwrap();
    let mut costs = store.password_hash_costs().await.unwrap();
    costs.sort();
    assert_eq!(
        costs,
        [
            "$argon2id$v=19$m=19456,t=2,p=1",
            "$argon2id$v=19$m=4096,t=1,p=1"
        ]
    );
}
