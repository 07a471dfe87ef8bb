//! The storage layer: one [`Db`] for SQLite and PostgreSQL, chosen by the URL scheme.
//!
//! Queries are written once, in the SQL both engines share, with `$1`-style placeholders
//! (SQLite accepts them too), and built with [`Sql`]. What differs between the engines
//! (pragmas, write-transaction start, migrations) is decided here and nowhere else.
//! This module knows nothing of the domains.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, FromRow, Postgres, Sqlite};
use time::{Date, OffsetDateTime};

use crate::error::{CoreError, CoreResult};

/// Migrations for SQLite, embedded in the binary.
pub static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
/// Migrations for PostgreSQL, embedded in the binary, with the same versions.
pub static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// Which database engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The engine's name, for logs and the health page.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// The locking clause that ends a queue's `SELECT … LIMIT 1` when a job is claimed:
    /// `FOR UPDATE SKIP LOCKED` on PostgreSQL, so that concurrent claimers take different
    /// rows instead of waiting for each other; nothing on SQLite, where the claim's
    /// `BEGIN IMMEDIATE` transaction already holds the whole database.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }
}

/// A database URL whose engine is known; `Display` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    backend: Backend,
    url: String,
}

impl DatabaseUrl {
    /// Parses `sqlite://path`, `sqlite:path`, `postgres://…` or `postgresql://…`; refuses
    /// anything else with a message that says what is accepted.
    pub fn parse(url: &str) -> CoreResult<Self> {
        let url = url.trim();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(CoreError::Config(format!(
                "adresse de base de données non reconnue « {} » : utilisez sqlite://CHEMIN ou postgres://UTILISATEUR@HÔTE/BASE",
                redact(url)
            )));
        };
        Ok(Self {
            backend,
            url: url.to_owned(),
        })
    }

    /// An SQLite URL for a file path.
    pub fn sqlite_file(path: &std::path::Path) -> Self {
        Self {
            backend: Backend::Sqlite,
            url: format!("sqlite://{}", path.display()),
        }
    }

    /// The engine this URL names.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL itself (with its password): only for connecting.
    pub fn expose(&self) -> &str {
        &self.url
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.url))
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// Replaces the password of `scheme://user:password@host` by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Connection settings beyond the URL.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Largest number of pooled connections.
    pub max_connections: u32,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self { max_connections: 10 }
    }
}

/// A pool of connections to one database, of either engine. Cheap to clone.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A value bound to a placeholder. Each variant carries its SQL type, so that a NULL is
/// typed correctly on PostgreSQL.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(Option<bool>),
    Int(Option<i64>),
    Float(Option<f64>),
    Text(Option<String>),
    Date(Option<Date>),
    Timestamp(Option<OffsetDateTime>),
}

macro_rules! value_from {
    ($t:ty, $variant:ident, $conv:expr) => {
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::$variant(Some($conv(v)))
            }
        }
        impl From<Option<$t>> for Value {
            fn from(v: Option<$t>) -> Self {
                Value::$variant(v.map($conv))
            }
        }
    };
}

value_from!(bool, Bool, |v| v);
value_from!(i64, Int, |v| v);
value_from!(i32, Int, i64::from);
value_from!(u32, Int, i64::from);
value_from!(f64, Float, |v| v);
value_from!(String, Text, |v| v);
value_from!(&str, Text, |v: &str| v.to_owned());
value_from!(&String, Text, |v: &String| v.clone());
value_from!(Date, Date, |v| v);
value_from!(OffsetDateTime, Timestamp, |v| v);

/// A statement under construction: SQL text plus the values of its `$n` placeholders.
///
/// ```ignore
/// let q = Sql::new("SELECT code, nom FROM commune WHERE code_departement = ")
///     .bind("35")
///     .push(" ORDER BY nom");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Sql {
    text: String,
    args: Vec<Value>,
}

