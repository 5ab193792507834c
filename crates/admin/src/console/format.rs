//! How the console shows values: JSON re-indented without touching a digit,
//! ages, sizes, sparklines, query strings.

use chrono::{DateTime, Utc};
use std::fmt::Write;

/// Percent-encodes a query value.
pub(crate) fn url_encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/' | b':') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A query string of the non-empty pairs (`?a=1&b=2`, or empty).
pub(crate) fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| {
            v.as_deref()
                .filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", url_encode(v)))
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// JSON text re-indented by two spaces, every token as it was sent (a
/// number keeps its exact digits, a string its escapes); `None` when the
/// text is not JSON.
pub(crate) fn pretty_json(text: &str) -> Option<String> {
    serde_json::from_str::<serde::de::IgnoredAny>(text).ok()?;
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push('"');
                while let Some(s) = chars.next() {
                    out.push(s);
                    if s == '\\' {
                        if let Some(escaped) = chars.next() {
                            out.push(escaped);
                        }
                    } else if s == '"' {
                        break;
                    }
                }
            }
            '{' | '[' => {
                out.push(c);
                // An empty object or array stays on one line.
                while chars.peek().is_some_and(|n| n.is_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('}' | ']')) {
                    if let Some(close) = chars.next() {
                        out.push(close);
                    }
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    Some(out)
}

/// Bytes as a hex dump (offset, 16 bytes per line).
pub(crate) fn hex_dump(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (i, chunk) in bytes.chunks(16).enumerate() {
        let _ = write!(out, "{:08x}  ", i * 16);
        for b in chunk {
            let _ = write!(out, "{b:02x} ");
        }
        out.push('\n');
    }
    out
}

/// "3 s", "4 min", "2 h 5 min", "3 d".
pub(crate) fn duration(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min", secs / 60),
        3600..=86_399 => format!("{} h {} min", secs / 3600, (secs % 3600) / 60),
        _ => format!("{} d", secs / 86_400),
    }
}

/// How long ago, or "never".
pub(crate) fn ago(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "never".to_owned(),
        |t| format!("{} ago", duration((Utc::now() - t).num_seconds())),
    )
}

/// A time as the console shows it (UTC, seconds).
pub(crate) fn time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `1.2 KiB` and friends.
pub(crate) fn size(bytes: i64) -> String {
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{:.1} MiB", b / (1024.0 * 1024.0))
    }
}

/// The points of a sparkline polyline over `values` in a `w`×`h` box.
pub(crate) fn sparkline(values: &[i64], w: f64, h: f64) -> String {
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = if values.len() > 1 {
        w / (values.len() - 1) as f64
    } else {
        w
    };
    values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", i as f64 * step, h - 1.0 - (*v as f64 / max) * (h - 2.0)))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pretty_json_keeps_every_digit_and_escape() {
        let text = r#"{"amount":10.10,"big":123456789012345678901234567890,"s":"a,\"b\":{c}","e":[],"o":{ }}"#;
        let pretty = pretty_json(text).unwrap();
        assert!(pretty.contains("\"amount\": 10.10"), "{pretty}");
        assert!(pretty.contains("123456789012345678901234567890"));
        assert!(pretty.contains(r#""a,\"b\":{c}""#), "{pretty}");
        assert!(pretty.contains("\"e\": []") && pretty.contains("\"o\": {}"), "{pretty}");
        // Same tokens, only whitespace differs.
        let strip = |s: &str| s.split_whitespace().collect::<String>();
        assert_eq!(strip(&pretty).replace(' ', ""), strip(text).replace(' ', ""));
        assert!(pretty_json("not json").is_none());
    }

    #[test]
    fn queries_and_sizes() {
        assert_eq!(
            query(&[("a", Some("x y".into())), ("b", None), ("c", Some(String::new()))]),
            "?a=x%20y"
        );
        assert_eq!(url_encode("order/1&x"), "order/1%26x");
        assert_eq!(size(2048), "2.0 KiB");
        assert_eq!(duration(3700), "1 h 1 min");
        assert_eq!(sparkline(&[0, 2], 10.0, 10.0), "0.0,9.0 10.0,1.0");
    }
}
