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
        .bind(academie),
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