impl Sql {
    /// Starts a statement with trusted SQL text (never user input).
    pub fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            args: Vec::new(),
        }
    }

    /// Appends trusted SQL text (never user input).
    pub fn push(mut self, text: &str) -> Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind(mut self, value: impl Into<Value>) -> Self {
        self.bind_mut(value);
        self
    }

    /// Appends a placeholder bound to `value`, in place.
    pub fn bind_mut(&mut self, value: impl Into<Value>) {
        self.args.push(value.into());
        self.text.push('$');
        self.text.push_str(&self.args.len().to_string());
    }

    /// Puts trusted SQL text before the statement (placeholders keep their numbers).
    pub fn prepend(&mut self, text: &str) {
        self.text.insert_str(0, text);
    }

    /// Appends trusted SQL text in place.
    pub fn push_mut(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// Appends `(v1, v2, …)` with one placeholder per value.
    pub fn bind_tuple<V: Into<Value>>(mut self, values: impl IntoIterator<Item = V>) -> Self {
        self.text.push('(');
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind_mut(v);
        }
        self.text.push(')');
        self
    }

    /// `INSERT INTO table (c1, c2…) VALUES ($1, $2…)`: a whole row, column by column.
    pub fn insert(table: &str, cols: Vec<(&str, Value)>) -> Self {
        let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
        Sql::new(&format!("INSERT INTO {table} ({}) VALUES ", names.join(", ")))
            .bind_tuple(cols.into_iter().map(|(_, v)| v))
    }

    /// `UPDATE table SET c1 = $1…, version = version + 1 WHERE id = $n AND version = $m`:
    /// a row written over the version it was read at (optimistic concurrency; no row
    /// changed means someone else wrote it in between).
    pub fn update_versioned(table: &str, id: &str, version: i64, cols: Vec<(&str, Value)>) -> Self {
        let mut q = Sql::new(&format!("UPDATE {table} SET "));
        for (i, (name, value)) in cols.into_iter().enumerate() {
            if i > 0 {
                q.push_mut(", ");
            }
            q.push_mut(name);
            q.push_mut(" = ");
            q.bind_mut(value);
        }
        q.push(", version = version + 1 WHERE id = ")
            .bind(id)
            .push(" AND version = ")
            .bind(version)
    }

    /// The SQL text, for tests and logs.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// How many values are bound.
    pub fn arg_count(&self) -> usize {
        self.args.len()
    }
}

/// `a.x, a.y…` from a column list `x, y…`, for joins.
pub fn prefixed(columns: &str, alias: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rewrites `$1, $2, …` into SQLite's anonymous `?` placeholders.
///
/// SQLite keeps numbered and named parameters in a linear list, which makes preparing and
/// binding a statement with thousands of them quadratic (measured: 35 s for the communes
/// import); anonymous `?` parameters are bound by position at no cost. [`Sql`] numbers
/// placeholders in the order it appends them, each used once, so the rewrite is exact.
fn sqlite_text(text: String, args: usize) -> String {
    if args == 0 {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            while chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// A row type that both engines can decode (derive `sqlx::FromRow`).
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}

macro_rules! bind_values {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for value in $args {
            query = match value {
                Value::Bool(v) => query.bind(v),
                Value::Int(v) => query.bind(v),
                Value::Float(v) => query.bind(v),
                Value::Text(v) => query.bind(v),
                Value::Date(v) => query.bind(v),
                Value::Timestamp(v) => query.bind(v),
            };
        }
        query
    }};
}

/// Runs the same statement on whichever engine `$target` is: `$sqlite` and `$pg` name the
/// executor in each arm.
macro_rules! on_engine {
    ($target:expr, |$sqlite:ident| $on_sqlite:expr, |$pg:ident| $on_pg:expr) => {
        match $target {
            Target::Sqlite($sqlite) => $on_sqlite,
            Target::Postgres($pg) => $on_pg,
        }
    };
}

enum Target<S, P> {
    Sqlite(S),
    Postgres(P),
}

