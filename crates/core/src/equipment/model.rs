//! Equipment types: categories, declarations, pupil counts, plans, needs, gap analysis.

use time::{Date, OffsetDateTime};

text_enum!(
    /// What is counted (or stated) for a school.
    Category {
        PosteFixe = "poste-fixe" / "Postes fixes",
        PosteMobile = "poste-mobile" / "Postes mobiles (portables)",
        Tablette = "tablette" / "Tablettes",
        EquipementIndividuel = "equipement-individuel" / "Équipements individuels mobiles",
        EcranInteractif = "ecran-interactif" / "Écrans et vidéoprojecteurs interactifs (VPI/ENI)",
        Videoprojecteur = "videoprojecteur" / "Vidéoprojecteurs",
        ClasseMobile = "classe-mobile" / "Classes mobiles",
        Wifi = "wifi" / "Salles de classe couvertes par le Wi-Fi (%)",
        Debit = "debit" / "Débit internet (Mb/s)",
        Ent = "ent" / "Accès à un ENT",
        Maintenance = "maintenance" / "Maintenance",
    }
);

impl Category {
    /// Counted in units (with an age band).
    pub fn is_count(self) -> bool {
        !matches!(
            self,
            Category::Wifi | Category::Debit | Category::Ent | Category::Maintenance
        )
    }

    /// A terminal (computer, tablet, individual equipment): counted in `terminaux`.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Category::PosteFixe | Category::PosteMobile | Category::Tablette | Category::EquipementIndividuel
        )
    }
}

/// The stored codes of the terminal categories, for SQL `IN` lists.
pub const TERMINAL_CODES: &str = "'poste-fixe', 'poste-mobile', 'tablette', 'equipement-individuel'";
/// The stored codes of the count categories, for SQL `IN` lists.
pub const COUNT_CODES: &str = "'poste-fixe', 'poste-mobile', 'tablette', 'equipement-individuel', \
     'ecran-interactif', 'videoprojecteur', 'classe-mobile'";

/// The pseudo-category of a need that sums every terminal.
pub const TERMINAUX: &str = "terminaux";

text_enum!(
    /// Who maintains a school's equipment.
    Maintainer {
        Collectivite = "collectivite" / "La collectivité",
        Prestataire = "prestataire" / "Un prestataire",
        Gip = "gip" / "Un GIP ou un syndicat",
        Academie = "academie" / "L'académie",
        Etablissement = "etablissement" / "L'établissement",
    }
);

text_enum!(
    /// The internet bandwidth bands (ETIC style); stored as the band's floor in Mb/s.
    BandwidthBand {
        Moins2 = "moins-2" / "Moins de 2 Mb/s",
        De2a10 = "2-10" / "De 2 à 10 Mb/s",
        De10a30 = "10-30" / "De 10 à 30 Mb/s",
        De30a100 = "30-100" / "De 30 à 100 Mb/s",
        De100a1000 = "100-1000" / "De 100 Mb/s à 1 Gb/s",
        Plus1000 = "1000-plus" / "1 Gb/s et plus",
    }
);

impl BandwidthBand {
    /// The floor of the band, in Mb/s (what is stored and compared).
    pub fn floor_mbps(self) -> i64 {
        match self {
            BandwidthBand::Moins2 => 0,
            BandwidthBand::De2a10 => 2,
            BandwidthBand::De10a30 => 10,
            BandwidthBand::De30a100 => 30,
            BandwidthBand::De100a1000 => 100,
            BandwidthBand::Plus1000 => 1000,
        }
    }

    /// The band a stored floor belongs to.
    pub fn of_mbps(mbps: i64) -> Self {
        match mbps {
            i64::MIN..2 => BandwidthBand::Moins2,
            2..10 => BandwidthBand::De2a10,
            10..30 => BandwidthBand::De10a30,
            30..100 => BandwidthBand::De30a100,
            100..1000 => BandwidthBand::De100a1000,
            _ => BandwidthBand::Plus1000,
        }
    }
}

