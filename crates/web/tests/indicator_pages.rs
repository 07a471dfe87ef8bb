//! The indicator pages through the real router (no socket), signed in with a session
//! cookie, on the engine named by `GOUVERNAIL_TEST_DATABASE`: the dashboards and maps with a
//! ratio computed independently, the drill-down, value entry and validation keeping what was
//! typed, the campaign heatmap, the import report, and the report pack PDF read back.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gouvernail_core::audit::Actor;
use gouvernail_core::db::{Db, Sql};
use gouvernail_core::identity::service::{self as identity, NewAssignment};
use gouvernail_core::identity::{Perimeter, Principal, Role};
use gouvernail_core::indicator::import::{Mapping, import_values, read_csv};
use gouvernail_core::indicator::service as ind;
use gouvernail_core::indicator::*;
use gouvernail_core::strategy::model::{NewAxis, NewObjective, NewProject, NewStrategy, ProjectPatch};
use gouvernail_core::strategy::service as strategy;
use gouvernail_core::testkit::{Seed, TestDb};
use gouvernail_web::{AppState, WebConfig};
use http_body_util::BodyExt;
use time::macros::date;
use tower::ServiceExt;

type E = Box<dyn std::error::Error>;

const SESSION: &str = "__Host-gouvernail_session";
const PROJECT_TITLE: &str = "Socle numérique dans les écoles";

struct Person {
    principal: Principal,
    cookie: String,
}

async fn person(db: &Db, email: &str, role: Role, perimeter: &str) -> Result<Person, E> {
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
    let principal = identity::principal(db, &user.id, false)
        .await?
        .ok_or("no principal")?;
    let secret = identity::open_session(db, &user.id).await?;
    Ok(Person {
        principal,
        cookie: format!("{SESSION}={secret}"),
    })
}

/// Schools, a ratio indicator with thresholds (green from 30, red under 15) filled for two
/// school years, a national target, a national project measured by it; the national
/// administrator and the DAN of Rennes.
struct World {
    router: Router,
    admin: Person,
    dan: Person,
    /// Σnumerators and Σdenominators of 2025-2026, nationally and in Rennes (14).
    national: (i64, i64),
    rennes: (i64, i64),
    rennes_school: String,
    db: Db,
    _t: TestDb,
}

