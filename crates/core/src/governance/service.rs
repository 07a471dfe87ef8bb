//! Use-cases of the governance bodies.
//!
//! Who sees a body: the readers of its perimeter, and its members (past and present). Who
//! organises it (composition, meetings, agenda, attendance, decisions): the writers of its
//! perimeter, and its secretary and delegates. Who writes the minutes: the secretary and the
//! delegates only. Approved minutes are frozen; a correction is a new revision, with a reason.
//! A decision's owner may report on its follow-up. Every change is audited.

use time::{Date, OffsetDateTime};

use crate::audit;
use crate::db::Db;
use crate::error::{CoreError, CoreResult, FieldError};
use crate::identity::service::{check_email, new_id, random_secret};
use crate::identity::{Capability, Perimeter, Principal, repo as identity_repo};
use crate::territory::repo as territory_repo;

use super::model::*;
use super::notify;
use super::repo;

/// Marks a frozen follow-up that was late on the day of the meeting (`ouverte|retard`).
const LATE_MARK: &str = "|retard";

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Today, for lateness and compositions.
pub fn today() -> Date {
    crate::paris::local(now()).date()
}

fn invalid(field: &str, message: impl Into<String>) -> CoreError {
    CoreError::Validation(vec![FieldError::new(field, message)])
}

fn stale(what: &str) -> CoreError {
    CoreError::Conflict(format!(
        "{what} a été modifié(e) par quelqu'un d'autre entre-temps : rechargez et recommencez"
    ))
}

fn text(field: &str, value: &str, max: usize) -> CoreResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(field, "obligatoire"));
    }
    if value.chars().count() > max {
        return Err(invalid(field, format!("{max} caractères au plus")));
    }
    Ok(value.to_owned())
}

fn long_text(field: &str, value: &str, max: usize) -> CoreResult<String> {
    if value.chars().count() > max {
        return Err(invalid(field, format!("{max} caractères au plus")));
    }
    Ok(value.trim().to_owned())
}

/// True when `member` is the person behind `by`.
fn is_person(member: &Member, by: &Principal) -> bool {
    member.user_id.as_deref() == Some(by.user.id.as_str()) || member.email == by.user.email.to_lowercase()
}

/// What one person may do with one body.
#[derive(Debug, Clone, Copy)]
struct Access {
    manage: bool,
    minutes: bool,
}

fn perimeter_of(body: &Body) -> CoreResult<Perimeter> {
    Perimeter::from_parts(&body.perimeter_kind, &body.perimeter_code)
}

/// Checks that `by` may read the body and says what else they may do; `NotFound` otherwise.
async fn access(db: &Db, by: &Principal, body: &Body, members: &[Member]) -> CoreResult<Access> {
    let perimeter = perimeter_of(body)?;
    let member_ever = members.iter().any(|m| is_person(m, by));
    if !member_ever && !by.can(db, Capability::Read, &perimeter).await? {
        return Err(CoreError::not_found("instance", &body.id));
    }
    let day = today();
    let officer = !by.read_only
        && members.iter().any(|m| {
            is_person(m, by) && m.sits_on(day) && (m.position == Position::Secretaire.as_str() || m.delegate)
        });
    let manage = officer || by.can(db, Capability::Write, &perimeter).await?;
    Ok(Access {
        manage,
        minutes: officer,
    })
}

async fn load_body(db: &Db, by: &Principal, id: &str) -> CoreResult<(Body, Vec<Member>, Access)> {
    let body = repo::find_body(db, id)
        .await?
        .ok_or_else(|| CoreError::not_found("instance", id))?;
    let members = repo::members_of(db, &body.id).await?;
    let access = access(db, by, &body, &members).await?;
    Ok((body, members, access))
}

fn require(allowed: bool) -> CoreResult<()> {
    if allowed {
        Ok(())
    } else {
        Err(CoreError::Forbidden)
    }
}

/// A readable name for a perimeter (« Académie de Rennes »).
pub async fn perimeter_label(db: &Db, perimeter: &Perimeter) -> CoreResult<String> {
    Ok(match perimeter {
        Perimeter::National => "National".to_owned(),
        Perimeter::RegionAcademique(code) => territory_repo::find_region_academique(db, code)
            .await?
            .map_or_else(|| format!("Région académique {code}"), |r| r.nom),
        Perimeter::Academie(code) => territory_repo::find_academie(db, code).await?.map_or_else(
            || format!("Académie {code}"),
            |a| format!("Académie de {}", a.nom),
        ),
        Perimeter::Departement(code) => territory_repo::find_departement(db, code).await?.map_or_else(
            || format!("Département {code}"),
            |d| format!("{} ({code})", d.nom),
        ),
        Perimeter::Collectivite(siren) => territory_repo::find_collectivite(db, siren)
            .await?
            .map_or_else(|| format!("Collectivité {siren}"), |c| c.nom),
        Perimeter::Etablissement(uai) => territory_repo::find_etablissement(db, uai)
            .await?
            .map_or_else(|| format!("Établissement {uai}"), |e| e.nom),
        Perimeter::Organisation(id) => identity_repo::find_organisation(db, id)
            .await?
            .map_or_else(|| format!("Organisation {id}"), |o| o.nom),
    })
}

/// Checks that a perimeter exists in the referential.
async fn check_perimeter_exists(db: &Db, perimeter: &Perimeter, field: &str) -> CoreResult<()> {
    let exists = match perimeter {
        Perimeter::National => true,
        Perimeter::RegionAcademique(code) => {
            territory_repo::find_region_academique(db, code).await?.is_some()
        }
        Perimeter::Academie(code) => territory_repo::find_academie(db, code).await?.is_some(),
        Perimeter::Departement(code) => territory_repo::find_departement(db, code).await?.is_some(),
        Perimeter::Collectivite(siren) => territory_repo::find_collectivite(db, siren).await?.is_some(),
        Perimeter::Etablissement(uai) => territory_repo::find_etablissement(db, uai).await?.is_some(),
        Perimeter::Organisation(id) => identity_repo::find_organisation(db, id).await?.is_some(),
    };
    if exists {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("« {perimeter} » est absent du référentiel"),
        ))
    }
}

// --- Bodies ---------------------------------------------------------------------------------

fn body_audit(b: &Body) -> serde_json::Value {
    serde_json::json!({
        "type": b.kind, "nom": b.name, "perimetre": b.perimeter_text(), "mandat": b.mandate,
    })
}

/// The bodies a person may see, with their perimeter's label.
pub async fn bodies(db: &Db, by: &Principal) -> CoreResult<Vec<(Body, String)>> {
    let mine: Vec<String> = repo::memberships(db, &by.user.id, &by.user.email.to_lowercase())
        .await?
        .into_iter()
        .map(|m| m.body_id)
        .collect();
    let mut out = Vec::new();
    for body in repo::list_bodies(db).await? {
        let perimeter = perimeter_of(&body)?;
        if mine.contains(&body.id) || by.can(db, Capability::Read, &perimeter).await? {
            let label = perimeter_label(db, &perimeter).await?;
            out.push((body, label));
        }
    }
    Ok(out)
}

