//! Tile maps of France: one square per département (`departement_map`) or one tile per
//! académie (`academie_map`), placed by hand on a grid that keeps the country's shape
//! (neighbours stay next to each other, Corse bottom right, the overseas départements
//! and académies on an inset row). Each tile writes its code or name and a short value,
//! and carries a tooltip; the places without data are grey and written `n.d.`.

use std::fmt::Write as _;

use super::svg::{Legend, Svg, TEXT, clip, halo, text_width};
use super::{Bucket, DataTable};
use crate::i18n::Lang;

/// One place on a map.
#[derive(Debug, Clone, PartialEq)]
pub struct Tile {
    /// Département (`35`, `2A`, `971`) or académie (`14`) code.
    pub code: String,
    /// The tooltip (`Ille-et-Vilaine : 12 conventions en vigueur`).
    pub label: String,
    /// A short text drawn in the tile (`85 %`, `12`), so that colour is not the only
    /// carrier; cut to fit.
    pub value_text: String,
    /// The class that colours the tile.
    pub class: Bucket,
}

/// Where each département sits (code, name, column, row): the 96 metropolitan ones,
/// Corse bottom right, and the five DROM on the inset row at the bottom left.
///
/// ```text
///                         80  62  59
///                 76  95  60  93  02  08
///         50  14  27  78  92  75  51  55  57  67
/// 29  22  35  53  61  28  91  94  10  52  54  88  68
///     56  44  49  72  41  45  77  89  21  70  90
///             85  37  36  18  58  71  39  25
///             79  86  87  23  03  69  01  74
///             17  16  24  19  63  42  38  73
///             33  47  46  15  43  07  26  05
///             40  32  82  12  48  30  84  04  06
///             64  65  31  81  34      13  83
///                     09  11  66                  2B
/// 971 972 973 974 976                             2A
/// ```
const DEPARTEMENTS: &[(&str, &str, u8, u8)] = &[
    ("80", "Somme", 6, 0),
    ("62", "Pas-de-Calais", 7, 0),
    ("59", "Nord", 8, 0),
    ("76", "Seine-Maritime", 4, 1),
    ("95", "Val-d'Oise", 5, 1),
    ("60", "Oise", 6, 1),
    ("93", "Seine-Saint-Denis", 7, 1),
    ("02", "Aisne", 8, 1),
    ("08", "Ardennes", 9, 1),
    ("50", "Manche", 2, 2),
    ("14", "Calvados", 3, 2),
    ("27", "Eure", 4, 2),
    ("78", "Yvelines", 5, 2),
    ("92", "Hauts-de-Seine", 6, 2),
    ("75", "Paris", 7, 2),
    ("51", "Marne", 8, 2),
    ("55", "Meuse", 9, 2),
    ("57", "Moselle", 10, 2),
    ("67", "Bas-Rhin", 11, 2),
    ("29", "Finistère", 0, 3),
    ("22", "Côtes-d'Armor", 1, 3),
    ("35", "Ille-et-Vilaine", 2, 3),
    ("53", "Mayenne", 3, 3),
    ("61", "Orne", 4, 3),
    ("28", "Eure-et-Loir", 5, 3),
    ("91", "Essonne", 6, 3),
    ("94", "Val-de-Marne", 7, 3),
    ("10", "Aube", 8, 3),
    ("52", "Haute-Marne", 9, 3),
    ("54", "Meurthe-et-Moselle", 10, 3),
    ("88", "Vosges", 11, 3),
    ("68", "Haut-Rhin", 12, 3),
    ("56", "Morbihan", 1, 4),
    ("44", "Loire-Atlantique", 2, 4),
    ("49", "Maine-et-Loire", 3, 4),
    ("72", "Sarthe", 4, 4),
    ("41", "Loir-et-Cher", 5, 4),
    ("45", "Loiret", 6, 4),
    ("77", "Seine-et-Marne", 7, 4),
    ("89", "Yonne", 8, 4),
    ("21", "Côte-d'Or", 9, 4),
    ("70", "Haute-Saône", 10, 4),
    ("90", "Territoire de Belfort", 11, 4),
    ("85", "Vendée", 3, 5),
    ("37", "Indre-et-Loire", 4, 5),
    ("36", "Indre", 5, 5),
    ("18", "Cher", 6, 5),
    ("58", "Nièvre", 7, 5),
    ("71", "Saône-et-Loire", 8, 5),
    ("39", "Jura", 9, 5),
    ("25", "Doubs", 10, 5),
    ("79", "Deux-Sèvres", 3, 6),
    ("86", "Vienne", 4, 6),
    ("87", "Haute-Vienne", 5, 6),
    ("23", "Creuse", 6, 6),
    ("03", "Allier", 7, 6),
    ("69", "Rhône", 8, 6),
    ("01", "Ain", 9, 6),
    ("74", "Haute-Savoie", 10, 6),
    ("17", "Charente-Maritime", 3, 7),
    ("16", "Charente", 4, 7),
    ("24", "Dordogne", 5, 7),
    ("19", "Corrèze", 6, 7),
    ("63", "Puy-de-Dôme", 7, 7),
    ("42", "Loire", 8, 7),
    ("38", "Isère", 9, 7),
    ("73", "Savoie", 10, 7),
    ("33", "Gironde", 3, 8),
    ("47", "Lot-et-Garonne", 4, 8),
    ("46", "Lot", 5, 8),
    ("15", "Cantal", 6, 8),
    ("43", "Haute-Loire", 7, 8),
    ("07", "Ardèche", 8, 8),
    ("26", "Drôme", 9, 8),
    ("05", "Hautes-Alpes", 10, 8),
    ("40", "Landes", 3, 9),
    ("32", "Gers", 4, 9),
    ("82", "Tarn-et-Garonne", 5, 9),
    ("12", "Aveyron", 6, 9),
    ("48", "Lozère", 7, 9),
    ("30", "Gard", 8, 9),
    ("84", "Vaucluse", 9, 9),
    ("04", "Alpes-de-Haute-Provence", 10, 9),
    ("06", "Alpes-Maritimes", 11, 9),
    ("64", "Pyrénées-Atlantiques", 3, 10),
    ("65", "Hautes-Pyrénées", 4, 10),
    ("31", "Haute-Garonne", 5, 10),
    ("81", "Tarn", 6, 10),
    ("34", "Hérault", 7, 10),
    ("13", "Bouches-du-Rhône", 9, 10),
    ("83", "Var", 10, 10),
    ("09", "Ariège", 5, 11),
    ("11", "Aude", 6, 11),
    ("66", "Pyrénées-Orientales", 7, 11),
    ("2B", "Haute-Corse", 12, 11),
    ("971", "Guadeloupe", 0, 12),
    ("972", "Martinique", 1, 12),
    ("973", "Guyane", 2, 12),
    ("974", "La Réunion", 3, 12),
    ("976", "Mayotte", 4, 12),
    ("2A", "Corse-du-Sud", 12, 12),
];

