//! The equipment pages through the real router (no socket), signed in with session cookies
//! of the demo's accounts and posting forms as a page of the same origin does, over the
//! demo's Ille-et-Vilaine, on the engine named by `GOUVERNAIL_TEST_DATABASE`: the gap page's
//! counts are the service's, the map and the lists are there, the declaration form keeps
//! what was typed on error and on a concurrent change, and a collectivité cannot post to
//! another's school.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gouvernail_core::db::Db;
use gouvernail_core::equipment::service as equip;
use gouvernail_core::equipment::{GapKind, Scope};
use gouvernail_core::identity::{Principal, service as identity};
use gouvernail_core::territory::import::{self, AnnuaireOptions, NoProgress};
use gouvernail_core::territory::model::PageRequest;
use gouvernail_core::testkit::{Seed, TestDb};
use gouvernail_web::{AppState, WebConfig};
use http_body_util::BodyExt;
use tower::ServiceExt;

type E = Box<dyn std::error::Error>;

const SESSION: &str = "__Host-gouvernail_session";

struct Person {
    principal: Principal,
    cookie: String,
}

struct App {
    router: Router,
    db: Db,
    dan: Person,
    cd35: Person,
    region: Person,
    observer: Person,
    college: String,
    lycee: String,
    _t: TestDb,
}

async fn person(db: &Db, email: &str) -> Result<Person, E> {
    let user = identity::user_by_email(db, email).await?;
    let principal = identity::principal(db, &user.id, false)
        .await?
        .ok_or("no principal")?;
    let secret = identity::open_session(db, &user.id).await?;
    Ok(Person {
        principal,
        cookie: format!("{SESSION}={secret}"),
    })
}

async fn app() -> Result<App, E> {
    let t = TestDb::new(Seed::Referential).await?;
    let db = t.db.clone();
    let communes = gouvernail_core::demo::seed_communes(&db).await?;
    let csv = gouvernail_core::demo::fictitious_annuaire(&communes, gouvernail_core::demo::DEMO_SCHOOLS);
    import::import_annuaire(
        &db,
        csv.as_bytes(),
        AnnuaireOptions { fictitious: true },
        &NoProgress,
    )
    .await?;
    gouvernail_core::demo::load_demo_accounts(&db).await?;
    gouvernail_core::demo::load_demo_strategy(&db).await?;
    gouvernail_core::equipment::demo::load(&db).await?;
    let schools = gouvernail_core::equipment::demo::schools_35(&db).await?;
    let first = |f: &str| {
        schools
            .iter()
            .find(|s| s.famille == f)
            .map(|s| s.uai.clone())
            .ok_or("school missing")
    };
    Ok(App {
        router: gouvernail_web::router(AppState::new(db.clone(), WebConfig::default())),
        dan: person(&db, "dan.rennes@demo.gouvernail.fr").await?,
        cd35: person(&db, "cd35@demo.gouvernail.fr").await?,
        region: person(&db, "region.bretagne@demo.gouvernail.fr").await?,
        observer: person(&db, "observateur@demo.gouvernail.fr").await?,
        college: first("college")?,
        lycee: first("lycee")?,
        db,
        _t: t,
    })
}

struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

async fn send(app: &App, req: Request<Body>) -> Result<Answer, E> {
    let response = app.router.clone().oneshot(req).await?;
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

async fn get(app: &App, who: &Person, uri: &str) -> Result<Answer, E> {
    let req = Request::builder()
        .uri(uri)
        .header(header::COOKIE, &who.cookie)
        .header(header::ACCEPT_LANGUAGE, "fr")
        .body(Body::empty())?;
    send(app, req).await
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

async fn post(app: &App, who: &Person, uri: &str, form: &[(&str, &str)]) -> Result<Answer, E> {
    let body = form
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let req = Request::builder()
        .method("POST")
        .uri(uri)
        .header(header::COOKIE, &who.cookie)
        .header(header::ACCEPT_LANGUAGE, "fr")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body))?;
    send(app, req).await
}

