//! Convention types, and the pure rules that follow from them: the status of a convention
//! from its dates and events, the state of a commitment on a given day, compliance, the
//! co-financing checks of the financial annex, exact totals, and the snapshots of versions
//! with their comparison.
//!
//! Nothing here touches the database or the clock: every rule takes `today` as an argument,
//! so that a status is always the same function of what is stored.

use std::collections::{BTreeMap, BTreeSet};

use time::{Date, Month, OffsetDateTime};

use crate::error::FieldError;
use crate::money;

text_enum!(
    /// The kinds of conventions.
    ConventionKind {
        ConventionCadre = "convention-cadre" / "Convention-cadre",
        Bipartite = "bipartite" / "Convention bipartite",
        Tripartite = "tripartite" / "Convention tripartite",
        Operationnelle = "operationnelle" / "Convention opérationnelle",
        Ent = "ent" / "Convention ENT",
        Financement = "financement" / "Convention de financement",
        PartenariatPrive = "partenariat-prive" / "Partenariat privé",
        Autre = "autre" / "Autre convention",
    }
);

text_enum!(
    /// What happens at the end of the term.
    Renewal {
        Tacite = "tacite" / "Reconduction tacite",
        Expresse = "expresse" / "Renouvellement exprès",
        Aucune = "aucune" / "Sans renouvellement",
    }
);

text_enum!(
    /// Where a convention stands: always computed from its dates and events, never stored.
    ConventionStatus {
        Projet = "projet" / "Projet",
        EnNegociation = "en-negociation" / "En négociation",
        Signee = "signee" / "Signée",
        EnVigueur = "en-vigueur" / "En vigueur",
        Echue = "echue" / "Échue",
        Resiliee = "resiliee" / "Résiliée",
        Renouvelee = "renouvelee" / "Renouvelée",
    }
);

text_enum!(
    /// The events of a convention's life that are not amendments of its text.
    EventKind {
        Negociation = "negociation" / "Ouverture de la négociation",
        Renouvellement = "renouvellement" / "Renouvellement exprès",
        Denonciation = "denonciation" / "Dénonciation (refus de la reconduction)",
        Resiliation = "resiliation" / "Résiliation",
    }
);

text_enum!(
    /// What a commitment is about.
    CommitmentCategory {
        Equipement = "equipement" / "Équipement",
        Connectivite = "connectivite" / "Connectivité",
        Maintenance = "maintenance" / "Maintenance",
        Ent = "ent" / "ENT",
        Formation = "formation" / "Formation",
        Ressources = "ressources" / "Ressources",
        Financement = "financement" / "Financement",
        DonneesPersonnelles = "donnees-personnelles" / "Données personnelles",
        Referent = "referent" / "Référent",
        Autre = "autre" / "Autre",
    }
);

text_enum!(
    /// How often a recurring commitment falls due.
    Recurrence {
        Annuelle = "annuelle" / "Chaque année",
        Trimestrielle = "trimestrielle" / "Chaque trimestre",
    }
);

text_enum!(
    /// Where a commitment stands (`en-retard` is also computed: past due and not kept).
    CommitmentStatus {
        Prevu = "prevu" / "Prévu",
        EnCours = "en-cours" / "En cours",
        Tenu = "tenu" / "Tenu",
        EnRetard = "en-retard" / "En retard",
        NonTenu = "non-tenu" / "Non tenu",
    }
);

text_enum!(
    /// The nature of an expense of the financial annex.
    Nature {
        Investissement = "investissement" / "Investissement",
        Fonctionnement = "fonctionnement" / "Fonctionnement",
    }
);

text_enum!(
    /// How a co-financing rule is expressed.
    CofinancingKind {
        Taux = "taux" / "Taux de cofinancement",
        Parite = "parite" / "1 € pour 1 €",
    }
);

text_enum!(
    /// The kinds of organisations that may be parties.
    PartyKind {
        Academie = "academie" / "Académie (rectorat)",
        Departement = "departement" / "DSDEN",
        Collectivite = "collectivite" / "Collectivité",
        Etablissement = "etablissement" / "Établissement",
        Organisation = "organisation" / "Organisation",
        Entreprise = "entreprise" / "Entreprise",
    }
);

text_enum!(
    /// The kinds of places a convention may cover.
    ScopeKind {
        Etablissement = "etablissement" / "Établissement",
        Commune = "commune" / "Commune",
        Collectivite = "collectivite" / "Territoire d'une collectivité",
        Departement = "departement" / "Département",
        Academie = "academie" / "Académie",
        RegionAcademique = "region-academique" / "Région académique",
    }
);

impl Recurrence {
    /// Months between two occurrences.
    pub fn months(self) -> i64 {
        match self {
            Recurrence::Annuelle => 12,
            Recurrence::Trimestrielle => 3,
        }
    }
}

/// The largest amount of one line or commitment, in cents (one thousand billion euros): with
/// at most [`MAX_LINES`] lines, every total fits in an `i64`.
pub const MAX_AMOUNT_CENTS: i64 = 100_000_000_000_000;
/// The largest number of lines of each list of a convention (parties, commitments, annex…).
pub const MAX_LINES: usize = 1_000;

// --- References -----------------------------------------------------------------------------

/// A party as the referential names it: `collectivite:223500018`, `academie:14`,
/// `entreprise:552100554`…
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartyRef {
    pub kind: PartyKind,
    pub code: String,
}

/// Why a typed reference is not one: the suffix of the field to name (`.siren`, `.uai` or
/// nothing) and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefError {
    pub suffix: &'static str,
    pub message: String,
}

fn ref_error(suffix: &'static str, message: impl Into<String>) -> RefError {
    RefError {
        suffix,
        message: message.into(),
    }
}

fn two_or_three_digits(code: &str) -> bool {
    (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit())
}

impl PartyRef {
    /// Parses `kind:code`; SIRENs are checked with their Luhn key and UAIs with their letter.
    pub fn parse(text: &str) -> Result<Self, RefError> {
        use crate::territory::ids::{CodeDepartement, Siren, Uai};
        let text = text.trim();
        let Some((kind, code)) = text.split_once(':') else {
            return Err(ref_error(
                "",
                format!(
                    "« {text} » : academie:CODE, departement:CODE, collectivite:SIREN, etablissement:UAI, \
                     organisation:ID ou entreprise:SIREN attendu"
                ),
            ));
        };
        let code = code.trim();
        let Some(kind) = PartyKind::from_code(kind) else {
            return Err(ref_error(
                "",
                format!(
                    "type « {} » inconnu (academie, departement, collectivite, etablissement, organisation, \
                     entreprise)",
                    kind.trim()
                ),
            ));
        };
        let code = match kind {
            PartyKind::Academie if two_or_three_digits(code) => code.to_owned(),
            PartyKind::Academie => return Err(ref_error("", format!("code d'académie « {code} » invalide"))),
            PartyKind::Departement => CodeDepartement::parse(code)
                .map_err(|e| ref_error("", e.to_string()))?
                .into_string(),
            PartyKind::Collectivite | PartyKind::Entreprise => Siren::parse(code)
                .map_err(|e| ref_error(".siren", e.to_string()))?
                .into_string(),
            PartyKind::Etablissement => Uai::parse(code)
                .map_err(|e| ref_error(".uai", e.to_string()))?
                .into_string(),
            PartyKind::Organisation if !code.is_empty() && code.len() <= 64 => code.to_owned(),
            PartyKind::Organisation => return Err(ref_error("", "identifiant d'organisation invalide")),
        };
        Ok(Self { kind, code })
    }
}

impl std::fmt::Display for PartyRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.code)
    }
}

