//! All the SQL of roadmaps.

use time::OffsetDateTime;

use crate::db::{Db, Sql, Tx, Value};
use crate::error::CoreResult;

use super::model::*;

const ROADMAP_COLUMNS: &str = "id, academie_code, strategy_id, title, status, version";
const DECLENSION_COLUMNS: &str = "id, roadmap_id, national_project_id, national_version, follows_national, \
     national_snapshot, review_reason, title, local_pilote, local_target, start_date, end_date, not_applicable, \
     justification, status, progress, version";

pub async fn find_roadmap(db: &Db, academie: &str, strategy_id: &str) -> CoreResult<Option<Roadmap>> {
    db.fetch_optional(
        Sql::new(&format!(
            "SELECT {ROADMAP_COLUMNS} FROM roadmap WHERE academie_code = "
        ))
        .bind(academie)
        .push(" AND strategy_id = ")
        .bind(strategy_id),
    )
    .await
}

pub async fn roadmaps_of(db: &Db, academie: &str) -> CoreResult<Vec<Roadmap>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {ROADMAP_COLUMNS} FROM roadmap WHERE academie_code = "
        ))
        .bind(academie)
        .push(" ORDER BY created_at DESC, id"),
    )
    .await
}

pub async fn find_roadmap_by_id(db: &Db, id: &str) -> CoreResult<Option<Roadmap>> {
    db.fetch_optional(Sql::new(&format!("SELECT {ROADMAP_COLUMNS} FROM roadmap WHERE id = ")).bind(id))
        .await
}

pub async fn insert_roadmap(tx: &mut Tx, r: &Roadmap, now: OffsetDateTime) -> CoreResult<()> {
    tx.execute(
        Sql::new(
            "INSERT INTO roadmap (id, academie_code, strategy_id, title, status, version, created_at, updated_at) VALUES ",
        )
        .bind_tuple([
            Value::from(r.id.as_str()),
            r.academie_code.as_str().into(),
            r.strategy_id.as_str().into(),
            r.title.as_str().into(),
            r.status.as_str().into(),
            r.version.into(),
            now.into(),
            now.into(),
        ]),
    )
    .await?;
    Ok(())
}

pub async fn declensions_of(db: &Db, roadmap_id: &str) -> CoreResult<Vec<Declension>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {DECLENSION_COLUMNS} FROM roadmap_item WHERE roadmap_id = "
        ))
        .bind(roadmap_id)
        .push(" ORDER BY created_at, id"),
    )
    .await
}

