//! Indicators on the engine named by `GOUVERNAIL_TEST_DATABASE`: consolidation (a ratio is
//! the ratio of the sums, checked against an independent computation), completeness,
//! drill-down, the value workflow with locks and reopening, imports that name each bad line
//! and keep the good ones, a campaign whose mails go through the job queue, and the
//! scheduled close of campaigns past their grace period.

use std::collections::BTreeMap;

use gouvernail_core::CoreError;
use gouvernail_core::audit::Actor;
use gouvernail_core::db::{Db, Sql};
use gouvernail_core::demo::{fictitious_annuaire, seed_communes};
use gouvernail_core::identity::service::{self as identity, NewAssignment};
use gouvernail_core::identity::{Perimeter, Principal, Role};
use gouvernail_core::indicator::campaign;
use gouvernail_core::indicator::consolidate::{ConsolidationQuery, consolidate};
use gouvernail_core::indicator::import::{Mapping, import_values, read_csv};
use gouvernail_core::indicator::service as ind;
use gouvernail_core::indicator::*;
use gouvernail_core::jobs;
use gouvernail_core::territory::import::{AnnuaireOptions, NoProgress, import_annuaire};
use gouvernail_core::testkit::{Seed, TestDb};
use time::macros::date;

type R = Result<(), Box<dyn std::error::Error>>;

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

/// A few hundred made-up schools spread over every département.
async fn schools(db: &Db) -> Result<Vec<(String, String)>, Box<dyn std::error::Error>> {
    let communes = seed_communes(db).await?;
    let csv = fictitious_annuaire(&communes, 400);
    import_annuaire(
        db,
        csv.as_bytes(),
        AnnuaireOptions { fictitious: true },
        &NoProgress,
    )
    .await?;
    #[derive(sqlx::FromRow)]
    struct S {
        uai: String,
        code_academie: String,
    }
    let rows: Vec<S> = db
        .fetch_all(Sql::new(
            "SELECT uai, code_academie FROM etablissement WHERE code_academie IS NOT NULL ORDER BY uai",
        ))
        .await?;
    Ok(rows.into_iter().map(|s| (s.uai, s.code_academie)).collect())
}

fn ratio_input(code: &str) -> IndicatorInput {
    IndicatorInput {
        code: Some(code.into()),
        owner: Some("national".into()),
        label: Some("Terminaux pour 100 élèves".into()),
        unit: Some("terminaux pour 100 élèves".into()),
        direction: Some("hausse".into()),
        kind: Some("ratio".into()),
        aggregation: Some("ratio-des-sommes".into()),
        periodicity: Some("annee-scolaire".into()),
        source: Some("etic".into()),
        capture_level: Some("etablissement".into()),
        factor: Some(100),
        green: Some("30".into()),
        red: Some("15".into()),
        public: Some(true),
        ..Default::default()
    }
}

/// The roll-up of the school values (`ind_rollup`, written with every change) equals the
/// same aggregate computed now over the values.
async fn assert_rollup_is_fresh(db: &Db) -> R {
    #[derive(sqlx::FromRow, Debug, PartialEq)]
    struct Row {
        indicator_id: String,
        period: String,
        code_academie: String,
        validated: i64,
        n: i64,
        s_value: Option<i64>,
        s_num: Option<i64>,
        s_den: Option<i64>,
        min_value: Option<i64>,
        max_value: Option<i64>,
    }
    let stored: Vec<Row> = db
        .fetch_all(Sql::new(
            "SELECT indicator_id, period, code_academie, CAST(validated AS BIGINT) AS validated, \
             CAST(n AS BIGINT) AS n, CAST(s_value AS BIGINT) AS s_value, CAST(s_num AS BIGINT) AS s_num, \
             CAST(s_den AS BIGINT) AS s_den, CAST(min_value AS BIGINT) AS min_value, \
             CAST(max_value AS BIGINT) AS max_value FROM ind_rollup \
             ORDER BY indicator_id, period, code_academie, validated",
        ))
        .await?;
    let fresh: Vec<Row> = db
        .fetch_all(Sql::new(
            "SELECT indicator_id, period, COALESCE(code_academie, '') AS code_academie, \
             CAST(CASE WHEN status IN ('validee', 'verrouillee') THEN 1 ELSE 0 END AS BIGINT) AS validated, \
             COUNT(*) AS n, CAST(SUM(value_e4) AS BIGINT) AS s_value, CAST(SUM(numerator_e4) AS BIGINT) AS s_num, \
             CAST(SUM(denominator_e4) AS BIGINT) AS s_den, MIN(value_e4) AS min_value, MAX(value_e4) AS max_value \
             FROM ind_value WHERE perimeter_kind = 'etablissement' \
             GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
        ))
        .await?;
    assert!(!fresh.is_empty());
    assert_eq!(stored, fresh);
    Ok(())
}

