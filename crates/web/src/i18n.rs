//! French first, English second: the language of a request and the message catalogs.
//!
//! The language comes from `?lang=` when present, else from the `lang` cookie set by the
//! language switch, else French. Catalogs are Fluent files under `locales/`, embedded at
//! compile time.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use fluent_templates::{LanguageIdentifier, Loader, langid, static_loader};

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "fr",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static FR: LanguageIdentifier = langid!("fr");
static EN: LanguageIdentifier = langid!("en");

/// A language the pages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Fr,
    En,
}

impl Lang {
    /// Parses `fr` or `en` (ignoring a region such as `en-GB`).
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim().to_ascii_lowercase();
        match value.split(['-', '_']).next() {
            Some("fr") => Some(Lang::Fr),
            Some("en") => Some(Lang::En),
            _ => None,
        }
    }

    /// The code for `<html lang>` and the cookie.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// The other language, for the switch.
    pub fn other(self) -> Lang {
        match self {
            Lang::Fr => Lang::En,
            Lang::En => Lang::Fr,
        }
    }

    /// The language's own name, for the switch.
    pub fn autonym(self) -> &'static str {
        match self {
            Lang::Fr => "Français",
            Lang::En => "English",
        }
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }

    /// The message `key` in this language (the key itself if it is missing, which a test
    /// forbids).
    pub fn t(self, key: &str) -> String {
        LOCALES
            .try_lookup(self.id(), key)
            .unwrap_or_else(|| key.to_owned())
    }

    /// True if the catalog of this language holds `key`.
    pub fn has(self, key: &str) -> bool {
        LOCALES.try_lookup(self.id(), key).is_some()
    }

    /// Formats an integer the way this language writes it (`12 345` or `12,345`).
    pub fn int(self, n: i64) -> String {
        let grouped = self.group(&n.unsigned_abs().to_string());
        if n < 0 { format!("-{grouped}") } else { grouped }
    }

    /// Formats a number with exactly `digits` decimals (`1 234,50` or `1,234.50`); a dash
    /// for NaN or an infinity, and never `-0`.
    pub fn decimal(self, x: f64, digits: usize) -> String {
        if !x.is_finite() {
            return "—".to_owned();
        }
        let plain = format!("{:.*}", digits.min(12), x.abs());
        let (int, frac) = plain.split_once('.').unwrap_or((plain.as_str(), ""));
        let mut out = String::new();
        if x < 0.0 && plain.bytes().any(|b| matches!(b, b'1'..=b'9')) {
            out.push('-');
        }
        out.push_str(&self.group(int));
        if !frac.is_empty() {
            out.push(match self {
                Lang::Fr => ',',
                Lang::En => '.',
            });
            out.push_str(frac);
        }
        out
    }

    /// Formats a measured value with the decimals it needs (none from 100, one from 10, at
    /// most two below), trailing zeros dropped: `1 234`, `12,5`, `0,25`.
    pub fn number(self, x: f64) -> String {
        let digits = match x.abs() {
            a if a >= 100.0 => 0,
            a if a >= 10.0 => 1,
            _ => 2,
        };
        let text = self.decimal(x, digits);
        let point = match self {
            Lang::Fr => ',',
            Lang::En => '.',
        };
        if text.contains(point) {
            text.trim_end_matches('0').trim_end_matches(point).to_owned()
        } else {
            text
        }
    }

    /// A number followed by its unit (`85 %`, `12 €`; `85%` in English); no unit, the
    /// number alone.
    pub fn with_unit(self, number: &str, unit: &str) -> String {
        match (self, unit) {
            (_, "") => number.to_owned(),
            (Lang::En, "%") => format!("{number}%"),
            _ => format!("{number}\u{a0}{unit}"),
        }
    }

    /// A share of 1 as a percentage with `digits` decimals (`0.425` → `42,5 %`).
    pub fn percent(self, share: f64, digits: usize) -> String {
        self.with_unit(&self.decimal(share * 100.0, digits), "%")
    }

    /// Digits grouped by thousands with this language's separator (a narrow no-break
    /// space in French).
    fn group(self, digits: &str) -> String {
        let sep = match self {
            Lang::Fr => '\u{202F}',
            Lang::En => ',',
        };
        let count = digits.chars().count();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (count - i).is_multiple_of(3) {
                out.push(sep);
            }
            out.push(c);
        }
        out
    }

    /// Formats a date (`8 juin 2023` or `8 June 2023`).
    pub fn date(self, d: time::Date) -> String {
        const FR_MONTHS: [&str; 12] = [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ];
        const EN_MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let m = usize::from(u8::from(d.month())) - 1;
        let name = match self {
            Lang::Fr => FR_MONTHS.get(m),
            Lang::En => EN_MONTHS.get(m),
        };
        format!("{} {} {}", d.day(), name.copied().unwrap_or(""), d.year())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(lang_of(parts))
    }
}

