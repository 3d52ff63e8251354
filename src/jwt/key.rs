use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use jsonwebtoken::crypto::JwtVerifier;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind};

use super::crypto::crypto_provider;
use crate::error::ConfigError;

/// A verification key pinned to exactly one algorithm.
///
/// The algorithm is the key's, never the token's: a token whose header
/// names another algorithm is refused before any signature is checked.
/// Its `Debug` output never shows key material.
#[derive(Clone)]
pub struct Key {
    id: u64,
    kid: Option<Arc<str>>,
    alg: Algorithm,
    decoding: Arc<DecodingKey>,
}

impl Key {
    /// An HMAC secret for `HS256`, `HS384` or `HS512`.
    ///
    /// # Errors
    ///
    /// When `alg` is not an HMAC algorithm, or the secret is shorter than
    /// the hash output (32, 48 or 64 bytes; RFC 7518 §3.2).
    pub fn hmac(alg: Algorithm, secret: &[u8]) -> Result<Self, ConfigError> {
        expect_family(alg, AlgorithmFamily::Hmac)?;
        let min = hmac_min_len(alg);
        if secret.len() < min {
            return Err(ConfigError::new(format!(
                "{alg:?} secret is {} bytes; it must be at least {min}",
                secret.len()
            )));
        }
        let decoding = DecodingKey::from_secret(secret)
            .map_err(|e| ConfigError::with_source("invalid HMAC secret", e))?;
        Self::new(alg, decoding)
    }

    /// An RSA public key in PEM (`PUBLIC KEY` or `RSA PUBLIC KEY`), for
    /// `RS256/384/512` or `PS256/384/512`.
    ///
    /// # Errors
    ///
    /// When `alg` is not an RSA algorithm or the PEM holds no RSA public key.
    pub fn rsa_pem(alg: Algorithm, pem: &[u8]) -> Result<Self, ConfigError> {
        expect_family(alg, AlgorithmFamily::Rsa)?;
        let decoding = DecodingKey::from_rsa_pem(pem)
            .map_err(|e| ConfigError::with_source("not an RSA public key in PEM", e))?;
        Self::new(alg, decoding)
    }

    /// An RSA public key in DER: SubjectPublicKeyInfo or PKCS#1.
    ///
    /// # Errors
    ///
    /// As [`rsa_pem`](Self::rsa_pem).
    pub fn rsa_der(alg: Algorithm, der: &[u8]) -> Result<Self, ConfigError> {
        expect_family(alg, AlgorithmFamily::Rsa)?;
        match DecodingKey::from_rsa_pem(spki_pem(der).as_bytes()) {
            Ok(decoding) => Self::new(alg, decoding),
            // Not SubjectPublicKeyInfo: PKCS#1, which `new` parses to check.
            Err(_) => Self::new(alg, DecodingKey::from_rsa_der(der)),
        }
    }

    /// An EC public key in PEM (`PUBLIC KEY`), P-256 for `ES256` or P-384
    /// for `ES384`.
    ///
    /// # Errors
    ///
    /// When `alg` is not `ES256`/`ES384`, the PEM holds no EC key, or the
    /// curve is not the algorithm's.
    pub fn ec_pem(alg: Algorithm, pem: &[u8]) -> Result<Self, ConfigError> {
        expect_family(alg, AlgorithmFamily::Ec)?;
        let decoding = DecodingKey::from_ec_pem(pem)
            .map_err(|e| ConfigError::with_source("not an EC public key in PEM", e))?;
        Self::new(alg, decoding)
    }

    /// An EC public key in DER (SubjectPublicKeyInfo).
    ///
    /// # Errors
    ///
    /// As [`ec_pem`](Self::ec_pem).
    pub fn ec_der(alg: Algorithm, der: &[u8]) -> Result<Self, ConfigError> {
        Self::ec_pem(alg, spki_pem(der).as_bytes())
    }

    /// An Ed25519 public key in PEM (`PUBLIC KEY`), for `EdDSA`.
    ///
    /// # Errors
    ///
    /// When the PEM holds no Ed25519 public key.
    pub fn ed_pem(pem: &[u8]) -> Result<Self, ConfigError> {
        let decoding = DecodingKey::from_ed_pem(pem)
            .map_err(|e| ConfigError::with_source("not an Ed25519 public key in PEM", e))?;
        Self::new(Algorithm::EdDSA, decoding)
    }

