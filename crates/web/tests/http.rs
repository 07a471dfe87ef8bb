//! The web edge through its real router (no socket): the JSON API, its OpenAPI document,
//! the exports and the pages, on the engine named by `GOUVERNAIL_TEST_DATABASE`.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gouvernail_core::CoreError;
use gouvernail_core::territory::import::{self, AnnuaireOptions, NoProgress};
use gouvernail_core::testkit::{Seed, TestDb, shared_data_dir};
use gouvernail_web::{AppState, WebConfig};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

type R = Result<(), Box<dyn std::error::Error>>;

struct App {
    router: Router,
    _db: TestDb,
}

async fn app(with_schools: bool) -> Result<App, CoreError> {
    let t = TestDb::new(Seed::Referential).await?;
    if with_schools {
        let dir = shared_data_dir().ok_or_else(|| CoreError::Internal("../shared/data is missing".into()))?;
        let bytes = std::fs::read(dir.join("annuaire_education_35_extrait_2023-06.csv"))
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        import::import_annuaire(&t.db, bytes.as_slice(), AnnuaireOptions::default(), &NoProgress).await?;
    }
    let router = gouvernail_web::router(AppState::new(t.db.clone(), WebConfig::default()));
    Ok(App { router, _db: t })
}

struct Answer {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
    headers: axum::http::HeaderMap,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn get(app: &App, uri: &str) -> Result<Answer, Box<dyn std::error::Error>> {
    get_with(app, uri, &[]).await
}

async fn get_with(
    app: &App,
    uri: &str,
    headers: &[(&str, &str)],
) -> Result<Answer, Box<dyn std::error::Error>> {
    let mut req = Request::builder().uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let response = app.router.clone().oneshot(req.body(Body::empty())?).await?;
    let status = response.status();
    let headers = response.headers().clone();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response.into_body().collect().await?.to_bytes().to_vec();
    Ok(Answer {
        status,
        content_type,
        body,
        headers,
    })
}

#[tokio::test]
async fn academie_70_normandie_lists_its_departements() -> R {
    let app = app(false).await?;
    let a = get(&app, "/api/v1/academies/70").await?;
    assert_eq!(a.status, StatusCode::OK);
    let json = a.json();
    assert_eq!(json["nom"], "Normandie");
    assert_eq!(json["type"], "academie");
    assert_eq!(json["dateDebut"], "2020-01-01");
    let codes: Vec<&str> = json["departements"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert_eq!(codes, ["14", "27", "50", "61", "76"]);
    Ok(())
}

#[tokio::test]
async fn commune_35238_is_rennes_in_academie_14() -> R {
    let app = app(false).await?;
    let json = get(&app, "/api/v1/communes/35238").await?.json();
    assert_eq!(json["nom"], "Rennes");
    assert_eq!(json["codeAcademie"], "14");
    assert_eq!(json["codeDepartement"], "35");
    assert_eq!(json["siren"], "213502388");
    let list = get(&app, "/api/v1/communes?codeDepartement=35&nom=rennes")
        .await?
        .json();
    assert!(
        list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["code"] == "35238")
    );
    Ok(())
}

#[tokio::test]
async fn a_college_of_ille_et_vilaine_belongs_to_the_departement() -> R {
    let app = app(true).await?;
    let list = get(
        &app,
        "/api/v1/etablissements?codeDepartement=35&nature=college&statut=public&perPage=5",
    )
    .await?;
    assert_eq!(list.status, StatusCode::OK);
    let json = list.json();
    assert!(json["total"].as_i64().unwrap_or(0) > 50);
    assert_eq!(json["perPage"], 5);
    let uai = json["items"][0]["uai"].as_str().unwrap_or_default().to_owned();
    let one = get(&app, &format!("/api/v1/etablissements/{uai}")).await?.json();
    assert_eq!(one["sirenCollectivite"], "223500018");
    assert_eq!(one["famille"], "college");
    let dep = get(&app, "/api/v1/collectivites/223500018").await?.json();
    assert_eq!(dep["type"], "departement");
    assert_eq!(dep["departements"], serde_json::json!(["35"]));
    assert!(dep["nbEtablissements"].as_i64().unwrap_or(0) > 50);
    Ok(())
}

#[tokio::test]
async fn unknown_codes_are_404_and_malformed_ones_400_with_one_envelope() -> R {
    let app = app(false).await?;
    for (uri, status, code) in [
        ("/api/v1/academies/99", StatusCode::NOT_FOUND, "not_found"),
        ("/api/v1/academies/x1", StatusCode::BAD_REQUEST, "bad_request"),
        ("/api/v1/communes/35999", StatusCode::NOT_FOUND, "not_found"),
        ("/api/v1/communes/abc", StatusCode::BAD_REQUEST, "bad_request"),
        (
            "/api/v1/etablissements/0750655E",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/etablissements/0750655A",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/collectivites/223500019",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/collectivites/123456782",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        ("/api/v1/departements/ZZ", StatusCode::BAD_REQUEST, "bad_request"),
        (
            "/api/v1/communes?codeDepartement=999",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/communes?perPage=100000",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/communes?page=abc",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/communes?format=pdf",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/collectivites?type=mairie",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/etablissements?nature=usine",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
    ] {
        let a = get(&app, uri).await?;
        assert_eq!(a.status, status, "{uri}: {}", a.text());
        assert!(a.content_type.starts_with("application/json"), "{uri}");
        let json = a.json();
        assert_eq!(json["error"]["code"], code, "{uri}");
        assert!(
            json["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{uri}"
        );
    }
    // A malformed parameter is named.
    let json = get(&app, "/api/v1/communes?codeDepartement=999").await?.json();
    assert_eq!(json["error"]["fields"][0]["field"], "codeDepartement");
    Ok(())
}

#[tokio::test]
async fn lists_paginate_and_export_to_csv_and_xlsx_with_the_same_filters() -> R {
    let app = app(false).await?;
    let page = get(&app, "/api/v1/communes?codeDepartement=35&perPage=10&page=2").await?;
    let json = page.json();
    assert_eq!(json["total"], 332);
    assert_eq!(json["page"], 2);
    assert_eq!(json["pageCount"], 34);
    assert_eq!(json["items"].as_array().map(Vec::len), Some(10));
    assert_eq!(
        page.headers.get("x-total-count").and_then(|v| v.to_str().ok()),
        Some("332")
    );

    let csv = get(&app, "/api/v1/communes?codeDepartement=35&format=csv").await?;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.content_type.starts_with("text/csv"));
    let text = csv.text();
    assert!(
        text.starts_with("\u{FEFF}code;nom;codeDepartement;"),
        "{}",
        &text[..80.min(text.len())]
    );
    assert_eq!(text.matches("\r\n").count(), 333, "header and 332 communes");
    assert!(text.contains("35238;Rennes;35;Ille-et-Vilaine;53;14;213502388;"));
    assert!(
        csv.headers
            .get(header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("communes.csv"))
    );

    let xlsx = get(&app, "/api/v1/communes?codeDepartement=35&format=xlsx").await?;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.content_type.contains("spreadsheetml"));
    assert_eq!(&xlsx.body[..2], b"PK");

    for uri in [
        "/api/v1/regions?format=csv",
        "/api/v1/regions-academiques?format=xlsx",
        "/api/v1/academies?format=csv",
        "/api/v1/departements?format=csv",
        "/api/v1/collectivites?type=region&format=csv",
        "/api/v1/etablissements?format=xlsx",
    ] {
        assert_eq!(get(&app, uri).await?.status, StatusCode::OK, "{uri}");
    }
    let regions = get(&app, "/api/v1/collectivites?type=region&format=csv")
        .await?
        .text();
    assert_eq!(regions.matches("\r\n").count(), 15, "header and 14 régions");
    Ok(())
}

#[tokio::test]
async fn the_openapi_document_describes_every_operation() -> R {
    let app = app(false).await?;
    let a = get(&app, "/api/v1/openapi.json").await?;
    assert_eq!(a.status, StatusCode::OK);
    let doc = a.json();
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")));
    let paths = doc["paths"].as_object().ok_or("no paths")?;
    for path in [
        "/api/v1/regions",
        "/api/v1/departements",
        "/api/v1/academies",
        "/api/v1/academies/{code}",
        "/api/v1/communes",
        "/api/v1/communes/{code}",
        "/api/v1/collectivites",
        "/api/v1/collectivites/{siren}",
        "/api/v1/etablissements",
        "/api/v1/etablissements/{uai}",
        "/healthz",
        "/readyz",
    ] {
        let op = &paths.get(path).ok_or(format!("missing {path}"))?["get"];
        assert!(op["responses"]["200"].is_object(), "{path} has no 200");
        if path.starts_with("/api") {
            assert!(op["responses"]["400"].is_object(), "{path} has no 400");
        }
        if path.contains('{') {
            assert!(op["responses"]["404"].is_object(), "{path} has no 404");
        }
    }
    // Every documented operation answers (with the example identifiers).
    for path in paths.keys().filter(|p| paths[p.as_str()]["get"].is_object()) {
        let uri = path
            .replace(
                "{code}",
                if path.contains("communes") {
                    "35238"
                } else if path.contains("departements") {
                    "35"
                } else {
                    "14"
                },
            )
            .replace("{siren}", "223500018")
            .replace("{uai}", "0350122T");
        let status = get(&app, &uri).await?.status;
        // Operations that document a 401 need an account; the others are public.
        let expected = if paths[path.as_str()]["get"]["responses"]["401"].is_object() {
            status == StatusCode::UNAUTHORIZED
        } else {
            status == StatusCode::OK || status == StatusCode::NOT_FOUND
        };
        assert!(expected, "{uri}: {status}");
    }
    // The reference page is served from the binary.
    let page = get(&app, "/api").await?;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("/api/v1/etablissements/{uai}"));
    Ok(())
}

#[tokio::test]
async fn health_endpoints_answer() -> R {
    let app = app(false).await?;
    assert_eq!(get(&app, "/healthz").await?.json()["status"], "ok");
    let ready = get(&app, "/readyz").await?;
    assert_eq!(ready.status, StatusCode::OK);
    assert!(ready.json()["database"].is_string());
    Ok(())
}

#[tokio::test]
async fn pages_are_french_first_and_english_on_demand() -> R {
    let app = app(true).await?;
    let home = get(&app, "/").await?;
    assert_eq!(home.status, StatusCode::OK);
    let html = home.text();
    assert!(html.contains(r#"<html lang="fr""#));
    assert!(html.contains("République<br>française"));
    assert!(html.contains(r##"href="#contenu""##), "skip link");
    assert!(html.contains("Académie") || html.contains("académies"));

    let en = get(&app, "/academies/14?lang=en").await?.text();
    assert!(en.contains(r#"<html lang="en""#));
    assert!(en.contains("Académie of Rennes"));
    let cookie = get_with(&app, "/academies/14", &[("cookie", "lang=en")])
        .await?
        .text();
    assert!(cookie.contains(r#"<html lang="en""#));

    let switch = get(&app, "/langue/en?retour=/academies/14").await?;
    assert_eq!(switch.status, StatusCode::SEE_OTHER);
    assert_eq!(
        switch.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()),
        Some("/academies/14")
    );
    assert!(
        switch
            .headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("lang=en"))
    );
    // No open redirect through the language switch.
    let evil = get(&app, "/langue/en?retour=//evil.example").await?;
    assert_eq!(
        evil.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()),
        Some("/")
    );
    Ok(())
}

#[tokio::test]
async fn the_territory_can_be_browsed_down_to_a_school() -> R {
    let app = app(true).await?;
    let checks = [
        ("/regions-academiques/53", "Académie de Rennes"),
        ("/academies/14", "Ille-et-Vilaine"),
        ("/departements/35", "Département d’Ille-et-Vilaine"),
        ("/departements/35?nom=rennes", "Rennes"),
        ("/communes/35238", "213502388"),
        ("/collectivites/223500018", "Établissements dont elle assure"),
        ("/collectivites?type=region", "Région Bretagne"),
        ("/etablissements?codeDepartement=35&nature=lycee", "Lycée"),
        ("/recherche?q=saint-malo", "Saint-Malo"),
    ];
    for (uri, needle) in checks {
        let a = get(&app, uri).await?;
        assert_eq!(a.status, StatusCode::OK, "{uri}");
        assert!(a.text().contains(needle), "{uri} should show {needle}");
    }
    let school = get(&app, "/etablissements/0350122T").await?.text();
    assert!(school.contains("Ecole primaire publique les Lucioles"));
    assert!(school.contains("Baulon"), "its commune");
    // Its competent collectivité is its commune, Baulon.
    assert!(school.contains(r#"id="collectivite-competente""#));
    let search = get(&app, "/recherche?q=0350122T").await?;
    assert_eq!(search.status, StatusCode::SEE_OTHER);
    Ok(())
}

#[tokio::test]
async fn unknown_pages_and_objects_get_the_error_page() -> R {
    let app = app(false).await?;
    let missing = get(&app, "/nulle-part").await?;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.content_type.starts_with("text/html"));
    let bad = get(&app, "/etablissements/XYZ").await?;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text().contains("Demande invalide"));
    let none = get(&app, "/academies/99").await?;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn pages_escape_what_users_type() -> R {
    let app = app(false).await?;
    let a = get(&app, "/recherche?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await?;
    assert_eq!(a.status, StatusCode::OK);
    let html = a.text();
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"));
    Ok(())
}

#[tokio::test]
async fn responses_carry_security_headers_and_assets_are_served() -> R {
    let app = app(false).await?;
    let a = get(&app, "/").await?;
    assert_eq!(
        a.headers
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );
    assert!(a.headers.get("content-security-policy").is_some());
    assert!(a.headers.get("x-request-id").is_some());
    let css = get(&app, "/static/vendor/dsfr/dsfr.min.css").await?;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.content_type.starts_with("text/css"));
    assert_eq!(get(&app, "/static/nope.css").await?.status, StatusCode::NOT_FOUND);
    Ok(())
}
