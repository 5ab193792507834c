//! Lenient reading of verified payloads. A payload whose shape differs
//! slightly from the typed model (a `null` list, an amount sent as `""`, a
//! string where a number was expected) must still become its event: the
//! values that cannot be read are left out of the typed data, each with a
//! warning carried in the event (`Event.warnings`), and `raw` stays exact.
//!
//! [`parse`] reads the text strictly first; on a type mismatch it finds the
//! offending value's path, removes that value from the text (its siblings
//! keep their exact text, so no number goes through a float) and reads
//! again, up to [`MAX_REPAIRS`] times. Only a payload that is not JSON, or
//! whose root itself is the wrong type, fails. [`collecting`] gathers the
//! warnings of one normalization.

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_path_to_error::Segment;
use std::cell::RefCell;

/// Values one payload may lose before it is refused as unreadable.
pub const MAX_REPAIRS: usize = 32;

thread_local! {
    static WARNINGS: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Runs one normalization and returns the warnings its lenient reads left.
pub(crate) fn collecting<R>(f: impl FnOnce() -> R) -> (R, Vec<String>) {
    let outer = WARNINGS.with(|w| w.replace(Some(Vec::new())));
    let result = f();
    let warnings = WARNINGS.with(|w| w.replace(outer)).unwrap_or_default();
    (result, warnings)
}

/// A value the provider did not send (or that was left out as unreadable),
/// which the event therefore leaves unset instead of guessing it: a warning
/// `<path>: not sent; <field> left unset`.
pub(crate) fn unset(path: &str, field: &str) {
    warn(format!("{path}: not sent; {field} left unset"));
}

/// `value`, or a warning ([`unset`]) when it is `None`.
pub(crate) fn said<T>(value: Option<T>, path: &str, field: &str) -> Option<T> {
    if value.is_none() {
        unset(path, field);
    }
    value
}

/// A warning of the caller's own wording (a value read but not
/// understood, say), in the event's `warnings`.
pub(crate) fn note(message: String) {
    warn(message);
}

fn warn(message: String) {
    WARNINGS.with(|w| {
        if let Some(list) = w.borrow_mut().as_mut() {
            list.push(message);
        }
    });
}

/// Reads `text` as `T`, leaving out the values that do not fit (each one a
/// warning). Fails only when the text is not JSON or its root does not fit.
pub(crate) fn parse<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    let strict = serde_json::from_str::<T>(text);
    let Err(first) = strict else {
        return strict;
    };
    if !first.is_data() {
        return Err(first);
    }
    let mut current = text.to_owned();
    for _ in 0..MAX_REPAIRS {
        let mut de = serde_json::Deserializer::from_str(&current);
        match serde_path_to_error::deserialize::<_, T>(&mut de) {
            // Nothing but whitespace may follow, as in a strict read.
            Ok(value) => return de.end().map(|()| value),
            Err(e) => {
                let path: Vec<Segment> = e.path().iter().cloned().collect();
                let shown = e.path().to_string();
                let cause = e.into_inner();
                if !cause.is_data() {
                    return Err(cause);
                }
                let Some(next) = without(&current, &path) else {
                    return Err(cause);
                };
                // The parser's position refers to the repaired text: leave it out.
                let message = cause.to_string();
                let message = message.split(" at line ").next().unwrap_or_default();
                warn(format!("{shown}: {message}; left out"));
                current = next;
            }
        }
    }
    Err(first)
}

/// `text` without the value at `path` (`None` for the root, or a path that
/// does not lead to a value).
fn without(text: &str, path: &[Segment]) -> Option<String> {
    let (last, parents) = path.split_last()?;
    edit(text, parents, last)
}

/// Rebuilds `text` with the value at `parents` + `last` removed; values not
/// on the path keep their exact text.
fn edit(text: &str, parents: &[Segment], last: &Segment) -> Option<String> {
    match parents.split_first() {
        None => remove(text, last),
        Some((segment, rest)) => replace_child(text, segment, |child| edit(child, rest, last)),
    }
}

