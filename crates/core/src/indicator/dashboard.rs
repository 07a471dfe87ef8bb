//! What the dashboards and the report pack read: the key figures of a perimeter, one
//! indicator's pictures (series, comparison one level down, maps by académie and by
//! département), and the national projects with their indicators. Reads only: built on the
//! consolidation, with the same rights (readers of the perimeter).

use crate::db::{Db, Sql};
use crate::error::{CoreError, CoreResult};
use crate::identity::{Capability, Perimeter, Principal};
use crate::strategy::model::NationalProject;

use super::consolidate::{consolidate_unchecked, series};
use super::model::*;
use super::repo;
use super::service::{Place, can_read_place, indicator, indicators, load_indicator, place_label};

/// The perimeter a person's dashboards open on: the nation for national readers, else the
/// académie of their first grant (or the one above their département or school).
pub async fn home_place(db: &Db, by: &Principal) -> CoreResult<Place> {
    if by.can(db, Capability::Read, &Perimeter::National).await? {
        return Ok(Place::national());
    }
    Ok(viewer_academie(db, by)
        .await?
        .map_or_else(Place::national, |code| Place {
            level: Level::Academie,
            code,
        }))
}

/// The académie of a person's first grant at or below an académie, if any.
pub async fn viewer_academie(db: &Db, by: &Principal) -> CoreResult<Option<String>> {
    for g in &by.grants {
        let found = match &g.perimeter {
            Perimeter::Academie(a) => Some(a.clone()),
            Perimeter::Departement(d) => repo::academie_of(db, Level::Departement.as_str(), d).await?,
            Perimeter::Etablissement(u) => repo::academie_of(db, Level::Etablissement.as_str(), u).await?,
            _ => None,
        };
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// The perimeter asked for, or the person's home; `NotFound` when they do not read it.
pub async fn focus(db: &Db, by: &Principal, perimeter: Option<&str>) -> CoreResult<Place> {
    let place = match perimeter.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => Place::parse(p, "perimetre").map_err(|e| CoreError::BadRequest(e.fields().to_vec()))?,
        None => home_place(db, by).await?,
    };
    if !can_read_place(db, by, &place).await? {
        return Err(CoreError::not_found("perimetre", place.text()));
    }
    Ok(place)
}

/// The target (`cible`) set for a perimeter and a period, if any.
pub fn target_for(targets: &[Target], place: &Place, period: &str) -> Option<Dec> {
    targets
        .iter()
        .find(|t| {
            t.kind == TargetKind::Cible.as_str()
                && t.perimeter_kind == place.level.as_str()
                && t.perimeter_code == place.code
                && t.period == period
        })
        .map(|t| Dec(t.value_e4))
}

/// The level a perimeter's figure is compared and counted by: the académies for the
/// nation (the level people steer by), else the level just below; never under the capture
/// level.
pub fn detail_level(place: &Place, capture: Level) -> Option<Level> {
    let below = if place.level == Level::National {
        Some(Level::Academie)
    } else {
        place.level.below()
    };
    below.filter(|c| c.rank() >= capture.rank())
}

/// One line of a dashboard: an indicator, its latest period with values, the consolidated
/// figure there (with its completeness) and the target.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyFigure {
    pub indicator: Indicator,
    pub period: Option<String>,
    pub figure: Option<Figure>,
    pub target: Option<Dec>,
}

async fn key_figure(db: &Db, ind: Indicator, place: &Place, validated_only: bool) -> CoreResult<KeyFigure> {
    let targets = repo::targets_of(db, &ind.id).await?;
    let period = repo::periods_of(db, &ind.id).await?.into_iter().next();
    let mut figure = None;
    if let Some(p) = &period
        && place.level.rank() >= ind.capture_level().rank()
    {
        // One level down, for the completeness ("27 sur 30 académies").
        let below = detail_level(place, ind.capture_level());
        figure = Some(
            consolidate_unchecked(db, &ind, p, place, below, validated_only)
                .await?
                .figure,
        );
    }
    let target = period.as_deref().and_then(|p| target_for(&targets, place, p));
    Ok(KeyFigure {
        indicator: ind,
        period,
        figure,
        target,
    })
}

