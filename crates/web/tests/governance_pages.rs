//! The governance pages through the real router (no socket), signed in with a session
//! cookie and posting forms as a browser of the same origin would, on the engine named by
//! `GOUVERNAIL_TEST_DATABASE`.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gouvernail_core::audit::Actor;
use gouvernail_core::db::Db;
use gouvernail_core::governance::service as gov;
use gouvernail_core::governance::{BodyPatch, MeetingPatch, MemberPatch};
use gouvernail_core::identity::service::{self as identity, NewAssignment};
use gouvernail_core::identity::{Perimeter, Principal, Role};
use gouvernail_core::testkit::{Seed, TestDb};
use gouvernail_web::{AppState, WebConfig};
use http_body_util::BodyExt;
use time::macros::{date, datetime};
use tower::ServiceExt;

type E = Box<dyn std::error::Error>;

const SESSION: &str = "__Host-gouvernail_session";

/// A signed-in person: their principal and their session cookie.
struct Person {
    principal: Principal,
    cookie: String,
}

async fn person(db: &Db, email: &str, role: Option<(Role, &str)>) -> Result<Person, E> {
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
    let principal = identity::principal(db, &user.id, false)
        .await?
        .ok_or("no principal")?;
    let secret = identity::open_session(db, &user.id).await?;
    Ok(Person {
        principal,
        cookie: format!("{SESSION}={secret}"),
    })
}

/// A comité de pilotage of Rennes organised by its DAN, whose secretary has no role, and a
/// planned meeting; the DAN of Aix-Marseille is a stranger to it.
struct World {
    router: Router,
    dan: Person,
    secretary: Person,
    stranger: Person,
    body_id: String,
    meeting_id: String,
    db: Db,
    _t: TestDb,
}

