//! Conventions through the JSON API (real router, no socket), on the engine named by
//! `GOUVERNAIL_TEST_DATABASE`: bad input named by field, stale saves, the cross-view of one
//! collectivité's commitments (late first), an amendment and the comparison of versions,
//! exact totals, the register's exports, the PDF and the perimeter of a collectivité.

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

const CD35: &str = "collectivite:223500018";
const CD13: &str = "collectivite:221300015";
const RENNES: &str = "academie:14";

struct App {
    router: Router,
    dan: String,
    cd35: String,
    cd13: String,
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
    let dan = token_of(&t.db, "dan@rennes.fr", Role::Dan, RENNES).await?;
    let cd35 = token_of(
        &t.db,
        "numerique@ille-et-vilaine.fr",
        Role::RepresentantCollectivite,
        CD35,
    )
    .await?;
    let cd13 = token_of(
        &t.db,
        "numerique@departement13.fr",
        Role::RepresentantCollectivite,
        CD13,
    )
    .await?;
    let router = gouvernail_web::router(AppState::new(t.db.clone(), WebConfig::default()));
    Ok(App {
        router,
        dan,
        cd35,
        cd13,
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
    /// The fields named by an error answer.
    fn fields(&self) -> Vec<String> {
        self.json()["error"]["fields"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| f["field"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
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

fn party(reference: &str, signed: Option<&str>) -> Value {
    json!({
        "reference": reference,
        "representant": format!("Représentant de {reference}"),
        "qualite": "Signataire habilité",
        "dateSignature": signed,
    })
}

/// A convention of Rennes and the Département d'Ille-et-Vilaine, signed in 2025 and in force.
fn signed_text(title: &str, commitments: Value, annex: Value) -> Value {
    json!({
        "type": "bipartite",
        "titre": title,
        "objet": "Le numérique dans les collèges",
        "visas": ["Code de l'éducation, art. L213-2"],
        "parties": [party(RENNES, Some("2025-01-10")), party(CD35, Some("2025-01-20"))],
        "perimetre": ["departement:35"],
        "dateEffet": "2025-02-01",
        "dateFin": "2029-01-31",
        "reconduction": "expresse",
        "engagements": commitments,
        "annexe": annex,
    })
}

async fn create(app: &App, text: Value) -> Result<Value, E> {
    let created = call(
        app,
        Method::POST,
        "/api/v1/conventions",
        Some(&app.dan),
        Some(text),
    )
    .await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    Ok(created.json())
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field() -> Result<(), E> {
    let app = app().await?;
    let base = signed_text("Convention de test", json!([]), json!([]));
    let cases: Vec<(Value, &str)> = vec![
        // A well-formed SIREN that is not in the referential.
        (
            {
                let mut t = base.clone();
                t["parties"][1] = party("collectivite:123456782", None);
                t
            },
            "parties[1]",
        ),
        // A SIREN with a wrong key.
        (
            {
                let mut t = base.clone();
                t["parties"][1] = party("collectivite:223500019", None);
                t
            },
            "parties[1].siren",
        ),
        (
            {
                let mut t = base.clone();
                t["dateEffet"] = json!("2026-06-01");
                t["dateFin"] = json!("2026-01-01");
                t
            },
            "dateFin",
        ),
        (
            {
                let mut t = base.clone();
                t["annexe"] = json!([
                    { "annee": 2025, "partie": RENNES, "nature": "investissement", "montant": "80 000" },
                    { "annee": 2025, "partie": CD35, "nature": "investissement", "montant": "20 000" }
                ]);
                t["cofinancements"] = json!([{ "financeur": RENNES, "type": "taux", "tauxMin": 0, "tauxMax": 10000, "plafond": "50 000" }]);
                t
            },
            "annexe[0].montant",
        ),
        (
            {
                let mut t = base.clone();
                t["engagements"] =
                    json!([{ "partie": CD13, "categorie": "equipement", "description": "Des tablettes" }]);
                t
            },
            "engagements[0].partie",
        ),
    ];
    for (text, field) in cases {
        let answer = call(
            &app,
            Method::POST,
            "/api/v1/conventions",
            Some(&app.dan),
            Some(text),
        )
        .await?;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            answer.text()
        );
        assert!(
            answer.fields().iter().any(|f| f == field),
            "{field} not named: {}",
            answer.text()
        );
    }
    // A malformed filter is a 400 naming it.
    let answer = call(
        &app,
        Method::GET,
        "/api/v1/conventions?statut=perdue",
        Some(&app.dan),
        None,
    )
    .await?;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    assert_eq!(answer.fields(), ["statut"]);
    Ok(())
}

#[tokio::test]
async fn a_stale_save_gets_409_and_a_signed_text_changes_only_by_amendment() -> Result<(), E> {
    let app = app().await?;
    let mut draft = signed_text("Projet de convention", json!([]), json!([]));
    draft["parties"] = json!([party(RENNES, None), party(CD35, None)]);
    let created = create(&app, draft.clone()).await?;
    let id = s(&created["id"]);
    assert_eq!(created["statut"], "projet");
    let version = created["version"].as_i64().ok_or("version")?;
    let mut edit = draft.clone();
    edit["version"] = json!(version);
    edit["titre"] = json!("Projet de convention revu");
    let saved = call(
        &app,
        Method::PUT,
        &format!("/api/v1/conventions/{id}"),
        Some(&app.dan),
        Some(edit.clone()),
    )
    .await?;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    // The same version again: someone saved in between.
    let stale = call(
        &app,
        Method::PUT,
        &format!("/api/v1/conventions/{id}"),
        Some(&app.dan),
        Some(edit),
    )
    .await?;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text());
    assert_eq!(stale.json()["error"]["code"], "conflict");
    // Without a version: named.
    let missing = call(
        &app,
        Method::PUT,
        &format!("/api/v1/conventions/{id}"),
        Some(&app.dan),
        Some(draft.clone()),
    )
    .await?;
    assert_eq!(missing.fields(), ["version"]);
    // Signing: every party's date; then in force, and the text is frozen.
    let mut signed = signed_text("Projet de convention revu", json!([]), json!([]));
    signed["version"] = saved.json()["version"].clone();
    let signed = call(
        &app,
        Method::PUT,
        &format!("/api/v1/conventions/{id}"),
        Some(&app.dan),
        Some(signed),
    )
    .await?;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.text());
    assert_eq!(signed.json()["statut"], "en-vigueur");
    let mut again = signed_text("Titre changé sans avenant", json!([]), json!([]));
    again["version"] = signed.json()["version"].clone();
    let frozen = call(
        &app,
        Method::PUT,
        &format!("/api/v1/conventions/{id}"),
        Some(&app.dan),
        Some(again),
    )
    .await?;
    assert_eq!(frozen.status, StatusCode::CONFLICT, "{}", frozen.text());
    // An event with a stale version is refused too.
    let event = call(
        &app,
        Method::POST,
        &format!("/api/v1/conventions/{id}/evenements"),
        Some(&app.dan),
        Some(json!({ "version": version, "type": "resiliation", "date": "2026-12-31" })),
    )
    .await?;
    assert_eq!(event.status, StatusCode::CONFLICT, "{}", event.text());
    Ok(())
}

#[tokio::test]
async fn the_cross_view_lists_every_commitment_of_a_collectivite_late_first() -> Result<(), E> {
    let app = app().await?;
    let commitment = |party: &str, description: &str, due: &str| json!({ "partie": party, "categorie": "equipement", "description": description, "echeance": due });
    let a = create(
        &app,
        signed_text(
            "Convention A",
            json!([
                commitment(CD35, "A1 à venir", "2099-06-30"),
                commitment(CD35, "A2 en retard", "2025-06-30"),
                commitment(RENNES, "A3 de l'académie", "2025-06-30"),
            ]),
            json!([]),
        ),
    )
    .await?;
    let b = create(
        &app,
        signed_text(
            "Convention B",
            json!([
                commitment(CD35, "B1 en retard", "2025-03-31"),
                commitment(CD35, "B2 à venir", "2098-01-01")
            ]),
            json!([]),
        ),
    )
    .await?;
    let b2 = b["engagements"]
        .as_array()
        .ok_or("engagements")?
        .iter()
        .find(|e| e["description"] == "B2 à venir")
        .ok_or("B2")?
        .clone();
    let view = call(
        &app,
        Method::GET,
        &format!("/api/v1/engagements?partie={CD35}"),
        Some(&app.dan),
        None,
    )
    .await?;
    assert_eq!(view.status, StatusCode::OK, "{}", view.text());
    let items = view.json()["items"].as_array().ok_or("items")?.clone();
    let described: Vec<String> = items.iter().map(|i| s(&i["description"])).collect();
    assert_eq!(described.len(), 4, "{described:?}");
    assert!(
        described[0].ends_with("en retard") && described[1].ends_with("en retard"),
        "{described:?}"
    );
    assert_eq!(
        described[0], "B1 en retard",
        "the oldest late first: {described:?}"
    );
    assert!(items.iter().all(|i| i["partie"] == CD35));
    assert_eq!(items[0]["enRetard"], true);
    assert_eq!(items[0]["statut"], "en-retard");
    assert_eq!(items[0]["conventionTitre"], "Convention B");
    let titles: std::collections::BTreeSet<String> = items.iter().map(|i| s(&i["conventionTitre"])).collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    // The collectivité's representative sees the same, and reports on its own commitment.
    let own = call(
        &app,
        Method::GET,
        &format!("/api/v1/engagements?partie={CD35}"),
        Some(&app.cd35),
        None,
    )
    .await?;
    assert_eq!(own.json()["total"], 4, "{}", own.text());
    let reported = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/engagements/{}", s(&b2["id"])),
        Some(&app.cd35),
        Some(json!({ "version": b2["version"], "statut": "en-cours", "note": "Commande passée", "lien": "https://ille-et-vilaine.fr/marche" })),
    )
    .await?;
    assert_eq!(reported.status, StatusCode::OK, "{}", reported.text());
    assert_eq!(reported.json()["statut"], "en-cours");
    // A stale report: 409; a bad link: named.
    let stale = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/engagements/{}", s(&b2["id"])),
        Some(&app.cd35),
        Some(json!({ "version": b2["version"], "statut": "tenu" })),
    )
    .await?;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text());
    let bad = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/engagements/{}", s(&b2["id"])),
        Some(&app.cd35),
        Some(json!({ "version": reported.json()["version"], "lien": "pas un lien" })),
    )
    .await?;
    assert_eq!(bad.fields(), ["lien"], "{}", bad.text());
    // Not the académie's commitment: the representative may not report on it.
    let a3 = a["engagements"]
        .as_array()
        .ok_or("engagements")?
        .iter()
        .find(|e| e["partie"] == RENNES)
        .ok_or("A3")?
        .clone();
    let refused = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/engagements/{}", s(&a3["id"])),
        Some(&app.cd35),
        Some(json!({ "version": a3["version"], "statut": "tenu" })),
    )
    .await?;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    // The DAN's late commitments: the three late ones, of both conventions.
    let late = call(
        &app,
        Method::GET,
        "/api/v1/engagements?academie=14",
        Some(&app.dan),
        None,
    )
    .await?;
    assert_eq!(late.status, StatusCode::OK, "{}", late.text());
    let late: Vec<String> = late.json()["items"]
        .as_array()
        .ok_or("items")?
        .iter()
        .map(|i| s(&i["description"]))
        .collect();
    assert_eq!(late, ["B1 en retard", "A2 en retard", "A3 de l'académie"]);
    // The cross-view as a spreadsheet.
    let csv = call(
        &app,
        Method::GET,
        &format!("/api/v1/engagements?partie={CD35}&format=csv"),
        Some(&app.dan),
        None,
    )
    .await?;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.text().contains("B1 en retard"), "{}", csv.text());
    Ok(())
}

