//! Which jsonwebtoken crypto backend verifies signatures.
//!
//! jsonwebtoken 12 picks its backend from its own features and returns no
//! provider at all when both `aws_lc_rs` and `rust_crypto` are on, which
//! makes its `encode`/`decode` panic at run time. tollgate's features are
//! additive, so `--all-features` turns both on: tollgate then installs the
//! aws-lc-rs provider as the process default, deterministically, the first
//! time a verifier is built or [`crypto_provider`] is called, so that
//! jsonwebtoken's own functions work too. A provider installed by the
//! application before that is respected.

use jsonwebtoken::crypto::CryptoProvider;

#[cfg(not(any(feature = "aws-lc-rs", feature = "rust-crypto")))]
compile_error!(
    "tollgate's `jwt` feature needs a crypto backend: enable the `aws-lc-rs` (default) or the `rust-crypto` feature"
);

#[cfg(feature = "aws-lc-rs")]
fn ours() -> &'static CryptoProvider {
    &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER
}

#[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
fn ours() -> &'static CryptoProvider {
    &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER
}

/// The process's jsonwebtoken crypto provider, installing tollgate's choice
/// (aws-lc-rs when its feature is on, RustCrypto otherwise) if none is.
///
/// Call it at startup before using jsonwebtoken's `encode` or `decode`
/// directly in a build where both backends are enabled.
pub fn crypto_provider() -> &'static CryptoProvider {
    if let Some(provider) = CryptoProvider::try_get_default() {
        return provider;
    }
    let ours = ours();
    match ours.install_default() {
        Ok(()) => ours,
        Err(_) => CryptoProvider::try_get_default().unwrap_or(ours),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_is_installed_for_jsonwebtoken_too() {
        let provider = crypto_provider();
        assert!(std::ptr::eq(provider, ours()));
        assert!(std::ptr::eq(
            CryptoProvider::try_get_default().unwrap(),
            provider
        ));
        // jsonwebtoken's own functions now work, whatever features are on.
        let key = jsonwebtoken::EncodingKey::from_secret(&[1; 32]).unwrap();
        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        assert!(jsonwebtoken::encode(&header, &serde_json::json!({"a": 1}), &key).is_ok());
    }
}
