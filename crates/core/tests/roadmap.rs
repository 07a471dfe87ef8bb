//! Declension with a live link, on the engine named by `GOUVERNAIL_TEST_DATABASE`.

use gouvernail_core::CoreError;
use gouvernail_core::audit::Actor;
use gouvernail_core::identity::service::{self as identity, NewAssignment};
use gouvernail_core::identity::{Perimeter, Principal, Role};
use gouvernail_core::roadmap::model::{DeclensionPatch, Review};
use gouvernail_core::roadmap::service as roadmap;
use gouvernail_core::strategy::model::*;
use gouvernail_core::strategy::service as strategy;
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

async fn published_project(
    db: &gouvernail_core::db::Db,
    by: &Principal,
) -> Result<NationalProject, CoreError> {
    let tree = strategy::create_strategy(
        db,
        by,
        &NewStrategy {
            code: "2023-2027".into(),
            title: "Stratégie".into(),
            summary: String::new(),
            period_start: Some(date!(2023 - 01 - 01)),
            period_end: None,
            axes: vec![NewAxis {
                title: "Axe 1".into(),
                description: String::new(),
                objectives: vec![NewObjective {
                    code: "3".into(),
                    title: "Équipement".into(),
                    description: String::new(),
                }],
            }],
        },
    )
    .await?;
    strategy::publish_strategy(db, by, &tree.strategy.id, tree.strategy.version).await?;
    let p = strategy::create_project(
        db,
        by,
        &NewProject {
            objective_id: tree.axes[0].objectives[0].objective.id.clone(),
            code: "PN-SNEE".into(),
            title: "Socle numérique dans les écoles".into(),
            pilote_team: "DNE".into(),
            ..Default::default()
        },
    )
    .await?;
    let p = strategy::update_project(
        db,
        by,
        &p.project.id,
        p.project.version,
        &ProjectPatch {
            status: Some("publie".into()),
            ..Default::default()
        },
    )
    .await?;
    Ok(p.project)
}

