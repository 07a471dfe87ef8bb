//! The académie's own objectives and the actions of its roadmap: pilote, partners,
//! perimeter, dates and milestones, budget lines by funder, status and progress, risks and
//! dependencies. The académie's writers edit; its readers and the invited organisations read;
//! the national level reads every académie. A change to the content of a validated roadmap
//! sends it back to draft; following the work (status, progress, milestones done) does not.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use time::{Date, OffsetDateTime};

use crate::audit;
use crate::db::{Db, Sql};
use crate::error::{CoreError, CoreResult, FieldError};
use crate::identity::service::new_id;
use crate::identity::{Capability, Perimeter, Principal, repo as identity_repo};
use crate::strategy::repo as strategy_repo;
use crate::territory::repo as territory_repo;

use super::model::*;
use super::repo::{self, ActionChildren, ActionSet};

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Today, for lateness.
pub fn today() -> Date {
    now().date()
}

fn invalid(field: &str, message: impl Into<String>) -> CoreError {
    CoreError::Validation(vec![FieldError::new(field, message)])
}

/// The académie's current roadmap, for writing (the caller holds Write on the académie).
async fn current_roadmap(db: &Db, academie: &str) -> CoreResult<Roadmap> {
    repo::roadmaps_of(db, academie)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            invalid(
                "feuilleDeRoute",
                "l'académie n'a pas encore de feuille de route : déclinez d'abord un projet national",
            )
        })
}

/// For someone who may read the roadmap (checked before): writing needs Write on the académie.
async fn require_write(db: &Db, by: &Principal, academie: &str) -> CoreResult<()> {
    if by
        .can(db, Capability::Write, &Perimeter::Academie(academie.to_owned()))
        .await?
    {
        Ok(())
    } else {
        Err(CoreError::Forbidden)
    }
}

async fn check(db: &Db, by: &Principal, academie: &str, capability: Capability) -> CoreResult<()> {
    by.check(
        db,
        capability,
        &Perimeter::Academie(academie.to_owned()),
        "académie",
        academie,
    )
    .await
}

/// Readers of a roadmap: the académie's readers, and members of organisations invited to
/// its consultation.
async fn can_read_roadmap(db: &Db, by: &Principal, academie: &str, roadmap_id: &str) -> CoreResult<bool> {
    Ok(by
        .can(db, Capability::Read, &Perimeter::Academie(academie.to_owned()))
        .await?
        || super::lifecycle::is_invited(db, by, roadmap_id).await?)
}

// ---------------------------------------------------------------------------------------
// Objectives

/// The académie's own objectives (for the académie's readers and the invited).
pub async fn objectives(db: &Db, by: &Principal, academie: &str) -> CoreResult<Vec<LocalObjective>> {
    let Some(roadmap) = repo::roadmaps_of(db, academie).await?.into_iter().next() else {
        check(db, by, academie, Capability::Read).await?;
        return Ok(Vec::new());
    };
    if !can_read_roadmap(db, by, academie, &roadmap.id).await? {
        return Err(CoreError::not_found("feuille de route", academie));
    }
    repo::objectives_of(db, &roadmap.id).await
}

async fn national_objective_id(db: &Db, roadmap: &Roadmap, code_or_id: &str) -> CoreResult<String> {
    strategy_repo::objectives_of_strategy(db, &roadmap.strategy_id)
        .await?
        .into_iter()
        .find(|o| o.id == code_or_id || o.code == code_or_id)
        .map(|o| o.id)
        .ok_or_else(|| {
            invalid(
                "objectifNational",
                format!(
                    "objectif national « {code_or_id} » inconnu dans la stratégie de cette feuille de route"
                ),
            )
        })
}

fn objective_audit(o: &LocalObjective) -> serde_json::Value {
    serde_json::json!({
        "code": o.code, "axe": o.axis_title, "titre": o.title, "description": o.description,
        "objectifNational": o.national_objective_id,
    })
}

/// Adds an objective of the académie's own (code `O1`, `O2`…).
pub async fn create_objective(
    db: &Db,
    by: &Principal,
    academie: &str,
    patch: &ObjectivePatch,
) -> CoreResult<LocalObjective> {
    check(db, by, academie, Capability::Write).await?;
    let roadmap = current_roadmap(db, academie).await?;
    let mut o = LocalObjective {
        id: new_id(),
        roadmap_id: roadmap.id.clone(),
        code: String::new(),
        axis_title: String::new(),
        title: String::new(),
        description: String::new(),
        national_objective_id: None,
        version: 1,
    };
    apply_objective(db, &roadmap, &mut o, patch).await?;
    let existing = repo::objectives_of(db, &roadmap.id).await?;
    let mut n = existing.len() + 1;
    while existing.iter().any(|x| x.code == format!("O{n}")) {
        n += 1;
    }
    o.code = format!("O{n}");
    let stamp = now();
    let mut tx = db.begin().await?;
    repo::insert_objective(&mut tx, &o, stamp).await?;
    repo::touch_roadmap(&mut tx, &roadmap.id, stamp).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "creer",
        "objectif-academique",
        &o.id,
        None,
        Some(&objective_audit(&o)),
    )
    .await?;
    tx.commit().await?;
    Ok(o)
}

