//! Storage tests of the territory, run on the engine named by `GOUVERNAIL_TEST_DATABASE`
//! (the test command runs them once on SQLite and once on a real PostgreSQL server).

use std::collections::HashMap;

use gouvernail_core::CoreError;
use gouvernail_core::db::{Backend, DatabaseUrl, Db, DbOptions, Sql};
use gouvernail_core::territory::import::{self, AnnuaireOptions, NoProgress, ReferentialSource};
use gouvernail_core::territory::model::*;
use gouvernail_core::territory::service;
use gouvernail_core::testkit::{Seed, TestDb, shared_data_dir};

type R = Result<(), CoreError>;

const ANNUAIRE_35: &str = "annuaire_education_35_extrait_2023-06.csv";

fn annuaire_35() -> Result<Vec<u8>, CoreError> {
    let dir = shared_data_dir().ok_or_else(|| CoreError::Internal("../shared/data is missing".into()))?;
    std::fs::read(dir.join(ANNUAIRE_35)).map_err(|e| CoreError::Internal(e.to_string()))
}

async fn with_annuaire() -> Result<TestDb, CoreError> {
    let t = TestDb::new(Seed::Referential).await?;
    let report = import::import_annuaire(
        &t.db,
        annuaire_35()?.as_slice(),
        AnnuaireOptions::default(),
        &NoProgress,
    )
    .await?;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    // Three multi-site establishments have a second line.
    assert_eq!(report.merged, 3);
    Ok(t)
}

#[derive(sqlx::FromRow)]
struct Pair {
    a: String,
    b: Option<String>,
}

#[tokio::test]
async fn the_engine_is_the_one_asked_for() -> R {
    let t = TestDb::new(Seed::Empty).await?;
    let expected = match std::env::var("GOUVERNAIL_TEST_DATABASE").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    assert_eq!(t.db.backend(), expected);
    // Migrations are idempotent.
    t.db.migrate().await?;
    t.db.ping().await?;
    Ok(())
}

#[tokio::test]
async fn unknown_url_schemes_are_refused_with_a_clear_message() {
    let err = DatabaseUrl::parse("mysql://root:pw@localhost/x")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("sqlite://") && err.contains("postgres://"), "{err}");
    assert!(!err.contains("pw"), "the password must not be echoed: {err}");
}

#[tokio::test]
async fn the_referential_has_the_official_counts() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let counts = service::counts(&t.db).await?;
    assert_eq!(counts.regions_academiques, 18);
    assert_eq!(counts.academies, 30);
    assert_eq!(counts.communes, 34_969);
    assert_eq!(
        service::list_regions(&t.db)
            .await?
            .iter()
            .filter(|r| r.code.len() == 2)
            .count(),
        18
    );
    let deps = service::list_departements(&t.db, None).await?;
    assert_eq!(
        deps.iter().filter(|d| d.zone.as_deref() != Some("com")).count(),
        101
    );
    Ok(())
}

#[tokio::test]
async fn normandie_covers_its_five_departements_and_keeps_caen_and_rouen_in_history() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let normandie = service::get_academie(&t.db, "70").await?;
    assert_eq!(normandie.academie.nom, "Normandie");
    let codes: Vec<_> = normandie.departements.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["14", "27", "50", "61", "76"]);
    assert_eq!(
        normandie.academie.valid_from,
        Some(time::macros::date!(2020 - 01 - 01))
    );

    let caen = service::get_academie(&t.db, "05").await?;
    assert!(caen.academie.is_historical());
    assert_eq!(
        caen.academie.valid_until,
        Some(time::macros::date!(2019 - 12 - 31))
    );
    let codes: Vec<_> = caen.departements.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["14", "50", "61"]);
    // The current académie of Calvados is Normandie, not Caen.
    assert_eq!(caen.departements[0].code_academie.as_deref(), Some("70"));
    // Historical académies are listed only on demand.
    assert!(
        !service::list_academies(&t.db, false)
            .await?
            .iter()
            .any(|a| a.code == "05")
    );
    assert!(
        service::list_academies(&t.db, true)
            .await?
            .iter()
            .any(|a| a.code == "21")
    );
    Ok(())
}

#[tokio::test]
async fn rennes_is_in_academie_14_and_ille_et_vilaine_has_its_siren() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let rennes = service::get_commune(&t.db, "35238").await?;
    assert_eq!(rennes.nom, "Rennes");
    assert_eq!(rennes.code_academie.as_deref(), Some("14"));
    let dep = service::get_collectivite(&t.db, "223500018").await?;
    assert_eq!(dep.collectivite.kind, "departement");
    assert!(dep.collectivite.competence_colleges);
    assert_eq!(dep.departements, ["35"]);
    let corsica = service::get_commune(&t.db, "2A004").await?;
    assert_eq!(corsica.code_departement, "2A");
    Ok(())
}

