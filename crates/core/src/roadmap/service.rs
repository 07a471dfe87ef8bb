//! Declension use-cases. The académie's writers (recteur, DAN, DANE members; national
//! administrators) decline and adapt; everyone who reads the académie reads its roadmap;
//! the national level sees every académie at once. Every change is audited; a change made
//! on an outdated version gets 409 with the current one.

use time::OffsetDateTime;

use crate::audit;
use crate::db::Db;
use crate::error::{CoreError, CoreResult, FieldError};
use crate::identity::service::new_id;
use crate::identity::{Capability, Perimeter, Principal};
use crate::strategy::model::NationalProject;
use crate::strategy::{repo as strategy_repo, service as strategy};
use crate::territory::service as territory;

use super::model::*;
use super::repo;

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn snapshot(p: &NationalProject) -> String {
    serde_json::json!({
        "titre": p.title, "description": p.description, "objectifs": p.goals, "pilote": p.pilote_team,
        "version": p.version,
    })
    .to_string()
}

fn snapshot_field(snapshot: Option<&str>, field: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(snapshot?).ok()?;
    value[field].as_str().map(str::to_owned)
}

fn view(academie: &str, d: Declension, project: NationalProject) -> DeclensionView {
    // A kept version reads the snapshot the académie reviewed; otherwise the live project.
    let national = |field: &str, live: &str| {
        if d.follows_national {
            live.to_owned()
        } else {
            snapshot_field(d.national_snapshot.as_deref(), field).unwrap_or_else(|| live.to_owned())
        }
    };
    let national_title = national("titre", &project.title);
    let national_goals = national("objectifs", &project.goals);
    let national_pilote = national("pilote", &project.pilote_team);
    let to_review = d.national_version.is_some_and(|v| v < project.version);
    DeclensionView {
        title: d.title.clone().unwrap_or_else(|| national_title.clone()),
        national_title,
        national_goals,
        national_pilote,
        to_review,
        academie_code: academie.to_owned(),
        declension: d,
        project,
    }
}

async fn check_academie(db: &Db, by: &Principal, code: &str, capability: Capability) -> CoreResult<String> {
    let academie = territory::get_academie(db, code).await?.academie;
    by.check(
        db,
        capability,
        &Perimeter::Academie(academie.code.clone()),
        "académie",
        &academie.code,
    )
    .await?;
    Ok(academie.code)
}

/// Declines a published national project into the académie's roadmap for its strategy
/// (created on first use). The item follows the national project until reviewed.
pub async fn decline(db: &Db, by: &Principal, academie: &str, project: &str) -> CoreResult<DeclensionView> {
    let academie = check_academie(db, by, academie, Capability::Write).await?;
    let detail = strategy::get_project(db, Some(by), project).await?;
    if detail.strategy.status != "publiee" || !matches!(detail.project.status.as_str(), "publie" | "en-cours")
    {
        return Err(CoreError::Validation(vec![FieldError::new(
            "projet",
            "le projet n'est pas publié pour déclinaison",
        )]));
    }
    let stamp = now();
    let mut tx = db.begin().await?;
    let roadmap = match repo::find_roadmap(db, &academie, &detail.strategy.id).await? {
        Some(r) => r,
        None => {
            let nom = territory::get_academie(db, &academie).await?.academie.nom;
            let r = Roadmap {
                id: new_id(),
                academie_code: academie.clone(),
                strategy_id: detail.strategy.id.clone(),
                title: format!("Feuille de route académique — {nom} — {}", detail.strategy.code),
                status: "brouillon".into(),
                version: 1,
            };
            repo::insert_roadmap(&mut tx, &r, stamp).await?;
            audit::record(
                &mut tx,
                &by.actor(),
                "creer",
                "feuille-de-route",
                &r.id,
                None,
                Some(&serde_json::json!({ "academie": academie, "strategie": detail.strategy.code })),
            )
            .await?;
            r
        }
    };
    if repo::declensions_of(db, &roadmap.id)
        .await?
        .iter()
        .any(|d| d.national_project_id.as_deref() == Some(detail.project.id.as_str()))
    {
        return Err(CoreError::Conflict(format!(
            "le projet {} est déjà décliné dans cette académie",
            detail.project.code
        )));
    }
    let d = Declension {
        id: new_id(),
        roadmap_id: roadmap.id.clone(),
        national_project_id: Some(detail.project.id.clone()),
        national_version: Some(detail.project.version),
        follows_national: true,
        national_snapshot: Some(snapshot(&detail.project)),
        review_reason: None,
        title: None,
        local_pilote: None,
        local_target: None,
        start_date: None,
        end_date: None,
        not_applicable: false,
        justification: None,
        status: "non-commence".into(),
        progress: 0,
        version: 1,
    };
    repo::insert_declension(&mut tx, &d, stamp).await?;
    repo::touch_roadmap(&mut tx, &roadmap.id, stamp).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "decliner",
        "declinaison",
        &d.id,
        None,
        Some(&serde_json::json!({ "academie": academie, "projet": detail.project.code, "versionNationale": detail.project.version })),
    )
    .await?;
    tx.commit().await?;
    get_declension(db, by, &d.id).await
}

