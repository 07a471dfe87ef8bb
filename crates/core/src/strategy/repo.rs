//! All the SQL of the strategy.

use time::{Date, OffsetDateTime};

use crate::db::{Db, Sql, Tx, Value};
use crate::error::CoreResult;

use super::model::*;

const STRATEGY_COLUMNS: &str = "id, code, title, summary, period_start, period_end, status, version";
const PROJECT_COLUMNS: &str = "p.id, p.objective_id, p.code, p.title, p.description, p.goals, p.pilote_team, \
     p.audiences, p.budget_cents, p.indicator_codes, p.status, p.version, p.updated_at";

pub async fn list_strategies(db: &Db, published_only: bool) -> CoreResult<Vec<Strategy>> {
    let mut q = Sql::new(&format!("SELECT {STRATEGY_COLUMNS} FROM strategy WHERE 1 = 1"));
    if published_only {
        q.push_mut(" AND status = 'publiee'");
    }
    q.push_mut(" ORDER BY period_start DESC, code");
    db.fetch_all(q).await
}

pub async fn find_strategy(db: &Db, id_or_code: &str) -> CoreResult<Option<Strategy>> {
    db.fetch_optional(
        Sql::new(&format!("SELECT {STRATEGY_COLUMNS} FROM strategy WHERE id = "))
            .bind(id_or_code)
            .push(" OR code = ")
            .bind(id_or_code),
    )
    .await
}

pub async fn axes_of(db: &Db, strategy_id: &str) -> CoreResult<Vec<Axis>> {
    db.fetch_all(
        Sql::new(
            "SELECT id, strategy_id, position, title, description FROM strategy_axis WHERE strategy_id = ",
        )
        .bind(strategy_id)
        .push(" ORDER BY position"),
    )
    .await
}

pub async fn objectives_of_strategy(db: &Db, strategy_id: &str) -> CoreResult<Vec<Objective>> {
    db.fetch_all(
        Sql::new(
            "SELECT o.id, o.axis_id, o.position, o.code, o.title, o.description FROM strategy_objective o \
             JOIN strategy_axis a ON a.id = o.axis_id WHERE a.strategy_id = ",
        )
        .bind(strategy_id)
        .push(" ORDER BY a.position, o.position"),
    )
    .await
}

pub async fn find_objective(db: &Db, id: &str) -> CoreResult<Option<Objective>> {
    db.fetch_optional(
        Sql::new(
            "SELECT id, axis_id, position, code, title, description FROM strategy_objective WHERE id = ",
        )
        .bind(id),
    )
    .await
}

