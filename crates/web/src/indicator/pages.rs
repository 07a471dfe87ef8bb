//! The indicator pages: the dictionary and one indicator, the dashboards (key figures of a
//! perimeter; one indicator's series, comparison, maps by académie and by département), the
//! drill-down of a consolidated figure to its values, the entry and validation of values,
//! the import form, and the campaigns with their completeness heatmap.
//!
//! Handlers parse, call one core service, and render; the figures of the pictures are turned
//! into text here (`Shown`), so templates only print. Forms answer with a redirect; a refused
//! form shows its page again with the errors and what was typed (422), a concurrent change
//! (409) or a missing right (403) as a message.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gouvernail_core::indicator::campaign as camp;
use gouvernail_core::indicator::consolidate::{self, ConsolidationQuery};
use gouvernail_core::indicator::dashboard::{self, IndicatorDashboard, KeyFigure};
use gouvernail_core::indicator::import::{self as imp, LineError, Mapping};
use gouvernail_core::indicator::service::{self as ind, Place};
use gouvernail_core::indicator::*;
use gouvernail_core::{CoreError, FieldError};
use serde::Deserialize;
use time::Date;

use crate::charts::map::{Tile, academie_map, academie_table, departement_map, departement_table};
use crate::charts::series::{Series, bar_chart, bar_table, line_chart, line_table};
use crate::charts::{Bucket, DataTable, heatmap};
use crate::export::{Cell, ExportFormat, Tabular, file_response};
use crate::i18n::Lang;
use crate::pages::{Crumbs, PageCtx, PageError, url_encode};
use crate::state::AppState;
use crate::upload::{FILE_FIELD, PostedForm, UPLOAD_CEILING, Upload, UploadProblem};

/// The routes of the indicator pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/indicateurs", get(dictionary_page))
        .route("/indicateurs/tableau-de-bord", get(national_page))
        .route("/indicateurs/tableau-de-bord/export", get(national_export))
        .route(
            "/indicateurs/import",
            get(import_page)
                .post(import_file)
                .layer(axum::extract::DefaultBodyLimit::max(UPLOAD_CEILING)),
        )
        .route("/indicateurs/{code}", get(indicator_page))
        .route("/indicateurs/{code}/tableau-de-bord", get(dashboard_page))
        .route("/indicateurs/{code}/detail", get(drill_page))
        .route("/indicateurs/{code}/saisie", get(entry_page).post(record_value))
        .route("/valeurs/{id}", get(value_page))
        .route("/valeurs/{id}/validation", post(validate_value))
        .route("/valeurs/{id}/reouverture", post(reopen_value))
        .route("/campagnes", get(campaigns_page).post(open_campaign))
        .route("/campagnes/{id}", get(campaign_page))
        .route("/campagnes/{id}/cloture", post(close_campaign))
}

type PageResponse = Result<Response, PageError>;

// ---------------------------------------------------------------------------------------
// Forms

/// The values of a form and its errors: as posted after a failure, else its defaults.
#[derive(Debug, Clone, Default)]
pub struct FormState {
    values: Vec<(String, String)>,
    errors: Vec<FieldError>,
}

impl FormState {
    fn of(values: &[(&str, String)]) -> Self {
        Self {
            values: values.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
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
        let m: Vec<&str> = self
            .errors
            .iter()
            .filter(|e| e.field == name)
            .map(|e| e.message.as_str())
            .collect();
        (!m.is_empty()).then(|| m.join(" ; "))
    }
}

fn get_field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn version_of(pairs: &[(String, String)]) -> i64 {
    get_field(pairs, "version")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_default()
}

/// A refused form: its message, its field errors, its status; other errors are the error page.
fn refused(ctx: &PageCtx, e: CoreError) -> Result<(String, Vec<FieldError>, StatusCode), PageError> {
    let text = e.to_string();
    Ok(match e {
        CoreError::Validation(f) | CoreError::BadRequest(f) => {
            (ctx.t("ind-invalid"), f, StatusCode::UNPROCESSABLE_ENTITY)
        }
        CoreError::Conflict(_) => (text, Vec::new(), StatusCode::CONFLICT),
        CoreError::Forbidden => (ctx.t("ind-forbidden"), Vec::new(), StatusCode::FORBIDDEN),
        other => return Err(ctx.error(other)),
    })
}

/// The message and errors of a failed form, shown at the top of its page.
#[derive(Debug, Clone, Default)]
pub struct Alert {
    pub message: Option<String>,
    pub errors: Vec<FieldError>,
}

// ---------------------------------------------------------------------------------------
// Shown figures

/// A decimal as people of the language write it, exactly (`12,5` or `12.5`).
pub fn dec_text(lang: Lang, d: Dec) -> String {
    match lang {
        Lang::Fr => d.french(),
        Lang::En => d.machine(),
    }
}

fn dec_f64(d: Dec) -> f64 {
    d.0 as f64 / 10_000.0
}

/// A value with its unit, exact, or `n.d.`.
fn value_unit(ctx: &PageCtx, v: Option<Dec>, unit: &str) -> String {
    v.map_or_else(
        || ctx.t("chart-nd"),
        |d| ctx.lang.with_unit(&dec_text(ctx.lang, d), unit),
    )
}

/// The class of a threshold status on the charts.
fn bucket(rag: Option<Rag>, has_value: bool) -> Bucket {
    match (rag, has_value) {
        (_, false) => Bucket::NoData,
        (Some(Rag::Vert), _) => Bucket::Good,
        (Some(Rag::Orange), _) => Bucket::Warning,
        (Some(Rag::Rouge), _) => Bucket::Bad,
        (None, _) => Bucket::Neutral,
    }
}

/// The DSFR badge of a threshold status.
pub fn rag_badge(rag: &str) -> &'static str {
    match rag {
        "vert" => "fr-badge--success",
        "orange" => "fr-badge--warning",
        "rouge" => "fr-badge--error",
        _ => "fr-badge--info",
    }
}