#[tokio::test]
async fn an_amendment_changes_a_commitment_and_an_amount_and_the_comparison_shows_exactly_that()
-> Result<(), E> {
    let app = app().await?;
    let created = create(
        &app,
        signed_text(
            "Convention financée",
            json!([
                { "partie": CD35, "categorie": "equipement", "description": "40 écrans", "quantite": 40, "montant": "120 000,10", "echeance": "2099-09-01" },
                { "partie": RENNES, "categorie": "formation", "description": "Former les référents", "echeance": "2099-06-30" }
            ]),
            json!([
                { "annee": 2025, "partie": CD35, "nature": "investissement", "montant": "100 000,10", "libelle": "Écrans" },
                { "annee": 2025, "partie": RENNES, "nature": "fonctionnement", "montant": 0.2, "libelle": "Formation" },
                { "annee": 2026, "partie": CD35, "nature": "investissement", "montant": "50 000,05" }
            ]),
        ),
    )
    .await?;
    let id = s(&created["id"]);
    assert_eq!(created["totaux"]["total"], "150000.35");
    // The current text, changed: E1's quantity and amount, one annex amount.
    let mut text = created.clone();
    let amended = json!({
        "type": "bipartite",
        "titre": "Convention financée",
        "objet": text["objet"],
        "visas": text["visas"],
        "parties": [party(RENNES, Some("2025-01-10")), party(CD35, Some("2025-01-20"))],
        "perimetre": ["departement:35"],
        "dateEffet": "2025-02-01",
        "dateFin": "2029-01-31",
        "reconduction": "expresse",
        "engagements": [
            { "code": "E1", "partie": CD35, "categorie": "equipement", "description": "40 écrans", "quantite": 60, "montant": "180 000,15", "echeance": "2099-09-01" },
            { "code": "E2", "partie": RENNES, "categorie": "formation", "description": "Former les référents", "echeance": "2099-06-30" }
        ],
        "annexe": [
            { "annee": 2025, "partie": CD35, "nature": "investissement", "montant": "100 000,10", "libelle": "Écrans" },
            { "annee": 2025, "partie": RENNES, "nature": "fonctionnement", "montant": "0,20", "libelle": "Formation" },
            { "annee": 2026, "partie": CD35, "nature": "investissement", "montant": "70 000,07" }
        ],
    });
    text = call(
        &app,
        Method::POST,
        &format!("/api/v1/conventions/{id}/avenants"),
        Some(&app.dan),
        Some(json!({ "version": created["version"], "date": "2026-01-15", "objet": "Soixante écrans", "texte": amended })),
    )
    .await?
    .json();
    assert_eq!(text["versionTexte"], 1, "{text}");
    assert_eq!(text["avenants"][0]["numero"], 1);
    assert_eq!(text["totaux"]["total"], "170000.37");
    let by_year: Vec<(i64, String)> = text["totaux"]["parAnnee"]
        .as_array()
        .ok_or("parAnnee")?
        .iter()
        .map(|t| (t["annee"].as_i64().unwrap_or_default(), s(&t["montant"])))
        .collect();
    assert_eq!(
        by_year,
        [(2025, "100000.30".to_owned()), (2026, "70000.07".to_owned())]
    );
    let by_funder: Vec<(String, String)> = text["totaux"]["parFinanceur"]
        .as_array()
        .ok_or("parFinanceur")?
        .iter()
        .map(|t| (s(&t["partie"]), s(&t["montant"])))
        .collect();
    assert_eq!(
        by_funder,
        [
            (RENNES.to_owned(), "0.20".to_owned()),
            (CD35.to_owned(), "170000.17".to_owned())
        ]
    );
    let versions = call(
        &app,
        Method::GET,
        &format!("/api/v1/conventions/{id}/versions"),
        Some(&app.dan),
        None,
    )
    .await?;
    assert_eq!(versions.json().as_array().map(Vec::len), Some(2));
    let changes = call(
        &app,
        Method::GET,
        &format!("/api/v1/conventions/{id}/comparaison?a=0&b=1"),
        Some(&app.dan),
        None,
    )
    .await?;
    assert_eq!(changes.status, StatusCode::OK, "{}", changes.text());
    let changes: Vec<(String, String, String, String)> = changes
        .json()
        .as_array()
        .ok_or("changes")?
        .iter()
        .map(|c| (s(&c["element"]), s(&c["champ"]), s(&c["avant"]), s(&c["apres"])))
        .collect();
    assert_eq!(
        changes,
        [
            (
                format!("annexe 2026 {CD35} investissement"),
                "montant".to_owned(),
                "50000.05".to_owned(),
                "70000.07".to_owned()
            ),
            (
                "engagement E1".to_owned(),
                "montant".to_owned(),
                "120000.10".to_owned(),
                "180000.15".to_owned()
            ),
            (
                "engagement E1".to_owned(),
                "quantite".to_owned(),
                "40".to_owned(),
                "60".to_owned()
            ),
        ]
    );
    // The history says who changed what.
    let history = call(
        &app,
        Method::GET,
        &format!("/api/v1/conventions/{id}/historique"),
        Some(&app.dan),
        None,
    )
    .await?;
    let actions: Vec<String> = history
        .json()
        .as_array()
        .ok_or("history")?
        .iter()
        .map(|e| s(&e["action"]))
        .collect();
    assert_eq!(actions, ["avenant", "creer"]);
    // An unknown version: 404.
    let unknown = call(
        &app,
        Method::GET,
        &format!("/api/v1/conventions/{id}/comparaison?a=0&b=7"),
        Some(&app.dan),
        None,
    )
    .await?;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn the_register_exports_and_a_collectivite_of_another_departement_sees_nothing() -> Result<(), E> {
    let app = app().await?;
    let c = create(
        &app,
        signed_text(
            "Convention du registre",
            json!([{ "partie": CD35, "categorie": "ent", "description": "Abonnement ENT", "echeance": "2025-06-30" }]),
            json!([{ "annee": 2025, "partie": CD35, "nature": "investissement", "montant": "1 234,56" }]),
        ),
    )
    .await?;
    let id = s(&c["id"]);
    let list = call(
        &app,
        Method::GET,
        "/api/v1/conventions?statut=en-vigueur&departement=35",
        Some(&app.dan),
        None,
    )
    .await?;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    assert_eq!(list.json()["total"], 1);
    assert_eq!(list.json()["items"][0]["montantTotal"], "1234.56");
    assert_eq!(list.json()["items"][0]["conformite"]["enRetard"], 1);
    let elsewhere = call(
        &app,
        Method::GET,
        "/api/v1/conventions?departement=13",
        Some(&app.dan),
        None,
    )
    .await?;
    assert_eq!(elsewhere.json()["total"], 0);
    let csv = call(
        &app,
        Method::GET,
        "/api/v1/conventions?format=csv",
        Some(&app.dan),
        None,
    )
    .await?;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.content_type.starts_with("text/csv"), "{}", csv.content_type);
    let text = csv.text();
    assert!(
        text.contains("Convention du registre") && text.contains("1234,56"),
        "{text}"
    );
    let xlsx = call(
        &app,
        Method::GET,
        "/api/v1/conventions?format=xlsx",
        Some(&app.dan),
        None,
    )
    .await?;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.body.starts_with(b"PK"), "an XLSX file is a zip");
    // The party's representative reads it; the Bouches-du-Rhône's does not even see it.
    let own = call(
        &app,
        Method::GET,
        &format!("/api/v1/conventions/{id}"),
        Some(&app.cd35),
        None,
    )
    .await?;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(own.json()["peutModifier"], false);
    assert_eq!(own.json()["peutRendreCompte"], json!([CD35]));
    let other = call(
        &app,
        Method::GET,
        &format!("/api/v1/conventions/{id}"),
        Some(&app.cd13),
        None,
    )
    .await?;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let list = call(&app, Method::GET, "/api/v1/conventions", Some(&app.cd13), None).await?;
    assert_eq!(list.json()["total"], 0);
    let cross = call(
        &app,
        Method::GET,
        &format!("/api/v1/engagements?partie={CD35}"),
        Some(&app.cd13),
        None,
    )
    .await?;
    assert_eq!(cross.json()["total"], 0);
    #[cfg(feature = "pdf")]
    {
        let pdf = call(
            &app,
            Method::GET,
            &format!("/api/v1/conventions/{id}/pdf"),
            Some(&app.cd13),
            None,
        )
        .await?;
        assert_eq!(pdf.status, StatusCode::NOT_FOUND);
    }
    // Reading is not writing: the representative may not amend.
    let amend = call(
        &app,
        Method::POST,
        &format!("/api/v1/conventions/{id}/avenants"),
        Some(&app.cd35),
        Some(json!({ "version": c["version"], "date": "2026-01-15", "objet": "Essai", "texte": signed_text("Essai", json!([]), json!([])) })),
    )
    .await?;
    assert_eq!(amend.status, StatusCode::FORBIDDEN, "{}", amend.text());
    Ok(())
}

