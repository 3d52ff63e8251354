use std::fmt;
use std::marker::PhantomData;

use tower_layer::Layer;

use super::{Revocation, RevocationList};
use crate::error::DefaultRejection;
use crate::token::StandardClaims;

/// Refuses revoked tokens; see the [module docs](crate::revocation).
///
/// `C` is the claims type of the [`JwtLayer`](crate::jwt::JwtLayer) in
/// front, whose [`Verified<C>`](crate::token::Verified) it reads.
pub struct RevocationLayer<C = StandardClaims, R = DefaultRejection> {
    pub(crate) list: RevocationList,
    pub(crate) rejection: R,
    pub(crate) _claims: PhantomData<fn() -> C>,
}

impl<C> RevocationLayer<C> {
    /// Checks every verified token against `list`.
    pub fn new(list: RevocationList) -> Self {
        Self {
            list,
            rejection: DefaultRejection::new(),
            _claims: PhantomData,
        }
    }
}

impl<C, R> RevocationLayer<C, R> {
    /// Renders rejections with `rejection` instead.
    pub fn with_rejection<R2>(self, rejection: R2) -> RevocationLayer<C, R2> {
        RevocationLayer {
            list: self.list,
            rejection,
            _claims: PhantomData,
        }
    }

    /// The list checked.
    pub fn list(&self) -> &RevocationList {
        &self.list
    }
}

impl<C, R: Clone> Clone for RevocationLayer<C, R> {
    fn clone(&self) -> Self {
        Self {
            list: self.list.clone(),
            rejection: self.rejection.clone(),
            _claims: PhantomData,
        }
    }
}

impl<C, R: fmt::Debug> fmt::Debug for RevocationLayer<C, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevocationLayer")
            .field("list", &self.list)
            .field("rejection", &self.rejection)
            .finish()
    }
}

impl<S, C, R: Clone> Layer<S> for RevocationLayer<C, R> {
    type Service = Revocation<S, C, R>;

    fn layer(&self, inner: S) -> Self::Service {
        Revocation {
            inner,
            list: self.list.clone(),
            rejection: self.rejection.clone(),
            _claims: PhantomData,
        }
    }
}
