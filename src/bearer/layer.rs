use http::HeaderName;
use tower_layer::Layer;

use super::extract::Sources;
use super::{Bearer, DEFAULT_QUERY_PARAMETER};
use crate::error::{ConfigError, DefaultRejection};

/// Finds the request's bearer token; see the [module docs](crate::bearer).
///
/// [`BearerLayer::new`] reads the `Authorization: Bearer` header only;
/// [`BearerLayer::builder`] sets the other places and the size cap.
#[derive(Clone, Debug)]
pub struct BearerLayer<R = DefaultRejection> {
    pub(crate) sources: std::sync::Arc<Sources>,
    pub(crate) optional: bool,
    pub(crate) rejection: R,
}

impl BearerLayer {
    /// Reads `Authorization: Bearer`, caps tokens at 8 KiB, refuses
    /// requests without a token.
    pub fn new() -> Self {
        Self {
            sources: std::sync::Arc::new(Sources::default()),
            optional: false,
            rejection: DefaultRejection::new(),
        }
    }

    /// Configure the sources, the cap and whether a token is optional.
    pub fn builder() -> BearerLayerBuilder {
        BearerLayerBuilder {
            sources: Sources::default(),
            optional: false,
        }
    }
}

impl Default for BearerLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<R> BearerLayer<R> {
    /// Renders rejections with `rejection` instead of the default RFC 6750 /
    /// gRPC answers.
    pub fn with_rejection<R2>(self, rejection: R2) -> BearerLayer<R2> {
        BearerLayer {
            sources: self.sources,
            optional: self.optional,
            rejection,
        }
    }
}

impl<S, R: Clone> Layer<S> for BearerLayer<R> {
    type Service = Bearer<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        Bearer {
            inner,
            sources: self.sources.clone(),
            optional: self.optional,
            rejection: self.rejection.clone(),
        }
    }
}

/// Builds a [`BearerLayer`]; refuses settings that cannot work.
#[derive(Clone, Debug)]
#[must_use]
pub struct BearerLayerBuilder {
    sources: Sources,
    optional: bool,
}

impl BearerLayerBuilder {
    /// Whether to read `Authorization: Bearer` (on by default).
    pub fn authorization_header(mut self, enabled: bool) -> Self {
        self.sources.authorization = enabled;
        self
    }

    /// Also read the token from the cookie `name`.
    pub fn cookie(mut self, name: impl Into<String>) -> Self {
        self.sources.cookie = Some(name.into());
        self
    }

    /// Also read the bare token from the header `name` (no scheme).
    pub fn header(mut self, name: HeaderName) -> Self {
        self.sources.header = Some(name);
        self
    }

    /// Also read the token from the query parameter `access_token`
    /// (RFC 6750 §2.3). Tokens in URIs end up in logs and browser history:
    /// enable only for clients that can do nothing else.
    pub fn allow_query(self) -> Self {
        self.allow_query_parameter(DEFAULT_QUERY_PARAMETER)
    }

    /// Like [`allow_query`](Self::allow_query) with another parameter name.
    pub fn allow_query_parameter(mut self, name: impl Into<String>) -> Self {
        self.sources.query = Some(name.into());
        self
    }

    /// The longest token accepted, in bytes (8 KiB by default). Longer ones
    /// are refused before anything is decoded.
    pub fn max_token_len(mut self, bytes: usize) -> Self {
        self.sources.max_len = bytes;
        self
    }

    /// Let requests without any token through, marked
    /// [`Unauthenticated`](crate::token::Unauthenticated). Malformed or
    /// duplicated tokens are still refused.
    pub fn optional(mut self, optional: bool) -> Self {
        self.optional = optional;
        self
    }

    /// The layer.
    ///
    /// # Errors
    ///
    /// When no source is enabled, a cookie name is not an RFC 6265 token,
    /// the query parameter name is empty, or the cap is 0 or above 1 MiB.
    pub fn build(self) -> Result<BearerLayer, ConfigError> {
        let sources = self.sources;
        if !sources.authorization
            && sources.cookie.is_none()
            && sources.header.is_none()
            && sources.query.is_none()
        {
            return Err(ConfigError::new("BearerLayer: no token source is enabled"));
        }
        if let Some(name) = &sources.cookie {
            let is_token_char =
                |b: u8| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b);
            if name.is_empty() || !name.bytes().all(is_token_char) {
                return Err(ConfigError::new(format!(
                    "BearerLayer: {name:?} is not a valid cookie name"
                )));
            }
        }
        if sources.query.as_deref() == Some("") {
            return Err(ConfigError::new("BearerLayer: empty query parameter name"));
        }
        if sources.max_len == 0 || sources.max_len > 1024 * 1024 {
            return Err(ConfigError::new(
                "BearerLayer: max_token_len must be between 1 byte and 1 MiB",
            ));
        }
        Ok(BearerLayer {
            sources: std::sync::Arc::new(sources),
            optional: self.optional,
            rejection: DefaultRejection::new(),
        })
    }
}
