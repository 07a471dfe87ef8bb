//! `/api/v1/actions`, the académie's objectives, publication and annual reviews.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gouvernail_core::roadmap::actions;
use gouvernail_core::roadmap::model::*;
use gouvernail_core::{CoreError, FieldError, money};
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::{IntoParams, ToSchema};

use crate::api::{ApiJson, ApiQuery};
use crate::auth::User;
use crate::error::{ApiResult, ErrorBody};
use crate::export::{Cell, ExportFormat, Tabular};
use crate::state::AppState;

/// A milestone of an action.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JalonDto {
    pub libelle: String,
    pub echeance: Date,
    #[serde(default)]
    pub atteint: bool,
}

/// A budget line: amounts are decimal strings in euros (`"12000.50"`), exact.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LigneBudgetDto {
    /// `etat`, `collectivite`, `ue`, `operateur` or `autre`.
    pub financeur: String,
    /// Who exactly (e.g. "Département d'Ille-et-Vilaine").
    #[serde(default)]
    pub libelle: String,
    pub annee: i64,
    /// Euros with at most two decimals, as a string.
    pub montant: String,
}

/// An element of the perimeter.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PerimetreDto {
    /// `departement` or `etablissement`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Département code or UAI.
    pub code: String,
}

/// A partner organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartenaireDto {
    pub id: String,
    pub nom: String,
}

/// An action of a roadmap.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionDto {
    pub id: String,
    pub academie: String,
    pub code: String,
    pub axe: String,
    /// The declined project's or the local objective's code.
    pub rattachement: String,
    pub rattachement_titre: String,
    pub declinaison: Option<String>,
    pub objectif: Option<String>,
    pub titre: String,
    pub description: String,
    pub pilote: Option<String>,
    pub pilote_nom: Option<String>,
    pub equipe_pilote: Option<String>,
    pub debut: Option<Date>,
    pub fin: Option<Date>,
    /// `non-commence`, `en-cours`, `termine`, `en-retard` or `abandonne`.
    pub statut: String,
    pub avancement: i64,
    /// Declared late, or past its end or a milestone without being done.
    pub en_retard: bool,
    pub risques: String,
    pub jalons: Vec<JalonDto>,
    pub budget: Vec<LigneBudgetDto>,
    /// Total of the budget lines, in euros (exact decimal string).
    pub budget_total: String,
    pub partenaires: Vec<PartenaireDto>,
    pub perimetre: Vec<PerimetreDto>,
    /// Départements the perimeter reaches.
    pub departements: Vec<String>,
    /// Codes of the actions this one depends on.
    pub dependances: Vec<String>,
    /// For optimistic concurrency.
    pub version: i64,
}

impl From<ActionView> for ActionDto {
    fn from(v: ActionView) -> Self {
        let total = money::decimal(v.budget_total());
        let a = v.action;
        Self {
            id: a.id,
            academie: v.academie_code,
            code: a.code,
            axe: v.axis,
            rattachement: v.parent_code,
            rattachement_titre: v.parent_title,
            declinaison: a.declension_id,
            objectif: a.objective_id,
            titre: a.title,
            description: a.description,
            pilote: a.pilote_user_id,
            pilote_nom: v.pilote_name,
            equipe_pilote: a.pilote_team,
            debut: a.start_date,
            fin: a.end_date,
            statut: a.status,
            avancement: a.progress,
            en_retard: v.late,
            risques: a.risks,
            jalons: v
                .milestones
                .into_iter()
                .map(|m| JalonDto {
                    libelle: m.label,
                    echeance: m.due_date,
                    atteint: m.done,
                })
                .collect(),
            budget: v
                .budget
                .into_iter()
                .map(|b| LigneBudgetDto {
                    financeur: b.funder_kind,
                    libelle: b.funder_label,
                    annee: b.year,
                    montant: money::decimal(b.amount_cents),
                })
                .collect(),
            budget_total: total,
            partenaires: v
                .partners
                .into_iter()
                .map(|p| PartenaireDto { id: p.id, nom: p.nom })
                .collect(),
            perimetre: v
                .scope
                .into_iter()
                .map(|s| PerimetreDto {
                    kind: s.kind,
                    code: s.code,
                })
                .collect(),
            departements: v.departements,
            dependances: v.depends_on,
            version: a.version,
        }
    }
}

