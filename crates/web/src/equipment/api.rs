//! `/api/v1/equipements`, `/api/v1/plans-equipement`, `/api/v1/besoins`, `/api/v1/ecarts`:
//! school inventories (declarations, itemised and pupil-count imports, ratios), the
//! collectivités' plans, the needs of projects and actions, and the gap analysis.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gouvernail_core::equipment::service as equip;
use gouvernail_core::equipment::*;
use gouvernail_core::money;
use gouvernail_core::territory::model::Page;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};

use crate::api::{ApiJson, ApiQuery};
use crate::auth::User;
use crate::error::{ApiResult, ErrorBody, FieldErrorBody};
use crate::export::{Cell, ExportFormat, Tabular};
use crate::state::AppState;

fn required_version(v: Option<i64>) -> Result<i64, gouvernail_core::CoreError> {
    v.ok_or_else(|| {
        gouvernail_core::CoreError::Validation(vec![gouvernail_core::FieldError::new(
            "version",
            "la version lue est requise",
        )])
    })
}

fn scope_of(perimetre: Option<&str>) -> Result<Scope, gouvernail_core::CoreError> {
    equip::parse_scope(perimetre.unwrap_or("national"))
}

// --- Inventory --------------------------------------------------------------------------------

/// One figure of a school's inventory.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValeurDto {
    /// `poste-fixe`, `poste-mobile`, `tablette`, `equipement-individuel`, `ecran-interactif`,
    /// `videoprojecteur`, `classe-mobile`, `wifi` (%), `debit` (Mb/s), `ent` (0/1), `maintenance`.
    pub categorie: String,
    pub quantite: Option<i64>,
    /// Of the quantity, the units older than 5 years.
    pub quantite_plus_de5_ans: Option<i64>,
    /// The bandwidth band of a `debit` figure.
    pub tranche: Option<String>,
    pub mainteneur: Option<String>,
    pub niveau_service: Option<String>,
    pub delai_heures: Option<i64>,
    /// The day the figure describes.
    pub date: Date,
    pub source: String,
    pub note: String,
    /// When it was superseded (history only).
    pub remplacee_le: Option<String>,
}

impl From<Declaration> for ValeurDto {
    fn from(d: Declaration) -> Self {
        let tranche = (d.category == Category::Debit.as_str())
            .then(|| d.quantity.map(|q| BandwidthBand::of_mbps(q).as_str().to_owned()))
            .flatten();
        Self {
            categorie: d.category,
            quantite: d.quantity,
            quantite_plus_de5_ans: d.quantity_old,
            tranche,
            mainteneur: d.maintainer,
            niveau_service: d.service_level,
            delai_heures: d.response_hours,
            date: d.as_of,
            source: d.source,
            note: d.note,
            remplacee_le: d.superseded_at.map(crate::governance::api::show_instant),
        }
    }
}

/// A comment.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommentaireDto {
    pub id: String,
    pub auteur: String,
    pub texte: String,
    pub le: String,
}

impl From<Comment> for CommentaireDto {
    fn from(c: Comment) -> Self {
        Self {
            id: c.id,
            auteur: c.author_label,
            texte: c.body,
            le: crate::governance::api::show_instant(c.created_at),
        }
    }
}

/// A school's inventory.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InventaireDto {
    pub uai: String,
    pub nom: String,
    pub famille: String,
    pub collectivite_siren: Option<String>,
    pub collectivite_nom: Option<String>,
    /// To send back with a declaration (0: nothing declared yet).
    pub version: i64,
    pub valeurs: Vec<ValeurDto>,
    pub historique: Vec<ValeurDto>,
    pub rentree: Option<i64>,
    pub classes: Option<i64>,
    pub eleves: Option<i64>,
    pub terminaux: i64,
    /// Terminals per 100 pupils (`12.34`), when both are known.
    pub terminaux_pour100_eleves: Option<String>,
    pub lignes_prevues: Vec<LigneDto>,
    pub commentaires: Vec<CommentaireDto>,
    pub peut_declarer: bool,
    pub peut_commenter: bool,
}

fn ratio_text(x100: Option<i64>) -> Option<String> {
    x100.map(|v| format!("{}.{:02}", v / 100, v % 100))
}

impl From<Inventory> for InventaireDto {
    fn from(i: Inventory) -> Self {
        Self {
            uai: i.uai,
            nom: i.nom,
            famille: i.famille,
            collectivite_siren: i.collectivite_siren,
            collectivite_nom: i.collectivite_nom,
            version: i.version,
            valeurs: i.current.into_iter().map(Into::into).collect(),
            historique: i.history.into_iter().map(Into::into).collect(),
            rentree: i.pupils.as_ref().map(|p| p.school_year),
            classes: i.pupils.as_ref().map(|p| p.classes),
            eleves: i.pupils.as_ref().map(|p| p.pupils),
            terminaux: i.terminals,
            terminaux_pour100_eleves: ratio_text(i.terminals_per_100_pupils_x100),
            lignes_prevues: i.planned.into_iter().map(Into::into).collect(),
            commentaires: i.comments.into_iter().map(Into::into).collect(),
            peut_declarer: i.can_declare,
            peut_commenter: i.can_comment,
        }
    }
}