async fn apply_body(db: &Db, body: &mut Body, patch: &BodyPatch) -> CoreResult<()> {
    let mut errors = Vec::new();
    if let Some(kind) = &patch.kind {
        match BodyKind::parse(kind, "type") {
            Ok(k) => body.kind = k.as_str().to_owned(),
            Err(CoreError::Validation(mut e)) => errors.append(&mut e),
            Err(e) => return Err(e),
        }
    }
    if let Some(name) = &patch.name {
        match text("nom", name, 200) {
            Ok(n) => body.name = n,
            Err(CoreError::Validation(mut e)) => errors.append(&mut e),
            Err(e) => return Err(e),
        }
    }
    if let Some(mandate) = &patch.mandate {
        match long_text("mandat", mandate, 10_000) {
            Ok(m) => body.mandate = m,
            Err(CoreError::Validation(mut e)) => errors.append(&mut e),
            Err(e) => return Err(e),
        }
    }
    if let Some(perimeter) = &patch.perimeter {
        match Perimeter::parse(perimeter) {
            Ok(p) => {
                check_perimeter_exists(db, &p, "perimetre").await?;
                body.perimeter_kind = p.kind().to_owned();
                body.perimeter_code = p.code().to_owned();
            }
            Err(_) => errors.push(FieldError::new(
                "perimetre",
                format!("« {perimeter} » : national, academie:CODE, departement:CODE, collectivite:SIREN…"),
            )),
        }
    }
    if body.name.is_empty() && !errors.iter().any(|e| e.field == "nom") {
        errors.push(FieldError::new("nom", "obligatoire"));
    }
    if body.kind.is_empty() && !errors.iter().any(|e| e.field == "type") {
        errors.push(FieldError::new("type", "obligatoire"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CoreError::Validation(errors))
    }
}

/// Creates a body on a perimeter where `by` writes.
pub async fn create_body(db: &Db, by: &Principal, patch: &BodyPatch) -> CoreResult<Body> {
    let stamp = now();
    let mut body = Body {
        id: new_id(),
        kind: String::new(),
        name: String::new(),
        perimeter_kind: String::new(),
        perimeter_code: String::new(),
        mandate: String::new(),
        version: 1,
        created_at: stamp,
        updated_at: stamp,
    };
    if patch.perimeter.is_none() {
        return Err(invalid("perimetre", "obligatoire"));
    }
    apply_body(db, &mut body, patch).await?;
    let perimeter = perimeter_of(&body)?;
    by.check(
        db,
        Capability::Write,
        &perimeter,
        "périmètre",
        &perimeter.to_string(),
    )
    .await?;
    let mut tx = db.begin().await?;
    repo::insert_body(&mut tx, &body).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "creer",
        "instance",
        &body.id,
        None,
        Some(&body_audit(&body)),
    )
    .await?;
    tx.commit().await?;
    Ok(body)
}

/// Changes a body (its name, kind, perimeter, mandate).
pub async fn update_body(
    db: &Db,
    by: &Principal,
    id: &str,
    version: i64,
    patch: &BodyPatch,
) -> CoreResult<Body> {
    let (current, _, access) = load_body(db, by, id).await?;
    require(access.manage)?;
    if current.version != version {
        return Err(stale("L'instance"));
    }
    let mut body = current.clone();
    apply_body(db, &mut body, patch).await?;
    // Moving a body needs the right to write on the new perimeter too.
    if !by.can(db, Capability::Write, &perimeter_of(&body)?).await?
        && body.perimeter_text() != current.perimeter_text()
    {
        return Err(CoreError::Forbidden);
    }
    body.updated_at = now();
    let mut tx = db.begin().await?;
    if !repo::update_body(&mut tx, &body, version).await? {
        return Err(stale("L'instance"));
    }
    body.version = version + 1;
    audit::record(
        &mut tx,
        &by.actor(),
        "modifier",
        "instance",
        &body.id,
        Some(&body_audit(&current)),
        Some(&body_audit(&body)),
    )
    .await?;
    tx.commit().await?;
    Ok(body)
}

/// A body with its members and meetings.
pub async fn body(db: &Db, by: &Principal, id: &str) -> CoreResult<BodyView> {
    let (body, members, access) = load_body(db, by, id).await?;
    let meetings = repo::meetings_of(db, &body.id).await?;
    let perimeter_label = perimeter_label(db, &perimeter_of(&body)?).await?;
    Ok(BodyView {
        body,
        perimeter_label,
        members,
        meetings,
        can_manage: access.manage,
        can_write_minutes: access.minutes,
    })
}

/// The members sitting on `day` (the composition on any date, past or future).
pub async fn composition(db: &Db, by: &Principal, id: &str, day: Date) -> CoreResult<Vec<Member>> {
    let (_, members, _) = load_body(db, by, id).await?;
    Ok(members.into_iter().filter(|m| m.sits_on(day)).collect())
}

// --- Members --------------------------------------------------------------------------------

fn member_audit(m: &Member) -> serde_json::Value {
    serde_json::json!({
        "instance": m.body_id, "nom": m.name, "email": m.email, "organisation": m.organisation,
        "organisationRef": m.organisation_ref, "fonction": m.position, "delegue": m.delegate,
        "debut": m.start_date.to_string(), "fin": m.end_date.map(|d| d.to_string()),
    })
}

async fn apply_member(db: &Db, m: &mut Member, patch: &MemberPatch) -> CoreResult<()> {
    let mut errors = Vec::new();
    let mut keep = |r: CoreResult<()>| -> CoreResult<()> {
        match r {
            Ok(()) => Ok(()),
            Err(CoreError::Validation(mut e)) => {
                errors.append(&mut e);
                Ok(())
            }
            Err(e) => Err(e),
        }
    };
    if let Some(name) = &patch.name {
        keep(text("nom", name, 200).map(|v| m.name = v))?;
    }
    if let Some(email) = &patch.email {
        keep(
            check_email(email)
                .map(|v| m.email = v)
                .map_err(|_| invalid("email", format!("« {email} » n'est pas une adresse électronique"))),
        )?;
    }
    if let Some(org) = &patch.organisation {
        keep(long_text("organisation", org, 200).map(|v| m.organisation = v))?;
    }
    if let Some(position) = &patch.position {
        keep(Position::parse(position, "fonction").map(|p| m.position = p.as_str().to_owned()))?;
    }
    if let Some(delegate) = patch.delegate {
        m.delegate = delegate;
    }
    if let Some(start) = patch.start_date {
        m.start_date = start;
    }
    if let Some(end) = patch.end_date {
        m.end_date = end;
    }
    if let Some(reference) = &patch.organisation_ref {
        m.organisation_ref = None;
        if let Some(reference) = reference.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            match Perimeter::parse(reference) {
                Ok(p) => {
                    keep(check_perimeter_exists(db, &p, "organisationRef").await)?;
                    if m.organisation.is_empty() {
                        m.organisation = perimeter_label(db, &p).await?;
                    }
                    m.organisation_ref = Some(p.to_string());
                }
                Err(_) => errors.push(FieldError::new(
                    "organisationRef",
                    format!("« {reference} » : collectivite:SIREN, organisation:ID, academie:CODE…"),
                )),
            }
        }
    }
    if m.name.is_empty() && !errors.iter().any(|e| e.field == "nom") {
        errors.push(FieldError::new("nom", "obligatoire"));
    }
    if m.email.is_empty() && !errors.iter().any(|e| e.field == "email") {
        errors.push(FieldError::new("email", "obligatoire"));
    }
    if let Some(end) = m.end_date
        && end < m.start_date
    {
        errors.push(FieldError::new("fin", "la fin du mandat précède son début"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CoreError::Validation(errors))
    }
}

