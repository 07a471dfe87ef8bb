//! Charts of values: an indicator over the years (`line_chart`, one line per série, each
//! with its own colour, dash and marker shape) and a comparison of values (`bar_chart`,
//! horizontal bars in the order given, the value written at the end of each bar, an
//! optional target line). Axes have round ticks and gridlines; missing values leave a gap
//! (a line) or write `n.d.` (a bar).

use std::fmt::Write as _;

use super::svg::{GRID, LINE, Legend, Svg, TEXT, clip, empty, n, text_width, ticks};
use super::{Bucket, DataTable, escape, value_text};
use crate::i18n::Lang;

/// One line of a [`line_chart`]: a value (or none) for each label of the x axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<Option<f64>>,
}

/// A marker shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Circle,
    Square,
    Triangle,
    Diamond,
    TriangleDown,
    Cross,
}

/// The look of the n-th série: colour (dark enough for 3:1 on white), dash, marker.
const STYLES: [(&str, &str, Shape); 6] = [
    ("#000091", "", Shape::Circle),
    ("#b34000", "7 3", Shape::Square),
    ("#18753c", "2 3", Shape::Triangle),
    ("#6e445a", "9 3 2 3", Shape::Diamond),
    ("#7f6327", "4 2", Shape::TriangleDown),
    ("#3a3a3a", "1 2", Shape::Cross),
];

fn style(i: usize) -> (&'static str, &'static str, Shape) {
    STYLES[i % STYLES.len()]
}

/// A marker of `shape` centred on (`x`, `y`).
fn marker(shape: Shape, x: f64, y: f64, color: &str) -> String {
    let r = 4.5;
    let paint = format!("fill=\"{color}\" stroke=\"#ffffff\" stroke-width=\"1\"");
    match shape {
        Shape::Circle => format!("<circle cx=\"{}\" cy=\"{}\" r=\"{}\" {paint}/>", n(x), n(y), n(r)),
        Shape::Square => format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" {paint}/>",
            n(x - r),
            n(y - r),
            n(2.0 * r),
            n(2.0 * r)
        ),
        Shape::Triangle => format!(
            "<path d=\"M{} {}L{} {}L{} {}Z\" {paint}/>",
            n(x),
            n(y - r - 1.0),
            n(x + r + 0.5),
            n(y + r - 0.5),
            n(x - r - 0.5),
            n(y + r - 0.5)
        ),
        Shape::TriangleDown => format!(
            "<path d=\"M{} {}L{} {}L{} {}Z\" {paint}/>",
            n(x),
            n(y + r + 1.0),
            n(x + r + 0.5),
            n(y - r + 0.5),
            n(x - r - 0.5),
            n(y - r + 0.5)
        ),
        Shape::Diamond => format!(
            "<path d=\"M{} {}L{} {}L{} {}L{} {}Z\" {paint}/>",
            n(x),
            n(y - r - 1.0),
            n(x + r + 1.0),
            n(y),
            n(x),
            n(y + r + 1.0),
            n(x - r - 1.0),
            n(y)
        ),
        Shape::Cross => format!(
            "<path d=\"M{} {}L{} {}M{} {}L{} {}\" stroke=\"{color}\" stroke-width=\"2.5\"/>",
            n(x - r),
            n(y - r),
            n(x + r),
            n(y + r),
            n(x - r),
            n(y + r),
            n(x + r),
            n(y - r)
        ),
    }
}

/// The finite value of point `i` of `s`.
fn point(s: &Series, i: usize) -> Option<f64> {
    s.points.get(i).copied().flatten().filter(|v| v.is_finite())
}

