//! Time and randomness come from here, never from the OS directly, so tests can fix them.

use portico_domain::Timestamp;
use portico_domain::id::{PublicId, Ulid};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The wall clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place that reads the OS clock
    fn now(&self) -> Timestamp {
        let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        Timestamp::from_unix_ms(i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX))
    }
}

/// A clock tests move by hand.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        ManualClock(AtomicI64::new(start.unix_ms()))
    }

    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_ms(self.0.load(Ordering::SeqCst))
    }
}

/// Mints public ids: ULIDs from the clock and the OS CSPRNG, strictly increasing within this
/// process even inside one millisecond, so ids sort in creation order.
#[derive(Debug, Default)]
pub struct IdGenerator {
    last: Mutex<Option<Ulid>>,
}

impl IdGenerator {
    pub fn next<T: PublicId>(&self, now: Timestamp) -> T {
        T::from_ulid(self.next_ulid(now))
    }

    pub fn next_ulid(&self, now: Timestamp) -> Ulid {
        let ms = u64::try_from(now.unix_ms()).unwrap_or(0);
        let mut random_bytes = [0u8; 16];
        // A failing OS RNG leaves zeros; monotonic increments below still keep ids unique here.
        let _ = getrandom::fill(&mut random_bytes);
        let random = u128::from_be_bytes(random_bytes);
        let mut last = self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let next = match *last {
            Some(previous) if previous.unix_ms() >= ms => Ulid(previous.0 + 1),
            _ => Ulid::from_parts(ms, random),
        };
        *last = Some(next);
        next
    }
}