/// Reads the language of a request: `?lang=`, then the `lang` cookie, then French.
pub fn lang_of(parts: &Parts) -> Lang {
    if let Some(query) = parts.uri.query() {
        for pair in query.split('&') {
            if let Some(value) = pair.strip_prefix("lang=")
                && let Some(lang) = Lang::parse(value)
            {
                return lang;
            }
        }
    }
    for header in parts.headers.get_all(axum::http::header::COOKIE) {
        let Ok(header) = header.to_str() else {
            continue;
        };
        for cookie in header.split(';') {
            if let Some(value) = cookie.trim().strip_prefix("lang=")
                && let Some(lang) = Lang::parse(value)
            {
                return lang;
            }
        }
    }
    Lang::Fr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers_per_language() {
        assert_eq!(Lang::Fr.int(1234567), "1\u{202F}234\u{202F}567");
        assert_eq!(Lang::En.int(-1234), "-1,234");
        assert_eq!(Lang::Fr.int(12), "12");
    }

    #[test]
    fn formats_decimals_per_language() {
        assert_eq!(Lang::Fr.decimal(1234.5, 2), "1\u{202F}234,50");
        assert_eq!(Lang::En.decimal(-1234.5, 1), "-1,234.5");
        assert_eq!(Lang::Fr.decimal(-0.001, 1), "0,0");
        assert_eq!(Lang::Fr.decimal(f64::NAN, 1), "—");
        assert_eq!(Lang::Fr.decimal(f64::INFINITY, 0), "—");
        assert_eq!(Lang::Fr.number(12.5), "12,5");
        assert_eq!(Lang::Fr.number(3.0), "3");
        assert_eq!(Lang::Fr.number(0.126), "0,13");
        assert_eq!(Lang::Fr.number(123_456.7), "123\u{202F}457");
        assert_eq!(Lang::Fr.percent(0.425, 1), "42,5\u{a0}%");
        assert_eq!(Lang::En.percent(0.425, 0), "42%");
        assert_eq!(Lang::Fr.with_unit("12", "€"), "12\u{a0}€");
    }

    #[test]
    fn formats_dates_per_language() {
        let d = time::macros::date!(2023 - 06 - 08);
        assert_eq!(Lang::Fr.date(d), "8 juin 2023");
        assert_eq!(Lang::En.date(d), "8 June 2023");
    }

    #[test]
    fn every_french_key_exists_in_english_and_back() {
        let keys = |src: &str| -> Vec<String> {
            src.lines()
                .filter(|l| !l.starts_with('#') && !l.starts_with(' ') && l.contains(" ="))
                .filter_map(|l| l.split(" =").next().map(str::to_owned))
                .collect()
        };
        let fr = keys(include_str!("../locales/fr/main.ftl"));
        let en = keys(include_str!("../locales/en/main.ftl"));
        let missing_en: Vec<_> = fr.iter().filter(|k| !en.contains(k)).collect();
        let missing_fr: Vec<_> = en.iter().filter(|k| !fr.contains(k)).collect();
        assert!(missing_en.is_empty(), "missing in English: {missing_en:?}");
        assert!(missing_fr.is_empty(), "missing in French: {missing_fr:?}");
        assert!(fr.len() > 20);
    }
}

#[cfg(test)]
mod template_tests {
    use super::Lang;

    /// Every `ctx.t("…")` key written in a template exists in both catalogs.
    #[test]
    fn every_key_used_by_the_templates_exists() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut files = vec![std::path::PathBuf::from(dir)];
        let mut missing = Vec::new();
        let mut seen = 0;
        while let Some(path) = files.pop() {
            if path.is_dir() {
                for entry in std::fs::read_dir(&path).into_iter().flatten().flatten() {
                    files.push(entry.path());
                }
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for part in text.split("ctx.t(\"").skip(1) {
                let Some(key) = part.split('"').next() else {
                    continue;
                };
                seen += 1;
                for lang in [Lang::Fr, Lang::En] {
                    if !lang.has(key) {
                        missing.push(format!("{}: {key} ({})", path.display(), lang.code()));
                    }
                }
            }
        }
        assert!(seen > 50, "only {seen} keys found");
        assert!(missing.is_empty(), "{missing:#?}");
    }
}