/// The row and first and last columns of the overseas inset on the département map.
const DEPARTEMENT_INSET: (u8, u8, u8) = (12, 0, 4);

/// Where each académie sits (code, name, short name drawn in the tile, column, row), the
/// overseas académies on the last row.
const ACADEMIES: &[(&str, &str, &str, u8, u8)] = &[
    ("09", "Lille", "Lille", 4, 0),
    ("70", "Normandie", "Normandie", 3, 1),
    ("20", "Amiens", "Amiens", 4, 1),
    ("19", "Reims", "Reims", 5, 1),
    ("12", "Nancy-Metz", "Nancy-Metz", 6, 1),
    ("15", "Strasbourg", "Strasbourg", 7, 1),
    ("14", "Rennes", "Rennes", 1, 2),
    ("25", "Versailles", "Versailles", 3, 2),
    ("01", "Paris", "Paris", 4, 2),
    ("24", "Créteil", "Créteil", 5, 2),
    ("17", "Nantes", "Nantes", 2, 3),
    ("18", "Orléans-Tours", "Orléans-Tours", 3, 3),
    ("07", "Dijon", "Dijon", 5, 3),
    ("03", "Besançon", "Besançon", 6, 3),
    ("13", "Poitiers", "Poitiers", 2, 4),
    ("22", "Limoges", "Limoges", 3, 4),
    ("06", "Clermont-Ferrand", "Clermont", 4, 4),
    ("10", "Lyon", "Lyon", 5, 4),
    ("08", "Grenoble", "Grenoble", 6, 4),
    ("04", "Bordeaux", "Bordeaux", 2, 5),
    ("16", "Toulouse", "Toulouse", 3, 5),
    ("11", "Montpellier", "Montpellier", 4, 5),
    ("02", "Aix-Marseille", "Aix-Marseille", 5, 5),
    ("23", "Nice", "Nice", 6, 5),
    ("27", "Corse", "Corse", 7, 6),
    ("32", "Guadeloupe", "Guadeloupe", 0, 7),
    ("31", "Martinique", "Martinique", 1, 7),
    ("33", "Guyane", "Guyane", 2, 7),
    ("28", "La Réunion", "La Réunion", 3, 7),
    ("43", "Mayotte", "Mayotte", 4, 7),
];

