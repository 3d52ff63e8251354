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
#[derive(Debug)]
pub struct Issuer {
    pub(crate) name: String,
    pub(crate) sources: KeySources,
    pub(crate) audiences: Vec<Box<str>>,
    pub(crate) algorithms: Vec<Algorithm>,
}

/// The keys given to an [`Issuer`] or to the verifier builder: static
/// ones, or one remote set.
#[derive(Debug, Default)]
pub(crate) struct KeySources {
    pub(crate) keys: Vec<Key>,
    pub(crate) key_sets: Vec<KeySet>,
    #[cfg(feature = "remote-jwks")]
    pub(crate) remote: Option<RemoteJwks>,
}

impl KeySources {
    /// One source: the static keys as a set, or the remote one; `None`
    /// when nothing was given.
    fn into_source(self, algorithms: &[Algorithm]) -> Result<Option<KeySource>, ConfigError> {
        let mut set = KeySet::new();
        for key in self
            .key_sets
            .iter()
            .flat_map(KeySet::keys)
            .cloned()
            .chain(self.keys)
        {
            if !algorithms.is_empty() && !algorithms.contains(&key.algorithm()) {
                return Err(ConfigError::new(format!(
                    "a {:?} key was given to an issuer restricted to {algorithms:?}",
                    key.algorithm()
                )));
            }
            set.insert(key)?;
        }
        #[cfg(feature = "remote-jwks")]
        if let Some(remote) = self.remote {
            if !set.is_empty() {
                return Err(ConfigError::new(
                    "an issuer takes static keys or a remote key set, not both",
                ));
            }
            return Ok(Some(KeySource::Remote(remote)));
        }
        Ok((!set.is_empty()).then_some(KeySource::Static(set)))
    }
}

impl Issuer {
    /// Tokens whose `iss` is exactly `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            sources: KeySources::default(),
            audiences: Vec::new(),
            algorithms: Vec::new(),
        }
    }

    /// Verifies this issuer's tokens with `key`.
    pub fn key(mut self, key: Key) -> Self {
        self.sources.keys.push(key);
        self
    }

    /// Verifies this issuer's tokens with the keys of `keys`.
    pub fn key_set(mut self, keys: KeySet) -> Self {
        self.sources.key_sets.push(keys);
        self
    }

    /// Verifies this issuer's tokens with keys fetched from the provider.
    #[cfg(feature = "remote-jwks")]
    #[cfg_attr(docsrs, doc(cfg(feature = "remote-jwks")))]
    pub fn remote(mut self, keys: RemoteJwks) -> Self {
        self.sources.remote = Some(keys);
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
    /// The group of these issuer names, or `None` when no key was given.
    pub(crate) fn new(
        issuers: Vec<Box<str>>,
        sources: KeySources,
        audiences: Vec<Box<str>>,
        algorithms: Vec<Algorithm>,
    ) -> Result<Option<Self>, ConfigError> {
        Ok(sources.into_source(&algorithms)?.map(|keys| Self {
            issuers,
            keys,
            audiences,
            algorithms,
        }))
    }
}
