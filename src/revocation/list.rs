use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::error::{ConfigError, Error, ErrorKind};
use crate::token::RegisteredClaims;

/// Shards of the tables: writers lock one, readers of other shards go on.
const SHARDS: usize = 16;

/// The default allowance added to a revoked token's `exp`: 60 s, as the
/// verifier's default leeway.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

/// The default longest token lifetime: 24 h. Session and subject
/// revocations are kept this long (plus leeway) after their instant.
pub const DEFAULT_MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// A deny list checked on every request: tokens revoked by `(iss, jti)`,
/// every token of a session (`sid`), every token of a subject (`sub`)
/// issued before an instant, and every token issued before an instant,
/// globally or per issuer.
///
/// Cheap to clone; clones share the list, so the
/// [`RevocationLayer`](super::RevocationLayer) and whatever revokes (an
/// admin endpoint, a logout handler) hold the same one.
///
/// **Nothing is forgotten early.** An entry stays until the tokens it
/// targets would have expired: a `jti` until that token's `exp` plus the
/// leeway; a session or subject revocation until its instant plus the
/// maximum token lifetime plus the leeway. No eviction policy, no memory
/// pressure drops one. When [`max_entries`](RevocationListBuilder::max_entries)
/// is set and reached, a new revocation is refused with
/// [`RevocationError::Full`] (the caller sees it, and can escalate to a
/// subject-wide or global revocation, which take no room), never silently
/// lost. Expired entries are swept as the list grows, and by
/// [`purge_expired`](Self::purge_expired).
///
/// **Tokens without `jti`** can still be revoked: through their `sid`,
/// their `sub` (issued before an instant) or the global epoch. A token
/// without `iat` is refused by any "issued before" revocation that covers
/// its subject, issuer or everyone, since it cannot show it came after.
///
/// **Cost.** A check is a few hash lookups in memory, with no I/O and no
/// allocation: under 100 ns with a million revoked tokens present (see
/// the README for the figures). A revoked `jti` takes about 52 bytes: its
/// 128-bit fingerprint (keyed per process, so a collision, vanishingly
/// unlikely, could only refuse a token, never accept one) and its expiry.
#[derive(Clone)]
pub struct RevocationList {
    inner: Arc<Inner>,
}

struct Inner {
    shards: [RwLock<Shard>; SHARDS],
    jti_count: AtomicUsize,
    sid_count: AtomicUsize,
    sub_count: AtomicUsize,
    /// Every token with `iat` before this is revoked (`i64::MIN`: none).
    global_before: AtomicI64,
    /// The same, per issuer.
    issuers: RwLock<HashMap<Box<str>, i64>>,
    issuer_count: AtomicUsize,
    keys: (foldhash::quality::FixedState, foldhash::quality::FixedState),
    clock: Arc<dyn Clock>,
    leeway: i64,
    max_lifetime: i64,
    max_entries: Option<usize>,
}

#[derive(Default)]
struct Shard {
    /// `(iss, jti)` → until when the entry matters.
    jti: Table<i64>,
    /// `sid` → until when.
    sid: Table<i64>,
    /// `sub` → (tokens issued before this, until when).
    sub: Table<(i64, i64)>,
    /// Sweep expired entries when the shard grows past this.
    sweep_at: usize,
}

type Table<V> = HashMap<Fingerprint, V, BuildHasherDefault<Passthrough>>;

/// 128 bits of keyed hash; the first half already is a good hash.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Fingerprint(u64, u64);

impl Hash for Fingerprint {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0);
    }
}

/// The fingerprints are hashes already: pass them through.
#[derive(Default)]
struct Passthrough(u64);

impl Hasher for Passthrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Jti = 1,
    Sid = 2,
    Sub = 3,
}

/// Why a revocation was not recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationError {
    /// The list holds its configured maximum of entries (expired ones
    /// already swept). Nothing was dropped to make room.
    Full {
        /// The configured maximum.
        max_entries: usize,
    },
    /// A `jti`, `sid`, `sub` or issuer was empty.
    Empty(&'static str),
}

impl fmt::Display for RevocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full { max_entries } => write!(
                f,
                "the revocation list is full ({max_entries} entries); revoke by subject or \
                 globally instead"
            ),
            Self::Empty(what) => write!(f, "empty {what}"),
        }
    }
}

impl std::error::Error for RevocationError {}

/// How much a [`RevocationList`] holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RevocationCounts {
    /// Tokens revoked by `(iss, jti)`.
    pub tokens: usize,
    /// Sessions revoked by `sid`.
    pub sessions: usize,
    /// Subjects with an "issued before" instant.
    pub subjects: usize,
    /// Issuers with an "issued before" instant.
    pub issuers: usize,
    /// Every token issued before this instant is revoked, if set.
    pub all_before: Option<i64>,
}