impl Tabular for ActionDto {
    fn headers() -> &'static [&'static str] {
        &[
            "academie",
            "code",
            "axe",
            "rattachement",
            "titre",
            "piloteNom",
            "equipePilote",
            "debut",
            "fin",
            "statut",
            "avancement",
            "enRetard",
            "prochainJalon",
            "budgetTotal",
            "partenaires",
            "departements",
            "dependances",
            "risques",
        ]
    }
    fn cells(&self) -> Vec<Cell> {
        let next = self
            .jalons
            .iter()
            .filter(|j| !j.atteint)
            .min_by_key(|j| j.echeance)
            .map(|j| format!("{} ({})", j.libelle, j.echeance));
        let cents = money::parse_euros(&self.budget_total).unwrap_or_default();
        vec![
            self.academie.as_str().into(),
            self.code.as_str().into(),
            self.axe.as_str().into(),
            self.rattachement.as_str().into(),
            self.titre.as_str().into(),
            self.pilote_nom.clone().into(),
            self.equipe_pilote.clone().into(),
            self.debut.into(),
            self.fin.into(),
            self.statut.as_str().into(),
            self.avancement.into(),
            self.en_retard.into(),
            next.into(),
            Cell::Money(cents),
            self.partenaires
                .iter()
                .map(|p| p.nom.as_str())
                .collect::<Vec<_>>()
                .join(", ")
                .into(),
            self.departements.join(", ").into(),
            self.dependances.join(", ").into(),
            self.risques.as_str().into(),
        ]
    }
}

/// Filters of `/api/v1/actions`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ActionsQuery {
    /// Code of the académie (required unless `mes` or for the national level).
    pub academie: Option<String>,
    /// Words of the axis' title.
    pub axe: Option<String>,
    pub statut: Option<String>,
    /// Identifier of the pilote.
    pub pilote: Option<String>,
    /// Only the late actions.
    pub en_retard: Option<bool>,
    /// Only the actions I pilot.
    pub mes: Option<bool>,
    /// A département the perimeter reaches.
    pub departement: Option<String>,
    /// A school (UAI) the perimeter names.
    pub uai: Option<String>,
    /// Words of the code, title or description.
    pub q: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    /// `json` (default), `csv` (`;`, UTF-8 with BOM) or `xlsx`.
    #[param(value_type = Option<String>)]
    pub format: Option<ExportFormat>,
}

impl ActionsQuery {
    /// The core filter (empty strings are no filter).
    pub fn filter(&self) -> ActionFilter {
        let some = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        ActionFilter {
            academie: some(&self.academie),
            axis: some(&self.axe),
            status: some(&self.statut),
            pilote: some(&self.pilote),
            late: self.en_retard.unwrap_or(false),
            mine: self.mes.unwrap_or(false),
            departement: some(&self.departement),
            uai: some(&self.uai),
            q: some(&self.q),
        }
    }
}

/// Actions, filtered; CSV or XLSX with `format`.
#[utoipa::path(get, path = "/api/v1/actions", tag = "strategie", params(ActionsQuery),
    responses(
        (status = 200, description = "Les actions.", body = crate::api::ListDto<ActionDto>),
        (status = 400, description = "Paramètre mal formé.", body = ErrorBody),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Académie inconnue (ou non visible).", body = ErrorBody),
        (status = 422, description = "Filtre invalide, ou académie manquante hors niveau national.", body = ErrorBody)
    ))]
pub async fn list_actions(
    State(state): State<AppState>,
    User(p): User,
    ApiQuery(q): ApiQuery<ActionsQuery>,
) -> ApiResult<axum::response::Response> {
    let format = q.format.unwrap_or_default();
    let page = crate::api::page_for(format, q.page, q.per_page)?;
    let all = actions::list_actions(&state.db, &p, &q.filter()).await?;
    crate::api::respond_list(
        format,
        "actions",
        crate::api::map_page(crate::api::paginate(all, page), ActionDto::from),
    )
}

/// A new action, or a change to one. Absent fields stay as they are; lists replace the
/// whole list; an empty string clears an optional text.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ActionInputDto {
    /// Required to change an action (its current version).
    pub version: Option<i64>,
    /// The declined project (declension id or national project code)…
    pub declinaison: Option<String>,
    /// …or the académie's objective (id or code, `O1`).
    pub objectif: Option<String>,
    pub titre: Option<String>,
    pub description: Option<String>,
    /// A person's id or e-mail; empty string: none.
    pub pilote: Option<String>,
    pub equipe_pilote: Option<String>,
    pub debut: Option<Date>,
    pub fin: Option<Date>,
    pub statut: Option<String>,
    pub avancement: Option<i64>,
    pub risques: Option<String>,
    pub jalons: Option<Vec<JalonDto>>,
    pub budget: Option<Vec<LigneBudgetDto>>,
    /// Organisation ids.
    pub partenaires: Option<Vec<String>>,
    pub perimetre: Option<Vec<PerimetreDto>>,
    /// Codes of actions of the same roadmap.
    pub dependances: Option<Vec<String>>,
}