impl Db {
    /// Opens a pool for `url`. SQLite files are created if missing and opened in WAL mode
    /// with `synchronous=FULL` and foreign keys on.
    pub async fn connect(url: &DatabaseUrl, options: &DbOptions) -> CoreResult<Self> {
        match url.backend() {
            Backend::Sqlite => {
                let connect = SqliteConnectOptions::from_str(url.expose())
                    .map_err(|e| CoreError::Config(format!("adresse SQLite invalide : {e}")))?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    .pragma("temp_store", "memory")
                    .pragma("cache_size", "-65536");
                let pool = SqlitePoolOptions::new()
                    .max_connections(options.max_connections.max(1))
                    .connect_with(connect)
                    .await?;
                Ok(Db::Sqlite(pool))
            }
            Backend::Postgres => {
                // No JIT: the analytical statements (the equipment gap analysis) have large
                // cost estimates, and compiling them took longer (4 s) than running them.
                let connect = sqlx::postgres::PgConnectOptions::from_str(url.expose())
                    .map_err(|e| CoreError::Config(format!("adresse PostgreSQL invalide : {e}")))?
                    .options([("jit", "off")]);
                let pool = PgPoolOptions::new()
                    .max_connections(options.max_connections.max(1))
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(connect)
                    .await?;
                Ok(Db::Postgres(pool))
            }
        }
    }

    /// The engine behind this pool.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the pending migrations of this engine. Safe to run from several processes
    /// at once on PostgreSQL (sqlx takes an advisory lock).
    pub async fn migrate(&self) -> CoreResult<()> {
        match self {
            Db::Sqlite(pool) => SQLITE_MIGRATOR.run(pool).await?,
            Db::Postgres(pool) => POSTGRES_MIGRATOR.run(pool).await?,
        }
        Ok(())
    }

