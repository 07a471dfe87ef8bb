//! Calendar files (iCalendar, RFC 5545): meeting invitations sent with mails, and calendars
//! people download or subscribe to.
//!
//! Hand-written rather than taken from a crate: the one crate that writes iCalendar
//! (`icalendar`) depends on chrono while the rest of the code uses `time`, and what we write is
//! small: one `VCALENDAR` of `VEVENT`s with UTC times (`…Z`), so no `VTIMEZONE` is needed
//! (calendar clients show the times in their user's zone). The writer takes care of what
//! clients are strict about: CRLF line ends, lines folded at 75 octets without cutting a UTF-8
//! character, TEXT values escaped (`\\`, `\;`, `\,`, `\n`), quoted parameter values.
//!
//! For invitations sent by mail (iTIP, RFC 5546), give the method: `Request` for an invitation
//! or an update (raise the event's `sequence` at each change, keep its `uid`), `Cancel` to
//! cancel it (the events are then written `STATUS:CANCELLED`), `Publish` for a calendar that
//! asks no answer (attendees are then left out, as iTIP wants). The mail part must carry the
//! same method in its content type: `text/calendar; method=REQUEST; charset=UTF-8`.

use time::OffsetDateTime;

use crate::jobs::Recipient;

/// The iTIP method of a calendar sent by mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// An invitation, or an update of one (higher `sequence`).
    Request,
    /// The cancellation of an event sent before (same `uid`, higher `sequence`).
    Cancel,
    /// A calendar for information, with no answer expected.
    Publish,
}

impl Method {
    /// The value of `METHOD:` and of the `method=` parameter of the mail part.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
            Method::Publish => "PUBLISH",
        }
    }
}

/// One event (`VEVENT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEvent {
    /// Stable across updates and cancellation, unique in the world: e.g.
    /// `instance-UUID@gouvernail`.
    pub uid: String,
    /// The revision of the event: 0 first, then one more at each update or cancellation.
    pub sequence: i64,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    /// When this version of the event was written (`DTSTAMP`).
    pub stamp: OffsetDateTime,
    pub summary: String,
    pub description: String,
    pub location: Option<String>,
    /// A page about the event (the meeting's page in Gouvernail).
    pub url: Option<String>,
    pub organizer: Option<Recipient>,
    pub attendees: Vec<Recipient>,
    /// Written `STATUS:CANCELLED` (else `STATUS:CONFIRMED`).
    pub cancelled: bool,
}

/// The product identifier written in every calendar.
pub const PRODID: &str = "-//Gouvernail//Gouvernail//FR";

/// Writes a calendar holding `events`, with `METHOD` when `method` is given and the name
/// `calendar_name` (`NAME` and `X-WR-CALNAME`, left out when empty).
pub fn ics(method: Option<Method>, calendar_name: &str, events: &[CalendarEvent]) -> String {
    let mut out = Writer::default();
    out.line("BEGIN:VCALENDAR");
    out.line("VERSION:2.0");
    out.line(&format!("PRODID:{PRODID}"));
    out.line("CALSCALE:GREGORIAN");
    if let Some(method) = method {
        out.line(&format!("METHOD:{}", method.as_str()));
    }
    if !calendar_name.trim().is_empty() {
        let name = escape_text(calendar_name);
        out.line(&format!("NAME:{name}"));
        out.line(&format!("X-WR-CALNAME:{name}"));
    }
    for event in events {
        write_event(&mut out, method, event);
    }
    out.line("END:VCALENDAR");
    out.text
}

