//! Indicators benchmark (issue 5): 1,000,000 values over 60,000 synthetic schools and five
//! school years (four school-level indicators), imported through the real CSV import; then
//! the national consolidated figure of one indicator for one period, broken down by académie
//! with its completeness (what the national dashboard shows), timed beside the same aggregate
//! written as raw SQL (the ceiling).
//!
//! Run: `cargo bench -p gouvernail-core --bench indicators` (SQLite), with
//! `GOUVERNAIL_TEST_DATABASE=postgres GOUVERNAIL_TEST_POSTGRES_URL=…` for PostgreSQL;
//! optionally `-- 60000 50` (schools, timed requests).

use std::time::{Duration, Instant};

use gouvernail_core::audit::Actor;
use gouvernail_core::db::Sql;
use gouvernail_core::demo::{fictitious_annuaire, seed_communes};
use gouvernail_core::identity::service::{self as identity, NewAssignment};
use gouvernail_core::identity::{Perimeter, Role};
use gouvernail_core::indicator::consolidate::{ConsolidationQuery, consolidate};
use gouvernail_core::indicator::import::{Mapping, import_values, read_csv};
use gouvernail_core::indicator::service as ind;
use gouvernail_core::indicator::{IndicatorInput, Provenance};
use gouvernail_core::territory::import::{AnnuaireOptions, NoProgress, import_annuaire};
use gouvernail_core::testkit::{Seed, TestDb, backend};

type Error = Box<dyn std::error::Error>;

const YEARS: [&str; 5] = ["2021-2022", "2022-2023", "2023-2024", "2024-2025", "2025-2026"];

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

#[derive(sqlx::FromRow)]
struct RawRow {
    #[expect(dead_code, reason = "read to be fair to the ceiling")]
    code: Option<String>,
    #[expect(dead_code, reason = "read to be fair to the ceiling")]
    n: i64,
    #[expect(dead_code, reason = "read to be fair to the ceiling")]
    s_num: Option<i64>,
    #[expect(dead_code, reason = "read to be fair to the ceiling")]
    s_den: Option<i64>,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let schools: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(60_000);
    let requests: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(50);
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let communes = seed_communes(db).await?;
    let csv = fictitious_annuaire(&communes, schools);
    import_annuaire(
        db,
        csv.as_bytes(),
        AnnuaireOptions { fictitious: true },
        &NoProgress,
    )
    .await?;
    let uais: Vec<String> = {
        #[derive(sqlx::FromRow)]
        struct U {
            uai: String,
        }
        db.fetch_all::<U>(Sql::new(
            "SELECT uai FROM etablissement WHERE code_academie IS NOT NULL ORDER BY uai",
        ))
        .await?
        .into_iter()
        .map(|u| u.uai)
        .collect()
    };
    let user = identity::create_user(db, &Actor::cli(), "bench@dne.test", "Bench", None).await?;
    identity::grant_role(
        db,
        None,
        &NewAssignment {
            user_id: user.id.clone(),
            role: Role::AdministrateurNational,
            perimeter: Perimeter::National,
            from: time::macros::date!(2020 - 01 - 01),
            until: None,
        },
    )
    .await?;
    let admin = identity::principal(db, &user.id, false).await?.ok_or("admin")?;
    let codes = ["B-TERM", "B-SOCLE", "B-VIDEO", "B-SALLES"];
    for code in codes {
        ind::create_indicator(
            db,
            &admin,
            &IndicatorInput {
                code: Some(code.into()),
                label: Some(code.into()),
                direction: Some("hausse".into()),
                kind: Some("ratio".into()),
                aggregation: Some("ratio-des-sommes".into()),
                periodicity: Some("annee-scolaire".into()),
                capture_level: Some("etablissement".into()),
                factor: Some(100),
                ..Default::default()
            },
        )
        .await?;
    }
    // 4 indicators × 5 years × 5/6 of the schools ≈ 1,000,000 values.
    let mut total_rows = 0_usize;
    let mut import_time = Duration::ZERO;
    for (k, code) in codes.iter().enumerate() {
        let mut text = String::from("perimetre;periode;numerateur;denominateur\n");
        for (y, year) in YEARS.iter().enumerate() {
            for (i, uai) in uais.iter().enumerate() {
                if (i + y + k) % 6 == 0 {
                    continue;
                }
                let den = 50 + (i * 7 + y) % 900;
                let num = den * (10 + (i + 3 * y + k) % 40) / 100;
                text.push_str(&format!("{uai};{year};{num};{den},0\n"));
                total_rows += 1;
            }
        }
        let table = read_csv(text.as_bytes())?;
        let mapping = Mapping {
            indicator: None,
            fixed_indicator: Some((*code).into()),
            ..Mapping::default()
        };
        let start = Instant::now();
        let report = import_values(db, &admin, &table, &mapping, Provenance::Import).await?;
        import_time += start.elapsed();
        assert!(
            report.rejected.is_empty(),
            "{:?}",
            &report.rejected[..report.rejected.len().min(3)]
        );
    }
    println!(
        "engine {}: {total_rows} values over {} schools imported in {:.1} s ({:.0} values/s)",
        backend()?.name(),
        uais.len(),
        import_time.as_secs_f64(),
        total_rows as f64 / import_time.as_secs_f64()
    );

    let query = ConsolidationQuery {
        indicator: "B-TERM".into(),
        period: "2024-2025".into(),
        perimeter: None,
        child_level: Some("academie".into()),
        validated_only: false,
    };
    let id = ind::load_indicator(db, &admin, "B-TERM").await?.id;
    let raw = || {
        Sql::new(
            // The aggregate over the values themselves (each school value carries its
            // académie), with no completeness and no labels: the ceiling of a live GROUP BY.
            "SELECT v.code_academie AS code, COUNT(*) AS n, CAST(SUM(v.numerator_e4) AS BIGINT) AS s_num, \
             CAST(SUM(v.denominator_e4) AS BIGINT) AS s_den FROM ind_value v WHERE v.indicator_id = ",
        )
        .bind(id.as_str())
        .push(" AND v.period = '2024-2025' AND v.perimeter_kind = 'etablissement' GROUP BY v.code_academie")
    };
    for _ in 0..5 {
        consolidate(db, &admin, &query).await?;
        db.fetch_all::<RawRow>(raw()).await?;
    }
    let mut ours = Vec::with_capacity(requests);
    let mut ceiling = Vec::with_capacity(requests);
    for _ in 0..requests {
        let start = Instant::now();
        let c = consolidate(db, &admin, &query).await?;
        ours.push(start.elapsed());
        assert_eq!(c.children.len(), 30);
        let start = Instant::now();
        let rows = db.fetch_all::<RawRow>(raw()).await?;
        ceiling.push(start.elapsed());
        assert!(rows.len() >= 30);
    }
    ours.sort();
    ceiling.sort();
    println!(
        "national figure by académie (consolidate, with completeness and labels): p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
        percentile(&ours, 0.5),
        percentile(&ours, 0.95),
        percentile(&ours, 0.99)
    );
    println!(
        "raw aggregate (one GROUP BY):                                   p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
        percentile(&ceiling, 0.5),
        percentile(&ceiling, 0.95),
        percentile(&ceiling, 0.99)
    );
    println!(
        "ratio p50 {:.2}×, p95 {:.2}×",
        percentile(&ours, 0.5) / percentile(&ceiling, 0.5),
        percentile(&ours, 0.95) / percentile(&ceiling, 0.95)
    );
    Ok(())
}