async fn apply_objective(
    db: &Db,
    roadmap: &Roadmap,
    o: &mut LocalObjective,
    patch: &ObjectivePatch,
) -> CoreResult<()> {
    let mut errors = Vec::new();
    if let Some(v) = &patch.title {
        o.title = v.trim().to_owned();
    }
    if let Some(v) = &patch.axis_title {
        o.axis_title = v.trim().to_owned();
    }
    if let Some(v) = &patch.description {
        o.description = v.trim().to_owned();
    }
    match &patch.national_objective {
        Some(Some(code)) if !code.trim().is_empty() => {
            match national_objective_id(db, roadmap, code.trim()).await {
                Ok(id) => o.national_objective_id = Some(id),
                Err(CoreError::Validation(mut e)) => errors.append(&mut e),
                Err(e) => return Err(e),
            }
        }
        Some(_) => o.national_objective_id = None,
        None => {}
    }
    if o.title.is_empty() || o.title.chars().count() > 300 {
        errors.push(FieldError::new("titre", "entre 1 et 300 caractères"));
    }
    if o.axis_title.is_empty() && o.national_objective_id.is_none() {
        errors.push(FieldError::new(
            "axe",
            "nommez l'axe, ou rattachez l'objectif à un objectif national",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CoreError::Validation(errors))
    }
}

/// Changes an objective of the académie's own (409 on an outdated version).
pub async fn update_objective(
    db: &Db,
    by: &Principal,
    id: &str,
    version: i64,
    patch: &ObjectivePatch,
) -> CoreResult<LocalObjective> {
    let before = repo::find_objective(db, id)
        .await?
        .ok_or_else(|| CoreError::not_found("objectif", id))?;
    let roadmap = repo::find_roadmap_by_id(db, &before.roadmap_id)
        .await?
        .ok_or_else(|| CoreError::not_found("objectif", id))?;
    if !can_read_roadmap(db, by, &roadmap.academie_code, &roadmap.id).await? {
        return Err(CoreError::not_found("objectif", id));
    }
    require_write(db, by, &roadmap.academie_code).await?;
    let mut next = before.clone();
    apply_objective(db, &roadmap, &mut next, patch).await?;
    let stamp = now();
    let mut tx = db.begin().await?;
    if !repo::update_objective(&mut tx, &next, version, stamp).await? {
        return Err(CoreError::Conflict(format!(
            "l'objectif a été modifié entre-temps (version actuelle {})",
            before.version
        )));
    }
    repo::touch_roadmap(&mut tx, &roadmap.id, stamp).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "modifier",
        "objectif-academique",
        id,
        Some(&objective_audit(&before)),
        Some(&objective_audit(&next)),
    )
    .await?;
    tx.commit().await?;
    next.version = version + 1;
    Ok(next)
}

// ---------------------------------------------------------------------------------------
// Reading actions

/// Where the actions of some roadmaps sit: axis and parent of every declension and objective.
#[derive(Default)]
struct Outline {
    /// declension id → (axis, project code, title in force)
    declensions: HashMap<String, (String, String, String)>,
    /// local objective id → (axis, code, title)
    objectives: HashMap<String, (String, String, String)>,
}

async fn outline(db: &Db, roadmap_ids: &BTreeSet<String>) -> CoreResult<Outline> {
    #[derive(sqlx::FromRow)]
    struct DeclensionRow {
        id: String,
        roadmap_id: String,
        local_title: Option<String>,
        code: String,
        title: String,
        axis: String,
    }
    #[derive(sqlx::FromRow)]
    struct ObjectiveRow {
        id: String,
        roadmap_id: String,
        code: String,
        title: String,
        axis_title: String,
        national_axis: Option<String>,
    }
    // Only the roadmaps asked for (one `IN` list; all of them past the bind limit).
    let within = |column: &str, mut q: Sql| {
        if roadmap_ids.len() < crate::db::MAX_BIND / 2 {
            q.push_mut(&format!(" WHERE {column} IN ("));
            for (i, id) in roadmap_ids.iter().enumerate() {
                if i > 0 {
                    q.push_mut(", ");
                }
                q.bind_mut(id.as_str());
            }
            q.push_mut(")");
        }
        q
    };
    if roadmap_ids.is_empty() {
        return Ok(Outline::default());
    }
    let declensions: Vec<DeclensionRow> = db
        .fetch_all(within(
            "i.roadmap_id",
            Sql::new(
                "SELECT i.id, i.roadmap_id, i.title AS local_title, p.code, p.title, ax.title AS axis \
                 FROM roadmap_item i JOIN national_project p ON p.id = i.national_project_id \
                 JOIN strategy_objective o ON o.id = p.objective_id JOIN strategy_axis ax ON ax.id = o.axis_id",
            ),
        ))
        .await?;
    let objectives: Vec<ObjectiveRow> = db
        .fetch_all(within(
            "r.roadmap_id",
            Sql::new(
                "SELECT r.id, r.roadmap_id, r.code, r.title, r.axis_title, ax.title AS national_axis \
                 FROM roadmap_objective r LEFT JOIN strategy_objective o ON o.id = r.national_objective_id \
                 LEFT JOIN strategy_axis ax ON ax.id = o.axis_id",
            ),
        ))
        .await?;
    let mut out = Outline::default();
    for d in declensions
        .into_iter()
        .filter(|d| roadmap_ids.contains(&d.roadmap_id))
    {
        out.declensions
            .insert(d.id, (d.axis, d.code, d.local_title.unwrap_or(d.title)));
    }
    for o in objectives
        .into_iter()
        .filter(|o| roadmap_ids.contains(&o.roadmap_id))
    {
        let axis = if o.axis_title.is_empty() {
            o.national_axis.unwrap_or_default()
        } else {
            o.axis_title
        };
        out.objectives.insert(o.id, (axis, o.code, o.title));
    }
    Ok(out)
}

fn is_late(a: &Action, milestones: &[ActionMilestone], today: Date) -> bool {
    if matches!(a.status.as_str(), "termine" | "abandonne") {
        return false;
    }
    a.status == "en-retard"
        || a.end_date.is_some_and(|d| d < today)
        || milestones.iter().any(|m| !m.done && m.due_date < today)
}