#[tokio::test]
async fn a_ratio_consolidated_from_schools_is_the_ratio_of_the_sums() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let admin = person(
        db,
        "admin@test.fr",
        Some((Role::AdministrateurNational, "national")),
    )
    .await?;
    let all = schools(db).await?;
    ind::create_indicator(db, &admin, &ratio_input("TERM-100")).await?;
    // A ratio may not roll up by a mean.
    let mut bad = ratio_input("TERM-BAD");
    bad.aggregation = Some("moyenne-ponderee".into());
    let err = ind::create_indicator(db, &admin, &bad)
        .await
        .err()
        .ok_or("accepted")?;
    assert_eq!(err.fields()[0].field, "agregation");

    // Values everywhere but in three académies; figures chosen so that the mean of the
    // ratios differs from the ratio of the sums.
    let left_out = ["02", "14", "43"];
    let mut csv = String::from("perimetre;indicateur;periode;numerateur;denominateur\n");
    let mut per_academie: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let (mut num, mut den) = (0_i64, 0_i64);
    let mut ratios = Vec::new();
    let mut filled = 0;
    for (i, (uai, academie)) in all.iter().enumerate() {
        if left_out.contains(&academie.as_str()) {
            continue;
        }
        let n = 3 + (i as i64 * 7) % 40;
        let d = 20 + (i as i64 * 13) % 400;
        csv.push_str(&format!("{uai};TERM-100;2025-2026;{n};{d}\n"));
        num += n;
        den += d;
        let e = per_academie.entry(academie.clone()).or_default();
        e.0 += n;
        e.1 += d;
        ratios.push(n as f64 / d as f64);
        filled += 1;
    }
    let report = import_values(
        db,
        &admin,
        &read_csv(csv.as_bytes())?,
        &Mapping::default(),
        Provenance::Import,
    )
    .await?;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!(report.written, filled);

    let c = consolidate(
        db,
        &admin,
        &ConsolidationQuery {
            indicator: "TERM-100".into(),
            period: "2025-2026".into(),
            perimeter: None,
            child_level: Some("academie".into()),
            validated_only: false,
        },
    )
    .await?;
    // Independently: 100 × Σnum ÷ Σden, rounded to 4 decimals.
    let expected = Dec::ratio(num, den, 100).ok_or("den")?;
    assert_eq!(c.figure.value, Some(expected));
    assert_eq!(c.figure.numerator, Some(Dec::from_int(num)));
    assert_eq!(c.figure.denominator, Some(Dec::from_int(den)));
    let mean_of_ratios = ratios.iter().sum::<f64>() / ratios.len() as f64 * 100.0;
    assert!(
        (mean_of_ratios - expected.0 as f64 / 10_000.0).abs() > 0.01,
        "the test must tell them apart"
    );
    for child in &c.children {
        let code = child.perimeter.trim_start_matches("academie:");
        match per_academie.get(code) {
            Some((n, d)) => assert_eq!(child.value, Dec::ratio(*n, *d, 100), "{code}"),
            None => assert_eq!(child.value, None, "{code}"),
        }
    }
    // Completeness: 27 of 30 académies, and the share of schools.
    let schools_total = db
        .fetch_scalar_i64(Sql::new("SELECT COUNT(*) FROM etablissement"))
        .await?;
    assert_eq!(c.figure.completeness.children_expected, 30);
    assert_eq!(c.figure.completeness.children_with_data, 27);
    assert_eq!(c.figure.completeness.sources_with_data, filled as i64);
    assert_eq!(c.figure.completeness.sources_expected, schools_total);
    assert_eq!(c.children.len(), 30);

    // Down to the values: the départements of one académie, then its schools.
    let deps = consolidate(
        db,
        &admin,
        &ConsolidationQuery {
            indicator: "TERM-100".into(),
            period: "2025-2026".into(),
            perimeter: Some("academie:10".into()),
            child_level: None,
            validated_only: false,
        },
    )
    .await?;
    assert_eq!(deps.children_level, Some(Level::Departement));
    let (n10, d10) = per_academie["10"];
    assert_eq!(deps.figure.value, Dec::ratio(n10, d10, 100));
    let values = consolidate(
        db,
        &admin,
        &ConsolidationQuery {
            indicator: "TERM-100".into(),
            period: "2025-2026".into(),
            perimeter: Some("academie:10".into()),
            child_level: Some("etablissement".into()),
            validated_only: false,
        },
    )
    .await?;
    assert!(!values.children.is_empty());
    assert!(values.children.iter().all(|f| f.value_id.is_some()));
    let sum_n: i64 = values
        .children
        .iter()
        .filter_map(|f| f.numerator.map(|d| d.0))
        .sum();
    assert_eq!(sum_n, Dec::from_int(n10).0);
    // Only validated values: none yet.
    let validated = consolidate(
        db,
        &admin,
        &ConsolidationQuery {
            indicator: "TERM-100".into(),
            period: "2025-2026".into(),
            perimeter: None,
            child_level: None,
            validated_only: true,
        },
    )
    .await?;
    assert_eq!(validated.figure.value, None);
    // A sum indicator captured by académie rolls up to the nation.
    ind::create_indicator(
        db,
        &admin,
        &IndicatorInput {
            code: Some("FORMES".into()),
            label: Some("Enseignants formés".into()),
            direction: Some("hausse".into()),
            kind: Some("nombre".into()),
            aggregation: Some("somme".into()),
            periodicity: Some("annee".into()),
            capture_level: Some("academie".into()),
            ..Default::default()
        },
    )
    .await?;
    for (a, v) in [("14", "120"), ("02", "80,5")] {
        ind::record_value(
            db,
            &admin,
            &ValueInput {
                indicator: "FORMES".into(),
                perimeter: format!("academie:{a}"),
                period: "2025".into(),
                value: Some(v.into()),
                ..Default::default()
            },
            Provenance::Saisie,
            None,
        )
        .await?;
    }
    let c = consolidate(
        db,
        &admin,
        &ConsolidationQuery {
            indicator: "FORMES".into(),
            period: "2025".into(),
            perimeter: None,
            child_level: None,
            validated_only: false,
        },
    )
    .await?;
    assert_eq!(c.figure.value, Dec::parse("200,5"));
    assert_eq!(c.children_level, Some(Level::RegionAcademique));
    Ok(())
}