/// A place a convention covers: `etablissement:0350001A`, `departement:35`, `commune:35238`…
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopeRef {
    pub kind: ScopeKind,
    pub code: String,
}

impl ScopeRef {
    /// Parses `kind:code`.
    pub fn parse(text: &str) -> Result<Self, String> {
        use crate::territory::ids::{CodeCommune, CodeDepartement, Siren, Uai};
        let text = text.trim();
        let (kind, code) = text.split_once(':').ok_or_else(|| {
            format!(
                "« {text} » : etablissement:UAI, commune:CODE, collectivite:SIREN, departement:CODE, \
                 academie:CODE ou region-academique:CODE attendu"
            )
        })?;
        let code = code.trim();
        let kind = ScopeKind::from_code(kind).ok_or_else(|| format!("type « {} » inconnu", kind.trim()))?;
        let code = match kind {
            ScopeKind::Etablissement => Uai::parse(code).map_err(|e| e.to_string())?.into_string(),
            ScopeKind::Commune => CodeCommune::parse(code).map_err(|e| e.to_string())?.into_string(),
            ScopeKind::Collectivite => Siren::parse(code).map_err(|e| e.to_string())?.into_string(),
            ScopeKind::Departement => CodeDepartement::parse(code)
                .map_err(|e| e.to_string())?
                .into_string(),
            ScopeKind::Academie | ScopeKind::RegionAcademique if two_or_three_digits(code) => code.to_owned(),
            ScopeKind::Academie | ScopeKind::RegionAcademique => {
                return Err(format!("code « {code} » invalide"));
            }
        };
        Ok(Self { kind, code })
    }
}

impl std::fmt::Display for ScopeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.code)
    }
}

// --- Stored rows ----------------------------------------------------------------------------

/// A convention, as stored (its status is computed: see [`standing`]).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Convention {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub object: String,
    /// The legal references, a JSON array of strings (see [`Convention::visas`]).
    pub visas: String,
    pub parent_id: Option<String>,
    pub effective_date: Option<Date>,
    pub end_date: Option<Date>,
    pub duration_months: Option<i64>,
    pub renewal: String,
    pub notice_months: Option<i64>,
    pub follow_up_body_id: Option<String>,
    pub search_key: String,
    pub created_by: Option<String>,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Convention {
    /// The legal references.
    pub fn visas(&self) -> Vec<String> {
        serde_json::from_str(&self.visas).unwrap_or_default()
    }

    /// The kind's label.
    pub fn kind_label(&self) -> &'static str {
        ConventionKind::from_code(&self.kind).map_or("Convention", ConventionKind::label)
    }

    /// The renewal rule (`aucune` when unreadable).
    pub fn renewal_rule(&self) -> Renewal {
        Renewal::from_code(&self.renewal).unwrap_or(Renewal::Aucune)
    }
}

/// A party to a convention.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Party {
    pub id: String,
    pub convention_id: String,
    pub position: i64,
    /// `collectivite:223500018`.
    pub reference: String,
    /// The perimeter whose readers see the convention (`organisation:ID` for a company).
    pub perimeter: String,
    /// The name in the referential.
    pub name: String,
    pub representative: String,
    pub capacity: String,
    pub deliberation_ref: Option<String>,
    pub deliberation_date: Option<Date>,
    pub signature_date: Option<Date>,
}

/// A place the convention covers.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ScopeItem {
    pub convention_id: String,
    pub position: i64,
    /// `etablissement:0350001A`.
    pub reference: String,
    pub label: String,
}

/// A commitment of one party.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Commitment {
    pub id: String,
    pub convention_id: String,
    /// Numbered in the convention: `E1`, `E2`…; kept across amendments.
    pub number: i64,
    /// The party that owes it (`collectivite:223500018`).
    pub party_ref: String,
    pub category: String,
    pub description: String,
    pub quantity: Option<i64>,
    pub amount_cents: Option<i64>,
    /// The due date, or the first occurrence of a recurring commitment.
    pub due_date: Option<Date>,
    pub recurrence: Option<String>,
    pub indicator: Option<String>,
    /// The status as reported (see [`follow`] for the one shown).
    pub status: String,
    /// For a recurring commitment: the last occurrence reported kept.
    pub kept_through: Option<Date>,
    pub evidence_note: String,
    pub evidence_link: Option<String>,
    pub evidence_document: Option<String>,
    pub indicator_value: Option<String>,
    pub reported_at: Option<OffsetDateTime>,
    pub reported_by: Option<String>,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Commitment {
    /// `E3`.
    pub fn code(&self) -> String {
        format!("E{}", self.number)
    }

    /// The state of the commitment on `today`.
    pub fn follow(&self, today: Date) -> Followed {
        follow(
            CommitmentStatus::from_code(&self.status).unwrap_or(CommitmentStatus::Prevu),
            self.due_date,
            self.recurrence.as_deref().and_then(Recurrence::from_code),
            self.kept_through,
            today,
        )
    }
}

/// A line of the financial annex.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AnnexLine {
    pub id: String,
    pub convention_id: String,
    pub position: i64,
    pub year: i64,
    pub party_ref: String,
    pub nature: String,
    pub amount_cents: i64,
    pub label: String,
}

/// A co-financing rule: a funder's share of the annex, checked year by year.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CofinancingRule {
    pub id: String,
    pub convention_id: String,
    pub position: i64,
    pub funder_ref: String,
    pub kind: String,
    /// The funder's share of the year's total, in basis points (5000 = 50 %).
    pub min_bp: i64,
    pub max_bp: i64,
    /// The most the funder gives in one year, in cents.
    pub cap_cents: Option<i64>,
    /// Only the lines of this nature (all when `None`).
    pub nature: Option<String>,
}

/// An event of a convention's life.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Event {
    pub id: String,
    pub convention_id: String,
    pub kind: String,
    /// The day it takes effect (a termination: the first day without the convention).
    pub event_date: Date,
    /// A renewal's new end.
    pub new_end: Option<Date>,
    pub note: String,
    pub created_by: Option<String>,
    pub created_at: OffsetDateTime,
}

impl Event {
    /// The event as the status rules see it (`None` when its kind is unreadable).
    pub fn fact(&self) -> Option<EventFact> {
        Some(EventFact {
            kind: EventKind::from_code(&self.kind)?,
            date: self.event_date,
            new_end: self.new_end,
        })
    }
}

/// An amendment (avenant).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Amendment {
    pub id: String,
    pub convention_id: String,
    pub number: i64,
    pub signed_on: Date,
    pub object: String,
    pub created_by: Option<String>,
    pub created_at: OffsetDateTime,
}

/// A version of a convention's text: 0 is the initial convention, `n` the text after
/// amendment `n`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Version {
    pub number: i64,
    pub amendment_id: Option<String>,
    /// The content, as JSON (see [`snapshot`]).
    pub snapshot: String,
    pub created_by: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

// --- Inputs ---------------------------------------------------------------------------------

/// The whole content of a convention, as typed: used to create one, to change a draft, and
/// as the new text of an amendment ([`ConventionView::to_input`] gives the current one).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConventionInput {
    pub kind: String,
    pub title: String,
    pub object: String,
    pub visas: Vec<String>,
    /// The convention-cadre it sits under.
    pub parent_id: Option<String>,
    pub parties: Vec<PartyInput>,
    /// `etablissement:UAI`, `departement:35`, `commune:35238`…
    pub scope: Vec<String>,
    pub effective_date: Option<Date>,
    pub end_date: Option<Date>,
    pub duration_months: Option<i64>,
    /// `tacite`, `expresse` or `aucune`.
    pub renewal: String,
    pub notice_months: Option<i64>,
    /// A governance body (`gov_body`) that follows the convention.
    pub follow_up_body_id: Option<String>,
    pub commitments: Vec<CommitmentInput>,
    pub annex: Vec<AnnexLineInput>,
    pub cofinancing: Vec<CofinancingInput>,
}