async fn views(db: &Db, set: ActionSet<'_>) -> CoreResult<Vec<ActionView>> {
    let rows = repo::load_actions(db, set).await?;
    let roadmap_ids: BTreeSet<String> = rows
        .actions
        .iter()
        .map(|(_, _, a)| a.roadmap_id.clone())
        .collect();
    let outline = outline(db, &roadmap_ids).await?;
    let mut milestones: HashMap<String, Vec<ActionMilestone>> = rows.milestones.into_iter().collect();
    let mut budget: HashMap<String, Vec<BudgetLine>> = rows.budget.into_iter().collect();
    let mut partners: HashMap<String, Vec<Partner>> = HashMap::new();
    for (id, p) in rows.partners {
        partners.entry(id).or_default().push(p);
    }
    let mut scope: HashMap<String, (Vec<ScopeItem>, BTreeSet<String>)> = HashMap::new();
    for (id, items) in rows.scope {
        let entry = scope.entry(id).or_default();
        for s in items {
            if let Some(d) = s.departement {
                entry.1.insert(d);
            }
            entry.0.push(ScopeItem {
                kind: s.kind,
                code: s.code,
            });
        }
    }
    let mut depends: HashMap<String, Vec<String>> = HashMap::new();
    for (id, code) in rows.depends_on {
        depends.entry(id).or_default().push(code);
    }
    let today = today();
    Ok(rows
        .actions
        .into_iter()
        .map(|(academie_code, pilote, a)| {
            let (pilote_name, pilote_email) = pilote.unzip();
            let (axis, parent_code, parent_title) = a
                .declension_id
                .as_ref()
                .and_then(|d| outline.declensions.get(d))
                .or_else(|| a.objective_id.as_ref().and_then(|o| outline.objectives.get(o)))
                .cloned()
                .unwrap_or_default();
            let milestones = milestones.remove(&a.id).unwrap_or_default();
            let (scope, departements) = scope.remove(&a.id).unwrap_or_default();
            ActionView {
                late: is_late(&a, &milestones, today),
                budget: budget.remove(&a.id).unwrap_or_default(),
                partners: partners.remove(&a.id).unwrap_or_default(),
                depends_on: depends.remove(&a.id).unwrap_or_default(),
                departements: departements.into_iter().collect(),
                scope,
                milestones,
                academie_code,
                axis,
                parent_code,
                parent_title,
                pilote_name,
                pilote_email,
                action: a,
            }
        })
        .collect())
}

/// One action, for the readers of its roadmap (others: not found).
pub async fn get_action(db: &Db, by: &Principal, id: &str) -> CoreResult<ActionView> {
    let view = views(db, ActionSet::One(id))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| CoreError::not_found("action", id))?;
    if !can_read_roadmap(db, by, &view.academie_code, &view.action.roadmap_id).await? {
        return Err(CoreError::not_found("action", id));
    }
    Ok(view)
}

fn matches(v: &ActionView, f: &ActionFilter, me: &str) -> bool {
    let contains =
        |hay: &str, needle: &str| crate::text::search_key(hay).contains(&crate::text::search_key(needle));
    f.axis.as_deref().is_none_or(|x| contains(&v.axis, x))
        && f.status.as_deref().is_none_or(|s| v.action.status == s)
        && f.pilote
            .as_deref()
            .is_none_or(|p| v.action.pilote_user_id.as_deref() == Some(p))
        && (!f.late || v.late)
        && (!f.mine || v.action.pilote_user_id.as_deref() == Some(me))
        && f.departement
            .as_deref()
            .is_none_or(|d| v.departements.iter().any(|x| x == d))
        && f.uai
            .as_deref()
            .is_none_or(|u| v.scope.iter().any(|s| s.kind == "etablissement" && s.code == u))
        && f.q.as_deref().is_none_or(|q| {
            contains(&v.action.code, q) || contains(&v.action.title, q) || contains(&v.action.description, q)
        })
}

/// Actions, filtered. With an académie: its roadmap's actions (for its readers and the
/// invited). With `mine` alone: the actions the person pilots, wherever they are. Without
/// either: every académie's actions, for the national level.
pub async fn list_actions(db: &Db, by: &Principal, filter: &ActionFilter) -> CoreResult<Vec<ActionView>> {
    if let Some(s) = &filter.status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(invalid(
            "statut",
            format!("statut « {s} » inconnu ; valeurs : {}", STATUSES.join(", ")),
        ));
    }
    let all = match &filter.academie {
        Some(academie) => {
            let academie = crate::territory::service::check_code_academie("academie", academie)?;
            match repo::roadmaps_of(db, &academie).await?.into_iter().next() {
                None => {
                    check(db, by, &academie, Capability::Read).await?;
                    Vec::new()
                }
                Some(r) => {
                    if !can_read_roadmap(db, by, &academie, &r.id).await? {
                        return Err(CoreError::not_found("feuille de route", &academie));
                    }
                    views(db, ActionSet::Roadmap(&r.id)).await?
                }
            }
        }
        None if filter.mine => {
            let mine = views(db, ActionSet::Pilote(&by.user.id)).await?;
            let mut readable = Vec::with_capacity(mine.len());
            for v in mine {
                if can_read_roadmap(db, by, &v.academie_code, &v.action.roadmap_id).await? {
                    readable.push(v);
                }
            }
            readable
        }
        None => {
            if !by.can(db, Capability::Read, &Perimeter::National).await? {
                return Err(invalid(
                    "academie",
                    "précisez l'académie (ou « mes actions ») : la vue de toutes les académies est nationale",
                ));
            }
            views(db, ActionSet::All).await?
        }
    };
    Ok(all
        .into_iter()
        .filter(|v| matches(v, filter, &by.user.id))
        .collect())
}

// ---------------------------------------------------------------------------------------
// Writing actions

fn clean(v: &str) -> String {
    v.trim().to_owned()
}