pub async fn strategy_of_objective(db: &Db, objective_id: &str) -> CoreResult<Option<Strategy>> {
    db.fetch_optional(
        Sql::new(&format!(
            "SELECT {} FROM strategy s JOIN strategy_axis a ON a.strategy_id = s.id \
             JOIN strategy_objective o ON o.axis_id = a.id WHERE o.id = ",
            STRATEGY_COLUMNS
                .split(", ")
                .map(|c| format!("s.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .bind(objective_id),
    )
    .await
}

/// Projects, optionally those of one strategy, optionally only those of published strategies.
pub async fn list_projects(
    db: &Db,
    strategy_id: Option<&str>,
    status: Option<&str>,
    published_only: bool,
) -> CoreResult<Vec<NationalProject>> {
    let mut q = Sql::new(&format!(
        "SELECT {PROJECT_COLUMNS} FROM national_project p JOIN strategy_objective o ON o.id = p.objective_id \
         JOIN strategy_axis a ON a.id = o.axis_id JOIN strategy s ON s.id = a.strategy_id WHERE 1 = 1"
    ));
    if let Some(id) = strategy_id {
        q.push_mut(" AND s.id = ");
        q.bind_mut(id);
    }
    if let Some(status) = status {
        q.push_mut(" AND p.status = ");
        q.bind_mut(status);
    }
    if published_only {
        q.push_mut(" AND s.status = 'publiee'");
    }
    q.push_mut(" ORDER BY a.position, o.position, p.code");
    db.fetch_all(q).await
}

pub async fn find_project(db: &Db, id_or_code: &str) -> CoreResult<Option<NationalProject>> {
    db.fetch_optional(
        Sql::new(&format!(
            "SELECT {PROJECT_COLUMNS} FROM national_project p WHERE p.id = "
        ))
        .bind(id_or_code)
        .push(" OR p.code = ")
        .bind(id_or_code),
    )
    .await
}

pub async fn find_project_tx(tx: &mut Tx, id: &str) -> CoreResult<Option<NationalProject>> {
    tx.fetch_optional(
        Sql::new(&format!(
            "SELECT {PROJECT_COLUMNS} FROM national_project p WHERE p.id = "
        ))
        .bind(id),
    )
    .await
}

pub async fn milestones_of(db: &Db, project_id: &str) -> CoreResult<Vec<Milestone>> {
    db.fetch_all(
        Sql::new("SELECT id, project_id, position, label, due FROM project_milestone WHERE project_id = ")
            .bind(project_id)
            .push(" ORDER BY position"),
    )
    .await
}

pub async fn milestones_of_tx(tx: &mut Tx, project_id: &str) -> CoreResult<Vec<Milestone>> {
    tx.fetch_all(
        Sql::new("SELECT id, project_id, position, label, due FROM project_milestone WHERE project_id = ")
            .bind(project_id)
            .push(" ORDER BY position"),
    )
    .await
}

pub async fn code_taken(db: &Db, table: &str, code: &str) -> CoreResult<bool> {
    Ok(db
        .fetch_scalar_i64(Sql::new(&format!("SELECT COUNT(*) FROM {table} WHERE code = ")).bind(code))
        .await?
        > 0)
}

pub async fn insert_strategy(tx: &mut Tx, s: &Strategy, now: OffsetDateTime) -> CoreResult<()> {
    tx.execute(
        Sql::new(
            "INSERT INTO strategy (id, code, title, summary, period_start, period_end, status, version, created_at, \
             updated_at) VALUES ",
        )
        .bind_tuple([
            Value::from(s.id.as_str()),
            s.code.as_str().into(),
            s.title.as_str().into(),
            s.summary.as_str().into(),
            s.period_start.into(),
            s.period_end.into(),
            s.status.as_str().into(),
            s.version.into(),
            now.into(),
            now.into(),
        ]),
    )
    .await?;
    Ok(())
}

pub async fn insert_axis(tx: &mut Tx, a: &Axis, now: OffsetDateTime) -> CoreResult<()> {
    tx.execute(
        Sql::new("INSERT INTO strategy_axis (id, strategy_id, position, title, description, created_at, updated_at) VALUES ")
            .bind_tuple([
                Value::from(a.id.as_str()),
                a.strategy_id.as_str().into(),
                a.position.into(),
                a.title.as_str().into(),
                a.description.as_str().into(),
                now.into(),
                now.into(),
            ]),
    )
    .await?;
    Ok(())
}

pub async fn insert_objective(tx: &mut Tx, o: &Objective, now: OffsetDateTime) -> CoreResult<()> {
    tx.execute(
        Sql::new(
            "INSERT INTO strategy_objective (id, axis_id, position, code, title, description, created_at, updated_at) \
             VALUES ",
        )
        .bind_tuple([
            Value::from(o.id.as_str()),
            o.axis_id.as_str().into(),
            o.position.into(),
            o.code.as_str().into(),
            o.title.as_str().into(),
            o.description.as_str().into(),
            now.into(),
            now.into(),
        ]),
    )
    .await?;
    Ok(())
}

/// Sets a strategy's status if it is still at `version`.
pub async fn set_strategy_status(
    tx: &mut Tx,
    id: &str,
    version: i64,
    status: &str,
    now: OffsetDateTime,
) -> CoreResult<bool> {
    let n = tx
        .execute(
            Sql::new("UPDATE strategy SET status = ")
                .bind(status)
                .push(", version = version + 1, updated_at = ")
                .bind(now)
                .push(" WHERE id = ")
                .bind(id)
                .push(" AND version = ")
                .bind(version),
        )
        .await?;
    Ok(n == 1)
}

pub async fn insert_project(tx: &mut Tx, p: &NationalProject, now: OffsetDateTime) -> CoreResult<()> {
    tx.execute(
        Sql::new(
            "INSERT INTO national_project (id, objective_id, code, title, description, goals, pilote_team, audiences, \
             budget_cents, indicator_codes, status, version, created_at, updated_at) VALUES ",
        )
        .bind_tuple([
            Value::from(p.id.as_str()),
            p.objective_id.as_str().into(),
            p.code.as_str().into(),
            p.title.as_str().into(),
            p.description.as_str().into(),
            p.goals.as_str().into(),
            p.pilote_team.as_str().into(),
            p.audiences.as_str().into(),
            p.budget_cents.into(),
            p.indicator_codes.as_str().into(),
            p.status.as_str().into(),
            p.version.into(),
            now.into(),
            now.into(),
        ]),
    )
    .await?;
    Ok(())
}

/// Writes a project's fields if it is still at `version`.
pub async fn update_project(
    tx: &mut Tx,
    p: &NationalProject,
    version: i64,
    now: OffsetDateTime,
) -> CoreResult<bool> {
    let n = tx
        .execute(
            Sql::new("UPDATE national_project SET title = ")
                .bind(p.title.as_str())
                .push(", description = ")
                .bind(p.description.as_str())
                .push(", goals = ")
                .bind(p.goals.as_str())
                .push(", pilote_team = ")
                .bind(p.pilote_team.as_str())
                .push(", audiences = ")
                .bind(p.audiences.as_str())
                .push(", budget_cents = ")
                .bind(p.budget_cents)
                .push(", indicator_codes = ")
                .bind(p.indicator_codes.as_str())
                .push(", status = ")
                .bind(p.status.as_str())
                .push(", version = version + 1, updated_at = ")
                .bind(now)
                .push(" WHERE id = ")
                .bind(p.id.as_str())
                .push(" AND version = ")
                .bind(version),
        )
        .await?;
    Ok(n == 1)
}

pub async fn replace_milestones(
    tx: &mut Tx,
    project_id: &str,
    milestones: &[(String, Date)],
    now: OffsetDateTime,
) -> CoreResult<()> {
    tx.execute(Sql::new("DELETE FROM project_milestone WHERE project_id = ").bind(project_id))
        .await?;
    for (i, (label, due)) in milestones.iter().enumerate() {
        tx.execute(
            Sql::new(
                "INSERT INTO project_milestone (id, project_id, position, label, due, created_at) VALUES ",
            )
            .bind_tuple([
                Value::from(crate::identity::service::new_id()),
                project_id.into(),
                i64::try_from(i).unwrap_or(i64::MAX).into(),
                label.as_str().into(),
                (*due).into(),
                now.into(),
            ]),
        )
        .await?;
    }
    Ok(())
}