fn legend(ctx: &PageCtx) -> Vec<(Bucket, String)> {
    vec![
        (Bucket::Good, ctx.t("ind-rag-vert")),
        (Bucket::Warning, ctx.t("ind-rag-orange")),
        (Bucket::Bad, ctx.t("ind-rag-rouge")),
        (Bucket::Neutral, ctx.t("ind-no-threshold")),
    ]
}

/// "27 sur 30 académies, 84 % des établissements".
fn completeness_text(ctx: &PageCtx, ind: &Indicator, f: &Figure, children: Option<Level>) -> String {
    let c = f.completeness;
    let sources = ctx.label("ind-level-pl", ind.capture_level().as_str());
    let share = format!(
        "{} {} {}",
        ctx.lang.with_unit(&ctx.int(c.percent()), "%"),
        ctx.t("ind-of-the"),
        sources
    );
    match children.filter(|l| *l != ind.capture_level() && c.children_expected > 0) {
        Some(level) => format!(
            "{} {} {} {}, {share}",
            ctx.int(c.children_with_data),
            ctx.t("ind-out-of"),
            ctx.int(c.children_expected),
            ctx.label("ind-level-pl", level.as_str())
        ),
        None => format!(
            "{share} ({} {} {})",
            ctx.int(c.sources_with_data),
            ctx.t("ind-out-of"),
            ctx.int(c.sources_expected)
        ),
    }
}

/// A consolidated figure as the pages print it.
#[derive(Debug, Clone)]
pub struct Shown {
    pub perimeter: String,
    pub label: String,
    pub value: String,
    pub parts: Option<String>,
    pub rag: Option<String>,
    pub completeness: String,
    /// The drill-down (or the value, at the capture level).
    pub href: String,
}

fn shown(ctx: &PageCtx, ind: &Indicator, period: &str, f: &Figure, children: Option<Level>) -> Shown {
    let parts = match (f.numerator, f.denominator) {
        (Some(n), Some(d)) => Some(format!("{} / {}", dec_text(ctx.lang, n), dec_text(ctx.lang, d))),
        _ => None,
    };
    let href = match &f.value_id {
        Some(id) => format!("/valeurs/{id}"),
        None => format!(
            "/indicateurs/{}/detail?periode={}&perimetre={}",
            url_encode(&ind.code),
            url_encode(period),
            url_encode(&f.perimeter)
        ),
    };
    Shown {
        perimeter: f.perimeter.clone(),
        label: f.label.clone(),
        value: value_unit(ctx, f.value, &ind.unit),
        parts,
        rag: f.rag.map(|r| r.as_str().to_owned()),
        completeness: completeness_text(ctx, ind, f, children),
        href,
    }
}

// ---------------------------------------------------------------------------------------
// Dictionary

#[derive(Debug, Default, Deserialize)]
struct DictionaryQuery {
    proprietaire: Option<String>,
    source: Option<String>,
    q: Option<String>,
}

#[derive(Template)]
#[template(path = "indicator/dictionary.html")]
struct DictionaryPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    items: Vec<Indicator>,
    owners: Vec<String>,
    sources: &'static [Source],
    proprietaire: String,
    source: String,
    q: String,
}

async fn dictionary_page(
    ctx: PageCtx,
    State(state): State<AppState>,
    Query(q): Query<DictionaryQuery>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let all = ind::indicators(&state.db, p, None)
        .await
        .map_err(|e| ctx.error(e))?;
    let mut owners: Vec<String> = all.iter().map(Indicator::owner_text).collect();
    owners.sort();
    owners.dedup();
    let owner = q.proprietaire.unwrap_or_default();
    let source = q.source.unwrap_or_default();
    let text = q.q.unwrap_or_default();
    let needle = text.trim().to_lowercase();
    let items = all
        .into_iter()
        .filter(|i| owner.is_empty() || i.owner_text() == owner)
        .filter(|i| source.is_empty() || i.source == source)
        .filter(|i| {
            needle.is_empty()
                || i.code.to_lowercase().contains(&needle)
                || i.label.to_lowercase().contains(&needle)
        })
        .collect();
    let html = ctx.render(&DictionaryPage {
        crumbs: Crumbs::new(ctx.t("ind-dictionary")),
        ctx: ctx.clone(),
        items,
        owners,
        sources: Source::ALL,
        proprietaire: owner,
        source,
        q: text,
    })?;
    Ok(html.into_response())
}

#[derive(Template)]
#[template(path = "indicator/indicator.html")]
struct IndicatorPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    v: IndicatorView,
    thresholds: Option<(String, String)>,
    /// (perimeter, period, kind, value)
    targets: Vec<(String, String, String, String)>,
    /// (label, href)
    links: Vec<(String, Option<String>)>,
}

