//! Strict JSON for JOSE headers and claim sets: a single object, no duplicate member names at any
//! depth, bounded nesting, valid UTF-8, nothing after the closing brace.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Deepest nesting accepted inside a header or payload (the top-level object is depth 1).
pub(crate) const MAX_DEPTH: u32 = 16;

/// Why a JSON text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonError {
    /// Not JSON, not an object, too deep, invalid UTF-8, or trailing bytes.
    Invalid,
    /// A member name appears twice in one object.
    Duplicate,
}

const DUPLICATE_MARKER: &str = "xauth:duplicate-member";

/// Parses `bytes` as one JSON object with the strict rules.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = match (Strict { depth: 0 }).deserialize(&mut de) {
        Ok(v) => v,
        Err(e) => {
            return Err(if e.to_string().starts_with(DUPLICATE_MARKER) {
                JsonError::Duplicate
            } else {
                JsonError::Invalid
            });
        }
    };
    de.end().map_err(|_| JsonError::Invalid)?;
    match value {
        Value::Object(m) => Ok(m),
        _ => Err(JsonError::Invalid),
    }
}

/// A seed that builds a `serde_json::Value`, refusing duplicate members and deep nesting.
#[derive(Clone, Copy)]
struct Strict {
    depth: u32,
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // serde_json never yields non-finite numbers; keep the guard anyway.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.nested::<A::Error>()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(inner)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.nested::<A::Error>()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let v = map.next_value_seed(inner)?;
            match out.entry(key) {
                serde_json::map::Entry::Vacant(slot) => {
                    slot.insert(v);
                }
                serde_json::map::Entry::Occupied(_) => {
                    return Err(de::Error::custom(DUPLICATE_MARKER));
                }
            }
        }
        Ok(Value::Object(out))
    }
}

impl Strict {
    fn nested<E: de::Error>(self) -> Result<Strict, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom("nesting too deep"));
        }
        Ok(Strict {
            depth: self.depth + 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_only() {
        assert!(parse_object(br#"{"a":1,"b":[1,{"c":null}]}"#).is_ok());
        for bad in [
            &b"[]"[..],
            b"\"x\"",
            b"1",
            b"null",
            b"{",
            b"{}x",
            b"{} {}",
            b"\xef\xbb\xbf{}",
            b"{\"a\":\"\xff\"}",
            b"",
        ] {
            assert_eq!(parse_object(bad), Err(JsonError::Invalid), "{bad:?}");
        }
        assert!(parse_object(b" {} ").is_ok(), "JSON whitespace is fine");
    }

    #[test]
    fn duplicates_at_any_depth() {
        assert_eq!(parse_object(br#"{"a":1,"a":2}"#), Err(JsonError::Duplicate));
        assert_eq!(
            parse_object(br#"{"x":{"a":1,"a":1}}"#),
            Err(JsonError::Duplicate)
        );
        assert_eq!(
            parse_object(br#"{"x":[{"a":1,"a":1}]}"#),
            Err(JsonError::Duplicate)
        );
        // An escaped spelling of the same name is the same name.
        assert_eq!(
            parse_object(br#"{"alg":1,"\u0061lg":2}"#),
            Err(JsonError::Duplicate)
        );
    }

    #[test]
    fn depth_bound() {
        let ok = format!("{{\"a\":{}1{}}}", "[".repeat(15), "]".repeat(15));
        assert!(parse_object(ok.as_bytes()).is_ok());
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(16), "]".repeat(16));
        assert_eq!(parse_object(deep.as_bytes()), Err(JsonError::Invalid));
        let huge = format!("{{\"a\":{}1{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(parse_object(huge.as_bytes()), Err(JsonError::Invalid));
    }
}
