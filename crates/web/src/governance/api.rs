//! `/api/v1/instances`, `/api/v1/reunions`, `/api/v1/decisions`: governance bodies, their
//! meetings, minutes and decisions; and the private calendar feeds.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gouvernail_core::governance::service::{self as gov, AttendanceInput};
use gouvernail_core::governance::*;
use gouvernail_core::{CoreError, FieldError, paris};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, PrimitiveDateTime};
use utoipa::{IntoParams, ToSchema};

use crate::api::{ApiJson, ApiQuery};
use crate::auth::User;
use crate::error::{ApiResult, ErrorBody};
use crate::export::{Cell, ExportFormat, Tabular};
use crate::state::AppState;

// --- Date-times -----------------------------------------------------------------------------

/// An instant as shown: RFC 3339 with Paris' offset.
pub fn show_instant(at: OffsetDateTime) -> String {
    paris::local(at)
        .format(&Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

/// Reads an instant: RFC 3339 (`2026-12-03T14:00:00+01:00`), or a wall-clock time in Paris
/// (`2026-12-03T14:00`, as HTML's `datetime-local` sends it).
pub fn parse_instant(field: &str, text: &str) -> Result<OffsetDateTime, CoreError> {
    let text = text.trim();
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(at);
    }
    let formats = [
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]"),
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]"),
    ];
    for format in formats {
        if let Ok(wall) = PrimitiveDateTime::parse(text, format) {
            return Ok(paris::from_local(wall));
        }
    }
    Err(CoreError::Validation(vec![FieldError::new(
        field,
        format!("« {text} » : date et heure attendues (2026-12-03T14:00, heure de Paris)"),
    )]))
}

fn parse_opt_instant(field: &str, text: Option<&str>) -> Result<Option<OffsetDateTime>, CoreError> {
    text.map(|t| parse_instant(field, t)).transpose()
}

fn required_version(v: Option<i64>) -> Result<i64, CoreError> {
    v.ok_or_else(|| CoreError::Validation(vec![FieldError::new("version", "la version lue est requise")]))
}

fn empty_is_none(v: Option<String>) -> Option<Option<String>> {
    v.map(|s| Some(s).filter(|s| !s.trim().is_empty()))
}

// --- Bodies ---------------------------------------------------------------------------------

/// A member of a body.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MembreDto {
    pub id: String,
    pub nom: String,
    pub email: String,
    pub organisation: String,
    /// The organisation in the referential (`collectivite:SIREN`, `organisation:ID`…).
    pub organisation_ref: Option<String>,
    /// `president`, `vice-president`, `secretaire`, `membre-de-droit`, `membre`, `invite`.
    pub fonction: String,
    /// May write the minutes and organise the meetings with the secretary.
    pub delegue: bool,
    pub debut: Date,
    pub fin: Option<Date>,
    pub version: i64,
}

impl From<Member> for MembreDto {
    fn from(m: Member) -> Self {
        Self {
            id: m.id,
            nom: m.name,
            email: m.email,
            organisation: m.organisation,
            organisation_ref: m.organisation_ref,
            fonction: m.position,
            delegue: m.delegate,
            debut: m.start_date,
            fin: m.end_date,
            version: m.version,
        }
    }
}

/// A meeting, in lists.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReunionResumeDto {
    pub id: String,
    pub numero: i64,
    pub titre: String,
    /// RFC 3339, Paris time.
    pub debut: String,
    pub fin: String,
    /// `prevue`, `tenue` or `annulee`.
    pub statut: String,
}

impl From<Meeting> for ReunionResumeDto {
    fn from(m: Meeting) -> Self {
        Self {
            id: m.id,
            numero: m.number,
            titre: m.title,
            debut: show_instant(m.starts_at),
            fin: show_instant(m.ends_at),
            statut: m.status,
        }
    }
}

/// A governance body.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstanceDto {
    pub id: String,
    /// `comite-strategique-national`, `comite-des-partenaires`, `groupe-experts`,
    /// `comite-pilotage-academique`, `instance-academique-territoriale`,
    /// `instance-departementale`, `comite-suivi-convention` or `autre`.
    #[serde(rename = "type")]
    pub kind: String,
    pub type_libelle: String,
    pub nom: String,
    /// Who sees it besides its members: `national`, `academie:14`, `departement:35`…
    pub perimetre: String,
    pub perimetre_libelle: String,
    pub mandat: String,
    pub version: i64,
    /// Present in the detail only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub membres: Option<Vec<MembreDto>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reunions: Option<Vec<ReunionResumeDto>>,
    /// What the caller may do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peut_organiser: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peut_rediger_compte_rendu: Option<bool>,
}

fn body_dto(b: Body, perimeter_label: String) -> InstanceDto {
    InstanceDto {
        type_libelle: b.kind_label().to_owned(),
        perimetre: b.perimeter_text(),
        id: b.id,
        kind: b.kind,
        nom: b.name,
        perimetre_libelle: perimeter_label,
        mandat: b.mandate,
        version: b.version,
        membres: None,
        reunions: None,
        peut_organiser: None,
        peut_rediger_compte_rendu: None,
    }
}

