//! Management API keys: `sk_test_…` secrets shown once, stored as SHA-256.

use crate::App;
use crate::error::{Error, Result};
use portico_domain::{ApiKeyId, Timestamp};
use portico_store::api_keys::ApiKeyRecord;
use std::collections::HashMap;
use std::sync::RwLock;

/// How long a node trusts a key it has already checked. Revoking a key takes effect at once on
/// the node that revoked it and within this time on the others.
pub const CACHE_TTL_MS: i64 = 10_000;

/// Keys recently found valid, by the SHA-256 of their secret. Rebuilt from the database as needed.
#[derive(Default)]
pub struct ApiKeyCache {
    entries: RwLock<HashMap<String, (ApiKeyId, Timestamp)>>,
}

impl ApiKeyCache {
    fn get(&self, digest: &str, now: Timestamp) -> Option<ApiKeyId> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries.get(digest).filter(|(_, at)| now.unix_ms() - at.unix_ms() < CACHE_TTL_MS).map(|(id, _)| id.clone())
    }

    fn put(&self, digest: String, id: ApiKeyId, now: Timestamp) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() > 10_000 {
            entries.retain(|_, (_, at)| now.unix_ms() - at.unix_ms() < CACHE_TTL_MS);
        }
        entries.insert(digest, (id, now));
    }

    fn forget(&self, id: &ApiKeyId) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        entries.retain(|_, (cached, _)| cached != id);
    }
}

/// A new key: its record and the secret, which is never shown again.
pub struct NewApiKey {
    pub record: ApiKeyRecord,
    pub secret: String,
}

pub async fn create(app: &App, name: &str) -> Result<NewApiKey> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 128 {
        return Err(Error::invalid("name", "name_invalid", "the key's name must be 1 to 128 characters"));
    }
    let secret =
        format!("sk_test_{}", portico_crypto::secret::random_token().map_err(|e| Error::Internal(e.to_string()))?);
    let record = ApiKeyRecord {
        id: app.new_id(),
        name: name.to_owned(),
        display_hint: format!("{}…", &secret[..12]),
        created_at: app.now(),
        revoked_at: None,
    };
    let mut tx = app.db.begin().await?;
    portico_store::api_keys::insert(tx.conn(), &record, &portico_crypto::secret::sha256_hex(&secret)).await?;
    tx.commit().await?;
    Ok(NewApiKey { record, secret })
}

pub async fn list(app: &App) -> Result<Vec<ApiKeyRecord>> {
    let mut reader = app.db.read().await?;
    Ok(portico_store::api_keys::list(reader.conn()).await?)
}

pub async fn revoke(app: &App, id: &str) -> Result<()> {
    let key_id = ApiKeyId::parse(id).ok_or_else(|| Error::not_found("API key", id))?;
    let mut tx = app.db.begin().await?;
    if !portico_store::api_keys::revoke(tx.conn(), &key_id, app.now()).await? {
        return Err(Error::not_found("API key", id));
    }
    tx.commit().await?;
    app.api_key_cache.forget(&key_id);
    Ok(())
}

/// Checks a presented `sk_…` secret. Lookup is by SHA-256 digest through a unique index, so no
/// secret is ever compared byte by byte.
pub async fn authenticate(app: &App, presented: &str) -> Result<ApiKeyId> {
    if !presented.starts_with("sk_") || presented.len() > 256 {
        return Err(Error::Unauthorized);
    }
    let digest = portico_crypto::secret::sha256_hex(presented);
    let now = app.now();
    if let Some(id) = app.api_key_cache.get(&digest, now) {
        return Ok(id);
    }
    let mut reader = app.db.read().await?;
    let record =
        portico_store::api_keys::find_active_by_secret(reader.conn(), &digest).await?.ok_or(Error::Unauthorized)?;
    app.api_key_cache.put(digest, record.id.clone(), now);
    Ok(record.id)
}
