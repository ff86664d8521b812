//! Redirect URIs of OpenID Connect clients: which may be registered, and
//! when a presented one matches a registered one (docs/security.md
//! "OpenID Connect redirect URIs").
//!
//! Matching is exact string comparison (RFC 9700 §4.1.3): no wildcards, no
//! prefix, no normalisation of what a client presents. The one exception is
//! RFC 8252 §7.3: a registered `http://127.0.0.1/…` or `http://[::1]/…`
//! matches the same URI with any port, because a native app listens on
//! whatever port the system gives it.

use crate::error::AuthError;

/// Longest redirect URI registered or accepted.
pub const MAX_REDIRECT_URI: usize = 2000;

/// The loopback hosts of RFC 8252 §7.3, as `url` writes them. `localhost`
/// is not one: it can be resolved elsewhere (RFC 8252 §8.3).
const LOOPBACK_HOSTS: [&str; 2] = ["127.0.0.1", "[::1]"];

/// Checks a URI an administrator registers as a redirect (or post-logout
/// redirect) URI, naming `field` in the error: absolute, `https` (or `http`
/// on a loopback address), no fragment, no user info, and written the way
/// it will be compared (the canonical form, for example a lower-case host
/// and a path of at least `/`), so that what is registered is exactly what
/// must be presented.
///
/// # Errors
/// [`AuthError::InvalidInput`] naming `field` with the reason.
pub fn registrable(field: &'static str, uri: &str) -> Result<String, AuthError> {
    if uri.is_empty() || uri.len() > MAX_REDIRECT_URI {
        return Err(AuthError::invalid(
            field,
            format!("must be 1 to {MAX_REDIRECT_URI} characters"),
        ));
    }
    let parsed =
        url::Url::parse(uri).map_err(|_| AuthError::invalid(field, "is not an absolute URI"))?;
    if parsed.fragment().is_some() {
        return Err(AuthError::invalid(field, "must not have a fragment"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(AuthError::invalid(field, "must not hold user information"));
    }
    if let Some(url::Host::Domain(host)) = parsed.host()
        && !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(AuthError::invalid(
            field,
            "the host must be a DNS name or an IP address (no wildcard)",
        ));
    }
    match parsed.scheme() {
        "https" if parsed.host().is_some() => {}
        "http" if is_loopback(&parsed) => {}
        "http" => {
            return Err(AuthError::invalid(
                field,
                "http is only for 127.0.0.1 and [::1] (native apps); use https",
            ));
        }
        _ => return Err(AuthError::invalid(field, "must be an https URI")),
    }
    if parsed.as_str() != uri {
        return Err(AuthError::invalid(
            field,
            format!("write it as {} (it is compared exactly)", parsed.as_str()),
        ));
    }
    Ok(uri.to_owned())
}

/// Whether `presented` matches one of `registered` exactly, or a registered
/// loopback URI with another port.
pub fn matches_any(registered: &[String], presented: &str) -> bool {
    if presented.is_empty() || presented.len() > MAX_REDIRECT_URI {
        return false;
    }
    registered.iter().any(|r| matches(r, presented))
}

fn matches(registered: &str, presented: &str) -> bool {
    if registered == presented {
        return true;
    }
    let (Ok(mut r), Ok(mut p)) = (url::Url::parse(registered), url::Url::parse(presented)) else {
        return false;
    };
    // Only a canonical presented URI can match a loopback one: otherwise
    // `http://127.0.0.1:8080/cb?` would slip past an exact comparison.
    if p.as_str() != presented || r.scheme() != "http" || !is_loopback(&r) {
        return false;
    }
    if r.set_port(None).is_err() || p.set_port(None).is_err() {
        return false;
    }
    r.as_str() == p.as_str()
}

fn is_loopback(uri: &url::Url) -> bool {
    uri.host_str().is_some_and(|h| LOOPBACK_HOSTS.contains(&h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registered(uris: &[&str]) -> Vec<String> {
        uris.iter()
            .map(|u| registrable("redirect_uris", u).unwrap())
            .collect()
    }

    #[test]
    fn https_and_loopback_http_are_registrable() {
        for ok in [
            "https://app.example/callback",
            "https://app.example/cb?tenant=1",
            "http://127.0.0.1/callback",
            "http://[::1]:8080/callback",
        ] {
            assert_eq!(registrable("redirect_uris", ok).unwrap(), ok);
        }
    }

    #[test]
    fn wildcards_fragments_plain_http_and_other_schemes_are_refused() {
        for bad in [
            "",
            "/callback",
            "https://app.example/cb#x",
            "https://user:pw@app.example/cb",
            "http://app.example/cb",
            "http://localhost/cb",
            "javascript:alert(1)",
            "data:text/html,x",
            "ftp://app.example/cb",
            "https://*.example/cb",
        ] {
            assert!(registrable("redirect_uris", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_non_canonical_uri_is_refused_with_its_canonical_form() {
        let err = registrable("redirect_uris", "https://APP.example/cb").unwrap_err();
        assert!(err.to_string().contains("https://app.example/cb"), "{err}");
        assert!(registrable("redirect_uris", "https://app.example").is_err());
    }

    #[test]
    fn only_the_exact_uri_matches() {
        let r = registered(&["https://app.example/cb"]);
        assert!(matches_any(&r, "https://app.example/cb"));
        for other in [
            "https://app.example/cb/",
            "https://app.example/CB",
            "https://APP.example/cb",
            "https://app.example/cb?x=1",
            "https://app.example/cb#",
            "https://app.example:443/cb",
            "https://app.example/c",
            "http://app.example/cb",
            "https://app.example.evil/cb",
        ] {
            assert!(!matches_any(&r, other), "{other}");
        }
    }

    #[test]
    fn a_loopback_uri_matches_any_port_but_nothing_else() {
        let r = registered(&["http://127.0.0.1/cb", "http://[::1]:9/cb"]);
        assert!(matches_any(&r, "http://127.0.0.1:51234/cb"));
        assert!(matches_any(&r, "http://127.0.0.1/cb"));
        assert!(matches_any(&r, "http://[::1]:4000/cb"));
        for other in [
            "http://127.0.0.1:51234/cb/",
            "http://127.0.0.1:51234/cb?x",
            "http://localhost:51234/cb",
            "http://127.0.0.2:51234/cb",
            "https://127.0.0.1:51234/cb",
            "http://[::1]:4000/other",
        ] {
            assert!(!matches_any(&r, other), "{other}");
        }
    }
}
