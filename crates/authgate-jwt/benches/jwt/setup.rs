//! One fixture per algorithm: the same key loaded into every library, one
//! token signed by authgate, and each library's verify and sign call.

use authgate_jwt::{Algorithm, SigningKey, Validation};
use aws_lc_rs::hmac;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, ParsedPublicKey, RsaKeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oxitoken::validation::ValidationPipeline;
use oxitoken::validation::keystore::LocalKeystore;

use crate::claims::{AUD, AccessClaims, FAR_FUTURE, ISS, NOW, OxiHeader, TYP};
use crate::oxi;

/// A 64-byte HS256 secret.
const SECRET: &[u8] = b"bench-secret-0123456789abcdef0123456789abcdef0123456789abcdef!!";

type OxiPipeline = ValidationPipeline<OxiHeader, AccessClaims, LocalKeystore<oxi::VerifyingKey>>;

/// The floor: the aws-lc-rs primitive with a pre-parsed key, over the
/// signing input and the already decoded signature.
pub(crate) enum BareKey {
    /// Boxed, as authgate holds it: the HMAC context is large.
    Hmac(Box<hmac::Key>),
    Public(ParsedPublicKey),
}

/// Everything the verify and sign benches of one algorithm need.
pub(crate) struct Fixture {
    pub(crate) alg: Algorithm,
    /// The one token every verifier checks, signed by authgate.
    pub(crate) token: String,
    /// The same claims signed by jsonwebtoken, whose header spells the same
    /// fields in another order: authgate parses it instead of recognising it.
    pub(crate) foreign_token: String,
    pub(crate) claims: AccessClaims,
    signing: SigningKey,
    validation: Validation,
    jwt_encoding: jsonwebtoken::EncodingKey,
    jwt_decoding: jsonwebtoken::DecodingKey,
    jwt_header: jsonwebtoken::Header,
    jwt_validation: jsonwebtoken::Validation,
    oxi_signer: oxi::SigningKey,
    oxi_header: OxiHeader,
    oxi_pipeline: OxiPipeline,
    bare_key: BareKey,
    bare_input: Vec<u8>,
    bare_signature: Vec<u8>,
    /// The token's claims JSON, already decoded: what every library must at
    /// least hand to serde_json.
    claims_json: String,
}

