//! Sign-in and sign-out, the ProConnect round trip, one's account and tokens, the
//! administration of accounts, the audit trail and an académie's team.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gouvernail_core::CoreError;
use gouvernail_core::audit::{AuditEntry, AuditFilter};
use gouvernail_core::identity::model::{ApiToken, Assignment, User as UserModel};
use gouvernail_core::identity::service::{
    self, LoginError, NewAssignment, SsoIdentity, SsoOutcome, UserPatch,
};
use gouvernail_core::identity::{Perimeter, Role};
use serde::Deserialize;
use time::{Date, OffsetDateTime};

use crate::auth::{SESSION_COOKIE, clear_session_cookie, cookie, oidc, session_cookie};
use crate::pages::{Crumbs, PageCtx, PageError};
use crate::state::AppState;

/// The routes of these pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/connexion", get(login_page).post(login_submit))
        .route("/deconnexion", post(logout))
        .route("/connexion/proconnect", get(proconnect_start))
        .route(oidc::CALLBACK_PATH, get(proconnect_callback))
        .route("/connexion/en-attente", get(pending_page))
        .route("/compte", get(account_page))
        .route("/compte/jetons", post(account_create_token))
        .route("/compte/jetons/{id}/revocation", post(account_revoke_token))
        .route("/compte/agenda", post(account_create_feed))
        .route("/compte/agenda/revocation", post(account_revoke_feed))
        .route("/admin/utilisateurs", get(admin_users).post(admin_create_user))
        .route("/admin/utilisateurs/{id}", get(admin_user))
        .route("/admin/utilisateurs/{id}/statut", post(admin_user_status))
        .route("/admin/utilisateurs/{id}/roles", post(admin_user_grant))
        .route("/admin/journal", get(admin_journal))
        .route("/academies/{code}/equipe", get(team_page).post(team_appoint))
        .route("/nominations/{id}/fin", post(end_nomination))
}

type PageResponse = Result<Response, PageError>;

/// The address of the client, for throttling (from the listener, never from headers).
fn client_address(parts: &axum::http::Extensions) -> String {
    parts
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "inconnue".to_owned())
}

/// Only local paths are valid return addresses (no open redirect).
fn safe_return(target: Option<&str>) -> String {
    target
        .filter(|r| r.starts_with('/') && !r.starts_with("//") && !r.contains('\\'))
        .unwrap_or("/")
        .to_owned()
}

fn signed_in(secret: &str, to: &str) -> Response {
    let mut response = Redirect::to(to).into_response();
    if let Some(value) = session_cookie(secret) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

// --- Sign-in -----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "auth/connexion.html")]
struct LoginPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    retour: String,
    email: String,
    message: Option<String>,
    proconnect: bool,
    demo_accounts: Vec<(&'static str, &'static str, &'static str, &'static str)>,
    demo_password: &'static str,
}

#[derive(Debug, Default, Deserialize)]
struct LoginQuery {
    retour: Option<String>,
}

fn login_form(
    ctx: &PageCtx,
    state: &AppState,
    retour: String,
    email: String,
    message: Option<String>,
) -> Result<Html<String>, PageError> {
    ctx.render(&LoginPage {
        ctx: ctx.clone(),
        crumbs: Crumbs::new(ctx.t("login-title")),
        retour,
        email,
        message,
        proconnect: state.config.oidc.is_some(),
        demo_accounts: if state.config.demo {
            gouvernail_core::demo::DEMO_ACCOUNTS.to_vec()
        } else {
            Vec::new()
        },
        demo_password: gouvernail_core::demo::DEMO_PASSWORD,
    })
}

async fn login_page(
    ctx: PageCtx,
    State(state): State<AppState>,
    Query(q): Query<LoginQuery>,
) -> PageResponse {
    Ok(login_form(
        &ctx,
        &state,
        safe_return(q.retour.as_deref()),
        String::new(),
        None,
    )?
    .into_response())
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    email: String,
    mot_de_passe: String,
    retour: Option<String>,
}

