//! `/api/v1/conventions` and `/api/v1/engagements`: the register of conventions (with its
//! CSV and XLSX exports), one convention, its text (drafts), events, amendments, versions and
//! their comparison, history; the commitments of one organisation across its conventions,
//! the late ones, and the follow-up a party reports.
//!
//! Amounts travel as exact decimal strings (`"120000.50"`); they are read from a string
//! (`"12 000,50"`) or a JSON number, never computed in floating point here.

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use gouvernail_core::convention::attachment;
use gouvernail_core::convention::service as conv;
use gouvernail_core::convention::*;
use gouvernail_core::{CoreError, FieldError, money};
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::{IntoParams, ToSchema};

use crate::api::{ApiJson, ApiQuery};
use crate::auth::User;
use crate::auth::api::JournalDto;
use crate::error::{ApiResult, ErrorBody};
use crate::export::{Cell, ExportFormat, Tabular};
use crate::state::AppState;

fn required_version(v: Option<i64>) -> Result<i64, CoreError> {
    v.ok_or_else(|| CoreError::Validation(vec![FieldError::new("version", "la version lue est requise")]))
}

/// An amount as sent: a string (`"12 000,50"`) or a JSON number; anything else is passed on
/// as text so that the core names the field.
fn amount_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn some_text(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

// --- Inputs ---------------------------------------------------------------------------------

/// A party, as sent.
#[derive(Debug, Default, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PartieInputDto {
    /// `academie:14`, `departement:35` (DSDEN), `collectivite:SIREN`, `etablissement:UAI`,
    /// `organisation:ID`, `entreprise:SIREN`.
    pub reference: String,
    #[serde(default)]
    pub representant: String,
    #[serde(default)]
    pub qualite: String,
    /// The reference of the authorising deliberation.
    pub deliberation: Option<String>,
    pub date_deliberation: Option<Date>,
    pub date_signature: Option<Date>,
}

/// A commitment's content, as sent (its follow-up is reported separately).
#[derive(Debug, Default, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EngagementInputDto {
    /// `E2` to keep an existing commitment (and its follow-up); absent for a new one.
    pub code: Option<String>,
    /// The party that owes it (one of the parties' references).
    pub partie: String,
    /// `equipement`, `connectivite`, `maintenance`, `ent`, `formation`, `ressources`,
    /// `financement`, `donnees-personnelles`, `referent`, `autre`.
    pub categorie: String,
    pub description: String,
    pub quantite: Option<i64>,
    /// In euros: `"12 000,50"` or a number.
    #[schema(value_type = Option<String>)]
    pub montant: Option<serde_json::Value>,
    /// The due date, or the first occurrence of a recurring commitment.
    pub echeance: Option<Date>,
    /// `annuelle` or `trimestrielle`.
    pub recurrence: Option<String>,
    pub indicateur: Option<String>,
}

/// A line of the financial annex, as sent.
#[derive(Debug, Default, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LigneAnnexeInputDto {
    pub annee: i64,
    /// The funding party.
    pub partie: String,
    /// `investissement` or `fonctionnement`.
    pub nature: String,
    /// In euros: `"12 000,50"` or a number.
    #[schema(value_type = String)]
    pub montant: serde_json::Value,
    #[serde(default)]
    pub libelle: String,
}

/// A co-financing rule, as sent.
#[derive(Debug, Default, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CofinancementInputDto {
    pub financeur: String,
    /// `taux` (with `tauxMin` and `tauxMax`) or `parite` (1 € for 1 €).
    #[serde(rename = "type")]
    pub kind: String,
    /// The funder's least share of the year's total, in basis points (5000 = 50 %).
    pub taux_min: Option<i64>,
    /// Its largest share, in basis points.
    pub taux_max: Option<i64>,
    /// The most the funder gives in one year, in euros.
    #[schema(value_type = Option<String>)]
    pub plafond: Option<serde_json::Value>,
    /// Only the lines of this nature.
    pub nature: Option<String>,
}

/// The whole text of a convention: to create one, to change a draft (with `version`), or as
/// the new text of an amendment. Errors name the fields as here (`parties[1].siren`,
/// `engagements[0].partie`, `annexe[2].montant`, `dateFin`…).
#[derive(Debug, Default, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConventionInputDto {
    /// Required to change a draft.
    pub version: Option<i64>,
    /// `convention-cadre`, `bipartite`, `tripartite`, `operationnelle`, `ent`, `financement`,
    /// `partenariat-prive`, `autre`.
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub titre: String,
    #[serde(default)]
    pub objet: String,
    /// The legal references (« Vu le code de l'éducation… »).
    #[serde(default)]
    pub visas: Vec<String>,
    /// The id of the convention-cadre it sits under.
    pub convention_cadre: Option<String>,
    #[serde(default)]
    pub parties: Vec<PartieInputDto>,
    /// The places covered: `etablissement:UAI`, `commune:CODE`, `collectivite:SIREN`,
    /// `departement:CODE`, `academie:CODE`, `region-academique:CODE`.
    #[serde(default)]
    pub perimetre: Vec<String>,
    pub date_effet: Option<Date>,
    pub date_fin: Option<Date>,
    pub duree_mois: Option<i64>,
    /// `tacite`, `expresse` or `aucune` (the default).
    pub reconduction: Option<String>,
    pub preavis_mois: Option<i64>,
    /// A governance body that follows the convention.
    pub instance_suivi: Option<String>,
    #[serde(default)]
    pub engagements: Vec<EngagementInputDto>,
    #[serde(default)]
    pub annexe: Vec<LigneAnnexeInputDto>,
    #[serde(default)]
    pub cofinancements: Vec<CofinancementInputDto>,
}

