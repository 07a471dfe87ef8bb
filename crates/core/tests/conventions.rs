//! Conventions and reciprocal commitments, on the engine named by `GOUVERNAIL_TEST_DATABASE`.

use gouvernail_core::CoreError;
use gouvernail_core::audit::Actor;
use gouvernail_core::convention::service as conv;
use gouvernail_core::convention::*;
use gouvernail_core::db::{Db, Sql};
use gouvernail_core::demo;
use gouvernail_core::identity::model::Organisation;
use gouvernail_core::identity::service::{self as identity, NewAssignment};
use gouvernail_core::identity::{Perimeter, Principal, Role};
use gouvernail_core::territory::import::{self, AnnuaireOptions, NoProgress};
use gouvernail_core::testkit::{Seed, TestDb};
use time::Date;
use time::macros::date;

type R = Result<(), CoreError>;

const CD35: &str = "collectivite:223500018";
const CD13: &str = "collectivite:221300015";
const RENNES: &str = "academie:14";
const AIX: &str = "academie:02";
/// The day the tests look at the conventions.
const TODAY: Date = date!(2026 - 03 - 15);

async fn person(db: &Db, email: &str, role: Option<(Role, &str)>) -> Result<Principal, CoreError> {
    let user = identity::create_user(db, &Actor::cli(), email, email, None).await?;
    if let Some((role, perimeter)) = role {
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
    }
    identity::principal(db, &user.id, false)
        .await?
        .ok_or(CoreError::Unauthenticated)
}

/// A few made-up schools of Ille-et-Vilaine, loaded through the real import; the UAI of the
/// first collège.
async fn college_35(db: &Db) -> Result<String, CoreError> {
    let communes: Vec<_> = demo::seed_communes(db)
        .await?
        .into_iter()
        .filter(|c| c.code_departement == "35")
        .collect();
    let csv = demo::fictitious_annuaire(&communes, 3);
    import::import_annuaire(
        db,
        csv.as_bytes(),
        AnnuaireOptions { fictitious: true },
        &NoProgress,
    )
    .await?;
    #[derive(sqlx::FromRow)]
    struct Row {
        uai: String,
    }
    let rows: Vec<Row> = db
        .fetch_all(Sql::new(
            "SELECT uai FROM etablissement WHERE famille = 'college' AND code_departement = '35' ORDER BY uai",
        ))
        .await?;
    rows.into_iter()
        .next()
        .map(|r| r.uai)
        .ok_or_else(|| CoreError::Internal("no collège".into()))
}

async fn company(db: &Db) -> R {
    let mut tx = db.begin().await?;
    gouvernail_core::identity::repo::upsert_organisation(
        &mut tx,
        &Organisation {
            id: "editeur-ent".into(),
            nom: "Éditeur ENT SAS".into(),
            kind: "entreprise".into(),
            siren: Some("552100554".into()),
        },
        time::OffsetDateTime::now_utc(),
    )
    .await?;
    tx.commit().await
}

fn party(reference: &str, signed: Option<Date>) -> PartyInput {
    PartyInput {
        reference: reference.into(),
        representative: format!("Représentant de {reference}"),
        capacity: "Signataire habilité".into(),
        signature_date: signed,
        ..Default::default()
    }
}

fn commitment(party: &str, category: &str, description: &str, due: Option<Date>) -> CommitmentInput {
    CommitmentInput {
        party: party.into(),
        category: category.into(),
        description: description.into(),
        due_date: due,
        ..Default::default()
    }
}

fn line(year: i64, party: &str, nature: &str, amount: &str) -> AnnexLineInput {
    AnnexLineInput {
        year,
        party: party.into(),
        nature: nature.into(),
        amount: amount.into(),
        label: String::new(),
    }
}

fn fields(result: Result<impl std::fmt::Debug, CoreError>) -> Vec<String> {
    match result {
        Err(CoreError::Validation(fields)) => fields.into_iter().map(|f| f.field).collect(),
        // Shows in the failed comparison of the caller.
        other => vec![format!("expected a validation error, got {other:?}")],
    }
}

fn code_of(view: &ConventionView, number: i64) -> Result<Commitment, CoreError> {
    view.commitments
        .iter()
        .find(|c| c.commitment.number == number)
        .map(|c| c.commitment.clone())
        .ok_or_else(|| CoreError::Internal(format!("E{number} absent")))
}

struct World {
    dan: Principal,
    dan_aix: Principal,
    cd35: Principal,
    admin: Principal,
    cadre: ConventionView,
    ent: ConventionView,
    financement: ConventionView,
    aix: ConventionView,
}

