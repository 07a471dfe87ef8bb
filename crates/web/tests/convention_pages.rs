//! The convention pages through the real router (no socket), signed in with a session
//! cookie and posting forms as a browser of the same origin would, on the engine named by
//! `GOUVERNAIL_TEST_DATABASE`: every page renders, a refused form keeps what was typed and
//! names its fields, a stale form gets a conflict message, and the DAN's path works end to
//! end without JavaScript.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gouvernail_core::audit::Actor;
use gouvernail_core::db::Db;
use gouvernail_core::identity::service::{self as identity, NewAssignment};
use gouvernail_core::identity::{Perimeter, Role};
use gouvernail_core::testkit::{Seed, TestDb};
use gouvernail_web::{AppState, WebConfig};
use http_body_util::BodyExt;
use time::macros::date;
use tower::ServiceExt;

type E = Box<dyn std::error::Error>;

const SESSION: &str = "__Host-gouvernail_session";

async fn person(db: &Db, email: &str, role: Role, perimeter: &str) -> Result<String, E> {
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
    let secret = identity::open_session(db, &user.id).await?;
    Ok(format!("{SESSION}={secret}"))
}

struct World {
    router: Router,
    dan: String,
    cd35: String,
    stranger: String,
    _t: TestDb,
}

async fn world() -> Result<World, E> {
    let t = TestDb::new(Seed::Referential).await?;
    let db = t.db.clone();
    let dan = person(&db, "dan@rennes.fr", Role::Dan, "academie:14").await?;
    let cd35 = person(
        &db,
        "numerique@ille-et-vilaine.fr",
        Role::RepresentantCollectivite,
        "collectivite:223500018",
    )
    .await?;
    let stranger = person(&db, "dan@aix.fr", Role::Dan, "academie:02").await?;
    let router = gouvernail_web::router(AppState::new(db, WebConfig::default()));
    Ok(World {
        router,
        dan,
        cd35,
        stranger,
        _t: t,
    })
}

struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

