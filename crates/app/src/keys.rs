//! The keyring of access-token signing keys: private keys sealed in the database, the current
//! signing key and the published set cached in each node and reloaded from the database when a
//! scheduled change comes due (or after a minute), so every node agrees.
//!
//! Rotation publishes the next key before it signs anything (`PUBLISH_AHEAD_MS`, longer than
//! the JWKS caches of the SDKs) and keeps the old key published until every token it signed has
//! expired.

use crate::App;
use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use portico_crypto::jwt::{PublicKey, SigningKey};
use portico_domain::Timestamp;
use portico_store::signing_keys::SigningKeyRow;
use std::sync::{Arc, RwLock};

/// How long a new key is published before it signs (the Node SDK re-reads a JWKS after 5 min).
pub const PUBLISH_AHEAD_MS: i64 = 10 * 60 * 1000;
/// How often a node re-reads the keyring even when no change is scheduled.
const RELOAD_EVERY_MS: i64 = 60 * 1000;

#[derive(Default)]
pub struct Keyring {
    state: RwLock<Option<Loaded>>,
}

struct Loaded {
    signing: Arc<SigningKey>,
    published: Vec<PublicKey>,
    reload_at: Timestamp,
}

fn internal(error: impl std::fmt::Display) -> Error {
    Error::Internal(error.to_string())
}

fn row_name(kid: &str) -> String {
    format!("signing_keys:{kid}")
}

/// Makes a key, seals it, and stores it to start signing at `activates_at`.
async fn create_key(app: &App, activates_at: Timestamp) -> Result<String> {
    let generated = tokio::task::spawn_blocking(|| portico_crypto::jwt::generate_key("Portico access tokens"))
        .await
        .map_err(internal)?
        .map_err(internal)?;
    let kid = format!("key_{}", app.ids.next_ulid(app.now()));
    let sealed = app.sealer.seal(&generated.pkcs8_der, &row_name(&kid)).map_err(internal)?;
    let row = SigningKeyRow {
        kid: kid.clone(),
        private_sealed: STANDARD.encode(sealed),
        certificate: STANDARD.encode(&generated.certificate_der),
        created_at: app.now().unix_ms(),
        activates_at: activates_at.unix_ms(),
        retires_at: None,
    };
    let mut tx = app.db.begin().await?;
    portico_store::signing_keys::insert(tx.conn(), &row).await?;
    tx.commit().await?;
    Ok(kid)
}

/// Creates the first signing key of an environment that has none.
pub async fn ensure_signing_key(app: &App) -> Result<()> {
    let mut reader = app.db.read().await?;
    let keys = portico_store::signing_keys::published(reader.conn(), app.now()).await?;
    drop(reader);
    if keys.is_empty() {
        create_key(app, app.now()).await?;
    }
    reload(app).await
}

/// Re-reads the keyring from the database.
pub async fn reload(app: &App) -> Result<()> {
    let now = app.now();
    let mut reader = app.db.read().await?;
    let rows = portico_store::signing_keys::published(reader.conn(), now).await?;
    drop(reader);
    let mut published = Vec::with_capacity(rows.len());
    let mut signing: Option<(i64, SigningKey)> = None;
    let mut reload_at = now.unix_ms() + RELOAD_EVERY_MS;
    for row in &rows {
        let sealed = STANDARD.decode(&row.private_sealed).map_err(internal)?;
        let certificate = STANDARD.decode(&row.certificate).map_err(internal)?;
        let pkcs8 = app.sealer.open(&sealed, &row_name(&row.kid)).map_err(|e| {
            Error::Internal(format!(
                "signing key {} cannot be opened ({e}); is secret_key the one it was sealed with?",
                row.kid
            ))
        })?;
        let key = SigningKey::from_pkcs8(&row.kid, &pkcs8, &certificate).map_err(internal)?;
        published.push(key.public().clone());
        if row.activates_at > now.unix_ms() {
            reload_at = reload_at.min(row.activates_at);
        } else if signing.as_ref().is_none_or(|(at, _)| row.activates_at >= *at) {
            signing = Some((row.activates_at, key));
        }
        if let Some(retires) = row.retires_at {
            reload_at = reload_at.min(retires);
        }
    }
    let Some((_, signing)) = signing else {
        return Err(Error::Internal("no signing key is active; run `portico keys rotate`".into()));
    };
    let mut state = app.keyring.state.write().unwrap_or_else(|p| p.into_inner());
    *state = Some(Loaded { signing: Arc::new(signing), published, reload_at: Timestamp::from_unix_ms(reload_at) });
    Ok(())
}

fn cached(app: &App) -> Option<(Arc<SigningKey>, Vec<PublicKey>)> {
    let state = app.keyring.state.read().unwrap_or_else(|p| p.into_inner());
    state
        .as_ref()
        .filter(|loaded| app.now() < loaded.reload_at)
        .map(|loaded| (loaded.signing.clone(), loaded.published.clone()))
}

/// The key that signs now.
pub async fn signing_key(app: &App) -> Result<Arc<SigningKey>> {
    if let Some((key, _)) = cached(app) {
        return Ok(key);
    }
    reload(app).await?;
    cached(app).map(|(key, _)| key).ok_or_else(|| Error::Internal("the keyring is empty".into()))
}

/// The keys the JWKS publishes: the signing key, the next one, and those whose tokens may live.
pub async fn published(app: &App) -> Result<Vec<PublicKey>> {
    if let Some((_, keys)) = cached(app) {
        return Ok(keys);
    }
    reload(app).await?;
    cached(app).map(|(_, keys)| keys).ok_or_else(|| Error::Internal("the keyring is empty".into()))
}

/// Starts a rotation: a new key, published now, signing after `PUBLISH_AHEAD_MS`; the current
/// key stays published until its last token expires. Returns the new key's id and when it signs.
pub async fn rotate(app: &App) -> Result<(String, Timestamp)> {
    let now = app.now();
    let activates_at = now.plus_ms(PUBLISH_AHEAD_MS);
    let mut reader = app.db.read().await?;
    let rows = portico_store::signing_keys::published(reader.conn(), now).await?;
    drop(reader);
    let kid = create_key(app, activates_at).await?;
    let token_life_ms = app.settings.access_token_ttl_seconds * 1000;
    let mut tx = app.db.begin().await?;
    for row in rows.iter().filter(|r| r.retires_at.is_none()) {
        // Every older key goes once tokens signed just before the switch have expired.
        portico_store::signing_keys::retire_at(tx.conn(), &row.kid, activates_at.plus_ms(token_life_ms + 60_000))
            .await?;
    }
    tx.commit().await?;
    reload(app).await?;
    Ok((kid, activates_at))
}