/// Adds a member to a body.
pub async fn add_member(db: &Db, by: &Principal, body_id: &str, patch: &MemberPatch) -> CoreResult<Member> {
    let (body, _, access) = load_body(db, by, body_id).await?;
    require(access.manage)?;
    let mut m = Member {
        id: new_id(),
        body_id: body.id.clone(),
        name: String::new(),
        email: String::new(),
        user_id: None,
        organisation: String::new(),
        organisation_ref: None,
        position: Position::Membre.as_str().to_owned(),
        delegate: false,
        start_date: today(),
        end_date: None,
        version: 1,
    };
    apply_member(db, &mut m, patch).await?;
    m.user_id = identity_repo::find_user_by_email(db, &m.email)
        .await?
        .map(|u| u.id);
    let stamp = now();
    let mut tx = db.begin().await?;
    repo::insert_member(&mut tx, &m, stamp).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "creer",
        "membre",
        &m.id,
        None,
        Some(&member_audit(&m)),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// Changes a member (a mandate ends by setting its end date: the composition on past dates
/// stays true).
pub async fn update_member(
    db: &Db,
    by: &Principal,
    member_id: &str,
    version: i64,
    patch: &MemberPatch,
) -> CoreResult<Member> {
    let current = repo::find_member(db, member_id)
        .await?
        .ok_or_else(|| CoreError::not_found("membre", member_id))?;
    let (_, _, access) = load_body(db, by, &current.body_id).await?;
    require(access.manage)?;
    if current.version != version {
        return Err(stale("Le membre"));
    }
    let mut m = current.clone();
    apply_member(db, &mut m, patch).await?;
    if m.email != current.email {
        m.user_id = identity_repo::find_user_by_email(db, &m.email)
            .await?
            .map(|u| u.id);
    }
    let mut tx = db.begin().await?;
    if !repo::update_member(&mut tx, &m, version, now()).await? {
        return Err(stale("Le membre"));
    }
    m.version = version + 1;
    audit::record(
        &mut tx,
        &by.actor(),
        "modifier",
        "membre",
        &m.id,
        Some(&member_audit(&current)),
        Some(&member_audit(&m)),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// Removes a member recorded by mistake (never seen at a meeting); others have their
/// mandate ended instead.
pub async fn remove_member(db: &Db, by: &Principal, member_id: &str) -> CoreResult<()> {
    let current = repo::find_member(db, member_id)
        .await?
        .ok_or_else(|| CoreError::not_found("membre", member_id))?;
    let (_, _, access) = load_body(db, by, &current.body_id).await?;
    require(access.manage)?;
    if repo::member_has_history(db, member_id).await? {
        return Err(CoreError::Conflict(
            "ce membre figure dans des feuilles de présence : terminez son mandat (date de fin) au lieu de le supprimer"
                .to_owned(),
        ));
    }
    let mut tx = db.begin().await?;
    repo::delete_member(&mut tx, member_id).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "supprimer",
        "membre",
        member_id,
        Some(&member_audit(&current)),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// --- Meetings -------------------------------------------------------------------------------

fn meeting_audit(m: &Meeting) -> serde_json::Value {
    serde_json::json!({
        "instance": m.body_id, "numero": m.number, "titre": m.title,
        "debut": m.starts_at.to_string(), "fin": m.ends_at.to_string(), "lieu": m.place,
        "visio": m.video_url, "statut": m.status, "sequence": m.sequence,
    })
}

fn apply_meeting(m: &mut Meeting, patch: &MeetingPatch) -> CoreResult<()> {
    let mut errors = Vec::new();
    if let Some(title) = &patch.title {
        match long_text("titre", title, 200) {
            Ok(t) => m.title = t,
            Err(CoreError::Validation(mut e)) => errors.append(&mut e),
            Err(e) => return Err(e),
        }
    }
    if let Some(start) = patch.starts_at {
        m.starts_at = start;
    }
    if let Some(end) = patch.ends_at {
        m.ends_at = end;
    }
    if let Some(place) = &patch.place {
        match long_text("lieu", place, 300) {
            Ok(p) => m.place = p,
            Err(CoreError::Validation(mut e)) => errors.append(&mut e),
            Err(e) => return Err(e),
        }
    }
    if let Some(url) = &patch.video_url {
        m.video_url = None;
        if let Some(url) = url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            if (url.starts_with("https://") || url.starts_with("http://"))
                && url.len() <= 500
                && !url.contains(char::is_whitespace)
            {
                m.video_url = Some(url.to_owned());
            } else {
                errors.push(FieldError::new(
                    "visio",
                    "une adresse web (https://…) est attendue",
                ));
            }
        }
    }
    if m.ends_at <= m.starts_at {
        errors.push(FieldError::new(
            "fin",
            "la fin de la réunion doit suivre son début",
        ));
    }
    if m.ends_at - m.starts_at > time::Duration::days(3) {
        errors.push(FieldError::new("fin", "une réunion dure trois jours au plus"));
    }
    if m.place.is_empty() && m.video_url.is_none() {
        errors.push(FieldError::new(
            "lieu",
            "un lieu ou un lien de visioconférence est nécessaire",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CoreError::Validation(errors))
    }
}

/// Writes `m` over `current` (the version read), audited as `action` with both states;
/// returns it with its new version.
async fn write_meeting(
    tx: &mut crate::db::Tx,
    by: &Principal,
    action: &str,
    current: &Meeting,
    mut m: Meeting,
    stamp: OffsetDateTime,
) -> CoreResult<Meeting> {
    if !repo::update_meeting(tx, &m, current.version, stamp).await? {
        return Err(stale("La réunion"));
    }
    m.version = current.version + 1;
    audit::record(
        tx,
        &by.actor(),
        action,
        "reunion",
        &m.id,
        Some(&meeting_audit(current)),
        Some(&meeting_audit(&m)),
    )
    .await?;
    Ok(m)
}

/// Plans a meeting of a body.
pub async fn create_meeting(
    db: &Db,
    by: &Principal,
    body_id: &str,
    patch: &MeetingPatch,
) -> CoreResult<Meeting> {
    let (body, _, access) = load_body(db, by, body_id).await?;
    require(access.manage)?;
    let Some(starts_at) = patch.starts_at else {
        return Err(invalid("debut", "obligatoire"));
    };
    let mut m = Meeting {
        id: new_id(),
        body_id: body.id.clone(),
        number: 0,
        title: String::new(),
        starts_at,
        ends_at: starts_at + time::Duration::hours(2),
        place: String::new(),
        video_url: None,
        status: MeetingStatus::Prevue.as_str().to_owned(),
        sequence: 0,
        invited_at: None,
        version: 1,
    };
    apply_meeting(&mut m, patch)?;
    let stamp = now();
    let mut tx = db.begin().await?;
    m.number = repo::next_meeting_number(&mut tx, &body.id).await?;
    if m.title.is_empty() {
        m.title = format!("{} — réunion n° {}", body.name, m.number);
    }
    repo::insert_meeting(&mut tx, &m, stamp).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "creer",
        "reunion",
        &m.id,
        None,
        Some(&meeting_audit(&m)),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

async fn load_meeting(db: &Db, by: &Principal, id: &str) -> CoreResult<(Meeting, Body, Vec<Member>, Access)> {
    let meeting = repo::find_meeting(db, id)
        .await?
        .ok_or_else(|| CoreError::not_found("réunion", id))?;
    let (body, members, access) = load_body(db, by, &meeting.body_id).await.map_err(|e| match e {
        CoreError::NotFound { .. } => CoreError::not_found("réunion", id),
        other => other,
    })?;
    Ok((meeting, body, members, access))
}

fn require_planned(m: &Meeting) -> CoreResult<()> {
    if m.status == MeetingStatus::Prevue.as_str() {
        Ok(())
    } else {
        Err(CoreError::Conflict(format!(
            "la réunion est {} : elle ne se modifie plus",
            MeetingStatus::parse(&m.status, "statut")
                .map_or("close", |s| s.label())
                .to_lowercase()
        )))
    }
}

/// Changes a planned meeting. When its date or place changes after the invitations went
/// out, the members receive the update (a new ICS sequence) by e-mail.
pub async fn update_meeting(
    db: &Db,
    by: &Principal,
    id: &str,
    version: i64,
    patch: &MeetingPatch,
) -> CoreResult<Meeting> {
    let (current, body, members, access) = load_meeting(db, by, id).await?;
    require(access.manage)?;
    require_planned(&current)?;
    if current.version != version {
        return Err(stale("La réunion"));
    }
    let mut m = current.clone();
    apply_meeting(&mut m, patch)?;
    if m.title.is_empty() {
        m.title = current.title.clone();
    }
    let moved = m.starts_at != current.starts_at
        || m.ends_at != current.ends_at
        || m.place != current.place
        || m.video_url != current.video_url
        || m.title != current.title;
    let resend = moved && current.invited_at.is_some();
    if moved {
        m.sequence += 1;
    }
    let stamp = now();
    if resend {
        m.invited_at = Some(stamp);
    }
    let mut tx = db.begin().await?;
    let m = write_meeting(&mut tx, by, "modifier", &current, m, stamp).await?;
    if resend {
        notify::invitations(&mut tx, &body, &m, &members, notify::Kind::Update).await?;
    }
    tx.commit().await?;
    Ok(m)
}

/// Cancels a planned meeting; the invited members receive the cancellation.
pub async fn cancel_meeting(db: &Db, by: &Principal, id: &str, version: i64) -> CoreResult<Meeting> {
    let (current, body, members, access) = load_meeting(db, by, id).await?;
    require(access.manage)?;
    require_planned(&current)?;
    if current.version != version {
        return Err(stale("La réunion"));
    }
    let mut m = current.clone();
    m.status = MeetingStatus::Annulee.as_str().to_owned();
    m.sequence += 1;
    let mut tx = db.begin().await?;
    let m = write_meeting(&mut tx, by, "annuler", &current, m, now()).await?;
    if current.invited_at.is_some() {
        notify::invitations(&mut tx, &body, &m, &members, notify::Kind::Cancel).await?;
    }
    tx.commit().await?;
    Ok(m)
}

/// Sends the invitations (an e-mail with an ICS file) to the members sitting on the
/// meeting's date; returns how many were queued.
pub async fn send_invitations(db: &Db, by: &Principal, id: &str) -> CoreResult<usize> {
    let (current, body, members, access) = load_meeting(db, by, id).await?;
    require(access.manage)?;
    require_planned(&current)?;
    let mut m = current.clone();
    m.invited_at = Some(now());
    let mut tx = db.begin().await?;
    if !repo::update_meeting(&mut tx, &m, current.version, now()).await? {
        return Err(stale("La réunion"));
    }
    let sent = notify::invitations(&mut tx, &body, &m, &members, notify::Kind::Invite).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "inviter",
        "reunion",
        &m.id,
        None,
        Some(&serde_json::json!({ "invitations": sent, "sequence": m.sequence })),
    )
    .await?;
    tx.commit().await?;
    Ok(sent)
}

/// The open decisions of the body's earlier meetings, as a later agenda shows them.
async fn live_follow_ups(db: &Db, meeting: &Meeting) -> CoreResult<Vec<FollowUp>> {
    let day = today();
    Ok(
        repo::open_decisions_before(db, &meeting.body_id, meeting.starts_at)
            .await?
            .into_iter()
            .map(|d| FollowUp {
                decision_id: d.id.clone(),
                code: d.code(),
                title: d.title.clone(),
                owner: d.owner_name.clone(),
                due_date: d.due_date,
                status: d.status.clone(),
                late: d.is_late(day),
            })
            .collect(),
    )
}

/// A meeting: its agenda (with the follow-up of open decisions), attendance, minutes and
/// decisions.
pub async fn meeting(db: &Db, by: &Principal, id: &str) -> CoreResult<MeetingView> {
    let (meeting, body, members, access) = load_meeting(db, by, id).await?;
    let all_items = repo::agenda_of(db, &meeting.id).await?;
    let (frozen, items): (Vec<AgendaItem>, Vec<AgendaItem>) =
        all_items.into_iter().partition(|i| i.follow_up);
    let follow_ups = if meeting.status == MeetingStatus::Prevue.as_str() {
        live_follow_ups(db, &meeting).await?
    } else {
        frozen
            .into_iter()
            .map(|i| FollowUp {
                decision_id: i.ref_id.unwrap_or_default(),
                code: i.ref_label.clone().unwrap_or_default(),
                title: i.title,
                owner: i.notes,
                due_date: None,
                late: i.ref_status.as_deref().is_some_and(|s| s.ends_with(LATE_MARK)),
                status: i
                    .ref_status
                    .as_deref()
                    .map(|s| s.trim_end_matches(LATE_MARK).to_owned())
                    .unwrap_or_default(),
            })
            .collect()
    };
    let day = crate::paris::local(meeting.starts_at).date();
    let attendance_rows = repo::attendance_of(db, &meeting.id).await?;
    let attendance = members
        .into_iter()
        .filter(|m| m.sits_on(day) || attendance_rows.iter().any(|a| a.member_id == m.id))
        .map(|m| {
            let a = attendance_rows.iter().find(|a| a.member_id == m.id).cloned();
            (m, a)
        })
        .collect();
    let minutes = repo::minutes_of(db, &meeting.id).await?.into_iter().next();
    let decisions = repo::decisions_of_meeting(db, &meeting.id).await?;
    Ok(MeetingView {
        meeting,
        body,
        items,
        follow_ups,
        attendance,
        minutes,
        decisions,
        can_manage: access.manage,
        can_write_minutes: access.minutes,
    })
}

/// Resolves a reference typed as `kind:value` into (kind, id, label).
async fn resolve_reference(
    db: &Db,
    by: &Principal,
    body_id: &str,
    field: &str,
    reference: &str,
) -> CoreResult<(String, String, String)> {
    let reference = reference.trim();
    let Some((kind, value)) = reference.split_once(':') else {
        return Err(invalid(
            field,
            format!("« {reference} » : projet:CODE, action:ID, convention:ID, decision:D-N attendu"),
        ));
    };
    let value = value.trim();
    let kind = RefKind::parse(kind, field)?;
    let unknown = || invalid(field, format!("« {reference} » est introuvable"));
    match kind {
        RefKind::Projet => {
            let detail = crate::strategy::service::get_project(db, Some(by), value)
                .await
                .map_err(|_| unknown())?;
            Ok((
                kind.as_str().to_owned(),
                detail.project.id.clone(),
                format!("{} — {}", detail.project.code, detail.project.title),
            ))
        }
        RefKind::Action => {
            let view = crate::roadmap::actions::get_action(db, by, value)
                .await
                .map_err(|_| unknown())?;
            Ok((
                kind.as_str().to_owned(),
                view.action.id.clone(),
                format!(
                    "{} — {} (académie {})",
                    view.action.code, view.action.title, view.academie_code
                ),
            ))
        }
        RefKind::Convention => {
            let view = crate::convention::service::get_convention(db, by, value, today())
                .await
                .map_err(|_| unknown())?;
            Ok((
                kind.as_str().to_owned(),
                view.convention.id.clone(),
                view.convention.title.clone(),
            ))
        }
        RefKind::Decision => {
            let number: i64 = value
                .trim_start_matches(['D', 'd'])
                .trim_start_matches('-')
                .parse()
                .map_err(|_| unknown())?;
            let found = repo::decisions(
                db,
                &DecisionFilter {
                    body_id: Some(body_id.to_owned()),
                    ..Default::default()
                },
                None,
                today(),
            )
            .await?
            .into_iter()
            .find(|r| r.decision.number == number)
            .ok_or_else(unknown)?;
            Ok((
                kind.as_str().to_owned(),
                found.decision.id.clone(),
                format!("{} — {}", found.decision.code(), found.decision.title),
            ))
        }
    }
}

/// Replaces the agenda of a planned meeting (its own items; the follow-ups are added by
/// the platform).
pub async fn set_agenda(
    db: &Db,
    by: &Principal,
    id: &str,
    version: i64,
    inputs: &[AgendaInput],
) -> CoreResult<MeetingView> {
    let (current, _, _, access) = load_meeting(db, by, id).await?;
    require(access.manage)?;
    require_planned(&current)?;
    if current.version != version {
        return Err(stale("La réunion"));
    }
    if inputs.len() > 100 {
        return Err(invalid("ordreDuJour", "100 points au plus"));
    }
    let mut errors = Vec::new();
    let mut items = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let field = format!("ordreDuJour[{i}]");
        let title = match text(&format!("{field}.titre"), &input.title, 300) {
            Ok(t) => t,
            Err(CoreError::Validation(mut e)) => {
                errors.append(&mut e);
                continue;
            }
            Err(e) => return Err(e),
        };
        let mut item = AgendaItem {
            id: new_id(),
            meeting_id: current.id.clone(),
            position: i as i64 + 1,
            title,
            notes: input.notes.trim().to_owned(),
            ref_kind: None,
            ref_id: None,
            ref_label: None,
            follow_up: false,
            ref_status: None,
        };
        if let Some(reference) = input.reference.as_deref().filter(|r| !r.trim().is_empty()) {
            match resolve_reference(db, by, &current.body_id, &format!("{field}.reference"), reference).await
            {
                Ok((kind, rid, label)) => {
                    item.ref_kind = Some(kind);
                    item.ref_id = Some(rid);
                    item.ref_label = Some(label);
                }
                Err(CoreError::Validation(mut e)) => errors.append(&mut e),
                Err(e) => return Err(e),
            }
        }
        items.push(item);
    }
    if !errors.is_empty() {
        return Err(CoreError::Validation(errors));
    }
    let before = repo::agenda_of(db, &current.id).await?;
    let mut m = current.clone();
    let mut tx = db.begin().await?;
    if !repo::update_meeting(&mut tx, &m, version, now()).await? {
        return Err(stale("La réunion"));
    }
    m.version = version + 1;
    repo::replace_agenda(&mut tx, &m.id, false, &items).await?;
    let summary = |list: &[AgendaItem]| -> serde_json::Value {
        list.iter()
            .filter(|i| !i.follow_up)
            .map(|i| serde_json::json!({ "titre": i.title, "reference": i.ref_label }))
            .collect()
    };
    audit::record(
        &mut tx,
        &by.actor(),
        "ordre-du-jour",
        "reunion",
        &m.id,
        Some(&serde_json::json!({ "ordreDuJour": summary(&before) })),
        Some(&serde_json::json!({ "ordreDuJour": summary(&items) })),
    )
    .await?;
    tx.commit().await?;
    meeting(db, by, id).await
}

/// One line of an attendance sheet, as typed.
#[derive(Debug, Clone)]
pub struct AttendanceInput {
    pub member_id: String,
    pub status: String,
    pub represented_by: Option<String>,
}

/// Takes the attendance of a meeting. A planned meeting becomes held, and the follow-up of
/// the open decisions is frozen on its agenda as it stands that day.
pub async fn record_attendance(
    db: &Db,
    by: &Principal,
    id: &str,
    version: i64,
    inputs: &[AttendanceInput],
) -> CoreResult<MeetingView> {
    let (current, _, members, access) = load_meeting(db, by, id).await?;
    require(access.manage)?;
    if current.status == MeetingStatus::Annulee.as_str() {
        return Err(CoreError::Conflict("la réunion est annulée".to_owned()));
    }
    if current.version != version {
        return Err(stale("La réunion"));
    }
    let mut errors = Vec::new();
    let mut rows: Vec<Attendance> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let field = format!("presences[{i}]");
        if !members.iter().any(|m| m.id == input.member_id) {
            errors.push(FieldError::new(
                format!("{field}.membre"),
                format!("« {} » n'est pas membre de cette instance", input.member_id),
            ));
            continue;
        }
        if rows.iter().any(|r| r.member_id == input.member_id) {
            errors.push(FieldError::new(format!("{field}.membre"), "membre déjà pointé"));
            continue;
        }
        let status = match Presence::parse(&input.status, &format!("{field}.statut")) {
            Ok(s) => s,
            Err(CoreError::Validation(mut e)) => {
                errors.append(&mut e);
                continue;
            }
            Err(e) => return Err(e),
        };
        let represented_by = input
            .represented_by
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned);
        if status == Presence::Represente && represented_by.is_none() {
            errors.push(FieldError::new(
                format!("{field}.representePar"),
                "indiquez qui représente ce membre",
            ));
            continue;
        }
        rows.push(Attendance {
            member_id: input.member_id.clone(),
            status: status.as_str().to_owned(),
            represented_by: if status == Presence::Represente {
                represented_by
            } else {
                None
            },
        });
    }
    if !errors.is_empty() {
        return Err(CoreError::Validation(errors));
    }
    let mut m = current.clone();
    let freezing = m.status == MeetingStatus::Prevue.as_str();
    let follow_ups = if freezing {
        live_follow_ups(db, &m).await?
    } else {
        Vec::new()
    };
    m.status = MeetingStatus::Tenue.as_str().to_owned();
    let mut tx = db.begin().await?;
    if !repo::update_meeting(&mut tx, &m, version, now()).await? {
        return Err(stale("La réunion"));
    }
    repo::replace_attendance(&mut tx, &m.id, &rows).await?;
    if freezing {
        let frozen: Vec<AgendaItem> = follow_ups
            .iter()
            .enumerate()
            .map(|(i, f)| AgendaItem {
                id: new_id(),
                meeting_id: m.id.clone(),
                position: 1_000 + i as i64,
                title: f.title.clone(),
                notes: f.owner.clone(),
                ref_kind: Some(RefKind::Decision.as_str().to_owned()),
                ref_id: Some(f.decision_id.clone()),
                ref_label: Some(f.code.clone()),
                follow_up: true,
                ref_status: Some(if f.late {
                    format!("{}{LATE_MARK}", f.status)
                } else {
                    f.status.clone()
                }),
            })
            .collect();
        repo::replace_agenda(&mut tx, &m.id, true, &frozen).await?;
    }
    audit::record(
        &mut tx,
        &by.actor(),
        "presences",
        "reunion",
        &m.id,
        Some(&serde_json::json!({ "statut": current.status })),
        Some(&serde_json::json!({
            "statut": m.status,
            "presences": rows.iter().map(|r| serde_json::json!({
                "membre": r.member_id, "statut": r.status, "representePar": r.represented_by,
            })).collect::<Vec<_>>(),
        })),
    )
    .await?;
    tx.commit().await?;
    meeting(db, by, id).await
}

// --- Minutes --------------------------------------------------------------------------------

fn minutes_audit(m: &Minutes) -> serde_json::Value {
    serde_json::json!({
        "reunion": m.meeting_id, "revision": m.revision, "statut": m.status, "motif": m.reason,
        "texte": m.body,
    })
}

/// Writes `m` over `current` (the version read), audited as `action` with both states;
/// returns it with its new version.
async fn write_minutes(
    tx: &mut crate::db::Tx,
    by: &Principal,
    action: &str,
    current: &Minutes,
    mut m: Minutes,
) -> CoreResult<Minutes> {
    if !repo::update_minutes(tx, &m, current.version).await? {
        return Err(stale("Le compte rendu"));
    }
    m.version = current.version + 1;
    audit::record(
        tx,
        &by.actor(),
        action,
        "compte-rendu",
        &m.id,
        Some(&minutes_audit(current)),
        Some(&minutes_audit(&m)),
    )
    .await?;
    Ok(m)
}

/// Every revision of a meeting's minutes (the latest first).
pub async fn minutes_revisions(db: &Db, by: &Principal, meeting_id: &str) -> CoreResult<Vec<Minutes>> {
    load_meeting(db, by, meeting_id).await?;
    repo::minutes_of(db, meeting_id).await
}

/// Writes the minutes' draft. `version` is the draft's version as read (`None` for the
/// first draft). Approved minutes cannot be written: open a correction first.
pub async fn save_minutes(
    db: &Db,
    by: &Principal,
    meeting_id: &str,
    version: Option<i64>,
    text_md: &str,
) -> CoreResult<Minutes> {
    let (meeting, _, _, access) = load_meeting(db, by, meeting_id).await?;
    require(access.minutes)?;
    if meeting.status == MeetingStatus::Annulee.as_str() {
        return Err(CoreError::Conflict("la réunion est annulée".to_owned()));
    }
    let body = long_text("texte", text_md, 200_000)?;
    let latest = repo::minutes_of(db, meeting_id).await?.into_iter().next();
    let stamp = now();
    let mut tx = db.begin().await?;
    let saved = match latest {
        None => {
            if version.is_some_and(|v| v != 0) {
                return Err(stale("Le compte rendu"));
            }
            let m = Minutes {
                id: new_id(),
                meeting_id: meeting.id.clone(),
                revision: 1,
                body,
                status: "brouillon".to_owned(),
                reason: None,
                author_id: Some(by.user.id.clone()),
                approved_at: None,
                approved_by: None,
                version: 1,
                created_at: stamp,
                updated_at: stamp,
            };
            repo::insert_minutes(&mut tx, &m).await?;
            audit::record(
                &mut tx,
                &by.actor(),
                "creer",
                "compte-rendu",
                &m.id,
                None,
                Some(&minutes_audit(&m)),
            )
            .await?;
            m
        }
        Some(current) => {
            if current.approved() {
                return Err(CoreError::Conflict(
                    "le compte rendu est approuvé : ouvrez une correction (nouvelle version motivée)"
                        .to_owned(),
                ));
            }
            if version != Some(current.version) {
                return Err(stale("Le compte rendu"));
            }
            let mut m = current.clone();
            m.body = body;
            m.author_id = Some(by.user.id.clone());
            m.updated_at = stamp;
            write_minutes(&mut tx, by, "modifier", &current, m).await?
        }
    };
    tx.commit().await?;
    Ok(saved)
}

/// Approves the minutes' draft of a held meeting: the text is frozen.
pub async fn approve_minutes(db: &Db, by: &Principal, meeting_id: &str, version: i64) -> CoreResult<Minutes> {
    let (meeting, _, _, access) = load_meeting(db, by, meeting_id).await?;
    require(access.minutes)?;
    if meeting.status != MeetingStatus::Tenue.as_str() {
        return Err(CoreError::Conflict(
            "seul le compte rendu d'une réunion tenue (présences prises) s'approuve".to_owned(),
        ));
    }
    let current = repo::minutes_of(db, meeting_id)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| invalid("texte", "rédigez le compte rendu avant de l'approuver"))?;
    if current.approved() {
        return Err(CoreError::Conflict(
            "le compte rendu est déjà approuvé".to_owned(),
        ));
    }
    if current.version != version {
        return Err(stale("Le compte rendu"));
    }
    if current.body.trim().is_empty() {
        return Err(invalid("texte", "le compte rendu est vide"));
    }
    let stamp = now();
    let mut m = current.clone();
    m.status = "approuve".to_owned();
    m.approved_at = Some(stamp);
    m.approved_by = Some(by.user.id.clone());
    m.updated_at = stamp;
    let mut tx = db.begin().await?;
    let m = write_minutes(&mut tx, by, "approuver", &current, m).await?;
    tx.commit().await?;
    Ok(m)
}

