//! SQL of the governance bodies. Rows are written whole: each writer states every column,
//! and an update succeeds only on the version it read (optimistic concurrency).

use time::{Date, OffsetDateTime};

use crate::db::{Db, Sql, Tx, Value, prefixed};
use crate::error::CoreResult;

use super::model::*;

// --- Bodies ---------------------------------------------------------------------------------

const BODY_COLUMNS: &str =
    "id, kind, name, perimeter_kind, perimeter_code, mandate, version, created_at, updated_at";

fn body_values(b: &Body) -> Vec<(&'static str, Value)> {
    vec![
        ("kind", b.kind.as_str().into()),
        ("name", b.name.as_str().into()),
        ("perimeter_kind", b.perimeter_kind.as_str().into()),
        ("perimeter_code", b.perimeter_code.as_str().into()),
        ("mandate", b.mandate.as_str().into()),
        ("updated_at", b.updated_at.into()),
    ]
}

pub async fn insert_body(tx: &mut Tx, b: &Body) -> CoreResult<()> {
    let mut cols = vec![("id", b.id.as_str().into()), ("created_at", b.created_at.into())];
    cols.extend(body_values(b));
    tx.execute(Sql::insert("gov_body", cols)).await?;
    Ok(())
}

/// Writes `b` over the version `expected`; false when someone changed it in between.
pub async fn update_body(tx: &mut Tx, b: &Body, expected: i64) -> CoreResult<bool> {
    Ok(tx
        .execute(Sql::update_versioned("gov_body", &b.id, expected, body_values(b)))
        .await?
        == 1)
}

pub async fn find_body(db: &Db, id: &str) -> CoreResult<Option<Body>> {
    db.fetch_optional(Sql::new(&format!("SELECT {BODY_COLUMNS} FROM gov_body WHERE id = ")).bind(id))
        .await
}

pub async fn list_bodies(db: &Db) -> CoreResult<Vec<Body>> {
    db.fetch_all(Sql::new(&format!(
        "SELECT {BODY_COLUMNS} FROM gov_body ORDER BY perimeter_kind, perimeter_code, name"
    )))
    .await
}

// --- Members --------------------------------------------------------------------------------

const MEMBER_COLUMNS: &str = "id, body_id, name, email, user_id, organisation, organisation_ref, position, \
     delegate, start_date, end_date, version";

fn member_values(m: &Member, now: OffsetDateTime) -> Vec<(&'static str, Value)> {
    vec![
        ("name", m.name.as_str().into()),
        ("email", m.email.as_str().into()),
        ("user_id", m.user_id.as_deref().into()),
        ("organisation", m.organisation.as_str().into()),
        ("organisation_ref", m.organisation_ref.as_deref().into()),
        ("position", m.position.as_str().into()),
        ("delegate", m.delegate.into()),
        ("start_date", m.start_date.into()),
        ("end_date", m.end_date.into()),
        ("updated_at", now.into()),
    ]
}

pub async fn insert_member(tx: &mut Tx, m: &Member, now: OffsetDateTime) -> CoreResult<()> {
    let mut cols = vec![
        ("id", m.id.as_str().into()),
        ("body_id", m.body_id.as_str().into()),
        ("created_at", now.into()),
    ];
    cols.extend(member_values(m, now));
    tx.execute(Sql::insert("gov_member", cols)).await?;
    Ok(())
}

pub async fn update_member(tx: &mut Tx, m: &Member, expected: i64, now: OffsetDateTime) -> CoreResult<bool> {
    Ok(tx
        .execute(Sql::update_versioned(
            "gov_member",
            &m.id,
            expected,
            member_values(m, now),
        ))
        .await?
        == 1)
}

pub async fn delete_member(tx: &mut Tx, id: &str) -> CoreResult<()> {
    tx.execute(Sql::new("DELETE FROM gov_member WHERE id = ").bind(id))
        .await?;
    Ok(())
}

/// Whether a member has attended or been recorded anywhere (then they are ended, not deleted).
pub async fn member_has_history(db: &Db, id: &str) -> CoreResult<bool> {
    Ok(db
        .fetch_scalar_i64(Sql::new("SELECT COUNT(*) FROM gov_attendance WHERE member_id = ").bind(id))
        .await?
        > 0)
}

