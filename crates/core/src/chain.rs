//! Errors as logs show them: the message and each cause once.

use std::error::Error;
use std::fmt;

/// Displays an error followed by its causes (`outer: cause: root`).
/// Errors here keep their cause in `source()` and out of their own message,
/// so each message appears once.
#[derive(Debug)]
pub struct Chain<'a>(pub &'a (dyn Error + 'a));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(e) = cause {
            write!(f, ": {e}")?;
            cause = e.source();
        }
        Ok(())
    }
}

/// An error message with the values it quotes left out: parser messages
/// quote what they refuse (`invalid type: string "4111…", expected i64`,
/// `unknown variant `X`…`), and payload text must not reach readers of
/// metadata, logs or the outbox's `last_error` (the raw request, behind
/// its own permission, still holds it). Field names are kept (`missing
/// field `id``, `unknown field `x``): the message names the field and the
/// problem, never the value. Quoted text (`"…"`, `` `…` ``, `'…'`) becomes `…`.
pub fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(['"', '`', '\'']) {
        let quote = rest[start..].chars().next().unwrap_or('"');
        let (before, after) = rest.split_at(start);
        // An apostrophe inside a word (`can't`) is not a quote.
        if quote == '\'' && before.chars().last().is_some_and(char::is_alphanumeric) {
            out.push_str(before);
            out.push(quote);
            rest = &after[1..];
            continue;
        }
        let Some(len) = after[1..].find(quote) else {
            // Unterminated: everything after it is quoted text.
            out.push_str(before);
            out.push(quote);
            out.push('…');
            return out;
        };
        let quoted = &after[1..1 + len];
        out.push_str(before);
        out.push(quote);
        if before.ends_with("field ") {
            out.push_str(quoted);
        } else {
            out.push('…');
        }
        out.push(quote);
        rest = &after[len + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn values_are_left_out_and_field_names_kept() {
        assert_eq!(
            without_values(r#"invalid type: string "4111111111111111", expected i64 at line 1 column 20"#),
            r#"invalid type: string "…", expected i64 at line 1 column 20"#
        );
        assert_eq!(
            without_values("unknown variant `SECRET`, expected `A` or `B`"),
            "unknown variant `…`, expected `…` or `…`"
        );
        assert_eq!(
            without_values("missing field `card_token`"),
            "missing field `card_token`"
        );
        assert_eq!(without_values("it can't be 'x"), "it can't be '…");
        assert_eq!(
            without_values("invalid value: integer `7`"),
            "invalid value: integer `…`"
        );
    }

    #[test]
    fn every_cause_appears_once() {
        let e = Outer(std::io::Error::other("root"));
        assert_eq!(Chain(&e).to_string(), "outer: root");
    }
}