/// Rennes: a convention-cadre with the Département d'Ille-et-Vilaine, a tripartite ENT
/// convention beneath it with a collège, a financing convention; Aix-Marseille: one
/// convention with the Département des Bouches-du-Rhône.
async fn world(db: &Db) -> Result<World, CoreError> {
    let dan = person(db, "dan@ac-rennes.fr", Some((Role::Dan, RENNES))).await?;
    let dan_aix = person(db, "dan@ac-aix-marseille.fr", Some((Role::Dan, AIX))).await?;
    let cd35 = person(
        db,
        "numerique@ille-et-vilaine.fr",
        Some((Role::RepresentantCollectivite, CD35)),
    )
    .await?;
    let admin = person(
        db,
        "admin@education.gouv.fr",
        Some((Role::AdministrateurNational, "national")),
    )
    .await?;
    let college = college_35(db).await?;

    let cadre = conv::create_convention(
        db,
        &dan,
        &ConventionInput {
            kind: "convention-cadre".into(),
            title: "Convention-cadre Académie de Rennes – Département d'Ille-et-Vilaine".into(),
            object: "Le numérique éducatif dans les collèges".into(),
            visas: vec![
                "Code de l'éducation, art. L213-2".into(),
                "Loi n° 2013-595".into(),
            ],
            parties: vec![
                party(RENNES, Some(date!(2025 - 01 - 10))),
                PartyInput {
                    deliberation_ref: Some("CP 2024-112".into()),
                    deliberation_date: Some(date!(2024 - 12 - 16)),
                    ..party(CD35, Some(date!(2025 - 01 - 20)))
                },
            ],
            scope: vec!["departement:35".into()],
            effective_date: Some(date!(2025 - 02 - 01)),
            end_date: Some(date!(2028 - 01 - 31)),
            renewal: "expresse".into(),
            notice_months: Some(3),
            commitments: vec![
                CommitmentInput {
                    quantity: Some(40),
                    ..commitment(
                        CD35,
                        "equipement",
                        "Équiper 40 collèges en écrans interactifs",
                        Some(date!(2025 - 09 - 01)),
                    )
                },
                commitment(
                    RENNES,
                    "formation",
                    "Former les référents numériques",
                    Some(date!(2026 - 06 - 30)),
                ),
                CommitmentInput {
                    recurrence: Some("annuelle".into()),
                    ..commitment(
                        CD35,
                        "maintenance",
                        "Bilan annuel de la maintenance",
                        Some(date!(2025 - 12 - 31)),
                    )
                },
            ],
            ..Default::default()
        },
    )
    .await?;
    let ent = conv::create_convention(
        db,
        &dan,
        &ConventionInput {
            kind: "tripartite".into(),
            title: "Convention ENT des collèges d'Ille-et-Vilaine".into(),
            parent_id: Some(cadre.convention.id.clone()),
            parties: vec![
                party(RENNES, Some(date!(2025 - 03 - 01))),
                party(CD35, Some(date!(2025 - 03 - 02))),
                party(&format!("etablissement:{college}"), Some(date!(2025 - 03 - 03))),
            ],
            scope: vec![format!("etablissement:{college}")],
            effective_date: Some(date!(2025 - 04 - 01)),
            end_date: Some(date!(2028 - 03 - 31)),
            renewal: "tacite".into(),
            notice_months: Some(3),
            commitments: vec![
                commitment(
                    CD35,
                    "ent",
                    "Abonnement à l'ENT pour le collège",
                    Some(date!(2026 - 01 - 15)),
                ),
                commitment(
                    CD35,
                    "connectivite",
                    "Très haut débit au collège",
                    Some(date!(2026 - 12 - 31)),
                ),
                commitment(
                    &format!("etablissement:{college}"),
                    "referent",
                    "Désigner un référent numérique",
                    None,
                ),
            ],
            ..Default::default()
        },
    )
    .await?;
    let financement = conv::create_convention(
        db,
        &dan,
        &ConventionInput {
            kind: "financement".into(),
            title: "Convention de financement des équipements 2025".into(),
            parties: vec![
                party(RENNES, Some(date!(2025 - 05 - 01))),
                party(CD35, Some(date!(2025 - 05 - 02))),
            ],
            end_date: Some(date!(2027 - 12 - 31)),
            commitments: vec![CommitmentInput {
                amount: Some("150 000".into()),
                ..commitment(
                    CD35,
                    "financement",
                    "Verser la part départementale",
                    Some(date!(2025 - 12 - 31)),
                )
            }],
            annex: vec![
                line(2025, RENNES, "investissement", "150 000"),
                line(2025, CD35, "investissement", "150 000"),
            ],
            cofinancing: vec![CofinancingInput {
                funder: RENNES.into(),
                kind: "parite".into(),
                ..Default::default()
            }],
            ..Default::default()
        },
    )
    .await?;
    let aix = conv::create_convention(
        db,
        &dan_aix,
        &ConventionInput {
            kind: "bipartite".into(),
            title: "Convention numérique Aix-Marseille – Bouches-du-Rhône".into(),
            parties: vec![
                party(AIX, Some(date!(2025 - 02 - 01))),
                party(CD13, Some(date!(2025 - 02 - 02))),
            ],
            end_date: Some(date!(2027 - 12 - 31)),
            commitments: vec![commitment(
                CD13,
                "equipement",
                "Équiper les collèges",
                Some(date!(2025 - 10 - 01)),
            )],
            ..Default::default()
        },
    )
    .await?;
    Ok(World {
        dan,
        dan_aix,
        cd35,
        admin,
        cadre,
        ent,
        financement,
        aix,
    })
}

