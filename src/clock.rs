//! Time, as the validators see it.
//!
//! Every time check (`exp`, `nbf`, `iat`, maximum lifetime) reads the
//! [`Clock`] configured on the verifier. Production uses [`SystemClock`];
//! tests pin time with [`ManualClock`], which is how tollgate verifies the
//! RFC 7515 vectors that expired in 2011 without turning any check off.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time in whole seconds since the Unix epoch.
pub trait Clock: fmt::Debug + Send + Sync + 'static {
    /// Now, in seconds since 1970-01-01T00:00:00Z.
    fn now(&self) -> i64;
}

/// The operating system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
        }
    }
}

/// A clock that only moves when told to; clones share the same time.
///
/// ```
/// use tollgate::clock::{Clock, ManualClock};
///
/// let clock = ManualClock::new(1_300_819_000);
/// let seen_by_layer = clock.clone();
/// clock.advance(60);
/// assert_eq!(seen_by_layer.now(), 1_300_819_060);
/// ```
#[derive(Clone, Debug, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock that reads `now` until set or advanced.
    pub fn new(now: i64) -> Self {
        Self(Arc::new(AtomicI64::new(now)))
    }

    /// Sets the time.
    pub fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }

    /// Moves the time by `seconds` (negative goes back).
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