    /// Closes every connection (waits for them to be returned).
    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }

    /// Answers whether the database responds to a trivial query.
    pub async fn ping(&self) -> CoreResult<()> {
        self.fetch_scalar_i64(Sql::new("SELECT CAST(1 AS BIGINT)"))
            .await
            .map(|_| ())
    }

    /// Refreshes the planner's statistics of a table after a bulk write, once committed
    /// (`table` is a name from the code, never from input). PostgreSQL: `ANALYZE table`
    /// (autovacuum would come later; until then the plans lag). SQLite: nothing (its
    /// planner has no statistics unless `ANALYZE` ran, and the plans are checked without).
    pub async fn analyze(&self, table: &'static str) -> CoreResult<()> {
        match self {
            Db::Sqlite(_) => {}
            Db::Postgres(pool) => {
                sqlx::query::<Postgres>(AssertSqlSafe(format!("ANALYZE {table}")))
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }

    fn target(&self) -> Target<&SqlitePool, &PgPool> {
        match self {
            Db::Sqlite(p) => Target::Sqlite(p),
            Db::Postgres(p) => Target::Postgres(p),
        }
    }

    /// Runs a statement that returns rows, and decodes them all.
    pub async fn fetch_all<T: Row>(&self, q: Sql) -> CoreResult<Vec<T>> {
        let Sql { text, args } = q;
        let lite = |text: String| sqlite_text(text, args.len());
        Ok(on_engine!(
            self.target(),
            |p| bind_values!(sqlx::query_as::<Sqlite, T>(AssertSqlSafe(lite(text))), args)
                .fetch_all(p)
                .await?,
            |p| bind_values!(sqlx::query_as::<Postgres, T>(AssertSqlSafe(text)), args)
                .fetch_all(p)
                .await?
        ))
    }

    /// Runs a statement and hands its rows to `each` one at a time, as the engine streams
    /// them: for reads over a whole perimeter (tens of thousands of rows) that fold the rows
    /// into a small answer without holding them in memory. The first error stops the read.
    pub async fn for_each<T: Row>(
        &self,
        q: Sql,
        mut each: impl FnMut(T) -> CoreResult<()> + Send,
    ) -> CoreResult<()> {
        use futures_util::TryStreamExt;
        let Sql { text, args } = q;
        let lite = |text: String| sqlite_text(text, args.len());
        on_engine!(
            self.target(),
            |p| {
                let mut rows =
                    bind_values!(sqlx::query_as::<Sqlite, T>(AssertSqlSafe(lite(text))), args).fetch(p);
                while let Some(row) = rows.try_next().await? {
                    each(row)?;
                }
            },
            |p| {
                let mut rows =
                    bind_values!(sqlx::query_as::<Postgres, T>(AssertSqlSafe(text)), args).fetch(p);
                while let Some(row) = rows.try_next().await? {
                    each(row)?;
                }
            }
        );
        Ok(())
    }

    /// Runs a statement that returns at most one row.
    pub async fn fetch_optional<T: Row>(&self, q: Sql) -> CoreResult<Option<T>> {
        let Sql { text, args } = q;
        let lite = |text: String| sqlite_text(text, args.len());
        Ok(on_engine!(
            self.target(),
            |p| bind_values!(sqlx::query_as::<Sqlite, T>(AssertSqlSafe(lite(text))), args)
                .fetch_optional(p)
                .await?,
            |p| bind_values!(sqlx::query_as::<Postgres, T>(AssertSqlSafe(text)), args)
                .fetch_optional(p)
                .await?
        ))
    }

    /// Runs a statement whose first column of its one row is an integer (a count…).
    pub async fn fetch_scalar_i64(&self, q: Sql) -> CoreResult<i64> {
        let Sql { text, args } = q;
        let lite = |text: String| sqlite_text(text, args.len());
        Ok(on_engine!(
            self.target(),
            |p| bind_values!(sqlx::query_scalar::<Sqlite, i64>(AssertSqlSafe(lite(text))), args)
                .fetch_one(p)
                .await?,
            |p| bind_values!(sqlx::query_scalar::<Postgres, i64>(AssertSqlSafe(text)), args)
                .fetch_one(p)
                .await?
        ))
    }

    /// Runs a statement and returns how many rows it changed.
    pub async fn execute(&self, q: Sql) -> CoreResult<u64> {
        let Sql { text, args } = q;
        let lite = |text: String| sqlite_text(text, args.len());
        Ok(on_engine!(
            self.target(),
            |p| bind_values!(sqlx::query::<Sqlite>(AssertSqlSafe(lite(text))), args)
                .execute(p)
                .await?
                .rows_affected(),
            |p| bind_values!(sqlx::query::<Postgres>(AssertSqlSafe(text)), args)
                .execute(p)
                .await?
                .rows_affected()
        ))
    }

    /// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`, which takes the write
    /// lock at once, so two writers queue instead of deadlocking on a lock upgrade.
    pub async fn begin(&self) -> CoreResult<Tx> {
        match self {
            Db::Sqlite(pool) => Ok(Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?)),
            Db::Postgres(pool) => Ok(Tx::Postgres(pool.begin().await?)),
        }
    }
}

