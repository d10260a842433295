//! Passwords are hashed with Argon2id at OWASP's minimum parameters (m=19 MiB, t=2, p=1) and
//! stored as PHC strings, so parameters can be raised later. Hashes imported from other systems
//! (bcrypt, argon2) are kept as given and verified in their own format.
//!
//! These functions are CPU-bound (tens of milliseconds): callers run them off the async workers
//! and bound how many run at once.

use argon2::password_hash::PasswordHasher;
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use std::cell::RefCell;
use subtle::ConstantTimeEq;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password hash is not a valid {0} hash")]
    InvalidHash(&'static str),
    #[error("hashing failed: {0}")]
    Hashing(String),
}

/// Hashes a password with Argon2id and a random salt.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

/// Checks that an imported Argon2 hash is a PHC string Portico can verify later.
pub fn check_argon2_hash(phc: &str) -> Result<(), PasswordError> {
    let parsed = PasswordHash::new(phc).map_err(|_| PasswordError::InvalidHash("argon2"))?;
    if !parsed.algorithm.as_str().starts_with("argon2") || parsed.hash.is_none() {
        return Err(PasswordError::InvalidHash("argon2"));
    }
    Ok(())
}

/// Checks that an imported bcrypt hash (`$2a$`, `$2b$`, `$2y$`) is well formed.
pub fn check_bcrypt_hash(hash: &str) -> Result<(), PasswordError> {
    let parts: Vec<&str> = hash.split('$').collect();
    let well_formed = parts.len() == 4
        && parts[0].is_empty()
        && matches!(parts[1], "2a" | "2b" | "2y" | "2x")
        && parts[2].len() == 2
        && parts[2].parse::<u32>().is_ok_and(|cost| (4..=31).contains(&cost))
        && parts[3].len() == 53;
    if well_formed { Ok(()) } else { Err(PasswordError::InvalidHash("bcrypt")) }
}

thread_local! {
    /// Argon2's working memory (19 MiB at Portico's parameters), kept by each hashing thread:
    /// allocating and zeroing it for every sign-in costs page faults worth a tenth of a hash.
    static ARGON2_MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Verifies an Argon2 PHC string, computing in this thread's reused working memory.
fn verify_argon2(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else { return false };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else { return false };
    let Ok(version) = parsed.version.map_or(Ok(Version::default()), Version::try_from) else { return false };
    let Ok(params) = Params::try_from(&parsed) else { return false };
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut computed = vec![0u8; expected.as_bytes().len()];
    let hashed = ARGON2_MEMORY.with_borrow_mut(|memory| {
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        argon2.hash_password_into_with_memory(password.as_bytes(), salt.as_ref(), &mut computed, &mut memory[..blocks])
    });
    hashed.is_ok() && bool::from(computed.ct_eq(expected.as_bytes()))
}

/// Verifies a password against a stored hash of either supported kind. A malformed stored hash
/// never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    if stored.starts_with("$argon2") {
        verify_argon2(password, stored)
    } else if stored.starts_with("$2") {
        bcrypt::verify(password, stored).unwrap_or(false)
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2_round_trip() {
        let stored = hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(check_argon2_hash(&stored).is_ok());
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse batterz", &stored));
        // Hashes made elsewhere, with other parameters, verify too (argon2i and argon2id, v=19).
        let other = Argon2::new(Algorithm::Argon2i, Version::V0x13, Params::new(8192, 3, 1, Some(24)).unwrap())
            .hash_password(b"imported password")
            .unwrap()
            .to_string();
        assert!(verify("imported password", &other));
        assert!(!verify("imported passwore", &other));
        assert!(!verify("correct horse battery", "$argon2id$v=19$m=19456,t=2,p=1$bm90LWEtaGFzaA"));
    }

    #[test]
    fn bcrypt_import() {
        let stored = bcrypt::hash("hunter2hunter2", 4).unwrap();
        assert!(check_bcrypt_hash(&stored).is_ok());
        assert!(verify("hunter2hunter2", &stored));
        assert!(!verify("hunter2hunter3", &stored));
        assert!(check_bcrypt_hash("$2b$04$short").is_err());
        assert!(check_argon2_hash("$2b$04$short").is_err());
        assert!(!verify("anything", "plaintext"));
    }
}