impl ConventionInputDto {
    /// The core's input.
    pub fn input(&self) -> ConventionInput {
        ConventionInput {
            kind: self.kind.clone(),
            title: self.titre.clone(),
            object: self.objet.clone(),
            visas: self.visas.clone(),
            parent_id: some_text(&self.convention_cadre),
            parties: self
                .parties
                .iter()
                .map(|p| PartyInput {
                    reference: p.reference.clone(),
                    representative: p.representant.clone(),
                    capacity: p.qualite.clone(),
                    deliberation_ref: some_text(&p.deliberation),
                    deliberation_date: p.date_deliberation,
                    signature_date: p.date_signature,
                })
                .collect(),
            scope: self.perimetre.clone(),
            effective_date: self.date_effet,
            end_date: self.date_fin,
            duration_months: self.duree_mois,
            renewal: some_text(&self.reconduction).unwrap_or_else(|| Renewal::Aucune.as_str().to_owned()),
            notice_months: self.preavis_mois,
            follow_up_body_id: some_text(&self.instance_suivi),
            commitments: self
                .engagements
                .iter()
                .map(|e| CommitmentInput {
                    code: some_text(&e.code),
                    party: e.partie.clone(),
                    category: e.categorie.clone(),
                    description: e.description.clone(),
                    quantity: e.quantite,
                    amount: e
                        .montant
                        .as_ref()
                        .map(amount_text)
                        .filter(|s| !s.trim().is_empty()),
                    due_date: e.echeance,
                    recurrence: some_text(&e.recurrence),
                    indicator: some_text(&e.indicateur),
                })
                .collect(),
            annex: self
                .annexe
                .iter()
                .map(|l| AnnexLineInput {
                    year: l.annee,
                    party: l.partie.clone(),
                    nature: l.nature.clone(),
                    amount: amount_text(&l.montant),
                    label: l.libelle.clone(),
                })
                .collect(),
            cofinancing: self
                .cofinancements
                .iter()
                .map(|r| CofinancingInput {
                    funder: r.financeur.clone(),
                    kind: r.kind.clone(),
                    min_bp: r.taux_min,
                    max_bp: r.taux_max,
                    cap: r
                        .plafond
                        .as_ref()
                        .map(amount_text)
                        .filter(|s| !s.trim().is_empty()),
                    nature: some_text(&r.nature),
                })
                .collect(),
        }
    }

    /// The DTO of a core input (the current text, to be changed and sent back).
    pub fn of(input: &ConventionInput) -> Self {
        Self {
            version: None,
            kind: input.kind.clone(),
            titre: input.title.clone(),
            objet: input.object.clone(),
            visas: input.visas.clone(),
            convention_cadre: input.parent_id.clone(),
            parties: input
                .parties
                .iter()
                .map(|p| PartieInputDto {
                    reference: p.reference.clone(),
                    representant: p.representative.clone(),
                    qualite: p.capacity.clone(),
                    deliberation: p.deliberation_ref.clone(),
                    date_deliberation: p.deliberation_date,
                    date_signature: p.signature_date,
                })
                .collect(),
            perimetre: input.scope.clone(),
            date_effet: input.effective_date,
            date_fin: input.end_date,
            duree_mois: input.duration_months,
            reconduction: Some(input.renewal.clone()),
            preavis_mois: input.notice_months,
            instance_suivi: input.follow_up_body_id.clone(),
            engagements: input
                .commitments
                .iter()
                .map(|c| EngagementInputDto {
                    code: c.code.clone(),
                    partie: c.party.clone(),
                    categorie: c.category.clone(),
                    description: c.description.clone(),
                    quantite: c.quantity,
                    montant: c.amount.clone().map(serde_json::Value::String),
                    echeance: c.due_date,
                    recurrence: c.recurrence.clone(),
                    indicateur: c.indicator.clone(),
                })
                .collect(),
            annexe: input
                .annex
                .iter()
                .map(|l| LigneAnnexeInputDto {
                    annee: l.year,
                    partie: l.party.clone(),
                    nature: l.nature.clone(),
                    montant: serde_json::Value::String(l.amount.clone()),
                    libelle: l.label.clone(),
                })
                .collect(),
            cofinancements: input
                .cofinancing
                .iter()
                .map(|r| CofinancementInputDto {
                    financeur: r.funder.clone(),
                    kind: r.kind.clone(),
                    taux_min: r.min_bp,
                    taux_max: r.max_bp,
                    plafond: r.cap.clone().map(serde_json::Value::String),
                    nature: r.nature.clone(),
                })
                .collect(),
        }
    }
}

// --- Outputs --------------------------------------------------------------------------------

/// Compliance: kept over due.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConformiteDto {
    /// All commitments.
    pub total: i64,
    /// Those due by today, or already settled.
    pub dus: i64,
    pub tenus: i64,
    pub en_retard: i64,
    /// Kept × 100 / due (integer), null when none is due.
    pub pourcentage: Option<i64>,
}

impl From<Compliance> for ConformiteDto {
    fn from(c: Compliance) -> Self {
        Self {
            total: c.total,
            dus: c.due,
            tenus: c.kept,
            en_retard: c.late,
            pourcentage: c.percent(),
        }
    }
}

