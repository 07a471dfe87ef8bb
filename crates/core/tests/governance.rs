//! Governance bodies, meetings, minutes and decisions, on the engine named by
//! `GOUVERNAIL_TEST_DATABASE`.

use gouvernail_core::CoreError;
use gouvernail_core::audit::{self, Actor};
use gouvernail_core::db::Db;
use gouvernail_core::governance::service::{self as gov, AttendanceInput};
use gouvernail_core::governance::*;
use gouvernail_core::identity::service::{self as identity, NewAssignment};
use gouvernail_core::identity::{Perimeter, Principal, Role};
use gouvernail_core::jobs;
use gouvernail_core::testkit::{Seed, TestDb};
use time::macros::{date, datetime};

type R = Result<(), CoreError>;

async fn person(db: &Db, email: &str, role: Option<(Role, &str)>) -> Result<Principal, CoreError> {
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
    identity::principal(db, &user.id, false)
        .await?
        .ok_or(CoreError::Unauthenticated)
}

fn member(name: &str, email: &str, position: &str) -> MemberPatch {
    MemberPatch {
        name: Some(name.into()),
        email: Some(email.into()),
        organisation: Some("Rectorat de Rennes".into()),
        position: Some(position.into()),
        start_date: Some(date!(2025 - 09 - 01)),
        ..Default::default()
    }
}

struct World {
    dan: Principal,
    secretary: Principal,
    body: Body,
}

/// A comité de pilotage of Rennes: the DAN organises, a secretary without any role writes
/// the minutes, two other members.
async fn world(db: &Db) -> Result<World, CoreError> {
    let dan = person(db, "dan@rennes.fr", Some((Role::Dan, "academie:14"))).await?;
    let secretary = person(db, "secretaire@rennes.fr", None).await?;
    let body = gov::create_body(
        db,
        &dan,
        &BodyPatch {
            kind: Some("comite-pilotage-academique".into()),
            name: Some("Comité de pilotage académique du numérique".into()),
            perimeter: Some("academie:14".into()),
            mandate: Some("Suivre la feuille de route".into()),
        },
    )
    .await?;
    gov::add_member(
        db,
        &dan,
        &body.id,
        &member("Rose Rectrice", "recteur@rennes.fr", "president"),
    )
    .await?;
    gov::add_member(
        db,
        &dan,
        &body.id,
        &member("Sam Secrétaire", "secretaire@rennes.fr", "secretaire"),
    )
    .await?;
    gov::add_member(
        db,
        &dan,
        &body.id,
        &MemberPatch {
            organisation_ref: Some(Some("collectivite:223500018".into())),
            organisation: Some(String::new()),
            ..member("Claire Département", "cd35@ille-et-vilaine.fr", "membre")
        },
    )
    .await?;
    Ok(World { dan, secretary, body })
}

