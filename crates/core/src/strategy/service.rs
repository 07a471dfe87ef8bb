//! Strategy use-cases. Published strategies and their projects are public; drafts are seen
//! by the national level only; only those who may write national objects (national
//! administrators and project leads) change them. Every change is audited; a change made
//! on an outdated version is refused with the current one (409).

use time::OffsetDateTime;

use crate::audit;
use crate::db::Db;
use crate::error::{CoreError, CoreResult, FieldError};
use crate::identity::service::new_id;
use crate::identity::{Capability, Perimeter, Principal};

use super::model::*;
use super::repo;

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// True when the caller sees drafts (anyone who may read the national level).
async fn sees_drafts(db: &Db, by: Option<&Principal>) -> CoreResult<bool> {
    match by {
        Some(p) => p.can(db, Capability::Read, &Perimeter::National).await,
        None => Ok(false),
    }
}

/// Checks that the caller may change national objects.
async fn require_national_writer(db: &Db, by: &Principal) -> CoreResult<()> {
    if by.can(db, Capability::Write, &Perimeter::National).await? {
        Ok(())
    } else {
        Err(CoreError::Forbidden)
    }
}

fn required(field: &str, value: &str, max: usize) -> CoreResult<String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max {
        Err(CoreError::Validation(vec![FieldError::new(
            field,
            format!("entre 1 et {max} caractères"),
        )]))
    } else {
        Ok(v.to_owned())
    }
}

/// The strategies the caller may see, most recent first.
pub async fn list_strategies(db: &Db, by: Option<&Principal>) -> CoreResult<Vec<Strategy>> {
    repo::list_strategies(db, !sees_drafts(db, by).await?).await
}

/// One strategy (by id or code) with its axes, objectives and projects.
pub async fn get_strategy(db: &Db, by: Option<&Principal>, id_or_code: &str) -> CoreResult<StrategyTree> {
    let drafts = sees_drafts(db, by).await?;
    let strategy = repo::find_strategy(db, id_or_code)
        .await?
        .filter(|s| drafts || s.status == "publiee")
        .ok_or_else(|| CoreError::not_found("stratégie", id_or_code))?;
    let objectives = repo::objectives_of_strategy(db, &strategy.id).await?;
    let projects = repo::list_projects(db, Some(&strategy.id), None, false).await?;
    let axes = repo::axes_of(db, &strategy.id)
        .await?
        .into_iter()
        .map(|axis| AxisTree {
            objectives: objectives
                .iter()
                .filter(|o| o.axis_id == axis.id)
                .map(|o| ObjectiveTree {
                    objective: o.clone(),
                    projects: projects
                        .iter()
                        .filter(|p| p.objective_id == o.id)
                        .cloned()
                        .collect(),
                })
                .collect(),
            axis,
        })
        .collect();
    Ok(StrategyTree { strategy, axes })
}

/// Creates a draft strategy with its axes and objectives, in one transaction.
pub async fn create_strategy(db: &Db, by: &Principal, new: &NewStrategy) -> CoreResult<StrategyTree> {
    require_national_writer(db, by).await?;
    let code = required("code", &new.code, 40)?;
    let title = required("titre", &new.title, 300)?;
    let start = new
        .period_start
        .ok_or_else(|| CoreError::Validation(vec![FieldError::new("debut", "date de début requise")]))?;
    if let Some(end) = new.period_end
        && end <= start
    {
        return Err(CoreError::Validation(vec![FieldError::new(
            "fin",
            "la fin doit suivre le début",
        )]));
    }
    if new.axes.is_empty() {
        return Err(CoreError::Validation(vec![FieldError::new(
            "axes",
            "au moins un axe",
        )]));
    }
    if repo::code_taken(db, "strategy", &code).await? {
        return Err(CoreError::Conflict(format!(
            "une stratégie porte déjà le code {code}"
        )));
    }
    let stamp = now();
    let strategy = Strategy {
        id: new_id(),
        code,
        title,
        summary: new.summary.trim().to_owned(),
        period_start: start,
        period_end: new.period_end,
        status: "brouillon".into(),
        version: 1,
    };
    let mut tx = db.begin().await?;
    repo::insert_strategy(&mut tx, &strategy, stamp).await?;
    for (i, a) in new.axes.iter().enumerate() {
        let axis = Axis {
            id: new_id(),
            strategy_id: strategy.id.clone(),
            position: i64::try_from(i + 1).unwrap_or(i64::MAX),
            title: required(&format!("axes[{i}].titre"), &a.title, 300)?,
            description: a.description.trim().to_owned(),
        };
        repo::insert_axis(&mut tx, &axis, stamp).await?;
        for (j, o) in a.objectives.iter().enumerate() {
            let objective = Objective {
                id: new_id(),
                axis_id: axis.id.clone(),
                position: i64::try_from(j + 1).unwrap_or(i64::MAX),
                code: required(&format!("axes[{i}].objectifs[{j}].code"), &o.code, 40)?,
                title: required(&format!("axes[{i}].objectifs[{j}].titre"), &o.title, 300)?,
                description: o.description.trim().to_owned(),
            };
            repo::insert_objective(&mut tx, &objective, stamp).await?;
        }
    }
    let summary = serde_json::json!({
        "code": strategy.code, "titre": strategy.title, "debut": start.to_string(),
        "axes": new.axes.iter().map(|a| serde_json::json!({
            "titre": a.title, "objectifs": a.objectives.iter().map(|o| o.code.clone()).collect::<Vec<_>>()
        })).collect::<Vec<_>>(),
    });
    audit::record(
        &mut tx,
        &by.actor(),
        "creer",
        "strategie",
        &strategy.id,
        None,
        Some(&summary),
    )
    .await?;
    tx.commit().await?;
    get_strategy(db, Some(by), &strategy.id).await
}

