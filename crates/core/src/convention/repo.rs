//! SQL of the conventions. Rows are written whole: each writer states every column, and an
//! update succeeds only on the version it read (optimistic concurrency). The lists of a
//! convention (parties, places, annex lines, co-financing rules) are replaced whole;
//! commitments are updated in place, so that their follow-up survives amendments.

use time::{Date, OffsetDateTime};

use crate::db::{Db, Sql, Tx, Value, prefixed};
use crate::error::CoreResult;
use crate::identity::model::Organisation;

use super::model::*;

// --- Conventions ----------------------------------------------------------------------------

const CONVENTION_COLUMNS: &str = "id, kind, title, object, visas, parent_id, effective_date, end_date, \
     duration_months, renewal, notice_months, follow_up_body_id, search_key, created_by, version, created_at, \
     updated_at";

fn convention_values(c: &Convention) -> Vec<(&'static str, Value)> {
    vec![
        ("kind", c.kind.as_str().into()),
        ("title", c.title.as_str().into()),
        ("object", c.object.as_str().into()),
        ("visas", c.visas.as_str().into()),
        ("parent_id", c.parent_id.as_deref().into()),
        ("effective_date", c.effective_date.into()),
        ("end_date", c.end_date.into()),
        ("duration_months", c.duration_months.into()),
        ("renewal", c.renewal.as_str().into()),
        ("notice_months", c.notice_months.into()),
        ("follow_up_body_id", c.follow_up_body_id.as_deref().into()),
        ("search_key", c.search_key.as_str().into()),
        ("updated_at", c.updated_at.into()),
    ]
}

pub async fn insert_convention(tx: &mut Tx, c: &Convention) -> CoreResult<()> {
    let mut cols = vec![
        ("id", c.id.as_str().into()),
        ("created_by", c.created_by.as_deref().into()),
        ("created_at", c.created_at.into()),
    ];
    cols.extend(convention_values(c));
    tx.execute(Sql::insert("convention", cols)).await?;
    Ok(())
}

/// Writes `c` over the version `expected`; false when someone changed it in between.
pub async fn update_convention(tx: &mut Tx, c: &Convention, expected: i64) -> CoreResult<bool> {
    Ok(tx
        .execute(Sql::update_versioned(
            "convention",
            &c.id,
            expected,
            convention_values(c),
        ))
        .await?
        == 1)
}

pub async fn find_convention(db: &Db, id: &str) -> CoreResult<Option<Convention>> {
    db.fetch_optional(
        Sql::new(&format!(
            "SELECT {CONVENTION_COLUMNS} FROM convention WHERE id = "
        ))
        .bind(id),
    )
    .await
}

/// Every convention, by title.
pub async fn list_conventions(db: &Db) -> CoreResult<Vec<Convention>> {
    db.fetch_all(Sql::new(&format!(
        "SELECT {CONVENTION_COLUMNS} FROM convention ORDER BY search_key, id"
    )))
    .await
}

/// The conventions where an organisation is a party.
pub async fn conventions_with_party(db: &Db, reference: &str) -> CoreResult<Vec<Convention>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {} FROM convention c WHERE EXISTS (SELECT 1 FROM convention_party p \
             WHERE p.convention_id = c.id AND p.reference = ",
            prefixed(CONVENTION_COLUMNS, "c")
        ))
        .bind(reference)
        .push(") ORDER BY c.search_key, c.id"),
    )
    .await
}

/// The conventions directly under a convention-cadre.
pub async fn children_of(db: &Db, id: &str) -> CoreResult<Vec<Convention>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {CONVENTION_COLUMNS} FROM convention WHERE parent_id = "
        ))
        .bind(id)
        .push(" ORDER BY search_key, id"),
    )
    .await
}

// --- Parties and places ---------------------------------------------------------------------

const PARTY_COLUMNS: &str = "id, convention_id, position, reference, perimeter, name, representative, capacity, \
     deliberation_ref, deliberation_date, signature_date";