fn meeting_at(start: time::OffsetDateTime) -> MeetingPatch {
    MeetingPatch {
        starts_at: Some(start),
        ends_at: Some(start + time::Duration::hours(2)),
        place: Some("Rectorat, salle du conseil".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn an_open_decision_follows_on_the_next_agenda_until_done() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let w = world(db).await?;
    let m1 = gov::create_meeting(
        db,
        &w.dan,
        &w.body.id,
        &meeting_at(datetime!(2026-01-15 13:00 UTC)),
    )
    .await?;
    assert_eq!(m1.number, 1);
    let d = gov::create_decision(
        db,
        &w.dan,
        &m1.id,
        &DecisionPatch {
            title: Some("Recenser les écoles sans ENT".into()),
            owner: Some("cd35@ille-et-vilaine.fr".into()),
            due_date: Some(Some(date!(2026 - 03 - 01))),
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(d.code(), "D-1");
    assert_eq!(
        d.owner_name, "Claire Département",
        "the member's name follows the e-mail"
    );
    let done = gov::create_decision(
        db,
        &w.dan,
        &m1.id,
        &DecisionPatch {
            title: Some("Diffuser le compte rendu".into()),
            owner: Some("Sam Secrétaire".into()),
            status: Some("faite".into()),
            ..Default::default()
        },
    )
    .await?;

    let m2 = gov::create_meeting(
        db,
        &w.dan,
        &w.body.id,
        &meeting_at(datetime!(2026-04-02 12:00 UTC)),
    )
    .await?;
    let view = gov::meeting(db, &w.dan, &m2.id).await?;
    assert_eq!(view.follow_ups.len(), 1, "only the open decision follows");
    assert_eq!(view.follow_ups[0].decision_id, d.id);
    assert_eq!(view.follow_ups[0].status, "ouverte");
    assert!(view.follow_ups[0].late, "due 1 March, still open");
    assert!(!view.follow_ups.iter().any(|f| f.decision_id == done.id));
    // The first meeting's agenda does not follow its own decisions.
    assert!(gov::meeting(db, &w.dan, &m1.id).await?.follow_ups.is_empty());

    // Closing it: the draft agenda no longer lists it, the register shows it done.
    gov::update_decision(
        db,
        &w.dan,
        &d.id,
        d.version,
        &DecisionPatch {
            status: Some("faite".into()),
            status_note: Some("Liste transmise le 20 mars".into()),
            ..Default::default()
        },
    )
    .await?;
    assert!(gov::meeting(db, &w.dan, &m2.id).await?.follow_ups.is_empty());
    let register = gov::decisions(
        db,
        &w.dan,
        &DecisionFilter {
            body_id: Some(w.body.id.clone()),
            ..Default::default()
        },
    )
    .await?;
    let row = register
        .iter()
        .find(|r| r.decision.id == d.id)
        .ok_or(CoreError::Internal("absent".into()))?;
    assert_eq!(row.decision.status, "faite");
    assert!(row.decision.closed_at.is_some());
    assert!(!row.late);
    Ok(())
}

#[tokio::test]
async fn holding_a_meeting_freezes_its_follow_ups() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let w = world(db).await?;
    let m1 = gov::create_meeting(
        db,
        &w.dan,
        &w.body.id,
        &meeting_at(datetime!(2026-01-15 13:00 UTC)),
    )
    .await?;
    let d = gov::create_decision(
        db,
        &w.dan,
        &m1.id,
        &DecisionPatch {
            title: Some("Préparer la convention ENT".into()),
            owner: Some("Rose Rectrice".into()),
            ..Default::default()
        },
    )
    .await?;
    let m2 = gov::create_meeting(
        db,
        &w.dan,
        &w.body.id,
        &meeting_at(datetime!(2026-04-02 12:00 UTC)),
    )
    .await?;
    let members = gov::composition(db, &w.dan, &w.body.id, date!(2026 - 04 - 02)).await?;
    let sheet: Vec<AttendanceInput> = members
        .iter()
        .map(|m| AttendanceInput {
            member_id: m.id.clone(),
            status: "present".into(),
            represented_by: None,
        })
        .collect();
    let held = gov::record_attendance(db, &w.secretary, &m2.id, m2.version, &sheet).await?;
    assert_eq!(held.meeting.status, "tenue");
    assert_eq!(held.follow_ups.len(), 1);
    // Closed afterwards: the held meeting still shows it as it stood that day.
    gov::update_decision(
        db,
        &w.dan,
        &d.id,
        d.version,
        &DecisionPatch {
            status: Some("faite".into()),
            ..Default::default()
        },
    )
    .await?;
    let again = gov::meeting(db, &w.dan, &m2.id).await?;
    assert_eq!(again.follow_ups.len(), 1);
    assert_eq!(again.follow_ups[0].status, "ouverte");
    assert!(
        again
            .attendance
            .iter()
            .all(|(_, a)| a.as_ref().is_some_and(|a| a.status == "present"))
    );
    Ok(())
}

#[tokio::test]
async fn the_composition_on_any_date_follows_the_mandates() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let w = world(db).await?;
    let all = gov::composition(db, &w.dan, &w.body.id, date!(2026 - 01 - 01)).await?;
    assert_eq!(all.len(), 3);
    let claire = all
        .iter()
        .find(|m| m.email == "cd35@ille-et-vilaine.fr")
        .ok_or(CoreError::Internal("absent".into()))?;
    assert_eq!(
        claire.organisation, "Département d’Ille-et-Vilaine",
        "named from the referential"
    );
    gov::update_member(
        db,
        &w.dan,
        &claire.id,
        claire.version,
        &MemberPatch {
            end_date: Some(Some(date!(2026 - 02 - 28))),
            ..Default::default()
        },
    )
    .await?;
    gov::add_member(
        db,
        &w.dan,
        &w.body.id,
        &MemberPatch {
            start_date: Some(date!(2026 - 03 - 01)),
            ..member("Yann Successeur", "yann@ille-et-vilaine.fr", "membre")
        },
    )
    .await?;
    let before: Vec<String> = gov::composition(db, &w.dan, &w.body.id, date!(2026 - 02 - 15))
        .await?
        .into_iter()
        .map(|m| m.name)
        .collect();
    let after: Vec<String> = gov::composition(db, &w.dan, &w.body.id, date!(2026 - 03 - 15))
        .await?
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert!(
        before.contains(&"Claire Département".to_owned()) && !before.contains(&"Yann Successeur".to_owned())
    );
    assert!(
        after.contains(&"Yann Successeur".to_owned()) && !after.contains(&"Claire Département".to_owned())
    );
    // Bad input names its fields.
    let err = gov::add_member(
        db,
        &w.dan,
        &w.body.id,
        &MemberPatch {
            name: Some(String::new()),
            email: Some("pas-une-adresse".into()),
            position: Some("tresorier".into()),
            organisation_ref: Some(Some("collectivite:999999999".into())),
            start_date: Some(date!(2026 - 03 - 01)),
            end_date: Some(Some(date!(2026 - 01 - 01))),
            ..Default::default()
        },
    )
    .await;
    let Err(CoreError::Validation(fields)) = err else {
        return Err(CoreError::Internal(format!(
            "expected a validation error: {err:?}"
        )));
    };
    let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
    for want in ["nom", "email", "fonction", "organisationRef", "fin"] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    Ok(())
}

#[tokio::test]
async fn only_the_secretary_writes_minutes_and_approved_minutes_are_frozen() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let w = world(db).await?;
    let m = gov::create_meeting(
        db,
        &w.dan,
        &w.body.id,
        &meeting_at(datetime!(2026-01-15 13:00 UTC)),
    )
    .await?;
    // The DAN organises the body but does not write its minutes.
    assert!(matches!(
        gov::save_minutes(db, &w.dan, &m.id, None, "Texte").await,
        Err(CoreError::Forbidden)
    ));
    let draft = gov::save_minutes(db, &w.secretary, &m.id, None, "## Relevé\n\nLe comité a validé.").await?;
    assert_eq!((draft.revision, draft.status.as_str()), (1, "brouillon"));
    // A stale draft is refused.
    let draft = gov::save_minutes(
        db,
        &w.secretary,
        &m.id,
        Some(draft.version),
        "## Relevé\n\nLe comité a validé la feuille de route.",
    )
    .await?;
    assert!(matches!(
        gov::save_minutes(db, &w.secretary, &m.id, Some(draft.version - 1), "écrasement").await,
        Err(CoreError::Conflict(_))
    ));
    // Not held yet: cannot be approved.
    assert!(matches!(
        gov::approve_minutes(db, &w.secretary, &m.id, draft.version).await,
        Err(CoreError::Conflict(_))
    ));
    gov::record_attendance(db, &w.secretary, &m.id, m.version, &[]).await?;
    let approved = gov::approve_minutes(db, &w.secretary, &m.id, draft.version).await?;
    assert!(approved.approved());
    assert!(matches!(
        gov::save_minutes(
            db,
            &w.secretary,
            &m.id,
            Some(approved.version),
            "retouche discrète"
        )
        .await,
        Err(CoreError::Conflict(_))
    ));
    // A correction is a new revision with its reason, starting from the approved text.
    assert!(matches!(
        gov::correct_minutes(db, &w.secretary, &m.id, "  ").await,
        Err(CoreError::Validation(_))
    ));
    let correction = gov::correct_minutes(db, &w.secretary, &m.id, "Nom d'un participant erroné").await?;
    assert_eq!(correction.revision, 2);
    assert_eq!(correction.body, approved.body);
    let revisions = gov::minutes_revisions(db, &w.dan, &m.id).await?;
    assert_eq!(revisions.len(), 2);
    assert!(revisions[1].approved(), "revision 1 stays approved and unchanged");
    // Audited.
    let (entries, _) = audit::list(
        db,
        &audit::AuditFilter {
            object_kind: Some("compte-rendu".into()),
            ..Default::default()
        },
        100,
        0,
    )
    .await?;
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    for want in ["creer", "modifier", "approuver", "corriger"] {
        assert!(actions.contains(&want), "{want} not audited: {actions:?}");
    }
    Ok(())
}

#[tokio::test]
async fn bodies_are_seen_by_their_perimeter_and_their_members_only() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let w = world(db).await?;
    let other_dan = person(db, "dan@aix.fr", Some((Role::Dan, "academie:02"))).await?;
    let stranger = person(db, "quelquun@exemple.fr", None).await?;
    let observer = person(db, "obs@rennes.fr", Some((Role::Observateur, "academie:14"))).await?;
    // A member with an account made after their membership is linked by e-mail.
    let claire = person(db, "cd35@ille-et-vilaine.fr", None).await?;
    for outsider in [&other_dan, &stranger] {
        assert!(matches!(
            gov::body(db, outsider, &w.body.id).await,
            Err(CoreError::NotFound { .. })
        ));
        assert!(gov::bodies(db, outsider).await?.is_empty());
    }
    let seen = gov::body(db, &claire, &w.body.id).await?;
    assert!(!seen.can_manage && !seen.can_write_minutes);
    let seen = gov::body(db, &observer, &w.body.id).await?;
    assert!(!seen.can_manage);
    assert!(matches!(
        gov::create_meeting(
            db,
            &observer,
            &w.body.id,
            &meeting_at(datetime!(2026-01-15 13:00 UTC))
        )
        .await,
        Err(CoreError::Forbidden)
    ));
    // The secretary, with no role, organises.
    assert!(gov::body(db, &w.secretary, &w.body.id).await?.can_manage);
    // A decision's owner reports on it, but does not rewrite it.
    let m = gov::create_meeting(
        db,
        &w.secretary,
        &w.body.id,
        &meeting_at(datetime!(2026-01-15 13:00 UTC)),
    )
    .await?;
    let d = gov::create_decision(
        db,
        &w.secretary,
        &m.id,
        &DecisionPatch {
            title: Some("Chiffrer le plan".into()),
            owner: Some("cd35@ille-et-vilaine.fr".into()),
            ..Default::default()
        },
    )
    .await?;
    let d = gov::update_decision(
        db,
        &claire,
        &d.id,
        d.version,
        &DecisionPatch {
            status: Some("en-cours".into()),
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(d.status, "en-cours");
    assert!(matches!(
        gov::update_decision(
            db,
            &claire,
            &d.id,
            d.version,
            &DecisionPatch {
                title: Some("Autre chose".into()),
                ..Default::default()
            }
        )
        .await,
        Err(CoreError::Forbidden)
    ));
    assert!(matches!(
        gov::decision(db, &other_dan, &d.id).await,
        Err(CoreError::NotFound { .. })
    ));
    Ok(())
}

#[tokio::test]
async fn invitations_updates_and_cancellations_are_queued_once_with_their_ics() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let w = world(db).await?;
    let m = gov::create_meeting(
        db,
        &w.dan,
        &w.body.id,
        &meeting_at(datetime!(2026-01-15 13:00 UTC)),
    )
    .await?;
    assert_eq!(gov::send_invitations(db, &w.dan, &m.id).await?, 3);
    assert_eq!(
        gov::send_invitations(db, &w.dan, &m.id).await?,
        0,
        "the same invitation is queued once"
    );
    let key = format!("reunion:{}:0:invitation:cd35@ille-et-vilaine.fr", m.id);
    let job = jobs::find_by_dedupe_key(db, &key)
        .await?
        .ok_or(CoreError::Internal("no job".into()))?;
    let mail = jobs::MailJob::from_job(&job)?;
    assert_eq!(mail.message.to[0].email, "cd35@ille-et-vilaine.fr");
    let ics = &mail.message.attachments[0].content;
    assert!(ics.contains("METHOD:REQUEST"));
    assert!(ics.contains("DTSTART:20260115T130000Z"));
    assert!(ics.contains(&format!("UID:reunion-{}@gouvernail", m.id)));

    // Moved: the members receive an update with the next sequence.
    let current = gov::meeting(db, &w.dan, &m.id).await?.meeting;
    let moved = gov::update_meeting(
        db,
        &w.dan,
        &m.id,
        current.version,
        &MeetingPatch {
            starts_at: Some(datetime!(2026-01-16 13:00 UTC)),
            ends_at: Some(datetime!(2026-01-16 15:00 UTC)),
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(moved.sequence, 1);
    let update = jobs::find_by_dedupe_key(
        db,
        &format!("reunion:{}:1:modification:cd35@ille-et-vilaine.fr", m.id),
    )
    .await?
    .ok_or(CoreError::Internal("no update".into()))?;
    let update = jobs::MailJob::from_job(&update)?;
    assert!(update.message.attachments[0].content.contains("SEQUENCE:1"));
    // A stale edit is refused.
    assert!(matches!(
        gov::update_meeting(db, &w.dan, &m.id, current.version, &MeetingPatch::default()).await,
        Err(CoreError::Conflict(_))
    ));
    let cancelled = gov::cancel_meeting(db, &w.dan, &m.id, moved.version).await?;
    assert_eq!((cancelled.status.as_str(), cancelled.sequence), ("annulee", 2));
    let cancel = jobs::find_by_dedupe_key(db, &format!("reunion:{}:2:annulation:recteur@rennes.fr", m.id))
        .await?
        .ok_or(CoreError::Internal("no cancellation".into()))?;
    let cancel = jobs::MailJob::from_job(&cancel)?;
    assert!(cancel.message.attachments[0].content.contains("METHOD:CANCEL"));
    assert!(cancel.message.attachments[0].content.contains("STATUS:CANCELLED"));
    assert_eq!(jobs::stats(db).await?.pending, 9);
    Ok(())
}

#[tokio::test]
async fn a_calendar_feed_lists_the_meetings_until_revoked() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let w = world(db).await?;
    let start = time::OffsetDateTime::now_utc() + time::Duration::days(10);
    let m = gov::create_meeting(db, &w.dan, &w.body.id, &meeting_at(start)).await?;
    let token = gov::new_calendar_feed(db, &w.secretary).await?;
    let ics = gov::calendar_feed(db, &token)
        .await?
        .ok_or(CoreError::Internal("no feed".into()))?;
    assert!(ics.contains(&format!("UID:reunion-{}@gouvernail", m.id)));
    assert!(ics.contains("METHOD:PUBLISH"));
    // A new token revokes the old one; revoking ends the feed.
    let token2 = gov::new_calendar_feed(db, &w.secretary).await?;
    assert!(gov::calendar_feed(db, &token).await?.is_none());
    gov::revoke_calendar_feed(db, &w.secretary).await?;
    assert!(gov::calendar_feed(db, &token2).await?.is_none());
    // The DAN is not a member: their feed is empty of this body's meetings.
    let dan_token = gov::new_calendar_feed(db, &w.dan).await?;
    let dan_ics = gov::calendar_feed(db, &dan_token)
        .await?
        .ok_or(CoreError::Internal("no feed".into()))?;
    assert!(!dan_ics.contains("VEVENT"));
    Ok(())
}

#[tokio::test]
async fn agenda_items_point_to_projects_actions_and_decisions() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let w = world(db).await?;
    let m1 = gov::create_meeting(
        db,
        &w.dan,
        &w.body.id,
        &meeting_at(datetime!(2026-01-15 13:00 UTC)),
    )
    .await?;
    gov::create_decision(
        db,
        &w.dan,
        &m1.id,
        &DecisionPatch {
            title: Some("Étudier le déploiement".into()),
            owner: Some("Rose Rectrice".into()),
            ..Default::default()
        },
    )
    .await?;
    let m2 = gov::create_meeting(
        db,
        &w.dan,
        &w.body.id,
        &meeting_at(datetime!(2026-03-15 13:00 UTC)),
    )
    .await?;
    let err = gov::set_agenda(
        db,
        &w.dan,
        &m2.id,
        m2.version,
        &[
            AgendaInput {
                title: "Point d'étape".into(),
                notes: String::new(),
                reference: Some("decision:D-1".into()),
            },
            AgendaInput {
                title: String::new(),
                notes: String::new(),
                reference: None,
            },
            AgendaInput {
                title: "Projet inconnu".into(),
                notes: String::new(),
                reference: Some("projet:NOPE".into()),
            },
        ],
    )
    .await;
    let Err(CoreError::Validation(fields)) = err else {
        return Err(CoreError::Internal(format!(
            "expected a validation error: {err:?}"
        )));
    };
    let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(names, ["ordreDuJour[1].titre", "ordreDuJour[2].reference"]);
    let view = gov::set_agenda(
        db,
        &w.dan,
        &m2.id,
        m2.version,
        &[AgendaInput {
            title: "Point d'étape".into(),
            notes: "Dix minutes".into(),
            reference: Some("decision:D-1".into()),
        }],
    )
    .await?;
    assert_eq!(view.items.len(), 1);
    assert_eq!(
        view.items[0].ref_label.as_deref(),
        Some("D-1 — Étudier le déploiement")
    );
    assert_eq!(view.follow_ups.len(), 1);
    Ok(())
}

#[tokio::test]
async fn the_demo_has_bodies_with_a_year_of_meetings_and_decisions_open_done_and_late() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    gouvernail_core::demo::load_demo_accounts(db).await?;
    gouvernail_core::demo::load_demo_strategy(db).await?;
    gouvernail_core::governance::demo::load(db).await?;
    // Loading twice changes nothing.
    gouvernail_core::governance::demo::load(db).await?;
    let admin = identity::user_by_email(db, "admin@demo.gouvernail.fr").await?;
    let admin = identity::principal(db, &admin.id, false)
        .await?
        .ok_or(CoreError::Unauthenticated)?;
    let bodies = gov::bodies(db, &admin).await?;
    let kinds: Vec<&str> = bodies.iter().map(|(b, _)| b.kind.as_str()).collect();
    for want in [
        "comite-pilotage-academique",
        "instance-academique-territoriale",
        "instance-departementale",
        "comite-des-partenaires",
    ] {
        assert!(kinds.contains(&want), "{want} missing: {kinds:?}");
    }
    let copil = bodies
        .iter()
        .find(|(b, _)| b.kind == "comite-pilotage-academique")
        .ok_or(CoreError::Internal("no copil".into()))?;
    let view = gov::body(db, &admin, &copil.0.id).await?;
    assert_eq!(view.meetings.len(), 5);
    let planned: Vec<&Meeting> = view.meetings.iter().filter(|m| m.status == "prevue").collect();
    assert_eq!(planned.len(), 1);
    let next = gov::meeting(db, &admin, &planned[0].id).await?;
    assert!(
        next.follow_ups.iter().any(|f| f.late),
        "a late decision follows: {:?}",
        next.follow_ups
    );
    let register = gov::decisions(db, &admin, &DecisionFilter::default()).await?;
    let statuses: Vec<&str> = register.iter().map(|d| d.decision.status.as_str()).collect();
    assert!(statuses.contains(&"faite") && statuses.contains(&"ouverte") && statuses.contains(&"en-cours"));
    assert!(register[0].late, "late ones first");
    // The secretary of the copil (a DANE member) reads and writes its minutes.
    let dane = identity::user_by_email(db, "dane.rennes@demo.gouvernail.fr").await?;
    let dane = identity::principal(db, &dane.id, false)
        .await?
        .ok_or(CoreError::Unauthenticated)?;
    assert!(gov::body(db, &dane, &copil.0.id).await?.can_write_minutes);
    Ok(())
}

