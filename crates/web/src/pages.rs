//! What every page shares: the request context given to the base layout, pagination, the
//! error page, the language switch, and the pages that belong to no domain (home, search,
//! API reference).

use std::fmt::Write as _;

use askama::Template;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use gouvernail_core::CoreError;
use gouvernail_core::territory::model::{Academie, Counts, RegionAcademique, SearchResults};
use gouvernail_core::territory::service;
use serde::Deserialize;

use crate::error::{public_message, status_of};
use crate::i18n::{Lang, lang_of};
use crate::state::{AppState, Theme};

/// The request's context, handed to every page template (and to its base layout).
#[derive(Debug, Clone)]
pub struct PageCtx {
    /// The signed-in person, if any.
    pub user: Option<gouvernail_core::identity::Principal>,
    pub lang: Lang,
    pub theme: Theme,
    pub demo: bool,
    /// Path and query of the request, without any `lang=` parameter.
    pub here: String,
    /// The path alone, to mark the current navigation entry.
    pub path: String,
}

impl FromRequestParts<AppState> for PageCtx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let path = parts.uri.path().to_owned();
        let query: Vec<&str> = parts
            .uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("lang="))
            .collect();
        let here = if query.is_empty() {
            path.clone()
        } else {
            format!("{path}?{}", query.join("&"))
        };
        let user = match crate::auth::resolve(parts, state).await {
            Ok(user) => user,
            Err(e) => {
                tracing::error!("cannot resolve the session: {e}");
                None
            }
        };
        Ok(PageCtx {
            user,
            lang: lang_of(parts),
            theme: state.config.theme,
            demo: state.config.demo,
            here,
            path,
        })
    }
}

impl PageCtx {
    /// A message of the catalog in the request's language.
    pub fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    /// The label of a coded value: `label("statut", "public")` reads `statut-public`.
    pub fn label(&self, prefix: &str, value: &str) -> String {
        self.lang.t(&format!("{prefix}-{value}"))
    }

    /// An integer written the way the language writes it.
    pub fn int(&self, n: impl Num) -> String {
        self.lang.int(n.value())
    }

    /// An optional integer, or a dash.
    pub fn opt_int(&self, n: impl OptNum) -> String {
        n.value().map_or_else(|| "—".to_owned(), |n| self.lang.int(n))
    }

    /// A date written in the language.
    pub fn date(&self, d: impl DateValue) -> String {
        self.lang.date(d.value())
    }

    /// An amount in euro cents, written in euros (`1 200 000 €`), exact.
    pub fn euros(&self, cents: &i64) -> String {
        let euros = cents / 100;
        let rest = (cents % 100).abs();
        if rest == 0 {
            format!("{} €", self.lang.int(euros))
        } else {
            let sep = if self.lang == Lang::Fr { ',' } else { '.' };
            format!("{}{sep}{rest:02} €", self.lang.int(euros))
        }
    }

    /// An amount in euro cents, as `euros` writes it, from a value or a reference.
    pub fn money(&self, cents: impl Num) -> String {
        self.euros(&cents.value())
    }

    /// A moment, in UTC, to the minute.
    pub fn datetime(&self, at: &time::OffsetDateTime) -> String {
        let at = at.to_offset(time::UtcOffset::UTC);
        format!(
            "{} {:02}:{:02} UTC",
            self.lang.date(at.date()),
            at.hour(),
            at.minute()
        )
    }

    /// A moment in Paris' legal time, to the minute (meetings).
    pub fn paris_time(&self, at: &time::OffsetDateTime) -> String {
        let at = gouvernail_core::paris::local(*at);
        if self.lang == Lang::Fr {
            format!(
                "{} à {:02} h {:02}",
                self.lang.date(at.date()),
                at.hour(),
                at.minute()
            )
        } else {
            format!(
                "{} at {:02}:{:02}",
                self.lang.date(at.date()),
                at.hour(),
                at.minute()
            )
        }
    }

    /// The hour and minute of a moment in Paris' legal time (`14 h 30`).
    pub fn paris_hour(&self, at: &time::OffsetDateTime) -> String {
        let at = gouvernail_core::paris::local(*at);
        if self.lang == Lang::Fr {
            format!("{:02} h {:02}", at.hour(), at.minute())
        } else {
            format!("{:02}:{:02}", at.hour(), at.minute())
        }
    }

