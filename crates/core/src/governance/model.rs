//! Governance types: bodies, members, meetings, agenda, attendance, minutes, decisions.

use time::{Date, OffsetDateTime};

text_enum!(
    /// The kinds of bodies of the organisation.
    BodyKind {
        ComiteStrategiqueNational = "comite-strategique-national" / "Comité stratégique national",
        ComiteDesPartenaires = "comite-des-partenaires" / "Comité des partenaires",
        GroupeExperts = "groupe-experts" / "Groupe d'experts",
        ComitePilotageAcademique = "comite-pilotage-academique" / "Comité de pilotage académique",
        InstanceAcademiqueTerritoriale = "instance-academique-territoriale" / "Instance académique territoriale",
        InstanceDepartementale = "instance-departementale" / "Instance départementale du premier degré",
        ComiteSuiviConvention = "comite-suivi-convention" / "Comité de suivi d'une convention",
        Autre = "autre" / "Autre instance",
    }
);

text_enum!(
    /// A member's position in a body.
    Position {
        President = "president" / "Président·e",
        VicePresident = "vice-president" / "Vice-président·e",
        Secretaire = "secretaire" / "Secrétaire",
        MembreDeDroit = "membre-de-droit" / "Membre de droit",
        Membre = "membre" / "Membre",
        Invite = "invite" / "Invité·e",
    }
);

text_enum!(
    /// Where a meeting stands.
    MeetingStatus {
        Prevue = "prevue" / "Prévue",
        Tenue = "tenue" / "Tenue",
        Annulee = "annulee" / "Annulée",
    }
);

text_enum!(
    /// A member's attendance at a meeting.
    Presence {
        Present = "present" / "Présent·e",
        Excuse = "excuse" / "Excusé·e",
        Absent = "absent" / "Absent·e",
        Represente = "represente" / "Représenté·e",
    }
);

text_enum!(
    /// Where a decision's follow-up stands.
    DecisionStatus {
        Ouverte = "ouverte" / "Ouverte",
        EnCours = "en-cours" / "En cours",
        Faite = "faite" / "Faite",
        Abandonnee = "abandonnee" / "Abandonnée",
    }
);

text_enum!(
    /// What an agenda item or a decision may point to (indicators join when their module
    /// exists).
    RefKind {
        Projet = "projet" / "Projet national",
        Action = "action" / "Action de feuille de route",
        Decision = "decision" / "Décision",
        Convention = "convention" / "Convention",
    }
);

impl DecisionStatus {
    /// Done or dropped: no longer followed.
    pub fn is_closed(self) -> bool {
        matches!(self, DecisionStatus::Faite | DecisionStatus::Abandonnee)
    }
}

/// A governance body.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Body {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub perimeter_kind: String,
    pub perimeter_code: String,
    pub mandate: String,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Body {
    /// The perimeter as text (`academie:14`, `national`).
    pub fn perimeter_text(&self) -> String {
        if self.perimeter_code.is_empty() {
            self.perimeter_kind.clone()
        } else {
            format!("{}:{}", self.perimeter_kind, self.perimeter_code)
        }
    }

    /// The kind's label.
    pub fn kind_label(&self) -> &'static str {
        BodyKind::parse(&self.kind, "type").map_or("Instance", BodyKind::label)
    }
}

/// A member of a body over a mandate.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Member {
    pub id: String,
    pub body_id: String,
    pub name: String,
    pub email: String,
    pub user_id: Option<String>,
    pub organisation: String,
    pub organisation_ref: Option<String>,
    pub position: String,
    pub delegate: bool,
    pub start_date: Date,
    pub end_date: Option<Date>,
    pub version: i64,
}

impl Member {
    /// True when the mandate covers `day`.
    pub fn sits_on(&self, day: Date) -> bool {
        self.start_date <= day && self.end_date.is_none_or(|end| end >= day)
    }

    /// The position's label.
    pub fn position_label(&self) -> &'static str {
        Position::parse(&self.position, "fonction").map_or("Membre", Position::label)
    }
}

/// A new member or a change to one: absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct MemberPatch {
    pub name: Option<String>,
    pub email: Option<String>,
    pub organisation: Option<String>,
    pub organisation_ref: Option<Option<String>>,
    pub position: Option<String>,
    pub delegate: Option<bool>,
    pub start_date: Option<Date>,
    pub end_date: Option<Option<Date>>,
}

/// A new body or a change to one.
#[derive(Debug, Clone, Default)]
pub struct BodyPatch {
    pub kind: Option<String>,
    pub name: Option<String>,
    /// `national`, `academie:14`, `departement:35`…
    pub perimeter: Option<String>,
    pub mandate: Option<String>,
}

/// A meeting of a body.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Meeting {
    pub id: String,
    pub body_id: String,
    pub number: i64,
    pub title: String,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub place: String,
    pub video_url: Option<String>,
    pub status: String,
    pub sequence: i64,
    pub invited_at: Option<OffsetDateTime>,
    pub version: i64,
}

