//! Portico's cryptography: password hashing and verification, opaque secrets stored as SHA-256,
//! constant-time comparison, sealing secrets at rest, RS256 signing keys for access tokens, TOTP
//! codes and WebAuthn (passkey) verification.

pub mod jwt;
pub mod password;
pub mod seal;
pub mod secret;
pub mod totp;
pub mod webauthn;