/// One declension, for those who read its académie (others: not found).
pub async fn get_declension(db: &Db, by: &Principal, id: &str) -> CoreResult<DeclensionView> {
    let d = repo::find_declension(db, id)
        .await?
        .ok_or_else(|| CoreError::not_found("déclinaison", id))?;
    let roadmap = repo::find_roadmap_by_id(db, &d.roadmap_id)
        .await?
        .ok_or_else(|| CoreError::not_found("déclinaison", id))?;
    by.check(
        db,
        Capability::Read,
        &Perimeter::Academie(roadmap.academie_code.clone()),
        "déclinaison",
        id,
    )
    .await?;
    let project_id = d.national_project_id.clone().unwrap_or_default();
    let project = strategy_repo::find_project(db, &project_id)
        .await?
        .ok_or_else(|| CoreError::not_found("projet national", &project_id))?;
    Ok(view(&roadmap.academie_code, d, project))
}

fn clean(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Adapts a declension locally (stored as explicit differences from the national text).
pub async fn adapt(
    db: &Db,
    by: &Principal,
    id: &str,
    version: i64,
    patch: &DeclensionPatch,
) -> CoreResult<DeclensionView> {
    let current = get_declension(db, by, id).await?;
    check_academie(db, by, &current.academie_code, Capability::Write).await?;
    let before = current.declension.clone();
    let mut next = before.clone();
    if let Some(v) = &patch.title {
        next.title = clean(v);
    }
    if let Some(v) = &patch.local_pilote {
        next.local_pilote = clean(v);
    }
    if let Some(v) = &patch.local_target {
        next.local_target = clean(v);
    }
    if let Some(v) = patch.start_date {
        next.start_date = v;
    }
    if let Some(v) = patch.end_date {
        next.end_date = v;
    }
    if let Some(v) = &patch.justification {
        next.justification = clean(v);
    }
    if let Some(v) = patch.not_applicable {
        next.not_applicable = v;
    }
    if let Some(v) = &patch.status {
        if !STATUSES.contains(&v.as_str()) {
            return Err(CoreError::Validation(vec![FieldError::new(
                "statut",
                format!("statut « {v} » inconnu ; valeurs : {}", STATUSES.join(", ")),
            )]));
        }
        next.status = v.clone();
    }
    if let Some(v) = patch.progress {
        if !(0..=100).contains(&v) {
            return Err(CoreError::Validation(vec![FieldError::new(
                "avancement",
                "entre 0 et 100",
            )]));
        }
        next.progress = v;
    }
    if next.not_applicable && next.justification.is_none() {
        return Err(CoreError::Validation(vec![FieldError::new(
            "justification",
            "« non applicable ici » demande une justification",
        )]));
    }
    if let (Some(start), Some(end)) = (next.start_date, next.end_date)
        && end < start
    {
        return Err(CoreError::Validation(vec![FieldError::new(
            "fin",
            "la fin doit suivre le début",
        )]));
    }
    let mut tx = db.begin().await?;
    if !repo::update_declension(&mut tx, &next, version, now()).await? {
        return Err(CoreError::Conflict(format!(
            "la déclinaison a été modifiée entre-temps (version actuelle {})",
            before.version
        )));
    }
    let plan = |d: &Declension| {
        (
            d.title.clone(),
            d.local_pilote.clone(),
            d.local_target.clone(),
            d.start_date,
            d.end_date,
            d.not_applicable,
            d.justification.clone(),
        )
    };
    if plan(&before) != plan(&next) {
        repo::touch_roadmap(&mut tx, &before.roadmap_id, now()).await?;
    }
    let audit_view = |d: &Declension| {
        serde_json::json!({
            "titre": d.title, "pilote": d.local_pilote, "cible": d.local_target,
            "debut": d.start_date.map(|x| x.to_string()), "fin": d.end_date.map(|x| x.to_string()),
            "nonApplicable": d.not_applicable, "justification": d.justification, "statut": d.status,
            "avancement": d.progress,
        })
    };
    audit::record(
        &mut tx,
        &by.actor(),
        "adapter",
        "declinaison",
        id,
        Some(&audit_view(&before)),
        Some(&audit_view(&next)),
    )
    .await?;
    tx.commit().await?;
    get_declension(db, by, id).await
}

/// Answers a national change: follow it, or keep the académie's version with a reason.
pub async fn review(
    db: &Db,
    by: &Principal,
    id: &str,
    version: i64,
    decision: &Review,
) -> CoreResult<DeclensionView> {
    let current = get_declension(db, by, id).await?;
    check_academie(db, by, &current.academie_code, Capability::Write).await?;
    if !current.to_review {
        return Err(CoreError::Validation(vec![FieldError::new(
            "decision",
            "aucune modification nationale à revoir",
        )]));
    }
    let mut next = current.declension.clone();
    next.national_version = Some(current.project.version);
    let action = match decision {
        Review::Accept => {
            next.follows_national = true;
            next.national_snapshot = Some(snapshot(&current.project));
            next.review_reason = None;
            "accepter-modification"
        }
        Review::Keep(reason) => {
            let reason = reason.trim();
            if reason.is_empty() {
                return Err(CoreError::Validation(vec![FieldError::new(
                    "motif",
                    "un motif est requis pour conserver sa version",
                )]));
            }
            // Inherited fields now read the kept snapshot instead of the live project.
            next.follows_national = false;
            next.review_reason = Some(reason.to_owned());
            "conserver-version"
        }
    };
    let mut tx = db.begin().await?;
    if !repo::update_declension(&mut tx, &next, version, now()).await? {
        return Err(CoreError::Conflict(format!(
            "la déclinaison a été modifiée entre-temps (version actuelle {})",
            current.declension.version
        )));
    }
    repo::touch_roadmap(&mut tx, &next.roadmap_id, now()).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        action,
        "declinaison",
        id,
        Some(&serde_json::json!({ "versionNationale": current.declension.national_version })),
        Some(&serde_json::json!({ "versionNationale": next.national_version, "motif": next.review_reason })),
    )
    .await?;
    tx.commit().await?;
    get_declension(db, by, id).await
}

