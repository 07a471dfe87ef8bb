//! The demo's governance: the comité de pilotage académique of Rennes with a year of
//! meetings (attendance, approved minutes, decisions done, in progress and late, one meeting
//! to come), the instance académique territoriale with the Région Bretagne and the four
//! départements, the departmental instance of Ille-et-Vilaine and the national comité des
//! partenaires. Dates are relative to the day the demo is loaded, so that it stays alive.

use time::{Date, Duration, OffsetDateTime, Time};

use crate::error::CoreResult;
use crate::identity::Principal;
use crate::{db::Db, paris};

use super::model::*;
use super::service::{self as gov, AttendanceInput};

use crate::demo::principal;

/// A meeting `days` from today at 14:00, Paris time.
fn at(days: i64, hour: u8) -> OffsetDateTime {
    let day = paris::local(OffsetDateTime::now_utc()).date() + Duration::days(days);
    let time = Time::from_hms(hour, 0, 0).unwrap_or(Time::MIDNIGHT);
    paris::from_local(day.with_time(time))
}

fn day(days: i64) -> Date {
    paris::local(OffsetDateTime::now_utc()).date() + Duration::days(days)
}

struct Seat<'a> {
    name: &'a str,
    email: &'a str,
    organisation: &'a str,
    reference: Option<&'a str>,
    position: Position,
}