pub async fn members_of(db: &Db, body_id: &str) -> CoreResult<Vec<Member>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {MEMBER_COLUMNS} FROM gov_member WHERE body_id = "
        ))
        .bind(body_id)
        .push(
            " ORDER BY CASE position WHEN 'president' THEN 0 WHEN 'vice-president' THEN 1 \
                   WHEN 'secretaire' THEN 2 WHEN 'membre-de-droit' THEN 3 WHEN 'membre' THEN 4 ELSE 5 END, \
                   name, start_date",
        ),
    )
    .await
}

pub async fn find_member(db: &Db, id: &str) -> CoreResult<Option<Member>> {
    db.fetch_optional(Sql::new(&format!("SELECT {MEMBER_COLUMNS} FROM gov_member WHERE id = ")).bind(id))
        .await
}

/// Every membership of a person (by account or by e-mail), all bodies, all mandates.
pub async fn memberships(db: &Db, user_id: &str, email: &str) -> CoreResult<Vec<Member>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {MEMBER_COLUMNS} FROM gov_member WHERE user_id = "
        ))
        .bind(user_id)
        .push(" OR email = ")
        .bind(email),
    )
    .await
}

/// Links the memberships recorded under an e-mail to the account that now has it.
pub async fn link_members(tx: &mut Tx, email: &str, user_id: &str) -> CoreResult<()> {
    tx.execute(
        Sql::new("UPDATE gov_member SET user_id = ")
            .bind(user_id)
            .push(" WHERE email = ")
            .bind(email)
            .push(" AND user_id IS NULL"),
    )
    .await?;
    Ok(())
}

// --- Meetings -------------------------------------------------------------------------------

const MEETING_COLUMNS: &str =
    "id, body_id, number, title, starts_at, ends_at, place, video_url, status, sequence, invited_at, version";

fn meeting_values(m: &Meeting, now: OffsetDateTime) -> Vec<(&'static str, Value)> {
    vec![
        ("title", m.title.as_str().into()),
        ("starts_at", m.starts_at.into()),
        ("ends_at", m.ends_at.into()),
        ("place", m.place.as_str().into()),
        ("video_url", m.video_url.as_deref().into()),
        ("status", m.status.as_str().into()),
        ("sequence", m.sequence.into()),
        ("invited_at", m.invited_at.into()),
        ("updated_at", now.into()),
    ]
}

pub async fn next_meeting_number(tx: &mut Tx, body_id: &str) -> CoreResult<i64> {
    tx.fetch_scalar_i64(
        Sql::new("SELECT COALESCE(MAX(number), 0) + 1 FROM gov_meeting WHERE body_id = ").bind(body_id),
    )
    .await
}

pub async fn insert_meeting(tx: &mut Tx, m: &Meeting, now: OffsetDateTime) -> CoreResult<()> {
    let mut cols = vec![
        ("id", m.id.as_str().into()),
        ("body_id", m.body_id.as_str().into()),
        ("number", m.number.into()),
        ("created_at", now.into()),
    ];
    cols.extend(meeting_values(m, now));
    tx.execute(Sql::insert("gov_meeting", cols)).await?;
    Ok(())
}

pub async fn update_meeting(
    tx: &mut Tx,
    m: &Meeting,
    expected: i64,
    now: OffsetDateTime,
) -> CoreResult<bool> {
    Ok(tx
        .execute(Sql::update_versioned(
            "gov_meeting",
            &m.id,
            expected,
            meeting_values(m, now),
        ))
        .await?
        == 1)
}

pub async fn find_meeting(db: &Db, id: &str) -> CoreResult<Option<Meeting>> {
    db.fetch_optional(Sql::new(&format!("SELECT {MEETING_COLUMNS} FROM gov_meeting WHERE id = ")).bind(id))
        .await
}

pub async fn meetings_of(db: &Db, body_id: &str) -> CoreResult<Vec<Meeting>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {MEETING_COLUMNS} FROM gov_meeting WHERE body_id = "
        ))
        .bind(body_id)
        .push(" ORDER BY starts_at DESC"),
    )
    .await
}