/// A party, as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartyInput {
    /// `collectivite:223500018`, `academie:14`, `entreprise:SIREN`…
    pub reference: String,
    pub representative: String,
    pub capacity: String,
    pub deliberation_ref: Option<String>,
    pub deliberation_date: Option<Date>,
    pub signature_date: Option<Date>,
}

/// A commitment's content, as typed (its follow-up is reported separately).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommitmentInput {
    /// `E2` to keep an existing commitment (and its follow-up); `None` for a new one.
    pub code: Option<String>,
    /// The party that owes it.
    pub party: String,
    pub category: String,
    pub description: String,
    pub quantity: Option<i64>,
    /// In euros, as people type it (`12 000,50`).
    pub amount: Option<String>,
    pub due_date: Option<Date>,
    /// `annuelle` or `trimestrielle` (the due date is then the first occurrence).
    pub recurrence: Option<String>,
    pub indicator: Option<String>,
}

/// A line of the financial annex, as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnnexLineInput {
    pub year: i64,
    pub party: String,
    pub nature: String,
    /// In euros, as people type it.
    pub amount: String,
    pub label: String,
}

/// A co-financing rule, as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CofinancingInput {
    pub funder: String,
    /// `taux` (with `min_bp` and `max_bp`) or `parite` (1 € for 1 €).
    pub kind: String,
    pub min_bp: Option<i64>,
    pub max_bp: Option<i64>,
    /// The yearly cap, in euros.
    pub cap: Option<String>,
    pub nature: Option<String>,
}

/// An event, as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct EventInput {
    pub kind: String,
    pub date: Date,
    pub new_end: Option<Date>,
    pub note: String,
}

/// An amendment: its number is the next one; `content` is the whole new text.
#[derive(Debug, Clone, PartialEq)]
pub struct AmendmentInput {
    pub signed_on: Date,
    pub object: String,
    pub content: ConventionInput,
}

/// What a party reports on one of its commitments; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommitmentReport {
    pub status: Option<String>,
    pub evidence_note: Option<String>,
    pub evidence_link: Option<Option<String>>,
    pub evidence_document: Option<Option<String>>,
    pub indicator_value: Option<Option<String>>,
}

/// Filters of the register of conventions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConventionFilter {
    /// Only the conventions where this organisation is a party.
    pub party: Option<String>,
    pub kind: Option<String>,
    /// A computed status.
    pub status: Option<String>,
    /// Only the conventions where the académie, or an organisation of its territory, is a party.
    pub academie: Option<String>,
}

// --- Views ----------------------------------------------------------------------------------

/// A commitment with its state on the day asked.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitmentState {
    pub commitment: Commitment,
    pub party_name: String,
    pub followed: Followed,
}

/// A commitment in a cross-view, with its convention.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitmentLine {
    pub state: CommitmentState,
    pub convention_id: String,
    pub convention_title: String,
    pub convention_status: ConventionStatus,
}

/// Compliance of one party.
#[derive(Debug, Clone, PartialEq)]
pub struct PartyCompliance {
    pub party_ref: String,
    pub party_name: String,
    pub compliance: Compliance,
}

/// A convention as its page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConventionView {
    pub convention: Convention,
    pub visas: Vec<String>,
    pub parties: Vec<Party>,
    pub scope: Vec<ScopeItem>,
    pub commitments: Vec<CommitmentState>,
    pub annex: Vec<AnnexLine>,
    pub cofinancing: Vec<CofinancingRule>,
    pub events: Vec<Event>,
    pub amendments: Vec<Amendment>,
    /// The convention-cadre above it (id, title), when readable.
    pub parent: Option<(String, String)>,
    /// The readable conventions under it (id, title).
    pub children: Vec<(String, String)>,
    pub standing: Standing,
    pub compliance: Compliance,
    pub compliance_by_party: Vec<PartyCompliance>,
    pub totals: Totals,
    /// The number of the current version (the number of amendments).
    pub current_version: i64,
    /// May change the text, record events and amendments, and report on every commitment.
    pub can_write: bool,
    /// The parties whose commitments the person may report on.
    pub can_report: Vec<String>,
}

impl ConventionView {
    /// The computed status.
    pub fn status(&self) -> ConventionStatus {
        self.standing.status
    }

    /// The current text as an input, to be changed and given back (draft edit, amendment).
    pub fn to_input(&self) -> ConventionInput {
        let c = &self.convention;
        ConventionInput {
            kind: c.kind.clone(),
            title: c.title.clone(),
            object: c.object.clone(),
            visas: self.visas.clone(),
            parent_id: c.parent_id.clone(),
            parties: self
                .parties
                .iter()
                .map(|p| PartyInput {
                    reference: p.reference.clone(),
                    representative: p.representative.clone(),
                    capacity: p.capacity.clone(),
                    deliberation_ref: p.deliberation_ref.clone(),
                    deliberation_date: p.deliberation_date,
                    signature_date: p.signature_date,
                })
                .collect(),
            scope: self.scope.iter().map(|s| s.reference.clone()).collect(),
            effective_date: c.effective_date,
            end_date: c.end_date,
            duration_months: c.duration_months,
            renewal: c.renewal.clone(),
            notice_months: c.notice_months,
            follow_up_body_id: c.follow_up_body_id.clone(),
            commitments: self
                .commitments
                .iter()
                .map(|s| {
                    let e = &s.commitment;
                    CommitmentInput {
                        code: Some(e.code()),
                        party: e.party_ref.clone(),
                        category: e.category.clone(),
                        description: e.description.clone(),
                        quantity: e.quantity,
                        amount: e.amount_cents.map(money::decimal),
                        due_date: e.due_date,
                        recurrence: e.recurrence.clone(),
                        indicator: e.indicator.clone(),
                    }
                })
                .collect(),
            annex: self
                .annex
                .iter()
                .map(|l| AnnexLineInput {
                    year: l.year,
                    party: l.party_ref.clone(),
                    nature: l.nature.clone(),
                    amount: money::decimal(l.amount_cents),
                    label: l.label.clone(),
                })
                .collect(),
            cofinancing: self
                .cofinancing
                .iter()
                .map(|r| CofinancingInput {
                    funder: r.funder_ref.clone(),
                    kind: r.kind.clone(),
                    min_bp: Some(r.min_bp),
                    max_bp: Some(r.max_bp),
                    cap: r.cap_cents.map(money::decimal),
                    nature: r.nature.clone(),
                })
                .collect(),
        }
    }
}

/// A line of the register of conventions.
#[derive(Debug, Clone, PartialEq)]
pub struct ConventionSummary {
    pub convention: Convention,
    /// (reference, name) of each party, in order.
    pub parties: Vec<(String, String)>,
    pub standing: Standing,
    pub compliance: Compliance,
    pub total_cents: i64,
}

/// A version, without its content.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionInfo {
    pub number: i64,
    pub amendment: Option<Amendment>,
    pub created_by: Option<String>,
    pub created_at: OffsetDateTime,
}

/// One difference between two versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What changed: `convention`, `partie collectivite:223500018`, `engagement E2`,
    /// `annexe 2026 collectivite:223500018 investissement`, `cofinancement academie:14 toutes`.
    pub element: String,
    /// The field; for an element added or removed, its kind (`engagement`, `annexe`…).
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

// --- Dates ----------------------------------------------------------------------------------

