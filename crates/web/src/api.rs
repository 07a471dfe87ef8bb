//! What every JSON endpoint shares: the query extractor with JSON errors, the list
//! envelope, the OpenAPI document, and the health endpoints.

use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use gouvernail_core::territory::model::{Page, PageRequest};
use gouvernail_core::territory::service::check_page;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::export::{ExportFormat, Tabular, file_response};
use crate::state::AppState;
use crate::territory;

/// Query-string parameters, answered with the JSON error envelope when they don't parse.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| ApiError::bad_request("query", e.body_text()))
    }
}

/// A JSON body, answered with the error envelope (naming the field when serde can) when
/// it does not parse or carries a field that is not accepted.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(e) => {
                let text = e.body_text();
                // serde names unknown or missing fields between backquotes.
                let field = text
                    .split('`')
                    .nth(1)
                    .filter(|f| !f.is_empty() && f.len() < 64)
                    .unwrap_or("corps")
                    .to_owned();
                Err(ApiError(gouvernail_core::CoreError::Validation(vec![
                    gouvernail_core::FieldError::new(field, text),
                ])))
            }
        }
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListDto<T: ToSchema> {
    pub items: Vec<T>,
    /// How many items match the filters, over all pages.
    pub total: i64,
    /// This page's number, from 1.
    pub page: u32,
    pub per_page: u32,
    pub page_count: u32,
}

/// The page to read for a list request: the asked page for JSON, everything (up to the
/// export limit) for a file.
pub fn page_for(format: ExportFormat, page: Option<u32>, per_page: Option<u32>) -> ApiResult<PageRequest> {
    match format {
        ExportFormat::Json => Ok(check_page(page, per_page)?),
        ExportFormat::Csv | ExportFormat::Xlsx => Ok(PageRequest::export()),
    }
}

/// Slices an in-memory list into a page (for the short lists: régions, académies…).
pub fn paginate<T>(all: Vec<T>, page: PageRequest) -> Page<T> {
    let total = i64::try_from(all.len()).unwrap_or(i64::MAX);
    let start = usize::try_from(page.page.saturating_sub(1))
        .unwrap_or(usize::MAX)
        .saturating_mul(usize::try_from(page.per_page).unwrap_or(usize::MAX));
    let items = all
        .into_iter()
        .skip(start)
        .take(usize::try_from(page.per_page).unwrap_or(usize::MAX))
        .collect();
    Page {
        items,
        total,
        page: page.page,
        per_page: page.per_page,
    }
}

/// Answers a page as JSON, or all of it as a CSV/XLSX file named `stem`.
pub fn respond_list<T: Serialize + ToSchema + Tabular>(
    format: ExportFormat,
    stem: &str,
    page: Page<T>,
) -> ApiResult<Response> {
    let total = page.total;
    let mut response = match format {
        ExportFormat::Json => {
            let page_count = page.page_count();
            Json(ListDto {
                items: page.items,
                total: page.total,
                page: page.page,
                per_page: page.per_page,
                page_count,
            })
            .into_response()
        }
        ExportFormat::Csv | ExportFormat::Xlsx => file_response(format, stem, &page.items)?,
    };
    if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
        response.headers_mut().insert("x-total-count", v);
    }
    Ok(response)
}

/// Maps a core page into a page of DTOs.
pub fn map_page<A, B>(page: Page<A>, f: impl FnMut(A) -> B) -> Page<B> {
    Page {
        items: page.items.into_iter().map(f).collect(),
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gouvernail — API",
        version = "1",
        description = "API JSON de Gouvernail, plateforme de pilotage de la stratégie numérique pour l'éducation. \
            Le référentiel territorial (régions académiques, académies, départements, communes, collectivités, \
            établissements) est public. Les listes sont paginées (`page`, `perPage`) et répondent aussi en \
            `?format=csv` (séparateur `;`, UTF-8 avec BOM) et `?format=xlsx` avec les mêmes filtres. \
            Toute erreur suit la même enveloppe `{\"error\": {\"code\", \"message\", \"fields\"}}`.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2")
    ),
    tags(
        (name = "territoire", description = "Le référentiel : régions, académies, départements, communes, collectivités, établissements."),
        (name = "strategie", description = "La stratégie nationale : axes, objectifs et projets nationaux."),
        (name = "gouvernance", description = "Instances de gouvernance, membres, réunions (ordre du jour, invitations ICS, présences, comptes rendus) et décisions suivies."),
        (name = "indicateurs", description = "Dictionnaire des indicateurs, cibles, valeurs (saisie, validation, verrouillage, réouverture), consolidation du territoire avec complétude et détail, imports CSV/XLSX, campagnes de remontée."),
        (name = "donnees-ouvertes", description = "Indicateurs publics en CSV et JSON avec leur schéma TableSchema, sans authentification."),
        (name = "equipement", description = "Inventaires des établissements (déclarations, imports détaillés, effectifs, taux d'équipement), plans d'acquisition et de maintenance des collectivités, besoins des projets et actions, analyse des écarts."),
        (name = "conventions", description = "Conventions et engagements réciproques : parties, engagements et leur suivi, annexe financière, avenants et versions, vues croisées par organisation, PDF."),
        (name = "identite", description = "Comptes, rôles sur un périmètre, jetons d'API et journal d'audit."),
        (name = "exploitation", description = "Santé du service.")
    ),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