#[tokio::test]
async fn a_national_change_is_to_review_in_both_academies_one_accepts_one_keeps_its_version() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let pilote = person(&t.db, "pilote@x.fr", Role::PiloteNational, "national").await?;
    let dan14 = person(&t.db, "dan14@x.fr", Role::Dan, "academie:14").await?;
    let dan02 = person(&t.db, "dan02@x.fr", Role::Dan, "academie:02").await?;
    let project = published_project(&t.db, &pilote).await?;

    let rennes = roadmap::decline(&t.db, &dan14, "14", &project.code).await?;
    let aix = roadmap::decline(&t.db, &dan02, "02", &project.id).await?;
    assert!(!rennes.to_review && rennes.title == project.title);
    // A DAN declines for her académie only, and only once.
    assert!(matches!(
        roadmap::decline(&t.db, &dan14, "02", &project.code).await,
        Err(CoreError::NotFound { .. })
    ));
    assert!(matches!(
        roadmap::decline(&t.db, &dan14, "14", &project.code).await,
        Err(CoreError::Conflict(_))
    ));

    // Rennes adapts its pilote: an explicit difference, the national title still live.
    let rennes = roadmap::adapt(
        &t.db,
        &dan14,
        &rennes.declension.id,
        1,
        &DeclensionPatch {
            local_pilote: Some(Some("DANE de Rennes".into())),
            status: Some("en-cours".into()),
            progress: Some(20),
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(rennes.declension.local_pilote.as_deref(), Some("DANE de Rennes"));
    assert!(matches!(
        roadmap::adapt(
            &t.db,
            &dan14,
            &rennes.declension.id,
            1,
            &DeclensionPatch::default()
        )
        .await,
        Err(CoreError::Conflict(_))
    ));
    assert!(matches!(
        roadmap::adapt(&t.db, &dan14, &rennes.declension.id, 2, &DeclensionPatch {
            not_applicable: Some(true),
            ..Default::default()
        })
        .await,
        Err(CoreError::Validation(f)) if f[0].field == "justification"
    ));

    // The national project changes: both académies see it "to review", nothing overwritten.
    strategy::update_project(
        &t.db,
        &pilote,
        &project.id,
        project.version,
        &ProjectPatch {
            title: Some("Socle numérique dans les écoles élémentaires".into()),
            ..Default::default()
        },
    )
    .await?;
    let rennes = roadmap::get_declension(&t.db, &dan14, &rennes.declension.id).await?;
    let aix = roadmap::get_declension(&t.db, &dan02, &aix.declension.id).await?;
    assert!(rennes.to_review && aix.to_review);
    assert_eq!(rennes.declension.local_pilote.as_deref(), Some("DANE de Rennes"));

    let rennes = roadmap::review(
        &t.db,
        &dan14,
        &rennes.declension.id,
        rennes.declension.version,
        &Review::Accept,
    )
    .await?;
    assert!(!rennes.to_review);
    assert_eq!(rennes.title, "Socle numérique dans les écoles élémentaires");
    let keep = Review::Keep("Notre périmètre couvre aussi les écoles maternelles".into());
    let aix = roadmap::review(&t.db, &dan02, &aix.declension.id, aix.declension.version, &keep).await?;
    assert!(!aix.to_review);
    assert_eq!(
        aix.title, "Socle numérique dans les écoles",
        "Aix keeps the version it had"
    );
    assert!(matches!(
        roadmap::review(
            &t.db,
            &dan02,
            &aix.declension.id,
            aix.declension.version,
            &Review::Keep(" ".into())
        )
        .await,
        Err(CoreError::Validation(_))
    ));

    // The national view shows every académie, with both states.
    let states = roadmap::national_view(&t.db, &pilote, &project.code).await?;
    assert_eq!(states.len(), 30);
    let state = |code: &str| {
        states
            .iter()
            .find(|s| s.academie_code == code)
            .map(|s| s.state.clone())
    };
    assert_eq!(state("14").as_deref(), Some("en-cours"));
    assert_eq!(state("02").as_deref(), Some("version-locale"));
    assert_eq!(state("09").as_deref(), Some("non-decline"));
    assert!(
        states
            .iter()
            .any(|s| s.reason.as_deref() == Some("Notre périmètre couvre aussi les écoles maternelles"))
    );
    assert!(matches!(
        roadmap::national_view(&t.db, &dan14, &project.code).await,
        Err(CoreError::Forbidden)
    ));

    // The roadmap of Rennes lists its declension; Aix's is not Rennes's business.
    let view = roadmap::roadmap(&t.db, &dan14, "14", None).await?;
    assert_eq!(view.declensions.len(), 1);
    assert!(matches!(
        roadmap::roadmap(&t.db, &dan14, "02", None).await,
        Err(CoreError::NotFound { .. })
    ));
    let history = identity::history(&t.db, &dan14, "declinaison", &rennes.declension.id).await?;
    let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["accepter-modification", "adapter", "decliner"]);
    Ok(())
}

#[tokio::test]
async fn a_kept_version_shows_the_national_text_it_had_not_the_new_one() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let pilote = person(&t.db, "pilote@x.fr", Role::PiloteNational, "national").await?;
    let dan = person(&t.db, "dan@x.fr", Role::Dan, "academie:14").await?;
    let project = published_project(&t.db, &pilote).await?;
    let d = roadmap::decline(&t.db, &dan, "14", &project.code).await?;
    strategy::update_project(
        &t.db,
        &pilote,
        &project.id,
        project.version,
        &ProjectPatch {
            goals: Some("Nouveaux objectifs nationaux".into()),
            pilote_team: Some("Nouvelle équipe".into()),
            ..Default::default()
        },
    )
    .await?;
    let kept = roadmap::review(
        &t.db,
        &dan,
        &d.declension.id,
        d.declension.version,
        &Review::Keep("raison".into()),
    )
    .await?;
    assert_eq!(kept.national_pilote, "DNE");
    assert_eq!(kept.national_goals, "");
    let accepted_elsewhere = roadmap::get_declension(&t.db, &pilote, &d.declension.id).await?;
    assert_eq!(
        accepted_elsewhere.project.goals, "Nouveaux objectifs nationaux",
        "the live project moved on"
    );
    Ok(())
}