async fn indicator_page(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let v = ind::indicator(&state.db, p, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let i = &v.indicator;
    let thresholds = match (i.green_e4, i.red_e4) {
        (Some(g), Some(r)) => Some((
            value_unit(&ctx, Some(Dec(g)), &i.unit),
            value_unit(&ctx, Some(Dec(r)), &i.unit),
        )),
        _ => None,
    };
    let mut targets = Vec::new();
    for t in &v.targets {
        let place = Place {
            level: Level::from_code(&t.perimeter_kind).unwrap_or(Level::National),
            code: t.perimeter_code.clone(),
        };
        let label = ind::place_label(&state.db, &place)
            .await
            .map_err(|e| ctx.error(e))?;
        targets.push((
            label,
            t.period.clone(),
            ctx.label("ind-target", &t.kind),
            value_unit(&ctx, Some(Dec(t.value_e4)), &i.unit),
        ));
    }
    let links = v
        .links
        .iter()
        .map(|l| match l.ref_kind.as_str() {
            "projet" => (
                format!("{} {}", ctx.t("ind-project"), l.ref_id),
                Some(format!("/projets/{}", l.ref_id)),
            ),
            "action" => (
                format!("{} {}", ctx.t("ind-action"), l.ref_id),
                Some(format!("/actions/{}", l.ref_id)),
            ),
            _ => (format!("{} {}", l.ref_kind, l.ref_id), None),
        })
        .collect();
    let crumbs = Crumbs::new(v.indicator.label.clone()).link("/indicateurs", ctx.t("ind-dictionary"));
    let html = ctx.render(&IndicatorPage {
        ctx: ctx.clone(),
        crumbs,
        thresholds,
        targets,
        links,
        v,
    })?;
    Ok(html.into_response())
}

// ---------------------------------------------------------------------------------------
// Dashboards

#[derive(Debug, Default, Deserialize)]
struct DashboardQuery {
    periode: Option<String>,
    perimetre: Option<String>,
    /// The level of the detail (drill-down), by default the level just below.
    niveau: Option<String>,
    format: Option<ExportFormat>,
}

/// One key figure as printed.
#[derive(Debug, Clone)]
pub struct KeyLine {
    pub code: String,
    pub label: String,
    pub period: String,
    pub figure: Option<Shown>,
    pub target: String,
}

fn key_line(ctx: &PageCtx, k: &KeyFigure, place: &Place) -> KeyLine {
    let children = dashboard::detail_level(place, k.indicator.capture_level());
    KeyLine {
        code: k.indicator.code.clone(),
        label: k.indicator.label.clone(),
        period: k.period.clone().unwrap_or_else(|| "—".into()),
        figure: match (&k.figure, &k.period) {
            (Some(f), Some(p)) => Some(shown(ctx, &k.indicator, p, f, children)),
            _ => None,
        },
        target: k
            .target
            .map_or_else(|| "—".into(), |t| value_unit(ctx, Some(t), &k.indicator.unit)),
    }
}

#[derive(Template)]
#[template(path = "indicator/national.html")]
struct NationalPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    place_label: String,
    perimeter: String,
    national: bool,
    lines: Vec<KeyLine>,
}

async fn national_page(
    ctx: PageCtx,
    State(state): State<AppState>,
    Query(q): Query<DashboardQuery>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let place = dashboard::focus(&state.db, p, q.perimetre.as_deref())
        .await
        .map_err(|e| ctx.error(e))?;
    let keys = dashboard::key_figures(&state.db, p, &place)
        .await
        .map_err(|e| ctx.error(e))?;
    let place_label = ind::place_label(&state.db, &place)
        .await
        .map_err(|e| ctx.error(e))?;
    let html = ctx.render(&NationalPage {
        crumbs: Crumbs::new(ctx.t("ind-dashboard")).link("/indicateurs", ctx.t("ind-dictionary")),
        lines: keys.iter().map(|k| key_line(&ctx, k, &place)).collect(),
        national: place.level == Level::National,
        perimeter: place.text(),
        place_label,
        ctx: ctx.clone(),
    })?;
    Ok(html.into_response())
}

/// A key figure as a line of a file.
struct KeyRow(KeyFigure);

impl Tabular for KeyRow {
    fn headers() -> &'static [&'static str] {
        &[
            "indicateur",
            "libelle",
            "unite",
            "periode",
            "valeur",
            "numerateur",
            "denominateur",
            "statutSeuil",
            "cible",
            "sourcesAvecDonnees",
            "sourcesAttendues",
        ]
    }

    fn cells(&self) -> Vec<Cell> {
        let k = &self.0;
        let f = k.figure.as_ref();
        let dec = |d: Option<Dec>| d.map_or(Cell::Empty, |d| Cell::Float(dec_f64(d)));
        vec![
            Cell::Text(k.indicator.code.clone()),
            Cell::Text(k.indicator.label.clone()),
            Cell::Text(k.indicator.unit.clone()),
            k.period.clone().map_or(Cell::Empty, Cell::Text),
            dec(f.and_then(|f| f.value)),
            dec(f.and_then(|f| f.numerator)),
            dec(f.and_then(|f| f.denominator)),
            f.and_then(|f| f.rag)
                .map_or(Cell::Empty, |r| Cell::Text(r.as_str().to_owned())),
            dec(k.target),
            f.map_or(Cell::Empty, |f| Cell::Int(f.completeness.sources_with_data)),
            f.map_or(Cell::Empty, |f| Cell::Int(f.completeness.sources_expected)),
        ]
    }
}

