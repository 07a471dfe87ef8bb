//! Imports of values from a spreadsheet (CSV here; XLSX files are read into the same
//! [`Table`] at the edge) with a column mapping. Every rejected line is named with its
//! field (unknown UAI or perimeter, not a number, period outside the periodicity, locked
//! period…); the good lines are written, in one transaction, with one audit entry for the
//! file.

use std::collections::{HashMap, HashSet};

use crate::audit;
use crate::db::{Db, Sql};
use crate::error::{CoreError, CoreResult, FieldError};
use crate::identity::{Capability, Perimeter, Principal};

use super::model::*;
use super::repo::{self, BulkValue};
use super::service::{Place, figures, load_indicator, now};

/// A sheet: a header row and data rows, all text.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Reads a CSV file: UTF-8 (with or without BOM), `;` or `,` (guessed from the header),
/// quoted fields.
pub fn read_csv(bytes: &[u8]) -> CoreResult<Table> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let semi = first_line.iter().filter(|b| **b == b';').count();
    let comma = first_line.iter().filter(|b| **b == b',').count();
    let delimiter = if semi >= comma { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| CoreError::bad_request("fichier", format!("en-tête illisible : {e}")))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record
            .map_err(|e| CoreError::bad_request("fichier", format!("ligne {} illisible : {e}", i + 2)))?;
        rows.push(record.iter().map(str::to_owned).collect());
    }
    Ok(Table { headers, rows })
}

/// Which column holds what; a fixed indicator or period may replace its column.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// The column of the perimeter (`etablissement:UAI`, `academie:14`…) or of a bare
    /// code of the indicator's capture level (a UAI for a school indicator).
    pub perimeter: String,
    pub indicator: Option<String>,
    /// Used when `indicator` is `None`.
    pub fixed_indicator: Option<String>,
    pub period: Option<String>,
    /// Used when `period` is `None`.
    pub fixed_period: Option<String>,
    pub value: Option<String>,
    pub numerator: Option<String>,
    pub denominator: Option<String>,
    pub comment: Option<String>,
}

impl Default for Mapping {
    fn default() -> Self {
        Mapping {
            perimeter: "perimetre".into(),
            indicator: Some("indicateur".into()),
            fixed_indicator: None,
            period: Some("periode".into()),
            fixed_period: None,
            value: Some("valeur".into()),
            numerator: Some("numerateur".into()),
            denominator: Some("denominateur".into()),
            comment: Some("commentaire".into()),
        }
    }
}

/// A rejected line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LineError {
    /// The line in the file (the header is line 1).
    pub line: usize,
    pub field: String,
    pub message: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub lines: usize,
    /// Lines written (new or changed values).
    pub written: u64,
    pub rejected: Vec<LineError>,
}

#[derive(sqlx::FromRow)]
struct SchoolRow {
    uai: String,
    code_academie: Option<String>,
}

async fn schools(db: &Db, uais: &[String]) -> CoreResult<HashMap<String, Option<String>>> {
    let mut out = HashMap::with_capacity(uais.len());
    for chunk in uais.chunks(5_000) {
        let rows: Vec<SchoolRow> = db
            .fetch_all(
                Sql::new("SELECT uai, code_academie FROM etablissement WHERE uai IN ")
                    .bind_tuple(chunk.iter().map(String::as_str)),
            )
            .await?;
        for r in rows {
            out.insert(r.uai, r.code_academie);
        }
    }
    Ok(out)
}

