//! The audit trail: every change writes one entry, in the same transaction as the change,
//! chained by hash so that an edited, deleted, inserted or reordered entry is detected.
//!
//! Each entry's `hash` is SHA-256 over its sequence number, time, actor id, action, object
//! and `payload_digest`, plus the previous entry's hash. The payload (the actor's label and
//! the before/after states) is covered through its digest only, so that erasing a person
//! (RGPD) can replace the payload by a pseudonym without breaking the chain. Appends take
//! the single-row `audit_head` with an `UPDATE … RETURNING`, which serialises writers on
//! both engines.

use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::db::{Db, Sql, Tx};
use crate::error::{CoreError, CoreResult};

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user's id, or `None` for the command line and the system.
    pub id: Option<String>,
    /// A label for people: the user's name and e-mail, or `cli` / `système`.
    pub label: String,
}

impl Actor {
    /// The command line, run by an operator on the server.
    pub fn cli() -> Self {
        Self {
            id: None,
            label: "ligne de commande".to_owned(),
        }
    }

    /// The platform itself (imports of the demo, scheduled jobs).
    pub fn system() -> Self {
        Self {
            id: None,
            label: "système".to_owned(),
        }
    }
}

/// One entry of the trail.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub action: String,
    pub object_kind: String,
    pub object_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub payload_digest: String,
    pub prev_hash: String,
    pub hash: String,
    pub erased: bool,
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// SHA-256 of a text, in hexadecimal.
pub fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// The time as stored and hashed: UTC, millisecond precision (both engines keep it).
fn canonical_time(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(time::UtcOffset::UTC);
    let millis = at.nanosecond() / 1_000_000 * 1_000_000;
    at.replace_nanosecond(millis).unwrap_or(at)
}

fn time_text(at: OffsetDateTime) -> String {
    let at = canonical_time(at);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

fn payload_digest(actor_label: &str, before: Option<&str>, after: Option<&str>) -> String {
    let text = format!(
        "{}\u{1f}{}\u{1f}{}",
        actor_label,
        before.unwrap_or("\u{0}"),
        after.unwrap_or("\u{0}")
    );
    sha256_hex(&text)
}

#[expect(
    clippy::too_many_arguments,
    reason = "every field of the entry enters the hash"
)]
fn entry_hash(
    seq: i64,
    at: OffsetDateTime,
    actor_id: Option<&str>,
    action: &str,
    object_kind: &str,
    object_id: &str,
    digest: &str,
    prev_hash: &str,
) -> String {
    let text = format!(
        "{seq}\u{1f}{}\u{1f}{}\u{1f}{action}\u{1f}{object_kind}\u{1f}{object_id}\u{1f}{digest}\u{1f}{prev_hash}",
        time_text(at),
        actor_id.unwrap_or("")
    );
    sha256_hex(&text)
}

#[derive(sqlx::FromRow)]
struct Head {
    last_seq: i64,
    last_hash: String,
}

/// Appends one entry to the trail, inside the caller's transaction.
pub async fn record(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    object_kind: &str,
    object_id: &str,
    before: Option<&Json>,
    after: Option<&Json>,
) -> CoreResult<i64> {
    let head: Head = tx
        .fetch_optional(Sql::new(
            "UPDATE audit_head SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq, last_hash",
        ))
        .await?
        .ok_or_else(|| CoreError::Internal("audit_head is missing".into()))?;
    let seq = head.last_seq;
    let at = canonical_time(OffsetDateTime::now_utc());
    let before = before.map(Json::to_string);
    let after = after.map(Json::to_string);
    let digest = payload_digest(&actor.label, before.as_deref(), after.as_deref());
    let hash = entry_hash(
        seq,
        at,
        actor.id.as_deref(),
        action,
        object_kind,
        object_id,
        &digest,
        &head.last_hash,
    );
    tx.execute(
        Sql::new(
            "INSERT INTO audit_entry (seq, at, actor_id, actor_label, action, object_kind, object_id, \
             before_json, after_json, payload_digest, prev_hash, hash, erased) VALUES ",
        )
        .bind_tuple([
            crate::db::Value::from(seq),
            at.into(),
            actor.id.as_deref().into(),
            actor.label.as_str().into(),
            action.into(),
            object_kind.into(),
            object_id.into(),
            before.into(),
            after.into(),
            digest.into(),
            head.last_hash.into(),
            hash.as_str().into(),
            false.into(),
        ]),
    )
    .await?;
    tx.execute(
        Sql::new("UPDATE audit_head SET last_hash = ")
            .bind(hash)
            .push(" WHERE id = 1"),
    )
    .await?;
    Ok(seq)
}