/// A part of a multipart form: a text field, or a file (field, file name, content).
enum Part<'a> {
    Text(&'a str, &'a str),
    File(&'a str, &'a str, &'a [u8]),
}

/// Posts a `multipart/form-data` form as a browser does, from the page's origin unless
/// `site` says otherwise (`Sec-Fetch-Site`), to `router`.
async fn post_multipart_to(
    router: &Router,
    who: &Person,
    uri: &str,
    parts: &[Part<'_>],
    site: &str,
) -> Result<Answer, E> {
    const BOUNDARY: &str = "----gouvernail-test-7d2f";
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match part {
            Part::Text(name, value) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
                );
            }
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
        .header(header::ACCEPT_LANGUAGE, "fr")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("sec-fetch-site", site)
        .body(Body::from(body))?;
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

async fn post_multipart(app: &App, who: &Person, uri: &str, parts: &[Part<'_>]) -> Result<Answer, E> {
    post_multipart_to(&app.router, who, uri, parts, "same-origin").await
}

/// The text of the element with this id (up to its next tag).
fn text_of<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let start = html.find(&format!("id=\"{id}\""))?;
    let rest = &html[start..];
    let open = rest.find('>')? + 1;
    let close = rest[open..].find('<')?;
    Some(rest[open..open + close].trim())
}

#[tokio::test]
async fn the_gap_page_shows_the_service_s_counts_the_lists_and_the_map() -> Result<(), E> {
    let app = app().await?;
    let page = get(&app, &app.dan, "/ecarts?perimetre=departement:35").await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.body.matches("<h1").count(), 1);

    // The counts are the service's, for the same perimeter and the page's horizon.
    let date_start = page.body.find("id=\"f-date\"").ok_or("no date field")?;
    let value = &page.body[date_start..];
    let v = value.find("value=\"").ok_or("no date")? + 7;
    let date = time::Date::parse(
        &value[v..v + 10],
        time::macros::format_description!("[year]-[month]-[day]"),
    )?;
    let scope = Scope::Departement("35".into());
    let summary = equip::gap_summary(&app.db, &app.dan.principal, &scope, date).await?;
    let t = &summary.totals;
    assert!(t.lacking_today > 0 && t.equipped_without_project > 0, "{t:?}");
    for (id, n) in [
        ("count-targeted", t.targeted),
        ("count-lacking-today", t.lacking_today),
        ("count-lacking-after", t.lacking_after_plans),
        ("count-without-project", t.equipped_without_project),
        ("count-to-renew", t.to_renew),
    ] {
        assert_eq!(text_of(&page.body, id), Some(n.to_string().as_str()), "{id}");
    }
    // Each list's badge is its total; the first lines are links to the schools' pages.
    for kind in GapKind::ALL {
        let list = equip::gap_list(
            &app.db,
            &app.dan.principal,
            &scope,
            date,
            *kind,
            PageRequest { page: 1, per_page: 1 },
        )
        .await?;
        let section = format!("id=\"liste-{}\"", kind.as_str());
        let at = page.body.find(&section).ok_or("list missing")?;
        let badge = &page.body[at..];
        let b = badge.find("fr-badge fr-badge--sm\">").ok_or("no badge")? + 23;
        let end = badge[b..].find('<').ok_or("no badge end")?;
        assert_eq!(&badge[b..b + end], list.total.to_string(), "{}", kind.as_str());
        if let Some(line) = list.items.first() {
            assert!(page.body.contains(&format!("href=\"/equipements/{}\"", line.uai)));
        }
    }
    // The map of the département, its text alternative and its data table; the per-commune
    // table and the per-collectivité summary beside it.
    assert!(page.body.contains("<svg") && page.body.contains("role=\"img\""));
    assert!(
        page.body.contains("Ille-et-Vilaine (35)"),
        "the map's table names 35"
    );
    assert!(page.body.contains("id=\"readiness-table\""));
    assert!(page.body.contains("id=\"collectivite-summary\""));
    for c in &summary.collectivites {
        let escaped = c.nom.replace('&', "&#38;").replace('\'', "&#39;");
        assert!(
            page.body.contains(&format!("<th scope=\"row\">{escaped}</th>")),
            "{}",
            c.nom
        );
    }
    assert!(
        page.body
            .contains("href=\"/api/v1/ecarts?perimetre=departement%3A35"),
        "export links"
    );

    // The académie's view: a map by département; the national view answers too.
    let academie = get(&app, &app.dan, "/ecarts?perimetre=academie:14").await?;
    assert_eq!(academie.status, StatusCode::OK);
    assert!(
        academie
            .body
            .contains(&format!("id=\"count-targeted\">{}<", t.targeted))
            || t.targeted == 0
    );
    let bad = get(&app, &app.dan, "/ecarts?perimetre=nulle-part").await?;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    Ok(())
}