fn write_event(out: &mut Writer, method: Option<Method>, event: &CalendarEvent) {
    let cancelled = event.cancelled || method == Some(Method::Cancel);
    out.line("BEGIN:VEVENT");
    out.line(&format!("UID:{}", escape_text(&event.uid)));
    out.line(&format!("SEQUENCE:{}", event.sequence.max(0)));
    out.line(&format!("DTSTAMP:{}", utc(event.stamp)));
    out.line(&format!("DTSTART:{}", utc(event.start)));
    out.line(&format!("DTEND:{}", utc(event.end)));
    out.line(&format!("SUMMARY:{}", escape_text(&event.summary)));
    if !event.description.is_empty() {
        out.line(&format!("DESCRIPTION:{}", escape_text(&event.description)));
    }
    if let Some(location) = event.location.as_deref().filter(|l| !l.is_empty()) {
        out.line(&format!("LOCATION:{}", escape_text(location)));
    }
    if let Some(url) = event.url.as_deref().filter(|u| !u.is_empty()) {
        out.line(&format!("URL:{}", uri(url)));
    }
    if let Some(organizer) = &event.organizer {
        out.line(&format!(
            "ORGANIZER{}:{}",
            cn(&organizer.name),
            mailto(&organizer.email)
        ));
    }
    if method != Some(Method::Publish) {
        let answer = if method == Some(Method::Request) {
            ";PARTSTAT=NEEDS-ACTION;RSVP=TRUE"
        } else {
            ""
        };
        for attendee in &event.attendees {
            out.line(&format!(
                "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT{answer}{}:{}",
                cn(&attendee.name),
                mailto(&attendee.email)
            ));
        }
    }
    out.line(if cancelled {
        "STATUS:CANCELLED"
    } else {
        "STATUS:CONFIRMED"
    });
    out.line("END:VEVENT");
}

/// Accumulates content lines, folded and ended by CRLF.
#[derive(Default)]
struct Writer {
    text: String,
}

/// The longest line, in octets, line break excluded (RFC 5545 §3.1).
const FOLD_AT: usize = 75;

impl Writer {
    /// Appends one content line, folded: a line longer than 75 octets is cut before the
    /// character that would cross the limit, and goes on after CRLF and one space (the space
    /// counts in the next line's 75 octets).
    fn line(&mut self, line: &str) {
        let mut room = FOLD_AT;
        let mut used = 0;
        for c in line.chars() {
            let len = c.len_utf8();
            if used + len > room {
                self.text.push_str("\r\n ");
                room = FOLD_AT - 1;
                used = 0;
            }
            self.text.push(c);
            used += len;
        }
        self.text.push_str("\r\n");
    }
}

/// A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and line breaks escaped;
/// other control characters (but tab) dropped.
fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push_str("\\n");
                }
            }
            '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// `;CN="…"` for a name (left out when empty); a quoted parameter value may hold anything
/// but control characters and the double quote.
fn cn(name: &str) -> String {
    let name: String = name
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| if c == '"' { '\'' } else { c })
        .collect();
    let name = name.trim();
    if name.is_empty() {
        String::new()
    } else {
        format!(";CN=\"{name}\"")
    }
}

fn mailto(email: &str) -> String {
    format!("mailto:{}", uri(email))
}

/// A URI value: not escaped (RFC 5545 §3.3.13), but nothing that could break the line.
fn uri(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_control() && !c.is_whitespace())
        .collect()
}

