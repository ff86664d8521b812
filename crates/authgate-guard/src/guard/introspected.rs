//! What an introspection answer must say for the token to be accepted
//! here, and the cheap unverified look at the token that keeps garbage
//! (not a JWT, another issuer or audience, expired) from reaching the
//! authorization server. It checks no signature, so a forged token can pass
//! it; the [`Introspector`](crate::Introspector) bounds what those cost.

use authgate_jwt::{Error as JwtError, Validation, decode_unverified};
use authgate_proto::{AccessClaims, Audience, IntrospectionResponse, IntrospectionTokenType};
use serde::Deserialize;

use crate::{GuardError, Principal, VerifierConfig};

/// The issuer, audiences and leeway a token must fit, from the guard's
/// [`VerifierConfig`].
#[derive(Debug)]
pub(super) struct Expectations {
    /// The only accepted `iss`.
    issuer: String,
    /// At least one must be in `aud`.
    audiences: Vec<String>,
    /// For its time checks (and leeway), the same as local verification's.
    validation: Validation,
}

/// The claims read, unverified, before asking the server.
#[derive(Deserialize)]
struct Peek {
    /// Must be our issuer.
    iss: Option<String>,
    /// Must hold one of our audiences.
    aud: Option<Audience>,
    /// Must not have passed.
    exp: Option<i64>,
}

impl Expectations {
    pub(super) fn new(config: &VerifierConfig) -> Self {
        Self {
            issuer: config.issuer.clone(),
            audiences: config.audiences.clone(),
            validation: Validation::new().leeway(config.leeway_secs),
        }
    }

    /// Refuses, without asking anyone, a token that is not a JWT or whose
    /// (unverified) issuer, audience or expiry already rule it out. Passing
    /// proves nothing: the server's answer decides.
    pub(super) fn prefilter(&self, token: &str, now: i64) -> Result<(), GuardError> {
        let peek = decode_unverified::<Peek>(token)?.claims;
        self.check_issuer_and_audience(peek.iss.as_deref(), peek.aud.as_ref())?;
        self.validation.check_time(peek.exp, None, None, now)?;
        Ok(())
    }