async fn world() -> Result<World, E> {
    let t = TestDb::new(Seed::Referential).await?;
    let db = t.db.clone();
    let dan = person(&db, "dan@rennes.fr", Some((Role::Dan, "academie:14"))).await?;
    let secretary = person(&db, "secretaire@rennes.fr", None).await?;
    let stranger = person(&db, "dan@aix.fr", Some((Role::Dan, "academie:02"))).await?;
    let body = gov::create_body(
        &db,
        &dan.principal,
        &BodyPatch {
            kind: Some("comite-pilotage-academique".into()),
            name: Some("Comité de pilotage du numérique".into()),
            perimeter: Some("academie:14".into()),
            mandate: Some("Suivre la feuille de route".into()),
        },
    )
    .await?;
    gov::add_member(
        &db,
        &dan.principal,
        &body.id,
        &MemberPatch {
            name: Some("Sam Secrétaire".into()),
            email: Some("secretaire@rennes.fr".into()),
            position: Some("secretaire".into()),
            start_date: Some(date!(2025 - 09 - 01)),
            ..Default::default()
        },
    )
    .await?;
    let meeting = gov::create_meeting(
        &db,
        &dan.principal,
        &body.id,
        &MeetingPatch {
            starts_at: Some(datetime!(2030-01-15 13:00 UTC)),
            place: Some("Rectorat, salle du conseil".into()),
            ..Default::default()
        },
    )
    .await?;
    let router = gouvernail_web::router(AppState::new(db.clone(), WebConfig::default()));
    Ok(World {
        router,
        dan,
        secretary,
        stranger,
        body_id: body.id,
        meeting_id: meeting.id,
        db,
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
        } else if b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Posts a form as a page of the same origin does.
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

#[tokio::test]
async fn the_secretary_writes_the_minutes_from_the_meeting_page() -> Result<(), E> {
    let w = world().await?;
    let uri = format!("/reunions/{}", w.meeting_id);
    let page = get(&w, &w.secretary, &uri).await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains(r#"id="minutes-form""#),
        "the secretary gets the editor"
    );
    assert!(page.body.contains(r#"name="texte""#));
    assert!(page.body.contains("Suivi des décisions précédentes"));
    assert_eq!(page.body.matches("<h1").count(), 1, "one h1");
    // The DAN organises but does not write the minutes.
    let dan = get(&w, &w.dan, &uri).await?;
    assert_eq!(dan.status, StatusCode::OK);
    assert!(!dan.body.contains(r#"id="minutes-form""#));
    assert!(
        dan.body.contains(r#"id="agenda-form""#),
        "the DAN edits the agenda"
    );

    // The first draft, in Markdown, with some HTML typed in it.
    let saved = post(
        &w,
        &w.secretary,
        &format!("{uri}/compte-rendu"),
        &[
            ("version", ""),
            (
                "texte",
                "# Relevé\n\n- point un\n- point deux\n\n<script>alert(1)</script>",
            ),
        ],
    )
    .await?;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(
        saved.location.as_deref(),
        Some(format!("{uri}#compte-rendu").as_str())
    );
    let page = get(&w, &w.secretary, &uri).await?.body;
    assert!(page.contains("<h3>Relevé</h3>"), "a heading under the page's own");
    assert!(page.contains("<li>point deux</li>"));
    assert!(
        !page.contains("<script>alert(1)</script>"),
        "raw HTML is never passed through"
    );
    assert!(page.contains("&lt;script&gt;"));
    assert!(page.contains("Brouillon"));
    Ok(())
}

#[tokio::test]
async fn a_dan_of_another_academie_does_not_see_the_body() -> Result<(), E> {
    let w = world().await?;
    let body = get(&w, &w.stranger, &format!("/instances/{}", w.body_id)).await?;
    assert_eq!(body.status, StatusCode::NOT_FOUND);
    let meeting = get(&w, &w.stranger, &format!("/reunions/{}", w.meeting_id)).await?;
    assert_eq!(meeting.status, StatusCode::NOT_FOUND);
    let list = get(&w, &w.stranger, "/instances").await?;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.body.contains("Comité de pilotage du numérique"));
    // Its own DAN sees it, with the forms of an organiser.
    let own = get(&w, &w.dan, &format!("/instances/{}", w.body_id)).await?;
    assert_eq!(own.status, StatusCode::OK);
    assert!(own.body.contains("Sam Secrétaire"));
    assert!(own.body.contains(r#"id="member-form""#));
    assert!(own.body.contains(r#"id="meeting-form""#));
    assert!(own.body.contains(&format!(
        "/api/v1/decisions?instance={}&amp;format=csv",
        w.body_id
    )));
    // Signed out: to the sign-in page.
    let anonymous = send(
        &w.router,
        Request::builder().uri("/instances").body(Body::empty())?,
    )
    .await?;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    Ok(())
}

#[tokio::test]
async fn a_bad_agenda_line_is_named_and_what_was_typed_kept() -> Result<(), E> {
    let w = world().await?;
    let uri = format!("/reunions/{}/ordre-du-jour", w.meeting_id);
    let typed = "Ouverture\n | projet:PN-INCONNU\nBilan | projet:PN-INCONNU";
    let a = post(
        &w,
        &w.secretary,
        &uri,
        &[("version", "1"), ("ordre_du_jour", typed)],
    )
    .await?;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    assert!(a.body.contains("ordre du jour, ligne 2"), "{}", a.body);
    assert!(a.body.contains("ordre du jour, ligne 3"));
    assert!(
        a.body.contains("fr-input-group--error"),
        "the error is next to the field"
    );
    assert!(
        a.body.contains("Bilan | projet:PN-INCONNU"),
        "what was typed is kept"
    );
    // A good agenda is saved, and shown.
    let ok = post(
        &w,
        &w.secretary,
        &uri,
        &[
            ("version", "1"),
            (
                "ordre_du_jour",
                "Ouverture\n\nPoint sur les ENT | | Rapporteur : la DANE",
            ),
        ],
    )
    .await?;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let page = get(&w, &w.secretary, &format!("/reunions/{}", w.meeting_id))
        .await?
        .body;
    assert!(
        page.contains("<li>Point sur les ENT (Rapporteur : la DANE)</li>"),
        "{page}"
    );
    // The same version again: someone saved in between.
    let stale = post(
        &w,
        &w.secretary,
        &uri,
        &[("version", "1"), ("ordre_du_jour", "Autre")],
    )
    .await?;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    Ok(())
}

#[tokio::test]
async fn a_stale_minutes_version_shows_the_conflict_and_keeps_the_text() -> Result<(), E> {
    let w = world().await?;
    let uri = format!("/reunions/{}/compte-rendu", w.meeting_id);
    let first = post(
        &w,
        &w.secretary,
        &uri,
        &[("version", ""), ("texte", "Premier jet")],
    )
    .await?;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let second = post(
        &w,
        &w.secretary,
        &uri,
        &[("version", "1"), ("texte", "Deuxième jet")],
    )
    .await?;
    assert_eq!(second.status, StatusCode::SEE_OTHER, "{}", second.body);
    let stale = post(
        &w,
        &w.secretary,
        &uri,
        &[("version", "1"), ("texte", "Texte d'un autre onglet")],
    )
    .await?;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(stale.body.contains(r#"id="form-error""#));
    assert!(stale.body.contains("par quelqu"), "{}", stale.body);
    assert!(
        stale.body.contains("Texte d&#39;un autre onglet")
            || stale.body.contains("Texte d&#x27;un autre onglet")
    );
    assert!(stale.body.contains("Deuxième jet"), "the current text is shown");
    Ok(())
}

#[tokio::test]
async fn forms_answer_403_as_a_message_and_cross_site_posts_are_refused() -> Result<(), E> {
    let w = world().await?;
    // Anyone signed in gets the form; creating on a perimeter one reads but does not write
    // is refused, and said with the form kept.
    let page = get(&w, &w.secretary, "/instances").await?;
    assert!(page.body.contains(r#"id="body-form""#));
    let observer = person(
        &w.db,
        "observateur@rennes.fr",
        Some((Role::Observateur, "academie:14")),
    )
    .await?;
    let a = post(
        &w,
        &observer,
        "/instances",
        &[
            ("type", "comite-des-partenaires"),
            ("nom", "Comité secret"),
            ("perimetre", "academie:14"),
            ("mandat", ""),
        ],
    )
    .await?;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert!(a.body.contains(r#"id="form-error""#));
    assert!(a.body.contains(r#"value="Comité secret""#), "the form is kept");
    // A perimeter one does not even read is unknown, next to its field.
    let unknown = post(
        &w,
        &w.secretary,
        "/instances",
        &[
            ("type", "autre"),
            ("nom", "Comité secret"),
            ("perimetre", "academie:14"),
        ],
    )
    .await?;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(
        unknown.body.contains(r#"id="b-perimetre-error""#),
        "{}",
        unknown.body
    );
    assert!(unknown.body.contains(r#"value="Comité secret""#));
    // A missing name is named next to its field.
    let b = post(
        &w,
        &w.dan,
        "/instances",
        &[
            ("type", "comite-des-partenaires"),
            ("nom", ""),
            ("perimetre", "academie:14"),
        ],
    )
    .await?;
    assert_eq!(b.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(b.body.contains(r#"id="b-nom-error""#), "{}", b.body);
    // The DAN creates it.
    let c = post(
        &w,
        &w.dan,
        "/instances",
        &[
            ("type", "comite-des-partenaires"),
            ("nom", "Comité des partenaires"),
            ("perimetre", "academie:14"),
        ],
    )
    .await?;
    assert_eq!(c.status, StatusCode::SEE_OTHER, "{}", c.body);
    assert!(c.location.is_some_and(|l| l.starts_with("/instances/")));
    // A form posted from another site never arrives.
    let req = Request::builder()
        .method("POST")
        .uri(format!("/reunions/{}/annulation", w.meeting_id))
        .header(header::COOKIE, &w.dan.cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from("version=1"))?;
    assert_eq!(send(&w.router, req).await?.status, StatusCode::FORBIDDEN);
    let still = get(&w, &w.dan, &format!("/reunions/{}", w.meeting_id))
        .await?
        .body;
    assert!(still.contains("Prévue"));
    Ok(())
}

#[tokio::test]
async fn the_account_page_creates_shows_once_and_revokes_a_calendar_feed() -> Result<(), E> {
    let w = world().await?;
    let page = get(&w, &w.secretary, "/compte").await?;
    assert!(page.body.contains(r#"id="feed-create""#));
    let created = post(&w, &w.secretary, "/compte/agenda", &[]).await?;
    assert_eq!(created.status, StatusCode::OK);
    assert!(created.body.contains(r#"id="feed-url""#));
    assert!(created.body.contains("/agenda/gvc_"));
    let again = get(&w, &w.secretary, "/compte").await?.body;
    assert!(!again.contains("/agenda/gvc_"), "the address is shown once");
    assert!(again.contains(r#"id="feed-revoke""#));
    let revoked = post(&w, &w.secretary, "/compte/agenda/revocation", &[]).await?;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert!(
        get(&w, &w.secretary, "/compte")
            .await?
            .body
            .contains(r#"id="feed-create""#)
    );
    Ok(())
}

#[tokio::test]
async fn an_attendance_line_is_named_by_its_member() -> Result<(), E> {
    let w = world().await?;
    let page = get(&w, &w.secretary, &format!("/reunions/{}", w.meeting_id))
        .await?
        .body;
    let member = page
        .split(r#"name="membre" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("no attendance line")?
        .to_owned();
    let uri = format!("/reunions/{}/presences", w.meeting_id);
    let statut = format!("statut-{member}");
    let a = post(
        &w,
        &w.secretary,
        &uri,
        &[("version", "1"), ("membre", &member), (&statut, "represente")],
    )
    .await?;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    assert!(a.body.contains("présences, Sam Secrétaire"), "{}", a.body);
    assert!(a.body.contains("fr-select-group--error"));
    assert!(
        a.body.contains(r#"<option value="represente" selected>"#),
        "what was chosen is kept"
    );
    let ok = post(
        &w,
        &w.secretary,
        &uri,
        &[("version", "1"), ("membre", &member), (&statut, "present")],
    )
    .await?;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let page = get(&w, &w.dan, &format!("/reunions/{}", w.meeting_id))
        .await?
        .body;
    assert!(page.contains(r#"<option value="present" selected>"#));
    assert!(page.contains("Tenue"));
    Ok(())
}