#[cfg(feature = "pdf")]
#[tokio::test]
async fn the_convention_exports_to_a_pdf_with_its_commitments_and_annex() -> Result<(), E> {
    let app = app().await?;
    let c = create(
        &app,
        signed_text(
            "Convention imprimable",
            json!([
                { "partie": CD35, "categorie": "equipement", "description": "Quarante écrans interactifs", "quantite": 40, "echeance": "2025-09-01" },
                { "partie": RENNES, "categorie": "formation", "description": "Former les référents numériques", "echeance": "2099-06-30" }
            ]),
            json!([
                { "annee": 2025, "partie": CD35, "nature": "investissement", "montant": "12 000,50" },
                { "annee": 2026, "partie": RENNES, "nature": "fonctionnement", "montant": "3 000" }
            ]),
        ),
    )
    .await?;
    let pdf = call(
        &app,
        Method::GET,
        &format!("/api/v1/conventions/{}/pdf", s(&c["id"])),
        Some(&app.dan),
        None,
    )
    .await?;
    assert_eq!(pdf.status, StatusCode::OK, "{}", pdf.text());
    assert_eq!(pdf.content_type, "application/pdf");
    assert!(pdf.body.starts_with(b"%PDF-"));
    let text = pdf_text::squeezed(&pdf.body)?;
    for expected in [
        "Conventionimprimable",
        "Article4",
        "Quaranteécransinteractifs",
        "Formerlesréférentsnumériques",
        "E1",
        "E2",
        "ENRETARD",
        "Annexefinancière",
        "Totauxparfinanceuretparannée",
        "15000,50€",
        "Signatures",
        "Vu",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text:?}");
    }
    Ok(())
}