text_enum!(
    /// What a plan line does.
    PlanAction {
        Acquisition = "acquisition" / "Acquisition",
        Renouvellement = "renouvellement" / "Renouvellement",
        Maintenance = "maintenance" / "Maintenance",
    }
);

text_enum!(
    /// Who pays a plan line.
    Funding {
        FondsPropres = "fonds-propres" / "Fonds propres",
        Etat = "etat" / "Cofinancement de l'État",
        Ue = "ue" / "Fonds européens",
        Autre = "autre" / "Autre",
    }
);

text_enum!(
    /// Where a plan line stands.
    LineStatus {
        Prevu = "prevu" / "Prévu",
        Livre = "livre" / "Livré",
        Annule = "annule" / "Annulé",
    }
);

text_enum!(
    /// How a need's threshold reads.
    NeedRule {
        ParEtablissement = "par-etablissement" / "Unités par établissement",
        ElevesParUnite = "eleves-par-unite" / "Une unité pour N élèves",
        ElevesCmParUnite = "eleves-cm-par-unite" / "Une unité pour N élèves de CM1-CM2",
        ParClasse = "par-classe" / "Unités par classe",
        Minimum = "minimum" / "Valeur minimale (Wi-Fi %, débit Mb/s, ENT)",
    }
);

text_enum!(
    /// What declares a need.
    NeedSubject {
        Projet = "projet" / "Projet national",
        Action = "action" / "Action de feuille de route",
    }
);

text_enum!(
    /// The lists of the gap analysis.
    GapKind {
        CibleSansEquipement = "cible-sans-equipement" / "Ciblés par un projet, sans l'équipement aujourd'hui",
        EncoreApresPlans = "encore-apres-plans" / "Toujours sans l'équipement après les plans",
        EquipeSansProjet = "equipe-sans-projet" / "Équipés (ou à équiper) sans projet",
        ARenouveler = "a-renouveler" / "Équipement au-delà de l'âge de renouvellement",
    }
);

/// The age (in years) past which equipment is due for renewal.
pub const RENEWAL_AGE_YEARS: i64 = 5;

/// One figure of a school's inventory, current or superseded.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Declaration {
    pub id: String,
    pub uai: String,
    pub category: String,
    pub quantity: Option<i64>,
    pub quantity_old: Option<i64>,
    pub maintainer: Option<String>,
    pub service_level: Option<String>,
    pub response_hours: Option<i64>,
    pub as_of: Date,
    pub source: String,
    pub note: String,
    pub declared_by: Option<String>,
    pub created_at: OffsetDateTime,
    pub superseded_at: Option<OffsetDateTime>,
}

impl Declaration {
    /// The state written in the audit trail.
    pub fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({
            "etablissement": self.uai, "categorie": self.category, "quantite": self.quantity,
            "quantitePlusDe5Ans": self.quantity_old, "mainteneur": self.maintainer,
            "niveauService": self.service_level, "delaiHeures": self.response_hours,
            "date": self.as_of.to_string(), "source": self.source, "note": self.note,
        })
    }
}

/// A figure as typed (or read from a file), before it is checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FigureInput {
    pub category: String,
    /// Units, % of classrooms (wifi), Mb/s (debit), 0/1 (ent).
    pub quantity: Option<i64>,
    /// A bandwidth band code (`100-1000`) instead of Mb/s.
    pub band: Option<String>,
    pub quantity_old: Option<i64>,
    pub maintainer: Option<String>,
    pub service_level: Option<String>,
    pub response_hours: Option<i64>,
    pub note: Option<String>,
}

/// A school's declaration: its figures, with their date and source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeclarationInput {
    pub as_of: Option<Date>,
    pub source: Option<String>,
    pub figures: Vec<FigureInput>,
}

