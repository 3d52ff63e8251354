//! Trusted issuers, each with its own keys, audiences and algorithms.

use std::fmt;

use jsonwebtoken::Algorithm;

use super::key::{Key, KeySet};
#[cfg(feature = "remote-jwks")]
use super::remote::RemoteJwks;
use crate::error::ConfigError;

/// One trusted issuer for [`JwtVerifierBuilder::trust`](super::JwtVerifierBuilder::trust):
/// its `iss`, where its keys come from, and what its tokens must carry.
///
/// With several issuers, the token's `iss` picks one before anything is
/// verified (a token naming no configured issuer is refused without
/// touching any key source), and the token is then verified with that
/// issuer's keys only: a token claiming issuer A but signed with B's key is
/// refused.
///
/// ```
/// use tollgate::jwt::{Algorithm, Issuer, JwtVerifier, Key};
///
/// let a = Key::hmac(Algorithm::HS256, b"issuer A's secret, 32 bytes long!").unwrap();
/// let b = Key::hmac(Algorithm::HS256, b"issuer B's secret, 32 bytes long!").unwrap();
/// let verifier = JwtVerifier::<tollgate::token::StandardClaims>::builder()
///     .trust(Issuer::new("https://a.example").key(a).audience("api"))
///     .trust(Issuer::new("https://b.example").key(b).audience("api").algorithm(Algorithm::HS256))
///     .build()
///     .unwrap();
/// # drop(verifier);
/// ```
#[must_use]
pub struct Issuer {
    pub(crate) name: String,
    pub(crate) keys: Vec<Key>,
    pub(crate) key_sets: Vec<KeySet>,
    #[cfg(feature = "remote-jwks")]
    pub(crate) remote: Option<RemoteJwks>,
    pub(crate) audiences: Vec<Box<str>>,
    pub(crate) algorithms: Vec<Algorithm>,
}

impl fmt::Debug for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Issuer");
        d.field("name", &self.name)
            .field("keys", &self.keys)
            .field("key_sets", &self.key_sets);
        #[cfg(feature = "remote-jwks")]
        d.field("remote", &self.remote);
        d.field("audiences", &self.audiences)
            .field("algorithms", &self.algorithms)
            .finish()
    }
}

impl Issuer {
    /// Tokens whose `iss` is exactly `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            keys: Vec::new(),
            key_sets: Vec::new(),
            #[cfg(feature = "remote-jwks")]
            remote: None,
            audiences: Vec::new(),
            algorithms: Vec::new(),
        }
    }

    /// Verifies this issuer's tokens with `key`.
    pub fn key(mut self, key: Key) -> Self {
        self.keys.push(key);
        self
    }

    /// Verifies this issuer's tokens with the keys of `keys`.
    pub fn key_set(mut self, keys: KeySet) -> Self {
        self.key_sets.push(keys);
        self
    }

    /// Verifies this issuer's tokens with keys fetched from the provider.
    #[cfg(feature = "remote-jwks")]
    #[cfg_attr(docsrs, doc(cfg(feature = "remote-jwks")))]
    pub fn remote(mut self, keys: RemoteJwks) -> Self {
        self.remote = Some(keys);
        self
    }

    /// Requires `aud` to be, or contain, `audience`; may be called several
    /// times. Without any, the verifier's own audiences apply.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into().into_boxed_str());
        self
    }

    /// Accepts only tokens signed with `alg` (may be called several
    /// times); without any, each key's own algorithm is the only rule.
    pub fn algorithm(mut self, alg: Algorithm) -> Self {
        self.algorithms.push(alg);
        self
    }
}

/// Where one group's keys come from.
pub(crate) enum KeySource {
    Static(KeySet),
    #[cfg(feature = "remote-jwks")]
    Remote(RemoteJwks),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Static(keys) => keys.fmt(f),
            #[cfg(feature = "remote-jwks")]
            Self::Remote(remote) => remote.fmt(f),
        }
    }
}

/// Issuer names sharing one key source, audiences and algorithms.
#[derive(Debug)]
pub(crate) struct Group {
    /// Empty: any `iss` (or none) is accepted.
    pub(crate) issuers: Vec<Box<str>>,
    pub(crate) keys: KeySource,
    pub(crate) audiences: Vec<Box<str>>,
    pub(crate) algorithms: Vec<Algorithm>,
}

impl Group {
    /// Puts static keys and at most one remote source together.
    pub(crate) fn new(
        issuers: Vec<Box<str>>,
        keys: Vec<Key>,
        key_sets: Vec<KeySet>,
        #[cfg(feature = "remote-jwks")] remote: Option<RemoteJwks>,
        audiences: Vec<Box<str>>,
        algorithms: Vec<Algorithm>,
    ) -> Result<Option<Self>, ConfigError> {
        let mut set = KeySet::new();
        for key in key_sets.iter().flat_map(KeySet::keys).cloned().chain(keys) {
            if !algorithms.is_empty() && !algorithms.contains(&key.algorithm()) {
                return Err(ConfigError::new(format!(
                    "a {:?} key was given to an issuer restricted to {algorithms:?}",
                    key.algorithm()
                )));
            }
            set.insert(key)?;
        }
        #[cfg(feature = "remote-jwks")]
        let keys = match (remote, set.is_empty()) {
            (Some(remote), true) => KeySource::Remote(remote),
            (Some(_), false) => {
                return Err(ConfigError::new(
                    "an issuer takes static keys or a remote key set, not both",
                ));
            }
            (None, true) => return Ok(None),
            (None, false) => KeySource::Static(set),
        };
        #[cfg(not(feature = "remote-jwks"))]
        let keys = match set.is_empty() {
            true => return Ok(None),
            false => KeySource::Static(set),
        };
        Ok(Some(Self {
            issuers,
            keys,
            audiences,
            algorithms,
        }))
    }
}
