//! `/api/v1/me`, accounts, appointments, tokens and the audit trail.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use gouvernail_core::audit::{AuditEntry, AuditFilter};
use gouvernail_core::identity::model::{ApiToken, Assignment, User as UserModel};
use gouvernail_core::identity::service::{self, NewAssignment, UserPatch};
use gouvernail_core::identity::{Perimeter, Principal, Role};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};

use crate::api::{ApiJson, ApiQuery, ListDto, map_page, page_for, paginate, respond_list};
use crate::auth::User;
use crate::error::{ApiResult, ErrorBody};
use crate::export::{Cell, ExportFormat, Tabular};
use crate::state::AppState;

// ---------------------------------------------------------------------------------------
// DTOs

/// A role held today.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleDto {
    /// `administrateur-national`, `pilote-national`, `recteur`, `dan`, `membre-dane`,
    /// `representant-collectivite`, `partenaire`, `expert` or `observateur`.
    pub role: String,
    /// `national`, `academie:14`, `collectivite:223500018`…
    pub perimeter: String,
    /// Last day excluded, if the role ends.
    pub fin: Option<Date>,
}

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeDto {
    pub id: String,
    pub email: String,
    pub nom: String,
    pub statut: String,
    /// True when the request came with a read-only token.
    pub lecture_seule: bool,
    pub roles: Vec<RoleDto>,
}

impl From<&Principal> for MeDto {
    fn from(p: &Principal) -> Self {
        Self {
            id: p.user.id.clone(),
            email: p.user.email.clone(),
            nom: p.user.display_name.clone(),
            statut: p.user.status.clone(),
            lecture_seule: p.read_only,
            roles: p
                .grants
                .iter()
                .map(|g| RoleDto {
                    role: g.role.as_str().to_owned(),
                    perimeter: g.perimeter.to_string(),
                    fin: g.valid_until,
                })
                .collect(),
        }
    }
}

/// An account.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserDto {
    pub id: String,
    pub email: String,
    pub nom: String,
    /// `active`, `pending` (awaiting an administrator) or `disabled`.
    pub statut: String,
    /// Linked to a ProConnect identity.
    pub sso: bool,
    pub siret: Option<String>,
    /// For optimistic concurrency: send it back with a change.
    pub version: i64,
    pub efface: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub cree_le: OffsetDateTime,
}

impl From<UserModel> for UserDto {
    fn from(u: UserModel) -> Self {
        Self {
            id: u.id,
            email: u.email,
            nom: u.display_name,
            statut: u.status,
            sso: u.oidc_subject.is_some(),
            siret: u.siret,
            version: u.version,
            efface: u.erased_at.is_some(),
            cree_le: u.created_at,
        }
    }
}

impl Tabular for UserDto {
    fn headers() -> &'static [&'static str] {
        &["id", "email", "nom", "statut", "sso", "version"]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            self.id.as_str().into(),
            self.email.as_str().into(),
            self.nom.as_str().into(),
            self.statut.as_str().into(),
            self.sso.into(),
            self.version.into(),
        ]
    }
}

/// A new account (administrators).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserDto {
    pub email: String,
    pub nom: String,
}

/// A change to an account (administrators). Unknown fields are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatchDto {
    /// The version read; a newer one on the server gives 409.
    pub version: i64,
    pub nom: Option<String>,
    /// `active` (also approves a pending account) or `disabled`.
    pub statut: Option<String>,
}

/// An appointment: a role held on a perimeter for a period.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NominationDto {
    pub id: String,
    pub utilisateur: String,
    pub email: String,
    pub nom: String,
    pub role: String,
    pub perimetre: String,
    pub debut: Date,
    pub fin: Option<Date>,
    pub nomme_par: Option<String>,
}

impl From<Assignment> for NominationDto {
    fn from(a: Assignment) -> Self {
        Self {
            perimetre: a.perimeter(),
            id: a.id,
            utilisateur: a.user_id,
            email: a.user_email,
            nom: a.user_name,
            role: a.role,
            debut: a.valid_from,
            fin: a.valid_until,
            nomme_par: a.granted_by,
        }
    }
}