#[tokio::test]
async fn the_cross_view_lists_every_commitment_of_ille_et_vilaine_late_first() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let w = world(db).await?;
    assert_eq!(
        w.cadre.parties[1].name, "Département d’Ille-et-Vilaine",
        "named from the referential"
    );
    assert_eq!(
        w.ent.parent.as_ref().map(|p| p.0.as_str()),
        Some(w.cadre.convention.id.as_str())
    );

    // The ENT subscription was paid: the Département reports it with its evidence.
    let paid = code_of(&w.ent, 1)?;
    conv::report_commitment(
        db,
        &w.cd35,
        &paid.id,
        paid.version,
        &CommitmentReport {
            status: Some("tenu".into()),
            evidence_link: Some(Some("https://ent.ille-et-vilaine.fr/abonnement-2026".into())),
            ..Default::default()
        },
    )
    .await?;

    let lines = conv::commitments_of(db, &w.dan, CD35, TODAY).await?;
    let got: Vec<(&str, String, bool)> = lines
        .iter()
        .map(|l| {
            (
                l.convention_id.as_str(),
                l.state.commitment.code(),
                l.state.followed.late,
            )
        })
        .collect();
    let (cadre, ent, fin) = (
        w.cadre.convention.id.as_str(),
        w.ent.convention.id.as_str(),
        w.financement.convention.id.as_str(),
    );
    assert_eq!(
        got,
        [
            // Late, by due date (then by convention title).
            (cadre, "E1".to_owned(), true),
            (fin, "E1".to_owned(), true),
            (cadre, "E3".to_owned(), true),
            // Not late: the next due first, the kept one last.
            (ent, "E2".to_owned(), false),
            (ent, "E1".to_owned(), false),
        ],
        "every commitment of the Département, across three conventions, the late ones first"
    );
    assert!(lines.iter().all(|l| l.state.commitment.party_ref == CD35));
    assert_eq!(lines[0].state.followed.status, CommitmentStatus::EnRetard);
    assert_eq!(lines[4].state.followed.status, CommitmentStatus::Tenu);
    assert_eq!(lines[0].convention_status, ConventionStatus::EnVigueur);

    // The Département's representative sees the same; the DAN of Aix-Marseille nothing.
    let own = conv::commitments_of(db, &w.cd35, CD35, TODAY).await?;
    assert_eq!(own.len(), 5);
    assert!(
        conv::commitments_of(db, &w.dan_aix, CD35, TODAY)
            .await?
            .is_empty()
    );

    // The DAN's late commitments: those of Rennes' conventions only, whoever owes them.
    let late = conv::late_commitments(db, &w.dan, None, TODAY).await?;
    assert_eq!(late.len(), 3);
    assert!(
        late.iter()
            .all(|l| l.state.followed.late && l.convention_id != w.aix.convention.id)
    );
    assert_eq!(
        conv::late_commitments(db, &w.dan, Some("14"), TODAY).await?.len(),
        3
    );
    let aix_late = conv::late_commitments(db, &w.dan_aix, None, TODAY).await?;
    assert_eq!(aix_late.len(), 1);
    assert_eq!(aix_late[0].convention_id, w.aix.convention.id);
    // The national level sees both académies; filtered, one.
    assert_eq!(conv::late_commitments(db, &w.admin, None, TODAY).await?.len(), 4);
    assert_eq!(
        conv::late_commitments(db, &w.admin, Some("02"), TODAY)
            .await?
            .len(),
        1
    );

    // Compliance: kept over due so far, per party and per convention.
    let cadre = conv::get_convention(db, &w.dan, cadre, TODAY).await?;
    assert_eq!(
        cadre.compliance,
        Compliance {
            total: 3,
            due: 2,
            kept: 0,
            late: 2
        }
    );
    let ent = conv::get_convention(db, &w.dan, ent, TODAY).await?;
    let cd = ent
        .compliance_by_party
        .iter()
        .find(|p| p.party_ref == CD35)
        .ok_or_else(|| CoreError::Internal("no CD35".into()))?;
    assert_eq!(
        (cd.compliance.due, cd.compliance.kept, cd.compliance.percent()),
        (1, 1, Some(100))
    );
    assert_eq!(ent.children.len(), 0);
    assert_eq!(
        cadre.children,
        [(ent.convention.id.clone(), ent.convention.title.clone())]
    );

    // The register, filtered.
    let register = conv::list_conventions(db, &w.dan, &ConventionFilter::default(), TODAY).await?;
    assert_eq!(register.len(), 3);
    let with_cd35 = ConventionFilter {
        party: Some(CD35.into()),
        kind: Some("financement".into()),
        ..Default::default()
    };
    let found = conv::list_conventions(db, &w.admin, &with_cd35, TODAY).await?;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].total_cents, 30_000_000);
    assert!(matches!(
        conv::list_conventions(
            db,
            &w.admin,
            &ConventionFilter {
                kind: Some("traite".into()),
                ..Default::default()
            },
            TODAY
        )
        .await,
        Err(CoreError::BadRequest(_))
    ));
    Ok(())
}