#[tokio::test]
async fn values_are_validated_locked_and_reopened_with_a_reason() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let admin = person(
        db,
        "admin@test.fr",
        Some((Role::AdministrateurNational, "national")),
    )
    .await?;
    let dan = person(db, "dan@rennes.fr", Some((Role::Dan, "academie:14"))).await?;
    let dane = person(db, "dane@rennes.fr", Some((Role::MembreDane, "academie:14"))).await?;
    let other = person(db, "dan@aix.fr", Some((Role::Dan, "academie:02"))).await?;
    let all = schools(db).await?;
    let uai = all
        .iter()
        .find(|(_, a)| a == "14")
        .map(|(u, _)| u.clone())
        .ok_or("no school in 14")?;
    ind::create_indicator(db, &admin, &ratio_input("TERM-100")).await?;
    let input = |n: &str, comment: Option<&str>| ValueInput {
        indicator: "TERM-100".into(),
        perimeter: format!("etablissement:{uai}"),
        period: "2025-2026".into(),
        numerator: Some(n.into()),
        denominator: Some("100".into()),
        comment: comment.map(Into::into),
        ..Default::default()
    };
    // Named errors.
    let err = ind::record_value(
        db,
        &dane,
        &ValueInput {
            period: "2025".into(),
            numerator: Some("douze".into()),
            ..input("1", None)
        },
        Provenance::Saisie,
        None,
    )
    .await
    .err()
    .ok_or("accepted")?;
    let fields: Vec<&str> = err.fields().iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["periode", "numerateur"]);
    // Another académie's DAN does not even see the school.
    let err = ind::record_value(db, &other, &input("10", None), Provenance::Saisie, None)
        .await
        .err();
    assert!(matches!(err, Some(CoreError::NotFound { .. })), "{err:?}");
    // A DANE member enters a red value (10 for 100 < 15).
    let v = ind::record_value(db, &dane, &input("10", None), Provenance::Saisie, None).await?;
    assert_eq!(v.status, "saisie");
    assert_eq!(v.value_e4, 100_000);
    // Validation: not by the DANE member; not red without a comment.
    let err = ind::validate_value(db, &dane, &v.id, v.version).await.err();
    assert!(matches!(err, Some(CoreError::Forbidden)), "{err:?}");
    let err = ind::validate_value(db, &dan, &v.id, v.version)
        .await
        .err()
        .ok_or("accepted")?;
    assert_eq!(err.fields()[0].field, "commentaire");
    let v = ind::record_value(
        db,
        &dane,
        &input("10", Some("Renouvellement du parc en 2026")),
        Provenance::Saisie,
        Some(v.version),
    )
    .await?;
    let v = ind::validate_value(db, &dan, &v.id, v.version).await?;
    assert_eq!(v.status, "validee");
    // Locking the period in the académie locks the value and refuses new ones.
    assert_eq!(
        ind::lock_period(db, &dan, "TERM-100", "2025-2026", "academie:14").await?,
        1
    );
    let v = ind::value(db, &dan, &v.id).await?.value;
    assert_eq!(v.status, "verrouillee");
    let err = ind::record_value(db, &dane, &input("20", Some("x")), Provenance::Saisie, None)
        .await
        .err()
        .ok_or("accepted")?;
    assert_eq!(err.fields()[0].field, "periode");
    let other_school = all
        .iter()
        .find(|(u, a)| a == "14" && *u != uai)
        .map(|(u, _)| u.clone())
        .ok_or("one school")?;
    let err = ind::record_value(
        db,
        &dane,
        &ValueInput {
            perimeter: format!("etablissement:{other_school}"),
            ..input("20", None)
        },
        Provenance::Saisie,
        None,
    )
    .await
    .err()
    .ok_or("accepted")?;
    assert_eq!(err.fields()[0].field, "periode");
    // Reopening needs a reason, is audited, and lets the value change.
    let err = ind::reopen_value(db, &dan, &v.id, v.version, "  ")
        .await
        .err()
        .ok_or("accepted")?;
    assert_eq!(err.fields()[0].field, "motif");
    let v = ind::reopen_value(
        db,
        &dan,
        &v.id,
        v.version,
        "Erreur de saisie signalée par le collège",
    )
    .await?;
    assert_eq!(v.status, "saisie");
    let audited = db
        .fetch_scalar_i64(
            Sql::new("SELECT COUNT(*) FROM audit_entry WHERE action = 'valeur.reouverture' AND object_id = ")
                .bind(v.id.as_str()),
        )
        .await?;
    assert_eq!(audited, 1);
    let v = ind::record_value(db, &dane, &input("35", None), Provenance::Saisie, Some(v.version)).await?;
    assert_eq!(v.value_e4, 350_000);
    // Validated again in a locked period: locked at once.
    let v = ind::validate_value(db, &dan, &v.id, v.version).await?;
    assert_eq!(v.status, "verrouillee");
    assert_rollup_is_fresh(db).await?;
    Ok(())
}

