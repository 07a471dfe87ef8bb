//! The equipment pages: the gap analysis of a perimeter (lists, map coloured by readiness,
//! per-collectivité summary, exports), a school's equipment with the declaration form of
//! its collectivité, the imports (itemised inventory, the ministry's pupil counts) with
//! their report, the collectivités' plans with their form, and the needs of the projects
//! with their edit form (for those who may write them).
//!
//! Handlers parse, call one service function per read or write, and render. A refused form
//! shows its page again with what was typed kept and an error summary linking to the named
//! fields (422), a concurrent change as a message (409); a missing right is the error page
//! (403, or 404 when the object is not even readable). Rights are the core service's.

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gouvernail_core::equipment::service as equip;
use gouvernail_core::equipment::views::{self, Readiness, ReadinessLevel};
use gouvernail_core::equipment::*;
use gouvernail_core::identity::{Perimeter, Principal, Role};
use gouvernail_core::territory::model::PageRequest;
use gouvernail_core::{CoreError, FieldError};
use serde::Deserialize;
use time::Date;

use crate::charts::map::{Tile, departement_map, departement_table};
use crate::charts::{Bucket, DataTable};
use crate::pages::{Crumbs, Num, PageCtx, PageError, url_encode};
use crate::state::AppState;
use crate::upload::{FILE_FIELD, PostedForm, UPLOAD_CEILING, Upload, UploadProblem};

/// The routes of the equipment pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ecarts", get(gaps_page))
        .route("/equipements/imports", get(imports_page))
        .route(
            "/equipements/imports/inventaire",
            post(import_itemised).layer(DefaultBodyLimit::max(UPLOAD_CEILING)),
        )
        .route(
            "/equipements/imports/effectifs",
            post(import_pupils).layer(DefaultBodyLimit::max(UPLOAD_CEILING)),
        )
        .route("/equipements/{uai}", get(school_page).post(declare))
        .route("/equipements/{uai}/commentaires", post(comment_school))
        .route("/plans-equipement", get(plans_page).post(create_plan))
        .route("/plans-equipement/{id}", get(plan_page).post(update_plan))
        .route("/plans-equipement/{id}/commentaires", post(comment_plan))
        .route("/besoins", get(needs_page))
        .route("/besoins/{id}/modifier", get(need_page).post(update_need))
}

type PageResponse = Result<Response, PageError>;

/// The code of the bandwidth band of a figure in Mb/s, for the templates.
pub fn band_of(mbps: impl Num) -> &'static str {
    BandwidthBand::of_mbps(mbps.value()).as_str()
}

/// Hundredths written as a decimal (`1234` → `12,34`), for the templates.
pub fn x100(value: impl Num) -> String {
    hundredths(value.value())
}

/// How many lines of each gap list the page shows (the exports hold them all).
const LIST_LINES: u32 = 25;

// ---------------------------------------------------------------------------------------
// Forms

/// A posted form as its pairs.
#[derive(Debug, Clone, Default)]
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A trimmed value, `None` when absent or empty.
    fn filled(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    fn text(&self, name: &str) -> Option<String> {
        self.filled(name).map(str::to_owned)
    }

    /// A whole number, its error named when it is not one.
    fn int(&self, name: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
        let text = self.filled(name)?;
        match text.replace([' ', '\u{a0}', '\u{202f}'], "").parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.push(FieldError::new(
                    name,
                    format!("« {text} » : nombre entier attendu"),
                ));
                None
            }
        }
    }

    fn date(&self, name: &str, errors: &mut Vec<FieldError>) -> Option<Date> {
        let text = self.filled(name)?;
        match Date::parse(text, time::macros::format_description!("[year]-[month]-[day]")) {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(FieldError::new(
                    name,
                    format!("« {text} » : date attendue (AAAA-MM-JJ)"),
                ));
                None
            }
        }
    }

    /// The version the form was read at (`-1` when missing: the save then gets 409).
    fn version(&self) -> i64 {
        self.filled("version").and_then(|v| v.parse().ok()).unwrap_or(-1)
    }
}

/// The values of one form and its errors (keyed by the form's field names).
#[derive(Debug, Clone, Default)]
pub struct FormState {
    values: Vec<(String, String)>,
    errors: Vec<FieldError>,
}

impl FormState {
    fn of(values: Vec<(String, String)>) -> Self {
        Self {
            values,
            errors: Vec::new(),
        }
    }

    /// The value of a field ("" when none).
    pub fn v(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// True when the field holds this value (selects).
    pub fn is(&self, name: &str, value: &str) -> bool {
        self.v(name) == value
    }

    /// True when the field has an error.
    pub fn has_err(&self, name: &str) -> bool {
        self.errors.iter().any(|e| e.field == name)
    }

    /// The errors of a field, as one sentence.
    pub fn err(&self, name: &str) -> Option<String> {
        let messages: Vec<&str> = self
            .errors
            .iter()
            .filter(|e| e.field == name)
            .map(|e| e.message.as_str())
            .collect();
        (!messages.is_empty()).then(|| messages.join(" ; "))
    }
}

/// One entry of the error summary: a link to the field when the form has it.
#[derive(Debug, Clone)]
pub struct Problem {
    pub anchor: Option<String>,
    pub label: String,
    pub message: String,
}

/// A form that failed: which one, what was typed, what to say.
struct Failure {
    form: &'static str,
    state: FormState,
    message: String,
    problems: Vec<Problem>,
    status: StatusCode,
}

impl Failure {
    fn state(failure: Option<&Failure>, form: &str) -> Option<FormState> {
        failure.filter(|f| f.form == form).map(|f| f.state.clone())
    }

