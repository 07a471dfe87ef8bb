//! `/api/v1/feuilles-de-route`, `/api/v1/declinaisons` and the national view of a project.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gouvernail_core::roadmap::model::{AcademieState, DeclensionPatch, DeclensionView, Review, RoadmapView};
use gouvernail_core::roadmap::service;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::{IntoParams, ToSchema};

use crate::api::ApiJson;
use crate::auth::User;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// A national project declined in an académie: national text and local adaptations side by
/// side.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeclinaisonDto {
    pub id: String,
    pub academie: String,
    pub projet: String,
    pub code_projet: String,
    /// The national title as the académie follows it (live, or the version it kept).
    pub titre_national: String,
    /// The title in force in the académie.
    pub titre: String,
    /// Local adaptations (null: inherited).
    pub titre_local: Option<String>,
    pub pilote_national: String,
    pub pilote_local: Option<String>,
    pub cible_locale: Option<String>,
    pub debut: Option<Date>,
    pub fin: Option<Date>,
    pub non_applicable: bool,
    pub justification: Option<String>,
    /// `non-commence`, `en-cours`, `termine`, `en-retard` or `abandonne`.
    pub statut: String,
    pub avancement: i64,
    /// True when the national project changed since the last review.
    pub a_revoir: bool,
    /// False once the académie kept its own version of a national change.
    pub suit_le_national: bool,
    pub version_nationale_revue: Option<i64>,
    pub version_nationale: i64,
    pub motif: Option<String>,
    /// For optimistic concurrency.
    pub version: i64,
}

impl From<DeclensionView> for DeclinaisonDto {
    fn from(v: DeclensionView) -> Self {
        let d = v.declension;
        Self {
            id: d.id,
            academie: v.academie_code,
            projet: v.project.id,
            code_projet: v.project.code,
            titre_national: v.national_title,
            titre: v.title,
            titre_local: d.title,
            pilote_national: v.national_pilote,
            pilote_local: d.local_pilote,
            cible_locale: d.local_target,
            debut: d.start_date,
            fin: d.end_date,
            non_applicable: d.not_applicable,
            justification: d.justification,
            statut: d.status,
            avancement: d.progress,
            a_revoir: v.to_review,
            suit_le_national: d.follows_national,
            version_nationale_revue: d.national_version,
            version_nationale: v.project.version,
            motif: d.review_reason,
            version: d.version,
        }
    }
}

/// An académie's roadmap.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeuilleDeRouteDto {
    pub academie: String,
    pub id: Option<String>,
    pub titre: Option<String>,
    pub statut: Option<String>,
    pub declinaisons: Vec<DeclinaisonDto>,
}

impl From<RoadmapView> for FeuilleDeRouteDto {
    fn from(v: RoadmapView) -> Self {
        Self {
            academie: v.academie_code,
            id: v.roadmap.as_ref().map(|r| r.id.clone()),
            titre: v.roadmap.as_ref().map(|r| r.title.clone()),
            statut: v.roadmap.as_ref().map(|r| r.status.clone()),
            declinaisons: v.declensions.into_iter().map(Into::into).collect(),
        }
    }
}

/// One académie's line in the national view of a project.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EtatAcademieDto {
    pub academie: String,
    pub nom: String,
    /// `non-decline`, `decline`, `en-cours`, `termine`, `en-retard`, `abandonne`,
    /// `non-applicable`, `a-revoir` or `version-locale`.
    pub etat: String,
    pub avancement: Option<i64>,
    pub motif: Option<String>,
}

impl crate::export::Tabular for EtatAcademieDto {
    fn headers() -> &'static [&'static str] {
        &["academie", "nom", "etat", "avancement", "motif"]
    }
    fn cells(&self) -> Vec<crate::export::Cell> {
        vec![
            self.academie.as_str().into(),
            self.nom.as_str().into(),
            self.etat.as_str().into(),
            self.avancement.into(),
            self.motif.clone().into(),
        ]
    }
}

impl From<AcademieState> for EtatAcademieDto {
    fn from(s: AcademieState) -> Self {
        Self {
            academie: s.academie_code,
            nom: s.academie_nom,
            etat: s.state,
            avancement: s.progress,
            motif: s.reason,
        }
    }
}

/// Which roadmap.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeuilleQuery {
    /// Code of the strategy (the académie's latest roadmap when absent).
    pub strategie: Option<String>,
}

/// A project to decline.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NouvelleDeclinaisonDto {
    /// Identifier or code of the national project.
    pub projet: String,
}