#[tokio::test]
async fn special_collectivites_keep_their_kind() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let paris = service::get_collectivite(&t.db, "217500016").await?;
    assert_eq!(paris.collectivite.kind, "ville-de-paris");
    assert_eq!(paris.code_commune.as_deref(), Some("75056"));
    let lyon = service::get_collectivite(&t.db, "200046977").await?;
    assert_eq!(lyon.collectivite.kind, "metropole-de-lyon");
    let members =
        t.db.fetch_scalar_i64(Sql::new(
            "SELECT COUNT(*) FROM epci_membre WHERE siren_epci = '200046977'",
        ))
        .await?;
    // 58 member communes in the COG 2026 (59 before the merger of two of them).
    assert_eq!(members, 58);
    Ok(())
}

#[tokio::test]
async fn importing_the_referential_again_updates_in_place() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let before = service::counts(&t.db).await?;
    t.db.execute(Sql::new("UPDATE commune SET nom = 'Renne' WHERE code = '35238'"))
        .await?;
    let report = import::import_referential(&t.db, &ReferentialSource::Bundled, &NoProgress).await?;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!(report.created, 0);
    assert_eq!(service::counts(&t.db).await?, before);
    assert_eq!(service::get_commune(&t.db, "35238").await?.nom, "Rennes");
    Ok(())
}

#[tokio::test]
async fn a_referential_folder_in_the_etalab_format_is_read() -> R {
    let t = TestDb::new(Seed::Empty).await?;
    let dir = tempfile::tempdir().map_err(|e| CoreError::Internal(e.to_string()))?;
    let write = |name: &str, body: &str| std::fs::write(dir.path().join(name), body);
    let io = |e: std::io::Error| CoreError::Internal(e.to_string());
    write(
        "regions.json",
        r#"[{"code":"53","nom":"Bretagne","chefLieu":"35238","zone":"metro"}]"#,
    )
    .map_err(io)?;
    write(
        "departements.json",
        r#"[{"code":"35","region":"53","nom":"Ille-et-Vilaine","chefLieu":"35238","zone":"metro"}]"#,
    )
    .map_err(io)?;
    write(
        "communes.json",
        r#"[{"code":"35238","nom":"Rennes","type":"commune-actuelle","departement":"35","region":"53","siren":"213502388","population":230890,"codesPostaux":["35000"]},
            {"code":"35999","nom":"Nulle-Part","type":"commune-actuelle","departement":"35","region":"53","siren":"123456789"},
            {"code":"35001","nom":"Ancienne","type":"commune-deleguee","departement":"35","region":"53"}]"#,
    )
    .map_err(io)?;
    let report =
        import::import_referential(&t.db, &ReferentialSource::Dir(dir.path().to_owned()), &NoProgress)
            .await?;
    // The commune with a SIREN failing the Luhn check and the delegated commune without its
    // current commune are rejected and named; the rest is kept.
    let communes: Vec<_> = report
        .rejected
        .iter()
        .filter(|r| r.file == "communes.json")
        .map(|r| (r.error.line, r.error.field.as_str()))
        .collect();
    assert_eq!(communes, [(2, "siren"), (3, "chefLieu")]);
    assert_eq!(service::get_commune(&t.db, "35238").await?.nom, "Rennes");
    assert!(matches!(
        service::get_commune(&t.db, "35001").await,
        Err(CoreError::NotFound { .. })
    ));
    Ok(())
}

