//! Roadmap benchmark (issue 4): an académie roadmap of 50 declined projects and 500 actions,
//! and a national consolidation of 100 projects × 30 académies. Measures the server time of
//! the roadmap page, the national view (page and JSON) and the XLSX export of the actions,
//! through the real router (no socket), on the engine named by `GOUVERNAIL_TEST_DATABASE`
//! (`sqlite`, the default, or `postgres` with `GOUVERNAIL_TEST_POSTGRES_URL`).
//!
//! Run: `cargo bench -p gouvernail-web --bench roadmap` (optionally `-- 300` requests per
//! measure). Prints p50, p95, p99 and max for each.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use gouvernail_core::audit::Actor;
use gouvernail_core::identity::service::{self as identity, NewAssignment};
use gouvernail_core::identity::{Perimeter, Role};
use gouvernail_core::roadmap::model::{ActionMilestone, ActionParent, ActionPatch, BudgetLine, ScopeItem};
use gouvernail_core::roadmap::{actions, service as roadmap};
use gouvernail_core::strategy::model::*;
use gouvernail_core::strategy::service as strategy;
use gouvernail_core::testkit::{Seed, TestDb};
use gouvernail_web::{AppState, WebConfig};
use http_body_util::BodyExt;
use time::macros::date;
use tower::ServiceExt;

type Error = Box<dyn std::error::Error>;