async fn body_with(
    db: &Db,
    by: &Principal,
    kind: BodyKind,
    name: &str,
    perimeter: &str,
    mandate: &str,
    seats: &[Seat<'_>],
) -> CoreResult<(Body, Vec<Member>)> {
    let body = gov::create_body(
        db,
        by,
        &BodyPatch {
            kind: Some(kind.as_str().into()),
            name: Some(name.into()),
            perimeter: Some(perimeter.into()),
            mandate: Some(mandate.into()),
        },
    )
    .await?;
    let mut members = Vec::new();
    for seat in seats {
        members.push(
            gov::add_member(
                db,
                by,
                &body.id,
                &MemberPatch {
                    name: Some(seat.name.into()),
                    email: Some(seat.email.into()),
                    organisation: Some(seat.organisation.into()),
                    organisation_ref: Some(seat.reference.map(str::to_owned)),
                    position: Some(seat.position.as_str().into()),
                    delegate: Some(false),
                    start_date: Some(day(-400)),
                    end_date: None,
                },
            )
            .await?,
        );
    }
    Ok((body, members))
}

/// Holds a meeting: everyone present but one excused, minutes written and approved.
async fn hold(
    db: &Db,
    secretary: &Principal,
    meeting: &Meeting,
    members: &[Member],
    minutes: &str,
) -> CoreResult<()> {
    let sheet: Vec<AttendanceInput> = members
        .iter()
        .enumerate()
        .map(|(i, m)| AttendanceInput {
            member_id: m.id.clone(),
            status: if i + 1 == members.len() {
                "excuse"
            } else {
                "present"
            }
            .into(),
            represented_by: None,
        })
        .collect();
    gov::record_attendance(db, secretary, &meeting.id, meeting.version, &sheet).await?;
    let draft = gov::save_minutes(db, secretary, &meeting.id, None, minutes).await?;
    gov::approve_minutes(db, secretary, &meeting.id, draft.version).await?;
    Ok(())
}

async fn meeting(
    db: &Db,
    by: &Principal,
    body: &Body,
    days: i64,
    title: &str,
    agenda: &[&str],
) -> CoreResult<Meeting> {
    let m = gov::create_meeting(
        db,
        by,
        &body.id,
        &MeetingPatch {
            title: Some(title.into()),
            starts_at: Some(at(days, 14)),
            ends_at: Some(at(days, 16)),
            place: Some("Rectorat de Rennes, 96 rue d'Antrain, salle du conseil".into()),
            video_url: None,
        },
    )
    .await?;
    let items: Vec<AgendaInput> = agenda
        .iter()
        .map(|t| {
            let (title, reference) = t
                .split_once(" | ")
                .map_or((*t, None), |(a, b)| (a, Some(b.to_owned())));
            AgendaInput {
                title: title.into(),
                notes: String::new(),
                reference,
            }
        })
        .collect();
    let view = gov::set_agenda(db, by, &m.id, m.version, &items).await?;
    Ok(view.meeting)
}

async fn decide(
    db: &Db,
    by: &Principal,
    meeting: &Meeting,
    title: &str,
    owner: &str,
    due_in: Option<i64>,
) -> CoreResult<Decision> {
    gov::create_decision(
        db,
        by,
        &meeting.id,
        &DecisionPatch {
            title: Some(title.into()),
            owner: Some(owner.into()),
            due_date: Some(due_in.map(day)),
            ..Default::default()
        },
    )
    .await
}

async fn set_status(db: &Db, by: &Principal, d: &Decision, status: &str, note: &str) -> CoreResult<Decision> {
    gov::update_decision(
        db,
        by,
        &d.id,
        d.version,
        &DecisionPatch {
            status: Some(status.into()),
            status_note: Some(note.into()),
            ..Default::default()
        },
    )
    .await
}

/// Loads the demo's bodies (once: nothing happens when bodies exist).
pub async fn load(db: &Db) -> CoreResult<()> {
    if !super::repo::list_bodies(db).await?.is_empty() {
        return Ok(());
    }
    let admin = principal(db, "admin@demo.gouvernail.fr").await?;
    let dan = principal(db, "dan.rennes@demo.gouvernail.fr").await?;
    let secretary = principal(db, "dane.rennes@demo.gouvernail.fr").await?;

    // The comité de pilotage académique of Rennes.
    let (copil, members) = body_with(
        db,
        &dan,
        BodyKind::ComitePilotageAcademique,
        "Comité de pilotage académique du numérique — Rennes",
        "academie:14",
        "Arrête la feuille de route numérique de l'académie, en suit la mise en œuvre et en évalue les effets. \
         Se réunit chaque trimestre sous la présidence de la rectrice.",
        &[
            Seat { name: "Rose Rectrice", email: "recteur.rennes@demo.gouvernail.fr", organisation: "Rectorat de Rennes", reference: Some("academie:14"), position: Position::President },
            Seat { name: "Chloé Chargée-de-mission", email: "dane.rennes@demo.gouvernail.fr", organisation: "DANE de Rennes", reference: Some("academie:14"), position: Position::Secretaire },
            Seat { name: "Damien Dan", email: "dan.rennes@demo.gouvernail.fr", organisation: "DANE de Rennes", reference: Some("academie:14"), position: Position::MembreDeDroit },
            Seat { name: "Ronan Région", email: "region.bretagne@demo.gouvernail.fr", organisation: "", reference: Some("collectivite:233500016"), position: Position::Membre },
            Seat { name: "Claire Collectivité", email: "cd35@demo.gouvernail.fr", organisation: "", reference: Some("collectivite:223500018"), position: Position::Membre },
            Seat { name: "Inès Inspé", email: "direction@inspe-bretagne.example", organisation: "", reference: Some("organisation:inspe-bretagne"), position: Position::Membre },
            Seat { name: "Paula Partenaire", email: "canope@demo.gouvernail.fr", organisation: "", reference: Some("organisation:canope"), position: Position::Invite },
        ],
    )
    .await?;
    let m1 = meeting(
        db,
        &dan,
        &copil,
        -330,
        "Comité de pilotage — lancement de la feuille de route",
        &[
            "Installation du comité et rappel du mandat",
            "Déclinaison du socle numérique dans les écoles | projet:PN-SNEE",
            "Calendrier de la concertation avec les collectivités",
        ],
    )
    .await?;
    let d1 = decide(
        db,
        &dan,
        &m1,
        "Recenser les écoles sans ENT dans les quatre départements",
        "Claire Collectivité",
        Some(-250),
    )
    .await?;
    decide(
        db,
        &dan,
        &m1,
        "Proposer un plan de formation des formateurs au numérique",
        "direction@inspe-bretagne.example",
        Some(-60),
    )
    .await?;
    let d3 = decide(
        db,
        &dan,
        &m1,
        "Organiser la concertation avec la Région sur les lycées",
        "Ronan Région",
        Some(-200),
    )
    .await?;
    hold(db, &secretary, &m1, &members, "# Relevé de conclusions\n\nLa rectrice ouvre la séance et rappelle le mandat du comité.\n\n## Socle numérique\n\n- Le comité valide la déclinaison académique du projet national.\n- Les collectivités transmettront l'état des équipements des écoles.\n\n## Suites\n\nTrois décisions sont prises (voir le registre).").await?;

    set_status(
        db,
        &dan,
        &d1,
        "faite",
        "Recensement transmis : 212 écoles sans ENT actif.",
    )
    .await?;
    let m2 = meeting(
        db,
        &dan,
        &copil,
        -240,
        "Comité de pilotage — point d'étape",
        &[
            "Résultats du recensement ENT | decision:D-1",
            "Certification Pix des élèves de 3e | projet:PN-PIX",
        ],
    )
    .await?;
    let d4 = decide(
        db,
        &dan,
        &m2,
        "Présenter un tableau de bord trimestriel des indicateurs",
        "Damien Dan",
        Some(40),
    )
    .await?;
    hold(db, &secretary, &m2, &members, "# Relevé de conclusions\n\nLe recensement ENT est présenté par le Département d'Ille-et-Vilaine.\n\n1. Le comité prend acte des résultats.\n2. Le suivi Pix sera présenté à chaque séance.").await?;
    set_status(
        db,
        &dan,
        &d3,
        "faite",
        "Deux réunions de concertation tenues avec la Région.",
    )
    .await?;
    set_status(db, &dan, &d4, "en-cours", "Premier tableau présenté en interne.").await?;

    let m3 = meeting(
        db,
        &dan,
        &copil,
        -150,
        "Comité de pilotage — bilan de l'année scolaire",
        &[
            "Bilan annuel de la feuille de route",
            "Plan de formation | decision:D-2",
        ],
    )
    .await?;
    decide(
        db,
        &dan,
        &m3,
        "Mettre à jour la convention ENT avec les départements",
        "Rose Rectrice",
        Some(-20),
    )
    .await?;
    hold(db, &secretary, &m3, &members, "# Relevé de conclusions\n\nLe bilan annuel est adopté. Le plan de formation attendu de l'INSPE n'est pas encore présenté.").await?;

    let m4 = meeting(
        db,
        &dan,
        &copil,
        -60,
        "Comité de pilotage — rentrée",
        &["Rentrée numérique : équipements et ENT"],
    )
    .await?;
    decide(
        db,
        &dan,
        &m4,
        "Diffuser le guide de rentrée numérique aux écoles",
        "Chloé Chargée-de-mission",
        Some(-45),
    )
    .await?;
    let sheet: Vec<AttendanceInput> = members
        .iter()
        .map(|m| AttendanceInput {
            member_id: m.id.clone(),
            status: if m.position == "invite" {
                "absent"
            } else {
                "present"
            }
            .into(),
            represented_by: None,
        })
        .collect();
    gov::record_attendance(db, &secretary, &m4.id, m4.version, &sheet).await?;
    // The last held meeting's minutes are still a draft.
    gov::save_minutes(
        db,
        &secretary,
        &m4.id,
        None,
        "# Relevé de conclusions (projet)\n\nÀ compléter après relecture par la présidente.",
    )
    .await?;
    // The next meeting: its agenda already lists the open decisions.
    meeting(
        db,
        &dan,
        &copil,
        20,
        "Comité de pilotage — premier trimestre",
        &[
            "Suivi des indicateurs de la feuille de route",
            "Préparation du comité stratégique national",
        ],
    )
    .await?;

    // The instance académique territoriale, with the Région and the four départements.
    let (iat, iat_members) = body_with(
        db,
        &dan,
        BodyKind::InstanceAcademiqueTerritoriale,
        "Instance académique territoriale du numérique — Bretagne",
        "academie:14",
        "Coordonne la politique numérique du rectorat avec les politiques d'équipement et de maintenance \
         des collectivités, avec l'INSPE et Canopé.",
        &[
            Seat {
                name: "Rose Rectrice",
                email: "recteur.rennes@demo.gouvernail.fr",
                organisation: "Rectorat de Rennes",
                reference: Some("academie:14"),
                position: Position::President,
            },
            Seat {
                name: "Damien Dan",
                email: "dan.rennes@demo.gouvernail.fr",
                organisation: "DANE de Rennes",
                reference: Some("academie:14"),
                position: Position::Secretaire,
            },
            Seat {
                name: "Ronan Région",
                email: "region.bretagne@demo.gouvernail.fr",
                organisation: "",
                reference: Some("collectivite:233500016"),
                position: Position::MembreDeDroit,
            },
            Seat {
                name: "Gaëlle Côtes-d'Armor",
                email: "numerique@cotesdarmor.example",
                organisation: "",
                reference: Some("collectivite:222200016"),
                position: Position::MembreDeDroit,
            },
            Seat {
                name: "Yann Finistère",
                email: "numerique@finistere.example",
                organisation: "",
                reference: Some("collectivite:222900011"),
                position: Position::MembreDeDroit,
            },
            Seat {
                name: "Claire Collectivité",
                email: "cd35@demo.gouvernail.fr",
                organisation: "",
                reference: Some("collectivite:223500018"),
                position: Position::MembreDeDroit,
            },
            Seat {
                name: "Morgane Morbihan",
                email: "numerique@morbihan.example",
                organisation: "",
                reference: Some("collectivite:225600014"),
                position: Position::MembreDeDroit,
            },
            Seat {
                name: "Inès Inspé",
                email: "direction@inspe-bretagne.example",
                organisation: "",
                reference: Some("organisation:inspe-bretagne"),
                position: Position::Membre,
            },
            Seat {
                name: "Paula Partenaire",
                email: "canope@demo.gouvernail.fr",
                organisation: "",
                reference: Some("organisation:canope"),
                position: Position::Membre,
            },
        ],
    )
    .await?;
    let t1 = meeting(
        db,
        &dan,
        &iat,
        -120,
        "Instance territoriale — plans d'équipement 2026",
        &[
            "Plans d'équipement des départements pour les collèges",
            "Plan de la Région pour les lycées",
        ],
    )
    .await?;
    decide(
        db,
        &dan,
        &t1,
        "Partager les calendriers de renouvellement des équipements",
        "Morgane Morbihan",
        Some(-30),
    )
    .await?;
    hold(db, &dan, &t1, &iat_members, "# Relevé de conclusions\n\nLes collectivités présentent leurs plans. Un calendrier commun de renouvellement est demandé.").await?;
    meeting(
        db,
        &dan,
        &iat,
        45,
        "Instance territoriale — maintenance des équipements",
        &["Niveaux de service de maintenance dans les écoles"],
    )
    .await?;

    // The departmental instance of Ille-et-Vilaine (first degree).
    let (dep, dep_members) = body_with(
        db,
        &dan,
        BodyKind::InstanceDepartementale,
        "Instance départementale du premier degré — Ille-et-Vilaine",
        "departement:35",
        "Suit le déploiement du numérique dans les écoles du département avec les communes.",
        &[
            Seat {
                name: "Damien Dan",
                email: "dan.rennes@demo.gouvernail.fr",
                organisation: "DANE de Rennes",
                reference: Some("academie:14"),
                position: Position::President,
            },
            Seat {
                name: "Chloé Chargée-de-mission",
                email: "dane.rennes@demo.gouvernail.fr",
                organisation: "DANE de Rennes",
                reference: Some("academie:14"),
                position: Position::Secretaire,
            },
            Seat {
                name: "Claire Collectivité",
                email: "cd35@demo.gouvernail.fr",
                organisation: "",
                reference: Some("collectivite:223500018"),
                position: Position::Membre,
            },
            Seat {
                name: "Association des maires d'Ille-et-Vilaine",
                email: "numerique@amf35.example",
                organisation: "Association des maires d'Ille-et-Vilaine",
                reference: None,
                position: Position::Membre,
            },
        ],
    )
    .await?;
    let p1 = meeting(
        db,
        &dan,
        &dep,
        -90,
        "Instance départementale — socle numérique des écoles",
        &["Écoles au socle numérique | projet:PN-SNEE"],
    )
    .await?;
    let done = decide(
        db,
        &dan,
        &p1,
        "Lister les écoles candidates à l'appel à projets",
        "Chloé Chargée-de-mission",
        Some(-60),
    )
    .await?;
    hold(
        db,
        &secretary,
        &p1,
        &dep_members,
        "# Relevé de conclusions\n\nQuarante écoles candidates sont identifiées.",
    )
    .await?;
    set_status(db, &dan, &done, "faite", "Liste transmise aux communes.").await?;

    // The national comité des partenaires.
    let (cp, _) = body_with(
        db,
        &admin,
        BodyKind::ComiteDesPartenaires,
        "Comité national des partenaires du numérique éducatif",
        "national",
        "Réunit les associations de collectivités, les opérateurs et les acteurs privés autour de la stratégie.",
        &[
            Seat { name: "Paul Pilote", email: "pilote@demo.gouvernail.fr", organisation: "Direction du numérique pour l'éducation", reference: None, position: Position::President },
            Seat { name: "Alice Administratrice", email: "admin@demo.gouvernail.fr", organisation: "Direction du numérique pour l'éducation", reference: None, position: Position::Secretaire },
            Seat { name: "Paula Partenaire", email: "canope@demo.gouvernail.fr", organisation: "", reference: Some("organisation:canope"), position: Position::Membre },
            Seat { name: "Camille Cned", email: "direction@cned.example", organisation: "", reference: Some("organisation:cned"), position: Position::Membre },
        ],
    )
    .await?;
    gov::create_meeting(
        db,
        &admin,
        &cp.id,
        &MeetingPatch {
            title: Some("Comité des partenaires — stratégie 2023-2027".into()),
            starts_at: Some(at(30, 10)),
            ends_at: Some(at(30, 12)),
            place: Some(String::new()),
            video_url: Some(Some(
                "https://webconf.numerique.gouv.fr/comite-partenaires".into(),
            )),
        },
    )
    .await?;
    Ok(())
}
