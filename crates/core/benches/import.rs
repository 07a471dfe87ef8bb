//! Import benchmark (issue 2): the whole referential and 60,000 synthetic schools in the
//! annuaire format, imported into SQLite through the real import path; then the same rows
//! bulk-inserted into bare tables (no keys, no indexes, no parsing, no validation) through
//! the same driver, as the ceiling.
//!
//! Run: `cargo bench -p gouvernail-core --bench import` (optionally `-- 60000` schools and
//! `-- 60000 5` rounds). Prints the median of the rounds.

use std::time::{Duration, Instant};

use gouvernail_core::db::{DatabaseUrl, Db, DbOptions, MAX_BIND, Sql, Value};
use gouvernail_core::demo::{fictitious_annuaire, seed_communes};
use gouvernail_core::territory::import::{
    AnnuaireOptions, NoProgress, ReferentialSource, import_annuaire, import_referential,
};
use sqlx::Row;

type Error = Box<dyn std::error::Error>;

const TABLES: &[&str] = &[
    "region",
    "region_academique",
    "academie",
    "departement",
    "commune",
    "commune_rattachee",
    "collectivite",
    "etablissement",
];

struct Round {
    referential: Duration,
    import: Duration,
    import_rows: u64,
    ceiling: Duration,
    ceiling_rows: u64,
}

async fn fresh_db(dir: &std::path::Path, name: &str) -> Result<Db, Error> {
    let url = DatabaseUrl::sqlite_file(&dir.join(name));
    let db = Db::connect(&url, &DbOptions::default()).await?;
    db.migrate().await?;
    Ok(db)
}

async fn round(schools: usize, csv: &str) -> Result<Round, Error> {
    let dir = tempfile::tempdir()?;
    let db = fresh_db(dir.path(), "import.sqlite").await?;

    let start = Instant::now();
    let referential = import_referential(&db, &ReferentialSource::Bundled, &NoProgress).await?;
    let referential_time = start.elapsed();
    let annuaire = import_annuaire(
        &db,
        csv.as_bytes(),
        AnnuaireOptions { fictitious: true },
        &NoProgress,
    )
    .await?;
    let import = start.elapsed();
    assert!(
        annuaire.rejected.is_empty(),
        "{:?}",
        &annuaire.rejected[..3.min(annuaire.rejected.len())]
    );
    assert_eq!(annuaire.imported as usize, schools);

    // Read the rows back as text, table by table, to insert exactly the same ones.
    let Db::Sqlite(pool) = &db else {
        return Err("the benchmark runs on SQLite".into());
    };
    let mut tables = Vec::new();
    for table in TABLES {
        let columns: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT name FROM pragma_table_info('{table}')"
        )))
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<_, _>>()?;
        let select = columns
            .iter()
            .map(|c| format!("CAST({c} AS TEXT)"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {select} FROM {table}")))
            .fetch_all(pool)
            .await?;
        let mut values = Vec::with_capacity(rows.len());
        for row in rows {
            let mut v = Vec::with_capacity(columns.len());
            for i in 0..columns.len() {
                v.push(Value::Text(row.try_get::<Option<String>, _>(i)?));
            }
            values.push(v);
        }
        tables.push((table.to_string(), columns, values));
    }
    let import_rows: u64 = tables.iter().map(|t| t.2.len() as u64).sum();
    let _ = referential;

    let bare = fresh_db(dir.path(), "bare.sqlite").await?;
    for (table, columns, _) in &tables {
        let cols = columns
            .iter()
            .map(|c| format!("{c} TEXT"))
            .collect::<Vec<_>>()
            .join(", ");
        bare.execute(Sql::new(&format!("CREATE TABLE bare_{table} ({cols})")))
            .await?;
    }
    let start = Instant::now();
    let mut tx = bare.begin().await?;
    let mut ceiling_rows = 0;
    for (table, columns, rows) in tables {
        let per = MAX_BIND / columns.len();
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let mut q = Sql::new(&format!(
                "INSERT INTO bare_{table} ({}) VALUES ",
                columns.join(", ")
            ));
            for (i, row) in rows.by_ref().take(per).enumerate() {
                if i > 0 {
                    q.push_mut(", ");
                }
                q = q.bind_tuple(row);
            }
            ceiling_rows += tx.execute(q).await?;
        }
    }
    tx.commit().await?;
    let ceiling = start.elapsed();
    db.close().await;
    bare.close().await;
    Ok(Round {
        referential: referential_time,
        import,
        import_rows,
        ceiling,
        ceiling_rows,
    })
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let schools: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(60_000);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        // The synthetic annuaire is generated once, outside the timings.
        let dir = tempfile::tempdir()?;
        let seed = fresh_db(dir.path(), "seed.sqlite").await?;
        import_referential(&seed, &ReferentialSource::Bundled, &NoProgress).await?;
        let communes = seed_communes(&seed).await?;
        let csv = fictitious_annuaire(&communes, schools);
        println!("synthetic annuaire: {schools} schools, {} bytes", csv.len());
        let start = Instant::now();
        let parsed = gouvernail_core::territory::sources::parse_annuaire(csv.as_bytes())?;
        println!(
            "parsing alone: {:.3} s ({} records)",
            start.elapsed().as_secs_f64(),
            parsed.records.len()
        );

        let mut results = Vec::new();
        for i in 0..rounds {
            let r = round(schools, &csv).await?;
            println!(
                "round {}: import {:.3} s (referential {:.3} s) ({} rows), ceiling {:.3} s ({} rows)",
                i + 1,
                r.import.as_secs_f64(),
                r.referential.as_secs_f64(),
                r.import_rows,
                r.ceiling.as_secs_f64(),
                r.ceiling_rows
            );
            results.push(r);
        }
        results.sort_by_key(|r| r.import);
        let median = &results[results.len() / 2];
        let import_rate = median.import_rows as f64 / median.import.as_secs_f64();
        let mut ceilings: Vec<_> = results
            .iter()
            .map(|r| r.ceiling_rows as f64 / r.ceiling.as_secs_f64())
            .collect();
        ceilings.sort_by(f64::total_cmp);
        let ceiling_rate = ceilings[ceilings.len() / 2];
        println!(
            "median import: {:.3} s, {:.0} rows/s",
            median.import.as_secs_f64(),
            import_rate
        );
        println!(
            "median ceiling: {:.0} rows/s (bare tables, same rows, same driver)",
            ceiling_rate
        );
        println!("import / ceiling: {:.1} %", 100.0 * import_rate / ceiling_rate);
        Ok(())
    })
}
