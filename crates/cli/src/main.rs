//! The `gouvernail` binary: serve (with the mail worker and the hourly tasks), migrate,
//! import, demo, mail, campaigns.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use gouvernail_core::audit::Actor;
use gouvernail_core::calendar::{self, CalendarEvent, Method};
use gouvernail_core::db::{DatabaseUrl, Db, DbOptions};
use gouvernail_core::identity::service as identity;
use gouvernail_core::identity::{Perimeter, Role};
use gouvernail_core::jobs::{self, MailAttachment, MailMessage, Recipient};
use gouvernail_core::territory::import::{self, AnnuaireOptions, ImportReport, ReferentialSource};
use gouvernail_mail::SmtpConfig;
use gouvernail_web::{AppState, OidcSettings, Theme, WebConfig};

mod progress;

/// Gouvernail: steering the digital strategy for education.
#[derive(Parser)]
#[command(name = "gouvernail", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct DbArgs {
    /// Database URL: sqlite://FILE (default ./gouvernail.sqlite) or postgres://USER@HOST/DB.
    #[arg(
        long = "database",
        env = "GOUVERNAIL_DATABASE_URL",
        default_value = "sqlite://gouvernail.sqlite"
    )]
    url: String,
    /// Largest number of pooled database connections.
    #[arg(long, env = "GOUVERNAIL_DATABASE_MAX_CONNECTIONS", default_value_t = 10)]
    max_connections: u32,
}

#[derive(clap::Args, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "GOUVERNAIL_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Look of the pages: `dsfr` (State services) or `neutre`.
    #[arg(long, env = "GOUVERNAIL_THEME", default_value = "dsfr")]
    theme: String,
    /// The address people reach the platform at (default: http://LISTEN).
    #[arg(long, env = "GOUVERNAIL_PUBLIC_URL")]
    public_url: Option<String>,
    /// OpenID Connect issuer (ProConnect or compatible); single sign-on is off without it.
    #[arg(long, env = "GOUVERNAIL_OIDC_ISSUER")]
    oidc_issuer: Option<String>,
    /// OpenID Connect client id.
    #[arg(long, env = "GOUVERNAIL_OIDC_CLIENT_ID")]
    oidc_client_id: Option<String>,
    /// OpenID Connect client secret (prefer the environment variable).
    #[arg(long, env = "GOUVERNAIL_OIDC_CLIENT_SECRET", hide_env_values = true)]
    oidc_client_secret: Option<String>,
    /// Where files are kept (the attachments of conventions), created when needed.
    #[arg(long, env = "GOUVERNAIL_DATA_DIR", default_value = "donnees")]
    data_dir: std::path::PathBuf,
    /// The largest attachment accepted, in MiB.
    #[arg(long, env = "GOUVERNAIL_MAX_UPLOAD_MIB", default_value_t = 20)]
    max_upload_mib: usize,
}