pub async fn declensions_of_project(db: &Db, project_id: &str) -> CoreResult<Vec<(String, Declension)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        academie_code: String,
        #[sqlx(flatten)]
        d: Declension,
    }
    let rows: Vec<Row> = db
        .fetch_all(
            Sql::new(&format!(
                "SELECT r.academie_code, {} FROM roadmap_item i JOIN roadmap r ON r.id = i.roadmap_id \
                 WHERE i.national_project_id = ",
                DECLENSION_COLUMNS
                    .split(", ")
                    .map(|c| format!("i.{}", c.trim()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .bind(project_id),
        )
        .await?;
    Ok(rows.into_iter().map(|r| (r.academie_code, r.d)).collect())
}

pub async fn find_declension(db: &Db, id: &str) -> CoreResult<Option<Declension>> {
    db.fetch_optional(
        Sql::new(&format!(
            "SELECT {DECLENSION_COLUMNS} FROM roadmap_item WHERE id = "
        ))
        .bind(id),
    )
    .await
}

pub async fn insert_declension(tx: &mut Tx, d: &Declension, now: OffsetDateTime) -> CoreResult<()> {
    tx.execute(
        Sql::new(
            "INSERT INTO roadmap_item (id, roadmap_id, national_project_id, national_version, follows_national, \
             national_snapshot, status, progress, not_applicable, version, created_at, updated_at) VALUES ",
        )
        .bind_tuple([
            Value::from(d.id.as_str()),
            d.roadmap_id.as_str().into(),
            d.national_project_id.as_deref().into(),
            d.national_version.into(),
            d.follows_national.into(),
            d.national_snapshot.as_deref().into(),
            d.status.as_str().into(),
            d.progress.into(),
            d.not_applicable.into(),
            d.version.into(),
            now.into(),
            now.into(),
        ]),
    )
    .await?;
    Ok(())
}

/// Writes every mutable field if the row is still at `version`.
pub async fn update_declension(
    tx: &mut Tx,
    d: &Declension,
    version: i64,
    now: OffsetDateTime,
) -> CoreResult<bool> {
    let n = tx
        .execute(
            Sql::new("UPDATE roadmap_item SET national_version = ")
                .bind(d.national_version)
                .push(", follows_national = ")
                .bind(d.follows_national)
                .push(", national_snapshot = ")
                .bind(d.national_snapshot.as_deref())
                .push(", review_reason = ")
                .bind(d.review_reason.as_deref())
                .push(", title = ")
                .bind(d.title.as_deref())
                .push(", local_pilote = ")
                .bind(d.local_pilote.as_deref())
                .push(", local_target = ")
                .bind(d.local_target.as_deref())
                .push(", start_date = ")
                .bind(d.start_date)
                .push(", end_date = ")
                .bind(d.end_date)
                .push(", not_applicable = ")
                .bind(d.not_applicable)
                .push(", justification = ")
                .bind(d.justification.as_deref())
                .push(", status = ")
                .bind(d.status.as_str())
                .push(", progress = ")
                .bind(d.progress)
                .push(", version = version + 1, updated_at = ")
                .bind(now)
                .push(" WHERE id = ")
                .bind(d.id.as_str())
                .push(" AND version = ")
                .bind(version),
        )
        .await?;
    Ok(n == 1)
}

const OBJECTIVE_COLUMNS: &str =
    "id, roadmap_id, code, axis_title, title, description, national_objective_id, version";
const ACTION_COLUMNS: &str = "a.id, a.roadmap_id, a.code, a.declension_id, a.objective_id, a.title, \
     a.description, a.pilote_user_id, a.pilote_team, a.start_date, a.end_date, a.status, a.progress, a.risks, \
     a.version";

pub async fn objectives_of(db: &Db, roadmap_id: &str) -> CoreResult<Vec<LocalObjective>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {OBJECTIVE_COLUMNS} FROM roadmap_objective WHERE roadmap_id = "
        ))
        .bind(roadmap_id)
        .push(" ORDER BY code"),
    )
    .await
}

pub async fn find_objective(db: &Db, id: &str) -> CoreResult<Option<LocalObjective>> {
    db.fetch_optional(
        Sql::new(&format!(
            "SELECT {OBJECTIVE_COLUMNS} FROM roadmap_objective WHERE id = "
        ))
        .bind(id),
    )
    .await
}

pub async fn insert_objective(tx: &mut Tx, o: &LocalObjective, now: OffsetDateTime) -> CoreResult<()> {
    tx.execute(
        Sql::new(
            "INSERT INTO roadmap_objective (id, roadmap_id, code, axis_title, title, description, \
             national_objective_id, version, created_at, updated_at) VALUES ",
        )
        .bind_tuple([
            Value::from(o.id.as_str()),
            o.roadmap_id.as_str().into(),
            o.code.as_str().into(),
            o.axis_title.as_str().into(),
            o.title.as_str().into(),
            o.description.as_str().into(),
            o.national_objective_id.as_deref().into(),
            o.version.into(),
            now.into(),
            now.into(),
        ]),
    )
    .await?;
    Ok(())
}

