//! Server-rendered SVG pictures: tile maps of France (`map`), line and bar charts
//! (`series`) and a completeness heatmap (`heatmap`).
//!
//! Every picture is a self-contained `<svg role="img">` with a `<title>` and a `<desc>`
//! named by `aria-labelledby`, a `viewBox` and no fixed size (the page's CSS sizes it),
//! no script and no external reference. All text goes through [`escape`]; all numbers
//! through the language's formatter ([`Lang::decimal`], [`Lang::number`]); NaN and
//! infinities count as missing values and never reach the SVG. Colour is never the only
//! carrier: tiles and bars write their value, some classes add a pattern, and every
//! chart has a companion [`DataTable`] that the page prints with the askama macro
//! `templates/charts/_table.html`.
//!
//! Nothing here reads the database or the request: callers pass plain values.

pub mod heatmap;
pub mod map;
pub mod series;
mod svg;

use crate::i18n::Lang;

/// The class of a tile, bar or cell: it gives the fill, the colour of the text drawn over
/// it and, for a few, a pattern (so that colour is not the only carrier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// No value: light grey, cross-hatched, written `n.d.`.
    NoData,
    /// A step of an ordered scale, 0 (lowest) to 4 (highest); higher steps count as 4.
    Scale(u8),
    /// Done, compliant, ready.
    Good,
    /// Under way.
    Progress,
    /// Planned, declined, signed but not started.
    Planned,
    /// To be looked at (dotted).
    Warning,
    /// Late, non-compliant, missing (hatched).
    Bad,
    /// A distinct category (a local version…).
    Other,
    /// Not applicable, abandoned.
    Inactive,
    /// Nothing to report (not declined, no convention).
    Neutral,
}

/// A pattern laid over a fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pattern {
    Hatch,
    Dots,
    Cross,
}

impl Bucket {
    /// The step of a share of 1 on the five-step scale (`[0, 0.2)` is 0, `[0.8, 1]` is 4);
    /// `NoData` for NaN or an infinity.
    pub fn of_share(share: f64) -> Bucket {
        if !share.is_finite() {
            return Bucket::NoData;
        }
        let step = (share.clamp(0.0, 1.0) * 5.0).floor().min(4.0);
        // `step` is a whole number in 0..=4: the cast cannot truncate.
        Bucket::Scale(step as u8)
    }

    /// The fill, from the DSFR palette.
    pub fn fill(self) -> &'static str {
        match self {
            Bucket::NoData => "#eeeeee",
            Bucket::Scale(0) => "#f5f5fe",
            Bucket::Scale(1) => "#cacafb",
            Bucket::Scale(2) => "#8585f6",
            Bucket::Scale(3) => "#2323ff",
            Bucket::Scale(_) => "#000091",
            Bucket::Good => "#b8fec9",
            Bucket::Progress => "#cacafb",
            Bucket::Planned => "#e3e3fd",
            Bucket::Warning => "#ffd8b0",
            Bucket::Bad => "#ffbdbd",
            Bucket::Other => "#fee7fc",
            Bucket::Inactive => "#dddddd",
            Bucket::Neutral => "#f6f6f6",
        }
    }

    /// The colour of text over the fill (a contrast of at least 4.5:1, checked by a test).
    pub fn ink(self) -> &'static str {
        match self {
            Bucket::Scale(s) if s >= 3 => "#ffffff",
            _ => "#161616",
        }
    }

    pub(crate) fn pattern(self) -> Option<Pattern> {
        match self {
            Bucket::NoData => Some(Pattern::Cross),
            Bucket::Bad => Some(Pattern::Hatch),
            Bucket::Warning => Some(Pattern::Dots),
            _ => None,
        }
    }
}

/// The data of a chart as a table: the page prints it beside the picture with
/// `{% call charts::table(t) %}{% endcall %}` (`templates/charts/_table.html`). The first
/// cell of each row is its header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataTable {
    pub caption: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Escapes text for XML content and attribute values, and drops the characters XML 1.0
/// cannot hold (control characters other than tab and line breaks, U+FFFE, U+FFFF).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A value with its unit as the charts and their tables write it (`12,5 %`), or `n.d.`.
pub fn value_text(lang: Lang, value: Option<f64>, unit: &str) -> String {
    match value.filter(|v| v.is_finite()) {
        Some(v) => lang.with_unit(&lang.number(v), unit),
        None => lang.t("chart-nd"),
    }
}