/// The meetings of the bodies where a person sits or sat (by account or e-mail), from `since`.
pub async fn meetings_of_person(
    db: &Db,
    user_id: &str,
    email: &str,
    since: OffsetDateTime,
) -> CoreResult<Vec<(Meeting, String)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        meeting: Meeting,
        body_name: String,
    }
    let cols = prefixed(MEETING_COLUMNS, "m");
    let rows: Vec<Row> = db
        .fetch_all(
            Sql::new(&format!(
                "SELECT {cols}, b.name AS body_name FROM gov_meeting m JOIN gov_body b ON b.id = m.body_id \
                 WHERE m.starts_at >= "
            ))
            .bind(since)
            .push(" AND EXISTS (SELECT 1 FROM gov_member gm WHERE gm.body_id = m.body_id AND (gm.user_id = ")
            .bind(user_id)
            .push(" OR gm.email = ")
            .bind(email)
            .push(")) ORDER BY m.starts_at"),
        )
        .await?;
    Ok(rows.into_iter().map(|r| (r.meeting, r.body_name)).collect())
}

// --- Agenda, attendance ---------------------------------------------------------------------

const ITEM_COLUMNS: &str =
    "id, meeting_id, position, title, notes, ref_kind, ref_id, ref_label, follow_up, ref_status";

pub async fn agenda_of(db: &Db, meeting_id: &str) -> CoreResult<Vec<AgendaItem>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {ITEM_COLUMNS} FROM gov_agenda_item WHERE meeting_id = "
        ))
        .bind(meeting_id)
        .push(" ORDER BY position"),
    )
    .await
}

/// Replaces the agenda items of one kind (plain items, or the frozen follow-ups).
pub async fn replace_agenda(
    tx: &mut Tx,
    meeting_id: &str,
    follow_up: bool,
    items: &[AgendaItem],
) -> CoreResult<()> {
    tx.execute(
        Sql::new("DELETE FROM gov_agenda_item WHERE meeting_id = ")
            .bind(meeting_id)
            .push(" AND follow_up = ")
            .bind(follow_up),
    )
    .await?;
    for item in items {
        tx.execute(Sql::insert(
            "gov_agenda_item",
            vec![
                ("id", item.id.as_str().into()),
                ("meeting_id", meeting_id.into()),
                ("position", item.position.into()),
                ("title", item.title.as_str().into()),
                ("notes", item.notes.as_str().into()),
                ("ref_kind", item.ref_kind.as_deref().into()),
                ("ref_id", item.ref_id.as_deref().into()),
                ("ref_label", item.ref_label.as_deref().into()),
                ("follow_up", item.follow_up.into()),
                ("ref_status", item.ref_status.as_deref().into()),
            ],
        ))
        .await?;
    }
    Ok(())
}

pub async fn attendance_of(db: &Db, meeting_id: &str) -> CoreResult<Vec<Attendance>> {
    db.fetch_all(
        Sql::new("SELECT member_id, status, represented_by FROM gov_attendance WHERE meeting_id = ")
            .bind(meeting_id),
    )
    .await
}

pub async fn replace_attendance(tx: &mut Tx, meeting_id: &str, rows: &[Attendance]) -> CoreResult<()> {
    tx.execute(Sql::new("DELETE FROM gov_attendance WHERE meeting_id = ").bind(meeting_id))
        .await?;
    for a in rows {
        tx.execute(Sql::insert(
            "gov_attendance",
            vec![
                ("meeting_id", meeting_id.into()),
                ("member_id", a.member_id.as_str().into()),
                ("status", a.status.as_str().into()),
                ("represented_by", a.represented_by.as_deref().into()),
            ],
        ))
        .await?;
    }
    Ok(())
}

// --- Minutes --------------------------------------------------------------------------------

const MINUTES_COLUMNS: &str = "id, meeting_id, revision, body, status, reason, author_id, approved_at, approved_by, \
     version, created_at, updated_at";

/// Every revision of a meeting's minutes, the latest first.
pub async fn minutes_of(db: &Db, meeting_id: &str) -> CoreResult<Vec<Minutes>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {MINUTES_COLUMNS} FROM gov_minutes WHERE meeting_id = "
        ))
        .bind(meeting_id)
        .push(" ORDER BY revision DESC"),
    )
    .await
}

fn minutes_values(m: &Minutes) -> Vec<(&'static str, Value)> {
    vec![
        ("body", m.body.as_str().into()),
        ("status", m.status.as_str().into()),
        ("reason", m.reason.as_deref().into()),
        ("author_id", m.author_id.as_deref().into()),
        ("approved_at", m.approved_at.into()),
        ("approved_by", m.approved_by.as_deref().into()),
        ("updated_at", m.updated_at.into()),
    ]
}

