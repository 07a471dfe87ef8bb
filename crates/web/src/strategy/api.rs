//! `/api/v1/strategies` and `/api/v1/projets-nationaux`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use gouvernail_core::strategy::model::*;
use gouvernail_core::strategy::service;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::{IntoParams, ToSchema};

use crate::api::{ApiJson, ApiQuery, ListDto, map_page, page_for, paginate, respond_list};
use crate::auth::{MaybeUser, User};
use crate::error::{ApiResult, ErrorBody};
use crate::export::{Cell, ExportFormat, Tabular};
use crate::state::AppState;

/// A strategy (without its tree).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StrategieDto {
    pub id: String,
    pub code: String,
    pub titre: String,
    pub resume: String,
    pub debut: Date,
    pub fin: Option<Date>,
    /// `brouillon`, `publiee` or `archivee`.
    pub statut: String,
    pub version: i64,
}

impl From<Strategy> for StrategieDto {
    fn from(s: Strategy) -> Self {
        Self {
            id: s.id,
            code: s.code,
            titre: s.title,
            resume: s.summary,
            debut: s.period_start,
            fin: s.period_end,
            statut: s.status,
            version: s.version,
        }
    }
}

impl Tabular for StrategieDto {
    fn headers() -> &'static [&'static str] {
        &["id", "code", "titre", "debut", "fin", "statut"]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            self.id.as_str().into(),
            self.code.as_str().into(),
            self.titre.as_str().into(),
            self.debut.into(),
            self.fin.into(),
            self.statut.as_str().into(),
        ]
    }
}

/// A national project.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjetDto {
    pub id: String,
    pub objectif: String,
    pub code: String,
    pub titre: String,
    pub description: String,
    pub objectifs: String,
    pub pilote: String,
    pub publics: String,
    /// Budget envelope in euro cents (exact integer).
    pub budget_centimes: Option<i64>,
    /// Indicator codes.
    pub indicateurs: Vec<String>,
    /// `en-preparation`, `publie`, `en-cours`, `termine` or `abandonne`.
    pub statut: String,
    /// For optimistic concurrency: send it back with a change.
    pub version: i64,
}

impl From<NationalProject> for ProjetDto {
    fn from(p: NationalProject) -> Self {
        Self {
            indicateurs: p.indicators(),
            id: p.id,
            objectif: p.objective_id,
            code: p.code,
            titre: p.title,
            description: p.description,
            objectifs: p.goals,
            pilote: p.pilote_team,
            publics: p.audiences,
            budget_centimes: p.budget_cents,
            statut: p.status,
            version: p.version,
        }
    }
}

impl Tabular for ProjetDto {
    fn headers() -> &'static [&'static str] {
        &[
            "id",
            "code",
            "titre",
            "pilote",
            "budgetCentimes",
            "indicateurs",
            "statut",
        ]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            self.id.as_str().into(),
            self.code.as_str().into(),
            self.titre.as_str().into(),
            self.pilote.as_str().into(),
            self.budget_centimes.into(),
            self.indicateurs.join(" ").into(),
            self.statut.as_str().into(),
        ]
    }
}

/// A milestone.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JalonDto {
    pub libelle: String,
    pub echeance: Date,
}

/// A national project with its milestones and place in the strategy.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjetDetailDto {
    #[serde(flatten)]
    pub projet: ProjetDto,
    pub jalons: Vec<JalonDto>,
    pub code_objectif: String,
    pub titre_objectif: String,
    pub strategie: StrategieDto,
}

impl From<ProjectDetail> for ProjetDetailDto {
    fn from(d: ProjectDetail) -> Self {
        Self {
            projet: d.project.into(),
            jalons: d
                .milestones
                .into_iter()
                .map(|m| JalonDto {
                    libelle: m.label,
                    echeance: m.due,
                })
                .collect(),
            code_objectif: d.objective.code,
            titre_objectif: d.objective.title,
            strategie: d.strategy.into(),
        }
    }
}

/// An objective with its projects.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectifDto {
    pub id: String,
    pub code: String,
    pub titre: String,
    pub description: String,
    pub projets: Vec<ProjetDto>,
}

/// An axis with its objectives.
#[derive(Debug, Serialize, ToSchema)]
pub struct AxeDto {
    pub id: String,
    pub titre: String,
    pub description: String,
    pub objectifs: Vec<ObjectifDto>,
}

/// A whole strategy.
#[derive(Debug, Serialize, ToSchema)]
pub struct StrategieDetailDto {
    #[serde(flatten)]
    pub strategie: StrategieDto,
    pub axes: Vec<AxeDto>,
}