pub async fn update_objective(
    tx: &mut Tx,
    o: &LocalObjective,
    version: i64,
    now: OffsetDateTime,
) -> CoreResult<bool> {
    let n = tx
        .execute(
            Sql::new("UPDATE roadmap_objective SET axis_title = ")
                .bind(o.axis_title.as_str())
                .push(", title = ")
                .bind(o.title.as_str())
                .push(", description = ")
                .bind(o.description.as_str())
                .push(", national_objective_id = ")
                .bind(o.national_objective_id.as_deref())
                .push(", version = version + 1, updated_at = ")
                .bind(now)
                .push(" WHERE id = ")
                .bind(o.id.as_str())
                .push(" AND version = ")
                .bind(version),
        )
        .await?;
    Ok(n == 1)
}

/// Which actions to load: one roadmap's, one action, or the actions a person pilots.
#[derive(Debug, Clone, Copy)]
pub enum ActionSet<'a> {
    Roadmap(&'a str),
    One(&'a str),
    Pilote(&'a str),
    All,
}

impl ActionSet<'_> {
    fn filter(self, q: Sql) -> Sql {
        match self {
            ActionSet::Roadmap(id) => q.push(" WHERE a.roadmap_id = ").bind(id),
            ActionSet::One(id) => q.push(" WHERE a.id = ").bind(id),
            ActionSet::Pilote(id) => q.push(" WHERE a.pilote_user_id = ").bind(id),
            ActionSet::All => q,
        }
    }
}

/// An action's académie, its pilote's name and e-mail, and the action.
pub type ActionRow = (String, Option<(String, String)>, Action);

/// A perimeter element as stored: with the département it reaches (a school's own).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredScope {
    pub kind: String,
    pub code: String,
    pub departement: Option<String>,
}

/// Actions with their académie, pilote and children: one row per action (milestones, budget
/// and perimeter are JSON columns of it), plus one query each for partners and dependencies.
#[derive(Debug, Clone, Default)]
pub struct ActionRows {
    pub actions: Vec<ActionRow>,
    pub milestones: Vec<(String, Vec<ActionMilestone>)>,
    pub budget: Vec<(String, Vec<BudgetLine>)>,
    pub partners: Vec<(String, Partner)>,
    pub scope: Vec<(String, Vec<StoredScope>)>,
    pub depends_on: Vec<(String, String)>,
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, id: &str, text: &str) -> CoreResult<Vec<T>> {
    serde_json::from_str(text)
        .map_err(|e| crate::error::CoreError::Internal(format!("{what} de l'action {id} illisibles : {e}")))
}

pub async fn load_actions(db: &Db, set: ActionSet<'_>) -> CoreResult<ActionRows> {
    #[derive(sqlx::FromRow)]
    struct Row {
        academie_code: String,
        pilote_name: Option<String>,
        pilote_email: Option<String>,
        milestones: String,
        budget: String,
        scope: String,
        #[sqlx(flatten)]
        a: Action,
    }
    #[derive(sqlx::FromRow)]
    struct PartnerRow {
        action_id: String,
        #[sqlx(flatten)]
        p: Partner,
    }
    #[derive(sqlx::FromRow)]
    struct DependencyRow {
        action_id: String,
        code: String,
    }
    let rows: Vec<Row> = db
        .fetch_all(
            set.filter(Sql::new(&format!(
                "SELECT r.academie_code, u.display_name AS pilote_name, u.email AS pilote_email, a.milestones, \
                 a.budget, a.scope, {ACTION_COLUMNS} FROM roadmap_action a \
                 JOIN roadmap r ON r.id = a.roadmap_id LEFT JOIN app_user u ON u.id = a.pilote_user_id"
            )))
            .push(" ORDER BY r.academie_code, a.code"),
        )
        .await?;
    let partners: Vec<PartnerRow> = db
        .fetch_all(
            set.filter(Sql::new(
                "SELECT p.action_id, o.id, o.nom FROM roadmap_action_partner p \
                 JOIN roadmap_action a ON a.id = p.action_id JOIN organisation o ON o.id = p.organisation_id",
            ))
            .push(" ORDER BY p.action_id, o.nom"),
        )
        .await?;
    let depends_on: Vec<DependencyRow> = db
        .fetch_all(
            set.filter(Sql::new(
                "SELECT d.action_id, t.code FROM roadmap_action_dependency d \
                 JOIN roadmap_action a ON a.id = d.action_id JOIN roadmap_action t ON t.id = d.depends_on_id",
            ))
            .push(" ORDER BY d.action_id, t.code"),
        )
        .await?;
    let mut out = ActionRows {
        partners: partners.into_iter().map(|r| (r.action_id, r.p)).collect(),
        depends_on: depends_on.into_iter().map(|r| (r.action_id, r.code)).collect(),
        ..ActionRows::default()
    };
    for r in rows {
        let id = r.a.id.clone();
        out.milestones
            .push((id.clone(), from_json("jalons", &id, &r.milestones)?));
        out.budget
            .push((id.clone(), from_json("lignes budgétaires", &id, &r.budget)?));
        out.scope
            .push((id.clone(), from_json("périmètre", &id, &r.scope)?));
        out.actions
            .push((r.academie_code, r.pilote_name.zip(r.pilote_email), r.a));
    }
    Ok(out)
}