/// Status of the process or its database.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthDto {
    /// `ok` or `unavailable`.
    pub status: String,
    /// The database engine, for `/readyz`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
}

/// Says that the process is up.
#[utoipa::path(get, path = "/healthz", tag = "exploitation",
    responses((status = 200, description = "Le processus répond.", body = HealthDto)))]
pub async fn healthz() -> Json<HealthDto> {
    Json(HealthDto {
        status: "ok".into(),
        database: None,
    })
}

/// Says that the database answers.
#[utoipa::path(get, path = "/readyz", tag = "exploitation",
    responses(
        (status = 200, description = "La base de données répond.", body = HealthDto),
        (status = 503, description = "La base de données ne répond pas.", body = HealthDto)
    ))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let database = Some(state.db.backend().name().to_owned());
    match state.db.ping().await {
        Ok(()) => Json(HealthDto {
            status: "ok".into(),
            database,
        })
        .into_response(),
        Err(e) => {
            tracing::error!("readiness check failed: {e}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(HealthDto {
                    status: "unavailable".into(),
                    database,
                }),
            )
                .into_response()
        }
    }
}

/// The API routes and the OpenAPI document that describes them (built together, so they
/// cannot disagree).
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(territory::api::list_regions))
        .routes(routes!(territory::api::list_regions_academiques))
        .routes(routes!(territory::api::list_academies))
        .routes(routes!(territory::api::get_academie))
        .routes(routes!(territory::api::list_departements))
        .routes(routes!(territory::api::get_departement))
        .routes(routes!(territory::api::list_communes))
        .routes(routes!(territory::api::get_commune))
        .routes(routes!(territory::api::list_collectivites))
        .routes(routes!(territory::api::get_collectivite))
        .routes(routes!(territory::api::list_etablissements))
        .routes(routes!(territory::api::get_etablissement))
        .routes(routes!(
            crate::strategy::api::list_strategies,
            crate::strategy::api::create_strategy
        ))
        .routes(routes!(crate::strategy::api::get_strategy))
        .routes(routes!(crate::strategy::api::publish_strategy))
        .routes(routes!(
            crate::strategy::api::list_projects,
            crate::strategy::api::create_project
        ))
        .routes(routes!(
            crate::strategy::api::get_project,
            crate::strategy::api::update_project
        ))
        .routes(routes!(crate::roadmap::api::get_roadmap))
        .routes(routes!(crate::roadmap::api::decline))
        .routes(routes!(
            crate::roadmap::api::get_declension,
            crate::roadmap::api::adapt
        ))
        .routes(routes!(crate::roadmap::api::review))
        .routes(routes!(crate::roadmap::api::national_view))
        .routes(routes!(crate::roadmap::api::invite))
        .routes(routes!(
            crate::roadmap::api::list_comments,
            crate::roadmap::api::create_comment
        ))
        .routes(routes!(crate::roadmap::api::answer_comment))
        .routes(routes!(crate::roadmap::api::validate))
        .routes(routes!(crate::roadmap::api::compare))
        .routes(routes!(crate::roadmap::actions_api::list_actions))
        .routes(routes!(crate::roadmap::actions_api::create_action))
        .routes(routes!(
            crate::roadmap::actions_api::get_action,
            crate::roadmap::actions_api::update_action,
            crate::roadmap::actions_api::delete_action
        ))
        .routes(routes!(
            crate::roadmap::actions_api::list_objectives,
            crate::roadmap::actions_api::create_objective
        ))
        .routes(routes!(crate::roadmap::actions_api::update_objective))
        .routes(routes!(crate::roadmap::actions_api::publish))
        .routes(routes!(
            crate::roadmap::actions_api::list_bilans,
            crate::roadmap::actions_api::create_bilan
        ))
        .routes(routes!(crate::roadmap::actions_api::next_period))
        .routes(routes!(
            crate::governance::api::list_bodies,
            crate::governance::api::create_body
        ))
        .routes(routes!(
            crate::governance::api::get_body,
            crate::governance::api::update_body
        ))
        .routes(routes!(crate::governance::api::composition))
        .routes(routes!(crate::governance::api::add_member))
        .routes(routes!(
            crate::governance::api::update_member,
            crate::governance::api::remove_member
        ))
        .routes(routes!(crate::governance::api::create_meeting))
        .routes(routes!(
            crate::governance::api::get_meeting,
            crate::governance::api::update_meeting
        ))
        .routes(routes!(crate::governance::api::cancel_meeting))
        .routes(routes!(crate::governance::api::send_invitations))
        .routes(routes!(crate::governance::api::set_agenda))
        .routes(routes!(crate::governance::api::record_attendance))
        .routes(routes!(
            crate::governance::api::minutes,
            crate::governance::api::save_minutes
        ))
        .routes(routes!(crate::governance::api::approve_minutes))
        .routes(routes!(crate::governance::api::correct_minutes))
        .routes(routes!(crate::governance::api::meeting_ics))
        .routes(routes!(crate::governance::api::create_decision))
        .routes(routes!(crate::governance::api::list_decisions))
        .routes(routes!(
            crate::governance::api::get_decision,
            crate::governance::api::update_decision
        ))
        .routes(routes!(
            crate::governance::api::create_feed,
            crate::governance::api::revoke_feed
        ))
        .routes(routes!(
            crate::indicator::api::list_indicators,
            crate::indicator::api::create_indicator
        ))
        .routes(routes!(
            crate::indicator::api::get_indicator,
            crate::indicator::api::update_indicator
        ))
        .routes(routes!(crate::indicator::api::set_links))
        .routes(routes!(crate::indicator::api::set_target))
        .routes(routes!(crate::indicator::api::lock_period))
        .routes(routes!(crate::indicator::api::compute))
        .routes(routes!(crate::indicator::api::consolidation))
        .routes(routes!(crate::indicator::api::series))
        .routes(routes!(
            crate::indicator::api::list_values,
            crate::indicator::api::record_value
        ))
        .routes(routes!(crate::indicator::api::import_values))
        .routes(routes!(crate::indicator::api::get_value))
        .routes(routes!(crate::indicator::api::validate_value))
        .routes(routes!(crate::indicator::api::reopen_value))
        .routes(routes!(
            crate::indicator::api::list_campaigns,
            crate::indicator::api::open_campaign
        ))
        .routes(routes!(crate::indicator::api::get_campaign))
        .routes(routes!(crate::indicator::api::remind))
        .routes(routes!(crate::indicator::api::close_campaign))
        .routes(routes!(crate::indicator::api::open_catalogue))
        .routes(routes!(crate::indicator::api::open_file))
        .routes(routes!(crate::indicator::api::open_schema))
        .routes(routes!(crate::equipment::api::list_inventories))
        .routes(routes!(
            crate::equipment::api::get_inventory,
            crate::equipment::api::declare
        ))
        .routes(routes!(crate::equipment::api::comment_school))
        .routes(routes!(crate::equipment::api::import_itemised))
        .routes(routes!(crate::equipment::api::import_pupils))
        .routes(routes!(crate::equipment::api::ratios))
        .routes(routes!(
            crate::equipment::api::list_plans,
            crate::equipment::api::create_plan
        ))
        .routes(routes!(
            crate::equipment::api::get_plan,
            crate::equipment::api::update_plan
        ))
        .routes(routes!(crate::equipment::api::comment_plan))
        .routes(routes!(
            crate::equipment::api::list_needs,
            crate::equipment::api::create_need
        ))
        .routes(routes!(
            crate::equipment::api::get_need,
            crate::equipment::api::update_need
        ))
        .routes(routes!(crate::equipment::api::gaps))
        .routes(routes!(crate::equipment::api::gap_list))
        .routes(routes!(
            crate::convention::api::list_conventions,
            crate::convention::api::create_convention
        ))
        .routes(routes!(
            crate::convention::api::get_convention,
            crate::convention::api::update_convention
        ))
        .routes(routes!(crate::convention::api::record_event))
        .routes(routes!(crate::convention::api::apply_amendment))
        .routes(routes!(crate::convention::api::versions))
        .routes(routes!(crate::convention::api::compare_versions))
        .routes(routes!(crate::convention::api::history))
        .routes(routes!(crate::convention::api::list_commitments))
        .routes(routes!(crate::convention::api::report_commitment))
        .routes(routes!(
            crate::convention::api::download_piece,
            crate::convention::api::delete_piece
        ))
        .merge(
            // Uploads may exceed the default body limit (the configured one is checked as
            // the file is read).
            OpenApiRouter::new()
                .routes(routes!(
                    crate::convention::api::list_pieces,
                    crate::convention::api::upload_piece
                ))
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::convention::api::UPLOAD_CEILING,
                )),
        )
        .routes(routes!(crate::auth::api::me))
        .routes(routes!(
            crate::auth::api::list_users,
            crate::auth::api::create_user
        ))
        .routes(routes!(crate::auth::api::get_user, crate::auth::api::update_user))
        .routes(routes!(crate::auth::api::erase_user))
        .routes(routes!(
            crate::auth::api::list_nominations,
            crate::auth::api::create_nomination
        ))
        .routes(routes!(crate::auth::api::end_nomination))
        .routes(routes!(
            crate::auth::api::list_tokens,
            crate::auth::api::create_token
        ))
        .routes(routes!(crate::auth::api::revoke_token))
        .routes(routes!(crate::auth::api::list_journal))
        .routes(routes!(crate::auth::api::object_history))
        .routes(routes!(crate::auth::api::verify_journal));
    #[cfg(feature = "pdf")]
    let router = router
        .routes(routes!(crate::roadmap::pdf::roadmap_pdf))
        .routes(routes!(crate::governance::pdf::minutes_pdf))
        .routes(routes!(crate::convention::pdf::convention_pdf))
        .routes(routes!(crate::indicator::pdf::report_pdf));
    router.split_for_parts()
}