#[tokio::test]
async fn an_amendment_changes_a_commitment_and_an_amount_and_the_comparison_shows_exactly_that() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let dan = person(db, "dan@ac-rennes.fr", Some((Role::Dan, RENNES))).await?;
    let created = conv::create_convention(
        db,
        &dan,
        &ConventionInput {
            kind: "financement".into(),
            title: "Plan tablettes des collèges".into(),
            parties: vec![
                party(RENNES, Some(date!(2025 - 03 - 01))),
                party(CD35, Some(date!(2025 - 03 - 05))),
            ],
            effective_date: Some(date!(2025 - 04 - 01)),
            end_date: Some(date!(2027 - 12 - 31)),
            commitments: vec![
                CommitmentInput {
                    amount: Some("50 000".into()),
                    ..commitment(
                        RENNES,
                        "financement",
                        "Subvention de l'État",
                        Some(date!(2025 - 12 - 31)),
                    )
                },
                CommitmentInput {
                    quantity: Some(300),
                    amount: Some("90 000".into()),
                    ..commitment(CD35, "equipement", "300 tablettes", Some(date!(2026 - 06 - 30)))
                },
            ],
            annex: vec![
                line(2025, RENNES, "investissement", "50 000"),
                line(2025, CD35, "investissement", "50 000"),
                line(2026, RENNES, "fonctionnement", "20 000"),
                line(2026, CD35, "fonctionnement", "30 000"),
            ],
            cofinancing: vec![CofinancingInput {
                funder: RENNES.into(),
                kind: "taux".into(),
                min_bp: Some(4_000),
                max_bp: Some(6_000),
                cap: Some("60 000".into()),
                nature: None,
            }],
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(created.totals.total, 15_000_000);
    assert_eq!(created.status(), ConventionStatus::EnVigueur);
    // The State's subsidy was paid: its follow-up must survive the amendment.
    let e1 = code_of(&created, 1)?;
    conv::report_commitment(
        db,
        &dan,
        &e1.id,
        e1.version,
        &CommitmentReport {
            status: Some("tenu".into()),
            evidence_note: Some("Mandat du 12 décembre 2025".into()),
            evidence_document: Some(Some("mandat-2025-12-12.pdf".into())),
            ..Default::default()
        },
    )
    .await?;

    // Signed: the text no longer changes without an amendment.
    let signed = conv::get_convention(db, &dan, &created.convention.id, TODAY).await?;
    assert!(matches!(
        conv::update_convention(
            db,
            &dan,
            &signed.convention.id,
            signed.convention.version,
            &signed.to_input()
        )
        .await,
        Err(CoreError::Conflict(_))
    ));

    // Amendment 1: 300 tablets now cost 120 000,50 €, and the State's 2026 share grows.
    let mut text = signed.to_input();
    text.commitments[1].amount = Some("120 000,50".into());
    text.annex[2].amount = "25 000,25".into();
    let amendment = AmendmentInput {
        signed_on: date!(2026 - 02 - 10),
        object: "Avenant n° 1 : réévaluation du plan tablettes".into(),
        content: text.clone(),
    };
    // A stale version is refused.
    assert!(matches!(
        conv::apply_amendment(
            db,
            &dan,
            &signed.convention.id,
            signed.convention.version - 1,
            &amendment
        )
        .await,
        Err(CoreError::Conflict(_))
    ));
    // Above the State's yearly cap: the line is named, nothing changes.
    let mut too_much = amendment.clone();
    too_much.content.annex[2].amount = "60 000,01".into();
    too_much.content.annex[3].amount = "60 000".into();
    assert_eq!(
        fields(
            conv::apply_amendment(
                db,
                &dan,
                &signed.convention.id,
                signed.convention.version,
                &too_much
            )
            .await
        ),
        ["annexe[2].montant"]
    );
    assert!(conv::versions(db, &dan, &signed.convention.id).await?.len() == 1);

    let amended = conv::apply_amendment(
        db,
        &dan,
        &signed.convention.id,
        signed.convention.version,
        &amendment,
    )
    .await?;
    assert_eq!(amended.amendments.len(), 1);
    assert_eq!(amended.amendments[0].number, 1);
    assert_eq!(amended.current_version, 1);
    let e2 = code_of(&amended, 2)?;
    assert_eq!(e2.amount_cents, Some(12_000_050));
    let e1 = code_of(&amended, 1)?;
    assert_eq!(e1.status, "tenu", "the follow-up stays");
    assert_eq!(e1.evidence_document.as_deref(), Some("mandat-2025-12-12.pdf"));

    // Exact totals, by funder and by year.
    assert_eq!(amended.totals.total, 15_500_025);
    assert_eq!(
        amended.totals.by_funder,
        [(RENNES.to_owned(), 7_500_025), (CD35.to_owned(), 8_000_000)]
    );
    assert_eq!(amended.totals.by_year, [(2025, 10_000_000), (2026, 5_500_025)]);

    let versions = conv::versions(db, &dan, &amended.convention.id).await?;
    assert_eq!(versions.iter().map(|v| v.number).collect::<Vec<_>>(), [0, 1]);
    assert_eq!(versions[1].amendment.as_ref().map(|a| a.number), Some(1));
    let changes = conv::compare_versions(db, &dan, &amended.convention.id, 0, 1).await?;
    assert_eq!(
        changes,
        [
            Change {
                element: format!("annexe 2026 {RENNES} fonctionnement"),
                field: "montant".into(),
                before: Some("20000.00".into()),
                after: Some("25000.25".into()),
            },
            Change {
                element: "engagement E2".into(),
                field: "montant".into(),
                before: Some("90000.00".into()),
                after: Some("120000.50".into()),
            },
        ]
    );
    assert!(
        conv::compare_versions(db, &dan, &amended.convention.id, 1, 1)
            .await?
            .is_empty()
    );
    assert!(matches!(
        conv::compare_versions(db, &dan, &amended.convention.id, 0, 7).await,
        Err(CoreError::NotFound { .. })
    ));

    // The trail shows who changed what.
    let history = conv::history(db, &dan, &amended.convention.id).await?;
    let actions: Vec<&str> = history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(actions, ["avenant", "rendre-compte", "creer"]);
    assert!(history[0].actor_label.contains("dan@ac-rennes.fr"));
    let after = history[0].after_json.clone().unwrap_or_default();
    assert!(
        after.contains("engagement E2") && after.contains("120000.50"),
        "{after}"
    );

    // A later amendment drops E2 and adds a commitment: it is E3, never a reused E2.
    let mut text = amended.to_input();
    text.commitments.remove(1);
    text.commitments.push(commitment(
        CD35,
        "formation",
        "Former les gestionnaires",
        Some(date!(2026 - 09 - 30)),
    ));
    let second = conv::apply_amendment(
        db,
        &dan,
        &amended.convention.id,
        amended.convention.version,
        &AmendmentInput {
            signed_on: date!(2026 - 03 - 01),
            object: "Avenant n° 2".into(),
            content: text,
        },
    )
    .await?;
    let codes: Vec<String> = second.commitments.iter().map(|c| c.commitment.code()).collect();
    assert_eq!(codes, ["E1", "E3"]);
    let changes = conv::compare_versions(db, &dan, &second.convention.id, 1, 2).await?;
    let elements: Vec<(&str, &str)> = changes
        .iter()
        .map(|c| (c.element.as_str(), c.field.as_str()))
        .collect();
    assert_eq!(
        elements,
        [("engagement E2", "engagement"), ("engagement E3", "engagement")]
    );
    Ok(())
}

#[tokio::test]
async fn the_status_follows_the_dates_without_anyone_editing() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let dan = person(db, "dan@ac-rennes.fr", Some((Role::Dan, RENNES))).await?;
    let input = |title: &str, end: Date, renewal: &str| ConventionInput {
        kind: "bipartite".into(),
        title: title.into(),
        parties: vec![
            party(RENNES, Some(date!(2025 - 01 - 10))),
            party(CD35, Some(date!(2025 - 01 - 15))),
        ],
        effective_date: Some(date!(2025 - 02 - 01)),
        end_date: Some(end),
        renewal: renewal.into(),
        notice_months: Some(3),
        ..Default::default()
    };
    // No renewal: in force on its last day, expired the day after.
    let fixed = conv::create_convention(
        db,
        &dan,
        &input("Sans renouvellement", date!(2026 - 01 - 31), "aucune"),
    )
    .await?;
    let id = fixed.convention.id.as_str();
    let on = |day: Date| conv::get_convention(db, &dan, id, day);
    assert_eq!(
        on(date!(2025 - 01 - 31)).await?.status(),
        ConventionStatus::Signee
    );
    assert_eq!(
        on(date!(2025 - 02 - 01)).await?.status(),
        ConventionStatus::EnVigueur
    );
    assert_eq!(
        on(date!(2026 - 01 - 31)).await?.status(),
        ConventionStatus::EnVigueur
    );
    let next_day = on(date!(2026 - 02 - 01)).await?;
    assert_eq!(next_day.status(), ConventionStatus::Echue);
    assert_eq!(
        next_day.convention.version, fixed.convention.version,
        "nobody edited it"
    );
    // Today, for real: it ended last January.
    assert_eq!(on(conv::today()).await?.status(), ConventionStatus::Echue);
    let echues = ConventionFilter {
        status: Some("echue".into()),
        ..Default::default()
    };
    assert_eq!(
        conv::list_conventions(db, &dan, &echues, date!(2026 - 02 - 01))
            .await?
            .len(),
        1
    );
    assert!(
        conv::list_conventions(db, &dan, &echues, date!(2026 - 01 - 31))
            .await?
            .is_empty()
    );
    // An expired convention is not terminated.
    assert!(matches!(
        conv::record_event(
            db,
            &dan,
            id,
            fixed.convention.version,
            &EventInput {
                kind: "resiliation".into(),
                date: date!(2026 - 12 - 01),
                new_end: None,
                note: String::new()
            }
        )
        .await,
        Err(CoreError::Conflict(_))
    ));

    // Tacit renewal: renewed the day after the end, by the same duration (one year here),
    // until a denunciation given three months before a term.
    let tacit = conv::create_convention(
        db,
        &dan,
        &input("Reconduction tacite", date!(2026 - 01 - 31), "tacite"),
    )
    .await?;
    let id = tacit.convention.id.as_str();
    let on = |day: Date| conv::get_convention(db, &dan, id, day);
    let renewed = on(date!(2026 - 02 - 01)).await?;
    assert_eq!(renewed.status(), ConventionStatus::Renouvelee);
    assert_eq!(renewed.standing.end, Some(date!(2027 - 01 - 31)));
    assert_eq!(renewed.standing.notice_deadline, Some(date!(2026 - 10 - 31)));
    conv::record_event(
        db,
        &dan,
        id,
        tacit.convention.version,
        &EventInput {
            kind: "denonciation".into(),
            date: date!(2026 - 10 - 01),
            new_end: None,
            note: "Courrier du Département".into(),
        },
    )
    .await?;
    assert_eq!(
        on(date!(2027 - 01 - 31)).await?.status(),
        ConventionStatus::Renouvelee
    );
    assert_eq!(on(date!(2027 - 02 - 01)).await?.status(), ConventionStatus::Echue);

    // A termination takes effect on its date.
    let running =
        conv::create_convention(db, &dan, &input("Résiliée", date!(2099 - 12 - 31), "expresse")).await?;
    let id = running.convention.id.as_str();
    let ended = conv::record_event(
        db,
        &dan,
        id,
        running.convention.version,
        &EventInput {
            kind: "resiliation".into(),
            date: date!(2026 - 12 - 01),
            new_end: None,
            note: "Résiliation d'un commun accord".into(),
        },
    )
    .await?;
    assert_eq!(ended.convention.version, running.convention.version + 1);
    let on = |day: Date| conv::get_convention(db, &dan, id, day);
    let eve = on(date!(2026 - 11 - 30)).await?;
    assert_eq!(
        (eve.status(), eve.standing.end),
        (ConventionStatus::EnVigueur, Some(date!(2026 - 11 - 30)))
    );
    assert_eq!(
        on(date!(2026 - 12 - 01)).await?.status(),
        ConventionStatus::Resiliee
    );

    // A draft: projet, then en négociation once the negotiation opens.
    let draft = conv::create_convention(
        db,
        &dan,
        &ConventionInput {
            parties: vec![party(RENNES, None), party(CD35, None)],
            ..input("Projet", date!(2028 - 12 - 31), "aucune")
        },
    )
    .await?;
    assert_eq!(draft.status(), ConventionStatus::Projet);
    let talks = conv::record_event(
        db,
        &dan,
        &draft.convention.id,
        draft.convention.version,
        &EventInput {
            kind: "negociation".into(),
            date: date!(2026 - 06 - 01),
            new_end: None,
            note: String::new(),
        },
    )
    .await?;
    assert_eq!(talks.status(), ConventionStatus::EnNegociation);
    // The draft's text changes freely; the first version follows it.
    let mut text = talks.to_input();
    text.title = "Projet de convention numérique".into();
    text.parties[0].signature_date = Some(date!(2026 - 07 - 01));
    let edited =
        conv::update_convention(db, &dan, &talks.convention.id, talks.convention.version, &text).await?;
    assert_eq!(edited.convention.title, "Projet de convention numérique");
    assert_eq!(edited.status(), ConventionStatus::EnNegociation);
    assert!(
        conv::compare_versions(db, &dan, &edited.convention.id, 0, 0)
            .await?
            .is_empty()
    );
    Ok(())
}

