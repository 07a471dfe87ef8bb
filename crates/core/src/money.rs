//! Amounts of money: exact euro cents (`i64`), never floating point. Parsed from what people
//! type (`1234,56`, `1 234.5`, `1234`) and written back for people (`1 234,56 €`) or for
//! machines (`1234.56`).

/// Parses an amount in euros into cents; `None` when it is not a non-negative amount with
/// at most two decimals.
pub fn parse_euros(text: &str) -> Option<i64> {
    let cleaned: String = text
        .trim()
        .trim_end_matches('€')
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}'))
        .collect();
    let (units, decimals) = match cleaned.split_once([',', '.']) {
        Some((u, d)) => (u, d),
        None => (cleaned.as_str(), ""),
    };
    if units.is_empty()
        || !units.bytes().all(|b| b.is_ascii_digit())
        || decimals.len() > 2
        || !decimals.bytes().all(|b| b.is_ascii_digit())
        || units.len() > 15
    {
        return None;
    }
    let units: i64 = units.parse().ok()?;
    let cents: i64 = match decimals.len() {
        0 => 0,
        1 => decimals.parse::<i64>().ok()? * 10,
        _ => decimals.parse().ok()?,
    };
    units.checked_mul(100)?.checked_add(cents)
}

/// `1234.56`: the machine form (JSON, exports).
pub fn decimal(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

/// `1 234,56 €`: the French form, with a narrow no-break space between thousands.
pub fn french(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    let units = (c / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push('\u{202f}');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped},{:02}\u{a0}€", c % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_exactly_and_print_back() {
        assert_eq!(parse_euros("1234,56"), Some(123_456));
        assert_eq!(parse_euros("1 234.5 €"), Some(123_450));
        assert_eq!(parse_euros("0.1"), Some(10));
        assert_eq!(parse_euros("12"), Some(1_200));
        for bad in ["", "-3", "1,234", "1.2.3", "abc", "1e5", ",5"] {
            assert_eq!(parse_euros(bad), None, "{bad}");
        }
        assert_eq!(decimal(123_456), "1234.56");
        assert_eq!(decimal(5), "0.05");
        assert_eq!(french(123_456_789), "1\u{202f}234\u{202f}567,89\u{a0}€");
        // 0.1 + 0.2 is exactly 0.3 in cents.
        assert_eq!(
            parse_euros("0.1").zip(parse_euros("0.2")).map(|(a, b)| a + b),
            parse_euros("0.3")
        );
    }
}
