//! Readers of the equipment files: the itemised inventory (one line per device, as a GLPI
//! export or a spreadsheet saved as CSV) and the ministry's open data of classes and pupils
//! per école (`;`, UTF-8 with BOM, CRLF). Pure functions: each line is read or refused with
//! its number and the column named; nothing here touches the database.

use std::collections::BTreeMap;

use time::{Date, Month};

use crate::error::FieldError;
use crate::territory::ids::Uai;
use crate::text::search_key;

use super::model::Category;

/// One device of an itemised inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The line in the file (the header is line 1).
    pub line: u64,
    pub uai: String,
    pub category: Category,
    pub quantity: i64,
    pub purchased: Option<Date>,
}

/// One school-year row of the pupil counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PupilRow {
    pub line: u64,
    pub uai: String,
    pub school_year: i64,
    pub classes: i64,
    pub pupils: i64,
    pub pupils_cm: Option<i64>,
}

/// Lines read and lines refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<T> {
    pub lines: u64,
    pub rows: Vec<T>,
    pub rejected: Vec<FieldError>,
}

fn refuse(line: u64, column: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(format!("ligne {line} : {column}"), message)
}

/// The whole file is unreadable (no header, not text).
fn file_error(message: impl Into<String>) -> FieldError {
    FieldError::new("fichier", message)
}

/// A CSV file: its folded header and its non-empty records with their line numbers.
type Records = (Vec<String>, Vec<(u64, Vec<String>)>);

