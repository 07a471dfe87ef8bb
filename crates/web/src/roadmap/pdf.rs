//! The roadmap as a PDF for the comité de pilotage (`/api/v1/feuilles-de-route/{academie}/pdf`):
//! the data is gathered here, in the request's language, and laid out by the Typst template
//! `templates/pdf/feuille.typ` through `gouvernail-pdf`.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use gouvernail_core::roadmap::model::ActionFilter;
use gouvernail_core::roadmap::{actions, lifecycle, service};
use gouvernail_core::{CoreError, money};
use serde_json::json;

use crate::auth::User;
use crate::error::{ApiResult, ErrorBody};
use crate::pages::PageCtx;
use crate::state::AppState;

const TEMPLATE: &str = include_str!("../../templates/pdf/feuille.typ");

fn kind(status: &str, late: bool) -> &'static str {
    if late {
        return "error";
    }
    match status {
        "termine" => "success",
        "en-retard" => "error",
        "en-cours" => "info",
        "abandonne" => "neutral",
        _ => "new",
    }
}

/// The académie's roadmap as a PDF document (tagged, PDF/UA-1).
#[utoipa::path(get, path = "/api/v1/feuilles-de-route/{academie}/pdf", tag = "strategie",
    params(("academie" = String, Path, description = "Code de l'académie.")),
    responses(
        (status = 200, description = "Le document PDF (application/pdf)."),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Académie ou feuille de route inconnues (ou non visibles).", body = ErrorBody)
    ))]
pub async fn roadmap_pdf(
    State(state): State<AppState>,
    User(p): User,
    ctx: PageCtx,
    Path(academie): Path<String>,
) -> ApiResult<Response> {
    let view = service::roadmap(&state.db, &p, &academie, None).await?;
    let roadmap = view
        .roadmap
        .clone()
        .ok_or_else(|| CoreError::not_found("feuille de route", &academie))?;
    let nom = gouvernail_core::territory::service::get_academie(&state.db, &view.academie_code)
        .await?
        .academie
        .nom;
    let items = actions::list_actions(
        &state.db,
        &p,
        &ActionFilter {
            academie: Some(view.academie_code.clone()),
            ..Default::default()
        },
    )
    .await?;
    let versions = lifecycle::versions(&state.db, &p, &view.academie_code).await?;
    let today = actions::today();
    let timeline = super::action_pages::timeline(&ctx, &items, today, &ctx.t("timeline-title"));

    let mut axes: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    let mut budget: BTreeMap<(String, i64), i64> = BTreeMap::new();
    for v in &items {
        let a = &v.action;
        let dates = format!(
            "{} → {}",
            a.start_date.map(|d| ctx.date(d)).unwrap_or_default(),
            a.end_date.map(|d| ctx.date(d)).unwrap_or_default()
        );
        let mut status = ctx.label("action-status", &a.status);
        if v.late && a.status != "en-retard" {
            status = format!("{status} · {}", ctx.t("actions-late"));
        }
        axes.entry(v.axis.clone()).or_default().push(json!({
            "code": a.code, "title": a.title, "parent": v.parent_code,
            "pilote": v.pilote_name.clone().or_else(|| a.pilote_team.clone()).unwrap_or_else(|| "—".into()),
            "dates": dates, "status": status, "kind": kind(&a.status, v.late),
            "progress": format!("{} %", a.progress),
        }));
        for b in &v.budget {
            let funder = if b.funder_label.is_empty() {
                ctx.label("funder", &b.funder_kind)
            } else {
                b.funder_label.clone()
            };
            *budget.entry((funder, b.year)).or_default() += b.amount_cents;
        }
    }
    let total: i64 = budget.values().sum();
    let mut budget_rows: Vec<serde_json::Value> = budget
        .into_iter()
        .map(|((funder, year), cents)| json!({ "funder": funder, "year": year.to_string(), "amount": money::french(cents) }))
        .collect();
    if !budget_rows.is_empty() {
        budget_rows.push(json!({ "funder": ctx.t("pdf-total"), "year": "", "amount": money::french(total) }));
    }
    let declensions: Vec<serde_json::Value> = view
        .declensions
        .iter()
        .map(|d| {
            let state = d.state();
            json!({
                "code": d.project.code, "title": d.title,
                "pilote": d.declension.local_pilote.clone().unwrap_or_else(|| d.national_pilote.clone()),
                "target": d.declension.local_target.clone().or_else(|| d.declension.justification.clone()).unwrap_or_else(|| "—".into()),
                "state": ctx.label("state", state), "kind": kind(state, false),
                "progress": format!("{} %", d.declension.progress),
            })
        })
        .collect();
    let late = items.iter().filter(|v| v.late).count();
    let title = format!(
        "{} — {} {}",
        ctx.t("roadmap-title"),
        ctx.t("academie-prefix"),
        nom
    );
    let data = json!({
        "title": title,
        "subtitle": roadmap.title,
        "meta": format!("{} · {}", ctx.label("roadmap-status", &roadmap.status), versions.last().map(|v| format!("v{}", v.number)).unwrap_or_default()),
        "entity": format!("{} {}", ctx.t("academie-prefix"), nom),
        "generated_on": ctx.date(today),
        "place": nom,
        "summary": [
            [ctx.t("pdf-declined"), view.declensions.len().to_string()],
            [ctx.t("actions-title"), items.len().to_string()],
            [ctx.t("actions-late"), late.to_string()],
            [ctx.t("actions-budget"), money::french(total)],
        ],
        "declensions": declensions,
        "timeline": timeline,
        "timeline_alt": ctx.t("timeline-desc"),
        "timeline_caption": ctx.t("timeline-title"),
        "axes": axes.into_iter().map(|(axis, actions)| json!({ "axis": if axis.is_empty() { "—".to_owned() } else { axis }, "actions": actions })).collect::<Vec<_>>(),
        "budget": budget_rows,
        "versions": versions.iter().map(|v| json!({ "number": format!("v{}", v.number), "committee": ctx.date(v.committee_date) })).collect::<Vec<_>>(),
        "labels": {
            "summary": ctx.t("pdf-summary"),
            "declensions": ctx.t("pdf-declensions"),
            "declension_columns": [ctx.t("actions-code"), ctx.t("col-nom"), ctx.t("actions-pilote"), ctx.t("pdf-target"), ctx.t("col-statut"), ctx.t("roadmap-progress")],
            "timeline": ctx.t("timeline-title"),
            "no_action": ctx.t("actions-none"),
            "action_columns": [ctx.t("actions-code"), ctx.t("col-nom"), ctx.t("actions-parent"), ctx.t("actions-pilote"), ctx.t("actions-dates"), ctx.t("col-statut"), ctx.t("roadmap-progress")],
            "budget": ctx.t("pdf-budget"),
            "budget_columns": [ctx.t("actions-funder"), ctx.t("actions-year"), ctx.t("actions-amount")],
            "no_budget": ctx.t("pdf-no-budget"),
            "versions": ctx.t("roadmap-versions"),
            "version_columns": [ctx.t("pdf-version"), ctx.t("roadmap-committee")],
            "no_version": ctx.t("roadmap-no-version"),
            "signatory": ctx.t("pdf-signatory"),
        },
    });
    let bytes = tokio::task::spawn_blocking(move || gouvernail_pdf::render(TEMPLATE, &data))
        .await
        .map_err(|e| CoreError::Internal(format!("rendu PDF interrompu : {e}")))?
        .map_err(|e| CoreError::Internal(e.to_string()))?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"feuille-de-route-{}.pdf\"",
        view.academie_code
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