impl Tabular for NominationDto {
    fn headers() -> &'static [&'static str] {
        &["id", "email", "nom", "role", "perimetre", "debut", "fin"]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            self.id.as_str().into(),
            self.email.as_str().into(),
            self.nom.as_str().into(),
            self.role.as_str().into(),
            self.perimetre.as_str().into(),
            self.debut.into(),
            self.fin.into(),
        ]
    }
}

/// A new appointment. The appointer's own rights bound what they may give.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNominationDto {
    /// The person's e-mail (an existing account).
    pub email: String,
    pub role: String,
    pub perimetre: String,
    /// First day (today when absent).
    pub debut: Option<Date>,
    /// First day no longer in force.
    pub fin: Option<Date>,
}

/// The end of an appointment.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndNominationDto {
    /// First day no longer in force (today when absent).
    pub date: Option<Date>,
}

/// An API token (never its secret, but once, at creation).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JetonDto {
    pub id: String,
    pub nom: String,
    pub lecture_seule: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub expire_le: OffsetDateTime,
    pub revoque: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub utilise_le: Option<OffsetDateTime>,
    /// The secret, shown only in the answer that creates the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jeton: Option<String>,
}

impl From<ApiToken> for JetonDto {
    fn from(t: ApiToken) -> Self {
        Self {
            id: t.id,
            nom: t.name,
            lecture_seule: t.read_only,
            expire_le: t.expires_at,
            revoque: t.revoked_at.is_some(),
            utilise_le: t.last_used_at,
            jeton: None,
        }
    }
}

impl Tabular for JetonDto {
    fn headers() -> &'static [&'static str] {
        &["id", "nom", "lectureSeule", "revoque"]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            self.id.as_str().into(),
            self.nom.as_str().into(),
            self.lecture_seule.into(),
            self.revoque.into(),
        ]
    }
}

/// A new token for oneself.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewJetonDto {
    pub nom: String,
    #[serde(default)]
    pub lecture_seule: bool,
    /// Last day of validity (at most a year ahead).
    pub expiration: Date,
}

/// One entry of the audit trail.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JournalDto {
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub le: OffsetDateTime,
    pub acteur: Option<String>,
    pub acteur_libelle: String,
    pub action: String,
    pub objet: String,
    pub objet_id: String,
    #[schema(value_type = Option<Object>)]
    pub avant: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub apres: Option<serde_json::Value>,
    pub hash: String,
}

impl From<AuditEntry> for JournalDto {
    fn from(e: AuditEntry) -> Self {
        let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        Self {
            seq: e.seq,
            le: e.at,
            acteur: e.actor_id,
            acteur_libelle: e.actor_label,
            action: e.action,
            objet: e.object_kind,
            objet_id: e.object_id,
            avant: parse(e.before_json),
            apres: parse(e.after_json),
            hash: e.hash,
        }
    }
}

impl Tabular for JournalDto {
    fn headers() -> &'static [&'static str] {
        &[
            "seq", "le", "acteur", "action", "objet", "objetId", "avant", "apres",
        ]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            self.seq.into(),
            self.le
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
                .into(),
            self.acteur_libelle.as_str().into(),
            self.action.as_str().into(),
            self.objet.as_str().into(),
            self.objet_id.as_str().into(),
            self.avant.as_ref().map(|v| v.to_string()).into(),
            self.apres.as_ref().map(|v| v.to_string()).into(),
        ]
    }
}

/// The result of the chain verification.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationDto {
    pub verifiees: u64,
    pub problemes: Vec<String>,
}

// ---------------------------------------------------------------------------------------
// Query parameters

/// Filters of the account list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct UsersQuery {
    /// `active`, `pending` or `disabled`.
    pub statut: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    #[param(value_type = Option<String>)]
    pub format: Option<ExportFormat>,
}

/// Filters of the appointments.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct NominationsQuery {
    /// Only the appointments on this perimeter and below it (`academie:14`).
    pub perimetre: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    #[param(value_type = Option<String>)]
    pub format: Option<ExportFormat>,
}