/// One school in the inventory list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InventaireLigneDto {
    pub uai: String,
    pub nom: String,
    pub famille: String,
    pub code_departement: String,
    pub collectivite_siren: Option<String>,
    pub collectivite_nom: Option<String>,
    pub terminaux: i64,
    pub terminaux_plus_de5_ans: i64,
    pub ecrans_interactifs: i64,
    pub videoprojecteurs: i64,
    pub classes_mobiles: i64,
    pub wifi: Option<i64>,
    pub debit: Option<i64>,
    pub ent: Option<i64>,
    pub eleves: Option<i64>,
    pub classes: Option<i64>,
    pub terminaux_pour100_eleves: Option<String>,
    pub date: Option<Date>,
}

impl From<InventoryRow> for InventaireLigneDto {
    fn from(r: InventoryRow) -> Self {
        let ratio = r
            .pupils
            .filter(|_| r.terminals > 0)
            .and_then(|p| per_100_x100(r.terminals, p));
        Self {
            uai: r.uai,
            nom: r.nom,
            famille: r.famille,
            code_departement: r.code_departement,
            collectivite_siren: r.collectivite_siren,
            collectivite_nom: r.collectivite_nom,
            terminaux: r.terminals,
            terminaux_plus_de5_ans: r.terminals_old,
            ecrans_interactifs: r.interactive,
            videoprojecteurs: r.projectors,
            classes_mobiles: r.mobile_classes,
            wifi: r.wifi,
            debit: r.bandwidth,
            ent: r.ent,
            eleves: r.pupils,
            classes: r.classes,
            terminaux_pour100_eleves: ratio_text(ratio),
            date: r.as_of,
        }
    }
}

impl Tabular for InventaireLigneDto {
    fn headers() -> &'static [&'static str] {
        &[
            "uai",
            "nom",
            "famille",
            "codeDepartement",
            "collectiviteSiren",
            "collectiviteNom",
            "terminaux",
            "terminauxPlusDe5Ans",
            "ecransInteractifs",
            "videoprojecteurs",
            "classesMobiles",
            "wifi",
            "debit",
            "ent",
            "eleves",
            "classes",
            "terminauxPour100Eleves",
            "date",
        ]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            self.uai.as_str().into(),
            self.nom.as_str().into(),
            self.famille.as_str().into(),
            self.code_departement.as_str().into(),
            self.collectivite_siren.clone().into(),
            self.collectivite_nom.clone().into(),
            self.terminaux.into(),
            self.terminaux_plus_de5_ans.into(),
            self.ecrans_interactifs.into(),
            self.videoprojecteurs.into(),
            self.classes_mobiles.into(),
            self.wifi.into(),
            self.debit.into(),
            self.ent.into(),
            self.eleves.into(),
            self.classes.into(),
            self.terminaux_pour100_eleves.clone().into(),
            self.date.into(),
        ]
    }
}

/// A perimeter and a page.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct InventairesQuery {
    /// `national` (default), `academie:14`, `departement:35`, `collectivite:SIREN`.
    pub perimetre: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    /// `json` (default), `csv` or `xlsx`.
    #[param(value_type = Option<String>)]
    pub format: Option<ExportFormat>,
}

/// The schools of a perimeter with their current figures; CSV or XLSX with `format`.
#[utoipa::path(get, path = "/api/v1/equipements", tag = "equipement", params(InventairesQuery),
    responses(
        (status = 200, description = "Les établissements et leurs équipements.", body = crate::api::ListDto<InventaireLigneDto>),
        (status = 400, description = "Paramètre mal formé.", body = ErrorBody),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Périmètre inconnu (ou non visible).", body = ErrorBody)
    ))]
pub async fn list_inventories(
    State(state): State<AppState>,
    User(p): User,
    ApiQuery(q): ApiQuery<InventairesQuery>,
) -> ApiResult<Response> {
    let format = q.format.unwrap_or_default();
    let page = crate::api::page_for(format, q.page, q.per_page)?;
    let scope = scope_of(q.perimetre.as_deref())?;
    let rows = equip::list_inventory(&state.db, &p, &scope, page).await?;
    crate::api::respond_list(
        format,
        "inventaires",
        crate::api::map_page(rows, InventaireLigneDto::from),
    )
}

/// A school's inventory: current figures, history, pupils, ratio, planned lines, comments.
#[utoipa::path(get, path = "/api/v1/equipements/{uai}", tag = "equipement",
    params(("uai" = String, Path, description = "UAI de l'établissement.")),
    responses(
        (status = 200, description = "L'inventaire.", body = InventaireDto),
        (status = 400, description = "UAI mal formé.", body = ErrorBody),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Inconnu (ou non visible).", body = ErrorBody)
    ))]
pub async fn get_inventory(
    State(state): State<AppState>,
    User(p): User,
    Path(uai): Path<String>,
) -> ApiResult<Json<InventaireDto>> {
    Ok(Json(equip::inventory(&state.db, &p, &uai).await?.into()))
}

/// One figure as typed.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ValeurInputDto {
    pub categorie: String,
    /// Units; % of classrooms for `wifi`; Mb/s for `debit`; 0/1 for `ent`.
    pub quantite: Option<i64>,
    /// For `debit`: `moins-2`, `2-10`, `10-30`, `30-100`, `100-1000`, `1000-plus`.
    pub tranche: Option<String>,
    pub quantite_plus_de5_ans: Option<i64>,
    /// For `maintenance`: `collectivite`, `prestataire`, `gip`, `academie`, `etablissement`.
    pub mainteneur: Option<String>,
    pub niveau_service: Option<String>,
    pub delai_heures: Option<i64>,
    pub note: Option<String>,
}