pub async fn parties_of(db: &Db, convention_id: &str) -> CoreResult<Vec<Party>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {PARTY_COLUMNS} FROM convention_party WHERE convention_id = "
        ))
        .bind(convention_id)
        .push(" ORDER BY position"),
    )
    .await
}

/// The parties of every convention (to decide, in one pass, which ones a person sees).
pub async fn all_parties(db: &Db) -> CoreResult<Vec<Party>> {
    db.fetch_all(Sql::new(&format!(
        "SELECT {PARTY_COLUMNS} FROM convention_party ORDER BY convention_id, position"
    )))
    .await
}

pub async fn replace_parties(tx: &mut Tx, convention_id: &str, parties: &[Party]) -> CoreResult<()> {
    tx.execute(Sql::new("DELETE FROM convention_party WHERE convention_id = ").bind(convention_id))
        .await?;
    for p in parties {
        tx.execute(Sql::insert(
            "convention_party",
            vec![
                ("id", p.id.as_str().into()),
                ("convention_id", convention_id.into()),
                ("position", p.position.into()),
                ("reference", p.reference.as_str().into()),
                ("perimeter", p.perimeter.as_str().into()),
                ("name", p.name.as_str().into()),
                ("representative", p.representative.as_str().into()),
                ("capacity", p.capacity.as_str().into()),
                ("deliberation_ref", p.deliberation_ref.as_deref().into()),
                ("deliberation_date", p.deliberation_date.into()),
                ("signature_date", p.signature_date.into()),
            ],
        ))
        .await?;
    }
    Ok(())
}

pub async fn scope_of(db: &Db, convention_id: &str) -> CoreResult<Vec<ScopeItem>> {
    db.fetch_all(
        Sql::new(
            "SELECT convention_id, position, reference, label FROM convention_scope WHERE convention_id = ",
        )
        .bind(convention_id)
        .push(" ORDER BY position"),
    )
    .await
}

pub async fn replace_scope(tx: &mut Tx, convention_id: &str, scope: &[ScopeItem]) -> CoreResult<()> {
    tx.execute(Sql::new("DELETE FROM convention_scope WHERE convention_id = ").bind(convention_id))
        .await?;
    for s in scope {
        tx.execute(Sql::insert(
            "convention_scope",
            vec![
                ("convention_id", convention_id.into()),
                ("position", s.position.into()),
                ("reference", s.reference.as_str().into()),
                ("label", s.label.as_str().into()),
            ],
        ))
        .await?;
    }
    Ok(())
}

/// The company recorded in the organisations with this SIREN.
pub async fn organisation_by_siren(db: &Db, siren: &str) -> CoreResult<Option<Organisation>> {
    db.fetch_optional(
        Sql::new("SELECT id, nom, kind, siren FROM organisation WHERE siren = ")
            .bind(siren)
            .push(" ORDER BY id LIMIT 1"),
    )
    .await
}

// --- Commitments ----------------------------------------------------------------------------

const COMMITMENT_COLUMNS: &str = "id, convention_id, number, party_ref, category, description, quantity, \
     amount_cents, due_date, recurrence, indicator, status, kept_through, evidence_note, evidence_link, \
     evidence_document, indicator_value, reported_at, reported_by, version, created_at, updated_at";

fn commitment_values(c: &Commitment) -> Vec<(&'static str, Value)> {
    vec![
        ("party_ref", c.party_ref.as_str().into()),
        ("category", c.category.as_str().into()),
        ("description", c.description.as_str().into()),
        ("quantity", c.quantity.into()),
        ("amount_cents", c.amount_cents.into()),
        ("due_date", c.due_date.into()),
        ("recurrence", c.recurrence.as_deref().into()),
        ("indicator", c.indicator.as_deref().into()),
        ("status", c.status.as_str().into()),
        ("kept_through", c.kept_through.into()),
        ("evidence_note", c.evidence_note.as_str().into()),
        ("evidence_link", c.evidence_link.as_deref().into()),
        ("evidence_document", c.evidence_document.as_deref().into()),
        ("indicator_value", c.indicator_value.as_deref().into()),
        ("reported_at", c.reported_at.into()),
        ("reported_by", c.reported_by.as_deref().into()),
        ("updated_at", c.updated_at.into()),
    ]
}