/// Filters of the audit trail.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct JournalQuery {
    /// Kind of object (`utilisateur`, `nomination`, `jeton`…).
    pub objet: Option<String>,
    /// Identifier of the object.
    pub objet_id: Option<String>,
    /// Identifier of the author.
    pub acteur: Option<String>,
    pub action: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    #[param(value_type = Option<String>)]
    pub format: Option<ExportFormat>,
}

// ---------------------------------------------------------------------------------------
// Handlers

/// The caller and the roles they hold today.
#[utoipa::path(get, path = "/api/v1/me", tag = "identite",
    responses(
        (status = 200, description = "L'appelant.", body = MeDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody)
    ))]
pub async fn me(User(p): User) -> Json<MeDto> {
    Json(MeDto::from(&p))
}

/// Lists accounts (administrators).
#[utoipa::path(get, path = "/api/v1/utilisateurs", tag = "identite", params(UsersQuery),
    responses(
        (status = 200, description = "Les comptes.", body = ListDto<UserDto>),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Réservé aux administrateurs.", body = ErrorBody)
    ))]
pub async fn list_users(
    State(state): State<AppState>,
    User(p): User,
    ApiQuery(q): ApiQuery<UsersQuery>,
) -> ApiResult<Response> {
    let format = q.format.unwrap_or_default();
    let page = page_for(format, q.page, q.per_page)?;
    let all = service::list_users(&state.db, &p, q.statut.as_deref()).await?;
    respond_list(
        format,
        "utilisateurs",
        map_page(paginate(all, page), UserDto::from),
    )
}

/// Creates an account (administrators).
#[utoipa::path(post, path = "/api/v1/utilisateurs", tag = "identite", request_body = NewUserDto,
    responses(
        (status = 201, description = "Le compte créé.", body = UserDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Réservé aux administrateurs.", body = ErrorBody),
        (status = 409, description = "Adresse déjà utilisée.", body = ErrorBody),
        (status = 422, description = "Données invalides.", body = ErrorBody)
    ))]
pub async fn create_user(
    State(state): State<AppState>,
    User(p): User,
    ApiJson(body): ApiJson<NewUserDto>,
) -> ApiResult<(StatusCode, Json<UserDto>)> {
    let user = service::create_user_as(&state.db, &p, &body.email, &body.nom).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// One account (its owner or an administrator).
#[utoipa::path(get, path = "/api/v1/utilisateurs/{id}", tag = "identite",
    params(("id" = String, Path, description = "Identifiant du compte.")),
    responses(
        (status = 200, description = "Le compte.", body = UserDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Compte inconnu (ou non visible).", body = ErrorBody)
    ))]
pub async fn get_user(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
) -> ApiResult<Json<UserDto>> {
    Ok(Json(service::get_user(&state.db, &p, &id).await?.into()))
}

/// Changes an account (administrators); 409 if it changed since `version`.
#[utoipa::path(patch, path = "/api/v1/utilisateurs/{id}", tag = "identite", request_body = UserPatchDto,
    params(("id" = String, Path, description = "Identifiant du compte.")),
    responses(
        (status = 200, description = "Le compte modifié.", body = UserDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Réservé aux administrateurs.", body = ErrorBody),
        (status = 404, description = "Compte inconnu.", body = ErrorBody),
        (status = 409, description = "Modifié entre-temps.", body = ErrorBody),
        (status = 422, description = "Données invalides.", body = ErrorBody)
    ))]
pub async fn update_user(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UserPatchDto>,
) -> ApiResult<Json<UserDto>> {
    let patch = UserPatch {
        display_name: body.nom,
        status: body.statut,
    };
    Ok(Json(
        service::update_user_as(&state.db, &p, &id, body.version, &patch)
            .await?
            .into(),
    ))
}

/// Erases a person's personal data (RGPD), keeping the audit chain (administrators).
#[utoipa::path(post, path = "/api/v1/utilisateurs/{id}/effacement", tag = "identite",
    params(("id" = String, Path, description = "Identifiant du compte.")),
    responses(
        (status = 200, description = "Le compte pseudonymisé.", body = UserDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Réservé aux administrateurs.", body = ErrorBody),
        (status = 404, description = "Compte inconnu.", body = ErrorBody)
    ))]