#[tokio::test]
async fn a_roadmap_goes_through_consultation_and_two_validations_and_the_comparison_lists_the_changes() -> R {
    use gouvernail_core::roadmap::lifecycle;
    let t = TestDb::new(Seed::Referential).await?;
    let pilote = person(&t.db, "pilote@x.fr", Role::PiloteNational, "national").await?;
    let dan = person(&t.db, "dan@x.fr", Role::Dan, "academie:14").await?;
    let recteur = person(&t.db, "recteur@x.fr", Role::Recteur, "academie:14").await?;
    let cd35 = person(
        &t.db,
        "cd35@x.fr",
        Role::RepresentantCollectivite,
        "collectivite:223500018",
    )
    .await?;
    let cd22 = person(
        &t.db,
        "cd22@x.fr",
        Role::RepresentantCollectivite,
        "collectivite:222200016",
    )
    .await?;
    let project = published_project(&t.db, &pilote).await?;
    let d = roadmap::decline(&t.db, &dan, "14", &project.code).await?;

    // Consultation: the Département d'Ille-et-Vilaine is invited, the Côtes-d'Armor is not.
    assert!(matches!(
        lifecycle::comment(&t.db, &cd35, "14", None, "Avis", None).await,
        Err(CoreError::NotFound { .. })
    ));
    lifecycle::invite(&t.db, &dan, "14", &Perimeter::parse("collectivite:223500018")?).await?;
    let c = lifecycle::comment(
        &t.db,
        &cd35,
        "14",
        Some(&d.declension.id),
        "Le Département équipe les collèges : à associer au pilotage",
        Some("Pilotage conjoint DANE – Département"),
    )
    .await?;
    assert!(matches!(
        lifecycle::comment(&t.db, &cd22, "14", None, "Et nous ?", None).await,
        Err(CoreError::NotFound { .. })
    ));
    assert!(matches!(
        lifecycle::answer(&t.db, &dan, &c.id, "rejetee", None).await,
        Err(CoreError::Validation(f)) if f[0].field == "reponse"
    ));
    assert!(matches!(
        lifecycle::answer(&t.db, &cd35, &c.id, "acceptee", None).await,
        Err(CoreError::NotFound { .. })
    ));
    lifecycle::answer(
        &t.db,
        &dan,
        &c.id,
        "partielle",
        Some("Associé au comité de suivi"),
    )
    .await?;
    let comments = lifecycle::comments(&t.db, &cd35, "14").await?;
    assert_eq!(comments[0].answer_status, "partielle");

    // Validation by the recteur only.
    let current = roadmap::roadmap(&t.db, &dan, "14", None)
        .await?
        .roadmap
        .ok_or(CoreError::Internal("no roadmap".into()))?;
    assert!(matches!(
        lifecycle::validate(&t.db, &dan, "14", date!(2025 - 06 - 12), current.version).await,
        Err(CoreError::Forbidden)
    ));
    let v1 = lifecycle::validate(&t.db, &recteur, "14", date!(2025 - 06 - 12), current.version).await?;
    assert_eq!(v1.number, 1);
    assert!(matches!(
        lifecycle::validate(&t.db, &recteur, "14", date!(2025 - 06 - 13), current.version).await,
        Err(CoreError::Conflict(_))
    ));

    // Changes, then v2.
    roadmap::adapt(
        &t.db,
        &dan,
        &d.declension.id,
        d.declension.version,
        &DeclensionPatch {
            local_pilote: Some(Some("Pilotage conjoint DANE – Département".into())),
            progress: Some(30),
            ..Default::default()
        },
    )
    .await?;
    let other = strategy::create_project(
        &t.db,
        &pilote,
        &NewProject {
            objective_id: project.objective_id.clone(),
            code: "PN-PIX".into(),
            title: "Pix".into(),
            pilote_team: "DGESCO".into(),
            ..Default::default()
        },
    )
    .await?;
    strategy::update_project(
        &t.db,
        &pilote,
        &other.project.id,
        1,
        &ProjectPatch {
            status: Some("publie".into()),
            ..Default::default()
        },
    )
    .await?;
    roadmap::decline(&t.db, &dan, "14", "PN-PIX").await?;
    let current = roadmap::roadmap(&t.db, &dan, "14", None)
        .await?
        .roadmap
        .ok_or(CoreError::Internal("no roadmap".into()))?;
    let v2 = lifecycle::validate(&t.db, &recteur, "14", date!(2026 - 06 - 11), current.version).await?;
    assert_eq!(v2.number, 2);

    let changes = lifecycle::compare(&t.db, &dan, "14", 1, 2).await?;
    let summary: Vec<(String, String, Option<String>, Option<String>)> = changes
        .into_iter()
        .map(|c| (c.project, c.field, c.before, c.after))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "PN-SNEE".into(),
                "avancement".into(),
                Some("0".into()),
                Some("30".into())
            ),
            (
                "PN-SNEE".into(),
                "pilote".into(),
                Some("DNE".into()),
                Some("Pilotage conjoint DANE – Département".into())
            ),
            (
                "PN-PIX".into(),
                "declinaison".into(),
                None,
                Some("ajoutée".into())
            ),
        ]
    );
    Ok(())
}