/// A party.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartieDto {
    pub reference: String,
    /// The name in the referential.
    pub nom: String,
    pub representant: String,
    pub qualite: String,
    pub deliberation: Option<String>,
    pub date_deliberation: Option<Date>,
    pub date_signature: Option<Date>,
    /// Compliance of its commitments.
    pub conformite: ConformiteDto,
}

/// A place covered.
#[derive(Debug, Serialize, ToSchema)]
pub struct LieuDto {
    pub reference: String,
    pub libelle: String,
}

/// A commitment with its follow-up, as it stands today.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EngagementDto {
    pub id: String,
    /// `E3`.
    pub code: String,
    pub partie: String,
    pub partie_nom: String,
    pub categorie: String,
    pub description: String,
    pub quantite: Option<i64>,
    /// Exact decimal in euros (`"120000.50"`).
    pub montant: Option<String>,
    pub echeance: Option<Date>,
    pub recurrence: Option<String>,
    pub indicateur: Option<String>,
    /// The status shown: `prevu`, `en-cours`, `tenu`, `en-retard` (computed when past due),
    /// `non-tenu`.
    pub statut: String,
    /// The status as last reported.
    pub statut_declare: String,
    pub en_retard: bool,
    /// The due date to meet next.
    pub prochaine_echeance: Option<Date>,
    /// For a recurring commitment: the last occurrence reported kept.
    pub tenu_jusqu_au: Option<Date>,
    pub preuve_note: String,
    pub preuve_lien: Option<String>,
    pub preuve_document: Option<String>,
    pub valeur_indicateur: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub rendu_compte_le: Option<time::OffsetDateTime>,
    pub version: i64,
}

impl From<CommitmentState> for EngagementDto {
    fn from(s: CommitmentState) -> Self {
        let c = s.commitment;
        Self {
            code: c.code(),
            id: c.id,
            partie: c.party_ref,
            partie_nom: s.party_name,
            categorie: c.category,
            description: c.description,
            quantite: c.quantity,
            montant: c.amount_cents.map(money::decimal),
            echeance: c.due_date,
            recurrence: c.recurrence,
            indicateur: c.indicator,
            statut: s.followed.status.as_str().to_owned(),
            statut_declare: c.status,
            en_retard: s.followed.late,
            prochaine_echeance: s.followed.next_due,
            tenu_jusqu_au: c.kept_through,
            preuve_note: c.evidence_note,
            preuve_lien: c.evidence_link,
            preuve_document: c.evidence_document,
            valeur_indicateur: c.indicator_value,
            rendu_compte_le: c.reported_at,
            version: c.version,
        }
    }
}

/// A line of the financial annex.
#[derive(Debug, Serialize, ToSchema)]
pub struct LigneAnnexeDto {
    pub annee: i64,
    pub partie: String,
    pub nature: String,
    /// Exact decimal in euros.
    pub montant: String,
    pub libelle: String,
}

/// A co-financing rule.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CofinancementDto {
    pub financeur: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Basis points (5000 = 50 %).
    pub taux_min: i64,
    pub taux_max: i64,
    pub plafond: Option<String>,
    pub nature: Option<String>,
}

/// One amount of the totals.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TotalDto {
    /// The funder (party reference), when the total is by funder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partie: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annee: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nature: Option<String>,
    /// Exact decimal in euros.
    pub montant: String,
}

/// The totals of the financial annex, exact to the cent.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TotauxDto {
    pub total: String,
    pub par_financeur: Vec<TotalDto>,
    pub par_annee: Vec<TotalDto>,
    pub par_financeur_et_annee: Vec<TotalDto>,
    pub par_nature: Vec<TotalDto>,
}

impl From<&Totals> for TotauxDto {
    fn from(t: &Totals) -> Self {
        let total = |partie: Option<&str>, annee: Option<i64>, nature: Option<&str>, cents: i64| TotalDto {
            partie: partie.map(str::to_owned),
            annee,
            nature: nature.map(str::to_owned),
            montant: money::decimal(cents),
        };
        Self {
            total: money::decimal(t.total),
            par_financeur: t
                .by_funder
                .iter()
                .map(|(p, c)| total(Some(p), None, None, *c))
                .collect(),
            par_annee: t
                .by_year
                .iter()
                .map(|(y, c)| total(None, Some(*y), None, *c))
                .collect(),
            par_financeur_et_annee: t
                .by_funder_year
                .iter()
                .map(|(p, y, c)| total(Some(p), Some(*y), None, *c))
                .collect(),
            par_nature: t
                .by_nature
                .iter()
                .map(|(n, c)| total(None, None, Some(n), *c))
                .collect(),
        }
    }
}

/// An event of the convention's life.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EvenementDto {
    /// `negociation`, `renouvellement`, `denonciation`, `resiliation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub date: Date,
    pub nouvelle_fin: Option<Date>,
    pub note: String,
}

/// An amendment.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvenantDto {
    pub numero: i64,
    pub date: Date,
    pub objet: String,
}

impl From<&Amendment> for AvenantDto {
    fn from(a: &Amendment) -> Self {
        Self {
            numero: a.number,
            date: a.signed_on,
            objet: a.object.clone(),
        }
    }
}

/// A convention (id, title), as a link.
#[derive(Debug, Serialize, ToSchema)]
pub struct LienConventionDto {
    pub id: String,
    pub titre: String,
}