async fn login_submit(
    ctx: PageCtx,
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    Form(form): Form<LoginForm>,
) -> PageResponse {
    let address = client_address(&extensions);
    let retour = safe_return(form.retour.as_deref());
    match service::login_with_password(&state.db, &form.email, &form.mot_de_passe, &address)
        .await
        .map_err(|e| ctx.error(e))?
    {
        Ok(user) => {
            let secret = service::open_session(&state.db, &user.id)
                .await
                .map_err(|e| ctx.error(e))?;
            Ok(signed_in(&secret, &retour))
        }
        Err(reason) => {
            let (status, key) = match reason {
                LoginError::Invalid => (StatusCode::UNAUTHORIZED, "login-invalid"),
                LoginError::Throttled => (StatusCode::TOO_MANY_REQUESTS, "login-throttled"),
            };
            let html = login_form(&ctx, &state, retour, form.email.clone(), Some(ctx.t(key)))?;
            Ok((status, html).into_response())
        }
    }
}

async fn logout(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    if let Some(secret) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = service::close_session(&state.db, secret).await
    {
        tracing::error!("cannot close a session: {e}");
    }
    let mut response = Redirect::to("/").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, clear_session_cookie());
    response
}

// --- ProConnect --------------------------------------------------------------------------

async fn proconnect_start(ctx: PageCtx, State(state): State<AppState>) -> PageResponse {
    let Some(settings) = state.config.oidc.clone() else {
        return Err(ctx.error(CoreError::not_found("page", "/connexion/proconnect")));
    };
    let started = oidc::start(&settings, &state.config.public_url)
        .await
        .map_err(|e| ctx.error(CoreError::Internal(e.to_string())))?;
    service::remember_oidc_login(&state.db, &started.state, &started.nonce, &started.verifier)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to(&started.url).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn proconnect_callback(
    ctx: PageCtx,
    State(state): State<AppState>,
    Query(q): Query<CallbackQuery>,
) -> PageResponse {
    let Some(settings) = state.config.oidc.clone() else {
        return Err(ctx.error(CoreError::not_found("page", oidc::CALLBACK_PATH)));
    };
    // The state is checked first, and consumed: a replayed callback finds nothing.
    let remembered = match q.state.as_deref() {
        Some(s) if !s.is_empty() => service::take_oidc_login(&state.db, s)
            .await
            .map_err(|e| ctx.error(e))?,
        _ => None,
    };
    let Some((nonce, verifier)) = remembered else {
        return Err(ctx.error(CoreError::bad_request(
            "state",
            "paramètre state inconnu, déjà utilisé ou expiré : recommencez la connexion",
        )));
    };
    if let Some(error) = q.error {
        return Err(ctx.error(CoreError::bad_request(
            "error",
            format!("connexion refusée par le fournisseur : {error}"),
        )));
    }
    let Some(code) = q.code else {
        return Err(ctx.error(CoreError::bad_request("code", "code d'autorisation absent")));
    };
    let verified = oidc::finish(&settings, &state.config.public_url, &code, &nonce, &verifier)
        .await
        .map_err(|e| match e {
            oidc::OidcError::Rejected(m) => ctx.error(CoreError::bad_request("proconnect", m)),
            other => ctx.error(CoreError::Internal(other.to_string())),
        })?;
    let identity = SsoIdentity {
        subject: verified.subject,
        email: verified.email,
        given_name: verified.given_name,
        usual_name: verified.usual_name,
        uid: verified.uid,
        siret: verified.siret,
    };
    match service::sso_login(&state.db, &identity)
        .await
        .map_err(|e| ctx.error(e))?
    {
        SsoOutcome::SignedIn(user) => {
            let secret = service::open_session(&state.db, &user.id)
                .await
                .map_err(|e| ctx.error(e))?;
            Ok(signed_in(&secret, "/"))
        }
        SsoOutcome::Pending(_) => Ok(Redirect::to("/connexion/en-attente").into_response()),
        SsoOutcome::Refused => Err(ctx.error(CoreError::Forbidden)),
    }
}

#[derive(Template)]
#[template(path = "auth/en_attente.html")]
struct PendingPage {
    ctx: PageCtx,
    crumbs: Crumbs,
}

async fn pending_page(ctx: PageCtx) -> PageResponse {
    let crumbs = Crumbs::new(ctx.t("pending-title"));
    Ok(ctx
        .render(&PendingPage {
            ctx: ctx.clone(),
            crumbs,
        })?
        .into_response())
}

// --- One's account -----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "auth/compte.html")]
struct AccountPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    assignments: Vec<Assignment>,
    tokens: Vec<ApiToken>,
    new_secret: Option<String>,
    default_expiry: String,
    message: Option<String>,
    /// Whether the person has a live calendar feed, and its address when just created.
    calendar_feed: bool,
    feed_url: Option<String>,
}

