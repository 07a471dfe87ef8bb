//! Equipment through the JSON API (real router, no socket), on the engine named by
//! `GOUVERNAIL_TEST_DATABASE`, over the demo's Ille-et-Vilaine: the gap analysis and its
//! exports, declarations with versions and named errors, an itemised import and a plan
//! keeping their good lines, a collectivité kept out of another's schools.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use gouvernail_core::identity::service;
use gouvernail_core::territory::import::{self, AnnuaireOptions, NoProgress};
use gouvernail_core::testkit::{Seed, TestDb};
use gouvernail_web::{AppState, WebConfig};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

mod common;

use common::E;

struct App {
    router: Router,
    dan: String,
    cd35: String,
    college: String,
    lycee: String,
    _t: TestDb,
}

async fn token_of(db: &gouvernail_core::db::Db, email: &str) -> Result<String, E> {
    let user = service::user_by_email(db, email).await?;
    common::token_for(db, &user.id).await
}

async fn app() -> Result<App, E> {
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
    let schools = gouvernail_core::equipment::demo::schools_35(db).await?;
    let first = |f: &str| {
        schools
            .iter()
            .find(|s| s.famille == f)
            .map(|s| s.uai.clone())
            .ok_or("school missing")
    };
    Ok(App {
        dan: token_of(db, "dan.rennes@demo.gouvernail.fr").await?,
        cd35: token_of(db, "cd35@demo.gouvernail.fr").await?,
        college: first("college")?,
        lycee: first("lycee")?,
        router: gouvernail_web::router(AppState::new(t.db.clone(), WebConfig::default())),
        _t: t,
    })
}

struct Answer {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

async fn call(
    app: &App,
    method: Method,
    uri: &str,
    token: &str,
    body: Option<Body>,
    csv: bool,
) -> Result<Answer, E> {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"));
    if body.is_some() {
        req = req.header("content-type", if csv { "text/csv" } else { "application/json" });
    }
    let response = app
        .router
        .clone()
        .oneshot(req.body(body.unwrap_or_else(Body::empty))?)
        .await?;
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response.into_body().collect().await?.to_bytes().to_vec();
    Ok(Answer {
        status,
        content_type,
        body,
    })
}

fn json_body(v: &Value) -> Option<Body> {
    Some(Body::from(v.to_string()))
}

#[tokio::test]
async fn the_gap_analysis_answers_in_json_csv_and_xlsx() -> Result<(), E> {
    let app = app().await?;
    let a = call(
        &app,
        Method::GET,
        "/api/v1/ecarts?perimetre=departement:35",
        &app.dan,
        None,
        false,
    )
    .await?;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json());
    let v = a.json();
    assert!(v["besoins"].as_array().is_some_and(|b| b.len() >= 3), "{v}");
    assert!(
        v["totaux"]["manquantsAujourdHui"].as_i64().is_some_and(|n| n > 0),
        "{v}"
    );
    assert!(
        v["totaux"]["equipesSansProjet"].as_i64().is_some_and(|n| n > 0),
        "{v}"
    );
    assert!(
        v["collectivites"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["siren"] == "223500018"))
    );
    let csv = call(
        &app,
        Method::GET,
        "/api/v1/ecarts?perimetre=departement:35&format=csv",
        &app.dan,
        None,
        false,
    )
    .await?;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.content_type.starts_with("text/csv"), "{}", csv.content_type);
    assert!(csv.body.starts_with("\u{feff}siren;nom;".as_bytes()));
    let xlsx = call(
        &app,
        Method::GET,
        "/api/v1/ecarts?perimetre=departement:35&format=xlsx",
        &app.dan,
        None,
        false,
    )
    .await?;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.body.starts_with(b"PK"));
    let list = call(
        &app,
        Method::GET,
        "/api/v1/ecarts/etablissements?perimetre=departement:35&type=cible-sans-equipement&perPage=5",
        &app.dan,
        None,
        false,
    )
    .await?;
    let v = list.json();
    assert_eq!(list.status, StatusCode::OK, "{v}");
    assert!(v["total"].as_i64().is_some_and(|n| n > 5), "{v}");
    assert_eq!(v["items"].as_array().map(Vec::len), Some(5));
    assert!(v["items"][0]["besoinLibelle"].is_string(), "{v}");
    let bad = call(
        &app,
        Method::GET,
        "/api/v1/ecarts/etablissements?type=autre",
        &app.dan,
        None,
        false,
    )
    .await?;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The Département reads its own summary, not the académie's.
    let own = call(
        &app,
        Method::GET,
        "/api/v1/ecarts?perimetre=collectivite:223500018",
        &app.cd35,
        None,
        false,
    )
    .await?;
    assert_eq!(own.status, StatusCode::OK);
    let other = call(
        &app,
        Method::GET,
        "/api/v1/ecarts?perimetre=academie:14",
        &app.cd35,
        None,
        false,
    )
    .await?;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let ratios = call(
        &app,
        Method::GET,
        "/api/v1/equipements/taux?perimetre=departement:35",
        &app.dan,
        None,
        false,
    )
    .await?;
    assert_eq!(ratios.status, StatusCode::OK);
    assert_eq!(ratios.json()[0]["code"], "35");
    Ok(())
}