/// The row and first and last columns of the overseas inset on the académie map.
const ACADEMIE_INSET: (u8, u8, u8) = (7, 0, 4);

/// The name of a département drawn on the map (`Ille-et-Vilaine` for `35`).
pub fn departement_name(code: &str) -> Option<&'static str> {
    DEPARTEMENTS.iter().find(|d| d.0 == code).map(|d| d.1)
}

/// The name of an académie drawn on the map (`Clermont-Ferrand` for `06`).
pub fn academie_name(code: &str) -> Option<&'static str> {
    ACADEMIES.iter().find(|a| a.0 == code).map(|a| a.1)
}

/// One place of a layout.
struct Place {
    code: &'static str,
    name: &'static str,
    /// The first line written in the tile.
    head: &'static str,
    col: u8,
    row: u8,
}

fn departement_places() -> Vec<Place> {
    DEPARTEMENTS
        .iter()
        .map(|&(code, name, col, row)| Place {
            code,
            name,
            head: code,
            col,
            row,
        })
        .collect()
}

fn academie_places() -> Vec<Place> {
    ACADEMIES
        .iter()
        .map(|&(code, name, head, col, row)| Place {
            code,
            name,
            head,
            col,
            row,
        })
        .collect()
}

/// The geometry of a map.
struct Layout {
    kind: &'static str,
    class: &'static str,
    places: Vec<Place>,
    tile_w: f64,
    tile_h: f64,
    gap: f64,
    head_size: f64,
    value_size: f64,
    /// How many lines the value may wrap onto.
    value_lines: usize,
    inset: (u8, u8, u8),
}

/// The map of all départements: each square writes the département's code and
/// `value_text`, with `label` as tooltip; départements absent from `tiles` are grey and
/// written `n.d.`, as are tiles of class [`Bucket::NoData`]. `legend` names the classes
/// (entries with the same class are merged); the `n.d.` entry is added when needed.
pub fn departement_map(
    lang: Lang,
    title: &str,
    desc: &str,
    tiles: &[Tile],
    legend: &[(Bucket, String)],
) -> String {
    let layout = Layout {
        kind: "dep",
        class: "gv-map gv-map-dep",
        places: departement_places(),
        tile_w: 46.0,
        tile_h: 46.0,
        gap: 4.0,
        head_size: 13.0,
        value_size: 10.5,
        value_lines: 1,
        inset: DEPARTEMENT_INSET,
    };
    draw(lang, &layout, title, desc, tiles, legend)
}

/// The map of the 30 académies: each tile writes the académie's name and `value_text`,
/// with `label` as tooltip; the rest as for [`departement_map`].
pub fn academie_map(
    lang: Lang,
    title: &str,
    desc: &str,
    tiles: &[Tile],
    legend: &[(Bucket, String)],
) -> String {
    let layout = Layout {
        kind: "aca",
        class: "gv-map gv-map-aca",
        places: academie_places(),
        tile_w: 104.0,
        tile_h: 60.0,
        gap: 6.0,
        head_size: 12.0,
        value_size: 10.5,
        value_lines: 2,
        inset: ACADEMIE_INSET,
    };
    draw(lang, &layout, title, desc, tiles, legend)
}