pub async fn insert_commitment(tx: &mut Tx, c: &Commitment) -> CoreResult<()> {
    let mut cols = vec![
        ("id", c.id.as_str().into()),
        ("convention_id", c.convention_id.as_str().into()),
        ("number", c.number.into()),
        ("created_at", c.created_at.into()),
    ];
    cols.extend(commitment_values(c));
    tx.execute(Sql::insert("convention_commitment", cols)).await?;
    Ok(())
}

/// Writes `c` over the version `expected`; false when someone changed it in between.
pub async fn update_commitment(tx: &mut Tx, c: &Commitment, expected: i64) -> CoreResult<bool> {
    Ok(tx
        .execute(Sql::update_versioned(
            "convention_commitment",
            &c.id,
            expected,
            commitment_values(c),
        ))
        .await?
        == 1)
}

/// Removes a commitment (an amendment dropped it; the versions and the trail keep it).
pub async fn delete_commitment(tx: &mut Tx, id: &str, expected: i64) -> CoreResult<bool> {
    Ok(tx
        .execute(
            Sql::new("DELETE FROM convention_commitment WHERE id = ")
                .bind(id)
                .push(" AND version = ")
                .bind(expected),
        )
        .await?
        == 1)
}

pub async fn find_commitment(db: &Db, id: &str) -> CoreResult<Option<Commitment>> {
    db.fetch_optional(
        Sql::new(&format!(
            "SELECT {COMMITMENT_COLUMNS} FROM convention_commitment WHERE id = "
        ))
        .bind(id),
    )
    .await
}

pub async fn commitments_of(db: &Db, convention_id: &str) -> CoreResult<Vec<Commitment>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {COMMITMENT_COLUMNS} FROM convention_commitment WHERE convention_id = "
        ))
        .bind(convention_id)
        .push(" ORDER BY number"),
    )
    .await
}

/// Every commitment one organisation owes, in every convention.
pub async fn commitments_of_party(db: &Db, reference: &str) -> CoreResult<Vec<Commitment>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {COMMITMENT_COLUMNS} FROM convention_commitment WHERE party_ref = "
        ))
        .bind(reference)
        .push(" ORDER BY convention_id, number"),
    )
    .await
}

/// The commitments that may be late on `today`: a (first) due date before it, and not
/// settled (a recurring one may be late again after being kept).
pub async fn late_candidates(db: &Db, today: Date) -> CoreResult<Vec<Commitment>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {COMMITMENT_COLUMNS} FROM convention_commitment WHERE due_date < "
        ))
        .bind(today)
        .push(
            " AND status <> 'non-tenu' AND (recurrence IS NOT NULL OR status <> 'tenu') \
                 ORDER BY convention_id, number",
        ),
    )
    .await
}

/// The commitments of every convention (for the register's compliance).
pub async fn all_commitments(db: &Db) -> CoreResult<Vec<Commitment>> {
    db.fetch_all(Sql::new(&format!(
        "SELECT {COMMITMENT_COLUMNS} FROM convention_commitment ORDER BY convention_id, number"
    )))
    .await
}

// --- Financial annex ------------------------------------------------------------------------

pub async fn annex_of(db: &Db, convention_id: &str) -> CoreResult<Vec<AnnexLine>> {
    db.fetch_all(
        Sql::new(
            "SELECT id, convention_id, position, year, party_ref, nature, amount_cents, label \
             FROM convention_annex_line WHERE convention_id = ",
        )
        .bind(convention_id)
        .push(" ORDER BY position"),
    )
    .await
}

/// The total of each convention's annex: (convention id, cents).
pub async fn annex_totals(db: &Db) -> CoreResult<Vec<(String, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        convention_id: String,
        total: i64,
    }
    let rows: Vec<Row> = db
        .fetch_all(Sql::new(
            "SELECT convention_id, CAST(SUM(amount_cents) AS BIGINT) AS total FROM convention_annex_line \
             GROUP BY convention_id",
        ))
        .await?;
    Ok(rows.into_iter().map(|r| (r.convention_id, r.total)).collect())
}

