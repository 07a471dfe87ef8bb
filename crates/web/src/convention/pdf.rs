//! A convention as a PDF (`/api/v1/conventions/{id}/pdf`): parties, visas, articles (object,
//! duration, scope), the commitments of each party, the financial annex with its totals by
//! funder and year, the amendments and the signature blocks. The data is gathered here, in
//! the request's language, and laid out by `templates/pdf/convention.typ` through
//! `gouvernail-pdf` (tagged PDF/UA-1; headings of level 1, then 2 under them).

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use gouvernail_core::CoreError;
use gouvernail_core::convention::service as conv;
use gouvernail_core::convention::{CommitmentStatus, ConventionStatus, ConventionView, percent_bp};
use serde_json::{Value, json};

use crate::auth::User;
use crate::error::{ApiResult, ErrorBody};
use crate::pages::PageCtx;
use crate::state::AppState;

const TEMPLATE: &str = include_str!("../../templates/pdf/convention.typ");

/// The pill kind of a commitment's status.
fn commitment_kind(status: CommitmentStatus) -> &'static str {
    match status {
        CommitmentStatus::Tenu => "success",
        CommitmentStatus::EnRetard | CommitmentStatus::NonTenu => "error",
        CommitmentStatus::EnCours => "info",
        CommitmentStatus::Prevu => "new",
    }
}

/// The pill kind of a convention's status.
pub fn status_kind(status: ConventionStatus) -> &'static str {
    match status {
        ConventionStatus::EnVigueur | ConventionStatus::Renouvelee => "success",
        ConventionStatus::Signee => "info",
        ConventionStatus::Echue | ConventionStatus::Resiliee => "warning",
        ConventionStatus::Projet | ConventionStatus::EnNegociation => "new",
    }
}

