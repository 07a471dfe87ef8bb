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
use gouvernail_core::roadmap::lifecycle::{self, Change, Comment, Version};
use gouvernail_core::roadmap::model::{Review, RoadmapView};
use gouvernail_core::roadmap::service;
use gouvernail_core::strategy::model::NationalProject;
use serde::Deserialize;

use crate::charts::Bucket;
use crate::charts::map::{Tile, academie_map};
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
        .route("/academies/{code}/feuille-de-route/invitations", post(invite))
        .route("/academies/{code}/feuille-de-route/commentaires", post(comment))
        .route("/commentaires/{id}/reponse", post(answer))
        .route("/projets-nationaux/{code}/declinaisons", get(national_page))
        .route("/academies/{code}/feuille-de-route/validation", post(validate))
        .route(
            "/academies/{code}/feuille-de-route/comparaison",
            get(compare_page),
        )
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
    comments: Vec<Comment>,
    versions: Vec<Version>,
    can_comment: bool,
    can_validate: bool,
    message: Option<String>,
    actions: Vec<gouvernail_core::roadmap::model::ActionView>,
    objectives: Vec<gouvernail_core::roadmap::model::LocalObjective>,
    national_objectives: Vec<gouvernail_core::strategy::model::Objective>,
    bilans: Vec<gouvernail_core::roadmap::model::Bilan>,
    parents: Vec<(String, String)>,
    timeline: Option<String>,
    this_year: i32,
    /// Whether this build renders PDF documents.
    pdf: bool,
}