fn clean_opt(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// What a patch resolves to once its references are checked.
struct Resolved {
    action: Action,
    partners: Option<Vec<String>>,
    scope: Option<Vec<repo::StoredScope>>,
    /// Ids of the actions depended on, and their codes.
    depends_on: Option<Vec<String>>,
    depends_codes: Option<Vec<String>>,
    milestones: Option<Vec<ActionMilestone>>,
    budget: Option<Vec<BudgetLine>>,
}

/// Applies a patch to an action, checking every reference; collects every field error.
async fn resolve(db: &Db, roadmap: &Roadmap, mut a: Action, patch: &ActionPatch) -> CoreResult<Resolved> {
    let mut errors = Vec::new();
    if let Some(parent) = &patch.parent {
        match parent {
            ActionParent::Declension(key) => {
                let found = repo::declensions_of(db, &roadmap.id)
                    .await?
                    .into_iter()
                    .find(|d| d.id == *key || d.national_project_id.as_deref() == Some(key.as_str()));
                let found = match found {
                    Some(d) => Some(d),
                    None => match strategy_repo::find_project(db, key).await? {
                        Some(p) => repo::declensions_of(db, &roadmap.id)
                            .await?
                            .into_iter()
                            .find(|d| d.national_project_id.as_deref() == Some(p.id.as_str())),
                        None => None,
                    },
                };
                match found {
                    Some(d) => {
                        a.declension_id = Some(d.id);
                        a.objective_id = None;
                    }
                    None => errors.push(FieldError::new(
                        "declinaison",
                        format!("« {key} » n'est pas un projet décliné dans cette feuille de route"),
                    )),
                }
            }
            ActionParent::Objective(key) => {
                match repo::objectives_of(db, &roadmap.id)
                    .await?
                    .into_iter()
                    .find(|o| o.id == *key || o.code == *key)
                {
                    Some(o) => {
                        a.objective_id = Some(o.id);
                        a.declension_id = None;
                    }
                    None => errors.push(FieldError::new(
                        "objectif",
                        format!("« {key} » n'est pas un objectif de cette feuille de route"),
                    )),
                }
            }
        }
    }
    if a.declension_id.is_none() && a.objective_id.is_none() && errors.is_empty() {
        errors.push(FieldError::new(
            "declinaison",
            "rattachez l'action à un projet décliné ou à un objectif de l'académie",
        ));
    }
    if let Some(v) = &patch.title {
        a.title = clean(v);
    }
    if a.title.is_empty() || a.title.chars().count() > 300 {
        errors.push(FieldError::new("titre", "entre 1 et 300 caractères"));
    }
    if let Some(v) = &patch.description {
        a.description = clean(v);
    }
    if a.description.chars().count() > 10_000 {
        errors.push(FieldError::new("description", "au plus 10 000 caractères"));
    }
    if let Some(v) = &patch.risks {
        a.risks = clean(v);
    }
    if let Some(v) = &patch.pilote_team {
        a.pilote_team = clean_opt(v);
    }
    if let Some(v) = &patch.pilote_user {
        match clean_opt(v) {
            None => a.pilote_user_id = None,
            Some(key) => {
                let user = match identity_repo::find_user(db, &key).await? {
                    Some(u) => Some(u),
                    None => identity_repo::find_user_by_email(db, &key.to_lowercase()).await?,
                };
                match user {
                    Some(u) if u.status == "active" => a.pilote_user_id = Some(u.id),
                    _ => errors.push(FieldError::new(
                        "pilote",
                        format!("« {key} » n'est pas une personne active de la plateforme"),
                    )),
                }
            }
        }
    }
    if let Some(v) = patch.start_date {
        a.start_date = v;
    }
    if let Some(v) = patch.end_date {
        a.end_date = v;
    }
    if let (Some(s), Some(e)) = (a.start_date, a.end_date)
        && e < s
    {
        errors.push(FieldError::new("fin", "la fin doit suivre le début"));
    }
    if let Some(v) = &patch.status {
        if STATUSES.contains(&v.as_str()) {
            a.status = v.clone();
        } else {
            errors.push(FieldError::new(
                "statut",
                format!("statut « {v} » inconnu ; valeurs : {}", STATUSES.join(", ")),
            ));
        }
    }
    if let Some(v) = patch.progress {
        if (0..=100).contains(&v) {
            a.progress = v;
        } else {
            errors.push(FieldError::new("avancement", "entre 0 et 100"));
        }
    }
    if a.status == "termine" && patch.progress.is_none() {
        a.progress = 100;
    }
    let milestones = patch.milestones.as_ref().map(|list| {
        list.iter()
            .enumerate()
            .filter_map(|(i, m)| {
                let label = m.label.trim();
                if label.is_empty() || label.chars().count() > 300 {
                    errors.push(FieldError::new(
                        format!("jalons[{i}].libelle"),
                        "entre 1 et 300 caractères",
                    ));
                    None
                } else {
                    Some(ActionMilestone {
                        label: label.to_owned(),
                        due_date: m.due_date,
                        done: m.done,
                    })
                }
            })
            .collect::<Vec<_>>()
    });
    let budget = patch.budget.as_ref().map(|list| {
        list.iter()
            .enumerate()
            .filter_map(|(i, b)| {
                let mut ok = true;
                if !FUNDER_KINDS.contains(&b.funder_kind.as_str()) {
                    errors.push(FieldError::new(
                        format!("budget[{i}].financeur"),
                        format!("valeurs : {}", FUNDER_KINDS.join(", ")),
                    ));
                    ok = false;
                }
                if !(2000..=2100).contains(&b.year) {
                    errors.push(FieldError::new(
                        format!("budget[{i}].annee"),
                        "année entre 2000 et 2100",
                    ));
                    ok = false;
                }
                if !(0..=1_000_000_000_000).contains(&b.amount_cents) {
                    errors.push(FieldError::new(
                        format!("budget[{i}].montant"),
                        "montant positif, au plus 10 milliards d'euros",
                    ));
                    ok = false;
                }
                ok.then(|| BudgetLine {
                    funder_kind: b.funder_kind.clone(),
                    funder_label: b.funder_label.trim().to_owned(),
                    year: b.year,
                    amount_cents: b.amount_cents,
                })
            })
            .collect::<Vec<_>>()
    });
    let mut partners = None;
    if let Some(list) = &patch.partners {
        let mut ids = BTreeSet::new();
        for (i, id) in list.iter().enumerate() {
            match identity_repo::find_organisation(db, id.trim()).await? {
                Some(o) => {
                    ids.insert(o.id);
                }
                None => errors.push(FieldError::new(
                    format!("partenaires[{i}]"),
                    format!("organisation « {id} » inconnue"),
                )),
            }
        }
        partners = Some(ids.into_iter().collect());
    }
    let mut scope = None;
    if let Some(list) = &patch.scope {
        let departements = territory_repo::list_departements_of_academie(db, &roadmap.academie_code).await?;
        let mut items: BTreeMap<(String, String), Option<String>> = BTreeMap::new();
        for (i, s) in list.iter().enumerate() {
            let code = s.code.trim().to_uppercase();
            let field = format!("perimetre[{i}]");
            match s.kind.as_str() {
                "departement" => {
                    if departements.iter().any(|d| d.code == code) {
                        items.insert((s.kind.clone(), code.clone()), Some(code));
                    } else {
                        errors.push(FieldError::new(
                            field,
                            format!("le département « {code} » n'est pas de l'académie"),
                        ));
                    }
                }
                "etablissement" => match territory_repo::find_etablissement(db, &code).await? {
                    Some(e) if e.code_academie.as_deref() == Some(roadmap.academie_code.as_str()) => {
                        items.insert((s.kind.clone(), code), Some(e.code_departement));
                    }
                    Some(_) => errors.push(FieldError::new(
                        field,
                        format!("l'établissement {code} n'est pas de l'académie"),
                    )),
                    None => errors.push(FieldError::new(field, format!("UAI « {code} » inconnu"))),
                },
                other => errors.push(FieldError::new(
                    field,
                    format!("type « {other} » inconnu ; valeurs : {}", SCOPE_KINDS.join(", ")),
                )),
            }
        }
        scope = Some(
            items
                .into_iter()
                .map(|((kind, code), departement)| repo::StoredScope {
                    kind,
                    code,
                    departement,
                })
                .collect(),
        );
    }
    let mut depends_on = None;
    let mut depends_codes = None;
    if let Some(codes) = &patch.depends_on {
        let siblings = repo::load_actions(db, ActionSet::Roadmap(&roadmap.id)).await?;
        let by_code: HashMap<&str, &str> = siblings
            .actions
            .iter()
            .map(|(_, _, x)| (x.code.as_str(), x.id.as_str()))
            .collect();
        // Edges of the graph once this action depends on `ids`: no cycle allowed.
        let mut edges: HashMap<String, Vec<String>> = HashMap::new();
        for (from, code) in &siblings.depends_on {
            if let Some(to) = by_code.get(code.as_str()) {
                edges.entry(from.clone()).or_default().push((*to).to_owned());
            }
        }
        let mut ids = BTreeSet::new();
        for (i, code) in codes.iter().enumerate() {
            let code = code.trim().to_uppercase();
            match by_code.get(code.as_str()) {
                Some(id) if *id == a.id => errors.push(FieldError::new(
                    format!("dependances[{i}]"),
                    "une action ne peut dépendre d'elle-même",
                )),
                Some(id) => {
                    ids.insert((*id).to_owned());
                }
                None => errors.push(FieldError::new(
                    format!("dependances[{i}]"),
                    format!("action « {code} » inconnue dans cette feuille de route"),
                )),
            }
        }
        edges.insert(a.id.clone(), ids.iter().cloned().collect());
        if reaches(&edges, &ids, &a.id) {
            errors.push(FieldError::new(
                "dependances",
                "ces dépendances formeraient un cycle",
            ));
        }
        let mut codes: Vec<String> = by_code
            .iter()
            .filter(|(_, id)| ids.contains(**id))
            .map(|(code, _)| (*code).to_owned())
            .collect();
        codes.sort();
        depends_codes = Some(codes);
        depends_on = Some(ids.into_iter().collect());
    }
    if errors.is_empty() {
        Ok(Resolved {
            action: a,
            partners,
            scope,
            depends_on,
            depends_codes,
            milestones,
            budget,
        })
    } else {
        Err(CoreError::Validation(errors))
    }
}

/// True when `target` is reachable from any of `start` along `edges`.
fn reaches(edges: &HashMap<String, Vec<String>>, start: &BTreeSet<String>, target: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&str> = start.iter().map(String::as_str).collect();
    while let Some(node) = stack.pop() {
        if node == target {
            return true;
        }
        if seen.insert(node) {
            stack.extend(edges.get(node).into_iter().flatten().map(String::as_str));
        }
    }
    false
}

/// The action as the audit trail records it.
fn action_audit(v: &ActionView) -> serde_json::Value {
    audit_json(
        &v.action,
        &v.milestones,
        &v.budget,
        &v.partners.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
        &v.scope,
        &v.depends_on,
    )
}

/// The action as the audit trail records it, once a patch is applied (before it is saved).
fn resolved_audit(r: &Resolved, current: Option<&ActionView>) -> serde_json::Value {
    let keep = |v: Option<&ActionView>| v.cloned();
    let current = keep(current);
    let partners = r.partners.clone().unwrap_or_else(|| {
        current
            .as_ref()
            .map(|c| c.partners.iter().map(|p| p.id.clone()).collect())
            .unwrap_or_default()
    });
    audit_json(
        &r.action,
        r.milestones
            .as_deref()
            .unwrap_or(current.as_ref().map(|c| c.milestones.as_slice()).unwrap_or(&[])),
        r.budget
            .as_deref()
            .unwrap_or(current.as_ref().map(|c| c.budget.as_slice()).unwrap_or(&[])),
        &partners,
        &r.scope.as_ref().map_or_else(
            || current.as_ref().map(|c| c.scope.clone()).unwrap_or_default(),
            |list| {
                list.iter()
                    .map(|x| ScopeItem {
                        kind: x.kind.clone(),
                        code: x.code.clone(),
                    })
                    .collect()
            },
        ),
        r.depends_codes
            .as_deref()
            .unwrap_or(current.as_ref().map(|c| c.depends_on.as_slice()).unwrap_or(&[])),
    )
}

fn audit_json(
    a: &Action,
    milestones: &[ActionMilestone],
    budget: &[BudgetLine],
    partners: &[String],
    scope: &[ScopeItem],
    depends_on: &[String],
) -> serde_json::Value {
    serde_json::json!({
        "code": a.code, "declinaison": a.declension_id, "objectif": a.objective_id, "titre": a.title,
        "description": a.description, "pilote": a.pilote_user_id, "equipePilote": a.pilote_team,
        "debut": a.start_date.map(|d| d.to_string()), "fin": a.end_date.map(|d| d.to_string()),
        "statut": a.status, "avancement": a.progress, "risques": a.risks,
        "jalons": milestones, "budget": budget, "partenaires": partners, "perimetre": scope,
        "dependances": depends_on,
    })
}

/// The action's content as a validated version keeps it (what the comparison shows).
pub fn action_snapshot(v: &ActionView) -> serde_json::Value {
    let a = &v.action;
    let euros = |c: i64| format!("{}.{:02}", c / 100, c % 100);
    serde_json::json!({
        "titre": a.title, "rattachement": v.parent_code, "description": a.description,
        "pilote": v.pilote_name.clone().or_else(|| a.pilote_team.clone()),
        "debut": a.start_date.map(|d| d.to_string()), "fin": a.end_date.map(|d| d.to_string()),
        "statut": a.status, "avancement": a.progress, "risques": a.risks,
        "jalons": v.milestones.iter().map(|m| format!("{} ({})", m.label, m.due_date)).collect::<Vec<_>>().join(" ; "),
        "budget": v.budget.iter().map(|b| format!("{} {} {} €", b.year, b.funder_label, euros(b.amount_cents))).collect::<Vec<_>>().join(" ; "),
        "partenaires": v.partners.iter().map(|p| p.nom.clone()).collect::<Vec<_>>().join(", "),
        "perimetre": v.scope.iter().map(|s| s.code.clone()).collect::<Vec<_>>().join(", "),
        "dependances": v.depends_on.join(", "),
    })
}

/// True when the change touches the plan, not only how its execution is followed.
fn content_changed(before: &serde_json::Value, after: &serde_json::Value) -> bool {
    let strip = |v: &serde_json::Value| {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("statut");
            o.remove("avancement");
            if let Some(serde_json::Value::Array(list)) = o.get_mut("jalons") {
                for m in list {
                    if let Some(m) = m.as_object_mut() {
                        m.remove("done");
                    }
                }
            }
        }
        v
    };
    strip(before) != strip(after)
}