    fn parts(failure: Option<Failure>) -> (StatusCode, Option<String>, Vec<Problem>) {
        failure.map_or((StatusCode::OK, None, Vec::new()), |f| {
            (f.status, Some(f.message), f.problems)
        })
    }
}

/// What a refused form shows, or the error page for anything else. `rename` turns a
/// service's field (`valeurs[2].quantite`) into the form's field and its label.
fn failure(
    ctx: &PageCtx,
    form: &'static str,
    fields: Fields,
    e: CoreError,
    rename: &dyn Fn(&str) -> (String, String),
) -> Result<Failure, PageError> {
    let text = e.to_string();
    let (message, errors, status) = match e {
        CoreError::Validation(f) | CoreError::BadRequest(f) => {
            (ctx.t("eq-invalid"), f, StatusCode::UNPROCESSABLE_ENTITY)
        }
        CoreError::Conflict(_) => (text, Vec::new(), StatusCode::CONFLICT),
        other => return Err(ctx.error(other)),
    };
    let mut renamed = Vec::with_capacity(errors.len());
    let mut problems = Vec::with_capacity(errors.len());
    for e in errors {
        let (field, label) = rename(&e.field);
        let present = fields.0.iter().any(|(k, _)| *k == field);
        problems.push(Problem {
            anchor: present.then(|| format!("f-{field}")),
            label,
            message: e.message.clone(),
        });
        renamed.push(FieldError::new(field, e.message));
    }
    Ok(Failure {
        form,
        state: FormState {
            values: fields.0,
            errors: renamed,
        },
        message,
        problems,
        status,
    })
}

fn same_name(field: &str) -> (String, String) {
    (field.to_owned(), field.to_owned())
}

fn validation(errors: Vec<FieldError>) -> Result<(), CoreError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CoreError::Validation(errors))
    }
}

/// `valeurs[3].quantite` → `(3, "quantite")`; `lignes[0].uai` → `(0, "uai")`.
fn indexed<'a>(field: &'a str, list: &str) -> Option<(usize, &'a str)> {
    let rest = field.strip_prefix(list)?.strip_prefix('[')?;
    let (index, rest) = rest.split_once(']')?;
    Some((index.parse().ok()?, rest.strip_prefix('.').unwrap_or("")))
}

// ---------------------------------------------------------------------------------------
// Perimeter and date

#[derive(Debug, Default, Deserialize)]
struct GapQuery {
    perimetre: Option<String>,
    date: Option<String>,
}

/// The default horizon of the plans: 31 December, two years on (as the API).
fn horizon() -> Date {
    let today = equip::today();
    Date::from_calendar_date(today.year() + 2, time::Month::December, 31).unwrap_or(today)
}

/// The perimeter a person looks at first: the first académie, département or collectivité
/// they hold a role on, else the whole country.
fn default_scope(p: &Principal) -> String {
    p.grants
        .iter()
        .find_map(|g| match &g.perimeter {
            pe @ (Perimeter::Academie(_) | Perimeter::Departement(_) | Perimeter::Collectivite(_)) => {
                Some(pe.to_string())
            }
            _ => None,
        })
        .unwrap_or_else(|| "national".to_owned())
}

/// The perimeters a person may pick (those of their roles, and the country).
fn own_scopes(p: &Principal) -> Vec<String> {
    let mut out: Vec<String> = p
        .grants
        .iter()
        .filter(|g| {
            matches!(
                g.perimeter,
                Perimeter::Academie(_) | Perimeter::Departement(_) | Perimeter::Collectivite(_)
            )
        })
        .map(|g| g.perimeter.to_string())
        .collect();
    out.sort();
    out.dedup();
    out.push("national".to_owned());
    out
}

// ---------------------------------------------------------------------------------------
// Gap analysis

/// One gap list as the page shows it.
pub struct GapListView {
    pub kind: &'static str,
    pub lines: Vec<GapLine>,
    pub total: i64,
    /// The list carries a need (the first two) or only the school's units.
    pub with_need: bool,
}

/// A readiness row with its shares written out.
pub struct ReadinessView {
    pub r: Readiness,
    pub ready_today: String,
    pub ready_after: String,
}

#[derive(Template)]
#[template(path = "equipment/ecarts.html")]
struct GapsPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    perimetre: String,
    date: String,
    scopes: Vec<String>,
    summary: GapSummary,
    lists: Vec<GapListView>,
    map: String,
    map_table: DataTable,
    /// Per département (national, académie) or per commune (département, collectivité).
    readiness: Vec<ReadinessView>,
    by_commune: bool,
    export_query: String,
}

fn ready_bucket(share: Option<f64>) -> Bucket {
    match share {
        None => Bucket::NoData,
        Some(s) if s >= 0.8 => Bucket::Good,
        Some(s) if s >= 0.5 => Bucket::Warning,
        Some(_) => Bucket::Bad,
    }
}

fn share_text(ctx: &PageCtx, share: Option<f64>) -> String {
    share.map_or_else(|| ctx.t("chart-nd"), |s| ctx.lang.percent(s, 0))
}

async fn gaps_page(ctx: PageCtx, State(state): State<AppState>, Query(q): Query<GapQuery>) -> PageResponse {
    let p = ctx.require_user()?;
    let perimetre = q
        .perimetre
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map_or_else(|| default_scope(p), str::to_owned);
    let scope = equip::parse_scope(&perimetre).map_err(|e| ctx.error(e))?;
    let date = match q.date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => horizon(),
        Some(text) => {
            let mut errors = Vec::new();
            let fields = Fields(vec![("date".to_owned(), text.to_owned())]);
            match fields.date("date", &mut errors) {
                Some(d) => d,
                None => return Err(ctx.error(CoreError::BadRequest(errors))),
            }
        }
    };
    let db = &state.db;
    let summary = equip::gap_summary(db, p, &scope, date)
        .await
        .map_err(|e| ctx.error(e))?;
    let mut lists = Vec::with_capacity(GapKind::ALL.len());
    for kind in GapKind::ALL {
        let page = equip::gap_list(
            db,
            p,
            &scope,
            date,
            *kind,
            PageRequest {
                page: 1,
                per_page: LIST_LINES,
            },
        )
        .await
        .map_err(|e| ctx.error(e))?;
        lists.push(GapListView {
            kind: kind.as_str(),
            lines: page.items,
            total: page.total,
            with_need: matches!(kind, GapKind::CibleSansEquipement | GapKind::EncoreApresPlans),
        });
    }
    let by_departement = views::readiness(db, p, &scope, date, ReadinessLevel::Departement)
        .await
        .map_err(|e| ctx.error(e))?;
    let by_commune = matches!(scope, Scope::Departement(_) | Scope::Collectivite(_));
    let rows = if by_commune {
        views::readiness(db, p, &scope, date, ReadinessLevel::Commune)
            .await
            .map_err(|e| ctx.error(e))?
    } else {
        by_departement.clone()
    };
    let tiles: Vec<Tile> = by_departement
        .iter()
        .map(|r| {
            let share = r.ready_share();
            Tile {
                code: r.code.clone(),
                label: format!(
                    "{} : {} {} / {} {}, {} {}",
                    r.nom,
                    ctx.int(r.targeted - r.lacking_today),
                    ctx.t("eq-map-ready"),
                    ctx.int(r.targeted),
                    ctx.t("eq-map-targeted"),
                    ctx.int(r.targeted - r.lacking_after_plans),
                    ctx.t("eq-map-after"),
                ),
                value_text: if share.is_some() {
                    share_text(&ctx, share)
                } else {
                    String::new()
                },
                class: ready_bucket(share),
            }
        })
        .collect();
    let legend = [
        (Bucket::Good, ctx.t("eq-map-good")),
        (Bucket::Warning, ctx.t("eq-map-warning")),
        (Bucket::Bad, ctx.t("eq-map-bad")),
    ];
    let title = format!("{} — {}", ctx.t("eq-map-title"), summary.scope_label);
    let desc = map_description(&ctx, &summary, &by_departement);
    let map = departement_map(ctx.lang, &title, &desc, &tiles, &legend);
    let mut map_table = departement_table(
        ctx.lang,
        &title,
        [&ctx.t("eq-col-departement"), &ctx.t("eq-map-share")],
        &tiles,
    );
    if !matches!(scope, Scope::National) {
        map_table.rows.retain(|row| {
            row.first()
                .is_some_and(|c| tiles.iter().any(|t| c.ends_with(&format!("({})", t.code))))
        });
    }
    let readiness = rows
        .into_iter()
        .map(|r| ReadinessView {
            ready_today: share_text(&ctx, r.ready_share()),
            ready_after: share_text(&ctx, r.ready_after_plans_share()),
            r,
        })
        .collect();
    let export_query = format!("perimetre={}&date={date}", url_encode(&perimetre));
    let crumbs = Crumbs::new(ctx.t("eq-gaps-title"));
    let html = ctx.render(&GapsPage {
        ctx: ctx.clone(),
        crumbs,
        scopes: own_scopes(p),
        perimetre,
        date: date.to_string(),
        summary,
        lists,
        map,
        map_table,
        readiness,
        by_commune,
        export_query,
    })?;
    Ok(html.into_response())
}