#[tokio::test]
async fn the_history_of_a_meeting_is_shown_to_those_who_see_its_body() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let w = world(db).await?;
    let m = gov::create_meeting(
        db,
        &w.dan,
        &w.body.id,
        &meeting_at(datetime!(2026-01-15 13:00 UTC)),
    )
    .await?;
    gov::set_agenda(
        db,
        &w.dan,
        &m.id,
        m.version,
        &[AgendaInput {
            title: "Point unique".into(),
            ..Default::default()
        }],
    )
    .await?;
    let history = identity::history(db, &w.secretary, "reunion", &m.id).await?;
    let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions.len(), 2, "{actions:?}");
    assert!(actions.contains(&"creer") && actions.contains(&"ordre-du-jour"));
    let other = person(db, "dan@aix.fr", Some((Role::Dan, "academie:02"))).await?;
    assert!(matches!(
        identity::history(db, &other, "reunion", &m.id).await,
        Err(CoreError::NotFound { .. })
    ));
    Ok(())
}

#[tokio::test]
async fn an_agenda_item_may_point_to_a_convention_its_reader_sees() -> R {
    use gouvernail_core::convention::model::{ConventionInput, PartyInput};
    use gouvernail_core::convention::service as conv;
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let w = world(db).await?;
    let party = |reference: &str| PartyInput {
        reference: reference.into(),
        representative: format!("Représentant de {reference}"),
        capacity: "Signataire habilité".into(),
        ..Default::default()
    };
    let convention = conv::create_convention(
        db,
        &w.dan,
        &ConventionInput {
            kind: "convention-cadre".into(),
            title: "Convention-cadre numérique éducatif Rennes – Ille-et-Vilaine".into(),
            object: "Coordonner les politiques numériques".into(),
            parties: vec![party("academie:14"), party("collectivite:223500018")],
            renewal: "aucune".into(),
            effective_date: Some(date!(2026 - 01 - 01)),
            end_date: Some(date!(2028 - 12 - 31)),
            ..Default::default()
        },
    )
    .await?;
    let m = gov::create_meeting(
        db,
        &w.dan,
        &w.body.id,
        &meeting_at(datetime!(2026-03-15 13:00 UTC)),
    )
    .await?;
    let view = gov::set_agenda(
        db,
        &w.dan,
        &m.id,
        m.version,
        &[AgendaInput {
            title: "Bilan de la convention-cadre".into(),
            notes: String::new(),
            reference: Some(format!("convention:{}", convention.convention.id)),
        }],
    )
    .await?;
    assert_eq!(view.items[0].ref_kind.as_deref(), Some("convention"));
    assert_eq!(
        view.items[0].ref_label.as_deref(),
        Some("Convention-cadre numérique éducatif Rennes – Ille-et-Vilaine")
    );
    let err = gov::set_agenda(
        db,
        &w.dan,
        &m.id,
        view.meeting.version,
        &[AgendaInput {
            title: "Inconnue".into(),
            notes: String::new(),
            reference: Some("convention:inconnue".into()),
        }],
    )
    .await;
    assert!(matches!(err, Err(CoreError::Validation(f)) if f[0].field == "ordreDuJour[0].reference"));
    Ok(())
}
