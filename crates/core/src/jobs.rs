//! The job queue: work done outside the request that caused it (mails first), kept in the
//! database so that a crash or an outage of a remote server loses nothing.
//!
//! A job is written by [`enqueue`] (or [`enqueue_mail`]) in the caller's transaction, so it
//! exists if and only if the change that caused it was committed. A worker takes one with
//! [`claim`], which marks it `running` with a lease (`locked_until`) and counts an attempt,
//! does the work, then calls [`complete`] or [`fail`]. On PostgreSQL the claim skips the rows
//! other transactions hold (`FOR UPDATE SKIP LOCKED`), so the workers of several instances
//! share one queue; on SQLite the claim runs in a `BEGIN IMMEDIATE` transaction, which
//! serialises claimers.
//!
//! States: `pending` → `running` → `done`; a failure sends the job back to `pending` with a
//! later `run_at` (exponential backoff, see [`backoff`]), or to `dead` once it has used its
//! `max_attempts`. A worker that dies while running a job leaves it `running`: when its lease
//! ends, another claim takes it again (that run counts as an attempt too, so a job that kills
//! its worker every time ends `dead` instead of looping). Dead jobs stay in the table and
//! [`retry_dead`] puts them back in the queue.
//!
//! Guarantees. Nothing is lost: a job leaves the table only by [`purge_done`]. Nothing is done
//! twice by two workers at once: a job is `running` for one claimer at a time, and
//! [`complete`] and [`fail`] only act for the claim that holds it (same worker, same attempt).
//! One window cannot be closed by any queue: when the work has an effect outside the database
//! (an SMTP server has accepted the message) and the process dies, or loses the database,
//! before [`complete`] commits, the job is run again after its lease: delivery is
//! *at least once* there. Mails carry a `Message-ID` fixed at enqueue time, so such a
//! duplicate is the same message and clients that de-duplicate on it show it once.
//!
//! Time: `run_at`, `locked_until` and the other times of this table are whole seconds (UTC).
//! SQLite keeps times as RFC 3339 text, whose order is time order only when every value has
//! the same shape; a job due a fraction of a second early or late does not matter. Jobs due
//! at the same second are taken in creation order (their ids are UUIDv7, whose text order is
//! creation order).

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::db::{Db, Sql, Tx};
use crate::error::{CoreError, CoreResult, FieldError};

/// The kind of the jobs that send one mail ([`enqueue_mail`]).
pub const MAIL_KIND: &str = "mail";

/// How many times a job is tried before it is `dead`. With [`backoff`], a job retried up to
/// this many times waits about 13 hours in all: an SMTP outage shorter than that loses no
/// mail, and a longer one leaves `dead` mails that [`retry_dead`] sends back to the queue.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 20;

/// The wait after the first failure; it doubles at each failure, up to [`BACKOFF_MAX`].
pub const BACKOFF_BASE: Duration = Duration::seconds(10);

/// The longest wait between two attempts.
pub const BACKOFF_MAX: Duration = Duration::hours(1);

/// The longest error text kept in `last_error`, in characters.
const ERROR_MAX_CHARS: usize = 2_000;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for its `run_at`, then for a worker.
    Pending,
    /// Claimed by a worker until `locked_until`.
    Running,
    /// Done; kept for de-duplication and history.
    Done,
    /// Failed `max_attempts` times, or for good: waits for a person.
    Dead,
}

impl JobStatus {
    /// The value stored in `job.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
        }
    }

    /// Reads a stored `job.status`.
    pub fn parse(text: &str) -> CoreResult<Self> {
        match text {
            "pending" => Ok(JobStatus::Pending),
            "running" => Ok(JobStatus::Running),
            "done" => Ok(JobStatus::Done),
            "dead" => Ok(JobStatus::Dead),
            other => Err(CoreError::Internal(format!("état de tâche inconnu : {other}"))),
        }
    }
}