#[tokio::test]
async fn the_pages_render_for_the_demo_s_ille_et_vilaine() -> Result<(), E> {
    let app = app().await?;
    for uri in [
        "/ecarts",
        "/plans-equipement",
        "/besoins",
        "/equipements/imports",
        &format!("/equipements/{}", app.college),
        &format!("/equipements/{}", app.lycee),
    ] {
        let page = get(&app, &app.dan, uri).await?;
        assert_eq!(page.status, StatusCode::OK, "{uri}: {}", page.body);
        assert_eq!(page.body.matches("<h1").count(), 1, "{uri}");
        assert!(page.body.contains("id=\"nav-equipement\""), "{uri}");
    }
    // The DAN reads the school and comments, but does not declare.
    let school = get(&app, &app.dan, &format!("/equipements/{}", app.college)).await?;
    assert!(!school.body.contains("id=\"declaration-form\""));
    assert!(school.body.contains("id=\"comment-form\""));
    assert!(school.body.contains("id=\"school-terminals\""));
    // The plans: the Département's, with its lines, totals and contract, editable by it.
    let plans = get(&app, &app.cd35, "/plans-equipement").await?;
    let own = equip::plans(&app.db, &app.cd35.principal, Some("223500018")).await?;
    let id = own.first().map(|(p, _)| p.id.clone()).ok_or("no plan")?;
    assert!(plans.body.contains(&format!("href=\"/plans-equipement/{id}\"")));
    let plan = get(&app, &app.cd35, &format!("/plans-equipement/{id}")).await?;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.body);
    assert!(plan.body.contains("id=\"plan-form\""));
    assert!(plan.body.contains("id=\"plan-contracts-table\""));
    assert!(plan.body.contains("000 €"), "exact budgets in euros");
    // The Région reads nothing of the Département's plan it could edit.
    let region = get(&app, &app.region, &format!("/plans-equipement/{id}")).await?;
    assert!(!region.body.contains("id=\"plan-form\"") || region.status != StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn the_collectivite_declares_its_college_and_the_form_keeps_what_was_typed() -> Result<(), E> {
    let app = app().await?;
    let uri = format!("/equipements/{}", app.college);
    let page = get(&app, &app.cd35, &uri).await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"declaration-form\""));
    let version = equip::inventory(&app.db, &app.cd35.principal, &app.college)
        .await?
        .version;
    let v = version.to_string();

    // A negative quantity: 422, named in the summary and beside the field, input kept.
    let bad = post(
        &app,
        &app.cd35,
        &uri,
        &[
            ("version", &v),
            ("source", "Recensement de test"),
            ("q-tablette", "-4"),
            ("q-classe-mobile", "3"),
        ],
    )
    .await?;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("id=\"form-error\""));
    assert!(bad.body.contains("href=\"#f-q-tablette\""), "{}", bad.body);
    assert!(bad.body.contains("value=\"-4\"") && bad.body.contains("value=\"Recensement de test\""));
    // Not a number: named too.
    let nan = post(
        &app,
        &app.cd35,
        &uri,
        &[("version", &v), ("q-tablette", "beaucoup")],
    )
    .await?;
    assert_eq!(nan.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nan.body.contains("value=\"beaucoup\""));
    // A stale version: 409, input kept.
    let stale = post(
        &app,
        &app.cd35,
        &uri,
        &[("version", &(version + 5).to_string()), ("q-classe-mobile", "3")],
    )
    .await?;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(stale.body.contains("id=\"f-q-classe-mobile\"") && stale.body.contains("value=\"3\""));
    assert_eq!(
        equip::inventory(&app.db, &app.cd35.principal, &app.college)
            .await?
            .version,
        version,
        "nothing written"
    );

    // The good declaration: redirected to the page, which shows it.
    let ok = post(
        &app,
        &app.cd35,
        &uri,
        &[
            ("version", &v),
            ("source", "Recensement de test"),
            ("q-classe-mobile", "3"),
            ("old-classe-mobile", "0"),
            ("bande", "100-1000"),
            ("mainteneur", "prestataire"),
            ("delai", "24"),
        ],
    )
    .await?;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert!(ok.location.as_deref().is_some_and(|l| l.starts_with(&uri)));
    let inv = equip::inventory(&app.db, &app.cd35.principal, &app.college).await?;
    assert_eq!(inv.version, version + 1);
    let mobile = inv
        .current
        .iter()
        .find(|d| d.category == "classe-mobile")
        .ok_or("missing")?;
    assert_eq!(
        (mobile.quantity, mobile.source.as_str()),
        (Some(3), "Recensement de test")
    );
    let shown = get(&app, &app.cd35, &uri).await?;
    assert!(shown.body.contains("Recensement de test"));
    Ok(())
}