#[tokio::test]
async fn an_import_names_each_bad_line_and_keeps_the_good_ones() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let admin = person(
        db,
        "admin@test.fr",
        Some((Role::AdministrateurNational, "national")),
    )
    .await?;
    let all = schools(db).await?;
    ind::create_indicator(
        db,
        &admin,
        &IndicatorInput {
            code: Some("DEBIT".into()),
            label: Some("Débit".into()),
            unit: Some("Mb/s".into()),
            direction: Some("hausse".into()),
            kind: Some("nombre".into()),
            aggregation: Some("min".into()),
            periodicity: Some("annee".into()),
            capture_level: Some("etablissement".into()),
            ..Default::default()
        },
    )
    .await?;
    let in_14: Vec<&String> = all.iter().filter(|(_, a)| a == "14").map(|(u, _)| u).collect();
    let in_10: Vec<&String> = all.iter().filter(|(_, a)| a == "10").map(|(u, _)| u).collect();
    // 2024 is locked in Lyon.
    ind::record_value(
        db,
        &admin,
        &ValueInput {
            indicator: "DEBIT".into(),
            perimeter: format!("etablissement:{}", in_10[0]),
            period: "2024".into(),
            value: Some("8".into()),
            ..Default::default()
        },
        Provenance::Saisie,
        None,
    )
    .await?;
    ind::lock_period(db, &admin, "DEBIT", "2024", "academie:10").await?;
    let csv = format!(
        "\u{feff}UAI;Année;Débit (Mb/s);Remarque\n\
         {a};2025;12,5;fibre\n\
         0359999Z;2025;10;\n\
         {b};2025;douze;\n\
         {c};2025-2026;3;\n\
         {d};2024;4;\n\
         ;2025;4;\n\
         {e};2025;100.25;\n",
        a = in_14[0],
        b = in_14[1],
        c = in_14[2],
        d = in_10[1],
        e = in_10[2],
    );
    let mapping = Mapping {
        perimeter: "UAI".into(),
        indicator: None,
        fixed_indicator: Some("DEBIT".into()),
        period: Some("Année".into()),
        fixed_period: None,
        value: Some("Débit (Mb/s)".into()),
        numerator: None,
        denominator: None,
        comment: Some("Remarque".into()),
    };
    let report = import_values(
        db,
        &admin,
        &read_csv(csv.as_bytes())?,
        &mapping,
        Provenance::Import,
    )
    .await?;
    let rejected: Vec<(usize, &str)> = report
        .rejected
        .iter()
        .map(|e| (e.line, e.field.as_str()))
        .collect();
    assert_eq!(
        rejected,
        [
            (3, "perimetre"),
            (4, "valeur"),
            (5, "periode"),
            (6, "periode"),
            (7, "perimetre")
        ],
        "{:?}",
        report.rejected
    );
    assert!(report.rejected[0].message.contains("0359999Z"));
    assert!(report.rejected[3].message.contains("verrouillée"));
    assert_eq!(report.written, 2);
    let v = ind::values(
        db,
        &admin,
        &ValueFilter {
            indicator: Some("DEBIT".into()),
            period: Some("2025".into()),
            ..Default::default()
        },
        gouvernail_core::territory::model::PageRequest {
            page: 1,
            per_page: 50,
        },
    )
    .await?;
    let mut got: Vec<(String, i64, String)> = v
        .items
        .into_iter()
        .map(|r| (r.value.perimeter_code, r.value.value_e4, r.value.provenance))
        .collect();
    got.sort();
    let mut want = vec![
        (in_14[0].clone(), 125_000, "import".to_owned()),
        (in_10[2].clone(), 1_002_500, "import".to_owned()),
    ];
    want.sort();
    assert_eq!(got, want);
    // A comma-separated file with a missing mapped column is refused as a whole.
    let err = import_values(
        db,
        &admin,
        &read_csv(b"a,b\n1,2\n")?,
        &mapping,
        Provenance::Import,
    )
    .await
    .err()
    .ok_or("accepted")?;
    assert!(err.fields().iter().any(|f| f.field == "colonnes.perimetre"));
    Ok(())
}

