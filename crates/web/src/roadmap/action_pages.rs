//! The action pages: the filtered list (with "my actions" and exports), one action with its
//! edit form, the forms that add objectives and actions to a roadmap, publication and the
//! annual review; and the timeline picture of a roadmap.

use std::fmt::Write as _;

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gouvernail_core::identity::{Capability, Perimeter};
use gouvernail_core::roadmap::actions;
use gouvernail_core::roadmap::model::*;
use gouvernail_core::{CoreError, FieldError, money};
use time::Date;

use crate::charts::escape;
use crate::pages::{Crumbs, PageCtx, PageError};
use crate::state::AppState;

/// The routes of the action pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/actions", get(list_page))
        .route("/actions/{id}", get(action_page).post(save_action))
        .route("/academies/{code}/feuille-de-route/actions", post(add_action))
        .route(
            "/academies/{code}/feuille-de-route/objectifs",
            post(add_objective),
        )
        .route("/academies/{code}/feuille-de-route/publication", post(publish))
        .route("/academies/{code}/feuille-de-route/bilans", post(bilan))
}

type PageResponse = Result<Response, PageError>;

/// A posted form as its pairs (repeated names allowed: checkboxes).
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }
    /// The version the form was read at (0 when missing: the save then gets 409).
    fn version(&self) -> i64 {
        self.get("version")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or_default()
    }
    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

fn parse_date(field: &str, v: &str, errors: &mut Vec<FieldError>) -> Option<Date> {
    Date::parse(
        v.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| {
        errors.push(FieldError::new(
            field,
            format!("« {v} » : date attendue (AAAA-MM-JJ)"),
        ))
    })
    .ok()
}

fn optional_date(fields: &Fields, name: &str, errors: &mut Vec<FieldError>) -> Option<Option<Date>> {
    fields.get(name).map(|v| {
        if v.trim().is_empty() {
            None
        } else {
            parse_date(name, v, errors)
        }
    })
}

/// Milestones typed one per line: `2025-03-01 ; Premières livraisons ; fait`.
pub fn parse_milestones(text: &str, errors: &mut Vec<FieldError>) -> Vec<ActionMilestone> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let field = format!("jalons, ligne {}", i + 1);
        let parts: Vec<&str> = line.split(';').map(str::trim).collect();
        let (Some(date), Some(label)) = (parts.first(), parts.get(1)) else {
            errors.push(FieldError::new(field, "attendu : date ; libellé [; fait]"));
            continue;
        };
        if let Some(due) = parse_date(&field, date, errors) {
            out.push(ActionMilestone {
                label: (*label).to_owned(),
                due_date: due,
                done: parts
                    .get(2)
                    .is_some_and(|d| matches!(d.to_lowercase().as_str(), "fait" | "oui" | "done" | "x")),
            });
        }
    }
    out
}

/// Budget lines typed one per line: `2025 ; collectivite ; Département d'Ille-et-Vilaine ; 80 000,00`.
pub fn parse_budget(text: &str, errors: &mut Vec<FieldError>) -> Vec<BudgetLine> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let field = format!("budget, ligne {}", i + 1);
        let parts: Vec<&str> = line.split(';').map(str::trim).collect();
        if parts.len() != 4 {
            errors.push(FieldError::new(
                field,
                "attendu : année ; financeur ; libellé ; montant",
            ));
            continue;
        }
        let Ok(year) = parts[0].parse::<i64>() else {
            errors.push(FieldError::new(
                field,
                format!("« {} » : année attendue", parts[0]),
            ));
            continue;
        };
        let Some(cents) = money::parse_euros(parts[3]) else {
            errors.push(FieldError::new(
                field,
                format!("« {} » : montant en euros attendu (ex. 1 234,56)", parts[3]),
            ));
            continue;
        };
        out.push(BudgetLine {
            funder_kind: parts[1].to_lowercase(),
            funder_label: parts[2].to_owned(),
            year,
            amount_cents: cents,
        });
    }
    out
}

/// A perimeter typed as codes: département codes (`35`, `2A`, `974`) and UAI (`0351849V`).
pub fn parse_scope(text: &str) -> Vec<ScopeItem> {
    text.split([',', ';', ' ', '\n'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| ScopeItem {
            kind: if c.len() == 8 {
                "etablissement"
            } else {
                "departement"
            }
            .into(),
            code: c.to_uppercase(),
        })
        .collect()
}

fn codes(text: &str) -> Vec<String> {
    text.split([',', ';', ' '])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_uppercase)
        .collect()
}