    /// An Ed25519 public key in DER (SubjectPublicKeyInfo).
    ///
    /// # Errors
    ///
    /// As [`ed_pem`](Self::ed_pem).
    pub fn ed_der(der: &[u8]) -> Result<Self, ConfigError> {
        Self::ed_pem(spki_pem(der).as_bytes())
    }

    /// A key from one JWK (RFC 7517), pinned to its `alg`. Without `alg`,
    /// the algorithm is inferred where the key allows only one (`EC` P-256:
    /// `ES256`, P-384: `ES384`; `OKP` Ed25519: `EdDSA`); RSA and `oct` keys
    /// need [`from_jwk_with_alg`](Self::from_jwk_with_alg). The JWK's `kid`
    /// becomes the key's.
    ///
    /// # Errors
    ///
    /// When the JWK is not valid JSON, is an encryption key (`use: enc`, or
    /// `key_ops` without `verify`), has an unsupported type or curve, or no
    /// algorithm can be pinned.
    pub fn from_jwk(json: &str) -> Result<Self, ConfigError> {
        let jwk: Jwk = serde_json::from_str(json)
            .map_err(|e| ConfigError::with_source("not a supported JWK", e))?;
        Self::from_parsed_jwk(&jwk, None, &[])
    }

    /// Like [`from_jwk`](Self::from_jwk), pinning `alg`; if the JWK has its
    /// own `alg`, the two must agree.
    ///
    /// # Errors
    ///
    /// As [`from_jwk`](Self::from_jwk), and when the algorithms disagree.
    pub fn from_jwk_with_alg(json: &str, alg: Algorithm) -> Result<Self, ConfigError> {
        let jwk: Jwk = serde_json::from_str(json)
            .map_err(|e| ConfigError::with_source("not a supported JWK", e))?;
        Self::from_parsed_jwk(&jwk, Some(alg), &[])
    }

