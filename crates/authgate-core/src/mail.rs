//! Outgoing mail as the domain sees it: what to tell whom ([`Mail`]), the
//! queued, sealed form the outbox stores ([`QueuedMail`]), and the
//! [`MailComposer`] the server supplies to turn one into the other (its
//! templates, its public URL, its sender, the master key's outbox subkey).

use std::fmt;

use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::AuthError;

/// Longest rendered message the outbox accepts, in bytes: the templates
/// make a few KiB; anything near this is a bug, refused before it is stored.
pub const MAX_MAIL_BYTES: usize = 64 * 1024;

/// A message the domain wants sent. It holds the one-time secret in the
/// clear only until the composer has sealed it.
pub enum Mail {
    /// A password-reset link for an account.
    PasswordReset {
        /// The account's address.
        to: String,
        /// The one-time token the link carries.
        token: Zeroizing<String>,
        /// When the link stops working.
        expires_at: OffsetDateTime,
    },
    /// A reset was asked for an address with no account: the owner of the
    /// address learns so (and that nothing changed). Sent in place of a
    /// link, so both answers cost the same work (docs/security.md).
    NoAccount {
        /// The address asked about.
        to: String,
    },
    /// A link proving the recipient receives mail at the address: a new
    /// account's, or the one an account asked to change to.
    VerifyEmail {
        /// The address to prove.
        to: String,
        /// The one-time token the link carries.
        token: Zeroizing<String>,
        /// When the link stops working.
        expires_at: OffsetDateTime,
        /// Whether it proves a new address for an existing account (the
        /// message says so) rather than a new account's.
        change: bool,
    },
    /// The account's address was changed: a notice to the old one, so that
    /// an owner who did not ask learns of it.
    EmailChanged {
        /// The old address.
        to: String,
        /// The new address.
        new_email: String,
    },
}

impl Mail {
    /// The recipient.
    pub fn recipient(&self) -> &str {
        match self {
            Self::PasswordReset { to, .. }
            | Self::NoAccount { to }
            | Self::VerifyEmail { to, .. }
            | Self::EmailChanged { to, .. } => to,
        }
    }

    /// The kind stored in the outbox, for per-recipient limits and the log
    /// (the same for both answers to a reset request).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::PasswordReset { .. } | Self::NoAccount { .. } => MailKind::PASSWORD_RESET,
            Self::VerifyEmail { .. } => MailKind::EMAIL_VERIFICATION,
            Self::EmailChanged { .. } => MailKind::EMAIL_CHANGED,
        }
    }
}

impl fmt::Debug for Mail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the token: Debug output ends up in logs.
        f.debug_struct("Mail")
            .field("kind", &self.kind())
            .finish_non_exhaustive()
    }
}

/// The kinds of message in the outbox.
#[derive(Debug)]
pub struct MailKind;

impl MailKind {
    /// Answers to `POST /auth/password/forgot` (a link, or "no account").
    pub const PASSWORD_RESET: &'static str = "password_reset";
    /// Email-verification links (after registration, a resend, an email change).
    pub const EMAIL_VERIFICATION: &'static str = "email_verification";
    /// Notices to an old address that the account's address changed.
    pub const EMAIL_CHANGED: &'static str = "email_changed";
}

/// A message in the outbox: its envelope in the clear, the RFC 5322 text
/// sealed under the master key's outbox subkey with `id` as context.
#[derive(Clone, PartialEq, Eq)]
pub struct QueuedMail {
    /// The message's id (also the sealing context and the `.eml` file name).
    pub id: Uuid,
    /// [`MailKind`].
    pub kind: String,
    /// The envelope recipient (lower-cased).
    pub recipient: String,
    /// The envelope sender.
    pub sender: String,
    /// The sealed message ([`crate::Purpose::OutboxMessage`]).
    pub sealed: Vec<u8>,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// When it was queued.
    pub created_at: OffsetDateTime,
    /// When the next attempt is due.
    pub next_attempt_at: OffsetDateTime,
}

impl fmt::Debug for QueuedMail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueuedMail")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// Renders and seals messages; supplied by the server, which owns the
/// templates, `server.public_url`, `email.from` and the delivery worker.
pub trait MailComposer: Send + Sync + fmt::Debug {
    /// `mail` rendered (plain text and HTML), sealed, ready to queue at `now`.
    ///
    /// # Errors
    /// [`AuthError::Internal`] when rendering or sealing fails, or the
    /// message is over [`MAX_MAIL_BYTES`].
    fn compose(&self, mail: &Mail, now: OffsetDateTime) -> Result<QueuedMail, AuthError>;

    /// Tells the delivery worker that a message was queued.
    fn wake(&self);
}