/// Publishes a draft strategy (it becomes public).
pub async fn publish_strategy(db: &Db, by: &Principal, id: &str, version: i64) -> CoreResult<Strategy> {
    require_national_writer(db, by).await?;
    let current = repo::find_strategy(db, id)
        .await?
        .ok_or_else(|| CoreError::not_found("stratégie", id))?;
    let mut tx = db.begin().await?;
    if !repo::set_strategy_status(&mut tx, &current.id, version, "publiee", now()).await? {
        return Err(CoreError::Conflict(format!(
            "la stratégie a été modifiée entre-temps (version actuelle {})",
            current.version
        )));
    }
    audit::record(
        &mut tx,
        &by.actor(),
        "publier",
        "strategie",
        &current.id,
        Some(&serde_json::json!({ "statut": current.status })),
        Some(&serde_json::json!({ "statut": "publiee" })),
    )
    .await?;
    tx.commit().await?;
    repo::find_strategy(db, &current.id)
        .await?
        .ok_or_else(|| CoreError::not_found("stratégie", id))
}

/// National projects the caller may see, optionally of one strategy or status.
pub async fn list_projects(
    db: &Db,
    by: Option<&Principal>,
    strategy: Option<&str>,
    status: Option<&str>,
) -> CoreResult<Vec<NationalProject>> {
    let drafts = sees_drafts(db, by).await?;
    let strategy_id = match strategy {
        Some(s) => Some(
            repo::find_strategy(db, s)
                .await?
                .filter(|s| drafts || s.status == "publiee")
                .ok_or_else(|| CoreError::not_found("stratégie", s))?
                .id,
        ),
        None => None,
    };
    if let Some(s) = status
        && !PROJECT_STATUSES.contains(&s)
    {
        return Err(CoreError::bad_request(
            "statut",
            format!("statut inconnu ; valeurs : {}", PROJECT_STATUSES.join(", ")),
        ));
    }
    repo::list_projects(db, strategy_id.as_deref(), status, !drafts).await
}

/// One national project (by id or code), where it sits, and its milestones.
pub async fn get_project(db: &Db, by: Option<&Principal>, id_or_code: &str) -> CoreResult<ProjectDetail> {
    let project = repo::find_project(db, id_or_code)
        .await?
        .ok_or_else(|| CoreError::not_found("projet national", id_or_code))?;
    let strategy = repo::strategy_of_objective(db, &project.objective_id)
        .await?
        .ok_or_else(|| CoreError::not_found("projet national", id_or_code))?;
    if strategy.status != "publiee" && !sees_drafts(db, by).await? {
        return Err(CoreError::not_found("projet national", id_or_code));
    }
    let objective = repo::find_objective(db, &project.objective_id)
        .await?
        .ok_or_else(|| CoreError::not_found("objectif", &project.objective_id))?;
    let milestones = repo::milestones_of(db, &project.id).await?;
    Ok(ProjectDetail {
        project,
        milestones,
        objective,
        strategy,
    })
}

fn check_indicators(codes: &[String]) -> CoreResult<String> {
    for code in codes {
        if code.is_empty()
            || code.len() > 40
            || !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(CoreError::Validation(vec![FieldError::new(
                "indicateurs",
                format!("code d'indicateur invalide « {code} »"),
            )]));
        }
    }
    Ok(codes.join(" "))
}

