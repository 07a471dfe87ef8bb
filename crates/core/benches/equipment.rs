//! Gap-analysis benchmark (issue 8): 60,000 schools (the demo's generator) with inventories
//! (7 figures per public school), pupil counts, plans of their collectivités (a line for one
//! school in three), 100 needs (national, académie and département targets); then the gap
//! summary and the first page of a gap list, for one académie and for France. On the engine
//! named by `GOUVERNAIL_TEST_DATABASE` (`sqlite`, the default, or `postgres` with
//! `GOUVERNAIL_TEST_POSTGRES_URL`).
//!
//! Run: `cargo bench -p gouvernail-core --bench equipment` (optionally `-- 60000 5`: schools,
//! rounds). Prints the median and the maximum of each measure.

use std::time::{Duration, Instant};

use gouvernail_core::audit::Actor;
use gouvernail_core::db::{Db, Sql, Value};
use gouvernail_core::equipment::service as equip;
use gouvernail_core::equipment::views::ReadinessLevel;
use gouvernail_core::equipment::*;
use gouvernail_core::identity::service::{self as identity, NewAssignment};
use gouvernail_core::identity::{Perimeter, Role};
use gouvernail_core::territory::import::{self, AnnuaireOptions, NoProgress};
use gouvernail_core::territory::model::PageRequest;
use gouvernail_core::testkit::{Seed, TestDb};
use time::OffsetDateTime;
use time::macros::date;

type Error = Box<dyn std::error::Error>;

#[derive(sqlx::FromRow)]
struct School {
    uai: String,
    famille: String,
    code_academie: Option<String>,
    code_departement: String,
    collectivite_siren: String,
}

const CATEGORIES: [&str; 10] = [
    "poste-fixe",
    "poste-mobile",
    "tablette",
    "ecran-interactif",
    "videoprojecteur",
    "classe-mobile",
    "equipement-individuel",
    "wifi",
    "debit",
    "ent",
];

/// Inserts rows in multi-row statements under the placeholder limit, in one transaction.
async fn bulk(db: &Db, table: &str, columns: &[&str], rows: Vec<Vec<Value>>) -> Result<(), Error> {
    let per = (gouvernail_core::db::MAX_BIND / columns.len()).max(1);
    let mut tx = db.begin().await?;
    for chunk in rows.chunks(per) {
        let mut q = Sql::new(&format!("INSERT INTO {table} ({}) VALUES ", columns.join(", ")));
        for (i, row) in chunk.iter().enumerate() {
            if i > 0 {
                q.push_mut(", ");
            }
            q = q.bind_tuple(row.iter().cloned());
        }
        tx.execute(q).await?;
    }
    tx.commit().await?;
    Ok(())
}