/// A convention with its parties, commitments, annex and where it stands today.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConventionDto {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub titre: String,
    pub objet: String,
    pub visas: Vec<String>,
    pub convention_cadre: Option<LienConventionDto>,
    pub conventions_rattachees: Vec<LienConventionDto>,
    pub parties: Vec<PartieDto>,
    pub perimetre: Vec<LieuDto>,
    pub date_effet: Option<Date>,
    pub date_fin: Option<Date>,
    pub duree_mois: Option<i64>,
    pub reconduction: String,
    pub preavis_mois: Option<i64>,
    pub instance_suivi: Option<String>,
    /// Computed from the dates and events: `projet`, `en-negociation`, `signee`,
    /// `en-vigueur`, `echue`, `resiliee`, `renouvelee`.
    pub statut: String,
    /// The day the last party signed.
    pub signee_le: Option<Date>,
    /// First and last day in force (the end moves with renewals and terminations).
    pub debut: Option<Date>,
    pub fin: Option<Date>,
    pub renouvellements: u32,
    /// The last day to denounce the tacit renewal.
    pub echeance_preavis: Option<Date>,
    pub engagements: Vec<EngagementDto>,
    pub conformite: ConformiteDto,
    pub annexe: Vec<LigneAnnexeDto>,
    pub cofinancements: Vec<CofinancementDto>,
    pub totaux: TotauxDto,
    pub evenements: Vec<EvenementDto>,
    pub avenants: Vec<AvenantDto>,
    /// The number of the current version of the text (0 before any amendment).
    pub version_texte: i64,
    /// What the caller may do: change the text, record events and amendments, report on
    /// every commitment.
    pub peut_modifier: bool,
    /// The parties whose commitments the caller reports on.
    pub peut_rendre_compte: Vec<String>,
    /// The version to send back with a change.
    pub version: i64,
}

impl From<ConventionView> for ConventionDto {
    fn from(v: ConventionView) -> Self {
        let totaux = TotauxDto::from(&v.totals);
        let c = v.convention;
        let compliance_by_party = v.compliance_by_party;
        Self {
            id: c.id,
            kind: c.kind,
            titre: c.title,
            objet: c.object,
            visas: v.visas,
            convention_cadre: v.parent.map(|(id, titre)| LienConventionDto { id, titre }),
            conventions_rattachees: v
                .children
                .into_iter()
                .map(|(id, titre)| LienConventionDto { id, titre })
                .collect(),
            parties: v
                .parties
                .into_iter()
                .map(|p| PartieDto {
                    conformite: compliance_by_party
                        .iter()
                        .find(|x| x.party_ref == p.reference)
                        .map(|x| x.compliance)
                        .unwrap_or_default()
                        .into(),
                    reference: p.reference,
                    nom: p.name,
                    representant: p.representative,
                    qualite: p.capacity,
                    deliberation: p.deliberation_ref,
                    date_deliberation: p.deliberation_date,
                    date_signature: p.signature_date,
                })
                .collect(),
            perimetre: v
                .scope
                .into_iter()
                .map(|s| LieuDto {
                    reference: s.reference,
                    libelle: s.label,
                })
                .collect(),
            date_effet: c.effective_date,
            date_fin: c.end_date,
            duree_mois: c.duration_months,
            reconduction: c.renewal,
            preavis_mois: c.notice_months,
            instance_suivi: c.follow_up_body_id,
            statut: v.standing.status.as_str().to_owned(),
            signee_le: v.standing.signed_on,
            debut: v.standing.start,
            fin: v.standing.end,
            renouvellements: v.standing.renewals,
            echeance_preavis: v.standing.notice_deadline,
            engagements: v.commitments.into_iter().map(EngagementDto::from).collect(),
            conformite: v.compliance.into(),
            annexe: v
                .annex
                .into_iter()
                .map(|l| LigneAnnexeDto {
                    annee: l.year,
                    partie: l.party_ref,
                    nature: l.nature,
                    montant: money::decimal(l.amount_cents),
                    libelle: l.label,
                })
                .collect(),
            cofinancements: v
                .cofinancing
                .into_iter()
                .map(|r| CofinancementDto {
                    financeur: r.funder_ref,
                    kind: r.kind,
                    taux_min: r.min_bp,
                    taux_max: r.max_bp,
                    plafond: r.cap_cents.map(money::decimal),
                    nature: r.nature,
                })
                .collect(),
            totaux,
            evenements: v
                .events
                .into_iter()
                .map(|e| EvenementDto {
                    kind: e.kind,
                    date: e.event_date,
                    nouvelle_fin: e.new_end,
                    note: e.note,
                })
                .collect(),
            avenants: v.amendments.iter().map(AvenantDto::from).collect(),
            version_texte: v.current_version,
            peut_modifier: v.can_write,
            peut_rendre_compte: v.can_report,
            version: c.version,
        }
    }
}

/// A line of the register.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConventionResumeDto {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub titre: String,
    pub statut: String,
    /// The parties' names, in order.
    pub parties: Vec<String>,
    /// The parties' references, in order.
    pub references: Vec<String>,
    pub debut: Option<Date>,
    pub fin: Option<Date>,
    pub conformite: ConformiteDto,
    /// The annex's total, exact decimal in euros.
    pub montant_total: String,
    pub version: i64,
}