impl From<BodyView> for InstanceDto {
    fn from(v: BodyView) -> Self {
        let mut dto = body_dto(v.body, v.perimeter_label);
        dto.membres = Some(v.members.into_iter().map(MembreDto::from).collect());
        dto.reunions = Some(v.meetings.into_iter().map(ReunionResumeDto::from).collect());
        dto.peut_organiser = Some(v.can_manage);
        dto.peut_rediger_compte_rendu = Some(v.can_write_minutes);
        dto
    }
}

/// The bodies the caller sees.
#[utoipa::path(get, path = "/api/v1/instances", tag = "gouvernance",
    responses(
        (status = 200, description = "Les instances visibles.", body = Vec<InstanceDto>),
        (status = 401, description = "Non authentifié.", body = ErrorBody)
    ))]
pub async fn list_bodies(State(state): State<AppState>, User(p): User) -> ApiResult<Json<Vec<InstanceDto>>> {
    Ok(Json(
        gov::bodies(&state.db, &p)
            .await?
            .into_iter()
            .map(|(b, label)| body_dto(b, label))
            .collect(),
    ))
}

/// A new body, or a change to one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InstanceInputDto {
    /// Required to change a body.
    pub version: Option<i64>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub nom: Option<String>,
    pub perimetre: Option<String>,
    pub mandat: Option<String>,
}

impl InstanceInputDto {
    fn patch(&self) -> BodyPatch {
        BodyPatch {
            kind: self.kind.clone(),
            name: self.nom.clone(),
            perimeter: self.perimetre.clone(),
            mandate: self.mandat.clone(),
        }
    }
}

/// Creates a body on a perimeter where the caller writes.
#[utoipa::path(post, path = "/api/v1/instances", tag = "gouvernance", request_body = InstanceInputDto,
    responses(
        (status = 201, description = "L'instance.", body = InstanceDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Pas d'écriture sur ce périmètre.", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn create_body(
    State(state): State<AppState>,
    User(p): User,
    ApiJson(input): ApiJson<InstanceInputDto>,
) -> ApiResult<(StatusCode, Json<InstanceDto>)> {
    let body = gov::create_body(&state.db, &p, &input.patch()).await?;
    let view = gov::body(&state.db, &p, &body.id).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// A body with its members and meetings.
#[utoipa::path(get, path = "/api/v1/instances/{id}", tag = "gouvernance",
    params(("id" = String, Path, description = "Identifiant de l'instance.")),
    responses(
        (status = 200, description = "L'instance.", body = InstanceDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody)
    ))]
pub async fn get_body(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
) -> ApiResult<Json<InstanceDto>> {
    Ok(Json(gov::body(&state.db, &p, &id).await?.into()))
}

/// Changes a body; 409 if someone saved it since `version`.
#[utoipa::path(patch, path = "/api/v1/instances/{id}", tag = "gouvernance", request_body = InstanceInputDto,
    params(("id" = String, Path, description = "Identifiant de l'instance.")),
    responses(
        (status = 200, description = "L'instance.", body = InstanceDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Ni organisateur ni secrétaire.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Modifiée entre-temps.", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn update_body(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<InstanceInputDto>,
) -> ApiResult<Json<InstanceDto>> {
    let version = required_version(input.version)?;
    gov::update_body(&state.db, &p, &id, version, &input.patch()).await?;
    Ok(Json(gov::body(&state.db, &p, &id).await?.into()))
}

/// The date of a composition.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompositionQuery {
    /// The day (today when absent).
    pub date: Option<Date>,
}

/// The members sitting on a date, past or future.
#[utoipa::path(get, path = "/api/v1/instances/{id}/composition", tag = "gouvernance",
    params(("id" = String, Path, description = "Identifiant de l'instance."), CompositionQuery),
    responses(
        (status = 200, description = "Les membres en fonction ce jour-là.", body = Vec<MembreDto>),
        (status = 400, description = "Date mal formée.", body = ErrorBody),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody)
    ))]
pub async fn composition(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<CompositionQuery>,
) -> ApiResult<Json<Vec<MembreDto>>> {
    let day = q.date.unwrap_or_else(gov::today);
    Ok(Json(
        gov::composition(&state.db, &p, &id, day)
            .await?
            .into_iter()
            .map(MembreDto::from)
            .collect(),
    ))
}

/// A new member, or a change to one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MembreInputDto {
    /// Required to change a member.
    pub version: Option<i64>,
    pub nom: Option<String>,
    pub email: Option<String>,
    pub organisation: Option<String>,
    /// `collectivite:SIREN`, `organisation:ID`, `academie:CODE`…; empty string: none.
    pub organisation_ref: Option<String>,
    pub fonction: Option<String>,
    pub delegue: Option<bool>,
    pub debut: Option<Date>,
    /// The end of the mandate; `null` keeps it, send the day to end it.
    pub fin: Option<Date>,
}