async fn world() -> Result<World, E> {
    let t = TestDb::new(Seed::Referential).await?;
    let db = t.db.clone();
    let communes = gouvernail_core::demo::seed_communes(&db).await?;
    let csv = gouvernail_core::demo::fictitious_annuaire(&communes, 300);
    gouvernail_core::territory::import::import_annuaire(
        &db,
        csv.as_bytes(),
        gouvernail_core::territory::import::AnnuaireOptions { fictitious: true },
        &gouvernail_core::territory::import::NoProgress,
    )
    .await?;
    #[derive(sqlx::FromRow)]
    struct S {
        uai: String,
        code_academie: String,
    }
    let schools: Vec<S> = db
        .fetch_all(Sql::new(
            "SELECT uai, code_academie FROM etablissement WHERE code_academie IS NOT NULL ORDER BY uai",
        ))
        .await?;
    let admin = person(&db, "admin@test.fr", Role::AdministrateurNational, "national").await?;
    let dan = person(&db, "dan@rennes.fr", Role::Dan, "academie:14").await?;
    ind::create_indicator(
        &db,
        &admin.principal,
        &IndicatorInput {
            code: Some("TERM-100".into()),
            owner: Some("national".into()),
            label: Some("Terminaux pour 100 élèves".into()),
            definition: Some("Terminaux mobiles et fixes rapportés aux élèves".into()),
            unit: Some("pour 100".into()),
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
            formula: None,
        },
    )
    .await?;
    // Figures chosen so that the mean of the ratios differs from the ratio of the sums; one
    // Rennes school is left empty for the entry test.
    let mut csv = String::from("perimetre;indicateur;periode;numerateur;denominateur\n");
    let (mut national, mut rennes) = ((0, 0), (0, 0));
    let mut rennes_school = String::new();
    for (i, s) in schools.iter().enumerate() {
        if s.code_academie == "14" && rennes_school.is_empty() {
            rennes_school = s.uai.clone();
            continue;
        }
        let n = 3 + (i as i64 * 7) % 40;
        let d = 20 + (i as i64 * 13) % 400;
        csv.push_str(&format!("{};TERM-100;2025-2026;{n};{d}\n", s.uai));
        csv.push_str(&format!("{};TERM-100;2024-2025;{};{d}\n", s.uai, n / 2));
        national = (national.0 + n, national.1 + d);
        if s.code_academie == "14" {
            rennes = (rennes.0 + n, rennes.1 + d);
        }
    }
    let report = import_values(
        &db,
        &admin.principal,
        &read_csv(csv.as_bytes())?,
        &Mapping::default(),
        Provenance::Import,
    )
    .await?;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    ind::set_target(
        &db,
        &admin.principal,
        "TERM-100",
        "national",
        "2025-2026",
        "cible",
        "25",
    )
    .await?;
    // A national project measured by the indicator.
    let tree = strategy::create_strategy(
        &db,
        &admin.principal,
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
    strategy::publish_strategy(&db, &admin.principal, &tree.strategy.id, tree.strategy.version).await?;
    let p = strategy::create_project(
        &db,
        &admin.principal,
        &NewProject {
            objective_id: tree.axes[0].objectives[0].objective.id.clone(),
            code: "PN-SNEE".into(),
            title: PROJECT_TITLE.into(),
            pilote_team: "DNE".into(),
            indicator_codes: vec!["TERM-100".into()],
            ..Default::default()
        },
    )
    .await?;
    strategy::update_project(
        &db,
        &admin.principal,
        &p.project.id,
        p.project.version,
        &ProjectPatch {
            status: Some("publie".into()),
            ..Default::default()
        },
    )
    .await?;
    let router = gouvernail_web::router(AppState::new(db.clone(), WebConfig::default()));
    Ok(World {
        router,
        admin,
        dan,
        national,
        rennes,
        rennes_school,
        db,
        _t: t,
    })
}

struct Answer {
    status: StatusCode,
    location: Option<String>,
    content_type: String,
    bytes: Vec<u8>,
    body: String,
}

async fn send(router: &Router, req: Request<Body>) -> Result<Answer, E> {
    let response = router.clone().oneshot(req).await?;
    let status = response.status();
    let header_of = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &header::HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let location = header_of(header::LOCATION);
    let content_type = header_of(header::CONTENT_TYPE).unwrap_or_default();
    let bytes = response.into_body().collect().await?.to_bytes().to_vec();
    Ok(Answer {
        status,
        location,
        content_type,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
    })
}

async fn get(w: &World, who: &Person, uri: &str) -> Result<Answer, E> {
    let req = Request::builder()
        .uri(uri)
        .header(header::COOKIE, &who.cookie)
        .body(Body::empty())?;
    send(&w.router, req).await
}

fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn post(w: &World, who: &Person, uri: &str, form: &[(&str, &str)]) -> Result<Answer, E> {
    let body = form
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let req = Request::builder()
        .method("POST")
        .uri(uri)
        .header(header::COOKIE, &who.cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body))?;
    send(&w.router, req).await
}

/// A part of a multipart form: a text field, or a file (field, file name, content).
enum Part<'a> {
    Text(&'a str, &'a str),
    File(&'a str, &'a str, &'a [u8]),
}

/// Posts a `multipart/form-data` form as a browser does from `site` (`Sec-Fetch-Site`).
async fn post_multipart(
    w: &World,
    who: &Person,
    uri: &str,
    parts: &[Part<'_>],
    site: &str,
) -> Result<Answer, E> {
    const BOUNDARY: &str = "----gouvernail-test-41c9";
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match part {
            Part::Text(name, value) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
            ),
            Part::File(name, file_name, bytes) => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\n\
                         Content-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
                body.extend_from_slice(b"\r\n");
            }
        }
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    let req = Request::builder()
        .method("POST")
        .uri(uri)
        .header(header::COOKIE, &who.cookie)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("sec-fetch-site", site)
        .body(Body::from(body))?;
    send(&w.router, req).await
}

