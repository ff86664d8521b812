//! `VerificationStore`: a newer link replaces the older ones, a link is
//! used once and marks the address verified, a link for another address
//! changes the account's address unless another account took it, the
//! per-account count, purging.

use authgate_core::{
    OutboxStore, QueuedMail, TokenHash, UserStore, VerificationStore, VerificationToken,
    VerifyRefusal,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::fixtures::{at, user};

/// A pending verification message to `to`, queued at `when`.
fn mail(to: &str, when: OffsetDateTime) -> QueuedMail {
    QueuedMail {
        id: Uuid::now_v7(),
        kind: "email_verification".to_owned(),
        recipient: to.to_owned(),
        sender: "no-reply@example.com".to_owned(),
        sealed: b"sealed message".to_vec(),
        attempts: 0,
        created_at: when,
        next_attempt_at: when,
    }
}

/// A link proving `email` for `user_id`, issued at `when`, for a day.
fn link(secret: &str, user_id: Uuid, email: &str, when: OffsetDateTime) -> VerificationToken {
    VerificationToken {
        hash: TokenHash::of(secret),
        user_id,
        email: email.to_owned(),
        created_at: when,
        expires_at: when + time::Duration::hours(24),
    }
}

pub(crate) async fn a_newer_link_replaces_the_older_and_verifies_the_address_once(
    users: &dyn UserStore,
    links: &dyn VerificationStore,
    outbox: &dyn OutboxStore,
) {
    let ann = user("ann@example.com", None);
    users.insert_user(&ann).await.unwrap();
    let first = link("first", ann.id, &ann.email, at(0));
    assert!(
        links
            .request_verification(Some(&first), &mail(&ann.email, at(0)), 10, None)
            .await
            .unwrap()
    );
    let second = link("second", ann.id, &ann.email, at(1));
    assert!(
        links
            .request_verification(Some(&second), &mail(&ann.email, at(1)), 10, None)
            .await
            .unwrap()
    );
    assert_eq!(outbox.pending_mail().await.unwrap(), 2);
    assert_eq!(
        links.verifications_since(ann.id, at(0)).await.unwrap(),
        2,
        "both count for the hourly limit"
    );
    assert_eq!(links.verifications_since(ann.id, at(1)).await.unwrap(), 1);
    let replaced = links
        .verification_token(&first.hash)
        .await
        .unwrap()
        .unwrap();
    assert!(replaced.expires_at <= at(1), "replaced: no longer working");
    assert_eq!(
        links.verify_email(&replaced, at(2), None).await.unwrap(),
        Err(VerifyRefusal::Invalid)
    );
    assert_eq!(
        users
            .user_by_id(ann.id)
            .await
            .unwrap()
            .unwrap()
            .email_verified_at,
        None
    );

    let used = links
        .verify_email(&second, at(2), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(used.previous_email, ann.email);
    let now = users.user_by_id(ann.id).await.unwrap().unwrap();
    assert_eq!(now.email_verified_at, Some(at(2)));
    assert_eq!(now.email, ann.email);
    assert_eq!(
        links.verify_email(&second, at(3), None).await.unwrap(),
        Err(VerifyRefusal::Invalid),
        "used once"
    );
}

pub(crate) async fn an_expired_link_is_refused_and_purged_later(
    users: &dyn UserStore,
    links: &dyn VerificationStore,
    outbox: &dyn OutboxStore,
) {
    let ann = user("ann@example.com", None);
    users.insert_user(&ann).await.unwrap();
    let only = link("only", ann.id, &ann.email, at(0));
    links
        .request_verification(Some(&only), &mail(&ann.email, at(0)), 10, None)
        .await
        .unwrap();
    let late = only.expires_at + time::Duration::seconds(1);
    assert_eq!(
        links.verify_email(&only, late, None).await.unwrap(),
        Err(VerifyRefusal::Invalid)
    );
    outbox.purge_mail(only.expires_at).await.unwrap();
    assert!(
        links
            .verification_token(&only.hash)
            .await
            .unwrap()
            .is_some()
    );
    outbox.purge_mail(late).await.unwrap();
    assert_eq!(links.verification_token(&only.hash).await.unwrap(), None);
}

pub(crate) async fn a_link_for_a_new_address_changes_it_unless_another_account_took_it(
    users: &dyn UserStore,
    links: &dyn VerificationStore,
) {
    let ann = user("ann@example.com", None);
    users.insert_user(&ann).await.unwrap();
    let change = link("change", ann.id, "ann@new.example", at(0));
    links
        .request_verification(Some(&change), &mail("ann@new.example", at(0)), 10, None)
        .await
        .unwrap();
    let used = links
        .verify_email(&change, at(1), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(used.previous_email, "ann@example.com");
    let now = users.user_by_id(ann.id).await.unwrap().unwrap();
    assert_eq!(now.email, "ann@new.example");
    assert_eq!(now.email_verified_at, Some(at(1)));
    assert!(
        users
            .user_by_login("ann@example.com")
            .await
            .unwrap()
            .is_none()
    );

    // Bob asks for an address Ann registers before he uses the link.
    let bob = user("bob@example.com", None);
    users.insert_user(&bob).await.unwrap();
    let wanted = link("wanted", bob.id, "shared@example.com", at(2));
    links
        .request_verification(Some(&wanted), &mail("shared@example.com", at(2)), 10, None)
        .await
        .unwrap();
    let ann2 = user("shared@example.com", None);
    users.insert_user(&ann2).await.unwrap();
    assert_eq!(
        links.verify_email(&wanted, at(3), None).await.unwrap(),
        Err(VerifyRefusal::EmailTaken)
    );
    let bob_now = users.user_by_id(bob.id).await.unwrap().unwrap();
    assert_eq!(bob_now.email, "bob@example.com");
    assert_eq!(bob_now.email_verified_at, None);
}

pub(crate) async fn a_full_outbox_stores_no_link(
    users: &dyn UserStore,
    links: &dyn VerificationStore,
    outbox: &dyn OutboxStore,
) {
    let ann = user("ann@example.com", None);
    users.insert_user(&ann).await.unwrap();
    outbox
        .queue_mail(&mail("x@example.com", at(0)), 1)
        .await
        .unwrap();
    let refused = link("refused", ann.id, &ann.email, at(1));
    assert!(
        !links
            .request_verification(Some(&refused), &mail(&ann.email, at(1)), 1, None)
            .await
            .unwrap()
    );
    assert_eq!(links.verification_token(&refused.hash).await.unwrap(), None);
    assert_eq!(links.verifications_since(ann.id, at(0)).await.unwrap(), 0);
}