/// The key figures as CSV or XLSX (`?format=csv|xlsx`).
async fn national_export(
    ctx: PageCtx,
    State(state): State<AppState>,
    Query(q): Query<DashboardQuery>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let place = dashboard::focus(&state.db, p, q.perimetre.as_deref())
        .await
        .map_err(|e| ctx.error(e))?;
    let keys = dashboard::key_figures(&state.db, p, &place)
        .await
        .map_err(|e| ctx.error(e))?;
    let rows: Vec<KeyRow> = keys.into_iter().map(KeyRow).collect();
    let format = match q.format.unwrap_or(ExportFormat::Csv) {
        ExportFormat::Json => ExportFormat::Csv,
        f => f,
    };
    file_response(format, "tableau-de-bord-indicateurs", &rows).map_err(|e| ctx.error(e))
}

#[derive(Template)]
#[template(path = "indicator/dashboard.html")]
struct DashboardPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    d: IndicatorDashboard,
    figure: Option<Shown>,
    target: String,
    line_svg: String,
    line_table: DataTable,
    bars_svg: String,
    bars_table: DataTable,
    children: Vec<Shown>,
    aca_svg: Option<String>,
    aca_table: Option<DataTable>,
    dep_svg: Option<String>,
    dep_table: Option<DataTable>,
    perimeter: String,
}

fn tiles(ctx: &PageCtx, c: &Consolidation) -> Vec<Tile> {
    c.children
        .iter()
        .map(|f| {
            let text = value_unit(ctx, f.value, &c.indicator.unit);
            Tile {
                code: f
                    .perimeter
                    .split_once(':')
                    .map_or_else(String::new, |(_, c)| c.to_owned()),
                label: format!("{} : {text}", f.label),
                value_text: text,
                class: bucket(f.rag, f.value.is_some()),
            }
        })
        .collect()
}

async fn dashboard_page(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<DashboardQuery>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let d = dashboard::indicator_dashboard(&state.db, p, &code, q.periode.as_deref(), q.perimetre.as_deref())
        .await
        .map_err(|e| ctx.error(e))?;
    let i = &d.view.indicator.clone();
    let unit = i.unit.clone();
    let period = d.period.clone().unwrap_or_default();
    // Series.
    let x: Vec<String> = d
        .series
        .first()
        .map(|(_, pts)| pts.iter().map(|(p, _)| p.clone()).collect())
        .unwrap_or_default();
    let series: Vec<Series> = d
        .series
        .iter()
        .map(|(name, pts)| Series {
            name: name.clone(),
            points: pts.iter().map(|(_, v)| v.map(dec_f64)).collect(),
        })
        .collect();
    let title = format!("{} — {}", i.label, ctx.t("ind-series"));
    let desc = format!(
        "{} {}",
        ctx.t("ind-series-desc"),
        series
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let line_svg = line_chart(ctx.lang, &title, &desc, &x, &series, &unit);
    let line_table = line_table(ctx.lang, &title, &ctx.t("ind-period"), &x, &series, &unit);
    // Comparison one level down.
    let children_level = d.comparison.as_ref().and_then(|c| c.children_level);
    let bars: Vec<(String, Option<f64>, Bucket)> = d
        .comparison
        .iter()
        .flat_map(|c| c.children.iter())
        .take(200)
        .map(|f| {
            (
                f.label.clone(),
                f.value.map(dec_f64),
                bucket(f.rag, f.value.is_some()),
            )
        })
        .collect();
    let level_name = children_level.map_or_else(String::new, |l| ctx.label("ind-level", l.as_str()));
    let bars_title = format!("{} — {} {} ({period})", i.label, ctx.t("ind-by"), level_name);
    let bars_desc = match d.target {
        Some(t) => format!(
            "{} {}",
            ctx.t("ind-bars-desc-target"),
            value_unit(&ctx, Some(t), &unit)
        ),
        None => ctx.t("ind-bars-desc"),
    };
    let bars_svg = bar_chart(
        ctx.lang,
        &bars_title,
        &bars_desc,
        &bars,
        &unit,
        d.target.map(dec_f64),
        &legend(&ctx),
    );
    let bars_table = bar_table(
        ctx.lang,
        &bars_title,
        [&level_name, &ctx.t("ind-value")],
        &bars,
        &unit,
    );
    let children: Vec<Shown> = d
        .comparison
        .iter()
        .flat_map(|c| c.children.iter())
        .map(|f| shown(&ctx, i, &period, f, children_level.and_then(Level::below)))
        .collect();
    let figure = d
        .comparison
        .as_ref()
        .map(|c| shown(&ctx, i, &period, &c.figure, c.children_level));
    // Maps.
    let headers = |key: &str| [ctx.t(key), ctx.t("ind-value")];
    let (aca_svg, aca_table) = match &d.academies {
        Some(c) => {
            let t = tiles(&ctx, c);
            let title = format!("{} — {} ({period})", i.label, ctx.t("ind-map-aca"));
            let h = headers("ind-level-academie");
            (
                Some(academie_map(
                    ctx.lang,
                    &title,
                    &ctx.t("ind-map-desc"),
                    &t,
                    &legend(&ctx),
                )),
                Some(academie_table(ctx.lang, &title, [&h[0], &h[1]], &t)),
            )
        }
        None => (None, None),
    };
    let (dep_svg, dep_table) = match &d.departements {
        Some(c) => {
            let t = tiles(&ctx, c);
            let title = format!("{} — {} ({period})", i.label, ctx.t("ind-map-dep"));
            let h = headers("ind-level-departement");
            (
                Some(departement_map(
                    ctx.lang,
                    &title,
                    &ctx.t("ind-map-desc"),
                    &t,
                    &legend(&ctx),
                )),
                Some(departement_table(ctx.lang, &title, [&h[0], &h[1]], &t)),
            )
        }
        None => (None, None),
    };
    let target = d
        .target
        .map_or_else(|| "—".into(), |t| value_unit(&ctx, Some(t), &unit));
    let crumbs = Crumbs::new(ctx.t("ind-dashboard-of"))
        .link("/indicateurs/tableau-de-bord", ctx.t("ind-dashboard"))
        .link(format!("/indicateurs/{}", url_encode(&i.code)), i.label.clone());
    let html = ctx.render(&DashboardPage {
        ctx: ctx.clone(),
        crumbs,
        figure,
        target,
        line_svg,
        line_table,
        bars_svg,
        bars_table,
        children,
        aca_svg,
        aca_table,
        dep_svg,
        dep_table,
        perimeter: d.place.text(),
        d,
    })?;
    Ok(html.into_response())
}

#[derive(Template)]
#[template(path = "indicator/drill.html")]
struct DrillPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    c: Consolidation,
    figure: Shown,
    children: Vec<Shown>,
    level: String,
    export: String,
}