/// The text alternative of the map: what it shows, in one or two sentences.
fn map_description(ctx: &PageCtx, summary: &GapSummary, rows: &[Readiness]) -> String {
    let t = &summary.totals;
    let mut out = format!(
        "{} {} : {} {}, {} {}, {} {}.",
        ctx.t("eq-map-desc"),
        summary.scope_label,
        ctx.int(t.targeted),
        ctx.t("eq-map-targeted"),
        ctx.int(t.targeted - t.lacking_today),
        ctx.t("eq-map-ready"),
        ctx.int(t.targeted - t.lacking_after_plans),
        ctx.t("eq-map-after"),
    );
    let without: Vec<&str> = rows
        .iter()
        .filter(|r| r.targeted == 0)
        .map(|r| r.nom.as_str())
        .collect();
    if !without.is_empty() && without.len() < 10 {
        out.push(' ');
        out.push_str(&ctx.t("eq-map-none"));
        out.push_str(" : ");
        out.push_str(&without.join(", "));
        out.push('.');
    }
    out
}

// ---------------------------------------------------------------------------------------
// A school's equipment

/// One category of the declaration form with its current figure.
pub struct FigureRow {
    pub code: &'static str,
    /// `count`, `wifi`, `debit`, `ent` or `maintenance`.
    pub kind: &'static str,
    pub current: Option<Declaration>,
}

#[derive(Template)]
#[template(path = "equipment/etablissement.html")]
struct SchoolPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    inv: Inventory,
    rows: Vec<FigureRow>,
    bands: &'static [BandwidthBand],
    maintainers: &'static [Maintainer],
    ratio: Option<String>,
    form: FormState,
    comment_form: FormState,
    message: Option<String>,
    problems: Vec<Problem>,
}

fn kind_of(c: Category) -> &'static str {
    match c {
        Category::Wifi => "wifi",
        Category::Debit => "debit",
        Category::Ent => "ent",
        Category::Maintenance => "maintenance",
        _ => "count",
    }
}

/// The declaration form as the current figures fill it.
fn declaration_defaults(inv: &Inventory) -> FormState {
    let mut values = vec![
        ("version".to_owned(), inv.version.to_string()),
        ("date".to_owned(), equip::today().to_string()),
        ("source".to_owned(), String::new()),
    ];
    for d in &inv.current {
        let Some(c) = Category::from_code(&d.category) else {
            continue;
        };
        let q = d.quantity.map(|q| q.to_string()).unwrap_or_default();
        match c {
            Category::Debit => values.push((
                "bande".to_owned(),
                d.quantity
                    .map(|q| BandwidthBand::of_mbps(q).as_str().to_owned())
                    .unwrap_or_default(),
            )),
            Category::Maintenance => {
                values.push(("mainteneur".to_owned(), d.maintainer.clone().unwrap_or_default()));
                values.push(("niveau".to_owned(), d.service_level.clone().unwrap_or_default()));
                values.push((
                    "delai".to_owned(),
                    d.response_hours.map(|h| h.to_string()).unwrap_or_default(),
                ));
            }
            c => {
                values.push((format!("q-{}", c.as_str()), q));
                if c.is_count() {
                    values.push((
                        format!("old-{}", c.as_str()),
                        d.quantity_old.map(|q| q.to_string()).unwrap_or_default(),
                    ));
                }
            }
        }
    }
    FormState::of(values)
}

async fn render_school(ctx: &PageCtx, state: &AppState, uai: &str, failure: Option<Failure>) -> PageResponse {
    let p = ctx.require_user()?;
    let inv = equip::inventory(&state.db, p, uai)
        .await
        .map_err(|e| ctx.error(e))?;
    let rows = Category::ALL
        .iter()
        .map(|c| FigureRow {
            code: c.as_str(),
            kind: kind_of(*c),
            current: inv.current.iter().find(|d| d.category == c.as_str()).cloned(),
        })
        .collect();
    let form = Failure::state(failure.as_ref(), "declaration").unwrap_or_else(|| declaration_defaults(&inv));
    let comment_form = Failure::state(failure.as_ref(), "commentaire").unwrap_or_default();
    let (status, message, problems) = Failure::parts(failure);
    let ratio = inv.terminals_per_100_pupils_x100.map(hundredths);
    let crumbs = Crumbs::new(inv.nom.clone())
        .link("/ecarts", ctx.t("eq-gaps-title"))
        .link(format!("/etablissements/{}", inv.uai), inv.uai.clone());
    let html = ctx.render(&SchoolPage {
        ctx: ctx.clone(),
        crumbs,
        inv,
        rows,
        bands: BandwidthBand::ALL,
        maintainers: Maintainer::ALL,
        ratio,
        form,
        comment_form,
        message,
        problems,
    })?;
    Ok((status, html).into_response())
}