/// An indicator over time: one line per série over `x_labels` (a série's missing or
/// non-finite points leave a gap), round ticks on the y axis (starting at 0 when every
/// value is positive), gridlines, a legend naming each série by its colour, dash and
/// marker, and `unit` above the axis. Without any value, a picture that says so.
pub fn line_chart(
    lang: Lang,
    title: &str,
    desc: &str,
    x_labels: &[String],
    series: &[Series],
    unit: &str,
) -> String {
    let values: Vec<f64> = series
        .iter()
        .flat_map(|s| (0..x_labels.len()).filter_map(move |i| point(s, i)))
        .collect();
    let (Some(min), Some(max)) = (
        values.iter().copied().reduce(f64::min),
        values.iter().copied().reduce(f64::max),
    ) else {
        return empty(lang, "line", "gv-series", title, desc);
    };
    let (lo, hi) = (min.min(0.0), if max <= 0.0 && min < 0.0 { 0.0 } else { max });
    let (tick_values, digits) = ticks(lo, hi);
    let (y_lo, y_hi) = match (tick_values.first(), tick_values.last()) {
        (Some(a), Some(b)) if b > a => (*a, *b),
        _ => (lo, lo + 1.0),
    };
    let tick_labels: Vec<String> = tick_values.iter().map(|v| lang.decimal(*v, digits)).collect();
    let width = 720.0;
    let margin = 8.0;
    // The legend: a sample of line and marker, then the name.
    let mut legend = Vec::new();
    let (mut lx, mut ly) = (0.0, 0.0);
    for (i, s) in series.iter().enumerate() {
        let w = 34.0 + text_width(&s.name, 12.0) + 18.0;
        if lx > 0.0 && lx + w > width - 2.0 * margin {
            lx = 0.0;
            ly += 22.0;
        }
        legend.push((i, lx, ly));
        lx += w;
    }
    let legend_h = if legend.is_empty() { 0.0 } else { ly + 22.0 };
    let left = margin
        + tick_labels
            .iter()
            .map(|t| text_width(t, 11.0))
            .fold(0.0, f64::max)
        + 10.0;
    let right = width - margin - 8.0;
    let top = margin + legend_h + 22.0;
    let plot_h = 260.0;
    let bottom = top + plot_h;
    let height = bottom + 34.0;
    let y = |v: f64| bottom - (v - y_lo) / (y_hi - y_lo) * plot_h;
    let band = (right - left) / x_labels.len().max(1) as f64;
    let x = |i: usize| left + band * (i as f64 + 0.5);

    let mut svg = Svg::open("line", "gv-series", title, desc, width, height);
    for (i, lx, ly) in &legend {
        let (color, dash, shape) = style(*i);
        let (sx, sy) = (margin + lx, margin + ly + 10.0);
        let _ = write!(
            svg.out,
            "<g class=\"gv-legend\"><line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{color}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\"/>{}",
            n(sx),
            n(sy),
            n(sx + 28.0),
            n(sy),
            marker(shape, sx + 14.0, sy, color)
        );
        let name = series.get(*i).map_or("", |s| s.name.as_str());
        svg.text((sx + 34.0, sy + 4.0), 12.0, "start", TEXT, "", name);
        svg.out.push_str("</g>");
    }
    if !unit.is_empty() {
        svg.text((left, top - 8.0), 11.0, "start", TEXT, "", unit);
    }
    for (v, label) in tick_values.iter().zip(&tick_labels) {
        let yy = y(*v);
        let _ = write!(
            svg.out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{GRID}\"/>",
            n(left),
            n(yy),
            n(right),
            n(yy)
        );
        svg.text((left - 6.0, yy + 4.0), 11.0, "end", TEXT, "", label);
    }
    let _ = write!(
        svg.out,
        "<path d=\"M{} {}V{}H{}\" fill=\"none\" stroke=\"{LINE}\"/>",
        n(left),
        n(top),
        n(bottom),
        n(right)
    );
    // Labels of the x axis: as many as fit, evenly spread.
    let widest = x_labels.iter().map(|l| text_width(l, 11.0)).fold(0.0, f64::max) + 8.0;
    let every = (widest / band.max(1.0)).ceil().max(1.0) as usize;
    for (i, label) in x_labels.iter().enumerate() {
        let xx = x(i);
        let _ = write!(
            svg.out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{LINE}\"/>",
            n(xx),
            n(bottom),
            n(xx),
            n(bottom + 4.0)
        );
        if i % every == 0 {
            svg.text((xx, bottom + 18.0), 11.0, "middle", TEXT, "", &clip(label, 16));
        }
    }
    for (i, s) in series.iter().enumerate() {
        let (color, dash, shape) = style(i);
        let mut d = String::new();
        let mut pen_down = false;
        for j in 0..x_labels.len() {
            match point(s, j) {
                Some(v) => {
                    let _ = write!(d, "{}{} {}", if pen_down { "L" } else { "M" }, n(x(j)), n(y(v)));
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        let _ = write!(
            svg.out,
            "<g class=\"gv-serie\"><path d=\"{d}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\"/>"
        );
        for (j, label) in x_labels.iter().enumerate() {
            if let Some(v) = point(s, j) {
                let _ = write!(
                    svg.out,
                    "<g><title>{}</title>{}</g>",
                    escape(&format!(
                        "{} — {label} : {}",
                        s.name,
                        value_text(lang, Some(v), unit)
                    )),
                    marker(shape, x(j), y(v), color)
                );
            }
        }
        svg.out.push_str("</g>");
    }
    svg.finish()
}

/// The data of a [`line_chart`] as a table: one row per x label, one column per série.
pub fn line_table(
    lang: Lang,
    caption: &str,
    x_header: &str,
    x_labels: &[String],
    series: &[Series],
    unit: &str,
) -> DataTable {
    DataTable {
        caption: caption.to_owned(),
        headers: std::iter::once(x_header.to_owned())
            .chain(series.iter().map(|s| s.name.clone()))
            .collect(),
        rows: x_labels
            .iter()
            .enumerate()
            .map(|(i, label)| {
                std::iter::once(label.clone())
                    .chain(series.iter().map(|s| value_text(lang, point(s, i), unit)))
                    .collect()
            })
            .collect(),
    }
}

/// A comparison: one horizontal bar per `(label, value, class)` in the order given,
/// coloured by its class (patterned for some) and outlined, its value written at its end;
/// a missing value writes `n.d.`. Round ticks and gridlines on the value axis, which
/// includes 0 and `target` (drawn as a dashed line, named in the chart). `legend` names
/// the classes (entries with the same class are merged).
pub fn bar_chart(
    lang: Lang,
    title: &str,
    desc: &str,
    bars: &[(String, Option<f64>, Bucket)],
    unit: &str,
    target: Option<f64>,
    legend: &[(Bucket, String)],
) -> String {
    if bars.is_empty() {
        return empty(lang, "bar", "gv-bars", title, desc);
    }
    let target = target.filter(|t| t.is_finite());
    let values: Vec<f64> = bars
        .iter()
        .filter_map(|b| b.1)
        .filter(|v| v.is_finite())
        .chain(target)
        .collect();
    let min = values.iter().copied().fold(0.0, f64::min);
    let max = values.iter().copied().fold(0.0, f64::max);
    let (tick_values, digits) = ticks(min, max);
    let (v_lo, v_hi) = match (tick_values.first(), tick_values.last()) {
        (Some(a), Some(b)) if b > a => (*a, *b),
        _ => (0.0, 1.0),
    };
    let width = 720.0;
    let margin = 8.0;
    let mut entries = legend.to_vec();
    let any_missing = bars
        .iter()
        .any(|b| b.1.is_none_or(|v| !v.is_finite()) || b.2 == Bucket::NoData);
    if any_missing && !legend.is_empty() && !entries.iter().any(|(b, _)| *b == Bucket::NoData) {
        entries.push((Bucket::NoData, lang.t("chart-nd-legend")));
    }
    let key = Legend::new(&entries, width - 2.0 * margin);
    let label_chars = 36;
    let label_w = bars
        .iter()
        .map(|b| text_width(&clip(&b.0, label_chars), 12.0))
        .fold(0.0, f64::max);
    let left = margin + label_w + 10.0;
    let right = width - margin - 84.0;
    let top = margin + key.height + if target.is_some() { 22.0 } else { 8.0 };
    let (bar_h, step) = (20.0, 30.0);
    let bottom = top + step * bars.len() as f64;
    let height = bottom + 30.0;
    let x = |v: f64| left + (v - v_lo) / (v_hi - v_lo) * (right - left);

    let mut svg = Svg::open("bar", "gv-bars", title, desc, width, height);
    svg.patterns();
    key.draw(&mut svg, margin, margin);
    for v in &tick_values {
        let xx = x(*v);
        let _ = write!(
            svg.out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{GRID}\"/>",
            n(xx),
            n(top),
            n(xx),
            n(bottom)
        );
        svg.text(
            (xx, bottom + 16.0),
            11.0,
            "middle",
            TEXT,
            "",
            &lang.decimal(*v, digits),
        );
    }
    if !unit.is_empty() {
        svg.text((right + 24.0, bottom + 16.0), 11.0, "start", TEXT, "", unit);
    }
    let nd = lang.t("chart-nd");
    for (i, (label, value, bucket)) in bars.iter().enumerate() {
        let y = top + step * i as f64 + (step - bar_h) / 2.0;
        let value = value.filter(|v| v.is_finite() && *bucket != Bucket::NoData);
        let text = value.map_or_else(|| nd.clone(), |v| value_text(lang, Some(v), unit));
        let _ = write!(
            svg.out,
            "<g><title>{}</title>",
            escape(&format!("{label} : {text}"))
        );
        svg.text(
            (left - 8.0, y + 14.5),
            12.0,
            "end",
            TEXT,
            "",
            &clip(label, label_chars),
        );
        match value {
            Some(v) => {
                let (x0, x1) = (x(0.0), x(v));
                svg.block("gv-bar", *bucket, x0.min(x1), y, (x1 - x0).abs(), bar_h);
                let (tx, anchor) = if v < 0.0 {
                    (x1 - 5.0, "end")
                } else {
                    (x1 + 5.0, "start")
                };
                svg.text((tx, y + 14.5), 12.0, anchor, TEXT, "font-weight=\"700\"", &text);
            }
            None => svg.text(
                (x(0.0) + 5.0, y + 14.5),
                12.0,
                "start",
                TEXT,
                "font-style=\"italic\"",
                &text,
            ),
        }
        svg.out.push_str("</g>");
    }
    let _ = write!(
        svg.out,
        "<path d=\"M{} {}V{}\" stroke=\"{LINE}\"/>",
        n(x(0.0)),
        n(top - 4.0),
        n(bottom)
    );
    if let Some(t) = target {
        let tx = x(t);
        let _ = write!(
            svg.out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{TEXT}\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>",
            n(tx),
            n(top - 6.0),
            n(tx),
            n(bottom)
        );
        let label = format!("{} : {}", lang.t("chart-target"), value_text(lang, Some(t), unit));
        let anchor = if tx > (left + right) / 2.0 { "end" } else { "start" };
        let dx = if anchor == "end" { -4.0 } else { 4.0 };
        svg.text(
            (tx + dx, top - 8.0),
            11.0,
            anchor,
            TEXT,
            "font-weight=\"700\"",
            &label,
        );
    }
    svg.finish()
}

/// The data of a [`bar_chart`] as a table: one row per bar, in the same order.
pub fn bar_table(
    lang: Lang,
    caption: &str,
    headers: [&str; 2],
    bars: &[(String, Option<f64>, Bucket)],
    unit: &str,
) -> DataTable {
    DataTable {
        caption: caption.to_owned(),
        headers: headers.iter().map(|h| (*h).to_owned()).collect(),
        rows: bars
            .iter()
            .map(|(label, value, bucket)| {
                let value = value.filter(|_| *bucket != Bucket::NoData);
                vec![label.clone(), value_text(lang, value, unit)]
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check, texts};
    use super::*;

    fn years() -> Vec<String> {
        (2019..=2024).map(|y| y.to_string()).collect()
    }

    #[test]
    fn a_line_chart_is_valid_svg_with_a_marker_per_value_and_gaps() {
        let series = [
            Series {
                name: "Écoles équipées".into(),
                points: vec![
                    Some(10.0),
                    Some(25.5),
                    None,
                    Some(60.0),
                    Some(1234.5),
                    Some(f64::NAN),
                ],
            },
            Series {
                name: "Collèges <& lycées>".into(),
                points: vec![Some(5.0), Some(f64::INFINITY)],
            },
        ];
        let svg = line_chart(Lang::Fr, "Équipement", "Par année", &years(), &series, "%");
        let doc = check(&svg);
        let texts = texts(&doc);
        assert!(texts.contains(&"Collèges <& lycées>"));
        assert!(
            texts.contains(&"1\u{202F}000"),
            "thousands written the French way: {texts:?}"
        );
        assert!(texts.contains(&"2019") && texts.contains(&"%"));
        // One marker per finite value: 4 + 1.
        let markers = doc
            .descendants()
            .filter(|n| n.has_tag_name("g") && n.children().any(|c| c.has_tag_name("title")))
            .count();
        assert_eq!(markers, 5);
        // The gap splits the first line in two pieces.
        let path = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("gv-serie"))
            .filter_map(|g| g.children().find(|c| c.has_tag_name("path")))
            .filter_map(|p| p.attribute("d"))
            .next()
            .unwrap_or_default();
        assert_eq!(path.matches('M').count(), 2, "{path}");
        assert!(svg.contains("Écoles équipées — 2020 : 25,5\u{a0}%"));
        // Distinct shapes for the two séries.
        assert!(svg.contains("<circle") && svg.contains("<rect"));
    }

    #[test]
    fn charts_without_values_say_so() {
        for svg in [
            line_chart(Lang::Fr, "Vide", "Rien", &[], &[], ""),
            line_chart(
                Lang::Fr,
                "Vide",
                "Rien",
                &years(),
                &[Series {
                    name: "a".into(),
                    points: vec![None, Some(f64::NAN)],
                }],
                "",
            ),
            bar_chart(Lang::Fr, "Vide", "Rien", &[], "", Some(f64::NAN), &[]),
        ] {
            let doc = check(&svg);
            assert_eq!(texts(&doc), vec!["aucune donnée"]);
        }
    }

    #[test]
    fn a_bar_chart_writes_values_target_and_not_available() {
        let bars = vec![
            ("Rennes".to_owned(), Some(85.0), Bucket::Good),
            ("Lille".to_owned(), None, Bucket::NoData),
            ("Nice".to_owned(), Some(-12.5), Bucket::Bad),
            ("Paris".to_owned(), Some(f64::NAN), Bucket::Good),
        ];
        let legend = [
            (Bucket::Good, "Atteint".to_owned()),
            (Bucket::Bad, "En recul".to_owned()),
        ];
        let svg = bar_chart(Lang::Fr, "Taux", "Par académie", &bars, "%", Some(80.0), &legend);
        let doc = check(&svg);
        let texts = texts(&doc);
        for t in [
            "85\u{a0}%",
            "-12,5\u{a0}%",
            "Cible : 80\u{a0}%",
            "Atteint",
            "n.d. : aucune donnée",
        ] {
            assert!(texts.contains(&t), "{t} in {texts:?}");
        }
        assert_eq!(texts.iter().filter(|t| **t == "n.d.").count(), 2);
        assert_eq!(
            doc.descendants()
                .filter(|n| n.attribute("class") == Some("gv-bar"))
                .count(),
            2
        );
        // Bars come in the order given.
        let labels: Vec<&str> = texts
            .iter()
            .copied()
            .filter(|t| ["Rennes", "Lille", "Nice", "Paris"].contains(t))
            .collect();
        assert_eq!(labels, ["Rennes", "Lille", "Nice", "Paris"]);
        let table = bar_table(Lang::Fr, "Taux", ["Académie", "Taux"], &bars, "%");
        assert_eq!(table.rows[1], ["Lille", "n.d."]);
        assert_eq!(table.rows[2], ["Nice", "-12,5\u{a0}%"]);
    }

    #[test]
    fn the_line_table_has_a_column_per_serie() {
        let series = [
            Series {
                name: "A".into(),
                points: vec![Some(1.5)],
            },
            Series {
                name: "B".into(),
                points: vec![],
            },
        ];
        let t = line_table(Lang::Fr, "Cap", "Année", &years(), &series, "");
        assert_eq!(t.headers, ["Année", "A", "B"]);
        assert_eq!(t.rows.len(), 6);
        assert_eq!(t.rows[0], ["2019", "1,5", "n.d."]);
    }

    #[test]
    fn serie_colours_stand_out_on_white() {
        fn lum(hex: &str) -> f64 {
            let c = |i: usize| {
                let v = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
                if v <= 0.039_28 {
                    v / 12.92
                } else {
                    ((v + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * c(1) + 0.7152 * c(3) + 0.0722 * c(5)
        }
        for (color, _, _) in STYLES {
            assert!(1.05 / (lum(color) + 0.05) >= 3.0, "{color}");
        }
    }
}