impl MembreInputDto {
    fn patch(&self) -> MemberPatch {
        MemberPatch {
            name: self.nom.clone(),
            email: self.email.clone(),
            organisation: self.organisation.clone(),
            organisation_ref: empty_is_none(self.organisation_ref.clone()),
            position: self.fonction.clone(),
            delegate: self.delegue,
            start_date: self.debut,
            end_date: self.fin.map(Some),
        }
    }
}

/// Adds a member to a body.
#[utoipa::path(post, path = "/api/v1/instances/{id}/membres", tag = "gouvernance", request_body = MembreInputDto,
    params(("id" = String, Path, description = "Identifiant de l'instance.")),
    responses(
        (status = 201, description = "Le membre.", body = MembreDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Ni organisateur ni secrétaire.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn add_member(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<MembreInputDto>,
) -> ApiResult<(StatusCode, Json<MembreDto>)> {
    let m = gov::add_member(&state.db, &p, &id, &input.patch()).await?;
    Ok((StatusCode::CREATED, Json(m.into())))
}

/// Changes a member (end a mandate with `fin`); 409 on a stale version.
#[utoipa::path(patch, path = "/api/v1/instances/{id}/membres/{membre}", tag = "gouvernance",
    request_body = MembreInputDto,
    params(("id" = String, Path, description = "Identifiant de l'instance."),
        ("membre" = String, Path, description = "Identifiant du membre.")),
    responses(
        (status = 200, description = "Le membre.", body = MembreDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Ni organisateur ni secrétaire.", body = ErrorBody),
        (status = 404, description = "Inconnu (ou non visible).", body = ErrorBody),
        (status = 409, description = "Modifié entre-temps.", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn update_member(
    State(state): State<AppState>,
    User(p): User,
    Path((id, member)): Path<(String, String)>,
    ApiJson(input): ApiJson<MembreInputDto>,
) -> ApiResult<Json<MembreDto>> {
    let version = required_version(input.version)?;
    let m = gov::update_member(&state.db, &p, &member, version, &input.patch()).await?;
    if m.body_id != id {
        return Err(CoreError::not_found("membre", &member).into());
    }
    Ok(Json(m.into()))
}

/// Removes a member recorded by mistake (409 once they appear on an attendance sheet: end
/// their mandate instead).
#[utoipa::path(delete, path = "/api/v1/instances/{id}/membres/{membre}", tag = "gouvernance",
    params(("id" = String, Path, description = "Identifiant de l'instance."),
        ("membre" = String, Path, description = "Identifiant du membre.")),
    responses(
        (status = 204, description = "Retiré."),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Ni organisateur ni secrétaire.", body = ErrorBody),
        (status = 404, description = "Inconnu (ou non visible).", body = ErrorBody),
        (status = 409, description = "Déjà dans des feuilles de présence.", body = ErrorBody)
    ))]
pub async fn remove_member(
    State(state): State<AppState>,
    User(p): User,
    Path((_id, member)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    gov::remove_member(&state.db, &p, &member).await?;
    Ok(StatusCode::NO_CONTENT)
}

// --- Meetings -------------------------------------------------------------------------------

/// An agenda item.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PointDto {
    pub titre: String,
    #[serde(default)]
    pub notes: String,
    /// What it points to: `projet:CODE`, `action:ID`, `convention:ID`, `decision:D-N`.
    #[serde(default)]
    pub reference: Option<String>,
    /// How the reference reads (answers only).
    #[serde(default, skip_deserializing)]
    pub reference_libelle: Option<String>,
}

/// An open decision followed on a later agenda.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuiviDto {
    pub decision: String,
    pub code: String,
    pub titre: String,
    pub responsable: String,
    pub echeance: Option<Date>,
    pub statut: String,
    pub en_retard: bool,
}

/// A member's attendance.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PresenceDto {
    pub membre: String,
    pub nom: String,
    pub fonction: String,
    pub organisation: String,
    /// `present`, `excuse`, `absent`, `represente`, or null when not taken.
    pub statut: Option<String>,
    pub represente_par: Option<String>,
}

/// A revision of the minutes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompteRenduDto {
    pub revision: i64,
    /// Markdown.
    pub texte: String,
    /// `brouillon` or `approuve`.
    pub statut: String,
    /// Why an approved text was corrected.
    pub motif: Option<String>,
    pub approuve_le: Option<String>,
    pub modifie_le: String,
    pub version: i64,
}

impl From<Minutes> for CompteRenduDto {
    fn from(m: Minutes) -> Self {
        Self {
            revision: m.revision,
            texte: m.body,
            statut: m.status,
            motif: m.reason,
            approuve_le: m.approved_at.map(show_instant),
            modifie_le: show_instant(m.updated_at),
            version: m.version,
        }
    }
}