mod actions {
    use super::*;
    use gouvernail_core::audit::{self, AuditFilter};
    use gouvernail_core::identity::model::Organisation;
    use gouvernail_core::roadmap::actions;
    use gouvernail_core::roadmap::lifecycle;
    use gouvernail_core::roadmap::model::*;

    async fn organisation(db: &gouvernail_core::db::Db, id: &str, nom: &str) -> Result<(), CoreError> {
        let mut tx = db.begin().await?;
        gouvernail_core::identity::repo::upsert_organisation(
            &mut tx,
            &Organisation {
                id: id.into(),
                nom: nom.into(),
                kind: "canope".into(),
                siren: None,
            },
            time::OffsetDateTime::now_utc(),
        )
        .await?;
        tx.commit().await
    }

    fn milestone(label: &str, due: time::Date, done: bool) -> ActionMilestone {
        ActionMilestone {
            label: label.into(),
            due_date: due,
            done,
        }
    }

    #[tokio::test]
    async fn actions_carry_their_pilote_partners_perimeter_budget_milestones_and_dependencies() -> R {
        let t = TestDb::new(Seed::Referential).await?;
        let pilote = person(&t.db, "pilote@x.fr", Role::PiloteNational, "national").await?;
        let dan = person(&t.db, "dan@x.fr", Role::Dan, "academie:14").await?;
        let cd35 = person(
            &t.db,
            "cd35@x.fr",
            Role::RepresentantCollectivite,
            "collectivite:223500018",
        )
        .await?;
        organisation(&t.db, "canope-35", "Atelier Canopé 35").await?;
        let project = published_project(&t.db, &pilote).await?;
        roadmap::decline(&t.db, &dan, "14", &project.code).await?;

        let objective = actions::create_objective(
            &t.db,
            &dan,
            "14",
            &ObjectivePatch {
                axis_title: Some("Territoires".into()),
                title: Some("Accompagner les collectivités".into()),
                ..Default::default()
            },
        )
        .await?;
        assert_eq!(objective.code, "O1");

        let a1 = actions::create_action(
            &t.db,
            &dan,
            "14",
            &ActionPatch {
                parent: Some(ActionParent::Declension(project.code.clone())),
                title: Some("Équiper les écoles rurales".into()),
                pilote_user: Some(Some("DAN@x.fr".into())),
                start_date: Some(Some(date!(2024 - 09 - 01))),
                end_date: Some(Some(date!(2030 - 06 - 30))),
                milestones: Some(vec![
                    milestone("Appel à projets", date!(2024 - 10 - 15), true),
                    milestone("Premières livraisons", date!(2025 - 03 - 01), false),
                ]),
                budget: Some(vec![
                    BudgetLine {
                        funder_kind: "etat".into(),
                        funder_label: "État (SNEE)".into(),
                        year: 2025,
                        amount_cents: 12_000_010,
                    },
                    BudgetLine {
                        funder_kind: "collectivite".into(),
                        funder_label: "Département d'Ille-et-Vilaine".into(),
                        year: 2025,
                        amount_cents: 7_999_990,
                    },
                ]),
                partners: Some(vec!["canope-35".into()]),
                scope: Some(vec![ScopeItem {
                    kind: "departement".into(),
                    code: "35".into(),
                }]),
                ..Default::default()
            },
        )
        .await?;
        assert_eq!(a1.action.code, "A01");
        assert_eq!(a1.axis, "Axe 1");
        assert_eq!(a1.parent_code, "PN-SNEE");
        assert_eq!(a1.pilote_name.as_deref(), Some("dan@x.fr"));
        assert_eq!(a1.budget_total(), 20_000_000, "exact cents");
        assert_eq!(a1.partners[0].nom, "Atelier Canopé 35");
        assert_eq!(a1.departements, ["35"]);
        assert!(a1.late, "a milestone passed without being done");

        let a2 = actions::create_action(
            &t.db,
            &dan,
            "14",
            &ActionPatch {
                parent: Some(ActionParent::Objective("O1".into())),
                title: Some("Former les référents".into()),
                pilote_team: Some(Some("DRANE".into())),
                depends_on: Some(vec!["a01".into()]),
                ..Default::default()
            },
        )
        .await?;
        assert_eq!(
            (a2.action.code.as_str(), a2.axis.as_str()),
            ("A02", "Territoires")
        );
        assert_eq!(a2.depends_on, ["A01"]);
        assert!(!a2.late);

        // Every bad field is named, and nothing is saved.
        let bad = actions::update_action(
            &t.db,
            &dan,
            &a1.action.id,
            a1.action.version,
            &ActionPatch {
                title: Some(" ".into()),
                progress: Some(140),
                depends_on: Some(vec!["A02".into()]),
                scope: Some(vec![
                    ScopeItem {
                        kind: "departement".into(),
                        code: "75".into(),
                    },
                    ScopeItem {
                        kind: "etablissement".into(),
                        code: "0000000A".into(),
                    },
                ]),
                budget: Some(vec![BudgetLine {
                    funder_kind: "mecene".into(),
                    funder_label: String::new(),
                    year: 2025,
                    amount_cents: 1,
                }]),
                ..Default::default()
            },
        )
        .await;
        let Err(CoreError::Validation(fields)) = bad else {
            panic!("expected a validation error, got {bad:?}");
        };
        let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            names,
            [
                "titre",
                "avancement",
                "budget[0].financeur",
                "perimetre[0]",
                "perimetre[1]",
                "dependances"
            ]
        );
        assert_eq!(
            actions::get_action(&t.db, &dan, &a1.action.id)
                .await?
                .action
                .version,
            1
        );