#[tokio::test]
async fn the_ille_et_vilaine_annuaire_links_every_open_public_ecole_to_its_commune() -> R {
    let t = with_annuaire().await?;
    let rows: Vec<Pair> = t
        .db
        .fetch_all(Sql::new(
            "SELECT e.uai AS a, CASE WHEN e.collectivite_siren = c.siren THEN NULL ELSE COALESCE(e.collectivite_siren, '-') END AS b \
             FROM etablissement e JOIN commune c ON c.code = e.code_commune \
             WHERE e.famille = 'ecole' AND e.statut = 'public' AND e.etat = 'OUVERT'",
        ))
        .await?;
    assert!(rows.len() > 400, "{} open public écoles", rows.len());
    let wrong: Vec<_> = rows
        .iter()
        .filter(|r| r.b.is_some())
        .map(|r| r.a.as_str())
        .collect();
    assert!(wrong.is_empty(), "écoles not linked to their commune: {wrong:?}");

    // Collèges belong to the Département, lycées to the Région, private schools to nobody.
    let by_family: Vec<Pair> =
        t.db.fetch_all(Sql::new(
            "SELECT famille || ':' || statut AS a, collectivite_siren AS b FROM etablissement \
             WHERE famille IN ('college', 'lycee') GROUP BY famille, statut, collectivite_siren",
        ))
        .await?;
    let map: HashMap<String, Option<String>> = by_family.into_iter().map(|p| (p.a, p.b)).collect();
    assert_eq!(map.get("college:public"), Some(&Some("223500018".to_owned())));
    assert_eq!(map.get("lycee:public"), Some(&Some("233500016".to_owned())));
    assert_eq!(map.get("college:prive"), Some(&None));
    assert_eq!(map.len(), 4, "{map:?}");

    let ecoles = service::list_etablissements(
        &t.db,
        &EtablissementFilter {
            code_commune: Some("35238".into()),
            nature: Some("ecole".into()),
            ..Default::default()
        },
        PageRequest::default(),
    )
    .await?;
    assert!(ecoles.total > 50, "Rennes has many écoles: {}", ecoles.total);
    assert!(
        ecoles
            .items
            .iter()
            .all(|e| e.code_academie.as_deref() == Some("14"))
    );
    Ok(())
}

#[tokio::test]
async fn a_damaged_annuaire_reports_each_bad_line_and_keeps_the_rest() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let original = String::from_utf8(annuaire_35()?).map_err(|e| CoreError::Internal(e.to_string()))?;
    let mut lines: Vec<String> = original.lines().map(str::to_owned).collect();
    let total = lines.len() - 1;
    // Line 3: a UAI whose check letter is wrong.
    let bad_uai = lines[2].split(';').next().unwrap_or_default().to_owned();
    let mut wrong = bad_uai.clone();
    let last = wrong.pop().unwrap_or('A');
    wrong.push(if last == 'A' { 'B' } else { 'A' });
    lines[2] = lines[2].replacen(&bad_uai, &wrong, 1);
    // Line 10: a commune that does not exist.
    let fields: Vec<&str> = lines[9].split(';').collect();
    let commune = fields[8].to_owned();
    lines[9] = lines[9].replacen(&format!(";{commune};"), ";35999;", 1);
    // Line 20: cut in the middle.
    let cut = lines[19].len() / 3;
    lines[19].truncate(cut);
    let damaged = lines.join("\r\n");

    let report =
        import::import_annuaire(&t.db, damaged.as_bytes(), AnnuaireOptions::default(), &NoProgress).await?;
    let got: Vec<(u64, &str)> = report
        .rejected
        .iter()
        .map(|r| (r.error.line, r.error.field.as_str()))
        .collect();
    assert_eq!(got.len(), 3, "{:?}", report.rejected);
    assert_eq!(got[0], (3, "identifiant_de_l_etablissement"));
    assert_eq!(got[1], (10, "code_commune"));
    assert_eq!(got[2].0, 20);
    assert!(report.rejected[1].error.reason.contains("35999"));
    assert_eq!(report.imported as usize, total - 3 - 3);
    assert_eq!(
        service::counts(&t.db).await?.etablissements as usize,
        total - 3 - 3
    );
    Ok(())
}

#[tokio::test]
async fn schools_in_a_delegated_commune_belong_to_the_current_one() -> R {
    let t = with_annuaire().await?;
    // Fleurigné (35112) is a commune déléguée of 35062 since its merger.
    let school = service::get_etablissement(&t.db, "0351306E").await?;
    assert_eq!(school.code_commune, "35062");
    Ok(())
}

#[tokio::test]
async fn importing_the_annuaire_twice_updates_without_duplicating() -> R {
    let t = with_annuaire().await?;
    let before = service::counts(&t.db).await?.etablissements;
    let report = import::import_annuaire(
        &t.db,
        annuaire_35()?.as_slice(),
        AnnuaireOptions::default(),
        &NoProgress,
    )
    .await?;
    assert_eq!(report.created, 0);
    assert_eq!(report.updated(), 993);
    assert_eq!(service::counts(&t.db).await?.etablissements, before);
    assert_eq!(before, 993, "996 lines, 3 of them second sites");
    Ok(())
}

#[tokio::test]
async fn the_annuaire_needs_the_referential_first() -> R {
    let t = TestDb::new(Seed::Empty).await?;
    let err = import::import_annuaire(
        &t.db,
        annuaire_35()?.as_slice(),
        AnnuaireOptions::default(),
        &NoProgress,
    )
    .await
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(err.contains("import referential"), "{err}");
    Ok(())
}