/// A meeting with its agenda, attendance, minutes and decisions.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReunionDto {
    pub id: String,
    pub instance: String,
    pub instance_nom: String,
    pub numero: i64,
    pub titre: String,
    /// RFC 3339, Paris time.
    pub debut: String,
    pub fin: String,
    pub lieu: String,
    pub visio: Option<String>,
    /// `prevue`, `tenue` or `annulee`.
    pub statut: String,
    /// The ICS sequence (raised by each change sent to calendars).
    pub sequence: i64,
    pub invitations_envoyees_le: Option<String>,
    pub ordre_du_jour: Vec<PointDto>,
    /// Open decisions of earlier meetings (live until the meeting is held, then as they stood).
    pub suivi_des_decisions: Vec<SuiviDto>,
    pub presences: Vec<PresenceDto>,
    pub compte_rendu: Option<CompteRenduDto>,
    pub decisions: Vec<DecisionDto>,
    pub peut_organiser: bool,
    pub peut_rediger_compte_rendu: bool,
    pub version: i64,
}

impl From<MeetingView> for ReunionDto {
    fn from(v: MeetingView) -> Self {
        let today = gov::today();
        let m = v.meeting;
        Self {
            id: m.id,
            instance: v.body.id,
            instance_nom: v.body.name.clone(),
            numero: m.number,
            titre: m.title,
            debut: show_instant(m.starts_at),
            fin: show_instant(m.ends_at),
            lieu: m.place,
            visio: m.video_url,
            statut: m.status,
            sequence: m.sequence,
            invitations_envoyees_le: m.invited_at.map(show_instant),
            ordre_du_jour: v
                .items
                .into_iter()
                .map(|i| PointDto {
                    titre: i.title,
                    notes: i.notes,
                    reference: i.ref_kind.zip(i.ref_id).map(|(k, id)| format!("{k}:{id}")),
                    reference_libelle: i.ref_label,
                })
                .collect(),
            suivi_des_decisions: v
                .follow_ups
                .into_iter()
                .map(|f| SuiviDto {
                    decision: f.decision_id,
                    code: f.code,
                    titre: f.title,
                    responsable: f.owner,
                    echeance: f.due_date,
                    statut: f.status,
                    en_retard: f.late,
                })
                .collect(),
            presences: v
                .attendance
                .into_iter()
                .map(|(member, a)| PresenceDto {
                    membre: member.id.clone(),
                    fonction: member.position.clone(),
                    nom: member.name,
                    organisation: member.organisation,
                    statut: a.as_ref().map(|a| a.status.clone()),
                    represente_par: a.and_then(|a| a.represented_by),
                })
                .collect(),
            compte_rendu: v.minutes.map(CompteRenduDto::from),
            decisions: v
                .decisions
                .into_iter()
                .map(|d| DecisionDto::from_decision(d, &v.body.name, m.number, m.starts_at, today))
                .collect(),
            peut_organiser: v.can_manage,
            peut_rediger_compte_rendu: v.can_write_minutes,
            version: m.version,
        }
    }
}

/// A new meeting, or a change to one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReunionInputDto {
    /// Required to change a meeting.
    pub version: Option<i64>,
    pub titre: Option<String>,
    /// RFC 3339, or `2026-12-03T14:00` (Paris time).
    pub debut: Option<String>,
    pub fin: Option<String>,
    pub lieu: Option<String>,
    /// Empty string: none.
    pub visio: Option<String>,
}

impl ReunionInputDto {
    fn patch(&self) -> Result<MeetingPatch, CoreError> {
        let mut errors = Vec::new();
        let start = parse_opt_instant("debut", self.debut.as_deref()).unwrap_or_else(|e| {
            if let CoreError::Validation(mut f) = e {
                errors.append(&mut f);
            }
            None
        });
        let end = parse_opt_instant("fin", self.fin.as_deref()).unwrap_or_else(|e| {
            if let CoreError::Validation(mut f) = e {
                errors.append(&mut f);
            }
            None
        });
        if !errors.is_empty() {
            return Err(CoreError::Validation(errors));
        }
        Ok(MeetingPatch {
            title: self.titre.clone(),
            starts_at: start,
            ends_at: end,
            place: self.lieu.clone(),
            video_url: empty_is_none(self.visio.clone()),
        })
    }
}