/// Classes and pupils of a school for a school year.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Pupils {
    pub uai: String,
    pub school_year: i64,
    pub classes: i64,
    pub pupils: i64,
    pub pupils_cm: Option<i64>,
    pub source: String,
}

/// A comment on a school's equipment or on a plan.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Comment {
    pub id: String,
    pub uai: Option<String>,
    pub plan_id: Option<String>,
    pub body: String,
    pub author_id: Option<String>,
    pub author_label: String,
    pub created_at: OffsetDateTime,
}

/// A school's inventory: the current figures, their history, pupils and ratios.
#[derive(Debug, Clone, PartialEq)]
pub struct Inventory {
    pub uai: String,
    pub nom: String,
    pub famille: String,
    pub collectivite_siren: Option<String>,
    pub collectivite_nom: Option<String>,
    /// The inventory's version (0: nothing declared yet), to send back with a declaration.
    pub version: i64,
    pub current: Vec<Declaration>,
    pub history: Vec<Declaration>,
    /// The latest pupil counts.
    pub pupils: Option<Pupils>,
    /// Fixed + mobile + tablets + individual equipment.
    pub terminals: i64,
    /// Terminals per 100 pupils, in hundredths (1234 = 12.34), when pupils are known.
    pub terminals_per_100_pupils_x100: Option<i64>,
    /// The planned lines of the collectivités' plans for this school.
    pub planned: Vec<PlanLine>,
    pub comments: Vec<Comment>,
    /// Whether the caller may declare (the competent collectivité's representative).
    pub can_declare: bool,
    /// Whether the caller may comment.
    pub can_comment: bool,
}

/// One school in the inventory list of a perimeter.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct InventoryRow {
    pub uai: String,
    pub nom: String,
    pub famille: String,
    pub code_departement: String,
    pub collectivite_siren: Option<String>,
    pub collectivite_nom: Option<String>,
    pub terminals: i64,
    pub terminals_old: i64,
    pub interactive: i64,
    pub projectors: i64,
    pub mobile_classes: i64,
    pub wifi: Option<i64>,
    pub bandwidth: Option<i64>,
    pub ent: Option<i64>,
    pub pupils: Option<i64>,
    pub classes: Option<i64>,
    /// The last day any figure describes.
    pub as_of: Option<Date>,
}

/// Terminals and pupils summed over a group (a school, a département, an académie).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Ratio {
    /// The group's code (UAI, département, académie).
    pub code: String,
    pub nom: String,
    /// Schools with a pupil count.
    pub schools: i64,
    pub terminals: i64,
    pub pupils: i64,
}

impl Ratio {
    /// Terminals per 100 pupils in hundredths (rounded half up); `None` without pupils.
    pub fn per_100_pupils_x100(&self) -> Option<i64> {
        per_100_x100(self.terminals, self.pupils)
    }
}

/// `terminals × 100 / pupils`, in hundredths, rounded half up.
pub fn per_100_x100(terminals: i64, pupils: i64) -> Option<i64> {
    if pupils <= 0 {
        return None;
    }
    let num = i128::from(terminals) * 10_000;
    let den = i128::from(pupils);
    i64::try_from((num * 2 + den) / (den * 2)).ok()
}

/// `1234` → `12,34`.
pub fn hundredths(value: i64) -> String {
    format!("{},{:02}", value / 100, (value % 100).abs())
}

/// The level of a ratio table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatioLevel {
    Etablissement,
    Departement,
    Academie,
}

/// A collectivité's plan.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Plan {
    pub id: String,
    pub collectivite_siren: String,
    pub title: String,
    pub first_year: i64,
    pub last_year: i64,
    pub note: String,
    pub created_by: Option<String>,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A line of a plan.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PlanLine {
    pub id: String,
    pub plan_id: String,
    pub position: i64,
    pub year: i64,
    pub due_date: Date,
    pub uai: Option<String>,
    pub group_label: Option<String>,
    pub action: String,
    pub category: String,
    pub quantity: i64,
    pub budget_cents: i64,
    pub funding: String,
    pub programme: String,
    pub cofunded_cents: i64,
    pub commitment_id: Option<String>,
    pub status: String,
    pub delivered_on: Option<Date>,
}

