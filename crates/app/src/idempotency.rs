//! `Idempotency-Key`: a POST retried with the same key within 24 hours gets the first answer.

use crate::App;
use crate::error::Result;
use portico_domain::ApiKeyId;
pub use portico_store::idempotency::Claim;

/// How long keys are remembered.
pub const RETENTION_MS: i64 = 24 * 60 * 60 * 1000;
/// Longest key accepted.
pub const MAX_KEY_CHARS: usize = 255;

pub async fn claim(app: &App, api_key: &ApiKeyId, key: &str, request_hash: &str) -> Result<Claim> {
    let mut tx = app.db.begin().await?;
    let claim = portico_store::idempotency::claim(tx.conn(), api_key, key, request_hash, app.now()).await?;
    tx.commit().await?;
    Ok(claim)
}

pub async fn complete(app: &App, api_key: &ApiKeyId, key: &str, status: u16, body: &str) -> Result<()> {
    let mut tx = app.db.begin().await?;
    portico_store::idempotency::complete(tx.conn(), api_key, key, status, body).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn release(app: &App, api_key: &ApiKeyId, key: &str) -> Result<()> {
    let mut tx = app.db.begin().await?;
    portico_store::idempotency::release(tx.conn(), api_key, key).await?;
    tx.commit().await?;
    Ok(())
}

/// The digest that tells a genuine retry from a different request reusing the key.
pub fn request_hash(method: &str, path: &str, body: &[u8]) -> String {
    let mut material = Vec::with_capacity(method.len() + path.len() + body.len() + 2);
    material.extend_from_slice(method.as_bytes());
    material.push(b' ');
    material.extend_from_slice(path.as_bytes());
    material.push(b'\n');
    material.extend_from_slice(body);
    portico_crypto::secret::sha256_hex(&String::from_utf8_lossy(&material))
}
