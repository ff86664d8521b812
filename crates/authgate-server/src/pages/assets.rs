//! The stylesheet and the one small script, compiled into the binary and
//! served under names that carry a hash of their content, so they can be
//! cached for a year: a changed file gets a new name.

use std::sync::LazyLock;

use aws_lc_rs::digest::{SHA256, digest};

/// One embedded file.
#[derive(Debug)]
pub(crate) struct Asset {
    /// `/assets/<stem>.<hash>.<ext>`.
    pub(crate) href: String,
    /// Its `Content-Type`.
    pub(crate) content_type: &'static str,
    /// The bytes.
    pub(crate) body: &'static [u8],
}

/// The stylesheet and the script, by role.
#[derive(Debug)]
pub(crate) struct Assets {
    /// `app.css`.
    pub(crate) css: Asset,
    /// `app.js`: progressive touches only; every page works without it.
    pub(crate) js: Asset,
}

fn asset(stem: &str, ext: &str, content_type: &'static str, body: &'static [u8]) -> Asset {
    let hash = digest(&SHA256, body);
    let hex: String = hash.as_ref()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Asset {
        href: format!("/assets/{stem}.{hex}.{ext}"),
        content_type,
        body,
    }
}

/// The embedded assets (their names hashed once, on first use).
pub(crate) static ASSETS: LazyLock<Assets> = LazyLock::new(|| Assets {
    css: asset(
        "app",
        "css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/app.css"),
    ),
    js: asset(
        "app",
        "js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/app.js"),
    ),
});