/// A maintenance contract of a plan.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Contract {
    pub id: String,
    pub plan_id: String,
    pub position: i64,
    pub contractor: String,
    pub object: String,
    pub start_date: Date,
    pub end_date: Date,
    pub service_level: String,
    pub response_hours: Option<i64>,
    pub annual_cents: i64,
    pub commitment_id: Option<String>,
}

/// A plan line as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanLineInput {
    pub year: Option<i64>,
    pub due_date: Option<Date>,
    pub uai: Option<String>,
    pub group_label: Option<String>,
    pub action: Option<String>,
    pub category: Option<String>,
    pub quantity: Option<i64>,
    /// Euros as people type them (`12 000,50`).
    pub budget: Option<String>,
    pub funding: Option<String>,
    pub programme: Option<String>,
    pub cofunded: Option<String>,
    pub commitment_id: Option<String>,
    pub status: Option<String>,
    pub delivered_on: Option<Date>,
}

/// A maintenance contract as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContractInput {
    pub contractor: Option<String>,
    pub object: Option<String>,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub service_level: Option<String>,
    pub response_hours: Option<i64>,
    pub annual: Option<String>,
    pub commitment_id: Option<String>,
}

/// A plan as typed: written whole.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanInput {
    /// Only on creation (a plan does not change hands).
    pub collectivite_siren: Option<String>,
    pub title: Option<String>,
    pub first_year: Option<i64>,
    pub last_year: Option<i64>,
    pub note: Option<String>,
    pub lines: Vec<PlanLineInput>,
    pub contracts: Vec<ContractInput>,
}

/// A plan with its lines, contracts, totals and comments.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanView {
    pub plan: Plan,
    pub collectivite_nom: String,
    pub lines: Vec<PlanLine>,
    pub contracts: Vec<Contract>,
    pub comments: Vec<Comment>,
    /// Budget per year (cents), and the co-funded part.
    pub totals: Vec<YearTotal>,
    pub can_edit: bool,
    /// Whether the caller may comment (the writers of the collectivité's perimeter).
    pub can_comment: bool,
}

/// A year's total of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearTotal {
    pub year: i64,
    pub budget_cents: i64,
    pub cofunded_cents: i64,
}

/// What a save kept and what it refused, line by line.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved<T> {
    pub value: T,
    /// Refused lines: `lignes[3].uai` and why; the other lines were kept.
    pub rejected: Vec<crate::FieldError>,
}

/// A need of a project or an action.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Need {
    pub id: String,
    pub subject_kind: String,
    pub subject_id: String,
    pub subject_label: String,
    pub academie_code: Option<String>,
    pub target_kind: String,
    pub target_code: String,
    pub famille: Option<String>,
    pub category: String,
    pub rule: String,
    pub threshold: i64,
    pub needed_by: Option<Date>,
    pub training: String,
    pub note: String,
    pub created_by: Option<String>,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Need {
    /// `academie:14`, `national`…
    pub fn target(&self) -> String {
        if self.target_kind == "national" {
            "national".to_owned()
        } else {
            format!("{}:{}", self.target_kind, self.target_code)
        }
    }

    /// The state written in the audit trail.
    pub fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({
            "sujet": format!("{}:{}", self.subject_kind, self.subject_id), "cible": self.target(),
            "famille": self.famille, "categorie": self.category, "regle": self.rule,
            "seuil": self.threshold, "echeance": self.needed_by.map(|d| d.to_string()),
            "formation": self.training, "note": self.note,
        })
    }
}