/// The meeting of a revision of minutes.
pub async fn meeting_of_minutes(db: &Db, minutes_id: &str) -> CoreResult<Option<String>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        meeting_id: String,
    }
    let row: Option<Row> = db
        .fetch_optional(Sql::new("SELECT meeting_id FROM gov_minutes WHERE id = ").bind(minutes_id))
        .await?;
    Ok(row.map(|r| r.meeting_id))
}

pub async fn insert_minutes(tx: &mut Tx, m: &Minutes) -> CoreResult<()> {
    let mut cols = vec![
        ("id", m.id.as_str().into()),
        ("meeting_id", m.meeting_id.as_str().into()),
        ("revision", m.revision.into()),
        ("created_at", m.created_at.into()),
    ];
    cols.extend(minutes_values(m));
    tx.execute(Sql::insert("gov_minutes", cols)).await?;
    Ok(())
}

pub async fn update_minutes(tx: &mut Tx, m: &Minutes, expected: i64) -> CoreResult<bool> {
    Ok(tx
        .execute(Sql::update_versioned(
            "gov_minutes",
            &m.id,
            expected,
            minutes_values(m),
        ))
        .await?
        == 1)
}

// --- Decisions ------------------------------------------------------------------------------

const DECISION_COLUMNS: &str = "id, body_id, meeting_id, number, title, details, owner_name, owner_email, \
     owner_user_id, due_date, status, status_note, closed_at, ref_kind, ref_id, ref_label, version, created_at, \
     updated_at";

fn decision_values(d: &Decision) -> Vec<(&'static str, Value)> {
    vec![
        ("title", d.title.as_str().into()),
        ("details", d.details.as_str().into()),
        ("owner_name", d.owner_name.as_str().into()),
        ("owner_email", d.owner_email.as_deref().into()),
        ("owner_user_id", d.owner_user_id.as_deref().into()),
        ("due_date", d.due_date.into()),
        ("status", d.status.as_str().into()),
        ("status_note", d.status_note.as_str().into()),
        ("closed_at", d.closed_at.into()),
        ("ref_kind", d.ref_kind.as_deref().into()),
        ("ref_id", d.ref_id.as_deref().into()),
        ("ref_label", d.ref_label.as_deref().into()),
        ("updated_at", d.updated_at.into()),
    ]
}

pub async fn next_decision_number(tx: &mut Tx, body_id: &str) -> CoreResult<i64> {
    tx.fetch_scalar_i64(
        Sql::new("SELECT COALESCE(MAX(number), 0) + 1 FROM gov_decision WHERE body_id = ").bind(body_id),
    )
    .await
}

pub async fn insert_decision(tx: &mut Tx, d: &Decision) -> CoreResult<()> {
    let mut cols = vec![
        ("id", d.id.as_str().into()),
        ("body_id", d.body_id.as_str().into()),
        ("meeting_id", d.meeting_id.as_str().into()),
        ("number", d.number.into()),
        ("created_at", d.created_at.into()),
    ];
    cols.extend(decision_values(d));
    tx.execute(Sql::insert("gov_decision", cols)).await?;
    Ok(())
}

pub async fn update_decision(tx: &mut Tx, d: &Decision, expected: i64) -> CoreResult<bool> {
    Ok(tx
        .execute(Sql::update_versioned(
            "gov_decision",
            &d.id,
            expected,
            decision_values(d),
        ))
        .await?
        == 1)
}

pub async fn find_decision(db: &Db, id: &str) -> CoreResult<Option<Decision>> {
    db.fetch_optional(
        Sql::new(&format!(
            "SELECT {DECISION_COLUMNS} FROM gov_decision WHERE id = "
        ))
        .bind(id),
    )
    .await
}

pub async fn decisions_of_meeting(db: &Db, meeting_id: &str) -> CoreResult<Vec<Decision>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {DECISION_COLUMNS} FROM gov_decision WHERE meeting_id = "
        ))
        .bind(meeting_id)
        .push(" ORDER BY number"),
    )
    .await
}

/// The decisions taken at a body's meetings that started before `before`, still open.
pub async fn open_decisions_before(
    db: &Db,
    body_id: &str,
    before: OffsetDateTime,
) -> CoreResult<Vec<Decision>> {
    let cols = prefixed(DECISION_COLUMNS, "d");
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {cols} FROM gov_decision d JOIN gov_meeting m ON m.id = d.meeting_id WHERE d.body_id = "
        ))
        .bind(body_id)
        .push(" AND m.starts_at < ")
        .bind(before)
        .push(" AND d.status IN ('ouverte', 'en-cours') ORDER BY d.number"),
    )
    .await
}