impl fmt::Debug for RevocationList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevocationList")
            .field("counts", &self.counts())
            .field("clock", &self.inner.clock)
            .field("max_entries", &self.inner.max_entries)
            .finish_non_exhaustive()
    }
}

impl Default for RevocationList {
    fn default() -> Self {
        Self::new()
    }
}

impl RevocationList {
    /// An empty list with the default leeway (60 s), maximum token
    /// lifetime (24 h), system clock and no entry limit.
    pub fn new() -> Self {
        Self::builder()
            .build()
            .expect("the default settings are valid")
    }

    /// Configure a list.
    pub fn builder() -> RevocationListBuilder {
        RevocationListBuilder {
            clock: Arc::new(SystemClock),
            leeway: DEFAULT_LEEWAY,
            max_lifetime: DEFAULT_MAX_TOKEN_LIFETIME,
            max_entries: None,
        }
    }

    /// Now, on the list's clock.
    pub fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    /// Revokes the token `jti` of issuer `iss` (`""` for tokens without
    /// `iss`) until its `exp` plus the leeway.
    ///
    /// # Errors
    ///
    /// When `jti` is empty or the list is full.
    pub fn revoke_token(&self, iss: &str, jti: &str, exp: i64) -> Result<(), RevocationError> {
        if jti.is_empty() {
            return Err(RevocationError::Empty("jti"));
        }
        let until = exp.saturating_add(self.inner.leeway);
        if until <= self.now() {
            // That token is refused as expired already.
            return Ok(());
        }
        let fp = self.inner.fingerprint(Kind::Jti, iss, jti);
        self.inner.insert(fp, Kind::Jti, |shard| {
            upsert(&mut shard.jti, fp, until, i64::max)
        })
    }

    /// Revokes every token of the session `sid`, whatever its issuer.
    ///
    /// # Errors
    ///
    /// When `sid` is empty or the list is full.
    pub fn revoke_session(&self, sid: &str) -> Result<(), RevocationError> {
        if sid.is_empty() {
            return Err(RevocationError::Empty("sid"));
        }
        let until = self.inner.horizon(self.now());
        let fp = self.inner.fingerprint(Kind::Sid, "", sid);
        self.inner.insert(fp, Kind::Sid, |shard| {
            upsert(&mut shard.sid, fp, until, i64::max)
        })
    }

    /// Revokes every token of the subject `sub` issued before `before`
    /// (Unix seconds, exclusive: `iat < before`): "log out everywhere".
    /// Tokens issued at or after `before` pass. Passing `now() + 1` covers
    /// every token issued so far, including this second's.
    ///
    /// # Errors
    ///
    /// When `sub` is empty or the list is full.
    pub fn revoke_subject_before(&self, sub: &str, before: i64) -> Result<(), RevocationError> {
        if sub.is_empty() {
            return Err(RevocationError::Empty("sub"));
        }
        let until = self.inner.horizon(before);
        let fp = self.inner.fingerprint(Kind::Sub, "", sub);
        self.inner.insert(fp, Kind::Sub, |shard| {
            upsert(&mut shard.sub, fp, (before, until), |a, b| {
                (a.0.max(b.0), a.1.max(b.1))
            })
        })
    }

    /// Revokes every token issued before `before` (exclusive), from any
    /// issuer: mass logout after an incident. Takes no room; a later call
    /// with an earlier instant changes nothing.
    pub fn revoke_all_before(&self, before: i64) {
        self.inner
            .global_before
            .fetch_max(before, Ordering::Relaxed);
        tracing::info!(before, "revoked every token issued before the instant");
    }

    /// Revokes every token of issuer `iss` issued before `before`
    /// (exclusive).
    ///
    /// # Errors
    ///
    /// When `iss` is empty.
    pub fn revoke_issuer_before(&self, iss: &str, before: i64) -> Result<(), RevocationError> {
        if iss.is_empty() {
            return Err(RevocationError::Empty("iss"));
        }
        let mut issuers = write(&self.inner.issuers);
        let slot = issuers.entry(iss.into()).or_insert(i64::MIN);
        *slot = (*slot).max(before);
        self.inner
            .issuer_count
            .store(issuers.len(), Ordering::Release);
        Ok(())
    }

