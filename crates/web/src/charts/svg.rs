//! The pieces every chart shares: the `<svg>` frame with its title, description and
//! unique ids, coordinates that are always finite, patterns, the legend and the
//! "no data" picture.

use std::fmt::Write as _;

use super::{Bucket, Pattern, escape};
use crate::i18n::Lang;

/// Dark grey of outlines and axes.
pub(crate) const LINE: &str = "#3a3a3a";
/// Text on the white background.
pub(crate) const TEXT: &str = "#161616";
/// Light grey of gridlines.
pub(crate) const GRID: &str = "#dddddd";

/// A coordinate or a length, with at most one decimal; 0 for NaN or an infinity, so that
/// no `NaN` ever reaches the SVG.
pub(crate) fn n(x: f64) -> String {
    if !x.is_finite() {
        return "0".to_owned();
    }
    let text = format!("{x:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

/// A rough width of `text` at `size` (Marianne and Arial average about 0.56 em).
pub(crate) fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.56
}

/// `text` cut to `max` characters, with an ellipsis when cut.
pub(crate) fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Attributes that outline text with the colour beneath it, so it stays readable over a
/// pattern.
pub(crate) fn halo(fill: &str) -> String {
    format!("paint-order=\"stroke\" stroke=\"{fill}\" stroke-width=\"3\" stroke-linejoin=\"round\"")
}

/// An SVG being written.
pub(crate) struct Svg {
    pub(crate) out: String,
    id: String,
}

impl Svg {
    /// Opens `<svg>` with its title and description. The id prefix comes from `kind`,
    /// the title and the description, so two charts of one page differ as long as their
    /// titles do.
    pub(crate) fn open(kind: &str, class: &str, title: &str, desc: &str, width: f64, height: f64) -> Svg {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in kind
            .bytes()
            .chain([0])
            .chain(title.bytes())
            .chain([0])
            .chain(desc.bytes())
        {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        let id = format!("gv-{kind}-{:08x}", hash >> 32);
        let out = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" role=\"img\" \
             aria-labelledby=\"{id}-t {id}-d\" class=\"gv-chart {class}\">\
             <title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>",
            n(width),
            n(height),
            escape(title),
            escape(desc),
        );
        Svg { out, id }
    }

    /// Defines the patterns laid over some fills.
    pub(crate) fn patterns(&mut self) {
        let id = self.id.clone();
        let _ = write!(
            self.out,
            "<defs>\
             <pattern id=\"{id}-hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
             <line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"{TEXT}\" stroke-width=\"1.2\" stroke-opacity=\"0.45\"/></pattern>\
             <pattern id=\"{id}-dots\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\">\
             <circle cx=\"3\" cy=\"3\" r=\"1.1\" fill=\"{TEXT}\" fill-opacity=\"0.5\"/></pattern>\
             <pattern id=\"{id}-cross\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
             <path d=\"M0 4H8M4 0V8\" stroke=\"{TEXT}\" stroke-width=\"0.8\" stroke-opacity=\"0.35\"/></pattern>\
             </defs>"
        );
    }

    /// A filled rectangle of `bucket`, outlined, with its pattern if it has one.
    pub(crate) fn block(&mut self, class: &str, bucket: Bucket, x: f64, y: f64, w: f64, h: f64) {
        let (x, y, w, h) = (n(x), n(y), n(w.max(0.0)), n(h.max(0.0)));
        let _ = write!(
            self.out,
            "<rect class=\"{class}\" x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" rx=\"2\" fill=\"{}\" stroke=\"{LINE}\"/>",
            bucket.fill()
        );
        if let Some(p) = bucket.pattern() {
            let name = match p {
                Pattern::Hatch => "hatch",
                Pattern::Dots => "dots",
                Pattern::Cross => "cross",
            };
            let _ = write!(
                self.out,
                "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" rx=\"2\" fill=\"url(#{}-{name})\"/>",
                self.id
            );
        }
    }

    /// Text at (`x`, `y`) in `fill`; `anchor` is `start`, `middle` or `end`; `extra` more
    /// attributes.
    pub(crate) fn text(
        &mut self,
        (x, y): (f64, f64),
        size: f64,
        anchor: &str,
        fill: &str,
        extra: &str,
        text: &str,
    ) {
        let _ = write!(
            self.out,
            "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{anchor}\" fill=\"{fill}\" {extra}>{}</text>",
            n(x),
            n(y),
            n(size),
            escape(text)
        );
    }

    /// Closes the SVG.
    pub(crate) fn finish(mut self) -> String {
        self.out.push_str("</svg>");
        self.out
    }
}

/// The legend of bucket colours laid out in lines `width` wide: items with the same
/// bucket are merged (`Non décliné / Abandonné`).
pub(crate) struct Legend {
    items: Vec<(Bucket, String, f64, f64)>,
    pub(crate) height: f64,
}

const SWATCH: f64 = 14.0;
const LEGEND_SIZE: f64 = 12.0;
const LEGEND_LINE: f64 = 22.0;

impl Legend {
    pub(crate) fn new(entries: &[(Bucket, String)], width: f64) -> Legend {
        let mut merged: Vec<(Bucket, String)> = Vec::new();
        for (bucket, label) in entries {
            match merged.iter_mut().find(|(b, _)| b == bucket) {
                Some((_, existing)) => {
                    existing.push_str(" / ");
                    existing.push_str(label);
                }
                None => merged.push((*bucket, label.clone())),
            }
        }
        let (mut x, mut y) = (0.0, 0.0);
        let mut items = Vec::new();
        for (bucket, label) in merged {
            let w = SWATCH + 6.0 + text_width(&label, LEGEND_SIZE) + 18.0;
            if x > 0.0 && x + w > width {
                x = 0.0;
                y += LEGEND_LINE;
            }
            items.push((bucket, label, x, y));
            x += w;
        }
        let height = if items.is_empty() { 0.0 } else { y + LEGEND_LINE };
        Legend { items, height }
    }

    /// Draws the legend with its top-left corner at (`x0`, `y0`).
    pub(crate) fn draw(&self, svg: &mut Svg, x0: f64, y0: f64) {
        if self.items.is_empty() {
            return;
        }
        svg.out.push_str("<g class=\"gv-legend\">");
        for (bucket, label, x, y) in &self.items {
            svg.block("gv-swatch", *bucket, x0 + x, y0 + y + 2.0, SWATCH, SWATCH);
            svg.text(
                (x0 + x + SWATCH + 6.0, y0 + y + 14.0),
                LEGEND_SIZE,
                "start",
                TEXT,
                "",
                label,
            );
        }
        svg.out.push_str("</g>");
    }
}

/// A whole chart that says there is no data.
pub(crate) fn empty(lang: Lang, kind: &str, class: &str, title: &str, desc: &str) -> String {
    let (w, h) = (480.0, 120.0);
    let mut svg = Svg::open(kind, class, title, desc, w, h);
    let _ = write!(
        svg.out,
        "<rect x=\"1\" y=\"1\" width=\"{}\" height=\"{}\" fill=\"#f6f6f6\" stroke=\"{GRID}\"/>",
        n(w - 2.0),
        n(h - 2.0)
    );
    svg.text(
        (w / 2.0, h / 2.0 + 5.0),
        14.0,
        "middle",
        TEXT,
        "",
        &lang.t("chart-no-data"),
    );
    svg.finish()
}

/// A "nice" step for an axis spanning `span` in about `count` steps: 1, 2, 2.5 or 5
/// times a power of ten; 1 when the span is empty or not finite.
pub(crate) fn nice_step(span: f64, count: f64) -> f64 {
    let raw = span / count.max(1.0);
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let magnitude = 10_f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .find(|f| *f >= fraction - 1e-9)
        .unwrap_or(10.0);
    nice * magnitude
}

/// The ticks of an axis covering `lo..=hi`: round values `step` apart, the first at or
/// below `lo`, the last at or above `hi`, and the decimals their labels need.
pub(crate) fn ticks(lo: f64, hi: f64) -> (Vec<f64>, usize) {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        (lo.min(hi), lo.max(hi))
    } else {
        (0.0, 1.0)
    };
    let (lo, hi) = if hi - lo < f64::EPSILON * hi.abs().max(1.0) {
        if lo == 0.0 {
            (0.0, 1.0)
        } else {
            (lo - lo.abs() * 0.1, hi + hi.abs() * 0.1)
        }
    } else {
        (lo, hi)
    };
    let step = nice_step(hi - lo, 5.0);
    let first = (lo / step + 1e-9).floor();
    let last = (hi / step - 1e-9).ceil();
    let count = ((last - first).max(1.0) as usize).min(50);
    let values = (0..=count).map(|i| (first + i as f64) * step).collect();
    let digits = (0..=6)
        .find(|d| {
            let scaled = step * 10_f64.powi(*d);
            (scaled - scaled.round()).abs() < 1e-6
        })
        .unwrap_or(6) as usize;
    (values, digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_nice_numbers() {
        assert_eq!(nice_step(100.0, 5.0), 20.0);
        assert_eq!(nice_step(1.0, 5.0), 0.2);
        assert_eq!(nice_step(12.0, 5.0), 2.5);
        assert_eq!(nice_step(37.0, 5.0), 10.0);
        assert_eq!(nice_step(0.0, 5.0), 1.0);
        assert_eq!(nice_step(f64::NAN, 5.0), 1.0);
        for span in [0.003, 0.7, 3.0, 42.0, 999.0, 123_456.0] {
            let step = nice_step(span, 5.0);
            let mantissa = step / 10_f64.powf(step.log10().floor());
            assert!(
                [1.0, 2.0, 2.5, 5.0].iter().any(|m| (m - mantissa).abs() < 1e-9),
                "{span}: {step}"
            );
        }
    }

    #[test]
    fn ticks_cover_the_data_with_the_decimals_they_need() {
        let (t, d) = ticks(0.0, 87.0);
        assert_eq!(t, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(d, 0);
        let (t, d) = ticks(0.0, 0.9);
        assert!(t.first().is_some_and(|v| *v <= 0.0) && t.last().is_some_and(|v| *v >= 0.9));
        assert_eq!(d, 1);
        let (t, d) = ticks(0.0, 12.0);
        assert_eq!(t, vec![0.0, 2.5, 5.0, 7.5, 10.0, 12.5]);
        assert_eq!(d, 1);
        let (t, _) = ticks(5.0, 5.0);
        assert!(t.len() >= 2 && t.iter().all(|v| v.is_finite()));
        let (t, _) = ticks(f64::NAN, f64::INFINITY);
        assert_eq!(t.first(), Some(&0.0));
    }

    #[test]
    fn coordinates_are_always_finite() {
        assert_eq!(n(f64::NAN), "0");
        assert_eq!(n(f64::NEG_INFINITY), "0");
        assert_eq!(n(12.0), "12");
        assert_eq!(n(-0.04), "0");
        assert_eq!(n(12.34), "12.3");
    }
}
