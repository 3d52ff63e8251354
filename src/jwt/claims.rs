//! The parts of a token that tollgate reads itself: the header and the
//! registered claims, parsed once, borrowing from the decoded bytes.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

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

/// Which registered claim a top-level key names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Iss,
    Sub,
    Aud,
    Jti,
    Sid,
    Exp,
    Nbf,
    Iat,
    Required(u8),
    Other,
}

impl Slot {
    const NAMES: [(&'static str, Slot); 8] = [
        ("iss", Slot::Iss),
        ("sub", Slot::Sub),
        ("aud", Slot::Aud),
        ("jti", Slot::Jti),
        ("sid", Slot::Sid),
        ("exp", Slot::Exp),
        ("nbf", Slot::Nbf),
        ("iat", Slot::Iat),
    ];

    fn bit(self) -> u8 {
        match self {
            Slot::Iss => 1,
            Slot::Sub => 1 << 1,
            Slot::Aud => 1 << 2,
            Slot::Jti => 1 << 3,
            Slot::Sid => 1 << 4,
            Slot::Exp => 1 << 5,
            Slot::Nbf => 1 << 6,
            Slot::Iat => 1 << 7,
            Slot::Required(_) | Slot::Other => 0,
        }
    }
}

/// What the tee saw of the registered claims while `C` was deserialized.
pub(crate) struct Sink<'de, 'r> {
    registered: Registered<'de>,
    required: &'r [Box<str>],
    seen: u8,
    current: Slot,
    saw_object: bool,
    error: bool,
}

impl<'de, 'r> Sink<'de, 'r> {
    pub(crate) fn new(required: &'r [Box<str>]) -> Self {
        Self {
            registered: Registered::default(),
            required,
            seen: 0,
            current: Slot::Other,
            saw_object: false,
            error: false,
        }
    }

    /// The registered claims, unless the payload was not an object, or a
    /// registered claim was duplicated or of the wrong JSON type.
    pub(crate) fn registered(&self) -> Option<&Registered<'de>> {
        (self.saw_object && !self.error).then_some(&self.registered)
    }

    #[cfg(test)]
    fn finish(self) -> Option<Registered<'de>> {
        (self.saw_object && !self.error).then_some(self.registered)
    }

    fn key(&mut self, name: &str) {
        let slot = match Slot::NAMES.iter().find(|(n, _)| *n == name) {
            Some((_, slot)) => *slot,
            None => match self.required.iter().position(|r| **r == *name) {
                Some(i) => Slot::Required(i as u8),
                None => Slot::Other,
            },
        };
        if self.seen & slot.bit() != 0 {
            self.error = true;
        }
        self.seen |= slot.bit();
        self.current = slot;
    }

    fn string(&mut self, slot: Slot, value: Cow<'de, str>) {
        let r = &mut self.registered;
        match slot {
            Slot::Iss => r.iss = Some(Str(value)),
            Slot::Sub => r.sub = Some(Str(value)),
            Slot::Jti => r.jti = Some(Str(value)),
            Slot::Sid => r.sid = Some(Str(value)),
            Slot::Aud => r.aud = Some(Aud::One(Str(value))),
            Slot::Required(i) => r.present |= 1 << i,
            Slot::Exp | Slot::Nbf | Slot::Iat => self.error = true,
            Slot::Other => {}
        }
    }

    fn number(&mut self, slot: Slot, value: Result<i64, ()>) {
        let date = match slot {
            Slot::Exp => &mut self.registered.exp,
            Slot::Nbf => &mut self.registered.nbf,
            Slot::Iat => &mut self.registered.iat,
            Slot::Required(i) => {
                self.registered.present |= 1 << i;
                return;
            }
            Slot::Other => return,
            _ => {
                self.error = true;
                return;
            }
        };
        match value {
            Ok(v) => *date = Some(v),
            Err(()) => self.error = true,
        }
    }

    /// Any other non-null JSON value: a type error for every registered slot.
    fn other(&mut self, slot: Slot) {
        match slot {
            Slot::Required(i) => self.registered.present |= 1 << i,
            Slot::Other => {}
            _ => self.error = true,
        }
    }
}