/// Reads the text of a PDF back (through hayro, already in typst's tree).
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

    /// Every page's text, without whitespace.
    pub fn squeezed(pdf: &[u8]) -> Result<String, Box<dyn std::error::Error>> {
        let pdf = Pdf::new(pdf.to_vec()).map_err(|err| format!("not a valid PDF: {err:?}"))?;
        let cache = InterpreterCache::new();
        let mut text = String::new();
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
            text.push_str(&collector.0);
        }
        Ok(text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '\u{202f}')
            .collect())
    }

    #[derive(Default)]
    struct Collector(String);

    impl Device<'_> for Collector {
        fn set_soft_mask(&mut self, _: Option<SoftMask<'_>>) {}
        fn set_blend_mode(&mut self, _: BlendMode) {}
        fn draw_path(&mut self, _: &BezPath, _: Affine, _: &Paint<'_>, _: &PathDrawMode) {}
        fn push_clip_path(&mut self, _: &ClipPath) {}
        fn push_transparency_group(&mut self, _: f32, _: Option<SoftMask<'_>>, _: BlendMode) {}
        fn draw_glyph(&mut self, glyph: &Glyph<'_>, _: Affine, _: Affine, _: &Paint<'_>, _: &GlyphDrawMode) {
            match glyph.as_unicode() {
                Some(BfString::Char(c)) => self.0.push(c),
                Some(BfString::String(s)) => self.0.push_str(&s),
                None => self.0.push('\u{fffd}'),
            }
        }
        fn draw_image(&mut self, _: Image<'_, '_>, _: Affine) {}
        fn pop_clip_path(&mut self) {}
        fn pop_transparency_group(&mut self) {}
    }
}

/// A multipart form with one file in the field `fichier`.
async fn upload(app: &App, token: &str, uri: &str, name: &str, content: &[u8]) -> Result<Answer, E> {
    let mut body = format!(
        "--limite\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(b"\r\n--limite--\r\n");
    let req = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "multipart/form-data; boundary=limite")
        .body(Body::from(body))?;
    let response = app.router.clone().oneshot(req).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes().to_vec();
    Ok(Answer {
        status,
        content_type: String::new(),
        body,
    })
}

#[tokio::test]
async fn attachments_are_uploaded_checked_downloaded_as_files_and_removed() -> Result<(), E> {
    let t = TestDb::new(Seed::Referential).await?;
    let files = tempfile::tempdir()?;
    let dan = token_of(&t.db, "dan@rennes.fr", Role::Dan, RENNES).await?;
    let cd35 = token_of(
        &t.db,
        "numerique@ille-et-vilaine.fr",
        Role::RepresentantCollectivite,
        CD35,
    )
    .await?;
    let config = WebConfig {
        storage: gouvernail_core::convention::attachment::Storage {
            dir: files.path().to_owned(),
            max_bytes: 64,
        },
        ..WebConfig::default()
    };
    let app = App {
        router: gouvernail_web::router(AppState::new(t.db.clone(), config)),
        dan,
        cd35: cd35.clone(),
        cd13: String::new(),
        _t: t,
    };
    let c = create(&app, signed_text("Convention avec pièces", json!([]), json!([]))).await?;
    let pieces = format!("/api/v1/conventions/{}/pieces", s(&c["id"]));
    let pdf = b"%PDF-1.7\n% scan signe\n";
    let sent = upload(&app, &app.dan, &pieces, "../scan signé.pdf", pdf).await?;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text());
    let piece = sent.json();
    assert_eq!(piece["nom"], "scan signé.pdf");
    assert_eq!(piece["type"], "application/pdf");
    assert_eq!(s(&piece["sha256"]).len(), 64);
    // Refused: not a known type, too large, or not a writer.
    let exe = upload(&app, &app.dan, &pieces, "setup.pdf", b"MZ\x90\x00\x03").await?;
    assert_eq!(exe.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(exe.fields(), ["fichier"]);
    let big = upload(&app, &app.dan, &pieces, "long.txt", &[b'a'; 100]).await?;
    assert_eq!(big.fields(), ["fichier"], "{}", big.text());
    let reader = upload(&app, &app.cd35, &pieces, "annexe.txt", b"annexe").await?;
    assert_eq!(reader.status, StatusCode::FORBIDDEN);
    // Readers list and download, as a file.
    let list = call(&app, Method::GET, &pieces, Some(&cd35), None).await?;
    assert_eq!(list.json().as_array().map(Vec::len), Some(1));
    let req = Request::builder()
        .uri(s(&piece["url"]))
        .header("authorization", format!("Bearer {cd35}"))
        .body(Body::empty())?;
    let response = app.router.clone().oneshot(req).await?;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let disposition = headers[header::CONTENT_DISPOSITION].to_str()?;
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''scan%20sign%C3%A9.pdf"),
        "{disposition}"
    );
    assert_eq!(response.into_body().collect().await?.to_bytes().as_ref(), pdf);
    // Removed by the DAN.
    let url = s(&piece["url"]);
    let refused = call(&app, Method::DELETE, &url, Some(&cd35), None).await?;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let removed = call(&app, Method::DELETE, &url, Some(&app.dan), None).await?;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let gone = call(&app, Method::GET, &url, Some(&app.dan), None).await?;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    Ok(())
}