/// Opens a correction of approved minutes: a new draft revision, starting from the
/// approved text, with the reason of the correction.
pub async fn correct_minutes(db: &Db, by: &Principal, meeting_id: &str, reason: &str) -> CoreResult<Minutes> {
    let (_, _, _, access) = load_meeting(db, by, meeting_id).await?;
    require(access.minutes)?;
    let reason = text("motif", reason, 1_000)?;
    let current = repo::minutes_of(db, meeting_id)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| invalid("texte", "il n'y a pas encore de compte rendu"))?;
    if !current.approved() {
        return Err(CoreError::Conflict(
            "le compte rendu n'est pas approuvé : modifiez directement le brouillon".to_owned(),
        ));
    }
    let stamp = now();
    let m = Minutes {
        id: new_id(),
        meeting_id: meeting_id.to_owned(),
        revision: current.revision + 1,
        body: current.body.clone(),
        status: "brouillon".to_owned(),
        reason: Some(reason),
        author_id: Some(by.user.id.clone()),
        approved_at: None,
        approved_by: None,
        version: 1,
        created_at: stamp,
        updated_at: stamp,
    };
    let mut tx = db.begin().await?;
    repo::insert_minutes(&mut tx, &m).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "corriger",
        "compte-rendu",
        &m.id,
        Some(&minutes_audit(&current)),
        Some(&minutes_audit(&m)),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

