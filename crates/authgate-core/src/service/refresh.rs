//! Refresh: rotate the refresh token, detect reuse, hand racing callers the same successor.

use authgate_proto::AuditKind;
use time::OffsetDateTime;

use super::{AuthService, Tokens, count_revocations};
use crate::audit::{Origin, detail, event};
use crate::clock::truncate_to_millis;
use crate::error::AuthError;
use crate::model::{RefreshToken, Session};
use crate::secrets::{Purpose, TokenHash, random_token};

/// Longest refresh token looked at; ours are 43 characters.
const MAX_REFRESH_TOKEN_LEN: usize = 512;

impl AuthService {
    /// Exchanges a refresh token for a fresh access token and its successor.
    ///
    /// The token is rotated atomically: of any number of concurrent calls
    /// with one token, exactly one creates the successor. The others, and a
    /// repeat of the parent within the reuse grace window, get the *same*
    /// successor back (no new branch). Any other use of a rotated token is
    /// treated as theft: the whole session is revoked.
    ///
    /// A refresh token of a relying party's session (one a code exchange
    /// created) is refused here, changing nothing: it carries a grant
    /// narrowed to that client's scopes, and refreshing it here would turn
    /// it into the user's own full, role-bearing tokens. Its client
    /// refreshes it at `/oauth/token` ([`AuthService::refresh_for_client`]).
    ///
    /// # Errors
    /// [`AuthError::InvalidGrant`] for unknown, expired, revoked or reused
    /// tokens, a relying party's token, and for disabled users; store errors.
    pub async fn refresh(&self, presented: &str, origin: &Origin) -> Result<Tokens, AuthError> {
        let result = self
            .rotate(presented, origin, |session| {
                if session.client.is_some() {
                    Err(AuthError::InvalidGrant)
                } else {
                    Ok(())
                }
            })
            .await;
        let result = match result {
            Ok(r) => self.tokens(&r.user, &r.session, r.refresh_token, r.now),
            Err(e) => Err(e),
        };
        count_refresh(&result);
        result
    }

    /// The rotation both refresh grants share. `admit` looks at the
    /// token's session before anything changes: an error from it is
    /// returned with nothing rotated, revoked or recorded (a token sent to
    /// the wrong place is not theft).
    pub(super) async fn rotate(
        &self,
        presented: &str,
        origin: &Origin,
        admit: impl FnOnce(&Session) -> Result<(), AuthError>,
    ) -> Result<Rotated, AuthError> {
        if presented.is_empty() || presented.len() > MAX_REFRESH_TOKEN_LEN {
            return Err(AuthError::InvalidGrant);
        }
        let hash = TokenHash::of(presented);
        let now = truncate_to_millis(self.deps.clock.now());
        let found = self
            .deps
            .sessions
            .refresh_context(&hash)
            .await?
            .ok_or(AuthError::InvalidGrant)?;
        let record = found.token;
        let session = match found.session {
            Some(session) if session.is_live(now) => session,
            _ => return Err(AuthError::InvalidGrant),
        };
        admit(&session)?;
        let client_id = session.client.as_ref().map(|g| g.client_id.clone());
        let user = match found.user {
            Some(user) if user.is_active => user,
            _ => return Err(AuthError::InvalidGrant),
        };

        let record = if record.used_at.is_none() {
            let successor_token = random_token()?;
            let successor = RefreshToken {
                hash: TokenHash::of(&successor_token),
                session_id: session.id,
                generation: record.generation + 1,
                issued_at: now,
                used_at: None,
                successor: None,
                successor_sealed: None,
                expires_at: session.expires_at,
            };
            let sealed = self.deps.master.seal(
                Purpose::RefreshSuccessor,
                successor_token.as_bytes(),
                &seal_context(&session, &hash),
            )?;
            let mut e = event(AuditKind::TOKEN_REFRESHED, now, origin);
            e.user_id = Some(session.user_id);
            e.session_id = Some(session.id);
            e.client_id.clone_from(&client_id);
            if self
                .deps
                .sessions
                .rotate_audited(&hash, &successor, &sealed, now, self.in_transaction(&e))
                .await?
            {
                tracing::info!(user_id = %user.id, session_id = %session.id, "token refreshed");
                self.deps.audit.record_written(e);
                return Ok(Rotated {
                    user,
                    session,
                    refresh_token: successor_token,
                    now,
                });
            }
            // Another refresh with this token won the race: read what it did.
            let raced = self
                .deps
                .sessions
                .refresh_token(&hash)
                .await?
                .ok_or(AuthError::InvalidGrant)?;
            if raced.used_at.is_none() {
                // Nobody used it: the rotation was refused because the
                // session ended meanwhile (a logout, a disable). No reuse,
                // nothing to revoke or report as theft.
                return Err(AuthError::InvalidGrant);
            }
            raced
        } else {
            record
        };

        if let Some(successor_token) = self.grace_successor(&record, &session, &hash, now).await? {
            tracing::info!(user_id = %user.id, session_id = %session.id, "token refreshed within the reuse grace window");
            self.audit_session(AuditKind::TOKEN_REFRESHED, &session, origin, |e| {
                e.client_id = client_id;
                detail(e, "grace", true);
            });
            return Ok(Rotated {
                user,
                session,
                refresh_token: successor_token,
                now,
            });
        }
        // A rotated token came back outside the grace rule: assume it was stolen.
        let mut e = event(AuditKind::REFRESH_REUSE_DETECTED, now, origin);
        e.user_id = Some(session.user_id);
        e.session_id = Some(session.id);
        e.client_id = client_id;
        detail(&mut e, "generation", record.generation);
        if self
            .deps
            .sessions
            .revoke_session_audited(session.id, now, self.in_transaction(&e))
            .await?
        {
            self.remember_revoked(session.id);
            count_revocations("session", 1);
        }
        self.deps.audit.record_written(e);
        metrics::counter!("authgate_refresh_reuse_detected_total").increment(1);
        tracing::warn!(
            user_id = %user.id,
            session_id = %session.id,
            generation = record.generation,
            "refresh token reuse detected; session revoked"
        );
        Err(AuthError::InvalidGrant)
    }

