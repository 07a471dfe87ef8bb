//! Open data: the national indicators marked public, published at stable addresses as CSV
//! and JSON, with a TableSchema (frictionless) description. Only validated and locked values
//! count; figures are given for the nation and each académie, for every period.

use crate::db::Db;
use crate::error::{CoreError, CoreResult};

use super::consolidate::consolidate_unchecked;
use super::model::*;
use super::repo;
use super::service::Place;

/// One published row.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenRow {
    pub indicator: String,
    pub period: String,
    /// `national` or `academie`.
    pub level: String,
    /// `''` or the académie code.
    pub code: String,
    pub label: String,
    pub value: Option<Dec>,
    pub numerator: Option<Dec>,
    pub denominator: Option<Dec>,
    pub unit: String,
    pub sources_with_data: i64,
    pub sources_expected: i64,
}

/// The public indicators (no sign-in needed).
pub async fn public_indicators(db: &Db) -> CoreResult<Vec<Indicator>> {
    repo::list_public_indicators(db).await
}

/// A public indicator by code; `NotFound` for any other.
pub async fn public_indicator(db: &Db, code: &str) -> CoreResult<Indicator> {
    repo::find_indicator(db, code.trim())
        .await?
        .filter(|i| i.public && i.owner_kind == "national")
        .ok_or_else(|| CoreError::not_found("indicateur", code))
}

/// The published rows of a public indicator: every period, the nation then each académie.
pub async fn rows(db: &Db, code: &str) -> CoreResult<(Indicator, Vec<OpenRow>)> {
    let ind = public_indicator(db, code).await?;
    let mut out = Vec::new();
    let capture = ind.capture_level();
    let child = (capture.rank() <= Level::Academie.rank()).then_some(Level::Academie);
    for period in repo::periods_of(db, &ind.id).await? {
        let c = consolidate_unchecked(db, &ind, &period, &Place::national(), child, true).await?;
        let mut push = |f: &Figure| {
            let (level, code) = match f.perimeter.split_once(':') {
                Some((l, c)) => (l.to_owned(), c.to_owned()),
                None => (f.perimeter.clone(), String::new()),
            };
            out.push(OpenRow {
                indicator: ind.code.clone(),
                period: period.clone(),
                level,
                code,
                label: f.label.clone(),
                value: f.value,
                numerator: f.numerator,
                denominator: f.denominator,
                unit: ind.unit.clone(),
                sources_with_data: f.completeness.sources_with_data,
                sources_expected: f.completeness.sources_expected,
            });
        };
        push(&c.figure);
        for f in &c.children {
            push(f);
        }
    }
    Ok((ind, out))
}

/// The column names of the published files, in order.
pub const COLUMNS: &[&str] = &[
    "indicateur",
    "periode",
    "niveau",
    "code",
    "libelle",
    "valeur",
    "numerateur",
    "denominateur",
    "unite",
    "sources_renseignees",
    "sources_attendues",
];

/// The TableSchema (frictionless data) of an indicator's files.
pub fn table_schema(ind: &Indicator) -> serde_json::Value {
    let f = |name: &str, kind: &str, description: String| serde_json::json!({"name": name, "type": kind, "description": description});
    serde_json::json!({
        "$schema": "https://specs.frictionlessdata.io/schemas/table-schema.json",
        "title": ind.label,
        "description": ind.definition,
        "fields": [
            f("indicateur", "string", "Code de l'indicateur".into()),
            f("periode", "string", format!("Période ({})", ind.periodicity().label())),
            f("niveau", "string", "national ou academie".into()),
            f("code", "string", "Code de l'académie (vide au niveau national)".into()),
            f("libelle", "string", "Nom du périmètre".into()),
            f("valeur", "number", format!("Valeur consolidée ({}), règle : {}", ind.unit, ind.aggregation().label())),
            f("numerateur", "number", "Somme des numérateurs (ratios)".into()),
            f("denominateur", "number", "Somme des dénominateurs (ratios)".into()),
            f("unite", "string", "Unité".into()),
            f("sources_renseignees", "integer", format!("Périmètres de niveau « {} » ayant une valeur validée", ind.capture_level)),
            f("sources_attendues", "integer", "Périmètres de ce niveau dans le référentiel".into()),
        ],
        "primaryKey": ["indicateur", "periode", "niveau", "code"],
        "missingValues": [""],
    })
}

/// The rows as text cells, in [`COLUMNS`] order (decimal point, empty for none).
pub fn cells(r: &OpenRow) -> Vec<String> {
    let d = |v: Option<Dec>| v.map(Dec::machine).unwrap_or_default();
    vec![
        r.indicator.clone(),
        r.period.clone(),
        r.level.clone(),
        r.code.clone(),
        r.label.clone(),
        d(r.value),
        d(r.numerator),
        d(r.denominator),
        r.unit.clone(),
        r.sources_with_data.to_string(),
        r.sources_expected.to_string(),
    ]
}