#[derive(Subcommand)]
enum Command {
    /// Applies pending migrations, then serves the platform.
    Serve {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Applies pending migrations.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Imports reference data.
    Import {
        #[command(subcommand)]
        what: ImportCommand,
    },
    /// Accounts (scripted set-up).
    User {
        #[command(subcommand)]
        what: UserCommand,
    },
    /// Roles held on a perimeter for a period.
    Role {
        #[command(subcommand)]
        what: RoleCommand,
    },
    /// API tokens.
    Token {
        #[command(subcommand)]
        what: TokenCommand,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        what: AuditCommand,
    },
    /// Mails: a test mail, the state of the queue.
    Mail {
        #[command(subcommand)]
        what: MailCommand,
    },
    /// Indicator campaigns.
    Campagnes {
        #[command(subcommand)]
        what: CampaignCommand,
    },
    /// Serves the demonstration: a fresh SQLite database (unless --database names one) with
    /// the whole referential and made-up schools.
    Demo {
        /// Database URL; a fresh SQLite file in the temporary folder when absent.
        #[arg(long = "database")]
        database: Option<String>,
        #[command(flatten)]
        serve: ServeArgs,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Creates an active local account.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Reads the password from standard input (first line); without it the account
        /// signs in only through ProConnect.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Lists the accounts.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Disables an account: its sessions and tokens stop at once.
    Disable {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum RoleCommand {
    /// Grants a role on a perimeter.
    Grant {
        #[arg(long)]
        email: String,
        /// administrateur-national, pilote-national, recteur, dan, membre-dane,
        /// representant-collectivite, partenaire, expert, observateur.
        #[arg(long)]
        role: String,
        /// national, region-academique:CODE, academie:CODE, departement:CODE,
        /// collectivite:SIREN, etablissement:UAI, organisation:ID.
        #[arg(long)]
        perimeter: String,
        /// First day (YYYY-MM-DD, today by default).
        #[arg(long)]
        from: Option<String>,
        /// First day no longer in force (YYYY-MM-DD).
        #[arg(long)]
        until: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Creates an API token and prints only the token.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        read_only: bool,
        /// Last day of validity (YYYY-MM-DD, 90 days by default).
        #[arg(long)]
        expires: Option<String>,
        /// A name to recognise it by.
        #[arg(long, default_value = "ligne de commande")]
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Checks the hash chain; exits 2 and names each entry that was edited, deleted,
    /// inserted or reordered.
    Verify {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum MailCommand {
    /// Queues this week's digest of convention alerts for every DAN and collectivité
    /// representative who has some (servers do it every hour; one digest per person per week).
    Alertes {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Queues a test mail, with a small calendar file; it leaves when a server configured for
    /// SMTP (GOUVERNAIL_SMTP_HOST…) runs on the same database.
    Test {
        /// The recipient's address.
        #[arg(long)]
        to: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Prints how many jobs the queue holds in each state.
    File {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Puts the abandoned mails (dead jobs) back in the queue.
    Relancer {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum CampaignCommand {
    /// Runs the campaigns' scheduled work once (servers do it every hour): queues the
    /// reminders due today, and closes, as the system, the campaigns whose grace period is
    /// over, locking their period. Running it again the same day does nothing more.
    Echeances {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// The territory referential: the bundled copy, or the etalab files of a folder.
    Referential {
        /// Folder holding regions.json, departements.json, communes.json (and epci.json).
        #[arg(long = "from")]
        from: Option<PathBuf>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// An Annuaire de l'éducation CSV export (`;`, UTF-8 with BOM).
    Annuaire {
        /// The CSV file.
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=error,tower_http=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("erreur : démarrage impossible : {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("erreur : {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn connect(args: &DbArgs) -> anyhow::Result<Db> {
    let url = DatabaseUrl::parse(&args.url)?;
    let db = Db::connect(
        &url,
        &DbOptions {
            max_connections: args.max_connections,
        },
    )
    .await
    .with_context(|| format!("connexion à {url}"))?;
    db.migrate().await.context("application des migrations")?;
    Ok(db)
}

fn web_config(serve: &ServeArgs, demo: bool) -> anyhow::Result<WebConfig> {
    let theme = Theme::parse(&serve.theme)
        .with_context(|| format!("thème « {} » inconnu : dsfr ou neutre", serve.theme))?;
    let public_url = serve
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", serve.listen));
    let oidc = match (
        &serve.oidc_issuer,
        &serve.oidc_client_id,
        &serve.oidc_client_secret,
    ) {
        (Some(issuer), Some(client_id), Some(client_secret)) => Some(OidcSettings {
            issuer: issuer.clone(),
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
        }),
        (None, None, None) => None,
        _ => anyhow::bail!(
            "ProConnect : GOUVERNAIL_OIDC_ISSUER, GOUVERNAIL_OIDC_CLIENT_ID et GOUVERNAIL_OIDC_CLIENT_SECRET vont ensemble"
        ),
    };
    Ok(WebConfig {
        theme,
        demo,
        public_url,
        oidc,
        storage: gouvernail_core::convention::attachment::Storage {
            dir: serve.data_dir.clone(),
            max_bytes: serve.max_upload_mib.saturating_mul(1024 * 1024),
        },
    })
}

fn parse_date(field: &str, value: &str) -> anyhow::Result<time::Date> {
    time::Date::parse(value, time::macros::format_description!("[year]-[month]-[day]"))
        .with_context(|| format!("--{field} : date attendue au format AAAA-MM-JJ, reçu « {value} »"))
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { db, serve } => {
            let config = web_config(&serve, false)?;
            let db = connect(&db).await?;
            serve_app(db, &serve, config).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { db } => {
            connect(&db).await?;
            println!("migrations appliquées");
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { what } => match what {
            ImportCommand::Referential { from, db } => {
                let db = connect(&db).await?;
                let source = match from {
                    Some(dir) => ReferentialSource::Dir(dir),
                    None => ReferentialSource::Bundled,
                };
                let bar = progress::Bar::new();
                let report = import::import_referential(&db, &source, &bar).await?;
                Ok(print_report("référentiel", &report))
            }
            ImportCommand::Annuaire { file, db } => {
                let handle = std::fs::File::open(&file)
                    .with_context(|| format!("lecture de {} impossible", file.display()))?;
                let db = connect(&db).await?;
                let bar = progress::Bar::new();
                let report = import::import_annuaire(
                    &db,
                    std::io::BufReader::new(handle),
                    AnnuaireOptions::default(),
                    &bar,
                )
                .await?;
                Ok(print_report("annuaire", &report))
            }
        },
        Command::User { what } => match what {
            UserCommand::Create {
                email,
                name,
                password_stdin,
                db,
            } => {
                let password = if password_stdin {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("lecture du mot de passe")?;
                    Some(line.trim_end_matches(['\r', '\n']).to_owned())
                } else {
                    None
                };
                let db = connect(&db).await?;
                let user =
                    identity::create_user(&db, &Actor::cli(), &email, &name, password.as_deref()).await?;
                println!("{}", user.id);
                Ok(ExitCode::SUCCESS)
            }
            UserCommand::List { db } => {
                let db = connect(&db).await?;
                for u in identity::list_users_cli(&db).await? {
                    let roles = identity::assignments_of(&db, &u.id)
                        .await?
                        .into_iter()
                        .filter(|a| a.in_force(today()))
                        .map(|a| format!("{}@{}", a.role, a.perimeter()))
                        .collect::<Vec<_>>()
                        .join(",");
                    println!("{}\t{}\t{}\t{}", u.email, u.status, u.display_name, roles);
                }
                Ok(ExitCode::SUCCESS)
            }
            UserCommand::Disable { email, db } => {
                let db = connect(&db).await?;
                let user = identity::disable_by_email(&db, &email).await?;
                println!("{} désactivé", user.email);
                Ok(ExitCode::SUCCESS)
            }
        },
        Command::Role { what } => match what {
            RoleCommand::Grant {
                email,
                role,
                perimeter,
                from,
                until,
                db,
            } => {
                let role = Role::parse(&role)?;
                let perimeter = Perimeter::parse(&perimeter)?;
                let from = from
                    .map(|f| parse_date("from", &f))
                    .transpose()?
                    .unwrap_or_else(today);
                let until = until.map(|u| parse_date("until", &u)).transpose()?;
                let db = connect(&db).await?;
                let user = identity::user_by_email(&db, &email).await?;
                let a = identity::grant_role(
                    &db,
                    None,
                    &identity::NewAssignment {
                        user_id: user.id,
                        role,
                        perimeter,
                        from,
                        until,
                    },
                )
                .await?;
                println!("{}", a.id);
                Ok(ExitCode::SUCCESS)
            }
        },
        Command::Token { what } => match what {
            TokenCommand::Create {
                email,
                read_only,
                expires,
                name,
                db,
            } => {
                let expires = expires
                    .map(|e| parse_date("expires", &e))
                    .transpose()?
                    .unwrap_or_else(|| today() + time::Duration::days(90));
                let db = connect(&db).await?;
                let user = identity::user_by_email(&db, &email).await?;
                let (_, secret) =
                    identity::create_token(&db, &Actor::cli(), &user.id, &name, read_only, expires).await?;
                println!("{secret}");
                Ok(ExitCode::SUCCESS)
            }
        },
        Command::Audit { what } => match what {
            AuditCommand::Verify { db } => {
                let db = connect(&db).await?;
                let report = gouvernail_core::audit::verify(&db).await?;
                for problem in &report.problems {
                    eprintln!("altération : {problem}");
                }
                println!(
                    "journal : {} entrées vérifiées, {} problème(s)",
                    report.checked,
                    report.problems.len()
                );
                Ok(if report.problems.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(2)
                })
            }
        },
        Command::Mail { what } => match what {
            MailCommand::Test { to, db } => {
                let db = connect(&db).await?;
                let key = format!("essai:{}", identity::new_id());
                let mut tx = db.begin().await?;
                jobs::enqueue_mail(&mut tx, &test_mail(&to), &key).await?;
                tx.commit().await?;
                let job = jobs::find_by_dedupe_key(&db, &key).await?;
                println!(
                    "courriel d'essai mis en file pour {to} (tâche {})",
                    job.map(|j| j.id).unwrap_or_default()
                );
                if SmtpConfig::from_env().ok().flatten().is_none() {
                    eprintln!(
                        "il partira quand un serveur `gouvernail serve` configuré pour SMTP ({}) tournera sur cette base",
                        gouvernail_mail::ENV_HOST
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
            MailCommand::File { db } => {
                let db = connect(&db).await?;
                let stats = jobs::stats(&db).await?;
                println!(
                    "en attente : {} (dont {} après un échec)",
                    stats.pending, stats.retrying
                );
                println!("en cours : {}", stats.running);
                println!("terminées : {}", stats.done);
                println!("abandonnées : {}", stats.dead);
                Ok(ExitCode::SUCCESS)
            }
            MailCommand::Alertes { db } => {
                let db = connect(&db).await?;
                let report = gouvernail_core::convention::alerts::queue_digests(
                    &db,
                    gouvernail_core::convention::service::today(),
                )
                .await?;
                println!(
                    "alertes des conventions : {} personne(s) suivie(s), {} résumé(s) mis en file (un par semaine au plus)",
                    report.people, report.queued
                );
                Ok(ExitCode::SUCCESS)
            }
            MailCommand::Relancer { db } => {
                let db = connect(&db).await?;
                let n = jobs::retry_dead(&db, Some(jobs::MAIL_KIND)).await?;
                println!("{n} courriel(s) remis en file");
                Ok(ExitCode::SUCCESS)
            }
        },
        Command::Campagnes { what } => match what {
            CampaignCommand::Echeances { db } => {
                let db = connect(&db).await?;
                let work = gouvernail_core::indicator::campaign::run_due_work(
                    &db,
                    gouvernail_core::indicator::service::today(),
                )
                .await?;
                for c in &work.closed {
                    println!("close : {} ({}, période {})", c.title, c.id, c.period);
                }
                println!(
                    "campagnes : {} relance(s) mise(s) en file, {} campagne(s) close(s), {} valeur(s) verrouillée(s)",
                    work.reminders,
                    work.closed.len(),
                    work.locked
                );
                Ok(ExitCode::SUCCESS)
            }
        },
        Command::Demo { database, serve } => {
            let config = web_config(&serve, true)?;
            let url = match database {
                Some(url) => url,
                None => {
                    let stamp = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or(0);
                    let path = std::env::temp_dir()
                        .join(format!("gouvernail-demo-{stamp}-{}.sqlite", std::process::id()));
                    format!("sqlite://{}", path.display())
                }
            };
            eprintln!("démonstration : base {}", DatabaseUrl::parse(&url)?);
            let db = connect(&DbArgs {
                url,
                max_connections: 10,
            })
            .await?;
            let bar = progress::Bar::new();
            let report = gouvernail_core::demo::load_demo(&db, &bar).await?;
            eprintln!(
                "référentiel : {} entrées ; établissements fictifs : {}",
                report.referential.imported, report.schools.imported
            );
            serve_app(db, &serve, config).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve_app(db: Db, serve: &ServeArgs, config: WebConfig) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(serve.listen)
        .await
        .with_context(|| format!("écoute sur {} impossible", serve.listen))?;
    let addr = listener.local_addr()?;
    // Campaign closes do not wait for SMTP; their reminders wait in the queue.
    gouvernail_web::mailer::spawn_campaigns(db.clone());
    let mail_worker = match SmtpConfig::from_env()? {
        Some(smtp) => {
            // Refuse a configuration the mailer cannot use now, rather than log it later.
            smtp.check()?;
            gouvernail_web::mailer::spawn_digests(db.clone());
            Some(gouvernail_web::mailer::spawn(
                db.clone(),
                smtp,
                config.public_url.clone(),
            ))
        }
        None => {
            tracing::warn!(
                "{} absent : les courriels restent dans la file, aucun n'est envoyé",
                gouvernail_mail::ENV_HOST
            );
            None
        }
    };
    eprintln!("Gouvernail écoute sur http://{addr}/");
    gouvernail_web::serve(listener, AppState::new(db, config)).await?;
    if let Some(worker) = mail_worker {
        // The worker stops on the same signal, once the mail in hand is dealt with.
        if tokio::time::timeout(MAIL_STOP_GRACE, worker).await.is_err() {
            tracing::warn!("envoi des courriels toujours en cours à l'arrêt : repris au prochain démarrage");
        }
    }
    Ok(())
}

/// How long the shutdown waits for the mail being sent (an SMTP exchange is cut at 30 s).
const MAIL_STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(35);

/// The mail of `gouvernail mail test`: text, HTML and a one-event calendar (tomorrow, one hour).
fn test_mail(to: &str) -> MailMessage {
    let now = time::OffsetDateTime::now_utc();
    let start = (now + time::Duration::days(1)).replace_time(time::macros::time!(09:00));
    let event = CalendarEvent {
        uid: format!("essai-{}@gouvernail", identity::new_id()),
        sequence: 0,
        start,
        end: start + time::Duration::hours(1),
        stamp: now,
        summary: "Essai de Gouvernail".to_owned(),
        description: "Événement d'essai envoyé par « gouvernail mail test » ; rien à faire.".to_owned(),
        location: None,
        url: None,
        // iTIP wants an organizer in a PUBLISH: the sender, when this shell knows it.
        organizer: SmtpConfig::from_env().ok().flatten().map(|smtp| smtp.from),
        attendees: Vec::new(),
        cancelled: false,
    };
    MailMessage {
        to: vec![Recipient {
            name: String::new(),
            email: to.to_owned(),
        }],
        subject: "Gouvernail : courriel d'essai".to_owned(),
        text: "Bonjour,\n\nCe courriel d'essai a été envoyé par Gouvernail (gouvernail mail test) : \
               l'envoi des courriels fonctionne. Le fichier joint est un événement d'agenda d'essai.\n"
            .to_owned(),
        html: Some(
            "<p>Bonjour,</p><p>Ce courriel d'essai a été envoyé par Gouvernail \
             (<code>gouvernail mail test</code>) : l'envoi des courriels fonctionne. \
             Le fichier joint est un événement d'agenda d'essai.</p>"
                .to_owned(),
        ),
        attachments: vec![MailAttachment {
            filename: "essai.ics".to_owned(),
            content_type: "text/calendar; method=PUBLISH; charset=UTF-8".to_owned(),
            content: calendar::ics(Some(Method::Publish), "Gouvernail", &[event]),
        }],
    }
}

/// Prints an import summary; the exit status is 0 when nothing was rejected, 2 otherwise.
fn print_report(what: &str, report: &ImportReport) -> ExitCode {
    for rejected in &report.rejected {
        eprintln!("rejeté : {rejected}");
    }
    println!(
        "{what} : {} lues, {} importées ({} créées, {} mises à jour), {} rejetées",
        report.read,
        report.imported,
        report.created,
        report.updated(),
        report.rejected.len()
    );
    if report.rejected.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}
