//! A completeness heatmap: rows (académies) by columns (indicators), each cell a share of
//! 1 coloured on a five-step scale and written as a percentage; missing cells are grey,
//! cross-hatched and written `n.d.`.

use super::svg::{Legend, Svg, TEXT, clip, empty, halo, text_width};
use super::{Bucket, DataTable, escape};
use crate::i18n::Lang;

/// The share of a cell, if it has a finite one.
fn cell(cells: &[Vec<Option<f64>>], r: usize, c: usize) -> Option<f64> {
    cells
        .get(r)
        .and_then(|row| row.get(c))
        .copied()
        .flatten()
        .filter(|v| v.is_finite())
}

/// The heatmap of `cells[row][column]`, shares of 1 (outside `0..=1` they are written as
/// they are and coloured as the nearest end of the scale). Missing rows, cells or
/// non-finite values are `n.d.`. Column headers are slanted and cut to 24 characters
/// (the full name is in their tooltip and in the table). Without rows or columns, a
/// picture that says there is no data.
pub fn heatmap(
    lang: Lang,
    title: &str,
    desc: &str,
    rows: &[String],
    cols: &[String],
    cells: &[Vec<Option<f64>>],
) -> String {
    if rows.is_empty() || cols.is_empty() {
        return empty(lang, "heat", "gv-heatmap", title, desc);
    }
    let margin = 8.0;
    let (cell_w, cell_h) = (58.0, 28.0);
    let row_chars = 30;
    let col_chars = 24;
    let label_w = rows
        .iter()
        .map(|r| text_width(&clip(r, row_chars), 12.0))
        .fold(0.0, f64::max);
    let head_h = cols
        .iter()
        .map(|c| text_width(&clip(c, col_chars), 11.0))
        .fold(0.0, f64::max)
        * std::f64::consts::FRAC_1_SQRT_2
        + 16.0;
    let left = margin + label_w + 10.0;
    let top = margin + head_h;
    let grid_w = cell_w * cols.len() as f64;
    // The slanted headers run up and right past the last column.
    let width = (left + grid_w + head_h).max(480.0) + margin;
    let any_missing = (0..rows.len()).any(|r| (0..cols.len()).any(|c| cell(cells, r, c).is_none()));
    let mut entries: Vec<(Bucket, String)> = (0..5_u8)
        .map(|s| {
            let (a, b) = (f64::from(s) * 0.2, f64::from(s + 1) * 0.2);
            let label = format!("{} – {}", lang.decimal(a * 100.0, 0), lang.percent(b, 0));
            (Bucket::Scale(s), label)
        })
        .collect();
    if any_missing {
        entries.push((Bucket::NoData, lang.t("chart-nd-legend")));
    }
    let key = Legend::new(&entries, width - 2.0 * margin);
    let bottom = top + cell_h * rows.len() as f64;
    let height = bottom + 12.0 + key.height + margin;

    let mut svg = Svg::open("heat", "gv-heatmap", title, desc, width, height);
    svg.patterns();
    for (c, name) in cols.iter().enumerate() {
        let x = left + cell_w * (c as f64 + 0.5);
        svg.out.push_str(&format!(
            "<g transform=\"translate({} {}) rotate(-45)\"><title>{}</title>",
            super::svg::n(x),
            super::svg::n(top - 6.0),
            escape(name)
        ));
        svg.text((0.0, 0.0), 11.0, "start", TEXT, "", &clip(name, col_chars));
        svg.out.push_str("</g>");
    }
    let nd = lang.t("chart-nd");
    for (r, name) in rows.iter().enumerate() {
        let y = top + cell_h * r as f64;
        svg.out.push_str("<g>");
        svg.text(
            (left - 8.0, y + 18.5),
            12.0,
            "end",
            TEXT,
            "",
            &clip(name, row_chars),
        );
        for (c, col) in cols.iter().enumerate() {
            let x = left + cell_w * c as f64;
            let share = cell(cells, r, c);
            let bucket = share.map_or(Bucket::NoData, Bucket::of_share);
            let text = share.map_or_else(|| nd.clone(), |s| lang.percent(s, 0));
            svg.out.push_str(&format!(
                "<g><title>{}</title>",
                escape(&format!("{name} — {col} : {text}"))
            ));
            svg.block("gv-cell", bucket, x + 1.0, y + 1.0, cell_w - 2.0, cell_h - 2.0);
            svg.text(
                (x + cell_w / 2.0, y + 18.5),
                11.0,
                "middle",
                bucket.ink(),
                &halo(bucket.fill()),
                &text,
            );
            svg.out.push_str("</g>");
        }
        svg.out.push_str("</g>");
    }
    key.draw(&mut svg, margin, bottom + 12.0);
    svg.finish()
}

/// The data of a [`heatmap`] as a table: `corner` heads the column of row names.
pub fn table(
    lang: Lang,
    caption: &str,
    corner: &str,
    rows: &[String],
    cols: &[String],
    cells: &[Vec<Option<f64>>],
) -> DataTable {
    DataTable {
        caption: caption.to_owned(),
        headers: std::iter::once(corner.to_owned())
            .chain(cols.iter().cloned())
            .collect(),
        rows: rows
            .iter()
            .enumerate()
            .map(|(r, name)| {
                std::iter::once(name.clone())
                    .chain((0..cols.len()).map(|c| {
                        cell(cells, r, c).map_or_else(|| lang.t("chart-nd"), |s| lang.percent(s, 0))
                    }))
                    .collect()
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check, texts};
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_heatmap_writes_each_share_and_not_available() {
        let rows = names(&["Rennes", "Lille <Nord>"]);
        let cols = names(&["Taux d'équipement des écoles élémentaires", "ENT"]);
        let cells = vec![vec![Some(0.857), None], vec![Some(f64::NAN)]];
        let svg = heatmap(
            Lang::Fr,
            "Complétude",
            "Part des données saisies",
            &rows,
            &cols,
            &cells,
        );
        let doc = check(&svg);
        let texts = texts(&doc);
        assert!(texts.contains(&"86\u{a0}%"), "{texts:?}");
        assert_eq!(texts.iter().filter(|t| **t == "n.d.").count(), 3);
        assert!(texts.contains(&"Lille <Nord>"));
        assert!(texts.contains(&"Taux d'équipement des é…"));
        assert!(texts.contains(&"80 – 100\u{a0}%"));
        assert_eq!(
            doc.descendants()
                .filter(|n| n.attribute("class") == Some("gv-cell"))
                .count(),
            4
        );
        let t = table(Lang::Fr, "Complétude", "Académie", &rows, &cols, &cells);
        assert_eq!(t.headers.len(), 3);
        assert_eq!(t.rows[0], ["Rennes", "86\u{a0}%", "n.d."]);
        assert_eq!(t.rows[1], ["Lille <Nord>", "n.d.", "n.d."]);
    }

    #[test]
    fn an_empty_heatmap_says_so() {
        let doc_src = heatmap(Lang::Fr, "Vide", "Rien", &[], &names(&["a"]), &[]);
        let doc = check(&doc_src);
        assert_eq!(texts(&doc), vec!["aucune donnée"]);
    }
}