#[tokio::test]
async fn a_campaign_mails_its_academies_reminds_once_and_locks_its_period_when_closed() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let admin = person(
        db,
        "admin@test.fr",
        Some((Role::AdministrateurNational, "national")),
    )
    .await?;
    let dan14 = person(db, "dan@rennes.fr", Some((Role::Dan, "academie:14"))).await?;
    person(db, "dane@rennes.fr", Some((Role::MembreDane, "academie:14"))).await?;
    person(db, "dan@aix.fr", Some((Role::Dan, "academie:02"))).await?;
    person(db, "obs@rennes.fr", Some((Role::Observateur, "academie:14"))).await?;
    let all = schools(db).await?;
    ind::create_indicator(db, &admin, &ratio_input("TERM-100")).await?;
    let today = ind::today();
    let input = CampaignInput {
        title: "Enquête ETIC 2025-2026".into(),
        owner: "national".into(),
        indicators: vec!["TERM-100".into()],
        academies: vec!["14".into(), "02".into()],
        period: "2025-2026".into(),
        opens_on: Some(today),
        closes_on: Some(today + time::Duration::days(5)),
        grace_days: Some(3),
        instructions: "Comptez les terminaux à usage pédagogique.".into(),
    };
    // A DAN may not open a national campaign.
    let err = campaign::open_campaign(db, &dan14, &input).await.err();
    assert!(matches!(err, Some(CoreError::Forbidden)), "{err:?}");
    let bad = CampaignInput {
        period: "2025".into(),
        academies: vec!["14".into(), "99".into()],
        ..input.clone()
    };
    let err = campaign::open_campaign(db, &admin, &bad)
        .await
        .err()
        .ok_or("accepted")?;
    let fields: Vec<&str> = err.fields().iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["periode"]);
    let (c, queued) = campaign::open_campaign(db, &admin, &input).await?;
    assert_eq!(queued, 3, "the DAN and the DANE member of Rennes, the DAN of Aix");
    for email in ["dan@rennes.fr", "dane@rennes.fr", "dan@aix.fr"] {
        let job = jobs::find_by_dedupe_key(db, &format!("campagne:{}:ouverture:{email}", c.id))
            .await?
            .ok_or("no job")?;
        let mail = jobs::MailJob::from_job(&job)?;
        assert_eq!(mail.message.to[0].email, email);
        assert!(mail.message.subject.contains("Enquête ETIC 2025-2026"));
        assert!(mail.message.text.contains("TERM-100"));
    }
    // Reminders: due within the last week, once per stage.
    assert_eq!(campaign::send_reminders(db, &admin, &c.id, today).await?, 3);
    assert_eq!(campaign::send_reminders(db, &admin, &c.id, today).await?, 0);
    // Rennes answers in full; the heatmap says so; the next reminder goes to Aix only.
    let rennes: Vec<&String> = all.iter().filter(|(_, a)| a == "14").map(|(u, _)| u).collect();
    for (i, uai) in rennes.iter().enumerate() {
        ind::record_value(
            db,
            &dan14,
            &ValueInput {
                indicator: "TERM-100".into(),
                perimeter: format!("etablissement:{uai}"),
                period: "2025-2026".into(),
                numerator: Some(format!("{}", 20 + i)),
                denominator: Some("100".into()),
                ..Default::default()
            },
            Provenance::Saisie,
            None,
        )
        .await?;
    }
    let view = campaign::campaign(db, &dan14, &c.id).await?;
    let heat: Vec<(String, i64, i64)> = view
        .progress
        .iter()
        .map(|p| (p.academie.clone(), p.filled, p.expected))
        .collect();
    let aix_schools = all.iter().filter(|(_, a)| a == "02").count() as i64;
    assert_eq!(
        heat,
        [
            ("02".to_owned(), 0, aix_schools),
            ("14".to_owned(), rennes.len() as i64, rennes.len() as i64)
        ]
    );
    assert!(!view.can_manage);
    let last_day = today + time::Duration::days(5);
    assert_eq!(campaign::send_due_reminders(db, last_day).await?, 1);
    assert!(
        jobs::find_by_dedupe_key(db, &format!("campagne:{}:relance-j0:dan@aix.fr", c.id))
            .await?
            .is_some()
    );
    // Closing locks the period in both académies.
    let err = campaign::close_campaign(db, &dan14, &c.id, c.version).await.err();
    assert!(matches!(err, Some(CoreError::Forbidden)), "{err:?}");
    let (closed, locked) = campaign::close_campaign(db, &admin, &c.id, c.version).await?;
    assert_eq!(closed.status, "close");
    assert_eq!(locked, rennes.len() as u64);
    let err = ind::record_value(
        db,
        &dan14,
        &ValueInput {
            indicator: "TERM-100".into(),
            perimeter: format!("etablissement:{}", rennes[0]),
            period: "2025-2026".into(),
            numerator: Some("1".into()),
            denominator: Some("1".into()),
            ..Default::default()
        },
        Provenance::Saisie,
        None,
    )
    .await
    .err()
    .ok_or("accepted")?;
    assert_eq!(err.fields()[0].field, "periode");
    assert_eq!(
        campaign::send_due_reminders(db, last_day + time::Duration::days(1)).await?,
        0
    );
    assert_rollup_is_fresh(db).await?;
    Ok(())
}