/// What `verify` found wrong, entry by entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The entry's content does not match its hash (it was edited).
    Edited { seq: i64 },
    /// The entry's payload does not match its digest (before/after or actor label edited).
    PayloadEdited { seq: i64 },
    /// Entries are missing between two sequence numbers (deleted).
    Missing { after_seq: i64, next_seq: i64 },
    /// The entry does not follow the previous one in the chain (inserted or reordered).
    ChainBroken { seq: i64 },
    /// The last entries were removed: the head says more entries exist.
    Truncated { last_seq: i64, head_seq: i64 },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Edited { seq } => {
                write!(f, "entrée {seq} : modifiée (son empreinte ne correspond plus)")
            }
            Problem::PayloadEdited { seq } => {
                write!(f, "entrée {seq} : contenu (avant/après ou auteur) modifié")
            }
            Problem::Missing { after_seq, next_seq } => {
                write!(f, "entrées {} à {} : supprimées", after_seq + 1, next_seq - 1)
            }
            Problem::ChainBroken { seq } => {
                write!(
                    f,
                    "entrée {seq} : ne suit pas la précédente (insérée ou déplacée)"
                )
            }
            Problem::Truncated { last_seq, head_seq } => {
                write!(
                    f,
                    "entrées {} à {head_seq} : supprimées en fin de journal",
                    last_seq + 1
                )
            }
        }
    }
}

/// The result of a verification.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub checked: u64,
    pub problems: Vec<Problem>,
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Walks the whole trail in sequence order and reports every entry that breaks it.
pub async fn verify(db: &Db) -> CoreResult<VerifyReport> {
    let mut report = VerifyReport::default();
    let mut prev_seq = 0_i64;
    let mut prev_hash = GENESIS.to_owned();
    let mut after = 0_i64;
    loop {
        let batch: Vec<AuditEntry> = db
            .fetch_all(
                Sql::new("SELECT * FROM audit_entry WHERE seq > ")
                    .bind(after)
                    .push(" ORDER BY seq LIMIT 5000"),
            )
            .await?;
        let Some(last) = batch.last() else { break };
        after = last.seq;
        for e in &batch {
            report.checked += 1;
            if e.seq != prev_seq + 1 {
                report.problems.push(Problem::Missing {
                    after_seq: prev_seq,
                    next_seq: e.seq,
                });
            }
            let expected = entry_hash(
                e.seq,
                e.at,
                e.actor_id.as_deref(),
                &e.action,
                &e.object_kind,
                &e.object_id,
                &e.payload_digest,
                &e.prev_hash,
            );
            if expected != e.hash {
                report.problems.push(Problem::Edited { seq: e.seq });
            } else if e.prev_hash != prev_hash && e.seq == prev_seq + 1 {
                report.problems.push(Problem::ChainBroken { seq: e.seq });
            } else if e.prev_hash != prev_hash {
                // After a gap the link cannot hold; the gap is already reported.
            }
            if !e.erased
                && payload_digest(&e.actor_label, e.before_json.as_deref(), e.after_json.as_deref())
                    != e.payload_digest
            {
                report.problems.push(Problem::PayloadEdited { seq: e.seq });
            }
            prev_seq = e.seq;
            prev_hash = e.hash.clone();
        }
    }
    let head: Option<Head> = db
        .fetch_optional(Sql::new(
            "SELECT last_seq, last_hash FROM audit_head WHERE id = 1",
        ))
        .await?;
    if let Some(head) = head
        && head.last_seq > prev_seq
    {
        report.problems.push(Problem::Truncated {
            last_seq: prev_seq,
            head_seq: head.last_seq,
        });
    }
    Ok(report)
}