async fn drill_page(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<DashboardQuery>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let period = match q.periode.filter(|p| !p.trim().is_empty()) {
        Some(p) => p,
        None => {
            let d = dashboard::indicator_dashboard(&state.db, p, &code, None, q.perimetre.as_deref())
                .await
                .map_err(|e| ctx.error(e))?;
            d.period
                .ok_or_else(|| ctx.error(CoreError::bad_request("periode", "aucune période n'a de valeur")))?
        }
    };
    let c = consolidate::consolidate(
        &state.db,
        p,
        &ConsolidationQuery {
            indicator: code,
            period,
            perimeter: q.perimetre,
            child_level: q.niveau,
            validated_only: false,
        },
    )
    .await
    .map_err(|e| ctx.error(e))?;
    let figure = shown(&ctx, &c.indicator, &c.period, &c.figure, c.children_level);
    let children = c
        .children
        .iter()
        .map(|f| {
            shown(
                &ctx,
                &c.indicator,
                &c.period,
                f,
                c.children_level.and_then(Level::below),
            )
        })
        .collect();
    let level = c
        .children_level
        .map_or_else(String::new, |l| ctx.label("ind-level", l.as_str()));
    let export = format!(
        "/api/v1/indicateurs/{}/consolidation?periode={}&perimetre={}",
        url_encode(&c.indicator.code),
        url_encode(&c.period),
        url_encode(&figure.perimeter)
    );
    let crumbs = Crumbs::new(format!("{} — {}", figure.label, c.period))
        .link("/indicateurs/tableau-de-bord", ctx.t("ind-dashboard"))
        .link(
            format!("/indicateurs/{}/tableau-de-bord", url_encode(&c.indicator.code)),
            c.indicator.label.clone(),
        );
    let html = ctx.render(&DrillPage {
        ctx: ctx.clone(),
        crumbs,
        figure,
        children,
        level,
        export,
        c,
    })?;
    Ok(html.into_response())
}

// ---------------------------------------------------------------------------------------
// Entering and validating values

#[derive(Debug, Default, Deserialize)]
struct EntryQuery {
    perimetre: Option<String>,
    periode: Option<String>,
}

#[derive(Template)]
#[template(path = "indicator/entry.html")]
struct EntryPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    ind: Indicator,
    form: FormState,
    alert: Alert,
    /// The value already there for the perimeter and period, if any.
    current: Option<ValueRow>,
    locked: bool,
}

async fn render_entry(
    ctx: &PageCtx,
    state: &AppState,
    code: &str,
    form: FormState,
    alert: Alert,
    status: StatusCode,
) -> PageResponse {
    let p = ctx.require_user()?;
    let v = ind::indicator(&state.db, p, code)
        .await
        .map_err(|e| ctx.error(e))?;
    let mut current = None;
    if !form.v("perimetre").trim().is_empty() && !form.v("periode").trim().is_empty() {
        let filter = ValueFilter {
            indicator: Some(v.indicator.code.clone()),
            period: Some(form.v("periode").trim().to_owned()),
            perimeter: Some(form.v("perimetre").trim().to_owned()),
            status: None,
        };
        // A perimeter or period that does not parse is reported by the form itself.
        if let Ok(page) = ind::values(&state.db, p, &filter, Default::default()).await {
            current = page
                .items
                .into_iter()
                .find(|r| r.value.period == form.v("periode").trim());
        }
    }
    let locked = current.as_ref().is_some_and(|r| r.value.locked());
    let crumbs = Crumbs::new(ctx.t("ind-entry"))
        .link("/indicateurs", ctx.t("ind-dictionary"))
        .link(
            format!("/indicateurs/{}", url_encode(&v.indicator.code)),
            v.indicator.label.clone(),
        );
    let html = ctx.render(&EntryPage {
        ctx: ctx.clone(),
        crumbs,
        ind: v.indicator,
        form,
        alert,
        current,
        locked,
    })?;
    Ok((status, html).into_response())
}

