//! SQL of the indicators: dictionary, links, targets, values, locks, campaigns, and the
//! consolidation aggregates (GROUP BY over joins to the referential).

use std::collections::HashMap;

use time::{Date, OffsetDateTime};

use crate::db::{Db, MAX_BIND, Sql, Tx, Value as V, prefixed};
use crate::error::CoreResult;
use crate::territory::model::{Page, PageRequest};

use super::model::*;

// --- Dictionary -------------------------------------------------------------------------------

const INDICATOR_COLUMNS: &str = "id, code, owner_kind, owner_code, label, definition, unit, direction, kind, \
     aggregation, periodicity, source, capture_level, factor, green_e4, red_e4, public, formula, version, created_at, updated_at";

fn indicator_values(i: &Indicator) -> Vec<(&'static str, V)> {
    vec![
        ("code", i.code.as_str().into()),
        ("owner_kind", i.owner_kind.as_str().into()),
        ("owner_code", i.owner_code.as_str().into()),
        ("label", i.label.as_str().into()),
        ("definition", i.definition.as_str().into()),
        ("unit", i.unit.as_str().into()),
        ("direction", i.direction.as_str().into()),
        ("kind", i.kind.as_str().into()),
        ("aggregation", i.aggregation.as_str().into()),
        ("periodicity", i.periodicity.as_str().into()),
        ("source", i.source.as_str().into()),
        ("capture_level", i.capture_level.as_str().into()),
        ("factor", i.factor.into()),
        ("green_e4", i.green_e4.into()),
        ("red_e4", i.red_e4.into()),
        ("public", i.public.into()),
        ("formula", i.formula.as_deref().into()),
        ("updated_at", i.updated_at.into()),
    ]
}

pub async fn insert_indicator(tx: &mut Tx, i: &Indicator) -> CoreResult<()> {
    let mut cols = vec![("id", i.id.as_str().into()), ("created_at", i.created_at.into())];
    cols.extend(indicator_values(i));
    tx.execute(Sql::insert("ind_indicator", cols)).await?;
    Ok(())
}

/// Writes `i` over the version `expected`; false when someone changed it in between.
pub async fn update_indicator(tx: &mut Tx, i: &Indicator, expected: i64) -> CoreResult<bool> {
    Ok(tx
        .execute(Sql::update_versioned(
            "ind_indicator",
            &i.id,
            expected,
            indicator_values(i),
        ))
        .await?
        == 1)
}

pub async fn find_indicator(db: &Db, code: &str) -> CoreResult<Option<Indicator>> {
    db.fetch_optional(
        Sql::new(&format!(
            "SELECT {INDICATOR_COLUMNS} FROM ind_indicator WHERE code = "
        ))
        .bind(code),
    )
    .await
}

pub async fn find_indicator_by_id(db: &Db, id: &str) -> CoreResult<Option<Indicator>> {
    db.fetch_optional(
        Sql::new(&format!(
            "SELECT {INDICATOR_COLUMNS} FROM ind_indicator WHERE id = "
        ))
        .bind(id),
    )
    .await
}

pub async fn list_indicators(db: &Db) -> CoreResult<Vec<Indicator>> {
    db.fetch_all(Sql::new(&format!(
        "SELECT {INDICATOR_COLUMNS} FROM ind_indicator ORDER BY owner_kind DESC, owner_code, code"
    )))
    .await
}

pub async fn list_public_indicators(db: &Db) -> CoreResult<Vec<Indicator>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {INDICATOR_COLUMNS} FROM ind_indicator WHERE public = "
        ))
        .bind(true)
        .push(" AND owner_kind = 'national' ORDER BY code"),
    )
    .await
}

/// The indicators that measure a project or an action.
pub async fn indicators_of(db: &Db, ref_kind: &str, ref_id: &str) -> CoreResult<Vec<Indicator>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {} FROM ind_indicator i JOIN ind_link l ON l.indicator_id = i.id WHERE l.ref_kind = ",
            prefixed(INDICATOR_COLUMNS, "i")
        ))
        .bind(ref_kind)
        .push(" AND l.ref_id = ")
        .bind(ref_id)
        .push(" ORDER BY i.code"),
    )
    .await
}

pub async fn links_of(db: &Db, indicator_id: &str) -> CoreResult<Vec<Link>> {
    db.fetch_all(
        Sql::new("SELECT ref_kind, ref_id FROM ind_link WHERE indicator_id = ")
            .bind(indicator_id)
            .push(" ORDER BY ref_kind, ref_id"),
    )
    .await
}

pub async fn replace_links(tx: &mut Tx, indicator_id: &str, links: &[Link]) -> CoreResult<()> {
    tx.execute(Sql::new("DELETE FROM ind_link WHERE indicator_id = ").bind(indicator_id))
        .await?;
    for l in links {
        tx.execute(Sql::insert(
            "ind_link",
            vec![
                ("indicator_id", indicator_id.into()),
                ("ref_kind", l.ref_kind.as_str().into()),
                ("ref_id", l.ref_id.as_str().into()),
            ],
        ))
        .await?;
    }
    Ok(())
}

/// Whether the project or the action exists.
pub async fn ref_exists(db: &Db, ref_kind: &str, ref_id: &str) -> CoreResult<bool> {
    let table = match ref_kind {
        "projet" => "national_project",
        _ => "roadmap_action",
    };
    Ok(db
        .fetch_scalar_i64(Sql::new(&format!("SELECT COUNT(*) FROM {table} WHERE id = ")).bind(ref_id))
        .await?
        > 0)
}

// --- Targets ----------------------------------------------------------------------------------

pub async fn targets_of(db: &Db, indicator_id: &str) -> CoreResult<Vec<Target>> {
    db.fetch_all(
        Sql::new(
            "SELECT perimeter_kind, perimeter_code, period, kind, value_e4 FROM ind_target WHERE indicator_id = ",
        )
        .bind(indicator_id)
        .push(" ORDER BY perimeter_kind, perimeter_code, period, kind"),
    )
    .await
}