impl From<ConventionSummary> for ConventionResumeDto {
    fn from(s: ConventionSummary) -> Self {
        let (references, parties) = s.parties.into_iter().unzip();
        Self {
            id: s.convention.id,
            kind: s.convention.kind,
            titre: s.convention.title,
            statut: s.standing.status.as_str().to_owned(),
            parties,
            references,
            debut: s.standing.start,
            fin: s.standing.end,
            conformite: s.compliance.into(),
            montant_total: money::decimal(s.total_cents),
            version: s.convention.version,
        }
    }
}

impl Tabular for ConventionResumeDto {
    fn headers() -> &'static [&'static str] {
        &[
            "id",
            "type",
            "titre",
            "statut",
            "parties",
            "debut",
            "fin",
            "engagements",
            "dus",
            "tenus",
            "enRetard",
            "conformite",
            "montantTotal",
        ]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            self.id.as_str().into(),
            self.kind.as_str().into(),
            self.titre.as_str().into(),
            self.statut.as_str().into(),
            self.parties.join(" ; ").into(),
            self.debut.into(),
            self.fin.into(),
            self.conformite.total.into(),
            self.conformite.dus.into(),
            self.conformite.tenus.into(),
            self.conformite.en_retard.into(),
            self.conformite.pourcentage.into(),
            money::parse_euros(&self.montant_total).map_or(Cell::Empty, Cell::Money),
        ]
    }
}

/// A commitment in a cross-view, with its convention.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EngagementLigneDto {
    #[serde(flatten)]
    pub engagement: EngagementDto,
    pub convention: String,
    pub convention_titre: String,
    pub convention_statut: String,
}

impl From<CommitmentLine> for EngagementLigneDto {
    fn from(l: CommitmentLine) -> Self {
        Self {
            engagement: l.state.into(),
            convention: l.convention_id,
            convention_titre: l.convention_title,
            convention_statut: l.convention_status.as_str().to_owned(),
        }
    }
}

impl Tabular for EngagementLigneDto {
    fn headers() -> &'static [&'static str] {
        &[
            "conventionTitre",
            "conventionStatut",
            "code",
            "partie",
            "partieNom",
            "categorie",
            "description",
            "quantite",
            "montant",
            "echeance",
            "prochaineEcheance",
            "statut",
            "enRetard",
            "preuveNote",
        ]
    }
    fn cells(&self) -> Vec<Cell> {
        let e = &self.engagement;
        vec![
            self.convention_titre.as_str().into(),
            self.convention_statut.as_str().into(),
            e.code.as_str().into(),
            e.partie.as_str().into(),
            e.partie_nom.as_str().into(),
            e.categorie.as_str().into(),
            e.description.as_str().into(),
            e.quantite.into(),
            e.montant
                .as_deref()
                .and_then(money::parse_euros)
                .map_or(Cell::Empty, Cell::Money),
            e.echeance.into(),
            e.prochaine_echeance.into(),
            e.statut.as_str().into(),
            e.en_retard.into(),
            e.preuve_note.as_str().into(),
        ]
    }
}

// --- The register ---------------------------------------------------------------------------

/// Filters of the register of conventions.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ConventionsQuery {
    /// A kind (`convention-cadre`, `tripartite`…).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// A computed status (`en-vigueur`, `echue`…).
    pub statut: Option<String>,
    /// Only the conventions where this organisation is a party (`collectivite:SIREN`…).
    pub partie: Option<String>,
    /// Only those where the académie, or an organisation of its territory, is a party.
    pub academie: Option<String>,
    /// Only those with a party in this département (a DSDEN, a collectivité, a school).
    pub departement: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    /// `json` (default), `csv` (`;`, UTF-8 with BOM) or `xlsx`.
    #[param(value_type = Option<String>)]
    pub format: Option<ExportFormat>,
}

impl ConventionsQuery {
    /// The core filter (empty strings are no filter).
    pub fn filter(&self) -> ConventionFilter {
        ConventionFilter {
            party: some_text(&self.partie),
            kind: some_text(&self.kind),
            status: some_text(&self.statut),
            academie: some_text(&self.academie),
        }
    }
}

/// The register: the conventions the caller reads (those where one of the parties is in
/// their perimeter), filtered, with their status and compliance today; CSV or XLSX with
/// `format`.
#[utoipa::path(get, path = "/api/v1/conventions", tag = "conventions", params(ConventionsQuery),
    responses(
        (status = 200, description = "Les conventions.", body = crate::api::ListDto<ConventionResumeDto>),
        (status = 400, description = "Filtre mal formé (nommé).", body = ErrorBody),
        (status = 401, description = "Non authentifié.", body = ErrorBody)
    ))]
pub async fn list_conventions(
    State(state): State<AppState>,
    User(p): User,
    ApiQuery(q): ApiQuery<ConventionsQuery>,
) -> ApiResult<Response> {
    let format = q.format.unwrap_or_default();
    let page = crate::api::page_for(format, q.page, q.per_page)?;
    let mut all = conv::list_conventions(&state.db, &p, &q.filter(), conv::today()).await?;
    if let Some(code) = some_text(&q.departement) {
        all = super::pages::in_departement(&state.db, all, &code).await?;
    }
    crate::api::respond_list(
        format,
        "registre-conventions",
        crate::api::map_page(crate::api::paginate(all, page), ConventionResumeDto::from),
    )
}

/// Creates a convention (a draft until every party has signed). The caller must be one of
/// its writers: a national administrator, or the recteur, DAN or DANE of a party académie.
#[utoipa::path(post, path = "/api/v1/conventions", tag = "conventions", request_body = ConventionInputDto,
    responses(
        (status = 201, description = "La convention.", body = ConventionDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Pas rédacteur d'une académie partie.", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé : parties[1], dateFin, annexe[2].montant, engagements[0].partie…).", body = ErrorBody)
    ))]