/// Adds an action to the académie's roadmap.
pub async fn create_action(
    db: &Db,
    by: &Principal,
    academie: &str,
    patch: &ActionPatch,
) -> CoreResult<ActionView> {
    check(db, by, academie, Capability::Write).await?;
    let roadmap = current_roadmap(db, academie).await?;
    let blank = Action {
        id: new_id(),
        roadmap_id: roadmap.id.clone(),
        code: String::new(),
        declension_id: None,
        objective_id: None,
        title: String::new(),
        description: String::new(),
        pilote_user_id: None,
        pilote_team: None,
        start_date: None,
        end_date: None,
        status: "non-commence".into(),
        progress: 0,
        risks: String::new(),
        version: 1,
    };
    let r = resolve(db, &roadmap, blank, patch).await?;
    let stamp = now();
    let mut tx = db.begin().await?;
    let mut action = r.action.clone();
    action.code = repo::next_action_code(&mut tx, &roadmap.id).await?;
    repo::insert_action(&mut tx, &action, stamp).await?;
    repo::replace_children(
        &mut tx,
        &action.id,
        &ActionChildren {
            milestones: r.milestones.as_deref(),
            budget: r.budget.as_deref(),
            partners: r.partners.as_deref(),
            scope: r.scope.as_deref(),
            depends_on: r.depends_on.as_deref(),
        },
    )
    .await?;
    repo::touch_roadmap(&mut tx, &roadmap.id, stamp).await?;
    let after = resolved_audit(
        &Resolved {
            action: action.clone(),
            ..r
        },
        None,
    );
    audit::record(
        &mut tx,
        &by.actor(),
        "creer",
        "action",
        &action.id,
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    get_action(db, by, &action.id).await
}

/// Changes an action (409 when someone saved it since `version`).
pub async fn update_action(
    db: &Db,
    by: &Principal,
    id: &str,
    version: i64,
    patch: &ActionPatch,
) -> CoreResult<ActionView> {
    let current = get_action(db, by, id).await?;
    require_write(db, by, &current.academie_code).await?;
    let roadmap = repo::find_roadmap_by_id(db, &current.action.roadmap_id)
        .await?
        .ok_or_else(|| CoreError::not_found("action", id))?;
    if current.action.version != version {
        return Err(CoreError::Conflict(format!(
            "l'action a été modifiée entre-temps (version actuelle {})",
            current.action.version
        )));
    }
    let r = resolve(db, &roadmap, current.action.clone(), patch).await?;
    let stamp = now();
    let mut tx = db.begin().await?;
    if !repo::update_action(&mut tx, &r.action, version, stamp).await? {
        return Err(CoreError::Conflict(format!(
            "l'action a été modifiée entre-temps (version actuelle {})",
            current.action.version
        )));
    }
    repo::replace_children(
        &mut tx,
        id,
        &ActionChildren {
            milestones: r.milestones.as_deref(),
            budget: r.budget.as_deref(),
            partners: r.partners.as_deref(),
            scope: r.scope.as_deref(),
            depends_on: r.depends_on.as_deref(),
        },
    )
    .await?;
    let (before, after) = (action_audit(&current), resolved_audit(&r, Some(&current)));
    if content_changed(&before, &after) {
        repo::touch_roadmap(&mut tx, &roadmap.id, stamp).await?;
    }
    audit::record(
        &mut tx,
        &by.actor(),
        "modifier",
        "action",
        id,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    get_action(db, by, id).await
}

/// Removes an action (409 when someone saved it since `version`); the actions that depended
/// on it no longer do.
pub async fn delete_action(db: &Db, by: &Principal, id: &str, version: i64) -> CoreResult<()> {
    let current = get_action(db, by, id).await?;
    require_write(db, by, &current.academie_code).await?;
    let mut tx = db.begin().await?;
    if !repo::delete_action(&mut tx, id, version).await? {
        return Err(CoreError::Conflict(format!(
            "l'action a été modifiée entre-temps (version actuelle {})",
            current.action.version
        )));
    }
    repo::touch_roadmap(&mut tx, &current.action.roadmap_id, now()).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "supprimer",
        "action",
        id,
        Some(&action_audit(&current)),
        None,
    )
    .await?;
    tx.commit().await
}

// ---------------------------------------------------------------------------------------
// Publication and annual review

/// Publishes a validated roadmap (the académie's writers).
pub async fn publish(db: &Db, by: &Principal, academie: &str, version: i64) -> CoreResult<Roadmap> {
    check(db, by, academie, Capability::Write).await?;
    let roadmap = current_roadmap(db, academie).await?;
    if roadmap.status != "validee" {
        return Err(invalid(
            "statut",
            "seule une feuille de route validée par le recteur peut être publiée",
        ));
    }
    let mut tx = db.begin().await?;
    let n = tx
        .execute(
            Sql::new("UPDATE roadmap SET status = 'publiee', version = version + 1, updated_at = ")
                .bind(now())
                .push(" WHERE id = ")
                .bind(roadmap.id.as_str())
                .push(" AND version = ")
                .bind(version),
        )
        .await?;
    if n != 1 {
        return Err(CoreError::Conflict(format!(
            "la feuille de route a été modifiée entre-temps (version actuelle {})",
            roadmap.version
        )));
    }
    audit::record(
        &mut tx,
        &by.actor(),
        "publier",
        "feuille-de-route",
        &roadmap.id,
        Some(&serde_json::json!({ "statut": roadmap.status })),
        Some(&serde_json::json!({ "statut": "publiee" })),
    )
    .await?;
    tx.commit().await?;
    Ok(Roadmap {
        status: "publiee".into(),
        version: roadmap.version + 1,
        ..roadmap
    })
}

/// Writes the annual review (bilan) of a published roadmap for a year: the DAN's summary and
/// the count of actions by status at that moment.
pub async fn write_bilan(
    db: &Db,
    by: &Principal,
    academie: &str,
    year: i64,
    summary: &str,
) -> CoreResult<Bilan> {
    check(db, by, academie, Capability::Write).await?;
    let roadmap = current_roadmap(db, academie).await?;
    let mut errors = Vec::new();
    if !matches!(roadmap.status.as_str(), "publiee" | "bilan") {
        errors.push(FieldError::new(
            "statut",
            "le bilan annuel porte sur une feuille de route publiée",
        ));
    }
    if !(2000..=2100).contains(&year) {
        errors.push(FieldError::new("annee", "année entre 2000 et 2100"));
    }
    let summary = summary.trim();
    if summary.is_empty() || summary.chars().count() > 20_000 {
        errors.push(FieldError::new("synthese", "entre 1 et 20 000 caractères"));
    }
    if !errors.is_empty() {
        return Err(CoreError::Validation(errors));
    }
    let actions = views(db, ActionSet::Roadmap(&roadmap.id)).await?;
    let mut figures: BTreeMap<String, i64> = STATUSES.iter().map(|s| ((*s).to_owned(), 0)).collect();
    for a in &actions {
        *figures.entry(a.action.status.clone()).or_default() += 1;
    }
    figures.insert(
        "en-retard-constate".into(),
        actions.iter().filter(|a| a.late).count() as i64,
    );
    let figures = serde_json::to_string(&figures).unwrap_or_default();
    let mut tx = db.begin().await?;
    let exists = tx
        .fetch_scalar_i64(
            Sql::new("SELECT COUNT(*) FROM roadmap_bilan WHERE roadmap_id = ")
                .bind(roadmap.id.as_str())
                .push(" AND year = ")
                .bind(year),
        )
        .await?;
    if exists > 0 {
        return Err(CoreError::Conflict(format!("le bilan {year} est déjà écrit")));
    }
    tx.execute(
        Sql::new(
            "INSERT INTO roadmap_bilan (roadmap_id, year, summary, figures, author_id, created_at) VALUES ",
        )
        .bind_tuple([
            crate::db::Value::from(roadmap.id.as_str()),
            year.into(),
            summary.into(),
            figures.as_str().into(),
            by.user.id.as_str().into(),
            now().into(),
        ]),
    )
    .await?;
    tx.execute(
        Sql::new("UPDATE roadmap SET status = 'bilan', version = version + 1, updated_at = ")
            .bind(now())
            .push(" WHERE id = ")
            .bind(roadmap.id.as_str()),
    )
    .await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "bilan",
        "feuille-de-route",
        &roadmap.id,
        Some(&serde_json::json!({ "statut": roadmap.status })),
        Some(&serde_json::json!({ "statut": "bilan", "annee": year, "synthese": summary, "chiffres": figures })),
    )
    .await?;
    tx.commit().await?;
    Ok(Bilan {
        year,
        summary: summary.to_owned(),
        figures,
        author_id: by.user.id.clone(),
    })
}