pub async fn upsert_target(
    tx: &mut Tx,
    indicator_id: &str,
    t: &Target,
    now: OffsetDateTime,
) -> CoreResult<()> {
    tx.execute(
        Sql::insert(
            "ind_target",
            vec![
                ("indicator_id", indicator_id.into()),
                ("perimeter_kind", t.perimeter_kind.as_str().into()),
                ("perimeter_code", t.perimeter_code.as_str().into()),
                ("period", t.period.as_str().into()),
                ("kind", t.kind.as_str().into()),
                ("value_e4", t.value_e4.into()),
                ("updated_at", now.into()),
            ],
        )
        .push(
            " ON CONFLICT (indicator_id, perimeter_kind, perimeter_code, period, kind) \
             DO UPDATE SET value_e4 = excluded.value_e4, updated_at = excluded.updated_at",
        ),
    )
    .await?;
    Ok(())
}

pub async fn delete_target(tx: &mut Tx, indicator_id: &str, t: &Target) -> CoreResult<u64> {
    tx.execute(
        Sql::new("DELETE FROM ind_target WHERE indicator_id = ")
            .bind(indicator_id)
            .push(" AND perimeter_kind = ")
            .bind(t.perimeter_kind.as_str())
            .push(" AND perimeter_code = ")
            .bind(t.perimeter_code.as_str())
            .push(" AND period = ")
            .bind(t.period.as_str())
            .push(" AND kind = ")
            .bind(t.kind.as_str()),
    )
    .await
}

// --- Values -----------------------------------------------------------------------------------

const VALUE_COLUMNS: &str = "id, indicator_id, period, perimeter_kind, perimeter_code, value_e4, numerator_e4, \
     denominator_e4, status, provenance, comment, entered_by, entered_label, entered_at, validated_by, validated_at, \
     reopen_reason, version, updated_at";

fn value_values(v: &Value) -> Vec<(&'static str, V)> {
    vec![
        ("value_e4", v.value_e4.into()),
        ("numerator_e4", v.numerator_e4.into()),
        ("denominator_e4", v.denominator_e4.into()),
        ("status", v.status.as_str().into()),
        ("provenance", v.provenance.as_str().into()),
        ("comment", v.comment.as_str().into()),
        ("entered_by", v.entered_by.as_deref().into()),
        ("entered_label", v.entered_label.as_str().into()),
        ("entered_at", v.entered_at.into()),
        ("validated_by", v.validated_by.as_deref().into()),
        ("validated_at", v.validated_at.into()),
        ("reopen_reason", v.reopen_reason.as_deref().into()),
        ("updated_at", v.updated_at.into()),
    ]
}

pub async fn insert_value(tx: &mut Tx, v: &Value) -> CoreResult<()> {
    let mut cols = vec![
        ("id", v.id.as_str().into()),
        ("indicator_id", v.indicator_id.as_str().into()),
        ("period", v.period.as_str().into()),
        ("perimeter_kind", v.perimeter_kind.as_str().into()),
        ("perimeter_code", v.perimeter_code.as_str().into()),
    ];
    cols.extend(value_values(v));
    tx.execute(Sql::insert("ind_value", cols)).await?;
    locate_value(tx, &v.id).await?;
    refresh_rollup_of_value(tx, &v.id).await
}

/// Copies a school value's location (académie, département, commune) from the referential
/// onto the value row (nothing for the other levels).
pub async fn locate_value(tx: &mut Tx, id: &str) -> CoreResult<()> {
    tx.execute(
        Sql::new(&format!(
            "UPDATE ind_value SET {LOCATE} WHERE perimeter_kind = 'etablissement' AND id = "
        ))
        .bind(id),
    )
    .await?;
    Ok(())
}

/// The assignments that copy a school value's location from the referential.
const LOCATE: &str = "code_academie = (SELECT e.code_academie FROM etablissement e WHERE e.uai = ind_value.perimeter_code), \
     code_departement = (SELECT e.code_departement FROM etablissement e WHERE e.uai = ind_value.perimeter_code), \
     code_commune = (SELECT e.code_commune FROM etablissement e WHERE e.uai = ind_value.perimeter_code)";

/// Refreshes the location of every school value whose school moved in the referential
/// (called by the referential imports, in their transaction); returns how many moved.
pub async fn relocate_school_values(tx: &mut Tx) -> CoreResult<u64> {
    let moved = tx
        .execute(Sql::new(&format!(
            "UPDATE ind_value SET {LOCATE} WHERE perimeter_kind = 'etablissement' AND EXISTS (SELECT 1 FROM \
         etablissement e WHERE e.uai = ind_value.perimeter_code AND (COALESCE(e.code_academie, '') <> \
         COALESCE(ind_value.code_academie, '') OR COALESCE(e.code_departement, '') <> \
         COALESCE(ind_value.code_departement, '') OR COALESCE(e.code_commune, '') <> \
         COALESCE(ind_value.code_commune, '')))"
        )))
        .await?;
    if moved > 0 {
        rebuild_rollup(tx).await?;
    }
    Ok(moved)
}

/// Where a school is: académie, département, commune.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct SchoolLocation {
    pub uai: String,
    pub code_academie: Option<String>,
    pub code_departement: Option<String>,
    pub code_commune: Option<String>,
}

/// The location of the schools of the referential among `uais` (one query per 5,000).
pub async fn school_locations(tx: &mut Tx, uais: &[&str]) -> CoreResult<HashMap<String, SchoolLocation>> {
    let mut out = HashMap::with_capacity(uais.len());
    for chunk in uais.chunks(5_000) {
        let rows: Vec<SchoolLocation> = tx
            .fetch_all(
                Sql::new("SELECT uai, code_academie, code_departement, code_commune FROM etablissement WHERE uai IN ")
                    .bind_tuple(chunk.iter().copied()),
            )
            .await?;
        for r in rows {
            out.insert(r.uai.clone(), r);
        }
    }
    Ok(out)
}