const ACADEMIES: [&str; 30] = [
    "01", "02", "03", "04", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17", "18",
    "19", "20", "22", "23", "24", "25", "27", "28", "31", "32", "33", "43", "70",
];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Error> {
    let requests: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let started = Instant::now();
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let admin_user = identity::create_user(db, &Actor::cli(), "admin@bench.fr", "Admin", None).await?;
    identity::grant_role(
        db,
        None,
        &NewAssignment {
            user_id: admin_user.id.clone(),
            role: Role::AdministrateurNational,
            perimeter: Perimeter::National,
            from: date!(2020 - 01 - 01),
            until: None,
        },
    )
    .await?;
    let admin = identity::principal(db, &admin_user.id, false)
        .await?
        .ok_or("no admin")?;

    // 100 national projects under 4 axes × 5 objectives, published for declension.
    let tree = strategy::create_strategy(
        db,
        &admin,
        &NewStrategy {
            code: "BENCH".into(),
            title: "Stratégie de mesure".into(),
            summary: String::new(),
            period_start: Some(date!(2023 - 01 - 01)),
            period_end: Some(date!(2027 - 12 - 31)),
            axes: (1..=4)
                .map(|a| NewAxis {
                    title: format!("Axe {a}"),
                    description: String::new(),
                    objectives: (1..=5)
                        .map(|o| NewObjective {
                            code: format!("{a}.{o}"),
                            title: format!("Objectif {a}.{o}"),
                            description: String::new(),
                        })
                        .collect(),
                })
                .collect(),
        },
    )
    .await?;
    strategy::publish_strategy(db, &admin, &tree.strategy.id, tree.strategy.version).await?;
    let objectives: Vec<String> = tree
        .axes
        .iter()
        .flat_map(|a| a.objectives.iter().map(|o| o.objective.id.clone()))
        .collect();
    let mut codes = Vec::new();
    for i in 0..100 {
        let p = strategy::create_project(
            db,
            &admin,
            &NewProject {
                objective_id: objectives[i % objectives.len()].clone(),
                code: format!("PN-{i:03}"),
                title: format!("Projet national {i}"),
                pilote_team: "DNE".into(),
                ..Default::default()
            },
        )
        .await?;
        strategy::update_project(
            db,
            &admin,
            &p.project.id,
            p.project.version,
            &ProjectPatch {
                status: Some("publie".into()),
                ..Default::default()
            },
        )
        .await?;
        codes.push(p.project.code);
    }
    // Every académie declines every project (3,000 declensions); Rennes (14) gets 10 actions
    // under each of its first 50 declined projects (500 actions).
    for academie in ACADEMIES {
        for code in &codes {
            roadmap::decline(db, &admin, academie, code).await?;
        }
    }
    for (i, code) in codes.iter().take(50).enumerate() {
        for j in 0..10 {
            actions::create_action(
                db,
                &admin,
                "14",
                &ActionPatch {
                    parent: Some(ActionParent::Declension(code.clone())),
                    title: Some(format!("Action {i}.{j} de la feuille de route")),
                    description: Some("Description de l'action, sur quelques lignes.".into()),
                    pilote_team: Some(Some("DRANE".into())),
                    start_date: Some(Some(date!(2024 - 09 - 02))),
                    end_date: Some(Some(date!(2027 - 06 - 30))),
                    status: Some(["non-commence", "en-cours", "termine", "en-retard"][j % 4].into()),
                    progress: Some((j as i64 * 10) % 100),
                    milestones: Some(vec![
                        ActionMilestone {
                            label: "Lancement".into(),
                            due_date: date!(2024 - 10 - 01),
                            done: true,
                        },
                        ActionMilestone {
                            label: "Bilan".into(),
                            due_date: date!(2026 - 06 - 30),
                            done: false,
                        },
                    ]),
                    budget: Some(vec![BudgetLine {
                        funder_kind: "etat".into(),
                        funder_label: "État".into(),
                        year: 2025,
                        amount_cents: 1_234_567,
                    }]),
                    scope: Some(vec![ScopeItem {
                        kind: "departement".into(),
                        code: "35".into(),
                    }]),
                    ..Default::default()
                },
            )
            .await?;
        }
    }
    let seeded = started.elapsed();
    let session = identity::open_session(db, &admin_user.id).await?;
    let router = gouvernail_web::router(AppState::new(db.clone(), WebConfig::default()));
    let cookie = format!("{}={session}", gouvernail_web::auth::SESSION_COOKIE);

    println!(
        "engine: {} · seeded 100 projects × 30 académies (3,000 declensions) and 500 actions in {:.1} s · {requests} requests per measure",
        db.backend().name(),
        seeded.as_secs_f64()
    );
    let filter = gouvernail_core::roadmap::model::ActionFilter {
        academie: Some("14".into()),
        ..Default::default()
    };
    for (label, which) in [
        ("core: 500 actions loaded", 0),
        ("core: roadmap of 50 declensions", 1),
    ] {
        let mut times = Vec::with_capacity(requests);
        for i in 0..requests + 5 {
            let t0 = Instant::now();
            if which == 0 {
                actions::list_actions(db, &admin, &filter).await?;
            } else {
                roadmap::roadmap(db, &admin, "14", None).await?;
            }
            if i >= 5 {
                times.push(t0.elapsed());
            }
        }
        times.sort();
        report(label, &times);
    }
    for (label, uri) in [
        (
            "roadmap page (50 projects, 500 actions)",
            "/academies/14/feuille-de-route".to_owned(),
        ),
        (
            "national view page (30 académies)",
            "/projets-nationaux/PN-007/declinaisons".to_owned(),
        ),
        (
            "national view JSON",
            "/api/v1/projets-nationaux/PN-007/declinaisons".to_owned(),
        ),
        ("actions list page (500)", "/actions?academie=14".to_owned()),
        (
            "actions XLSX export (500)",
            "/api/v1/actions?academie=14&format=xlsx".to_owned(),
        ),
    ] {
        let mut times = Vec::with_capacity(requests);
        for i in 0..requests + 5 {
            let req = Request::builder()
                .uri(&uri)
                .header("cookie", &cookie)
                .body(Body::empty())?;
            let t0 = Instant::now();
            let response = router.clone().oneshot(req).await?;
            let status = response.status();
            let bytes = response.into_body().collect().await?.to_bytes();
            let elapsed = t0.elapsed();
            if status != StatusCode::OK {
                return Err(format!("{uri}: {status} {}", String::from_utf8_lossy(&bytes)).into());
            }
            if i >= 5 {
                times.push(elapsed);
            }
        }
        times.sort();
        report(label, &times);
    }
    Ok(())
}

fn report(label: &str, times: &[Duration]) {
    println!(
        "{label:<42} p50 {:>7.1} ms · p95 {:>7.1} ms · p99 {:>7.1} ms · max {:>7.1} ms",
        percentile(times, 0.50).as_secs_f64() * 1e3,
        percentile(times, 0.95).as_secs_f64() * 1e3,
        percentile(times, 0.99).as_secs_f64() * 1e3,
        times.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}