#[tokio::test]
async fn declarations_imports_and_plans_keep_to_the_collectivite_s_schools() -> Result<(), E> {
    let app = app().await?;
    let uri = format!("/api/v1/equipements/{}", app.college);
    let inv = call(&app, Method::GET, &uri, &app.cd35, None, false)
        .await?
        .json();
    let version = inv["version"].as_i64().ok_or("no version")?;
    assert_eq!(inv["peutDeclarer"], true);
    let declaration = |version: i64, quantity: i64| {
        json!({ "version": version, "valeurs": [
            { "categorie": "classe-mobile", "quantite": quantity },
            { "categorie": "debit", "tranche": "1000-plus" }
        ] })
    };
    let stale = call(
        &app,
        Method::PUT,
        &uri,
        &app.cd35,
        json_body(&declaration(version + 3, 2)),
        false,
    )
    .await?;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let bad = call(
        &app,
        Method::PUT,
        &uri,
        &app.cd35,
        json_body(&declaration(version, -2)),
        false,
    )
    .await?;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["error"]["fields"][0]["field"], "valeurs[0].quantite");
    let ok = call(
        &app,
        Method::PUT,
        &uri,
        &app.cd35,
        json_body(&declaration(version, 2)),
        false,
    )
    .await?;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.json());
    let v = ok.json();
    assert_eq!(v["version"], version + 1);
    assert!(v["valeurs"].as_array().is_some_and(|vals| {
        vals.iter()
            .any(|x| x["categorie"] == "debit" && x["quantite"] == 1000)
    }));
    assert!(v["historique"].as_array().is_some_and(|h| !h.is_empty()));
    // The DAN reads, comments, does not declare.
    let dan_put = call(
        &app,
        Method::PUT,
        &uri,
        &app.dan,
        json_body(&declaration(version + 1, 3)),
        false,
    )
    .await?;
    assert_eq!(dan_put.status, StatusCode::FORBIDDEN);
    let comment = call(
        &app,
        Method::POST,
        &format!("{uri}/commentaires"),
        &app.dan,
        json_body(&json!({ "texte": "Merci" })),
        false,
    )
    .await?;
    assert_eq!(comment.status, StatusCode::CREATED);
    // The Région's lycée is out of the Département's sight.
    let lycee = call(
        &app,
        Method::PUT,
        &format!("/api/v1/equipements/{}", app.lycee),
        &app.cd35,
        json_body(&declaration(1, 1)),
        false,
    )
    .await?;
    assert_eq!(lycee.status, StatusCode::NOT_FOUND);
    // An itemised import keeps the good lines and names the others.
    let csv = format!(
        "uai;type;date d'achat\n{c};Ordinateur portable;2025-01-15\n{l};Tablette;2025-01-15\n{c};Tablette;2025-13-01\n",
        c = app.college,
        l = app.lycee
    );
    let report = call(
        &app,
        Method::POST,
        "/api/v1/equipements/import",
        &app.cd35,
        Some(Body::from(csv)),
        true,
    )
    .await?;
    assert_eq!(report.status, StatusCode::OK);
    let r = report.json();
    assert_eq!(r["acceptees"], 1, "{r}");
    let fields: Vec<&str> = r["refusees"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(fields, ["ligne 3 : uai", "ligne 4 : date_achat"]);
    // A plan: the lycée's line is refused and named, the collège's kept; amounts exact.
    let plan = call(
        &app,
        Method::POST,
        "/api/v1/plans-equipement",
        &app.cd35,
        json_body(&json!({
            "collectivite": "223500018", "titre": "Plan API", "premiereAnnee": 2026, "derniereAnnee": 2027,
            "lignes": [
                { "annee": 2026, "uai": app.lycee, "categorie": "tablette", "quantite": 4 },
                { "annee": 2027, "uai": app.college, "categorie": "tablette", "quantite": 4, "budget": "1234,56",
                  "financement": "etat", "cofinance": "600" }
            ],
            "contrats": [{ "prestataire": "Maintenance SA", "objet": "Sur site", "debut": "2026-01-01", "fin": "2025-12-31" }]
        })),
        false,
    )
    .await?;
    let p = plan.json();
    assert_eq!(plan.status, StatusCode::CREATED, "{p}");
    assert_eq!(p["lignes"].as_array().map(Vec::len), Some(1));
    assert_eq!(p["lignes"][0]["budget"], "1234.56");
    let fields: Vec<&str> = p["refusees"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(fields, ["lignes[0].uai", "contrats[0].fin"]);
    let id = p["id"].as_str().ok_or("no id")?;
    let stale = call(
        &app,
        Method::PUT,
        &format!("/api/v1/plans-equipement/{id}"),
        &app.cd35,
        json_body(&json!({ "version": 7, "titre": "Autre" })),
        false,
    )
    .await?;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    Ok(())
}