    /// The successor to hand back again, when `record` is the immediate
    /// parent of the session's current token and was used within the grace window.
    async fn grace_successor(
        &self,
        record: &RefreshToken,
        session: &Session,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<zeroize::Zeroizing<String>>, AuthError> {
        let (Some(used_at), Some(successor_hash), Some(sealed)) = (
            record.used_at,
            record.successor,
            record.successor_sealed.as_ref(),
        ) else {
            return Ok(None);
        };
        if now - used_at > self.settings.refresh_reuse_grace {
            return Ok(None);
        }
        // Only the parent of the *current* token: if the successor was itself
        // rotated, this is an older generation and gets no grace.
        match self.deps.sessions.refresh_token(&successor_hash).await? {
            Some(successor) if successor.used_at.is_none() => {}
            _ => return Ok(None),
        }
        let opened = self.deps.master.open(
            Purpose::RefreshSuccessor,
            sealed,
            &seal_context(session, hash),
        )?;
        let token = String::from_utf8(opened.to_vec())
            .map_err(|_| AuthError::Internal("sealed successor is not text".into()))?;
        let token = zeroize::Zeroizing::new(token);
        if !TokenHash::of(&token).ct_eq(&successor_hash) {
            return Err(AuthError::Internal(
                "sealed successor does not match its hash".into(),
            ));
        }
        Ok(Some(token))
    }

    fn tokens(
        &self,
        user: &crate::model::User,
        session: &Session,
        refresh_token: zeroize::Zeroizing<String>,
        now: OffsetDateTime,
    ) -> Result<Tokens, AuthError> {
        let (access_token, expires_in) = self.issue_access_token(user, session)?;
        Ok(Tokens {
            access_token,
            expires_in,
            refresh_token,
            refresh_expires_in: (session.expires_at - now).whole_seconds(),
        })
    }
}

/// A rotated refresh token, before the access token is made.
pub(super) struct Rotated {
    /// The session's user, active.
    pub(super) user: crate::model::User,
    /// The live session.
    pub(super) session: Session,
    /// The successor refresh token (or the same one again within the grace window).
    pub(super) refresh_token: zeroize::Zeroizing<String>,
    /// The time of the rotation.
    pub(super) now: OffsetDateTime,
}

/// Counts a refresh by outcome (`authgate_refreshes_total`).
pub(super) fn count_refresh<T>(result: &Result<T, AuthError>) {
    let outcome = match result {
        Ok(_) => "success",
        Err(AuthError::InvalidGrant) => "invalid_grant",
        Err(_) => "error",
    };
    metrics::counter!("authgate_refreshes_total", "outcome" => outcome).increment(1);
}

/// Binds a sealed successor to its session and parent, so it cannot be
/// moved to another row and opened there.
fn seal_context(session: &Session, parent: &TokenHash) -> Vec<u8> {
    let mut context = Vec::with_capacity(16 + 32 + 8);
    context.extend_from_slice(b"refresh:");
    context.extend_from_slice(session.id.as_bytes());
    context.extend_from_slice(&parent.0);
    context
}