/// The next free action code of a roadmap (`A01`, `A02`…).
pub async fn next_action_code(tx: &mut Tx, roadmap_id: &str) -> CoreResult<String> {
    let n = tx
        .fetch_scalar_i64(
            Sql::new("SELECT COUNT(*) FROM roadmap_action WHERE roadmap_id = ").bind(roadmap_id),
        )
        .await?;
    let mut candidate = n + 1;
    loop {
        let code = format!("A{candidate:02}");
        let taken = tx
            .fetch_scalar_i64(
                Sql::new("SELECT COUNT(*) FROM roadmap_action WHERE roadmap_id = ")
                    .bind(roadmap_id)
                    .push(" AND code = ")
                    .bind(code.as_str()),
            )
            .await?;
        if taken == 0 {
            return Ok(code);
        }
        candidate += 1;
    }
}

pub async fn insert_action(tx: &mut Tx, a: &Action, now: OffsetDateTime) -> CoreResult<()> {
    tx.execute(
        Sql::new(
            "INSERT INTO roadmap_action (id, roadmap_id, code, declension_id, objective_id, title, description, \
             pilote_user_id, pilote_team, start_date, end_date, status, progress, risks, version, created_at, \
             updated_at) VALUES ",
        )
        .bind_tuple([
            Value::from(a.id.as_str()),
            a.roadmap_id.as_str().into(),
            a.code.as_str().into(),
            a.declension_id.as_deref().into(),
            a.objective_id.as_deref().into(),
            a.title.as_str().into(),
            a.description.as_str().into(),
            a.pilote_user_id.as_deref().into(),
            a.pilote_team.as_deref().into(),
            a.start_date.into(),
            a.end_date.into(),
            a.status.as_str().into(),
            a.progress.into(),
            a.risks.as_str().into(),
            a.version.into(),
            now.into(),
            now.into(),
        ]),
    )
    .await?;
    Ok(())
}

/// Writes every field if the row is still at `version`.
pub async fn update_action(tx: &mut Tx, a: &Action, version: i64, now: OffsetDateTime) -> CoreResult<bool> {
    let n = tx
        .execute(
            Sql::new("UPDATE roadmap_action SET declension_id = ")
                .bind(a.declension_id.as_deref())
                .push(", objective_id = ")
                .bind(a.objective_id.as_deref())
                .push(", title = ")
                .bind(a.title.as_str())
                .push(", description = ")
                .bind(a.description.as_str())
                .push(", pilote_user_id = ")
                .bind(a.pilote_user_id.as_deref())
                .push(", pilote_team = ")
                .bind(a.pilote_team.as_deref())
                .push(", start_date = ")
                .bind(a.start_date)
                .push(", end_date = ")
                .bind(a.end_date)
                .push(", status = ")
                .bind(a.status.as_str())
                .push(", progress = ")
                .bind(a.progress)
                .push(", risks = ")
                .bind(a.risks.as_str())
                .push(", version = version + 1, updated_at = ")
                .bind(now)
                .push(" WHERE id = ")
                .bind(a.id.as_str())
                .push(" AND version = ")
                .bind(version),
        )
        .await?;
    Ok(n == 1)
}