pub(crate) async fn render(
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
    let (comments, versions) = if view.roadmap.is_some() {
        (
            lifecycle::comments(&state.db, p, &academie.code)
                .await
                .map_err(|e| ctx.error(e))?,
            lifecycle::versions(&state.db, p, &academie.code)
                .await
                .map_err(|e| ctx.error(e))?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let consultation = view.roadmap.as_ref().is_some_and(|r| r.status == "consultation");
    let can_validate = view.roadmap.is_some()
        && p.grants.iter().any(|g| {
            g.role == gouvernail_core::identity::Role::AdministrateurNational
                || (g.role == gouvernail_core::identity::Role::Recteur
                    && g.perimeter == Perimeter::Academie(academie.code.clone()))
        });
    let (actions, objectives, bilans, national_objectives, parents) = match &view.roadmap {
        Some(r) => {
            let filter = gouvernail_core::roadmap::model::ActionFilter {
                academie: Some(academie.code.clone()),
                ..Default::default()
            };
            let e = |e| ctx.error(e);
            (
                gouvernail_core::roadmap::actions::list_actions(&state.db, p, &filter)
                    .await
                    .map_err(e)?,
                gouvernail_core::roadmap::actions::objectives(&state.db, p, &academie.code)
                    .await
                    .map_err(e)?,
                gouvernail_core::roadmap::actions::bilans(&state.db, p, &academie.code)
                    .await
                    .map_err(e)?,
                gouvernail_core::roadmap::actions::national_objectives(&state.db, p, &r.academie_code)
                    .await
                    .map_err(e)?,
                if can_write {
                    super::action_pages::parents(state, p, &academie.code, Some(&view))
                        .await
                        .map_err(e)?
                } else {
                    Vec::new()
                },
            )
        }
        None => Default::default(),
    };
    let today = gouvernail_core::roadmap::actions::today();
    let timeline = super::action_pages::timeline(
        ctx,
        &actions,
        today,
        &format!("{} — {}", ctx.t("timeline-title"), academie.nom),
    );
    let crumbs = Crumbs::new(ctx.t("roadmap-title"))
        .link(format!("/academies/{}", academie.code), academie.nom.clone());
    let html = ctx.render(&RoadmapPage {
        actions,
        objectives,
        national_objectives,
        bilans,
        parents,
        timeline,
        this_year: today.year(),
        pdf: cfg!(feature = "pdf"),
        ctx: ctx.clone(),
        crumbs,
        nom: academie.nom,
        view,
        can_write,
        declinable,
        comments,
        versions,
        can_comment: consultation && can_write,
        can_validate,
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
    let result = service::decline(&state.db, p, &code, &form.projet)
        .await
        .map(|_| ());
    outcome(&ctx, &state, &code, result).await
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
    let result = service::review(&state.db, p, &id, form.version, &decision)
        .await
        .map(|_| ());
    outcome(&ctx, &state, &form.academie, result).await
}

fn back(code: &str) -> Response {
    Redirect::to(&format!("/academies/{code}/feuille-de-route")).into_response()
}

async fn outcome(ctx: &PageCtx, state: &AppState, code: &str, result: Result<(), CoreError>) -> PageResponse {
    match result {
        Ok(()) => Ok(back(code)),
        Err(e @ (CoreError::Validation(_) | CoreError::Conflict(_) | CoreError::BadRequest(_))) => {
            render(
                ctx,
                state,
                code,
                Some(e.to_string()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

#[derive(Debug, Deserialize)]
struct InviteForm {
    perimetre: String,
}

async fn invite(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(code): Path<String>,
    Form(form): Form<InviteForm>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let result = match Perimeter::parse(&form.perimetre) {
        Ok(perimeter) => lifecycle::invite(&state.db, p, &code, &perimeter).await,
        Err(e) => Err(e),
    };
    outcome(&ctx, &state, &code, result).await
}

#[derive(Debug, Deserialize)]
struct CommentForm {
    texte: String,
}

async fn comment(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(code): Path<String>,
    Form(form): Form<CommentForm>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let result = lifecycle::comment(&state.db, p, &code, None, &form.texte, None)
        .await
        .map(|_| ());
    outcome(&ctx, &state, &code, result).await
}

#[derive(Debug, Deserialize)]
struct AnswerForm {
    statut: String,
    texte: Option<String>,
    academie: String,
}

async fn answer(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<AnswerForm>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let result = lifecycle::answer(&state.db, p, &id, &form.statut, form.texte.as_deref()).await;
    outcome(&ctx, &state, &form.academie, result).await
}

#[derive(Debug, Deserialize)]
struct ValidateForm {
    date_comite: String,
    version: i64,
}

async fn validate(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(code): Path<String>,
    Form(form): Form<ValidateForm>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let result = match time::Date::parse(
        &form.date_comite,
        time::macros::format_description!("[year]-[month]-[day]"),
    ) {
        Ok(date) => lifecycle::validate(&state.db, p, &code, date, form.version)
            .await
            .map(|_| ()),
        Err(_) => Err(CoreError::Validation(vec![gouvernail_core::FieldError::new(
            "dateComite",
            "date attendue (AAAA-MM-JJ)",
        )])),
    };
    outcome(&ctx, &state, &code, result).await
}

#[derive(Template)]
#[template(path = "roadmap/comparaison.html")]
struct ComparePage {
    ctx: PageCtx,
    crumbs: Crumbs,
    a: i64,
    b: i64,
    changes: Vec<Change>,
}

#[derive(Debug, Deserialize)]
struct CompareQuery {
    a: i64,
    b: i64,
}

async fn compare_page(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(code): Path<String>,
    axum::extract::Query(q): axum::extract::Query<CompareQuery>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let changes = lifecycle::compare(&state.db, p, &code, q.a, q.b)
        .await
        .map_err(|e| ctx.error(e))?;
    let crumbs = Crumbs::new(ctx.t("roadmap-compare")).link(
        format!("/academies/{code}/feuille-de-route"),
        ctx.t("roadmap-title"),
    );
    Ok(ctx
        .render(&ComparePage {
            ctx: ctx.clone(),
            crumbs,
            a: q.a,
            b: q.b,
            changes,
        })?
        .into_response())
}

/// The states in the order of the map's legend, with the class that colours them.
const STATE_BUCKETS: &[(&str, Bucket)] = &[
    ("non-decline", Bucket::Neutral),
    ("decline", Bucket::Planned),
    ("en-cours", Bucket::Progress),
    ("termine", Bucket::Good),
    ("en-retard", Bucket::Bad),
    ("a-revoir", Bucket::Warning),
    ("version-locale", Bucket::Other),
    ("non-applicable", Bucket::Inactive),
    ("abandonne", Bucket::Inactive),
];

/// The tile map as SVG (its data is also in the table beside it, whose rows open the
/// académies' roadmaps: an image with `role="img"` may not hold links).
pub fn tile_map(
    ctx: &PageCtx,
    states: &[gouvernail_core::roadmap::model::AcademieState],
    title: &str,
) -> String {
    let bucket = |state: &str| {
        STATE_BUCKETS
            .iter()
            .find(|(s, _)| *s == state)
            .map_or(Bucket::Neutral, |(_, b)| *b)
    };
    let tiles: Vec<Tile> = states
        .iter()
        .map(|s| {
            let progress = s
                .progress
                .filter(|_| s.state != "non-decline" && s.state != "non-applicable")
                .map(|p| format!(" · {p} %"))
                .unwrap_or_default();
            let value_text = format!("{}{progress}", ctx.label("state", &s.state));
            Tile {
                code: s.academie_code.clone(),
                label: format!("{} : {value_text}", s.academie_nom),
                value_text,
                class: bucket(&s.state),
            }
        })
        .collect();
    let legend: Vec<(Bucket, String)> = STATE_BUCKETS
        .iter()
        .filter(|(state, _)| states.iter().any(|s| s.state == *state))
        .map(|(state, b)| (*b, ctx.label("state", state)))
        .collect();
    academie_map(ctx.lang, title, &ctx.t("national-view-intro"), &tiles, &legend)
}

#[derive(Template)]
#[template(path = "roadmap/national.html")]
struct NationalPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    project: NationalProject,
    states: Vec<gouvernail_core::roadmap::model::AcademieState>,
    map: String,
}

async fn national_page(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let states = service::national_view(&state.db, p, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let project = gouvernail_core::strategy::service::get_project(&state.db, Some(p), &code)
        .await
        .map_err(|e| ctx.error(e))?
        .project;
    let map = tile_map(
        &ctx,
        &states,
        &format!("{} — {}", ctx.t("national-view-title"), project.title),
    );
    let crumbs = Crumbs::new(ctx.t("national-view-title"))
        .link("/strategie", ctx.t("nav-strategie"))
        .link(
            format!("/projets-nationaux/{}", project.code),
            project.title.clone(),
        );
    Ok(ctx
        .render(&NationalPage {
            ctx: ctx.clone(),
            crumbs,
            project,
            states,
            map,
        })?
        .into_response())
}