pub async fn replace_annex(tx: &mut Tx, convention_id: &str, lines: &[AnnexLine]) -> CoreResult<()> {
    tx.execute(Sql::new("DELETE FROM convention_annex_line WHERE convention_id = ").bind(convention_id))
        .await?;
    for l in lines {
        tx.execute(Sql::insert(
            "convention_annex_line",
            vec![
                ("id", l.id.as_str().into()),
                ("convention_id", convention_id.into()),
                ("position", l.position.into()),
                ("year", l.year.into()),
                ("party_ref", l.party_ref.as_str().into()),
                ("nature", l.nature.as_str().into()),
                ("amount_cents", l.amount_cents.into()),
                ("label", l.label.as_str().into()),
            ],
        ))
        .await?;
    }
    Ok(())
}

pub async fn cofinancing_of(db: &Db, convention_id: &str) -> CoreResult<Vec<CofinancingRule>> {
    db.fetch_all(
        Sql::new(
            "SELECT id, convention_id, position, funder_ref, kind, min_bp, max_bp, cap_cents, nature \
             FROM convention_cofinancing WHERE convention_id = ",
        )
        .bind(convention_id)
        .push(" ORDER BY position"),
    )
    .await
}

pub async fn replace_cofinancing(
    tx: &mut Tx,
    convention_id: &str,
    rules: &[CofinancingRule],
) -> CoreResult<()> {
    tx.execute(Sql::new("DELETE FROM convention_cofinancing WHERE convention_id = ").bind(convention_id))
        .await?;
    for r in rules {
        tx.execute(Sql::insert(
            "convention_cofinancing",
            vec![
                ("id", r.id.as_str().into()),
                ("convention_id", convention_id.into()),
                ("position", r.position.into()),
                ("funder_ref", r.funder_ref.as_str().into()),
                ("kind", r.kind.as_str().into()),
                ("min_bp", r.min_bp.into()),
                ("max_bp", r.max_bp.into()),
                ("cap_cents", r.cap_cents.into()),
                ("nature", r.nature.as_deref().into()),
            ],
        ))
        .await?;
    }
    Ok(())
}

// --- Events, amendments, versions -----------------------------------------------------------

const EVENT_COLUMNS: &str = "id, convention_id, kind, event_date, new_end, note, created_by, created_at";

pub async fn events_of(db: &Db, convention_id: &str) -> CoreResult<Vec<Event>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {EVENT_COLUMNS} FROM convention_event WHERE convention_id = "
        ))
        .bind(convention_id)
        .push(" ORDER BY event_date, created_at"),
    )
    .await
}

/// The events of every convention (for the register's statuses).
pub async fn all_events(db: &Db) -> CoreResult<Vec<Event>> {
    db.fetch_all(Sql::new(&format!(
        "SELECT {EVENT_COLUMNS} FROM convention_event ORDER BY convention_id, event_date, created_at"
    )))
    .await
}

pub async fn insert_event(tx: &mut Tx, e: &Event) -> CoreResult<()> {
    tx.execute(Sql::insert(
        "convention_event",
        vec![
            ("id", e.id.as_str().into()),
            ("convention_id", e.convention_id.as_str().into()),
            ("kind", e.kind.as_str().into()),
            ("event_date", e.event_date.into()),
            ("new_end", e.new_end.into()),
            ("note", e.note.as_str().into()),
            ("created_by", e.created_by.as_deref().into()),
            ("created_at", e.created_at.into()),
        ],
    ))
    .await?;
    Ok(())
}

pub async fn amendments_of(db: &Db, convention_id: &str) -> CoreResult<Vec<Amendment>> {
    db.fetch_all(
        Sql::new(
            "SELECT id, convention_id, number, signed_on, object, created_by, created_at \
             FROM convention_amendment WHERE convention_id = ",
        )
        .bind(convention_id)
        .push(" ORDER BY number"),
    )
    .await
}

pub async fn next_amendment_number(tx: &mut Tx, convention_id: &str) -> CoreResult<i64> {
    tx.fetch_scalar_i64(
        Sql::new("SELECT COALESCE(MAX(number), 0) + 1 FROM convention_amendment WHERE convention_id = ")
            .bind(convention_id),
    )
    .await
}