/// Plans a meeting of a body.
#[utoipa::path(post, path = "/api/v1/instances/{id}/reunions", tag = "gouvernance", request_body = ReunionInputDto,
    params(("id" = String, Path, description = "Identifiant de l'instance.")),
    responses(
        (status = 201, description = "La réunion.", body = ReunionDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Ni organisateur ni secrétaire.", body = ErrorBody),
        (status = 404, description = "Instance inconnue (ou non visible).", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn create_meeting(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReunionInputDto>,
) -> ApiResult<(StatusCode, Json<ReunionDto>)> {
    let m = gov::create_meeting(&state.db, &p, &id, &input.patch()?).await?;
    Ok((
        StatusCode::CREATED,
        Json(gov::meeting(&state.db, &p, &m.id).await?.into()),
    ))
}

/// A meeting: agenda (with the follow-up of open decisions), attendance, minutes, decisions.
#[utoipa::path(get, path = "/api/v1/reunions/{id}", tag = "gouvernance",
    params(("id" = String, Path, description = "Identifiant de la réunion.")),
    responses(
        (status = 200, description = "La réunion.", body = ReunionDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody)
    ))]
pub async fn get_meeting(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
) -> ApiResult<Json<ReunionDto>> {
    Ok(Json(gov::meeting(&state.db, &p, &id).await?.into()))
}

/// Changes a planned meeting; if its date or place changes after the invitations, the
/// members receive the update (ICS) by e-mail.
#[utoipa::path(patch, path = "/api/v1/reunions/{id}", tag = "gouvernance", request_body = ReunionInputDto,
    params(("id" = String, Path, description = "Identifiant de la réunion.")),
    responses(
        (status = 200, description = "La réunion.", body = ReunionDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Ni organisateur ni secrétaire.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Modifiée entre-temps, ou plus prévue.", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn update_meeting(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReunionInputDto>,
) -> ApiResult<Json<ReunionDto>> {
    let version = required_version(input.version)?;
    gov::update_meeting(&state.db, &p, &id, version, &input.patch()?).await?;
    Ok(Json(gov::meeting(&state.db, &p, &id).await?.into()))
}

/// The version read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionDto {
    pub version: i64,
}

/// Cancels a planned meeting; the invited members receive the cancellation (ICS).
#[utoipa::path(post, path = "/api/v1/reunions/{id}/annulation", tag = "gouvernance", request_body = VersionDto,
    params(("id" = String, Path, description = "Identifiant de la réunion.")),
    responses(
        (status = 200, description = "La réunion annulée.", body = ReunionDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Ni organisateur ni secrétaire.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Modifiée entre-temps, ou plus prévue.", body = ErrorBody)
    ))]
pub async fn cancel_meeting(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<VersionDto>,
) -> ApiResult<Json<ReunionDto>> {
    gov::cancel_meeting(&state.db, &p, &id, input.version).await?;
    Ok(Json(gov::meeting(&state.db, &p, &id).await?.into()))
}

/// How many invitations were queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationsDto {
    pub envoyees: usize,
}

/// Sends the invitations (e-mail with an ICS file) to the members sitting on the meeting's
/// date, through the mail queue; sending again queues nothing new.
#[utoipa::path(post, path = "/api/v1/reunions/{id}/invitations", tag = "gouvernance",
    params(("id" = String, Path, description = "Identifiant de la réunion.")),
    responses(
        (status = 200, description = "Invitations mises en file.", body = InvitationsDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Ni organisateur ni secrétaire.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Réunion plus prévue.", body = ErrorBody)
    ))]
pub async fn send_invitations(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
) -> ApiResult<Json<InvitationsDto>> {
    Ok(Json(InvitationsDto {
        envoyees: gov::send_invitations(&state.db, &p, &id).await?,
    }))
}

/// A new agenda.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrdreDuJourDto {
    pub version: i64,
    pub points: Vec<PointDto>,
}

/// Replaces the agenda of a planned meeting (the follow-ups are added by the platform).
#[utoipa::path(put, path = "/api/v1/reunions/{id}/ordre-du-jour", tag = "gouvernance", request_body = OrdreDuJourDto,
    params(("id" = String, Path, description = "Identifiant de la réunion.")),
    responses(
        (status = 200, description = "La réunion.", body = ReunionDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Ni organisateur ni secrétaire.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Modifiée entre-temps, ou plus prévue.", body = ErrorBody),
        (status = 422, description = "Point invalide (nommé : ordreDuJour[i].champ).", body = ErrorBody)
    ))]
pub async fn set_agenda(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<OrdreDuJourDto>,
) -> ApiResult<Json<ReunionDto>> {
    let items: Vec<AgendaInput> = input
        .points
        .into_iter()
        .map(|p| AgendaInput {
            title: p.titre,
            notes: p.notes,
            reference: p.reference,
        })
        .collect();
    Ok(Json(
        gov::set_agenda(&state.db, &p, &id, input.version, &items)
            .await?
            .into(),
    ))
}

/// One line of an attendance sheet.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PresenceInputDto {
    pub membre: String,
    /// `present`, `excuse`, `absent` or `represente`.
    pub statut: String,
    pub represente_par: Option<String>,
}

/// An attendance sheet.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresencesDto {
    pub version: i64,
    pub presences: Vec<PresenceInputDto>,
}

/// Takes the attendance: the meeting is held, its follow-ups are frozen as they stand.
#[utoipa::path(put, path = "/api/v1/reunions/{id}/presences", tag = "gouvernance", request_body = PresencesDto,
    params(("id" = String, Path, description = "Identifiant de la réunion.")),
    responses(
        (status = 200, description = "La réunion.", body = ReunionDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Ni organisateur ni secrétaire.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Modifiée entre-temps, ou annulée.", body = ErrorBody),
        (status = 422, description = "Ligne invalide (nommée : presences[i].champ).", body = ErrorBody)
    ))]
