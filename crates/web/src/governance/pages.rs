//! The pages of the governance bodies: the list of bodies (with the form that creates one),
//! one body (its composition on a date, its members, its meetings), one meeting (agenda,
//! follow-up of earlier decisions, attendance, minutes, decisions) and the decision register.
//!
//! Every form posts here and is answered by a redirect; a refused form shows its page again,
//! with the errors next to the fields and what was typed kept (422), a concurrent change as a
//! message (409), a missing right as a message (403). Rights are the core service's.

use std::fmt::Write as _;

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gouvernail_core::governance::service::{self as gov, AttendanceInput};
use gouvernail_core::governance::*;
use gouvernail_core::{CoreError, FieldError, paris};
use serde::Deserialize;
use time::{Date, OffsetDateTime};

use super::api::{DecisionsQuery, parse_instant};
use crate::pages::{Crumbs, PageCtx, PageError};
use crate::state::AppState;

/// The routes of the governance pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/instances", get(bodies_page).post(create_body))
        .route("/instances/{id}", get(body_page))
        .route("/instances/{id}/membres", post(add_member))
        .route("/instances/{id}/membres/{member}/fin", post(end_mandate))
        .route("/instances/{id}/reunions", post(create_meeting))
        .route("/reunions/{id}", get(meeting_page).post(update_meeting))
        .route("/reunions/{id}/invitations", post(send_invitations))
        .route("/reunions/{id}/annulation", post(cancel_meeting))
        .route("/reunions/{id}/ordre-du-jour", post(set_agenda))
        .route("/reunions/{id}/presences", post(record_attendance))
        .route("/reunions/{id}/compte-rendu", post(save_minutes))
        .route("/reunions/{id}/compte-rendu/approbation", post(approve_minutes))
        .route("/reunions/{id}/compte-rendu/correction", post(correct_minutes))
        .route("/reunions/{id}/decisions", post(create_decision))
        .route("/decisions", get(register_page))
        .route("/decisions/{id}/suivi", post(follow_decision))
}

type PageResponse = Result<Response, PageError>;

// ---------------------------------------------------------------------------------------
// Forms

/// A posted form as its pairs.
#[derive(Debug, Clone, Default)]
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }
    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
    /// The version the form was read at (0 when missing: the save then gets 409).
    fn version(&self) -> i64 {
        self.get("version")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .unwrap_or_default()
    }
}

/// The values of one form and its errors: as posted after a failure, else its defaults.
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

    fn posted(fields: &Fields, errors: Vec<FieldError>) -> Self {
        Self {
            values: fields.0.clone(),
            errors,
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

    /// True when a checkbox was ticked.
    pub fn checked(&self, name: &str) -> bool {
        !self.v(name).is_empty()
    }

    fn matches(error: &FieldError, name: &str) -> bool {
        error.field == name
            || error
                .field
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(", "))
    }

    /// True when the field has an error.
    pub fn has_err(&self, name: &str) -> bool {
        self.errors.iter().any(|e| Self::matches(e, name))
    }

    /// The errors of a field, as one sentence (those of its lines name their line).
    pub fn err(&self, name: &str) -> Option<String> {
        let messages: Vec<String> = self
            .errors
            .iter()
            .filter(|e| Self::matches(e, name))
            .map(|e| {
                if e.field == name {
                    e.message.clone()
                } else {
                    format!("{} : {}", e.field, e.message)
                }
            })
            .collect();
        (!messages.is_empty()).then(|| messages.join(" ; "))
    }
}

/// A form that failed: which one, what was typed, and what to say.
struct Failure {
    form: &'static str,
    fields: Fields,
    message: String,
    errors: Vec<FieldError>,
    status: StatusCode,
}

impl Failure {
    /// The state of form `form`: as posted when it is the one that failed.
    fn state(failure: Option<&Failure>, form: &str) -> Option<FormState> {
        failure
            .filter(|f| f.form == form)
            .map(|f| FormState::posted(&f.fields, f.errors.clone()))
    }
}