/// A need as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NeedInput {
    /// `projet:CODE-or-ID` or `action:ID` (only on creation).
    pub subject: Option<String>,
    /// `national`, `academie:14`, `departement:35`, `collectivite:SIREN`, `etablissement:UAI`.
    pub target: Option<String>,
    /// `ecole`, `college`, `lycee`; empty: every family.
    pub famille: Option<String>,
    pub category: Option<String>,
    pub rule: Option<String>,
    pub threshold: Option<i64>,
    pub needed_by: Option<Option<Date>>,
    pub training: Option<String>,
    pub note: Option<String>,
}

/// The schools a gap analysis covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    National,
    Academie(String),
    Departement(String),
    Collectivite(String),
}

/// One need in a gap analysis.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct NeedGap {
    pub need_id: String,
    pub subject_label: String,
    pub category: String,
    pub rule: String,
    pub threshold: i64,
    pub targeted: i64,
    pub lacking_today: i64,
    pub lacking_after_plans: i64,
}

/// One collectivité in a gap analysis.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CollectiviteGap {
    pub siren: String,
    pub nom: String,
    pub schools: i64,
    pub targeted: i64,
    pub lacking_today: i64,
    pub lacking_after_plans: i64,
    pub equipped_without_project: i64,
    pub to_renew: i64,
    /// Units past the renewal age, less the planned renewals.
    pub old_units: i64,
    pub terminals: i64,
    pub pupils: i64,
    /// The budget of the planned lines due by the date, and its co-funded part.
    pub planned_budget_cents: i64,
    pub planned_cofunded_cents: i64,
}

impl CollectiviteGap {
    /// Terminals per 100 pupils, in hundredths.
    pub fn per_100_pupils_x100(&self) -> Option<i64> {
        per_100_x100(self.terminals, self.pupils)
    }
}

/// The summary of a gap analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct GapSummary {
    pub scope: Scope,
    pub scope_label: String,
    pub date: Date,
    pub needs: Vec<NeedGap>,
    pub collectivites: Vec<CollectiviteGap>,
    /// The sums over the collectivités.
    pub totals: CollectiviteGap,
}

/// One line of a gap list: a school, and for the needs' lists the unmet need.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct GapLine {
    pub uai: String,
    pub nom: String,
    pub famille: String,
    pub code_departement: String,
    pub collectivite_siren: Option<String>,
    pub collectivite_nom: Option<String>,
    pub need_id: Option<String>,
    pub need_label: Option<String>,
    pub category: Option<String>,
    /// What the need asks of this school (units, %, Mb/s), when it can be computed.
    pub required: Option<i64>,
    pub have: Option<i64>,
    pub after_plans: Option<i64>,
    /// Units (count categories) today, and planned by the date.
    pub units: Option<i64>,
    pub planned_units: Option<i64>,
    pub old_units: Option<i64>,
    pub renewals_planned: Option<i64>,
    pub pupils: Option<i64>,
}

/// One line of an import report's refusals.
pub type LineError = crate::FieldError;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    /// Lines read (without the header).
    pub lines: u64,
    /// Lines kept.
    pub accepted: u64,
    /// Schools whose figures were written.
    pub schools: u64,
    /// Refused lines: `ligne 3 : uai` and why.
    pub rejected: Vec<LineError>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_round_half_up_in_hundredths() {
        assert_eq!(per_100_x100(30, 301), Some(997));
        assert_eq!(per_100_x100(1, 3), Some(3333));
        assert_eq!(per_100_x100(2, 3), Some(6667));
        assert_eq!(per_100_x100(5, 0), None);
        assert_eq!(hundredths(997), "9,97");
    }

    #[test]
    fn bandwidth_bands_round_trip_their_floor() {
        for band in BandwidthBand::ALL {
            assert_eq!(BandwidthBand::of_mbps(band.floor_mbps()), *band);
        }
        assert_eq!(BandwidthBand::of_mbps(250), BandwidthBand::De100a1000);
    }
}