/// Filters of the trail.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub object_kind: Option<String>,
    pub object_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
}

/// Entries matching the filter, most recent first.
pub async fn list(
    db: &Db,
    filter: &AuditFilter,
    limit: i64,
    offset: i64,
) -> CoreResult<(Vec<AuditEntry>, i64)> {
    let mut q = Sql::new(" FROM audit_entry WHERE 1 = 1");
    if let Some(v) = &filter.object_kind {
        q.push_mut(" AND object_kind = ");
        q.bind_mut(v);
    }
    if let Some(v) = &filter.object_id {
        q.push_mut(" AND object_id = ");
        q.bind_mut(v);
    }
    if let Some(v) = &filter.actor_id {
        q.push_mut(" AND actor_id = ");
        q.bind_mut(v);
    }
    if let Some(v) = &filter.action {
        q.push_mut(" AND action = ");
        q.bind_mut(v);
    }
    if let Some(v) = filter.since {
        q.push_mut(" AND at >= ");
        q.bind_mut(v);
    }
    if let Some(v) = filter.until {
        q.push_mut(" AND at < ");
        q.bind_mut(v);
    }
    let mut count = q.clone();
    count.prepend("SELECT COUNT(*)");
    let total = db.fetch_scalar_i64(count).await?;
    q.prepend("SELECT *");
    q.push_mut(" ORDER BY seq DESC LIMIT ");
    q.bind_mut(limit);
    q.push_mut(" OFFSET ");
    q.bind_mut(offset);
    Ok((db.fetch_all(q).await?, total))
}

/// Replaces a person's data in the trail by a pseudonym (RGPD erasure), keeping the chain:
/// their name as an actor, and the before/after states of their own account.
pub async fn pseudonymise(tx: &mut Tx, user_id: &str, pseudonym: &str) -> CoreResult<u64> {
    let mut n = tx
        .execute(
            Sql::new("UPDATE audit_entry SET actor_label = ")
                .bind(pseudonym)
                .push(", erased = ")
                .bind(true)
                .push(" WHERE actor_id = ")
                .bind(user_id),
        )
        .await?;
    let redacted = serde_json::json!({ "efface": true, "pseudonyme": pseudonym }).to_string();
    n += tx
        .execute(
            Sql::new("UPDATE audit_entry SET before_json = CASE WHEN before_json IS NULL THEN NULL ELSE ")
                .bind(redacted.as_str())
                .push(" END, after_json = CASE WHEN after_json IS NULL THEN NULL ELSE ")
                .bind(redacted.as_str())
                .push(" END, erased = ")
                .bind(true)
                .push(" WHERE object_kind = 'utilisateur' AND object_id = ")
                .bind(user_id),
        )
        .await?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_hashed_at_millisecond_precision_in_utc() {
        let at = time::macros::datetime!(2026-11-30 15:04:05.123456789 +01:00);
        assert_eq!(time_text(at), "2026-11-30T14:04:05.123Z");
    }

    #[test]
    fn the_hash_covers_every_field() {
        let at = time::macros::datetime!(2026-11-30 15:04:05 UTC);
        let base = entry_hash(1, at, Some("u"), "a", "k", "o", "d", GENESIS);
        assert_ne!(base, entry_hash(2, at, Some("u"), "a", "k", "o", "d", GENESIS));
        assert_ne!(base, entry_hash(1, at, None, "a", "k", "o", "d", GENESIS));
        assert_ne!(base, entry_hash(1, at, Some("u"), "b", "k", "o", "d", GENESIS));
        assert_ne!(base, entry_hash(1, at, Some("u"), "a", "k", "o", "e", GENESIS));
        assert_ne!(base, entry_hash(1, at, Some("u"), "a", "k", "o", "d", "1"));
    }
}