/// What a refused form shows, or the error page for anything else.
fn failure(ctx: &PageCtx, form: &'static str, fields: Fields, e: CoreError) -> Result<Failure, PageError> {
    let text = e.to_string();
    let (message, errors, status) = match e {
        CoreError::Validation(f) | CoreError::BadRequest(f) => {
            (ctx.t("govp-invalid"), f, StatusCode::UNPROCESSABLE_ENTITY)
        }
        CoreError::Conflict(_) => (text, Vec::new(), StatusCode::CONFLICT),
        CoreError::Forbidden => (ctx.t("govp-forbidden"), Vec::new(), StatusCode::FORBIDDEN),
        other => return Err(ctx.error(other)),
    };
    Ok(Failure {
        form,
        fields,
        message,
        errors,
        status,
    })
}

fn parse_date(field: &str, text: &str, errors: &mut Vec<FieldError>) -> Option<Date> {
    Date::parse(
        text.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| {
        errors.push(FieldError::new(
            field,
            format!("« {text} » : date attendue (AAAA-MM-JJ)"),
        ))
    })
    .ok()
}

/// An optional date: absent or empty is `None`.
fn optional_date(fields: &Fields, name: &str, errors: &mut Vec<FieldError>) -> Option<Date> {
    fields
        .get(name)
        .filter(|v| !v.trim().is_empty())
        .and_then(|v| parse_date(name, v, errors))
}

fn validation(errors: Vec<FieldError>) -> Result<(), CoreError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CoreError::Validation(errors))
    }
}

/// A moment as a `datetime-local` input shows it (Paris time).
fn local_input(at: OffsetDateTime) -> String {
    paris::local(at)
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]"
        ))
        .unwrap_or_default()
}

/// The DSFR badge of a meeting's status.
pub fn meeting_badge(status: &str) -> &'static str {
    match status {
        "tenue" => "fr-badge--success",
        "annulee" => "fr-badge--warning",
        _ => "fr-badge--info",
    }
}

/// The DSFR badge of a decision's status.
pub fn decision_badge(status: &str) -> &'static str {
    match status {
        "en-cours" => "fr-badge--new",
        "faite" => "fr-badge--success",
        "abandonnee" => "fr-badge--warning",
        _ => "fr-badge--info",
    }
}

// ---------------------------------------------------------------------------------------
// The list of bodies

#[derive(Template)]
#[template(path = "governance/instances.html")]
struct BodiesPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    /// The bodies by perimeter (its label, its bodies).
    groups: Vec<(String, Vec<Body>)>,
    kinds: &'static [BodyKind],
    form: FormState,
    message: Option<String>,
    errors: Vec<FieldError>,
}

async fn render_bodies(ctx: &PageCtx, state: &AppState, failure: Option<Failure>) -> PageResponse {
    let p = ctx.require_user()?;
    let mut bodies = gov::bodies(&state.db, p).await.map_err(|e| ctx.error(e))?;
    bodies.sort_by(|(a, la), (b, lb)| {
        (a.perimeter_kind != "national", la.as_str(), a.name.as_str()).cmp(&(
            b.perimeter_kind != "national",
            lb.as_str(),
            b.name.as_str(),
        ))
    });
    let mut groups: Vec<(String, Vec<Body>)> = Vec::new();
    for (body, label) in bodies {
        match groups.last_mut() {
            Some((last, list)) if *last == label => list.push(body),
            _ => groups.push((label, vec![body])),
        }
    }
    let form = Failure::state(failure.as_ref(), "instance").unwrap_or_default();
    let status = failure.as_ref().map_or(StatusCode::OK, |f| f.status);
    let (message, errors) = failure.map_or((None, Vec::new()), |f| (Some(f.message), f.errors));
    let html = ctx.render(&BodiesPage {
        ctx: ctx.clone(),
        crumbs: Crumbs::new(ctx.t("govp-bodies")),
        groups,
        kinds: BodyKind::ALL,
        form,
        message,
        errors,
    })?;
    Ok((status, html).into_response())
}

async fn bodies_page(ctx: PageCtx, State(state): State<AppState>) -> PageResponse {
    render_bodies(&ctx, &state, None).await
}