/// An académie's roadmap for a strategy (the latest published one when not given).
pub async fn roadmap(
    db: &Db,
    by: &Principal,
    academie: &str,
    strategy_code: Option<&str>,
) -> CoreResult<RoadmapView> {
    let academie = check_academie(db, by, academie, Capability::Read).await?;
    let strategy_id = match strategy_code {
        Some(code) => Some(strategy::get_strategy(db, Some(by), code).await?.strategy.id),
        None => None,
    };
    let roadmaps = repo::roadmaps_of(db, &academie).await?;
    let roadmap = match strategy_id {
        Some(id) => roadmaps.into_iter().find(|r| r.strategy_id == id),
        None => roadmaps.into_iter().next(),
    };
    let mut declensions = Vec::new();
    if let Some(r) = &roadmap {
        // One query for the strategy's projects rather than one per declension.
        let projects: std::collections::HashMap<String, NationalProject> =
            strategy_repo::list_projects(db, Some(&r.strategy_id), None, false)
                .await?
                .into_iter()
                .map(|p| (p.id.clone(), p))
                .collect();
        for d in repo::declensions_of(db, &r.id).await? {
            let project_id = d.national_project_id.clone().unwrap_or_default();
            if let Some(project) = projects.get(&project_id) {
                declensions.push(view(&academie, d, project.clone()));
            }
        }
    }
    Ok(RoadmapView {
        academie_code: academie,
        roadmap,
        declensions,
    })
}

/// The national view of a project: every académie and where it stands.
pub async fn national_view(db: &Db, by: &Principal, project: &str) -> CoreResult<Vec<AcademieState>> {
    if !by.can(db, Capability::Read, &Perimeter::National).await? {
        return Err(CoreError::Forbidden);
    }
    let detail = strategy::get_project(db, Some(by), project).await?;
    let mut by_academie = std::collections::HashMap::new();
    for (academie, d) in repo::declensions_of_project(db, &detail.project.id).await? {
        by_academie.insert(academie.clone(), view(&academie, d, detail.project.clone()));
    }
    Ok(territory::list_academies(db, false)
        .await?
        .into_iter()
        .filter(|a| a.kind == "academie")
        .map(|a| {
            let v = by_academie.get(&a.code);
            AcademieState {
                state: v.map_or("non-decline", DeclensionView::state).to_owned(),
                progress: v.map(|v| v.declension.progress),
                reason: v.and_then(|v| {
                    v.declension
                        .review_reason
                        .clone()
                        .or_else(|| v.declension.justification.clone())
                }),
                academie_code: a.code,
                academie_nom: a.nom,
            }
        })
        .collect())
}