    /// `allowed`, when not empty, is the set of algorithms a key may be
    /// pinned to: a JWK naming another is refused, and a JWK without `alg`
    /// is pinned to the one allowed algorithm that fits its type and curve.
    pub(crate) fn from_parsed_jwk(
        jwk: &Jwk,
        pinned: Option<Algorithm>,
        allowed: &[Algorithm],
    ) -> Result<Self, ConfigError> {
        let common = &jwk.common;
        if common.public_key_use == Some(PublicKeyUse::Encryption) {
            return Err(ConfigError::new("JWK is an encryption key (`use: enc`)"));
        }
        if let Some(ops) = &common.key_operations
            && !ops.contains(&KeyOperations::Verify)
        {
            return Err(ConfigError::new("JWK `key_ops` does not include `verify`"));
        }
        let own = match &common.key_algorithm {
            None => None,
            Some(ka) => {
                let name = serde_json::to_value(ka)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                Some(name.parse::<Algorithm>().map_err(|_| {
                    ConfigError::new(format!(
                        "JWK algorithm {name:?} is not a signature algorithm"
                    ))
                })?)
            }
        };
        let alg = match (own, pinned) {
            (Some(a), Some(b)) if a != b => {
                return Err(ConfigError::new(format!(
                    "JWK says {a:?} but {b:?} was configured for it"
                )));
            }
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) if allowed.is_empty() => infer_alg(&jwk.algorithm)?,
            (None, None) => {
                let mut fitting = allowed.iter().filter(|a| fits(&jwk.algorithm, **a));
                match (fitting.next(), fitting.next()) {
                    (Some(a), None) => *a,
                    (None, _) => {
                        return Err(ConfigError::new(
                            "JWK without `alg` fits none of the configured algorithms",
                        ));
                    }
                    (Some(_), Some(_)) => {
                        return Err(ConfigError::new(
                            "JWK without `alg` fits several configured algorithms",
                        ));
                    }
                }
            }
        };
        if !allowed.is_empty() && !allowed.contains(&alg) {
            return Err(ConfigError::new(format!(
                "JWK algorithm {alg:?} is not among the configured algorithms"
            )));
        }
        let family_ok = matches!(
            (&jwk.algorithm, alg.family()),
            (AlgorithmParameters::OctetKey(_), AlgorithmFamily::Hmac)
                | (AlgorithmParameters::RSA(_), AlgorithmFamily::Rsa)
                | (AlgorithmParameters::EllipticCurve(_), AlgorithmFamily::Ec)
                | (AlgorithmParameters::OctetKeyPair(_), AlgorithmFamily::Ed)
        );
        if !family_ok {
            return Err(ConfigError::new(format!(
                "JWK key type cannot be used with {alg:?}"
            )));
        }
        if let AlgorithmParameters::OctetKeyPair(p) = &jwk.algorithm
            && p.curve != EllipticCurve::Ed25519
        {
            return Err(ConfigError::new("only Ed25519 OKP keys are supported"));
        }
        let decoding = DecodingKey::from_jwk(jwk)
            .map_err(|e| ConfigError::with_source("JWK key material is invalid", e))?;
        if alg.family() == AlgorithmFamily::Hmac {
            let len = decoding.try_get_as_bytes().map(<[u8]>::len).unwrap_or(0);
            if len < hmac_min_len(alg) {
                return Err(ConfigError::new(format!(
                    "{alg:?} JWK secret is {len} bytes; it must be at least {}",
                    hmac_min_len(alg)
                )));
            }
        }
        let key = Self::new(alg, decoding)?;
        Ok(match &common.key_id {
            Some(kid) => key.with_kid(kid.as_str()),
            None => key,
        })
    }

    fn new(alg: Algorithm, decoding: DecodingKey) -> Result<Self, ConfigError> {
        // The raw public key lengths tell a P-384 key configured for ES256.
        let expected_len = match alg {
            Algorithm::ES256 => Some(65),
            Algorithm::ES384 => Some(97),
            Algorithm::EdDSA => Some(32),
            _ => None,
        };
        if let (Some(expected), Ok(raw)) = (expected_len, decoding.try_get_as_bytes())
            && raw.len() != expected
        {
            return Err(ConfigError::new(format!(
                "the key's curve does not match {alg:?}"
            )));
        }
        if alg.family() == AlgorithmFamily::Rsa {
            let bits = rsa_modulus_bits(&decoding)?;
            if bits < 2048 {
                return Err(ConfigError::new(format!(
                    "RSA key of {bits} bits: keys under 2048 bits are refused"
                )));
            }
        }
        (crypto_provider().verifier_factory)(&alg, &decoding)
            .map_err(|e| ConfigError::with_source(format!("key unusable with {alg:?}"), e))?;
        // Ids are what the per-thread verifier cache matches on.
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Ok(Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            kid: None,
            alg,
            decoding: Arc::new(decoding),
        })
    }

    /// jsonwebtoken's verifier object for this key and its algorithm.
    fn verifier(&self) -> Option<Box<dyn JwtVerifier>> {
        (crypto_provider().verifier_factory)(&self.alg, &self.decoding).ok()
    }

    /// Names the key: tokens whose header `kid` equals it select it.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<Arc<str>>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The key id, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The one algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// Checks a base64url `signature` over `message` with this key and its
    /// algorithm: the JWS signature layer alone, with no claims.
    pub fn verify_signature(&self, message: &[u8], signature: &str) -> bool {
        let Ok(signature) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature)
        else {
            return false;
        };
        verify_raw(self, message, &signature)
    }
}