fn draw(
    lang: Lang,
    layout: &Layout,
    title: &str,
    desc: &str,
    tiles: &[Tile],
    legend: &[(Bucket, String)],
) -> String {
    let cell_w = layout.tile_w + layout.gap;
    let cell_h = layout.tile_h + layout.gap;
    let cols = layout
        .places
        .iter()
        .map(|p| p.col)
        .max()
        .map_or(1.0, |c| f64::from(c) + 1.0);
    let rows = layout
        .places
        .iter()
        .map(|p| p.row)
        .max()
        .map_or(1.0, |r| f64::from(r) + 1.0);
    let margin = 8.0;
    let width = cols * cell_w + 2.0 * margin;
    let map_h = rows * cell_h + margin;
    let tile_of = |code: &str| tiles.iter().find(|t| t.code == code);
    let mut entries: Vec<(Bucket, String)> = legend.to_vec();
    let any_missing = layout
        .places
        .iter()
        .any(|p| tile_of(p.code).is_none_or(|t| t.class == Bucket::NoData));
    if any_missing && !entries.iter().any(|(b, _)| *b == Bucket::NoData) {
        entries.push((Bucket::NoData, lang.t("chart-nd-legend")));
    }
    let key = Legend::new(&entries, width - 2.0 * margin);
    let height = map_h + 6.0 + key.height + margin;
    let mut svg = Svg::open(layout.kind, layout.class, title, desc, width, height);
    svg.patterns();
    // The overseas inset: a dashed frame and its caption just above it.
    let (row, first, last) = layout.inset;
    let (ix, iy) = (
        margin + f64::from(first) * cell_w - 3.0,
        margin + f64::from(row) * cell_h - 3.0,
    );
    let iw = f64::from(last - first + 1) * cell_w + 6.0 - layout.gap;
    let _ = write!(
        svg.out,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#929292\" stroke-dasharray=\"4 3\"/>",
        super::svg::n(ix),
        super::svg::n(iy),
        super::svg::n(iw),
        super::svg::n(layout.tile_h + 6.0),
    );
    svg.text(
        (ix + 2.0, iy - 5.0),
        11.0,
        "start",
        TEXT,
        "font-style=\"italic\"",
        &lang.t("chart-overseas"),
    );
    let nd = lang.t("chart-nd");
    let value_chars = ((layout.tile_w - 6.0) / (layout.value_size * 0.56))
        .floor()
        .max(1.0) as usize;
    let head_chars = ((layout.tile_w - 6.0) / (layout.head_size * 0.56))
        .floor()
        .max(1.0) as usize;
    for place in &layout.places {
        let tile = tile_of(place.code);
        let bucket = tile.map_or(Bucket::NoData, |t| t.class);
        let tooltip = match tile {
            Some(t) if !t.label.is_empty() => t.label.clone(),
            Some(t) if !t.value_text.is_empty() => format!("{} : {}", place.name, t.value_text),
            _ => format!("{} ({}) : {}", place.name, place.code, lang.t("chart-no-data")),
        };
        let value = match tile {
            Some(t) if bucket != Bucket::NoData => t.value_text.as_str(),
            _ => nd.as_str(),
        };
        let x = margin + f64::from(place.col) * cell_w;
        let y = margin + f64::from(place.row) * cell_h;
        let _ = write!(
            svg.out,
            "<g data-code=\"{}\"><title>{}</title>",
            super::escape(place.code),
            super::escape(&tooltip)
        );
        svg.block("gv-tile", bucket, x, y, layout.tile_w, layout.tile_h);
        let (cx, ink, outline) = (x + layout.tile_w / 2.0, bucket.ink(), halo(bucket.fill()));
        let head = clip(place.head, head_chars);
        let fits = text_width(&head, layout.head_size) <= layout.tile_w;
        let head_size = if fits {
            layout.head_size
        } else {
            layout.head_size * 0.85
        };
        // The name and the value's lines, centred as a block.
        let lines = wrap(value, value_chars, layout.value_lines);
        let line_h = layout.value_size + 3.5;
        let block = layout.head_size + line_h * lines.len() as f64;
        let head_y = y + (layout.tile_h - block) / 2.0 + layout.head_size * 0.85;
        svg.text(
            (cx, head_y),
            head_size,
            "middle",
            ink,
            &format!("font-weight=\"700\" {outline}"),
            &head,
        );
        for (k, line) in lines.iter().enumerate() {
            let line_y = head_y + (k as f64 + 1.0) * line_h;
            svg.text((cx, line_y), layout.value_size, "middle", ink, &outline, line);
        }
        svg.out.push_str("</g>");
    }
    key.draw(&mut svg, margin, map_h + 6.0);
    svg.finish()
}