/// A declaration of figures.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeclarationDto {
    /// The inventory's version read (0 for a school with nothing declared).
    pub version: Option<i64>,
    /// The day the figures describe (default: today; never in the future).
    pub date: Option<Date>,
    pub source: Option<String>,
    pub valeurs: Vec<ValeurInputDto>,
}

/// Declares figures of a school (its competent collectivité's representatives): each one
/// supersedes the current figure of its category, which stays in the history.
#[utoipa::path(put, path = "/api/v1/equipements/{uai}", tag = "equipement", request_body = DeclarationDto,
    params(("uai" = String, Path, description = "UAI de l'établissement.")),
    responses(
        (status = 200, description = "L'inventaire après la déclaration.", body = InventaireDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Pas la collectivité compétente.", body = ErrorBody),
        (status = 404, description = "Inconnu (ou non visible).", body = ErrorBody),
        (status = 409, description = "Version périmée.", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn declare(
    State(state): State<AppState>,
    User(p): User,
    Path(uai): Path<String>,
    ApiJson(input): ApiJson<DeclarationDto>,
) -> ApiResult<Json<InventaireDto>> {
    let version = required_version(input.version)?;
    let input = DeclarationInput {
        as_of: input.date,
        source: input.source,
        figures: input
            .valeurs
            .into_iter()
            .map(|v| FigureInput {
                category: v.categorie,
                quantity: v.quantite,
                band: v.tranche,
                quantity_old: v.quantite_plus_de5_ans,
                maintainer: v.mainteneur,
                service_level: v.niveau_service,
                response_hours: v.delai_heures,
                note: v.note,
            })
            .collect(),
    };
    Ok(Json(
        equip::declare(&state.db, &p, &uai, version, &input).await?.into(),
    ))
}

/// A comment's text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentaireInputDto {
    pub texte: String,
}

/// Comments on a school's equipment (DAN, rectorat, collectivité).
#[utoipa::path(post, path = "/api/v1/equipements/{uai}/commentaires", tag = "equipement", request_body = CommentaireInputDto,
    params(("uai" = String, Path, description = "UAI de l'établissement.")),
    responses(
        (status = 201, description = "Le commentaire.", body = CommentaireDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Lecture seule.", body = ErrorBody),
        (status = 404, description = "Inconnu (ou non visible).", body = ErrorBody),
        (status = 422, description = "Texte vide.", body = ErrorBody)
    ))]
pub async fn comment_school(
    State(state): State<AppState>,
    User(p): User,
    Path(uai): Path<String>,
    ApiJson(input): ApiJson<CommentaireInputDto>,
) -> ApiResult<(StatusCode, Json<CommentaireDto>)> {
    let c = equip::comment_school(&state.db, &p, &uai, &input.texte).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RapportImportDto {
    pub lignes: u64,
    pub acceptees: u64,
    pub etablissements: u64,
    /// Refused lines: `ligne 3 : uai` and why.
    pub refusees: Vec<FieldErrorBody>,
}

impl From<ImportReport> for RapportImportDto {
    fn from(r: ImportReport) -> Self {
        Self {
            lignes: r.lines,
            acceptees: r.accepted,
            etablissements: r.schools,
            refusees: r.rejected.iter().map(Into::into).collect(),
        }
    }
}

/// The date and source of an itemised import.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ImportQuery {
    /// The day the inventory describes (default: today).
    pub date: Option<Date>,
    pub source: Option<String>,
}

/// Imports an itemised inventory (CSV, `;` or `,`, one line per device: `uai`, `categorie`
/// or `type`, optional `quantite`, optional `date d'achat`), aggregated into counts per
/// school and category. Refused lines are named; the good ones are kept.
#[utoipa::path(post, path = "/api/v1/equipements/import", tag = "equipement", params(ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 200, description = "Le rapport d'import.", body = RapportImportDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Ni collectivité ni administration.", body = ErrorBody),
        (status = 422, description = "Fichier illisible.", body = ErrorBody)
    ))]
pub async fn import_itemised(
    State(state): State<AppState>,
    User(p): User,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: Bytes,
) -> ApiResult<Json<RapportImportDto>> {
    let report = equip::import_itemised(&state.db, &p, &body, q.date, q.source.as_deref()).await?;
    Ok(Json(report.into()))
}

/// Imports pupil and class counts in the ministry's open-data format
/// (`fr-en-ecoles-effectifs-nb_classes`: `;`, UTF-8 with BOM). Refused lines are named.
#[utoipa::path(post, path = "/api/v1/equipements/effectifs", tag = "equipement",
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 200, description = "Le rapport d'import.", body = RapportImportDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Aucun rôle d'écriture.", body = ErrorBody),
        (status = 422, description = "Fichier illisible.", body = ErrorBody)
    ))]
pub async fn import_pupils(
    State(state): State<AppState>,
    User(p): User,
    body: Bytes,
) -> ApiResult<Json<RapportImportDto>> {
    Ok(Json(equip::import_pupils(&state.db, &p, &body).await?.into()))
}

/// Terminals per 100 pupils for a group.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TauxDto {
    pub code: String,
    pub nom: String,
    pub etablissements: i64,
    pub terminaux: i64,
    pub eleves: i64,
    pub terminaux_pour100_eleves: Option<String>,
}