/// The children of an action, replaced whole when given.
#[derive(Debug, Clone, Default)]
pub struct ActionChildren<'a> {
    pub milestones: Option<&'a [ActionMilestone]>,
    pub budget: Option<&'a [BudgetLine]>,
    pub partners: Option<&'a [String]>,
    pub scope: Option<&'a [StoredScope]>,
    /// Ids of the actions depended on.
    pub depends_on: Option<&'a [String]>,
}

fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> CoreResult<String> {
    serde_json::to_string(value).map_err(|e| crate::error::CoreError::Internal(format!("JSON : {e}")))
}

pub async fn replace_children(tx: &mut Tx, action_id: &str, c: &ActionChildren<'_>) -> CoreResult<()> {
    for (column, json) in [
        ("milestones", c.milestones.map(to_json).transpose()?),
        ("budget", c.budget.map(to_json).transpose()?),
        ("scope", c.scope.map(to_json).transpose()?),
    ] {
        if let Some(json) = json {
            tx.execute(
                Sql::new(&format!("UPDATE roadmap_action SET {column} = "))
                    .bind(json.as_str())
                    .push(" WHERE id = ")
                    .bind(action_id),
            )
            .await?;
        }
    }
    if let Some(list) = c.partners {
        tx.execute(Sql::new("DELETE FROM roadmap_action_partner WHERE action_id = ").bind(action_id))
            .await?;
        for id in list {
            tx.execute(
                Sql::new("INSERT INTO roadmap_action_partner (action_id, organisation_id) VALUES ")
                    .bind_tuple([Value::from(action_id), id.as_str().into()]),
            )
            .await?;
        }
    }
    if let Some(list) = c.depends_on {
        tx.execute(Sql::new("DELETE FROM roadmap_action_dependency WHERE action_id = ").bind(action_id))
            .await?;
        for id in list {
            tx.execute(
                Sql::new("INSERT INTO roadmap_action_dependency (action_id, depends_on_id) VALUES ")
                    .bind_tuple([Value::from(action_id), id.as_str().into()]),
            )
            .await?;
        }
    }
    Ok(())
}

/// Deletes an action and its children if it is still at `version`.
pub async fn delete_action(tx: &mut Tx, id: &str, version: i64) -> CoreResult<bool> {
    tx.execute(Sql::new("DELETE FROM roadmap_action_partner WHERE action_id = ").bind(id))
        .await?;
    tx.execute(
        Sql::new("DELETE FROM roadmap_action_dependency WHERE action_id = ")
            .bind(id)
            .push(" OR depends_on_id = ")
            .bind(id),
    )
    .await?;
    let n = tx
        .execute(
            Sql::new("DELETE FROM roadmap_action WHERE id = ")
                .bind(id)
                .push(" AND version = ")
                .bind(version),
        )
        .await?;
    Ok(n == 1)
}

/// Marks a roadmap as changed in its content: a validated or published roadmap goes back
/// to draft (its next validation makes the next version), and its version moves on.
pub async fn touch_roadmap(tx: &mut Tx, roadmap_id: &str, now: OffsetDateTime) -> CoreResult<()> {
    tx.execute(
        Sql::new(
            "UPDATE roadmap SET status = CASE WHEN status IN ('validee', 'publiee', 'bilan') THEN 'brouillon' \
             ELSE status END, version = version + 1, updated_at = ",
        )
        .bind(now)
        .push(" WHERE id = ")
        .bind(roadmap_id),
    )
    .await?;
    Ok(())
}