fn column(
    headers: &[String],
    name: &Option<String>,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> Option<usize> {
    let name = name.as_deref()?.trim();
    if name.is_empty() {
        return None;
    }
    let found = headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    if found.is_none() {
        errors.push(FieldError::new(
            field,
            format!("colonne « {name} » absente du fichier"),
        ));
    }
    found
}

/// Imports values from a table. The caller must write on each line's perimeter; lines
/// they may not write are rejected like the others.
pub async fn import_values(
    db: &Db,
    by: &Principal,
    table: &Table,
    mapping: &Mapping,
    provenance: Provenance,
) -> CoreResult<ImportReport> {
    let h = &table.headers;
    let mut errors = Vec::new();
    let c_perimeter = column(
        h,
        &Some(mapping.perimeter.clone()),
        "colonnes.perimetre",
        &mut errors,
    );
    let c_indicator = column(h, &mapping.indicator, "colonnes.indicateur", &mut errors);
    let c_period = column(h, &mapping.period, "colonnes.periode", &mut errors);
    let c_value = column(h, &mapping.value, "colonnes.valeur", &mut errors);
    let c_num = column(h, &mapping.numerator, "colonnes.numerateur", &mut errors);
    let c_den = column(h, &mapping.denominator, "colonnes.denominateur", &mut errors);
    let c_comment = column(h, &mapping.comment, "colonnes.commentaire", &mut errors);
    // Optional columns of the default mapping may be absent.
    let defaults = Mapping::default();
    errors.retain(|e| {
        let optional = [
            ("colonnes.numerateur", defaults.numerator == mapping.numerator),
            (
                "colonnes.denominateur",
                defaults.denominator == mapping.denominator,
            ),
            ("colonnes.commentaire", defaults.comment == mapping.comment),
            ("colonnes.valeur", defaults.value == mapping.value),
        ];
        !optional
            .iter()
            .any(|(f, is_default)| *is_default && e.field == *f)
    });
    if c_indicator.is_none() && mapping.fixed_indicator.is_none() {
        errors.push(FieldError::new(
            "colonnes.indicateur",
            "une colonne ou un indicateur fixe",
        ));
    }
    if c_period.is_none() && mapping.fixed_period.is_none() {
        errors.push(FieldError::new(
            "colonnes.periode",
            "une colonne ou une période fixe",
        ));
    }
    if !errors.is_empty() {
        return Err(CoreError::Validation(errors));
    }
    let Some(c_perimeter) = c_perimeter else {
        return Err(CoreError::Validation(vec![FieldError::new(
            "colonnes.perimetre",
            "obligatoire",
        )]));
    };
    let cell = |row: &[String], c: Option<usize>| -> Option<String> {
        c.and_then(|c| row.get(c)).map(|s| s.trim().to_owned())
    };

    let mut report = ImportReport {
        lines: table.rows.len(),
        ..ImportReport::default()
    };
    let mut indicators: HashMap<String, Option<Indicator>> = HashMap::new();
    let writes_everywhere = by.can(db, Capability::Write, &Perimeter::National).await?;
    let mut rights: HashMap<String, bool> = HashMap::new();
    // First pass: parse every line.
    struct Parsed {
        line: usize,
        ind: Indicator,
        place: Place,
        period: String,
        figures: (i64, Option<i64>, Option<i64>),
        comment: String,
    }
    let mut parsed = Vec::new();
    for (i, row) in table.rows.iter().enumerate() {
        let line = i + 2;
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut reject = |field: &str, message: String| {
            report.rejected.push(LineError {
                line,
                field: field.to_owned(),
                message,
            });
        };
        let code = cell(row, c_indicator)
            .or_else(|| mapping.fixed_indicator.clone())
            .unwrap_or_default();
        if !indicators.contains_key(&code) {
            let ind = match load_indicator(db, by, &code).await {
                Ok(ind) => Some(ind),
                Err(CoreError::NotFound { .. }) => None,
                Err(e) => return Err(e),
            };
            indicators.insert(code.clone(), ind);
        }
        let Some(Some(ind)) = indicators.get(&code) else {
            reject("indicateur", format!("indicateur « {code} » inconnu"));
            continue;
        };
        let raw_place = cell(row, Some(c_perimeter)).unwrap_or_default();
        let place_text = if raw_place.contains(':') || raw_place == "national" {
            raw_place.clone()
        } else {
            format!("{}:{raw_place}", ind.capture_level)
        };
        let place = match Place::parse(&place_text, "perimetre") {
            Ok(p) => p,
            Err(e) => {
                let message = e.fields().first().map_or_else(String::new, |f| f.message.clone());
                reject("perimetre", message);
                continue;
            }
        };
        if place.level != ind.capture_level() {
            reject(
                "perimetre",
                format!("l'indicateur se saisit au niveau « {} »", ind.capture_level),
            );
            continue;
        }
        let raw_period = cell(row, c_period)
            .or_else(|| mapping.fixed_period.clone())
            .unwrap_or_default();
        let Some(period) = check_period(ind.periodicity(), &raw_period) else {
            let e = period_error("periode", ind.periodicity(), &raw_period);
            reject(&e.field, e.message);
            continue;
        };
        let figures = match figures(
            ind,
            cell(row, c_value).as_deref(),
            cell(row, c_num).as_deref(),
            cell(row, c_den).as_deref(),
        ) {
            Ok(f) => f,
            Err(errs) => {
                for e in errs {
                    reject(&e.field, e.message);
                }
                continue;
            }
        };
        let comment: String = cell(row, c_comment)
            .unwrap_or_default()
            .chars()
            .take(2_000)
            .collect();
        parsed.push(Parsed {
            line,
            ind: ind.clone(),
            place,
            period,
            figures,
            comment,
        });
    }

    // Second pass: the referential, the rights and the locks, checked in bulk.
    let uais: Vec<String> = parsed
        .iter()
        .filter(|p| p.place.level == Level::Etablissement)
        .map(|p| p.place.code.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let known_schools = schools(db, &uais).await?;
    let mut places: HashMap<String, Option<Option<String>>> = HashMap::new();
    let mut locks: HashMap<(String, String), (Vec<String>, HashSet<String>)> = HashMap::new();
    let mut rows = Vec::with_capacity(parsed.len());
    let mut seen = HashSet::new();
    for p in parsed {
        let mut reject = |field: &str, message: String| {
            report.rejected.push(LineError {
                line: p.line,
                field: field.to_owned(),
                message,
            });
        };
        let key = p.place.text();
        let academie = if p.place.level == Level::Etablissement {
            match known_schools.get(&p.place.code) {
                Some(a) => a.clone(),
                None => {
                    reject(
                        "perimetre",
                        format!("UAI « {} » inconnu du référentiel", p.place.code),
                    );
                    continue;
                }
            }
        } else {
            if !places.contains_key(&key) {
                let info = match super::service::check_place_exists(db, &p.place, "perimetre").await {
                    Ok(()) => Some(repo::academie_of(db, p.place.level.as_str(), &p.place.code).await?),
                    Err(CoreError::Validation(_)) => None,
                    Err(e) => return Err(e),
                };
                places.insert(key.clone(), info);
            }
            match places.get(&key) {
                Some(Some(a)) => a.clone(),
                _ => {
                    reject("perimetre", format!("« {key} » est absent du référentiel"));
                    continue;
                }
            }
        };
        if !writes_everywhere {
            let allowed = match rights.get(&key) {
                Some(a) => *a,
                None => {
                    let a = super::service::can_write_place(db, by, &p.place).await?;
                    rights.insert(key.clone(), a);
                    a
                }
            };
            if !allowed {
                reject("perimetre", format!("vous ne saisissez pas pour « {key} »"));
                continue;
            }
        }
        let lock_key = (p.ind.id.clone(), p.period.clone());
        if !locks.contains_key(&lock_key) {
            let l = repo::locks(db, &p.ind.id, &p.period).await?;
            let keys: HashSet<String> = repo::locked_keys(db, &p.ind.id, &p.period)
                .await?
                .into_iter()
                .collect();
            locks.insert(lock_key.clone(), (l, keys));
        }
        if let Some((period_locks, locked_values)) = locks.get(&lock_key) {
            let period_locked = period_locks
                .iter()
                .any(|l| l.is_empty() || academie.as_deref() == Some(l.as_str()));
            if locked_values.contains(&key) || period_locked {
                reject(
                    "periode",
                    format!("la période {} est verrouillée pour « {key} »", p.period),
                );
                continue;
            }
        }
        if !seen.insert((p.ind.id.clone(), p.period.clone(), key.clone())) {
            reject(
                "perimetre",
                format!("« {key} » figure déjà plus haut pour cet indicateur et cette période"),
            );
            continue;
        }
        rows.push(BulkValue {
            indicator_id: p.ind.id.clone(),
            period: p.period,
            perimeter_kind: p.place.level.as_str().to_owned(),
            perimeter_code: p.place.code,
            value_e4: p.figures.0,
            numerator_e4: p.figures.1,
            denominator_e4: p.figures.2,
            comment: p.comment,
        });
    }
    report.rejected.sort_by_key(|e| e.line);
    if rows.is_empty() {
        return Ok(report);
    }
    let actor = by.actor();
    let mut tx = db.begin().await?;
    report.written = repo::upsert_values(
        &mut tx,
        &rows,
        provenance.as_str(),
        actor.id.as_deref(),
        &actor.label,
        now(),
    )
    .await?;
    audit::record(
        &mut tx,
        &actor,
        "valeur.import",
        "import-valeurs",
        &uuid::Uuid::now_v7().to_string(),
        None,
        Some(&serde_json::json!({
            "lignes": report.lines, "ecrites": report.written, "rejetees": report.rejected.len(),
            "indicateurs": indicators.keys().collect::<Vec<_>>(),
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}