async fn entry_page(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<EntryQuery>,
) -> PageResponse {
    let mut values = vec![
        ("perimetre", q.perimetre.unwrap_or_default()),
        ("periode", q.periode.unwrap_or_default()),
    ];
    if values[0].1.is_empty()
        && let Some(p) = &ctx.user
        && let Ok(Some(a)) = dashboard::viewer_academie(&state.db, p).await
    {
        values[0].1 = format!("academie:{a}");
    }
    let mut form = FormState::of(&values);
    // Prefill with the value already there.
    if let Some(p) = &ctx.user
        && !form.v("perimetre").is_empty()
        && !form.v("periode").is_empty()
    {
        let filter = ValueFilter {
            indicator: Some(code.clone()),
            period: Some(form.v("periode").to_owned()),
            perimeter: Some(form.v("perimetre").to_owned()),
            status: None,
        };
        if let Ok(page) = ind::values(&state.db, p, &filter, Default::default()).await
            && let Some(r) = page.items.first()
        {
            let v = &r.value;
            let d = |x: Option<i64>| x.map(|x| Dec(x).machine()).unwrap_or_default();
            form = FormState::of(&[
                ("perimetre", form.v("perimetre").to_owned()),
                ("periode", form.v("periode").to_owned()),
                ("valeur", Dec(v.value_e4).machine()),
                ("numerateur", d(v.numerator_e4)),
                ("denominateur", d(v.denominator_e4)),
                ("commentaire", v.comment.clone()),
                ("version", v.version.to_string()),
            ]);
        }
    }
    render_entry(&ctx, &state, &code, form, Alert::default(), StatusCode::OK).await
}

