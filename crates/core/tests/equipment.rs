//! Equipment inventories, plans, needs and the gap analysis, on the engine named by
//! `GOUVERNAIL_TEST_DATABASE`. The gap analysis of the demo's Ille-et-Vilaine is checked
//! against a count made here, in plain Rust, from the raw rows.

use std::collections::{BTreeMap, BTreeSet};

use gouvernail_core::CoreError;
use gouvernail_core::audit::Actor;
use gouvernail_core::db::{Db, Sql};
use gouvernail_core::equipment::service as equip;
use gouvernail_core::equipment::*;
use gouvernail_core::identity::service::{self as identity, NewAssignment};
use gouvernail_core::identity::{Perimeter, Principal, Role};
use gouvernail_core::territory::import::{self, AnnuaireOptions, NoProgress};
use gouvernail_core::territory::model::PageRequest;
use gouvernail_core::testkit::{Seed, TestDb, shared_data_dir};
use time::macros::date;
use time::{Date, Duration};

type E = Box<dyn std::error::Error>;

async fn person(db: &Db, email: &str, role: Role, perimeter: &str) -> Result<Principal, CoreError> {
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

async fn demo_principal(db: &Db, email: &str) -> Result<Principal, E> {
    let user = identity::user_by_email(db, email).await?;
    Ok(identity::principal(db, &user.id, false)
        .await?
        .ok_or("inactive")?)
}

/// The demo without re-importing the referential of the template.
async fn demo_db() -> Result<TestDb, E> {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let communes = gouvernail_core::demo::seed_communes(db).await?;
    let csv = gouvernail_core::demo::fictitious_annuaire(&communes, gouvernail_core::demo::DEMO_SCHOOLS);
    import::import_annuaire(
        db,
        csv.as_bytes(),
        AnnuaireOptions { fictitious: true },
        &NoProgress,
    )
    .await?;
    gouvernail_core::demo::load_demo_accounts(db).await?;
    gouvernail_core::demo::load_demo_strategy(db).await?;
    gouvernail_core::equipment::demo::load(db).await?;
    Ok(t)
}

#[derive(sqlx::FromRow, Debug, Clone)]
struct RawSchool {
    uai: String,
    famille: String,
    code_academie: Option<String>,
    collectivite_siren: Option<String>,
    nombre_eleves: Option<i64>,
}

#[derive(sqlx::FromRow, Debug, Clone)]
struct RawFigure {
    uai: String,
    category: String,
    quantity: Option<i64>,
    quantity_old: Option<i64>,
}

#[derive(sqlx::FromRow, Debug, Clone)]
struct RawLine {
    uai: Option<String>,
    action: String,
    category: String,
    quantity: i64,
    status: String,
    due_date: Date,
}

#[derive(sqlx::FromRow, Debug, Clone)]
struct RawPupils {
    uai: String,
    school_year: i64,
    classes: i64,
    pupils: i64,
    pupils_cm: Option<i64>,
}

/// What the test finds by itself for the schools of département 35.
#[derive(Debug, Default)]
struct Independent {
    /// need id → (targeted, lacking today, lacking after plans)
    needs: BTreeMap<String, (i64, i64, i64)>,
    lacking_today: BTreeSet<(String, String)>,
    lacking_after: BTreeSet<(String, String)>,
    equipped_without_project: BTreeSet<String>,
    to_renew: BTreeSet<String>,
}

const TERMINALS: [&str; 4] = ["poste-fixe", "poste-mobile", "tablette", "equipement-individuel"];
const COUNTS: [&str; 7] = [
    "poste-fixe",
    "poste-mobile",
    "tablette",
    "equipement-individuel",
    "ecran-interactif",
    "videoprojecteur",
    "classe-mobile",
];

async fn independent_count(db: &Db, horizon: Date) -> Result<Independent, E> {
    let schools: Vec<RawSchool> = db
        .fetch_all(Sql::new(
            "SELECT uai, famille, code_academie, collectivite_siren, nombre_eleves FROM etablissement \
             WHERE code_departement = '35' AND collectivite_siren IS NOT NULL",
        ))
        .await?;
    let figures: Vec<RawFigure> = db
        .fetch_all(Sql::new(
            "SELECT uai, category, quantity, quantity_old FROM equip_declaration WHERE superseded_at IS NULL",
        ))
        .await?;
    let lines: Vec<RawLine> = db
        .fetch_all(Sql::new(
            "SELECT uai, action, category, quantity, status, due_date FROM equip_plan_line",
        ))
        .await?;
    let pupils: Vec<RawPupils> = db
        .fetch_all(Sql::new(
            "SELECT uai, school_year, classes, pupils, pupils_cm FROM equip_pupils",
        ))
        .await?;
    let needs = gouvernail_core::equipment::repo::list_needs(db).await?;
    let mut latest: BTreeMap<&str, &RawPupils> = BTreeMap::new();
    for p in &pupils {
        if latest
            .get(p.uai.as_str())
            .is_none_or(|q| q.school_year < p.school_year)
        {
            latest.insert(&p.uai, p);
        }
    }
    let have = |uai: &str, category: &str| -> i64 {
        figures
            .iter()
            .filter(|f| {
                f.uai == uai
                    && f.quantity.is_some()
                    && (f.category == category
                        || (category == "terminaux" && TERMINALS.contains(&f.category.as_str())))
            })
            .filter_map(|f| f.quantity)
            .sum()
    };
    let planned = |uai: &str, category: &str, action: &str| -> Vec<i64> {
        lines
            .iter()
            .filter(|l| {
                l.uai.as_deref() == Some(uai)
                    && l.status == "prevu"
                    && l.action == action
                    && l.due_date <= horizon
                    && (l.category == category
                        || (category == "terminaux" && TERMINALS.contains(&l.category.as_str()))
                        || (category == "*" && COUNTS.contains(&l.category.as_str())))
            })
            .map(|l| l.quantity)
            .collect()
    };
    let mut out = Independent::default();
    let mut targeted_schools = BTreeSet::new();
    for school in &schools {
        for need in &needs {
            let in_target = match need.target_kind.as_str() {
                "national" => true,
                "academie" => school.code_academie.as_deref() == Some(need.target_code.as_str()),
                "departement" => need.target_code == "35",
                "collectivite" => school.collectivite_siren.as_deref() == Some(need.target_code.as_str()),
                "etablissement" => school.uai == need.target_code,
                _ => false,
            };
            if !in_target || need.famille.as_ref().is_some_and(|f| *f != school.famille) {
                continue;
            }
            targeted_schools.insert(school.uai.clone());
            let now = have(&school.uai, &need.category);
            let plans = planned(&school.uai, &need.category, "acquisition");
            let after = if need.rule == "minimum" {
                now.max(plans.iter().copied().max().unwrap_or(0))
            } else {
                now + plans.iter().sum::<i64>()
            };
            let p = latest.get(school.uai.as_str());
            let required = match need.rule.as_str() {
                "par-etablissement" | "minimum" => Some(need.threshold),
                "par-classe" => p.map(|p| p.classes * need.threshold),
                "eleves-par-unite" => p
                    .map(|p| p.pupils)
                    .or(school.nombre_eleves)
                    .map(|n| (n + need.threshold - 1) / need.threshold),
                "eleves-cm-par-unite" => p
                    .and_then(|p| p.pupils_cm)
                    .map(|n| (n + need.threshold - 1) / need.threshold),
                _ => None,
            };
            let lack_today = required.is_none_or(|r| now < r);
            let lack_after = required.is_none_or(|r| after < r);
            let e = out.needs.entry(need.id.clone()).or_default();
            e.0 += 1;
            e.1 += i64::from(lack_today);
            e.2 += i64::from(lack_after);
            if lack_today {
                out.lacking_today.insert((school.uai.clone(), need.id.clone()));
            }
            if lack_after {
                out.lacking_after.insert((school.uai.clone(), need.id.clone()));
            }
        }
    }
    for school in &schools {
        let units: i64 = COUNTS.iter().map(|c| have(&school.uai, c)).sum();
        let planned_units: i64 = planned(&school.uai, "*", "acquisition").iter().sum();
        if !targeted_schools.contains(&school.uai) && units + planned_units > 0 {
            out.equipped_without_project.insert(school.uai.clone());
        }
        let old: i64 = figures
            .iter()
            .filter(|f| f.uai == school.uai && COUNTS.contains(&f.category.as_str()))
            .filter_map(|f| f.quantity_old)
            .sum();
        let renewals: i64 = planned(&school.uai, "*", "renouvellement").iter().sum();
        if old > renewals {
            out.to_renew.insert(school.uai.clone());
        }
    }
    Ok(out)
}

#[tokio::test]
async fn the_gap_analysis_of_the_demo_matches_an_independent_count() -> Result<(), E> {
    let t = demo_db().await?;
    let db = &t.db;
    let dan = demo_principal(db, "dan.rennes@demo.gouvernail.fr").await?;
    let scope = Scope::Departement("35".into());
    let today = equip::today();
    for horizon in [today, today + Duration::days(3 * 366)] {
        let summary = equip::gap_summary(db, &dan, &scope, horizon).await?;
        let expected = independent_count(db, horizon).await?;
        let found: BTreeMap<String, (i64, i64, i64)> = summary
            .needs
            .iter()
            .map(|n| {
                (
                    n.need_id.clone(),
                    (n.targeted, n.lacking_today, n.lacking_after_plans),
                )
            })
            .collect();
        assert_eq!(found, expected.needs, "per need, horizon {horizon}");
        assert!(summary.needs.len() >= 3, "{:?}", summary.needs);
        let list = |kind| equip::gap_list(db, &dan, &scope, horizon, kind, PageRequest::export());
        let today_list: BTreeSet<(String, String)> = list(GapKind::CibleSansEquipement)
            .await?
            .items
            .into_iter()
            .map(|l| (l.uai, l.need_id.unwrap_or_default()))
            .collect();
        assert_eq!(today_list, expected.lacking_today);
        let after_list: BTreeSet<(String, String)> = list(GapKind::EncoreApresPlans)
            .await?
            .items
            .into_iter()
            .map(|l| (l.uai, l.need_id.unwrap_or_default()))
            .collect();
        assert_eq!(after_list, expected.lacking_after);
        let without: BTreeSet<String> = list(GapKind::EquipeSansProjet)
            .await?
            .items
            .into_iter()
            .map(|l| l.uai)
            .collect();
        assert_eq!(without, expected.equipped_without_project);
        let renew: BTreeSet<String> = list(GapKind::ARenouveler)
            .await?
            .items
            .into_iter()
            .map(|l| l.uai)
            .collect();
        assert_eq!(renew, expected.to_renew);
        // Both directions show in the demo.
        assert!(!expected.lacking_today.is_empty());
        assert!(!expected.equipped_without_project.is_empty());
        assert!(!expected.to_renew.is_empty());
        // The per-collectivité summary adds up to the same schools.
        let per_school_lacking: BTreeSet<&String> = expected.lacking_today.iter().map(|(u, _)| u).collect();
        assert_eq!(
            summary.totals.lacking_today,
            i64::try_from(per_school_lacking.len())?
        );
        assert_eq!(
            summary.totals.equipped_without_project,
            i64::try_from(expected.equipped_without_project.len())?
        );
        assert!(summary.collectivites.iter().any(|c| c.siren == "223500018"));
        assert!(summary.collectivites.iter().any(|c| c.siren == "233500016"));
    }
    // The plans close part of the gap by the three-year horizon, not all of it.
    let now = equip::gap_summary(db, &dan, &scope, today).await?;
    let later = equip::gap_summary(db, &dan, &scope, today + Duration::days(3 * 366)).await?;
    assert!(later.totals.lacking_after_plans < now.totals.lacking_after_plans);
    assert!(later.totals.lacking_after_plans > 0);
    // A collectivité's representative sees its own summary only.
    let cd35 = demo_principal(db, "cd35@demo.gouvernail.fr").await?;
    let own = equip::gap_summary(db, &cd35, &Scope::Collectivite("223500018".into()), today).await?;
    assert_eq!(own.collectivites.len(), 1);
    let other = equip::gap_summary(db, &cd35, &Scope::Collectivite("233500016".into()), today).await;
    assert!(matches!(other, Err(CoreError::NotFound { .. })), "{other:?}");
    let whole = equip::gap_summary(db, &cd35, &scope, today).await;
    assert!(matches!(whole, Err(CoreError::NotFound { .. })), "{whole:?}");
    Ok(())
}

#[tokio::test]
async fn a_collectivite_touches_only_its_own_schools_and_bad_lines_are_named() -> Result<(), E> {
    let t = demo_db().await?;
    let db = &t.db;
    let cd35 = demo_principal(db, "cd35@demo.gouvernail.fr").await?;
    let dan = demo_principal(db, "dan.rennes@demo.gouvernail.fr").await?;
    let schools = gouvernail_core::equipment::demo::schools_35(db).await?;
    let college = schools
        .iter()
        .find(|s| s.famille == "college")
        .ok_or("no collège")?;
    let lycee = schools.iter().find(|s| s.famille == "lycee").ok_or("no lycée")?;
    let input = DeclarationInput {
        as_of: Some(equip::today()),
        source: None,
        figures: vec![FigureInput {
            category: "tablette".into(),
            quantity: Some(30),
            ..FigureInput::default()
        }],
    };
    // The Région's lycée: the Département may not even read it.
    let r = equip::declare(db, &cd35, &lycee.uai, 1, &input).await;
    assert!(matches!(r, Err(CoreError::NotFound { .. })), "{r:?}");
    // The DAN reads and comments, but does not declare.
    let r = equip::declare(db, &dan, &college.uai, 1, &input).await;
    assert!(matches!(r, Err(CoreError::Forbidden)), "{r:?}");
    equip::comment_school(db, &dan, &college.uai, "Vu en comité").await?;
    // Its own collège: over the version read, else a conflict.
    let before = equip::inventory(db, &cd35, &college.uai).await?;
    let r = equip::declare(db, &cd35, &college.uai, before.version + 7, &input).await;
    assert!(matches!(r, Err(CoreError::Conflict(_))), "{r:?}");
    let after = equip::declare(db, &cd35, &college.uai, before.version, &input).await?;
    assert_eq!(after.version, before.version + 1);
    let tablets: Vec<_> = after
        .current
        .iter()
        .filter(|d| d.category == "tablette")
        .collect();
    assert_eq!(tablets.len(), 1);
    assert_eq!(tablets[0].quantity, Some(30));
    assert!(
        after.history.iter().any(|d| d.category == "tablette"),
        "the old figure stays"
    );
    // Negative quantities and future dates are named.
    let bad = DeclarationInput {
        as_of: Some(equip::today() + Duration::days(10)),
        source: None,
        figures: vec![FigureInput {
            category: "poste-fixe".into(),
            quantity: Some(-3),
            ..FigureInput::default()
        }],
    };
    match equip::declare(db, &cd35, &college.uai, after.version, &bad).await {
        Err(CoreError::Validation(fields)) => {
            let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
            assert!(
                names.contains(&"date") && names.contains(&"valeurs[0].quantite"),
                "{names:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    // An itemised import: the lycée's line, an unknown UAI, a negative quantity and an
    // impossible date are refused and named; the good lines are kept.
    let csv = format!(
        "uai;categorie;quantite;date d'achat\r\n\
         {c};Ordinateur;1;2018-01-10\r\n\
         {c};Ordinateur;1;2025-01-10\r\n\
         {l};Tablette;1;2024-01-10\r\n\
         0359999X;Tablette;1;2024-01-10\r\n\
         {c};Tablette;-2;2024-01-10\r\n\
         {c};Tablette;1;2024-02-30\r\n",
        c = college.uai,
        l = lycee.uai
    );
    let report = equip::import_itemised(db, &cd35, csv.as_bytes(), None, None).await?;
    assert_eq!(report.lines, 6);
    assert_eq!(report.accepted, 2);
    let fields: Vec<&str> = report.rejected.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "ligne 4 : uai",
            "ligne 5 : uai",
            "ligne 6 : quantite",
            "ligne 7 : date_achat"
        ]
    );
    assert!(
        report.rejected[0].message.contains("compétence"),
        "{:?}",
        report.rejected[0]
    );
    let inv = equip::inventory(db, &cd35, &college.uai).await?;
    let fixed = inv
        .current
        .iter()
        .find(|d| d.category == "poste-fixe")
        .ok_or("no poste-fixe")?;
    assert_eq!((fixed.quantity, fixed.quantity_old), (Some(2), Some(1)));
    // A plan line for the lycée is refused and named; the others are kept.
    let year = i64::from(equip::today().year());
    let saved = equip::create_plan(
        db,
        &cd35,
        &PlanInput {
            collectivite_siren: Some("223500018".into()),
            title: Some("Plan de test".into()),
            first_year: Some(year),
            last_year: Some(year + 1),
            lines: vec![
                PlanLineInput {
                    year: Some(year),
                    uai: Some(college.uai.clone()),
                    category: Some("tablette".into()),
                    quantity: Some(10),
                    budget: Some("4 000,50".into()),
                    ..PlanLineInput::default()
                },
                PlanLineInput {
                    year: Some(year),
                    uai: Some(lycee.uai.clone()),
                    category: Some("tablette".into()),
                    quantity: Some(10),
                    ..PlanLineInput::default()
                },
                PlanLineInput {
                    year: Some(year + 5),
                    uai: Some(college.uai.clone()),
                    category: Some("tablette".into()),
                    quantity: Some(-1),
                    ..PlanLineInput::default()
                },
            ],
            ..PlanInput::default()
        },
    )
    .await?;
    assert_eq!(saved.value.lines.len(), 1);
    assert_eq!(saved.value.lines[0].budget_cents, 400_050);
    let fields: Vec<&str> = saved.rejected.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["lignes[1].uai", "lignes[2].annee", "lignes[2].quantite"]);
    // Another collectivité's plans: not even seen; the DAN reads them and comments.
    let region = demo_principal(db, "region.bretagne@demo.gouvernail.fr").await?;
    let r = equip::plan(db, &region, &saved.value.plan.id).await;
    assert!(matches!(r, Err(CoreError::NotFound { .. })), "{r:?}");
    let r = equip::update_plan(db, &dan, &saved.value.plan.id, 1, &PlanInput::default()).await;
    assert!(matches!(r, Err(CoreError::Forbidden)), "{r:?}");
    equip::comment_plan(db, &dan, &saved.value.plan.id, "À présenter à l'instance").await?;
    let r = equip::update_plan(db, &cd35, &saved.value.plan.id, 9, &PlanInput::default()).await;
    assert!(matches!(r, Err(CoreError::Conflict(_))), "{r:?}");
    // Every change is in the audit trail.
    let audited = db
        .fetch_scalar_i64(Sql::new(
            "SELECT COUNT(*) FROM audit_entry WHERE object_kind IN ('equipement', 'plan-equipement', 'besoin', 'effectifs')",
        ))
        .await?;
    assert!(audited > 20, "{audited}");
    assert!(gouvernail_core::audit::verify(db).await?.problems.is_empty());
    // Needs: an action's by its académie, a project's by the national level.
    let r = equip::create_need(
        db,
        &cd35,
        &NeedInput {
            subject: Some("projet:PN-TNE".into()),
            category: Some("tablette".into()),
            ..NeedInput::default()
        },
    )
    .await;
    assert!(matches!(r, Err(CoreError::Forbidden)), "{r:?}");
    let someone = person(db, "pilote@test.fr", Role::PiloteNational, "national").await?;
    let need = equip::create_need(
        db,
        &someone,
        &NeedInput {
            subject: Some("projet:PN-TNE".into()),
            target: Some("academie:14".into()),
            famille: Some("lycee".into()),
            category: Some("wifi".into()),
            rule: Some("par-etablissement".into()),
            threshold: Some(80),
            ..NeedInput::default()
        },
    )
    .await;
    match need {
        Err(CoreError::Validation(f)) => assert_eq!(f[0].field, "regle"),
        other => panic!("{other:?}"),
    }
    Ok(())
}

/// The real open-data extract of Ille-et-Vilaine, read from the shared data folder.
#[tokio::test]
async fn real_pupil_counts_give_terminals_per_100_pupils_per_school_and_departement() -> Result<(), E> {
    let Some(dir) = shared_data_dir() else {
        eprintln!("shared data absent: test skipped");
        return Ok(());
    };
    let (Ok(annuaire), Ok(effectifs)) = (
        std::fs::read(dir.join("annuaire_education_35_extrait_2023-06.csv")),
        std::fs::read(dir.join("ecoles_effectifs_classes_35_extrait.csv")),
    ) else {
        eprintln!("extracts absent: test skipped");
        return Ok(());
    };
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    import::import_annuaire(db, annuaire.as_slice(), AnnuaireOptions::default(), &NoProgress).await?;
    let admin = person(db, "admin@test.fr", Role::AdministrateurNational, "national").await?;
    let report = equip::import_pupils(db, &admin, &effectifs).await?;
    // An independent reading of the file: UAI (6th column) and pupils (13th).
    let text = std::str::from_utf8(&effectifs)?.trim_start_matches('\u{feff}');
    let mut pupils: BTreeMap<String, i64> = BTreeMap::new();
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.trim_end_matches('\r').split(';').collect();
        pupils.insert(cols[5].to_owned(), cols[12].parse()?);
    }
    assert_eq!(report.lines, u64::try_from(pupils.len())?);
    assert!(
        report.rejected.iter().all(|e| e.message.contains("inconnu")),
        "{:?}",
        report.rejected
    );
    assert!(report.accepted >= 20, "{report:?}");
    let known: BTreeSet<String> = report
        .rejected
        .iter()
        .map(|e| e.message.split_whitespace().next().unwrap_or("").to_owned())
        .collect();
    let imported: Vec<(&String, &i64)> = pupils.iter().filter(|(u, _)| !known.contains(*u)).collect();
    // Terminals declared for the first eight schools of the file.
    let mut expected_terminals = 0;
    let mut expected_pupils = 0;
    for (n, (uai, count)) in imported.iter().take(8).enumerate() {
        let terminals = 3 + i64::try_from(n)? * 4;
        let version = equip::inventory(db, &admin, uai).await?.version;
        equip::declare(
            db,
            &admin,
            uai,
            version,
            &DeclarationInput {
                as_of: Some(date!(2021 - 10 - 01)),
                source: Some("test".into()),
                figures: vec![
                    FigureInput {
                        category: "poste-fixe".into(),
                        quantity: Some(terminals - 1),
                        ..FigureInput::default()
                    },
                    FigureInput {
                        category: "tablette".into(),
                        quantity: Some(1),
                        ..FigureInput::default()
                    },
                ],
            },
        )
        .await?;
        let inv = equip::inventory(db, &admin, uai).await?;
        assert_eq!(inv.terminals, terminals);
        assert_eq!(inv.pupils.as_ref().map(|p| p.pupils), Some(**count));
        let expected = (terminals * 10_000 * 2 + **count) / (**count * 2);
        assert_eq!(inv.terminals_per_100_pupils_x100, Some(expected), "{uai}");
        expected_terminals += terminals;
        expected_pupils += **count;
    }
    let scope = Scope::Departement("35".into());
    let per_school = equip::ratios(db, &admin, &scope, RatioLevel::Etablissement).await?;
    assert_eq!(per_school.len(), 8);
    let per_dep = equip::ratios(db, &admin, &scope, RatioLevel::Departement).await?;
    assert_eq!(per_dep.len(), 1);
    assert_eq!(per_dep[0].code, "35");
    assert_eq!(
        (per_dep[0].terminals, per_dep[0].pupils),
        (expected_terminals, expected_pupils)
    );
    assert_eq!(
        per_dep[0].per_100_pupils_x100(),
        Some((expected_terminals * 20_000 + expected_pupils) / (expected_pupils * 2))
    );
    let per_academie = equip::ratios(db, &admin, &Scope::National, RatioLevel::Academie).await?;
    assert_eq!(per_academie.len(), 1);
    assert_eq!(per_academie[0].code, "14");
    // A DAN of another académie imports nothing here: every line is out of reach.
    let dan_aix = person(db, "dan@aix.fr", Role::Dan, "academie:02").await?;
    let r = equip::import_pupils(db, &dan_aix, &effectifs).await?;
    assert_eq!(r.accepted, 0);
    assert!(
        r.rejected
            .iter()
            .any(|e| e.message.contains("hors de votre périmètre"))
    );
    Ok(())
}