#[tokio::test]
async fn a_collectivite_cannot_post_to_another_s_school_through_the_pages() -> Result<(), E> {
    let app = app().await?;
    let before = equip::inventory(&app.db, &app.region.principal, &app.lycee).await?;
    let uri = format!("/equipements/{}", app.lycee);
    // The Département does not see the Région's lycée, let alone declare for it.
    let page = get(&app, &app.cd35, &uri).await?;
    assert!(
        matches!(page.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
        "{}",
        page.status
    );
    let posted = post(
        &app,
        &app.cd35,
        &uri,
        &[("version", &before.version.to_string()), ("q-poste-fixe", "1")],
    )
    .await?;
    assert!(
        matches!(posted.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
        "{}",
        posted.status
    );
    // The DAN reads the lycée but is not its collectivité: refused, nothing written.
    let dan = post(
        &app,
        &app.dan,
        &uri,
        &[("version", &before.version.to_string()), ("q-poste-fixe", "1")],
    )
    .await?;
    assert_eq!(dan.status, StatusCode::FORBIDDEN, "{}", dan.body);
    let after = equip::inventory(&app.db, &app.region.principal, &app.lycee).await?;
    assert_eq!(after.version, before.version);
    assert_eq!(after.current, before.current);
    Ok(())
}

#[tokio::test]
async fn an_import_shows_each_refused_line_and_field() -> Result<(), E> {
    let app = app().await?;
    let csv = format!(
        "uai;categorie;quantite\r\n{c};tablette;12\r\n{l};tablette;3\r\n0000000A;tablette;1\r\n{c};tablette;-2\r\n",
        c = app.college,
        l = app.lycee
    );
    let report = post(
        &app,
        &app.cd35,
        "/equipements/imports/inventaire",
        &[("date", ""), ("source", "GLPI"), ("contenu", &csv)],
    )
    .await?;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert_eq!(text_of(&report.body, "report-lines"), Some("4"));
    assert_eq!(text_of(&report.body, "report-accepted"), Some("1"));
    assert!(report.body.contains("ligne 3 : uai"), "{}", report.body);
    assert!(report.body.contains("ligne 5 : quantite"), "{}", report.body);
    // An empty file is named, the rest of the form kept.
    let empty = post(
        &app,
        &app.cd35,
        "/equipements/imports/inventaire",
        &[("source", "GLPI"), ("contenu", "")],
    )
    .await?;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("href=\"#f-inventaire-contenu\"") && empty.body.contains("value=\"GLPI\""));
    Ok(())
}

/// The tablets of a school's current inventory.
async fn tablets(app: &App, who: &Person, uai: &str) -> Result<Option<i64>, E> {
    Ok(equip::inventory(&app.db, &who.principal, uai)
        .await?
        .current
        .iter()
        .find(|d| d.category == "tablette")
        .and_then(|d| d.quantity))
}

#[tokio::test]
async fn an_inventory_file_is_uploaded_its_good_lines_kept_and_its_refused_lines_named() -> Result<(), E> {
    let app = app().await?;
    // The page's forms send files (multipart), each field named within its form.
    let page = get(&app, &app.cd35, "/equipements/imports").await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.body.matches("enctype=\"multipart/form-data\"").count(), 2);
    for id in [
        "f-inventaire-fichier",
        "f-effectifs-fichier",
        "f-inventaire-contenu",
        "f-effectifs-contenu",
    ] {
        assert_eq!(page.body.matches(&format!("id=\"{id}\"")).count(), 1, "{id}");
        assert!(page.body.contains(&format!("for=\"{id}\"")), "{id} labelled");
    }
    assert!(page.body.contains("type=\"file\""));

    let csv = format!(
        "uai;categorie;quantite\r\n{c};tablette;12\r\n{l};tablette;3\r\n0000000A;tablette;1\r\n{c};tablette;-2\r\n",
        c = app.college,
        l = app.lycee
    );
    let lycee_before = tablets(&app, &app.region, &app.lycee).await?;
    let report = post_multipart(
        &app,
        &app.cd35,
        "/equipements/imports/inventaire",
        &[
            Part::Text("date", ""),
            Part::Text("source", "GLPI"),
            Part::File("fichier", "inventaire.csv", csv.as_bytes()),
            Part::Text("contenu", ""),
        ],
    )
    .await?;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert_eq!(text_of(&report.body, "report-lines"), Some("4"));
    assert_eq!(text_of(&report.body, "report-accepted"), Some("1"));
    assert_eq!(text_of(&report.body, "report-rejected"), Some("3"));
    // Each refused line is named with its column: the Région's lycée, an unknown UAI, a
    // negative quantity.
    for named in ["ligne 3 : uai", "ligne 4 : uai", "ligne 5 : quantite"] {
        assert!(
            report.body.contains(&format!("<th scope=\"row\">{named}</th>")),
            "{named}: {}",
            report.body
        );
    }
    // The good line is kept, the refused ones changed nothing.
    assert_eq!(tablets(&app, &app.cd35, &app.college).await?, Some(12));
    assert_eq!(tablets(&app, &app.region, &app.lycee).await?, lycee_before);
    Ok(())
}