/// The annual reviews of the académie's roadmap, oldest first.
pub async fn bilans(db: &Db, by: &Principal, academie: &str) -> CoreResult<Vec<Bilan>> {
    let Some(roadmap) = repo::roadmaps_of(db, academie).await?.into_iter().next() else {
        check(db, by, academie, Capability::Read).await?;
        return Ok(Vec::new());
    };
    if !can_read_roadmap(db, by, academie, &roadmap.id).await? {
        return Err(CoreError::not_found("feuille de route", academie));
    }
    db.fetch_all(
        Sql::new("SELECT year, summary, figures, author_id FROM roadmap_bilan WHERE roadmap_id = ")
            .bind(roadmap.id.as_str())
            .push(" ORDER BY year"),
    )
    .await
}

/// The organisations an action may name as partners.
pub async fn partner_choices(db: &Db) -> CoreResult<Vec<crate::identity::model::Organisation>> {
    identity_repo::list_organisations(db).await
}

/// The national objectives an objective of the académie's roadmap may serve.
pub async fn national_objectives(
    db: &Db,
    by: &Principal,
    academie: &str,
) -> CoreResult<Vec<crate::strategy::model::Objective>> {
    let Some(roadmap) = repo::roadmaps_of(db, academie).await?.into_iter().next() else {
        return Ok(Vec::new());
    };
    if !can_read_roadmap(db, by, academie, &roadmap.id).await? {
        return Err(CoreError::not_found("feuille de route", academie));
    }
    strategy_repo::objectives_of_strategy(db, &roadmap.strategy_id).await
}

