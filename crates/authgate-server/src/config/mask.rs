//! Masking the passwords store URLs may carry, for `Debug` and for
//! `authgate config print`.

use serde::Serializer;

/// `url` with the password of its user information (`scheme://user:PASSWORD@host…`)
/// replaced by `********`; anything else unchanged.
pub fn mask_url_password(url: &str) -> String {
    let url = mask_query_password(url);
    let url = url.as_str();
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    let authority = &url[scheme_end..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let Some(colon) = authority[..at].find(':') else {
        return url.to_owned();
    };
    format!(
        "{}{}:********{}",
        &url[..scheme_end],
        &authority[..colon],
        &url[scheme_end + at..]
    )
}

/// `url` with the value of any `password=` query parameter (libpq accepts
/// one) replaced by `********`.
fn mask_query_password(url: &str) -> String {
    let Some(query) = url.find('?') else {
        return url.to_owned();
    };
    let (head, tail) = url.split_at(query + 1);
    let pairs: Vec<String> = tail
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=********"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{head}{}", pairs.join("&"))
}

/// Serialises a store URL with its password masked.
pub(super) fn serialize_masked_url<S: Serializer>(url: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&mask_url_password(url))
}