/// `date` moved by `months` (negative: back), the day clamped to the month's length
/// (31 January + 1 month = 28 or 29 February).
pub fn add_months(date: Date, months: i64) -> Option<Date> {
    let index = i64::from(date.year())
        .checked_mul(12)?
        .checked_add(i64::from(u8::from(date.month())) - 1)?
        .checked_add(months)?;
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    Date::from_calendar_date(year, month, date.day().min(month.length(year))).ok()
}

/// The length of a renewed term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Term {
    Months(i64),
    Days(i64),
}

impl Term {
    /// The term running from `start` to `end` (whole months when it is some).
    fn between(start: Date, end: Date) -> Option<Term> {
        let next = end.next_day()?;
        let months = (i64::from(next.year()) - i64::from(start.year())) * 12
            + i64::from(u8::from(next.month()))
            - i64::from(u8::from(start.month()));
        if months > 0 && add_months(start, months) == Some(next) {
            Some(Term::Months(months))
        } else {
            let days = (end - start).whole_days() + 1;
            (days > 0).then_some(Term::Days(days))
        }
    }

    /// The last day of the term that follows the one ending on `end`.
    fn next_end(self, end: Date) -> Option<Date> {
        let start = end.next_day()?;
        match self {
            Term::Months(m) => add_months(start, m)?.previous_day(),
            Term::Days(d) => start.checked_add(time::Duration::days(d - 1)),
        }
    }
}

// --- Status ---------------------------------------------------------------------------------

/// An event as the status rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventFact {
    pub kind: EventKind,
    pub date: Date,
    pub new_end: Option<Date>,
}

/// What the status of a convention depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline<'a> {
    /// Each party's signature date.
    pub signatures: &'a [Option<Date>],
    pub effective_date: Option<Date>,
    pub end_date: Option<Date>,
    pub duration_months: Option<i64>,
    pub renewal: Renewal,
    pub notice_months: Option<i64>,
    pub events: &'a [EventFact],
}

/// A convention's status on one day, with the dates it follows from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub status: ConventionStatus,
    /// The day the last party signed, once all have.
    pub signed_on: Option<Date>,
    /// Entry into force: the stated date, or the last signature.
    pub start: Option<Date>,
    /// The last day in force: the stated end (or start + duration), moved by renewals,
    /// brought back to the eve of a termination.
    pub end: Option<Date>,
    /// How many times the end was moved by a renewal (express or tacit).
    pub renewals: u32,
    /// With a tacit renewal: the last day to give notice against the next one.
    pub notice_deadline: Option<Date>,
}

/// The status of a convention on `today`, from its signatures, dates and events alone.
///
/// - Not every party has signed (by `today`): `en-negociation` once a negotiation event has
///   happened or a party has signed, `projet` otherwise.
/// - All signed, before entry into force: `signee`.
/// - A termination event dated `today` or earlier, taking effect before the end: `resiliee`
///   (its date is the first day without the convention).
/// - After the last day in force: `echue` — the day after the end, with nobody editing
///   anything. The last day moves with express renewals (events with a new end), and with
///   tacit renewal: each time a term ends without a denunciation given at least
///   `notice_months` before that end, the end moves by the duration (stated, or that of the
///   first term).
/// - Otherwise `renouvelee` if the end was moved by a renewal, `en-vigueur` if not.
pub fn standing(t: &Timeline<'_>, today: Date) -> Standing {
    let signed: Vec<Date> = t
        .signatures
        .iter()
        .flatten()
        .copied()
        .filter(|d| *d <= today)
        .collect();
    let all_signed = !t.signatures.is_empty() && signed.len() == t.signatures.len();
    let signed_on = if all_signed {
        signed.iter().max().copied()
    } else {
        None
    };
    let start = t.effective_date.or(signed_on);
    let stated_end = t.end_date.or_else(|| {
        let months = t.duration_months.filter(|m| *m > 0)?;
        add_months(start?, months)?.previous_day()
    });
    let mut out = Standing {
        status: ConventionStatus::Projet,
        signed_on,
        start,
        end: stated_end,
        renewals: 0,
        notice_deadline: None,
    };
    let Some(start) = start.filter(|_| all_signed) else {
        let negotiating = !signed.is_empty()
            || t.events
                .iter()
                .any(|e| e.kind == EventKind::Negociation && e.date <= today);
        out.status = if negotiating {
            ConventionStatus::EnNegociation
        } else {
            ConventionStatus::Projet
        };
        return out;
    };

    let mut end = stated_end;
    // Express renewals, in the order they were decided.
    let mut express: Vec<&EventFact> = t
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Renouvellement && e.date <= today)
        .collect();
    express.sort_by_key(|e| e.date);
    for e in express {
        if let Some(new_end) = e.new_end
            && end.is_none_or(|x| new_end > x)
        {
            end = Some(new_end);
            out.renewals += 1;
        }
    }
    // Tacit renewal, term after term, until today or a denunciation given in time.
    if t.renewal == Renewal::Tacite {
        let term = match (t.duration_months.filter(|m| *m > 0), stated_end) {
            (Some(m), _) => Some(Term::Months(m)),
            (None, Some(e)) => Term::between(start, e),
            (None, None) => None,
        };
        let denials: Vec<Date> = t
            .events
            .iter()
            .filter(|e| e.kind == EventKind::Denonciation && e.date <= today)
            .map(|e| e.date)
            .collect();
        let notice = t.notice_months.unwrap_or(0).max(0);
        let mut guard = 0;
        while let (Some(term), Some(current)) = (term, end) {
            let deadline = add_months(current, -notice).unwrap_or(current);
            if denials.iter().any(|d| *d <= deadline) {
                break;
            }
            if today <= current || guard >= 2_000 {
                out.notice_deadline = Some(deadline);
                break;
            }
            let Some(next) = term.next_end(current) else { break };
            end = Some(next);
            out.renewals += 1;
            guard += 1;
        }
    }
    // A termination brings the end back to its eve.
    let termination = t
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Resiliation)
        .map(|e| e.date)
        .min();
    if let Some(day) = termination
        && end.is_none_or(|e| e.next_day().is_none_or(|after| day <= after))
    {
        end = day.previous_day().or(Some(day));
        out.notice_deadline = None;
        if day <= today {
            out.end = end;
            out.status = ConventionStatus::Resiliee;
            return out;
        }
    }
    out.end = end;
    out.status = if today < start {
        ConventionStatus::Signee
    } else if end.is_some_and(|e| today > e) {
        out.notice_deadline = None;
        ConventionStatus::Echue
    } else if out.renewals > 0 {
        ConventionStatus::Renouvelee
    } else {
        ConventionStatus::EnVigueur
    };
    out
}

// --- Commitments ----------------------------------------------------------------------------

/// The state of a commitment on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Followed {
    /// The status shown: `en-retard` when late, the reported one otherwise.
    pub status: CommitmentStatus,
    /// Past due and not kept.
    pub late: bool,
    /// The due date to meet next (the first occurrence not reported kept, for a recurring one).
    pub next_due: Option<Date>,
    /// Counted in compliance: due by `today`, or already settled.
    pub due: bool,
    /// Counted as kept in compliance.
    pub kept: bool,
}

/// The `k`-th occurrence of a recurring commitment (counted from its first due date, so
/// that a 31st stays a 31st where the month has one).
fn occurrence(anchor: Date, recurrence: Recurrence, k: i64) -> Option<Date> {
    add_months(anchor, k.checked_mul(recurrence.months())?)
}

/// The first occurrence after `kept_through` (the first one when nothing was kept).
pub fn next_occurrence(anchor: Date, recurrence: Recurrence, kept_through: Option<Date>) -> Option<Date> {
    let Some(kept) = kept_through else {
        return Some(anchor);
    };
    (0..10_000)
        .map_while(|k| occurrence(anchor, recurrence, k))
        .find(|d| *d > kept)
}