/// A decision with what registers show beside it.
#[derive(Debug, sqlx::FromRow)]
pub struct DecisionRow {
    #[sqlx(flatten)]
    pub decision: Decision,
    pub body_name: String,
    pub meeting_number: i64,
    pub meeting_date: OffsetDateTime,
    pub perimeter_kind: String,
    pub perimeter_code: String,
}

/// Decisions with their body and meeting, filtered by body, status, lateness and owner.
pub async fn decisions(
    db: &Db,
    filter: &DecisionFilter,
    owner_user_id: Option<&str>,
    today: Date,
) -> CoreResult<Vec<DecisionRow>> {
    let cols = prefixed(DECISION_COLUMNS, "d");
    let mut q = Sql::new(&format!(
        "SELECT {cols}, b.name AS body_name, m.number AS meeting_number, m.starts_at AS meeting_date, \
         b.perimeter_kind, b.perimeter_code \
         FROM gov_decision d JOIN gov_body b ON b.id = d.body_id JOIN gov_meeting m ON m.id = d.meeting_id \
         WHERE 1 = 1"
    ));
    if let Some(body) = &filter.body_id {
        q = q.push(" AND d.body_id = ").bind(body.as_str());
    }
    if let Some(status) = &filter.status {
        q = q.push(" AND d.status = ").bind(status.as_str());
    }
    if filter.late {
        q = q
            .push(" AND d.status IN ('ouverte', 'en-cours') AND d.due_date < ")
            .bind(today);
    }
    if let Some(owner) = owner_user_id {
        q = q.push(" AND d.owner_user_id = ").bind(owner);
    }
    // Late first, then by due date, then as numbered.
    q = q
        .push(" ORDER BY CASE WHEN d.status IN ('ouverte', 'en-cours') AND d.due_date < ")
        .bind(today)
        .push(" THEN 0 ELSE 1 END, b.name, d.number");
    db.fetch_all(q).await
}

/// Links the decisions owned under an e-mail to the account that now has it.
pub async fn link_decision_owners(tx: &mut Tx, email: &str, user_id: &str) -> CoreResult<()> {
    tx.execute(
        Sql::new("UPDATE gov_decision SET owner_user_id = ")
            .bind(user_id)
            .push(" WHERE owner_email = ")
            .bind(email)
            .push(" AND owner_user_id IS NULL"),
    )
    .await?;
    Ok(())
}

// --- Calendar feeds -------------------------------------------------------------------------

pub async fn revoke_feeds(tx: &mut Tx, user_id: &str, now: OffsetDateTime) -> CoreResult<u64> {
    tx.execute(
        Sql::new("UPDATE calendar_feed SET revoked_at = ")
            .bind(now)
            .push(" WHERE user_id = ")
            .bind(user_id)
            .push(" AND revoked_at IS NULL"),
    )
    .await
}

pub async fn insert_feed(
    tx: &mut Tx,
    id: &str,
    user_id: &str,
    token_hash: &str,
    now: OffsetDateTime,
) -> CoreResult<()> {
    tx.execute(Sql::insert(
        "calendar_feed",
        vec![
            ("id", id.into()),
            ("user_id", user_id.into()),
            ("token_hash", token_hash.into()),
            ("created_at", now.into()),
        ],
    ))
    .await?;
    Ok(())
}

/// The user of a live feed token.
pub async fn feed_user(db: &Db, token_hash: &str) -> CoreResult<Option<String>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        user_id: String,
    }
    let row: Option<Row> = db
        .fetch_optional(
            Sql::new("SELECT user_id FROM calendar_feed WHERE token_hash = ")
                .bind(token_hash)
                .push(" AND revoked_at IS NULL"),
        )
        .await?;
    Ok(row.map(|r| r.user_id))
}

/// Whether the user has a live feed.
pub async fn has_feed(db: &Db, user_id: &str) -> CoreResult<bool> {
    Ok(db
        .fetch_scalar_i64(
            Sql::new("SELECT COUNT(*) FROM calendar_feed WHERE user_id = ")
                .bind(user_id)
                .push(" AND revoked_at IS NULL"),
        )
        .await?
        > 0)
}