impl From<StrategyTree> for StrategieDetailDto {
    fn from(t: StrategyTree) -> Self {
        Self {
            strategie: t.strategy.into(),
            axes: t
                .axes
                .into_iter()
                .map(|a| AxeDto {
                    id: a.axis.id,
                    titre: a.axis.title,
                    description: a.axis.description,
                    objectifs: a
                        .objectives
                        .into_iter()
                        .map(|o| ObjectifDto {
                            id: o.objective.id,
                            code: o.objective.code,
                            titre: o.objective.title,
                            description: o.objective.description,
                            projets: o.projects.into_iter().map(Into::into).collect(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// A new objective.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NouvelObjectifDto {
    pub code: String,
    pub titre: String,
    #[serde(default)]
    pub description: String,
}

/// A new axis.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NouvelAxeDto {
    pub titre: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub objectifs: Vec<NouvelObjectifDto>,
}

/// A new strategy, written whole (created as a draft).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NouvelleStrategieDto {
    pub code: String,
    pub titre: String,
    #[serde(default)]
    pub resume: String,
    pub debut: Date,
    pub fin: Option<Date>,
    pub axes: Vec<NouvelAxeDto>,
}

/// Publication of a strategy.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicationDto {
    pub version: i64,
}

/// A new national project (created « en préparation »).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NouveauProjetDto {
    /// Identifier of the objective.
    pub objectif: String,
    pub code: String,
    pub titre: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub objectifs: String,
    pub pilote: String,
    #[serde(default)]
    pub publics: String,
    pub budget_centimes: Option<i64>,
    #[serde(default)]
    pub indicateurs: Vec<String>,
    #[serde(default)]
    pub jalons: Vec<JalonDto>,
}

/// A change to a national project: `version` is required, other fields optional.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProjetPatchDto {
    pub version: i64,
    pub titre: Option<String>,
    pub description: Option<String>,
    pub objectifs: Option<String>,
    pub pilote: Option<String>,
    pub publics: Option<String>,
    pub budget_centimes: Option<i64>,
    pub indicateurs: Option<Vec<String>>,
    pub statut: Option<String>,
    pub jalons: Option<Vec<JalonDto>>,
}

/// Filters of the project list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ProjetsQuery {
    /// Identifier or code of the strategy (`2023-2027`).
    pub strategie: Option<String>,
    pub statut: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    #[param(value_type = Option<String>)]
    pub format: Option<ExportFormat>,
}

/// The strategies: published ones for everyone, drafts too for the national level.
#[utoipa::path(get, path = "/api/v1/strategies", tag = "strategie", params(crate::territory::api::ListQuery),
    responses(
        (status = 200, description = "Les stratégies.", body = ListDto<StrategieDto>),
        (status = 400, description = "Paramètre invalide.", body = ErrorBody)
    ))]
pub async fn list_strategies(
    State(state): State<AppState>,
    MaybeUser(p): MaybeUser,
    ApiQuery(q): ApiQuery<crate::territory::api::ListQuery>,
) -> ApiResult<Response> {
    let format = q.format.unwrap_or_default();
    let page = page_for(format, q.page, q.per_page)?;
    let all = service::list_strategies(&state.db, p.as_ref()).await?;
    respond_list(
        format,
        "strategies",
        map_page(paginate(all, page), StrategieDto::from),
    )
}

/// One strategy with its axes, objectives and national projects.
#[utoipa::path(get, path = "/api/v1/strategies/{id}", tag = "strategie",
    params(("id" = String, Path, description = "Identifiant ou code de la stratégie (2023-2027).")),
    responses(
        (status = 200, description = "La stratégie.", body = StrategieDetailDto),
        (status = 404, description = "Stratégie inconnue (ou brouillon non visible).", body = ErrorBody)
    ))]
pub async fn get_strategy(
    State(state): State<AppState>,
    MaybeUser(p): MaybeUser,
    Path(id): Path<String>,
) -> ApiResult<Json<StrategieDetailDto>> {
    Ok(Json(
        service::get_strategy(&state.db, p.as_ref(), &id).await?.into(),
    ))
}

/// Creates a draft strategy with its axes and objectives (national level).
#[utoipa::path(post, path = "/api/v1/strategies", tag = "strategie", request_body = NouvelleStrategieDto,
    responses(
        (status = 201, description = "La stratégie créée.", body = StrategieDetailDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Réservé au niveau national.", body = ErrorBody),
        (status = 409, description = "Code déjà utilisé.", body = ErrorBody),
        (status = 422, description = "Données invalides.", body = ErrorBody)
    ))]
pub async fn create_strategy(
    State(state): State<AppState>,
    User(p): User,
    ApiJson(body): ApiJson<NouvelleStrategieDto>,
) -> ApiResult<(StatusCode, Json<StrategieDetailDto>)> {
    let new = NewStrategy {
        code: body.code,
        title: body.titre,
        summary: body.resume,
        period_start: Some(body.debut),
        period_end: body.fin,
        axes: body
            .axes
            .into_iter()
            .map(|a| NewAxis {
                title: a.titre,
                description: a.description,
                objectives: a
                    .objectifs
                    .into_iter()
                    .map(|o| NewObjective {
                        code: o.code,
                        title: o.titre,
                        description: o.description,
                    })
                    .collect(),
            })
            .collect(),
    };
    let tree = service::create_strategy(&state.db, &p, &new).await?;
    Ok((StatusCode::CREATED, Json(tree.into())))
}