    /// True when the DSFR look is on.
    pub fn is_dsfr(&self) -> bool {
        self.theme == Theme::Dsfr
    }

    /// The `lang` attribute of the page.
    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }

    /// The link of the language switch: same page, other language.
    pub fn switch_href(&self) -> String {
        format!(
            "/langue/{}?retour={}",
            self.lang.other().code(),
            url_encode(&self.here)
        )
    }

    /// The other language's code and name, for the switch.
    pub fn other_lang_code(&self) -> &'static str {
        self.lang.other().code()
    }

    pub fn other_lang_name(&self) -> &'static str {
        self.lang.other().autonym()
    }

    /// `aria-current="page"` for the navigation entry of the current section.
    pub fn current(&self, prefix: &str) -> &'static str {
        let here = if prefix == "/" {
            self.path == "/"
        } else {
            self.path.starts_with(prefix)
        };
        if here { "page" } else { "false" }
    }

    /// `aria-current` of the equipment entry, which covers several sections.
    pub fn eq_current(&self) -> &'static str {
        let sections = ["/ecarts", "/equipements", "/plans-equipement", "/besoins"];
        if sections.iter().any(|s| self.path.starts_with(s)) {
            "page"
        } else {
            "false"
        }
    }

    /// The signed-in person's name, for the header.
    pub fn user_name(&self) -> Option<&str> {
        self.user.as_ref().map(|p| p.user.display_name.as_str())
    }

    /// True for a national administrator (to show the administration menu).
    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|p| p.is_admin())
    }

    /// The signed-in person, or the error that sends to the sign-in page.
    pub fn require_user(&self) -> Result<&gouvernail_core::identity::Principal, PageError> {
        self.user
            .as_ref()
            .ok_or_else(|| self.error(CoreError::Unauthenticated))
    }

    /// Turns a core error into the error page, in the request's language.
    pub fn error(&self, error: CoreError) -> PageError {
        PageError(Box::new(PageErrorInner {
            ctx: self.clone(),
            error,
        }))
    }

    /// Renders a page template.
    pub fn render<T: Template>(&self, template: &T) -> Result<Html<String>, PageError> {
        template
            .render()
            .map(Html)
            .map_err(|e| self.error(CoreError::Internal(format!("rendu de page : {e}"))))
    }
}

/// An integer, or a reference to one, as templates hand them over.
pub trait Num {
    fn value(&self) -> i64;
}
impl Num for i64 {
    fn value(&self) -> i64 {
        *self
    }
}
impl<T: Num + ?Sized> Num for &T {
    fn value(&self) -> i64 {
        (**self).value()
    }
}

/// An optional integer, or a reference to one.
pub trait OptNum {
    fn value(&self) -> Option<i64>;
}
impl OptNum for Option<i64> {
    fn value(&self) -> Option<i64> {
        *self
    }
}
impl<T: OptNum + ?Sized> OptNum for &T {
    fn value(&self) -> Option<i64> {
        (**self).value()
    }
}

/// A date, or a reference to one.
pub trait DateValue {
    fn value(&self) -> time::Date;
}
impl DateValue for time::Date {
    fn value(&self) -> time::Date {
        *self
    }
}
impl<T: DateValue + ?Sized> DateValue for &T {
    fn value(&self) -> time::Date {
        (**self).value()
    }
}

/// The breadcrumb of a page: links from the home page down, then the current page.
#[derive(Debug, Clone, Default)]
pub struct Crumbs {
    pub links: Vec<(String, String)>,
    pub current: String,
}

impl Crumbs {
    /// A breadcrumb ending on `current`.
    pub fn new(current: impl Into<String>) -> Self {
        Self {
            links: Vec::new(),
            current: current.into(),
        }
    }

    /// Adds a link above the current page.
    pub fn link(mut self, href: impl Into<String>, label: impl Into<String>) -> Self {
        self.links.push((href.into(), label.into()));
        self
    }

    /// Adds a link when there is one.
    pub fn link_opt(self, link: Option<(String, String)>) -> Self {
        match link {
            Some((href, label)) => self.link(href, label),
            None => self,
        }
    }
}