/// The state of a commitment on `today`.
///
/// A one-off commitment is late when its due date is past (`due < today`) and it is neither
/// kept nor declared not kept; a recurring one when the first occurrence not reported kept is
/// past. A declared `en-retard` stays late. Compliance counts a commitment as due once its
/// (first) due date has come or once it is settled (kept or not kept), and as kept when
/// reported kept (a recurring one: when every occurrence up to today is).
pub fn follow(
    stored: CommitmentStatus,
    due_date: Option<Date>,
    recurrence: Option<Recurrence>,
    kept_through: Option<Date>,
    today: Date,
) -> Followed {
    match (recurrence, due_date) {
        (Some(recurrence), Some(anchor)) => {
            let next_due = next_occurrence(anchor, recurrence, kept_through);
            let late = stored != CommitmentStatus::NonTenu
                && (stored == CommitmentStatus::EnRetard || next_due.is_some_and(|d| d < today));
            let kept = kept_through.is_some() && next_due.is_none_or(|d| d > today) && !late;
            Followed {
                status: if late { CommitmentStatus::EnRetard } else { stored },
                late,
                next_due,
                due: anchor <= today || kept_through.is_some() || stored == CommitmentStatus::NonTenu,
                kept,
            }
        }
        _ => {
            let settled = matches!(stored, CommitmentStatus::Tenu | CommitmentStatus::NonTenu);
            let late =
                !settled && (stored == CommitmentStatus::EnRetard || due_date.is_some_and(|d| d < today));
            Followed {
                status: if late { CommitmentStatus::EnRetard } else { stored },
                late,
                next_due: if settled { None } else { due_date },
                due: settled || due_date.is_some_and(|d| d <= today),
                kept: stored == CommitmentStatus::Tenu,
            }
        }
    }
}

/// Kept over due so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Compliance {
    /// Every commitment.
    pub total: i64,
    /// Due by today (or already settled).
    pub due: i64,
    /// Kept, among the due ones.
    pub kept: i64,
    /// Late today.
    pub late: i64,
}

impl Compliance {
    /// Counts one commitment.
    pub fn add(&mut self, f: &Followed) {
        self.total += 1;
        if f.due || f.kept {
            self.due += 1;
        }
        if f.kept {
            self.kept += 1;
        }
        if f.late {
            self.late += 1;
        }
    }

    /// The share kept of what is due, in whole percent (`None` when nothing is due yet).
    pub fn percent(&self) -> Option<i64> {
        (self.due > 0).then(|| self.kept * 100 / self.due)
    }
}

/// Orders commitment lines for cross-views: late first, then not kept, then by next due
/// date (undated last), then by convention and number.
pub fn sort_lines(lines: &mut [CommitmentLine]) {
    fn rank(f: &Followed) -> u8 {
        if f.late {
            0
        } else if f.status == CommitmentStatus::NonTenu {
            1
        } else {
            2
        }
    }
    lines.sort_by(|a, b| {
        let (fa, fb) = (&a.state.followed, &b.state.followed);
        rank(fa)
            .cmp(&rank(fb))
            .then_with(|| match (fa.next_due, fb.next_due) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| a.convention_title.cmp(&b.convention_title))
            .then_with(|| a.state.commitment.number.cmp(&b.state.commitment.number))
    });
}

// --- Money ----------------------------------------------------------------------------------

/// Totals of a financial annex, exact to the cent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub total: i64,
    /// By funder (party reference), in the order of the parties.
    pub by_funder: Vec<(String, i64)>,
    /// By year, ascending.
    pub by_year: Vec<(i64, i64)>,
    /// By funder and year.
    pub by_funder_year: Vec<(String, i64, i64)>,
    /// By nature (`investissement`, `fonctionnement`).
    pub by_nature: Vec<(String, i64)>,
}

/// The totals of `lines`; `parties` gives the order of the funders. Amounts are bounded by
/// [`MAX_AMOUNT_CENTS`] and lines by [`MAX_LINES`], so sums cannot overflow.
pub fn totals(lines: &[AnnexLine], parties: &[String]) -> Totals {
    let position = |r: &str| parties.iter().position(|p| p == r).unwrap_or(usize::MAX);
    let mut by_funder: BTreeMap<(usize, String), i64> = BTreeMap::new();
    let mut by_year: BTreeMap<i64, i64> = BTreeMap::new();
    let mut by_funder_year: BTreeMap<(usize, String, i64), i64> = BTreeMap::new();
    let mut by_nature: BTreeMap<String, i64> = BTreeMap::new();
    let mut total = 0;
    for l in lines {
        total += l.amount_cents;
        *by_funder
            .entry((position(&l.party_ref), l.party_ref.clone()))
            .or_default() += l.amount_cents;
        *by_year.entry(l.year).or_default() += l.amount_cents;
        *by_funder_year
            .entry((position(&l.party_ref), l.party_ref.clone(), l.year))
            .or_default() += l.amount_cents;
        *by_nature.entry(l.nature.clone()).or_default() += l.amount_cents;
    }
    Totals {
        total,
        by_funder: by_funder.into_iter().map(|((_, r), v)| (r, v)).collect(),
        by_year: by_year.into_iter().collect(),
        by_funder_year: by_funder_year
            .into_iter()
            .map(|((_, r, y), v)| (r, y, v))
            .collect(),
        by_nature: by_nature.into_iter().collect(),
    }
}

/// `52,5 %` from basis points.
pub fn percent_bp(bp: i64) -> String {
    let units = bp / 100;
    let rest = bp % 100;
    if rest == 0 {
        format!("{units} %")
    } else if rest % 10 == 0 {
        format!("{units},{} %", rest / 10)
    } else {
        format!("{units},{rest:02} %")
    }
}

/// A line of the annex as the co-financing check sees it (`index` names it: `annexe[i]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineFact {
    pub index: usize,
    pub year: i64,
    pub party: String,
    pub nature: Nature,
    pub amount: i64,
}

/// A co-financing rule as the check sees it (`index` names it: `cofinancements[i]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFact {
    pub index: usize,
    pub funder: String,
    pub kind: CofinancingKind,
    pub min_bp: i64,
    pub max_bp: i64,
    pub cap: Option<i64>,
    pub nature: Option<Nature>,
}