/// The values of TERM-100 for one school and period, as (numerator, denominator) × 10⁴.
async fn school_values(w: &World, uai: &str, period: &str) -> Result<Vec<(Option<i64>, Option<i64>)>, E> {
    let page = ind::values(
        &w.db,
        &w.admin.principal,
        &ValueFilter {
            indicator: Some("TERM-100".into()),
            period: Some(period.into()),
            perimeter: Some(format!("etablissement:{uai}")),
            status: None,
        },
        gouvernail_core::territory::model::PageRequest {
            page: 1,
            per_page: 10,
        },
    )
    .await?;
    Ok(page
        .items
        .iter()
        .map(|r| (r.value.numerator_e4, r.value.denominator_e4))
        .collect())
}

/// The figure as the French pages write it: the ratio of the sums × 100, exactly.
fn french_ratio((num, den): (i64, i64)) -> Result<String, E> {
    let num = num * SCALE;
    let den = den * SCALE;
    Ok(Dec::ratio(num, den, 100).ok_or("no ratio")?.french())
}

fn one_h1(html: &str) {
    assert_eq!(html.matches("<h1").count(), 1, "one h1");
}

#[tokio::test]
async fn the_dashboards_show_the_ratio_of_sums_with_maps_tables_and_drill_down() -> Result<(), E> {
    let w = world().await?;
    let national = french_ratio(w.national)?;
    let rennes = french_ratio(w.rennes)?;
    // The national dashboard: the key figure, its completeness, the report pack and exports.
    let page = get(&w, &w.admin, "/indicateurs/tableau-de-bord").await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    one_h1(&page.body);
    assert!(
        page.body.contains(&national),
        "national ratio {national} on the dashboard"
    );
    assert!(page.body.contains("/api/v1/indicateurs/rapport.pdf"));
    assert!(page.body.contains("académies,"), "completeness by académie");
    assert!(
        page.body.contains("des établissements"),
        "completeness of the schools"
    );
    // The indicator's dashboard: series, comparison, both maps, each with its table.
    let page = get(&w, &w.admin, "/indicateurs/TERM-100/tableau-de-bord").await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    one_h1(&page.body);
    assert!(page.body.contains(&national));
    assert!(
        page.body.contains(&rennes),
        "Rennes' ratio {rennes} in the comparison"
    );
    for class in ["gv-series", "gv-bars", "gv-map-aca", "gv-map-dep"] {
        assert!(page.body.contains(class), "{class}");
    }
    assert!(
        page.body.matches("gv-chart-table").count() >= 4,
        "a table per chart"
    );
    assert!(
        page.body.matches("<desc").count() >= 4,
        "a text alternative per chart"
    );
    assert!(page.body.contains("2024-2025") && page.body.contains("2025-2026"));
    // The drill-down of Rennes ends on the schools' values.
    let page = get(
        &w,
        &w.admin,
        "/indicateurs/TERM-100/detail?periode=2025-2026&perimetre=academie:14",
    )
    .await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&rennes));
    assert!(
        page.body.contains("perimetre=departement%3A35"),
        "drill-down links to the départements"
    );
    let page = get(
        &w,
        &w.admin,
        "/indicateurs/TERM-100/detail?periode=2025-2026&perimetre=departement:35&niveau=etablissement",
    )
    .await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("href=\"/valeurs/"),
        "values at the end of the drill-down"
    );
    // The DAN's dashboard opens on Rennes; the nation is not theirs to read.
    let page = get(&w, &w.dan, "/indicateurs/tableau-de-bord").await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&rennes));
    assert!(!page.body.contains(&national));
    assert!(!page.body.contains("rapport.pdf"));
    let page = get(&w, &w.dan, "/indicateurs/tableau-de-bord?perimetre=national").await?;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    // The exports of the dashboard table.
    let csv = get(&w, &w.admin, "/indicateurs/tableau-de-bord/export?format=csv").await?;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.content_type.starts_with("text/csv"));
    assert!(csv.body.contains("TERM-100"));
    // The dictionary and the indicator's page.
    let page = get(&w, &w.dan, "/indicateurs?q=terminaux").await?;
    assert!(page.body.contains("/indicateurs/TERM-100"));
    let page = get(&w, &w.dan, "/indicateurs/TERM-100").await?;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Terminaux mobiles et fixes"));
    assert!(page.body.contains("id=\"thresholds\""));
    assert!(page.body.contains("id=\"targets-table\""));
    // English too.
    let page = get(&w, &w.admin, "/indicateurs/TERM-100/tableau-de-bord?lang=en").await?;
    assert_eq!(page.status, StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn a_value_is_entered_and_validated_and_forms_keep_what_was_typed() -> Result<(), E> {
    let w = world().await?;
    let uri = "/indicateurs/TERM-100/saisie";
    let perimeter = format!("etablissement:{}", w.rennes_school);
    // Not a number: 422, the field named, the input kept.
    let bad = post(
        &w,
        &w.dan,
        uri,
        &[
            ("perimetre", &perimeter),
            ("periode", "2025-2026"),
            ("numerateur", "douze"),
            ("denominateur", "100"),
        ],
    )
    .await?;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("id=\"form-error\""), "error summary");
    assert!(
        bad.body.contains("href=\"#f-numerateur\""),
        "the summary links to the field"
    );
    assert!(bad.body.contains("value=\"douze\""), "input kept");
    assert!(bad.body.contains("f-numerateur-error"));
    // A red value (10 < 15) without a comment: entered, then refused at validation.
    let ok = post(
        &w,
        &w.dan,
        uri,
        &[
            ("perimetre", &perimeter),
            ("periode", "2025-2026"),
            ("numerateur", "10"),
            ("denominateur", "100"),
        ],
    )
    .await?;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let value_uri = ok.location.ok_or("no location")?;
    let page = get(&w, &w.dan, &value_uri).await?;
    assert!(page.body.contains("id=\"red-needs-comment\""));
    let id = value_uri.trim_start_matches("/valeurs/").to_owned();
    let refused = post(
        &w,
        &w.dan,
        &format!("{value_uri}/validation"),
        &[("version", "1")],
    )
    .await?;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.body.contains("commentaire"));
    // A stale correction: 409, what was typed is kept.
    let stale = post(
        &w,
        &w.dan,
        uri,
        &[
            ("perimetre", &perimeter),
            ("periode", "2025-2026"),
            ("numerateur", "11"),
            ("denominateur", "100"),
            ("commentaire", "Livraison de tablettes retardée"),
            ("version", "7"),
        ],
    )
    .await?;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(stale.body.contains("Livraison de tablettes retardée"));
    // The correction with a comment, then the validation.
    let fixed = post(
        &w,
        &w.dan,
        uri,
        &[
            ("perimetre", &perimeter),
            ("periode", "2025-2026"),
            ("numerateur", "11"),
            ("denominateur", "100"),
            ("commentaire", "Livraison de tablettes retardée"),
            ("version", "1"),
        ],
    )
    .await?;
    assert_eq!(fixed.status, StatusCode::SEE_OTHER, "{}", fixed.body);
    let v = ind::value(&w.db, &w.dan.principal, &id).await?;
    let done = post(
        &w,
        &w.dan,
        &format!("{value_uri}/validation"),
        &[("version", &v.value.version.to_string())],
    )
    .await?;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = get(&w, &w.dan, &value_uri).await?;
    assert!(page.body.contains("Validée"), "{}", page.body);
    // Locked with its period: the entry page says why and how to reopen; reopening needs a reason.
    ind::lock_period(&w.db, &w.admin.principal, "TERM-100", "2025-2026", "academie:14").await?;
    let page = get(
        &w,
        &w.dan,
        &format!("{uri}?perimetre={perimeter}&periode=2025-2026"),
    )
    .await?;
    assert!(page.body.contains("id=\"locked\""), "{}", page.body);
    let v = ind::value(&w.db, &w.dan.principal, &id).await?;
    let version = v.value.version.to_string();
    let no_reason = post(
        &w,
        &w.dan,
        &format!("{value_uri}/reouverture"),
        &[("version", &version), ("motif", " ")],
    )
    .await?;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.body.contains("f-motif-error"));
    let reopened = post(
        &w,
        &w.dan,
        &format!("{value_uri}/reouverture"),
        &[("version", &version), ("motif", "Erreur de saisie signalée")],
    )
    .await?;
    assert_eq!(reopened.status, StatusCode::SEE_OTHER, "{}", reopened.body);
    Ok(())
}