/// Local adaptations; an empty string goes back to the national text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeclinaisonPatchDto {
    pub version: i64,
    pub titre: Option<String>,
    pub pilote: Option<String>,
    pub cible: Option<String>,
    pub debut: Option<Date>,
    pub fin: Option<Date>,
    pub non_applicable: Option<bool>,
    pub justification: Option<String>,
    pub statut: Option<String>,
    pub avancement: Option<i64>,
}

/// The answer to a national change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevueDto {
    pub version: i64,
    /// `accepter` or `conserver`.
    pub decision: String,
    /// Required to keep one's version.
    pub motif: Option<String>,
}

/// An académie's roadmap and what it declined.
#[utoipa::path(get, path = "/api/v1/feuilles-de-route/{academie}", tag = "strategie", params(
        ("academie" = String, Path, description = "Code de l'académie (14)."), FeuilleQuery),
    responses(
        (status = 200, description = "La feuille de route.", body = FeuilleDeRouteDto),
        (status = 400, description = "Code mal formé.", body = ErrorBody),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Académie inconnue (ou non visible).", body = ErrorBody)
    ))]
pub async fn get_roadmap(
    State(state): State<AppState>,
    User(p): User,
    Path(academie): Path<String>,
    crate::api::ApiQuery(q): crate::api::ApiQuery<FeuilleQuery>,
) -> ApiResult<Json<FeuilleDeRouteDto>> {
    Ok(Json(
        service::roadmap(&state.db, &p, &academie, q.strategie.as_deref())
            .await?
            .into(),
    ))
}

/// Declines a published national project into the académie's roadmap.
#[utoipa::path(post, path = "/api/v1/feuilles-de-route/{academie}/declinaisons", tag = "strategie",
    request_body = NouvelleDeclinaisonDto,
    params(("academie" = String, Path, description = "Code de l'académie.")),
    responses(
        (status = 201, description = "La déclinaison.", body = DeclinaisonDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Lecture seule sur cette académie.", body = ErrorBody),
        (status = 404, description = "Académie ou projet inconnus (ou non visibles).", body = ErrorBody),
        (status = 409, description = "Déjà décliné.", body = ErrorBody),
        (status = 422, description = "Projet non publié pour déclinaison.", body = ErrorBody)
    ))]
pub async fn decline(
    State(state): State<AppState>,
    User(p): User,
    Path(academie): Path<String>,
    ApiJson(body): ApiJson<NouvelleDeclinaisonDto>,
) -> ApiResult<(StatusCode, Json<DeclinaisonDto>)> {
    let v = service::decline(&state.db, &p, &academie, &body.projet).await?;
    Ok((StatusCode::CREATED, Json(v.into())))
}

/// One declension.
#[utoipa::path(get, path = "/api/v1/declinaisons/{id}", tag = "strategie",
    params(("id" = String, Path, description = "Identifiant de la déclinaison.")),
    responses(
        (status = 200, description = "La déclinaison.", body = DeclinaisonDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody)
    ))]
pub async fn get_declension(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
) -> ApiResult<Json<DeclinaisonDto>> {
    Ok(Json(service::get_declension(&state.db, &p, &id).await?.into()))
}

/// Adapts a declension locally; 409 if it changed since `version`.
#[utoipa::path(patch, path = "/api/v1/declinaisons/{id}", tag = "strategie", request_body = DeclinaisonPatchDto,
    params(("id" = String, Path, description = "Identifiant de la déclinaison.")),
    responses(
        (status = 200, description = "La déclinaison adaptée.", body = DeclinaisonDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Lecture seule.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Modifiée entre-temps.", body = ErrorBody),
        (status = 422, description = "Données invalides.", body = ErrorBody)
    ))]
pub async fn adapt(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DeclinaisonPatchDto>,
) -> ApiResult<Json<DeclinaisonDto>> {
    let patch = DeclensionPatch {
        title: body.titre.map(Some),
        local_pilote: body.pilote.map(Some),
        local_target: body.cible.map(Some),
        start_date: body.debut.map(Some),
        end_date: body.fin.map(Some),
        not_applicable: body.non_applicable,
        justification: body.justification.map(Some),
        status: body.statut,
        progress: body.avancement,
    };
    Ok(Json(
        service::adapt(&state.db, &p, &id, body.version, &patch)
            .await?
            .into(),
    ))
}

/// Answers a national change: `accepter`, or `conserver` with a `motif`.
#[utoipa::path(post, path = "/api/v1/declinaisons/{id}/revue", tag = "strategie", request_body = RevueDto,
    params(("id" = String, Path, description = "Identifiant de la déclinaison.")),
    responses(
        (status = 200, description = "La déclinaison revue.", body = DeclinaisonDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Lecture seule.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Modifiée entre-temps.", body = ErrorBody),
        (status = 422, description = "Rien à revoir, décision ou motif invalides.", body = ErrorBody)
    ))]