pub async fn update_value(tx: &mut Tx, v: &Value, expected: i64) -> CoreResult<bool> {
    let changed = tx
        .execute(Sql::update_versioned(
            "ind_value",
            &v.id,
            expected,
            value_values(v),
        ))
        .await?
        == 1;
    if changed {
        refresh_rollup_of_value(tx, &v.id).await?;
    }
    Ok(changed)
}

// --- Roll-up of the school values (`ind_rollup`) ----------------------------------------------

/// The roll-up rows of the school values the statement filters further (`AND …`).
const ROLLUP_SELECT: &str = "INSERT INTO ind_rollup (indicator_id, period, code_academie, validated, n, s_value, \
     s_num, s_den, min_value, max_value, s_weighted) \
     SELECT indicator_id, period, COALESCE(code_academie, ''), \
     CASE WHEN status IN ('validee', 'verrouillee') THEN 1 ELSE 0 END, COUNT(*), SUM(value_e4), SUM(numerator_e4), \
     SUM(denominator_e4), MIN(value_e4), MAX(value_e4), SUM(value_e4 * denominator_e4) FROM ind_value \
     WHERE perimeter_kind = 'etablissement'";
const ROLLUP_GROUP: &str = " GROUP BY indicator_id, period, COALESCE(code_academie, ''), \
     CASE WHEN status IN ('validee', 'verrouillee') THEN 1 ELSE 0 END";

/// Rewrites the roll-up of an indicator's period, for one académie (`Some("")`: the
/// schools outside every académie) or all, from the school values; in the transaction that
/// wrote them.
pub async fn refresh_rollup(
    tx: &mut Tx,
    indicator_id: &str,
    period: &str,
    academie: Option<&str>,
) -> CoreResult<()> {
    let mut del = Sql::new("DELETE FROM ind_rollup WHERE indicator_id = ")
        .bind(indicator_id)
        .push(" AND period = ")
        .bind(period);
    let mut ins = Sql::new(&format!("{ROLLUP_SELECT} AND indicator_id = "))
        .bind(indicator_id)
        .push(" AND period = ")
        .bind(period);
    if let Some(a) = academie {
        del = del.push(" AND code_academie = ").bind(a);
        ins = if a.is_empty() {
            ins.push(" AND code_academie IS NULL")
        } else {
            ins.push(" AND code_academie = ").bind(a)
        };
    }
    tx.execute(del).await?;
    tx.execute(ins.push(ROLLUP_GROUP)).await?;
    Ok(())
}

/// Rewrites the whole roll-up (after the referential moved schools).
pub async fn rebuild_rollup(tx: &mut Tx) -> CoreResult<()> {
    tx.execute(Sql::new("DELETE FROM ind_rollup")).await?;
    tx.execute(Sql::new(ROLLUP_SELECT).push(ROLLUP_GROUP)).await?;
    Ok(())
}

/// Rewrites the roll-up row a school value belongs to (nothing for other levels).
async fn refresh_rollup_of_value(tx: &mut Tx, id: &str) -> CoreResult<()> {
    #[derive(sqlx::FromRow)]
    struct W {
        indicator_id: String,
        period: String,
        code_academie: Option<String>,
    }
    let w: Option<W> = tx
        .fetch_optional(
            Sql::new(
                "SELECT indicator_id, period, code_academie FROM ind_value WHERE perimeter_kind = 'etablissement' AND id = ",
            )
            .bind(id),
        )
        .await?;
    match w {
        Some(w) => {
            refresh_rollup(
                tx,
                &w.indicator_id,
                &w.period,
                Some(w.code_academie.as_deref().unwrap_or("")),
            )
            .await
        }
        None => Ok(()),
    }
}

pub async fn find_value(db: &Db, id: &str) -> CoreResult<Option<Value>> {
    db.fetch_optional(Sql::new(&format!("SELECT {VALUE_COLUMNS} FROM ind_value WHERE id = ")).bind(id))
        .await
}

pub async fn find_value_at(
    db: &Db,
    indicator_id: &str,
    period: &str,
    kind: &str,
    code: &str,
) -> CoreResult<Option<Value>> {
    db.fetch_optional(
        Sql::new(&format!(
            "SELECT {VALUE_COLUMNS} FROM ind_value WHERE indicator_id = "
        ))
        .bind(indicator_id)
        .push(" AND period = ")
        .bind(period)
        .push(" AND perimeter_kind = ")
        .bind(kind)
        .push(" AND perimeter_code = ")
        .bind(code),
    )
    .await
}

/// A value with its indicator's code.
#[derive(Debug, sqlx::FromRow)]
pub struct ValueWithCode {
    #[sqlx(flatten)]
    pub value: Value,
    pub indicator_code: String,
}

/// Where the lists of values look: indicators by id, a perimeter (`None`: all) and the
/// académies whose values the caller reads (`None`: all).
#[derive(Debug, Default)]
pub struct ValueScope {
    pub indicator_ids: Option<Vec<String>>,
    pub period: Option<String>,
    pub perimeter: Option<(String, String)>,
    pub status: Option<String>,
}

fn value_where(scope: &ValueScope) -> Sql {
    let mut q = Sql::new(" WHERE 1 = 1");
    if let Some(ids) = &scope.indicator_ids {
        if ids.is_empty() {
            q.push_mut(" AND 1 = 0");
        } else {
            q = q
                .push(" AND v.indicator_id IN ")
                .bind_tuple(ids.iter().map(String::as_str));
        }
    }
    if let Some(p) = &scope.period {
        q = q.push(" AND v.period = ").bind(p.as_str());
    }
    if let Some((k, c)) = &scope.perimeter {
        q = q
            .push(" AND v.perimeter_kind = ")
            .bind(k.as_str())
            .push(" AND v.perimeter_code = ")
            .bind(c.as_str());
    }
    if let Some(s) = &scope.status {
        q = q.push(" AND v.status = ").bind(s.as_str());
    }
    q
}