/// A perimeter and a level.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct TauxQuery {
    pub perimetre: Option<String>,
    /// `etablissement`, `departement` (default) or `academie`.
    pub niveau: Option<String>,
}

/// Terminals per 100 pupils per school, département or académie, over the schools where
/// both are known.
#[utoipa::path(get, path = "/api/v1/equipements/taux", tag = "equipement", params(TauxQuery),
    responses(
        (status = 200, description = "Les taux.", body = Vec<TauxDto>),
        (status = 400, description = "Paramètre mal formé.", body = ErrorBody),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Périmètre inconnu (ou non visible).", body = ErrorBody)
    ))]
pub async fn ratios(
    State(state): State<AppState>,
    User(p): User,
    ApiQuery(q): ApiQuery<TauxQuery>,
) -> ApiResult<Json<Vec<TauxDto>>> {
    let level = match q.niveau.as_deref().unwrap_or("departement") {
        "etablissement" => RatioLevel::Etablissement,
        "departement" => RatioLevel::Departement,
        "academie" => RatioLevel::Academie,
        _ => {
            return Err(gouvernail_core::CoreError::bad_request(
                "niveau",
                "etablissement, departement ou academie",
            )
            .into());
        }
    };
    let scope = scope_of(q.perimetre.as_deref())?;
    let rows = equip::ratios(&state.db, &p, &scope, level).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| TauxDto {
                terminaux_pour100_eleves: ratio_text(r.per_100_pupils_x100()),
                code: r.code,
                nom: r.nom,
                etablissements: r.schools,
                terminaux: r.terminals,
                eleves: r.pupils,
            })
            .collect(),
    ))
}

// --- Plans ------------------------------------------------------------------------------------

/// A plan line.
#[derive(Debug, Serialize, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LigneDto {
    pub annee: Option<i64>,
    /// Delivery expected by (default: 31 December of the year).
    pub echeance: Option<Date>,
    pub uai: Option<String>,
    /// A group of schools instead of one (counted in budgets, not per school).
    pub groupe: Option<String>,
    /// `acquisition`, `renouvellement`, `maintenance`.
    pub action: Option<String>,
    pub categorie: Option<String>,
    pub quantite: Option<i64>,
    /// Euros, exact (`12000.50`).
    pub budget: Option<String>,
    /// `fonds-propres`, `etat`, `ue`, `autre`.
    pub financement: Option<String>,
    pub programme: Option<String>,
    /// The co-funded part, in euros.
    pub cofinance: Option<String>,
    /// A convention commitment this line delivers.
    pub engagement: Option<String>,
    /// `prevu`, `livre`, `annule`.
    pub statut: Option<String>,
    pub livre_le: Option<Date>,
}

impl From<PlanLine> for LigneDto {
    fn from(l: PlanLine) -> Self {
        Self {
            annee: Some(l.year),
            echeance: Some(l.due_date),
            uai: l.uai,
            groupe: l.group_label,
            action: Some(l.action),
            categorie: Some(l.category),
            quantite: Some(l.quantity),
            budget: Some(money::decimal(l.budget_cents)),
            financement: Some(l.funding),
            programme: Some(l.programme),
            cofinance: Some(money::decimal(l.cofunded_cents)),
            engagement: l.commitment_id,
            statut: Some(l.status),
            livre_le: l.delivered_on,
        }
    }
}

impl LigneDto {
    fn input(self) -> PlanLineInput {
        PlanLineInput {
            year: self.annee,
            due_date: self.echeance,
            uai: self.uai,
            group_label: self.groupe,
            action: self.action,
            category: self.categorie,
            quantity: self.quantite,
            budget: self.budget,
            funding: self.financement,
            programme: self.programme,
            cofunded: self.cofinance,
            commitment_id: self.engagement,
            status: self.statut,
            delivered_on: self.livre_le,
        }
    }
}

/// A maintenance contract.
#[derive(Debug, Serialize, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContratDto {
    pub prestataire: Option<String>,
    pub objet: Option<String>,
    pub debut: Option<Date>,
    pub fin: Option<Date>,
    pub niveau_service: Option<String>,
    pub delai_heures: Option<i64>,
    /// Euros per year.
    pub montant_annuel: Option<String>,
    pub engagement: Option<String>,
}

impl From<Contract> for ContratDto {
    fn from(c: Contract) -> Self {
        Self {
            prestataire: Some(c.contractor),
            objet: Some(c.object),
            debut: Some(c.start_date),
            fin: Some(c.end_date),
            niveau_service: Some(c.service_level),
            delai_heures: c.response_hours,
            montant_annuel: Some(money::decimal(c.annual_cents)),
            engagement: c.commitment_id,
        }
    }
}

/// A year's total of a plan.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TotalDto {
    pub annee: i64,
    pub budget: String,
    pub cofinance: String,
}

/// A plan.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanDto {
    pub id: String,
    pub collectivite_siren: String,
    pub collectivite_nom: String,
    pub titre: String,
    pub premiere_annee: i64,
    pub derniere_annee: i64,
    pub note: String,
    pub version: i64,
    pub lignes: Vec<LigneDto>,
    pub contrats: Vec<ContratDto>,
    pub totaux: Vec<TotalDto>,
    pub commentaires: Vec<CommentaireDto>,
    pub peut_modifier: bool,
    /// On a save: the lines and contracts refused (`lignes[3].uai`), the others were kept.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refusees: Vec<FieldErrorBody>,
}