pub async fn erase_user(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
) -> ApiResult<Json<UserDto>> {
    Ok(Json(service::erase_user_as(&state.db, &p, &id).await?.into()))
}

/// The appointments the caller may see (optionally under one perimeter).
#[utoipa::path(get, path = "/api/v1/nominations", tag = "identite", params(NominationsQuery),
    responses(
        (status = 200, description = "Les nominations.", body = ListDto<NominationDto>),
        (status = 400, description = "Paramètre invalide.", body = ErrorBody),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Périmètre inconnu (ou non visible).", body = ErrorBody)
    ))]
pub async fn list_nominations(
    State(state): State<AppState>,
    User(p): User,
    ApiQuery(q): ApiQuery<NominationsQuery>,
) -> ApiResult<Response> {
    let format = q.format.unwrap_or_default();
    let page = page_for(format, q.page, q.per_page)?;
    let within = q.perimetre.as_deref().map(Perimeter::parse).transpose()?;
    let all = service::list_assignments(&state.db, &p, within.as_ref()).await?;
    respond_list(
        format,
        "nominations",
        map_page(paginate(all, page), NominationDto::from),
    )
}

/// Appoints a person (delegation: never more than one's own rights).
#[utoipa::path(post, path = "/api/v1/nominations", tag = "identite", request_body = NewNominationDto,
    responses(
        (status = 201, description = "La nomination.", body = NominationDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Non autorisé sur ce périmètre ou pour ce rôle.", body = ErrorBody),
        (status = 404, description = "Personne ou périmètre inconnus (ou non visibles).", body = ErrorBody),
        (status = 422, description = "Données invalides.", body = ErrorBody)
    ))]
pub async fn create_nomination(
    State(state): State<AppState>,
    User(p): User,
    ApiJson(body): ApiJson<NewNominationDto>,
) -> ApiResult<(StatusCode, Json<NominationDto>)> {
    let role = Role::parse(&body.role)?;
    let perimeter = Perimeter::parse(&body.perimetre)?;
    // The person must exist; an unknown e-mail is answered like an unknown perimeter.
    let user = service::user_by_email(&state.db, &body.email).await?;
    let new = NewAssignment {
        user_id: user.id,
        role,
        perimeter,
        from: body.debut.unwrap_or_else(|| OffsetDateTime::now_utc().date()),
        until: body.fin,
    };
    let a = service::grant_role(&state.db, Some(&p), &new).await?;
    Ok((StatusCode::CREATED, Json(a.into())))
}

/// Ends an appointment.
#[utoipa::path(post, path = "/api/v1/nominations/{id}/fin", tag = "identite", request_body = EndNominationDto,
    params(("id" = String, Path, description = "Identifiant de la nomination.")),
    responses(
        (status = 200, description = "La nomination terminée.", body = NominationDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Non autorisé.", body = ErrorBody),
        (status = 404, description = "Nomination inconnue (ou non visible).", body = ErrorBody),
        (status = 422, description = "Données invalides.", body = ErrorBody)
    ))]
pub async fn end_nomination(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EndNominationDto>,
) -> ApiResult<Json<NominationDto>> {
    Ok(Json(
        service::end_role(&state.db, &p, &id, body.date).await?.into(),
    ))
}

/// One's own API tokens.
#[utoipa::path(get, path = "/api/v1/jetons", tag = "identite", params(crate::territory::api::ListQuery),
    responses(
        (status = 200, description = "Les jetons.", body = ListDto<JetonDto>),
        (status = 401, description = "Non authentifié.", body = ErrorBody)
    ))]
pub async fn list_tokens(
    State(state): State<AppState>,
    User(p): User,
    ApiQuery(q): ApiQuery<crate::territory::api::ListQuery>,
) -> ApiResult<Response> {
    let format = q.format.unwrap_or_default();
    let page = page_for(format, q.page, q.per_page)?;
    let all = service::list_tokens(&state.db, &p).await?;
    respond_list(format, "jetons", map_page(paginate(all, page), JetonDto::from))
}