impl ActionInputDto {
    /// The core patch; amounts that do not parse are named by their line.
    pub fn patch(self) -> Result<ActionPatch, CoreError> {
        let mut errors = Vec::new();
        let budget = self.budget.map(|lines| {
            lines
                .into_iter()
                .enumerate()
                .map(|(i, b)| BudgetLine {
                    amount_cents: money::parse_euros(&b.montant).unwrap_or_else(|| {
                        errors.push(FieldError::new(
                            format!("budget[{i}].montant"),
                            format!("« {} » n'est pas un montant en euros (ex. 1234.56)", b.montant),
                        ));
                        0
                    }),
                    funder_kind: b.financeur,
                    funder_label: b.libelle,
                    year: b.annee,
                })
                .collect()
        });
        if !errors.is_empty() {
            return Err(CoreError::Validation(errors));
        }
        let parent = match (self.declinaison, self.objectif) {
            (Some(d), None) => Some(ActionParent::Declension(d)),
            (None, Some(o)) => Some(ActionParent::Objective(o)),
            (None, None) => None,
            (Some(_), Some(_)) => {
                return Err(CoreError::Validation(vec![FieldError::new(
                    "objectif",
                    "une action se rattache à une déclinaison ou à un objectif, pas aux deux",
                )]));
            }
        };
        Ok(ActionPatch {
            parent,
            title: self.titre,
            description: self.description,
            pilote_user: self.pilote.map(Some),
            pilote_team: self.equipe_pilote.map(Some),
            start_date: self.debut.map(Some),
            end_date: self.fin.map(Some),
            status: self.statut,
            progress: self.avancement,
            risks: self.risques,
            milestones: self.jalons.map(|list| {
                list.into_iter()
                    .map(|j| ActionMilestone {
                        label: j.libelle,
                        due_date: j.echeance,
                        done: j.atteint,
                    })
                    .collect()
            }),
            budget,
            partners: self.partenaires,
            scope: self.perimetre.map(|list| {
                list.into_iter()
                    .map(|s| ScopeItem {
                        kind: s.kind,
                        code: s.code,
                    })
                    .collect()
            }),
            depends_on: self.dependances,
        })
    }
}

/// Adds an action to the académie's roadmap.
#[utoipa::path(post, path = "/api/v1/feuilles-de-route/{academie}/actions", tag = "strategie",
    request_body = ActionInputDto,
    params(("academie" = String, Path, description = "Code de l'académie.")),
    responses(
        (status = 201, description = "L'action.", body = ActionDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Lecture seule sur cette académie.", body = ErrorBody),
        (status = 404, description = "Académie inconnue (ou non visible).", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn create_action(
    State(state): State<AppState>,
    User(p): User,
    Path(academie): Path<String>,
    ApiJson(body): ApiJson<ActionInputDto>,
) -> ApiResult<(StatusCode, Json<ActionDto>)> {
    let v = actions::create_action(&state.db, &p, &academie, &body.patch()?).await?;
    Ok((StatusCode::CREATED, Json(v.into())))
}

/// One action.
#[utoipa::path(get, path = "/api/v1/actions/{id}", tag = "strategie",
    params(("id" = String, Path, description = "Identifiant de l'action.")),
    responses(
        (status = 200, description = "L'action.", body = ActionDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody)
    ))]
pub async fn get_action(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
) -> ApiResult<Json<ActionDto>> {
    Ok(Json(actions::get_action(&state.db, &p, &id).await?.into()))
}

fn required_version(v: Option<i64>) -> Result<i64, CoreError> {
    v.ok_or_else(|| CoreError::Validation(vec![FieldError::new("version", "la version lue est requise")]))
}

/// Changes an action; 409 if someone saved it since `version`.
#[utoipa::path(patch, path = "/api/v1/actions/{id}", tag = "strategie", request_body = ActionInputDto,
    params(("id" = String, Path, description = "Identifiant de l'action.")),
    responses(
        (status = 200, description = "L'action.", body = ActionDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Lecture seule.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Modifiée entre-temps.", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn update_action(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ActionInputDto>,
) -> ApiResult<Json<ActionDto>> {
    let version = required_version(body.version)?;
    let patch = body.patch()?;
    Ok(Json(
        actions::update_action(&state.db, &p, &id, version, &patch)
            .await?
            .into(),
    ))
}

/// The version read, to delete.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    pub version: i64,
}

/// Deletes an action; 409 if someone saved it since `version`.
#[utoipa::path(delete, path = "/api/v1/actions/{id}", tag = "strategie",
    params(("id" = String, Path, description = "Identifiant de l'action."), VersionQuery),
    responses(
        (status = 204, description = "Supprimée."),
        (status = 400, description = "Version manquante.", body = ErrorBody),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Lecture seule.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Modifiée entre-temps.", body = ErrorBody)
    ))]