#[tokio::test]
async fn the_import_names_rejected_lines_and_the_campaign_shows_its_heatmap() -> Result<(), E> {
    let w = world().await?;
    let content = format!(
        "perimetre;periode;numerateur;denominateur\netablissement:{};2025-2026;12,5;100\netablissement:0000000A;2025-2026;1;2\netablissement:{};2025;1;2\n",
        w.rennes_school, w.rennes_school
    );
    let page = post(
        &w,
        &w.dan,
        "/indicateurs/import",
        &[
            ("contenu", &content),
            ("col_perimetre", "perimetre"),
            ("col_periode", "periode"),
            ("col_numerateur", "numerateur"),
            ("col_denominateur", "denominateur"),
            ("indicateur", "TERM-100"),
        ],
    )
    .await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"rejected-table\""), "{}", page.body);
    assert!(page.body.contains("<th scope=\"row\">3</th>") && page.body.contains("<th scope=\"row\">4</th>"));
    // A campaign opened through the form; its page draws the heatmap with its table.
    let opened = post(
        &w,
        &w.admin,
        "/campagnes",
        &[
            ("titre", "Remontée ETIC 2026"),
            ("proprietaire", "national"),
            ("periode", "2026-2027"),
            ("indicateurs", "TERM-100"),
            ("academies", "14, 02"),
            ("cloture", "2030-06-30"),
        ],
    )
    .await?;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let uri = opened.location.ok_or("no location")?;
    let page = get(&w, &w.admin, &uri).await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    one_h1(&page.body);
    assert!(page.body.contains("gv-heatmap"));
    assert!(page.body.contains("gv-chart-table"));
    assert!(page.body.contains("id=\"missing-table\""));
    assert!(page.body.contains("id=\"close-form\""));
    // A form error keeps the input.
    let bad = post(
        &w,
        &w.admin,
        "/campagnes",
        &[("titre", "Sans fin"), ("cloture", "demain")],
    )
    .await?;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("value=\"Sans fin\""));
    assert!(bad.body.contains("value=\"demain\""));
    Ok(())
}

