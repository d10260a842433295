//! CPU-heavy work off the async workers: password hashing, and access-token signatures. Each has
//! its own bound on how much runs at once, so a burst of sign-ups or logins cannot starve token
//! refreshes (or anything else) of CPU and memory, and signatures do not hold up the workers
//! that drive database transactions.

use crate::error::{Error, Result};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Runs blocking work on tokio's blocking threads, at most `concurrency` at a time.
#[derive(Clone)]
pub struct BoundedBlocking {
    permits: Arc<Semaphore>,
}

impl BoundedBlocking {
    pub fn new(concurrency: usize) -> Self {
        BoundedBlocking { permits: Arc::new(Semaphore::new(concurrency.max(1))) }
    }

    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let _permit = self.permits.acquire().await.map_err(|e| Error::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(work).await.map_err(|e| Error::Internal(e.to_string()))
    }
}

#[derive(Clone)]
pub struct PasswordHasher {
    pool: BoundedBlocking,
}

impl PasswordHasher {
    pub fn new(concurrency: usize) -> Self {
        PasswordHasher { pool: BoundedBlocking::new(concurrency) }
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        self.pool.run(work).await
    }

    pub async fn hash(&self, password: String) -> Result<String> {
        self.run(move || portico_crypto::password::hash(&password)).await?.map_err(|e| Error::Internal(e.to_string()))
    }

    pub async fn verify(&self, password: String, stored: String) -> Result<bool> {
        self.run(move || portico_crypto::password::verify(&password, &stored)).await
    }
}
