//! Evidence that the storage backends keep the promises of authgate-core's
//! traits.
//!
//! The checks are backend-generic functions over `&dyn UserStore`,
//! `&dyn SessionStore`, `&dyn KeyStore` and `&dyn Ping` (modules `users`,
//! `sessions`, `keys`), listed once in [`generic_checks`]; each backend
//! module (`sqlite`, `postgres`) runs every one of them against a fresh
//! database (or schema) of its own, plus the checks only that backend needs.
//!
//! The PostgreSQL tests need `AUTHGATE_TEST_POSTGRES_URL` and are
//! `#[ignore]`d with that reason; `scripts/test` starts the server, sets the
//! variable and runs them (`--include-ignored`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
/// Hands every backend-generic check to `$run`, a backend's macro that turns
/// each `module::check(args);` line into a `#[tokio::test]` on a fresh store
/// named `s`. A new generic check is added here, once, for every backend.
macro_rules! generic_checks {
    ($run:ident) => {
        $run! { |s|
            users::inserted_user_is_found_by_id_email_and_username(&s);
            users::the_costs_of_stored_hashes_are_listed_once_each(&s);
            users::users_without_username_coexist_and_are_found_by_email(&s);
            users::duplicate_email_is_a_conflict_on_email_and_inserts_nothing(&s);
            users::duplicate_username_is_a_conflict_on_username_and_inserts_nothing(&s);
            users::set_roles_and_password_hash_replace_them_and_touch_updated_at(&s);
            users::disabling_a_user_revokes_their_live_sessions_in_the_same_call(&s, &s);
            users::list_users_pages_by_id_after_the_cursor(&s);
            users::list_users_prefix_matches_email_or_username_literally(&s);
            sessions::created_session_and_first_token_read_back(&s, &s);
            sessions::failed_create_session_leaves_no_session_behind(&s, &s);
            sessions::live_sessions_are_unrevoked_unexpired_and_newest_first(&s, &s);
            sessions::live_sessions_page_walks_every_live_session_once_newest_first(&s, &s);
            sessions::revoking_several_sessions_is_one_transaction_with_its_audit_record(&s, &s, &s);
            sessions::rotate_marks_the_parent_used_inserts_the_successor_and_touches_the_session(&s, &s);
            sessions::rotating_a_used_parent_again_returns_false_and_changes_nothing(&s, &s);
            sessions::rotate_refuses_revoked_expired_sessions_and_unknown_parents(&s, &s);
            sessions::concurrent_rotations_of_one_parent_have_exactly_one_winner(&s, std::sync::Arc::new(s.clone()));
            sessions::concurrent_rotations_of_many_sessions_all_win(&s, std::sync::Arc::new(s.clone()));
            sessions::a_refused_write_fails_alone_among_concurrent_ones(&s, std::sync::Arc::new(s.clone()));
            sessions::a_rotation_and_its_audit_record_commit_together_or_not_at_all(&s, &s, &s);
            sessions::a_new_session_and_its_audit_record_commit_together_or_not_at_all(&s, &s, &s);
            sessions::a_password_change_ends_the_other_sessions_with_its_record_or_changes_nothing(&s, &s, &s);
            sessions::refresh_context_reads_the_token_with_its_session_and_user(&s, &s);
            sessions::revoke_session_is_idempotent_and_reports_the_first_time(&s, &s);
            sessions::revoke_user_sessions_returns_only_the_ones_it_revoked(&s, &s);
            sessions::revoked_since_lists_sessions_revoked_at_or_after_the_instant(&s, &s);
            sessions::wipe_sealed_successors_clears_only_tokens_used_before_the_instant(&s, &s);
            sessions::purge_ended_deletes_only_what_ended_before_the_instant(&s, &s);
            sessions::writes_abandoned_midway_leave_the_store_usable(&s, &s);
            keys::inserted_keys_are_listed_oldest_first_with_every_field(&s);
            keys::duplicate_kid_is_a_conflict_on_kid(&s);
            keys::transition_applies_only_to_the_expected_key_set(&s);
            keys::a_failed_transition_changes_nothing(&s);
            keys::reseal_replaces_the_material_only_if_it_is_unchanged(&s);
            keys::racing_transitions_from_the_same_set_apply_exactly_once(std::sync::Arc::new(s.clone()));
            keys::racing_first_key_creations_apply_exactly_once(std::sync::Arc::new(s.clone()));
            keys::ping_succeeds_on_an_open_store(&s);
            admin::inserted_client_reads_back_and_ids_are_unique(&s);
            admin::revoked_tokens_are_listed_until_they_expire(&s);
            admin::audit_events_read_back_newest_first_and_filter(&s);
            admin::clients_list_newest_first_and_delete_with_their_record(&s, &s);
            admin::disabling_a_client_keeps_it_listed_and_enabling_restores_it_each_with_its_record(&s, &s);
            admin::audit_pages_follow_the_cursor_and_the_range_end(&s);
            admin::a_batch_of_events_is_appended_in_order_or_not_at_all(&s);
            admin::a_change_and_its_audit_event_commit_or_fail_together(&s, &s, &s);
            recovery::the_outbox_holds_at_most_its_bound_and_claims_each_message_once(&s);
            recovery::delivered_and_abandoned_mail_stops_waiting_and_is_purged_later(&s);
            recovery::a_reset_replaces_older_tokens_is_used_once_and_ends_every_session(&s, &s, &s, &s);
            recovery::a_reset_token_is_refused_once_the_password_changed(&s, &s);
            oidc::relying_parties_read_back_list_oldest_first_and_delete(&s);
            oidc::a_code_is_used_once_then_reported_again_with_its_session(&s, &s);
            oidc::racing_uses_of_one_code_have_exactly_one_first(std::sync::Arc::new(s.clone()), &s);
            oidc::a_consent_is_replaced_and_goes_with_its_client(&s, &s);
            oidc::a_keys_lane_reads_back(&s);
            verification::a_newer_link_replaces_the_older_and_verifies_the_address_once(&s, &s, &s);
            verification::an_expired_link_is_refused_and_purged_later(&s, &s, &s);
            verification::a_link_for_a_new_address_changes_it_unless_another_account_took_it(&s, &s);
            verification::a_full_outbox_stores_no_link(&s, &s, &s);
            mfa::a_factor_is_pending_until_confirmed_and_its_steps_only_move_forward(&s, &s);
            mfa::a_login_step_counts_attempts_expires_and_is_taken_once(&s, &s);
            oidc::a_clients_session_reads_back_its_grant_and_ends_by_logout_or_deletion(&s, &s, &s);
            oidc::codes_are_purged_once_expired_before_the_instant(&s, &s);
        }
    };
}

mod fixtures;
mod keys;
mod mfa;
mod oidc;
mod postgres;
mod recovery;
mod redis;
mod sessions;
mod sqlite;
mod users;
mod verification;
