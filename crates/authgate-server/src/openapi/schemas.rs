//! Schemas of JSON that has no wire type of its own to derive one: the
//! not-ready body of `GET /readyz` and the JWKS of discovery.

use authgate_proto::{ErrorBody, ReadyResponse};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AllOfBuilder, Ref, Schema};
use utoipa::{PartialSchema, ToSchema};

/// The body of `GET /readyz` when not ready: the error body of docs/http-api.md with
/// the per-store detail of [`ReadyResponse`] beside it.
pub(crate) struct NotReady;

impl PartialSchema for NotReady {
    fn schema() -> RefOr<Schema> {
        AllOfBuilder::new()
            .description(Some(
                "`{\"error\": \"unavailable\", \"error_description\": \"not ready: …\"}` with \
                 `status` and `stores` saying which store failed.",
            ))
            .item(Ref::from_schema_name(ErrorBody::name()))
            .item(Ref::from_schema_name(ReadyResponse::name()))
            .into()
    }
}

impl ToSchema for NotReady {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((ErrorBody::name().into(), ErrorBody::schema()));
        <ErrorBody as ToSchema>::schemas(schemas);
        schemas.push((ReadyResponse::name().into(), ReadyResponse::schema()));
        <ReadyResponse as ToSchema>::schemas(schemas);
    }
}

/// A JSON Web Key Set (RFC 7517 §5) as `GET /.well-known/jwks.json` serves
/// it. The type served is `authgate_jwt::JwkSet`, which stays free of
/// utoipa; this one only describes its JSON.
#[derive(ToSchema)]
#[allow(dead_code, reason = "describes JSON; never built")]
pub(crate) struct Jwks {
    /// The public keys; empty when tokens are signed with a shared HMAC secret.
    keys: Vec<Jwk>,
}

/// A public JSON Web Key (RFC 7517 §4); never private key material.
#[derive(ToSchema)]
#[allow(dead_code, reason = "describes JSON; never built")]
struct Jwk {
    /// The key type: `OKP`, `EC` or `RSA`.
    kty: String,
    /// Always `sig`.
    #[schema(rename = "use")]
    use_: String,
    /// The JWS algorithm, e.g. `EdDSA`.
    alg: String,
    /// The key id, the `kid` of the token headers it verifies.
    kid: String,
    /// The curve (`OKP`, `EC`), e.g. `Ed25519`, `P-256`.
    #[schema(nullable = false)]
    crv: Option<String>,
    /// The public point's x coordinate, base64url (`OKP`, `EC`).
    #[schema(nullable = false)]
    x: Option<String>,
    /// The public point's y coordinate, base64url (`EC`).
    #[schema(nullable = false)]
    y: Option<String>,
    /// The modulus, base64url (`RSA`).
    #[schema(nullable = false)]
    n: Option<String>,
    /// The public exponent, base64url (`RSA`).
    #[schema(nullable = false)]
    e: Option<String>,
}