/// `text` in at most `lines` lines of at most `width` characters, cut between words (a
/// word too long is cut), with an ellipsis when something is left out.
fn wrap(text: &str, width: usize, lines: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut cut = false;
    for word in text.split_whitespace() {
        let word = clip(word, width);
        let len = current.chars().count();
        if len == 0 {
            current = word;
        } else if len + 1 + word.chars().count() <= width {
            current.push(' ');
            current.push_str(&word);
        } else if out.len() + 1 < lines {
            out.push(std::mem::replace(&mut current, word));
        } else {
            cut = true;
            break;
        }
    }
    if !current.is_empty() {
        out.push(if cut {
            clip(&format!("{current}…"), width)
        } else {
            current
        });
    }
    out
}

/// The data of a [`departement_map`] as a table: every département in code order, with
/// its tile's value or `n.d.`.
pub fn departement_table(lang: Lang, caption: &str, headers: [&str; 2], tiles: &[Tile]) -> DataTable {
    let mut places = departement_places();
    places.sort_by(|a, b| a.code.cmp(b.code));
    table(lang, caption, headers, &places, tiles)
}

/// The data of an [`academie_map`] as a table: every académie by name, with its tile's
/// value or `n.d.`.
pub fn academie_table(lang: Lang, caption: &str, headers: [&str; 2], tiles: &[Tile]) -> DataTable {
    let mut places = academie_places();
    places.sort_by(|a, b| a.name.cmp(b.name));
    table(lang, caption, headers, &places, tiles)
}