pub(crate) fn verify_raw(key: &Key, message: &[u8], signature: &Vec<u8>) -> bool {
    thread_local! {
        /// jsonwebtoken builds a verifier object per call (for HMAC that
        /// means deriving the padded key states, as costly as the MAC
        /// itself). Those objects are not `Send`, so each thread keeps the
        /// last few it built, by key id. Ids are never reused, so a key
        /// dropped from its set can never be matched again.
        static VERIFIERS: RefCell<Vec<(u64, Box<dyn JwtVerifier>)>> = const { RefCell::new(Vec::new()) };
    }
    const PER_THREAD: usize = 8;
    let check = |v: &dyn JwtVerifier| v.verify(message, signature).is_ok();
    let cached = VERIFIERS.try_with(|cell| {
        // `None`: no cache to use here (thread teardown or re-entrance).
        let mut verifiers = cell.try_borrow_mut().ok()?;
        if let Some((_, v)) = verifiers.iter().find(|(id, _)| *id == key.id) {
            return Some(check(v.as_ref()));
        }
        let Some(v) = key.verifier() else {
            return Some(false);
        };
        let ok = check(v.as_ref());
        if verifiers.len() == PER_THREAD {
            verifiers.remove(0);
        }
        verifiers.push((key.id, v));
        Some(ok)
    });
    match cached {
        Ok(Some(ok)) => ok,
        _ => key.verifier().is_some_and(|v| check(v.as_ref())),
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("material", &"<redacted>")
            .finish()
    }
}

fn expect_family(alg: Algorithm, family: AlgorithmFamily) -> Result<(), ConfigError> {
    if alg.family() == family {
        Ok(())
    } else {
        Err(ConfigError::new(format!(
            "{alg:?} is not a {family:?} algorithm"
        )))
    }
}

/// The size of an RSA key's modulus; parsing it also proves the DER is an
/// RSA public key.
fn rsa_modulus_bits(decoding: &DecodingKey) -> Result<usize, ConfigError> {
    let n = match decoding.kind() {
        DecodingKeyKind::SecretOrDer(der) => {
            (crypto_provider()
                .key_utils
                .rsa_pub_components_from_public_key)(der)
            .map_err(|e| ConfigError::with_source("not an RSA public key", e))?
            .0
        }
        DecodingKeyKind::RsaModulusExponent { n, .. } => n.clone(),
    };
    let n = match n.iter().position(|&b| b != 0) {
        Some(first) => &n[first..],
        None => &[][..],
    };
    Ok(match n.first() {
        Some(top) => n.len() * 8 - top.leading_zeros() as usize,
        None => 0,
    })
}

fn hmac_min_len(alg: Algorithm) -> usize {
    match alg {
        Algorithm::HS384 => 48,
        Algorithm::HS512 => 64,
        _ => 32,
    }
}

/// Whether a key of these parameters can verify `alg`: its family, and for
/// EC and OKP keys its curve.
fn fits(params: &AlgorithmParameters, alg: Algorithm) -> bool {
    match params {
        AlgorithmParameters::EllipticCurve(p) => matches!(
            (&p.curve, alg),
            (EllipticCurve::P256, Algorithm::ES256) | (EllipticCurve::P384, Algorithm::ES384)
        ),
        AlgorithmParameters::OctetKeyPair(p) => {
            p.curve == EllipticCurve::Ed25519 && alg == Algorithm::EdDSA
        }
        AlgorithmParameters::RSA(_) => alg.family() == AlgorithmFamily::Rsa,
        AlgorithmParameters::OctetKey(_) => alg.family() == AlgorithmFamily::Hmac,
        _ => false,
    }
}

fn infer_alg(params: &AlgorithmParameters) -> Result<Algorithm, ConfigError> {
    match params {
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => Ok(Algorithm::ES256),
            EllipticCurve::P384 => Ok(Algorithm::ES384),
            _ => Err(ConfigError::new("unsupported EC curve")),
        },
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            Ok(Algorithm::EdDSA)
        }
        AlgorithmParameters::OctetKeyPair(_) => {
            Err(ConfigError::new("only Ed25519 OKP keys are supported"))
        }
        _ => Err(ConfigError::new(
            "RSA and oct JWKs need an `alg`, in the JWK or configured for it",
        )),
    }
}

fn spki_pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::with_capacity(b64.len() + 64);
    pem.push_str("-----BEGIN PUBLIC KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    pem
}

/// The keys a verifier trusts, found by `kid`.
///
/// A token with a `kid` selects the key of that id and nothing else; a
/// token without one is accepted only when the set holds a single key. A
/// key without a `kid` may only stand alone. `kid` is only ever an exact
/// key into this map: `jku`, `x5u` and `jwk` headers are never followed.
#[derive(Clone, Default)]
pub struct KeySet {
    by_kid: HashMap<Arc<str>, Key>,
    unnamed: Option<Key>,
}

