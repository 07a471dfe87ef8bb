//! The job queue, on the engine named by `GOUVERNAIL_TEST_DATABASE`: de-duplication, claim
//! order, leases, retries, and concurrent claimers.

use std::collections::HashSet;

use gouvernail_core::CoreError;
use gouvernail_core::db::{Db, Sql};
use gouvernail_core::jobs::{
    self, Job, JobStatus, MAIL_KIND, MailAttachment, MailJob, MailMessage, QueueStats, Recipient,
};
use gouvernail_core::testkit::{Seed, TestDb};
use time::{Duration, OffsetDateTime};

type R = Result<(), CoreError>;

const LEASE: Duration = Duration::minutes(2);

fn mail(subject: &str) -> MailMessage {
    MailMessage {
        to: vec![Recipient {
            name: "Marie Dupont".into(),
            email: "marie.dupont@ac-rennes.fr".into(),
        }],
        subject: subject.into(),
        text: "Bonjour".into(),
        html: Some("<p>Bonjour</p>".into()),
        attachments: vec![MailAttachment {
            filename: "invitation.ics".into(),
            content_type: "text/calendar; method=REQUEST; charset=UTF-8".into(),
            content: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".into(),
        }],
    }
}

fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

async fn enqueue_at(db: &Db, kind: &str, key: &str, run_at: OffsetDateTime) -> Result<bool, CoreError> {
    let mut tx = db.begin().await?;
    let queued = jobs::enqueue(&mut tx, kind, &serde_json::json!({ "key": key }), key, run_at).await?;
    tx.commit().await?;
    Ok(queued)
}

async fn job(db: &Db, id: &str) -> Result<Job, CoreError> {
    jobs::find_by_id(db, id)
        .await?
        .ok_or_else(|| CoreError::not_found("job", id))
}

/// Moves a job's `column` (a time) to `at`, as if time had passed.
async fn set_time(db: &Db, id: &str, column: &str, at: OffsetDateTime) -> R {
    db.execute(
        Sql::new(&format!("UPDATE job SET {column} = "))
            .bind(at)
            .push(" WHERE id = ")
            .bind(id),
    )
    .await?;
    Ok(())
}

async fn claim(db: &Db, worker: &str) -> Result<Option<Job>, CoreError> {
    jobs::claim(db, &[MAIL_KIND, "test"], worker, LEASE).await
}

#[tokio::test]
async fn a_mail_is_queued_once_per_dedupe_key_with_a_fixed_message_id() -> R {
    let t = TestDb::new(Seed::Empty).await?;
    let db = &t.db;
    let message = mail("Invitation");
    let mut tx = db.begin().await?;
    assert!(jobs::enqueue_mail(&mut tx, &message, "meeting:1:invite:marie").await?);
    assert!(!jobs::enqueue_mail(&mut tx, &message, "meeting:1:invite:marie").await?);
    tx.commit().await?;
    let mut tx = db.begin().await?;
    assert!(!jobs::enqueue_mail(&mut tx, &mail("Autre"), "meeting:1:invite:marie").await?);
    tx.commit().await?;

    let queued = jobs::find_by_dedupe_key(db, "meeting:1:invite:marie")
        .await?
        .ok_or_else(|| CoreError::not_found("job", "meeting:1:invite:marie"))?;
    assert_eq!(queued.kind, MAIL_KIND);
    assert_eq!(queued.status, JobStatus::Pending);
    assert_eq!(queued.attempts, 0);
    let payload = MailJob::from_job(&queued)?;
    assert_eq!(payload.message, message);
    assert!(payload.message_id.starts_with('<') && payload.message_id.ends_with("@gouvernail>"));
    assert_eq!(queued.payload["message_id"], payload.message_id.as_str());
    assert_eq!(queued.payload["subject"], "Invitation");
    assert_eq!(jobs::stats(db).await?.pending, 1);

    // The claimed job carries the same payload, hence the same Message-ID at every attempt.
    let claimed = claim(db, "w1")
        .await?
        .ok_or_else(|| CoreError::not_found("job", "due"))?;
    assert_eq!(claimed.id, queued.id);
    assert_eq!(MailJob::from_job(&claimed)?.message_id, payload.message_id);
    Ok(())
}

