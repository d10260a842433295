//! Portico's cryptography: password hashing and verification, opaque secrets stored as SHA-256,
//! constant-time comparison.

pub mod password;
pub mod secret;
