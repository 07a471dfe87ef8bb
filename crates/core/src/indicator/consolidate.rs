//! Consolidation up the territory: school → commune → département → académie → région
//! académique → national, by each indicator's rule, computed by the database (one
//! `GROUP BY` over the joins from the values to the referential), with its completeness and
//! the figures one level down (down to the source values themselves).

use std::collections::HashMap;

use crate::db::Db;
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;

use super::model::*;
use super::repo;
use super::service::{Place, load_indicator, place_label};

/// The most source values a drill-down lists at the capture level.
pub const MAX_SOURCE_ROWS: i64 = 5_000;

/// What to consolidate.
#[derive(Debug, Clone)]
pub struct ConsolidationQuery {
    pub indicator: String,
    pub period: String,
    /// The perimeter of the figure (`national` by default).
    pub perimeter: Option<String>,
    /// The level of the figures beneath (by default the level just below, not beneath the
    /// capture level).
    pub child_level: Option<String>,
    /// Count only validated and locked values.
    pub validated_only: bool,
}

fn figure(ind: &Indicator, place: &Place, label: String, p: &Partial, completeness: Completeness) -> Figure {
    let value = p.value(ind);
    Figure {
        perimeter: place.text(),
        label,
        level: place.level,
        value,
        numerator: p.s_num.filter(|_| ind.has_parts()).map(Dec),
        denominator: p.s_den.filter(|_| ind.has_parts()).map(Dec),
        rag: value.and_then(|v| ind.rag(v)),
        sources: p.n,
        completeness,
        value_id: None,
        status: None,
    }
}

/// The consolidated figure of an indicator for a period and a perimeter, with the figures
/// it comes from one level down. Readers of the perimeter may ask.
pub async fn consolidate(db: &Db, by: &Principal, q: &ConsolidationQuery) -> CoreResult<Consolidation> {
    let ind = load_indicator(db, by, &q.indicator).await?;
    let Some(period) = check_period(ind.periodicity(), &q.period) else {
        return Err(CoreError::BadRequest(vec![period_error(
            "periode",
            ind.periodicity(),
            &q.period,
        )]));
    };
    let place = match q.perimeter.as_deref().filter(|p| !p.trim().is_empty()) {
        Some(p) => Place::parse(p, "perimetre").map_err(|e| CoreError::BadRequest(e.fields().to_vec()))?,
        None => Place::national(),
    };
    let capture = ind.capture_level();
    if place.level.rank() < capture.rank() {
        return Err(CoreError::bad_request(
            "perimetre",
            format!(
                "l'indicateur se saisit au niveau « {} » : pas en dessous",
                capture.as_str()
            ),
        ));
    }
    let child = match q.child_level.as_deref().filter(|c| !c.trim().is_empty()) {
        Some(c) => {
            let c = Level::from_code(c)
                .ok_or_else(|| CoreError::bad_request("niveau", format!("niveau « {c} » inconnu")))?;
            if c.rank() >= place.level.rank() || c.rank() < capture.rank() {
                return Err(CoreError::bad_request(
                    "niveau",
                    format!(
                        "entre « {} » (niveau de saisie) et « {} » (exclu)",
                        capture.as_str(),
                        place.level.as_str()
                    ),
                ));
            }
            Some(c)
        }
        None => place.level.below().filter(|c| c.rank() >= capture.rank()),
    };
    if !super::service::can_read_place(db, by, &place).await? {
        return Err(CoreError::not_found("perimetre", place.text()));
    }
    consolidate_unchecked(db, &ind, &period, &place, child, q.validated_only).await
}

