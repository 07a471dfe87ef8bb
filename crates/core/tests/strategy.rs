//! The national strategy, on the engine named by `GOUVERNAIL_TEST_DATABASE`.

use gouvernail_core::CoreError;
use gouvernail_core::audit::Actor;
use gouvernail_core::identity::service::{self as identity, NewAssignment};
use gouvernail_core::identity::{Perimeter, Principal, Role};
use gouvernail_core::strategy::model::*;
use gouvernail_core::strategy::service;
use gouvernail_core::testkit::{Seed, TestDb};
use time::macros::date;

type R = Result<(), CoreError>;

async fn person(
    db: &gouvernail_core::db::Db,
    email: &str,
    role: Role,
    perimeter: &str,
) -> Result<Principal, CoreError> {
    let user = identity::create_user(db, &Actor::cli(), email, email, None).await?;
    identity::grant_role(
        db,
        None,
        &NewAssignment {
            user_id: user.id.clone(),
            role,
            perimeter: Perimeter::parse(perimeter)?,
            from: date!(2020 - 01 - 01),
            until: None,
        },
    )
    .await?;
    identity::principal(db, &user.id, false)
        .await?
        .ok_or(CoreError::Unauthenticated)
}

fn strategy(code: &str) -> NewStrategy {
    NewStrategy {
        code: code.into(),
        title: "Stratégie du numérique pour l'éducation 2023-2027".into(),
        summary: "Quatre axes".into(),
        period_start: Some(date!(2023 - 01 - 01)),
        period_end: Some(date!(2027 - 12 - 31)),
        axes: vec![
            NewAxis {
                title: "Un écosystème engagé".into(),
                description: String::new(),
                objectives: vec![
                    NewObjective {
                        code: "1".into(),
                        title: "Gouvernance".into(),
                        description: String::new(),
                    },
                    NewObjective {
                        code: "2".into(),
                        title: "Indicateurs".into(),
                        description: String::new(),
                    },
                ],
            },
            NewAxis {
                title: "Compétences".into(),
                description: String::new(),
                objectives: vec![],
            },
        ],
    }
}

#[tokio::test]
async fn a_draft_is_national_a_published_strategy_is_public() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let pilote = person(&t.db, "pilote@x.fr", Role::PiloteNational, "national").await?;
    let dan = person(&t.db, "dan@x.fr", Role::Dan, "academie:14").await?;
    let tree = service::create_strategy(&t.db, &pilote, &strategy("2023-2027")).await?;
    assert_eq!(tree.axes.len(), 2);
    assert_eq!(
        tree.axes[0]
            .objectives
            .iter()
            .map(|o| o.objective.code.as_str())
            .collect::<Vec<_>>(),
        ["1", "2"]
    );
    assert!(matches!(
        service::get_strategy(&t.db, None, "2023-2027").await,
        Err(CoreError::NotFound { .. })
    ));
    assert!(matches!(
        service::get_strategy(&t.db, Some(&dan), "2023-2027").await,
        Err(CoreError::NotFound { .. })
    ));
    assert!(matches!(
        service::create_strategy(&t.db, &dan, &strategy("autre")).await,
        Err(CoreError::Forbidden)
    ));
    assert!(matches!(
        service::create_strategy(&t.db, &pilote, &strategy("2023-2027")).await,
        Err(CoreError::Conflict(_))
    ));
    let published =
        service::publish_strategy(&t.db, &pilote, &tree.strategy.id, tree.strategy.version).await?;
    assert_eq!(published.status, "publiee");
    assert_eq!(
        service::get_strategy(&t.db, None, "2023-2027").await?.strategy.id,
        tree.strategy.id
    );
    // Publishing again from the old version is a conflict, not a silent overwrite.
    assert!(matches!(
        service::publish_strategy(&t.db, &pilote, &tree.strategy.id, tree.strategy.version).await,
        Err(CoreError::Conflict(_))
    ));
    Ok(())
}

#[tokio::test]
async fn national_projects_are_validated_versioned_and_audited() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let admin = person(&t.db, "admin@x.fr", Role::AdministrateurNational, "national").await?;
    let tree = service::create_strategy(&t.db, &admin, &strategy("S")).await?;
    let objective = tree.axes[0].objectives[0].objective.id.clone();
    let new = NewProject {
        objective_id: objective.clone(),
        code: "PN-SNEE".into(),
        title: "Socle numérique dans les écoles".into(),
        pilote_team: "DNE — TN1".into(),
        budget_cents: Some(11_500_000_000),
        indicator_codes: vec!["ecoles-socle-numerique".into()],
        milestones: vec![
            ("Cadrage".into(), date!(2024 - 06 - 30)),
            ("Bilan".into(), date!(2027 - 06 - 30)),
        ],
        ..Default::default()
    };
    let bad = service::create_project(
        &t.db,
        &admin,
        &NewProject {
            budget_cents: Some(-1),
            ..new.clone()
        },
    )
    .await;
    assert!(matches!(bad, Err(CoreError::Validation(f)) if f[0].field == "budget"));
    let bad = service::create_project(
        &t.db,
        &admin,
        &NewProject {
            objective_id: "x".into(),
            ..new.clone()
        },
    )
    .await;
    assert!(matches!(bad, Err(CoreError::Validation(f)) if f[0].field == "objectif"));
    let created = service::create_project(&t.db, &admin, &new).await?;
    assert_eq!(created.milestones.len(), 2);
    assert_eq!(created.project.budget_cents, Some(11_500_000_000), "exact cents");

    let patch = ProjectPatch {
        status: Some("publie".into()),
        ..Default::default()
    };
    let v2 = service::update_project(&t.db, &admin, &created.project.id, 1, &patch).await?;
    assert_eq!(v2.project.version, 2);
    let stale = service::update_project(
        &t.db,
        &admin,
        &created.project.id,
        1,
        &ProjectPatch {
            title: Some("Titre concurrent".into()),
            ..Default::default()
        },
    )
    .await;
    assert!(matches!(stale, Err(CoreError::Conflict(m)) if m.contains("version actuelle 2")));
    let bad = service::update_project(
        &t.db,
        &admin,
        "PN-SNEE",
        2,
        &ProjectPatch {
            status: Some("fini".into()),
            ..Default::default()
        },
    )
    .await;
    assert!(matches!(bad, Err(CoreError::Validation(f)) if f[0].field == "statut"));

    let history = identity::history(&t.db, &admin, "projet-national", &created.project.id).await?;
    let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["modifier", "creer"]);
    assert!(
        history[0]
            .after_json
            .as_deref()
            .is_some_and(|a| a.contains("\"statut\":\"publie\""))
    );
    assert!(gouvernail_core::audit::verify(&t.db).await?.problems.is_empty());
    Ok(())
}