async fn record_value(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(code): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let field = |n: &str| get_field(&pairs, n).map(str::to_owned);
    let input = ValueInput {
        indicator: code.clone(),
        perimeter: field("perimetre").unwrap_or_default(),
        period: field("periode").unwrap_or_default(),
        value: field("valeur"),
        numerator: field("numerateur"),
        denominator: field("denominateur"),
        comment: field("commentaire"),
    };
    let expected = field("version")
        .filter(|v| !v.trim().is_empty())
        .map(|_| version_of(&pairs));
    match ind::record_value(&state.db, p, &input, Provenance::Saisie, expected).await {
        Ok(v) => Ok(Redirect::to(&format!("/valeurs/{}", v.id)).into_response()),
        Err(e) => {
            let (message, errors, status) = refused(&ctx, e)?;
            let form = FormState {
                values: pairs,
                errors: errors.clone(),
            };
            render_entry(
                &ctx,
                &state,
                &code,
                form,
                Alert {
                    message: Some(message),
                    errors,
                },
                status,
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "indicator/value.html")]
struct ValuePage {
    ctx: PageCtx,
    crumbs: Crumbs,
    r: ValueRow,
    ind: Indicator,
    place_label: String,
    value: String,
    alert: Alert,
    form: FormState,
    red_without_comment: bool,
}

async fn render_value(
    ctx: &PageCtx,
    state: &AppState,
    id: &str,
    form: FormState,
    alert: Alert,
    status: StatusCode,
) -> PageResponse {
    let p = ctx.require_user()?;
    let r = ind::value(&state.db, p, id).await.map_err(|e| ctx.error(e))?;
    let i = ind::load_indicator(&state.db, p, &r.indicator_code)
        .await
        .map_err(|e| ctx.error(e))?;
    let place = Place {
        level: Level::from_code(&r.value.perimeter_kind).unwrap_or(Level::National),
        code: r.value.perimeter_code.clone(),
    };
    let place_label = ind::place_label(&state.db, &place)
        .await
        .map_err(|e| ctx.error(e))?;
    let value = value_unit(ctx, Some(Dec(r.value.value_e4)), &i.unit);
    let red_without_comment = r.rag == Some(Rag::Rouge) && r.value.comment.trim().is_empty();
    let crumbs = Crumbs::new(format!("{place_label} — {}", r.value.period))
        .link("/indicateurs", ctx.t("ind-dictionary"))
        .link(format!("/indicateurs/{}", url_encode(&i.code)), i.label.clone());
    let html = ctx.render(&ValuePage {
        ctx: ctx.clone(),
        crumbs,
        r,
        ind: i,
        place_label,
        value,
        alert,
        form,
        red_without_comment,
    })?;
    Ok((status, html).into_response())
}

async fn value_page(ctx: PageCtx, State(state): State<AppState>, Path(id): Path<String>) -> PageResponse {
    render_value(
        &ctx,
        &state,
        &id,
        FormState::default(),
        Alert::default(),
        StatusCode::OK,
    )
    .await
}

async fn validate_value(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    match ind::validate_value(&state.db, p, &id, version_of(&pairs)).await {
        Ok(_) => Ok(Redirect::to(&format!("/valeurs/{id}")).into_response()),
        Err(e) => {
            let (message, errors, status) = refused(&ctx, e)?;
            let alert = Alert {
                message: Some(message),
                errors,
            };
            render_value(&ctx, &state, &id, FormState::default(), alert, status).await
        }
    }
}

async fn reopen_value(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let reason = get_field(&pairs, "motif").unwrap_or_default().to_owned();
    match ind::reopen_value(&state.db, p, &id, version_of(&pairs), &reason).await {
        Ok(_) => Ok(Redirect::to(&format!("/valeurs/{id}")).into_response()),
        Err(e) => {
            let (message, errors, status) = refused(&ctx, e)?;
            let form = FormState {
                values: pairs,
                errors: errors.clone(),
            };
            let alert = Alert {
                message: Some(message),
                errors,
            };
            render_value(&ctx, &state, &id, form, alert, status).await
        }
    }
}

// ---------------------------------------------------------------------------------------
// Import

#[derive(Template)]
#[template(path = "indicator/import.html")]
struct ImportPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    form: FormState,
    alert: Alert,
    /// (lines, written, rejected)
    report: Option<(usize, u64, Vec<LineError>)>,
    /// The largest file accepted.
    max_upload_mib: usize,
}

fn import_defaults() -> FormState {
    let m = Mapping::default();
    FormState::of(&[
        ("col_perimetre", m.perimeter),
        ("col_indicateur", m.indicator.unwrap_or_default()),
        ("col_periode", m.period.unwrap_or_default()),
        ("col_valeur", m.value.unwrap_or_default()),
        ("col_numerateur", m.numerator.unwrap_or_default()),
        ("col_denominateur", m.denominator.unwrap_or_default()),
        ("col_commentaire", m.comment.unwrap_or_default()),
    ])
}

fn render_import(
    ctx: &PageCtx,
    state: &AppState,
    form: FormState,
    alert: Alert,
    report: Option<(usize, u64, Vec<LineError>)>,
    status: StatusCode,
) -> PageResponse {
    let html = ctx.render(&ImportPage {
        ctx: ctx.clone(),
        crumbs: Crumbs::new(ctx.t("ind-import")).link("/indicateurs", ctx.t("ind-dictionary")),
        form,
        alert,
        report,
        max_upload_mib: state.config.storage.max_bytes / (1024 * 1024),
    })?;
    Ok((status, html).into_response())
}

async fn import_page(ctx: PageCtx, State(state): State<AppState>) -> PageResponse {
    ctx.require_user()?;
    render_import(
        &ctx,
        &state,
        import_defaults(),
        Alert::default(),
        None,
        StatusCode::OK,
    )
}

/// Where the lines of an import come from: a file (CSV, or XLSX by its first bytes), or
/// the text pasted in `contenu`. Errors about the content are named on the field it came
/// from (`fichier` or `contenu`).
fn import_table(
    ctx: &PageCtx,
    pairs: &[(String, String)],
    file: Option<Upload>,
    problem: Option<UploadProblem>,
) -> Result<imp::Table, CoreError> {
    let named = |field: &str, message: String| CoreError::Validation(vec![FieldError::new(field, message)]);
    if let Some(problem) = problem {
        return Err(named(FILE_FIELD, problem.message(ctx)));
    }
    let pasted = get_field(pairs, "contenu").unwrap_or_default();
    let (field, empty, read) = match file {
        Some(_) if !pasted.trim().is_empty() => {
            return Err(named(FILE_FIELD, ctx.t("upload-both")));
        }
        Some(file) if file.is_zip() => (FILE_FIELD, false, crate::indicator::xlsx::read_xlsx(file.bytes)),
        Some(file) => (FILE_FIELD, file.bytes.is_empty(), imp::read_csv(&file.bytes)),
        None => (
            "contenu",
            pasted.trim().is_empty(),
            imp::read_csv(pasted.as_bytes()),
        ),
    };
    match read {
        Ok(table) if empty || table.headers.is_empty() => Err(named(field, ctx.t("ind-import-empty"))),
        Ok(table) => Ok(table),
        Err(CoreError::Validation(errors) | CoreError::BadRequest(errors)) => Err(CoreError::Validation(
            errors
                .into_iter()
                .map(|e| match e.field.as_str() {
                    "fichier" | "contenu" | "contenuXlsxBase64" => FieldError::new(field, e.message),
                    _ => e,
                })
                .collect(),
        )),
        Err(e) => Err(e),
    }
}

async fn import_file(ctx: PageCtx, State(state): State<AppState>, posted: PostedForm) -> PageResponse {
    let p = ctx.require_user()?;
    let pairs = &posted.pairs;
    let opt = |n: &str| {
        get_field(pairs, n)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let mapping = Mapping {
        perimeter: opt("col_perimetre").unwrap_or_default(),
        indicator: opt("col_indicateur"),
        fixed_indicator: opt("indicateur"),
        period: opt("col_periode"),
        fixed_period: opt("periode"),
        value: opt("col_valeur"),
        numerator: opt("col_numerateur"),
        denominator: opt("col_denominateur"),
        comment: opt("col_commentaire"),
    };
    let result = match import_table(&ctx, pairs, posted.file, posted.problem) {
        Ok(table) => imp::import_values(&state.db, p, &table, &mapping, Provenance::Import).await,
        Err(e) => Err(e),
    };
    let pairs = posted.pairs;
    match result {
        Ok(r) => render_import(
            &ctx,
            &state,
            FormState {
                values: pairs,
                errors: Vec::new(),
            },
            Alert::default(),
            Some((r.lines, r.written, r.rejected)),
            StatusCode::OK,
        ),
        Err(e) => {
            let (message, errors, status) = refused(&ctx, e)?;
            let form = FormState {
                values: pairs,
                errors: errors.clone(),
            };
            render_import(
                &ctx,
                &state,
                form,
                Alert {
                    message: Some(message),
                    errors,
                },
                None,
                status,
            )
        }
    }
}

// ---------------------------------------------------------------------------------------
// Campaigns

#[derive(Template)]
#[template(path = "indicator/campaigns.html")]
struct CampaignsPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    items: Vec<Campaign>,
    indicators: Vec<Indicator>,
    form: FormState,
    alert: Alert,
}

async fn render_campaigns(
    ctx: &PageCtx,
    state: &AppState,
    form: FormState,
    alert: Alert,
    status: StatusCode,
) -> PageResponse {
    let p = ctx.require_user()?;
    let items = camp::campaigns(&state.db, p).await.map_err(|e| ctx.error(e))?;
    let indicators = ind::indicators(&state.db, p, None)
        .await
        .map_err(|e| ctx.error(e))?;
    let html = ctx.render(&CampaignsPage {
        ctx: ctx.clone(),
        crumbs: Crumbs::new(ctx.t("ind-campaigns")),
        items,
        indicators,
        form,
        alert,
    })?;
    Ok((status, html).into_response())
}

async fn campaigns_page(ctx: PageCtx, State(state): State<AppState>) -> PageResponse {
    let form = FormState::of(&[
        ("proprietaire", "national".to_owned()),
        ("relance", "7".to_owned()),
    ]);
    render_campaigns(&ctx, &state, form, Alert::default(), StatusCode::OK).await
}

fn parse_date(field: &str, text: &str, errors: &mut Vec<FieldError>) -> Option<Date> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    Date::parse(text, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| {
            errors.push(FieldError::new(
                field,
                format!("« {text} » : date attendue (AAAA-MM-JJ)"),
            ))
        })
        .ok()
}