/// Checks shared by the charts' tests.
#[cfg(test)]
pub(crate) mod testing {
    /// Parses `svg` and checks what every chart promises: well-formed XML, `role="img"`,
    /// a title and a description named by `aria-labelledby`, unique ids, a `viewBox` and
    /// no fixed size, no script, no external reference, no NaN or infinity.
    pub(crate) fn check(svg: &str) -> roxmltree::Document<'_> {
        let doc = match roxmltree::Document::parse(svg) {
            Ok(doc) => doc,
            Err(e) => panic!("malformed SVG ({e}): {svg}"),
        };
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(root.attribute("role"), Some("img"));
        assert!(root.attribute("viewBox").is_some());
        assert!(root.attribute("width").is_none() && root.attribute("height").is_none());
        let labels: Vec<&str> = root
            .attribute("aria-labelledby")
            .unwrap_or_default()
            .split(' ')
            .collect();
        assert_eq!(labels.len(), 2);
        for (id, tag) in labels.iter().zip(["title", "desc"]) {
            let node = doc.descendants().find(|n| n.attribute("id") == Some(*id));
            assert_eq!(node.map(|n| n.tag_name().name()), Some(tag), "{id}");
            assert!(node.and_then(|n| n.text()).is_some_and(|t| !t.trim().is_empty()));
        }
        let mut ids: Vec<&str> = doc.descendants().filter_map(|n| n.attribute("id")).collect();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count, "duplicate ids");
        for node in doc.descendants().filter(|n| n.is_element()) {
            assert_ne!(node.tag_name().name(), "script");
            assert_ne!(node.tag_name().name(), "image");
            assert_ne!(node.tag_name().name(), "foreignObject");
            for a in node.attributes() {
                assert!(!a.name().starts_with("on"), "event handler {}", a.name());
                assert!(a.name() != "href", "reference {}", a.value());
                let v = a.value();
                assert!(!v.contains("NaN") && !v.contains("inf"), "{}={v}", a.name());
                if v.contains("url(") {
                    assert!(v.starts_with("url(#"), "{v}");
                }
            }
        }
        doc
    }

    /// The texts of the `<text>` elements of `doc`.
    pub(crate) fn texts<'a>(doc: &'a roxmltree::Document<'_>) -> Vec<&'a str> {
        doc.descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use askama::Template;

    use super::*;

    fn luminance(hex: &str) -> f64 {
        let channel = |i: usize| {
            let v = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0)) / 255.0;
            if v <= 0.039_28 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    pub(crate) const ALL: [Bucket; 14] = [
        Bucket::NoData,
        Bucket::Scale(0),
        Bucket::Scale(1),
        Bucket::Scale(2),
        Bucket::Scale(3),
        Bucket::Scale(4),
        Bucket::Good,
        Bucket::Progress,
        Bucket::Planned,
        Bucket::Warning,
        Bucket::Bad,
        Bucket::Other,
        Bucket::Inactive,
        Bucket::Neutral,
    ];

    #[test]
    fn text_over_every_fill_is_readable() {
        for b in ALL {
            let ratio = contrast(b.fill(), b.ink());
            assert!(ratio >= 4.5, "{b:?}: {ratio:.2}");
        }
    }

    #[test]
    fn shares_fall_in_five_steps() {
        assert_eq!(Bucket::of_share(0.0), Bucket::Scale(0));
        assert_eq!(Bucket::of_share(0.39), Bucket::Scale(1));
        assert_eq!(Bucket::of_share(0.8), Bucket::Scale(4));
        assert_eq!(Bucket::of_share(1.0), Bucket::Scale(4));
        assert_eq!(Bucket::of_share(7.0), Bucket::Scale(4));
        assert_eq!(Bucket::of_share(-1.0), Bucket::Scale(0));
        assert_eq!(Bucket::of_share(f64::NAN), Bucket::NoData);
        assert_eq!(Bucket::of_share(f64::INFINITY), Bucket::NoData);
    }

    #[test]
    fn escapes_markup_and_drops_what_xml_cannot_hold() {
        assert_eq!(
            escape("<a href=\"x\">Tom & Jerry's</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
        assert_eq!(escape("a\u{0}b\u{1b}c\u{FFFF}\td"), "abc\td");
    }

    #[test]
    fn values_carry_their_unit_or_say_not_available() {
        assert_eq!(value_text(Lang::Fr, Some(12.5), "%"), "12,5\u{a0}%");
        assert_eq!(value_text(Lang::Fr, Some(f64::NAN), "%"), "n.d.");
        assert_eq!(value_text(Lang::En, None, ""), "n/a");
    }

    #[derive(Template)]
    #[template(
        source = "{% import \"charts/_table.html\" as charts %}{% call charts::table(t) %}{% endcall %}",
        ext = "html"
    )]
    struct TablePage {
        t: DataTable,
    }

    #[test]
    fn the_table_macro_prints_headers_and_row_headers_escaped() {
        let t = DataTable {
            caption: "Taux <par> académie".into(),
            headers: vec!["Académie".into(), "Taux".into()],
            rows: vec![vec!["Rennes".into(), "85\u{a0}%".into()]],
        };
        let html = TablePage { t }.render().unwrap_or_default();
        assert!(
            html.contains("<caption>Taux &#60;par&#62; académie</caption>"),
            "{html}"
        );
        assert!(html.contains("<th scope=\"col\">Taux</th>"), "{html}");
        assert!(
            html.contains("<th scope=\"row\">Rennes</th><td>85\u{a0}%</td>"),
            "{html}"
        );
    }
}