#[tokio::test]
async fn every_bad_input_is_named() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let dan = person(db, "dan@ac-rennes.fr", Some((Role::Dan, RENNES))).await?;
    company(db).await?;
    let bad = ConventionInput {
        kind: "operationnelle".into(),
        title: "Convention mal remplie".into(),
        parent_id: Some("nulle-part".into()),
        parties: vec![
            party(RENNES, None),
            // Well formed, but no such collectivité in the referential.
            party("collectivite:123456782", None),
            // A SIREN whose Luhn key is wrong.
            party("entreprise:552100555", None),
        ],
        effective_date: Some(date!(2026 - 01 - 01)),
        end_date: Some(date!(2025 - 12 - 31)),
        // The Département is not a party of this convention.
        commitments: vec![commitment(CD35, "equipement", "Des écrans", None)],
        annex: vec![
            line(2026, RENNES, "investissement", "10 000"),
            line(2026, RENNES, "fonctionnement", "5 000"),
        ],
        cofinancing: vec![CofinancingInput {
            funder: RENNES.into(),
            kind: "taux".into(),
            min_bp: Some(0),
            max_bp: Some(10_000),
            cap: Some("12 000".into()),
            nature: None,
        }],
        ..Default::default()
    };
    let result = conv::create_convention(db, &dan, &bad).await;
    let messages = match &result {
        Err(e) => e.to_string(),
        Ok(_) => String::new(),
    };
    assert_eq!(
        fields(result),
        [
            "conventionCadre",
            "parties[1]",
            "parties[2].siren",
            "dateFin",
            "engagements[0].partie",
            "annexe[1].montant"
        ]
    );
    assert!(messages.contains("absent du référentiel"), "{messages}");
    assert!(messages.contains("Luhn"), "{messages}");
    assert!(messages.contains("n'est pas partie"), "{messages}");
    assert!(messages.contains("plafond"), "{messages}");
    assert!(
        conv::list_conventions(db, &dan, &ConventionFilter::default(), TODAY)
            .await?
            .is_empty()
    );

    // The same convention, corrected (the company is known by its SIREN), is accepted.
    let good = ConventionInput {
        kind: "partenariat-prive".into(),
        parent_id: None,
        parties: vec![
            party(RENNES, None),
            party(CD35, None),
            party("entreprise:552100554", None),
        ],
        end_date: Some(date!(2028 - 12 - 31)),
        annex: vec![
            line(2026, RENNES, "investissement", "10 000"),
            line(2026, RENNES, "fonctionnement", "2 000"),
        ],
        ..bad.clone()
    };
    let made = conv::create_convention(db, &dan, &good).await?;
    assert_eq!(made.parties[2].name, "Éditeur ENT SAS");
    assert_eq!(made.parties[2].perimeter, "organisation:editeur-ent");
    assert_eq!(made.totals.total, 1_200_000);

    // A convention sits under a convention-cadre only.
    let under = ConventionInput {
        parent_id: Some(made.convention.id.clone()),
        ..good.clone()
    };
    assert_eq!(
        fields(conv::create_convention(db, &dan, &under).await),
        ["conventionCadre"]
    );
    // Two parties at least; a bipartite convention has two.
    let alone = ConventionInput {
        kind: "bipartite".into(),
        parties: vec![party(RENNES, None)],
        ..good.clone()
    };
    let got = fields(conv::create_convention(db, &dan, &alone).await);
    assert_eq!(got[0], "parties");
    // A signature needs its representative, and follows its deliberation.
    let early = ConventionInput {
        parties: vec![
            PartyInput {
                representative: String::new(),
                ..party(RENNES, Some(date!(2025 - 01 - 01)))
            },
            PartyInput {
                deliberation_ref: Some("CP 2025-01".into()),
                deliberation_date: Some(date!(2025 - 02 - 01)),
                ..party(CD35, Some(date!(2025 - 01 - 15)))
            },
            party("entreprise:552100554", None),
        ],
        ..good.clone()
    };
    assert_eq!(
        fields(conv::create_convention(db, &dan, &early).await),
        ["parties[0].representant", "parties[1].dateSignature"]
    );
    Ok(())
}