pub async fn list_values(db: &Db, scope: &ValueScope, page: PageRequest) -> CoreResult<Page<ValueWithCode>> {
    let filter = value_where(scope);
    let mut count = filter.clone();
    count.prepend("SELECT COUNT(*) FROM ind_value v");
    let total = db.fetch_scalar_i64(count).await?;
    let mut q = filter
        .push(" ORDER BY i.code, v.period DESC, v.perimeter_kind, v.perimeter_code LIMIT ")
        .bind(i64::from(page.per_page))
        .push(" OFFSET ")
        .bind(page.offset());
    q.prepend(&format!(
        "SELECT {}, i.code AS indicator_code FROM ind_value v JOIN ind_indicator i ON i.id = v.indicator_id",
        prefixed(VALUE_COLUMNS, "v")
    ));
    let items = db.fetch_all(q).await?;
    Ok(Page {
        items,
        total,
        page: page.page,
        per_page: page.per_page,
    })
}

/// The distinct periods that have values for an indicator, most recent first.
pub async fn periods_of(db: &Db, indicator_id: &str) -> CoreResult<Vec<String>> {
    #[derive(sqlx::FromRow)]
    struct P {
        period: String,
    }
    Ok(db
        .fetch_all::<P>(
            Sql::new("SELECT DISTINCT period FROM ind_value WHERE indicator_id = ")
                .bind(indicator_id)
                .push(" ORDER BY period DESC"),
        )
        .await?
        .into_iter()
        .map(|p| p.period)
        .collect())
}

/// One row of a bulk write: a value keyed by (indicator, period, perimeter).
#[derive(Debug, Clone)]
pub struct BulkValue {
    pub indicator_id: String,
    pub period: String,
    pub perimeter_kind: String,
    pub perimeter_code: String,
    pub value_e4: i64,
    pub numerator_e4: Option<i64>,
    pub denominator_e4: Option<i64>,
    pub comment: String,
}

/// Writes many values at once (multi-row `INSERT … ON CONFLICT DO UPDATE`), as `saisie`
/// with `provenance`; a value already there goes back to `saisie` with the new figures.
/// Locked values must have been left out by the caller; the `WHERE` keeps them anyway.
pub async fn upsert_values(
    tx: &mut Tx,
    rows: &[BulkValue],
    provenance: &str,
    entered_by: Option<&str>,
    entered_label: &str,
    now: OffsetDateTime,
) -> CoreResult<u64> {
    const COLS: usize = 18;
    // School values carry their location (see `lineage`): looked up here, so that no
    // caller can write a school value without it.
    let uais: Vec<&str> = rows
        .iter()
        .filter(|r| r.perimeter_kind == Level::Etablissement.as_str())
        .map(|r| r.perimeter_code.as_str())
        .collect::<std::collections::HashSet<_>>()
        .into_iter()
        .collect();
    let locations = school_locations(tx, &uais).await?;
    let nowhere = SchoolLocation::default();
    let mut written = 0;
    for chunk in rows.chunks(MAX_BIND / COLS) {
        let mut q = Sql::new(
            "INSERT INTO ind_value (id, indicator_id, period, perimeter_kind, perimeter_code, value_e4, \
             numerator_e4, denominator_e4, status, provenance, comment, entered_by, entered_label, entered_at, \
             updated_at, code_academie, code_departement, code_commune) VALUES ",
        );
        for (i, r) in chunk.iter().enumerate() {
            if i > 0 {
                q.push_mut(", ");
            }
            let at = if r.perimeter_kind == Level::Etablissement.as_str() {
                locations.get(&r.perimeter_code).unwrap_or(&nowhere)
            } else {
                &nowhere
            };
            q = q.bind_tuple([
                V::from(uuid::Uuid::now_v7().to_string()),
                r.indicator_id.as_str().into(),
                r.period.as_str().into(),
                r.perimeter_kind.as_str().into(),
                r.perimeter_code.as_str().into(),
                r.value_e4.into(),
                r.numerator_e4.into(),
                r.denominator_e4.into(),
                ValueStatus::Saisie.as_str().into(),
                provenance.into(),
                r.comment.as_str().into(),
                entered_by.into(),
                entered_label.into(),
                now.into(),
                now.into(),
                at.code_academie.as_deref().into(),
                at.code_departement.as_deref().into(),
                at.code_commune.as_deref().into(),
            ]);
        }
        q.push_mut(
            " ON CONFLICT (indicator_id, period, perimeter_kind, perimeter_code) DO UPDATE SET \
             code_academie = excluded.code_academie, code_departement = excluded.code_departement, \
             code_commune = excluded.code_commune, \
             value_e4 = excluded.value_e4, numerator_e4 = excluded.numerator_e4, \
             denominator_e4 = excluded.denominator_e4, status = 'saisie', provenance = excluded.provenance, \
             comment = excluded.comment, entered_by = excluded.entered_by, entered_label = excluded.entered_label, \
             entered_at = excluded.entered_at, validated_by = NULL, validated_at = NULL, \
             version = ind_value.version + 1, updated_at = excluded.updated_at \
             WHERE ind_value.status <> 'verrouillee'",
        );
        written += tx.execute(q).await?;
    }
    let touched: std::collections::BTreeSet<(&str, &str, &str)> = rows
        .iter()
        .filter(|r| r.perimeter_kind == Level::Etablissement.as_str())
        .map(|r| {
            let academie = locations
                .get(&r.perimeter_code)
                .and_then(|l| l.code_academie.as_deref())
                .unwrap_or("");
            (r.indicator_id.as_str(), r.period.as_str(), academie)
        })
        .collect();
    for (indicator_id, period, academie) in touched {
        refresh_rollup(tx, indicator_id, period, Some(academie)).await?;
    }
    Ok(written)
}

/// The indicators the platform computes (a formula), in a transaction.
pub async fn computed_indicators(tx: &mut Tx) -> CoreResult<Vec<Indicator>> {
    tx.fetch_all(Sql::new(&format!(
        "SELECT {INDICATOR_COLUMNS} FROM ind_indicator WHERE formula IS NOT NULL ORDER BY code"
    )))
    .await
}