/// The `campagne.cloture` entries of a campaign's audit trail, as (actor id, actor label).
async fn closes_audited(db: &Db, id: &str) -> Result<Vec<(Option<String>, String)>, CoreError> {
    let (entries, _) = gouvernail_core::audit::list(
        db,
        &gouvernail_core::audit::AuditFilter {
            object_kind: Some("campagne".into()),
            object_id: Some(id.into()),
            action: Some("campagne.cloture".into()),
            ..Default::default()
        },
        10,
        0,
    )
    .await?;
    Ok(entries.into_iter().map(|e| (e.actor_id, e.actor_label)).collect())
}

#[tokio::test]
async fn the_scheduled_work_closes_campaigns_past_their_grace_period_once_as_the_system() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let admin = person(
        db,
        "admin@test.fr",
        Some((Role::AdministrateurNational, "national")),
    )
    .await?;
    let dan14 = person(db, "dan@rennes.fr", Some((Role::Dan, "academie:14"))).await?;
    let all = schools(db).await?;
    let rennes = all
        .iter()
        .find(|(_, a)| a == "14")
        .map(|(u, _)| u.clone())
        .ok_or("no school in Rennes")?;
    ind::create_indicator(db, &admin, &ratio_input("TERM-100")).await?;
    let today = ind::today();
    let days = time::Duration::days;
    let open = |title: &str, period: &str, closes_on: time::Date, grace: i64| CampaignInput {
        title: title.into(),
        owner: "national".into(),
        indicators: vec!["TERM-100".into()],
        academies: vec!["14".into()],
        period: period.into(),
        opens_on: Some(closes_on - days(30)),
        closes_on: Some(closes_on),
        grace_days: Some(grace),
        instructions: String::new(),
    };
    // Over: closed ten days ago, three days of grace. In its grace period: closed two days
    // ago, five days of grace. On its last day of grace: still open today.
    let (over, _) =
        campaign::open_campaign(db, &admin, &open("Passée", "2023-2024", today - days(10), 3)).await?;
    let (grace, _) =
        campaign::open_campaign(db, &admin, &open("En grâce", "2024-2025", today - days(2), 5)).await?;
    let (last, _) =
        campaign::open_campaign(db, &admin, &open("Dernier jour", "2022-2023", today - days(1), 1)).await?;
    assert_eq!(last.last_day(), today);
    let value = |period: &str| ValueInput {
        indicator: "TERM-100".into(),
        perimeter: format!("etablissement:{rennes}"),
        period: period.into(),
        numerator: Some("12".into()),
        denominator: Some("100".into()),
        ..Default::default()
    };
    let entered = ind::record_value(db, &dan14, &value("2023-2024"), Provenance::Saisie, None).await?;
    let in_grace = ind::record_value(db, &dan14, &value("2024-2025"), Provenance::Saisie, None).await?;

    let run = campaign::run_due_work(db, today).await?;
    let closed: Vec<&str> = run.closed.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(closed, [over.id.as_str()]);
    assert_eq!(run.locked, 1, "the value entered in the campaign's period");
    // Closed, its period locked, by the system.
    let after = campaign::campaign(db, &admin, &over.id).await?.campaign;
    assert_eq!(after.status, "close");
    assert!(after.closed_at.is_some());
    assert_eq!(after.version, over.version + 1);
    assert_eq!(
        ind::value(db, &admin, &entered.id).await?.value.status,
        "verrouillee"
    );
    let err = ind::record_value(db, &dan14, &value("2023-2024"), Provenance::Saisie, None)
        .await
        .err()
        .ok_or("a value accepted in a locked period")?;
    assert_eq!(err.fields()[0].field, "periode");
    assert_eq!(
        closes_audited(db, &over.id).await?,
        [(None, gouvernail_core::audit::Actor::system().label)]
    );
    // The campaigns still in their grace period stay open, their values writable.
    for c in [&grace, &last] {
        let c = campaign::campaign(db, &admin, &c.id).await?.campaign;
        assert_eq!((c.status.as_str(), c.version), ("ouverte", 1), "{}", c.title);
        assert!(closes_audited(db, &c.id).await?.is_empty());
    }
    assert_eq!(ind::value(db, &admin, &in_grace.id).await?.value.status, "saisie");
    ind::record_value(
        db,
        &dan14,
        &value("2024-2025"),
        Provenance::Saisie,
        Some(in_grace.version),
    )
    .await?;

    // A second run does nothing: no close, no lock, no audit entry.
    let again = campaign::run_due_work(db, today).await?;
    assert!(again.closed.is_empty() && again.locked == 0, "{again:?}");
    assert_eq!(
        campaign::campaign(db, &admin, &over.id).await?.campaign.version,
        after.version
    );
    assert_eq!(closes_audited(db, &over.id).await?.len(), 1);

    // Several instances at once: the one campaign past its grace is closed by exactly one.
    let day_after = last.last_day() + days(1);
    let (a, b, c) = tokio::join!(
        campaign::close_expired_campaigns(db, day_after),
        campaign::close_expired_campaigns(db, day_after),
        campaign::close_expired_campaigns(db, day_after),
    );
    let mut ids: Vec<String> = [a?, b?, c?]
        .into_iter()
        .flat_map(|(closed, _)| closed.into_iter().map(|c| c.id))
        .collect();
    ids.sort();
    assert_eq!(ids, [last.id.as_str()], "closed once");
    assert_eq!(closes_audited(db, &last.id).await?.len(), 1);
    assert_eq!(
        campaign::campaign(db, &admin, &grace.id).await?.campaign.status,
        "ouverte"
    );
    Ok(())
}

