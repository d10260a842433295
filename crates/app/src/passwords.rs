//! Password hashing off the async workers, with a bound on how many hashes run at once so that a
//! burst of sign-ups or logins cannot starve every other request of CPU and memory.

use crate::error::{Error, Result};
use std::sync::Arc;
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
}

impl PasswordHasher {
    pub fn new(concurrency: usize) -> Self {
        PasswordHasher { permits: Arc::new(Semaphore::new(concurrency.max(1))) }
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let _permit = self.permits.acquire().await.map_err(|e| Error::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(work).await.map_err(|e| Error::Internal(e.to_string()))
    }

    pub async fn hash(&self, password: String) -> Result<String> {
        self.run(move || portico_crypto::password::hash(&password)).await?.map_err(|e| Error::Internal(e.to_string()))
    }

    pub async fn verify(&self, password: String, stored: String) -> Result<bool> {
        self.run(move || portico_crypto::password::verify(&password, &stored)).await
    }
}
