//! Validated identifiers. Each is parsed once at the edge and is valid by
//! construction afterwards (parse, don't validate).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {value:?}: {why}")]
pub struct IdError {
    what: &'static str,
    value: String,
    why: &'static str,
}

/// Parses the URL-safe ids used for tenants and sources: 1-64 characters of
/// `a-z`, `0-9`, `-`, `_`, starting with a letter or digit.
fn parse_slug(what: &'static str, value: &str) -> Result<String, IdError> {
    let err = |why| IdError {
        what,
        value: value.chars().take(80).collect(),
        why,
    };
    if value.is_empty() || value.len() > 64 {
        return Err(err("must be 1 to 64 characters"));
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(err("only a-z, 0-9, '-' and '_' are allowed"));
    }
    if !value.as_bytes().first().is_some_and(u8::is_ascii_alphanumeric) {
        return Err(err("must start with a letter or digit"));
    }
    Ok(value.to_owned())
}

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses and validates the id.
            pub fn parse(value: &str) -> Result<Self, IdError> {
                parse_slug($what, value).map(Self)
            }
            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// An id read back from the store, which holds only ids that
            /// were parsed before they were written; never for input.
            pub fn from_stored(value: String) -> Self {
                Self(value)
            }
        }
        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(value: &str) -> Result<Self, IdError> {
                Self::parse(value)
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::parse(&value)
            }
        }
        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

slug_id!(
    /// A tenant: one customer of the gateway, with its own sources and exchange.
    TenantId,
    "tenant id"
);
slug_id!(
    /// A source of a tenant: the URL segment a provider posts to.
    SourceId,
    "source id"
);

/// The key that identifies one provider delivery within a source, e.g. Keeta's
/// `messageId`. A redelivery of the same notification carries the same key and
/// is stored once (its delivery count is bumped instead).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeliveryKey(String);

impl DeliveryKey {
    /// Longest key kept; longer provider ids are hashed by the caller.
    pub const MAX_LEN: usize = 200;

    /// Builds a key from a provider value; `None` if empty, too long or
    /// holding a NUL (PostgreSQL text cannot store one).
    pub fn new(value: impl Into<String>) -> Option<Self> {
        let value = value.into();
        (!value.is_empty() && value.len() <= Self::MAX_LEN && !value.contains('\0')).then_some(Self(value))
    }

    /// Builds a key from a hex digest of the body (the fallback key). A
    /// SHA-256 hex digest is 64 characters, always within bounds.
    pub fn from_digest_hex(digest_hex: String) -> Self {
        Self(digest_hex.chars().take(Self::MAX_LEN).collect())
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeliveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_accept_url_safe_ids_only() {
        assert!(TenantId::parse("demo").is_ok());
        assert!(TenantId::parse("acme-eu_2").is_ok());
        for bad in ["", "Demo", "a/b", "-x", "x y", &"a".repeat(65)] {
            assert!(TenantId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn delivery_keys_are_bounded() {
        assert!(DeliveryKey::new("").is_none());
        assert!(DeliveryKey::new("x".repeat(201)).is_none());
        assert!(DeliveryKey::new("a\0b").is_none(), "NUL cannot be stored");
        assert_eq!(
            DeliveryKey::new("1930106161957212198")
                .map(|k| k.to_string())
                .as_deref(),
            Some("1930106161957212198")
        );
    }
}