#[tokio::test]
async fn the_demo_has_figures_for_every_academie_and_a_campaign_in_progress() -> R {
    let t = TestDb::new(Seed::Empty).await?;
    let db = &t.db;
    gouvernail_core::demo::load_demo(db, &NoProgress).await?;
    let admin = identity::principal(
        db,
        &identity::user_by_email(db, "admin@demo.gouvernail.fr").await?.id,
        false,
    )
    .await?
    .ok_or("admin")?;
    let years = gouvernail_core::indicator::demo::years(gouvernail_core::indicator::service::today());
    for (code, period) in [
        ("TERM-100-ELEVES", years[3].as_str()),
        ("PIX-CERTIFIES", years[0].as_str()),
        ("SOCLE-ECOLES", years[1].as_str()),
    ] {
        let c = consolidate(
            db,
            &admin,
            &ConsolidationQuery {
                indicator: code.into(),
                period: period.into(),
                perimeter: None,
                child_level: Some("academie".into()),
                validated_only: true,
            },
        )
        .await?;
        assert_eq!(c.figure.completeness.children_with_data, 30, "{code}");
        assert!(c.figure.value.is_some(), "{code}");
        assert!(c.children.iter().all(|f| f.value.is_some()), "{code}");
    }
    let series =
        gouvernail_core::indicator::consolidate::series(db, &admin, "TERM-100-ELEVES", None, false).await?;
    assert_eq!(series.len(), 5);
    // Rising over the years.
    assert!(series[0].1.value > series[4].1.value, "{series:?}");
    let campaigns = campaign::campaigns(db, &admin).await?;
    let view = campaign::campaign(db, &admin, &campaigns[0].id).await?;
    assert_eq!(view.campaign.status, "ouverte");
    assert_eq!(view.progress.len(), 30);
    let (filled, expected) = view
        .progress
        .iter()
        .fold((0, 0), |(f, e), p| (f + p.filled, e + p.expected));
    assert!(
        filled * 100 / expected > 40 && filled < expected,
        "{filled} / {expected}"
    );
    assert_rollup_is_fresh(db).await?;
    Ok(())
}

