//! The `gouvernail` binary: serve, migrate, import, demo.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use gouvernail_core::db::{DatabaseUrl, Db, DbOptions};
use gouvernail_core::territory::import::{self, AnnuaireOptions, ImportReport, ReferentialSource};
use gouvernail_web::{AppState, Theme, WebConfig};

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
    #[arg(
        long,
        env = "GOUVERNAIL_DATABASE_MAX_CONNECTIONS",
        default_value_t = 10
    )]
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
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,sqlx=error,tower_http=info")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
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
    Ok(WebConfig { theme, demo })
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
        Command::Demo { database, serve } => {
            let config = web_config(&serve, true)?;
            let url = match database {
                Some(url) => url,
                None => {
                    let stamp = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or(0);
                    let path = std::env::temp_dir().join(format!(
                        "gouvernail-demo-{stamp}-{}.sqlite",
                        std::process::id()
                    ));
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
    eprintln!("Gouvernail écoute sur http://{addr}/");
    gouvernail_web::serve(listener, AppState::new(db, config)).await?;
    Ok(())
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
