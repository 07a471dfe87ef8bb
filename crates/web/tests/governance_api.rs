//! Governance through the JSON API (real router, no socket), on the engine named by
//! `GOUVERNAIL_TEST_DATABASE`: a decision followed from one meeting to the next, the
//! register and its exports, named errors, the ICS documents and the minutes' PDF.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
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
    dan: String,
    secretary: String,
    _t: TestDb,
}

async fn token_of(db: &gouvernail_core::db::Db, email: &str, role: Option<Role>) -> Result<String, E> {
    common::new_account_token(db, email, role.map(|r| (r, "academie:14"))).await
}

async fn app() -> Result<App, E> {
    let t = TestDb::new(Seed::Referential).await?;
    let dan = token_of(&t.db, "dan@rennes.fr", Some(Role::Dan)).await?;
    let secretary = token_of(&t.db, "secretaire@rennes.fr", None).await?;
    let config = WebConfig {
        public_url: "https://gouvernail.example".into(),
        ..WebConfig::default()
    };
    let router = gouvernail_web::router(AppState::new(t.db.clone(), config));
    Ok(App {
        router,
        dan,
        secretary,
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

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// A body of académie 14 with its secretary; returns its id.
async fn body(app: &App) -> Result<String, E> {
    let created = call(
        app,
        Method::POST,
        "/api/v1/instances",
        Some(&app.dan),
        Some(json!({ "type": "comite-pilotage-academique", "nom": "Comité de pilotage", "perimetre": "academie:14" })),
    )
    .await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let id = s(&created.json()["id"]);
    for (nom, email, fonction) in [
        ("Sam Secrétaire", "secretaire@rennes.fr", "secretaire"),
        ("Rose Rectrice", "recteur@rennes.fr", "president"),
    ] {
        let m = call(
            app,
            Method::POST,
            &format!("/api/v1/instances/{id}/membres"),
            Some(&app.dan),
            Some(json!({ "nom": nom, "email": email, "fonction": fonction, "debut": "2025-09-01" })),
        )
        .await?;
        assert_eq!(m.status, StatusCode::CREATED, "{}", m.text());
    }
    Ok(id)
}

async fn meeting(app: &App, body: &str, start: &str, end: &str) -> Result<Value, E> {
    let m = call(
        app,
        Method::POST,
        &format!("/api/v1/instances/{body}/reunions"),
        Some(&app.secretary),
        Some(json!({ "debut": start, "fin": end, "lieu": "Rectorat" })),
    )
    .await?;
    assert_eq!(m.status, StatusCode::CREATED, "{}", m.text());
    Ok(m.json())
}

#[tokio::test]
async fn a_decision_of_meeting_1_follows_on_meeting_2_until_closed_then_shows_done() -> Result<(), E> {
    let app = app().await?;
    let body = body(&app).await?;
    let m1 = meeting(&app, &body, "2026-01-15T14:00", "2026-01-15T16:00").await?;
    // Paris time in, Paris time out.
    assert_eq!(s(&m1["debut"]), "2026-01-15T14:00:00+01:00");
    let d = call(
        &app,
        Method::POST,
        &format!("/api/v1/reunions/{}/decisions", s(&m1["id"])),
        Some(&app.secretary),
        Some(json!({ "titre": "Recenser les écoles sans ENT", "responsable": "recteur@rennes.fr", "echeance": "2026-03-01" })),
    )
    .await?;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text());
    let d = d.json();
    assert_eq!(s(&d["code"]), "D-1");
    assert_eq!(s(&d["responsable"]), "Rose Rectrice");

    let m2 = meeting(&app, &body, "2026-04-02T14:00", "2026-04-02T16:00").await?;
    let follow = &m2["suiviDesDecisions"];
    assert_eq!(follow.as_array().map(Vec::len), Some(1), "{m2}");
    assert_eq!(s(&follow[0]["code"]), "D-1");
    assert_eq!(s(&follow[0]["statut"]), "ouverte");

    let closed = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/decisions/{}", s(&d["id"])),
        Some(&app.dan),
        Some(json!({ "version": d["version"], "statut": "faite", "suivi": "Liste transmise" })),
    )
    .await?;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text());
    let m2 = call(
        &app,
        Method::GET,
        &format!("/api/v1/reunions/{}", s(&m2["id"])),
        Some(&app.dan),
        None,
    )
    .await?;
    assert_eq!(m2.json()["suiviDesDecisions"].as_array().map(Vec::len), Some(0));

    let register = call(
        &app,
        Method::GET,
        &format!("/api/v1/decisions?instance={body}"),
        Some(&app.dan),
        None,
    )
    .await?;
    assert_eq!(s(&register.json()["items"][0]["statut"]), "faite");
    let csv = call(
        &app,
        Method::GET,
        &format!("/api/v1/decisions?instance={body}&format=csv"),
        Some(&app.dan),
        None,
    )
    .await?;
    assert!(csv.content_type.starts_with("text/csv"), "{}", csv.content_type);
    let text = csv.text();
    assert!(text.starts_with('\u{feff}'), "BOM");
    assert!(text.contains("Comité de pilotage;1;15/01/2026;D-1;Recenser les écoles sans ENT;Rose Rectrice;01/03/2026;faite;non;Liste transmise;"), "{text}");
    let xlsx = call(
        &app,
        Method::GET,
        &format!("/api/v1/decisions?instance={body}&format=xlsx"),
        Some(&app.dan),
        None,
    )
    .await?;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.body.starts_with(b"PK"), "an XLSX is a zip");
    Ok(())
}

