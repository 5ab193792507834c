//! Exact money from minor units: no floats anywhere.

use hookgate_proto::v1::Money;

/// Decimal places of an ISO 4217 currency (2 unless listed).
fn exponent(currency: &str) -> u32 {
    match currency.to_ascii_uppercase().as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI" | "VND"
        | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// Builds a [`Money`] from an amount in minor units, e.g. (2800, "HKD") → "28.00".
pub fn money_from_minor(minor: i64, currency: &str) -> Money {
    let exp = exponent(currency);
    let digits = minor.unsigned_abs().to_string();
    let amount = if exp == 0 {
        digits
    } else {
        let exp = exp as usize;
        let padded = format!("{digits:0>width$}", width = exp + 1);
        let (int, frac) = padded.split_at(padded.len() - exp);
        format!("{int}.{frac}")
    };
    Money {
        amount: if minor < 0 { format!("-{amount}") } else { amount },
        currency: currency.to_ascii_uppercase(),
        amount_minor: Some(minor),
        currency_inferred: None,
    }
}

/// Builds a [`Money`] from an exact decimal string (kept as sent, trimmed).
pub fn money_from_decimal(amount: &str, currency: &str) -> Money {
    Money {
        amount: amount.trim().to_owned(),
        currency: currency.trim().to_ascii_uppercase(),
        amount_minor: None,
        currency_inferred: None,
    }
}

/// True for `[-+]digits[.digits]`.
pub(crate) fn is_decimal(s: &str) -> bool {
    let s = s.trim();
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = s.split_once('.').unwrap_or((s, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_units_become_exact_decimals() {
        let cases = [
            (2800, "HKD", "28.00"),
            (3620, "hkd", "36.20"),
            (5, "SAR", "0.05"),
            (-125, "AED", "-1.25"),
            (1500, "JPY", "1500"),
            (1234, "KWD", "1.234"),
            (i64::MIN, "USD", "-92233720368547758.08"),
        ];
        for (minor, cur, want) in cases {
            assert_eq!(money_from_minor(minor, cur).amount, want, "{minor} {cur}");
        }
    }
}