pub async fn insert_amendment(tx: &mut Tx, a: &Amendment) -> CoreResult<()> {
    tx.execute(Sql::insert(
        "convention_amendment",
        vec![
            ("id", a.id.as_str().into()),
            ("convention_id", a.convention_id.as_str().into()),
            ("number", a.number.into()),
            ("signed_on", a.signed_on.into()),
            ("object", a.object.as_str().into()),
            ("created_by", a.created_by.as_deref().into()),
            ("created_at", a.created_at.into()),
        ],
    ))
    .await?;
    Ok(())
}

pub async fn versions_of(db: &Db, convention_id: &str) -> CoreResult<Vec<Version>> {
    db.fetch_all(
        Sql::new(
            "SELECT number, amendment_id, snapshot, created_by, created_at, updated_at \
             FROM convention_version WHERE convention_id = ",
        )
        .bind(convention_id)
        .push(" ORDER BY number"),
    )
    .await
}

#[expect(clippy::too_many_arguments, reason = "one column each")]
pub async fn insert_version(
    tx: &mut Tx,
    id: &str,
    convention_id: &str,
    number: i64,
    amendment_id: Option<&str>,
    snapshot: &str,
    by: Option<&str>,
    now: OffsetDateTime,
) -> CoreResult<()> {
    tx.execute(Sql::insert(
        "convention_version",
        vec![
            ("id", id.into()),
            ("convention_id", convention_id.into()),
            ("number", number.into()),
            ("amendment_id", amendment_id.into()),
            ("snapshot", snapshot.into()),
            ("created_by", by.into()),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    ))
    .await?;
    Ok(())
}

/// Rewrites the text of the initial version while the convention is a draft.
pub async fn rewrite_initial_version(
    tx: &mut Tx,
    convention_id: &str,
    snapshot: &str,
    now: OffsetDateTime,
) -> CoreResult<u64> {
    tx.execute(
        Sql::new("UPDATE convention_version SET snapshot = ")
            .bind(snapshot)
            .push(", updated_at = ")
            .bind(now)
            .push(" WHERE convention_id = ")
            .bind(convention_id)
            .push(" AND number = 0"),
    )
    .await
}

// --- Attachments ----------------------------------------------------------------------------

const ATTACHMENT_COLUMNS: &str =
    "id, convention_id, name, content_type, size_bytes, sha256, created_by, created_at";

pub async fn insert_attachment(tx: &mut Tx, a: &super::attachment::Attachment) -> CoreResult<()> {
    tx.execute(Sql::insert(
        "convention_attachment",
        vec![
            ("id", a.id.as_str().into()),
            ("convention_id", a.convention_id.as_str().into()),
            ("name", a.name.as_str().into()),
            ("content_type", a.content_type.as_str().into()),
            ("size_bytes", a.size_bytes.into()),
            ("sha256", a.sha256.as_str().into()),
            ("created_by", a.created_by.as_deref().into()),
            ("created_at", a.created_at.into()),
        ],
    ))
    .await?;
    Ok(())
}

/// The attachments of a convention, the most recent first.
pub async fn attachments_of(db: &Db, convention_id: &str) -> CoreResult<Vec<super::attachment::Attachment>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM convention_attachment WHERE convention_id = "
        ))
        .bind(convention_id)
        .push(" ORDER BY created_at DESC, id DESC"),
    )
    .await
}

pub async fn find_attachment(
    db: &Db,
    convention_id: &str,
    id: &str,
) -> CoreResult<Option<super::attachment::Attachment>> {
    db.fetch_optional(
        Sql::new(&format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM convention_attachment WHERE convention_id = "
        ))
        .bind(convention_id)
        .push(" AND id = ")
        .bind(id),
    )
    .await
}

pub async fn delete_attachment(tx: &mut Tx, id: &str) -> CoreResult<()> {
    tx.execute(Sql::new("DELETE FROM convention_attachment WHERE id = ").bind(id))
        .await?;
    Ok(())
}