#[tokio::test]
async fn a_job_exists_only_if_its_transaction_commits() -> R {
    let t = TestDb::new(Seed::Empty).await?;
    let db = &t.db;
    {
        let mut tx = db.begin().await?;
        assert!(jobs::enqueue_mail(&mut tx, &mail("Jamais"), "rolled-back").await?);
        // Dropped without commit: rolled back.
    }
    assert_eq!(jobs::find_by_dedupe_key(db, "rolled-back").await?, None);
    assert_eq!(jobs::stats(db).await?, QueueStats::default());
    // The key is free again.
    let mut tx = db.begin().await?;
    assert!(jobs::enqueue_mail(&mut tx, &mail("Cette fois"), "rolled-back").await?);
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn malformed_mails_are_refused_at_enqueue() -> R {
    let t = TestDb::new(Seed::Empty).await?;
    let mut tx = t.db.begin().await?;
    let mut nobody = mail("x");
    nobody.to.clear();
    let mut bad = mail("x");
    bad.to[0].email = "marie dupont".into();
    let mut injected = mail("x\r\nBcc: everyone@example.test");
    injected.to[0].name = "Marie".into();
    for (message, field) in [(nobody, "to"), (bad, "to[0].email"), (injected, "subject")] {
        let err = jobs::enqueue_mail(&mut tx, &message, "k").await.err();
        assert!(
            err.as_ref()
                .is_some_and(|e| e.fields().iter().any(|f| f.field == field)),
            "{field}: {err:?}"
        );
    }
    let err = jobs::enqueue(&mut tx, "", &serde_json::json!({}), "k", now())
        .await
        .err();
    assert_eq!(err.map(|e| e.code()), Some("bad_request"));
    Ok(())
}

#[tokio::test]
async fn claims_take_the_oldest_due_job_of_the_given_kinds() -> R {
    let t = TestDb::new(Seed::Empty).await?;
    let db = &t.db;
    let now = now();
    enqueue_at(db, "test", "a", now - Duration::seconds(3)).await?;
    enqueue_at(db, "test", "b", now - Duration::seconds(5)).await?;
    enqueue_at(db, "test", "later", now + Duration::hours(1)).await?;
    enqueue_at(db, "other", "other", now - Duration::hours(1)).await?;
    // Same second: creation order.
    enqueue_at(db, "test", "c1", now - Duration::seconds(1)).await?;
    enqueue_at(db, "test", "c2", now - Duration::seconds(1)).await?;
    enqueue_at(db, "test", "c3", now - Duration::seconds(1)).await?;

    let mut order = Vec::new();
    while let Some(job) = claim(db, "w").await? {
        assert_eq!(job.status, JobStatus::Running);
        assert_eq!(job.attempts, 1);
        assert_eq!(job.locked_by.as_deref(), Some("w"));
        assert!(job.locked_until.is_some_and(|t| t >= now + LEASE));
        order.push(job.dedupe_key.clone());
    }
    assert_eq!(order, ["b", "a", "c1", "c2", "c3"]);
    // Not due yet, or of another kind.
    assert_eq!(
        jobs::claim(db, &["other"], "w", LEASE)
            .await?
            .map(|j| j.dedupe_key),
        Some("other".into())
    );
    assert_eq!(jobs::claim(db, &[], "w", LEASE).await?, None);
    let stats = jobs::stats(db).await?;
    assert_eq!((stats.pending, stats.running), (1, 6));
    Ok(())
}

#[tokio::test]
async fn an_expired_lease_lets_another_worker_take_the_job() -> R {
    let t = TestDb::new(Seed::Empty).await?;
    let db = &t.db;
    enqueue_at(db, "test", "k", now()).await?;
    let first = claim(db, "w1")
        .await?
        .ok_or_else(|| CoreError::not_found("job", "k"))?;
    // Leased: nobody else gets it.
    assert_eq!(claim(db, "w2").await?, None);

    // w1 dies; its lease ends.
    set_time(db, &first.id, "locked_until", now() - Duration::seconds(1)).await?;
    let second = claim(db, "w2")
        .await?
        .ok_or_else(|| CoreError::not_found("job", "k"))?;
    assert_eq!(second.id, first.id);
    assert_eq!(second.attempts, 2);
    assert_eq!(second.locked_by.as_deref(), Some("w2"));

    // w1 comes back late: its claim no longer holds the job.
    for late in [
        jobs::complete(db, &first).await,
        jobs::fail(db, &first, "trop tard").await,
    ] {
        assert_eq!(late.err().map(|e| e.code()), Some("conflict"));
    }
    jobs::complete(db, &second).await?;
    let done = job(db, &first.id).await?;
    assert_eq!(done.status, JobStatus::Done);
    assert!(done.done_at.is_some());
    assert_eq!(done.locked_until, None);
    assert_eq!(claim(db, "w3").await?, None);
    // Completing twice is refused too.
    assert_eq!(
        jobs::complete(db, &second).await.err().map(|e| e.code()),
        Some("conflict")
    );
    Ok(())
}

#[tokio::test]
async fn failures_back_off_then_the_job_dies_and_can_be_retried() -> R {
    assert_eq!(jobs::backoff(1), Duration::seconds(10));
    assert_eq!(jobs::backoff(2), Duration::seconds(20));
    assert_eq!(jobs::backoff(3), Duration::seconds(40));
    assert_eq!(jobs::backoff(9), Duration::seconds(2560));
    assert_eq!(jobs::backoff(10), Duration::hours(1));
    assert_eq!(jobs::backoff(1_000), Duration::hours(1));
    assert_eq!(jobs::backoff(0), Duration::seconds(10));

    let t = TestDb::new(Seed::Empty).await?;
    let db = &t.db;
    enqueue_at(db, "test", "k", now()).await?;
    let id = claim(db, "w")
        .await?
        .map(|j| j.id)
        .ok_or_else(|| CoreError::not_found("job", "k"))?;
    db.execute(Sql::new("UPDATE job SET max_attempts = 3 WHERE id = ").bind(id.as_str()))
        .await?;
    set_time(db, &id, "locked_until", now() - Duration::seconds(1)).await?;

    for attempt in 1..=3 {
        let running = claim(db, "w")
            .await?
            .ok_or_else(|| CoreError::not_found("job", "k"))?;
        // The first claim's worker died (its lease was ended above): this is attempt n + 1.
        assert_eq!(running.attempts, attempt + 1);
        if running.attempts >= 3 {
            jobs::fail(db, &running, "550 refusé").await?;
            break;
        }
        let before = now();
        jobs::fail(db, &running, &format!("échec n° {attempt}")).await?;
        let failed = job(db, &id).await?;
        assert_eq!(failed.status, JobStatus::Pending);
        assert_eq!(
            failed.last_error.as_deref(),
            Some(format!("échec n° {attempt}").as_str())
        );
        assert_eq!(failed.locked_until, None);
        let wait = failed.run_at - before;
        let want = jobs::backoff(running.attempts);
        assert!(
            wait >= want - Duration::seconds(1) && wait <= want + Duration::seconds(2),
            "{wait}"
        );
        // Not due before its time.
        assert_eq!(claim(db, "w").await?, None);
        assert_eq!(jobs::stats(db).await?.retrying, 1);
        set_time(db, &id, "run_at", now() - Duration::seconds(1)).await?;
    }
    let dead = job(db, &id).await?;
    assert_eq!(dead.status, JobStatus::Dead);
    assert_eq!(dead.attempts, 3);
    assert_eq!(dead.last_error.as_deref(), Some("550 refusé"));
    assert!(dead.done_at.is_some());
    assert_eq!(claim(db, "w").await?, None);
    assert_eq!(jobs::stats(db).await?.dead, 1);

    assert_eq!(jobs::retry_dead(db, Some("autre")).await?, 0);
    assert_eq!(jobs::retry_dead(db, Some("test")).await?, 1);
    let revived = claim(db, "w")
        .await?
        .ok_or_else(|| CoreError::not_found("job", "k"))?;
    assert_eq!(revived.attempts, 1);
    jobs::bury(db, &revived, "contenu illisible").await?;
    assert_eq!(job(db, &id).await?.status, JobStatus::Dead);
    Ok(())
}

#[tokio::test]
async fn a_worker_that_dies_on_the_last_attempt_leaves_a_dead_job() -> R {
    let t = TestDb::new(Seed::Empty).await?;
    let db = &t.db;
    enqueue_at(db, "test", "k", now()).await?;
    let running = claim(db, "w")
        .await?
        .ok_or_else(|| CoreError::not_found("job", "k"))?;
    db.execute(Sql::new("UPDATE job SET max_attempts = 1 WHERE id = ").bind(running.id.as_str()))
        .await?;
    set_time(db, &running.id, "locked_until", now() - Duration::seconds(1)).await?;
    // The next claim finds it, buries it, and has nothing to hand out.
    assert_eq!(claim(db, "w").await?, None);
    let dead = job(db, &running.id).await?;
    assert_eq!(dead.status, JobStatus::Dead);
    assert!(dead.last_error.is_some_and(|e| e.contains("bail")));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_never_get_the_same_job() -> R {
    const JOBS: usize = 60;
    const WORKERS: usize = 6;
    let t = TestDb::new(Seed::Empty).await?;
    let db = &t.db;
    let mut tx = db.begin().await?;
    for i in 0..JOBS {
        jobs::enqueue(
            &mut tx,
            "test",
            &serde_json::json!({ "i": i }),
            &format!("k{i}"),
            now(),
        )
        .await?;
    }
    tx.commit().await?;

    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let db = db.clone();
        workers.push(tokio::spawn(async move {
            let name = format!("w{w}");
            let mut taken = Vec::new();
            loop {
                match jobs::claim(&db, &["test"], &name, LEASE).await? {
                    Some(job) => {
                        tokio::task::yield_now().await;
                        jobs::complete(&db, &job).await?;
                        taken.push(job.id);
                    }
                    // Under SKIP LOCKED a claim may find nothing while others hold the last
                    // rows: stop only when nothing is pending.
                    None if jobs::stats(&db).await?.pending == 0 => break,
                    None => tokio::task::yield_now().await,
                }
            }
            Ok::<_, CoreError>(taken)
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        let taken = worker
            .await
            .map_err(|e| CoreError::Internal(format!("worker panicked: {e}")))??;
        all.extend(taken);
    }
    let distinct: HashSet<&String> = all.iter().collect();
    assert_eq!(all.len(), JOBS, "every job taken exactly once");
    assert_eq!(distinct.len(), JOBS);
    let stats = jobs::stats(db).await?;
    assert_eq!((stats.done, stats.pending, stats.running), (JOBS as i64, 0, 0));
    Ok(())
}

#[tokio::test]
async fn done_jobs_can_be_purged_and_their_key_reused() -> R {
    let t = TestDb::new(Seed::Empty).await?;
    let db = &t.db;
    enqueue_at(db, "test", "k", now()).await?;
    let running = claim(db, "w")
        .await?
        .ok_or_else(|| CoreError::not_found("job", "k"))?;
    jobs::complete(db, &running).await?;
    assert_eq!(jobs::purge_done(db, now() - Duration::days(1)).await?, 0);
    assert!(!enqueue_at(db, "test", "k", now()).await?);
    assert_eq!(jobs::purge_done(db, now() + Duration::seconds(2)).await?, 1);
    assert!(enqueue_at(db, "test", "k", now()).await?);
    Ok(())
}