async fn open_campaign(
    ctx: PageCtx,
    State(state): State<AppState>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let field = |n: &str| get_field(&pairs, n).unwrap_or_default().to_owned();
    let all = |n: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, _)| k == n)
            .flat_map(|(_, v)| {
                v.split([',', ' '])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let mut errors = Vec::new();
    let opens_on = parse_date("ouverture", &field("ouverture"), &mut errors);
    let closes_on = parse_date("cloture", &field("cloture"), &mut errors);
    let grace = field("delai");
    let grace_days = if grace.trim().is_empty() {
        None
    } else {
        match grace.trim().parse::<i64>() {
            Ok(g) => Some(g),
            Err(_) => {
                errors.push(FieldError::new("delai", "nombre de jours attendu"));
                None
            }
        }
    };
    let result = if errors.is_empty() {
        let input = CampaignInput {
            title: field("titre"),
            owner: field("proprietaire"),
            indicators: all("indicateurs"),
            academies: all("academies"),
            period: field("periode"),
            opens_on,
            closes_on,
            grace_days,
            instructions: field("consignes"),
        };
        camp::open_campaign(&state.db, p, &input).await.map(|(c, _)| c)
    } else {
        Err(CoreError::Validation(errors))
    };
    match result {
        Ok(c) => Ok(Redirect::to(&format!("/campagnes/{}", c.id)).into_response()),
        Err(e) => {
            let (message, errors, status) = refused(&ctx, e)?;
            let form = FormState {
                values: pairs,
                errors: errors.clone(),
            };
            render_campaigns(
                &ctx,
                &state,
                form,
                Alert {
                    message: Some(message),
                    errors,
                },
                status,
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "indicator/campaign.html")]
struct CampaignPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    v: CampaignView,
    heat_svg: String,
    heat_table: DataTable,
    /// (académie, filled, expected, percent)
    missing: Vec<(String, i64, i64, i64)>,
    alert: Alert,
    last_day: Date,
    /// `a-venir`, `ouverte`, `delai-de-grace`, `echue`, `close`.
    phase: &'static str,
}

async fn render_campaign(
    ctx: &PageCtx,
    state: &AppState,
    id: &str,
    alert: Alert,
    status: StatusCode,
) -> PageResponse {
    let p = ctx.require_user()?;
    let v = camp::campaign(&state.db, p, id).await.map_err(|e| ctx.error(e))?;
    let rows: Vec<String> = v.progress.iter().map(|a| a.label.clone()).collect();
    let cols: Vec<String> = v.indicators.iter().map(|i| i.code.clone()).collect();
    let cells: Vec<Vec<Option<f64>>> = v
        .progress
        .iter()
        .map(|a| {
            a.cells
                .iter()
                .map(|(_, n, e)| (*e > 0).then(|| *n as f64 / *e as f64))
                .collect()
        })
        .collect();
    let title = format!("{} — {}", v.campaign.title, ctx.t("ind-heatmap"));
    let heat_svg = heatmap::heatmap(ctx.lang, &title, &ctx.t("ind-heatmap-desc"), &rows, &cols, &cells);
    let heat_table = heatmap::table(
        ctx.lang,
        &title,
        &ctx.t("ind-level-academie"),
        &rows,
        &cols,
        &cells,
    );
    let missing = v
        .progress
        .iter()
        .filter(|a| a.filled < a.expected)
        .map(|a| (a.label.clone(), a.filled, a.expected, a.percent()))
        .collect();
    let today = ind::today();
    let c = &v.campaign;
    let phase = if c.status == CampaignStatus::Close.as_str() {
        "close"
    } else if today < c.opens_on {
        "a-venir"
    } else if today <= c.closes_on {
        "ouverte"
    } else if today <= c.last_day() {
        "delai-de-grace"
    } else {
        "echue"
    };
    let crumbs = Crumbs::new(c.title.clone()).link("/campagnes", ctx.t("ind-campaigns"));
    let html = ctx.render(&CampaignPage {
        ctx: ctx.clone(),
        crumbs,
        last_day: c.last_day(),
        heat_svg,
        heat_table,
        missing,
        alert,
        phase,
        v,
    })?;
    Ok((status, html).into_response())
}

async fn campaign_page(ctx: PageCtx, State(state): State<AppState>, Path(id): Path<String>) -> PageResponse {
    render_campaign(&ctx, &state, &id, Alert::default(), StatusCode::OK).await
}

async fn close_campaign(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    match camp::close_campaign(&state.db, p, &id, version_of(&pairs)).await {
        Ok(_) => Ok(Redirect::to(&format!("/campagnes/{id}")).into_response()),
        Err(e) => {
            let (message, errors, status) = refused(&ctx, e)?;
            render_campaign(
                &ctx,
                &state,
                &id,
                Alert {
                    message: Some(message),
                    errors,
                },
                status,
            )
            .await
        }
    }
}