async fn create_body(
    ctx: PageCtx,
    State(state): State<AppState>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let patch = BodyPatch {
        kind: fields.text("type"),
        name: fields.text("nom"),
        perimeter: fields.text("perimetre").filter(|v| !v.trim().is_empty()),
        mandate: fields.text("mandat"),
    };
    match gov::create_body(&state.db, p, &patch).await {
        Ok(body) => Ok(Redirect::to(&format!("/instances/{}", body.id)).into_response()),
        // A perimeter the person does not even read is unknown to them: said next to it.
        Err(e @ CoreError::NotFound { .. }) => {
            let message = e.to_string();
            let failure = Failure {
                form: "instance",
                fields,
                errors: vec![FieldError::new("perimetre", message.clone())],
                message,
                status: StatusCode::NOT_FOUND,
            };
            render_bodies(&ctx, &state, Some(failure)).await
        }
        Err(e) => {
            let failure = failure(&ctx, "instance", fields, e)?;
            render_bodies(&ctx, &state, Some(failure)).await
        }
    }
}

// ---------------------------------------------------------------------------------------
// One body

#[derive(Template)]
#[template(path = "governance/instance.html")]
struct BodyPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    v: BodyView,
    /// The day of the composition shown, and its members.
    day: Date,
    sitting: Vec<Member>,
    positions: &'static [Position],
    member_form: FormState,
    /// The failed "end of mandate" form (its `membre` names the row).
    end_form: FormState,
    meeting_form: FormState,
    message: Option<String>,
    errors: Vec<FieldError>,
}

#[derive(Debug, Default, Deserialize)]
struct DayQuery {
    date: Option<String>,
}

async fn render_body(
    ctx: &PageCtx,
    state: &AppState,
    id: &str,
    day: Option<Date>,
    failure: Option<Failure>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let v = gov::body(&state.db, p, id).await.map_err(|e| ctx.error(e))?;
    let today = gov::today();
    let day = day.unwrap_or(today);
    let sitting = v.members.iter().filter(|m| m.sits_on(day)).cloned().collect();
    let member_form = Failure::state(failure.as_ref(), "membre").unwrap_or_else(|| {
        FormState::of(&[
            ("fonction", Position::Membre.as_str().to_owned()),
            ("debut", today.to_string()),
        ])
    });
    let end_form = Failure::state(failure.as_ref(), "fin").unwrap_or_default();
    let meeting_form = Failure::state(failure.as_ref(), "reunion").unwrap_or_default();
    let status = failure.as_ref().map_or(StatusCode::OK, |f| f.status);
    let (message, errors) = failure.map_or((None, Vec::new()), |f| (Some(f.message), f.errors));
    let crumbs = Crumbs::new(v.body.name.clone()).link("/instances", ctx.t("govp-bodies"));
    let html = ctx.render(&BodyPage {
        ctx: ctx.clone(),
        crumbs,
        v,
        day,
        sitting,
        positions: Position::ALL,
        member_form,
        end_form,
        meeting_form,
        message,
        errors,
    })?;
    Ok((status, html).into_response())
}

async fn body_page(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<DayQuery>,
) -> PageResponse {
    let day = match q.date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(text) => {
            let mut errors = Vec::new();
            match parse_date("date", text, &mut errors) {
                Some(d) => Some(d),
                None => return Err(ctx.error(CoreError::BadRequest(errors))),
            }
        }
    };
    render_body(&ctx, &state, &id, day, None).await
}