fn plan_dto(v: PlanView, rejected: &[gouvernail_core::FieldError]) -> PlanDto {
    PlanDto {
        id: v.plan.id,
        collectivite_siren: v.plan.collectivite_siren,
        collectivite_nom: v.collectivite_nom,
        titre: v.plan.title,
        premiere_annee: v.plan.first_year,
        derniere_annee: v.plan.last_year,
        note: v.plan.note,
        version: v.plan.version,
        lignes: v.lines.into_iter().map(Into::into).collect(),
        contrats: v.contracts.into_iter().map(Into::into).collect(),
        totaux: v
            .totals
            .into_iter()
            .map(|t| TotalDto {
                annee: t.year,
                budget: money::decimal(t.budget_cents),
                cofinance: money::decimal(t.cofunded_cents),
            })
            .collect(),
        commentaires: v.comments.into_iter().map(Into::into).collect(),
        peut_modifier: v.can_edit,
        refusees: rejected.iter().map(Into::into).collect(),
    }
}

/// A plan in lists.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanResumeDto {
    pub id: String,
    pub collectivite_siren: String,
    pub collectivite_nom: String,
    pub titre: String,
    pub premiere_annee: i64,
    pub derniere_annee: i64,
    pub version: i64,
}

/// A plan as written (whole).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlanInputDto {
    /// Required to change a plan.
    pub version: Option<i64>,
    /// SIREN of the collectivité (on creation).
    pub collectivite: Option<String>,
    pub titre: Option<String>,
    pub premiere_annee: Option<i64>,
    pub derniere_annee: Option<i64>,
    pub note: Option<String>,
    #[serde(default)]
    pub lignes: Vec<LigneDto>,
    #[serde(default)]
    pub contrats: Vec<ContratDto>,
}

impl PlanInputDto {
    fn input(self) -> PlanInput {
        PlanInput {
            collectivite_siren: self.collectivite,
            title: self.titre,
            first_year: self.premiere_annee,
            last_year: self.derniere_annee,
            note: self.note,
            lines: self.lignes.into_iter().map(LigneDto::input).collect(),
            contracts: self
                .contrats
                .into_iter()
                .map(|c| ContractInput {
                    contractor: c.prestataire,
                    object: c.objet,
                    start_date: c.debut,
                    end_date: c.fin,
                    service_level: c.niveau_service,
                    response_hours: c.delai_heures,
                    annual: c.montant_annuel,
                    commitment_id: c.engagement,
                })
                .collect(),
        }
    }
}

/// Filter of the plans.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlansQuery {
    /// SIREN of one collectivité.
    pub collectivite: Option<String>,
}

/// The plans the caller may read.
#[utoipa::path(get, path = "/api/v1/plans-equipement", tag = "equipement", params(PlansQuery),
    responses(
        (status = 200, description = "Les plans.", body = Vec<PlanResumeDto>),
        (status = 400, description = "SIREN mal formé.", body = ErrorBody),
        (status = 401, description = "Non authentifié.", body = ErrorBody)
    ))]
pub async fn list_plans(
    State(state): State<AppState>,
    User(p): User,
    ApiQuery(q): ApiQuery<PlansQuery>,
) -> ApiResult<Json<Vec<PlanResumeDto>>> {
    let plans = equip::plans(&state.db, &p, q.collectivite.as_deref()).await?;
    Ok(Json(
        plans
            .into_iter()
            .map(|(plan, nom)| PlanResumeDto {
                id: plan.id,
                collectivite_siren: plan.collectivite_siren,
                collectivite_nom: nom,
                titre: plan.title,
                premiere_annee: plan.first_year,
                derniere_annee: plan.last_year,
                version: plan.version,
            })
            .collect(),
    ))
}

