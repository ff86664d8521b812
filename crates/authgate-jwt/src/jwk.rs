//! JSON Web Keys (RFC 7517, 7518 §6, 8037) for publishing and importing public
//! keys, and RFC 7638 thumbprints used as key ids.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::algorithm::Family;
use crate::verifying::{PublicParams, curve, sha256};
use crate::{Algorithm, Error, VerifyingKey, b64};

/// One JSON Web Key, with the members authgate reads and writes.
///
/// Unknown members are ignored on input. Private members (`d`, `p`, …) are
/// never read: a JWK is only ever a way to carry a *public* key here, except
/// `k`, the shared secret of an `oct` key, which `Debug` hides.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: `RSA`, `EC`, `OKP` or `oct`.
    pub kty: String,
    /// Intended use; only `sig` (or absent) keys verify tokens.
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Permitted operations; if present it must include `verify`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_ops: Option<Vec<String>>,
    /// The one algorithm this key is for (RFC 8725 §3.1 wants it set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Key id, matched against token headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Curve of an EC or OKP key (`P-256`, `P-384`, `P-521`, `Ed25519`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// EC x coordinate, or the OKP public key, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// EC y coordinate, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// RSA modulus, base64url big-endian.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA public exponent, base64url big-endian.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// Shared secret of an `oct` key, base64url. Never published by authgate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<String>,
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwk")
            .field("kty", &self.kty)
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("crv", &self.crv)
            .field("k", &self.k.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

/// A JWK Set document (RFC 7517 §5), what `/.well-known/jwks.json` serves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    /// The keys, in publication order.
    pub keys: Vec<Jwk>,
}

impl Jwk {
    /// The RFC 7638 thumbprint: SHA-256 over the key's required members, base64url.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] if a required member is missing or `kty` is unknown.
    pub fn thumbprint(&self) -> Result<String, Error> {
        const MISSING: Error = Error::InvalidKey("JWK lacks a member its kty requires");
        let members: Vec<(&str, &str)> = match self.kty.as_str() {
            "RSA" => vec![
                ("e", self.e.as_deref().ok_or(MISSING)?),
                ("kty", "RSA"),
                ("n", self.n.as_deref().ok_or(MISSING)?),
            ],
            "EC" => vec![
                ("crv", self.crv.as_deref().ok_or(MISSING)?),
                ("kty", "EC"),
                ("x", self.x.as_deref().ok_or(MISSING)?),
                ("y", self.y.as_deref().ok_or(MISSING)?),
            ],
            "OKP" => vec![
                ("crv", self.crv.as_deref().ok_or(MISSING)?),
                ("kty", "OKP"),
                ("x", self.x.as_deref().ok_or(MISSING)?),
            ],
            "oct" => vec![("k", self.k.as_deref().ok_or(MISSING)?), ("kty", "oct")],
            _ => return Err(Error::InvalidKey("unknown JWK kty")),
        };
        // Members are already in lexicographic order; serde_json escapes values exactly as RFC 7638 §3.3 wants.
        let mut canonical = String::from("{");
        for (i, (name, value)) in members.iter().enumerate() {
            if i > 0 {
                canonical.push(',');
            }
            canonical.push('"');
            canonical.push_str(name);
            canonical.push_str("\":");
            canonical.push_str(&serde_json::to_string(value).map_err(|_| Error::Serialize)?);
        }
        canonical.push('}');
        Ok(b64::encode(sha256(canonical.as_bytes()).as_ref()))
    }

    /// The algorithm this JWK is for: its `alg`, or the only one its curve allows.
    ///
    /// # Errors
    /// [`Error::UnsupportedAlgorithm`] for an unknown `alg`; [`Error::InvalidKey`]
    /// when an RSA or `oct` key has no `alg` (several would fit, and guessing is
    /// how algorithm confusion starts).
    pub fn algorithm(&self) -> Result<Algorithm, Error> {
        if let Some(alg) = &self.alg {
            return alg.parse();
        }
        match (self.kty.as_str(), self.crv.as_deref()) {
            ("EC", Some("P-256")) => Ok(Algorithm::ES256),
            ("EC", Some("P-384")) => Ok(Algorithm::ES384),
            ("EC", Some("P-521")) => Ok(Algorithm::ES512),
            ("OKP", Some("Ed25519")) => Ok(Algorithm::EdDSA),
            ("RSA" | "oct", _) => Err(Error::InvalidKey("RSA and oct JWKs must name their alg")),
            _ => Err(Error::UnsupportedAlgorithm),
        }
    }
}