/// Percent-encodes a value for a query string.
pub fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A failed page, shown as the error page with the right status.
pub struct PageError(Box<PageErrorInner>);

struct PageErrorInner {
    ctx: PageCtx,
    error: CoreError,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    ctx: &'a PageCtx,
    status: u16,
    title: String,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let this = *self.0;
        if matches!(this.error, CoreError::Unauthenticated) {
            return Redirect::to(&format!("/connexion?retour={}", url_encode(&this.ctx.here)))
                .into_response();
        }
        let status = status_of(&this.error);
        let title = match status {
            StatusCode::NOT_FOUND => this.ctx.t("error-not-found"),
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => this.ctx.t("error-bad-request"),
            StatusCode::FORBIDDEN => this.ctx.t("error-forbidden"),
            StatusCode::CONFLICT => this.ctx.t("error-conflict"),
            _ => this.ctx.t("error-internal"),
        };
        let page = ErrorPage {
            ctx: &this.ctx,
            status: status.as_u16(),
            title,
            message: public_message(&this.error),
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!("cannot render the error page: {e}");
                (status, "Erreur").into_response()
            }
        }
    }
}

/// The answer of a page handler.
pub type PageResult = Result<Html<String>, PageError>;

/// Previous/next links of a paginated list.
#[derive(Debug, Clone)]
pub struct Pager {
    pub page: u32,
    pub page_count: u32,
    pub total: i64,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
}

impl Pager {
    /// Builds the links from the list's base path and its other query parameters.
    pub fn new(base: &str, params: &[(&str, Option<&str>)], page: u32, page_count: u32, total: i64) -> Self {
        let href = |p: u32| {
            let mut query: Vec<String> = params
                .iter()
                .filter_map(|(k, v)| {
                    v.filter(|v| !v.is_empty())
                        .map(|v| format!("{k}={}", url_encode(v)))
                })
                .collect();
            query.push(format!("page={p}"));
            format!("{base}?{}", query.join("&"))
        };
        Self {
            page,
            page_count,
            total,
            prev_href: (page > 1).then(|| href(page - 1)),
            next_href: (page < page_count).then(|| href(page + 1)),
        }
    }
}

/// Page number from a query string, defaulting to 1.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub page: Option<u32>,
}

// ---------------------------------------------------------------------------------------
// Home, search, language, API reference.

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: PageCtx,
    counts: Counts,
    regions: Vec<(RegionAcademique, Vec<Academie>)>,
}