    /// The principal an introspection answer describes, if it is an active
    /// access token for us, valid at `now`.
    pub(super) fn principal(
        &self,
        answer: &IntrospectionResponse,
        now: i64,
    ) -> Result<Principal, GuardError> {
        if !answer.active {
            return Err(GuardError::Inactive);
        }
        // Only an access token opens a resource: authgate answers
        // `"token_type": "Bearer"` for those (docs/http-api.md), and a refresh token
        // is active too. An answer that does not say what it describes is
        // refused rather than taken for an access token.
        if answer.token_type != Some(IntrospectionTokenType::Bearer) {
            return Err(JwtError::InvalidType.into());
        }
        let missing = |claim: &str| GuardError::InvalidToken(JwtError::MissingClaim(claim.into()));
        self.check_issuer_and_audience(answer.iss.as_deref(), answer.aud.as_ref())?;
        let exp = answer.exp.ok_or_else(|| missing("exp"))?;
        let iat = answer.iat.ok_or_else(|| missing("iat"))?;
        let nbf = answer.nbf.unwrap_or(iat);
        self.validation
            .check_time(Some(exp), Some(nbf), Some(iat), now)?;
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: answer.sub.clone().ok_or_else(|| missing("sub"))?,
            aud: answer.aud.clone().ok_or_else(|| missing("aud"))?,
            exp,
            iat,
            nbf,
            jti: answer.jti.clone().ok_or_else(|| missing("jti"))?,
            sid: answer.sid,
            roles: answer.roles.clone().unwrap_or_default(),
            client_id: answer.client_id.clone(),
            scope: answer.scope.clone(),
        };
        Ok(Principal::new(claims))
    }

    fn check_issuer_and_audience(
        &self,
        iss: Option<&str>,
        aud: Option<&Audience>,
    ) -> Result<(), GuardError> {
        match iss {
            None => return Err(JwtError::MissingClaim("iss".into()).into()),
            Some(iss) if iss != self.issuer => return Err(JwtError::InvalidIssuer.into()),
            Some(_) => {}
        }
        match aud {
            None => Err(JwtError::MissingClaim("aud".into()).into()),
            Some(aud) if self.audiences.iter().any(|a| aud.contains(a)) => Ok(()),
            Some(_) => Err(JwtError::InvalidAudience.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn expect() -> Expectations {
        Expectations::new(&VerifierConfig::new("https://auth.example", "api"))
    }

    fn active() -> IntrospectionResponse {
        IntrospectionResponse {
            active: true,
            sub: Some("alice".into()),
            roles: Some(vec!["user".into()]),
            token_type: Some(IntrospectionTokenType::Bearer),
            exp: Some(NOW + 900),
            iat: Some(NOW),
            nbf: Some(NOW),
            iss: Some("https://auth.example".into()),
            aud: Some(Audience::new("api")),
            jti: Some("t1".into()),
            ..IntrospectionResponse::default()
        }
    }

    #[test]
    fn an_active_access_token_for_us_becomes_a_principal() {
        let principal = expect().principal(&active(), NOW).unwrap();
        assert_eq!(principal.subject(), "alice");
        assert_eq!(principal.token_id(), "t1");
        assert!(principal.has_role("user"));
    }

    #[test]
    fn an_inactive_answer_is_refused() {
        let answer = IntrospectionResponse::inactive();
        assert_eq!(expect().principal(&answer, NOW), Err(GuardError::Inactive));
    }

    #[test]
    fn an_active_refresh_token_never_opens_a_resource() {
        let answer = IntrospectionResponse {
            token_type: Some(IntrospectionTokenType::RefreshToken),
            ..active()
        };
        assert_eq!(
            expect().principal(&answer, NOW).unwrap_err().reason(),
            "wrong_type"
        );
    }

    #[test]
    fn an_active_answer_that_does_not_say_it_is_an_access_token_is_refused() {
        let answer = IntrospectionResponse {
            token_type: None,
            ..active()
        };
        assert_eq!(
            expect().principal(&answer, NOW).unwrap_err().reason(),
            "wrong_type"
        );
    }

    #[test]
    fn an_answer_for_another_issuer_or_audience_is_refused() {
        let other_iss = IntrospectionResponse {
            iss: Some("https://evil.example".into()),
            ..active()
        };
        let other_aud = IntrospectionResponse {
            aud: Some(Audience::new("billing")),
            ..active()
        };
        assert_eq!(
            expect().principal(&other_iss, NOW).unwrap_err().reason(),
            "wrong_issuer"
        );
        assert_eq!(
            expect().principal(&other_aud, NOW).unwrap_err().reason(),
            "wrong_audience"
        );
    }

    #[test]
    fn an_answer_missing_a_claim_we_rely_on_is_refused() {
        for strip in ["sub", "jti", "exp", "iat", "aud", "iss"] {
            let mut answer = active();
            match strip {
                "sub" => answer.sub = None,
                "jti" => answer.jti = None,
                "exp" => answer.exp = None,
                "iat" => answer.iat = None,
                "aud" => answer.aud = None,
                _ => answer.iss = None,
            }
            assert_eq!(
                expect().principal(&answer, NOW).unwrap_err().reason(),
                "missing_claim",
                "{strip}"
            );
        }
    }

    #[test]
    fn an_expired_answer_is_refused_with_the_usual_leeway() {
        assert!(expect().principal(&active(), NOW + 959).is_ok());
        assert_eq!(
            expect()
                .principal(&active(), NOW + 960)
                .unwrap_err()
                .reason(),
            "expired"
        );
    }

    #[test]
    fn garbage_and_foreign_tokens_are_refused_before_asking() {
        let e = expect();
        assert_eq!(
            e.prefilter("garbage", NOW).unwrap_err().reason(),
            "malformed"
        );
        let token = |claims: &str| {
            use base64::Engine as _;
            let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
            format!("{}.{}.c2ln", b64(r#"{"alg":"EdDSA"}"#), b64(claims))
        };
        let ours = token(r#"{"iss":"https://auth.example","aud":"api","exp":1800000900}"#);
        assert_eq!(e.prefilter(&ours, NOW), Ok(()));
        let foreign = token(r#"{"iss":"https://auth.example","aud":"billing","exp":1800000900}"#);
        assert_eq!(
            e.prefilter(&foreign, NOW).unwrap_err().reason(),
            "wrong_audience"
        );
        let stale = token(r#"{"iss":"https://auth.example","aud":"api","exp":1}"#);
        assert_eq!(e.prefilter(&stale, NOW).unwrap_err().reason(), "expired");
    }
}