/// An open write transaction; dropped without [`Tx::commit`], it rolls back.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    fn target(&mut self) -> Target<&mut sqlx::SqliteConnection, &mut sqlx::PgConnection> {
        match self {
            Tx::Sqlite(t) => Target::Sqlite(&mut **t),
            Tx::Postgres(t) => Target::Postgres(&mut **t),
        }
    }

    /// The engine of this transaction.
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs a statement that returns rows, inside the transaction.
    pub async fn fetch_all<T: Row>(&mut self, q: Sql) -> CoreResult<Vec<T>> {
        let Sql { text, args } = q;
        let lite = |text: String| sqlite_text(text, args.len());
        Ok(on_engine!(
            self.target(),
            |c| bind_values!(sqlx::query_as::<Sqlite, T>(AssertSqlSafe(lite(text))), args)
                .fetch_all(c)
                .await?,
            |c| bind_values!(sqlx::query_as::<Postgres, T>(AssertSqlSafe(text)), args)
                .fetch_all(c)
                .await?
        ))
    }

    /// Runs a statement that returns at most one row, inside the transaction.
    pub async fn fetch_optional<T: Row>(&mut self, q: Sql) -> CoreResult<Option<T>> {
        let Sql { text, args } = q;
        let lite = |text: String| sqlite_text(text, args.len());
        Ok(on_engine!(
            self.target(),
            |c| bind_values!(sqlx::query_as::<Sqlite, T>(AssertSqlSafe(lite(text))), args)
                .fetch_optional(c)
                .await?,
            |c| bind_values!(sqlx::query_as::<Postgres, T>(AssertSqlSafe(text)), args)
                .fetch_optional(c)
                .await?
        ))
    }

    /// Runs a statement whose first column of its one row is an integer.
    pub async fn fetch_scalar_i64(&mut self, q: Sql) -> CoreResult<i64> {
        let Sql { text, args } = q;
        let lite = |text: String| sqlite_text(text, args.len());
        Ok(on_engine!(
            self.target(),
            |c| bind_values!(sqlx::query_scalar::<Sqlite, i64>(AssertSqlSafe(lite(text))), args)
                .fetch_one(c)
                .await?,
            |c| bind_values!(sqlx::query_scalar::<Postgres, i64>(AssertSqlSafe(text)), args)
                .fetch_one(c)
                .await?
        ))
    }

    /// Runs a statement inside the transaction and returns how many rows it changed.
    pub async fn execute(&mut self, q: Sql) -> CoreResult<u64> {
        let Sql { text, args } = q;
        let lite = |text: String| sqlite_text(text, args.len());
        Ok(on_engine!(
            self.target(),
            |c| bind_values!(sqlx::query::<Sqlite>(AssertSqlSafe(lite(text))), args)
                .execute(c)
                .await?
                .rows_affected(),
            |c| bind_values!(sqlx::query::<Postgres>(AssertSqlSafe(text)), args)
                .execute(c)
                .await?
                .rows_affected()
        ))
    }

    /// Makes the transaction's changes durable.
    pub async fn commit(self) -> CoreResult<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// The largest number of placeholders one statement may carry on both engines (SQLite's
/// default limit is 32,766; PostgreSQL's 65,535).
pub const MAX_BIND: usize = 30_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_scheme_picks_the_engine_and_refuses_others() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://x.db").map(|u| u.backend()).ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://u:secret@h/db")
                .map(|u| u.backend())
                .ok(),
            Some(Backend::Postgres)
        );
        let err = DatabaseUrl::parse("mysql://u:pw@h/db")
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|m| m.contains("sqlite://") && !m.contains("pw")));
    }

    #[test]
    fn display_hides_the_password() {
        let url = DatabaseUrl::parse("postgres://u:secret@h:5432/db").ok();
        assert_eq!(
            url.map(|u| u.to_string()).as_deref(),
            Some("postgres://u:***@h:5432/db")
        );
    }

    #[test]
    fn sqlite_gets_anonymous_placeholders() {
        assert_eq!(
            sqlite_text("a = $1 AND b IN ($2, $10)".into(), 3),
            "a = ? AND b IN (?, ?)"
        );
        assert_eq!(sqlite_text("SELECT '$' || x".into(), 0), "SELECT '$' || x");
    }

    #[test]
    fn placeholders_are_numbered_in_order() {
        let q = Sql::new("SELECT * FROM t WHERE a = ")
            .bind("x")
            .push(" AND b IN ")
            .bind_tuple([1_i64, 2, 3]);
        assert_eq!(q.text(), "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3, $4)");
        assert_eq!(q.arg_count(), 4);
    }

    #[test]
    fn both_migration_folders_hold_the_same_versions() {
        let versions = |m: &sqlx::migrate::Migrator| {
            m.iter()
                .map(|m| (m.version, m.description.to_string()))
                .collect::<Vec<_>>()
        };
        assert!(SQLITE_MIGRATOR.iter().next().is_some());
        assert_eq!(versions(&SQLITE_MIGRATOR), versions(&POSTGRES_MIGRATOR));
    }
}