/// Checks the annex against the co-financing rules, year by year (within the rule's nature,
/// if it has one):
/// - the funder's lines of a year add up to at most the cap: the line that crosses it is
///   named (`annexe[i].montant`);
/// - the funder's share of the year's total lies between the rule's rates (1 € for 1 €: the
///   funder gives no more than all the other parties together): the funder's first line of
///   the year is named, or the rule when the funder has none that year.
///
/// All arithmetic is on integer cents (products in `i128`).
pub fn check_cofinancing(lines: &[LineFact], rules: &[RuleFact]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for rule in rules {
        let in_scope = |l: &&LineFact| rule.nature.is_none_or(|n| n == l.nature);
        let years: BTreeSet<i64> = lines.iter().filter(in_scope).map(|l| l.year).collect();
        for year in years {
            let of_year: Vec<&LineFact> = lines.iter().filter(in_scope).filter(|l| l.year == year).collect();
            let funder: Vec<&&LineFact> = of_year.iter().filter(|l| l.party == rule.funder).collect();
            if let Some(cap) = rule.cap {
                let mut sum = 0_i64;
                for line in &funder {
                    sum += line.amount;
                    if sum > cap {
                        let message = if sum == line.amount {
                            format!(
                                "{} dépasse le plafond de {} par an de {} ({year})",
                                money::french(line.amount),
                                money::french(cap),
                                rule.funder
                            )
                        } else {
                            format!(
                                "porte l'apport de {} en {year} à {}, au-delà du plafond de {}",
                                rule.funder,
                                money::french(sum),
                                money::french(cap)
                            )
                        };
                        errors.push(FieldError::new(
                            format!("annexe[{}].montant", line.index),
                            message,
                        ));
                        break;
                    }
                }
            }
            let share: i64 = funder.iter().map(|l| l.amount).sum();
            let total: i64 = of_year.iter().map(|l| l.amount).sum();
            if total == 0 {
                continue;
            }
            let (share_w, total_w) = (i128::from(share), i128::from(total));
            let low = share_w * 10_000 < i128::from(rule.min_bp) * total_w;
            let high = share_w * 10_000 > i128::from(rule.max_bp) * total_w;
            if !(low || high) {
                continue;
            }
            let actual = i64::try_from(share_w * 10_000 / total_w).unwrap_or(0);
            let message = match rule.kind {
                CofinancingKind::Parite => format!(
                    "1 € pour 1 € : {} apporte {} en {year}, les autres parties {}",
                    rule.funder,
                    money::french(share),
                    money::french(total - share)
                ),
                CofinancingKind::Taux => format!(
                    "la part de {} en {year} est de {} ({} sur {}) : attendue entre {} et {}",
                    rule.funder,
                    percent_bp(actual),
                    money::french(share),
                    money::french(total),
                    percent_bp(rule.min_bp),
                    percent_bp(rule.max_bp)
                ),
            };
            let field = funder.first().map_or_else(
                || format!("cofinancements[{}]", rule.index),
                |l| format!("annexe[{}].montant", l.index),
            );
            errors.push(FieldError::new(field, message));
        }
    }
    errors
}

// --- Versions -------------------------------------------------------------------------------

/// A version's content: one object of fields per element.
pub type Snapshot = BTreeMap<String, BTreeMap<String, serde_json::Value>>;

/// The content of a convention as a version keeps it. Amounts are written as exact decimals
/// (`1234.56`), dates as ISO text.
pub fn snapshot(
    c: &Convention,
    visas: &[String],
    parties: &[Party],
    scope: &[ScopeItem],
    commitments: &[Commitment],
    annex: &[AnnexLine],
    rules: &[CofinancingRule],
) -> Snapshot {
    use serde_json::json;
    let date = |d: Option<Date>| d.map(|d| d.to_string());
    let mut map = Snapshot::new();
    let mut put = |key: String, value: serde_json::Value| {
        if let serde_json::Value::Object(fields) = value {
            map.insert(key, fields.into_iter().collect());
        }
    };
    put(
        "convention".into(),
        json!({
            "type": c.kind, "titre": c.title, "objet": c.object, "visas": visas,
            "conventionCadre": c.parent_id, "dateEffet": date(c.effective_date), "dateFin": date(c.end_date),
            "dureeMois": c.duration_months, "reconduction": c.renewal, "preavisMois": c.notice_months,
            "instanceSuivi": c.follow_up_body_id,
            "perimetre": scope.iter().map(|s| s.reference.as_str()).collect::<Vec<_>>(),
        }),
    );
    for p in parties {
        put(
            format!("partie {}", p.reference),
            json!({
                "nom": p.name, "representant": p.representative, "qualite": p.capacity,
                "deliberation": p.deliberation_ref, "dateDeliberation": date(p.deliberation_date),
                "dateSignature": date(p.signature_date),
            }),
        );
    }
    for e in commitments {
        put(
            format!("engagement {}", e.code()),
            json!({
                "partie": e.party_ref, "categorie": e.category, "description": e.description,
                "quantite": e.quantity, "montant": e.amount_cents.map(money::decimal),
                "echeance": date(e.due_date), "recurrence": e.recurrence, "indicateur": e.indicator,
            }),
        );
    }
    for l in annex {
        put(
            format!("annexe {} {} {}", l.year, l.party_ref, l.nature),
            json!({ "montant": money::decimal(l.amount_cents), "libelle": l.label }),
        );
    }
    for r in rules {
        put(
            format!(
                "cofinancement {} {}",
                r.funder_ref,
                r.nature.as_deref().unwrap_or("toutes")
            ),
            json!({
                "type": r.kind, "tauxMin": r.min_bp, "tauxMax": r.max_bp,
                "plafond": r.cap_cents.map(money::decimal),
            }),
        );
    }
    map
}