/// The mapping fields of the import form for a file with these columns.
const MAPPING: [(&str, &str); 5] = [
    ("col_perimetre", "perimetre"),
    ("col_periode", "periode"),
    ("col_numerateur", "numerateur"),
    ("col_denominateur", "denominateur"),
    ("indicateur", "TERM-100"),
];

#[tokio::test]
async fn an_uploaded_csv_file_is_imported_its_good_lines_kept_and_its_bad_lines_named() -> Result<(), E> {
    let w = world().await?;
    let page = get(&w, &w.dan, "/indicateurs/import").await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    assert!(
        page.body
            .contains("type=\"file\" id=\"f-fichier\" name=\"fichier\"")
    );
    assert!(page.body.contains("for=\"f-fichier\""));
    let csv = format!(
        "perimetre;periode;numerateur;denominateur\r\netablissement:{s};2025-2026;12,5;100\r\n\
         etablissement:0000000A;2025-2026;1;2\r\netablissement:{s};2025;1;2\r\n",
        s = w.rennes_school
    );
    let mut parts = vec![
        Part::File("fichier", "valeurs.csv", csv.as_bytes()),
        Part::Text("contenu", ""),
    ];
    parts.extend(MAPPING.iter().map(|(k, v)| Part::Text(k, v)));
    let report = post_multipart(&w, &w.dan, "/indicateurs/import", &parts, "same-origin").await?;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert!(report.body.contains("id=\"import-report\""), "{}", report.body);
    assert!(
        report
            .body
            .contains("3 lignes lues · 1 valeurs écrites · 2 lignes rejetées"),
        "{}",
        report.body
    );
    // The refused lines are named with their number and column.
    assert!(report.body.contains("id=\"rejected-table\""));
    assert!(
        report.body.contains("<th scope=\"row\">3</th><td>perimetre</td>"),
        "{}",
        report.body
    );
    assert!(
        report.body.contains("<th scope=\"row\">4</th><td>periode</td>"),
        "{}",
        report.body
    );
    // The good line is written, and only it.
    assert_eq!(
        school_values(&w, &w.rennes_school, "2025-2026").await?,
        vec![(Some(125_000), Some(1_000_000))]
    );
    // The mapping typed is kept.
    assert!(report.body.contains("value=\"numerateur\""));

    // A file and pasted text at once: refused, named on the file field.
    let mut both = vec![
        Part::File("fichier", "valeurs.csv", csv.as_bytes()),
        Part::Text("contenu", &csv),
    ];
    both.extend(MAPPING.iter().map(|(k, v)| Part::Text(k, v)));
    let refused = post_multipart(&w, &w.dan, "/indicateurs/import", &both, "same-origin").await?;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.body.contains("href=\"#f-fichier\""), "{}", refused.body);
    assert!(refused.body.contains("id=\"f-fichier-error\""));
    // From another site: the CSRF layer refuses the multipart form; nothing more written.
    let cross = post_multipart(&w, &w.dan, "/indicateurs/import", &parts, "cross-site").await?;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    assert_eq!(school_values(&w, &w.rennes_school, "2025-2026").await?.len(), 1);
    // The pasted text still works as before.
    let pasted_csv = format!(
        "perimetre;periode;numerateur;denominateur\netablissement:{};2026-2027;3;4\n",
        w.rennes_school
    );
    let mut pasted: Vec<(&str, &str)> = vec![("contenu", &pasted_csv)];
    pasted.extend(MAPPING);
    let page = post(&w, &w.dan, "/indicateurs/import", &pasted).await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("1 lignes lues · 1 valeurs écrites · 0 lignes rejetées"),
        "{}",
        page.body
    );
    Ok(())
}

