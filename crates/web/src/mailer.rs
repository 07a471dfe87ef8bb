//! The mail worker: takes the queued mails (`gouvernail_core::jobs`, kind `mail`) one at a
//! time and sends them through SMTP (`gouvernail_mail`); and the hourly tasks of `serve`:
//! the weekly digests of convention alerts ([`spawn_digests`]) and the campaigns'
//! reminders and closes ([`spawn_campaigns`]).
//!
//! Every instance of the server runs one; on PostgreSQL they share the queue (a claim skips
//! the jobs another instance holds). When the queue is empty the worker looks again every
//! second; a database error makes it wait a little longer. On shutdown (Ctrl-C, SIGTERM) it
//! finishes the mail in hand, records the result, and stops. If the process is killed in the
//! middle of a mail, the job's lease ends after [`LEASE`] and a worker sends it again, with
//! the same Message-ID.

use std::future::Future;
use std::time::Duration as StdDuration;

use gouvernail_core::db::Db;
use gouvernail_core::jobs::{self, Job, MAIL_KIND, MailJob};
use gouvernail_mail::{Mailer, SmtpConfig};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long a claimed mail is the worker's own: longer than the longest sending
/// ([`gouvernail_mail::SEND_TIMEOUT`]), so that a slow mail is never taken by another worker
/// while it is being sent.
pub const LEASE: time::Duration = time::Duration::minutes(2);

/// The wait between two looks at an empty queue.
pub const POLL: StdDuration = StdDuration::from_secs(1);

/// The wait after a database error before trying again.
const ERROR_PAUSE: StdDuration = StdDuration::from_secs(5);

/// Starts the worker; it stops after Ctrl-C or SIGTERM, once the mail in hand is dealt with.
/// `public_url` replaces [`jobs::BASE_URL`] in the links of the mails.
pub fn spawn(db: Db, config: SmtpConfig, public_url: String) -> JoinHandle<()> {
    spawn_until(db, config, public_url, shutdown_signal())
}

/// Starts the worker; it stops once `shutdown` completes, after the mail in hand.
pub fn spawn_until(
    db: Db,
    config: SmtpConfig,
    public_url: String,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> JoinHandle<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    tokio::spawn(run(db, config, public_url, stop_rx))
}

