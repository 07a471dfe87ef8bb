//! What the members of a body receive: invitations, updates and cancellations by e-mail
//! with an ICS file (queued in the caller's transaction, sent by the mail worker), and the
//! private calendar feed of their meetings.
//!
//! Links are written with [`BASE_URL`], which the mail worker (and the calendar feed's
//! handler) replace by the platform's public address.

use crate::calendar::{self, CalendarEvent, Method};
use crate::db::Tx;
use crate::error::CoreResult;
use crate::jobs::{self, MailAttachment, MailMessage, Recipient};

use super::model::{Body, Meeting, MeetingStatus, Member, Position};

pub use crate::jobs::BASE_URL;

/// Which mail a change sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Invite,
    Update,
    Cancel,
}

fn uid(meeting: &Meeting) -> String {
    format!("reunion-{}@gouvernail", meeting.id)
}

fn when(meeting: &Meeting) -> String {
    let start = crate::paris::local(meeting.starts_at);
    let end = crate::paris::local(meeting.ends_at);
    format!(
        "le {:02}/{:02}/{} de {:02} h {:02} à {:02} h {:02} (heure de Paris)",
        start.day(),
        u8::from(start.month()),
        start.year(),
        start.hour(),
        start.minute(),
        end.hour(),
        end.minute()
    )
}

fn where_(meeting: &Meeting) -> String {
    match (&meeting.place, &meeting.video_url) {
        (place, Some(url)) if !place.is_empty() => format!("{place} — visioconférence : {url}"),
        (_, Some(url)) => format!("visioconférence : {url}"),
        (place, None) => place.clone(),
    }
}

fn event(
    body: &Body,
    meeting: &Meeting,
    attendees: Vec<Recipient>,
    organizer: Option<Recipient>,
) -> CalendarEvent {
    CalendarEvent {
        uid: uid(meeting),
        sequence: meeting.sequence,
        start: meeting.starts_at,
        end: meeting.ends_at,
        stamp: time::OffsetDateTime::now_utc(),
        summary: meeting.title.clone(),
        description: format!("{} — {}", body.kind_label(), body.name),
        location: Some(where_(meeting)).filter(|w| !w.is_empty()),
        url: Some(format!("{BASE_URL}/reunions/{}", meeting.id)),
        organizer,
        attendees,
        cancelled: meeting.status == MeetingStatus::Annulee.as_str(),
    }
}

/// Queues one mail per member sitting on the meeting's date; returns how many were queued.
/// Sending the same mail (same meeting, sequence and kind) twice queues it once.
pub async fn invitations(
    tx: &mut Tx,
    body: &Body,
    meeting: &Meeting,
    members: &[Member],
    kind: Kind,
) -> CoreResult<usize> {
    let day = crate::paris::local(meeting.starts_at).date();
    let mut seen = std::collections::BTreeSet::new();
    let invited: Vec<&Member> = members
        .iter()
        .filter(|m| m.sits_on(day) && seen.insert(m.email.clone()))
        .collect();
    let organizer = invited
        .iter()
        .find(|m| m.position == Position::Secretaire.as_str())
        .or_else(|| {
            invited
                .iter()
                .find(|m| m.position == Position::President.as_str())
        })
        .map(|m| Recipient {
            name: m.name.clone(),
            email: m.email.clone(),
        });
    let attendees: Vec<Recipient> = invited
        .iter()
        .map(|m| Recipient {
            name: m.name.clone(),
            email: m.email.clone(),
        })
        .collect();
    let method = if kind == Kind::Cancel {
        Method::Cancel
    } else {
        Method::Request
    };
    let ics = calendar::ics(Some(method), "", &[event(body, meeting, attendees, organizer)]);
    let (subject, lead) = match kind {
        Kind::Invite => (
            format!("Invitation : {}", meeting.title),
            "Vous êtes invité·e à la réunion",
        ),
        Kind::Update => (
            format!("Modification : {}", meeting.title),
            "La réunion a changé :",
        ),
        Kind::Cancel => (
            format!("Annulation : {}", meeting.title),
            "La réunion est annulée :",
        ),
    };
    let mut queued = 0;
    for member in &invited {
        let text = format!(
            "Bonjour {name},\n\n{lead}\n\n  {title}\n  {when}\n  {place}\n\nInstance : {body} ({kind_label})\n\
             Ordre du jour et documents : {BASE_URL}/reunions/{id}\n\n\
             Le fichier joint ajoute la réunion à votre agenda.\n\n— Gouvernail\n",
            name = member.name,
            title = meeting.title,
            when = when(meeting),
            place = where_(meeting),
            body = body.name,
            kind_label = body.kind_label(),
            id = meeting.id,
        );
        let message = MailMessage {
            to: vec![Recipient {
                name: member.name.clone(),
                email: member.email.clone(),
            }],
            subject: subject.clone(),
            text,
            html: None,
            attachments: vec![MailAttachment {
                filename: if kind == Kind::Cancel {
                    "annulation.ics".to_owned()
                } else {
                    "invitation.ics".to_owned()
                },
                content_type: format!("text/calendar; method={}; charset=UTF-8", method.as_str()),
                content: ics.clone(),
            }],
        };
        let key = format!(
            "reunion:{}:{}:{}:{}",
            meeting.id,
            meeting.sequence,
            match kind {
                Kind::Invite => "invitation",
                Kind::Update => "modification",
                Kind::Cancel => "annulation",
            },
            member.email
        );
        if jobs::enqueue_mail(tx, &message, &key).await? {
            queued += 1;
        }
    }
    Ok(queued)
}

/// The private calendar of one person: the meetings of their bodies.
pub fn feed(person: &str, meetings: &[(Meeting, String)]) -> String {
    let events: Vec<CalendarEvent> = meetings
        .iter()
        .map(|(m, body_name)| {
            let body = Body {
                id: m.body_id.clone(),
                kind: String::new(),
                name: body_name.clone(),
                perimeter_kind: String::new(),
                perimeter_code: String::new(),
                mandate: String::new(),
                version: 0,
                created_at: m.starts_at,
                updated_at: m.starts_at,
            };
            event(&body, m, Vec::new(), None)
        })
        .collect();
    calendar::ics(
        Some(Method::Publish),
        &format!("Gouvernail — réunions de {person}"),
        &events,
    )
}