#[tokio::test]
async fn an_uploaded_xlsx_file_is_imported_as_the_api_does() -> Result<(), E> {
    let w = world().await?;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, name) in ["perimetre", "periode", "numerateur", "denominateur"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, u16::try_from(col)?, *name)?;
    }
    let school = format!("etablissement:{}", w.rennes_school);
    sheet.write_string(1, 0, &school)?;
    sheet.write_string(1, 1, "2025-2026")?;
    sheet.write_number(1, 2, 30)?;
    sheet.write_number(1, 3, 120)?;
    sheet.write_string(2, 0, &school)?;
    sheet.write_string(2, 1, "2025-2026")?;
    sheet.write_string(2, 2, "beaucoup")?;
    sheet.write_number(2, 3, 120)?;
    let bytes = book.save_to_buffer()?;
    let mut parts = vec![Part::File("fichier", "valeurs.xlsx", &bytes)];
    parts.extend(MAPPING.iter().map(|(k, v)| Part::Text(k, v)));
    let report = post_multipart(&w, &w.dan, "/indicateurs/import", &parts, "same-origin").await?;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert!(
        report
            .body
            .contains("2 lignes lues · 1 valeurs écrites · 1 lignes rejetées"),
        "{}",
        report.body
    );
    assert!(
        report
            .body
            .contains("<th scope=\"row\">3</th><td>numerateur</td>"),
        "{}",
        report.body
    );
    assert_eq!(
        school_values(&w, &w.rennes_school, "2025-2026").await?,
        vec![(Some(300_000), Some(1_200_000))]
    );
    // A zip that is no workbook is named on the file field.
    let mut broken = vec![Part::File("fichier", "valeurs.xlsx", b"PK\x03\x04 cut short")];
    broken.extend(MAPPING.iter().map(|(k, v)| Part::Text(k, v)));
    let refused = post_multipart(&w, &w.dan, "/indicateurs/import", &broken, "same-origin").await?;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.body.contains("href=\"#f-fichier\""), "{}", refused.body);
    Ok(())
}

