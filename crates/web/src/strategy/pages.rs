//! The published strategy, for everyone (no sign-in needed).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use gouvernail_core::strategy::model::{ProjectDetail, Strategy, StrategyTree};
use gouvernail_core::strategy::service;

use crate::pages::{Crumbs, PageCtx, PageResult};
use crate::state::AppState;

/// The routes of the strategy pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/strategie", get(strategies))
        .route("/strategie/{code}", get(strategy))
        .route("/projets-nationaux/{code}", get(project))
}

#[derive(Template)]
#[template(path = "strategy/list.html")]
struct ListPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    strategies: Vec<Strategy>,
}

async fn strategies(ctx: PageCtx, State(state): State<AppState>) -> PageResult {
    let strategies = service::list_strategies(&state.db, ctx.user.as_ref())
        .await
        .map_err(|e| ctx.error(e))?;
    ctx.render(&ListPage {
        ctx: ctx.clone(),
        crumbs: Crumbs::new(ctx.t("nav-strategie")),
        strategies,
    })
}

#[derive(Template)]
#[template(path = "strategy/strategy.html")]
struct StrategyPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    tree: StrategyTree,
}

async fn strategy(ctx: PageCtx, State(state): State<AppState>, Path(code): Path<String>) -> PageResult {
    let tree = service::get_strategy(&state.db, ctx.user.as_ref(), &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let crumbs = Crumbs::new(tree.strategy.title.clone()).link("/strategie", ctx.t("nav-strategie"));
    ctx.render(&StrategyPage {
        ctx: ctx.clone(),
        crumbs,
        tree,
    })
}

#[derive(Template)]
#[template(path = "strategy/project.html")]
struct ProjectPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    d: ProjectDetail,
}

async fn project(ctx: PageCtx, State(state): State<AppState>, Path(code): Path<String>) -> PageResult {
    let d = service::get_project(&state.db, ctx.user.as_ref(), &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let crumbs = Crumbs::new(d.project.title.clone())
        .link("/strategie", ctx.t("nav-strategie"))
        .link(
            format!("/strategie/{}", d.strategy.code),
            d.strategy.title.clone(),
        );
    ctx.render(&ProjectPage {
        ctx: ctx.clone(),
        crumbs,
        d,
    })
}