/// Creates a collectivité's plan (its representatives). Bad lines are refused and named in
/// `refusees`; the others are kept.
#[utoipa::path(post, path = "/api/v1/plans-equipement", tag = "equipement", request_body = PlanInputDto,
    responses(
        (status = 201, description = "Le plan.", body = PlanDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Pas un représentant de la collectivité.", body = ErrorBody),
        (status = 404, description = "Collectivité non visible.", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn create_plan(
    State(state): State<AppState>,
    User(p): User,
    ApiJson(input): ApiJson<PlanInputDto>,
) -> ApiResult<(StatusCode, Json<PlanDto>)> {
    let saved = equip::create_plan(&state.db, &p, &input.input()).await?;
    Ok((StatusCode::CREATED, Json(plan_dto(saved.value, &saved.rejected))))
}

/// One plan with its lines, contracts, totals and comments.
#[utoipa::path(get, path = "/api/v1/plans-equipement/{id}", tag = "equipement",
    params(("id" = String, Path, description = "Identifiant du plan.")),
    responses(
        (status = 200, description = "Le plan.", body = PlanDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Inconnu (ou non visible).", body = ErrorBody)
    ))]
pub async fn get_plan(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
) -> ApiResult<Json<PlanDto>> {
    Ok(Json(plan_dto(equip::plan(&state.db, &p, &id).await?, &[])))
}

/// Rewrites a plan whole over the version read.
#[utoipa::path(put, path = "/api/v1/plans-equipement/{id}", tag = "equipement", request_body = PlanInputDto,
    params(("id" = String, Path, description = "Identifiant du plan.")),
    responses(
        (status = 200, description = "Le plan.", body = PlanDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Pas un représentant de la collectivité.", body = ErrorBody),
        (status = 404, description = "Inconnu (ou non visible).", body = ErrorBody),
        (status = 409, description = "Version périmée.", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn update_plan(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PlanInputDto>,
) -> ApiResult<Json<PlanDto>> {
    let version = required_version(input.version)?;
    let saved = equip::update_plan(&state.db, &p, &id, version, &input.input()).await?;
    Ok(Json(plan_dto(saved.value, &saved.rejected)))
}

/// Comments on a plan (its collectivité, the DAN and the rectorat).
#[utoipa::path(post, path = "/api/v1/plans-equipement/{id}/commentaires", tag = "equipement",
    request_body = CommentaireInputDto,
    params(("id" = String, Path, description = "Identifiant du plan.")),
    responses(
        (status = 201, description = "Le commentaire.", body = CommentaireDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Lecture seule.", body = ErrorBody),
        (status = 404, description = "Inconnu (ou non visible).", body = ErrorBody),
        (status = 422, description = "Texte vide.", body = ErrorBody)
    ))]
pub async fn comment_plan(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CommentaireInputDto>,
) -> ApiResult<(StatusCode, Json<CommentaireDto>)> {
    let c = equip::comment_plan(&state.db, &p, &id, &input.texte).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

// --- Needs ------------------------------------------------------------------------------------

/// A need of a project or an action.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BesoinDto {
    pub id: String,
    /// `projet:ID` or `action:ID`.
    pub sujet: String,
    pub sujet_libelle: String,
    /// `national`, `academie:14`, `departement:35`, `collectivite:SIREN`, `etablissement:UAI`.
    pub cible: String,
    pub famille: Option<String>,
    pub categorie: String,
    /// `par-etablissement`, `eleves-par-unite`, `eleves-cm-par-unite`, `par-classe`, `minimum`.
    pub regle: String,
    pub seuil: i64,
    pub echeance: Option<Date>,
    pub formation: String,
    pub note: String,
    pub version: i64,
}

impl From<Need> for BesoinDto {
    fn from(n: Need) -> Self {
        Self {
            sujet: format!("{}:{}", n.subject_kind, n.subject_id),
            cible: n.target(),
            id: n.id,
            sujet_libelle: n.subject_label,
            famille: n.famille,
            categorie: n.category,
            regle: n.rule,
            seuil: n.threshold,
            echeance: n.needed_by,
            formation: n.training,
            note: n.note,
            version: n.version,
        }
    }
}

/// A need as typed.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BesoinInputDto {
    /// Required to change a need.
    pub version: Option<i64>,
    /// `projet:CODE` or `action:ID` (on creation).
    pub sujet: Option<String>,
    pub cible: Option<String>,
    /// `ecole`, `college`, `lycee`, `erea`; empty: all.
    pub famille: Option<String>,
    /// A count category, `terminaux`, `wifi`, `debit` or `ent`.
    pub categorie: Option<String>,
    pub regle: Option<String>,
    pub seuil: Option<i64>,
    pub echeance: Option<Date>,
    pub formation: Option<String>,
    pub note: Option<String>,
}

impl BesoinInputDto {
    fn input(self) -> NeedInput {
        NeedInput {
            subject: self.sujet,
            target: self.cible,
            famille: self.famille,
            category: self.categorie,
            rule: self.regle,
            threshold: self.seuil,
            needed_by: self.echeance.map(Some),
            training: self.formation,
            note: self.note,
        }
    }
}

/// The needs the caller may read.
#[utoipa::path(get, path = "/api/v1/besoins", tag = "equipement",
    responses(
        (status = 200, description = "Les besoins.", body = Vec<BesoinDto>),
        (status = 401, description = "Non authentifié.", body = ErrorBody)
    ))]
pub async fn list_needs(State(state): State<AppState>, User(p): User) -> ApiResult<Json<Vec<BesoinDto>>> {
    Ok(Json(
        equip::needs(&state.db, &p)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Declares what a national project or a roadmap action needs in the schools it targets.
#[utoipa::path(post, path = "/api/v1/besoins", tag = "equipement", request_body = BesoinInputDto,
    responses(
        (status = 201, description = "Le besoin.", body = BesoinDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Pas rédacteur du projet ou de l'action.", body = ErrorBody),
        (status = 404, description = "Action non visible.", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn create_need(
    State(state): State<AppState>,
    User(p): User,
    ApiJson(input): ApiJson<BesoinInputDto>,
) -> ApiResult<(StatusCode, Json<BesoinDto>)> {
    let need = equip::create_need(&state.db, &p, &input.input()).await?;
    Ok((StatusCode::CREATED, Json(need.into())))
}

/// One need.
#[utoipa::path(get, path = "/api/v1/besoins/{id}", tag = "equipement",
    params(("id" = String, Path, description = "Identifiant du besoin.")),
    responses(
        (status = 200, description = "Le besoin.", body = BesoinDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Inconnu (ou non visible).", body = ErrorBody)
    ))]
pub async fn get_need(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
) -> ApiResult<Json<BesoinDto>> {
    Ok(Json(equip::need(&state.db, &p, &id).await?.into()))
}

/// Changes a need over the version read.
#[utoipa::path(patch, path = "/api/v1/besoins/{id}", tag = "equipement", request_body = BesoinInputDto,
    params(("id" = String, Path, description = "Identifiant du besoin.")),
    responses(
        (status = 200, description = "Le besoin.", body = BesoinDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Pas rédacteur.", body = ErrorBody),
        (status = 404, description = "Inconnu (ou non visible).", body = ErrorBody),
        (status = 409, description = "Version périmée.", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn update_need(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<BesoinInputDto>,
) -> ApiResult<Json<BesoinDto>> {
    let version = required_version(input.version)?;
    let need = equip::update_need(&state.db, &p, &id, version, &input.input()).await?;
    Ok(Json(need.into()))
}

// --- Gap analysis -----------------------------------------------------------------------------

/// One need in a gap analysis.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EcartBesoinDto {
    pub besoin: String,
    pub libelle: String,
    pub categorie: String,
    pub regle: String,
    pub seuil: i64,
    pub cibles: i64,
    pub manquants_aujourd_hui: i64,
    pub manquants_apres_plans: i64,
}

/// One collectivité in a gap analysis.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EcartCollectiviteDto {
    pub siren: String,
    pub nom: String,
    pub etablissements: i64,
    pub cibles: i64,
    pub manquants_aujourd_hui: i64,
    pub manquants_apres_plans: i64,
    pub equipes_sans_projet: i64,
    pub a_renouveler: i64,
    pub unites_a_renouveler: i64,
    pub terminaux: i64,
    pub eleves: i64,
    pub terminaux_pour100_eleves: Option<String>,
    /// Euros, exact.
    pub budget_prevu: String,
    pub budget_cofinance: String,
}

impl From<CollectiviteGap> for EcartCollectiviteDto {
    fn from(c: CollectiviteGap) -> Self {
        Self {
            terminaux_pour100_eleves: ratio_text(c.per_100_pupils_x100()),
            siren: c.siren,
            nom: c.nom,
            etablissements: c.schools,
            cibles: c.targeted,
            manquants_aujourd_hui: c.lacking_today,
            manquants_apres_plans: c.lacking_after_plans,
            equipes_sans_projet: c.equipped_without_project,
            a_renouveler: c.to_renew,
            unites_a_renouveler: c.old_units,
            terminaux: c.terminals,
            eleves: c.pupils,
            budget_prevu: money::decimal(c.planned_budget_cents),
            budget_cofinance: money::decimal(c.planned_cofunded_cents),
        }
    }
}

impl Tabular for EcartCollectiviteDto {
    fn headers() -> &'static [&'static str] {
        &[
            "siren",
            "nom",
            "etablissements",
            "cibles",
            "manquantsAujourdHui",
            "manquantsApresPlans",
            "equipesSansProjet",
            "aRenouveler",
            "unitesARenouveler",
            "terminaux",
            "eleves",
            "terminauxPour100Eleves",
            "budgetPrevu",
            "budgetCofinance",
        ]
    }
    fn cells(&self) -> Vec<Cell> {
        let cents = |s: &str| money::parse_euros(s).map_or(Cell::Empty, Cell::Money);
        vec![
            self.siren.as_str().into(),
            self.nom.as_str().into(),
            self.etablissements.into(),
            self.cibles.into(),
            self.manquants_aujourd_hui.into(),
            self.manquants_apres_plans.into(),
            self.equipes_sans_projet.into(),
            self.a_renouveler.into(),
            self.unites_a_renouveler.into(),
            self.terminaux.into(),
            self.eleves.into(),
            self.terminaux_pour100_eleves.clone().into(),
            cents(&self.budget_prevu),
            cents(&self.budget_cofinance),
        ]
    }
}

/// The summary of a gap analysis.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EcartsDto {
    pub perimetre: String,
    pub perimetre_libelle: String,
    pub date: Date,
    pub besoins: Vec<EcartBesoinDto>,
    pub collectivites: Vec<EcartCollectiviteDto>,
    pub totaux: EcartCollectiviteDto,
}

/// A perimeter, a date, a format.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct EcartsQuery {
    /// `national` (default), `academie:14`, `departement:35`, `collectivite:SIREN`.
    pub perimetre: Option<String>,
    /// The horizon of the plans (default: 31 December, two years on).
    pub date: Option<Date>,
    /// `json` (default), `csv` or `xlsx` (the per-collectivité summary).
    #[param(value_type = Option<String>)]
    pub format: Option<ExportFormat>,
}

fn horizon(date: Option<Date>) -> Date {
    date.unwrap_or_else(|| {
        let year = OffsetDateTime::now_utc().year() + 2;
        Date::from_calendar_date(year, time::Month::December, 31).unwrap_or_else(|_| equip::today())
    })
}

/// The gap analysis of a perimeter: per need, schools targeted and lacking (today and after
/// the plans due by the date); per collectivité, the summary a DAN brings to the
/// territorial instance. `format=csv|xlsx` exports the per-collectivité summary.
#[utoipa::path(get, path = "/api/v1/ecarts", tag = "equipement", params(EcartsQuery),
    responses(
        (status = 200, description = "L'analyse des écarts.", body = EcartsDto),
        (status = 400, description = "Paramètre mal formé.", body = ErrorBody),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Périmètre inconnu (ou non visible).", body = ErrorBody)
    ))]
pub async fn gaps(
    State(state): State<AppState>,
    User(p): User,
    ApiQuery(q): ApiQuery<EcartsQuery>,
) -> ApiResult<Response> {
    let scope = scope_of(q.perimetre.as_deref())?;
    let summary = equip::gap_summary(&state.db, &p, &scope, horizon(q.date)).await?;
    let collectivites: Vec<EcartCollectiviteDto> =
        summary.collectivites.into_iter().map(Into::into).collect();
    match q.format.unwrap_or_default() {
        ExportFormat::Json => Ok(Json(EcartsDto {
            perimetre: equip::scope_perimeter(&summary.scope).to_string(),
            perimetre_libelle: summary.scope_label,
            date: summary.date,
            besoins: summary
                .needs
                .into_iter()
                .map(|n| EcartBesoinDto {
                    besoin: n.need_id,
                    libelle: n.subject_label,
                    categorie: n.category,
                    regle: n.rule,
                    seuil: n.threshold,
                    cibles: n.targeted,
                    manquants_aujourd_hui: n.lacking_today,
                    manquants_apres_plans: n.lacking_after_plans,
                })
                .collect(),
            collectivites,
            totaux: summary.totals.into(),
        })
        .into_response()),
        format => Ok(crate::export::file_response(
            format,
            "ecarts-collectivites",
            &collectivites,
        )?),
    }
}

/// One line of a gap list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EcartLigneDto {
    pub uai: String,
    pub nom: String,
    pub famille: String,
    pub code_departement: String,
    pub collectivite_siren: Option<String>,
    pub collectivite_nom: Option<String>,
    pub besoin: Option<String>,
    pub besoin_libelle: Option<String>,
    pub categorie: Option<String>,
    pub requis: Option<i64>,
    pub present: Option<i64>,
    pub apres_plans: Option<i64>,
    pub unites: Option<i64>,
    pub unites_prevues: Option<i64>,
    pub unites_plus_de5_ans: Option<i64>,
    pub renouvellements_prevus: Option<i64>,
    pub eleves: Option<i64>,
}

impl From<GapLine> for EcartLigneDto {
    fn from(l: GapLine) -> Self {
        Self {
            uai: l.uai,
            nom: l.nom,
            famille: l.famille,
            code_departement: l.code_departement,
            collectivite_siren: l.collectivite_siren,
            collectivite_nom: l.collectivite_nom,
            besoin: l.need_id,
            besoin_libelle: l.need_label,
            categorie: l.category,
            requis: l.required,
            present: l.have,
            apres_plans: l.after_plans,
            unites: l.units,
            unites_prevues: l.planned_units,
            unites_plus_de5_ans: l.old_units,
            renouvellements_prevus: l.renewals_planned,
            eleves: l.pupils,
        }
    }
}

impl Tabular for EcartLigneDto {
    fn headers() -> &'static [&'static str] {
        &[
            "uai",
            "nom",
            "famille",
            "codeDepartement",
            "collectiviteSiren",
            "collectiviteNom",
            "besoin",
            "besoinLibelle",
            "categorie",
            "requis",
            "present",
            "apresPlans",
            "unites",
            "unitesPrevues",
            "unitesPlusDe5Ans",
            "renouvellementsPrevus",
            "eleves",
        ]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            self.uai.as_str().into(),
            self.nom.as_str().into(),
            self.famille.as_str().into(),
            self.code_departement.as_str().into(),
            self.collectivite_siren.clone().into(),
            self.collectivite_nom.clone().into(),
            self.besoin.clone().into(),
            self.besoin_libelle.clone().into(),
            self.categorie.clone().into(),
            self.requis.into(),
            self.present.into(),
            self.apres_plans.into(),
            self.unites.into(),
            self.unites_prevues.into(),
            self.unites_plus_de5_ans.into(),
            self.renouvellements_prevus.into(),
            self.eleves.into(),
        ]
    }
}