        // A stale save is refused with the current version.
        let a1 = actions::update_action(
            &t.db,
            &dan,
            &a1.action.id,
            1,
            &ActionPatch {
                status: Some("en-cours".into()),
                progress: Some(40),
                ..Default::default()
            },
        )
        .await?;
        assert!(matches!(
            actions::update_action(&t.db, &dan, &a1.action.id, 1, &ActionPatch::default()).await,
            Err(CoreError::Conflict(m)) if m.contains("version actuelle 2")
        ));

        // A collectivité's agent reads nothing and writes nothing.
        assert!(matches!(
            actions::get_action(&t.db, &cd35, &a1.action.id).await,
            Err(CoreError::NotFound { .. })
        ));
        lifecycle::invite(&t.db, &dan, "14", &Perimeter::parse("collectivite:223500018")?).await?;
        assert_eq!(
            actions::get_action(&t.db, &cd35, &a1.action.id)
                .await?
                .action
                .code,
            "A01"
        );
        assert!(matches!(
            actions::update_action(&t.db, &cd35, &a1.action.id, 2, &ActionPatch::default()).await,
            Err(CoreError::Forbidden)
        ));

        // Filters.
        let list = |f: ActionFilter| {
            let (db, dan) = (&t.db, &dan);
            async move {
                Ok::<_, CoreError>(
                    actions::list_actions(db, dan, &f)
                        .await?
                        .into_iter()
                        .map(|a| a.action.code)
                        .collect::<Vec<_>>(),
                )
            }
        };
        let rennes = || ActionFilter {
            academie: Some("14".into()),
            ..Default::default()
        };
        assert_eq!(list(rennes()).await?, ["A01", "A02"]);
        assert_eq!(
            list(ActionFilter {
                late: true,
                ..rennes()
            })
            .await?,
            ["A01"]
        );
        assert_eq!(
            list(ActionFilter {
                mine: true,
                ..Default::default()
            })
            .await?,
            ["A01"]
        );
        assert_eq!(
            list(ActionFilter {
                departement: Some("35".into()),
                ..rennes()
            })
            .await?,
            ["A01"]
        );
        assert_eq!(
            list(ActionFilter {
                axis: Some("territoires".into()),
                ..rennes()
            })
            .await?,
            ["A02"]
        );
        assert_eq!(
            list(ActionFilter {
                status: Some("en-cours".into()),
                ..rennes()
            })
            .await?,
            ["A01"]
        );
        assert!(matches!(
            actions::list_actions(&t.db, &dan, &ActionFilter::default()).await,
            Err(CoreError::Validation(f)) if f[0].field == "academie"
        ));

