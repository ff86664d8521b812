//! Response rows many operations share, written once: listed by name in a
//! handler's `responses(...)`, each expands to the same status, description,
//! body and headers a row written out in full would.

use authgate_proto::ErrorBody;
use utoipa::IntoResponses;

/// 401 `invalid_token` with its `Bearer` challenge: every operation that
/// takes an access token.
#[derive(IntoResponses)]
#[response(
    status = 401,
    description = "`invalid_token`: the access token is missing, malformed, expired or revoked.",
    headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"authgate\"`, with `error=\"invalid_token\"` when a token was sent."))
)]
#[allow(dead_code, reason = "describes a response; never built")]
pub(crate) struct InvalidToken(ErrorBody);

/// 503 `unavailable` of an operation that writes: a store is down and
/// nothing was written.
#[derive(IntoResponses)]
#[response(
    status = 503,
    description = "`unavailable`: a backing store is down; nothing was written."
)]
#[allow(dead_code, reason = "describes a response; never built")]
pub(crate) struct Unavailable(ErrorBody);