pub async fn create_convention(
    State(state): State<AppState>,
    User(p): User,
    ApiJson(input): ApiJson<ConventionInputDto>,
) -> ApiResult<(StatusCode, Json<ConventionDto>)> {
    let view = conv::create_convention(&state.db, &p, &input.input()).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// One convention as it stands today.
#[utoipa::path(get, path = "/api/v1/conventions/{id}", tag = "conventions",
    params(("id" = String, Path, description = "Identifiant de la convention.")),
    responses(
        (status = 200, description = "La convention.", body = ConventionDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody)
    ))]
pub async fn get_convention(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
) -> ApiResult<Json<ConventionDto>> {
    Ok(Json(
        conv::get_convention(&state.db, &p, &id, conv::today())
            .await?
            .into(),
    ))
}

/// Replaces the text of a convention not every party has signed yet (`version` required);
/// 409 if someone saved it since, or once all have signed (then: an amendment).
#[utoipa::path(put, path = "/api/v1/conventions/{id}", tag = "conventions", request_body = ConventionInputDto,
    params(("id" = String, Path, description = "Identifiant de la convention.")),
    responses(
        (status = 200, description = "La convention.", body = ConventionDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Pas rédacteur de la convention.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Modifiée entre-temps, ou signée (avenant requis).", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn update_convention(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ConventionInputDto>,
) -> ApiResult<Json<ConventionDto>> {
    let version = required_version(input.version)?;
    Ok(Json(
        conv::update_convention(&state.db, &p, &id, version, &input.input())
            .await?
            .into(),
    ))
}

/// An event of the convention's life.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EvenementInputDto {
    pub version: i64,
    /// `negociation` (opens the negotiation of a draft), `renouvellement` (express renewal,
    /// with `nouvelleFin`), `denonciation` (against the tacit renewal), `resiliation` (its
    /// date is the first day without the convention).
    #[serde(rename = "type")]
    pub kind: String,
    pub date: Date,
    pub nouvelle_fin: Option<Date>,
    #[serde(default)]
    pub note: String,
}

/// Records an event: opening of the negotiation, express renewal, denunciation, termination.
/// Signatures are dates of the parties in the text.
#[utoipa::path(post, path = "/api/v1/conventions/{id}/evenements", tag = "conventions", request_body = EvenementInputDto,
    params(("id" = String, Path, description = "Identifiant de la convention.")),
    responses(
        (status = 200, description = "La convention.", body = ConventionDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Pas rédacteur de la convention.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Modifiée entre-temps, ou événement impossible dans cet état.", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn record_event(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<EvenementInputDto>,
) -> ApiResult<Json<ConventionDto>> {
    let event = EventInput {
        kind: input.kind,
        date: input.date,
        new_end: input.nouvelle_fin,
        note: input.note,
    };
    Ok(Json(
        conv::record_event(&state.db, &p, &id, input.version, &event)
            .await?
            .into(),
    ))
}

/// An amendment: its date, its object and the whole new text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AvenantInputDto {
    pub version: i64,
    pub date: Date,
    pub objet: String,
    /// The whole new text (commitments kept by their `code`).
    pub texte: ConventionInputDto,
}

/// Applies an amendment (avenant) to a signed convention: the next number, a new version of
/// the text; commitments matched by code keep their follow-up.
#[utoipa::path(post, path = "/api/v1/conventions/{id}/avenants", tag = "conventions", request_body = AvenantInputDto,
    params(("id" = String, Path, description = "Identifiant de la convention.")),
    responses(
        (status = 201, description = "La convention modifiée.", body = ConventionDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Pas rédacteur de la convention.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Modifiée entre-temps, pas signée ou résiliée.", body = ErrorBody),
        (status = 422, description = "Données invalides (avenant.objet, avenant.date, champs du texte).", body = ErrorBody)
    ))]
pub async fn apply_amendment(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AvenantInputDto>,
) -> ApiResult<(StatusCode, Json<ConventionDto>)> {
    let amendment = AmendmentInput {
        signed_on: input.date,
        object: input.objet,
        content: input.texte.input(),
    };
    let view = conv::apply_amendment(&state.db, &p, &id, input.version, &amendment).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// A version of the text.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionDto {
    /// 0: the initial text; n: after amendment n.
    pub numero: i64,
    pub avenant: Option<AvenantDto>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub le: time::OffsetDateTime,
}

/// The versions of the text.
#[utoipa::path(get, path = "/api/v1/conventions/{id}/versions", tag = "conventions",
    params(("id" = String, Path, description = "Identifiant de la convention.")),
    responses(
        (status = 200, description = "Les versions.", body = Vec<VersionDto>),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody)
    ))]
pub async fn versions(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<VersionDto>>> {
    Ok(Json(
        conv::versions(&state.db, &p, &id)
            .await?
            .into_iter()
            .map(|v| VersionDto {
                numero: v.number,
                avenant: v.amendment.as_ref().map(AvenantDto::from),
                le: v.created_at,
            })
            .collect(),
    ))
}

/// The two versions to compare.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ComparaisonQuery {
    /// The earlier version (0 = the initial text).
    pub a: i64,
    /// The later version.
    pub b: i64,
}