async fn school_page(ctx: PageCtx, State(state): State<AppState>, Path(uai): Path<String>) -> PageResponse {
    render_school(&ctx, &state, &uai, None).await
}

/// The declaration a posted form describes, with the category of each figure (to name the
/// fields of the service's errors).
fn declaration_input(fields: &Fields) -> Result<(DeclarationInput, Vec<Category>), CoreError> {
    let mut errors = Vec::new();
    let as_of = fields.date("date", &mut errors);
    let mut figures = Vec::new();
    let mut order = Vec::new();
    for c in Category::ALL {
        let code = c.as_str();
        let figure = match c {
            Category::Debit => fields.text("bande").map(|band| FigureInput {
                category: code.to_owned(),
                band: Some(band),
                ..FigureInput::default()
            }),
            Category::Maintenance => fields.text("mainteneur").map(|m| FigureInput {
                category: code.to_owned(),
                maintainer: Some(m),
                service_level: fields.text("niveau"),
                response_hours: fields.int("delai", &mut errors),
                ..FigureInput::default()
            }),
            c => {
                let q = fields.int(&format!("q-{code}"), &mut errors);
                let old = if c.is_count() {
                    fields.int(&format!("old-{code}"), &mut errors)
                } else {
                    None
                };
                q.map(|q| FigureInput {
                    category: code.to_owned(),
                    quantity: Some(q),
                    quantity_old: old,
                    ..FigureInput::default()
                })
            }
        };
        if let Some(f) = figure {
            figures.push(f);
            order.push(*c);
        }
    }
    validation(errors)?;
    Ok((
        DeclarationInput {
            as_of,
            source: fields.text("source"),
            figures,
        },
        order,
    ))
}

/// The form's field and label of a declaration error.
fn declaration_field(ctx: &PageCtx, order: &[Category], field: &str) -> (String, String) {
    if let Some((i, sub)) = indexed(field, "valeurs")
        && let Some(c) = order.get(i)
    {
        let code = c.as_str();
        let name = match (c, sub) {
            (Category::Debit, _) => "bande".to_owned(),
            (Category::Maintenance, "niveauService") => "niveau".to_owned(),
            (Category::Maintenance, "delaiHeures") => "delai".to_owned(),
            (Category::Maintenance, _) => "mainteneur".to_owned(),
            (_, "quantitePlusDe5Ans") => format!("old-{code}"),
            _ => format!("q-{code}"),
        };
        let sub_label = if name.starts_with("old-") {
            format!(" — {}", ctx.t("eq-old"))
        } else {
            String::new()
        };
        return (name, format!("{}{sub_label}", ctx.label("eq-cat", code)));
    }
    let label = match field {
        "date" => ctx.t("eq-as-of"),
        "source" => ctx.t("eq-source"),
        "valeurs" => ctx.t("eq-figures"),
        f if f.starts_with("q-") || f.starts_with("old-") => {
            let code = f.trim_start_matches("q-").trim_start_matches("old-");
            ctx.label("eq-cat", code)
        }
        other => other.to_owned(),
    };
    let name = if field == "valeurs" { "q-poste-fixe" } else { field };
    (name.to_owned(), label)
}

async fn declare(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(uai): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let (result, order) = match declaration_input(&fields) {
        Ok((input, order)) => (
            equip::declare(&state.db, p, &uai, fields.version(), &input)
                .await
                .map(|_| ()),
            order,
        ),
        Err(e) => (Err(e), Vec::new()),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/equipements/{uai}?declare=1#inventaire")).into_response()),
        Err(e) => {
            let f = failure(&ctx, "declaration", fields, e, &|field| {
                declaration_field(&ctx, &order, field)
            })?;
            render_school(&ctx, &state, &uai, Some(f)).await
        }
    }
}

async fn comment_school(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(uai): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let body = fields.get("texte").unwrap_or("").to_owned();
    match equip::comment_school(&state.db, p, &uai, &body).await {
        Ok(_) => Ok(Redirect::to(&format!("/equipements/{uai}#commentaires")).into_response()),
        Err(e) => {
            let f = failure(&ctx, "commentaire", fields, e, &same_name)?;
            render_school(&ctx, &state, &uai, Some(f)).await
        }
    }
}

// ---------------------------------------------------------------------------------------
// Imports

#[derive(Template)]
#[template(path = "equipment/imports.html")]
struct ImportsPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    itemised: FormState,
    pupils: FormState,
    /// The report of the import just made, and which one.
    report: Option<(&'static str, ImportReport)>,
    message: Option<String>,
    problems: Vec<Problem>,
    /// The largest file accepted.
    max_upload_mib: usize,
}

