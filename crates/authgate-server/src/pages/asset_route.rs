//! `GET /assets/{name}`: serving the embedded files of `assets.rs`, and the
//! 404 page for any other name.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::assets::ASSETS;

/// `GET /assets/{name}`: an embedded file under its current hashed name,
/// cacheable for a year; any other name is the 404 page.
pub(crate) async fn serve(
    state: axum::extract::State<crate::state::AppState>,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Response {
    let name = path.map(|Path(name)| name).unwrap_or_default();
    let assets = &*ASSETS;
    let found = [&assets.css, &assets.js]
        .into_iter()
        .find(|a| a.href.strip_prefix("/assets/") == Some(name.as_str()));
    let Some(asset) = found else {
        return super::view::error_page(&state, None, axum::http::StatusCode::NOT_FOUND);
    };
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}