async fn send(router: &Router, req: Request<Body>) -> Result<Answer, E> {
    let response = router.clone().oneshot(req).await?;
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok(Answer {
        status,
        location,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

async fn get(w: &World, cookie: &str, uri: &str) -> Result<Answer, E> {
    let req = Request::builder()
        .uri(uri)
        .header(header::COOKIE, cookie)
        .body(Body::empty())?;
    send(&w.router, req).await
}

fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else if b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn post(w: &World, cookie: &str, uri: &str, form: &[(&str, &str)]) -> Result<Answer, E> {
    let body = form
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let req = Request::builder()
        .method("POST")
        .uri(uri)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body))?;
    send(&w.router, req).await
}

/// The value of the hidden `version` field of the form `form_id` of a page.
fn version_in(page: &str, form_id: &str) -> Option<String> {
    let form = &page[page.find(&format!("id=\"{form_id}\""))?..];
    let at = form.find("name=\"version\" value=\"")? + "name=\"version\" value=\"".len();
    Some(form[at..].split('"').next()?.to_owned())
}

/// The id of a commitment (`E1`), from the link of its row.
fn commitment_link(page: &str, convention: &str, code: &str) -> Option<String> {
    let page = &page[page.find(&format!("id=\"engagement-{code}\""))?..];
    let prefix = format!("/conventions/{convention}/engagements/");
    let at = page.find(&prefix)? + prefix.len();
    Some(page[at..].split('"').next()?.to_owned())
}

const DRAFT: &[(&str, &str)] = &[
    ("version", "0"),
    ("type", "bipartite"),
    ("titre", "Convention des collèges connectés"),
    ("objet", "Équiper et connecter les collèges"),
    ("visas", "Code de l'éducation, art. L213-2"),
    ("perimetre", "departement:35"),
    ("reconduction", "aucune"),
    ("dateFin", "2029-08-31"),
    ("parties[0].reference", "academie:14"),
    ("parties[0].representant", "Rose Rectrice"),
    ("parties[0].qualite", "Rectrice"),
    ("parties[1].reference", "collectivite:223500018"),
    ("parties[1].representant", "Paul Président"),
    ("parties[1].qualite", "Président du Département"),
    ("parties[2].reference", ""),
    ("engagements[0].partie", "collectivite:223500018"),
    ("engagements[0].categorie", "equipement"),
    ("engagements[0].description", "Équiper 40 collèges"),
    ("engagements[0].quantite", "40"),
    ("engagements[0].echeance", "2025-09-01"),
    ("engagements[1].partie", "academie:14"),
    ("engagements[1].categorie", "formation"),
    ("engagements[1].description", "Former les référents"),
    ("engagements[1].echeance", "2099-06-30"),
    ("annexe[0].annee", "2026"),
    ("annexe[0].partie", "collectivite:223500018"),
    ("annexe[0].nature", "investissement"),
    ("annexe[0].montant", "12 000,50"),
];

fn with(
    base: &[(&'static str, &'static str)],
    changes: &[(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = base
        .iter()
        .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
        .copied()
        .collect();
    out.extend_from_slice(changes);
    out
}

#[tokio::test]
async fn the_dan_creates_signs_follows_and_amends_a_convention_from_the_pages() -> Result<(), E> {
    let w = world().await?;
    for uri in [
        "/conventions",
        "/conventions/nouvelle",
        "/conventions/engagements",
        "/conventions/retards",
    ] {
        let page = get(&w, &w.dan, uri).await?;
        assert_eq!(page.status, StatusCode::OK, "{uri}: {}", page.body);
        assert_eq!(page.body.matches("<h1").count(), 1, "{uri}: one h1");
    }
    let new = get(&w, &w.dan, "/conventions/nouvelle").await?.body;
    assert!(new.contains("<fieldset") && new.contains("<legend"));
    assert!(new.contains(r#"name="parties[0].reference""#));

    // Created as a draft.
    let created = post(&w, &w.dan, "/conventions", DRAFT).await?;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let uri = created.location.ok_or("no location")?;
    let id = uri.trim_start_matches("/conventions/").to_owned();
    let page = get(&w, &w.dan, &uri).await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Convention des collèges connectés"));
    assert!(
        page.body.contains(r#"id="convention-status">Projet"#),
        "{}",
        page.body
    );
    assert!(page.body.contains("Signature attendue de"));
    assert!(page.body.contains(r#"id="convention-edit""#));
    assert!(page.body.contains("<caption>"));

    // Signed by both parties through the edit form.
    let edit = get(&w, &w.dan, &format!("{uri}/modifier")).await?;
    assert_eq!(edit.status, StatusCode::OK);
    assert!(
        edit.body.contains("Équiper 40 collèges"),
        "the form holds the text"
    );
    let version = version_in(&edit.body, "convention-form").ok_or("no version")?;
    let today = time::OffsetDateTime::now_utc().date() - time::Duration::days(1);
    let today = today.to_string();
    let mut signed = with(
        DRAFT,
        &[("engagements[0].code", "E1"), ("engagements[1].code", "E2")],
    );
    signed.retain(|(k, _)| *k != "version");
    let mut signed: Vec<(&str, String)> = signed.into_iter().map(|(k, v)| (k, v.to_owned())).collect();
    signed.push(("version", version.clone()));
    signed.push(("parties[0].dateSignature", today.clone()));
    signed.push(("parties[1].dateSignature", today.clone()));
    let form: Vec<(&str, &str)> = signed.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let saved = post(&w, &w.dan, &format!("{uri}/modifier"), &form).await?;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    // The same form again: its version is stale; the message says so and the input stays.
    let stale = post(&w, &w.dan, &format!("{uri}/modifier"), &form).await?;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(stale.body.contains("modifié"), "{}", stale.body);
    assert!(stale.body.contains("Équiper 40 collèges"));
    let page = get(&w, &w.dan, &uri).await?.body;
    assert!(page.contains(r#"id="convention-status">En vigueur"#), "{page}");
    assert!(page.contains(r#"id="convention-amend""#));
    assert!(page.contains("En retard"), "E1 is past due");
    assert!(page.contains("12\u{202f}000,50 €"), "{page}");

    // The collectivité reports on its commitment.
    let eid = commitment_link(&page, &id, "E1").ok_or("no commitment link")?;
    let report_uri = format!("{uri}/engagements/{eid}");
    let report = get(&w, &w.cd35, &report_uri).await?;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    let v = version_in(&report.body, "report-form").ok_or("no report form")?;
    let bad = post(
        &w,
        &w.cd35,
        &report_uri,
        &[
            ("version", &v),
            ("statut", "tenu"),
            ("lien", "pas un lien"),
            ("note", "Livré"),
        ],
    )
    .await?;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(
        bad.body.contains(r##"href="#f-lien""##),
        "the summary links to the field"
    );
    assert!(bad.body.contains(r#"value="pas un lien""#), "the input is kept");
    assert!(bad.body.contains("Livré"));
    let done = post(
        &w,
        &w.cd35,
        &report_uri,
        &[
            ("version", &v),
            ("statut", "tenu"),
            ("note", "Livré en septembre"),
        ],
    )
    .await?;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

    // The amendment form: E1's quantity and the annex amount change.
    let amend = get(&w, &w.dan, &format!("{uri}/avenant")).await?;
    assert_eq!(amend.status, StatusCode::OK, "{}", amend.body);
    let version = version_in(&amend.body, "convention-form").ok_or("no version")?;
    let mut form: Vec<(&str, String)> = signed
        .iter()
        .filter(|(k, _)| !matches!(*k, "version" | "engagements[0].quantite" | "annexe[0].montant"))
        .cloned()
        .collect();
    form.extend([
        ("version", version),
        ("engagements[0].quantite", "60".to_owned()),
        ("annexe[0].montant", "18 000,75".to_owned()),
        ("avenant.date", today.clone()),
        ("avenant.objet", String::new()),
    ]);
    let f: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = post(&w, &w.dan, &format!("{uri}/avenant"), &f).await?;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains(r##"href="#f-avenant-objet""##),
        "{}",
        refused.body
    );
    assert!(refused.body.contains(r#"value="18 000,75""#), "the input is kept");
    form.retain(|(k, _)| *k != "avenant.objet");
    form.push(("avenant.objet", "Soixante collèges".to_owned()));
    let f: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let applied = post(&w, &w.dan, &format!("{uri}/avenant"), &f).await?;
    assert_eq!(applied.status, StatusCode::SEE_OTHER, "{}", applied.body);
    let page = get(&w, &w.dan, &uri).await?.body;
    assert!(page.contains("Soixante collèges"));
    assert!(page.contains("18\u{202f}000,75 €"));
    let compare = get(&w, &w.dan, &format!("{uri}/versions?a=0&b=1")).await?;
    assert_eq!(compare.status, StatusCode::OK, "{}", compare.body);
    assert!(compare.body.contains("engagement E1"), "{}", compare.body);
    assert!(compare.body.contains("12000.50") && compare.body.contains("18000.75"));
    assert_eq!(
        compare.body.matches("<tr><th scope=\"row\">").count(),
        2 + 2,
        "2 versions, 2 changes"
    );

    // The register, the map table and the cross-view.
    let register = get(&w, &w.dan, "/conventions?departement=35").await?.body;
    assert!(register.contains("Convention des collèges connectés"));
    assert!(register.contains(r#"data-departement="35""#), "{register}");
    let cross = get(
        &w,
        &w.dan,
        "/conventions/engagements?partie=collectivite%3A223500018",
    )
    .await?;
    assert_eq!(cross.status, StatusCode::OK);
    assert!(cross.body.contains("Équiper 40 collèges"));
    let bad = get(&w, &w.dan, "/conventions/engagements?partie=collectivite%3A1").await?;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // A DAN of another académie does not see it.
    let other = get(&w, &w.stranger, &uri).await?;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn a_refused_text_keeps_what_was_typed_and_names_the_fields() -> Result<(), E> {
    let w = world().await?;
    let form = with(
        DRAFT,
        &[
            ("parties[1].reference", "collectivite:223500019"),
            ("engagements[1].partie", "collectivite:221300015"),
            ("dateFin", "31/08/2029"),
        ],
    );
    let refused = post(&w, &w.dan, "/conventions", &form).await?;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.body.contains(r#"id="form-error""#));
    assert!(
        refused.body.contains(r##"href="#f-dateFin""##),
        "{}",
        refused.body
    );
    assert!(refused.body.contains(r#"value="31/08/2029""#));
    // Once the date reads, the core names the party and the commitment.
    let form = with(
        DRAFT,
        &[
            ("parties[1].reference", "collectivite:223500019"),
            ("engagements[1].partie", "collectivite:221300015"),
        ],
    );
    let refused = post(&w, &w.dan, "/conventions", &form).await?;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains(r##"href="#f-parties-1-reference""##),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains(r##"href="#f-engagements-1-partie""##),
        "{}",
        refused.body
    );
    assert!(refused.body.contains(r#"value="collectivite:223500019""#));
    assert!(refused.body.contains("aria-invalid=\"true\""));
    // A collectivité may not create a convention.
    let forbidden = post(&w, &w.cd35, "/conventions", DRAFT).await?;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN, "{}", forbidden.body);
    assert!(
        forbidden.body.contains("Convention des collèges connectés"),
        "the input is kept"
    );
    Ok(())
}
