//! The parts of a token that tollgate reads itself: the header and the
//! registered claims, parsed once, borrowing from the decoded bytes.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::token::numeric_date;

/// A string that borrows from the input when it has no escapes.
#[derive(Debug)]
pub(crate) struct Str<'a>(pub(crate) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(PhantomData))
    }
}

/// The JOSE header fields tollgate acts on. `jku`, `x5u`, `jwk` and `x5c`
/// are deliberately not read: keys only ever come from the configured set.
#[derive(Debug, Deserialize)]
pub(crate) struct Header<'a> {
    #[serde(borrow)]
    pub(crate) alg: Str<'a>,
    #[serde(borrow, default)]
    pub(crate) kid: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(crate) typ: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(crate) crit: Option<Vec<Str<'a>>>,
}

/// `aud` as sent: one string or an array of strings, nothing else.
#[derive(Debug)]
pub(crate) enum Aud<'a> {
    One(Str<'a>),
    Many(Vec<Str<'a>>),
}

impl Aud<'_> {
    pub(crate) fn contains_any(&self, wanted: &[Box<str>]) -> bool {
        match self {
            Aud::One(a) => wanted.iter().any(|w| **w == *a.0),
            Aud::Many(all) => all.iter().any(|a| wanted.iter().any(|w| **w == *a.0)),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Aud<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Aud<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Aud<'a>, E> {
                Ok(Aud::One(Str(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Aud<'a>, E> {
                Ok(Aud::One(Str(Cow::Owned(v.to_owned()))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Aud<'a>, A::Error> {
                let mut all = Vec::with_capacity(seq.size_hint().unwrap_or(2).min(16));
                while let Some(a) = seq.next_element::<Str<'a>>()? {
                    all.push(a);
                }
                Ok(Aud::Many(all))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// The registered claims as sent, and which further required claims were
/// present (bit `i` for `required[i]`).
#[derive(Debug, Default)]
pub(crate) struct Registered<'a> {
    pub(crate) iss: Option<Str<'a>>,
    pub(crate) sub: Option<Str<'a>>,
    pub(crate) aud: Option<Aud<'a>>,
    pub(crate) jti: Option<Str<'a>>,
    pub(crate) sid: Option<Str<'a>>,
    pub(crate) exp: Option<i64>,
    pub(crate) nbf: Option<i64>,
    pub(crate) iat: Option<i64>,
    pub(crate) present: u64,
}

/// Parses [`Registered`] out of the claims object, skipping everything
/// else. A registered claim given twice or with the wrong JSON type is an
/// error, as is a payload that is not an object.
pub(crate) struct RegisteredSeed<'r> {
    pub(crate) required: &'r [Box<str>],
}

struct DateSeed;

impl<'de> DeserializeSeed<'de> for DateSeed {
    type Value = Option<i64>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        numeric_date::option(d)
    }
}

impl<'de> DeserializeSeed<'de> for RegisteredSeed<'_> {
    type Value = Registered<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RegisteredSeed<'_> {
    type Value = Registered<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        const NAMES: [&str; 8] = ["iss", "sub", "aud", "jti", "sid", "exp", "nbf", "iat"];
        let mut r = Registered::default();
        let mut seen = 0u8;
        while let Some(key) = map.next_key::<Str<'de>>()? {
            let Some(index) = NAMES.iter().position(|n| *n == key.0) else {
                match self.required.iter().position(|n| **n == *key.0) {
                    Some(i) => {
                        if map.next_value::<Option<IgnoredAny>>()?.is_some() {
                            r.present |= 1 << i;
                        }
                    }
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                continue;
            };
            if seen & (1 << index) != 0 {
                return Err(de::Error::custom(format_args!("duplicate claim `{}`", NAMES[index])));
            }
            seen |= 1 << index;
            match index {
                0 => r.iss = map.next_value()?,
                1 => r.sub = map.next_value()?,
                2 => r.aud = map.next_value()?,
                3 => r.jti = map.next_value()?,
                4 => r.sid = map.next_value()?,
                5 => r.exp = map.next_value_seed(DateSeed)?,
                6 => r.nbf = map.next_value_seed(DateSeed)?,
                _ => r.iat = map.next_value_seed(DateSeed)?,
            }
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Registered<'_>, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(json);
        let r = RegisteredSeed { required: &["tenant".into()] }.deserialize(&mut de)?;
        de.end()?;
        Ok(r)
    }

    #[test]
    fn reads_registered_claims_and_required_presence() {
        let r = parse(r#"{"iss":"a","aud":["x","y"],"exp":10,"tenant":"t","other":[1,{"a":2}]}"#)
            .unwrap();
        assert_eq!(r.iss.unwrap().0, "a");
        assert!(r.aud.unwrap().contains_any(&["y".into()]));
        assert_eq!(r.exp, Some(10));
        assert_eq!(r.present, 1);
        assert_eq!(parse(r#"{"tenant":null}"#).unwrap().present, 0);
    }

    #[test]
    fn escaped_names_are_the_same_claim() {
        let r = parse(r#"{"\u0065xp": 5}"#).unwrap();
        assert_eq!(r.exp, Some(5));
        assert!(parse(r#"{"exp": 5, "\u0065xp": 6}"#).is_err());
    }

    #[test]
    fn refuses_wrong_types_and_duplicates() {
        for bad in [
            r#"{"exp":"5"}"#,
            r#"{"exp":true}"#,
            r#"{"iss":5}"#,
            r#"{"aud":5}"#,
            r#"{"aud":["a",5]}"#,
            r#"{"aud":{"a":1}}"#,
            r#"{"sub":"a","sub":"b"}"#,
            r#"[]"#,
            r#""exp""#,
            r#"{"exp":5} x"#,
            r#"{"exp":1e300}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