/// A gap list's parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct EcartsListeQuery {
    pub perimetre: Option<String>,
    pub date: Option<Date>,
    /// `cible-sans-equipement` (default), `encore-apres-plans`, `equipe-sans-projet`,
    /// `a-renouveler`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    #[param(value_type = Option<String>)]
    pub format: Option<ExportFormat>,
}

/// A gap list, paginated (one line per school and unmet need, or per school); CSV or XLSX
/// with `format`.
#[utoipa::path(get, path = "/api/v1/ecarts/etablissements", tag = "equipement", params(EcartsListeQuery),
    responses(
        (status = 200, description = "Les lignes.", body = crate::api::ListDto<EcartLigneDto>),
        (status = 400, description = "Paramètre mal formé.", body = ErrorBody),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Périmètre inconnu (ou non visible).", body = ErrorBody),
        (status = 422, description = "Type inconnu.", body = ErrorBody)
    ))]
pub async fn gap_list(
    State(state): State<AppState>,
    User(p): User,
    ApiQuery(q): ApiQuery<EcartsListeQuery>,
) -> ApiResult<Response> {
    let format = q.format.unwrap_or_default();
    let page = crate::api::page_for(format, q.page, q.per_page)?;
    let scope = scope_of(q.perimetre.as_deref())?;
    let kind = GapKind::parse(q.kind.as_deref().unwrap_or("cible-sans-equipement"), "type")?;
    let lines: Page<GapLine> = equip::gap_list(&state.db, &p, &scope, horizon(q.date), kind, page).await?;
    crate::api::respond_list(
        format,
        &format!("ecarts-{}", kind.as_str()),
        crate::api::map_page(lines, EcartLigneDto::from),
    )
}