/// The consolidation without the rights check (open data, report packs).
pub async fn consolidate_unchecked(
    db: &Db,
    ind: &Indicator,
    period: &str,
    place: &Place,
    child: Option<Level>,
    validated_only: bool,
) -> CoreResult<Consolidation> {
    let capture = ind.capture_level();
    let label = place_label(db, place).await?;
    let parent = (place.level, place.code.as_str());
    let Some(child) = child else {
        // No level beneath: the figure alone (at the capture level, the value itself).
        let partials = repo::partials(db, ind, period, parent, place.level, validated_only).await?;
        let mut total = Partial::default();
        for p in &partials {
            total.merge(p);
        }
        let sources_expected = if place.level == capture {
            1
        } else {
            repo::expected_sources(db, capture, parent, place.level)
                .await?
                .iter()
                .map(|c| c.n)
                .sum()
        };
        let completeness = Completeness {
            sources_with_data: total.n,
            sources_expected,
            ..Completeness::default()
        };
        let mut fig = figure(ind, place, label, &total, completeness);
        if place.level == capture
            && let Some(v) = repo::source_values(db, ind, period, parent, validated_only, 1)
                .await?
                .into_iter()
                .next()
        {
            fig.value_id = Some(v.id);
            fig.status = Some(v.status);
        }
        return Ok(Consolidation {
            indicator: ind.clone(),
            period: period.to_owned(),
            figure: fig,
            children_level: None,
            children: Vec::new(),
            validated_only,
        });
    };
    let partials = repo::partials(db, ind, period, parent, child, validated_only).await?;
    let expected = repo::expected_sources(db, capture, parent, child).await?;
    let expected: HashMap<String, i64> = expected
        .into_iter()
        .map(|c| (c.code.unwrap_or_default(), c.n))
        .collect();
    let mut total = Partial::default();
    for p in &partials {
        total.merge(p);
    }
    let by_code: HashMap<&str, &Partial> = partials
        .iter()
        .filter_map(|p| p.code.as_deref().map(|c| (c, p)))
        .collect();
    let mut children = Vec::new();
    let mut children_with_data = 0;
    let children_expected;
    if child == capture {
        // The drill-down ends on the values themselves.
        let values = repo::source_values(db, ind, period, parent, validated_only, MAX_SOURCE_ROWS).await?;
        let labels: HashMap<String, String> = if place.level.rank() <= Level::Academie.rank() {
            repo::referential_members(db, child, parent)
                .await?
                .into_iter()
                .filter_map(|c| Some((c.code?, c.label.unwrap_or_default())))
                .collect()
        } else {
            HashMap::new()
        };
        children_expected = expected.values().sum();
        children_with_data = total.n;
        for v in values {
            let p = Partial {
                code: Some(v.perimeter_code.clone()),
                n: 1,
                s_value: Some(v.value_e4),
                s_num: v.numerator_e4,
                s_den: v.denominator_e4,
                min_value: Some(v.value_e4),
                max_value: Some(v.value_e4),
                s_weighted: v.denominator_e4.map(|w| v.value_e4.saturating_mul(w)),
            };
            let child_place = Place {
                level: child,
                code: v.perimeter_code.clone(),
            };
            let label = labels
                .get(&v.perimeter_code)
                .cloned()
                .unwrap_or_else(|| v.perimeter_code.clone());
            let mut fig = figure(
                ind,
                &child_place,
                label,
                &p,
                Completeness {
                    sources_with_data: 1,
                    sources_expected: 1,
                    ..Completeness::default()
                },
            );
            fig.value_id = Some(v.id);
            fig.status = Some(v.status);
            children.push(fig);
        }
    } else {
        let members = repo::referential_members(db, child, parent).await?;
        children_expected = i64::try_from(members.len()).unwrap_or(i64::MAX);
        for m in members {
            let code = m.code.unwrap_or_default();
            let empty = Partial::default();
            let p = by_code.get(code.as_str()).copied().unwrap_or(&empty);
            if p.n > 0 {
                children_with_data += 1;
            }
            let child_place = Place {
                level: child,
                code: code.clone(),
            };
            children.push(figure(
                ind,
                &child_place,
                m.label.unwrap_or_else(|| code.clone()),
                p,
                Completeness {
                    sources_with_data: p.n,
                    sources_expected: expected.get(&code).copied().unwrap_or(0),
                    ..Completeness::default()
                },
            ));
        }
    }
    let completeness = Completeness {
        children_with_data,
        children_expected,
        sources_with_data: total.n,
        sources_expected: expected.values().sum(),
    };
    Ok(Consolidation {
        indicator: ind.clone(),
        period: period.to_owned(),
        figure: figure(ind, place, label, &total, completeness),
        children_level: Some(child),
        children,
        validated_only,
    })
}

/// The consolidated figure of every period that has values, most recent first (a time
/// series for the dashboards).
pub async fn series(
    db: &Db,
    by: &Principal,
    code: &str,
    perimeter: Option<&str>,
    validated_only: bool,
) -> CoreResult<Vec<(String, Figure)>> {
    let ind = load_indicator(db, by, code).await?;
    let place = match perimeter.filter(|p| !p.trim().is_empty()) {
        Some(p) => Place::parse(p, "perimetre").map_err(|e| CoreError::BadRequest(e.fields().to_vec()))?,
        None => Place::national(),
    };
    if !super::service::can_read_place(db, by, &place).await? {
        return Err(CoreError::not_found("perimetre", place.text()));
    }
    let mut out = Vec::new();
    for period in repo::periods_of(db, &ind.id).await? {
        let c = consolidate_unchecked(db, &ind, &period, &place, None, validated_only).await;
        // A perimeter below the capture level has no figure: skip, don't fail.
        if let Ok(c) = c {
            out.push((period, c.figure));
        }
    }
    Ok(out)
}