fn median(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (v[v.len() / 2], v[v.len() - 1])
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Error> {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let count = args.first().copied().unwrap_or(60_000);
    let rounds = args.get(1).copied().unwrap_or(5);
    let started = Instant::now();
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let communes = gouvernail_core::demo::seed_communes(db).await?;
    let csv = gouvernail_core::demo::fictitious_annuaire(&communes, count);
    import::import_annuaire(
        db,
        csv.as_bytes(),
        AnnuaireOptions { fictitious: true },
        &NoProgress,
    )
    .await?;
    let schools: Vec<School> = db
        .fetch_all(Sql::new(
            "SELECT uai, famille, code_academie, code_departement, collectivite_siren FROM etablissement \
             WHERE collectivite_siren IS NOT NULL ORDER BY uai",
        ))
        .await?;
    let now = OffsetDateTime::now_utc();
    let as_of = date!(2026 - 09 - 01);
    // Inventories: seven figures per school, one school in five with nothing.
    let mut heads = Vec::new();
    let mut figures = Vec::new();
    let mut pupils = Vec::new();
    for (i, s) in schools.iter().enumerate() {
        let n = i64::try_from(i)?;
        pupils.push(Pupils {
            uai: s.uai.clone(),
            school_year: 2025,
            classes: 4 + n % 20,
            pupils: 100 + (n * 37) % 900,
            pupils_cm: (s.famille == "ecole").then_some(30 + n % 40),
            source: "bench".into(),
        });
        if i % 5 == 0 {
            continue;
        }
        heads.push(vec![
            Value::from(s.uai.as_str()),
            1_i64.into(),
            now.into(),
            now.into(),
        ]);
        for (k, category) in CATEGORIES.iter().enumerate().skip(i % 3).take(7) {
            let k = i64::try_from(k)?;
            let quantity = match *category {
                "wifi" => (n * 7) % 101,
                "debit" => [2, 10, 30, 100, 1000][i % 5],
                "ent" => i64::from(i % 4 != 0),
                _ => (n + k) % 40,
            };
            let old =
                (*category != "wifi" && *category != "debit" && *category != "ent").then_some(quantity / 3);
            figures.push(vec![
                Value::from(format!("d{i}-{k}")),
                s.uai.as_str().into(),
                (*category).into(),
                quantity.into(),
                old.into(),
                as_of.into(),
                "bench".into(),
                "".into(),
                now.into(),
            ]);
        }
    }
    bulk(
        db,
        "equip_school",
        &["uai", "version", "created_at", "updated_at"],
        heads,
    )
    .await?;
    bulk(
        db,
        "equip_declaration",
        &[
            "id",
            "uai",
            "category",
            "quantity",
            "quantity_old",
            "as_of",
            "source",
            "note",
            "created_at",
        ],
        figures,
    )
    .await?;
    let mut tx = db.begin().await?;
    repo::upsert_pupils(&mut tx, &pupils, None, now).await?;
    // The pivot the service writes with each declaration, written once for the bulk load.
    let uais: Vec<String> = schools.iter().map(|s| s.uai.clone()).collect();
    repo::refresh_figures(&mut tx, &uais).await?;
    tx.commit().await?;
    // Plans: one per collectivité with lines, a line for one school in three.
    let mut plans: std::collections::BTreeMap<&str, String> = std::collections::BTreeMap::new();
    let mut lines = Vec::new();
    for (i, s) in schools.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        let next = plans.len();
        let plan = plans
            .entry(s.collectivite_siren.as_str())
            .or_insert_with(|| format!("p{next}"))
            .clone();
        let year = 2026 + i64::try_from(i % 3)?;
        lines.push(vec![
            Value::from(format!("l{i}")),
            plan.into(),
            0_i64.into(),
            year.into(),
            date!(2027 - 06 - 30).into(),
            s.uai.as_str().into(),
            if i % 2 == 0 {
                "acquisition"
            } else {
                "renouvellement"
            }
            .into(),
            CATEGORIES[i % 7].into(),
            5_i64.into(),
            250_000_i64.into(),
            "fonds-propres".into(),
            "".into(),
            0_i64.into(),
            "prevu".into(),
        ]);
    }
    let plan_rows = plans
        .iter()
        .map(|(siren, id)| {
            vec![
                Value::from(id.as_str()),
                (*siren).into(),
                "Plan".into(),
                2026_i64.into(),
                2028_i64.into(),
                "".into(),
                1_i64.into(),
                now.into(),
                now.into(),
            ]
        })
        .collect();
    bulk(
        db,
        "equip_plan",
        &[
            "id",
            "collectivite_siren",
            "title",
            "first_year",
            "last_year",
            "note",
            "version",
            "created_at",
            "updated_at",
        ],
        plan_rows,
    )
    .await?;
    bulk(
        db,
        "equip_plan_line",
        &[
            "id",
            "plan_id",
            "position",
            "year",
            "due_date",
            "uai",
            "action",
            "category",
            "quantity",
            "budget_cents",
            "funding",
            "programme",
            "cofunded_cents",
            "status",
        ],
        lines,
    )
    .await?;
    // 100 needs: 10 national, 60 on académies, 30 on départements.
    let academies: Vec<String> = schools
        .iter()
        .filter_map(|s| s.code_academie.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let departements: Vec<String> = schools
        .iter()
        .map(|s| s.code_departement.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let familles = ["ecole", "college", "lycee"];
    let mut needs = Vec::new();
    for i in 0..100_usize {
        let (kind, code) = match i {
            0..10 => ("national", String::new()),
            10..70 => ("academie", academies[i % academies.len()].clone()),
            _ => ("departement", departements[(i * 7) % departements.len()].clone()),
        };
        let (category, rule, threshold) = match i % 5 {
            0 => ("classe-mobile", "par-etablissement", 1),
            1 => ("terminaux", "eleves-par-unite", 3),
            2 => ("debit", "minimum", 100),
            3 => ("ent", "minimum", 1),
            _ => ("ecran-interactif", "par-classe", 1),
        };
        needs.push(vec![
            Value::from(format!("n{i}")),
            "projet".into(),
            format!("projet-{i}").into(),
            format!("Projet {i}").into(),
            kind.into(),
            code.into(),
            familles[i % 3].into(),
            category.into(),
            rule.into(),
            i64::from(threshold).into(),
            "".into(),
            "".into(),
            1_i64.into(),
            now.into(),
            now.into(),
        ]);
    }
    bulk(
        db,
        "equip_need",
        &[
            "id",
            "subject_kind",
            "subject_id",
            "subject_label",
            "target_kind",
            "target_code",
            "famille",
            "category",
            "rule",
            "threshold",
            "training",
            "note",
            "version",
            "created_at",
            "updated_at",
        ],
        needs,
    )
    .await?;
    let user = identity::create_user(db, &Actor::cli(), "admin@bench.fr", "Admin", None).await?;
    identity::grant_role(
        db,
        None,
        &NewAssignment {
            user_id: user.id.clone(),
            role: Role::AdministrateurNational,
            perimeter: Perimeter::National,
            from: date!(2020 - 01 - 01),
            until: None,
        },
    )
    .await?;
    let admin = identity::principal(db, &user.id, false)
        .await?
        .ok_or("no admin")?;
    db.execute(Sql::new("ANALYZE")).await?;
    eprintln!(
        "{} engine, {} schools with a competent collectivité, seeded in {:.1?}",
        db.backend().name(),
        schools.len(),
        started.elapsed()
    );
    if std::env::var("EQUIP_EXPLAIN").is_ok()
        && let Db::Sqlite(_) = db
    {
        // The database and the statement, to time and explain in the sqlite3 shell.
        let _ = std::fs::remove_file("/tmp/equip_bench.sqlite");
        db.execute(Sql::new("VACUUM INTO '/tmp/equip_bench.sqlite'"))
            .await?;
        let sql =
            gouvernail_core::equipment::gaps::schools_sql(&Scope::National, date!(2028 - 12 - 31), false);
        std::fs::write("/tmp/equip_schools.sql", sql.text())?;
    }
    let academie = Scope::Academie("14".into());
    let horizon = date!(2028 - 12 - 31);
    for (label, scope) in [("académie de Rennes", academie), ("France", Scope::National)] {
        let mut summary = Vec::new();
        let mut list = Vec::new();
        let mut map = Vec::new();
        let mut seen = (0, 0);
        for _ in 0..rounds {
            let t0 = Instant::now();
            let s = equip::gap_summary(db, &admin, &scope, horizon).await?;
            summary.push(t0.elapsed());
            let t1 = Instant::now();
            let page = equip::gap_list(
                db,
                &admin,
                &scope,
                horizon,
                GapKind::CibleSansEquipement,
                PageRequest::default(),
            )
            .await?;
            list.push(t1.elapsed());
            let t2 = Instant::now();
            let by_departement = gouvernail_core::equipment::views::readiness(
                db,
                &admin,
                &scope,
                horizon,
                ReadinessLevel::Departement,
            )
            .await?;
            map.push(t2.elapsed());
            seen = (s.totals.schools, page.total);
            assert!(!by_departement.is_empty());
        }
        let (m, x) = median(summary);
        let (lm, lx) = median(list);
        let (rm, rx) = median(map);
        println!(
            "{label}: {} schools, {} (school, need) gaps — summary median {m:.1?} (max {x:.1?}); \
             first page of the list median {lm:.1?} (max {lx:.1?}); readiness by département median \
             {rm:.1?} (max {rx:.1?})",
            seen.0, seen.1
        );
    }
    Ok(())
}
