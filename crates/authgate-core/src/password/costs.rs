//! The argon2 parameter sets present among stored hashes, and a dummy hash
//! for each: every password check costs one verification with each set, so
//! an unknown user costs exactly what a known one does whatever parameters
//! their stored hash was made with (docs/security.md).

use std::sync::{Mutex, PoisonError};

use argon2::PasswordHash;
use argon2::password_hash::phc::{Output, Salt};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// Parameter sets tracked at most: each costs every login a verification,
/// so a store holding more (hashes imported from everywhere) is better
/// served by making their owners reset their passwords.
pub(super) const MAX_COSTS: usize = 8;

/// What verifying against a PHC string costs, as a string: its algorithm,
/// version and `m`, `t`, `p` (`$argon2id$v=19$m=19456,t=2,p=1`). Two hashes
/// with the same cost take the same work to verify whatever their salt.
pub fn phc_cost(phc: &str) -> Option<String> {
    PasswordHash::new(phc).ok().as_ref().and_then(cost_of)
}

/// [`phc_cost`] of a parsed hash; `None` for what argon2 would not verify.
pub(super) fn cost_of(hash: &PasswordHash) -> Option<String> {
    argon2::Algorithm::new(hash.algorithm.as_str()).ok()?;
    let params = argon2::Params::try_from(hash).ok()?;
    let version = hash.version.unwrap_or(argon2::Version::V0x13.into());
    Some(format!(
        "${}$v={version}$m={},t={},p={}",
        hash.algorithm.as_str(),
        params.m_cost(),
        params.t_cost(),
        params.p_cost()
    ))
}

/// A PHC string of `cost` with a random salt and a random output: verifying
/// any password against it does the full work and never matches.
fn dummy_for(cost: &str) -> Option<String> {
    let mut salt = [0u8; 16];
    let mut out = [0u8; 32];
    let random = SystemRandom::new();
    random.fill(&mut salt).ok()?;
    random.fill(&mut out).ok()?;
    let phc = format!(
        "{cost}${}${}",
        Salt::new(&salt).ok()?,
        Output::new(&out).ok()?
    );
    // Only a cost that parses back is worth checking against.
    PasswordHash::new(&phc).ok().as_ref().and_then(cost_of)?;
    Some(phc)
}

/// The costs known to be present in the store, each with its dummy.
#[derive(Debug)]
pub(super) struct Costs {
    known: Mutex<Vec<(String, String)>>,
}

impl Costs {
    /// Starts with the configured parameters' cost and dummy (`current`).
    pub(super) fn new(current: String) -> Self {
        let dummy = dummy_for(&current).unwrap_or_default();
        Self {
            known: Mutex::new(vec![(current, dummy)]),
        }
    }

    /// Adds `cost` (if new, valid, and fewer than [`MAX_COSTS`] are known);
    /// whether it is known now.
    pub(super) fn learn(&self, cost: &str) -> bool {
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        if known.iter().any(|(c, _)| c == cost) {
            return true;
        }
        if known.len() >= MAX_COSTS {
            tracing::warn!(
                "stored password hashes use more than {MAX_COSTS} argon2 parameter sets; \
                 logins of the others take less time than unknown users'"
            );
            return false;
        }
        let Some(dummy) = dummy_for(cost) else {
            return false;
        };
        tracing::info!(
            cost,
            "stored password hashes use these argon2 parameters too"
        );
        known.push((cost.to_owned(), dummy));
        true
    }

    /// The dummies of every known cost but `except`, the one already paid.
    pub(super) fn others(&self, except: Option<&str>) -> Vec<String> {
        let known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        known
            .iter()
            .filter(|(cost, _)| Some(cost.as_str()) != except)
            .map(|(_, dummy)| dummy.clone())
            .collect()
    }

    /// The configured parameters' dummy (the first known cost).
    pub(super) fn current_dummy(&self) -> String {
        let known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        known.first().map(|(_, d)| d.clone()).unwrap_or_default()
    }
}

/// [`phc_cost`] of a hash's parameter part alone (`$argon2id$v=19$m=…`,
/// the PHC string without its salt and output), as a store may list them.
pub fn parameters_cost(parameters: &str) -> Option<String> {
    // Any valid salt and output do: only the parameters are read.
    phc_cost(&format!(
        "{parameters}$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    ))
}