/// Creates an API token for oneself; the secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/jetons", tag = "identite", request_body = NewJetonDto,
    responses(
        (status = 201, description = "Le jeton, avec son secret.", body = JetonDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Jeton en lecture seule.", body = ErrorBody),
        (status = 422, description = "Données invalides.", body = ErrorBody)
    ))]
pub async fn create_token(
    State(state): State<AppState>,
    User(p): User,
    ApiJson(body): ApiJson<NewJetonDto>,
) -> ApiResult<(StatusCode, Json<JetonDto>)> {
    let (token, secret) = service::create_token_as(
        &state.db,
        &p,
        None,
        &body.nom,
        body.lecture_seule,
        body.expiration,
    )
    .await?;
    let mut dto = JetonDto::from(token);
    dto.jeton = Some(secret);
    Ok((StatusCode::CREATED, Json(dto)))
}

/// Revokes a token; it stops working at once.
#[utoipa::path(delete, path = "/api/v1/jetons/{id}", tag = "identite",
    params(("id" = String, Path, description = "Identifiant du jeton.")),
    responses(
        (status = 204, description = "Révoqué."),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Jeton en lecture seule.", body = ErrorBody),
        (status = 404, description = "Jeton inconnu (ou d'une autre personne).", body = ErrorBody)
    ))]
pub async fn revoke_token(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    service::revoke_token(&state.db, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The audit trail, filtered (administrators; CSV/XLSX export).
#[utoipa::path(get, path = "/api/v1/journal", tag = "identite", params(JournalQuery),
    responses(
        (status = 200, description = "Les entrées, les plus récentes d'abord.", body = ListDto<JournalDto>),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Réservé aux administrateurs.", body = ErrorBody)
    ))]
pub async fn list_journal(
    State(state): State<AppState>,
    User(p): User,
    ApiQuery(q): ApiQuery<JournalQuery>,
) -> ApiResult<Response> {
    let format = q.format.unwrap_or_default();
    let page = page_for(format, q.page, q.per_page)?;
    let filter = AuditFilter {
        object_kind: q.objet,
        object_id: q.objet_id,
        actor_id: q.acteur,
        action: q.action,
        ..Default::default()
    };
    let (entries, total) = service::audit_trail(
        &state.db,
        &p,
        &filter,
        i64::from(page.per_page),
        page_offset(page),
    )
    .await?;
    let page = gouvernail_core::territory::model::Page {
        items: entries.into_iter().map(JournalDto::from).collect(),
        total,
        page: page.page,
        per_page: page.per_page,
    };
    respond_list(format, "journal", page)
}

fn page_offset(page: gouvernail_core::territory::model::PageRequest) -> i64 {
    i64::from(page.page.saturating_sub(1)) * i64::from(page.per_page)
}

/// The history of one object ("Historique"), for those who may see it.
#[utoipa::path(get, path = "/api/v1/journal/{objet}/{id}", tag = "identite",
    params(
        ("objet" = String, Path, description = "Type d'objet : utilisateur, nomination, jeton…"),
        ("id" = String, Path, description = "Identifiant de l'objet.")
    ),
    responses(
        (status = 200, description = "Les entrées de l'objet.", body = Vec<JournalDto>),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Objet inconnu (ou non visible).", body = ErrorBody)
    ))]
pub async fn object_history(
    State(state): State<AppState>,
    User(p): User,
    Path((objet, id)): Path<(String, String)>,
) -> ApiResult<Json<Vec<JournalDto>>> {
    let entries = service::history(&state.db, &p, &objet, &id).await?;
    Ok(Json(entries.into_iter().map(JournalDto::from).collect()))
}

/// Verifies the hash chain of the trail (administrators).
#[utoipa::path(get, path = "/api/v1/journal-verification", tag = "identite",
    responses(
        (status = 200, description = "Le résultat de la vérification.", body = VerificationDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Réservé aux administrateurs.", body = ErrorBody)
    ))]
pub async fn verify_journal(
    State(state): State<AppState>,
    User(p): User,
) -> ApiResult<Json<VerificationDto>> {
    let report = service::verify_trail(&state.db, &p).await?;
    Ok(Json(VerificationDto {
        verifiees: report.checked,
        problemes: report.problems.iter().map(ToString::to_string).collect(),
    }))
}
