//! The report pack of the national steering committee as a PDF
//! (`/api/v1/indicateurs/rapport.pdf`): one page per national project with its indicators'
//! latest national figure, target, status, completeness and comments. The data is gathered
//! by `indicator::dashboard::report_pack` and laid out by `templates/pdf/rapport_indicateurs.typ`.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use gouvernail_core::CoreError;
use gouvernail_core::indicator::dashboard;
use gouvernail_core::indicator::service as ind;
use gouvernail_core::indicator::{Level, Rag};
use serde_json::json;

use super::pages::dec_text;
use crate::auth::User;
use crate::error::{ApiResult, ErrorBody};
use crate::pages::PageCtx;
use crate::state::AppState;

const TEMPLATE: &str = include_str!("../../templates/pdf/rapport_indicateurs.typ");

fn kind(rag: Option<Rag>) -> &'static str {
    match rag {
        Some(Rag::Vert) => "success",
        Some(Rag::Orange) => "warning",
        Some(Rag::Rouge) => "error",
        None => "neutral",
    }
}

/// The report pack of the national steering committee (tagged PDF, PDF/UA-1): one page per
/// national project with its indicators. National readers only.
#[utoipa::path(get, path = "/api/v1/indicateurs/rapport.pdf", tag = "indicateurs",
    responses(
        (status = 200, description = "Le document PDF (application/pdf)."),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Réservé aux lecteurs du périmètre national.", body = ErrorBody)
    ))]
pub async fn report_pdf(State(state): State<AppState>, User(p): User, ctx: PageCtx) -> ApiResult<Response> {
    let pack = dashboard::report_pack(&state.db, &p).await?;
    let today = ind::today();
    let with_unit = |v: Option<gouvernail_core::indicator::Dec>, unit: &str| {
        v.map_or_else(
            || ctx.t("chart-nd"),
            |d| ctx.lang.with_unit(&dec_text(ctx.lang, d), unit),
        )
    };
    let projects: Vec<serde_json::Value> = pack
        .iter()
        .map(|r| {
            let lines: Vec<serde_json::Value> = r
                .lines
                .iter()
                .map(|l| {
                    let k = &l.key;
                    let f = k.figure.as_ref();
                    let rag = f.and_then(|f| f.rag);
                    let completeness = f.map_or_else(
                        || "—".to_owned(),
                        |f| {
                            let c = f.completeness;
                            format!(
                                "{} {} {} {}",
                                ctx.int(c.children_with_data),
                                ctx.t("ind-out-of"),
                                ctx.int(c.children_expected),
                                ctx.label("ind-level-pl", Level::Academie.as_str())
                            )
                        },
                    );
                    json!({
                        "label": format!("{} ({})", k.indicator.label, k.indicator.code),
                        "period": k.period.clone().unwrap_or_else(|| "—".into()),
                        "value": with_unit(f.and_then(|f| f.value), &k.indicator.unit),
                        "target": k.target.map_or_else(|| "—".to_owned(), |t| with_unit(Some(t), &k.indicator.unit)),
                        "status": rag.map_or_else(|| ctx.t("ind-no-status"), |r| ctx.label("ind-rag", r.as_str())),
                        "kind": kind(rag),
                        "completeness": completeness,
                    })
                })
                .collect();
            let comments: Vec<serde_json::Value> = r
                .lines
                .iter()
                .flat_map(|l| {
                    l.comments.iter().map(move |(perimeter, text)| {
                        json!({ "indicator": l.key.indicator.code, "perimeter": perimeter, "text": text })
                    })
                })
                .collect();
            let red = r
                .lines
                .iter()
                .filter(|l| l.key.figure.as_ref().and_then(|f| f.rag) == Some(Rag::Rouge))
                .count();
            json!({
                "code": r.project.code,
                "title": r.project.title,
                "status": ctx.label("ind-project-status", &r.project.status),
                "subtitle": format!("{} · {}", ctx.label("ind-project-status", &r.project.status), r.project.pilote_team),
                "indicators": r.lines.len(),
                "red": red,
                "lines": lines,
                "comments": comments,
            })
        })
        .collect();
    let data = json!({
        "title": ctx.t("ind-report-pack"),
        "subtitle": ctx.t("ind-report-subtitle"),
        "meta": format!("{} {}", ctx.t("ind-report-on"), ctx.date(today)),
        "entity": ctx.t("ind-report-entity"),
        "generated_on": ctx.date(today),
        "projects": projects,
        "labels": {
            "summary": ctx.t("ind-report-summary"),
            "summary_columns": [ctx.t("ind-code"), ctx.t("ind-project"), ctx.t("col-statut"), ctx.t("ind-report-indicators"), ctx.t("ind-report-red")],
            "columns": [ctx.t("ind-label"), ctx.t("ind-period"), ctx.t("ind-value"), ctx.t("ind-target"), ctx.t("ind-status-rag"), ctx.t("ind-completeness")],
            "comments": ctx.t("ind-comments"),
            "no_project": ctx.t("ind-report-no-project"),
            "no_indicator": ctx.t("ind-report-no-indicator"),
        },
    });
    let bytes = tokio::task::spawn_blocking(move || gouvernail_pdf::render(TEMPLATE, &data))
        .await
        .map_err(|e| CoreError::Internal(format!("rendu PDF interrompu : {e}")))?
        .map_err(|e| CoreError::Internal(e.to_string()))?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"rapport-indicateurs.pdf\""),
    );
    Ok(response)
}