pub async fn record_attendance(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PresencesDto>,
) -> ApiResult<Json<ReunionDto>> {
    let rows: Vec<AttendanceInput> = input
        .presences
        .into_iter()
        .map(|r| AttendanceInput {
            member_id: r.membre,
            status: r.statut,
            represented_by: r.represente_par,
        })
        .collect();
    Ok(Json(
        gov::record_attendance(&state.db, &p, &id, input.version, &rows)
            .await?
            .into(),
    ))
}

/// Every revision of the minutes, the latest first.
#[utoipa::path(get, path = "/api/v1/reunions/{id}/compte-rendu", tag = "gouvernance",
    params(("id" = String, Path, description = "Identifiant de la réunion.")),
    responses(
        (status = 200, description = "Les versions du compte rendu.", body = Vec<CompteRenduDto>),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody)
    ))]
pub async fn minutes(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<CompteRenduDto>>> {
    Ok(Json(
        gov::minutes_revisions(&state.db, &p, &id)
            .await?
            .into_iter()
            .map(CompteRenduDto::from)
            .collect(),
    ))
}

/// The draft of the minutes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompteRenduInputDto {
    /// The draft's version as read (absent for the first draft).
    pub version: Option<i64>,
    /// Markdown (raw HTML is shown as text).
    pub texte: String,
}

/// Writes the minutes' draft (secretary and delegates only; 409 once approved).
#[utoipa::path(put, path = "/api/v1/reunions/{id}/compte-rendu", tag = "gouvernance",
    request_body = CompteRenduInputDto,
    params(("id" = String, Path, description = "Identifiant de la réunion.")),
    responses(
        (status = 200, description = "Le brouillon.", body = CompteRenduDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Ni secrétaire ni délégué.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Modifié entre-temps, ou approuvé.", body = ErrorBody),
        (status = 422, description = "Données invalides.", body = ErrorBody)
    ))]
pub async fn save_minutes(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CompteRenduInputDto>,
) -> ApiResult<Json<CompteRenduDto>> {
    Ok(Json(
        gov::save_minutes(&state.db, &p, &id, input.version, &input.texte)
            .await?
            .into(),
    ))
}

/// Approves the minutes of a held meeting: the text is frozen.
#[utoipa::path(post, path = "/api/v1/reunions/{id}/compte-rendu/approbation", tag = "gouvernance",
    request_body = VersionDto,
    params(("id" = String, Path, description = "Identifiant de la réunion.")),
    responses(
        (status = 200, description = "Le compte rendu approuvé.", body = CompteRenduDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Ni secrétaire ni délégué.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Modifié entre-temps, déjà approuvé, ou réunion non tenue.", body = ErrorBody),
        (status = 422, description = "Compte rendu vide.", body = ErrorBody)
    ))]
pub async fn approve_minutes(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<VersionDto>,
) -> ApiResult<Json<CompteRenduDto>> {
    Ok(Json(
        gov::approve_minutes(&state.db, &p, &id, input.version)
            .await?
            .into(),
    ))
}

/// The reason of a correction.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionDto {
    pub motif: String,
}

/// Opens a correction of approved minutes: a new draft revision, with its reason.
#[utoipa::path(post, path = "/api/v1/reunions/{id}/compte-rendu/correction", tag = "gouvernance",
    request_body = CorrectionDto,
    params(("id" = String, Path, description = "Identifiant de la réunion.")),
    responses(
        (status = 201, description = "La nouvelle version (brouillon).", body = CompteRenduDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Ni secrétaire ni délégué.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Pas encore approuvé.", body = ErrorBody),
        (status = 422, description = "Motif manquant.", body = ErrorBody)
    ))]
pub async fn correct_minutes(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CorrectionDto>,
) -> ApiResult<(StatusCode, Json<CompteRenduDto>)> {
    let m = gov::correct_minutes(&state.db, &p, &id, &input.motif).await?;
    Ok((StatusCode::CREATED, Json(m.into())))
}

/// The meeting as an ICS file (for one's calendar).
#[utoipa::path(get, path = "/api/v1/reunions/{id}/ics", tag = "gouvernance",
    params(("id" = String, Path, description = "Identifiant de la réunion.")),
    responses(
        (status = 200, description = "Fichier iCalendar.", content_type = "text/calendar"),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody)
    ))]
pub async fn meeting_ics(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let view = gov::meeting(&state.db, &p, &id).await?;
    let ics =
        gouvernail_core::governance::notify::feed(&view.body.name, &[(view.meeting, view.body.name.clone())]);
    Ok(calendar_response(&state, ics, "reunion.ics"))
}

/// An ICS answer, with the platform's address in its links.
pub fn calendar_response(state: &AppState, ics: String, filename: &str) -> Response {
    let ics = ics.replace(
        gouvernail_core::governance::notify::BASE_URL,
        state.config.public_url.trim_end_matches('/'),
    );
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        ics,
    )
        .into_response()
}