/// The consolidation reads the location copied onto school values (no join to the schools):
/// by académie, by région académique and by département it must equal an aggregate
/// computed here over the join to `etablissement`, for values written by the import and by
/// single entry, and after a school moved in the referential.
#[tokio::test]
async fn the_figures_by_academie_equal_a_sum_over_the_join_to_the_schools() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let admin = person(
        db,
        "admin@test.fr",
        Some((Role::AdministrateurNational, "national")),
    )
    .await?;
    let all = schools(db).await?;
    ind::create_indicator(db, &admin, &ratio_input("TERM-LOC")).await?;
    let mut csv = String::from("perimetre;indicateur;periode;numerateur;denominateur\n");
    for (i, (uai, _)) in all.iter().enumerate().skip(3) {
        if i % 5 == 0 {
            continue;
        }
        let n = 2 + (i as i64 * 11) % 37;
        let d = 40 + (i as i64 * 17) % 300;
        csv.push_str(&format!("{uai};TERM-LOC;2025-2026;{n};{d}\n"));
    }
    let report = import_values(
        db,
        &admin,
        &read_csv(csv.as_bytes())?,
        &Mapping::default(),
        Provenance::Import,
    )
    .await?;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    // Single entry for the first three schools.
    for (uai, _) in all.iter().take(3) {
        ind::record_value(
            db,
            &admin,
            &ValueInput {
                indicator: "TERM-LOC".into(),
                perimeter: format!("etablissement:{uai}"),
                period: "2025-2026".into(),
                value: None,
                numerator: Some("7".into()),
                denominator: Some("50".into()),
                comment: None,
            },
            Provenance::Saisie,
            None,
        )
        .await?;
    }

    #[derive(sqlx::FromRow)]
    struct Agg {
        code: Option<String>,
        n: i64,
        s_num: Option<i64>,
        s_den: Option<i64>,
    }
    async fn by_join(
        db: &Db,
        expr: &str,
        filter: &str,
    ) -> Result<BTreeMap<String, (i64, i64, i64)>, CoreError> {
        let rows: Vec<Agg> = db
            .fetch_all(Sql::new(&format!(
                "SELECT {expr} AS code, COUNT(*) AS n, CAST(SUM(v.numerator_e4) AS BIGINT) AS s_num, \
                 CAST(SUM(v.denominator_e4) AS BIGINT) AS s_den FROM ind_value v \
                 JOIN ind_indicator i ON i.id = v.indicator_id \
                 JOIN etablissement e ON e.uai = v.perimeter_code \
                 LEFT JOIN academie a ON a.code = e.code_academie \
                 WHERE i.code = 'TERM-LOC' AND v.period = '2025-2026' AND v.perimeter_kind = 'etablissement' {filter} \
                 GROUP BY {expr}"
            )))
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.code.unwrap_or_default(),
                    (r.n, r.s_num.unwrap_or(0), r.s_den.unwrap_or(0)),
                )
            })
            .collect())
    }
    async fn check(
        db: &Db,
        admin: &Principal,
        perimeter: Option<&str>,
        level: &str,
        expr: &str,
        filter: &str,
    ) -> R {
        let expected = by_join(db, expr, filter).await?;
        let c = consolidate(
            db,
            admin,
            &ConsolidationQuery {
                indicator: "TERM-LOC".into(),
                period: "2025-2026".into(),
                perimeter: perimeter.map(str::to_owned),
                child_level: Some(level.into()),
                validated_only: false,
            },
        )
        .await?;
        let mut seen = 0;
        for child in &c.children {
            let code = child.perimeter.split(':').nth(1).unwrap_or_default();
            match expected.get(code) {
                Some((n, num, den)) => {
                    seen += 1;
                    assert_eq!(child.sources, *n, "{level} {code}");
                    assert_eq!(child.numerator, Some(Dec(*num)), "{level} {code}");
                    assert_eq!(child.denominator, Some(Dec(*den)), "{level} {code}");
                    assert_eq!(child.value, Dec::ratio(*num, *den, 100), "{level} {code}");
                }
                None => assert_eq!(child.sources, 0, "{level} {code}"),
            }
        }
        // (The join may also find places that are not children, e.g. a vice-rectorat: the
        // total below counts them, as the consolidation does.)
        assert!(
            seen > 0 && seen + 1 >= expected.len(),
            "{level}: {seen} of {}",
            expected.len()
        );
        let (n, num, den) = expected
            .values()
            .fold((0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
        assert_eq!(c.figure.sources, n);
        assert_eq!(c.figure.value, Dec::ratio(num, den, 100));
        Ok(())
    }
    check(db, &admin, None, "academie", "e.code_academie", "").await?;
    check(
        db,
        &admin,
        None,
        "region-academique",
        "a.code_region_academique",
        "",
    )
    .await?;
    check(db, &admin, None, "departement", "e.code_departement", "").await?;
    check(
        db,
        &admin,
        Some("academie:10"),
        "departement",
        "e.code_departement",
        "AND e.code_academie = '10'",
    )
    .await?;

    // A school moves to another département and académie in the referential: the
    // referential import carries its values along.
    let (moved, from) = all
        .iter()
        .enumerate()
        .find(|(i, (_, a))| a == "10" && (*i < 3 || i % 5 != 0))
        .map(|(_, s)| s)
        .ok_or("a school with a value in 10")?;
    #[derive(sqlx::FromRow)]
    struct Code {
        code: String,
    }
    let to_dep = db
        .fetch_optional::<Code>(Sql::new(
            "SELECT code FROM departement WHERE code_academie = '14' ORDER BY code LIMIT 1",
        ))
        .await?
        .ok_or("a département in 14")?
        .code;
    db.execute(
        Sql::new("UPDATE etablissement SET code_academie = '14', code_departement = ")
            .bind(to_dep.as_str())
            .push(" WHERE uai = ")
            .bind(moved.as_str()),
    )
    .await?;
    let mut tx = db.begin().await?;
    let relocated = repo::relocate_school_values(&mut tx).await?;
    tx.commit().await?;
    assert_eq!(relocated, 1, "{moved} moved from {from}");
    check(db, &admin, None, "academie", "e.code_academie", "").await?;
    check(db, &admin, None, "departement", "e.code_departement", "").await?;
    assert_rollup_is_fresh(db).await?;
    Ok(())
}