pub async fn delete_action(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<VersionQuery>,
) -> ApiResult<StatusCode> {
    actions::delete_action(&state.db, &p, &id, q.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An objective of the académie's own.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectifDto {
    pub id: String,
    pub code: String,
    pub axe: String,
    pub titre: String,
    pub description: String,
    /// The national objective it serves, if any.
    pub objectif_national: Option<String>,
    pub version: i64,
}

impl From<LocalObjective> for ObjectifDto {
    fn from(o: LocalObjective) -> Self {
        Self {
            id: o.id,
            code: o.code,
            axe: o.axis_title,
            titre: o.title,
            description: o.description,
            objectif_national: o.national_objective_id,
            version: o.version,
        }
    }
}

/// A new objective, or a change to one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectifInputDto {
    /// Required to change an objective.
    pub version: Option<i64>,
    pub axe: Option<String>,
    pub titre: Option<String>,
    pub description: Option<String>,
    /// The national objective's id or code; empty string unlinks.
    pub objectif_national: Option<String>,
}

impl From<ObjectifInputDto> for ObjectivePatch {
    fn from(b: ObjectifInputDto) -> Self {
        ObjectivePatch {
            axis_title: b.axe,
            title: b.titre,
            description: b.description,
            national_objective: b.objectif_national.map(Some),
        }
    }
}

/// The académie's own objectives.
#[utoipa::path(get, path = "/api/v1/feuilles-de-route/{academie}/objectifs", tag = "strategie",
    params(("academie" = String, Path, description = "Code de l'académie.")),
    responses(
        (status = 200, description = "Les objectifs.", body = [ObjectifDto]),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Académie inconnue (ou non visible).", body = ErrorBody)
    ))]
pub async fn list_objectives(
    State(state): State<AppState>,
    User(p): User,
    Path(academie): Path<String>,
) -> ApiResult<Json<Vec<ObjectifDto>>> {
    Ok(Json(
        actions::objectives(&state.db, &p, &academie)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Adds an objective of the académie's own.
#[utoipa::path(post, path = "/api/v1/feuilles-de-route/{academie}/objectifs", tag = "strategie",
    request_body = ObjectifInputDto,
    params(("academie" = String, Path, description = "Code de l'académie.")),
    responses(
        (status = 201, description = "L'objectif.", body = ObjectifDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Lecture seule.", body = ErrorBody),
        (status = 404, description = "Académie inconnue (ou non visible).", body = ErrorBody),
        (status = 422, description = "Données invalides.", body = ErrorBody)
    ))]
pub async fn create_objective(
    State(state): State<AppState>,
    User(p): User,
    Path(academie): Path<String>,
    ApiJson(body): ApiJson<ObjectifInputDto>,
) -> ApiResult<(StatusCode, Json<ObjectifDto>)> {
    let o = actions::create_objective(&state.db, &p, &academie, &body.into()).await?;
    Ok((StatusCode::CREATED, Json(o.into())))
}

/// Changes an objective of the académie's own; 409 if it changed since `version`.
#[utoipa::path(patch, path = "/api/v1/objectifs/{id}", tag = "strategie", request_body = ObjectifInputDto,
    params(("id" = String, Path, description = "Identifiant de l'objectif.")),
    responses(
        (status = 200, description = "L'objectif.", body = ObjectifDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Lecture seule.", body = ErrorBody),
        (status = 404, description = "Inconnu (ou non visible).", body = ErrorBody),
        (status = 409, description = "Modifié entre-temps.", body = ErrorBody),
        (status = 422, description = "Données invalides.", body = ErrorBody)
    ))]
pub async fn update_objective(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ObjectifInputDto>,
) -> ApiResult<Json<ObjectifDto>> {
    let version = required_version(body.version)?;
    Ok(Json(
        actions::update_objective(&state.db, &p, &id, version, &body.into())
            .await?
            .into(),
    ))
}

/// The roadmap's version, to publish it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicationDto {
    pub version: i64,
}

/// The roadmap after a change of state.
#[derive(Debug, Serialize, ToSchema)]
pub struct EtatFeuilleDto {
    pub statut: String,
    pub version: i64,
}