#[tokio::test]
async fn bad_input_names_the_field_and_stale_edits_get_409() -> Result<(), E> {
    let app = app().await?;
    let body = body(&app).await?;
    let bad = call(
        &app,
        Method::POST,
        &format!("/api/v1/instances/{body}/reunions"),
        Some(&app.dan),
        Some(json!({ "debut": "demain", "fin": "2026-01-15T13:00", "lieu": "" })),
    )
    .await?;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = bad.json()["error"]["fields"]
        .as_array()
        .map(|a| a.iter().map(|f| s(&f["field"])).collect())
        .unwrap_or_default();
    assert_eq!(fields, ["debut"], "{}", bad.text());
    let m = meeting(&app, &body, "2026-01-15T14:00", "2026-01-15T16:00").await?;
    let agenda = call(
        &app,
        Method::PUT,
        &format!("/api/v1/reunions/{}/ordre-du-jour", s(&m["id"])),
        Some(&app.dan),
        Some(json!({ "version": m["version"], "points": [{ "titre": "Un" }, { "titre": "Deux", "reference": "projet:INCONNU" }] })),
    )
    .await?;
    assert_eq!(agenda.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        s(&agenda.json()["error"]["fields"][0]["field"]),
        "ordreDuJour[1].reference"
    );
    let unknown = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/reunions/{}", s(&m["id"])),
        Some(&app.dan),
        Some(json!({ "version": m["version"], "salle": "B" })),
    )
    .await?;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused"
    );
    let first = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/reunions/{}", s(&m["id"])),
        Some(&app.dan),
        Some(json!({ "version": m["version"], "lieu": "Salle A" })),
    )
    .await?;
    assert_eq!(first.status, StatusCode::OK);
    let second = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/reunions/{}", s(&m["id"])),
        Some(&app.secretary),
        Some(json!({ "version": m["version"], "lieu": "Salle B" })),
    )
    .await?;
    assert_eq!(second.status, StatusCode::CONFLICT);
    // The DAN organises but does not write the minutes; the secretary does.
    let minutes = json!({ "texte": "# Relevé\n\n<script>alert(1)</script>" });
    let by_dan = call(
        &app,
        Method::PUT,
        &format!("/api/v1/reunions/{}/compte-rendu", s(&m["id"])),
        Some(&app.dan),
        Some(minutes.clone()),
    )
    .await?;
    assert_eq!(by_dan.status, StatusCode::FORBIDDEN);
    let by_secretary = call(
        &app,
        Method::PUT,
        &format!("/api/v1/reunions/{}/compte-rendu", s(&m["id"])),
        Some(&app.secretary),
        Some(minutes),
    )
    .await?;
    assert_eq!(by_secretary.status, StatusCode::OK, "{}", by_secretary.text());
    Ok(())
}