pub async fn review(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RevueDto>,
) -> ApiResult<Json<DeclinaisonDto>> {
    let decision = match body.decision.as_str() {
        "accepter" => Review::Accept,
        "conserver" => Review::Keep(body.motif.unwrap_or_default()),
        other => {
            return Err(ApiError(gouvernail_core::CoreError::Validation(vec![
                gouvernail_core::FieldError::new(
                    "decision",
                    format!("décision « {other} » : accepter ou conserver"),
                ),
            ])));
        }
    };
    Ok(Json(
        service::review(&state.db, &p, &id, body.version, &decision)
            .await?
            .into(),
    ))
}

/// Every académie's state on a national project (national level; CSV/XLSX export).
#[utoipa::path(get, path = "/api/v1/projets-nationaux/{id}/declinaisons", tag = "strategie",
    params(("id" = String, Path, description = "Identifiant ou code du projet."), crate::territory::api::ListQuery),
    responses(
        (status = 200, description = "Une ligne par académie.", body = crate::api::ListDto<EtatAcademieDto>),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Réservé au niveau national.", body = ErrorBody),
        (status = 404, description = "Projet inconnu.", body = ErrorBody)
    ))]
pub async fn national_view(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    crate::api::ApiQuery(q): crate::api::ApiQuery<crate::territory::api::ListQuery>,
) -> ApiResult<axum::response::Response> {
    let format = q.format.unwrap_or_default();
    let page = crate::api::page_for(format, q.page, q.per_page.or(Some(100)))?;
    let all = service::national_view(&state.db, &p, &id).await?;
    crate::api::respond_list(
        format,
        "declinaisons",
        crate::api::map_page(crate::api::paginate(all, page), EtatAcademieDto::from),
    )
}

/// An invitation to the consultation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationDto {
    /// The invited perimeter (`collectivite:223500018`, `organisation:canope`…).
    pub perimetre: String,
}

/// Invites a perimeter's members to comment (opens the consultation).
#[utoipa::path(post, path = "/api/v1/feuilles-de-route/{academie}/invitations", tag = "strategie", request_body = InvitationDto,
    params(("academie" = String, Path, description = "Code de l'académie.")),
    responses(
        (status = 204, description = "Invité ; la consultation est ouverte."),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Lecture seule.", body = ErrorBody),
        (status = 404, description = "Académie ou feuille de route inconnues (ou non visibles).", body = ErrorBody)
    ))]
pub async fn invite(
    State(state): State<AppState>,
    User(p): User,
    Path(academie): Path<String>,
    ApiJson(body): ApiJson<InvitationDto>,
) -> ApiResult<StatusCode> {
    let perimeter = gouvernail_core::identity::Perimeter::parse(&body.perimetre)?;
    gouvernail_core::roadmap::lifecycle::invite(&state.db, &p, &academie, &perimeter).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A comment of the consultation, with its answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommentaireDto {
    pub id: String,
    pub declinaison: Option<String>,
    pub auteur: String,
    pub texte: String,
    pub formulation_proposee: Option<String>,
    /// `en-attente`, `acceptee`, `partielle` or `rejetee`.
    pub statut: String,
    pub reponse: Option<String>,
}

impl From<gouvernail_core::roadmap::lifecycle::Comment> for CommentaireDto {
    fn from(c: gouvernail_core::roadmap::lifecycle::Comment) -> Self {
        Self {
            id: c.id,
            declinaison: c.declension_id,
            auteur: c.author_name,
            texte: c.body,
            formulation_proposee: c.proposed_wording,
            statut: c.answer_status,
            reponse: c.answer_text,
        }
    }
}

/// A new comment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NouveauCommentaireDto {
    pub texte: String,
    /// The declension commented on (the whole roadmap when absent).
    pub declinaison: Option<String>,
    pub formulation_proposee: Option<String>,
}

/// The consultation's comments.
#[utoipa::path(get, path = "/api/v1/feuilles-de-route/{academie}/commentaires", tag = "strategie",
    params(("academie" = String, Path, description = "Code de l'académie.")),
    responses(
        (status = 200, description = "Les commentaires et leurs réponses.", body = Vec<CommentaireDto>),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Feuille de route inconnue (ou non visible).", body = ErrorBody)
    ))]