/// Publishes a roadmap validated by the recteur.
#[utoipa::path(post, path = "/api/v1/feuilles-de-route/{academie}/publication", tag = "strategie",
    request_body = PublicationDto,
    params(("academie" = String, Path, description = "Code de l'académie.")),
    responses(
        (status = 200, description = "Publiée.", body = EtatFeuilleDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Lecture seule.", body = ErrorBody),
        (status = 404, description = "Académie inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Modifiée entre-temps.", body = ErrorBody),
        (status = 422, description = "Pas validée.", body = ErrorBody)
    ))]
pub async fn publish(
    State(state): State<AppState>,
    User(p): User,
    Path(academie): Path<String>,
    ApiJson(body): ApiJson<PublicationDto>,
) -> ApiResult<Json<EtatFeuilleDto>> {
    let r = actions::publish(&state.db, &p, &academie, body.version).await?;
    Ok(Json(EtatFeuilleDto {
        statut: r.status,
        version: r.version,
    }))
}

/// An annual review.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BilanDto {
    pub annee: i64,
    pub synthese: String,
    /// Counts of actions by status when it was written (absent on input).
    #[serde(default, skip_deserializing)]
    pub chiffres: serde_json::Value,
}

impl From<Bilan> for BilanDto {
    fn from(b: Bilan) -> Self {
        Self {
            annee: b.year,
            synthese: b.summary,
            chiffres: serde_json::from_str(&b.figures).unwrap_or_default(),
        }
    }
}

/// The annual reviews of the académie's roadmap.
#[utoipa::path(get, path = "/api/v1/feuilles-de-route/{academie}/bilans", tag = "strategie",
    params(("academie" = String, Path, description = "Code de l'académie.")),
    responses(
        (status = 200, description = "Les bilans.", body = [BilanDto]),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Académie inconnue (ou non visible).", body = ErrorBody)
    ))]
pub async fn list_bilans(
    State(state): State<AppState>,
    User(p): User,
    Path(academie): Path<String>,
) -> ApiResult<Json<Vec<BilanDto>>> {
    Ok(Json(
        actions::bilans(&state.db, &p, &academie)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Writes the annual review of a published roadmap.
#[utoipa::path(post, path = "/api/v1/feuilles-de-route/{academie}/bilans", tag = "strategie",
    request_body = BilanDto,
    params(("academie" = String, Path, description = "Code de l'académie.")),
    responses(
        (status = 201, description = "Le bilan.", body = BilanDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Lecture seule.", body = ErrorBody),
        (status = 404, description = "Académie inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Bilan de l'année déjà écrit.", body = ErrorBody),
        (status = 422, description = "Feuille non publiée, année ou synthèse invalides.", body = ErrorBody)
    ))]
pub async fn create_bilan(
    State(state): State<AppState>,
    User(p): User,
    Path(academie): Path<String>,
    ApiJson(body): ApiJson<BilanDto>,
) -> ApiResult<(StatusCode, Json<BilanDto>)> {
    let b = actions::write_bilan(&state.db, &p, &academie, body.annee, &body.synthese).await?;
    Ok((StatusCode::CREATED, Json(b.into())))
}

/// The strategy of the next period.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodeSuivanteDto {
    /// Code or identifier of the published strategy of the next period.
    pub strategie: String,
}

/// Starts the roadmap of the next period from the current one (its objectives and its
/// unfinished actions carry over).
#[utoipa::path(post, path = "/api/v1/feuilles-de-route/{academie}/periode-suivante", tag = "strategie",
    request_body = PeriodeSuivanteDto,
    params(("academie" = String, Path, description = "Code de l'académie.")),
    responses(
        (status = 201, description = "La nouvelle feuille de route.", body = EtatFeuilleDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Lecture seule.", body = ErrorBody),
        (status = 404, description = "Académie inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Une feuille de route existe déjà pour cette stratégie.", body = ErrorBody),
        (status = 422, description = "Stratégie inconnue, non publiée ou déjà en cours.", body = ErrorBody)
    ))]
pub async fn next_period(
    State(state): State<AppState>,
    User(p): User,
    Path(academie): Path<String>,
    ApiJson(body): ApiJson<PeriodeSuivanteDto>,
) -> ApiResult<(StatusCode, Json<EtatFeuilleDto>)> {
    let r = actions::next_period(&state.db, &p, &academie, &body.strategie).await?;
    Ok((
        StatusCode::CREATED,
        Json(EtatFeuilleDto {
            statut: r.status,
            version: r.version,
        }),
    ))
}