#[tokio::test]
async fn rights_follow_the_parties() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let w = world(db).await?;
    let cadre = w.cadre.convention.id.as_str();

    // The DAN of Aix-Marseille sees nothing of Rennes' conventions.
    assert!(matches!(
        conv::get_convention(db, &w.dan_aix, cadre, TODAY).await,
        Err(CoreError::NotFound { .. })
    ));
    let register = conv::list_conventions(db, &w.dan_aix, &ConventionFilter::default(), TODAY).await?;
    assert_eq!(
        register
            .iter()
            .map(|s| s.convention.id.as_str())
            .collect::<Vec<_>>(),
        [w.aix.convention.id.as_str()]
    );
    assert!(matches!(
        conv::update_convention(
            db,
            &w.dan_aix,
            cadre,
            w.cadre.convention.version,
            &w.cadre.to_input()
        )
        .await,
        Err(CoreError::NotFound { .. })
    ));
    assert!(matches!(
        conv::history(db, &w.dan_aix, cadre).await,
        Err(CoreError::NotFound { .. })
    ));
    let e1 = code_of(&w.cadre, 1)?;
    assert!(matches!(
        conv::report_commitment(db, &w.dan_aix, &e1.id, e1.version, &CommitmentReport::default()).await,
        Err(CoreError::NotFound { .. })
    ));
    assert!(!conv::visible(db, &w.dan_aix, "engagement", &e1.id).await?);
    assert!(conv::visible(db, &w.dan, "engagement", &e1.id).await?);

    // The Département's representative reads, and reports on its own commitments only.
    let seen = conv::get_convention(db, &w.cd35, cadre, TODAY).await?;
    assert!(!seen.can_write);
    assert_eq!(seen.can_report, [CD35]);
    let reported = conv::report_commitment(
        db,
        &w.cd35,
        &e1.id,
        e1.version,
        &CommitmentReport {
            status: Some("en-cours".into()),
            evidence_note: Some("32 collèges équipés sur 40".into()),
            evidence_link: Some(Some("https://www.ille-et-vilaine.fr/numerique-colleges".into())),
            evidence_document: Some(Some("bilan-equipement-2026.pdf".into())),
            indicator_value: Some(Some("32".into())),
        },
    )
    .await?;
    assert_eq!(reported.commitment.evidence_note, "32 collèges équipés sur 40");
    assert_eq!(reported.commitment.version, e1.version + 1);
    // Reported "en cours" but past due: still shown late.
    assert!(reported.commitment.status == "en-cours" && reported.followed.late);
    // Twice with the same version: the second is stale.
    assert!(matches!(
        conv::report_commitment(db, &w.cd35, &e1.id, e1.version, &CommitmentReport::default()).await,
        Err(CoreError::Conflict(_))
    ));
    // A bad link is named.
    assert_eq!(
        fields(
            conv::report_commitment(
                db,
                &w.cd35,
                &e1.id,
                reported.commitment.version,
                &CommitmentReport {
                    status: Some("fini".into()),
                    evidence_link: Some(Some("javascript:alert(1)".into())),
                    ..Default::default()
                },
            )
            .await
        ),
        ["statut", "lien"]
    );
    // A yearly commitment reported kept covers its first occurrence, once: reporting again
    // (to add evidence) does not cover next year's in advance.
    let e3 = code_of(&w.cadre, 3)?;
    let kept = conv::report_commitment(
        db,
        &w.cd35,
        &e3.id,
        e3.version,
        &CommitmentReport {
            status: Some("tenu".into()),
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(kept.commitment.kept_through, Some(date!(2025 - 12 - 31)));
    assert_eq!(
        kept.commitment.follow(TODAY).next_due,
        Some(date!(2026 - 12 - 31))
    );
    assert!(!kept.commitment.follow(TODAY).late && kept.commitment.follow(TODAY).kept);
    let again = conv::report_commitment(
        db,
        &w.cd35,
        &e3.id,
        kept.commitment.version,
        &CommitmentReport {
            status: Some("tenu".into()),
            evidence_note: Some("Bilan 2025 transmis".into()),
            ..Default::default()
        },
    )
    .await?;
    // (Once 31 December 2026 has come, that occurrence is due and the report covers it.)
    let covered = if conv::today() < date!(2026 - 12 - 31) {
        date!(2025 - 12 - 31)
    } else {
        date!(2026 - 12 - 31)
    };
    assert_eq!(again.commitment.kept_through, Some(covered));
    let next_year = add_months(covered, 12).and_then(|d| d.next_day());
    assert!(
        next_year.is_some_and(|day| again.commitment.follow(day).late),
        "late again the day after next year's date"
    );

    // The académie's commitment is not the Département's to report on.
    let e2 = code_of(&w.cadre, 2)?;
    assert!(matches!(
        conv::report_commitment(
            db,
            &w.cd35,
            &e2.id,
            e2.version,
            &CommitmentReport {
                status: Some("tenu".into()),
                ..Default::default()
            }
        )
        .await,
        Err(CoreError::Forbidden)
    ));
    // Nor is the text, nor the events.
    assert!(matches!(
        conv::update_convention(
            db,
            &w.cd35,
            cadre,
            w.cadre.convention.version,
            &w.cadre.to_input()
        )
        .await,
        Err(CoreError::Forbidden)
    ));
    assert!(matches!(
        conv::record_event(
            db,
            &w.cd35,
            cadre,
            w.cadre.convention.version,
            &EventInput {
                kind: "resiliation".into(),
                date: date!(2026 - 12 - 01),
                new_end: None,
                note: String::new()
            }
        )
        .await,
        Err(CoreError::Forbidden)
    ));
    // It does not see Aix-Marseille's convention either.
    assert!(matches!(
        conv::get_convention(db, &w.cd35, &w.aix.convention.id, TODAY).await,
        Err(CoreError::NotFound { .. })
    ));
    // Nor may it create a convention (not a writer of a party académie).
    assert!(matches!(
        conv::create_convention(db, &w.cd35, &w.financement.to_input()).await,
        Err(CoreError::Forbidden)
    ));

    // The DAN of Rennes writes Rennes' conventions and reports on any of their commitments;
    // a national administrator writes everywhere.
    assert!(conv::get_convention(db, &w.dan, cadre, TODAY).await?.can_write);
    assert!(
        conv::get_convention(db, &w.admin, &w.aix.convention.id, TODAY)
            .await?
            .can_write
    );
    conv::report_commitment(
        db,
        &w.dan,
        &e2.id,
        e2.version,
        &CommitmentReport {
            status: Some("en-cours".into()),
            ..Default::default()
        },
    )
    .await?;
    // A membre de la DANE of Rennes writes too; an observer of Rennes only reads.
    let dane = person(db, "dane@ac-rennes.fr", Some((Role::MembreDane, RENNES))).await?;
    assert!(conv::get_convention(db, &dane, cadre, TODAY).await?.can_write);
    let observer = person(db, "observateur@ac-rennes.fr", Some((Role::Observateur, RENNES))).await?;
    let seen = conv::get_convention(db, &observer, cadre, TODAY).await?;
    assert!(!seen.can_write && seen.can_report.is_empty());
    // The DAN of Aix-Marseille cannot make a convention between Rennes and Ille-et-Vilaine.
    assert!(matches!(
        conv::create_convention(db, &w.dan_aix, &w.financement.to_input()).await,
        Err(CoreError::Forbidden)
    ));
    Ok(())
}

/// The demo's conventions: the cadre with the Département and its operational conventions,
/// the tripartite ENT convention, the private partnership, the expired convention extended
/// by an avenant; commitments kept, in progress and late; and the alerts and digests they
/// give.
#[tokio::test]
async fn the_demo_has_conventions_alive_and_alerts_follow_them() -> R {
    use gouvernail_core::convention::alerts::{self, AlertKind};
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    college_35(db).await?;
    demo::load_demo_accounts(db).await?;
    gouvernail_core::convention::demo::load(db).await?;
    // Loading twice changes nothing.
    gouvernail_core::convention::demo::load(db).await?;
    let dan = identity::user_by_email(db, "dan.rennes@demo.gouvernail.fr").await?;
    let dan = identity::principal(db, &dan.id, false)
        .await?
        .ok_or(CoreError::Unauthenticated)?;
    let today = conv::today();
    let all = conv::list_conventions(db, &dan, &ConventionFilter::default(), today).await?;
    assert_eq!(
        all.len(),
        6,
        "{:?}",
        all.iter().map(|s| &s.convention.title).collect::<Vec<_>>()
    );
    let kinds: Vec<&str> = all.iter().map(|s| s.convention.kind.as_str()).collect();
    for want in [
        "convention-cadre",
        "operationnelle",
        "ent",
        "partenariat-prive",
        "bipartite",
    ] {
        assert!(kinds.contains(&want), "{want} missing: {kinds:?}");
    }
    let cadre = all
        .iter()
        .find(|s| s.convention.kind == "convention-cadre")
        .ok_or(CoreError::Internal("no cadre".into()))?;
    let view = conv::get_convention(db, &dan, &cadre.convention.id, today).await?;
    assert_eq!(
        view.children.len(),
        3,
        "two operational conventions and the ENT one"
    );
    assert_eq!(view.status(), ConventionStatus::EnVigueur);
    let draft = all
        .iter()
        .filter(|s| s.convention.kind == "operationnelle")
        .map(|s| s.standing.status)
        .collect::<Vec<_>>();
    assert!(draft.contains(&ConventionStatus::Projet), "{draft:?}");
    // The Région's convention ended forty days ago and an avenant extended it.
    let lycees = all
        .iter()
        .find(|s| s.convention.kind == "bipartite")
        .ok_or(CoreError::Internal("no bipartite".into()))?;
    assert_eq!(lycees.standing.status, ConventionStatus::EnVigueur);
    assert_eq!(conv::versions(db, &dan, &lycees.convention.id).await?.len(), 2);
    let changes = conv::compare_versions(db, &dan, &lycees.convention.id, 0, 1).await?;
    assert!(changes.len() >= 3, "{changes:?}");

    // The Département's commitments across its conventions: the late one first.
    let cd35 = conv::commitments_of(db, &dan, CD35, today).await?;
    let conventions: std::collections::BTreeSet<&str> =
        cd35.iter().map(|l| l.convention_id.as_str()).collect();
    assert!(conventions.len() >= 3, "{conventions:?}");
    assert!(cd35[0].state.followed.late, "{:?}", cd35[0]);
    let statuses: Vec<CommitmentStatus> = cd35.iter().map(|l| l.state.followed.status).collect();
    for want in [
        CommitmentStatus::Tenu,
        CommitmentStatus::EnCours,
        CommitmentStatus::EnRetard,
    ] {
        assert!(statuses.contains(&want), "{want:?} missing: {statuses:?}");
    }

    // Alerts: the DAN sees the late training commitment of the académie and the end of the
    // operational convention is not yet near; the Département's representative sees only
    // the commitments of the Département.
    let found = alerts::alerts(db, &dan, today).await?;
    assert_eq!(found[0].kind, AlertKind::EngagementEnRetard, "{found:?}");
    assert!(
        found.iter().any(|a| a.kind == AlertKind::EngagementAEcheance),
        "{found:?}"
    );
    let rep = identity::user_by_email(db, "cd35@demo.gouvernail.fr").await?;
    let rep = identity::principal(db, &rep.id, false)
        .await?
        .ok_or(CoreError::Unauthenticated)?;
    let theirs = alerts::alerts(db, &rep, today).await?;
    assert!(!theirs.is_empty());
    for a in &theirs {
        let (_, _, party) = a
            .commitment
            .clone()
            .ok_or(CoreError::Internal(format!("{a:?}")))?;
        assert!(party.contains("Ille-et-Vilaine"), "{a:?}");
    }
    // Nobody is told about a convention they only read.
    let observer = identity::user_by_email(db, "observateur@demo.gouvernail.fr").await?;
    let observer = identity::principal(db, &observer.id, false)
        .await?
        .ok_or(CoreError::Unauthenticated)?;
    assert!(alerts::alerts(db, &observer, today).await?.is_empty());

    // The weekly digest: one per person with alerts, once a week however often it is asked.
    let first = alerts::queue_digests(db, today).await?;
    assert!(first.queued >= 2, "{first:?}");
    let again = alerts::queue_digests(db, today).await?;
    assert_eq!(again.queued, 0);
    let job = gouvernail_core::jobs::find_by_dedupe_key(db, &alerts::digest_key(&dan.user.id, today))
        .await?
        .ok_or(CoreError::Internal("no digest for the DAN".into()))?;
    let mail = gouvernail_core::jobs::MailJob::from_job(&job)?;
    assert!(
        mail.message.subject.contains("en retard"),
        "{}",
        mail.message.subject
    );
    assert!(
        mail.message.text.contains("/conventions/"),
        "{}",
        mail.message.text
    );
    assert_eq!(mail.message.to[0].email, "dan.rennes@demo.gouvernail.fr");
    Ok(())
}