pub async fn list_comments(
    State(state): State<AppState>,
    User(p): User,
    Path(academie): Path<String>,
) -> ApiResult<Json<Vec<CommentaireDto>>> {
    let list = gouvernail_core::roadmap::lifecycle::comments(&state.db, &p, &academie).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Comments during the consultation (invited members and the académie's writers).
#[utoipa::path(post, path = "/api/v1/feuilles-de-route/{academie}/commentaires", tag = "strategie",
    request_body = NouveauCommentaireDto,
    params(("academie" = String, Path, description = "Code de l'académie.")),
    responses(
        (status = 201, description = "Le commentaire.", body = CommentaireDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Ni invité ni rédacteur.", body = ErrorBody),
        (status = 404, description = "Feuille de route inconnue (ou non visible).", body = ErrorBody),
        (status = 422, description = "Consultation fermée ou texte invalide.", body = ErrorBody)
    ))]
pub async fn create_comment(
    State(state): State<AppState>,
    User(p): User,
    Path(academie): Path<String>,
    ApiJson(body): ApiJson<NouveauCommentaireDto>,
) -> ApiResult<(StatusCode, Json<CommentaireDto>)> {
    let c = gouvernail_core::roadmap::lifecycle::comment(
        &state.db,
        &p,
        &academie,
        body.declinaison.as_deref(),
        &body.texte,
        body.formulation_proposee.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// The answer to a comment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReponseDto {
    /// `acceptee`, `partielle` or `rejetee` (a refusal needs `texte`).
    pub statut: String,
    pub texte: Option<String>,
}

/// Answers a comment (the académie's writers).
#[utoipa::path(post, path = "/api/v1/commentaires/{id}/reponse", tag = "strategie", request_body = ReponseDto,
    params(("id" = String, Path, description = "Identifiant du commentaire.")),
    responses(
        (status = 204, description = "Répondu."),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Lecture seule.", body = ErrorBody),
        (status = 404, description = "Commentaire inconnu (ou non visible).", body = ErrorBody),
        (status = 422, description = "Réponse invalide.", body = ErrorBody)
    ))]
pub async fn answer_comment(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReponseDto>,
) -> ApiResult<StatusCode> {
    gouvernail_core::roadmap::lifecycle::answer(&state.db, &p, &id, &body.statut, body.texte.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A validation by the recteur.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ValidationDto {
    /// Date of the comité de pilotage.
    pub date_comite: Date,
    /// The roadmap's version read (409 if it changed).
    pub version: i64,
}

/// A validated version.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionDto {
    pub numero: i64,
    pub date_comite: Date,
    pub valide_par: String,
}

/// Validates the roadmap (the recteur): freezes the next numbered version.
#[utoipa::path(post, path = "/api/v1/feuilles-de-route/{academie}/validations", tag = "strategie", request_body = ValidationDto,
    params(("academie" = String, Path, description = "Code de l'académie.")),
    responses(
        (status = 201, description = "La version validée.", body = VersionDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Réservé au recteur.", body = ErrorBody),
        (status = 404, description = "Feuille de route inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Modifiée entre-temps.", body = ErrorBody)
    ))]
pub async fn validate(
    State(state): State<AppState>,
    User(p): User,
    Path(academie): Path<String>,
    ApiJson(body): ApiJson<ValidationDto>,
) -> ApiResult<(StatusCode, Json<VersionDto>)> {
    let v = gouvernail_core::roadmap::lifecycle::validate(
        &state.db,
        &p,
        &academie,
        body.date_comite,
        body.version,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(VersionDto {
            numero: v.number,
            date_comite: v.committee_date,
            valide_par: v.validated_by,
        }),
    ))
}

/// One difference between two versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangementDto {
    pub projet: String,
    pub champ: String,
    pub avant: Option<String>,
    pub apres: Option<String>,
}

/// What changed between two validated versions.
#[utoipa::path(get, path = "/api/v1/feuilles-de-route/{academie}/versions/{a}/comparaison/{b}", tag = "strategie",
    params(
        ("academie" = String, Path, description = "Code de l'académie."),
        ("a" = i64, Path, description = "Première version."),
        ("b" = i64, Path, description = "Seconde version.")
    ),
    responses(
        (status = 200, description = "Les différences.", body = Vec<ChangementDto>),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Feuille de route ou version inconnues (ou non visibles).", body = ErrorBody)
    ))]
pub async fn compare(
    State(state): State<AppState>,
    User(p): User,
    Path((academie, a, b)): Path<(String, i64, i64)>,
) -> ApiResult<Json<Vec<ChangementDto>>> {
    let changes = gouvernail_core::roadmap::lifecycle::compare(&state.db, &p, &academie, a, b).await?;
    Ok(Json(
        changes
            .into_iter()
            .map(|c| ChangementDto {
                projet: c.project,
                champ: c.field,
                avant: c.before,
                apres: c.after,
            })
            .collect(),
    ))
}