impl Fixture {
    /// Builds the keys and token for `alg`, and checks every library accepts
    /// the token and refuses the broken variants it should.
    pub(crate) fn new(alg: Algorithm) -> Self {
        let signing = match alg {
            Algorithm::HS256 => SigningKey::from_secret(alg, SECRET)
                .unwrap()
                .with_kid("hs256-2025-06"),
            _ => SigningKey::generate(alg).unwrap(),
        };
        let kid = signing.kid().unwrap().to_owned();
        let claims = AccessClaims::realistic();
        let token = authgate_jwt::sign(&signing, Some(TYP), &claims).unwrap();
        let (jwt_encoding, jwt_decoding) = jsonwebtoken_keys(alg, &signing);
        let (oxi_signer, oxi_key, bare_key) = aws_lc_keys(alg, &signing);
        let (bare_input, signature) = token.rsplit_once('.').unwrap();
        let bare_signature = URL_SAFE_NO_PAD.decode(signature);
        let claims_json = String::from_utf8(
            URL_SAFE_NO_PAD
                .decode(token.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();

        let mut jwt_header = jsonwebtoken::Header::new(jsonwebtoken_alg(alg));
        jwt_header.typ = Some(TYP.to_owned());
        jwt_header.kid = Some(kid.clone());
        let mut jwt_validation = jsonwebtoken::Validation::new(jsonwebtoken_alg(alg));
        jwt_validation.set_issuer(&[ISS]);
        jwt_validation.set_audience(&[AUD]);
        jwt_validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        jwt_validation.validate_nbf = true;

        let mut keystore = LocalKeystore::empty();
        keystore.add_key(kid.clone(), oxi_key);
        let oxi_pipeline = OxiPipeline::builder(keystore)
            .with_max_size(authgate_jwt::DEFAULT_MAX_TOKEN_LEN)
            .with_type_validator([TYP.to_owned()])
            .with_issuer_validator(ISS)
            .with_audience_validator(AUD)
            .with_expiration_validator()
            .with_not_before_validator()
            .with_issued_at_validator()
            .build();

        let mut fixture = Self {
            alg,
            bare_input: bare_input.as_bytes().to_vec(),
            bare_signature: bare_signature.unwrap(),
            claims_json,
            token,
            foreign_token: String::new(),
            claims,
            signing,
            validation: Validation::new().issuer(ISS).audience(AUD).typ(TYP),
            jwt_encoding,
            jwt_decoding,
            jwt_header,
            jwt_validation,
            oxi_signer,
            oxi_header: OxiHeader {
                alg: oxitoken_alg(alg),
                typ: TYP.to_owned(),
                kid,
            },
            oxi_pipeline,
            bare_key,
        };
        fixture.foreign_token = fixture.jsonwebtoken_sign(&fixture.claims);
        assert!(
            fixture
                .signing
                .verifying_key()
                .header_typ(fixture.token.split('.').next().unwrap().as_bytes())
                .is_some(),
            "authgate's own header must be the recognised one"
        );
        assert!(
            fixture
                .signing
                .verifying_key()
                .header_typ(fixture.foreign_token.split('.').next().unwrap().as_bytes())
                .is_none(),
            "jsonwebtoken's header must take the parsing path"
        );
        assert_eq!(
            fixture.authgate_verify(&fixture.foreign_token).unwrap(),
            fixture.claims
        );
        fixture.check();
        fixture
    }

    pub(crate) fn authgate_verify(&self, token: &str) -> Result<AccessClaims, authgate_jwt::Error> {
        authgate_jwt::verify(token, self.signing.verifying_key(), &self.validation, NOW)
    }

    /// jsonwebtoken's `Validation` cannot check `typ`, so the header it
    /// returns is compared here, as a caller of jsonwebtoken has to.
    pub(crate) fn jsonwebtoken_verify(&self, token: &str) -> Option<AccessClaims> {
        let data = jsonwebtoken::decode(token, &self.jwt_decoding, &self.jwt_validation).ok()?;
        (data.header.typ.as_deref() == Some(TYP)).then_some(data.claims)
    }

    pub(crate) fn oxitoken_verify(&self, token: &str) -> Option<AccessClaims> {
        let (_header, claims) = self.oxi_pipeline.verify(token.as_bytes()).ok()?;
        Some(claims)
    }

    pub(crate) fn bare_verify(&self) -> bool {
        match &self.bare_key {
            BareKey::Hmac(key) => hmac::verify(key, &self.bare_input, &self.bare_signature).is_ok(),
            BareKey::Public(key) => key
                .verify_sig(&self.bare_input, &self.bare_signature)
                .is_ok(),
        }
    }

    /// The claims JSON into the claims struct with serde_json, nothing else:
    /// with [`Fixture::bare_verify`], the floor of a verify into that struct.
    pub(crate) fn claims_json_parse(&self) -> AccessClaims {
        serde_json::from_str(&self.claims_json).unwrap()
    }

    pub(crate) fn authgate_sign(&self, claims: &AccessClaims) -> String {
        authgate_jwt::sign(&self.signing, Some(TYP), claims).unwrap()
    }

    pub(crate) fn jsonwebtoken_sign(&self, claims: &AccessClaims) -> String {
        jsonwebtoken::encode(&self.jwt_header, claims, &self.jwt_encoding).unwrap()
    }

    pub(crate) fn oxitoken_sign(&self, claims: &AccessClaims) -> String {
        oxitoken::encoding::encode(&self.oxi_signer, &self.oxi_header, claims).unwrap()
    }

    /// Whether authgate, jsonwebtoken and oxitoken accept `token`.
    fn accepted(&self, token: &str) -> [bool; 3] {
        [
            self.authgate_verify(token).is_ok(),
            self.jsonwebtoken_verify(token).is_some(),
            self.oxitoken_verify(token).is_some(),
        ]
    }

    /// So no bench can silently measure an error path, and the report can
    /// say which checks each library really made.
    fn check(&self) {
        let alg = self.alg;
        assert_eq!(
            self.authgate_verify(&self.token).as_ref(),
            Ok(&self.claims),
            "{alg}"
        );
        assert_eq!(
            self.jsonwebtoken_verify(&self.token).as_ref(),
            Some(&self.claims),
            "{alg}"
        );
        assert_eq!(
            self.oxitoken_verify(&self.token).as_ref(),
            Some(&self.claims),
            "{alg}"
        );
        assert!(self.bare_verify(), "{alg}: bare");
        for token in [
            self.jsonwebtoken_sign(&self.claims),
            self.oxitoken_sign(&self.claims),
        ] {
            assert_eq!(
                self.authgate_verify(&token).as_ref(),
                Ok(&self.claims),
                "{alg}: {token}"
            );
        }

        let with = |edit: fn(&mut AccessClaims)| {
            let mut claims = self.claims.clone();
            edit(&mut claims);
            self.authgate_sign(&claims)
        };
        let refused_by_all = [false; 3];
        let cases = [
            (
                "wrong typ",
                authgate_jwt::sign(&self.signing, Some("JWT"), &self.claims).unwrap(),
                refused_by_all,
            ),
            (
                "wrong iss",
                with(|c| c.iss = "https://evil.example".into()),
                refused_by_all,
            ),
            (
                "wrong aud",
                with(|c| c.aud = "https://other.example".into()),
                refused_by_all,
            ),
            ("expired", with(|c| c.exp = NOW - 3600), refused_by_all),
            (
                "nbf in future",
                with(|c| c.nbf = FAR_FUTURE - 1),
                refused_by_all,
            ),
            // jsonwebtoken has no iat check.
            (
                "iat in future",
                with(|c| c.iat = FAR_FUTURE - 1),
                [false, true, false],
            ),
            ("bad signature", tamper(&self.token), refused_by_all),
        ];
        for (case, token, expected) in cases {
            assert_eq!(self.accepted(&token), expected, "{alg}: {case}");
        }
    }
}

/// Flips one base64url character in the middle of the signature.
fn tamper(token: &str) -> String {
    let at = token.rfind('.').unwrap() + (token.len() - token.rfind('.').unwrap()) / 2;
    let mut bytes = token.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

fn jsonwebtoken_alg(alg: Algorithm) -> jsonwebtoken::Algorithm {
    match alg {
        Algorithm::HS256 => jsonwebtoken::Algorithm::HS256,
        Algorithm::RS256 => jsonwebtoken::Algorithm::RS256,
        Algorithm::ES256 => jsonwebtoken::Algorithm::ES256,
        Algorithm::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        _ => unimplemented!("not benched: {alg}"),
    }
}

fn oxitoken_alg(alg: Algorithm) -> oxitoken::Algorithm {
    match alg {
        Algorithm::HS256 => oxitoken::Algorithm::HS256,
        Algorithm::RS256 => oxitoken::Algorithm::RS256,
        Algorithm::ES256 => oxitoken::Algorithm::ES256,
        Algorithm::EdDSA => oxitoken::Algorithm::EdDSA,
        _ => unimplemented!("not benched: {alg}"),
    }
}

/// jsonwebtoken's keys, loaded from the PEM authgate exports.
fn jsonwebtoken_keys(
    alg: Algorithm,
    key: &SigningKey,
) -> (jsonwebtoken::EncodingKey, jsonwebtoken::DecodingKey) {
    use jsonwebtoken::{DecodingKey, EncodingKey};
    if alg == Algorithm::HS256 {
        return (
            EncodingKey::from_secret(SECRET),
            DecodingKey::from_secret(SECRET),
        );
    }
    let private = key.to_pkcs8_pem().unwrap();
    let public = key.verifying_key().to_public_key_pem().unwrap();
    let (private, public) = (private.as_bytes(), public.as_bytes());
    match alg {
        Algorithm::RS256 => (
            EncodingKey::from_rsa_pem(private).unwrap(),
            DecodingKey::from_rsa_pem(public).unwrap(),
        ),
        Algorithm::ES256 => (
            EncodingKey::from_ec_pem(private).unwrap(),
            DecodingKey::from_ec_pem(public).unwrap(),
        ),
        _ => (
            EncodingKey::from_ed_pem(private).unwrap(),
            DecodingKey::from_ed_pem(public).unwrap(),
        ),
    }
}

/// The aws-lc-rs keys for oxitoken's backend and for the bare floor, from
/// the PKCS#8 authgate exports.
fn aws_lc_keys(alg: Algorithm, key: &SigningKey) -> (oxi::SigningKey, oxi::VerifyingKey, BareKey) {
    let oxi_alg = oxitoken_alg(alg);
    if alg == Algorithm::HS256 {
        let hmac_key = || Box::new(hmac::Key::new(hmac::HMAC_SHA256, SECRET));
        return (
            oxi::SigningKey::Hmac(hmac_key()),
            oxi::VerifyingKey::hmac(oxi_alg, *hmac_key()),
            BareKey::Hmac(hmac_key()),
        );
    }
    let der = key.to_pkcs8_der().unwrap();
    let (signer, public) = match alg {
        Algorithm::RS256 => {
            let pair = RsaKeyPair::from_pkcs8(&der).unwrap();
            let public = ParsedPublicKey::new(
                &signature::RSA_PKCS1_2048_8192_SHA256,
                pair.public_key().as_ref(),
            );
            (oxi::SigningKey::Rsa(pair), public)
        }
        Algorithm::ES256 => {
            let pair = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &der)
                .unwrap();
            let public = ParsedPublicKey::new(
                &signature::ECDSA_P256_SHA256_FIXED,
                pair.public_key().as_ref(),
            );
            (oxi::SigningKey::Ecdsa(pair), public)
        }
        _ => {
            let pair = Ed25519KeyPair::from_pkcs8(&der).unwrap();
            let public = ParsedPublicKey::new(&signature::ED25519, pair.public_key().as_ref());
            (oxi::SigningKey::Ed25519(pair), public)
        }
    };
    let public = public.unwrap();
    (
        signer,
        oxi::VerifyingKey::public(oxi_alg, public.clone()),
        BareKey::Public(public),
    )
}