/// One difference between two versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangementDto {
    /// `convention`, `partie collectivite:…`, `engagement E2`, `annexe 2026 … investissement`…
    pub element: String,
    /// The field; for an element added or removed, its kind.
    pub champ: String,
    pub avant: Option<String>,
    pub apres: Option<String>,
}

impl From<Change> for ChangementDto {
    fn from(c: Change) -> Self {
        Self {
            element: c.element,
            champ: c.field,
            avant: c.before,
            apres: c.after,
        }
    }
}

/// What changed from version `a` to version `b`: exactly the fields that differ.
#[utoipa::path(get, path = "/api/v1/conventions/{id}/comparaison", tag = "conventions",
    params(("id" = String, Path, description = "Identifiant de la convention."), ComparaisonQuery),
    responses(
        (status = 200, description = "Les changements.", body = Vec<ChangementDto>),
        (status = 400, description = "Paramètre mal formé.", body = ErrorBody),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Convention ou version inconnue.", body = ErrorBody)
    ))]
pub async fn compare_versions(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ComparaisonQuery>,
) -> ApiResult<Json<Vec<ChangementDto>>> {
    Ok(Json(
        conv::compare_versions(&state.db, &p, &id, q.a, q.b)
            .await?
            .into_iter()
            .map(ChangementDto::from)
            .collect(),
    ))
}

/// Who changed what: the trail of the convention and of its commitments, the most recent
/// first.
#[utoipa::path(get, path = "/api/v1/conventions/{id}/historique", tag = "conventions",
    params(("id" = String, Path, description = "Identifiant de la convention.")),
    responses(
        (status = 200, description = "L'historique.", body = Vec<JournalDto>),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody)
    ))]
pub async fn history(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<JournalDto>>> {
    Ok(Json(
        conv::history(&state.db, &p, &id)
            .await?
            .into_iter()
            .map(JournalDto::from)
            .collect(),
    ))
}

// --- Commitments ----------------------------------------------------------------------------

/// Which commitments to list.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct EngagementsQuery {
    /// Everything this organisation has promised, in every convention the caller reads
    /// (`collectivite:223500018`), the late ones first. Without it: the late commitments.
    pub partie: Option<String>,
    /// With the late commitments: only those of this académie's conventions.
    pub academie: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    /// `json` (default), `csv` or `xlsx`.
    #[param(value_type = Option<String>)]
    pub format: Option<ExportFormat>,
}

/// The commitments of one organisation across its conventions (`partie`), or the late
/// commitments of the conventions the caller reads (for a DAN: its académie's), late first.
#[utoipa::path(get, path = "/api/v1/engagements", tag = "conventions", params(EngagementsQuery),
    responses(
        (status = 200, description = "Les engagements.", body = crate::api::ListDto<EngagementLigneDto>),
        (status = 400, description = "Paramètre mal formé (nommé).", body = ErrorBody),
        (status = 401, description = "Non authentifié.", body = ErrorBody)
    ))]
pub async fn list_commitments(
    State(state): State<AppState>,
    User(p): User,
    ApiQuery(q): ApiQuery<EngagementsQuery>,
) -> ApiResult<Response> {
    let format = q.format.unwrap_or_default();
    let page = crate::api::page_for(format, q.page, q.per_page)?;
    let today = conv::today();
    let lines = match some_text(&q.partie) {
        Some(party) => conv::commitments_of(&state.db, &p, &party, today).await?,
        None => conv::late_commitments(&state.db, &p, q.academie.as_deref(), today).await?,
    };
    crate::api::respond_list(
        format,
        "engagements",
        crate::api::map_page(crate::api::paginate(lines, page), EngagementLigneDto::from),
    )
}

/// A party's report on a commitment; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CompteRenduInputDto {
    pub version: i64,
    /// `prevu`, `en-cours`, `tenu`, `en-retard`, `non-tenu`.
    pub statut: Option<String>,
    pub note: Option<String>,
    /// A web link to the evidence; empty string: none.
    pub lien: Option<String>,
    /// The name of a document (an attachment of the convention); empty string: none.
    pub document: Option<String>,
    /// The indicator's value; empty string: none.
    pub valeur_indicateur: Option<String>,
}

fn clearable(v: &Option<String>) -> Option<Option<String>> {
    v.as_ref()
        .map(|s| Some(s.trim().to_owned()).filter(|s| !s.is_empty()))
}

impl CompteRenduInputDto {
    /// The core's report.
    pub fn report(&self) -> CommitmentReport {
        CommitmentReport {
            status: some_text(&self.statut),
            evidence_note: self.note.clone(),
            evidence_link: clearable(&self.lien),
            evidence_document: clearable(&self.document),
            indicator_value: clearable(&self.valeur_indicateur),
        }
    }
}