/// The académies (`''`: the nation) where an indicator's period is locked, in a transaction.
pub async fn locks_in(tx: &mut Tx, indicator_id: &str, period: &str) -> CoreResult<Vec<String>> {
    #[derive(sqlx::FromRow)]
    struct L {
        academie_code: String,
    }
    Ok(tx
        .fetch_all::<L>(
            Sql::new("SELECT academie_code FROM ind_lock WHERE indicator_id = ")
                .bind(indicator_id)
                .push(" AND period = ")
                .bind(period),
        )
        .await?
        .into_iter()
        .map(|l| l.academie_code)
        .collect())
}

/// The keys (`kind:code`) of the locked values of an indicator and a period.
pub async fn locked_keys(db: &Db, indicator_id: &str, period: &str) -> CoreResult<Vec<String>> {
    #[derive(sqlx::FromRow)]
    struct K {
        perimeter_kind: String,
        perimeter_code: String,
    }
    Ok(db
        .fetch_all::<K>(
            Sql::new("SELECT perimeter_kind, perimeter_code FROM ind_value WHERE indicator_id = ")
                .bind(indicator_id)
                .push(" AND period = ")
                .bind(period)
                .push(" AND status = 'verrouillee'"),
        )
        .await?
        .into_iter()
        .map(|k| format!("{}:{}", k.perimeter_kind, k.perimeter_code))
        .collect())
}

// --- Locks ------------------------------------------------------------------------------------

/// The académies (`""`: nationally) where an indicator's period is locked.
pub async fn locks(db: &Db, indicator_id: &str, period: &str) -> CoreResult<Vec<String>> {
    #[derive(sqlx::FromRow)]
    struct L {
        academie_code: String,
    }
    Ok(db
        .fetch_all::<L>(
            Sql::new("SELECT academie_code FROM ind_lock WHERE indicator_id = ")
                .bind(indicator_id)
                .push(" AND period = ")
                .bind(period),
        )
        .await?
        .into_iter()
        .map(|l| l.academie_code)
        .collect())
}

pub async fn insert_lock(
    tx: &mut Tx,
    indicator_id: &str,
    period: &str,
    academie: &str,
    campaign_id: Option<&str>,
    by: &str,
    now: OffsetDateTime,
) -> CoreResult<()> {
    tx.execute(
        Sql::insert(
            "ind_lock",
            vec![
                ("indicator_id", indicator_id.into()),
                ("period", period.into()),
                ("academie_code", academie.into()),
                ("campaign_id", campaign_id.into()),
                ("locked_by", by.into()),
                ("locked_at", now.into()),
            ],
        )
        .push(" ON CONFLICT (indicator_id, period, academie_code) DO NOTHING"),
    )
    .await?;
    Ok(())
}

/// Locks every value of an indicator and a period in an académie (`None`: everywhere);
/// returns how many values were locked.
pub async fn lock_values(
    tx: &mut Tx,
    ind: &Indicator,
    period: &str,
    academie: Option<&str>,
    now: OffsetDateTime,
) -> CoreResult<u64> {
    let mut q = Sql::new("UPDATE ind_value SET status = 'verrouillee', version = version + 1, updated_at = ")
        .bind(now)
        .push(" WHERE indicator_id = ")
        .bind(ind.id.as_str())
        .push(" AND period = ")
        .bind(period)
        .push(" AND status <> 'verrouillee'");
    if let Some(a) = academie {
        let capture = ind.capture_level();
        let (joins, exprs) = lineage(capture);
        let Some(academie_expr) = exprs.of(Level::Academie) else {
            return Ok(0);
        };
        q = q
            .push(&format!(
                " AND perimeter_kind = '{}' AND perimeter_code IN (SELECT v.perimeter_code FROM ind_value v{joins} \
                 WHERE v.indicator_id = ",
                capture.as_str()
            ))
            .bind(ind.id.as_str())
            .push(" AND v.period = ")
            .bind(period)
            .push(&format!(" AND {academie_expr} = "))
            .bind(a)
            .push(")");
    }
    let locked = tx.execute(q).await?;
    refresh_rollup(tx, &ind.id, period, academie).await?;
    Ok(locked)
}

/// The académie a perimeter belongs to (itself for an académie), if any.
pub async fn academie_of(db: &Db, kind: &str, code: &str) -> CoreResult<Option<String>> {
    #[derive(sqlx::FromRow)]
    struct A {
        a: Option<String>,
    }
    let q = match kind {
        "etablissement" => Sql::new("SELECT code_academie AS a FROM etablissement WHERE uai = ").bind(code),
        "commune" => Sql::new(
            "SELECT d.code_academie AS a FROM commune c JOIN departement d ON d.code = c.code_departement \
             WHERE c.code = ",
        )
        .bind(code),
        "departement" => Sql::new("SELECT code_academie AS a FROM departement WHERE code = ").bind(code),
        "academie" => Sql::new("SELECT code AS a FROM academie WHERE code = ").bind(code),
        _ => return Ok(None),
    };
    Ok(db.fetch_optional::<A>(q).await?.and_then(|a| a.a))
}

// --- Consolidation ----------------------------------------------------------------------------

/// The SQL expressions that give, for a value captured at some level, the code of each
/// level above it.
pub struct Lineage {
    exprs: [Option<&'static str>; 6],
}

impl Lineage {
    /// The expression of `level`'s code (`''` for national), or `None` when the capture level
    /// is above it.
    pub fn of(&self, level: Level) -> Option<&'static str> {
        self.exprs[level.rank()]
    }
}

/// The code of every level above a school, read on the referential's row `e` (joined to
/// `academie a`).
const SCHOOL_LINEAGE: Lineage = Lineage {
    exprs: [
        Some("e.uai"),
        Some("e.code_commune"),
        Some("e.code_departement"),
        Some("e.code_academie"),
        Some("a.code_region_academique"),
        Some("''"),
    ],
};