fn check_budget(budget: Option<i64>) -> CoreResult<()> {
    if budget.is_some_and(|b| b < 0) {
        return Err(CoreError::Validation(vec![FieldError::new(
            "budget",
            "le budget ne peut être négatif",
        )]));
    }
    Ok(())
}

/// Creates a national project under an objective.
pub async fn create_project(db: &Db, by: &Principal, new: &NewProject) -> CoreResult<ProjectDetail> {
    require_national_writer(db, by).await?;
    let objective = repo::find_objective(db, &new.objective_id)
        .await?
        .ok_or_else(|| CoreError::Validation(vec![FieldError::new("objectif", "objectif inconnu")]))?;
    let code = required("code", &new.code, 40)?;
    if repo::code_taken(db, "national_project", &code).await? {
        return Err(CoreError::Conflict(format!(
            "un projet national porte déjà le code {code}"
        )));
    }
    check_budget(new.budget_cents)?;
    let project = NationalProject {
        id: new_id(),
        objective_id: objective.id,
        code,
        title: required("titre", &new.title, 300)?,
        description: new.description.trim().to_owned(),
        goals: new.goals.trim().to_owned(),
        pilote_team: required("pilote", &new.pilote_team, 300)?,
        audiences: new.audiences.trim().to_owned(),
        budget_cents: new.budget_cents,
        indicator_codes: check_indicators(&new.indicator_codes)?,
        status: "en-preparation".into(),
        version: 1,
        updated_at: now(),
    };
    let stamp = now();
    let mut tx = db.begin().await?;
    repo::insert_project(&mut tx, &project, stamp).await?;
    repo::replace_milestones(&mut tx, &project.id, &new.milestones, stamp).await?;
    let milestones = repo::milestones_of_tx(&mut tx, &project.id).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "creer",
        "projet-national",
        &project.id,
        None,
        Some(&project.audit_json(&milestones)),
    )
    .await?;
    tx.commit().await?;
    get_project(db, Some(by), &project.id).await
}

/// Changes a national project if it is still at `version`; otherwise 409 with the current
/// state, never a silent overwrite.
pub async fn update_project(
    db: &Db,
    by: &Principal,
    id: &str,
    version: i64,
    patch: &ProjectPatch,
) -> CoreResult<ProjectDetail> {
    require_national_writer(db, by).await?;
    let current = get_project(db, Some(by), id).await?;
    let mut next = current.project.clone();
    if let Some(v) = &patch.title {
        next.title = required("titre", v, 300)?;
    }
    if let Some(v) = &patch.description {
        next.description = v.trim().to_owned();
    }
    if let Some(v) = &patch.goals {
        next.goals = v.trim().to_owned();
    }
    if let Some(v) = &patch.pilote_team {
        next.pilote_team = required("pilote", v, 300)?;
    }
    if let Some(v) = &patch.audiences {
        next.audiences = v.trim().to_owned();
    }
    if let Some(v) = patch.budget_cents {
        check_budget(v)?;
        next.budget_cents = v;
    }
    if let Some(v) = &patch.indicator_codes {
        next.indicator_codes = check_indicators(v)?;
    }
    if let Some(v) = &patch.status {
        if !PROJECT_STATUSES.contains(&v.as_str()) {
            return Err(CoreError::Validation(vec![FieldError::new(
                "statut",
                format!(
                    "statut « {v} » inconnu ; valeurs : {}",
                    PROJECT_STATUSES.join(", ")
                ),
            )]));
        }
        next.status = v.clone();
    }
    let stamp = now();
    let mut tx = db.begin().await?;
    if !repo::update_project(&mut tx, &next, version, stamp).await? {
        return Err(CoreError::Conflict(format!(
            "le projet a été modifié entre-temps (version actuelle {})",
            current.project.version
        )));
    }
    if let Some(m) = &patch.milestones {
        repo::replace_milestones(&mut tx, &next.id, m, stamp).await?;
    }
    let after = repo::find_project_tx(&mut tx, &next.id)
        .await?
        .ok_or_else(|| CoreError::not_found("projet national", id))?;
    let milestones = repo::milestones_of_tx(&mut tx, &next.id).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "modifier",
        "projet-national",
        &next.id,
        Some(&current.project.audit_json(&current.milestones)),
        Some(&after.audit_json(&milestones)),
    )
    .await?;
    tx.commit().await?;
    get_project(db, Some(by), &next.id).await
}
