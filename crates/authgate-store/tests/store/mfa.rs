//! `MfaStore`: a pending factor replaced until confirmed and never over a
//! confirmed one, confirmation only of the secret checked, steps used only
//! forward, recovery codes used once, removal of everything, and a login's
//! second step counted, worn out, expired and taken once.

use authgate_core::{MfaChallenge, MfaStore, TokenHash, TotpFactor, UserStore};
use time::Duration;
use uuid::Uuid;

use crate::fixtures::{at, user};

fn pending(user_id: Uuid, sealed: &[u8], secs: i64) -> TotpFactor {
    TotpFactor {
        user_id,
        sealed_secret: sealed.to_vec(),
        created_at: at(secs),
        confirmed_at: None,
        last_step: None,
    }
}

pub(crate) async fn a_factor_is_pending_until_confirmed_and_its_steps_only_move_forward(
    users: &dyn UserStore,
    mfa: &dyn MfaStore,
) {
    let ann = user("mfa-ann@example.com", None);
    users.insert_user(&ann).await.unwrap();
    assert_eq!(mfa.totp_factor(ann.id).await.unwrap(), None);
    assert!(
        mfa.put_pending_totp(&pending(ann.id, b"one", 0))
            .await
            .unwrap()
    );
    assert!(
        mfa.put_pending_totp(&pending(ann.id, b"two", 1))
            .await
            .unwrap()
    );
    assert_eq!(
        mfa.totp_factor(ann.id).await.unwrap(),
        Some(pending(ann.id, b"two", 1)),
        "a new enrolment replaces a pending one"
    );
    assert!(
        !mfa.use_totp_step(ann.id, 5).await.unwrap(),
        "not confirmed yet"
    );
    let codes = [TokenHash::of("c1"), TokenHash::of("c2")];
    assert!(
        !mfa.confirm_totp(ann.id, b"one", 7, &codes, at(2), None)
            .await
            .unwrap(),
        "only the secret that was checked"
    );
    assert!(
        mfa.confirm_totp(ann.id, b"two", 7, &codes, at(2), None)
            .await
            .unwrap()
    );
    let on = mfa.totp_factor(ann.id).await.unwrap().unwrap();
    assert_eq!(on.confirmed_at, Some(at(2)));
    assert_eq!(on.last_step, Some(7));
    assert!(
        !mfa.put_pending_totp(&pending(ann.id, b"three", 3))
            .await
            .unwrap()
    );
    assert_eq!(
        mfa.totp_factor(ann.id)
            .await
            .unwrap()
            .unwrap()
            .sealed_secret,
        b"two"
    );

    assert!(!mfa.use_totp_step(ann.id, 7).await.unwrap(), "a replay");
    assert!(
        !mfa.use_totp_step(ann.id, 6).await.unwrap(),
        "an earlier step"
    );
    assert!(mfa.use_totp_step(ann.id, 8).await.unwrap());
    assert!(!mfa.use_totp_step(ann.id, 8).await.unwrap());

    assert_eq!(mfa.recovery_codes_left(ann.id).await.unwrap(), 2);
    assert!(
        mfa.use_recovery_code(ann.id, &codes[0], at(3))
            .await
            .unwrap()
    );
    assert!(
        !mfa.use_recovery_code(ann.id, &codes[0], at(4))
            .await
            .unwrap()
    );
    assert!(
        !mfa.use_recovery_code(Uuid::now_v7(), &codes[1], at(4))
            .await
            .unwrap()
    );
    assert_eq!(mfa.recovery_codes_left(ann.id).await.unwrap(), 1);

    assert!(mfa.remove_mfa(ann.id, None).await.unwrap());
    assert_eq!(mfa.totp_factor(ann.id).await.unwrap(), None);
    assert_eq!(mfa.recovery_codes_left(ann.id).await.unwrap(), 0);
    assert!(!mfa.remove_mfa(ann.id, None).await.unwrap());
}

pub(crate) async fn a_login_step_counts_attempts_expires_and_is_taken_once(
    users: &dyn UserStore,
    mfa: &dyn MfaStore,
) {
    let bob = user("mfa-bob@example.com", None);
    users.insert_user(&bob).await.unwrap();
    let step = MfaChallenge {
        hash: TokenHash::of("step"),
        user_id: bob.id,
        audience: "authgate".to_owned(),
        browser: true,
        created_at: at(0),
        expires_at: at(0) + Duration::minutes(5),
    };
    mfa.insert_mfa_challenge(&step).await.unwrap();
    for _ in 0..3 {
        assert_eq!(
            mfa.attempt_mfa_challenge(&step.hash, at(10), 3)
                .await
                .unwrap(),
            Some(step.clone())
        );
    }
    assert_eq!(
        mfa.attempt_mfa_challenge(&step.hash, at(10), 3)
            .await
            .unwrap(),
        None,
        "worn out"
    );
    let other = MfaChallenge {
        hash: TokenHash::of("other"),
        browser: false,
        ..step.clone()
    };
    mfa.insert_mfa_challenge(&other).await.unwrap();
    assert_eq!(
        mfa.attempt_mfa_challenge(&other.hash, at(300), 5)
            .await
            .unwrap(),
        None,
        "expired"
    );
    assert!(
        mfa.attempt_mfa_challenge(&other.hash, at(299), 5)
            .await
            .unwrap()
            .is_some_and(|c| !c.browser)
    );
    assert!(mfa.take_mfa_challenge(&other.hash).await.unwrap());
    assert!(!mfa.take_mfa_challenge(&other.hash).await.unwrap());
    // A later insert sweeps the expired ones.
    let later = MfaChallenge {
        hash: TokenHash::of("later"),
        created_at: at(600),
        expires_at: at(900),
        ..step.clone()
    };
    mfa.insert_mfa_challenge(&later).await.unwrap();
    assert!(!mfa.take_mfa_challenge(&step.hash).await.unwrap(), "swept");
    assert!(mfa.remove_mfa(bob.id, None).await.is_ok());
    assert!(
        !mfa.take_mfa_challenge(&later.hash).await.unwrap(),
        "removed with the factor"
    );
}