/// `GET /`: what the platform holds, and the way into the territory.
pub async fn home(ctx: PageCtx, State(state): State<AppState>) -> PageResult {
    let counts = service::counts(&state.db).await.map_err(|e| ctx.error(e))?;
    let academies = service::list_academies(&state.db, false)
        .await
        .map_err(|e| ctx.error(e))?;
    let regions = service::list_regions_academiques(&state.db)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .map(|r| {
            let of_region = academies
                .iter()
                .filter(|a| a.code_region_academique.as_deref() == Some(r.code.as_str()))
                .cloned()
                .collect();
            (r, of_region)
        })
        .collect();
    ctx.render(&HomePage {
        ctx: ctx.clone(),
        counts,
        regions,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    pub q: Option<String>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    ctx: PageCtx,
    q: String,
    results: SearchResults,
}

/// `GET /recherche?q=`: schools by name or UAI, communes by name or INSEE code,
/// collectivités by name or SIREN.
pub async fn search(
    ctx: PageCtx,
    State(state): State<AppState>,
    Query(query): Query<SearchQuery>,
) -> Response {
    let q = query.q.unwrap_or_default();
    let results = match service::search(&state.db, &q).await {
        Ok(r) => r,
        Err(e) => return ctx.error(e).into_response(),
    };
    // A single exact hit on an identifier goes straight to its page.
    let only = results.etablissements.len()
        + results.communes.len()
        + results.collectivites.len()
        + results.academies.len();
    if only == 1 && q.trim().chars().all(|c| c.is_ascii_alphanumeric()) {
        let q = q.trim();
        if let Some(e) = results.etablissements.first()
            && e.uai.eq_ignore_ascii_case(q)
        {
            return Redirect::to(&format!("/etablissements/{}", e.uai)).into_response();
        }
        if let Some(c) = results.communes.first()
            && c.code == q
        {
            return Redirect::to(&format!("/communes/{}", c.code)).into_response();
        }
        if let Some(k) = results.collectivites.first()
            && k.siren == q
        {
            return Redirect::to(&format!("/collectivites/{}", k.siren)).into_response();
        }
    }
    match ctx.render(&SearchPage {
        ctx: ctx.clone(),
        q,
        results,
    }) {
        Ok(html) => html.into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    pub retour: Option<String>,
}

/// `GET /langue/{code}?retour=/chemin`: remembers the language in a cookie and goes back.
pub async fn switch_language(
    axum::extract::Path(code): axum::extract::Path<String>,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = Lang::parse(&code).unwrap_or_default();
    // Only a local path is a valid return address (no open redirect).
    let back = query
        .retour
        .filter(|r| r.starts_with('/') && !r.starts_with("//") && !r.contains('\\'))
        .unwrap_or_else(|| "/".to_owned());
    let mut response = Redirect::to(&back).into_response();
    let cookie = format!(
        "lang={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly",
        lang.code()
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// One operation of the API reference page.
pub struct OperationDoc {
    pub method: String,
    pub path: String,
    pub summary: String,
    pub description: String,
    pub params: Vec<(String, String, bool, String)>,
    pub responses: Vec<(String, String)>,
    pub anchor: String,
}

/// Reads the OpenAPI document into what the reference page shows.
pub fn operations_of(doc: &utoipa::openapi::OpenApi) -> Vec<OperationDoc> {
    let mut out = Vec::new();
    for (path, item) in &doc.paths.paths {
        let ops = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            let params = op
                .parameters
                .iter()
                .flatten()
                .filter_map(|p| match p {
                    utoipa::openapi::RefOr::T(p) => Some(p),
                    utoipa::openapi::RefOr::Ref(_) => None,
                })
                .map(|p| {
                    let place = match p.parameter_in {
                        utoipa::openapi::path::ParameterIn::Path => "path",
                        utoipa::openapi::path::ParameterIn::Query
                        | utoipa::openapi::path::ParameterIn::QueryString => "query",
                        utoipa::openapi::path::ParameterIn::Header => "header",
                        utoipa::openapi::path::ParameterIn::Cookie => "cookie",
                    };
                    (
                        p.name.clone(),
                        place.to_owned(),
                        matches!(p.required, utoipa::openapi::Required::True),
                        p.description.clone().unwrap_or_default(),
                    )
                })
                .collect();
            let responses = op
                .responses
                .responses
                .iter()
                .map(|(code, r)| {
                    let text = match r {
                        utoipa::openapi::RefOr::T(r) => r.description.clone(),
                        utoipa::openapi::RefOr::Ref(r) => r.ref_location.clone(),
                    };
                    (code.clone(), text)
                })
                .collect();
            let anchor = format!("{}{}", method.to_lowercase(), path.replace(['/', '{', '}'], "-"));
            out.push(OperationDoc {
                method: method.to_owned(),
                path: path.clone(),
                summary: op.summary.clone().unwrap_or_default(),
                description: op.description.clone().unwrap_or_default(),
                params,
                responses,
                anchor,
            });
        }
    }
    out
}

#[derive(Template)]
#[template(path = "api_reference.html")]
struct ApiReferencePage<'a> {
    ctx: PageCtx,
    title: &'a str,
    description: &'a str,
    operations: &'a [OperationDoc],
}

/// `GET /api`: the API reference, rendered on the server from the OpenAPI document.
pub async fn api_reference(
    ctx: PageCtx,
    doc: &utoipa::openapi::OpenApi,
    operations: &[OperationDoc],
) -> PageResult {
    ctx.render(&ApiReferencePage {
        ctx: ctx.clone(),
        title: &doc.info.title,
        description: doc.info.description.as_deref().unwrap_or(""),
        operations,
    })
}

/// Any unknown path: the not-found page.
pub async fn not_found(ctx: PageCtx) -> PageError {
    ctx.error(CoreError::not_found("page", &ctx.path))
}