/// One job, as [`claim`] hands it to a worker.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// A UUIDv7 (its text order is creation order).
    pub id: String,
    /// What to do: [`MAIL_KIND`], …
    pub kind: String,
    /// The input of the work, as the enqueuer wrote it.
    pub payload: serde_json::Value,
    /// The key that makes a second enqueue of the same job a no-op.
    pub dedupe_key: String,
    pub status: JobStatus,
    /// Attempts made so far, this one included for a claimed job.
    pub attempts: i64,
    pub max_attempts: i64,
    /// Not before this time.
    pub run_at: OffsetDateTime,
    /// The end of the current claim's lease (running jobs).
    pub locked_until: Option<OffsetDateTime>,
    /// The worker that made the last claim.
    pub locked_by: Option<String>,
    /// The error of the last failed attempt.
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    /// When the job became `done` or `dead`.
    pub done_at: Option<OffsetDateTime>,
}

/// How many jobs are in each state, for an admin view or the command line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct QueueStats {
    pub pending: i64,
    /// Pending jobs that already failed at least once (waiting for their next attempt).
    pub retrying: i64,
    pub running: i64,
    pub done: i64,
    pub dead: i64,
}

/// Someone a mail is sent to (or from).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    /// The name shown beside the address (may be empty).
    pub name: String,
    pub email: String,
}

/// A file attached to a mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailAttachment {
    pub filename: String,
    /// The MIME type with its parameters, e.g. `text/calendar; method=REQUEST; charset=UTF-8`
    /// for an invitation (see `gouvernail-mail` for how calendar parts are sent).
    pub content_type: String,
    /// The content, as text (calendar files, CSV…).
    pub content: String,
}

/// Stands for the platform's public address in queued mails (links to pages): the mail
/// worker replaces it when it sends, so that the core needs no configuration of its own.
pub const BASE_URL: &str = "%GOUVERNAIL_URL%";

/// A mail to send: what the mail job's payload holds, besides its `message_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailMessage {
    pub to: Vec<Recipient>,
    pub subject: String,
    /// The plain-text body (always sent).
    pub text: String,
    /// An HTML alternative of the same content.
    pub html: Option<String>,
    pub attachments: Vec<MailAttachment>,
}

impl MailMessage {
    /// The message with [`BASE_URL`] replaced by the platform's address (no trailing `/`).
    pub fn with_base_url(&self, base_url: &str) -> MailMessage {
        let base = base_url.trim_end_matches('/');
        MailMessage {
            to: self.to.clone(),
            subject: self.subject.replace(BASE_URL, base),
            text: self.text.replace(BASE_URL, base),
            html: self.html.as_ref().map(|h| h.replace(BASE_URL, base)),
            attachments: self
                .attachments
                .iter()
                .map(|a| MailAttachment {
                    filename: a.filename.clone(),
                    content_type: a.content_type.clone(),
                    content: a.content.replace(BASE_URL, base),
                })
                .collect(),
        }
    }
}

/// The payload of a mail job: the message and its `Message-ID` (with its angle brackets),
/// chosen at enqueue time so that every attempt sends the same one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailJob {
    pub message_id: String,
    #[serde(flatten)]
    pub message: MailMessage,
}

impl MailJob {
    /// Reads the payload of a [`MAIL_KIND`] job.
    pub fn from_job(job: &Job) -> CoreResult<Self> {
        if job.kind != MAIL_KIND {
            return Err(CoreError::Internal(format!(
                "la tâche {} est de type « {} », pas « {MAIL_KIND} »",
                job.id, job.kind
            )));
        }
        serde_json::from_value(job.payload.clone())
            .map_err(|e| CoreError::Internal(format!("contenu illisible de la tâche {} : {e}", job.id)))
    }
}

