//! Sealing secrets at rest (signing keys today) with AES-256-GCM under the key-encryption key
//! from configuration. The associated data names the row a value belongs to, so a sealed value
//! copied into another row does not open.
//!
//! Format: `1` (version) ‖ nonce (12 bytes) ‖ ciphertext and tag.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

const VERSION: u8 = 1;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("the key-encryption key must be 32 bytes")]
    BadKey,
    #[error("the sealed value is corrupt, belongs to another row, or was sealed under another key")]
    CannotOpen,
    #[error("the random number generator failed")]
    Random,
}

/// The key-encryption key.
pub struct Sealer {
    key: LessSafeKey,
}

impl Sealer {
    pub fn new(key: &[u8]) -> Result<Self, SealError> {
        if key.len() != 32 {
            return Err(SealError::BadKey);
        }
        let unbound = UnboundKey::new(&AES_256_GCM, key).map_err(|_| SealError::BadKey)?;
        Ok(Sealer { key: LessSafeKey::new(unbound) })
    }

    pub fn seal(&self, plaintext: &[u8], row: &str) -> Result<Vec<u8>, SealError> {
        let nonce_bytes = crate::secret::random_bytes::<NONCE_LEN>().map_err(|_| SealError::Random)?;
        let mut in_out = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce_bytes), Aad::from(row.as_bytes()), &mut in_out)
            .map_err(|_| SealError::Random)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&in_out);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8], row: &str) -> Result<Vec<u8>, SealError> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != VERSION {
            return Err(SealError::CannotOpen);
        }
        let nonce = Nonce::try_assume_unique_for_key(&sealed[1..1 + NONCE_LEN]).map_err(|_| SealError::CannotOpen)?;
        let mut in_out = sealed[1 + NONCE_LEN..].to_vec();
        let plaintext =
            self.key.open_in_place(nonce, Aad::from(row.as_bytes()), &mut in_out).map_err(|_| SealError::CannotOpen)?;
        Ok(plaintext.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_only_for_the_same_row_and_key() {
        let sealer = Sealer::new(&[7u8; 32]).unwrap();
        let sealed = sealer.seal(b"secret", "signing_keys:k1").unwrap();
        assert_eq!(sealer.open(&sealed, "signing_keys:k1").unwrap(), b"secret");
        assert!(sealer.open(&sealed, "signing_keys:k2").is_err());
        let other = Sealer::new(&[8u8; 32]).unwrap();
        assert!(other.open(&sealed, "signing_keys:k1").is_err());
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(sealer.open(&tampered, "signing_keys:k1").is_err());
        assert!(Sealer::new(&[0u8; 16]).is_err());
    }
}