/// The inventory feeds the computed indicators: computed for every school, left alone when
/// unchanged, followed by each declaration, consolidated as the ratio of the sums that this
/// test computes from the raw declarations and pupil counts.
#[tokio::test]
async fn the_inventory_feeds_the_computed_indicators_at_every_level() -> Result<(), E> {
    use gouvernail_core::indicator::consolidate::{ConsolidationQuery, consolidate};
    use gouvernail_core::indicator::{Dec, IndicatorInput, SCALE, computed, school_year_of, service as ind};
    let t = demo_db().await?;
    let db = &t.db;
    let admin = demo_principal(db, "admin@demo.gouvernail.fr").await?;
    let cd35 = demo_principal(db, "cd35@demo.gouvernail.fr").await?;
    let indicator = |code: &str, level: &str, formula: &str| IndicatorInput {
        code: Some(code.into()),
        label: Some(format!("Indicateur {code}")),
        direction: Some("hausse".into()),
        kind: Some("ratio".into()),
        aggregation: Some("ratio-des-sommes".into()),
        periodicity: Some("annee-scolaire".into()),
        source: Some("inventaire-collectivite".into()),
        capture_level: Some(level.into()),
        factor: Some(100),
        formula: Some(formula.into()),
        ..Default::default()
    };
    // A formula computes school by school: not for an indicator captured per académie.
    let r = ind::create_indicator(db, &admin, &indicator("INV-A", "academie", "salles-wifi")).await;
    assert!(
        matches!(&r, Err(CoreError::Validation(f)) if f.iter().any(|e| e.field == "formule")),
        "{r:?}"
    );
    ind::create_indicator(
        db,
        &admin,
        &indicator("INV-T", "etablissement", "terminaux-pour-100-eleves"),
    )
    .await?;
    let day = equip::today();
    let period = school_year_of(day);
    let written = computed::recompute(db, &admin, "INV-T", day).await?;
    assert!(written > 10, "{written}");
    assert_eq!(
        computed::recompute(db, &admin, "INV-T", day).await?,
        0,
        "unchanged: left alone"
    );
    let r = computed::recompute(db, &cd35, "INV-T", day).await;
    assert!(matches!(r, Err(CoreError::Forbidden)), "{r:?}");

    // Σ terminals and Σ pupils of Ille-et-Vilaine, from the raw rows.
    let expected = |db: &Db| {
        let db = db.clone();
        async move {
            let figures: Vec<RawFigure> = db
                .fetch_all(Sql::new(
                    "SELECT d.uai, d.category, d.quantity, d.quantity_old FROM equip_declaration d \
                     JOIN etablissement e ON e.uai = d.uai WHERE e.code_departement = '35' AND d.superseded_at IS NULL",
                ))
                .await?;
            let pupils: Vec<RawPupils> = db
                .fetch_all(Sql::new(
                    "SELECT uai, school_year, classes, pupils, pupils_cm FROM equip_pupils",
                ))
                .await?;
            let schools: Vec<RawSchool> = db
                .fetch_all(Sql::new(
                    "SELECT uai, famille, code_academie, collectivite_siren, nombre_eleves FROM etablissement \
                     WHERE code_departement = '35'",
                ))
                .await?;
            let mut terminals: BTreeMap<String, i64> = BTreeMap::new();
            for f in figures
                .iter()
                .filter(|f| TERMINALS.contains(&f.category.as_str()))
            {
                *terminals.entry(f.uai.clone()).or_default() += f.quantity.unwrap_or(0);
            }
            let mut latest: BTreeMap<String, (i64, i64)> = BTreeMap::new();
            for p in pupils {
                let e = latest.entry(p.uai.clone()).or_insert((p.school_year, p.pupils));
                if p.school_year >= e.0 {
                    *e = (p.school_year, p.pupils);
                }
            }
            let (mut num, mut den, mut n) = (0_i64, 0_i64, 0_i64);
            for s in schools {
                let Some(t) = terminals.get(&s.uai) else { continue };
                let p = latest.get(&s.uai).map(|l| l.1).or(s.nombre_eleves).unwrap_or(0);
                if p > 0 {
                    num += t;
                    den += p;
                    n += 1;
                }
            }
            Ok::<_, E>((num, den, n))
        }
    };
    let figure = |db: Db, period: String| async move {
        let admin = demo_principal(&db, "admin@demo.gouvernail.fr").await?;
        Ok::<_, E>(
            consolidate(
                &db,
                &admin,
                &ConsolidationQuery {
                    indicator: "INV-T".into(),
                    period,
                    perimeter: Some("departement:35".into()),
                    child_level: None,
                    validated_only: false,
                },
            )
            .await?
            .figure,
        )
    };
    let (num, den, n) = expected(db).await?;
    assert!(n > 10 && den > 0, "{n} schools");
    let f = figure(db.clone(), period.clone()).await?;
    assert_eq!(f.sources, n);
    assert_eq!(f.numerator, Some(Dec(num * SCALE)));
    assert_eq!(f.denominator, Some(Dec(den * SCALE)));
    assert_eq!(f.value, Dec::ratio(num, den, 100));

    // A declaration moves its school's value in the same transaction, and the figure above.
    let college = gouvernail_core::equipment::demo::schools_35(db)
        .await?
        .into_iter()
        .find(|s| s.famille == "college")
        .ok_or("no collège")?;
    let before = equip::inventory(db, &cd35, &college.uai).await?;
    equip::declare(
        db,
        &cd35,
        &college.uai,
        before.version,
        &DeclarationInput {
            as_of: Some(day),
            source: None,
            figures: vec![FigureInput {
                category: "poste-fixe".into(),
                quantity: Some(500),
                ..FigureInput::default()
            }],
        },
    )
    .await?;
    #[derive(sqlx::FromRow)]
    struct V {
        numerator_e4: Option<i64>,
        provenance: String,
        status: String,
    }
    let v: V = db
        .fetch_optional(
            Sql::new(
                "SELECT v.numerator_e4, v.provenance, v.status FROM ind_value v \
                 JOIN ind_indicator i ON i.id = v.indicator_id WHERE i.code = 'INV-T' AND v.period = ",
            )
            .bind(period.as_str())
            .push(" AND v.perimeter_code = ")
            .bind(college.uai.as_str()),
        )
        .await?
        .ok_or("no computed value for the collège")?;
    let terminals_now: i64 = equip::inventory(db, &cd35, &college.uai)
        .await?
        .current
        .iter()
        .filter(|d| TERMINALS.contains(&d.category.as_str()))
        .map(|d| d.quantity.unwrap_or(0))
        .sum();
    assert_eq!(v.numerator_e4, Some(terminals_now * SCALE));
    assert_eq!((v.provenance.as_str(), v.status.as_str()), ("calcul", "saisie"));
    let (num, den, _) = expected(db).await?;
    let f = figure(db.clone(), period).await?;
    assert_eq!(f.value, Dec::ratio(num, den, 100));
    Ok(())
}