    /// Refuses a token whose claims a revocation covers, with
    /// [`ErrorKind::Revoked`].
    ///
    /// # Errors
    ///
    /// When the token is revoked.
    pub fn check(&self, claims: &RegisteredClaims) -> Result<(), Error> {
        if self.is_revoked(claims) {
            Err(ErrorKind::Revoked.into())
        } else {
            Ok(())
        }
    }

    /// Whether a revocation covers a token with these claims.
    pub fn is_revoked(&self, claims: &RegisteredClaims) -> bool {
        let inner = &*self.inner;
        let iat = claims.iat();
        let issued_before = |before: i64| iat.is_none_or(|iat| iat < before);
        let global = inner.global_before.load(Ordering::Relaxed);
        if global != i64::MIN && issued_before(global) {
            return true;
        }
        if inner.issuer_count.load(Ordering::Acquire) != 0 {
            let issuers = read(&inner.issuers);
            if issuers
                .get(claims.iss().unwrap_or(""))
                .is_some_and(|&before| issued_before(before))
            {
                return true;
            }
        }
        // Entries whose time has passed no longer match: what they target
        // has expired.
        let mut now = None;
        let mut live = |until: i64| until > *now.get_or_insert_with(|| inner.clock.now());
        if let Some(jti) = claims.jti()
            && inner.jti_count.load(Ordering::Relaxed) != 0
        {
            let fp = inner.fingerprint(Kind::Jti, claims.iss().unwrap_or(""), jti);
            let until = inner.shard(fp).jti.get(&fp).copied();
            if until.is_some_and(&mut live) {
                return true;
            }
        }
        if let Some(sid) = claims.sid()
            && inner.sid_count.load(Ordering::Relaxed) != 0
        {
            let fp = inner.fingerprint(Kind::Sid, "", sid);
            let until = inner.shard(fp).sid.get(&fp).copied();
            if until.is_some_and(&mut live) {
                return true;
            }
        }
        if let Some(sub) = claims.sub()
            && inner.sub_count.load(Ordering::Relaxed) != 0
        {
            let fp = inner.fingerprint(Kind::Sub, "", sub);
            let entry = inner.shard(fp).sub.get(&fp).copied();
            if let Some((before, until)) = entry
                && issued_before(before)
                && live(until)
            {
                return true;
            }
        }
        false
    }

    /// How many revocations of each kind the list holds (expired ones not
    /// yet swept included).
    pub fn counts(&self) -> RevocationCounts {
        let inner = &*self.inner;
        let global = inner.global_before.load(Ordering::Relaxed);
        RevocationCounts {
            tokens: inner.jti_count.load(Ordering::Relaxed),
            sessions: inner.sid_count.load(Ordering::Relaxed),
            subjects: inner.sub_count.load(Ordering::Relaxed),
            issuers: inner.issuer_count.load(Ordering::Relaxed),
            all_before: (global != i64::MIN).then_some(global),
        }
    }

    /// Removes the entries whose tokens have all expired; returns how many.
    pub fn purge_expired(&self) -> usize {
        let now = self.now();
        self.inner
            .shards
            .iter()
            .map(|shard| self.inner.sweep(&mut write(shard), now))
            .sum()
    }
}

impl Inner {
    fn fingerprint(&self, kind: Kind, scope: &str, value: &str) -> Fingerprint {
        let item = (kind as u8, scope, value);
        Fingerprint(self.keys.0.hash_one(item), self.keys.1.hash_one(item))
    }