/// The data of the template.
pub fn document(ctx: &PageCtx, v: &ConventionView, today: time::Date) -> Value {
    let c = &v.convention;
    let name_of = |reference: &str| {
        v.parties
            .iter()
            .find(|p| p.reference == reference)
            .map_or_else(|| reference.to_owned(), |p| p.name.clone())
    };
    let dash = || "—".to_owned();
    let date = |d: Option<time::Date>| d.map_or_else(dash, |d| ctx.date(d));
    let parties: Vec<Value> = v
        .parties
        .iter()
        .map(|p| {
            let deliberation = match (&p.deliberation_ref, p.deliberation_date) {
                (Some(r), Some(d)) => format!("{r} ({})", ctx.date(d)),
                (Some(r), None) => r.clone(),
                _ => dash(),
            };
            json!([p.name, p.reference, p.representative, p.capacity, deliberation])
        })
        .collect();
    let mut facts = vec![
        json!([
            ctx.t("conv-status"),
            ctx.label("conv-status", v.standing.status.as_str())
        ]),
        json!([
            ctx.t("conv-effective-date"),
            date(v.standing.start.or(c.effective_date))
        ]),
        json!([ctx.t("conv-end-date"), date(v.standing.end.or(c.end_date))]),
    ];
    if let Some(months) = c.duration_months {
        facts.push(json!([
            ctx.t("conv-duration"),
            format!("{months} {}", ctx.t("conv-months"))
        ]));
    }
    facts.push(json!([
        ctx.t("conv-renewal"),
        ctx.label("conv-renewal", &c.renewal)
    ]));
    if let Some(months) = c.notice_months {
        facts.push(json!([
            ctx.t("conv-notice"),
            format!("{months} {}", ctx.t("conv-months"))
        ]));
    }
    if let Some((_, title)) = &v.parent {
        facts.push(json!([ctx.t("conv-parent"), title]));
    }
    // The commitments, grouped by the party that owes them, in the parties' order.
    let commitments: Vec<Value> = v
        .parties
        .iter()
        .filter_map(|p| {
            let rows: Vec<Value> = v
                .commitments
                .iter()
                .filter(|s| s.commitment.party_ref == p.reference)
                .map(|s| {
                    let e = &s.commitment;
                    let mut what = Vec::new();
                    if let Some(q) = e.quantity {
                        what.push(ctx.int(q));
                    }
                    if let Some(a) = e.amount_cents {
                        what.push(ctx.euros(&a));
                    }
                    let due = match (&e.recurrence, s.followed.next_due.or(e.due_date)) {
                        (Some(r), Some(d)) => {
                            format!("{} ({})", ctx.date(d), ctx.label("conv-recurrence", r))
                        }
                        (None, d) => date(d),
                        (Some(r), None) => ctx.label("conv-recurrence", r),
                    };
                    json!({
                        "code": e.code(),
                        "category": ctx.label("conv-category", &e.category),
                        "description": e.description,
                        "what": if what.is_empty() { dash() } else { what.join(" · ") },
                        "due": due,
                        "status": ctx.label("conv-commitment-status", s.followed.status.as_str()),
                        "kind": commitment_kind(s.followed.status),
                    })
                })
                .collect();
            (!rows.is_empty()).then(|| {
                let compliance = v
                    .compliance_by_party
                    .iter()
                    .find(|x| x.party_ref == p.reference)
                    .and_then(|x| x.compliance.percent())
                    .map(|n| format!("{} : {n} %", ctx.t("conv-compliance")));
                json!({ "party": p.name, "compliance": compliance, "rows": rows })
            })
        })
        .collect();
    let annex: Vec<Value> = v
        .annex
        .iter()
        .map(|l| {
            json!([
                l.year.to_string(),
                name_of(&l.party_ref),
                ctx.label("conv-nature", &l.nature),
                l.label,
                ctx.euros(&l.amount_cents),
            ])
        })
        .collect();
    let years: Vec<i64> = v.totals.by_year.iter().map(|(y, _)| *y).collect();
    let mut totals: Vec<Value> = v
        .totals
        .by_funder
        .iter()
        .map(|(funder, total)| {
            let mut row = vec![name_of(funder)];
            for y in &years {
                let cents = v
                    .totals
                    .by_funder_year
                    .iter()
                    .find(|(f, year, _)| f == funder && year == y)
                    .map_or(0, |(_, _, c)| *c);
                row.push(ctx.euros(&cents));
            }
            row.push(ctx.euros(total));
            json!(row)
        })
        .collect();
    if !totals.is_empty() {
        let mut row = vec![ctx.t("conv-total")];
        row.extend(v.totals.by_year.iter().map(|(_, c)| ctx.euros(c)));
        row.push(ctx.euros(&v.totals.total));
        totals.push(json!(row));
    }
    let mut total_columns = vec![ctx.t("conv-funder")];
    total_columns.extend(years.iter().map(ToString::to_string));
    total_columns.push(ctx.t("conv-total"));
    let rules: Vec<String> = v
        .cofinancing
        .iter()
        .map(|r| {
            let mut text = format!(
                "{} : {} {} – {}",
                name_of(&r.funder_ref),
                ctx.label("conv-cofinancing", &r.kind),
                percent_bp(r.min_bp),
                percent_bp(r.max_bp)
            );
            if let Some(cap) = r.cap_cents {
                text.push_str(&format!(", {} {}", ctx.t("conv-cap"), ctx.euros(&cap)));
            }
            text
        })
        .collect();
    let amendments: Vec<String> = v
        .amendments
        .iter()
        .map(|a| {
            format!(
                "{} {} ({}) — {}",
                ctx.t("conv-amendment"),
                a.number,
                ctx.date(a.signed_on),
                a.object
            )
        })
        .collect();
    let signatories: Vec<Value> = v
        .parties
        .iter()
        .map(|p| {
            let mut role = p.name.clone();
            if !p.capacity.is_empty() {
                role = format!("{role} — {}", p.capacity);
            }
            let mut name = p.representative.clone();
            if let Some(d) = p.signature_date {
                name = format!("{name} — {} {}", ctx.t("conv-signed-on"), ctx.date(d));
            }
            json!({ "role": role, "name": name })
        })
        .collect();
    let meta = format!(
        "{} · {} {}",
        ctx.label("conv-status", v.standing.status.as_str()),
        ctx.t("conv-version"),
        v.current_version
    );
    json!({
        "title": c.title,
        "subtitle": ctx.label("conv-kind", &c.kind),
        "meta": meta,
        "status": ctx.label("conv-status", v.standing.status.as_str()),
        "status_kind": status_kind(v.standing.status),
        "entity": v.parties.first().map(|p| p.name.clone()),
        "generated_on": ctx.date(today),
        "parties": parties,
        "visas": v.visas.iter().map(|x| format!("{} {x}", ctx.t("conv-visa-prefix"))).collect::<Vec<_>>(),
        "object": c.object,
        "facts": facts,
        "scope": v.scope.iter().map(|s| s.label.clone()).collect::<Vec<_>>(),
        "commitments": commitments,
        "annex": annex,
        "totals": totals,
        "total_columns": total_columns,
        "rules": rules,
        "amendments": amendments,
        "signatories": signatories,
        "labels": {
            "parties": ctx.t("conv-parties"),
            "party_columns": [ctx.t("conv-party"), ctx.t("conv-reference"), ctx.t("conv-representative"), ctx.t("conv-capacity"), ctx.t("conv-deliberation")],
            "visas": ctx.t("conv-visas"),
            "object": format!("{} 1 — {}", ctx.t("conv-article"), ctx.t("conv-object")),
            "duration": format!("{} 2 — {}", ctx.t("conv-article"), ctx.t("conv-duration-title")),
            "scope": format!("{} 3 — {}", ctx.t("conv-article"), ctx.t("conv-scope")),
            "commitments": format!("{} 4 — {}", ctx.t("conv-article"), ctx.t("conv-commitments")),
            "commitment_columns": [ctx.t("conv-code"), ctx.t("conv-category"), ctx.t("conv-description"), ctx.t("conv-quantity-amount"), ctx.t("conv-due"), ctx.t("conv-status")],
            "annex": format!("{} 5 — {}", ctx.t("conv-article"), ctx.t("conv-annex")),
            "annex_columns": [ctx.t("conv-year"), ctx.t("conv-funder"), ctx.t("conv-nature"), ctx.t("conv-label"), ctx.t("conv-amount")],
            "totals": ctx.t("conv-totals"),
            "rules": ctx.t("conv-cofinancing-rules"),
            "amendments": ctx.t("conv-amendments"),
            "signatures": ctx.t("conv-signatures"),
            "none": ctx.t("conv-none"),
        },
    })
}

/// The convention as a PDF document (tagged, PDF/UA-1).
#[utoipa::path(get, path = "/api/v1/conventions/{id}/pdf", tag = "conventions",
    params(("id" = String, Path, description = "Identifiant de la convention.")),
    responses(
        (status = 200, description = "Le document PDF (application/pdf)."),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Convention inconnue (ou non visible).", body = ErrorBody)
    ))]
pub async fn convention_pdf(
    State(state): State<AppState>,
    User(p): User,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let today = conv::today();
    let view = conv::get_convention(&state.db, &p, &id, today).await?;
    let data = document(&ctx, &view, today);
    let bytes = tokio::task::spawn_blocking(move || gouvernail_pdf::render(TEMPLATE, &data))
        .await
        .map_err(|e| CoreError::Internal(format!("rendu PDF interrompu : {e}")))?
        .map_err(|e| CoreError::Internal(e.to_string()))?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"convention-{}.pdf\"",
        view.convention.id
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