impl KeySet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key.
    ///
    /// # Errors
    ///
    /// When its `kid` is taken, or a key without `kid` would not stand
    /// alone.
    pub fn insert(&mut self, key: Key) -> Result<(), ConfigError> {
        if self.unnamed.is_some() || (key.kid.is_none() && !self.by_kid.is_empty()) {
            return Err(ConfigError::new(
                "a key without `kid` must be the only key of its set",
            ));
        }
        match key.kid.clone() {
            None => self.unnamed = Some(key),
            Some(kid) => {
                if self.by_kid.contains_key(&kid) {
                    return Err(ConfigError::new(format!("duplicate kid {kid:?}")));
                }
                self.by_kid.insert(kid, key);
            }
        }
        Ok(())
    }

    /// A JWKS document (RFC 7517 §5). Keys tollgate cannot use for
    /// verification (encryption keys, `key_ops` without `verify`,
    /// unsupported types or curves, RSA or `oct` keys without `alg`) are
    /// skipped with a warning.
    ///
    /// # Errors
    ///
    /// When the document is not a JWKS, no key is usable, two keys share a
    /// `kid`, or several keys lack one.
    pub fn from_jwks(json: &str) -> Result<Self, ConfigError> {
        Self::from_jwks_with_algorithms(json, &[])
    }

    /// Like [`from_jwks`](Self::from_jwks), trusting only `algorithms`
    /// (when not empty): a JWK whose `alg` is another one is skipped, and a
    /// JWK without `alg` is pinned to the one listed algorithm that fits
    /// its key type and curve (skipped when none or several fit).
    ///
    /// # Errors
    ///
    /// As [`from_jwks`](Self::from_jwks).
    pub fn from_jwks_with_algorithms(
        json: &str,
        algorithms: &[Algorithm],
    ) -> Result<Self, ConfigError> {
        Self::parse_jwks(json.as_bytes(), algorithms)
    }

    pub(crate) fn parse_jwks(json: &[u8], algorithms: &[Algorithm]) -> Result<Self, ConfigError> {
        #[derive(serde::Deserialize)]
        struct Document {
            keys: Vec<serde_json::Value>,
        }
        let doc: Document = serde_json::from_slice(json)
            .map_err(|e| ConfigError::with_source("not a JWKS document", e))?;
        let mut set = Self::new();
        for (index, value) in doc.keys.into_iter().enumerate() {
            let key = serde_json::from_value::<Jwk>(value)
                .map_err(|e| ConfigError::with_source("unsupported JWK", e))
                .and_then(|jwk| Key::from_parsed_jwk(&jwk, None, algorithms));
            match key {
                Ok(key) => set.insert(key)?,
                Err(error) => tracing::warn!(index, %error, "skipping JWK"),
            }
        }
        if set.is_empty() {
            return Err(ConfigError::new(
                "the JWKS holds no usable verification key",
            ));
        }
        Ok(set)
    }

    /// [`from_jwks`](Self::from_jwks) on a file's contents.
    ///
    /// # Errors
    ///
    /// When the file cannot be read, and as `from_jwks`.
    pub fn from_jwks_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let json = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::with_source(format!("cannot read JWKS file {}", path.display()), e)
        })?;
        Self::from_jwks(&json)
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.by_kid.len() + usize::from(self.unnamed.is_some())
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every key.
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.unnamed.iter().chain(self.by_kid.values())
    }

    /// The key a token with this header `kid` must be verified with.
    pub fn find(&self, kid: Option<&str>) -> Option<&Key> {
        if let Some(key) = &self.unnamed {
            return Some(key);
        }
        match kid {
            Some(kid) => self.by_kid.get(kid),
            None if self.by_kid.len() == 1 => self.by_kid.values().next(),
            None => None,
        }
    }
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.keys()).finish()
    }
}

impl FromIterator<Key> for Result<KeySet, ConfigError> {
    fn from_iter<I: IntoIterator<Item = Key>>(iter: I) -> Self {
        let mut set = KeySet::new();
        for key in iter {
            set.insert(key)?;
        }
        Ok(set)
    }
}