// --- Decisions ------------------------------------------------------------------------------

fn decision_audit(d: &Decision) -> serde_json::Value {
    serde_json::json!({
        "instance": d.body_id, "reunion": d.meeting_id, "numero": d.number, "titre": d.title,
        "details": d.details, "responsable": d.owner_name, "responsableEmail": d.owner_email,
        "echeance": d.due_date.map(|d| d.to_string()), "statut": d.status, "suivi": d.status_note,
        "reference": d.ref_label,
    })
}

async fn apply_decision(
    db: &Db,
    by: &Principal,
    d: &mut Decision,
    members: &[Member],
    patch: &DecisionPatch,
) -> CoreResult<()> {
    let mut errors = Vec::new();
    let mut keep = |r: CoreResult<()>| -> CoreResult<()> {
        match r {
            Ok(()) => Ok(()),
            Err(CoreError::Validation(mut e)) => {
                errors.append(&mut e);
                Ok(())
            }
            Err(e) => Err(e),
        }
    };
    if let Some(title) = &patch.title {
        keep(text("titre", title, 300).map(|t| d.title = t))?;
    }
    if let Some(details) = &patch.details {
        keep(long_text("details", details, 10_000).map(|t| d.details = t))?;
    }
    if let Some(note) = &patch.status_note {
        keep(long_text("suivi", note, 5_000).map(|t| d.status_note = t))?;
    }
    if let Some(due) = patch.due_date {
        d.due_date = due;
    }
    if let Some(status) = &patch.status {
        keep(DecisionStatus::parse(status, "statut").map(|s| {
            let was_closed = !d.is_open();
            d.status = s.as_str().to_owned();
            if s.is_closed() && !was_closed {
                d.closed_at = Some(now());
            } else if !s.is_closed() {
                d.closed_at = None;
            }
        }))?;
    }
    if let Some(owner) = &patch.owner {
        let owner = owner.trim();
        if owner.is_empty() {
            errors.push(FieldError::new("responsable", "obligatoire"));
        } else if owner.contains('@') {
            match check_email(owner) {
                Ok(email) => {
                    let user = identity_repo::find_user_by_email(db, &email).await?;
                    let member = members.iter().find(|m| m.email == email);
                    d.owner_name = user
                        .as_ref()
                        .map(|u| u.display_name.clone())
                        .or_else(|| member.map(|m| m.name.clone()))
                        .unwrap_or_else(|| email.clone());
                    d.owner_user_id = user.map(|u| u.id);
                    d.owner_email = Some(email);
                }
                Err(_) => errors.push(FieldError::new(
                    "responsable",
                    format!("« {owner} » n'est pas une adresse électronique"),
                )),
            }
        } else if owner.chars().count() > 200 {
            errors.push(FieldError::new("responsable", "200 caractères au plus"));
        } else {
            // A name: the member of that name when there is one (their e-mail follows).
            let member = members.iter().find(|m| m.name.eq_ignore_ascii_case(owner));
            d.owner_name = owner.to_owned();
            d.owner_email = member.map(|m| m.email.clone());
            d.owner_user_id = member.and_then(|m| m.user_id.clone());
        }
    }
    if let Some(reference) = &patch.reference {
        d.ref_kind = None;
        d.ref_id = None;
        d.ref_label = None;
        if let Some(reference) = reference.as_deref().filter(|r| !r.trim().is_empty()) {
            match resolve_reference(db, by, &d.body_id, "reference", reference).await {
                Ok((kind, id, label)) => {
                    d.ref_kind = Some(kind);
                    d.ref_id = Some(id);
                    d.ref_label = Some(label);
                }
                Err(CoreError::Validation(mut e)) => errors.append(&mut e),
                Err(e) => return Err(e),
            }
        }
    }
    if d.title.is_empty() && !errors.iter().any(|e| e.field == "titre") {
        errors.push(FieldError::new("titre", "obligatoire"));
    }
    if d.owner_name.is_empty() && !errors.iter().any(|e| e.field == "responsable") {
        errors.push(FieldError::new("responsable", "obligatoire"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CoreError::Validation(errors))
    }
}

/// Records a decision taken at a meeting: it is followed until done.
pub async fn create_decision(
    db: &Db,
    by: &Principal,
    meeting_id: &str,
    patch: &DecisionPatch,
) -> CoreResult<Decision> {
    let (meeting, body, members, access) = load_meeting(db, by, meeting_id).await?;
    require(access.manage)?;
    if meeting.status == MeetingStatus::Annulee.as_str() {
        return Err(CoreError::Conflict("la réunion est annulée".to_owned()));
    }
    let stamp = now();
    let mut d = Decision {
        id: new_id(),
        body_id: body.id.clone(),
        meeting_id: meeting.id.clone(),
        number: 0,
        title: String::new(),
        details: String::new(),
        owner_name: String::new(),
        owner_email: None,
        owner_user_id: None,
        due_date: None,
        status: DecisionStatus::Ouverte.as_str().to_owned(),
        status_note: String::new(),
        closed_at: None,
        ref_kind: None,
        ref_id: None,
        ref_label: None,
        version: 1,
        created_at: stamp,
        updated_at: stamp,
    };
    apply_decision(db, by, &mut d, &members, patch).await?;
    let mut tx = db.begin().await?;
    d.number = repo::next_decision_number(&mut tx, &body.id).await?;
    repo::insert_decision(&mut tx, &d).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "creer",
        "decision",
        &d.id,
        None,
        Some(&decision_audit(&d)),
    )
    .await?;
    tx.commit().await?;
    Ok(d)
}