/// `YYYYMMDDTHHMMSSZ`, the time in UTC.
fn utc(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn person(name: &str, email: &str) -> Recipient {
        Recipient {
            name: name.into(),
            email: email.into(),
        }
    }

    fn event() -> CalendarEvent {
        CalendarEvent {
            uid: "instance-42@gouvernail".into(),
            sequence: 0,
            start: datetime!(2026-12-03 10:00 +01:00),
            end: datetime!(2026-12-03 12:30 +01:00),
            stamp: datetime!(2026-11-30 08:15:30 UTC),
            summary: "Comité de pilotage, académie de Rennes".into(),
            description: "Ordre du jour :\n1. budget; 2. calendrier\\annexes".into(),
            location: Some("Rectorat, salle 3".into()),
            url: Some("https://gouvernail.example/instances/42".into()),
            organizer: Some(person("Marie \"DAN\" Dupont", "marie.dupont@ac-rennes.fr")),
            attendees: vec![
                person("Jean Martin", "jean.martin@ac-rennes.fr"),
                person("", "contact@ille-et-vilaine.fr"),
            ],
            cancelled: false,
        }
    }

    /// The content lines, unfolded.
    fn unfold(ics: &str) -> Vec<String> {
        ics.replace("\r\n ", "")
            .split("\r\n")
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn an_invitation_has_its_method_utc_times_and_escaped_text() {
        let text = ics(Some(Method::Request), "Instances", &[event()]);
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(
            !text.replace("\r\n", "").contains('\n'),
            "every line ends with CRLF"
        );
        let lines = unfold(&text);
        for want in [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Gouvernail//Gouvernail//FR",
            "METHOD:REQUEST",
            "NAME:Instances",
            "UID:instance-42@gouvernail",
            "SEQUENCE:0",
            "DTSTAMP:20261130T081530Z",
            "DTSTART:20261203T090000Z",
            "DTEND:20261203T113000Z",
            "SUMMARY:Comité de pilotage\\, académie de Rennes",
            "DESCRIPTION:Ordre du jour :\\n1. budget\\; 2. calendrier\\\\annexes",
            "LOCATION:Rectorat\\, salle 3",
            "URL:https://gouvernail.example/instances/42",
            "ORGANIZER;CN=\"Marie 'DAN' Dupont\":mailto:marie.dupont@ac-rennes.fr",
            "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=\"Jean Martin\":mailto:jean.martin@ac-rennes.fr",
            "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:contact@ille-et-vilaine.fr",
            "STATUS:CONFIRMED",
            "END:VEVENT",
        ] {
            assert!(
                lines.iter().any(|l| l == want),
                "missing line {want:?} in\n{text}"
            );
        }
        let begin = lines.iter().position(|l| l == "BEGIN:VEVENT");
        let end = lines.iter().position(|l| l == "END:VEVENT");
        assert!(begin < end);
    }

    #[test]
    fn cancelled_events_say_so_and_no_method_means_none() {
        let mut cancelled = event();
        cancelled.cancelled = true;
        cancelled.sequence = 2;
        let text = ics(None, "", &[cancelled]);
        let lines = unfold(&text);
        assert!(lines.iter().any(|l| l == "STATUS:CANCELLED"));
        assert!(lines.iter().any(|l| l == "SEQUENCE:2"));
        assert!(!lines.iter().any(|l| l.starts_with("METHOD:")));
        assert!(!lines.iter().any(|l| l.starts_with("NAME:")));

        let text = ics(Some(Method::Cancel), "x", &[event()]);
        assert!(unfold(&text).iter().any(|l| l == "STATUS:CANCELLED"));
        assert!(unfold(&text).iter().any(|l| l == "METHOD:CANCEL"));
    }

    #[test]
    fn publish_leaves_attendees_out() {
        let text = ics(Some(Method::Publish), "x", &[event()]);
        assert!(!text.contains("ATTENDEE"));
        assert!(text.contains("ORGANIZER"));
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_cutting_a_character() {
        let mut long = event();
        // 2-octet and 4-octet characters, so that a cut in the middle of one would show.
        long.description = "Réunion élargie des équipes 🎓 ".repeat(12);
        let text = ics(Some(Method::Request), "x", &[long.clone()]);
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
        }
        assert!(text.contains("\r\n "), "the description is folded");
        let unfolded = unfold(&text);
        let want = format!("DESCRIPTION:{}", escape_text(&long.description));
        assert!(unfolded.contains(&want));
    }

    #[test]
    fn a_line_of_exactly_75_octets_is_not_folded() {
        let mut w = Writer::default();
        w.line(&"a".repeat(75));
        assert_eq!(w.text, format!("{}\r\n", "a".repeat(75)));
        let mut w = Writer::default();
        w.line(&"a".repeat(76));
        assert_eq!(w.text, format!("{}\r\n a\r\n", "a".repeat(75)));
        let mut w = Writer::default();
        w.line(&format!("{}é", "a".repeat(74)));
        assert_eq!(w.text, format!("{}\r\n é\r\n", "a".repeat(74)));
    }

    #[test]
    fn text_escaping_handles_every_line_break_and_drops_controls() {
        assert_eq!(escape_text("a\r\nb\rc\nd"), "a\\nb\\nc\\nd");
        assert_eq!(escape_text("x\u{7}y\tz"), "xy\tz");
        assert_eq!(escape_text(r"a\b;c,d"), r"a\\b\;c\,d");
    }
}
