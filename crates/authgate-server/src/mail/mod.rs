//! Outgoing mail: [`compose`] renders and seals messages for the outbox
//! (authgate-core's `MailComposer`), [`transport`] reaches the SMTP relay
//! or the outbox folder, [`delivery`] is the worker between them.
//! [`build`] makes the pair from `[email]`.

pub(crate) mod compose;
pub(crate) mod delivery;
pub(crate) mod transport;

use std::sync::Arc;

use authgate_core::{Clock, MasterKey, OutboxStore};
use tokio::sync::Notify;

pub use transport::MailConfigError;

use crate::config::Settings;

/// The composer and its delivery worker, sharing one wake-up.
///
/// # Errors
/// [`MailConfigError`] for an unusable `email.smtp_url` or `email.from`.
pub(crate) fn build(
    settings: &Settings,
    outbox: Arc<dyn OutboxStore>,
    master: Arc<MasterKey>,
    clock: Arc<dyn Clock>,
) -> Result<(compose::Composer, delivery::Delivery), MailConfigError> {
    let email = &settings.email;
    let from = email
        .from
        .parse::<lettre::message::Mailbox>()
        .map_err(|_| MailConfigError::From)?;
    let transport =
        transport::Transport::new(&email.smtp_url, &settings.storage.data_dir, email.timeout.0)?;
    let wake = Arc::new(Notify::new());
    let composer = compose::Composer::new(
        &settings.server.public_url,
        from,
        master.clone(),
        wake.clone(),
    );
    let delivery = delivery::Delivery::new(
        outbox,
        master,
        transport,
        clock,
        wake,
        email.max_attempts,
        email.timeout.0,
    );
    Ok((composer, delivery))
}