// --- Decisions ------------------------------------------------------------------------------

/// A decision and its follow-up.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionDto {
    pub id: String,
    /// `D-3`.
    pub code: String,
    pub instance: String,
    pub instance_nom: String,
    pub reunion: String,
    pub reunion_numero: i64,
    /// The meeting's date (RFC 3339, Paris time).
    pub reunion_date: String,
    pub titre: String,
    pub details: String,
    pub responsable: String,
    pub responsable_email: Option<String>,
    pub echeance: Option<Date>,
    /// `ouverte`, `en-cours`, `faite` or `abandonnee`.
    pub statut: String,
    /// Open and past its due date.
    pub en_retard: bool,
    /// The owner's report.
    pub suivi: String,
    pub close_le: Option<String>,
    /// What it bears on (`projet:ID`, `action:ID`, `decision:ID`).
    pub reference: Option<String>,
    pub reference_libelle: Option<String>,
    pub version: i64,
}

impl DecisionDto {
    fn from_decision(
        d: Decision,
        body_name: &str,
        meeting_number: i64,
        meeting_date: OffsetDateTime,
        today: Date,
    ) -> Self {
        Self {
            code: d.code(),
            en_retard: d.is_late(today),
            id: d.id,
            instance: d.body_id,
            instance_nom: body_name.to_owned(),
            reunion: d.meeting_id,
            reunion_numero: meeting_number,
            reunion_date: show_instant(meeting_date),
            titre: d.title,
            details: d.details,
            responsable: d.owner_name,
            responsable_email: d.owner_email,
            echeance: d.due_date,
            statut: d.status,
            suivi: d.status_note,
            close_le: d.closed_at.map(show_instant),
            reference: d.ref_kind.zip(d.ref_id).map(|(k, id)| format!("{k}:{id}")),
            reference_libelle: d.ref_label,
            version: d.version,
        }
    }
}

impl From<DecisionView> for DecisionDto {
    fn from(v: DecisionView) -> Self {
        let today = gov::today();
        Self::from_decision(v.decision, &v.body_name, v.meeting_number, v.meeting_date, today)
    }
}

impl Tabular for DecisionDto {
    fn headers() -> &'static [&'static str] {
        &[
            "instance",
            "reunion",
            "dateReunion",
            "code",
            "titre",
            "responsable",
            "echeance",
            "statut",
            "enRetard",
            "suivi",
            "closeLe",
            "reference",
        ]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            self.instance_nom.as_str().into(),
            self.reunion_numero.into(),
            iso_date(&self.reunion_date).into(),
            self.code.as_str().into(),
            self.titre.as_str().into(),
            self.responsable.as_str().into(),
            self.echeance.into(),
            self.statut.as_str().into(),
            self.en_retard.into(),
            self.suivi.as_str().into(),
            self.close_le.as_deref().and_then(iso_date).into(),
            self.reference_libelle.clone().into(),
        ]
    }
}

/// The day of an RFC 3339 instant as shown (`2026-01-15T14:00:00+01:00` → 15 January).
fn iso_date(text: &str) -> Option<Date> {
    Date::parse(
        text.get(..10)?,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// Filters of the decision register.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct DecisionsQuery {
    /// One body's register.
    pub instance: Option<String>,
    pub statut: Option<String>,
    /// Only the late ones.
    pub en_retard: Option<bool>,
    /// Only those I own.
    pub mes: Option<bool>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    /// `json` (default), `csv` (`;`, UTF-8 with BOM) or `xlsx`.
    #[param(value_type = Option<String>)]
    pub format: Option<ExportFormat>,
}

impl DecisionsQuery {
    /// The core filter (empty strings are no filter).
    pub fn filter(&self) -> DecisionFilter {
        let some = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        DecisionFilter {
            body_id: some(&self.instance),
            status: some(&self.statut),
            late: self.en_retard.unwrap_or(false),
            mine: self.mes.unwrap_or(false),
        }
    }
}

/// The decision register: decisions of the visible bodies, late ones first; CSV or XLSX
/// with `format`.
#[utoipa::path(get, path = "/api/v1/decisions", tag = "gouvernance", params(DecisionsQuery),
    responses(
        (status = 200, description = "Les décisions.", body = crate::api::ListDto<DecisionDto>),
        (status = 400, description = "Paramètre mal formé.", body = ErrorBody),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Instance inconnue (ou non visible).", body = ErrorBody),
        (status = 422, description = "Statut inconnu.", body = ErrorBody)
    ))]
pub async fn list_decisions(
    State(state): State<AppState>,
    User(p): User,
    ApiQuery(q): ApiQuery<DecisionsQuery>,
) -> ApiResult<Response> {
    let format = q.format.unwrap_or_default();
    let page = crate::api::page_for(format, q.page, q.per_page)?;
    let all = gov::decisions(&state.db, &p, &q.filter()).await?;
    crate::api::respond_list(
        format,
        "registre-decisions",
        crate::api::map_page(crate::api::paginate(all, page), DecisionDto::from),
    )
}