#[tokio::test]
async fn a_pupil_count_file_is_uploaded_its_good_lines_kept_and_its_refused_lines_named() -> Result<(), E> {
    let app = app().await?;
    let schools = gouvernail_core::equipment::demo::schools_35(&app.db).await?;
    let ecoles: Vec<&str> = schools
        .iter()
        .filter(|s| s.famille == "ecole")
        .map(|s| s.uai.as_str())
        .take(2)
        .collect();
    let [first, second] = ecoles[..] else {
        return Err("two écoles expected".into());
    };
    // The ministry's file as published: `;`, UTF-8 with BOM, CRLF.
    let file = format!(
        "\u{feff}Rentrée scolaire;Numéro de l'école;Nombre total de classes;Nombre total d'élèves\r\n\
         2025;{first};6;137\r\n2025;{second};six;120\r\n2025;{first};6;-1\r\n"
    );
    let second_before = equip::inventory(&app.db, &app.dan.principal, second)
        .await?
        .pupils;
    let report = post_multipart(
        &app,
        &app.dan,
        "/equipements/imports/effectifs",
        &[Part::File(
            "fichier",
            "fr-en-ecoles-effectifs-nb_classes.csv",
            file.as_bytes(),
        )],
    )
    .await?;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert_eq!(text_of(&report.body, "report-lines"), Some("3"));
    assert_eq!(text_of(&report.body, "report-accepted"), Some("1"));
    for named in [
        "ligne 3 : Nombre total de classes",
        "ligne 4 : Nombre total d&#39;élèves",
    ] {
        assert!(report.body.contains(named), "{named}: {}", report.body);
    }
    let kept = equip::inventory(&app.db, &app.dan.principal, first).await?.pupils;
    assert_eq!(
        kept.map(|p| (p.school_year, p.classes, p.pupils)),
        Some((2025, 6, 137))
    );
    let refused = equip::inventory(&app.db, &app.dan.principal, second)
        .await?
        .pupils;
    assert_eq!(refused, second_before, "the refused line changed nothing");
    Ok(())
}