async fn render_account(
    ctx: &PageCtx,
    state: &AppState,
    new_secret: Option<String>,
    message: Option<String>,
) -> PageResponse {
    render_account_with_feed(ctx, state, new_secret, message, None).await
}

async fn render_account_with_feed(
    ctx: &PageCtx,
    state: &AppState,
    new_secret: Option<String>,
    message: Option<String>,
    feed_url: Option<String>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let assignments = service::assignments_of(&state.db, &p.user.id)
        .await
        .map_err(|e| ctx.error(e))?;
    let tokens = service::list_tokens(&state.db, p)
        .await
        .map_err(|e| ctx.error(e))?;
    let default_expiry = (OffsetDateTime::now_utc().date() + time::Duration::days(90)).to_string();
    let calendar_feed = gouvernail_core::governance::service::has_calendar_feed(&state.db, p)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx
        .render(&AccountPage {
            ctx: ctx.clone(),
            crumbs: Crumbs::new(ctx.t("account-title")),
            assignments,
            tokens,
            new_secret,
            default_expiry,
            message,
            calendar_feed,
            feed_url,
        })?
        .into_response())
}

async fn account_page(ctx: PageCtx, State(state): State<AppState>) -> PageResponse {
    render_account(&ctx, &state, None, None).await
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    nom: String,
    expiration: String,
    lecture_seule: Option<String>,
}

