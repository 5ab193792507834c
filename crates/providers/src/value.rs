//! Lenient scalar readers: providers send the same field as a JSON number in
//! one payload and a string in the next. Integers never pass through `f64`.

use serde::{de, Deserialize, Deserializer};
use std::fmt;

/// An integer sent as a JSON number or a string of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int(pub i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Int;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer or a string of digits")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int, E> {
                Ok(Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int, E> {
                i64::try_from(v).map(Int).map_err(|_| E::custom("integer out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Int, E> {
                v.trim()
                    .parse()
                    .map(Int)
                    .map_err(|_| E::custom(format!("not an integer: {v:?}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A text sent as a JSON string or a number (rendered exactly as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A boolean sent as `true`/`false`, `0`/`1` or their strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean, 0 or 1")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Flag, E> {
                Ok(Flag(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Flag, E> {
                Ok(Flag(v != 0))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Flag, E> {
                Ok(Flag(v != 0))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Flag, E> {
                match v.trim() {
                    "1" | "true" => Ok(Flag(true)),
                    "0" | "false" | "" => Ok(Flag(false)),
                    _ => Err(E::custom(format!("not a boolean: {v:?}"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A decimal sent as a JSON string or a JSON number, kept as its exact text
/// (never through `f64`). Needs a `serde_json` deserializer (raw values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal(pub String);

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw: Box<serde_json::value::RawValue> = Deserialize::deserialize(d)?;
        let text = raw.get().trim();
        let value = if text.starts_with('"') {
            serde_json::from_str::<String>(text).map_err(de::Error::custom)?
        } else {
            text.to_owned()
        };
        if crate::money::is_decimal(&value) {
            Ok(Decimal(value.trim().to_owned()))
        } else {
            Err(de::Error::custom(format!("not a decimal amount: {value:?}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_from_numbers_and_strings_without_floats() {
        assert_eq!(
            serde_json::from_str::<Int>("553440887574627").unwrap(),
            Int(553_440_887_574_627)
        );
        assert_eq!(
            serde_json::from_str::<Int>("\"473130522693193728\"").unwrap(),
            Int(473_130_522_693_193_728)
        );
        assert!(serde_json::from_str::<Int>("1.5").is_err());
        assert!(serde_json::from_str::<Int>("18446744073709551615").is_err());
        assert_eq!(
            serde_json::from_str::<Text>("1930106161957212198").unwrap(),
            Text("1930106161957212198".into())
        );
        assert_eq!(serde_json::from_str::<Flag>("1").unwrap(), Flag(true));
        assert_eq!(
            serde_json::from_str::<Decimal>("1000.00").unwrap(),
            Decimal("1000.00".into())
        );
        assert_eq!(
            serde_json::from_str::<Decimal>("\"-7.12\"").unwrap(),
            Decimal("-7.12".into())
        );
        assert!(serde_json::from_str::<Decimal>("\"12,5\"").is_err());
    }
}