/// A new decision, or a change to one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DecisionInputDto {
    /// Required to change a decision.
    pub version: Option<i64>,
    pub titre: Option<String>,
    pub details: Option<String>,
    /// A name, or an e-mail (an account's or a member's).
    pub responsable: Option<String>,
    pub echeance: Option<Date>,
    pub statut: Option<String>,
    pub suivi: Option<String>,
    /// `projet:CODE`, `action:ID`, `convention:ID`, `decision:D-N`; empty string: none.
    pub reference: Option<String>,
}

impl DecisionInputDto {
    fn patch(&self) -> DecisionPatch {
        DecisionPatch {
            title: self.titre.clone(),
            details: self.details.clone(),
            owner: self.responsable.clone(),
            due_date: self.echeance.map(Some),
            status: self.statut.clone(),
            status_note: self.suivi.clone(),
            reference: empty_is_none(self.reference.clone()),
        }
    }
}

/// Records a decision taken at a meeting; it is followed on the next agendas until done.
#[utoipa::path(post, path = "/api/v1/reunions/{id}/decisions", tag = "gouvernance", request_body = DecisionInputDto,
    params(("id" = String, Path, description = "Identifiant de la réunion.")),
    responses(
        (status = 201, description = "La décision.", body = DecisionDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Ni organisateur ni secrétaire.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Réunion annulée.", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn create_decision(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DecisionInputDto>,
) -> ApiResult<(StatusCode, Json<DecisionDto>)> {
    let d = gov::create_decision(&state.db, &p, &id, &input.patch()).await?;
    Ok((
        StatusCode::CREATED,
        Json(gov::decision(&state.db, &p, &d.id).await?.into()),
    ))
}

/// One decision.
#[utoipa::path(get, path = "/api/v1/decisions/{id}", tag = "gouvernance",
    params(("id" = String, Path, description = "Identifiant de la décision.")),
    responses(
        (status = 200, description = "La décision.", body = DecisionDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody)
    ))]
pub async fn get_decision(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
) -> ApiResult<Json<DecisionDto>> {
    Ok(Json(gov::decision(&state.db, &p, &id).await?.into()))
}

/// Changes a decision: its owner reports (`statut`, `suivi`), the organisers change the
/// rest; 409 on a stale version.
#[utoipa::path(patch, path = "/api/v1/decisions/{id}", tag = "gouvernance", request_body = DecisionInputDto,
    params(("id" = String, Path, description = "Identifiant de la décision.")),
    responses(
        (status = 200, description = "La décision.", body = DecisionDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Ni organisateur, ni responsable (pour le suivi).", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Modifiée entre-temps.", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn update_decision(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DecisionInputDto>,
) -> ApiResult<Json<DecisionDto>> {
    let version = required_version(input.version)?;
    gov::update_decision(&state.db, &p, &id, version, &input.patch()).await?;
    Ok(Json(gov::decision(&state.db, &p, &id).await?.into()))
}

// --- Calendar feed --------------------------------------------------------------------------

/// A private calendar feed: its address is shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgendaDto {
    /// The feed's address (keep it private; a new one revokes the old).
    pub url: String,
}

/// Creates one's private calendar feed (ICS), revoking the previous one.
#[utoipa::path(post, path = "/api/v1/moi/agenda", tag = "gouvernance",
    responses(
        (status = 201, description = "L'adresse de l'agenda.", body = AgendaDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Jeton en lecture seule.", body = ErrorBody)
    ))]
pub async fn create_feed(
    State(state): State<AppState>,
    User(p): User,
) -> ApiResult<(StatusCode, Json<AgendaDto>)> {
    let token = gov::new_calendar_feed(&state.db, &p).await?;
    Ok((
        StatusCode::CREATED,
        Json(AgendaDto {
            url: feed_url(&state, &token),
        }),
    ))
}

/// The public address of a feed.
pub fn feed_url(state: &AppState, token: &str) -> String {
    format!(
        "{}/agenda/{token}.ics",
        state.config.public_url.trim_end_matches('/')
    )
}

/// Revokes one's calendar feed.
#[utoipa::path(delete, path = "/api/v1/moi/agenda", tag = "gouvernance",
    responses(
        (status = 204, description = "Révoqué."),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Jeton en lecture seule.", body = ErrorBody)
    ))]
pub async fn revoke_feed(State(state): State<AppState>, User(p): User) -> ApiResult<StatusCode> {
    gov::revoke_calendar_feed(&state.db, &p).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The feed itself, at `/agenda/{token}.ics` (no session: the token is the key).
pub async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> ApiResult<Response> {
    let token = file.strip_suffix(".ics").unwrap_or(&file);
    match gov::calendar_feed(&state.db, token).await? {
        Some(ics) => Ok(calendar_response(&state, ics, "gouvernail.ics")),
        None => Err(CoreError::not_found("agenda", "…").into()),
    }
}
