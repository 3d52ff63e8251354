use http::header::{AUTHORIZATION, COOKIE};
use http::{HeaderMap, HeaderName, Uri};

use crate::error::{Error, ErrorKind};
use crate::token::{BearerToken, TokenSource};

/// Where to look, and how much to accept.
#[derive(Clone, Debug)]
pub(crate) struct Sources {
    pub(crate) authorization: bool,
    pub(crate) cookie: Option<String>,
    pub(crate) header: Option<HeaderName>,
    pub(crate) query: Option<String>,
    pub(crate) max_len: usize,
}

impl Default for Sources {
    /// `Authorization: Bearer` only, 8 KiB cap.
    fn default() -> Self {
        Self {
            authorization: true,
            cookie: None,
            header: None,
            query: None,
            max_len: crate::DEFAULT_MAX_TOKEN_LEN,
        }
    }
}

impl Sources {
    /// The single token of the request, `None` when there is none.
    pub(crate) fn extract(
        &self,
        headers: &HeaderMap,
        uri: &Uri,
    ) -> Result<Option<BearerToken>, Error> {
        let mut found: Option<BearerToken> = None;
        let mut put = |token: &str, source: TokenSource| -> Result<(), Error> {
            if found.is_some() {
                return Err(ErrorKind::MultipleTokens.into());
            }
            found = Some(BearerToken::new(token, source));
            Ok(())
        };

        if self.authorization {
            let mut values = headers.get_all(AUTHORIZATION).iter();
            if let Some(value) = values.next() {
                if values.next().is_some() {
                    return Err(ErrorKind::MultipleTokens.into());
                }
                if let Some(token) = parse_authorization(value.as_bytes(), self.max_len)? {
                    put(token, TokenSource::AuthorizationHeader)?;
                }
            }
        }

        if let Some(name) = &self.header {
            let mut values = headers.get_all(name).iter();
            if let Some(value) = values.next() {
                if values.next().is_some() {
                    return Err(ErrorKind::MultipleTokens.into());
                }
                put(
                    check_token(value.as_bytes(), self.max_len)?,
                    TokenSource::Header,
                )?;
            }
        }

        if let Some(name) = &self.cookie {
            for value in headers.get_all(COOKIE) {
                // A Cookie header that is not visible ASCII cannot carry a
                // b64token under our name; other cookies are not our concern.
                let Ok(value) = value.to_str() else { continue };
                for pair in value.split(';') {
                    let Some((key, raw)) = pair.trim_matches(' ').split_once('=') else {
                        continue;
                    };
                    if key == name {
                        // RFC 6265 §4.1.1 allows a value in double quotes.
                        let raw = raw
                            .strip_prefix('"')
                            .and_then(|r| r.strip_suffix('"'))
                            .unwrap_or(raw);
                        put(
                            check_token(raw.as_bytes(), self.max_len)?,
                            TokenSource::Cookie,
                        )?;
                    }
                }
            }
        }

        if let (Some(name), Some(query)) = (&self.query, uri.query()) {
            for (key, value) in form_urlencoded::parse(query.as_bytes()) {
                if key == name.as_str() {
                    put(
                        check_token(value.as_bytes(), self.max_len)?,
                        TokenSource::Query,
                    )?;
                }
            }
        }

        Ok(found)
    }
}

/// `Bearer` 1*SP b64token, scheme case-insensitive (RFC 6750 §2.1, RFC 9110
/// §11.1). Another scheme is not ours: `Ok(None)`.
fn parse_authorization(value: &[u8], max_len: usize) -> Result<Option<&str>, Error> {
    const SCHEME: &[u8] = b"bearer";
    let is_bearer = value.len() >= SCHEME.len()
        && value[..SCHEME.len()].eq_ignore_ascii_case(SCHEME)
        && value.get(SCHEME.len()).is_none_or(|&b| b == b' ');
    if !is_bearer {
        return Ok(None);
    }
    let rest = &value[SCHEME.len()..];
    let start = rest.iter().position(|&b| b != b' ').unwrap_or(rest.len());
    check_token(&rest[start..], max_len).map(Some)
}

/// The size cap first (so a huge value costs one comparison), then the
/// RFC 6750 b64token grammar: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
/// "+" / "/" ) *"=". The grammar check is a branch-free fold, which the
/// compiler vectorizes.
fn check_token(token: &[u8], max_len: usize) -> Result<&str, Error> {
    if token.len() > max_len {
        return Err(ErrorKind::TokenTooLarge.into());
    }
    let body_len = token.len() - token.iter().rev().take_while(|&&b| b == b'=').count();
    let invalid = token[..body_len].iter().fold(0u8, |acc, &b| {
        let letter = (b | 0x20).wrapping_sub(b'a') < 26;
        let digit = b.wrapping_sub(b'0') < 10;
        let punct = matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        acc | u8::from(!(letter | digit | punct))
    });
    if body_len == 0 || invalid != 0 {
        return Err(ErrorKind::MalformedRequest.into());
    }
    // Every byte is ASCII now, so this cannot fail.
    std::str::from_utf8(token).map_err(|_| ErrorKind::MalformedRequest.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_grammar() {
        fn ok(v: &str) -> Option<&str> {
            parse_authorization(v.as_bytes(), 100).unwrap()
        }
        assert_eq!(ok("Bearer abc"), Some("abc"));
        assert_eq!(ok("bEaReR    a.b-c_d~e+f/g=="), Some("a.b-c_d~e+f/g=="));
        assert_eq!(ok("Basic dXNlcjpwYXNz"), None);
        assert_eq!(ok("BearerX abc"), None);
        let bad = |v: &str| parse_authorization(v.as_bytes(), 100).unwrap_err().kind();
        assert_eq!(bad("Bearer"), ErrorKind::MalformedRequest);
        assert_eq!(bad("Bearer "), ErrorKind::MalformedRequest);
        assert_eq!(bad("Bearer a b"), ErrorKind::MalformedRequest);
        assert_eq!(bad("Bearer a=b"), ErrorKind::MalformedRequest);
        assert_eq!(bad("Bearer ==="), ErrorKind::MalformedRequest);
        assert_eq!(bad("Bearer a\tb"), ErrorKind::MalformedRequest);
        assert_eq!(
            bad(&format!("Bearer {}", "a".repeat(101))),
            ErrorKind::TokenTooLarge
        );
    }
}