#[tokio::test]
async fn meetings_come_as_ics_and_each_person_has_a_revocable_feed() -> Result<(), E> {
    let app = app().await?;
    let body = body(&app).await?;
    let start = time::OffsetDateTime::now_utc() + time::Duration::days(7);
    let start = gouvernail_core::paris::local(start);
    let day = start.date();
    let m = meeting(&app, &body, &format!("{day}T09:30"), &format!("{day}T11:00")).await?;
    let ics = call(
        &app,
        Method::GET,
        &format!("/api/v1/reunions/{}/ics", s(&m["id"])),
        Some(&app.dan),
        None,
    )
    .await?;
    assert!(
        ics.content_type.starts_with("text/calendar"),
        "{}",
        ics.content_type
    );
    let text = ics.text();
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n"), "{text}");
    assert!(
        text.contains(&format!("UID:reunion-{}@gouvernail", s(&m["id"]))),
        "{text}"
    );
    assert!(
        text.contains("https://gouvernail.example/reunions/"),
        "links use the public address: {text}"
    );
    assert!(!text.contains("%GOUVERNAIL_URL%"));

    let feed = call(
        &app,
        Method::POST,
        "/api/v1/moi/agenda",
        Some(&app.secretary),
        None,
    )
    .await?;
    assert_eq!(feed.status, StatusCode::CREATED);
    let url = s(&feed.json()["url"]);
    let path = url
        .strip_prefix("https://gouvernail.example")
        .ok_or("feed under the public address")?;
    let anonymous = call(&app, Method::GET, path, None, None).await?;
    assert_eq!(anonymous.status, StatusCode::OK, "the token is the key");
    assert!(
        anonymous
            .text()
            .contains(&format!("UID:reunion-{}@gouvernail", s(&m["id"])))
    );
    let revoked = call(
        &app,
        Method::DELETE,
        "/api/v1/moi/agenda",
        Some(&app.secretary),
        None,
    )
    .await?;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(
        call(&app, Method::GET, path, None, None).await?.status,
        StatusCode::NOT_FOUND
    );
    Ok(())
}

#[cfg(feature = "pdf")]
#[tokio::test]
async fn the_minutes_export_to_pdf() -> Result<(), E> {
    let app = app().await?;
    let body = body(&app).await?;
    let m = meeting(&app, &body, "2026-01-15T14:00", "2026-01-15T16:00").await?;
    let id = s(&m["id"]);
    let members = call(
        &app,
        Method::GET,
        &format!("/api/v1/instances/{body}"),
        Some(&app.dan),
        None,
    )
    .await?
    .json();
    let sheet: Vec<Value> = members["membres"]
        .as_array()
        .ok_or("members")?
        .iter()
        .map(|x| json!({ "membre": x["id"], "statut": "present" }))
        .collect();
    let held = call(
        &app,
        Method::PUT,
        &format!("/api/v1/reunions/{id}/presences"),
        Some(&app.secretary),
        Some(json!({ "version": m["version"], "presences": sheet })),
    )
    .await?;
    assert_eq!(held.status, StatusCode::OK, "{}", held.text());
    let draft = call(
        &app,
        Method::PUT,
        &format!("/api/v1/reunions/{id}/compte-rendu"),
        Some(&app.secretary),
        Some(json!({ "texte": "# Relevé de conclusions\n\n### Un niveau sauté\n\n- Le comité valide la feuille de route.\n- <b>gras</b>" })),
    )
    .await?
    .json();
    let approved = call(
        &app,
        Method::POST,
        &format!("/api/v1/reunions/{id}/compte-rendu/approbation"),
        Some(&app.secretary),
        Some(json!({ "version": draft["version"] })),
    )
    .await?;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text());
    let pdf = call(
        &app,
        Method::GET,
        &format!("/api/v1/reunions/{id}/compte-rendu/pdf"),
        Some(&app.dan),
        None,
    )
    .await?;
    assert_eq!(pdf.status, StatusCode::OK, "{}", pdf.text());
    assert_eq!(pdf.content_type, "application/pdf");
    assert!(pdf.body.starts_with(b"%PDF-"));
    Ok(())
}