impl VerifyingKey {
    /// A verifying key from a JWK, with the JWK's `kid`.
    ///
    /// # Errors
    /// [`Error::KeyUsage`] if `use` is not `sig` or `key_ops` lacks `verify`;
    /// [`Error::UnsupportedAlgorithm`] / [`Error::InvalidKey`] if the algorithm
    /// is unknown, does not fit `kty`/`crv`, or the key material is malformed.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, Error> {
        if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
            return Err(Error::KeyUsage("JWK is not for signatures"));
        }
        if jwk
            .key_ops
            .as_ref()
            .is_some_and(|ops| !ops.iter().any(|op| op == "verify"))
        {
            return Err(Error::KeyUsage("JWK key_ops does not allow verify"));
        }
        let alg = jwk.algorithm()?;
        let member = |value: &Option<String>| -> Result<Vec<u8>, Error> {
            let text = value
                .as_deref()
                .ok_or(Error::InvalidKey("JWK lacks a member its kty requires"))?;
            b64::decode(text.as_bytes(), "JWK member is not base64url")
                .map_err(|_| Error::InvalidKey("JWK member is not canonical base64url"))
        };
        let key = match (alg.family(), jwk.kty.as_str()) {
            (Family::Hmac, "oct") => {
                VerifyingKey::from_secret(alg, &zeroize::Zeroizing::new(member(&jwk.k)?))?
            }
            (Family::Rsa, "RSA") => VerifyingKey::from_params(
                alg,
                PublicParams::Rsa {
                    n: member(&jwk.n)?.into(),
                    e: member(&jwk.e)?.into(),
                },
            )?,
            (Family::Ec, "EC") => {
                let (crv, len) = curve(alg);
                if jwk.crv.as_deref() != Some(crv) {
                    return Err(Error::InvalidKey("JWK curve does not match its alg"));
                }
                let (x, y) = (member(&jwk.x)?, member(&jwk.y)?);
                if x.len() != len || y.len() != len {
                    return Err(Error::InvalidKey("EC coordinates have the wrong length"));
                }
                VerifyingKey::from_params(
                    alg,
                    PublicParams::Ec {
                        crv,
                        x: x.into(),
                        y: y.into(),
                    },
                )?
            }
            (Family::Okp, "OKP") => {
                if jwk.crv.as_deref() != Some("Ed25519") {
                    return Err(Error::UnsupportedAlgorithm);
                }
                VerifyingKey::from_params(
                    alg,
                    PublicParams::Ed25519 {
                        x: member(&jwk.x)?.into(),
                    },
                )?
            }
            _ => return Err(Error::InvalidKey("JWK kty does not match its alg")),
        };
        Ok(match &jwk.kid {
            Some(kid) => key.with_kid(kid.clone()),
            None => key,
        })
    }

    /// The public JWK of this key (`use: sig`, with `alg` and `kid`), for JWKS.
    ///
    /// # Errors
    /// [`Error::KeyUsage`] for HMAC keys: shared secrets are never published.
    pub fn to_jwk(&self) -> Result<Jwk, Error> {
        let mut jwk = self.public_members()?;
        jwk.use_ = Some("sig".into());
        jwk.alg = Some(self.algorithm().as_str().into());
        jwk.kid = self.kid().map(str::to_owned);
        Ok(jwk)
    }

    /// The RFC 7638 thumbprint of the public key.
    ///
    /// # Errors
    /// [`Error::KeyUsage`] for HMAC keys.
    pub fn thumbprint(&self) -> Result<String, Error> {
        self.public_members()?.thumbprint()
    }

    fn public_members(&self) -> Result<Jwk, Error> {
        let params = self.params().ok_or(Error::KeyUsage(
            "HMAC keys are secrets and are never published",
        ))?;
        Ok(match params {
            PublicParams::Rsa { n, e } => Jwk {
                kty: "RSA".into(),
                n: Some(b64::encode(n)),
                e: Some(b64::encode(e)),
                ..Jwk::default()
            },
            PublicParams::Ec { crv, x, y } => Jwk {
                kty: "EC".into(),
                crv: Some((*crv).into()),
                x: Some(b64::encode(x)),
                y: Some(b64::encode(y)),
                ..Jwk::default()
            },
            PublicParams::Ed25519 { x } => Jwk {
                kty: "OKP".into(),
                crv: Some("Ed25519".into()),
                x: Some(b64::encode(x)),
                ..Jwk::default()
            },
        })
    }
}
