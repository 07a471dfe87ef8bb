//! Indicators through the JSON API (real router, no socket), on the engine named by
//! `GOUVERNAIL_TEST_DATABASE`: an indicator created, values imported from CSV and XLSX with
//! named line errors, the consolidation with its completeness and drill-down and its CSV
//! export, the workflow, a campaign, and the open data files without signing in.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use base64::Engine as _;
use gouvernail_core::identity::Role;
use gouvernail_core::testkit::{Seed, TestDb};
use gouvernail_web::{AppState, WebConfig};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

mod common;

use common::E;

struct App {
    router: Router,
    admin: String,
    dan: String,
    uais: Vec<(String, String)>,
    _t: TestDb,
}

async fn token_of(
    db: &gouvernail_core::db::Db,
    email: &str,
    role: Role,
    perimeter: &str,
) -> Result<String, E> {
    common::new_account_token(db, email, Some((role, perimeter))).await
}

async fn app() -> Result<App, E> {
    let t = TestDb::new(Seed::Referential).await?;
    let communes = gouvernail_core::demo::seed_communes(&t.db).await?;
    let csv = gouvernail_core::demo::fictitious_annuaire(&communes, 300);
    gouvernail_core::territory::import::import_annuaire(
        &t.db,
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
    let uais: Vec<S> =
        t.db.fetch_all(gouvernail_core::db::Sql::new(
            "SELECT uai, code_academie FROM etablissement WHERE code_academie IS NOT NULL ORDER BY uai",
        ))
        .await?;
    let admin = token_of(&t.db, "admin@test.fr", Role::AdministrateurNational, "national").await?;
    let dan = token_of(&t.db, "dan@rennes.fr", Role::Dan, "academie:14").await?;
    let router = gouvernail_web::router(AppState::new(t.db.clone(), WebConfig::default()));
    Ok(App {
        router,
        admin,
        dan,
        uais: uais.into_iter().map(|s| (s.uai, s.code_academie)).collect(),
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
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn call(
    app: &App,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Result<Answer, E> {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let req = match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(Body::from(b.to_string()))?,
        None => req.body(Body::empty())?,
    };
    let response = app.router.clone().oneshot(req).await?;
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
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

#[tokio::test]
async fn indicators_are_collected_consolidated_exported_and_published() -> Result<(), E> {
    let app = app().await?;
    let admin = Some(app.admin.as_str());
    let dan = Some(app.dan.as_str());
    // The dictionary: a named error, then a ratio indicator.
    let bad = call(&app, Method::POST, "/api/v1/indicateurs", admin, Some(json!({
        "code": "term 100", "libelle": "", "sens": "haut", "type": "ratio", "agregation": "ratio-des-sommes",
        "periodicite": "annee-scolaire", "niveauSaisie": "etablissement"
    }))).await?;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text());
    let fields: Vec<String> = bad.json()["error"]["fields"]
        .as_array()
        .ok_or("fields")?
        .iter()
        .map(|f| f["field"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(fields, ["code", "libelle", "sens"]);
    let created = call(&app, Method::POST, "/api/v1/indicateurs", admin, Some(json!({
        "code": "TERM-100", "libelle": "Terminaux pour 100 élèves", "unite": "pour 100 élèves", "sens": "hausse",
        "type": "ratio", "agregation": "ratio-des-sommes", "periodicite": "annee-scolaire", "source": "etic",
        "niveauSaisie": "etablissement", "facteur": 100, "seuilVert": "30", "seuilRouge": "15", "public": true
    }))).await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["seuilVert"], "30");

    // Values by CSV (semicolons, decimal commas) with one bad line, and by XLSX.
    let rennes: Vec<&String> = app
        .uais
        .iter()
        .filter(|(_, a)| a == "14")
        .map(|(u, _)| u)
        .collect();
    let lyon: Vec<&String> = app
        .uais
        .iter()
        .filter(|(_, a)| a == "10")
        .map(|(u, _)| u)
        .collect();
    let csv = format!(
        "UAI;Terminaux;Élèves\n{};25;100\n{};12,5;50\n{};beaucoup;80\n",
        rennes[0], rennes[1], rennes[2]
    );
    let mapping = json!({ "perimetre": "UAI", "numerateur": "Terminaux", "denominateur": "Élèves" });
    let report = call(
        &app,
        Method::POST,
        "/api/v1/valeurs/import",
        dan,
        Some(json!({
            "contenu": csv, "colonnes": mapping, "indicateur": "TERM-100", "periode": "2025-2026"
        })),
    )
    .await?;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text());
    let r = report.json();
    assert_eq!(r["ecrites"], 2);
    assert_eq!(r["rejetees"][0]["ligne"], 4);
    assert_eq!(r["rejetees"][0]["champ"], "numerateur");
    // The DAN of Rennes may not write for Lyon: the line is named.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["UAI", "Terminaux", "Élèves"].iter().enumerate() {
        ws.write_string(0, u16::try_from(c)?, *h)?;
    }
    ws.write_string(1, 0, lyon[0].as_str())?;
    ws.write_number(1, 1, 30)?;
    ws.write_number(1, 2, 60)?;
    let xlsx = base64::engine::general_purpose::STANDARD.encode(wb.save_to_buffer()?);
    let body = json!({
        "contenuXlsxBase64": xlsx, "colonnes": mapping, "indicateur": "TERM-100", "periode": "2025-2026"
    });
    let r = call(
        &app,
        Method::POST,
        "/api/v1/valeurs/import",
        dan,
        Some(body.clone()),
    )
    .await?
    .json();
    assert_eq!(r["ecrites"], 0);
    assert_eq!(r["rejetees"][0]["champ"], "perimetre");
    let r = call(&app, Method::POST, "/api/v1/valeurs/import", admin, Some(body))
        .await?
        .json();
    assert_eq!(r["ecrites"], 1, "{r}");

    // National figure: (25 + 12.5 + 30) ÷ (100 + 50 + 60) × 100 = 32.1429.
    let c = call(
        &app,
        Method::GET,
        "/api/v1/indicateurs/TERM-100/consolidation?periode=2025-2026",
        admin,
        None,
    )
    .await?;
    assert_eq!(c.status, StatusCode::OK, "{}", c.text());
    let c = c.json();
    assert_eq!(c["chiffre"]["valeur"], "32.1429");
    assert_eq!(c["chiffre"]["numerateur"], "67.5");
    assert_eq!(c["chiffre"]["statutSeuil"], "vert");
    assert_eq!(c["niveauDetail"], "region-academique");
    assert_eq!(c["chiffre"]["completude"]["sourcesRenseignees"], 3);
    // By académie: 2 of 30 académies.
    let c = call(
        &app,
        Method::GET,
        "/api/v1/indicateurs/TERM-100/consolidation?periode=2025-2026&niveau=academie",
        admin,
        None,
    )
    .await?
    .json();
    assert_eq!(c["chiffre"]["completude"]["sousPerimetresRenseignes"], 2);
    assert_eq!(c["chiffre"]["completude"]["sousPerimetresAttendus"], 30);
    assert!(
        c["chiffre"]["completude"]["texte"]
            .as_str()
            .unwrap_or_default()
            .starts_with("2 académies sur 30")
    );
    let rennes_fig = c["detail"]
        .as_array()
        .ok_or("detail")?
        .iter()
        .find(|f| f["perimetre"] == "academie:14")
        .ok_or("Rennes")?;
    assert_eq!(rennes_fig["valeur"], "25"); // 37.5 ÷ 150
    // Drill-down to the values of Rennes, then one value's workflow.
    let c = call(
        &app,
        Method::GET,
        "/api/v1/indicateurs/TERM-100/consolidation?periode=2025-2026&perimetre=academie:14&niveau=etablissement",
        dan,
        None,
    )
    .await?
    .json();
    let id = c["detail"][0]["valeurId"].as_str().ok_or("value id")?.to_owned();
    let v = call(&app, Method::GET, &format!("/api/v1/valeurs/{id}"), dan, None)
        .await?
        .json();
    let v = call(
        &app,
        Method::POST,
        &format!("/api/v1/valeurs/{id}/validation"),
        dan,
        Some(json!({"version": v["version"]})),
    )
    .await?;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text());
    assert_eq!(v.json()["statut"], "validee");
    // A DAN of Rennes does not see Lyon's figure.
    let hidden = call(
        &app,
        Method::GET,
        "/api/v1/indicateurs/TERM-100/consolidation?periode=2025-2026&perimetre=academie:10",
        dan,
        None,
    )
    .await?;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let bad = call(
        &app,
        Method::GET,
        "/api/v1/indicateurs/TERM-100/consolidation?periode=2025",
        admin,
        None,
    )
    .await?;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"]["fields"][0]["field"], "periode");
    // CSV export of the consolidation (decimal comma).
    let file = call(
        &app,
        Method::GET,
        "/api/v1/indicateurs/TERM-100/consolidation?periode=2025-2026&niveau=academie&format=csv",
        admin,
        None,
    )
    .await?;
    assert!(file.content_type.starts_with("text/csv"), "{}", file.content_type);
    assert!(file.text().contains("32,1429"), "{}", file.text());

    // Open data: validated values only, no sign-in.
    let catalogue = call(&app, Method::GET, "/donnees/indicateurs", None, None)
        .await?
        .json();
    assert_eq!(catalogue[0]["csv"], "/donnees/indicateurs/TERM-100.csv");
    let open = call(&app, Method::GET, "/donnees/indicateurs/TERM-100.csv", None, None).await?;
    assert_eq!(open.status, StatusCode::OK);
    let text = open.text();
    assert!(
        text.starts_with("indicateur,periode,niveau,code,libelle,valeur"),
        "{text}"
    );
    // One validated value in Rennes: 25 ÷ 100 or 12.5 ÷ 50, both 25.
    assert!(
        text.contains("TERM-100,2025-2026,national,,National,25,"),
        "{text}"
    );
    let json = call(
        &app,
        Method::GET,
        "/donnees/indicateurs/TERM-100.json",
        None,
        None,
    )
    .await?
    .json();
    assert_eq!(json[0]["valeur"], json!(25));
    let schema = call(
        &app,
        Method::GET,
        "/donnees/indicateurs/TERM-100/schema.json",
        None,
        None,
    )
    .await?
    .json();
    assert_eq!(schema["fields"][5]["name"], "valeur");
    assert_eq!(schema["fields"][5]["type"], "number");
    let missing = call(&app, Method::GET, "/donnees/indicateurs/TERM-100.pdf", None, None).await?;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // A campaign: mails queued for Rennes' DAN.
    let close = (time::OffsetDateTime::now_utc().date() + time::Duration::days(20)).to_string();
    let c = call(&app, Method::POST, "/api/v1/campagnes", admin, Some(json!({
        "titre": "ETIC 2025-2026", "indicateurs": ["TERM-100"], "academies": ["14", "10"], "periode": "2025-2026",
        "cloture": close, "delaiGrace": 7
    }))).await?;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text());
    let c = c.json();
    assert_eq!(c["courrielsEnFile"], 1);
    let row = c["avancement"]
        .as_array()
        .ok_or("avancement")?
        .iter()
        .find(|a| a["academie"] == "14")
        .ok_or("Rennes")?
        .clone();
    assert_eq!(row["renseignes"], 2);
    let closed = call(
        &app,
        Method::POST,
        &format!(
            "/api/v1/campagnes/{}/cloture",
            c["id"].as_str().unwrap_or_default()
        ),
        admin,
        Some(json!({"version": c["version"]})),
    )
    .await?;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text());
    assert_eq!(closed.json()["statut"], "close");
    let locked = call(&app, Method::POST, "/api/v1/valeurs", dan, Some(json!({
        "indicateur": "TERM-100", "perimetre": format!("etablissement:{}", rennes[3]), "periode": "2025-2026",
        "numerateur": "1", "denominateur": "2"
    }))).await?;
    assert_eq!(
        locked.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        locked.text()
    );
    assert_eq!(locked.json()["error"]["fields"][0]["field"], "periode");
    Ok(())
}