/// Reports on a commitment (status and evidence): the convention's writers on any, a
/// collectivité's representative on its collectivité's own; 409 on a stale version.
#[utoipa::path(patch, path = "/api/v1/engagements/{id}", tag = "conventions", request_body = CompteRenduInputDto,
    params(("id" = String, Path, description = "Identifiant de l'engagement.")),
    responses(
        (status = 200, description = "L'engagement.", body = EngagementDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Ni rédacteur de la convention ni représentant de la partie.", body = ErrorBody),
        (status = 404, description = "Inconnu (ou non visible).", body = ErrorBody),
        (status = 409, description = "Modifié entre-temps.", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn report_commitment(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CompteRenduInputDto>,
) -> ApiResult<Json<EngagementDto>> {
    Ok(Json(
        conv::report_commitment(&state.db, &p, &id, input.version, &input.report())
            .await?
            .into(),
    ))
}

// --- Attachments ----------------------------------------------------------------------------

/// The ceiling of an upload's body; the configured size limit is checked while reading.
pub const UPLOAD_CEILING: usize = 256 * 1024 * 1024;

/// An attachment of a convention.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PieceDto {
    pub id: String,
    /// The file name (made safe).
    pub nom: String,
    /// Found from the file's first bytes.
    #[serde(rename = "type")]
    pub kind: String,
    pub taille: i64,
    /// SHA-256, lowercase hexadecimal.
    pub sha256: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub ajoutee_le: time::OffsetDateTime,
    /// Where to download it.
    pub url: String,
}

impl From<attachment::Attachment> for PieceDto {
    fn from(a: attachment::Attachment) -> Self {
        Self {
            url: format!("/api/v1/conventions/{}/pieces/{}", a.convention_id, a.id),
            id: a.id,
            nom: a.name,
            kind: a.content_type,
            taille: a.size_bytes,
            sha256: a.sha256,
            ajoutee_le: a.created_at,
        }
    }
}

/// The file of a multipart form (its field `fichier`), read up to the configured limit.
pub async fn read_file(mut form: Multipart, max: usize) -> Result<(String, Vec<u8>), CoreError> {
    let bad = |message: String| CoreError::Validation(vec![FieldError::new("fichier", message)]);
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|e| bad(format!("formulaire illisible : {e}")))?
    {
        if field.name() != Some("fichier") {
            continue;
        }
        let name = field.file_name().unwrap_or("piece").to_owned();
        let mut bytes = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| bad(format!("envoi interrompu : {e}")))?
        {
            if bytes.len() + chunk.len() > max {
                return Err(bad(format!(
                    "le fichier dépasse la taille maximale ({} Mio)",
                    max / (1024 * 1024)
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok((name, bytes));
    }
    Err(bad("aucun fichier envoyé (champ « fichier »)".to_owned()))
}

/// Attaches a file (signed scan, annex) to a convention: multipart, field `fichier`; PDF,
/// PNG, JPEG, ODT, ODS, DOCX, XLSX, CSV or text, up to the configured size (20 Mio by
/// default). The convention's writers only.
#[utoipa::path(post, path = "/api/v1/conventions/{id}/pieces", tag = "conventions",
    params(("id" = String, Path, description = "Identifiant de la convention.")),
    request_body(content_type = "multipart/form-data", description = "Le fichier, dans le champ `fichier`."),
    responses(
        (status = 201, description = "La pièce jointe.", body = PieceDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Pas rédacteur de la convention.", body = ErrorBody),
        (status = 404, description = "Convention inconnue (ou non visible).", body = ErrorBody),
        (status = 422, description = "Fichier refusé (champ fichier : type, taille).", body = ErrorBody)
    ))]
pub async fn upload_piece(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<(StatusCode, Json<PieceDto>)> {
    let form = form.map_err(|e| CoreError::Validation(vec![FieldError::new("fichier", e.body_text())]))?;
    let storage = &state.config.storage;
    let (name, bytes) = read_file(form, storage.max_bytes).await?;
    let a = attachment::upload(&state.db, storage, &p, &id, &name, &bytes).await?;
    Ok((StatusCode::CREATED, Json(a.into())))
}

/// The attachments of a convention.
#[utoipa::path(get, path = "/api/v1/conventions/{id}/pieces", tag = "conventions",
    params(("id" = String, Path, description = "Identifiant de la convention.")),
    responses(
        (status = 200, description = "Les pièces jointes, les plus récentes d'abord.", body = Vec<PieceDto>),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Convention inconnue (ou non visible).", body = ErrorBody)
    ))]
pub async fn list_pieces(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<PieceDto>>> {
    Ok(Json(
        attachment::list(&state.db, &p, &id)
            .await?
            .into_iter()
            .map(PieceDto::from)
            .collect(),
    ))
}

/// `attachment; filename="…"` with an ASCII fallback and the UTF-8 name.
fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        crate::pages::url_encode(name)
    )
}

/// Downloads an attachment (as a file, never shown inline).
#[utoipa::path(get, path = "/api/v1/conventions/{id}/pieces/{piece}", tag = "conventions",
    params(("id" = String, Path, description = "Identifiant de la convention."),
        ("piece" = String, Path, description = "Identifiant de la pièce jointe.")),
    responses(
        (status = 200, description = "Le fichier."),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody)
    ))]
pub async fn download_piece(
    State(state): State<AppState>,
    User(p): User,
    Path((id, piece)): Path<(String, String)>,
) -> ApiResult<Response> {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let (a, bytes) = attachment::download(&state.db, &state.config.storage, &p, &id, &piece).await?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&a.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition(&a.name)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}

/// Removes an attachment: the convention's writers only.
#[utoipa::path(delete, path = "/api/v1/conventions/{id}/pieces/{piece}", tag = "conventions",
    params(("id" = String, Path, description = "Identifiant de la convention."),
        ("piece" = String, Path, description = "Identifiant de la pièce jointe.")),
    responses(
        (status = 204, description = "Retirée."),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Pas rédacteur de la convention.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody)
    ))]
pub async fn delete_piece(
    State(state): State<AppState>,
    User(p): User,
    Path((id, piece)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    attachment::delete(&state.db, &state.config.storage, &p, &id, &piece).await?;
    Ok(StatusCode::NO_CONTENT)
}