async fn decision_view(db: &Db, d: Decision) -> CoreResult<DecisionView> {
    let body = repo::find_body(db, &d.body_id).await?;
    let meeting = repo::find_meeting(db, &d.meeting_id).await?;
    let late = d.is_late(today());
    Ok(DecisionView {
        body_name: body.map(|b| b.name).unwrap_or_default(),
        meeting_number: meeting.as_ref().map_or(0, |m| m.number),
        meeting_date: meeting.map_or(d.created_at, |m| m.starts_at),
        late,
        decision: d,
    })
}

/// One decision, for whoever sees its body.
pub async fn decision(db: &Db, by: &Principal, id: &str) -> CoreResult<DecisionView> {
    let d = repo::find_decision(db, id)
        .await?
        .ok_or_else(|| CoreError::not_found("décision", id))?;
    load_body(db, by, &d.body_id).await.map_err(|e| match e {
        CoreError::NotFound { .. } => CoreError::not_found("décision", id),
        other => other,
    })?;
    decision_view(db, d).await
}

/// Changes a decision. Its owner may report on the follow-up (status and note); the
/// organisers of the body change the rest.
pub async fn update_decision(
    db: &Db,
    by: &Principal,
    id: &str,
    version: i64,
    patch: &DecisionPatch,
) -> CoreResult<Decision> {
    let current = repo::find_decision(db, id)
        .await?
        .ok_or_else(|| CoreError::not_found("décision", id))?;
    let (_, members, access) = load_body(db, by, &current.body_id).await.map_err(|e| match e {
        CoreError::NotFound { .. } => CoreError::not_found("décision", id),
        other => other,
    })?;
    let owner = !by.read_only
        && (current.owner_user_id.as_deref() == Some(by.user.id.as_str())
            || current.owner_email.as_deref() == Some(by.user.email.to_lowercase().as_str()));
    let follow_up_only = patch.title.is_none()
        && patch.details.is_none()
        && patch.owner.is_none()
        && patch.due_date.is_none()
        && patch.reference.is_none();
    require(access.manage || (owner && follow_up_only))?;
    if current.version != version {
        return Err(stale("La décision"));
    }
    let mut d = current.clone();
    apply_decision(db, by, &mut d, &members, patch).await?;
    d.updated_at = now();
    let mut tx = db.begin().await?;
    if !repo::update_decision(&mut tx, &d, version).await? {
        return Err(stale("La décision"));
    }
    d.version = version + 1;
    audit::record(
        &mut tx,
        &by.actor(),
        "modifier",
        "decision",
        &d.id,
        Some(&decision_audit(&current)),
        Some(&decision_audit(&d)),
    )
    .await?;
    tx.commit().await?;
    Ok(d)
}