/// Publishes a strategy: it becomes public.
#[utoipa::path(post, path = "/api/v1/strategies/{id}/publication", tag = "strategie", request_body = PublicationDto,
    params(("id" = String, Path, description = "Identifiant de la stratégie.")),
    responses(
        (status = 200, description = "La stratégie publiée.", body = StrategieDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Réservé au niveau national.", body = ErrorBody),
        (status = 404, description = "Stratégie inconnue.", body = ErrorBody),
        (status = 409, description = "Modifiée entre-temps.", body = ErrorBody)
    ))]
pub async fn publish_strategy(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PublicationDto>,
) -> ApiResult<Json<StrategieDto>> {
    Ok(Json(
        service::publish_strategy(&state.db, &p, &id, body.version)
            .await?
            .into(),
    ))
}

/// National projects (CSV/XLSX export).
#[utoipa::path(get, path = "/api/v1/projets-nationaux", tag = "strategie", params(ProjetsQuery),
    responses(
        (status = 200, description = "Les projets nationaux.", body = ListDto<ProjetDto>),
        (status = 400, description = "Paramètre invalide.", body = ErrorBody),
        (status = 404, description = "Stratégie inconnue.", body = ErrorBody)
    ))]
pub async fn list_projects(
    State(state): State<AppState>,
    MaybeUser(p): MaybeUser,
    ApiQuery(q): ApiQuery<ProjetsQuery>,
) -> ApiResult<Response> {
    let format = q.format.unwrap_or_default();
    let page = page_for(format, q.page, q.per_page)?;
    let all =
        service::list_projects(&state.db, p.as_ref(), q.strategie.as_deref(), q.statut.as_deref()).await?;
    respond_list(
        format,
        "projets-nationaux",
        map_page(paginate(all, page), ProjetDto::from),
    )
}

/// One national project.
#[utoipa::path(get, path = "/api/v1/projets-nationaux/{id}", tag = "strategie",
    params(("id" = String, Path, description = "Identifiant ou code du projet (PN-SNEE).")),
    responses(
        (status = 200, description = "Le projet.", body = ProjetDetailDto),
        (status = 404, description = "Projet inconnu (ou non visible).", body = ErrorBody)
    ))]
pub async fn get_project(
    State(state): State<AppState>,
    MaybeUser(p): MaybeUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ProjetDetailDto>> {
    Ok(Json(
        service::get_project(&state.db, p.as_ref(), &id).await?.into(),
    ))
}

/// Creates a national project (national level).
#[utoipa::path(post, path = "/api/v1/projets-nationaux", tag = "strategie", request_body = NouveauProjetDto,
    responses(
        (status = 201, description = "Le projet créé.", body = ProjetDetailDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Réservé au niveau national.", body = ErrorBody),
        (status = 409, description = "Code déjà utilisé.", body = ErrorBody),
        (status = 422, description = "Données invalides.", body = ErrorBody)
    ))]
pub async fn create_project(
    State(state): State<AppState>,
    User(p): User,
    ApiJson(body): ApiJson<NouveauProjetDto>,
) -> ApiResult<(StatusCode, Json<ProjetDetailDto>)> {
    let new = NewProject {
        objective_id: body.objectif,
        code: body.code,
        title: body.titre,
        description: body.description,
        goals: body.objectifs,
        pilote_team: body.pilote,
        audiences: body.publics,
        budget_cents: body.budget_centimes,
        indicator_codes: body.indicateurs,
        milestones: body.jalons.into_iter().map(|j| (j.libelle, j.echeance)).collect(),
    };
    let detail = service::create_project(&state.db, &p, &new).await?;
    Ok((StatusCode::CREATED, Json(detail.into())))
}

/// Changes a national project; 409 with the current version if it changed meanwhile.
#[utoipa::path(patch, path = "/api/v1/projets-nationaux/{id}", tag = "strategie", request_body = ProjetPatchDto,
    params(("id" = String, Path, description = "Identifiant ou code du projet.")),
    responses(
        (status = 200, description = "Le projet modifié.", body = ProjetDetailDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Réservé au niveau national.", body = ErrorBody),
        (status = 404, description = "Projet inconnu.", body = ErrorBody),
        (status = 409, description = "Modifié entre-temps.", body = ErrorBody),
        (status = 422, description = "Données invalides.", body = ErrorBody)
    ))]
pub async fn update_project(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ProjetPatchDto>,
) -> ApiResult<Json<ProjetDetailDto>> {
    let patch = ProjectPatch {
        title: body.titre,
        description: body.description,
        goals: body.objectifs,
        pilote_team: body.pilote,
        audiences: body.publics,
        budget_cents: body.budget_centimes.map(Some),
        indicator_codes: body.indicateurs,
        status: body.statut,
        milestones: body
            .jalons
            .map(|j| j.into_iter().map(|j| (j.libelle, j.echeance)).collect()),
    };
    Ok(Json(
        service::update_project(&state.db, &p, &id, body.version, &patch)
            .await?
            .into(),
    ))
}
