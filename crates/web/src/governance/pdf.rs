//! The minutes of a meeting as a PDF (`/api/v1/reunions/{id}/compte-rendu/pdf`): the data is
//! gathered here, in the request's language, and laid out by the Typst template
//! `templates/pdf/compte_rendu.typ` through `gouvernail-pdf`.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use gouvernail_core::CoreError;
use gouvernail_core::governance::service as gov;
use serde_json::json;

use crate::auth::User;
use crate::error::{ApiResult, ErrorBody};
use crate::pages::PageCtx;
use crate::state::AppState;

const TEMPLATE: &str = include_str!("../../templates/pdf/compte_rendu.typ");

fn kind(status: &str, late: bool) -> &'static str {
    if late {
        return "error";
    }
    match status {
        "faite" => "success",
        "en-cours" => "info",
        "abandonnee" => "neutral",
        _ => "new",
    }
}

/// The minutes of a meeting as a PDF document (tagged, PDF/UA-1); a draft says so.
#[utoipa::path(get, path = "/api/v1/reunions/{id}/compte-rendu/pdf", tag = "gouvernance",
    params(("id" = String, Path, description = "Identifiant de la réunion.")),
    responses(
        (status = 200, description = "Le document PDF (application/pdf)."),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Réunion inconnue (ou non visible).", body = ErrorBody)
    ))]
pub async fn minutes_pdf(
    State(state): State<AppState>,
    User(p): User,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let view = gov::meeting(&state.db, &p, &id).await?;
    let today = gov::today();
    let m = &view.meeting;
    let status = |prefix: &str, s: &str| ctx.label(prefix, s);
    let attendance: Vec<serde_json::Value> = view
        .attendance
        .iter()
        .map(|(member, a)| {
            let presence = match a {
                Some(a) => {
                    let mut text = status("gov-presence", &a.status);
                    if let Some(by) = &a.represented_by {
                        text = format!("{text} ({} {by})", ctx.t("gov-represented-by"));
                    }
                    text
                }
                None => "—".to_owned(),
            };
            json!({
                "name": member.name, "organisation": member.organisation,
                "position": status("gov-position", &member.position), "presence": presence,
            })
        })
        .collect();
    let person = |position: &str| {
        view.attendance
            .iter()
            .find(|(member, _)| member.position == position)
            .map(|(member, _)| member.name.clone())
    };
    let decisions: Vec<serde_json::Value> = view
        .decisions
        .iter()
        .map(|d| {
            let late = d.is_late(today);
            let mut label = status("gov-decision-status", &d.status);
            if late {
                label = format!("{label} · {}", ctx.t("gov-late"));
            }
            json!({
                "code": d.code(), "title": d.title, "owner": d.owner_name,
                "due": d.due_date.map(|x| ctx.date(x)).unwrap_or_else(|| "—".into()),
                "status": label, "kind": kind(&d.status, late),
            })
        })
        .collect();
    let follow_ups: Vec<serde_json::Value> = view
        .follow_ups
        .iter()
        .map(|f| {
            let base = f.status.as_str();
            let mut label = status("gov-decision-status", base);
            if f.late {
                label = format!("{label} · {}", ctx.t("gov-late"));
            }
            json!({
                "code": f.code, "title": f.title, "owner": f.owner,
                "due": f.due_date.map(|x| ctx.date(x)).unwrap_or_else(|| "—".into()),
                "status": label, "kind": kind(base, f.late),
            })
        })
        .collect();
    let minutes = view.minutes.as_ref();
    let approved = minutes.is_some_and(|x| x.approved());
    let place = match (&m.place, &m.video_url) {
        (place, Some(url)) if !place.is_empty() => format!("{place} — {url}"),
        (_, Some(url)) => url.clone(),
        (place, None) => place.clone(),
    };
    let mut facts = vec![
        json!([
            ctx.t("gov-when"),
            format!(
                "{} – {}",
                ctx.paris_time(&m.starts_at),
                ctx.paris_hour(&m.ends_at)
            )
        ]),
        json!([ctx.t("gov-place"), place]),
        json!([ctx.t("col-statut"), status("gov-meeting-status", &m.status)]),
    ];
    if let Some(x) = minutes {
        facts.push(json!([ctx.t("gov-revision"), x.revision.to_string()]));
        if let Some(reason) = &x.reason {
            facts.push(json!([ctx.t("gov-correction-reason"), reason]));
        }
    }
    let data = json!({
        "title": format!("{} — {}", ctx.t("gov-minutes"), m.title),
        "subtitle": view.body.name,
        "meta": status("gov-kind", &view.body.kind),
        "entity": view.body.name,
        "generated_on": ctx.date(today),
        "draft_notice": if approved { None } else { Some(ctx.t("gov-draft-notice")) },
        "facts": facts,
        "attendance": attendance,
        "agenda": view.items.iter().map(|i| json!({ "title": i.title, "reference": i.ref_label.clone().unwrap_or_default() })).collect::<Vec<_>>(),
        "follow_ups": follow_ups,
        "blocks": crate::markdown::to_blocks(minutes.map(|x| x.body.as_str()).unwrap_or_default()),
        "decisions": decisions,
        "secretary": person("secretaire"),
        "president": person("president"),
        "approved_on": minutes.and_then(|x| x.approved_at).map(|at| ctx.date(gouvernail_core::paris::local(at).date())),
        "labels": {
            "attendance": ctx.t("gov-attendance"),
            "attendance_columns": [ctx.t("gov-col-member"), ctx.t("gov-col-organisation"), ctx.t("gov-col-position"), ctx.t("gov-col-presence")],
            "agenda": ctx.t("gov-agenda"),
            "follow_ups": ctx.t("gov-follow-ups"),
            "minutes": ctx.t("gov-minutes"),
            "decisions": ctx.t("gov-decisions"),
            "decision_columns": [ctx.t("gov-col-code"), ctx.t("gov-col-title"), ctx.t("gov-col-owner"), ctx.t("gov-col-due"), ctx.t("col-statut")],
            "none": ctx.t("gov-none"),
            "secretary": ctx.t("gov-secretary-sign"),
            "president": ctx.t("gov-president-sign"),
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
        "attachment; filename=\"compte-rendu-reunion-{}.pdf\"",
        m.number
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
