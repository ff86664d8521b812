//! [`Composer`]: the server's [`MailComposer`]. It renders a message from
//! the templates in `templates/mail/` (plain text and HTML alternatives),
//! builds the link from `server.public_url`, and seals the result for the
//! outbox.

use std::sync::Arc;
use std::time::SystemTime;

use askama::Template;
use authgate_core::{
    AuthError, MAX_MAIL_BYTES, Mail, MailComposer, MasterKey, Purpose, QueuedMail,
};
use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;
use tokio::sync::Notify;
use uuid::Uuid;

/// The path a reset link opens (the reset form of the hosted pages).
pub(crate) const RESET_PATH: &str = "/password/reset";

/// The path a verification link opens (the confirm page of the hosted pages).
pub(crate) const VERIFY_PATH: &str = "/email/verify";

/// The email-verification message.
#[derive(Template)]
#[template(path = "mail/verify_email.txt")]
struct VerifyText<'a> {
    host: &'a str,
    link: &'a str,
    expires: &'a str,
    hours: i64,
    /// Whether it proves a new address for an existing account.
    change: bool,
}

/// Its HTML alternative.
#[derive(Template)]
#[template(path = "mail/verify_email.html")]
struct VerifyHtml<'a> {
    host: &'a str,
    link: &'a str,
    expires: &'a str,
    hours: i64,
    /// Whether it proves a new address for an existing account.
    change: bool,
}

/// The notice to an old address that the account's address changed.
#[derive(Template)]
#[template(path = "mail/email_changed.txt")]
struct ChangedText<'a> {
    host: &'a str,
    new_email: &'a str,
}

/// Its HTML alternative.
#[derive(Template)]
#[template(path = "mail/email_changed.html")]
struct ChangedHtml<'a> {
    host: &'a str,
    new_email: &'a str,
}

/// The password-reset message.
#[derive(Template)]
#[template(path = "mail/password_reset.txt")]
struct ResetText<'a> {
    host: &'a str,
    link: &'a str,
    expires: &'a str,
    minutes: i64,
}

/// Its HTML alternative.
#[derive(Template)]
#[template(path = "mail/password_reset.html")]
struct ResetHtml<'a> {
    host: &'a str,
    link: &'a str,
    expires: &'a str,
    minutes: i64,
}

/// The "no account has this address" notice.
#[derive(Template)]
#[template(path = "mail/no_account.txt")]
struct NoAccountText<'a> {
    host: &'a str,
}

/// Its HTML alternative.
#[derive(Template)]
#[template(path = "mail/no_account.html")]
struct NoAccountHtml<'a> {
    host: &'a str,
}

/// Renders and seals messages, and wakes the delivery worker.
pub(crate) struct Composer {
    /// `server.public_url` without a trailing slash: the links' base.
    public_url: String,
    /// The public URL's host, named in the messages.
    host: String,
    /// `email.from`.
    from: Mailbox,
    /// Seals messages for the outbox ([`Purpose::OutboxMessage`]).
    master: Arc<MasterKey>,
    /// Shared with the delivery worker.
    wake: Arc<Notify>,
}

impl std::fmt::Debug for Composer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Composer")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl Composer {
    /// A composer sending as `from`, linking to `public_url`.
    pub(crate) fn new(
        public_url: &str,
        from: Mailbox,
        master: Arc<MasterKey>,
        wake: Arc<Notify>,
    ) -> Self {
        let public_url = public_url.trim_end_matches('/').to_owned();
        let host = url::Url::parse(&public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| public_url.clone());
        Self {
            public_url,
            host,
            from,
            master,
            wake,
        }
    }

    /// The subject, plain text and HTML of `mail`.
    fn render(
        &self,
        mail: &Mail,
        now: OffsetDateTime,
    ) -> Result<(&'static str, String, String), askama::Error> {
        let host = self.host.as_str();
        match mail {
            Mail::PasswordReset {
                token, expires_at, ..
            } => {
                let link = format!("{}{RESET_PATH}?token={}", self.public_url, token.as_str());
                let link = zeroize::Zeroizing::new(link);
                let expires = expires_at
                    .format(&Rfc2822)
                    .unwrap_or_else(|_| expires_at.to_string());
                let minutes = (*expires_at - now).whole_minutes();
                let text = ResetText {
                    host,
                    link: &link,
                    expires: &expires,
                    minutes,
                }
                .render()?;
                let html = ResetHtml {
                    host,
                    link: &link,
                    expires: &expires,
                    minutes,
                }
                .render()?;
                Ok(("Reset your password", text, html))
            }
            Mail::NoAccount { .. } => Ok((
                "Password reset requested",
                NoAccountText { host }.render()?,
                NoAccountHtml { host }.render()?,
            )),
            Mail::VerifyEmail {
                token,
                expires_at,
                change,
                ..
            } => {
                let link = format!("{}{VERIFY_PATH}?token={}", self.public_url, token.as_str());
                let link = zeroize::Zeroizing::new(link);
                let expires = expires_at
                    .format(&Rfc2822)
                    .unwrap_or_else(|_| expires_at.to_string());
                let hours = (*expires_at - now).whole_hours();
                let change = *change;
                let text = VerifyText {
                    host,
                    link: &link,
                    expires: &expires,
                    hours,
                    change,
                }
                .render()?;
                let html = VerifyHtml {
                    host,
                    link: &link,
                    expires: &expires,
                    hours,
                    change,
                }
                .render()?;
                Ok(("Confirm your email address", text, html))
            }
            Mail::EmailChanged { new_email, .. } => Ok((
                "Your email address was changed",
                ChangedText { host, new_email }.render()?,
                ChangedHtml { host, new_email }.render()?,
            )),
        }
    }
}