/// The patch a posted action form makes; every unreadable field is named.
fn patch_from(fields: &Fields) -> Result<ActionPatch, CoreError> {
    let mut errors = Vec::new();
    let parent = fields.get("rattachement").and_then(|v| {
        if let Some(id) = v.strip_prefix("d:") {
            Some(ActionParent::Declension(id.to_owned()))
        } else {
            v.strip_prefix("o:")
                .map(|id| ActionParent::Objective(id.to_owned()))
        }
    });
    let progress = fields.get("avancement").and_then(|v| {
        v.trim()
            .parse::<i64>()
            .map_err(|_| errors.push(FieldError::new("avancement", "nombre entre 0 et 100")))
            .ok()
    });
    let patch = ActionPatch {
        parent,
        title: fields.text("titre"),
        description: fields.text("description"),
        pilote_user: fields.get("pilote").map(|v| Some(v.to_owned())),
        pilote_team: fields.get("equipe_pilote").map(|v| Some(v.to_owned())),
        start_date: optional_date(fields, "debut", &mut errors),
        end_date: optional_date(fields, "fin", &mut errors),
        status: fields.text("statut"),
        progress,
        risks: fields.text("risques"),
        milestones: fields.get("jalons").map(|t| parse_milestones(t, &mut errors)),
        budget: fields.get("budget").map(|t| parse_budget(t, &mut errors)),
        // The checkboxes are sent with a marker so that "none ticked" clears the list.
        partners: fields
            .get("partenaires_presents")
            .map(|_| fields.all("partenaires")),
        scope: fields.get("perimetre").map(parse_scope),
        depends_on: fields.get("dependances").map(codes),
    };
    if errors.is_empty() {
        Ok(patch)
    } else {
        Err(CoreError::Validation(errors))
    }
}

/// What a form failure shows: the message, each field's error, and the status (409 when
/// someone saved in between, 422 otherwise).
fn failure(e: &CoreError) -> Option<(String, Vec<FieldError>, StatusCode)> {
    match e {
        CoreError::Validation(fields) => {
            Some((e.to_string(), fields.clone(), StatusCode::UNPROCESSABLE_ENTITY))
        }
        CoreError::Conflict(_) => Some((e.to_string(), Vec::new(), StatusCode::CONFLICT)),
        CoreError::BadRequest(_) => Some((e.to_string(), Vec::new(), StatusCode::UNPROCESSABLE_ENTITY)),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// One action

#[derive(Template)]
#[template(path = "roadmap/action.html")]
struct ActionPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    v: ActionView,
    can_write: bool,
    parents: Vec<(String, String)>,
    organisations: Vec<gouvernail_core::identity::model::Organisation>,
    statuses: &'static [&'static str],
    /// The form's values (as posted after an error, else as stored).
    form: ActionFormValues,
    message: Option<String>,
    errors: Vec<FieldError>,
    history: Vec<gouvernail_core::audit::AuditEntry>,
}

/// The edit form's values as text.
#[derive(Debug, Clone, Default)]
struct ActionFormValues {
    parent: String,
    titre: String,
    description: String,
    pilote: String,
    equipe_pilote: String,
    debut: String,
    fin: String,
    statut: String,
    avancement: String,
    risques: String,
    jalons: String,
    budget: String,
    partenaires: Vec<String>,
    perimetre: String,
    dependances: String,
}