/// What changed from `before` to `after`: elements added or removed, and every field whose
/// value differs.
pub fn compare(before: &Snapshot, after: &Snapshot) -> Vec<Change> {
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    };
    let kind = |key: &str| key.split(' ').next().unwrap_or(key).to_owned();
    let mut changes = Vec::new();
    for (key, old) in before {
        match after.get(key) {
            None => changes.push(Change {
                element: key.clone(),
                field: kind(key),
                before: Some("présent".into()),
                after: None,
            }),
            Some(new) => {
                let fields: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
                for field in fields {
                    let (a, b) = (old.get(field), new.get(field));
                    let (a, b) = (a.and_then(text), b.and_then(text));
                    if a != b {
                        changes.push(Change {
                            element: key.clone(),
                            field: field.clone(),
                            before: a,
                            after: b,
                        });
                    }
                }
            }
        }
    }
    for key in after.keys().filter(|k| !before.contains_key(*k)) {
        changes.push(Change {
            element: key.clone(),
            field: kind(key),
            before: None,
            after: Some("ajouté".into()),
        });
    }
    changes
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn timeline<'a>(signatures: &'a [Option<Date>], events: &'a [EventFact]) -> Timeline<'a> {
        Timeline {
            signatures,
            effective_date: Some(date!(2024 - 01 - 01)),
            end_date: Some(date!(2026 - 12 - 31)),
            duration_months: None,
            renewal: Renewal::Aucune,
            notice_months: None,
            events,
        }
    }

    fn event(kind: EventKind, date: Date) -> EventFact {
        EventFact {
            kind,
            date,
            new_end: None,
        }
    }

    #[test]
    fn months_are_added_with_the_day_clamped() {
        assert_eq!(add_months(date!(2024 - 01 - 31), 1), Some(date!(2024 - 02 - 29)));
        assert_eq!(add_months(date!(2023 - 01 - 31), 1), Some(date!(2023 - 02 - 28)));
        assert_eq!(add_months(date!(2024 - 11 - 15), 3), Some(date!(2025 - 02 - 15)));
        assert_eq!(add_months(date!(2024 - 03 - 31), -3), Some(date!(2023 - 12 - 31)));
        assert_eq!(
            Term::between(date!(2023 - 09 - 01), date!(2026 - 08 - 31)),
            Some(Term::Months(36))
        );
        assert_eq!(
            Term::between(date!(2023 - 09 - 02), date!(2023 - 09 - 11)),
            Some(Term::Days(10))
        );
    }

    #[test]
    fn a_convention_is_a_draft_until_every_party_has_signed() {
        let none = [None, None];
        let one = [Some(date!(2023 - 12 - 01)), None];
        let today = date!(2025 - 06 - 01);
        assert_eq!(
            standing(&timeline(&none, &[]), today).status,
            ConventionStatus::Projet
        );
        let talks = [event(EventKind::Negociation, date!(2023 - 10 - 01))];
        assert_eq!(
            standing(&timeline(&none, &talks), today).status,
            ConventionStatus::EnNegociation
        );
        // The negotiation has not opened yet on an earlier day.
        assert_eq!(
            standing(&timeline(&none, &talks), date!(2023 - 09 - 30)).status,
            ConventionStatus::Projet
        );
        assert_eq!(
            standing(&timeline(&one, &[]), today).status,
            ConventionStatus::EnNegociation
        );
        // A signature is counted from its day on.
        let both = [Some(date!(2023 - 12 - 01)), Some(date!(2023 - 12 - 15))];
        let s = standing(&timeline(&both, &[]), date!(2023 - 12 - 14));
        assert_eq!(s.status, ConventionStatus::EnNegociation);
        let s = standing(&timeline(&both, &[]), date!(2023 - 12 - 15));
        assert_eq!(
            (s.status, s.signed_on),
            (ConventionStatus::Signee, Some(date!(2023 - 12 - 15)))
        );
    }

    #[test]
    fn in_force_from_its_start_to_its_last_day_then_expired_the_next_day() {
        let both = [Some(date!(2023 - 12 - 01)), Some(date!(2023 - 12 - 15))];
        let t = timeline(&both, &[]);
        assert_eq!(
            standing(&t, date!(2023 - 12 - 31)).status,
            ConventionStatus::Signee
        );
        assert_eq!(
            standing(&t, date!(2024 - 01 - 01)).status,
            ConventionStatus::EnVigueur
        );
        assert_eq!(
            standing(&t, date!(2026 - 12 - 31)).status,
            ConventionStatus::EnVigueur
        );
        let s = standing(&t, date!(2027 - 01 - 01));
        assert_eq!(
            (s.status, s.end),
            (ConventionStatus::Echue, Some(date!(2026 - 12 - 31)))
        );
        // Without a stated start, it starts at the last signature; without a stated end,
        // the duration gives it.
        let t = Timeline {
            effective_date: None,
            end_date: None,
            duration_months: Some(12),
            ..timeline(&both, &[])
        };
        let s = standing(&t, date!(2024 - 12 - 14));
        assert_eq!(
            (s.status, s.start, s.end),
            (
                ConventionStatus::EnVigueur,
                Some(date!(2023 - 12 - 15)),
                Some(date!(2024 - 12 - 14))
            )
        );
        assert_eq!(
            standing(&t, date!(2024 - 12 - 15)).status,
            ConventionStatus::Echue
        );
        // Neither end nor duration: in force until terminated.
        let t = Timeline {
            end_date: None,
            ..timeline(&both, &[])
        };
        assert_eq!(
            standing(&t, date!(2099 - 01 - 01)).status,
            ConventionStatus::EnVigueur
        );
    }

    #[test]
    fn tacit_renewal_extends_by_the_duration_unless_notice_was_given_in_time() {
        let both = [Some(date!(2023 - 12 - 01)), Some(date!(2023 - 12 - 15))];
        let base = Timeline {
            renewal: Renewal::Tacite,
            notice_months: Some(3),
            ..timeline(&both, &[])
        };
        let s = standing(&base, date!(2026 - 12 - 31));
        assert_eq!(
            (s.status, s.notice_deadline),
            (ConventionStatus::EnVigueur, Some(date!(2026 - 09 - 30)))
        );
        let s = standing(&base, date!(2027 - 01 - 01));
        assert_eq!(
            (s.status, s.end, s.renewals),
            (ConventionStatus::Renouvelee, Some(date!(2029 - 12 - 31)), 1)
        );
        // Notice on the last day allowed: no renewal, expired the day after the end.
        let denied = [event(EventKind::Denonciation, date!(2026 - 09 - 30))];
        let t = Timeline {
            events: &denied,
            ..base.clone()
        };
        assert_eq!(
            standing(&t, date!(2026 - 12 - 31)).status,
            ConventionStatus::EnVigueur
        );
        assert_eq!(
            standing(&t, date!(2027 - 01 - 01)).status,
            ConventionStatus::Echue
        );
        // One day too late: renewed once, then it ends.
        let late = [event(EventKind::Denonciation, date!(2026 - 10 - 01))];
        let t = Timeline {
            events: &late,
            ..base.clone()
        };
        let s = standing(&t, date!(2027 - 01 - 01));
        assert_eq!(
            (s.status, s.end),
            (ConventionStatus::Renouvelee, Some(date!(2029 - 12 - 31)))
        );
        assert_eq!(
            standing(&t, date!(2030 - 01 - 01)).status,
            ConventionStatus::Echue
        );
        // A stated duration is the renewed term.
        let t = Timeline {
            duration_months: Some(12),
            ..base.clone()
        };
        assert_eq!(
            standing(&t, date!(2027 - 01 - 01)).end,
            Some(date!(2027 - 12 - 31))
        );
        assert_eq!(standing(&t, date!(2028 - 06 - 01)).renewals, 2);
    }

    #[test]
    fn express_renewal_and_termination_are_events() {
        let both = [Some(date!(2023 - 12 - 01)), Some(date!(2023 - 12 - 15))];
        let renewed = [EventFact {
            kind: EventKind::Renouvellement,
            date: date!(2026 - 11 - 15),
            new_end: Some(date!(2027 - 12 - 31)),
        }];
        let t = Timeline {
            renewal: Renewal::Expresse,
            ..timeline(&both, &renewed)
        };
        assert_eq!(
            standing(&t, date!(2026 - 11 - 14)).status,
            ConventionStatus::EnVigueur
        );
        assert_eq!(
            standing(&t, date!(2026 - 11 - 15)).status,
            ConventionStatus::Renouvelee
        );
        assert_eq!(
            standing(&t, date!(2028 - 01 - 01)).status,
            ConventionStatus::Echue
        );
        // A termination takes effect on its date; the day before, still in force.
        let ended = [event(EventKind::Resiliation, date!(2025 - 07 - 01))];
        let t = timeline(&both, &ended);
        let s = standing(&t, date!(2025 - 06 - 30));
        assert_eq!(
            (s.status, s.end),
            (ConventionStatus::EnVigueur, Some(date!(2025 - 06 - 30)))
        );
        let s = standing(&t, date!(2025 - 07 - 01));
        assert_eq!(
            (s.status, s.end),
            (ConventionStatus::Resiliee, Some(date!(2025 - 06 - 30)))
        );
    }

    #[test]
    fn a_commitment_is_late_the_day_after_its_due_date() {
        use CommitmentStatus::*;
        let due = Some(date!(2025 - 03 - 31));
        let f = follow(Prevu, due, None, None, date!(2025 - 03 - 31));
        assert!(!f.late && f.due && !f.kept);
        let f = follow(EnCours, due, None, None, date!(2025 - 04 - 01));
        assert_eq!((f.status, f.late), (EnRetard, true));
        let f = follow(Tenu, due, None, None, date!(2026 - 01 - 01));
        assert!(!f.late && f.kept && f.due);
        let f = follow(NonTenu, due, None, None, date!(2026 - 01 - 01));
        assert!(!f.late && !f.kept && f.due);
        // Kept early: due and kept before its date.
        let f = follow(Tenu, due, None, None, date!(2025 - 01 - 01));
        assert!(f.due && f.kept);
        // No date, not kept: never late, not yet due.
        let f = follow(Prevu, None, None, None, date!(2030 - 01 - 01));
        assert!(!f.late && !f.due);
    }

    #[test]
    fn a_recurring_commitment_falls_due_again_each_period() {
        use CommitmentStatus::*;
        let anchor = Some(date!(2024 - 09 - 30));
        let yearly = Some(Recurrence::Annuelle);
        let f = follow(Prevu, anchor, yearly, None, date!(2024 - 10 - 01));
        assert_eq!((f.late, f.next_due), (true, Some(date!(2024 - 09 - 30))));
        // Kept for 2024: next due 30 September 2025, kept until then.
        let kept = Some(date!(2024 - 09 - 30));
        let f = follow(Tenu, anchor, yearly, kept, date!(2025 - 09 - 29));
        assert_eq!(
            (f.status, f.late, f.kept, f.next_due),
            (Tenu, false, true, Some(date!(2025 - 09 - 30)))
        );
        // Due again on its day: neither late nor kept yet.
        let f = follow(Tenu, anchor, yearly, kept, date!(2025 - 09 - 30));
        assert_eq!((f.late, f.kept, f.due), (false, false, true));
        let f = follow(Tenu, anchor, yearly, kept, date!(2025 - 10 - 01));
        assert_eq!((f.status, f.late, f.kept), (EnRetard, true, false));
        let quarterly = Some(Recurrence::Trimestrielle);
        assert_eq!(
            follow(
                Prevu,
                Some(date!(2024 - 01 - 31)),
                quarterly,
                Some(date!(2024 - 04 - 30)),
                date!(2024 - 05 - 01)
            )
            .next_due,
            Some(date!(2024 - 07 - 31))
        );
    }

    #[test]
    fn compliance_counts_kept_over_due() {
        use CommitmentStatus::*;
        let today = date!(2025 - 06 - 01);
        let mut c = Compliance::default();
        for f in [
            follow(Tenu, Some(date!(2025 - 01 - 01)), None, None, today),
            follow(EnCours, Some(date!(2025 - 02 - 01)), None, None, today),
            follow(Prevu, Some(date!(2026 - 01 - 01)), None, None, today),
            follow(NonTenu, Some(date!(2025 - 03 - 01)), None, None, today),
        ] {
            c.add(&f);
        }
        assert_eq!(
            c,
            Compliance {
                total: 4,
                due: 3,
                kept: 1,
                late: 1
            }
        );
        assert_eq!(c.percent(), Some(33));
        assert_eq!(Compliance::default().percent(), None);
    }

    fn line(index: usize, year: i64, party: &str, amount: i64) -> LineFact {
        LineFact {
            index,
            year,
            party: party.into(),
            nature: Nature::Investissement,
            amount,
        }
    }

    #[test]
    fn cofinancing_rules_name_the_line_that_breaks_them() {
        let rate = RuleFact {
            index: 0,
            funder: "academie:14".into(),
            kind: CofinancingKind::Taux,
            min_bp: 5_000,
            max_bp: 7_000,
            cap: Some(10_000_000),
            nature: None,
        };
        // 60 % in 2025, within 50–70 % and under the cap.
        let ok = [
            line(0, 2025, "academie:14", 6_000_000),
            line(1, 2025, "collectivite:223500018", 4_000_000),
        ];
        assert!(check_cofinancing(&ok, std::slice::from_ref(&rate)).is_empty());
        // 2026: above the cap (named line 3) and 75 % (the funder's first line of the year).
        let bad = [
            line(0, 2025, "academie:14", 6_000_000),
            line(1, 2025, "collectivite:223500018", 4_000_000),
            line(2, 2026, "collectivite:223500018", 3_500_000),
            line(3, 2026, "academie:14", 10_500_000),
        ];
        let errors = check_cofinancing(&bad, std::slice::from_ref(&rate));
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["annexe[3].montant", "annexe[3].montant"]);
        assert!(errors[1].message.contains("75 %"), "{}", errors[1].message);
        // Exactly at the bounds is accepted (no rounding).
        let edge = [line(0, 2025, "academie:14", 7_000), line(1, 2025, "x", 3_000)];
        assert!(check_cofinancing(&edge, std::slice::from_ref(&rate)).is_empty());
        let edge = [line(0, 2025, "academie:14", 7_001), line(1, 2025, "x", 2_999)];
        assert_eq!(check_cofinancing(&edge, std::slice::from_ref(&rate)).len(), 1);
        // 1 € for 1 €: no more than the others; the rule itself is named when the funder
        // has no line of the year and a minimum applies.
        let parity = RuleFact {
            kind: CofinancingKind::Parite,
            min_bp: 0,
            max_bp: 5_000,
            cap: None,
            ..rate.clone()
        };
        let more = [line(0, 2025, "academie:14", 100_001), line(1, 2025, "x", 100_000)];
        assert_eq!(
            check_cofinancing(&more, std::slice::from_ref(&parity))[0].field,
            "annexe[0].montant"
        );
        let missing = [line(0, 2025, "x", 100)];
        assert_eq!(check_cofinancing(&missing, &[rate])[0].field, "cofinancements[0]");
    }

    #[test]
    fn totals_are_exact_cents() {
        let l = |year: i64, party: &str, nature: &str, amount: i64| AnnexLine {
            id: String::new(),
            convention_id: String::new(),
            position: 0,
            year,
            party_ref: party.into(),
            nature: nature.into(),
            amount_cents: amount,
            label: String::new(),
        };
        let lines = [
            l(2025, "collectivite:223500018", "investissement", 10),
            l(2025, "academie:14", "fonctionnement", 20),
            l(2026, "collectivite:223500018", "fonctionnement", 1),
        ];
        let t = totals(&lines, &["academie:14".into(), "collectivite:223500018".into()]);
        assert_eq!(t.total, 31);
        assert_eq!(
            t.by_funder,
            [
                ("academie:14".to_owned(), 20),
                ("collectivite:223500018".to_owned(), 11)
            ]
        );
        assert_eq!(t.by_year, [(2025, 30), (2026, 1)]);
        assert_eq!(
            t.by_nature,
            [
                ("fonctionnement".to_owned(), 21),
                ("investissement".to_owned(), 10)
            ]
        );
        assert_eq!(percent_bp(5_250), "52,5 %");
        assert_eq!(percent_bp(5_025), "50,25 %");
        assert_eq!(percent_bp(7_000), "70 %");
    }

    #[test]
    fn party_references_are_checked_before_the_referential() {
        assert_eq!(
            PartyRef::parse(" collectivite:223500018 ").map(|r| r.to_string()),
            Ok("collectivite:223500018".to_owned())
        );
        assert_eq!(
            PartyRef::parse("entreprise:223500019").map_err(|e| e.suffix),
            Err(".siren")
        );
        assert_eq!(
            PartyRef::parse("etablissement:0350122A").map_err(|e| e.suffix),
            Err(".uai")
        );
        assert_eq!(PartyRef::parse("pays:fr").map_err(|e| e.suffix), Err(""));
        assert_eq!(
            PartyRef::parse("departement:2A").map(|r| r.code),
            Ok("2A".to_owned())
        );
        assert!(ScopeRef::parse("commune:35238").is_ok());
        assert!(ScopeRef::parse("canton:1").is_err());
    }

    #[test]
    fn comparison_lists_exactly_what_changed() {
        let mut a = Snapshot::new();
        a.insert(
            "engagement E1".into(),
            [("montant".to_owned(), serde_json::json!("100.00"))]
                .into_iter()
                .collect(),
        );
        a.insert("engagement E2".into(), BTreeMap::new());
        let mut b = a.clone();
        b.insert(
            "engagement E1".into(),
            [("montant".to_owned(), serde_json::json!("120.50"))]
                .into_iter()
                .collect(),
        );
        b.remove("engagement E2");
        b.insert("engagement E3".into(), BTreeMap::new());
        assert_eq!(
            compare(&a, &b),
            [
                Change {
                    element: "engagement E1".into(),
                    field: "montant".into(),
                    before: Some("100.00".into()),
                    after: Some("120.50".into()),
                },
                Change {
                    element: "engagement E2".into(),
                    field: "engagement".into(),
                    before: Some("présent".into()),
                    after: None,
                },
                Change {
                    element: "engagement E3".into(),
                    field: "engagement".into(),
                    before: None,
                    after: Some("ajouté".into()),
                },
            ]
        );
    }
}