/// A decision register: the decisions of the bodies a person sees (or of one body), the
/// late ones first.
pub async fn decisions(db: &Db, by: &Principal, filter: &DecisionFilter) -> CoreResult<Vec<DecisionView>> {
    if let Some(status) = &filter.status {
        DecisionStatus::parse(status, "statut")?;
    }
    if let Some(body_id) = &filter.body_id {
        load_body(db, by, body_id).await?;
    }
    let day = today();
    let owner = filter.mine.then_some(by.user.id.as_str());
    let visible: Vec<String> = bodies(db, by).await?.into_iter().map(|(b, _)| b.id).collect();
    Ok(repo::decisions(db, filter, owner, day)
        .await?
        .into_iter()
        .filter(|r| visible.contains(&r.decision.body_id))
        .map(|r| DecisionView {
            late: r.decision.is_late(day),
            decision: r.decision,
            body_name: r.body_name,
            meeting_number: r.meeting_number,
            meeting_date: r.meeting_date,
        })
        .collect())
}

/// Whether `by` sees the governance object `kind`/`id` (for its history).
pub async fn visible(db: &Db, by: &Principal, kind: &str, id: &str) -> CoreResult<bool> {
    let body_id = match kind {
        "instance" => Some(id.to_owned()),
        "membre" => repo::find_member(db, id).await?.map(|m| m.body_id),
        "reunion" => repo::find_meeting(db, id).await?.map(|m| m.body_id),
        "decision" => repo::find_decision(db, id).await?.map(|d| d.body_id),
        "compte-rendu" => match repo::meeting_of_minutes(db, id).await? {
            Some(meeting) => repo::find_meeting(db, &meeting).await?.map(|m| m.body_id),
            None => None,
        },
        _ => None,
    };
    let Some(body_id) = body_id else {
        return Ok(false);
    };
    match load_body(db, by, &body_id).await {
        Ok(_) => Ok(true),
        Err(CoreError::NotFound { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

// --- Calendar feeds -------------------------------------------------------------------------

/// Creates a private calendar feed for oneself (revoking the previous one); returns the
/// secret token of its URL, shown once.
pub async fn new_calendar_feed(db: &Db, by: &Principal) -> CoreResult<String> {
    if by.read_only {
        return Err(CoreError::Forbidden);
    }
    let secret = format!("gvc_{}", random_secret(24)?);
    let stamp = now();
    let id = new_id();
    let mut tx = db.begin().await?;
    repo::revoke_feeds(&mut tx, &by.user.id, stamp).await?;
    repo::insert_feed(&mut tx, &id, &by.user.id, &audit::sha256_hex(&secret), stamp).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "creer",
        "agenda",
        &id,
        None,
        Some(&serde_json::json!({ "utilisateur": by.user.id })),
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

/// Revokes one's calendar feed: its URL answers 404 from now on.
pub async fn revoke_calendar_feed(db: &Db, by: &Principal) -> CoreResult<()> {
    if by.read_only {
        return Err(CoreError::Forbidden);
    }
    let mut tx = db.begin().await?;
    let n = repo::revoke_feeds(&mut tx, &by.user.id, now()).await?;
    if n > 0 {
        audit::record(
            &mut tx,
            &by.actor(),
            "revoquer",
            "agenda",
            &by.user.id,
            None,
            None,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Whether the person has a live calendar feed.
pub async fn has_calendar_feed(db: &Db, by: &Principal) -> CoreResult<bool> {
    repo::has_feed(db, &by.user.id).await
}

/// The ICS document of a feed token: the meetings of the bodies the person sits on, from a
/// year ago on; `None` when the token is unknown or revoked.
pub async fn calendar_feed(db: &Db, token: &str) -> CoreResult<Option<String>> {
    let Some(user_id) = repo::feed_user(db, &audit::sha256_hex(token)).await? else {
        return Ok(None);
    };
    let Some(user) = identity_repo::find_user(db, &user_id).await? else {
        return Ok(None);
    };
    if user.status != "active" {
        return Ok(None);
    }
    let since = now() - time::Duration::days(365);
    let meetings = repo::meetings_of_person(db, &user.id, &user.email.to_lowercase(), since).await?;
    Ok(Some(notify::feed(&user.display_name, &meetings)))
}
