//! `OutboxStore` and `ResetStore`: queueing within a bound, claiming once,
//! delivery and failure records, the per-address count, purging; reset
//! tokens replaced by newer ones, used once, refused when expired or when
//! the password changed, ending every session.

use authgate_core::{
    OutboxStore, QueuedMail, ResetStore, ResetToken, SessionStore, TokenHash, UserStore,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::fixtures::{at, session, token, user};

/// A pending message to `to`, queued at `when`.
fn mail(to: &str, when: OffsetDateTime) -> QueuedMail {
    QueuedMail {
        id: Uuid::now_v7(),
        kind: "password_reset".to_owned(),
        recipient: to.to_owned(),
        sender: "no-reply@example.com".to_owned(),
        sealed: b"sealed message".to_vec(),
        attempts: 0,
        created_at: when,
        next_attempt_at: when,
    }
}

/// A reset token for `user` with `password_hash`, issued at `when`, for 30 minutes.
fn reset_token(
    secret: &str,
    user_id: Uuid,
    password_hash: &str,
    when: OffsetDateTime,
) -> ResetToken {
    ResetToken {
        hash: TokenHash::of(secret),
        user_id,
        password_fingerprint: TokenHash::of(password_hash),
        created_at: when,
        expires_at: when + time::Duration::minutes(30),
    }
}

pub(crate) async fn the_outbox_holds_at_most_its_bound_and_claims_each_message_once(
    store: &dyn OutboxStore,
) {
    assert!(
        store
            .queue_mail(&mail("a@example.com", at(0)), 2)
            .await
            .unwrap()
    );
    assert!(
        store
            .queue_mail(&mail("a@example.com", at(1)), 2)
            .await
            .unwrap()
    );
    assert!(
        !store
            .queue_mail(&mail("b@example.com", at(2)), 2)
            .await
            .unwrap()
    );
    assert_eq!(store.pending_mail().await.unwrap(), 2);
    assert_eq!(
        store
            .count_mail_to("a@example.com", "password_reset", at(0))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .count_mail_to("a@example.com", "password_reset", at(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .count_mail_to("b@example.com", "password_reset", at(0))
            .await
            .unwrap(),
        0
    );

    // Only what is due; once claimed, not again until the claim lapses.
    let claimed = store.claim_mail(at(0), at(60), 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].attempts, 1);
    assert_eq!(claimed[0].sealed, b"sealed message");
    assert_eq!(store.claim_mail(at(5), at(65), 10).await.unwrap().len(), 1);
    assert!(
        store
            .claim_mail(at(5), at(65), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let again = store.claim_mail(at(60), at(120), 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, claimed[0].id);
    assert_eq!(again[0].attempts, 2);
}

pub(crate) async fn delivered_and_abandoned_mail_stops_waiting_and_is_purged_later(
    store: &dyn OutboxStore,
) {
    let sent = mail("a@example.com", at(0));
    let failing = mail("b@example.com", at(0));
    store.queue_mail(&sent, 10).await.unwrap();
    store.queue_mail(&failing, 10).await.unwrap();
    store.claim_mail(at(0), at(30), 10).await.unwrap();
    store.mail_sent(sent.id, at(1)).await.unwrap();
    store
        .mail_failed(failing.id, Some(at(100)), "451 try later")
        .await
        .unwrap();
    assert_eq!(store.pending_mail().await.unwrap(), 1);
    assert!(
        store
            .claim_mail(at(99), at(130), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let retried = store.claim_mail(at(100), at(130), 10).await.unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].id, failing.id);
    store
        .mail_failed(failing.id, None, "gave up")
        .await
        .unwrap();
    assert_eq!(store.pending_mail().await.unwrap(), 0);
    assert!(
        store
            .claim_mail(at(10_000), at(10_030), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Still counted for the hourly limit until purged.
    assert_eq!(
        store
            .count_mail_to("a@example.com", "password_reset", at(0))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.purge_mail(at(0)).await.unwrap(), 0);
    assert_eq!(store.purge_mail(at(1)).await.unwrap(), 2);
    assert_eq!(
        store
            .count_mail_to("a@example.com", "password_reset", at(0))
            .await
            .unwrap(),
        0
    );
}

pub(crate) async fn a_reset_replaces_older_tokens_is_used_once_and_ends_every_session(
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
    resets: &dyn ResetStore,
    outbox: &dyn OutboxStore,
) {
    let ann = user("ann@example.com", None);
    users.insert_user(&ann).await.unwrap();
    let live = session(ann.id, at(0), 3600);
    sessions
        .create_session(&live, &token("r1", &live, 0, at(0)))
        .await
        .unwrap();

    let first = reset_token("first", ann.id, &ann.password_hash, at(0));
    assert!(
        resets
            .request_reset(Some(&first), &mail(&ann.email, at(0)), 10, None)
            .await
            .unwrap()
    );
    let second = reset_token("second", ann.id, &ann.password_hash, at(1));
    assert!(
        resets
            .request_reset(Some(&second), &mail(&ann.email, at(1)), 10, None)
            .await
            .unwrap()
    );
    assert_eq!(outbox.pending_mail().await.unwrap(), 2);
    assert_eq!(
        resets.reset_token(&first.hash).await.unwrap(),
        None,
        "replaced"
    );
    assert_eq!(
        resets.reset_token(&second.hash).await.unwrap(),
        Some(second.clone())
    );

    // Expired: nothing changes.
    assert_eq!(
        resets
            .reset_password(&second, "new-hash", at(1801), None)
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

    let revoked = resets
        .reset_password(&second, "new-hash", at(10), None)
        .await
        .unwrap();
    assert_eq!(revoked, Some(vec![live.id]));
    assert_eq!(
        users
            .user_by_id(ann.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "new-hash"
    );
    assert!(
        sessions
            .session(live.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    assert_eq!(resets.reset_token(&second.hash).await.unwrap(), None);
    assert_eq!(
        resets
            .reset_password(&second, "other", at(11), None)
            .await
            .unwrap(),
        None,
        "used once"
    );
}

pub(crate) async fn a_reset_token_is_refused_once_the_password_changed(
    users: &dyn UserStore,
    resets: &dyn ResetStore,
) {
    let ann = user("ann@example.com", None);
    users.insert_user(&ann).await.unwrap();
    let issued = reset_token("secret", ann.id, &ann.password_hash, at(0));
    resets
        .request_reset(Some(&issued), &mail(&ann.email, at(0)), 10, None)
        .await
        .unwrap();
    assert!(
        users
            .set_password_hash(ann.id, &ann.password_hash, "changed", at(1))
            .await
            .unwrap()
    );
    assert_eq!(
        resets
            .reset_password(&issued, "new-hash", at(2), None)
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
        "changed"
    );
    // Queueing for an address with no account stores no token, only the message.
    assert!(
        resets
            .request_reset(None, &mail("nobody@example.com", at(3)), 10, None)
            .await
            .unwrap()
    );
    // A full outbox refuses the whole request.
    let refused = reset_token("refused", ann.id, "changed", at(4));
    assert!(
        !resets
            .request_reset(Some(&refused), &mail(&ann.email, at(4)), 2, None)
            .await
            .unwrap()
    );
    assert_eq!(resets.reset_token(&refused.hash).await.unwrap(), None);
}