/// The joins from `ind_value v` up the referential, and the code of every level above the
/// capture level.
pub fn lineage(capture: Level) -> (&'static str, Lineage) {
    let (joins, exprs) = match capture {
        // A school's value carries its location (written with it, refreshed by the
        // referential imports): no join to `etablissement`; the académie table (30 rows)
        // only for the région académique (both engines drop the unused LEFT JOIN on a key).
        Level::Etablissement => (
            " LEFT JOIN academie a ON a.code = v.code_academie",
            [
                Some("v.perimeter_code"),
                Some("v.code_commune"),
                Some("v.code_departement"),
                Some("v.code_academie"),
                Some("a.code_region_academique"),
                Some("''"),
            ],
        ),
        Level::Commune => (
            " JOIN commune c ON c.code = v.perimeter_code JOIN departement d ON d.code = c.code_departement \
             LEFT JOIN academie a ON a.code = d.code_academie",
            [
                None,
                Some("v.perimeter_code"),
                Some("c.code_departement"),
                Some("d.code_academie"),
                Some("a.code_region_academique"),
                Some("''"),
            ],
        ),
        Level::Departement => (
            " JOIN departement d ON d.code = v.perimeter_code LEFT JOIN academie a ON a.code = d.code_academie",
            [
                None,
                None,
                Some("v.perimeter_code"),
                Some("d.code_academie"),
                Some("a.code_region_academique"),
                Some("''"),
            ],
        ),
        Level::Academie => (
            " JOIN academie a ON a.code = v.perimeter_code",
            [
                None,
                None,
                None,
                Some("v.perimeter_code"),
                Some("a.code_region_academique"),
                Some("''"),
            ],
        ),
        Level::RegionAcademique => ("", [None, None, None, None, Some("v.perimeter_code"), Some("''")]),
        Level::National => ("", [None, None, None, None, None, Some("''")]),
    };
    (joins, Lineage { exprs })
}

/// The aggregate of an indicator's values for one period, under one perimeter
/// (`parent` level and code), grouped by the code of `child` level: one row per child, built
/// by the database (`GROUP BY` over the joins to the referential).
pub async fn partials(
    db: &Db,
    ind: &Indicator,
    period: &str,
    parent: (Level, &str),
    child: Level,
    validated_only: bool,
) -> CoreResult<Vec<Partial>> {
    let capture = ind.capture_level();
    if capture == Level::Etablissement && child.rank() >= Level::Academie.rank() {
        return rollup_partials(db, ind, period, parent, child, validated_only).await;
    }
    let (joins, lineage) = lineage(capture);
    let (Some(parent_expr), Some(child_expr)) = (lineage.of(parent.0), lineage.of(child)) else {
        return Ok(Vec::new());
    };
    let mut q = Sql::new(&format!(
        "SELECT {child_expr} AS code, COUNT(*) AS n, CAST(SUM(v.value_e4) AS BIGINT) AS s_value, \
         CAST(SUM(v.numerator_e4) AS BIGINT) AS s_num, CAST(SUM(v.denominator_e4) AS BIGINT) AS s_den, \
         MIN(v.value_e4) AS min_value, MAX(v.value_e4) AS max_value, \
         CAST(SUM(v.value_e4 * v.denominator_e4) AS BIGINT) AS s_weighted \
         FROM ind_value v{joins} WHERE v.indicator_id = "
    ))
    .bind(ind.id.as_str())
    .push(" AND v.period = ")
    .bind(period)
    .push(" AND v.perimeter_kind = ")
    .bind(capture.as_str());
    if parent.0 != Level::National {
        q = q.push(&format!(" AND {parent_expr} = ")).bind(parent.1);
    }
    if validated_only {
        q.push_mut(" AND v.status IN ('validee', 'verrouillee')");
    }
    if child != Level::National {
        // PostgreSQL refuses to group by a constant: the nation is one group anyway.
        q.push_mut(&format!(" GROUP BY {child_expr}"));
    }
    db.fetch_all(q).await
}

/// [`partials`] of school values by académie, région académique or nation, read from the
/// roll-up (`ind_rollup`, at most two rows per académie) instead of the values.
async fn rollup_partials(
    db: &Db,
    ind: &Indicator,
    period: &str,
    parent: (Level, &str),
    child: Level,
    validated_only: bool,
) -> CoreResult<Vec<Partial>> {
    let expr = |level: Level| match level {
        Level::Academie => Some("NULLIF(r.code_academie, '')"),
        Level::RegionAcademique => Some("a.code_region_academique"),
        Level::National => Some("''"),
        _ => None,
    };
    let (Some(parent_expr), Some(child_expr)) = (expr(parent.0), expr(child)) else {
        return Ok(Vec::new());
    };
    let mut q = Sql::new(&format!(
        "SELECT {child_expr} AS code, CAST(COALESCE(SUM(r.n), 0) AS BIGINT) AS n, \
         CAST(SUM(r.s_value) AS BIGINT) AS s_value, CAST(SUM(r.s_num) AS BIGINT) AS s_num, \
         CAST(SUM(r.s_den) AS BIGINT) AS s_den, MIN(r.min_value) AS min_value, MAX(r.max_value) AS max_value, \
         CAST(SUM(r.s_weighted) AS BIGINT) AS s_weighted \
         FROM ind_rollup r LEFT JOIN academie a ON a.code = r.code_academie WHERE r.indicator_id = "
    ))
    .bind(ind.id.as_str())
    .push(" AND r.period = ")
    .bind(period);
    if parent.0 != Level::National {
        q = q.push(&format!(" AND {parent_expr} = ")).bind(parent.1);
    }
    if validated_only {
        q.push_mut(" AND r.validated = 1");
    }
    if child != Level::National {
        q.push_mut(&format!(" GROUP BY {child_expr}"));
    }
    db.fetch_all(q).await
}