#[cfg(feature = "pdf")]
#[tokio::test]
async fn the_report_pack_is_a_pdf_with_one_page_per_project() -> Result<(), E> {
    let w = world().await?;
    let pdf = get(&w, &w.admin, "/api/v1/indicateurs/rapport.pdf").await?;
    assert_eq!(pdf.status, StatusCode::OK, "{}", pdf.body);
    assert_eq!(pdf.content_type, "application/pdf");
    assert!(pdf.bytes.starts_with(b"%PDF"));
    let text: String = pdf_text::extract(&pdf.bytes)?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let title: String = PROJECT_TITLE.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(text.contains(&title), "{text}");
    assert!(text.contains("TERM-100"));
    let national: String = french_ratio(w.national)?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    assert!(text.contains(&national), "{national} in {text}");
    // Only national readers.
    let refused = get(&w, &w.dan, "/api/v1/indicateurs/rapport.pdf").await?;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    Ok(())
}

/// Reads the text of a PDF back through hayro (as `crates/pdf/tests/render.rs` does).
#[cfg(feature = "pdf")]
mod pdf_text {
    use hayro_interpret::font::Glyph;
    use hayro_interpret::hayro_cmap::BfString;
    use hayro_interpret::hayro_syntax::Pdf;
    use hayro_interpret::{
        BlendMode, ClipPath, Context, Device, GlyphDrawMode, Image, InterpreterCache, InterpreterSettings,
        Paint, PathDrawMode, SoftMask, interpret_page,
    };
    use kurbo::{Affine, BezPath, Rect};

    #[derive(Default)]
    struct Collector {
        text: String,
    }

    impl Device<'_> for Collector {
        fn set_soft_mask(&mut self, _: Option<SoftMask<'_>>) {}
        fn set_blend_mode(&mut self, _: BlendMode) {}
        fn draw_path(&mut self, _: &BezPath, _: Affine, _: &Paint<'_>, _: &PathDrawMode) {}
        fn push_clip_path(&mut self, _: &ClipPath) {}
        fn push_transparency_group(&mut self, _: f32, _: Option<SoftMask<'_>>, _: BlendMode) {}
        fn draw_glyph(&mut self, glyph: &Glyph<'_>, _: Affine, _: Affine, _: &Paint<'_>, _: &GlyphDrawMode) {
            match glyph.as_unicode() {
                Some(BfString::Char(c)) => self.text.push(c),
                Some(BfString::String(s)) => self.text.push_str(&s),
                None => self.text.push('\u{fffd}'),
            }
        }
        fn draw_image(&mut self, _: Image<'_, '_>, _: Affine) {}
        fn pop_clip_path(&mut self) {}
        fn pop_transparency_group(&mut self) {}
    }

    pub fn extract(pdf: &[u8]) -> Result<String, Box<dyn std::error::Error>> {
        let pdf = Pdf::new(pdf.to_vec()).map_err(|err| format!("not a valid PDF: {err:?}"))?;
        let cache = InterpreterCache::new();
        let mut out = String::new();
        for page in pdf.pages().iter() {
            let mut context = Context::new(
                Affine::IDENTITY,
                Rect::new(0.0, 0.0, 1.0, 1.0),
                &cache,
                pdf.xref(),
                InterpreterSettings::default(),
            );
            let mut collector = Collector::default();
            interpret_page(page, &mut context, &mut collector);
            out.push_str(&collector.text);
        }
        Ok(out)
    }
}