#[tokio::test]
async fn an_upload_is_refused_when_too_large_not_csv_doubled_or_cross_site() -> Result<(), E> {
    let app = app().await?;
    let csv = format!("uai;categorie;quantite\r\n{};tablette;7\r\n", app.college);
    // A file and pasted text at once: the file field is named, the rest kept.
    let both = post_multipart(
        &app,
        &app.cd35,
        "/equipements/imports/inventaire",
        &[
            Part::Text("source", "GLPI"),
            Part::File("fichier", "inventaire.csv", csv.as_bytes()),
            Part::Text("contenu", &csv),
        ],
    )
    .await?;
    assert_eq!(both.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", both.body);
    assert!(
        both.body.contains("href=\"#f-inventaire-fichier\""),
        "{}",
        both.body
    );
    assert!(both.body.contains("id=\"f-inventaire-fichier-error\""));
    assert!(both.body.contains("value=\"GLPI\""));
    // A spreadsheet not saved as CSV (a zip: XLSX, ODS).
    let zip = post_multipart(
        &app,
        &app.cd35,
        "/equipements/imports/inventaire",
        &[Part::File(
            "fichier",
            "inventaire.xlsx",
            b"PK\x03\x04 not really a workbook",
        )],
    )
    .await?;
    assert_eq!(zip.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", zip.body);
    assert!(zip.body.contains("CSV attendu"), "{}", zip.body);
    // A file in the wrong encoding is named on the file field.
    let latin1 = post_multipart(
        &app,
        &app.cd35,
        "/equipements/imports/inventaire",
        &[Part::File("fichier", "inventaire.csv", b"uai;cat\xe9gorie\r\n")],
    )
    .await?;
    assert_eq!(latin1.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", latin1.body);
    assert!(
        latin1.body.contains("href=\"#f-inventaire-fichier\""),
        "{}",
        latin1.body
    );
    assert!(latin1.body.contains("UTF-8"));
    // Over the configured size (GOUVERNAIL_MAX_UPLOAD_MIB): refused while read, named.
    let mut config = WebConfig::default();
    config.storage.max_bytes = 32;
    let small = gouvernail_web::router(AppState::new(app.db.clone(), config));
    let large = post_multipart_to(
        &small,
        &app.cd35,
        "/equipements/imports/inventaire",
        &[Part::File("fichier", "inventaire.csv", csv.as_bytes())],
        "same-origin",
    )
    .await?;
    assert_eq!(large.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", large.body);
    assert!(
        large.body.contains("dépasse la taille maximale"),
        "{}",
        large.body
    );
    // So is pasted text over that size.
    let pasted = Request::builder()
        .method("POST")
        .uri("/equipements/imports/inventaire")
        .header(header::COOKIE, &app.cd35.cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(format!("contenu={}", encode(&csv))))?;
    let response = small.clone().oneshot(pasted).await?;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.into_body().collect().await?.to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("dépasse la taille maximale"));
    // From another site: the CSRF layer refuses the multipart form as any other.
    let cross = post_multipart_to(
        &app.router,
        &app.cd35,
        "/equipements/imports/inventaire",
        &[Part::File("fichier", "inventaire.csv", csv.as_bytes())],
        "cross-site",
    )
    .await?;
    assert_eq!(cross.status, StatusCode::FORBIDDEN, "{}", cross.body);
    // None of these changed the college's figures.
    assert_ne!(tablets(&app, &app.cd35, &app.college).await?, Some(7));
    Ok(())
}

/// The status of `PATCH /api/v1/besoins/{id}` for this person (their session, same origin).
async fn api_patch_need(app: &App, who: &Person, id: &str, version: i64) -> Result<StatusCode, E> {
    let req = Request::builder()
        .method("PATCH")
        .uri(format!("/api/v1/besoins/{id}"))
        .header(header::COOKIE, &who.cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(format!("{{\"version\":{version},\"note\":\"API\"}}")))?;
    Ok(send(app, req).await?.status)
}

#[tokio::test]
async fn a_need_is_edited_by_its_writers_a_stale_version_conflicts_and_others_cannot_open_it() -> Result<(), E>
{
    let app = app().await?;
    let needs = equip::needs(&app.db, &app.dan.principal).await?;
    let action = needs
        .iter()
        .find(|n| n.academie_code.as_deref() == Some("14"))
        .ok_or("no need of a Rennes action")?
        .clone();
    let project = needs
        .iter()
        .find(|n| n.academie_code.is_none())
        .ok_or("no need of a national project")?
        .clone();
    // The list offers the edit to those who may write: the DAN edits the action's need,
    // not the national project's.
    let list = get(&app, &app.dan, "/besoins").await?;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(
        list.body
            .contains(&format!("href=\"/besoins/{}/modifier\"", action.id))
    );
    assert!(
        !list
            .body
            .contains(&format!("href=\"/besoins/{}/modifier\"", project.id))
    );
    let cd35_list = get(&app, &app.cd35, "/besoins").await?;
    assert!(
        !cd35_list.body.contains("/modifier\""),
        "no edit for a collectivité"
    );

    // The form, filled with the need and its version.
    let uri = format!("/besoins/{}/modifier", action.id);
    let page = get(&app, &app.dan, &uri).await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.body.matches("<h1").count(), 1);
    assert!(page.body.contains("id=\"need-form\""));
    assert!(page.body.contains(&format!(
        "type=\"hidden\" name=\"version\" value=\"{}\"",
        action.version
    )));
    assert!(page.body.contains(&format!("value=\"{}\"", action.target())));
    let v = action.version.to_string();
    let threshold = action.threshold.to_string();
    let form = |version: &str, seuil: &str, note: &str| {
        vec![
            ("version", version.to_owned()),
            ("cible", "departement:35".to_owned()),
            ("famille", "college".to_owned()),
            ("categorie", action.category.clone()),
            ("regle", action.rule.clone()),
            ("seuil", seuil.to_owned()),
            ("echeance", "2027-09-01".to_owned()),
            ("formation", "Prise en main des classes mobiles".to_owned()),
            ("note", note.to_owned()),
        ]
    };
    async fn send_form(
        app: &App,
        who: &Person,
        uri: &str,
        f: Vec<(&'static str, String)>,
    ) -> Result<Answer, E> {
        let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        post(app, who, uri, &refs).await
    }

    // A bad threshold: 422, named in the error summary and beside its field, input kept.
    let bad = send_form(&app, &app.dan, &uri, form(&v, "-1", "Revu en comité")).await?;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("id=\"form-error\""));
    assert!(bad.body.contains("href=\"#f-seuil\""), "{}", bad.body);
    assert!(bad.body.contains("id=\"f-seuil-error\""));
    assert!(bad.body.contains("value=\"-1\"") && bad.body.contains("Revu en comité"));
    assert_eq!(
        equip::need(&app.db, &app.dan.principal, &action.id).await?,
        action
    );

    // The edit: saved over the version read, back to the list.
    let saved = send_form(&app, &app.dan, &uri, form(&v, &threshold, "Revu en comité")).await?;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(
        saved.location.as_deref(),
        Some(format!("/besoins#besoin-{}", action.id).as_str())
    );
    let after = equip::need(&app.db, &app.dan.principal, &action.id).await?;
    assert_eq!(after.target(), "departement:35");
    assert_eq!(after.famille.as_deref(), Some("college"));
    assert_eq!(after.needed_by, Some(time::macros::date!(2027 - 09 - 01)));
    assert_eq!(after.training, "Prise en main des classes mobiles");
    assert_eq!(after.note, "Revu en comité");
    assert_eq!(after.version, action.version + 1);

    // The same form again, read before that save: 409, the conflict said, what was typed kept.
    let stale = send_form(&app, &app.dan, &uri, form(&v, &threshold, "Autre relecture")).await?;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(stale.body.contains("id=\"form-error\""));
    assert!(stale.body.contains("modifié"), "{}", stale.body);
    assert!(stale.body.contains("Autre relecture"));
    assert_eq!(equip::need(&app.db, &app.dan.principal, &action.id).await?, after);

    // Those who may not write the need cannot open its form, nor post it: the API's answer.
    for (who, need) in [(&app.cd35, &action), (&app.cd35, &project), (&app.dan, &project)] {
        let current = equip::need(&app.db, &app.dan.principal, &need.id).await?;
        let expected = api_patch_need(&app, who, &need.id, current.version).await?;
        assert!(
            matches!(expected, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{expected}"
        );
        let edit = format!("/besoins/{}/modifier", need.id);
        let page = get(&app, who, &edit).await?;
        assert_eq!(page.status, expected, "{edit}");
        assert!(!page.body.contains("id=\"need-form\""));
        let version = current.version.to_string();
        let posted = send_form(
            &app,
            who,
            &edit,
            form(&version, &current.threshold.to_string(), "Intrus"),
        )
        .await?;
        assert_eq!(posted.status, expected, "{edit}");
        assert_eq!(equip::need(&app.db, &app.dan.principal, &need.id).await?, current);
    }
    // A national project's need is readable by all: a collectivité gets 403 on it.
    assert_eq!(
        api_patch_need(&app, &app.cd35, &project.id, project.version).await?,
        StatusCode::FORBIDDEN
    );
    Ok(())
}

#[tokio::test]
async fn an_observer_sees_no_comment_form_and_cannot_post_a_comment() -> Result<(), E> {
    let app = app().await?;
    let (plan, _) = equip::plans(&app.db, &app.cd35.principal, Some("223500018"))
        .await?
        .into_iter()
        .next()
        .ok_or("no plan")?;
    let plan_uri = format!("/plans-equipement/{}", plan.id);
    let school_uri = format!("/equipements/{}", app.college);
    for (uri, comments) in [
        (plan_uri.clone(), format!("{plan_uri}/commentaires")),
        (school_uri.clone(), format!("{school_uri}/commentaires")),
    ] {
        // The observer of the académie reads the page and its comments, without the form.
        let page = get(&app, &app.observer, &uri).await?;
        assert_eq!(page.status, StatusCode::OK, "{uri}: {}", page.body);
        assert!(page.body.contains("id=\"commentaires\""), "{uri}");
        assert!(!page.body.contains("id=\"comment-form\""), "{uri}");
        // Posting anyway is refused, and nothing is written.
        let posted = post(&app, &app.observer, &comments, &[("texte", "Lu et approuvé")]).await?;
        assert_eq!(posted.status, StatusCode::FORBIDDEN, "{comments}");
        // The DAN of the académie, a writer of the perimeter, has the form and comments.
        let dan = get(&app, &app.dan, &uri).await?;
        assert!(dan.body.contains("id=\"comment-form\""), "{uri}");
        let posted = post(&app, &app.dan, &comments, &[("texte", "Vu en comité")]).await?;
        assert_eq!(
            posted.status,
            StatusCode::SEE_OTHER,
            "{comments}: {}",
            posted.body
        );
    }
    let plan_comments = equip::plan(&app.db, &app.dan.principal, &plan.id).await?.comments;
    let school_comments = equip::inventory(&app.db, &app.dan.principal, &app.college)
        .await?
        .comments;
    for comments in [plan_comments, school_comments] {
        let texts: Vec<&str> = comments.iter().map(|c| c.body.as_str()).collect();
        assert!(texts.contains(&"Vu en comité"), "{texts:?}");
        assert!(!texts.contains(&"Lu et approuvé"), "{texts:?}");
    }
    Ok(())
}