/// The key figures of a perimeter: every indicator the person sees (national first), at its
/// latest period with values. Readers of the perimeter may ask.
pub async fn key_figures(db: &Db, by: &Principal, place: &Place) -> CoreResult<Vec<KeyFigure>> {
    if !can_read_place(db, by, place).await? {
        return Err(CoreError::not_found("perimetre", place.text()));
    }
    let mut list = indicators(db, by, None).await?;
    list.sort_by(|a, b| (a.owner_kind != "national", &a.code).cmp(&(b.owner_kind != "national", &b.code)));
    let mut out = Vec::with_capacity(list.len());
    for ind in list {
        out.push(key_figure(db, ind, place, false).await?);
    }
    Ok(out)
}

/// The figures of a series by period, oldest first.
pub type Points = Vec<(String, Option<Dec>)>;

/// Everything the dashboard of one indicator draws.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorDashboard {
    pub view: IndicatorView,
    /// The perimeter of the figure and its label.
    pub place: Place,
    pub place_label: String,
    /// Every period with values, most recent first, and the one shown.
    pub periods: Vec<String>,
    pub period: Option<String>,
    /// The series, oldest first: `(name, points by period)` for the nation (when read) and
    /// the person's académie (or the perimeter shown).
    pub series: Vec<(String, Points)>,
    /// The figure of the period with the figures one level down (the comparison).
    pub comparison: Option<Consolidation>,
    /// By académie and by département (national and académie perimeters only).
    pub academies: Option<Consolidation>,
    pub departements: Option<Consolidation>,
    pub target: Option<Dec>,
}

/// The dashboard of one indicator for a period (the latest by default) and a perimeter
/// (the person's home by default).
pub async fn indicator_dashboard(
    db: &Db,
    by: &Principal,
    code: &str,
    period: Option<&str>,
    perimeter: Option<&str>,
) -> CoreResult<IndicatorDashboard> {
    let view = indicator(db, by, code).await?;
    let ind = view.indicator.clone();
    let place = focus(db, by, perimeter).await?;
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
    let label = place_label(db, &place).await?;
    let periods = repo::periods_of(db, &ind.id).await?;
    let period = match period.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => Some(
            check_period(ind.periodicity(), p)
                .ok_or_else(|| CoreError::BadRequest(vec![period_error("periode", ind.periodicity(), p)]))?,
        ),
        None => periods.first().cloned(),
    };
    // The series: the nation when read, and the académie of the person or of the focus.
    let mut lines: Vec<Place> = Vec::new();
    if can_read_place(db, by, &Place::national()).await? {
        lines.push(Place::national());
    }
    let academie = match place.level {
        Level::Academie => Some(place.code.clone()),
        Level::National | Level::RegionAcademique => viewer_academie(db, by).await?,
        _ => repo::academie_of(db, place.level.as_str(), &place.code).await?,
    };
    if let Some(a) = academie.filter(|_| capture.rank() <= Level::Academie.rank()) {
        let p = Place {
            level: Level::Academie,
            code: a,
        };
        if can_read_place(db, by, &p).await? && !lines.contains(&p) {
            lines.push(p);
        }
    }
    if !lines.contains(&place) {
        lines.push(place.clone());
    }
    let mut series_out = Vec::new();
    for p in &lines {
        let points = series(db, by, &ind.code, Some(&p.text()), false).await?;
        let name = place_label(db, p).await?;
        let mut by_period: Vec<(String, Option<Dec>)> = periods
            .iter()
            .map(|period| {
                let v = points
                    .iter()
                    .find(|(q, _)| q == period)
                    .and_then(|(_, f)| f.value);
                (period.clone(), v)
            })
            .collect();
        by_period.reverse();
        series_out.push((name, by_period));
    }
    let mut comparison = None;
    let mut academies = None;
    let mut departements = None;
    if let Some(period) = &period {
        let below = detail_level(&place, capture);
        comparison = Some(consolidate_unchecked(db, &ind, period, &place, below, false).await?);
        if place.level == Level::National && capture.rank() <= Level::Academie.rank() {
            academies = match below {
                Some(Level::Academie) => comparison.clone(),
                _ => {
                    Some(consolidate_unchecked(db, &ind, period, &place, Some(Level::Academie), false).await?)
                }
            };
        }
        if matches!(
            place.level,
            Level::National | Level::RegionAcademique | Level::Academie
        ) && capture.rank() <= Level::Departement.rank()
        {
            departements = match below {
                Some(Level::Departement) => comparison.clone(),
                _ => Some(
                    consolidate_unchecked(db, &ind, period, &place, Some(Level::Departement), false).await?,
                ),
            };
        }
    }
    let target = period
        .as_deref()
        .and_then(|p| target_for(&view.targets, &place, p));
    Ok(IndicatorDashboard {
        view,
        place,
        place_label: label,
        periods,
        period,
        series: series_out,
        comparison,
        academies,
        departements,
        target,
    })
}

