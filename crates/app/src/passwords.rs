//! CPU-heavy work off the async workers: password hashing, and access-token signatures.
//!
//! Passwords are hashed on threads of their own, as many as there are cores, running at a lower
//! scheduling priority: when nothing else wants the CPU they use all of it, and when token
//! refreshes and other requests do, those go first, so a burst of sign-ins cannot starve them.
//! Signatures (a fraction of a millisecond each) run on tokio's blocking threads, bounded, so they
//! do not hold up the workers that drive database transactions.

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

type Job = Box<dyn FnOnce() + Send>;

/// The priority hashing threads run at: niceness about 10, a tenth of a normal thread's share
/// when both want the CPU (on 0..=99, where 50 is normal).
const HASHING_PRIORITY: u8 = 25;

/// Lowers the calling thread's scheduling priority; a system that refuses leaves it as it was.
fn lower_priority() {
    use thread_priority::{ThreadPriority, ThreadPriorityValue};
    let lowered = ThreadPriorityValue::try_from(HASHING_PRIORITY).map_err(|e| e.to_string()).and_then(|value| {
        thread_priority::set_current_thread_priority(ThreadPriority::Crossplatform(value)).map_err(|e| format!("{e:?}"))
    });
    if let Err(error) = lowered {
        tracing::warn!(%error, "could not lower the priority of a password-hashing thread");
    }
}

#[derive(Clone)]
pub struct PasswordHasher {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl PasswordHasher {
    /// Starts `threads` hashing threads; they stop when the last `PasswordHasher` is dropped.
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new().name(format!("portico-hash-{n}")).spawn(move || {
                lower_priority();
                loop {
                    let job = match queue.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            })?;
        }
        Ok(PasswordHasher { jobs })
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        self.jobs.send(job).map_err(|_| Error::Internal("the password-hashing threads stopped".into()))?;
        result.await.map_err(|_| Error::Internal("a password-hashing thread dropped its job".into()))
    }

    pub async fn hash(&self, password: String) -> Result<String> {
        self.run(move || portico_crypto::password::hash(&password)).await?.map_err(|e| Error::Internal(e.to_string()))
    }

    pub async fn verify(&self, password: String, stored: String) -> Result<bool> {
        self.run(move || portico_crypto::password::verify(&password, &stored)).await
    }
}