fn render_imports(
    ctx: &PageCtx,
    state: &AppState,
    failure: Option<Failure>,
    report: Option<(&'static str, ImportReport)>,
    posted: Option<(&'static str, Fields)>,
) -> PageResponse {
    ctx.require_user()?;
    let kept = |form: &str| {
        posted
            .as_ref()
            .filter(|(f, _)| *f == form)
            .map(|(_, fields)| FormState::of(fields.0.clone()))
    };
    let itemised = Failure::state(failure.as_ref(), "inventaire")
        .or_else(|| kept("inventaire"))
        .unwrap_or_else(|| FormState::of(vec![("date".to_owned(), equip::today().to_string())]));
    let pupils = Failure::state(failure.as_ref(), "effectifs")
        .or_else(|| kept("effectifs"))
        .unwrap_or_default();
    let (status, message, problems) = Failure::parts(failure);
    let html = ctx.render(&ImportsPage {
        ctx: ctx.clone(),
        crumbs: Crumbs::new(ctx.t("eq-imports-title")).link("/ecarts", ctx.t("eq-gaps-title")),
        itemised,
        pupils,
        report,
        message,
        problems,
        max_upload_mib: state.config.storage.max_bytes / (1024 * 1024),
    })?;
    Ok((status, html).into_response())
}

async fn imports_page(ctx: PageCtx, State(state): State<AppState>) -> PageResponse {
    render_imports(&ctx, &state, None, None, None)
}

/// The bytes of an import: the file sent, or the text pasted in `contenu` (not both). A
/// CSV is expected: a zip (XLSX, ODS) is refused, as the API takes CSV only. Errors are
/// named on the field the content came from (`fichier` or `contenu`), and `errors` gets
/// them.
fn import_bytes(
    ctx: &PageCtx,
    fields: &Fields,
    file: Option<Upload>,
    problem: Option<UploadProblem>,
    errors: &mut Vec<FieldError>,
) -> Option<(&'static str, Vec<u8>)> {
    if let Some(problem) = problem {
        errors.push(FieldError::new(FILE_FIELD, problem.message(ctx)));
        return None;
    }
    match (file, fields.filled("contenu")) {
        (Some(_), Some(_)) => errors.push(FieldError::new(FILE_FIELD, ctx.t("upload-both"))),
        (Some(file), None) if file.is_zip() => {
            errors.push(FieldError::new(FILE_FIELD, ctx.t("eq-file-csv-only")));
        }
        (Some(file), None) => return Some((FILE_FIELD, file.bytes)),
        (None, Some(_)) => {
            return Some(("contenu", fields.get("contenu").unwrap_or("").as_bytes().to_vec()));
        }
        (None, None) => errors.push(FieldError::new("contenu", "obligatoire")),
    }
    None
}

/// Names a whole-file error of the service (`fichier`) on the field the content came from.
fn on_source(source: Option<&str>, e: CoreError) -> CoreError {
    let rename = |errors: Vec<FieldError>| {
        errors
            .into_iter()
            .map(|e| match (e.field.as_str(), source) {
                ("fichier" | "contenu", Some(field)) => FieldError::new(field, e.message),
                _ => e,
            })
            .collect()
    };
    match e {
        CoreError::Validation(errors) => CoreError::Validation(rename(errors)),
        CoreError::BadRequest(errors) => CoreError::BadRequest(rename(errors)),
        other => other,
    }
}

/// A refused import form: its fields are named `f-FORM-NAME` on the page (two forms share
/// it), so are the links of the error summary. A file cannot be shown again: its field is
/// marked present so that its error is linked.
fn import_failure(
    ctx: &PageCtx,
    form: &'static str,
    mut fields: Fields,
    e: CoreError,
) -> Result<Failure, PageError> {
    if !fields.0.iter().any(|(k, _)| k == FILE_FIELD) {
        fields.0.push((FILE_FIELD.to_owned(), String::new()));
    }
    let mut f = failure(ctx, form, fields, e, &same_name)?;
    for p in &mut f.problems {
        if let Some(anchor) = &mut p.anchor {
            *anchor = format!("f-{form}-{}", anchor.trim_start_matches("f-"));
        }
    }
    Ok(f)
}

async fn import_itemised(ctx: PageCtx, State(state): State<AppState>, posted: PostedForm) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(posted.pairs);
    let mut errors = Vec::new();
    let as_of = fields.date("date", &mut errors);
    let content = import_bytes(&ctx, &fields, posted.file, posted.problem, &mut errors);
    let source = content.as_ref().map(|(field, _)| *field);
    let result = match (validation(errors), &content) {
        (Ok(()), Some((_, bytes))) => {
            equip::import_itemised(&state.db, p, bytes, as_of, fields.filled("source")).await
        }
        (Err(e), _) => Err(e),
        (Ok(()), None) => Err(CoreError::Validation(vec![FieldError::new(
            "contenu",
            "obligatoire",
        )])),
    };
    match result {
        Ok(report) => render_imports(
            &ctx,
            &state,
            None,
            Some(("inventaire", report)),
            Some(("inventaire", fields)),
        ),
        Err(CoreError::Forbidden) => Err(ctx.error(CoreError::Forbidden)),
        Err(e) => {
            let f = import_failure(&ctx, "inventaire", fields, on_source(source, e))?;
            render_imports(&ctx, &state, Some(f), None, None)
        }
    }
}

async fn import_pupils(ctx: PageCtx, State(state): State<AppState>, posted: PostedForm) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(posted.pairs);
    let mut errors = Vec::new();
    let content = import_bytes(&ctx, &fields, posted.file, posted.problem, &mut errors);
    let source = content.as_ref().map(|(field, _)| *field);
    let result = match (validation(errors), &content) {
        (Ok(()), Some((_, bytes))) => equip::import_pupils(&state.db, p, bytes).await,
        (Err(e), _) => Err(e),
        (Ok(()), None) => Err(CoreError::Validation(vec![FieldError::new(
            "contenu",
            "obligatoire",
        )])),
    };
    match result {
        Ok(report) => render_imports(
            &ctx,
            &state,
            None,
            Some(("effectifs", report)),
            Some(("effectifs", fields)),
        ),
        Err(CoreError::Forbidden) => Err(ctx.error(CoreError::Forbidden)),
        Err(e) => {
            let f = import_failure(&ctx, "effectifs", fields, on_source(source, e))?;
            render_imports(&ctx, &state, Some(f), None, None)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Plans

#[derive(Template)]
#[template(path = "equipment/plans.html")]
struct PlansPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    plans: Vec<(Plan, String)>,
    /// The collectivités the person plans for (SIREN).
    sirens: Vec<String>,
    form: FormState,
    rows: Vec<usize>,
    contract_rows: Vec<usize>,
    actions: &'static [PlanAction],
    categories: &'static [Category],
    fundings: &'static [Funding],
    statuses: &'static [LineStatus],
    message: Option<String>,
    problems: Vec<Problem>,
}

fn planning_sirens(p: &Principal) -> Vec<String> {
    let mut out: Vec<String> = p
        .grants
        .iter()
        .filter(|g| g.role == Role::RepresentantCollectivite)
        .filter_map(|g| match &g.perimeter {
            Perimeter::Collectivite(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

async fn render_plans(ctx: &PageCtx, state: &AppState, failure: Option<Failure>) -> PageResponse {
    let p = ctx.require_user()?;
    let plans = equip::plans(&state.db, p, None).await.map_err(|e| ctx.error(e))?;
    let sirens = planning_sirens(p);
    let year = i64::from(equip::today().year());
    let form = Failure::state(failure.as_ref(), "plan").unwrap_or_else(|| {
        FormState::of(vec![
            (
                "collectivite".to_owned(),
                sirens.first().cloned().unwrap_or_default(),
            ),
            ("debut".to_owned(), year.to_string()),
            ("fin".to_owned(), (year + 2).to_string()),
        ])
    });
    let (status, message, problems) = Failure::parts(failure);
    let html = ctx.render(&PlansPage {
        ctx: ctx.clone(),
        crumbs: Crumbs::new(ctx.t("eq-plans-title")).link("/ecarts", ctx.t("eq-gaps-title")),
        plans,
        sirens,
        rows: (0..row_count(&form, "l", 3)).collect(),
        contract_rows: (0..row_count(&form, "k", 1)).collect(),
        form,
        actions: PlanAction::ALL,
        categories: Category::ALL,
        fundings: Funding::ALL,
        statuses: LineStatus::ALL,
        message,
        problems,
    })?;
    Ok((status, html).into_response())
}

/// How many rows of prefix `l` (lines) or `k` (contracts) a form holds, at least `min`.
fn row_count(form: &FormState, prefix: &str, min: usize) -> usize {
    form.values
        .iter()
        .filter_map(|(k, _)| k.strip_prefix(prefix)?.split_once('-')?.0.parse::<usize>().ok())
        .map(|i| i + 1)
        .max()
        .unwrap_or(0)
        .max(min)
}

async fn plans_page(ctx: PageCtx, State(state): State<AppState>) -> PageResponse {
    render_plans(&ctx, &state, None).await
}

/// The plan a posted form describes, with the form row of each line and contract sent.
struct PostedPlan {
    input: PlanInput,
    line_rows: Vec<usize>,
    contract_rows: Vec<usize>,
}

fn plan_input(fields: &Fields) -> Result<PostedPlan, CoreError> {
    let mut errors = Vec::new();
    let form = FormState::of(fields.0.clone());
    let mut input = PlanInput {
        collectivite_siren: fields.text("collectivite"),
        title: fields.text("titre"),
        first_year: fields.int("debut", &mut errors),
        last_year: fields.int("fin", &mut errors),
        note: Some(fields.get("note").unwrap_or("").to_owned()),
        ..PlanInput::default()
    };
    let mut line_rows = Vec::new();
    for i in 0..row_count(&form, "l", 0) {
        let n = |f: &str| format!("l{i}-{f}");
        let names = [
            "annee",
            "echeance",
            "uai",
            "groupe",
            "quantite",
            "budget",
            "programme",
            "cofinance",
            "engagement",
        ];
        if names.iter().all(|f| fields.filled(&n(f)).is_none()) {
            continue;
        }
        input.lines.push(PlanLineInput {
            year: fields.int(&n("annee"), &mut errors),
            due_date: fields.date(&n("echeance"), &mut errors),
            uai: fields.text(&n("uai")),
            group_label: fields.text(&n("groupe")),
            action: fields.text(&n("action")),
            category: fields.text(&n("categorie")),
            quantity: fields.int(&n("quantite"), &mut errors),
            budget: fields.text(&n("budget")),
            funding: fields.text(&n("financement")),
            programme: fields.text(&n("programme")),
            cofunded: fields.text(&n("cofinance")),
            commitment_id: fields.text(&n("engagement")),
            status: fields.text(&n("statut")),
            delivered_on: fields.date(&n("livre"), &mut errors),
        });
        line_rows.push(i);
    }
    let mut contract_rows = Vec::new();
    for i in 0..row_count(&form, "k", 0) {
        let n = |f: &str| format!("k{i}-{f}");
        let names = [
            "prestataire",
            "objet",
            "debut",
            "fin",
            "niveau",
            "delai",
            "annuel",
            "engagement",
        ];
        if names.iter().all(|f| fields.filled(&n(f)).is_none()) {
            continue;
        }
        input.contracts.push(ContractInput {
            contractor: fields.text(&n("prestataire")),
            object: fields.text(&n("objet")),
            start_date: fields.date(&n("debut"), &mut errors),
            end_date: fields.date(&n("fin"), &mut errors),
            service_level: fields.text(&n("niveau")),
            response_hours: fields.int(&n("delai"), &mut errors),
            annual: fields.text(&n("annuel")),
            commitment_id: fields.text(&n("engagement")),
        });
        contract_rows.push(i);
    }
    validation(errors)?;
    Ok(PostedPlan {
        input,
        line_rows,
        contract_rows,
    })
}

const LINE_FIELDS: &[(&str, &str)] = &[
    ("annee", "annee"),
    ("echeance", "echeance"),
    ("uai", "uai"),
    ("groupe", "groupe"),
    ("action", "action"),
    ("categorie", "categorie"),
    ("quantite", "quantite"),
    ("budget", "budget"),
    ("financement", "financement"),
    ("programme", "programme"),
    ("cofinancement", "cofinance"),
    ("montantCofinance", "cofinance"),
    ("engagement", "engagement"),
    ("statut", "statut"),
    ("livreLe", "livre"),
];

const CONTRACT_FIELDS: &[(&str, &str)] = &[
    ("prestataire", "prestataire"),
    ("objet", "objet"),
    ("debut", "debut"),
    ("fin", "fin"),
    ("niveauService", "niveau"),
    ("delaiHeures", "delai"),
    ("annuel", "annuel"),
    ("montantAnnuel", "annuel"),
    ("engagement", "engagement"),
];

/// The form's field and label of a plan error (`lignes[2].uai` → `l5-uai` when the third
/// line sent was the sixth row of the form).
fn plan_field(ctx: &PageCtx, posted: Option<&PostedPlan>, field: &str) -> (String, String) {
    let rows = |list: &str| match (posted, list) {
        (Some(p), "lignes") => p.line_rows.clone(),
        (Some(p), _) => p.contract_rows.clone(),
        (None, _) => Vec::new(),
    };
    for (list, prefix, names, label) in [
        ("lignes", "l", LINE_FIELDS, "eq-plan-line"),
        ("contrats", "k", CONTRACT_FIELDS, "eq-contract"),
    ] {
        if let Some((i, sub)) = indexed(field, list) {
            let row = rows(list).get(i).copied().unwrap_or(i);
            let name = names
                .iter()
                .find(|(service, _)| *service == sub)
                .map_or(names[0].1, |(_, form)| form);
            return (
                format!("{prefix}{row}-{name}"),
                format!(
                    "{} {} — {}",
                    ctx.t(label),
                    row + 1,
                    if sub.is_empty() { name } else { sub }
                ),
            );
        }
    }
    let name = match field {
        "titre" | "title" => "titre",
        "premiereAnnee" | "debut" => "debut",
        "derniereAnnee" | "fin" => "fin",
        "collectivite" | "collectiviteSiren" => "collectivite",
        other => other,
    };
    (name.to_owned(), name.to_owned())
}

async fn create_plan(
    ctx: PageCtx,
    State(state): State<AppState>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let (result, posted) = match plan_input(&fields) {
        Ok(posted) => (
            equip::create_plan(&state.db, p, &posted.input).await,
            Some(posted),
        ),
        Err(e) => (Err(e), None),
    };
    match result {
        Ok(saved) => {
            let warn = if saved.rejected.is_empty() {
                ""
            } else {
                "?refusees=1"
            };
            Ok(Redirect::to(&format!("/plans-equipement/{}{warn}", saved.value.plan.id)).into_response())
        }
        Err(CoreError::Forbidden) => Err(ctx.error(CoreError::Forbidden)),
        Err(e) => {
            let f = failure(&ctx, "plan", fields, e, &|field| {
                plan_field(&ctx, posted.as_ref(), field)
            })?;
            render_plans(&ctx, &state, Some(f)).await
        }
    }
}

#[derive(Template)]
#[template(path = "equipment/plan.html")]
struct PlanPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    v: PlanView,
    form: FormState,
    rows: Vec<usize>,
    contract_rows: Vec<usize>,
    comment_form: FormState,
    actions: &'static [PlanAction],
    categories: &'static [Category],
    fundings: &'static [Funding],
    statuses: &'static [LineStatus],
    message: Option<String>,
    problems: Vec<Problem>,
    /// The lines refused by the last save (the others were kept).
    refused: Vec<Problem>,
}

fn plan_defaults(v: &PlanView) -> FormState {
    let p = &v.plan;
    let mut values = vec![
        ("version".to_owned(), p.version.to_string()),
        ("titre".to_owned(), p.title.clone()),
        ("debut".to_owned(), p.first_year.to_string()),
        ("fin".to_owned(), p.last_year.to_string()),
        ("note".to_owned(), p.note.clone()),
    ];
    let cents = |c: i64| {
        if c % 100 == 0 {
            (c / 100).to_string()
        } else {
            format!("{},{:02}", c / 100, (c % 100).abs())
        }
    };
    for (i, l) in v.lines.iter().enumerate() {
        let n = |f: &str| format!("l{i}-{f}");
        values.extend([
            (n("annee"), l.year.to_string()),
            (n("echeance"), l.due_date.to_string()),
            (n("uai"), l.uai.clone().unwrap_or_default()),
            (n("groupe"), l.group_label.clone().unwrap_or_default()),
            (n("action"), l.action.clone()),
            (n("categorie"), l.category.clone()),
            (n("quantite"), l.quantity.to_string()),
            (n("budget"), cents(l.budget_cents)),
            (n("financement"), l.funding.clone()),
            (n("programme"), l.programme.clone()),
            (
                n("cofinance"),
                if l.cofunded_cents == 0 {
                    String::new()
                } else {
                    cents(l.cofunded_cents)
                },
            ),
            (n("engagement"), l.commitment_id.clone().unwrap_or_default()),
            (n("statut"), l.status.clone()),
            (
                n("livre"),
                l.delivered_on.map(|d| d.to_string()).unwrap_or_default(),
            ),
        ]);
    }
    for (i, c) in v.contracts.iter().enumerate() {
        let n = |f: &str| format!("k{i}-{f}");
        values.extend([
            (n("prestataire"), c.contractor.clone()),
            (n("objet"), c.object.clone()),
            (n("debut"), c.start_date.to_string()),
            (n("fin"), c.end_date.to_string()),
            (n("niveau"), c.service_level.clone()),
            (
                n("delai"),
                c.response_hours.map(|h| h.to_string()).unwrap_or_default(),
            ),
            (n("annuel"), cents(c.annual_cents)),
            (n("engagement"), c.commitment_id.clone().unwrap_or_default()),
        ]);
    }
    FormState::of(values)
}

async fn render_plan(
    ctx: &PageCtx,
    state: &AppState,
    id: &str,
    failure: Option<Failure>,
    refused: Vec<Problem>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let v = equip::plan(&state.db, p, id).await.map_err(|e| ctx.error(e))?;
    let form = Failure::state(failure.as_ref(), "plan").unwrap_or_else(|| plan_defaults(&v));
    let comment_form = Failure::state(failure.as_ref(), "commentaire").unwrap_or_default();
    let (status, message, problems) = Failure::parts(failure);
    let rows = (0..row_count(&form, "l", 0) + 2).collect();
    let contract_rows = (0..row_count(&form, "k", 0) + 1).collect();
    let crumbs = Crumbs::new(v.plan.title.clone()).link("/plans-equipement", ctx.t("eq-plans-title"));
    let html = ctx.render(&PlanPage {
        ctx: ctx.clone(),
        crumbs,
        v,
        form,
        rows,
        contract_rows,
        comment_form,
        actions: PlanAction::ALL,
        categories: Category::ALL,
        fundings: Funding::ALL,
        statuses: LineStatus::ALL,
        message,
        problems,
        refused,
    })?;
    Ok((status, html).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct PlanQuery {
    refusees: Option<String>,
}

async fn plan_page(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<PlanQuery>,
) -> PageResponse {
    let refused = if q.refusees.is_some() {
        vec![Problem {
            anchor: None,
            label: ctx.t("eq-plan-refused"),
            message: ctx.t("eq-plan-refused-hint"),
        }]
    } else {
        Vec::new()
    };
    render_plan(&ctx, &state, &id, None, refused).await
}

async fn update_plan(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let (result, posted) = match plan_input(&fields) {
        Ok(posted) => (
            equip::update_plan(&state.db, p, &id, fields.version(), &posted.input).await,
            Some(posted),
        ),
        Err(e) => (Err(e), None),
    };
    match result {
        Ok(saved) if saved.rejected.is_empty() => {
            Ok(Redirect::to(&format!("/plans-equipement/{id}#lignes")).into_response())
        }
        Ok(saved) => {
            // The good lines are saved; the refused ones stay in the form, beside their error,
            // over the new version, so that sending again rewrites the plan whole.
            let rename = |field: &str| plan_field(&ctx, posted.as_ref(), field);
            let mut values = fields.0.clone();
            values.retain(|(k, _)| k != "version");
            values.push(("version".to_owned(), saved.value.plan.version.to_string()));
            let problems: Vec<Problem> = saved
                .rejected
                .iter()
                .map(|e| {
                    let (name, label) = rename(&e.field);
                    Problem {
                        anchor: Some(format!("f-{name}")),
                        label,
                        message: e.message.clone(),
                    }
                })
                .collect();
            let errors = saved
                .rejected
                .iter()
                .map(|e| FieldError::new(rename(&e.field).0, e.message.clone()))
                .collect();
            let f = Failure {
                form: "plan",
                state: FormState { values, errors },
                message: ctx.t("eq-plan-partly"),
                problems,
                status: StatusCode::UNPROCESSABLE_ENTITY,
            };
            render_plan(&ctx, &state, &id, Some(f), Vec::new()).await
        }
        Err(e) => {
            let f = failure(&ctx, "plan", fields, e, &|field| {
                plan_field(&ctx, posted.as_ref(), field)
            })?;
            render_plan(&ctx, &state, &id, Some(f), Vec::new()).await
        }
    }
}

async fn comment_plan(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let body = fields.get("texte").unwrap_or("").to_owned();
    match equip::comment_plan(&state.db, p, &id, &body).await {
        Ok(_) => Ok(Redirect::to(&format!("/plans-equipement/{id}#commentaires")).into_response()),
        Err(e) => {
            let f = failure(&ctx, "commentaire", fields, e, &same_name)?;
            render_plan(&ctx, &state, &id, Some(f), Vec::new()).await
        }
    }
}

// ---------------------------------------------------------------------------------------
// Needs

#[derive(Template)]
#[template(path = "equipment/besoins.html")]
struct NeedsPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    /// Each need with whether the caller may change it.
    needs: Vec<(Need, bool)>,
}

async fn needs_page(ctx: PageCtx, State(state): State<AppState>) -> PageResponse {
    let p = ctx.require_user()?;
    let needs = equip::needs_with_rights(&state.db, p)
        .await
        .map_err(|e| ctx.error(e))?;
    let html = ctx.render(&NeedsPage {
        ctx: ctx.clone(),
        crumbs: Crumbs::new(ctx.t("eq-needs-title")).link("/ecarts", ctx.t("eq-gaps-title")),
        needs,
    })?;
    Ok(html.into_response())
}

#[derive(Template)]
#[template(path = "equipment/besoin.html")]
struct NeedPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    need: Need,
    form: FormState,
    familles: &'static [&'static str],
    /// `terminaux` and the categories a need may count (not maintenance).
    categories: Vec<&'static str>,
    rules: &'static [NeedRule],
    message: Option<String>,
    problems: Vec<Problem>,
}

/// The school families a need may target (empty: all).
const FAMILLES: &[&str] = &["ecole", "college", "lycee", "erea"];

/// The edit form as the need stands.
fn need_defaults(n: &Need) -> FormState {
    FormState::of(vec![
        ("version".to_owned(), n.version.to_string()),
        ("cible".to_owned(), n.target()),
        ("famille".to_owned(), n.famille.clone().unwrap_or_default()),
        ("categorie".to_owned(), n.category.clone()),
        ("regle".to_owned(), n.rule.clone()),
        ("seuil".to_owned(), n.threshold.to_string()),
        (
            "echeance".to_owned(),
            n.needed_by.map(|d| d.to_string()).unwrap_or_default(),
        ),
        ("formation".to_owned(), n.training.clone()),
        ("note".to_owned(), n.note.clone()),
    ])
}

/// The change a posted edit form describes: every field is sent, an empty date clears it.
fn need_input(fields: &Fields) -> Result<NeedInput, CoreError> {
    let mut errors = Vec::new();
    let threshold = fields.int("seuil", &mut errors);
    if fields.filled("seuil").is_none() {
        errors.push(FieldError::new("seuil", "obligatoire"));
    }
    let needed_by = fields.date("echeance", &mut errors);
    validation(errors)?;
    let text = |name: &str| Some(fields.get(name).unwrap_or("").trim().to_owned());
    Ok(NeedInput {
        subject: None,
        target: text("cible"),
        famille: text("famille"),
        category: text("categorie"),
        rule: text("regle"),
        threshold,
        needed_by: Some(needed_by),
        training: text("formation"),
        note: text("note"),
    })
}

/// The form's field and label of a need's error.
fn need_field(ctx: &PageCtx, field: &str) -> (String, String) {
    let label = match field {
        "cible" => ctx.t("eq-col-target"),
        "famille" => ctx.t("eq-col-famille"),
        "categorie" => ctx.t("eq-col-category"),
        "regle" => ctx.t("eq-col-rule"),
        "seuil" => ctx.t("eq-need-threshold"),
        "echeance" => ctx.t("eq-col-due"),
        "formation" => ctx.t("eq-col-training"),
        "note" => ctx.t("eq-note"),
        "sujet" => ctx.t("eq-col-need"),
        other => other.to_owned(),
    };
    (field.to_owned(), label)
}

async fn render_need(ctx: &PageCtx, state: &AppState, id: &str, failure: Option<Failure>) -> PageResponse {
    let p = ctx.require_user()?;
    // Those who may not write the need get the API's answer: 404 unreadable, 403 read only.
    let need = equip::need_to_edit(&state.db, p, id)
        .await
        .map_err(|e| ctx.error(e))?;
    let form = Failure::state(failure.as_ref(), "besoin").unwrap_or_else(|| need_defaults(&need));
    let (status, message, problems) = Failure::parts(failure);
    let categories = std::iter::once(TERMINAUX)
        .chain(
            Category::ALL
                .iter()
                .filter(|c| **c != Category::Maintenance)
                .map(|c| c.as_str()),
        )
        .collect();
    let crumbs = Crumbs::new(ctx.t("eq-need-edit")).link("/besoins", ctx.t("eq-needs-title"));
    let html = ctx.render(&NeedPage {
        ctx: ctx.clone(),
        crumbs,
        need,
        form,
        familles: FAMILLES,
        categories,
        rules: NeedRule::ALL,
        message,
        problems,
    })?;
    Ok((status, html).into_response())
}

async fn need_page(ctx: PageCtx, State(state): State<AppState>, Path(id): Path<String>) -> PageResponse {
    render_need(&ctx, &state, &id, None).await
}

async fn update_need(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let result = match need_input(&fields) {
        Ok(input) => equip::update_need(&state.db, p, &id, fields.version(), &input)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/besoins#besoin-{id}")).into_response()),
        Err(e) => {
            let f = failure(&ctx, "besoin", fields, e, &|field| need_field(&ctx, field))?;
            render_need(&ctx, &state, &id, Some(f)).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexed_fields_name_their_row_and_column() {
        assert_eq!(indexed("valeurs[3].quantite", "valeurs"), Some((3, "quantite")));
        assert_eq!(indexed("lignes[0].uai", "lignes"), Some((0, "uai")));
        assert_eq!(indexed("lignes[0]", "lignes"), Some((0, "")));
        assert_eq!(indexed("titre", "lignes"), None);
    }
}