async fn run(db: Db, config: SmtpConfig, public_url: String, mut stop: watch::Receiver<bool>) {
    let mailer = match Mailer::new(&config) {
        Ok(mailer) => mailer,
        Err(e) => {
            tracing::error!("envoi des courriels impossible : {e}");
            return;
        }
    };
    let worker = worker_name();
    tracing::info!(
        %worker,
        "envoi des courriels par {}:{} (TLS : {})",
        config.host,
        config.port,
        config.tls.as_str()
    );
    loop {
        if *stop.borrow() {
            break;
        }
        let pause = match jobs::claim(&db, &[MAIL_KIND], &worker, LEASE).await {
            Ok(Some(job)) => {
                deliver(&db, &mailer, &job, &public_url).await;
                continue;
            }
            Ok(None) => POLL,
            Err(e) => {
                tracing::error!(%worker, "file des courriels inaccessible : {e}");
                ERROR_PAUSE
            }
        };
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            changed = stop.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
    tracing::info!(%worker, "envoi des courriels arrêté");
}

/// How often a server looks whether this week's convention alert digests are queued.
pub const DIGEST_EVERY: StdDuration = StdDuration::from_secs(3600);

/// Starts the task that queues the weekly digests of convention alerts
/// (`gouvernail_core::convention::alerts`): at start, then every [`DIGEST_EVERY`]. The
/// digests' dedupe keys make it safe for several instances to run it; it stops with the
/// server.
pub fn spawn_digests(db: Db) -> JoinHandle<()> {
    tokio::spawn(async move {
        let stop = shutdown_signal();
        tokio::pin!(stop);
        loop {
            match gouvernail_core::convention::alerts::queue_digests(
                &db,
                gouvernail_core::convention::service::today(),
            )
            .await
            {
                Ok(report) if report.queued > 0 => {
                    tracing::info!(
                        queued = report.queued,
                        "alertes des conventions : résumés mis en file"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::error!("alertes des conventions : {e}"),
            }
            tokio::select! {
                () = tokio::time::sleep(DIGEST_EVERY) => {}
                () = &mut stop => break,
            }
        }
    })
}

/// How often a server runs the campaigns' scheduled work.
pub const CAMPAIGNS_EVERY: StdDuration = StdDuration::from_secs(3600);

/// Starts the task that runs the indicator campaigns' scheduled work
/// (`gouvernail_core::indicator::campaign::run_due_work`): the reminders due, queued as
/// mails, and the close of the campaigns whose grace period is over, which locks their
/// period. At start, then every [`CAMPAIGNS_EVERY`]. Reminders are deduplicated by stage
/// and each close is a conditional update, so several instances may run it at once; it
/// stops with the server. It runs whether or not SMTP is configured (closing is not mail;
/// the reminders wait in the queue as every mail does).
pub fn spawn_campaigns(db: Db) -> JoinHandle<()> {
    tokio::spawn(async move {
        let stop = shutdown_signal();
        tokio::pin!(stop);
        loop {
            let day = gouvernail_core::indicator::service::today();
            match gouvernail_core::indicator::campaign::run_due_work(&db, day).await {
                Ok(work) => {
                    if work.reminders > 0 {
                        tracing::info!(queued = work.reminders, "campagnes : relances mises en file");
                    }
                    for c in &work.closed {
                        tracing::info!(
                            campagne = %c.id,
                            titre = %c.title,
                            "campagne close à la fin de son délai de grâce"
                        );
                    }
                    if work.locked > 0 {
                        tracing::info!(locked = work.locked, "campagnes : valeurs verrouillées");
                    }
                }
                Err(e) => tracing::error!("campagnes (relances, clôtures) : {e}"),
            }
            tokio::select! {
                () = tokio::time::sleep(CAMPAIGNS_EVERY) => {}
                () = &mut stop => break,
            }
        }
    })
}

/// Sends one claimed mail and records the result.
async fn deliver(db: &Db, mailer: &Mailer, job: &Job, public_url: &str) {
    let mail = match MailJob::from_job(job) {
        Ok(mail) => mail,
        Err(e) => {
            tracing::error!(job = %job.id, "courriel illisible, abandonné : {e}");
            record(job, jobs::bury(db, job, &e.to_string()).await);
            return;
        }
    };
    let message = mail.message.with_base_url(public_url);
    match mailer.send(&message, &mail.message_id).await {
        Ok(()) => {
            tracing::info!(
                job = %job.id,
                message_id = %mail.message_id,
                attempt = job.attempts,
                "courriel envoyé"
            );
            record(job, complete(db, job).await);
        }
        Err(e) if e.is_permanent() => {
            tracing::error!(job = %job.id, "courriel abandonné : {e}");
            record(job, jobs::bury(db, job, &e.to_string()).await);
        }
        Err(e) => {
            let last = job.attempts >= job.max_attempts;
            tracing::warn!(
                job = %job.id,
                attempt = job.attempts,
                max_attempts = job.max_attempts,
                "{} : {e}",
                if last {
                    "courriel abandonné après la dernière tentative"
                } else {
                    "envoi échoué, nouvel essai plus tard"
                }
            );
            record(job, jobs::fail(db, job, &e.to_string()).await);
        }
    }
}

/// Marks a sent mail done, trying again for a while if the database fails: until the mark is
/// written, the mail would be sent again when its lease ends.
async fn complete(db: &Db, job: &Job) -> gouvernail_core::CoreResult<()> {
    let mut wait = StdDuration::from_millis(200);
    loop {
        match jobs::complete(db, job).await {
            Err(e) if e.is_internal() && wait < StdDuration::from_secs(30) => {
                tracing::warn!(job = %job.id, "courriel envoyé, état non enregistré ({e}) : nouvel essai");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            result => return result,
        }
    }
}

fn record(job: &Job, result: gouvernail_core::CoreResult<()>) {
    if let Err(e) = result {
        tracing::error!(job = %job.id, "état du courriel non enregistré : {e}");
    }
}

/// A name for this worker in `job.locked_by`: the host, the process and a counter.
fn worker_name() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "hôte".to_owned());
    format!(
        "{host}:{}:mail-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