/// Starts the académie's roadmap for the next strategy period from the last one: its own
/// objectives carry over, and so do the actions not finished nor abandoned (with their
/// pilote, partners, perimeter, remaining milestones, budget lines from the new period on and
/// dependencies among them). The actions of a declined project carry over under an objective
/// of the académie named after it, until the DAN links them to the new strategy.
pub async fn next_period(db: &Db, by: &Principal, academie: &str, strategy: &str) -> CoreResult<Roadmap> {
    check(db, by, academie, Capability::Write).await?;
    let previous = current_roadmap(db, academie).await?;
    let next_strategy = strategy_repo::find_strategy(db, strategy)
        .await?
        .filter(|s| s.status == "publiee")
        .ok_or_else(|| invalid("strategie", format!("stratégie publiée « {strategy} » inconnue")))?;
    if next_strategy.id == previous.strategy_id {
        return Err(invalid(
            "strategie",
            "la feuille de route en cours porte déjà sur cette stratégie",
        ));
    }
    if repo::find_roadmap(db, academie, &next_strategy.id)
        .await?
        .is_some()
    {
        return Err(CoreError::Conflict(format!(
            "l'académie a déjà une feuille de route pour la stratégie {}",
            next_strategy.code
        )));
    }
    let from_year = i64::from(next_strategy.period_start.year());
    let old_objectives = repo::objectives_of(db, &previous.id).await?;
    let old_actions: Vec<ActionView> = views(db, ActionSet::Roadmap(&previous.id))
        .await?
        .into_iter()
        .filter(|v| !matches!(v.action.status.as_str(), "termine" | "abandonne"))
        .collect();
    let nom = crate::territory::service::get_academie(db, academie)
        .await?
        .academie
        .nom;
    let stamp = now();
    let roadmap = Roadmap {
        id: new_id(),
        academie_code: academie.to_owned(),
        strategy_id: next_strategy.id.clone(),
        title: format!("Feuille de route académique — {nom} — {}", next_strategy.code),
        status: "brouillon".into(),
        version: 1,
    };
    let mut tx = db.begin().await?;
    repo::insert_roadmap(&mut tx, &roadmap, stamp).await?;
    // The objectives: the académie's own, then one per declined project with actions to go on.
    let mut objective_of: HashMap<String, String> = HashMap::new();
    let mut count = 0;
    for o in &old_objectives {
        count += 1;
        let copy = LocalObjective {
            id: new_id(),
            roadmap_id: roadmap.id.clone(),
            code: format!("O{count}"),
            axis_title: if o.axis_title.is_empty() {
                old_actions
                    .iter()
                    .find(|a| a.action.objective_id.as_deref() == Some(o.id.as_str()))
                    .map(|a| a.axis.clone())
                    .unwrap_or_else(|| "Période précédente".into())
            } else {
                o.axis_title.clone()
            },
            title: o.title.clone(),
            description: o.description.clone(),
            national_objective_id: None,
            version: 1,
        };
        repo::insert_objective(&mut tx, &copy, stamp).await?;
        objective_of.insert(o.id.clone(), copy.id);
    }
    for a in &old_actions {
        if let Some(d) = &a.action.declension_id
            && !objective_of.contains_key(d)
        {
            count += 1;
            let copy = LocalObjective {
                id: new_id(),
                roadmap_id: roadmap.id.clone(),
                code: format!("O{count}"),
                axis_title: a.axis.clone(),
                title: format!("Suite de {} — {}", a.parent_code, a.parent_title),
                description: String::new(),
                national_objective_id: None,
                version: 1,
            };
            repo::insert_objective(&mut tx, &copy, stamp).await?;
            objective_of.insert(d.clone(), copy.id);
        }
    }
    let mut id_of: HashMap<String, String> = HashMap::new();
    for a in &old_actions {
        id_of.insert(a.action.code.clone(), new_id());
    }
    for a in &old_actions {
        let parent = a
            .action
            .objective_id
            .as_ref()
            .or(a.action.declension_id.as_ref())
            .and_then(|p| objective_of.get(p))
            .cloned();
        let copy = Action {
            id: id_of.get(&a.action.code).cloned().unwrap_or_else(new_id),
            roadmap_id: roadmap.id.clone(),
            declension_id: None,
            objective_id: parent,
            version: 1,
            ..a.action.clone()
        };
        repo::insert_action(&mut tx, &copy, stamp).await?;
        let milestones: Vec<ActionMilestone> = a.milestones.iter().filter(|m| !m.done).cloned().collect();
        let budget: Vec<BudgetLine> = a.budget.iter().filter(|b| b.year >= from_year).cloned().collect();
        let partners: Vec<String> = a.partners.iter().map(|p| p.id.clone()).collect();
        let depends: Vec<String> = a
            .depends_on
            .iter()
            .filter_map(|c| id_of.get(c).cloned())
            .collect();
        let mut scope = Vec::with_capacity(a.scope.len());
        for item in &a.scope {
            let departement = if item.kind == "departement" {
                Some(item.code.clone())
            } else {
                territory_repo::find_etablissement(db, &item.code)
                    .await?
                    .map(|e| e.code_departement)
            };
            scope.push(repo::StoredScope {
                kind: item.kind.clone(),
                code: item.code.clone(),
                departement,
            });
        }
        repo::replace_children(
            &mut tx,
            &copy.id,
            &ActionChildren {
                milestones: Some(&milestones),
                budget: Some(&budget),
                partners: Some(&partners),
                scope: Some(&scope),
                depends_on: Some(&depends),
            },
        )
        .await?;
    }
    audit::record(
        &mut tx,
        &by.actor(),
        "periode-suivante",
        "feuille-de-route",
        &roadmap.id,
        Some(&serde_json::json!({ "feuilleDeRoute": previous.id })),
        Some(&serde_json::json!({
            "strategie": next_strategy.code, "objectifs": objective_of.len(),
            "actions": old_actions.iter().map(|a| a.action.code.clone()).collect::<Vec<_>>(),
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(roadmap)
}
