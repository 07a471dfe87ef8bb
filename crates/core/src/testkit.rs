//! Test databases for both engines (behind the `testkit` feature).
//!
//! `GOUVERNAIL_TEST_DATABASE` chooses the engine: `sqlite` (default) or `postgres`, in
//! which case `GOUVERNAIL_TEST_POSTGRES_URL` must name a server where the tests may
//! create databases (the test command starts one). Every test gets its own fresh
//! database, copied from a template that holds the migrated schema and the bundled
//! referential, built once per run under a file lock.

use std::path::PathBuf;

use crate::db::{Backend, DatabaseUrl, Db, DbOptions, Sql};
use crate::error::{CoreError, CoreResult};
use crate::territory::import::{NoProgress, ReferentialSource, import_referential};

/// The engine the tests run on, from `GOUVERNAIL_TEST_DATABASE`.
pub fn backend() -> CoreResult<Backend> {
    match std::env::var("GOUVERNAIL_TEST_DATABASE").as_deref() {
        Err(_) | Ok("") | Ok("sqlite") => Ok(Backend::Sqlite),
        Ok("postgres") => Ok(Backend::Postgres),
        Ok(other) => Err(CoreError::Config(format!(
            "GOUVERNAIL_TEST_DATABASE={other} : sqlite ou postgres"
        ))),
    }
}

/// What a test database starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed {
    /// The schema only.
    Empty,
    /// The schema and the bundled referential (no schools).
    Referential,
}

/// A database for one test; SQLite files live in a temporary folder removed on drop.
pub struct TestDb {
    pub db: Db,
    pub url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
}

fn template_key(seed: Seed) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for m in crate::db::SQLITE_MIGRATOR
        .iter()
        .chain(crate::db::POSTGRES_MIGRATOR.iter())
    {
        m.version.hash(&mut h);
        m.checksum.hash(&mut h);
    }
    crate::territory::import::bundled::COMMUNES.len().hash(&mut h);
    crate::territory::import::bundled::COLLECTIVITES.hash(&mut h);
    crate::territory::import::bundled::ACADEMIES.hash(&mut h);
    // The code that fills the template changes with the build: key on the test binary too.
    if let Ok(modified) = std::env::current_exe()
        .and_then(|p| p.metadata())
        .and_then(|m| m.modified())
    {
        modified.hash(&mut h);
    }
    format!(
        "{}_{:016x}",
        if seed == Seed::Empty { "empty" } else { "ref" },
        h.finish()
    )
}

fn lock_dir() -> PathBuf {
    std::env::temp_dir().join("gouvernail-test-templates")
}

fn io(e: std::io::Error) -> CoreError {
    CoreError::Internal(format!("test database: {e}"))
}

async fn fill(db: &Db, seed: Seed) -> CoreResult<()> {
    db.migrate().await?;
    if seed == Seed::Referential {
        import_referential(db, &ReferentialSource::Bundled, &NoProgress).await?;
    }
    Ok(())
}

impl TestDb {
    /// A fresh database on the engine of this run.
    pub async fn new(seed: Seed) -> CoreResult<Self> {
        match backend()? {
            Backend::Sqlite => Self::sqlite(seed).await,
            Backend::Postgres => Self::postgres(seed).await,
        }
    }

    async fn sqlite(seed: Seed) -> CoreResult<Self> {
        let templates = lock_dir();
        std::fs::create_dir_all(&templates).map_err(io)?;
        let template = templates.join(format!("{}.sqlite", template_key(seed)));
        {
            let lock =
                std::fs::File::create(templates.join(format!("{}.lock", template_key(seed)))).map_err(io)?;
            lock.lock().map_err(io)?;
            if !template.exists() {
                let building = templates.join(format!("{}.building.sqlite", template_key(seed)));
                let _ = std::fs::remove_file(&building);
                let url = DatabaseUrl::sqlite_file(&building);
                let db = Db::connect(&url, &DbOptions::default()).await?;
                fill(&db, seed).await?;
                db.execute(Sql::new("PRAGMA wal_checkpoint(TRUNCATE)")).await?;
                db.close().await;
                std::fs::rename(&building, &template).map_err(io)?;
            }
        }
        let dir = tempfile::tempdir().map_err(io)?;
        let path = dir.path().join("test.sqlite");
        std::fs::copy(&template, &path).map_err(io)?;
        let url = DatabaseUrl::sqlite_file(&path);
        let db = Db::connect(&url, &DbOptions { max_connections: 4 }).await?;
        Ok(Self {
            db,
            url,
            _dir: Some(dir),
        })
    }

    async fn postgres(seed: Seed) -> CoreResult<Self> {
        let admin_url = std::env::var("GOUVERNAIL_TEST_POSTGRES_URL").map_err(|_| {
            CoreError::Config("GOUVERNAIL_TEST_DATABASE=postgres demande GOUVERNAIL_TEST_POSTGRES_URL".into())
        })?;
        let admin_url = DatabaseUrl::parse(&admin_url)?;
        let admin = Db::connect(&admin_url, &DbOptions { max_connections: 1 }).await?;
        let template = format!("tpl_{}", template_key(seed));
        let templates = lock_dir();
        std::fs::create_dir_all(&templates).map_err(io)?;
        {
            let lock = std::fs::File::create(templates.join(format!("pg_{template}.lock"))).map_err(io)?;
            lock.lock().map_err(io)?;
            let exists = admin
                .fetch_scalar_i64(
                    Sql::new("SELECT COUNT(*) FROM pg_database WHERE datname = ").bind(template.as_str()),
                )
                .await?;
            if exists == 0 {
                let building = format!("{template}_building");
                admin
                    .execute(Sql::new(&format!("DROP DATABASE IF EXISTS {building}")))
                    .await?;
                admin
                    .execute(Sql::new(&format!("CREATE DATABASE {building}")))
                    .await?;
                let db = Db::connect(
                    &with_database(&admin_url, &building)?,
                    &DbOptions { max_connections: 2 },
                )
                .await?;
                fill(&db, seed).await?;
                db.close().await;
                admin
                    .execute(Sql::new(&format!(
                        "ALTER DATABASE {building} RENAME TO {template}"
                    )))
                    .await?;
            }
            let name = format!("test_{}", unique_suffix());
            admin
                .execute(Sql::new(&format!("CREATE DATABASE {name} TEMPLATE {template}")))
                .await?;
            admin.close().await;
            let url = with_database(&admin_url, &name)?;
            let db = Db::connect(&url, &DbOptions { max_connections: 4 }).await?;
            Ok(Self { db, url, _dir: None })
        }
    }
}

/// Replaces the database name at the end of a PostgreSQL URL.
fn with_database(url: &DatabaseUrl, name: &str) -> CoreResult<DatabaseUrl> {
    let raw = url.expose();
    let (base, query) = match raw.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (raw, None),
    };
    let Some((head, _)) = base.rsplit_once('/') else {
        return Err(CoreError::Config(format!("adresse PostgreSQL sans base : {url}")));
    };
    let new = match query {
        Some(q) => format!("{head}/{name}?{q}"),
        None => format!("{head}/{name}"),
    };
    DatabaseUrl::parse(&new)
}

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}_{}", std::process::id(), nanos % 1_000_000_000_000)
}

/// The shared data folder (`../shared/data` beside the repository), for tests that read
/// the ministry's extracts. `GOUVERNAIL_SHARED_DATA` overrides it.
pub fn shared_data_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("GOUVERNAIL_SHARED_DATA") {
        return Some(PathBuf::from(dir));
    }
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidate = here.join("../../../shared/data");
    candidate.exists().then_some(candidate)
}
