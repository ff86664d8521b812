//! QR codes of TOTP enrolments, rendered by the server as SVG: nothing for
//! the browser to run, and the secret never leaves for a third-party service.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use qrcode::QrCode;
use qrcode::render::svg;
use zeroize::Zeroizing;

use crate::error::ApiError;

/// The QR code of `data` as an SVG document: black modules on white with a
/// quiet zone, `path` elements with presentation attributes only (no
/// script, no style), at least 200 px wide.
///
/// # Errors
/// [`ApiError`] (500) if `data` does not fit a QR code (an `otpauth://`
/// URI always does, its parts being bounded).
pub(crate) fn svg(data: &str) -> Result<Zeroizing<String>, ApiError> {
    let code = QrCode::new(data.as_bytes()).map_err(|e| ApiError::internal(&e))?;
    Ok(Zeroizing::new(
        code.render::<svg::Color<'_>>()
            .min_dimensions(200, 200)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .quiet_zone(true)
            .build(),
    ))
}

/// [`svg`] as a `data:` URL, for an `<img>` (the pages' CSP allows `data:` images).
///
/// # Errors
/// As [`svg`].
pub(crate) fn data_url(data: &str) -> Result<Zeroizing<String>, ApiError> {
    let svg = svg(data)?;
    Ok(Zeroizing::new(format!(
        "data:image/svg+xml;base64,{}",
        STANDARD.encode(svg.as_bytes())
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_svg_is_a_document_of_paths_without_script_or_style() {
        let svg = svg("otpauth://totp/a:b?secret=GEZDGNBV&issuer=a").expect("svg");
        assert!(svg.contains("<svg"), "{}", svg.as_str());
        assert!(svg.contains("<path"));
        for banned in ["<script", "style=", "<style", "href"] {
            assert!(!svg.contains(banned), "{banned}");
        }
        assert!(
            data_url("x")
                .expect("url")
                .starts_with("data:image/svg+xml;base64,")
        );
    }
}