/// A new meeting or a change to one.
#[derive(Debug, Clone, Default)]
pub struct MeetingPatch {
    pub title: Option<String>,
    pub starts_at: Option<OffsetDateTime>,
    pub ends_at: Option<OffsetDateTime>,
    pub place: Option<String>,
    pub video_url: Option<Option<String>>,
}

/// One item of an agenda.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AgendaItem {
    pub id: String,
    pub meeting_id: String,
    pub position: i64,
    pub title: String,
    pub notes: String,
    pub ref_kind: Option<String>,
    pub ref_id: Option<String>,
    pub ref_label: Option<String>,
    pub follow_up: bool,
    pub ref_status: Option<String>,
}

/// An agenda item as typed: a title, notes, and what it points to (`projet:P01`,
/// `action:<id>`, `decision:D-3`…).
#[derive(Debug, Clone, Default)]
pub struct AgendaInput {
    pub title: String,
    pub notes: String,
    pub reference: Option<String>,
}

/// A member's attendance.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Attendance {
    pub member_id: String,
    pub status: String,
    pub represented_by: Option<String>,
}

/// A revision of a meeting's minutes.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Minutes {
    pub id: String,
    pub meeting_id: String,
    pub revision: i64,
    pub body: String,
    pub status: String,
    pub reason: Option<String>,
    pub author_id: Option<String>,
    pub approved_at: Option<OffsetDateTime>,
    pub approved_by: Option<String>,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Minutes {
    /// True once approved: frozen.
    pub fn approved(&self) -> bool {
        self.status == "approuve"
    }
}

/// A decision and its follow-up.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Decision {
    pub id: String,
    pub body_id: String,
    pub meeting_id: String,
    pub number: i64,
    pub title: String,
    pub details: String,
    pub owner_name: String,
    pub owner_email: Option<String>,
    pub owner_user_id: Option<String>,
    pub due_date: Option<Date>,
    pub status: String,
    pub status_note: String,
    pub closed_at: Option<OffsetDateTime>,
    pub ref_kind: Option<String>,
    pub ref_id: Option<String>,
    pub ref_label: Option<String>,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Decision {
    /// `D-3`.
    pub fn code(&self) -> String {
        format!("D-{}", self.number)
    }

    /// True when still followed (neither done nor dropped).
    pub fn is_open(&self) -> bool {
        !DecisionStatus::parse(&self.status, "statut").is_ok_and(DecisionStatus::is_closed)
    }

    /// Open and past its due date on `today`.
    pub fn is_late(&self, today: Date) -> bool {
        self.is_open() && self.due_date.is_some_and(|d| d < today)
    }

    /// The status' label.
    pub fn status_label(&self) -> &'static str {
        DecisionStatus::parse(&self.status, "statut").map_or("—", DecisionStatus::label)
    }
}

/// A new decision or a change to one.
#[derive(Debug, Clone, Default)]
pub struct DecisionPatch {
    pub title: Option<String>,
    pub details: Option<String>,
    /// A name, or an e-mail address (an account's or a member's, whose name is then used).
    pub owner: Option<String>,
    pub due_date: Option<Option<Date>>,
    pub status: Option<String>,
    pub status_note: Option<String>,
    /// `projet:P01`, `action:<id>`, …; `Some(None)` clears.
    pub reference: Option<Option<String>>,
}

/// Filters of a decision register.
#[derive(Debug, Clone, Default)]
pub struct DecisionFilter {
    pub body_id: Option<String>,
    pub status: Option<String>,
    pub late: bool,
    /// Only the decisions the requesting person owns.
    pub mine: bool,
}

/// A decision with its body and meeting, for registers and lists.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionView {
    pub decision: Decision,
    pub body_name: String,
    pub meeting_number: i64,
    pub meeting_date: OffsetDateTime,
    pub late: bool,
}

/// A body as its page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct BodyView {
    pub body: Body,
    /// A readable perimeter (« Académie de Rennes »).
    pub perimeter_label: String,
    pub members: Vec<Member>,
    pub meetings: Vec<Meeting>,
    /// May change the composition and organise meetings.
    pub can_manage: bool,
    /// May write the minutes (secretary or delegate).
    pub can_write_minutes: bool,
}

/// The agenda of a meeting: its items, then the decisions followed up.
#[derive(Debug, Clone, PartialEq)]
pub struct MeetingView {
    pub meeting: Meeting,
    pub body: Body,
    pub items: Vec<AgendaItem>,
    /// For a meeting not yet held, the open decisions of earlier meetings, live; for a
    /// held one, as they stood that day.
    pub follow_ups: Vec<FollowUp>,
    /// The members sitting on the meeting's date, with their attendance when taken.
    pub attendance: Vec<(Member, Option<Attendance>)>,
    pub minutes: Option<Minutes>,
    /// Decisions taken at this meeting.
    pub decisions: Vec<Decision>,
    pub can_manage: bool,
    pub can_write_minutes: bool,
}

/// An open decision on a later agenda.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUp {
    pub decision_id: String,
    pub code: String,
    pub title: String,
    pub owner: String,
    pub due_date: Option<Date>,
    pub status: String,
    pub late: bool,
}
