//! The verified-token cache: a token seen again is not verified again.

#[cfg(feature = "cache")]
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
#[cfg(feature = "cache")]
use std::time::Instant;

#[cfg(feature = "cache")]
use crate::token::Verified;

/// Default capacity of the verified-token cache: 32 MiB of tokens.
pub const DEFAULT_CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// Default longest time a token stays cached: 5 min.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(300);

#[cfg(feature = "cache")]
/// What an entry costs besides its token's bytes (key, claims, moka's own).
const ENTRY_OVERHEAD: usize = 256;

#[cfg(feature = "cache")]
/// Keyed by the whole token: equal keys are equal tokens, byte for byte,
/// so no collision can make one token pass for another. The hasher only
/// spreads entries (seeded per process).
pub(crate) struct VerifiedCache<C> {
    entries: moka::sync::Cache<Box<str>, Entry<C>, foldhash::fast::RandomState>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[cfg(feature = "cache")]
pub(crate) struct Entry<C> {
    pub(crate) verified: Verified<C>,
    /// The issuer group whose keys verified it.
    pub(crate) group: u32,
    /// That group's key generation then: entries of older keys are not
    /// served (a key removed from a remote set stops working at once).
    pub(crate) generation: u64,
    ttl: Duration,
}

#[cfg(feature = "cache")]
impl<C> Clone for Entry<C> {
    fn clone(&self) -> Self {
        Self {
            verified: self.verified.clone(),
            group: self.group,
            generation: self.generation,
            ttl: self.ttl,
        }
    }
}

#[cfg(feature = "cache")]
struct PerEntry;

#[cfg(feature = "cache")]
impl<C> moka::Expiry<Box<str>, Entry<C>> for PerEntry {
    fn expire_after_create(
        &self,
        _token: &Box<str>,
        entry: &Entry<C>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

/// Hits and misses of the verified-token cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Tokens served from the cache (time claims checked again).
    pub hits: u64,
    /// Tokens verified in full.
    pub misses: u64,
    /// Tokens cached now (approximate: moka applies writes lazily).
    pub entries: u64,
}

#[cfg(feature = "cache")]
#[allow(clippy::borrowed_box)] // moka's weigher signature
impl<C: Send + Sync + 'static> VerifiedCache<C> {
    pub(crate) fn new(max_bytes: u64) -> Self {
        let entries = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|token: &Box<str>, _: &Entry<C>| -> u32 {
                u32::try_from(token.len() + ENTRY_OVERHEAD).unwrap_or(u32::MAX)
            })
            .expire_after(PerEntry)
            .build_with_hasher(foldhash::fast::RandomState::default());
        Self {
            entries,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub(crate) fn get(&self, token: &str) -> Option<Entry<C>> {
        self.entries.get(token)
    }

    pub(crate) fn hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }

    /// Caches a verified token for `ttl` (its remaining lifetime, bounded).
    pub(crate) fn insert(
        &self,
        token: &str,
        verified: &Verified<C>,
        group: u32,
        generation: u64,
        ttl: Duration,
    ) {
        if ttl.is_zero() {
            return;
        }
        let entry = Entry {
            verified: verified.clone(),
            group,
            generation,
            ttl,
        };
        self.entries.insert(token.into(), entry);
    }
}

#[cfg(feature = "cache")]
impl<C> VerifiedCache<C> {
    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.entries.entry_count(),
        }
    }
}