/// Where a wrapped deserializer sits in the claims document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// The payload itself: must be an object.
    Top,
    /// A top-level key.
    Key,
    /// The value of a top-level key.
    Value(Slot),
    /// An element of an `aud` array.
    AudElement,
}

/// Wraps the deserializer of the application's claims type `C` and watches
/// the registered claims go by, so the payload is parsed once for both.
///
/// Everything `C` asks for is forwarded unchanged; values `C` ignores are
/// still read (as `deserialize_any`) when they are registered claims.
pub(crate) struct Tee<'s, 'de, 'r, D> {
    inner: D,
    sink: &'s mut Sink<'de, 'r>,
    role: Role,
}

impl<'s, 'de, 'r, D> Tee<'s, 'de, 'r, D> {
    pub(crate) fn top(inner: D, sink: &'s mut Sink<'de, 'r>) -> Self {
        Self {
            inner,
            sink,
            role: Role::Top,
        }
    }

    fn watches(&self) -> bool {
        !matches!(self.role, Role::Value(Slot::Other))
    }
}

struct Watch<'s, 'de, 'r, V> {
    visitor: V,
    sink: &'s mut Sink<'de, 'r>,
    role: Role,
}

macro_rules! forward_deserialize {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            if !self.watches() {
                return self.inner.$method($($arg,)* visitor);
            }
            let watch = Watch { visitor, sink: self.sink, role: self.role };
            self.inner.$method($($arg,)* watch)
        }
    )*};
}

impl<'de, D: de::Deserializer<'de>> de::Deserializer<'de> for Tee<'_, 'de, '_, D> {
    type Error = D::Error;

    forward_deserialize! {
        deserialize_any();
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_i128();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_u128();
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_option();
        deserialize_unit();
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_seq();
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_map();
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        if !self.watches() {
            return self.inner.deserialize_identifier(visitor);
        }
        let watch = Watch {
            visitor,
            sink: self.sink,
            role: self.role,
        };
        self.inner.deserialize_identifier(watch)
    }

    /// A value `C` skips is still read when it is a watched one.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        if !self.watches() {
            return self.inner.deserialize_ignored_any(visitor);
        }
        let watch = Watch {
            visitor,
            sink: self.sink,
            role: self.role,
        };
        match self.role {
            Role::Key => self.inner.deserialize_str(watch),
            _ => self.inner.deserialize_any(watch),
        }
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