fn remove(text: &str, segment: &Segment) -> Option<String> {
    match segment {
        Segment::Map { key } => {
            let mut fields: Vec<(String, &RawValue)> = object(text)?;
            let before = fields.len();
            fields.retain(|(k, _)| k != key);
            (fields.len() < before).then(|| render_object(&fields))
        }
        Segment::Seq { index } => {
            let mut items: Vec<&RawValue> = serde_json::from_str(text).ok()?;
            (*index < items.len()).then(|| {
                items.remove(*index);
                render_array(&items)
            })
        }
        Segment::Enum { .. } | Segment::Unknown => None,
    }
}

fn replace_child(text: &str, segment: &Segment, f: impl FnOnce(&str) -> Option<String>) -> Option<String> {
    match segment {
        Segment::Map { key } => {
            let fields = object(text)?;
            let at = fields.iter().position(|(k, _)| k == key)?;
            let child = f(fields[at].1.get())?;
            let mut out: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.clone(), v.get().to_owned())).collect();
            out[at].1 = child;
            Some(render_pairs(&out))
        }
        Segment::Seq { index } => {
            let items: Vec<&RawValue> = serde_json::from_str(text).ok()?;
            let child = f(items.get(*index)?.get())?;
            let mut out: Vec<String> = items.iter().map(|v| v.get().to_owned()).collect();
            out[*index] = child;
            Some(format!("[{}]", out.join(",")))
        }
        Segment::Enum { .. } | Segment::Unknown => None,
    }
}

/// An object's fields in text order (duplicates kept as sent).
fn object(text: &str) -> Option<Vec<(String, &RawValue)>> {
    serde_json::from_str::<OrderedFields<'_>>(text).ok().map(|f| f.0)
}

fn render_object(fields: &[(String, &RawValue)]) -> String {
    let pairs: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.clone(), v.get().to_owned())).collect();
    render_pairs(&pairs)
}

fn render_pairs(pairs: &[(String, String)]) -> String {
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}:{v}", serde_json::Value::String(k.clone())))
        .collect();
    format!("{{{}}}", body.join(","))
}

fn render_array(items: &[&RawValue]) -> String {
    let body: Vec<&str> = items.iter().map(|v| v.get()).collect();
    format!("[{}]", body.join(","))
}

/// An object's fields in text order.
struct OrderedFields<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for OrderedFields<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = OrderedFields<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, &'de RawValue>()? {
                    out.push((k, v));
                }
                Ok(OrderedFields(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;
    use crate::value::{Decimal, Int};
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Line {
        name: Option<String>,
        count: Option<Int>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Order {
        id: Option<Int>,
        amount: Option<Decimal>,
        fee: Option<Decimal>,
        #[serde(default)]
        lines: Vec<Line>,
    }

    #[test]
    fn values_that_do_not_fit_are_left_out_with_a_warning_and_the_rest_keeps_its_digits() {
        let text = r#"{"id":"553440887574627","amount":"","fee":1000.10,"lines":[{"name":"tea","count":"x"},{"name":"rice","count":2}]}"#;
        let (order, warnings) = collecting(|| parse::<Order>(text));
        let order = order.unwrap();
        assert_eq!(order.id, Some(Int(553_440_887_574_627)));
        assert!(order.amount.is_none());
        assert_eq!(order.fee.unwrap().0, "1000.10", "no float on the way");
        assert_eq!(order.lines.len(), 2);
        assert_eq!(order.lines[0].name.as_deref(), Some("tea"));
        assert!(order.lines[0].count.is_none());
        assert_eq!(order.lines[1].count, Some(Int(2)));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].starts_with("amount: "), "{warnings:?}");
        assert!(warnings[1].starts_with("lines[0].count: "), "{warnings:?}");
    }

    #[test]
    fn a_null_list_reads_as_empty() {
        let (order, warnings) = collecting(|| parse::<Order>(r#"{"id":1,"lines":null}"#));
        assert!(order.unwrap().lines.is_empty());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    #[test]
    fn not_json_or_a_root_of_the_wrong_type_still_fails() {
        assert!(parse::<Order>("{not json").is_err());
        assert!(parse::<Order>(r#"{"id":"x"} trailing"#).is_err());
        assert!(parse::<Order>("[1,2]").is_err());
        let (strict, warnings) = collecting(|| parse::<Order>(r#"{"id":7}"#));
        assert_eq!(strict.unwrap().id, Some(Int(7)));
        assert!(warnings.is_empty());
    }
}