async fn add_member(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let mut errors = Vec::new();
    let start = optional_date(&fields, "debut", &mut errors);
    let result = match validation(errors) {
        Ok(()) => {
            let patch = MemberPatch {
                name: fields.text("nom"),
                email: fields.text("email"),
                organisation: fields.text("organisation"),
                position: fields.text("fonction"),
                delegate: Some(fields.get("delegue").is_some()),
                start_date: start,
                ..Default::default()
            };
            gov::add_member(&state.db, p, &id, &patch).await.map(|_| ())
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/instances/{id}#composition")).into_response()),
        Err(e) => {
            let failure = failure(&ctx, "membre", fields, e)?;
            render_body(&ctx, &state, &id, None, Some(failure)).await
        }
    }
}

async fn end_mandate(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path((id, member)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let mut fields = Fields(pairs);
    fields.0.push(("membre".to_owned(), member.clone()));
    let mut errors = Vec::new();
    let end = match fields.get("fin").filter(|v| !v.trim().is_empty()) {
        Some(v) => parse_date("fin", v, &mut errors),
        None => {
            errors.push(FieldError::new("fin", "obligatoire"));
            None
        }
    };
    let result = match validation(errors) {
        Ok(()) => {
            let patch = MemberPatch {
                end_date: Some(end),
                ..Default::default()
            };
            gov::update_member(&state.db, p, &member, fields.version(), &patch)
                .await
                .and_then(|m| {
                    if m.body_id == id {
                        Ok(())
                    } else {
                        Err(CoreError::not_found("membre", &member))
                    }
                })
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/instances/{id}#composition")).into_response()),
        Err(e) => {
            let failure = failure(&ctx, "fin", fields, e)?;
            render_body(&ctx, &state, &id, None, Some(failure)).await
        }
    }
}

/// The meeting a posted form describes; unreadable dates are named.
fn meeting_patch(fields: &Fields) -> Result<MeetingPatch, CoreError> {
    let mut errors = Vec::new();
    let mut instant = |name: &str| -> Option<OffsetDateTime> {
        let text = fields.get(name).filter(|v| !v.trim().is_empty())?;
        match parse_instant(name, text) {
            Ok(at) => Some(at),
            Err(e) => {
                errors.extend(e.fields().iter().cloned());
                None
            }
        }
    };
    let starts_at = instant("debut");
    let ends_at = instant("fin");
    validation(errors)?;
    Ok(MeetingPatch {
        title: fields.text("titre"),
        starts_at,
        ends_at,
        place: fields.text("lieu"),
        video_url: fields
            .get("visio")
            .map(|v| Some(v.trim().to_owned()).filter(|v| !v.is_empty())),
    })
}

async fn create_meeting(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let result = match meeting_patch(&fields) {
        Ok(patch) => gov::create_meeting(&state.db, p, &id, &patch).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(m) => Ok(Redirect::to(&format!("/reunions/{}", m.id)).into_response()),
        Err(e) => {
            let failure = failure(&ctx, "reunion", fields, e)?;
            render_body(&ctx, &state, &id, None, Some(failure)).await
        }
    }
}

// ---------------------------------------------------------------------------------------
// One meeting

/// A member's line of the attendance sheet.
#[derive(Debug, Clone)]
struct AttendanceRow {
    member: Member,
    /// The presence recorded (or as posted), "" when none.
    status: String,
    represented_by: String,
    error: Option<String>,
}

/// A decision of the meeting with its follow-up form.
#[derive(Debug, Clone)]
struct DecisionRow {
    d: Decision,
    late: bool,
    /// The organisers, and the decision's owner, report on its follow-up.
    can_follow: bool,
    status: String,
    note: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "governance/reunion.html")]
struct MeetingPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    meeting: Meeting,
    body: Body,
    items: Vec<AgendaItem>,
    follow_ups: Vec<FollowUp>,
    attendance: Vec<AttendanceRow>,
    minutes: Option<Minutes>,
    minutes_html: Option<String>,
    decisions: Vec<DecisionRow>,
    can_manage: bool,
    can_write_minutes: bool,
    planned: bool,
    cancelled: bool,
    /// The minutes' draft may be written (no minutes yet, or a draft).
    minutes_editable: bool,
    minutes_version: String,
    edit_form: FormState,
    agenda_form: FormState,
    attendance_version: i64,
    minutes_form: FormState,
    correction_form: FormState,
    decision_form: FormState,
    presences: &'static [Presence],
    decision_statuses: &'static [DecisionStatus],
    pdf: bool,
    invitations: Option<usize>,
    message: Option<String>,
    errors: Vec<FieldError>,
}

/// The agenda as the textarea shows it: `Titre | référence | notes`, one item a line.
fn agenda_text(items: &[AgendaItem]) -> String {
    items
        .iter()
        .map(|i| {
            let reference = match (i.ref_kind.as_deref(), i.ref_id.as_deref(), i.ref_label.as_deref()) {
                (Some("action"), Some(id), _) => format!("action:{id}"),
                (Some(kind), _, Some(label)) => {
                    format!("{kind}:{}", label.split(" — ").next().unwrap_or(label))
                }
                (Some(kind), Some(id), None) => format!("{kind}:{id}"),
                _ => String::new(),
            };
            let mut line = i.title.clone();
            if !reference.is_empty() || !i.notes.is_empty() {
                let _ = write!(line, " | {reference}");
            }
            if !i.notes.is_empty() {
                let _ = write!(line, " | {}", i.notes);
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const AGENDA_FIELD: &str = "ordre du jour";

/// Reads the agenda textarea: the items, and the line each came from.
fn parse_agenda(text: &str, errors: &mut Vec<FieldError>) -> (Vec<AgendaInput>, Vec<usize>) {
    let mut inputs = Vec::new();
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut parts = line.split('|').map(str::trim);
        let title = parts.next().unwrap_or_default().to_owned();
        let reference = parts.next().filter(|r| !r.is_empty()).map(str::to_owned);
        let notes = parts.next().unwrap_or_default().to_owned();
        if parts.next().is_some() {
            errors.push(FieldError::new(
                format!("{AGENDA_FIELD}, ligne {}", i + 1),
                "attendu : titre | référence | notes",
            ));
            continue;
        }
        inputs.push(AgendaInput {
            title,
            notes,
            reference,
        });
        lines.push(i + 1);
    }
    (inputs, lines)
}

/// Names the agenda's errors by the line of the textarea (`ordre du jour, ligne 2`).
fn agenda_errors(errors: Vec<FieldError>, lines: &[usize]) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| {
            let Some(rest) = e.field.strip_prefix("ordreDuJour") else {
                return e;
            };
            let parsed = rest
                .strip_prefix('[')
                .and_then(|r| r.split_once(']'))
                .and_then(|(n, sub)| n.parse::<usize>().ok().map(|n| (n, sub.trim_start_matches('.'))));
            match parsed {
                Some((n, sub)) => {
                    let line = lines.get(n).copied().unwrap_or(n + 1);
                    let what = match sub {
                        "titre" => "titre",
                        "reference" => "référence",
                        other => other,
                    };
                    FieldError::new(
                        format!("{AGENDA_FIELD}, ligne {line}"),
                        format!("{what} : {}", e.message),
                    )
                }
                None => FieldError::new(AGENDA_FIELD, e.message),
            }
        })
        .collect()
}

#[derive(Debug, Default, Deserialize)]
struct MeetingQuery {
    invitations: Option<usize>,
}

async fn render_meeting(
    ctx: &PageCtx,
    state: &AppState,
    id: &str,
    invitations: Option<usize>,
    failure: Option<Failure>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let v = gov::meeting(&state.db, p, id).await.map_err(|e| ctx.error(e))?;
    let f = failure.as_ref();
    let m = &v.meeting;
    let planned = m.status == MeetingStatus::Prevue.as_str();
    let cancelled = m.status == MeetingStatus::Annulee.as_str();
    let edit_form = Failure::state(f, "reunion").unwrap_or_else(|| {
        FormState::of(&[
            ("titre", m.title.clone()),
            ("debut", local_input(m.starts_at)),
            ("fin", local_input(m.ends_at)),
            ("lieu", m.place.clone()),
            ("visio", m.video_url.clone().unwrap_or_default()),
        ])
    });
    let agenda_form = Failure::state(f, "ordre-du-jour")
        .unwrap_or_else(|| FormState::of(&[("ordre_du_jour", agenda_text(&v.items))]));
    let minutes_form = Failure::state(f, "compte-rendu").unwrap_or_else(|| {
        FormState::of(&[(
            "texte",
            v.minutes.as_ref().map(|m| m.body.clone()).unwrap_or_default(),
        )])
    });
    let correction_form = Failure::state(f, "correction").unwrap_or_default();
    let decision_form = Failure::state(f, "decision").unwrap_or_default();

    // The attendance sheet: as posted after a failure, else as recorded.
    let posted_attendance = Failure::state(f, "presences");
    let attendance_errors = f.filter(|f| f.form == "presences").map(|f| &f.errors);
    let posted_members = f
        .filter(|f| f.form == "presences")
        .map(|f| f.fields.all("membre"))
        .unwrap_or_default();
    let attendance = v
        .attendance
        .iter()
        .map(|(member, a)| {
            let (status, represented_by) = match &posted_attendance {
                Some(form) => (
                    form.v(&format!("statut-{}", member.id)).to_owned(),
                    form.v(&format!("represente-{}", member.id)).to_owned(),
                ),
                None => (
                    a.as_ref().map(|a| a.status.clone()).unwrap_or_default(),
                    a.as_ref()
                        .and_then(|a| a.represented_by.clone())
                        .unwrap_or_default(),
                ),
            };
            let index = posted_members.iter().position(|id| *id == member.id);
            let error = attendance_errors.and_then(|errors| {
                let prefix = format!("presences[{}].", index?);
                let messages: Vec<&str> = errors
                    .iter()
                    .filter(|e| e.field.starts_with(&prefix))
                    .map(|e| e.message.as_str())
                    .collect();
                (!messages.is_empty()).then(|| messages.join(" ; "))
            });
            AttendanceRow {
                member: member.clone(),
                status,
                represented_by,
                error,
            }
        })
        .collect();

    let today = gov::today();
    let me_id = p.user.id.as_str();
    let me_email = p.user.email.to_lowercase();
    let followed = f.filter(|f| f.form == "suivi");
    let decisions = v
        .decisions
        .iter()
        .map(|d| {
            let owner = !p.read_only
                && (d.owner_user_id.as_deref() == Some(me_id)
                    || d.owner_email.as_deref() == Some(me_email.as_str()));
            let this = followed.filter(|f| f.fields.get("decision") == Some(d.id.as_str()));
            DecisionRow {
                late: d.is_late(today),
                can_follow: v.can_manage || owner,
                status: this
                    .and_then(|f| f.fields.text("statut"))
                    .unwrap_or_else(|| d.status.clone()),
                note: this
                    .and_then(|f| f.fields.text("suivi"))
                    .unwrap_or_else(|| d.status_note.clone()),
                error: this.map(|f| {
                    if f.errors.is_empty() {
                        f.message.clone()
                    } else {
                        f.errors
                            .iter()
                            .map(|e| format!("{} : {}", e.field, e.message))
                            .collect::<Vec<_>>()
                            .join(" ; ")
                    }
                }),
                d: d.clone(),
            }
        })
        .collect();

    let minutes_editable =
        v.can_write_minutes && !cancelled && v.minutes.as_ref().is_none_or(|m| !m.approved());
    let minutes_version = v
        .minutes
        .as_ref()
        .map(|m| m.version.to_string())
        .unwrap_or_default();
    let minutes_html = v.minutes.as_ref().map(|m| crate::markdown::to_html(&m.body));
    let status = f.map_or(StatusCode::OK, |f| f.status);
    let (message, mut errors) = failure.map_or((None, Vec::new()), |f| (Some(f.message), f.errors));
    // Attendance lines are named by their member, not by their rank in the form.
    for e in &mut errors {
        let member = e
            .field
            .strip_prefix("presences[")
            .and_then(|r| r.split_once(']'))
            .and_then(|(n, _)| n.parse::<usize>().ok())
            .and_then(|n| posted_members.get(n))
            .and_then(|id| v.attendance.iter().find(|(m, _)| m.id == *id));
        if let Some((m, _)) = member {
            e.field = format!("présences, {}", m.name);
        }
    }
    let crumbs = Crumbs::new(v.meeting.title.clone())
        .link("/instances", ctx.t("govp-bodies"))
        .link(format!("/instances/{}", v.body.id), v.body.name.clone());
    let html = ctx.render(&MeetingPage {
        ctx: ctx.clone(),
        crumbs,
        attendance_version: v.meeting.version,
        meeting: v.meeting,
        body: v.body,
        items: v.items,
        follow_ups: v.follow_ups,
        attendance,
        minutes: v.minutes,
        minutes_html,
        decisions,
        can_manage: v.can_manage,
        can_write_minutes: v.can_write_minutes,
        planned,
        cancelled,
        minutes_editable,
        minutes_version,
        edit_form,
        agenda_form,
        minutes_form,
        correction_form,
        decision_form,
        presences: Presence::ALL,
        decision_statuses: DecisionStatus::ALL,
        pdf: cfg!(feature = "pdf"),
        invitations,
        message,
        errors,
    })?;
    Ok((status, html).into_response())
}

async fn meeting_page(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<MeetingQuery>,
) -> PageResponse {
    render_meeting(&ctx, &state, &id, q.invitations, None).await
}

/// Back to the meeting's page on success; its page with the form kept otherwise.
async fn meeting_outcome(
    ctx: &PageCtx,
    state: &AppState,
    id: &str,
    form: &'static str,
    fields: Fields,
    anchor: &str,
    result: Result<(), CoreError>,
) -> PageResponse {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/reunions/{id}{anchor}")).into_response()),
        Err(e) => {
            let failure = failure(ctx, form, fields, e)?;
            render_meeting(ctx, state, id, None, Some(failure)).await
        }
    }
}

async fn update_meeting(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let result = match meeting_patch(&fields) {
        Ok(patch) => gov::update_meeting(&state.db, p, &id, fields.version(), &patch)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    meeting_outcome(&ctx, &state, &id, "reunion", fields, "", result).await
}

async fn send_invitations(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResponse {
    let p = ctx.require_user()?;
    match gov::send_invitations(&state.db, p, &id).await {
        Ok(sent) => Ok(Redirect::to(&format!("/reunions/{id}?invitations={sent}")).into_response()),
        Err(e) => {
            let failure = failure(&ctx, "invitations", Fields::default(), e)?;
            render_meeting(&ctx, &state, &id, None, Some(failure)).await
        }
    }
}

async fn cancel_meeting(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let result = gov::cancel_meeting(&state.db, p, &id, fields.version())
        .await
        .map(|_| ());
    meeting_outcome(&ctx, &state, &id, "annulation", fields, "", result).await
}

async fn set_agenda(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let mut errors = Vec::new();
    let (inputs, lines) = parse_agenda(fields.get("ordre_du_jour").unwrap_or(""), &mut errors);
    let result = match validation(errors) {
        Ok(()) => gov::set_agenda(&state.db, p, &id, fields.version(), &inputs)
            .await
            .map(|_| ())
            .map_err(|e| match e {
                CoreError::Validation(errors) => CoreError::Validation(agenda_errors(errors, &lines)),
                other => other,
            }),
        Err(e) => Err(e),
    };
    meeting_outcome(
        &ctx,
        &state,
        &id,
        "ordre-du-jour",
        fields,
        "#ordre-du-jour",
        result,
    )
    .await
}

async fn record_attendance(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    // One line per member whose presence was chosen; the others are left out.
    let rows: Vec<AttendanceInput> = fields
        .all("membre")
        .into_iter()
        .filter_map(|member| {
            let status = fields
                .get(&format!("statut-{member}"))
                .filter(|s| !s.trim().is_empty())?
                .to_owned();
            Some(AttendanceInput {
                represented_by: fields.text(&format!("represente-{member}")),
                member_id: member,
                status,
            })
        })
        .collect();
    // Errors name the line among those sent: name them by the member's position instead.
    let sent: Vec<String> = rows.iter().map(|r| r.member_id.clone()).collect();
    let result = gov::record_attendance(&state.db, p, &id, fields.version(), &rows)
        .await
        .map(|_| ())
        .map_err(|e| match e {
            CoreError::Validation(errors) => {
                let all = fields.all("membre");
                CoreError::Validation(
                    errors
                        .into_iter()
                        .map(|mut e| {
                            if let Some((n, rest)) =
                                e.field.strip_prefix("presences[").and_then(|r| r.split_once(']'))
                                && let Some(member) = n.parse::<usize>().ok().and_then(|n| sent.get(n))
                                && let Some(at) = all.iter().position(|m| m == member)
                            {
                                e.field = format!("presences[{at}]{rest}");
                            }
                            e
                        })
                        .collect(),
                )
            }
            other => other,
        });
    meeting_outcome(&ctx, &state, &id, "presences", fields, "#presences", result).await
}

async fn save_minutes(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let version = fields
        .get("version")
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| v.parse::<i64>().unwrap_or_default());
    let result = gov::save_minutes(&state.db, p, &id, version, fields.get("texte").unwrap_or(""))
        .await
        .map(|_| ());
    meeting_outcome(&ctx, &state, &id, "compte-rendu", fields, "#compte-rendu", result).await
}

async fn approve_minutes(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let result = gov::approve_minutes(&state.db, p, &id, fields.version())
        .await
        .map(|_| ());
    meeting_outcome(&ctx, &state, &id, "approbation", fields, "#compte-rendu", result).await
}

async fn correct_minutes(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let result = gov::correct_minutes(&state.db, p, &id, fields.get("motif").unwrap_or(""))
        .await
        .map(|_| ());
    meeting_outcome(&ctx, &state, &id, "correction", fields, "#compte-rendu", result).await
}

async fn create_decision(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let mut errors = Vec::new();
    let due = optional_date(&fields, "echeance", &mut errors);
    let result = match validation(errors) {
        Ok(()) => {
            let patch = DecisionPatch {
                title: fields.text("titre"),
                owner: fields.text("responsable"),
                due_date: Some(due),
                reference: fields
                    .get("reference")
                    .map(|r| Some(r.trim().to_owned()).filter(|r| !r.is_empty())),
                ..Default::default()
            };
            gov::create_decision(&state.db, p, &id, &patch).await.map(|_| ())
        }
        Err(e) => Err(e),
    };
    meeting_outcome(&ctx, &state, &id, "decision", fields, "#decisions", result).await
}

async fn follow_decision(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let mut fields = Fields(pairs);
    fields.0.push(("decision".to_owned(), id.clone()));
    let patch = DecisionPatch {
        status: fields.text("statut"),
        status_note: fields.text("suivi"),
        ..Default::default()
    };
    match gov::update_decision(&state.db, p, &id, fields.version(), &patch).await {
        Ok(d) => Ok(Redirect::to(&format!("/reunions/{}#decisions", d.meeting_id)).into_response()),
        Err(e) => {
            let meeting = gov::decision(&state.db, p, &id)
                .await
                .map_err(|e| ctx.error(e))?
                .decision
                .meeting_id;
            let failure = failure(&ctx, "suivi", fields, e)?;
            render_meeting(&ctx, &state, &meeting, None, Some(failure)).await
        }
    }
}

// ---------------------------------------------------------------------------------------
// The decision register

#[derive(Template)]
#[template(path = "governance/decisions.html")]
struct RegisterPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    q: DecisionsQuery,
    items: Vec<DecisionView>,
    bodies: Vec<(Body, String)>,
    statuses: &'static [DecisionStatus],
    export_query: String,
    message: Option<String>,
}

async fn register_page(
    ctx: PageCtx,
    State(state): State<AppState>,
    Query(q): Query<DecisionsQuery>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let (items, message) = match gov::decisions(&state.db, p, &q.filter()).await {
        Ok(items) => (items, None),
        Err(e @ CoreError::Validation(_)) => (Vec::new(), Some(e.to_string())),
        Err(e) => return Err(ctx.error(e)),
    };
    let mut bodies = gov::bodies(&state.db, p).await.map_err(|e| ctx.error(e))?;
    bodies.sort_by(|(a, _), (b, _)| a.name.cmp(&b.name));
    let mut export_query = String::new();
    for (k, v) in [
        ("instance", q.instance.clone()),
        ("statut", q.statut.clone()),
        ("enRetard", q.en_retard.filter(|b| *b).map(|_| "true".to_owned())),
        ("mes", q.mes.filter(|b| *b).map(|_| "true".to_owned())),
    ] {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            let _ = write!(export_query, "{k}={}&", crate::pages::url_encode(&v));
        }
    }
    Ok(ctx
        .render(&RegisterPage {
            ctx: ctx.clone(),
            crumbs: Crumbs::new(ctx.t("govp-register")),
            q,
            items,
            bodies,
            statuses: DecisionStatus::ALL,
            export_query,
            message,
        })?
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agenda_lines_are_read_and_their_errors_named_by_line() {
        let mut errors = Vec::new();
        let (inputs, lines) = parse_agenda(
            "Ouverture\n\nPoint sur le projet | projet:PN-PIX\nBilan | | notes\nTrop | de | barres | ici",
            &mut errors,
        );
        assert_eq!(inputs.len(), 3);
        assert_eq!(lines, [1, 3, 4]);
        assert_eq!(inputs[1].reference.as_deref(), Some("projet:PN-PIX"));
        assert_eq!(inputs[2].reference, None);
        assert_eq!(inputs[2].notes, "notes");
        assert_eq!(errors[0].field, "ordre du jour, ligne 5");
        let named = agenda_errors(
            vec![FieldError::new("ordreDuJour[1].reference", "introuvable")],
            &lines,
        );
        assert_eq!(named[0].field, "ordre du jour, ligne 3");
        assert_eq!(named[0].message, "référence : introuvable");
        let form = FormState {
            values: Vec::new(),
            errors: named,
        };
        assert!(form.has_err(AGENDA_FIELD));
        assert_eq!(
            form.err(AGENDA_FIELD).as_deref(),
            Some("ordre du jour, ligne 3 : référence : introuvable")
        );
    }
}