async fn account_create_token(
    ctx: PageCtx,
    State(state): State<AppState>,
    Form(form): Form<TokenForm>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let expiry = Date::parse(
        &form.expiration,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| ctx.error(CoreError::bad_request("expiration", "date attendue (AAAA-MM-JJ)")))?;
    match service::create_token_as(
        &state.db,
        p,
        None,
        &form.nom,
        form.lecture_seule.is_some(),
        expiry,
    )
    .await
    {
        Ok((_, secret)) => render_account(&ctx, &state, Some(secret), None).await,
        Err(CoreError::Validation(fields)) => {
            let message = fields
                .iter()
                .map(|f| format!("{} : {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join(" ; ");
            render_account(&ctx, &state, None, Some(message)).await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

async fn account_revoke_token(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResponse {
    let p = ctx.require_user()?;
    service::revoke_token(&state.db, p, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to("/compte").into_response())
}

/// Creates one's private calendar feed (a new address revokes the previous one) and shows
/// its address, once.
async fn account_create_feed(ctx: PageCtx, State(state): State<AppState>) -> PageResponse {
    let p = ctx.require_user()?;
    match gouvernail_core::governance::service::new_calendar_feed(&state.db, p).await {
        Ok(token) => {
            let url = crate::governance::api::feed_url(&state, &token);
            render_account_with_feed(&ctx, &state, None, None, Some(url)).await
        }
        Err(CoreError::Forbidden) => render_account(&ctx, &state, None, Some(ctx.t("govp-forbidden"))).await,
        Err(e) => Err(ctx.error(e)),
    }
}

/// Revokes one's calendar feed: its address answers 404 from now on.
async fn account_revoke_feed(ctx: PageCtx, State(state): State<AppState>) -> PageResponse {
    let p = ctx.require_user()?;
    match gouvernail_core::governance::service::revoke_calendar_feed(&state.db, p).await {
        Ok(()) => Ok(Redirect::to("/compte#agenda").into_response()),
        Err(CoreError::Forbidden) => render_account(&ctx, &state, None, Some(ctx.t("govp-forbidden"))).await,
        Err(e) => Err(ctx.error(e)),
    }
}

// --- Administration ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "auth/admin_users.html")]
struct AdminUsersPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    users: Vec<UserModel>,
    message: Option<String>,
}

async fn render_users(
    ctx: &PageCtx,
    state: &AppState,
    message: Option<String>,
    status: StatusCode,
) -> PageResponse {
    let p = ctx.require_user()?;
    let users = service::list_users(&state.db, p, None)
        .await
        .map_err(|e| ctx.error(e))?;
    let html = ctx.render(&AdminUsersPage {
        ctx: ctx.clone(),
        crumbs: Crumbs::new(ctx.t("admin-users-title")),
        users,
        message,
    })?;
    Ok((status, html).into_response())
}

async fn admin_users(ctx: PageCtx, State(state): State<AppState>) -> PageResponse {
    render_users(&ctx, &state, None, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
struct NewUserForm {
    email: String,
    nom: String,
}

async fn admin_create_user(
    ctx: PageCtx,
    State(state): State<AppState>,
    Form(form): Form<NewUserForm>,
) -> PageResponse {
    let p = ctx.require_user()?;
    match service::create_user_as(&state.db, p, &form.email, &form.nom).await {
        Ok(user) => Ok(Redirect::to(&format!("/admin/utilisateurs/{}", user.id)).into_response()),
        Err(e @ (CoreError::Validation(_) | CoreError::Conflict(_))) => {
            render_users(
                &ctx,
                &state,
                Some(e.to_string()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

#[derive(Template)]
#[template(path = "auth/admin_user.html")]
struct AdminUserPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    u: UserModel,
    assignments: Vec<Assignment>,
    history: Vec<AuditEntry>,
    roles: Vec<&'static str>,
    today: String,
    message: Option<String>,
}

async fn render_user(
    ctx: &PageCtx,
    state: &AppState,
    id: &str,
    message: Option<String>,
    status: StatusCode,
) -> PageResponse {
    let p = ctx.require_user()?;
    p.require_admin().map_err(|e| ctx.error(e))?;
    let u = service::get_user(&state.db, p, id)
        .await
        .map_err(|e| ctx.error(e))?;
    let assignments = service::assignments_of(&state.db, id)
        .await
        .map_err(|e| ctx.error(e))?;
    let history = service::history(&state.db, p, "utilisateur", id)
        .await
        .map_err(|e| ctx.error(e))?;
    let html = ctx.render(&AdminUserPage {
        ctx: ctx.clone(),
        crumbs: Crumbs::new(u.display_name.clone()).link("/admin/utilisateurs", ctx.t("admin-users-title")),
        u,
        assignments,
        history,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        today: OffsetDateTime::now_utc().date().to_string(),
        message,
    })?;
    Ok((status, html).into_response())
}

async fn admin_user(ctx: PageCtx, State(state): State<AppState>, Path(id): Path<String>) -> PageResponse {
    render_user(&ctx, &state, &id, None, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
struct StatusForm {
    statut: String,
    version: i64,
}

async fn admin_user_status(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let patch = UserPatch {
        status: Some(form.statut),
        ..Default::default()
    };
    match service::update_user_as(&state.db, p, &id, form.version, &patch).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/utilisateurs/{id}")).into_response()),
        Err(e @ CoreError::Conflict(_)) => {
            render_user(&ctx, &state, &id, Some(e.to_string()), StatusCode::CONFLICT).await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

#[derive(Debug, Deserialize)]
struct GrantForm {
    role: String,
    perimetre: String,
    debut: Option<String>,
    fin: Option<String>,
}

fn form_date(field: &str, value: Option<&str>) -> Result<Option<Date>, CoreError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => Date::parse(v, time::macros::format_description!("[year]-[month]-[day]"))
            .map(Some)
            .map_err(|_| {
                CoreError::Validation(vec![gouvernail_core::FieldError::new(
                    field,
                    "date attendue (AAAA-MM-JJ)",
                )])
            }),
    }
}

fn grant_from_form(user_id: String, form: &GrantForm) -> Result<NewAssignment, CoreError> {
    Ok(NewAssignment {
        user_id,
        role: Role::parse(&form.role)?,
        perimeter: Perimeter::parse(&form.perimetre)?,
        from: form_date("debut", form.debut.as_deref())?.unwrap_or_else(|| OffsetDateTime::now_utc().date()),
        until: form_date("fin", form.fin.as_deref())?,
    })
}

async fn admin_user_grant(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<GrantForm>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let result = match grant_from_form(id.clone(), &form) {
        Ok(new) => service::grant_role(&state.db, Some(p), &new).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/admin/utilisateurs/{id}")).into_response()),
        Err(e @ (CoreError::Validation(_) | CoreError::BadRequest(_))) => {
            render_user(
                &ctx,
                &state,
                &id,
                Some(e.to_string()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

#[derive(Template)]
#[template(path = "auth/journal.html")]
struct JournalPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    entries: Vec<AuditEntry>,
    total: i64,
    objet: String,
    acteur: String,
    export_query: String,
}

#[derive(Debug, Default, Deserialize)]
struct JournalQuery {
    objet: Option<String>,
    acteur: Option<String>,
}

async fn admin_journal(
    ctx: PageCtx,
    State(state): State<AppState>,
    Query(q): Query<JournalQuery>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let filter = AuditFilter {
        object_kind: nonempty(&q.objet),
        actor_id: nonempty(&q.acteur),
        ..Default::default()
    };
    let (entries, total) = service::audit_trail(&state.db, p, &filter, 200, 0)
        .await
        .map_err(|e| ctx.error(e))?;
    let objet = q.objet.unwrap_or_default();
    let acteur = q.acteur.unwrap_or_default();
    let export_query = [("objet", objet.as_str()), ("acteur", acteur.as_str())]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("&{k}={}", crate::pages::url_encode(v)))
        .collect::<String>();
    Ok(ctx
        .render(&JournalPage {
            ctx: ctx.clone(),
            crumbs: Crumbs::new(ctx.t("journal-title")),
            entries,
            total,
            objet,
            acteur,
            export_query,
        })?
        .into_response())
}

// --- An académie's team ------------------------------------------------------------------

#[derive(Template)]
#[template(path = "auth/equipe.html")]
struct TeamPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    code: String,
    nom: String,
    assignments: Vec<Assignment>,
    can_appoint: bool,
    roles: Vec<&'static str>,
    message: Option<String>,
}

async fn render_team(
    ctx: &PageCtx,
    state: &AppState,
    code: &str,
    message: Option<String>,
    status: StatusCode,
) -> PageResponse {
    let p = ctx.require_user()?;
    let detail = gouvernail_core::territory::service::get_academie(&state.db, code)
        .await
        .map_err(|e| ctx.error(e))?;
    let perimeter = Perimeter::Academie(detail.academie.code.clone());
    let assignments = service::list_assignments(&state.db, p, Some(&perimeter))
        .await
        .map_err(|e| ctx.error(e))?;
    let can_appoint = p
        .can(
            &state.db,
            gouvernail_core::identity::Capability::Appoint,
            &perimeter,
        )
        .await
        .map_err(|e| ctx.error(e))?;
    let roles = p
        .grants
        .iter()
        .flat_map(|g| g.role.may_appoint().iter().map(|r| r.as_str()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let html = ctx.render(&TeamPage {
        ctx: ctx.clone(),
        crumbs: Crumbs::new(ctx.t("team-title")).link(
            format!("/academies/{}", detail.academie.code),
            detail.academie.nom.clone(),
        ),
        code: detail.academie.code.clone(),
        nom: detail.academie.nom.clone(),
        assignments,
        can_appoint,
        roles,
        message,
    })?;
    Ok((status, html).into_response())
}

async fn team_page(ctx: PageCtx, State(state): State<AppState>, Path(code): Path<String>) -> PageResponse {
    render_team(&ctx, &state, &code, None, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
struct AppointForm {
    email: String,
    role: String,
    debut: Option<String>,
    fin: Option<String>,
}

async fn team_appoint(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(code): Path<String>,
    Form(form): Form<AppointForm>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let result = async {
        let user = service::user_by_email(&state.db, &form.email).await?;
        let grant = GrantForm {
            role: form.role.clone(),
            perimetre: format!("academie:{code}"),
            debut: form.debut.clone(),
            fin: form.fin.clone(),
        };
        let new = grant_from_form(user.id, &grant)?;
        service::grant_role(&state.db, Some(p), &new).await
    }
    .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/academies/{code}/equipe")).into_response()),
        Err(e @ (CoreError::Validation(_) | CoreError::BadRequest(_) | CoreError::NotFound { .. })) => {
            render_team(
                &ctx,
                &state,
                &code,
                Some(e.to_string()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

#[derive(Debug, Deserialize)]
struct EndForm {
    retour: Option<String>,
}

async fn end_nomination(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<EndForm>,
) -> PageResponse {
    let p = ctx.require_user()?;
    service::end_role(&state.db, p, &id, None)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to(&safe_return(form.retour.as_deref())).into_response())
}