/// The source values themselves under a perimeter (drill-down at the capture level).
pub async fn source_values(
    db: &Db,
    ind: &Indicator,
    period: &str,
    parent: (Level, &str),
    validated_only: bool,
    limit: i64,
) -> CoreResult<Vec<Value>> {
    let capture = ind.capture_level();
    let (joins, lineage) = lineage(capture);
    let Some(parent_expr) = lineage.of(parent.0) else {
        return Ok(Vec::new());
    };
    let mut q = Sql::new(&format!(
        "SELECT {} FROM ind_value v{joins} WHERE v.indicator_id = ",
        prefixed(VALUE_COLUMNS, "v")
    ))
    .bind(ind.id.as_str())
    .push(" AND v.period = ")
    .bind(period)
    .push(" AND v.perimeter_kind = ")
    .bind(capture.as_str());
    if parent.0 != Level::National {
        q = q.push(&format!(" AND {parent_expr} = ")).bind(parent.1);
    }
    if validated_only {
        q.push_mut(" AND v.status IN ('validee', 'verrouillee')");
    }
    q = q.push(" ORDER BY v.perimeter_code LIMIT ").bind(limit);
    db.fetch_all(q).await
}

/// A count of referential perimeters, by code of a level above them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CodeCount {
    pub code: Option<String>,
    pub n: i64,
    pub label: Option<String>,
}

/// The perimeters of `level` in the referential under `parent`, with their label.
pub async fn referential_members(db: &Db, level: Level, parent: (Level, &str)) -> CoreResult<Vec<CodeCount>> {
    let (table, code, label, lineage) = match level {
        Level::Etablissement => (
            "etablissement e LEFT JOIN academie a ON a.code = e.code_academie",
            "e.uai",
            "e.nom",
            SCHOOL_LINEAGE,
        ),
        Level::Commune => (
            "commune c JOIN departement d ON d.code = c.code_departement LEFT JOIN academie a ON a.code = d.code_academie",
            "c.code",
            "c.nom",
            lineage(Level::Commune).1,
        ),
        Level::Departement => (
            "departement d LEFT JOIN academie a ON a.code = d.code_academie",
            "d.code",
            "d.nom",
            lineage(Level::Departement).1,
        ),
        Level::Academie => ("academie a", "a.code", "a.nom", lineage(Level::Academie).1),
        Level::RegionAcademique => (
            "region_academique r",
            "r.code",
            "r.nom",
            Lineage {
                exprs: [None, None, None, None, Some("r.code"), Some("''")],
            },
        ),
        Level::National => return Ok(Vec::new()),
    };
    // The lineage expressions name the value's own code `v.perimeter_code`: here the row's.
    let parent_expr = match lineage.of(parent.0) {
        Some("v.perimeter_code") => code,
        Some(e) => e,
        None => return Ok(Vec::new()),
    };
    let mut q = Sql::new(&format!(
        "SELECT {code} AS code, CAST(1 AS BIGINT) AS n, {label} AS label FROM {table} WHERE 1 = 1"
    ));
    if level == Level::Academie {
        q.push_mut(" AND a.kind = 'academie'");
    }
    if parent.0 != Level::National {
        q = q.push(&format!(" AND {parent_expr} = ")).bind(parent.1);
    }
    q.push_mut(&format!(" ORDER BY {code}"));
    db.fetch_all(q).await
}

/// How many perimeters of the capture level the referential holds under `parent`, grouped
/// by `child` level (for the completeness of each child), in one aggregate.
pub async fn expected_sources(
    db: &Db,
    capture: Level,
    parent: (Level, &str),
    child: Level,
) -> CoreResult<Vec<CodeCount>> {
    let (table, lineage) = match capture {
        // The académie table only when the région académique is asked (otherwise the count
        // is one range or scan of the index `etablissement_academie` or
        // `etablissement_departement`).
        Level::Etablissement => (
            if parent.0 == Level::RegionAcademique || child == Level::RegionAcademique {
                "etablissement e LEFT JOIN academie a ON a.code = e.code_academie"
            } else {
                "etablissement e"
            },
            SCHOOL_LINEAGE,
        ),
        Level::Commune => (
            "commune c JOIN departement d ON d.code = c.code_departement LEFT JOIN academie a ON a.code = d.code_academie",
            Lineage {
                exprs: [
                    None,
                    Some("c.code"),
                    Some("c.code_departement"),
                    Some("d.code_academie"),
                    Some("a.code_region_academique"),
                    Some("''"),
                ],
            },
        ),
        Level::Departement => (
            "departement d JOIN academie a ON a.code = d.code_academie",
            Lineage {
                exprs: [
                    None,
                    None,
                    Some("d.code"),
                    Some("d.code_academie"),
                    Some("a.code_region_academique"),
                    Some("''"),
                ],
            },
        ),
        Level::Academie => (
            "academie a",
            Lineage {
                exprs: [
                    None,
                    None,
                    None,
                    Some("a.code"),
                    Some("a.code_region_academique"),
                    Some("''"),
                ],
            },
        ),
        Level::RegionAcademique => (
            "region_academique r",
            Lineage {
                exprs: [None, None, None, None, Some("r.code"), Some("''")],
            },
        ),
        Level::National => {
            return Ok(vec![CodeCount {
                code: Some(String::new()),
                n: 1,
                label: None,
            }]);
        }
    };
    let (Some(parent_expr), Some(child_expr)) = (lineage.of(parent.0), lineage.of(child)) else {
        return Ok(Vec::new());
    };
    let mut q = Sql::new(&format!(
        "SELECT {child_expr} AS code, COUNT(*) AS n, NULL AS label FROM {table} WHERE 1 = 1"
    ));
    if capture == Level::Academie {
        q.push_mut(" AND a.kind = 'academie'");
    }
    if parent.0 != Level::National {
        q = q.push(&format!(" AND {parent_expr} = ")).bind(parent.1);
    }
    if child != Level::National {
        // PostgreSQL refuses to group by a constant: the nation is one group anyway.
        q.push_mut(&format!(" GROUP BY {child_expr}"));
    }
    db.fetch_all(q).await
}

// --- Campaigns --------------------------------------------------------------------------------

const CAMPAIGN_COLUMNS: &str = "id, title, owner_kind, owner_code, period, opens_on, closes_on, grace_days, status, \
     instructions, created_by, closed_at, version, created_at, updated_at";