impl<'de, V: Visitor<'de>> Watch<'_, 'de, '_, V> {
    fn saw_str(&mut self, value: Cow<'de, str>) {
        match self.role {
            Role::Key => self.sink.key(&value),
            Role::Value(slot) => self.sink.string(slot, value),
            Role::AudElement => {
                if let Some(Aud::Many(all)) = &mut self.sink.registered.aud {
                    all.push(Str(value));
                }
            }
            Role::Top => {}
        }
    }

    fn saw_number(&mut self, value: Result<i64, ()>) {
        match self.role {
            Role::Value(slot) => self.sink.number(slot, value),
            Role::Key => self.sink.key(""),
            Role::AudElement => self.sink.error = true,
            Role::Top => {}
        }
    }

    /// `null` stands for an absent claim, but not inside `aud`.
    fn saw_null(&mut self) {
        if self.role == Role::AudElement {
            self.sink.error = true;
        }
    }

    fn saw_other(&mut self) {
        match self.role {
            Role::Value(slot) => self.sink.other(slot),
            Role::Key => self.sink.key(""),
            Role::AudElement => self.sink.error = true,
            Role::Top => {}
        }
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Watch<'_, 'de, '_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    fn visit_bool<E: de::Error>(mut self, v: bool) -> Result<V::Value, E> {
        self.saw_other();
        self.visitor.visit_bool(v)
    }

    fn visit_i64<E: de::Error>(mut self, v: i64) -> Result<V::Value, E> {
        self.saw_number(Ok(v));
        self.visitor.visit_i64(v)
    }

    fn visit_u64<E: de::Error>(mut self, v: u64) -> Result<V::Value, E> {
        self.saw_number(i64::try_from(v).map_err(|_| ()));
        self.visitor.visit_u64(v)
    }

    fn visit_i128<E: de::Error>(mut self, v: i128) -> Result<V::Value, E> {
        self.saw_number(i64::try_from(v).map_err(|_| ()));
        self.visitor.visit_i128(v)
    }

    fn visit_u128<E: de::Error>(mut self, v: u128) -> Result<V::Value, E> {
        self.saw_number(i64::try_from(v).map_err(|_| ()));
        self.visitor.visit_u128(v)
    }

    fn visit_f64<E: de::Error>(mut self, v: f64) -> Result<V::Value, E> {
        self.saw_number(numeric_date::from_f64(v));
        self.visitor.visit_f64(v)
    }

    fn visit_char<E: de::Error>(mut self, v: char) -> Result<V::Value, E> {
        self.saw_str(Cow::Owned(v.to_string()));
        self.visitor.visit_char(v)
    }

    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<V::Value, E> {
        self.saw_str(Cow::Owned(v.to_owned()));
        self.visitor.visit_str(v)
    }

    fn visit_borrowed_str<E: de::Error>(mut self, v: &'de str) -> Result<V::Value, E> {
        self.saw_str(Cow::Borrowed(v));
        self.visitor.visit_borrowed_str(v)
    }

    fn visit_string<E: de::Error>(mut self, v: String) -> Result<V::Value, E> {
        self.saw_str(Cow::Owned(v.clone()));
        self.visitor.visit_string(v)
    }

    fn visit_bytes<E: de::Error>(mut self, v: &[u8]) -> Result<V::Value, E> {
        self.saw_other();
        self.visitor.visit_bytes(v)
    }

    fn visit_borrowed_bytes<E: de::Error>(mut self, v: &'de [u8]) -> Result<V::Value, E> {
        self.saw_other();
        self.visitor.visit_borrowed_bytes(v)
    }

    fn visit_byte_buf<E: de::Error>(mut self, v: Vec<u8>) -> Result<V::Value, E> {
        self.saw_other();
        self.visitor.visit_byte_buf(v)
    }

    fn visit_none<E: de::Error>(mut self) -> Result<V::Value, E> {
        self.saw_null();
        self.visitor.visit_none()
    }

    fn visit_unit<E: de::Error>(mut self) -> Result<V::Value, E> {
        self.saw_null();
        self.visitor.visit_unit()
    }

    fn visit_some<D2: de::Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        self.visitor.visit_some(Tee {
            inner: d,
            sink: self.sink,
            role: self.role,
        })
    }

    fn visit_newtype_struct<D2: de::Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        self.visitor.visit_newtype_struct(Tee {
            inner: d,
            sink: self.sink,
            role: self.role,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, seq: A) -> Result<V::Value, A::Error> {
        if self.role == Role::Value(Slot::Aud) {
            self.sink.registered.aud = Some(Aud::Many(Vec::new()));
            return self.visitor.visit_seq(TeeSeq {
                seq,
                sink: self.sink,
            });
        }
        self.saw_other();
        self.visitor.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(mut self, map: A) -> Result<V::Value, A::Error> {
        if self.role == Role::Top {
            self.sink.saw_object = true;
            return self.visitor.visit_map(TeeMap {
                map,
                sink: self.sink,
            });
        }
        self.saw_other();
        self.visitor.visit_map(map)
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        // Only reached when `C` asks for an enum; the claim is then left
        // unrecorded, which fails closed for `exp`, `iss` and `aud`.
        self.visitor.visit_enum(data)
    }
}

struct TeeMap<'s, 'de, 'r, A> {
    map: A,
    sink: &'s mut Sink<'de, 'r>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for TeeMap<'_, 'de, '_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.sink.current = Slot::Other;
        self.map.next_key_seed(TeeSeed {
            seed,
            sink: &mut *self.sink,
            role: Role::Key,
        })
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        let role = Role::Value(self.sink.current);
        self.map.next_value_seed(TeeSeed {
            seed,
            sink: &mut *self.sink,
            role,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

struct TeeSeq<'s, 'de, 'r, A> {
    seq: A,
    sink: &'s mut Sink<'de, 'r>,
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for TeeSeq<'_, 'de, '_, A> {
    type Error = A::Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, A::Error> {
        self.seq.next_element_seed(TeeSeed {
            seed,
            sink: &mut *self.sink,
            role: Role::AudElement,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.seq.size_hint()
    }
}

struct TeeSeed<'s, 'de, 'r, S> {
    seed: S,
    sink: &'s mut Sink<'de, 'r>,
    role: Role,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for TeeSeed<'_, 'de, '_, S> {
    type Value = S::Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.seed.deserialize(Tee {
            inner: d,
            sink: self.sink,
            role: self.role,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde::de::IgnoredAny;

    use super::*;

    fn parse(json: &str) -> Result<Registered<'_>, String> {
        parse_as::<IgnoredAny>(json)
    }

    fn parse_as<'a, C: Deserialize<'a>>(json: &'a str) -> Result<Registered<'a>, String> {
        let required: &[Box<str>] = &["tenant".into()];
        let mut sink = Sink::new(required);
        let mut de = serde_json::Deserializer::from_str(json);
        C::deserialize(Tee::top(&mut de, &mut sink)).map_err(|e| e.to_string())?;
        de.end().map_err(|e| e.to_string())?;
        sink.finish()
            .ok_or_else(|| "rejected by the tee".to_owned())
    }

    #[test]
    fn sees_claims_whatever_the_claims_type_asks_for() {
        #[derive(Deserialize)]
        #[allow(dead_code)]
        struct OnlySub {
            sub: String,
        }
        let json = r#"{"sub":"s","exp":10.5,"aud":["a","b"],"iss":"i","tenant":{"x":1}}"#;
        for r in [
            parse_as::<IgnoredAny>(json).unwrap(),
            parse_as::<OnlySub>(json).unwrap(),
            parse_as::<serde_json::Value>(json).unwrap(),
            parse_as::<crate::token::StandardClaims>(json).unwrap(),
            parse_as::<std::collections::HashMap<String, serde_json::Value>>(json).unwrap(),
        ] {
            assert_eq!(r.sub.unwrap().0, "s");
            assert_eq!(r.iss.unwrap().0, "i");
            assert_eq!(r.exp, Some(10));
            assert!(r.aud.unwrap().contains_any(&["b".into()]));
            assert_eq!(r.present, 1);
        }
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

/// The tee against a plain model of the rules, on random claim objects
/// with duplicated keys and values of every JSON type.
#[cfg(test)]
mod model {
    use proptest::prelude::*;
    use serde::de::IgnoredAny;
    use serde_json::{Value, json};

    use super::*;
    use crate::token::StandardClaims;

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Flattened {
        sub: Option<String>,
        #[serde(flatten)]
        rest: std::collections::HashMap<String, Value>,
    }

    const KEYS: [&str; 10] = [
        "iss", "sub", "aud", "jti", "sid", "exp", "nbf", "iat", "tenant", "other",
    ];

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            "[a-z]{0,6}".prop_map(Value::from),
            (-5_000_000_000i64..5_000_000_000).prop_map(Value::from),
            prop_oneof![Just(1.5e9f64), Just(-2.25), Just(1e300), Just(0.0)].prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
            Just(Value::Null),
        ];
        leaf.prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
                prop::collection::vec("[a-z]{1,3}", 0..3)
                    .prop_map(|v| Value::from(v.into_iter().map(Value::from).collect::<Vec<_>>())),
                inner.prop_map(|v| json!({ "k": v })),
            ]
        })
    }

    fn pairs() -> impl Strategy<Value = Vec<(usize, Value)>> {
        prop::collection::vec((0..KEYS.len(), value()), 0..8)
    }

    /// What the rules say the registered claims are, or `None` for a
    /// refusal.
    #[derive(Debug, Default, PartialEq)]
    struct Expected {
        strings: [Option<String>; 4],
        aud: Option<Vec<String>>,
        dates: [Option<i64>; 3],
        tenant: bool,
    }

    fn model(pairs: &[(usize, Value)]) -> Option<Expected> {
        let mut e = Expected::default();
        let mut seen = [false; 8];
        for (k, v) in pairs {
            let name = KEYS[*k];
            if *k < 8 {
                if seen[*k] {
                    return None;
                }
                seen[*k] = true;
            }
            match (name, v) {
                (_, Value::Null) => {}
                ("iss" | "sub" | "jti" | "sid", Value::String(s)) => {
                    let i = ["iss", "sub", "jti", "sid"]
                        .iter()
                        .position(|n| *n == name)
                        .unwrap();
                    e.strings[i] = Some(s.clone());
                }
                ("aud", Value::String(s)) => e.aud = Some(vec![s.clone()]),
                ("aud", Value::Array(all)) => {
                    let strings: Option<Vec<String>> =
                        all.iter().map(|a| a.as_str().map(str::to_owned)).collect();
                    e.aud = Some(strings?);
                }
                ("exp" | "nbf" | "iat", Value::Number(n)) => {
                    let i = ["exp", "nbf", "iat"]
                        .iter()
                        .position(|x| *x == name)
                        .unwrap();
                    e.dates[i] = Some(match n.as_i64() {
                        Some(i) => i,
                        None => crate::token::numeric_date::from_f64(n.as_f64()?).ok()?,
                    });
                }
                ("tenant", _) => e.tenant = true,
                ("other", _) => {}
                _ => return None,
            }
        }
        Some(e)
    }

    fn document(pairs: &[(usize, Value)]) -> String {
        let fields: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{:?}:{v}", KEYS[*k]))
            .collect();
        format!("{{{}}}", fields.join(","))
    }

    fn observed<'a, C: Deserialize<'a>>(json: &'a str) -> Option<Option<Expected>> {
        let required: &[Box<str>] = &["tenant".into()];
        let mut sink = Sink::new(required);
        let mut de = serde_json::Deserializer::from_str(json);
        // `C` refusing the document is its own business: nothing to compare.
        C::deserialize(Tee::top(&mut de, &mut sink)).ok()?;
        de.end().ok()?;
        let text = |s: &Option<Str<'_>>| s.as_ref().map(|s| s.0.to_string());
        Some(sink.finish().map(|r| Expected {
            strings: [text(&r.iss), text(&r.sub), text(&r.jti), text(&r.sid)],
            aud: r.aud.map(|a| match a {
                Aud::One(s) => vec![s.0.into_owned()],
                Aud::Many(all) => all.into_iter().map(|s| s.0.into_owned()).collect(),
            }),
            dates: [r.exp, r.nbf, r.iat],
            tenant: r.present == 1,
        }))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        #[test]
        fn tee_matches_the_model_whatever_the_claims_type(pairs in pairs()) {
            let json = document(&pairs);
            // With a type that reads nothing, the tee alone decides.
            prop_assert_eq!(observed::<IgnoredAny>(&json), Some(model(&pairs)));
            // With types that read (some of) the claims, the tee may only
            // ever agree with the model.
            let others = [
                observed::<StandardClaims>(&json),
                observed::<Value>(&json),
                observed::<Flattened>(&json),
            ];
            for seen in others.into_iter().flatten() {
                prop_assert_eq!(seen, model(&pairs));
            }
        }
    }
}