/// A text part sent as 7-bit text when it can be (ASCII, no NUL, lines of
/// at most 998 characters, RFC 5322 §2.1.1): the link stays whole and
/// clickable in a raw `.eml` file, where quoted-printable would break it
/// and write `=` as `=3D`. Otherwise lettre picks the encoding.
fn part(content_type: ContentType, text: String) -> SinglePart {
    // Mail lines end in CRLF; the templates' end in LF.
    let text = text.replace("\r\n", "\n").replace('\n', "\r\n");
    let seven_bit = text.is_ascii()
        && text
            .split("\r\n")
            .all(|line| line.len() <= 998 && !line.contains(['\0', '\r']));
    let body = if seven_bit {
        Body::dangerous_pre_encoded(text.into_bytes(), ContentTransferEncoding::SevenBit)
    } else {
        Body::new(text)
    };
    SinglePart::builder().header(content_type).body(body)
}

impl MailComposer for Composer {
    fn compose(&self, mail: &Mail, now: OffsetDateTime) -> Result<QueuedMail, AuthError> {
        let internal = |what: &str| AuthError::Internal(format!("composing a message: {what}"));
        let to: Mailbox = mail
            .recipient()
            .parse()
            .map_err(|_| internal("the recipient is not an address lettre accepts"))?;
        let (subject, text, html) = self
            .render(mail, now)
            .map_err(|_| internal("a template failed"))?;
        let id = Uuid::now_v7();
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .date(SystemTime::from(now))
            .message_id(Some(format!("<{id}@{}>", self.host)))
            .multipart(
                MultiPart::alternative()
                    .singlepart(part(ContentType::TEXT_PLAIN, text))
                    .singlepart(part(ContentType::TEXT_HTML, html)),
            )
            .map_err(|_| internal("the message does not build"))?;
        let formatted = zeroize::Zeroizing::new(message.formatted());
        if formatted.len() > MAX_MAIL_BYTES {
            return Err(internal("the message is too large"));
        }
        let sealed = self
            .master
            .seal(Purpose::OutboxMessage, &formatted, id.as_bytes())?;
        Ok(QueuedMail {
            id,
            kind: mail.kind().to_owned(),
            recipient: mail.recipient().to_owned(),
            sender: self.from.email.to_string(),
            sealed,
            attempts: 0,
            created_at: now,
            next_attempt_at: now,
        })
    }

    fn wake(&self) {
        self.wake.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use authgate_core::Email;
    use lettre::message::Mailbox;
    use proptest::prelude::*;

    /// Text shaped like addresses: specials, dots, quotes and non-ASCII
    /// letters around one `@`.
    fn address_like() -> impl Strategy<Value = String> {
        let part = "[a-z0-9.:;,<>()\\[\\]\"'!#$%&*+/=?^_`{|}~@é-]{0,12}";
        (part, part).prop_map(|(local, domain)| format!("{local}@{domain}.example"))
    }

    proptest! {
        /// Every address the edge accepts is one lettre can put a message
        /// to: otherwise the account's mail (verification, reset) could
        /// never be composed, and a reset request for it was a 500.
        #[test]
        fn every_accepted_email_is_an_address_lettre_accepts(text in address_like()) {
            if let Ok(email) = Email::parse(&text) {
                prop_assert!(
                    email.as_str().parse::<Mailbox>().is_ok(),
                    "accepted but not addressable: {}", email.as_str()
                );
            }
        }
    }
}