/// Reads the header and the records of a CSV in either `;` or `,`, with or without BOM.
fn records(bytes: &[u8]) -> Result<Records, FieldError> {
    let text = std::str::from_utf8(bytes).map_err(|_| file_error("le fichier n'est pas en UTF-8"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.lines().next().unwrap_or("");
    let delimiter = if first.matches(';').count() >= first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut header: Option<Vec<String>> = None;
    for (i, record) in reader.records().enumerate() {
        let line = u64::try_from(i).unwrap_or(u64::MAX).saturating_add(1);
        let record = record.map_err(|e| file_error(format!("ligne {line} illisible : {e}")))?;
        let fields: Vec<String> = record.iter().map(|f| f.trim().to_owned()).collect();
        if header.is_none() {
            header = Some(fields.iter().map(|h| search_key(h)).collect());
        } else if fields.iter().any(|f| !f.is_empty()) {
            rows.push((line, fields));
        }
    }
    let header = header.ok_or_else(|| file_error("fichier vide : une ligne d'en-tête est attendue"))?;
    Ok((header, rows))
}

/// The index of the first column whose folded name is one of `names`.
fn column(header: &[String], names: &[&str]) -> Option<usize> {
    names
        .iter()
        .find_map(|name| header.iter().position(|h| h == name))
}

fn cell(fields: &[String], index: Option<usize>) -> &str {
    index.and_then(|i| fields.get(i)).map_or("", String::as_str)
}

/// Parses a date as people type it: `2024-09-01`, `01/09/2024`, or a GLPI `2024-09-01 10:00`.
pub fn parse_date(text: &str) -> Option<Date> {
    let text = text.trim();
    let text = text.split_whitespace().next().unwrap_or(text);
    let (y, m, d) = if let Some((d, rest)) = text.split_once('/') {
        let (m, y) = rest.split_once('/')?;
        (y, m, d)
    } else {
        let mut parts = text.splitn(3, '-');
        (parts.next()?, parts.next()?, parts.next()?)
    };
    if y.len() != 4 || m.is_empty() || m.len() > 2 || d.is_empty() || d.len() > 2 {
        return None;
    }
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// The category of a device type, as our code or as the usual labels of inventories.
pub fn category_of(text: &str) -> Option<Category> {
    if let Some(c) = Category::from_code(text) {
        return c.is_count().then_some(c);
    }
    let key = search_key(text);
    let has = |words: &[&str]| words.iter().any(|w| key.contains(w));
    Some(if has(&["tablette", "tablet", "ipad"]) {
        Category::Tablette
    } else if has(&["classe mobile", "chariot", "valise"]) {
        Category::ClasseMobile
    } else if has(&["interactif", "interactive", "vpi", "eni", "tni", "tbi"]) {
        Category::EcranInteractif
    } else if has(&["videoprojecteur", "projecteur", "projector"]) {
        Category::Videoprojecteur
    } else if has(&["individuel"]) {
        Category::EquipementIndividuel
    } else if has(&["portable", "laptop", "notebook", "chromebook"]) {
        Category::PosteMobile
    } else if has(&["ordinateur", "computer", "poste", "desktop", "unite centrale"]) {
        Category::PosteFixe
    } else {
        return None;
    })
}

/// Reads an itemised inventory: columns `uai` (or `etablissement`), `categorie` (or
/// `type`), optional `quantite` (default 1), optional `date d'achat` (or `date_achat`,
/// `achat`). A device purchased after `as_of` is refused (`date_achat`).
pub fn parse_itemised(bytes: &[u8], as_of: Date) -> Result<Parsed<Item>, FieldError> {
    let (header, records) = records(bytes)?;
    let uai_col = column(
        &header,
        &["uai", "etablissement", "code uai", "numero uai", "entite"],
    );
    let cat_col = column(
        &header,
        &["categorie", "type", "type de materiel", "categorie de materiel"],
    );
    let qty_col = column(&header, &["quantite", "nombre", "qte"]);
    let date_col = column(
        &header,
        &["date d achat", "date achat", "achat", "date de mise en service"],
    );
    if uai_col.is_none() {
        return Err(file_error("colonne « uai » absente de l'en-tête"));
    }
    if cat_col.is_none() {
        return Err(file_error("colonne « categorie » absente de l'en-tête"));
    }
    let mut out = Parsed {
        lines: u64::try_from(records.len()).unwrap_or(u64::MAX),
        rows: Vec::new(),
        rejected: Vec::new(),
    };
    for (line, fields) in records {
        let uai = match Uai::parse(cell(&fields, uai_col)) {
            Ok(u) => u.into_string(),
            Err(e) => {
                out.rejected.push(refuse(line, "uai", e.to_string()));
                continue;
            }
        };
        let raw = cell(&fields, cat_col);
        let Some(category) = category_of(raw) else {
            out.rejected.push(refuse(
                line,
                "categorie",
                format!("« {raw} » : type de matériel non reconnu (poste-fixe, poste-mobile, tablette…)"),
            ));
            continue;
        };
        let quantity = match cell(&fields, qty_col) {
            "" => 1,
            text => match text.parse::<i64>() {
                Ok(q) if q >= 0 => q,
                Ok(_) => {
                    out.rejected
                        .push(refuse(line, "quantite", "une quantité ne peut pas être négative"));
                    continue;
                }
                Err(_) => {
                    out.rejected.push(refuse(
                        line,
                        "quantite",
                        format!("« {text} » : nombre entier attendu"),
                    ));
                    continue;
                }
            },
        };
        let purchased = match cell(&fields, date_col) {
            "" => None,
            text => match parse_date(text) {
                Some(d) if d > as_of => {
                    out.rejected.push(refuse(
                        line,
                        "date_achat",
                        format!("« {text} » est postérieure à la date de l'inventaire ({as_of})"),
                    ));
                    continue;
                }
                Some(d) => Some(d),
                None => {
                    out.rejected.push(refuse(
                        line,
                        "date_achat",
                        format!("« {text} » : date impossible (AAAA-MM-JJ ou JJ/MM/AAAA)"),
                    ));
                    continue;
                }
            },
        };
        out.rows.push(Item {
            line,
            uai,
            category,
            quantity,
            purchased,
        });
    }
    Ok(out)
}

/// The counts of an itemised inventory per school and category: (units, units bought more
/// than `RENEWAL_AGE_YEARS` years before `as_of`). A device without a purchase date is
/// counted, not aged.
pub fn aggregate(items: &[Item], as_of: Date) -> BTreeMap<(String, Category), (i64, i64)> {
    let limit = as_of
        .replace_year(as_of.year() - i32::try_from(super::model::RENEWAL_AGE_YEARS).unwrap_or(5))
        .unwrap_or_else(|_| as_of - time::Duration::days(5 * 365));
    let mut out: BTreeMap<(String, Category), (i64, i64)> = BTreeMap::new();
    for item in items {
        let entry = out.entry((item.uai.clone(), item.category)).or_default();
        entry.0 = entry.0.saturating_add(item.quantity);
        if item.purchased.is_some_and(|d| d < limit) {
            entry.1 = entry.1.saturating_add(item.quantity);
        }
    }
    out
}

/// Reads the ministry's classes-and-pupils file (`fr-en-ecoles-effectifs-nb_classes`):
/// `Rentrée scolaire`, `Numéro de l'école`, `Nombre total de classes`, `Nombre total
/// d'élèves`, and when present the CM1 and CM2 columns.
pub fn parse_pupils(bytes: &[u8]) -> Result<Parsed<PupilRow>, FieldError> {
    let (header, records) = records(bytes)?;
    let year_col = column(&header, &["rentree scolaire", "annee scolaire", "rentree"]);
    let uai_col = column(
        &header,
        &["numero de l ecole", "numero de l etablissement", "uai"],
    );
    let classes_col = column(&header, &["nombre total de classes", "nombre de classes"]);
    let pupils_col = column(&header, &["nombre total d eleves", "nombre d eleves"]);
    let cm1_col = column(
        &header,
        &["nombre d eleves en cm1 hors ulis", "nombre d eleves en cm1"],
    );
    let cm2_col = column(
        &header,
        &["nombre d eleves en cm2 hors ulis", "nombre d eleves en cm2"],
    );
    for (col, name) in [
        (year_col, "Rentrée scolaire"),
        (uai_col, "Numéro de l'école"),
        (classes_col, "Nombre total de classes"),
        (pupils_col, "Nombre total d'élèves"),
    ] {
        if col.is_none() {
            return Err(file_error(format!("colonne « {name} » absente de l'en-tête")));
        }
    }
    let mut out = Parsed {
        lines: u64::try_from(records.len()).unwrap_or(u64::MAX),
        rows: Vec::new(),
        rejected: Vec::new(),
    };
    let count = |fields: &[String], col: Option<usize>, name: &str, line: u64| -> Result<i64, FieldError> {
        let text = cell(fields, col);
        match text.parse::<i64>() {
            Ok(n) if n >= 0 => Ok(n),
            Ok(_) => Err(refuse(line, name, "un effectif ne peut pas être négatif")),
            Err(_) => Err(refuse(line, name, format!("« {text} » : nombre entier attendu"))),
        }
    };
    for (line, fields) in records {
        let uai = match Uai::parse(cell(&fields, uai_col)) {
            Ok(u) => u.into_string(),
            Err(e) => {
                out.rejected
                    .push(refuse(line, "Numéro de l'école", e.to_string()));
                continue;
            }
        };
        let year_text = cell(&fields, year_col);
        let school_year = match year_text.get(..4).and_then(|y| y.parse::<i64>().ok()) {
            Some(y) if (1950..=2100).contains(&y) => y,
            _ => {
                out.rejected.push(refuse(
                    line,
                    "Rentrée scolaire",
                    format!("« {year_text} » : année de rentrée attendue (2021)"),
                ));
                continue;
            }
        };
        let classes = match count(&fields, classes_col, "Nombre total de classes", line) {
            Ok(n) => n,
            Err(e) => {
                out.rejected.push(e);
                continue;
            }
        };
        let pupils = match count(&fields, pupils_col, "Nombre total d'élèves", line) {
            Ok(n) => n,
            Err(e) => {
                out.rejected.push(e);
                continue;
            }
        };
        let pupils_cm = match (cm1_col, cm2_col) {
            (Some(_), Some(_)) => {
                match (
                    count(&fields, cm1_col, "Nombre d'élèves en CM1", line),
                    count(&fields, cm2_col, "Nombre d'élèves en CM2", line),
                ) {
                    (Ok(a), Ok(b)) => Some(a + b),
                    (Err(e), _) | (_, Err(e)) => {
                        out.rejected.push(e);
                        continue;
                    }
                }
            }
            _ => None,
        };
        out.rows.push(PupilRow {
            line,
            uai,
            school_year,
            classes,
            pupils,
            pupils_cm,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn dates_read_both_ways_and_refuse_impossible_ones() {
        assert_eq!(parse_date("2024-09-01"), Some(date!(2024 - 09 - 01)));
        assert_eq!(parse_date("01/09/2024"), Some(date!(2024 - 09 - 01)));
        assert_eq!(parse_date("2024-09-01 10:30"), Some(date!(2024 - 09 - 01)));
        assert_eq!(parse_date("2023-02-30"), None);
        assert_eq!(parse_date("31/13/2020"), None);
    }

    #[test]
    fn itemised_lines_are_kept_or_refused_with_their_column() {
        let csv = "\u{feff}UAI;Type;Numéro de série;Date d'achat\r\n\
                   0350103X;Ordinateur;A1;2017-03-01\r\n\
                   0350103X;Portable;A2;2024-01-10\r\n\
                   0350103X;Grille-pain;A3;2024-01-10\r\n\
                   0350103Y;Tablette;A4;2024-01-10\r\n\
                   0350103X;Tablette;A5;2023-02-30\r\n";
        let parsed = parse_itemised(csv.as_bytes(), date!(2026 - 01 - 01)).ok();
        let parsed = parsed.as_ref();
        assert_eq!(parsed.map(|p| p.rows.len()), Some(2));
        let fields: Vec<String> = parsed
            .map(|p| p.rejected.iter().map(|e| e.field.clone()).collect())
            .unwrap_or_default();
        assert_eq!(
            fields,
            ["ligne 4 : categorie", "ligne 5 : uai", "ligne 6 : date_achat"]
        );
        let counts = aggregate(parsed.map_or(&[][..], |p| &p.rows), date!(2026 - 01 - 01));
        assert_eq!(
            counts.get(&("0350103X".into(), Category::PosteFixe)),
            Some(&(1, 1))
        );
        assert_eq!(
            counts.get(&("0350103X".into(), Category::PosteMobile)),
            Some(&(1, 0))
        );
    }
}