fn table(lang: Lang, caption: &str, headers: [&str; 2], places: &[Place], tiles: &[Tile]) -> DataTable {
    let rows = places
        .iter()
        .map(|p| {
            let value = tiles
                .iter()
                .find(|t| t.code == p.code)
                .filter(|t| t.class != Bucket::NoData && !t.value_text.is_empty())
                .map_or_else(|| lang.t("chart-nd"), |t| t.value_text.clone());
            vec![format!("{} ({})", p.name, p.code), value]
        })
        .collect();
    DataTable {
        caption: caption.to_owned(),
        headers: headers.iter().map(|h| (*h).to_owned()).collect(),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use gouvernail_core::territory::import::bundled;
    use gouvernail_core::territory::sources::{self, AcademieKind};

    use super::super::testing::{check, texts};
    use super::*;

    fn tile(code: &str, value: &str, class: Bucket) -> Tile {
        Tile {
            code: code.into(),
            label: format!("tile {code}"),
            value_text: value.into(),
            class,
        }
    }

    #[test]
    fn every_departement_of_the_referential_has_exactly_one_tile_and_none_overlap() {
        let parsed = sources::parse_departements_academies(bundled::DEPARTEMENTS_ACADEMIES).unwrap();
        assert!(parsed.errors.is_empty());
        let wanted: HashMap<String, String> = parsed
            .records
            .iter()
            .map(|(_, r)| r)
            .filter(|r| r.zone == "metro" || r.zone == "drom")
            .map(|r| {
                (
                    r.code_departement.as_str().to_owned(),
                    r.nom_departement.clone().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(wanted.len(), 101);
        for (code, name) in &wanted {
            let n = DEPARTEMENTS.iter().filter(|d| d.0 == code).count();
            assert_eq!(n, 1, "{code} has {n} tiles");
            assert_eq!(departement_name(code), Some(name.as_str()), "{code}");
        }
        assert_eq!(
            DEPARTEMENTS.len(),
            wanted.len(),
            "a tile for a place outside the referential"
        );
        let cells: HashSet<(u8, u8)> = DEPARTEMENTS.iter().map(|d| (d.2, d.3)).collect();
        assert_eq!(cells.len(), DEPARTEMENTS.len(), "two tiles share a cell");
        // The overseas départements fill the inset row; Corse is the far bottom right.
        let (row, first, last) = DEPARTEMENT_INSET;
        for code in ["971", "972", "973", "974", "976"] {
            let d = DEPARTEMENTS.iter().find(|d| d.0 == code).unwrap();
            assert!(d.3 == row && (first..=last).contains(&d.2), "{code}");
        }
        let max_col = DEPARTEMENTS.iter().map(|d| d.2).max().unwrap();
        for code in ["2A", "2B"] {
            let d = DEPARTEMENTS.iter().find(|d| d.0 == code).unwrap();
            assert!(d.2 == max_col && d.3 >= 11, "{code}");
        }
    }

    #[test]
    fn neighbours_stay_next_to_each_other() {
        let at = |code: &str| {
            DEPARTEMENTS
                .iter()
                .find(|d| d.0 == code)
                .map(|d| (i16::from(d.2), i16::from(d.3)))
                .unwrap()
        };
        let near = |a: &str, b: &str| {
            let ((ac, ar), (bc, br)) = (at(a), at(b));
            (ac - bc).abs() <= 1 && (ar - br).abs() <= 1
        };
        for (a, b) in [
            ("75", "92"),
            ("75", "93"),
            ("75", "94"),
            ("59", "62"),
            ("29", "22"),
            ("35", "44"),
            ("13", "84"),
            ("06", "04"),
            ("67", "57"),
            ("69", "01"),
            ("33", "17"),
            ("64", "40"),
            ("31", "09"),
            ("63", "03"),
            ("45", "41"),
            ("2A", "2B"),
        ] {
            assert!(near(a, b), "{a} and {b}");
        }
    }

    #[test]
    fn every_academie_has_exactly_one_tile_and_none_overlap() {
        let parsed = sources::parse_academies(bundled::ACADEMIES).unwrap();
        let wanted: Vec<(String, String)> = parsed
            .records
            .iter()
            .map(|(_, r)| r)
            .filter(|r| r.kind == AcademieKind::Academie)
            .map(|r| (r.code.as_str().to_owned(), r.nom.clone()))
            .collect();
        assert_eq!(wanted.len(), 30);
        for (code, name) in &wanted {
            assert_eq!(ACADEMIES.iter().filter(|a| a.0 == code).count(), 1, "{code}");
            assert_eq!(academie_name(code), Some(name.as_str()));
        }
        assert_eq!(ACADEMIES.len(), wanted.len());
        let cells: HashSet<(u8, u8)> = ACADEMIES.iter().map(|a| (a.3, a.4)).collect();
        assert_eq!(cells.len(), ACADEMIES.len());
    }

    #[test]
    fn the_departement_map_is_valid_svg_with_one_tile_per_departement() {
        let tiles = [
            tile("35", "85 %", Bucket::Scale(4)),
            tile("2A", "12 %", Bucket::Bad),
            tile("971", "40 %", Bucket::Warning),
            tile("99", "ignored", Bucket::Good),
        ];
        let legend = [
            (Bucket::Scale(4), "80 % et plus".to_owned()),
            (Bucket::Bad, "Non conforme".to_owned()),
        ];
        let svg = departement_map(
            Lang::Fr,
            "Équipement des écoles",
            "Part des écoles équipées.",
            &tiles,
            &legend,
        );
        let doc = check(&svg);
        let tiles_drawn = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("gv-tile"))
            .count();
        assert_eq!(tiles_drawn, 101);
        let texts = texts(&doc);
        assert!(texts.contains(&"85 %"));
        assert!(texts.contains(&"2A"));
        assert!(texts.contains(&"n.d."), "missing départements say n.d.");
        assert!(
            texts.contains(&"n.d. : aucune donnée"),
            "the legend explains n.d."
        );
        assert!(texts.contains(&"Non conforme"));
        assert!(!svg.contains("ignored"));
        // The non-compliant tile is hatched, not only red.
        assert!(svg.contains("-hatch)"));
        let ain = doc
            .descendants()
            .find(|n| n.attribute("data-code") == Some("01"))
            .unwrap();
        let tooltip = ain
            .children()
            .find(|n| n.has_tag_name("title"))
            .and_then(|n| n.text());
        assert_eq!(tooltip, Some("Ain (01) : aucune donnée"));
    }

    #[test]
    fn the_academie_map_escapes_text_and_says_nd_without_data() {
        let tiles = [Tile {
            code: "14".into(),
            label: "<script>alert('x')</script> & co".into(),
            value_text: "\"12\" <b>".into(),
            class: Bucket::Good,
        }];
        let svg = academie_map(Lang::Fr, "Carte <des> académies", "Desc & co", &tiles, &[]);
        assert!(!svg.contains("<script"));
        assert!(!svg.contains("<b>"));
        let doc = check(&svg);
        assert_eq!(
            doc.descendants()
                .filter(|n| n.attribute("class") == Some("gv-tile"))
                .count(),
            30
        );
        let texts = texts(&doc);
        assert!(texts.contains(&"\"12\" <b>"));
        assert!(texts.contains(&"Clermont"));
        assert_eq!(texts.iter().filter(|t| **t == "n.d.").count(), 29);
        let title = doc
            .descendants()
            .find(|n| n.has_tag_name("title"))
            .and_then(|n| n.text());
        assert_eq!(title, Some("Carte <des> académies"));
    }

    #[test]
    fn empty_maps_draw_every_place_as_not_available() {
        for svg in [
            departement_map(Lang::En, "Map", "Nothing yet", &[], &[]),
            academie_map(Lang::En, "Map", "Nothing yet", &[], &[]),
        ] {
            let doc = check(&svg);
            let texts = texts(&doc);
            assert!(texts.contains(&"n/a"));
            assert!(texts.contains(&"n/a: no data"));
        }
    }

    #[test]
    fn values_wrap_between_words_and_say_when_cut() {
        assert_eq!(wrap("Version locale · 40 %", 17, 2), ["Version locale ·", "40 %"]);
        assert_eq!(wrap("85 %", 7, 1), ["85 %"]);
        assert_eq!(wrap("un deux trois quatre", 9, 1), ["un deux…"]);
        assert_eq!(wrap("anticonstitutionnellement", 8, 2), ["anticon…"]);
        assert!(wrap("", 8, 2).is_empty());
    }

    #[test]
    fn tables_list_every_place_with_its_value() {
        let tiles = [tile("2B", "3", Bucket::Good), tile("01", "", Bucket::NoData)];
        let t = departement_table(Lang::Fr, "Conventions", ["Département", "Conventions"], &tiles);
        assert_eq!(t.rows.len(), 101);
        assert_eq!(
            t.rows.first().map(|r| r.join("|")),
            Some("Ain (01)|n.d.".to_owned())
        );
        assert!(t.rows.iter().any(|r| r.join("|") == "Haute-Corse (2B)|3"));
        let t = academie_table(
            Lang::Fr,
            "Taux",
            ["Académie", "Taux"],
            &[tile("14", "85 %", Bucket::Good)],
        );
        assert_eq!(t.rows.len(), 30);
        assert!(t.rows.iter().any(|r| r.join("|") == "Rennes (14)|85 %"));
        assert_eq!(t.rows.first().map(|r| r[0].as_str()), Some("Aix-Marseille (02)"));
    }
}