fn campaign_values(c: &Campaign) -> Vec<(&'static str, V)> {
    vec![
        ("title", c.title.as_str().into()),
        ("owner_kind", c.owner_kind.as_str().into()),
        ("owner_code", c.owner_code.as_str().into()),
        ("period", c.period.as_str().into()),
        ("opens_on", c.opens_on.into()),
        ("closes_on", c.closes_on.into()),
        ("grace_days", c.grace_days.into()),
        ("status", c.status.as_str().into()),
        ("instructions", c.instructions.as_str().into()),
        ("created_by", c.created_by.as_deref().into()),
        ("closed_at", c.closed_at.into()),
        ("updated_at", c.updated_at.into()),
    ]
}

pub async fn insert_campaign(
    tx: &mut Tx,
    c: &Campaign,
    indicator_ids: &[String],
    academies: &[String],
) -> CoreResult<()> {
    let mut cols = vec![("id", c.id.as_str().into()), ("created_at", c.created_at.into())];
    cols.extend(campaign_values(c));
    tx.execute(Sql::insert("ind_campaign", cols)).await?;
    for i in indicator_ids {
        tx.execute(Sql::insert(
            "ind_campaign_indicator",
            vec![
                ("campaign_id", c.id.as_str().into()),
                ("indicator_id", i.as_str().into()),
            ],
        ))
        .await?;
    }
    for a in academies {
        tx.execute(Sql::insert(
            "ind_campaign_academie",
            vec![
                ("campaign_id", c.id.as_str().into()),
                ("academie_code", a.as_str().into()),
            ],
        ))
        .await?;
    }
    Ok(())
}

pub async fn update_campaign(tx: &mut Tx, c: &Campaign, expected: i64) -> CoreResult<bool> {
    Ok(tx
        .execute(Sql::update_versioned(
            "ind_campaign",
            &c.id,
            expected,
            campaign_values(c),
        ))
        .await?
        == 1)
}

pub async fn find_campaign(db: &Db, id: &str) -> CoreResult<Option<Campaign>> {
    db.fetch_optional(
        Sql::new(&format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM ind_campaign WHERE id = "
        ))
        .bind(id),
    )
    .await
}

pub async fn list_campaigns(db: &Db) -> CoreResult<Vec<Campaign>> {
    db.fetch_all(Sql::new(&format!(
        "SELECT {CAMPAIGN_COLUMNS} FROM ind_campaign ORDER BY opens_on DESC, title"
    )))
    .await
}

pub async fn campaign_indicators(db: &Db, id: &str) -> CoreResult<Vec<Indicator>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {} FROM ind_indicator i JOIN ind_campaign_indicator c ON c.indicator_id = i.id \
             WHERE c.campaign_id = ",
            prefixed(INDICATOR_COLUMNS, "i")
        ))
        .bind(id)
        .push(" ORDER BY i.code"),
    )
    .await
}

pub async fn campaign_academies(db: &Db, id: &str) -> CoreResult<Vec<CodeCount>> {
    db.fetch_all(
        Sql::new(
            "SELECT a.code AS code, CAST(1 AS BIGINT) AS n, a.nom AS label FROM academie a \
             JOIN ind_campaign_academie c ON c.academie_code = a.code WHERE c.campaign_id = ",
        )
        .bind(id)
        .push(" ORDER BY a.code"),
    )
    .await
}

/// The académies of a perimeter (all 30 for `national`).
pub async fn academies_under(db: &Db, kind: &str, code: &str) -> CoreResult<Vec<String>> {
    let q = match kind {
        "national" => Sql::new("SELECT code, CAST(1 AS BIGINT) AS n, nom AS label FROM academie WHERE kind = 'academie' ORDER BY code"),
        "region-academique" => Sql::new(
            "SELECT code, CAST(1 AS BIGINT) AS n, nom AS label FROM academie WHERE kind = 'academie' AND code_region_academique = ",
        )
        .bind(code)
        .push(" ORDER BY code"),
        _ => Sql::new("SELECT code, CAST(1 AS BIGINT) AS n, nom AS label FROM academie WHERE code = ").bind(code),
    };
    Ok(db
        .fetch_all::<CodeCount>(q)
        .await?
        .into_iter()
        .filter_map(|c| c.code)
        .collect())
}

/// A person to write to about an académie's figures.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Responsible {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub academie: String,
}

/// The people answerable for the figures of these académies on `day`: the DAN and the
/// members of the DANE holding a role on the académie.
pub async fn responsibles(db: &Db, academies: &[String], day: Date) -> CoreResult<Vec<Responsible>> {
    if academies.is_empty() {
        return Ok(Vec::new());
    }
    db.fetch_all(
        Sql::new(
            "SELECT u.id AS user_id, u.email, u.display_name, r.perimeter_code AS academie \
             FROM role_assignment r JOIN app_user u ON u.id = r.user_id \
             WHERE r.role IN ('dan', 'membre-dane') AND r.perimeter_kind = 'academie' AND u.status = 'active' \
             AND r.valid_from <= ",
        )
        .bind(day)
        .push(" AND (r.valid_until IS NULL OR r.valid_until > ")
        .bind(day)
        .push(") AND r.perimeter_code IN ")
        .bind_tuple(academies.iter().map(String::as_str))
        .push(" ORDER BY r.perimeter_code, u.email"),
    )
    .await
}

/// Per (académie, indicator): how many values of the period exist at the capture level.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FilledCount {
    pub academie: Option<String>,
    pub n: i64,
}

/// How many values each académie has for an indicator and a period (one aggregate).
pub async fn filled_by_academie(db: &Db, ind: &Indicator, period: &str) -> CoreResult<Vec<FilledCount>> {
    let capture = ind.capture_level();
    let (joins, lineage) = lineage(capture);
    let Some(academie_expr) = lineage.of(Level::Academie) else {
        return Ok(Vec::new());
    };
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {academie_expr} AS academie, COUNT(*) AS n FROM ind_value v{joins} WHERE v.indicator_id = "
        ))
        .bind(ind.id.as_str())
        .push(" AND v.period = ")
        .bind(period)
        .push(" AND v.perimeter_kind = ")
        .bind(capture.as_str())
        .push(&format!(" GROUP BY {academie_expr}")),
    )
    .await
}