/// Queues a mail in the caller's transaction; returns false when `dedupe_key` was already
/// queued (the mail is then not queued again, whatever became of the first one).
///
/// The addresses and the subject are checked here, so that a mail that could never be sent
/// is refused to its author rather than left to die in the queue.
pub async fn enqueue_mail(tx: &mut Tx, message: &MailMessage, dedupe_key: &str) -> CoreResult<bool> {
    check_mail(message)?;
    let payload = MailJob {
        message_id: format!("<{}@gouvernail>", uuid::Uuid::new_v4().simple()),
        message: message.clone(),
    };
    let payload = serde_json::to_value(&payload)
        .map_err(|e| CoreError::Internal(format!("courriel non sérialisable : {e}")))?;
    enqueue(tx, MAIL_KIND, &payload, dedupe_key, OffsetDateTime::now_utc()).await
}

/// Queues a job of `kind` to run at `run_at` or later, in the caller's transaction; returns
/// false when a job with `dedupe_key` already exists (in whatever state).
pub async fn enqueue(
    tx: &mut Tx,
    kind: &str,
    payload: &serde_json::Value,
    dedupe_key: &str,
    run_at: OffsetDateTime,
) -> CoreResult<bool> {
    let mut errors = Vec::new();
    if kind.trim().is_empty() {
        errors.push(FieldError::new("kind", "le type de tâche est vide"));
    }
    if dedupe_key.trim().is_empty() {
        errors.push(FieldError::new("dedupe_key", "la clé de dédoublonnage est vide"));
    }
    if !errors.is_empty() {
        return Err(CoreError::BadRequest(errors));
    }
    let now = whole_second(OffsetDateTime::now_utc());
    let inserted = tx
        .execute(
            Sql::new(
                "INSERT INTO job (id, kind, payload, dedupe_key, status, attempts, max_attempts, run_at, created_at) VALUES (",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .push(", ")
            .bind(kind)
            .push(", ")
            .bind(payload.to_string())
            .push(", ")
            .bind(dedupe_key)
            .push(", 'pending', 0, ")
            .bind(DEFAULT_MAX_ATTEMPTS)
            .push(", ")
            .bind(whole_second(run_at))
            .push(", ")
            .bind(now)
            .push(") ON CONFLICT (dedupe_key) DO NOTHING"),
        )
        .await?;
    Ok(inserted == 1)
}

/// Takes the oldest due job of one of `kinds` for `worker`: a `pending` job whose `run_at`
/// has come, or a `running` one whose lease has ended (its worker died). The job becomes
/// `running` until now + `lease`, and its attempt is counted. `None` when nothing is due.
///
/// The lease must outlast the work: past it, another worker may take the job again.
pub async fn claim(db: &Db, kinds: &[&str], worker: &str, lease: Duration) -> CoreResult<Option<Job>> {
    if kinds.is_empty() {
        return Ok(None);
    }
    let now = whole_second(OffsetDateTime::now_utc());
    // A read first, without the write lock: an idle queue costs no write transaction. It also
    // finds the jobs whose worker died on their last attempt, which the sweep below buries.
    let mut due = Sql::new("SELECT id FROM job WHERE kind IN ");
    due = due.bind_tuple(kinds.iter().copied());
    due = due
        .push(" AND ((status = 'pending' AND run_at <= ")
        .bind(now)
        .push(") OR (status = 'running' AND locked_until <= ")
        .bind(now)
        .push(")) LIMIT 1");
    let due: Option<IdRow> = db.fetch_optional(due).await?;
    if due.is_none() {
        return Ok(None);
    }
    let mut tx = db.begin().await?;
    // A job whose worker died on its last allowed attempt will not be claimed again: it is
    // dead, with the reason.
    tx.execute(
        Sql::new("UPDATE job SET status = 'dead', locked_until = NULL, done_at = ")
            .bind(now)
            .push(", last_error = ")
            .bind("le bail a expiré sans résultat lors de la dernière tentative permise")
            .push(" WHERE status = 'running' AND attempts >= max_attempts AND locked_until <= ")
            .bind(now),
    )
    .await?;
    let locked_until = whole_second_ceil(OffsetDateTime::now_utc() + lease);
    let mut update = Sql::new("UPDATE job SET status = 'running', attempts = attempts + 1, locked_until = ")
        .bind(locked_until)
        .push(", locked_by = ")
        .bind(worker)
        .push(" WHERE id = (SELECT id FROM job WHERE ");
    push_due(&mut update, kinds, now);
    update.push_mut(" LIMIT 1");
    update.push_mut(tx.backend().skip_locked());
    // Checked again on the row itself: the pick and the update are one statement, but the
    // condition costs nothing and states the rule where the row changes.
    update.push_mut(") AND ");
    push_due_condition(&mut update, now);
    update.push_mut(" RETURNING ");
    update.push_mut(JOB_COLUMNS);
    let row: Option<JobRow> = tx.fetch_optional(update).await?;
    tx.commit().await?;
    row.map(Job::try_from).transpose()
}

/// Marks a claimed job `done`. Fails with a conflict when the claim no longer holds the job
/// (its lease ended and another worker took it): the work was done, and may be done again.
pub async fn complete(db: &Db, job: &Job) -> CoreResult<()> {
    let now = whole_second(OffsetDateTime::now_utc());
    let changed = db
        .execute(held_by_claim(
            Sql::new("UPDATE job SET status = 'done', locked_until = NULL, done_at = ")
                .bind(now)
                .push(" WHERE "),
            job,
        ))
        .await?;
    claim_held(job, changed)
}

/// Records a failed attempt of a claimed job: back to `pending` after [`backoff`], or `dead`
/// when it has used its `max_attempts`. Fails with a conflict when the claim no longer holds
/// the job.
pub async fn fail(db: &Db, job: &Job, error: &str) -> CoreResult<()> {
    if job.attempts >= job.max_attempts {
        return bury(db, job, error).await;
    }
    let now = OffsetDateTime::now_utc();
    let changed = db
        .execute(held_by_claim(
            Sql::new("UPDATE job SET status = 'pending', locked_until = NULL, run_at = ")
                .bind(whole_second(now + backoff(job.attempts)))
                .push(", last_error = ")
                .bind(error_text(error))
                .push(" WHERE "),
            job,
        ))
        .await?;
    claim_held(job, changed)
}

/// Records a failure that no retry can mend (a malformed payload, an address the SMTP
/// library refuses): the claimed job is `dead` at once.
pub async fn bury(db: &Db, job: &Job, error: &str) -> CoreResult<()> {
    let now = whole_second(OffsetDateTime::now_utc());
    let changed = db
        .execute(held_by_claim(
            Sql::new("UPDATE job SET status = 'dead', locked_until = NULL, done_at = ")
                .bind(now)
                .push(", last_error = ")
                .bind(error_text(error))
                .push(" WHERE "),
            job,
        ))
        .await?;
    claim_held(job, changed)
}

/// The wait before the next attempt of a job that has failed `attempts` times: 10 s, 20 s,
/// 40 s… doubling up to one hour.
pub fn backoff(attempts: i64) -> Duration {
    let doublings = attempts.saturating_sub(1).clamp(0, 20);
    let wait = BACKOFF_BASE.saturating_mul(1_i32 << doublings);
    if wait > BACKOFF_MAX { BACKOFF_MAX } else { wait }
}

/// Puts the `dead` jobs of `kind` (of every kind when `None`) back in the queue, due now and
/// with their attempts reset; returns how many.
pub async fn retry_dead(db: &Db, kind: Option<&str>) -> CoreResult<u64> {
    let now = whole_second(OffsetDateTime::now_utc());
    let mut sql = Sql::new(
        "UPDATE job SET status = 'pending', attempts = 0, locked_until = NULL, done_at = NULL, run_at = ",
    )
    .bind(now)
    .push(" WHERE status = 'dead'");
    if let Some(kind) = kind {
        sql = sql.push(" AND kind = ").bind(kind);
    }
    db.execute(sql).await
}

/// Deletes the `done` jobs finished before `before`; returns how many. Their dedupe keys are
/// forgotten with them: enqueueing one again queues a new job.
pub async fn purge_done(db: &Db, before: OffsetDateTime) -> CoreResult<u64> {
    db.execute(Sql::new("DELETE FROM job WHERE status = 'done' AND done_at < ").bind(whole_second(before)))
        .await
}

/// Counts the jobs by state.
pub async fn stats(db: &Db) -> CoreResult<QueueStats> {
    let rows: Vec<CountRow> = db
        .fetch_all(Sql::new(
            "SELECT status, CAST(COUNT(*) AS BIGINT) AS n, \
             CAST(SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END) AS BIGINT) AS retried \
             FROM job GROUP BY status",
        ))
        .await?;
    let mut stats = QueueStats::default();
    for row in rows {
        match JobStatus::parse(&row.status)? {
            JobStatus::Pending => {
                stats.pending += row.n;
                stats.retrying += row.retried;
            }
            JobStatus::Running => stats.running += row.n,
            JobStatus::Done => stats.done += row.n,
            JobStatus::Dead => stats.dead += row.n,
        }
    }
    Ok(stats)
}

/// The job with this id.
pub async fn find_by_id(db: &Db, id: &str) -> CoreResult<Option<Job>> {
    let row: Option<JobRow> = db
        .fetch_optional(Sql::new(&format!("SELECT {JOB_COLUMNS} FROM job WHERE id = ")).bind(id))
        .await?;
    row.map(Job::try_from).transpose()
}

/// The job queued with this dedupe key (e.g. to show whether an invitation went out).
pub async fn find_by_dedupe_key(db: &Db, dedupe_key: &str) -> CoreResult<Option<Job>> {
    let row: Option<JobRow> = db
        .fetch_optional(
            Sql::new(&format!("SELECT {JOB_COLUMNS} FROM job WHERE dedupe_key = ")).bind(dedupe_key),
        )
        .await?;
    row.map(Job::try_from).transpose()
}

// ---------------------------------------------------------------------------------------------

const JOB_COLUMNS: &str = "id, kind, payload, dedupe_key, status, attempts, max_attempts, run_at, \
     locked_until, locked_by, last_error, created_at, done_at";

#[derive(sqlx::FromRow)]
struct IdRow {
    #[expect(dead_code, reason = "only the row's presence is read")]
    id: String,
}

#[derive(sqlx::FromRow)]
struct CountRow {
    status: String,
    retried: i64,
    n: i64,
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: String,
    kind: String,
    payload: String,
    dedupe_key: String,
    status: String,
    attempts: i64,
    max_attempts: i64,
    run_at: OffsetDateTime,
    locked_until: Option<OffsetDateTime>,
    locked_by: Option<String>,
    last_error: Option<String>,
    created_at: OffsetDateTime,
    done_at: Option<OffsetDateTime>,
}

impl TryFrom<JobRow> for Job {
    type Error = CoreError;

    fn try_from(row: JobRow) -> CoreResult<Self> {
        let payload = serde_json::from_str(&row.payload)
            .map_err(|e| CoreError::Internal(format!("contenu illisible de la tâche {} : {e}", row.id)))?;
        Ok(Job {
            status: JobStatus::parse(&row.status)?,
            id: row.id,
            kind: row.kind,
            payload,
            dedupe_key: row.dedupe_key,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            run_at: row.run_at,
            locked_until: row.locked_until,
            locked_by: row.locked_by,
            last_error: row.last_error,
            created_at: row.created_at,
            done_at: row.done_at,
        })
    }
}

/// Appends `kind IN (…) AND <due> ORDER BY run_at, id`.
fn push_due(sql: &mut Sql, kinds: &[&str], now: OffsetDateTime) {
    sql.push_mut("kind IN (");
    for (i, kind) in kinds.iter().enumerate() {
        if i > 0 {
            sql.push_mut(", ");
        }
        sql.bind_mut(*kind);
    }
    sql.push_mut(") AND ");
    push_due_condition(sql, now);
    sql.push_mut(" ORDER BY run_at, id");
}

/// Appends the condition of a due job: pending and due, or running with an ended lease and
/// an attempt left.
fn push_due_condition(sql: &mut Sql, now: OffsetDateTime) {
    sql.push_mut("((status = 'pending' AND run_at <= ");
    sql.bind_mut(now);
    sql.push_mut(") OR (status = 'running' AND locked_until <= ");
    sql.bind_mut(now);
    sql.push_mut(" AND attempts < max_attempts))");
}

/// `<sql> id = … AND the claim of `job` still holds it`.
fn held_by_claim(sql: Sql, job: &Job) -> Sql {
    sql.push("id = ")
        .bind(&job.id)
        .push(" AND status = 'running' AND locked_by = ")
        .bind(job.locked_by.as_deref())
        .push(" AND attempts = ")
        .bind(job.attempts)
}

/// Whole seconds, UTC: the shape of every time of the `job` table (see the module doc).
fn whole_second(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(time::UtcOffset::UTC);
    at.replace_nanosecond(0).unwrap_or(at)
}

/// The next whole second at or after `at`, UTC.
fn whole_second_ceil(at: OffsetDateTime) -> OffsetDateTime {
    let down = whole_second(at);
    if down < at { down + Duration::SECOND } else { down }
}

fn error_text(error: &str) -> String {
    let mut text: String = error.chars().take(ERROR_MAX_CHARS).collect();
    if text.len() < error.len() {
        text.push('…');
    }
    text
}

fn claim_held(job: &Job, changed: u64) -> CoreResult<()> {
    if changed == 1 {
        Ok(())
    } else {
        Err(CoreError::Conflict(format!(
            "la tâche {} n'est plus tenue par {} (bail expiré, reprise par un autre exécutant)",
            job.id,
            job.locked_by.as_deref().unwrap_or("?")
        )))
    }
}

fn check_mail(message: &MailMessage) -> CoreResult<()> {
    let mut errors = Vec::new();
    if message.to.is_empty() {
        errors.push(FieldError::new("to", "aucun destinataire"));
    }
    for (i, r) in message.to.iter().enumerate() {
        if !plausible_email(&r.email) {
            errors.push(FieldError::new(
                format!("to[{i}].email"),
                format!("adresse électronique invalide : « {} »", r.email),
            ));
        }
        if r.name.chars().any(char::is_control) {
            errors.push(FieldError::new(
                format!("to[{i}].name"),
                "caractère de contrôle dans le nom",
            ));
        }
    }
    if message.subject.trim().is_empty() {
        errors.push(FieldError::new("subject", "objet vide"));
    }
    if message.subject.chars().any(char::is_control) {
        errors.push(FieldError::new("subject", "caractère de contrôle dans l'objet"));
    }
    for (i, a) in message.attachments.iter().enumerate() {
        if a.filename.trim().is_empty()
            || a.filename
                .chars()
                .any(|c| c.is_control() || c == '/' || c == '\\')
        {
            errors.push(FieldError::new(
                format!("attachments[{i}].filename"),
                "nom de fichier invalide",
            ));
        }
        if !a.content_type.contains('/') || a.content_type.chars().any(char::is_control) {
            errors.push(FieldError::new(
                format!("attachments[{i}].content_type"),
                "type MIME invalide",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CoreError::Validation(errors))
    }
}

/// `local@domain`, with no space, control character or angle bracket: what a person types.
/// The SMTP library checks the full syntax when the mail is built.
fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"'))
}