        // Deleting A01 frees A02 of its dependency; everything is in the trail.
        let a1 = actions::get_action(&t.db, &dan, &a1.action.id).await?;
        actions::delete_action(&t.db, &dan, &a1.action.id, a1.action.version).await?;
        assert!(
            actions::get_action(&t.db, &dan, &a2.action.id)
                .await?
                .depends_on
                .is_empty()
        );
        let trail = audit::list(
            &t.db,
            &AuditFilter {
                object_kind: Some("action".into()),
                ..Default::default()
            },
            100,
            0,
        )
        .await?
        .0;
        let mut seen: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
        seen.sort();
        assert_eq!(seen, ["creer", "creer", "modifier", "supprimer"]);
        Ok(())
    }

    #[tokio::test]
    async fn a_content_change_sends_a_validated_roadmap_back_to_draft_and_v2_lists_it() -> R {
        let t = TestDb::new(Seed::Referential).await?;
        let pilote = person(&t.db, "pilote@x.fr", Role::PiloteNational, "national").await?;
        let dan = person(&t.db, "dan@x.fr", Role::Dan, "academie:14").await?;
        let recteur = person(&t.db, "recteur@x.fr", Role::Recteur, "academie:14").await?;
        let project = published_project(&t.db, &pilote).await?;
        roadmap::decline(&t.db, &dan, "14", &project.code).await?;
        let a = actions::create_action(
            &t.db,
            &dan,
            "14",
            &ActionPatch {
                parent: Some(ActionParent::Declension(project.code.clone())),
                title: Some("Équiper".into()),
                ..Default::default()
            },
        )
        .await?;
        let dan_ref = &dan;
        let current = |db| async move {
            roadmap::roadmap(db, dan_ref, "14", None)
                .await?
                .roadmap
                .ok_or(CoreError::Internal("no roadmap".into()))
        };
        let r = current(&t.db).await?;
        lifecycle::validate(&t.db, &recteur, "14", date!(2025 - 06 - 12), r.version).await?;
        // Following the work keeps the validation.
        let a = actions::update_action(
            &t.db,
            &dan,
            &a.action.id,
            a.action.version,
            &ActionPatch {
                progress: Some(50),
                ..Default::default()
            },
        )
        .await?;
        let r = current(&t.db).await?;
        assert_eq!(r.status, "validee");
        let r = actions::publish(&t.db, &dan, "14", r.version).await?;
        assert_eq!(r.status, "publiee");
        let bilan = actions::write_bilan(&t.db, &dan, "14", 2025, "Une année d'équipement").await?;
        assert!(bilan.figures.contains("\"non-commence\":1"), "{}", bilan.figures);
        assert!(matches!(
            actions::write_bilan(&t.db, &dan, "14", 2025, "Encore").await,
            Err(CoreError::Conflict(_))
        ));
        // Changing the plan sends it back to draft.
        actions::update_action(
            &t.db,
            &dan,
            &a.action.id,
            a.action.version,
            &ActionPatch {
                title: Some("Équiper les écoles".into()),
                ..Default::default()
            },
        )
        .await?;
        let r = current(&t.db).await?;
        assert_eq!(r.status, "brouillon");
        lifecycle::validate(&t.db, &recteur, "14", date!(2026 - 06 - 11), r.version).await?;
        let changes: Vec<(String, String, Option<String>, Option<String>)> =
            lifecycle::compare(&t.db, &dan, "14", 1, 2)
                .await?
                .into_iter()
                .map(|c| (c.project, c.field, c.before, c.after))
                .collect();
        assert_eq!(
            changes,
            [
                (
                    "action A01".into(),
                    "avancement".into(),
                    Some("0".into()),
                    Some("50".into())
                ),
                (
                    "action A01".into(),
                    "titre".into(),
                    Some("Équiper".into()),
                    Some("Équiper les écoles".into())
                ),
            ]
        );
        Ok(())
    }

    #[tokio::test]
    async fn the_next_period_starts_from_the_last_one() -> R {
        let t = TestDb::new(Seed::Referential).await?;
        let pilote = person(&t.db, "pilote@x.fr", Role::PiloteNational, "national").await?;
        let dan = person(&t.db, "dan@x.fr", Role::Dan, "academie:14").await?;
        let project = published_project(&t.db, &pilote).await?;
        roadmap::decline(&t.db, &dan, "14", &project.code).await?;
        let mk = |title: &str, status: &str, depends: Vec<String>| ActionPatch {
            parent: Some(ActionParent::Declension(project.code.clone())),
            title: Some(title.into()),
            status: Some(status.into()),
            milestones: Some(vec![
                milestone("Fait", date!(2024 - 01 - 10), true),
                milestone("À faire", date!(2029 - 01 - 10), false),
            ]),
            budget: Some(vec![
                BudgetLine {
                    funder_kind: "etat".into(),
                    funder_label: "État".into(),
                    year: 2027,
                    amount_cents: 100,
                },
                BudgetLine {
                    funder_kind: "etat".into(),
                    funder_label: "État".into(),
                    year: 2028,
                    amount_cents: 200,
                },
            ]),
            depends_on: Some(depends),
            ..Default::default()
        };
        actions::create_action(&t.db, &dan, "14", &mk("Terminée", "termine", vec![])).await?;
        actions::create_action(&t.db, &dan, "14", &mk("En cours", "en-cours", vec![])).await?;
        actions::create_action(
            &t.db,
            &dan,
            "14",
            &mk("Suite", "non-commence", vec!["A02".into()]),
        )
        .await?;
        let next = strategy::create_strategy(
            &t.db,
            &pilote,
            &NewStrategy {
                code: "2028-2032".into(),
                title: "Stratégie suivante".into(),
                summary: String::new(),
                period_start: Some(date!(2028 - 01 - 01)),
                period_end: None,
                axes: vec![NewAxis {
                    title: "Axe".into(),
                    description: String::new(),
                    objectives: vec![NewObjective {
                        code: "1".into(),
                        title: "Objectif".into(),
                        description: String::new(),
                    }],
                }],
            },
        )
        .await?;
        assert!(matches!(
            actions::next_period(&t.db, &dan, "14", "2028-2032").await,
            Err(CoreError::Validation(f)) if f[0].field == "strategie"
        ));
        strategy::publish_strategy(&t.db, &pilote, &next.strategy.id, next.strategy.version).await?;
        let r = actions::next_period(&t.db, &dan, "14", "2028-2032").await?;
        assert_eq!(r.status, "brouillon");
        let carried = actions::list_actions(
            &t.db,
            &dan,
            &ActionFilter {
                academie: Some("14".into()),
                ..Default::default()
            },
        )
        .await?;
        let summary: Vec<(&str, &str, usize, i64, Vec<String>)> = carried
            .iter()
            .map(|a| {
                (
                    a.action.code.as_str(),
                    a.action.title.as_str(),
                    a.milestones.len(),
                    a.budget_total(),
                    a.depends_on.clone(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("A02", "En cours", 1, 200, vec![]),
                ("A03", "Suite", 1, 200, vec!["A02".to_owned()])
            ],
            "unfinished actions, their remaining milestones, budget from 2028, dependencies"
        );
        assert!(carried[0].parent_title.starts_with("Suite de PN-SNEE"));
        assert!(matches!(
            actions::next_period(&t.db, &dan, "14", "2028-2032").await,
            Err(CoreError::Validation(_) | CoreError::Conflict(_))
        ));
        Ok(())
    }
}