impl ActionFormValues {
    fn of(v: &ActionView, pilote_email: Option<String>) -> Self {
        let a = &v.action;
        Self {
            parent: match (&a.declension_id, &a.objective_id) {
                (Some(d), _) => format!("d:{d}"),
                (_, Some(o)) => format!("o:{o}"),
                _ => String::new(),
            },
            titre: a.title.clone(),
            description: a.description.clone(),
            pilote: pilote_email.unwrap_or_default(),
            equipe_pilote: a.pilote_team.clone().unwrap_or_default(),
            debut: a.start_date.map(|d| d.to_string()).unwrap_or_default(),
            fin: a.end_date.map(|d| d.to_string()).unwrap_or_default(),
            statut: a.status.clone(),
            avancement: a.progress.to_string(),
            risques: a.risks.clone(),
            jalons: v
                .milestones
                .iter()
                .map(|m| {
                    format!(
                        "{} ; {}{}",
                        m.due_date,
                        m.label,
                        if m.done { " ; fait" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            budget: v
                .budget
                .iter()
                .map(|b| {
                    format!(
                        "{} ; {} ; {} ; {}",
                        b.year,
                        b.funder_kind,
                        b.funder_label,
                        money::decimal(b.amount_cents).replace('.', ",")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            partenaires: v.partners.iter().map(|p| p.id.clone()).collect(),
            perimetre: v
                .scope
                .iter()
                .map(|s| s.code.clone())
                .collect::<Vec<_>>()
                .join(", "),
            dependances: v.depends_on.join(", "),
        }
    }

    fn posted(fields: &Fields) -> Self {
        let t = |n: &str| fields.text(n).unwrap_or_default();
        Self {
            parent: t("rattachement"),
            titre: t("titre"),
            description: t("description"),
            pilote: t("pilote"),
            equipe_pilote: t("equipe_pilote"),
            debut: t("debut"),
            fin: t("fin"),
            statut: t("statut"),
            avancement: t("avancement"),
            risques: t("risques"),
            jalons: t("jalons"),
            budget: t("budget"),
            partenaires: fields.all("partenaires"),
            perimetre: t("perimetre"),
            dependances: t("dependances"),
        }
    }
}

/// The places an action of this académie may hang from: (`d:id` / `o:id`, label).
pub(crate) async fn parents(
    state: &AppState,
    p: &gouvernail_core::identity::Principal,
    academie: &str,
    view: Option<&RoadmapView>,
) -> Result<Vec<(String, String)>, CoreError> {
    let loaded;
    let view = match view {
        Some(v) => v,
        None => {
            loaded = gouvernail_core::roadmap::service::roadmap(&state.db, p, academie, None).await?;
            &loaded
        }
    };
    let mut out: Vec<(String, String)> = view
        .declensions
        .iter()
        .filter(|d| !d.declension.not_applicable)
        .map(|d| {
            (
                format!("d:{}", d.declension.id),
                format!("{} — {}", d.project.code, d.title),
            )
        })
        .collect();
    for o in actions::objectives(&state.db, p, academie).await? {
        out.push((format!("o:{}", o.id), format!("{} — {}", o.code, o.title)));
    }
    Ok(out)
}

async fn render_action(
    ctx: &PageCtx,
    state: &AppState,
    id: &str,
    posted: Option<(&Fields, String, Vec<FieldError>, StatusCode)>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let v = actions::get_action(&state.db, p, id)
        .await
        .map_err(|e| ctx.error(e))?;
    let can_write = p
        .can(
            &state.db,
            Capability::Write,
            &Perimeter::Academie(v.academie_code.clone()),
        )
        .await
        .map_err(|e| ctx.error(e))?;
    let (parents, organisations) = if can_write {
        (
            parents(state, p, &v.academie_code, None)
                .await
                .map_err(|e| ctx.error(e))?,
            actions::partner_choices(&state.db)
                .await
                .map_err(|e| ctx.error(e))?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let pilote_email = v.pilote_email.clone();
    let (form, message, errors, status) = match posted {
        Some((fields, message, errors, status)) => {
            (ActionFormValues::posted(fields), Some(message), errors, status)
        }
        None => (
            ActionFormValues::of(&v, pilote_email),
            None,
            Vec::new(),
            StatusCode::OK,
        ),
    };
    let history = gouvernail_core::identity::service::history(&state.db, p, "action", id)
        .await
        .map_err(|e| ctx.error(e))?;
    let crumbs = Crumbs::new(format!("{} — {}", v.action.code, v.action.title))
        .link(
            format!("/academies/{}/feuille-de-route", v.academie_code),
            ctx.t("roadmap-title"),
        )
        .link(
            format!("/actions?academie={}", v.academie_code),
            ctx.t("actions-title"),
        );
    let html = ctx.render(&ActionPage {
        ctx: ctx.clone(),
        crumbs,
        v,
        can_write,
        parents,
        organisations,
        statuses: STATUSES,
        form,
        message,
        errors,
        history,
    })?;
    Ok((status, html).into_response())
}

async fn action_page(ctx: PageCtx, State(state): State<AppState>, Path(id): Path<String>) -> PageResponse {
    render_action(&ctx, &state, &id, None).await
}

async fn save_action(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let version = fields.version();
    let result = match patch_from(&fields) {
        Ok(patch) => actions::update_action(&state.db, p, &id, version, &patch).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/actions/{id}")).into_response()),
        Err(e) => match failure(&e) {
            Some((message, errors, status)) => {
                render_action(&ctx, &state, &id, Some((&fields, message, errors, status))).await
            }
            None => Err(ctx.error(e)),
        },
    }
}

// ---------------------------------------------------------------------------------------
// Adding to a roadmap, publication, annual review

fn back(code: &str, anchor: &str) -> Response {
    Redirect::to(&format!("/academies/{code}/feuille-de-route{anchor}")).into_response()
}

async fn roadmap_outcome(
    ctx: &PageCtx,
    state: &AppState,
    code: &str,
    anchor: &str,
    result: Result<(), CoreError>,
) -> PageResponse {
    match result {
        Ok(()) => Ok(back(code, anchor)),
        Err(e) => match failure(&e) {
            Some((message, _, status)) => super::pages::render(ctx, state, code, Some(message), status).await,
            None => Err(ctx.error(e)),
        },
    }
}

async fn add_action(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(code): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let result = match patch_from(&fields) {
        Ok(patch) => actions::create_action(&state.db, p, &code, &patch).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(v) => Ok(Redirect::to(&format!("/actions/{}", v.action.id)).into_response()),
        Err(e) => roadmap_outcome(&ctx, &state, &code, "", Err(e)).await,
    }
}

async fn add_objective(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(code): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let patch = ObjectivePatch {
        axis_title: fields.text("axe"),
        title: fields.text("titre"),
        description: fields.text("description"),
        national_objective: fields.get("objectif_national").map(|v| Some(v.to_owned())),
    };
    let result = actions::create_objective(&state.db, p, &code, &patch)
        .await
        .map(|_| ());
    roadmap_outcome(&ctx, &state, &code, "#actions", result).await
}

async fn publish(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(code): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let version = fields.version();
    let result = actions::publish(&state.db, p, &code, version).await.map(|_| ());
    roadmap_outcome(&ctx, &state, &code, "", result).await
}

async fn bilan(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(code): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let result = match fields.get("annee").map(|v| v.trim().parse::<i64>()) {
        Some(Ok(year)) => {
            actions::write_bilan(&state.db, p, &code, year, fields.get("synthese").unwrap_or(""))
                .await
                .map(|_| ())
        }
        _ => Err(CoreError::Validation(vec![FieldError::new(
            "annee",
            "année attendue",
        )])),
    };
    roadmap_outcome(&ctx, &state, &code, "#bilans", result).await
}

// ---------------------------------------------------------------------------------------
// The list

#[derive(Template)]
#[template(path = "roadmap/actions.html")]
struct ListPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    q: super::actions_api::ActionsQuery,
    items: Vec<ActionView>,
    academies: Vec<gouvernail_core::territory::model::Academie>,
    statuses: &'static [&'static str],
    export_query: String,
    message: Option<String>,
}

async fn list_page(
    ctx: PageCtx,
    State(state): State<AppState>,
    Query(q): Query<super::actions_api::ActionsQuery>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let mut q = q;
    if q.academie.as_deref().is_none_or(str::is_empty) && !q.mes.unwrap_or(false) {
        let national = p
            .can(&state.db, Capability::Read, &Perimeter::National)
            .await
            .map_err(|e| ctx.error(e))?;
        if !national {
            // Without an académie, a person outside the national level sees their own actions.
            q.mes = Some(true);
        }
    }
    let (items, message) = match actions::list_actions(&state.db, p, &q.filter()).await {
        Ok(items) => (items, None),
        Err(e @ CoreError::Validation(_)) => (Vec::new(), Some(e.to_string())),
        Err(e) => return Err(ctx.error(e)),
    };
    let academies = gouvernail_core::territory::service::list_academies(&state.db, false)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .filter(|a| a.kind == "academie")
        .collect();
    let mut export_query = String::new();
    for (k, v) in [
        ("academie", q.academie.clone()),
        ("axe", q.axe.clone()),
        ("statut", q.statut.clone()),
        ("departement", q.departement.clone()),
        ("q", q.q.clone()),
        ("enRetard", q.en_retard.filter(|b| *b).map(|_| "true".to_owned())),
        ("mes", q.mes.filter(|b| *b).map(|_| "true".to_owned())),
    ] {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            let _ = write!(export_query, "{k}={}&", crate::pages::url_encode(&v));
        }
    }
    let crumbs = Crumbs::new(ctx.t("actions-title"));
    Ok(ctx
        .render(&ListPage {
            ctx: ctx.clone(),
            crumbs,
            q,
            items,
            academies,
            statuses: STATUSES,
            export_query,
            message,
        })?
        .into_response())
}

// ---------------------------------------------------------------------------------------
// The timeline

fn status_fill(status: &str, late: bool) -> &'static str {
    if late {
        return "#ce0500";
    }
    match status {
        "en-cours" => "#000091",
        "termine" => "#18753c",
        "abandonne" => "#666666",
        _ => "#8585f6",
    }
}

/// The roadmap as a Gantt-like picture: one bar per dated action, its milestones as
/// diamonds, years marked, today's line. The action table beside it carries the same data.
pub fn timeline(ctx: &PageCtx, items: &[ActionView], today: Date, title: &str) -> Option<String> {
    let dated: Vec<&ActionView> = items
        .iter()
        .filter(|v| v.action.start_date.is_some() || v.action.end_date.is_some())
        .collect();
    if dated.is_empty() {
        return None;
    }
    let first = dated
        .iter()
        .filter_map(|v| v.action.start_date.or(v.action.end_date))
        .min()
        .unwrap_or(today)
        .min(today);
    let last = dated
        .iter()
        .filter_map(|v| v.action.end_date.or(v.action.start_date))
        .chain(dated.iter().flat_map(|v| v.milestones.iter().map(|m| m.due_date)))
        .max()
        .unwrap_or(today)
        .max(today);
    let (start_year, end_year) = (first.year(), last.year() + 1);
    let origin = Date::from_ordinal_date(start_year, 1).unwrap_or(first);
    let span = (Date::from_ordinal_date(end_year, 1).unwrap_or(last) - origin)
        .whole_days()
        .max(1) as f64;
    let (label_w, chart_w, row_h, top) = (260.0_f64, 640.0_f64, 24.0_f64, 28.0_f64);
    let x = |d: Date| label_w + chart_w * ((d - origin).whole_days() as f64 / span);
    let height = top + row_h * dated.len() as f64 + 8.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {height}\" role=\"img\" aria-labelledby=\"frise-titre frise-desc\" class=\"gv-timeline\">\
         <title id=\"frise-titre\">{}</title><desc id=\"frise-desc\">{}</desc>",
        label_w + chart_w + 10.0,
        escape(title),
        escape(&ctx.t("timeline-desc")),
    );
    for year in start_year..=end_year {
        if let Ok(d) = Date::from_ordinal_date(year, 1) {
            let xx = x(d);
            let _ = write!(
                svg,
                "<line x1=\"{xx:.1}\" y1=\"16\" x2=\"{xx:.1}\" y2=\"{height}\" stroke=\"#dddddd\"/>"
            );
            // The last line closes the chart; its year would fall outside.
            if year < end_year {
                let _ = write!(
                    svg,
                    "<text x=\"{:.1}\" y=\"12\" font-size=\"11\" fill=\"#161616\">{year}</text>",
                    xx + 2.0
                );
            }
        }
    }
    for (i, v) in dated.iter().enumerate() {
        let y = top + row_h * i as f64;
        let a = &v.action;
        let start = a.start_date.or(a.end_date).unwrap_or(today);
        let end = a.end_date.or(a.start_date).unwrap_or(today);
        let label: String = format!("{} {}", a.code, a.title).chars().take(40).collect();
        let _ = write!(
            svg,
            "<g><text x=\"4\" y=\"{:.1}\" font-size=\"11\" fill=\"#161616\">{}</text>\
             <rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"12\" rx=\"2\" fill=\"{}\"><title>{}</title></rect>",
            y + 14.0,
            escape(&label),
            x(start),
            y + 4.0,
            (x(end) - x(start)).max(3.0),
            status_fill(&a.status, v.late),
            escape(&format!(
                "{} — {} — {} → {}",
                a.code,
                ctx.label("action-status", &a.status),
                start,
                end
            )),
        );
        for m in &v.milestones {
            let (mx, my) = (x(m.due_date), y + 10.0);
            let _ = write!(
                svg,
                "<path d=\"M{mx:.1} {:.1} L{:.1} {my:.1} L{mx:.1} {:.1} L{:.1} {my:.1} Z\" fill=\"{}\" stroke=\"#161616\"><title>{}</title></path>",
                my - 6.0,
                mx + 6.0,
                my + 6.0,
                mx - 6.0,
                if m.done { "#ffffff" } else { "#fcc63a" },
                escape(&format!("{} — {}", m.label, m.due_date)),
            );
        }
        svg.push_str("</g>");
    }
    let tx = x(today);
    let _ = write!(
        svg,
        "<line x1=\"{tx:.1}\" y1=\"16\" x2=\"{tx:.1}\" y2=\"{height}\" stroke=\"#ce0500\" stroke-width=\"2\" stroke-dasharray=\"4 2\"/>\
         <text x=\"{:.1}\" y=\"24\" font-size=\"11\" fill=\"#ce0500\">{}</text></svg>",
        tx + 3.0,
        escape(&ctx.t("timeline-today")),
    );
    Some(svg)
}

/// The money of a view in French.
pub fn euros(cents: i64) -> String {
    money::french(cents)
}