    fn shard(&self, fp: Fingerprint) -> RwLockReadGuard<'_, Shard> {
        read(&self.shards[(fp.1 as usize) % SHARDS])
    }

    /// The last instant a token issued at `issued` can still be valid.
    fn horizon(&self, issued: i64) -> i64 {
        issued
            .saturating_add(self.max_lifetime)
            .saturating_add(self.leeway)
    }

    fn total(&self) -> usize {
        self.jti_count.load(Ordering::Relaxed)
            + self.sid_count.load(Ordering::Relaxed)
            + self.sub_count.load(Ordering::Relaxed)
    }

    /// Inserts through `put`, which says whether the entry is new. Sweeps
    /// the shard when it has grown; refuses a new entry when full.
    fn insert(
        &self,
        fp: Fingerprint,
        kind: Kind,
        put: impl FnOnce(&mut Shard) -> bool,
    ) -> Result<(), RevocationError> {
        let mut shard = write(&self.shards[(fp.1 as usize) % SHARDS]);
        let len = shard.jti.len() + shard.sid.len() + shard.sub.len();
        if len >= shard.sweep_at {
            self.sweep(&mut shard, self.clock.now());
            let len = shard.jti.len() + shard.sid.len() + shard.sub.len();
            shard.sweep_at = (len * 2).max(1024);
        }
        let present = match kind {
            Kind::Jti => shard.jti.contains_key(&fp),
            Kind::Sid => shard.sid.contains_key(&fp),
            Kind::Sub => shard.sub.contains_key(&fp),
        };
        if let Some(max) = self.max_entries
            && !present
            && self.total() >= max
        {
            // Room may be held by expired entries of other shards.
            drop(shard);
            let now = self.clock.now();
            for other in &self.shards {
                self.sweep(&mut write(other), now);
            }
            if self.total() >= max {
                return Err(RevocationError::Full { max_entries: max });
            }
            shard = write(&self.shards[(fp.1 as usize) % SHARDS]);
        }
        if put(&mut shard) {
            let counter = match kind {
                Kind::Jti => &self.jti_count,
                Kind::Sid => &self.sid_count,
                Kind::Sub => &self.sub_count,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    fn sweep(&self, shard: &mut Shard, now: i64) -> usize {
        let before = (shard.jti.len(), shard.sid.len(), shard.sub.len());
        shard.jti.retain(|_, until| *until > now);
        shard.sid.retain(|_, until| *until > now);
        shard.sub.retain(|_, (_, until)| *until > now);
        let removed = (
            before.0 - shard.jti.len(),
            before.1 - shard.sid.len(),
            before.2 - shard.sub.len(),
        );
        self.jti_count.fetch_sub(removed.0, Ordering::Relaxed);
        self.sid_count.fetch_sub(removed.1, Ordering::Relaxed);
        self.sub_count.fetch_sub(removed.2, Ordering::Relaxed);
        removed.0 + removed.1 + removed.2
    }
}

/// Puts `value` at `fp`, merged with what is there (`merge` keeps the
/// later instants: a revocation never shrinks); whether the entry is new.
fn upsert<V: Copy>(
    table: &mut Table<V>,
    fp: Fingerprint,
    value: V,
    merge: impl FnOnce(V, V) -> V,
) -> bool {
    match table.entry(fp) {
        Entry::Occupied(mut slot) => {
            let merged = merge(*slot.get(), value);
            slot.insert(merged);
            false
        }
        Entry::Vacant(slot) => {
            slot.insert(value);
            true
        }
    }
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

/// Configures a [`RevocationList`].
#[must_use]
#[derive(Debug)]
pub struct RevocationListBuilder {
    clock: Arc<dyn Clock>,
    leeway: Duration,
    max_lifetime: Duration,
    max_entries: Option<usize>,
}

impl RevocationListBuilder {
    /// Reads time from `clock` (use the verifier's).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Added to every entry's lifetime; use the verifier's leeway (60 s by
    /// default).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The longest lifetime (`exp - iat`) a token can have: session and
    /// subject revocations are kept this long after their instant. Use the
    /// verifier's [`max_lifetime`](crate::jwt::JwtVerifierBuilder::max_lifetime)
    /// (24 h by default).
    pub fn max_token_lifetime(mut self, max: Duration) -> Self {
        self.max_lifetime = max;
        self
    }

    /// Refuse new revocations beyond this many entries (unbounded by
    /// default).
    pub fn max_entries(mut self, max: usize) -> Self {
        self.max_entries = Some(max);
        self
    }

    /// The list.
    ///
    /// # Errors
    ///
    /// When the maximum lifetime or the entry limit is zero.
    pub fn build(self) -> Result<RevocationList, ConfigError> {
        if self.max_lifetime.is_zero() {
            return Err(ConfigError::new(
                "RevocationList: maximum token lifetime of zero",
            ));
        }
        if self.max_entries == Some(0) {
            return Err(ConfigError::new("RevocationList: maximum of zero entries"));
        }
        let seed = || std::collections::hash_map::RandomState::new().hash_one(0u64);
        let secs = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        Ok(RevocationList {
            inner: Arc::new(Inner {
                shards: std::array::from_fn(|_| RwLock::new(Shard::default())),
                jti_count: AtomicUsize::new(0),
                sid_count: AtomicUsize::new(0),
                sub_count: AtomicUsize::new(0),
                global_before: AtomicI64::new(i64::MIN),
                issuers: RwLock::new(HashMap::new()),
                issuer_count: AtomicUsize::new(0),
                keys: (
                    foldhash::quality::FixedState::with_seed(seed()),
                    foldhash::quality::FixedState::with_seed(seed()),
                ),
                clock: self.clock,
                leeway: secs(self.leeway),
                max_lifetime: secs(self.max_lifetime),
                max_entries: self.max_entries,
            }),
        })
    }
}