/// One indicator of a project in the report pack.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportLine {
    pub key: KeyFigure,
    /// The comments of the values of the latest period that carry one (at most three),
    /// each with its perimeter's name.
    pub comments: Vec<(String, String)>,
}

/// One page of the report pack: a national project and its indicators.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectReport {
    pub project: NationalProject,
    pub lines: Vec<ReportLine>,
}

/// The report pack of the national steering committee: every national project the person
/// sees, with its indicators' national figures at their latest period (validated or not),
/// targets, statuses and comments. Only national readers may ask (`Forbidden` otherwise:
/// the nation is known to everyone).
pub async fn report_pack(db: &Db, by: &Principal) -> CoreResult<Vec<ProjectReport>> {
    if !by.can(db, Capability::Read, &Perimeter::National).await? {
        return Err(CoreError::Forbidden);
    }
    let national = Place::national();
    let mut out = Vec::new();
    for project in crate::strategy::service::list_projects(db, Some(by), None, None).await? {
        let mut codes: Vec<String> = repo::indicators_of(db, "projet", &project.id)
            .await?
            .into_iter()
            .map(|i| i.code)
            .collect();
        for c in project.indicators() {
            if !codes.contains(&c) {
                codes.push(c);
            }
        }
        let mut lines = Vec::new();
        for code in codes {
            // An indicator code written on the project but absent from the dictionary is skipped.
            let ind = match load_indicator(db, by, &code).await {
                Ok(i) => i,
                Err(CoreError::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            let key = key_figure(db, ind, &national, false).await?;
            let mut comments = Vec::new();
            if let Some(period) = &key.period {
                for v in commented_values(db, &key.indicator.id, period, 3).await? {
                    let place = Place {
                        level: Level::from_code(&v.perimeter_kind).unwrap_or(Level::National),
                        code: v.perimeter_code.clone(),
                    };
                    comments.push((place_label(db, &place).await?, v.comment));
                }
            }
            lines.push(ReportLine { key, comments });
        }
        out.push(ProjectReport { project, lines });
    }
    Ok(out)
}

/// A comment left on a value, with its perimeter.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct Commented {
    perimeter_kind: String,
    perimeter_code: String,
    comment: String,
}

/// The values of a period that carry a comment, most recently entered first, at most
/// `limit`.
async fn commented_values(
    db: &Db,
    indicator_id: &str,
    period: &str,
    limit: u32,
) -> CoreResult<Vec<Commented>> {
    db.fetch_all(
        Sql::new("SELECT perimeter_kind, perimeter_code, comment FROM ind_value WHERE indicator_id = ")
            .bind(indicator_id)
            .push(" AND period = ")
            .bind(period)
            .push(&format!(
                " AND comment <> '' ORDER BY entered_at DESC, perimeter_code LIMIT {limit}"
            )),
    )
    .await
}