#[tokio::test]
async fn malformed_identifiers_are_bad_requests_and_unknown_ones_not_found() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    assert!(matches!(
        service::get_academie(&t.db, "xx").await,
        Err(CoreError::BadRequest(_))
    ));
    assert!(matches!(
        service::get_academie(&t.db, "99").await,
        Err(CoreError::NotFound { .. })
    ));
    assert!(matches!(
        service::get_etablissement(&t.db, "0350122A").await,
        Err(CoreError::BadRequest(_))
    ));
    assert!(matches!(
        service::get_etablissement(&t.db, "0750655E").await,
        Err(CoreError::NotFound { .. })
    ));
    assert!(matches!(
        service::get_collectivite(&t.db, "223500019").await,
        Err(CoreError::BadRequest(_))
    ));
    assert!(matches!(
        service::get_commune(&t.db, "99999").await,
        Err(CoreError::BadRequest(_))
    ));
    let err = service::list_communes(
        &t.db,
        &CommuneFilter {
            code_departement: Some("ZZ".into()),
            ..Default::default()
        },
        PageRequest::default(),
    )
    .await;
    let fields = match err {
        Err(CoreError::BadRequest(fields)) => fields,
        other => {
            return Err(CoreError::Internal(format!(
                "expected a bad request, got {other:?}"
            )));
        }
    };
    assert_eq!(fields[0].field, "codeDepartement");
    Ok(())
}

#[tokio::test]
async fn lists_filter_paginate_and_search_ignores_accents() -> R {
    let t = with_annuaire().await?;
    let page1 = service::list_communes(
        &t.db,
        &CommuneFilter {
            code_departement: Some("35".into()),
            ..Default::default()
        },
        PageRequest {
            page: 1,
            per_page: 100,
        },
    )
    .await?;
    let page2 = service::list_communes(
        &t.db,
        &CommuneFilter {
            code_departement: Some("35".into()),
            ..Default::default()
        },
        PageRequest {
            page: 2,
            per_page: 100,
        },
    )
    .await?;
    assert_eq!(page1.total, 332);
    assert_eq!(page1.items.len(), 100);
    assert!(
        page1
            .items
            .iter()
            .all(|c| !page2.items.iter().any(|d| d.code == c.code))
    );
    assert_eq!(page1.page_count(), 4);

    let found = service::search(&t.db, "saint-malo").await?;
    assert!(
        found.communes.iter().any(|c| c.code == "35288"),
        "{:?}",
        found.communes
    );
    let found = service::search(&t.db, "ECOLE ELEMENTAIRE PUBLIQUE").await?;
    assert!(!found.etablissements.is_empty());
    let found = service::search(&t.db, "0350122t").await?;
    assert_eq!(found.etablissements.len(), 1);
    let found = service::search(&t.db, "223500018").await?;
    assert_eq!(found.collectivites[0].nom, "Département d’Ille-et-Vilaine");
    // LIKE wildcards typed by a user are matched literally.
    assert!(service::search(&t.db, "%%").await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn two_writers_at_once_both_commit() -> R {
    let t = TestDb::new(Seed::Empty).await?;
    let db: Db = t.db.clone();
    let write = |db: Db, code: &'static str| async move {
        let mut tx = db.begin().await?;
        let n = tx
            .fetch_scalar_i64(Sql::new("SELECT COUNT(*) FROM region"))
            .await?;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        tx.execute(
            Sql::new("INSERT INTO region (code, nom, updated_at) VALUES (")
                .bind(code)
                .push(", ")
                .bind(format!("Région {n}"))
                .push(", ")
                .bind(time::OffsetDateTime::now_utc())
                .push(")"),
        )
        .await?;
        tx.commit().await
    };
    let (a, b) = tokio::join!(write(db.clone(), "01"), write(db.clone(), "02"));
    a?;
    b?;
    assert_eq!(
        db.fetch_scalar_i64(Sql::new("SELECT COUNT(*) FROM region"))
            .await?,
        2
    );
    Ok(())
}

#[tokio::test]
async fn a_second_process_on_the_same_database_sees_the_same_data() -> R {
    // Several `serve` instances share one database: nothing lives in one process's memory.
    let t = TestDb::new(Seed::Referential).await?;
    let other = Db::connect(&t.url, &DbOptions { max_connections: 2 }).await?;
    other.migrate().await?;
    t.db.execute(Sql::new("UPDATE commune SET population = 1 WHERE code = '35238'"))
        .await?;
    assert_eq!(service::get_commune(&other, "35238").await?.population, Some(1));
    Ok(())
}
