//! The académie's roadmap page: declined projects side by side with the national text,
//! reviews of national changes, and declension of a new project.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gouvernail_core::CoreError;
use gouvernail_core::identity::{Capability, Perimeter};
use gouvernail_core::roadmap::model::{Review, RoadmapView};
use gouvernail_core::roadmap::service;
use gouvernail_core::strategy::model::NationalProject;
use serde::Deserialize;

use crate::pages::{Crumbs, PageCtx, PageError};
use crate::state::AppState;

/// The routes of the roadmap pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/academies/{code}/feuille-de-route",
            get(roadmap_page).post(decline),
        )
        .route("/declinaisons/{id}/revue", post(review))
}

type PageResponse = Result<Response, PageError>;

#[derive(Template)]
#[template(path = "roadmap/feuille.html")]
struct RoadmapPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    nom: String,
    view: RoadmapView,
    can_write: bool,
    declinable: Vec<NationalProject>,
    message: Option<String>,
}

async fn render(
    ctx: &PageCtx,
    state: &AppState,
    code: &str,
    message: Option<String>,
    status: StatusCode,
) -> PageResponse {
    let p = ctx.require_user()?;
    let academie = gouvernail_core::territory::service::get_academie(&state.db, code)
        .await
        .map_err(|e| ctx.error(e))?
        .academie;
    let view = service::roadmap(&state.db, p, &academie.code, None)
        .await
        .map_err(|e| ctx.error(e))?;
    let can_write = p
        .can(
            &state.db,
            Capability::Write,
            &Perimeter::Academie(academie.code.clone()),
        )
        .await
        .map_err(|e| ctx.error(e))?;
    let declined: Vec<String> = view.declensions.iter().map(|d| d.project.id.clone()).collect();
    let declinable = gouvernail_core::strategy::service::list_projects(&state.db, Some(p), None, None)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .filter(|p| matches!(p.status.as_str(), "publie" | "en-cours") && !declined.contains(&p.id))
        .collect();
    let crumbs = Crumbs::new(ctx.t("roadmap-title"))
        .link(format!("/academies/{}", academie.code), academie.nom.clone());
    let html = ctx.render(&RoadmapPage {
        ctx: ctx.clone(),
        crumbs,
        nom: academie.nom,
        view,
        can_write,
        declinable,
        message,
    })?;
    Ok((status, html).into_response())
}

async fn roadmap_page(ctx: PageCtx, State(state): State<AppState>, Path(code): Path<String>) -> PageResponse {
    render(&ctx, &state, &code, None, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
struct DeclineForm {
    projet: String,
}

async fn decline(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(code): Path<String>,
    Form(form): Form<DeclineForm>,
) -> PageResponse {
    let p = ctx.require_user()?;
    match service::decline(&state.db, p, &code, &form.projet).await {
        Ok(_) => Ok(Redirect::to(&format!("/academies/{code}/feuille-de-route")).into_response()),
        Err(e @ (CoreError::Validation(_) | CoreError::Conflict(_))) => {
            render(
                &ctx,
                &state,
                &code,
                Some(e.to_string()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

#[derive(Debug, Deserialize)]
struct ReviewForm {
    version: i64,
    decision: String,
    motif: Option<String>,
    academie: String,
}

async fn review(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<ReviewForm>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let decision = if form.decision == "conserver" {
        Review::Keep(form.motif.clone().unwrap_or_default())
    } else {
        Review::Accept
    };
    match service::review(&state.db, p, &id, form.version, &decision).await {
        Ok(v) => {
            Ok(Redirect::to(&format!("/academies/{}/feuille-de-route", v.academie_code)).into_response())
        }
        Err(e @ (CoreError::Validation(_) | CoreError::Conflict(_))) => {
            render(
                &ctx,
                &state,
                &form.academie,
                Some(e.to_string()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(ctx.error(e)),
    }
}
