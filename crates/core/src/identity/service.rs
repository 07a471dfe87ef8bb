//! Identity use-cases: accounts, sign-in, sessions, tokens, roles and delegation. Every
//! change writes an audit entry in the same transaction.

use time::{Date, Duration, OffsetDateTime};

use crate::audit::{self, Actor};
use crate::db::Db;
use crate::error::{CoreError, CoreResult, FieldError};

use super::model::{ApiToken, Assignment, Grant, Perimeter, Role, User};
use super::password;
use super::policy::{self, Capability, Principal};
use super::repo;

/// Sessions end after this long without a request.
pub const SESSION_IDLE: Duration = Duration::minutes(30);
/// Sessions end this long after sign-in, whatever happens.
pub const SESSION_ABSOLUTE: Duration = Duration::hours(12);
/// The longest life of an API token.
pub const TOKEN_MAX_DAYS: i64 = 366;

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn today() -> Date {
    now().date()
}

fn random_hex(bytes: usize) -> CoreResult<String> {
    let mut buf = vec![0_u8; bytes];
    getrandom::getrandom(&mut buf).map_err(|e| CoreError::Internal(format!("aléa indisponible : {e}")))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// A new random identifier.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Normalises and checks an e-mail address (`email` field).
pub fn check_email(email: &str) -> CoreResult<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.contains(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        });
    if valid {
        Ok(email)
    } else {
        Err(CoreError::Validation(vec![FieldError::new(
            "email",
            "adresse électronique invalide",
        )]))
    }
}

fn check_name(name: &str) -> CoreResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(CoreError::Validation(vec![FieldError::new(
            "nom",
            "entre 1 et 200 caractères",
        )]));
    }
    Ok(name.to_owned())
}

/// Loads the principal of a user id: the account must be active; grants in force today.
pub async fn principal(db: &Db, user_id: &str, read_only: bool) -> CoreResult<Option<Principal>> {
    let Some(user) = repo::find_user(db, user_id).await? else {
        return Ok(None);
    };
    if user.status != "active" {
        return Ok(None);
    }
    let mut grants = Vec::new();
    for row in repo::grants_in_force(db, user_id, today()).await? {
        let (Ok(role), Ok(perimeter)) = (
            Role::parse(&row.role),
            Perimeter::from_parts(&row.perimeter_kind, &row.perimeter_code),
        ) else {
            tracing::warn!(user_id, role = row.role, "ignoring an unreadable role assignment");
            continue;
        };
        grants.push(Grant {
            role,
            perimeter,
            valid_until: row.valid_until,
        });
    }
    Ok(Some(Principal {
        user,
        grants,
        read_only,
    }))
}

// --- Accounts -------------------------------------------------------------------------------

/// Creates an active local account (optionally with a password).
pub async fn create_user(
    db: &Db,
    actor: &Actor,
    email: &str,
    name: &str,
    password: Option<&str>,
) -> CoreResult<User> {
    let email = check_email(email)?;
    let name = check_name(name)?;
    if let Some(p) = password {
        password::check_new(p, &email)?;
    }
    if repo::find_user_by_email(db, &email).await?.is_some() {
        return Err(CoreError::Conflict(format!("un compte existe déjà pour {email}")));
    }
    let hash = password.map(password::hash);
    let id = new_id();
    let stamp = now();
    let mut tx = db.begin().await?;
    repo::insert_user(
        &mut tx,
        &id,
        &email,
        &name,
        hash.as_deref(),
        "active",
        None,
        None,
        stamp,
    )
    .await?;
    let user = repo::find_user_tx(&mut tx, &id)
        .await?
        .ok_or_else(|| CoreError::Internal("compte créé introuvable".into()))?;
    audit::record(
        &mut tx,
        actor,
        "creer",
        "utilisateur",
        &id,
        None,
        Some(&user.audit_json()),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// Creates an account on behalf of an administrator.
pub async fn create_user_as(db: &Db, by: &Principal, email: &str, name: &str) -> CoreResult<User> {
    by.require_admin()?;
    create_user(db, &by.actor(), email, name, None).await
}

/// Every account (administrators only).
pub async fn list_users(db: &Db, by: &Principal, status: Option<&str>) -> CoreResult<Vec<User>> {
    by.require_admin()?;
    repo::list_users(db, status).await
}

/// Every account, for the command line.
pub async fn list_users_cli(db: &Db) -> CoreResult<Vec<User>> {
    repo::list_users(db, None).await
}

/// One account: its owner or an administrator; others get `NotFound`.
pub async fn get_user(db: &Db, by: &Principal, id: &str) -> CoreResult<User> {
    if by.user.id != id && !by.is_admin() {
        return Err(CoreError::not_found("utilisateur", id));
    }
    repo::find_user(db, id)
        .await?
        .ok_or_else(|| CoreError::not_found("utilisateur", id))
}

/// What an administrator may change on an account.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub display_name: Option<String>,
    /// `active` (also approves a pending SSO account) or `disabled`.
    pub status: Option<String>,
}

/// Changes an account if it is still at `version` (409 with the current state otherwise).
/// Disabling ends the person's sessions and tokens at once.
pub async fn update_user(
    db: &Db,
    actor: &Actor,
    id: &str,
    version: i64,
    patch: &UserPatch,
) -> CoreResult<User> {
    let current = repo::find_user(db, id)
        .await?
        .ok_or_else(|| CoreError::not_found("utilisateur", id))?;
    if current.erased_at.is_some() {
        return Err(CoreError::Conflict("ce compte a été effacé".into()));
    }
    let name = match &patch.display_name {
        Some(n) => check_name(n)?,
        None => current.display_name.clone(),
    };
    let status = match patch.status.as_deref() {
        None => current.status.clone(),
        Some(s @ ("active" | "disabled")) => s.to_owned(),
        Some(other) => {
            return Err(CoreError::Validation(vec![FieldError::new(
                "statut",
                format!("statut « {other} » : active ou disabled"),
            )]));
        }
    };
    let stamp = now();
    let mut tx = db.begin().await?;
    if !repo::update_user(&mut tx, id, version, &name, &status, stamp).await? {
        return Err(CoreError::Conflict(format!(
            "le compte a été modifié entre-temps (version actuelle {})",
            current.version
        )));
    }
    if status == "disabled" {
        repo::delete_sessions_of(&mut tx, id).await?;
        repo::revoke_tokens_of(&mut tx, id, stamp).await?;
    }
    let after = repo::find_user_tx(&mut tx, id)
        .await?
        .ok_or_else(|| CoreError::not_found("utilisateur", id))?;
    let action = match (current.status.as_str(), status.as_str()) {
        ("pending", "active") => "approuver",
        (_, "disabled") if current.status != "disabled" => "desactiver",
        _ => "modifier",
    };
    audit::record(
        &mut tx,
        actor,
        action,
        "utilisateur",
        id,
        Some(&current.audit_json()),
        Some(&after.audit_json()),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// [`update_user`] on behalf of an administrator.
pub async fn update_user_as(
    db: &Db,
    by: &Principal,
    id: &str,
    version: i64,
    patch: &UserPatch,
) -> CoreResult<User> {
    by.require_admin()?;
    update_user(db, &by.actor(), id, version, patch).await
}

/// Disables an account by e-mail (command line).
pub async fn disable_by_email(db: &Db, email: &str) -> CoreResult<User> {
    let email = check_email(email)?;
    let user = repo::find_user_by_email(db, &email)
        .await?
        .ok_or_else(|| CoreError::not_found("utilisateur", &email))?;
    update_user(
        db,
        &Actor::cli(),
        &user.id,
        user.version,
        &UserPatch {
            status: Some("disabled".into()),
            ..Default::default()
        },
    )
    .await
}

/// Erases a person's personal data (RGPD): the account is pseudonymised and disabled,
/// their roles end, their sessions and tokens too, and the audit trail replaces their
/// name and their account's states by the pseudonym — without breaking the chain.
pub async fn erase_user(db: &Db, actor: &Actor, id: &str) -> CoreResult<User> {
    repo::find_user(db, id)
        .await?
        .ok_or_else(|| CoreError::not_found("utilisateur", id))?;
    let pseudonym = format!("personne-{}", &audit::sha256_hex(id)[..10]);
    let stamp = now();
    let mut tx = db.begin().await?;
    repo::erase_user(&mut tx, id, &pseudonym, stamp).await?;
    repo::delete_sessions_of(&mut tx, id).await?;
    repo::revoke_tokens_of(&mut tx, id, stamp).await?;
    for a in repo::assignments_of(db, id).await? {
        if a.valid_until.is_none_or(|end| end > today()) {
            repo::end_assignment(&mut tx, &a.id, today(), actor.id.as_deref(), stamp).await?;
        }
    }
    audit::pseudonymise(&mut tx, id, &pseudonym).await?;
    audit::record(
        &mut tx,
        actor,
        "effacer",
        "utilisateur",
        id,
        None,
        Some(&serde_json::json!({ "pseudonyme": pseudonym })),
    )
    .await?;
    let after = repo::find_user_tx(&mut tx, id)
        .await?
        .ok_or_else(|| CoreError::not_found("utilisateur", id))?;
    tx.commit().await?;
    Ok(after)
}

/// [`erase_user`] on behalf of an administrator.
pub async fn erase_user_as(db: &Db, by: &Principal, id: &str) -> CoreResult<User> {
    by.require_admin()?;
    erase_user(db, &by.actor(), id).await
}

// --- Sign-in ------------------------------------------------------------------------------

/// Why a sign-in failed; the message shown is the same whether the account exists or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginError {
    /// Wrong address or password, or no such active account.
    Invalid,
    /// Too many failures for this account or address: wait.
    Throttled,
}

/// Checks an e-mail and password, with throttling per account and per address and no way
/// to tell an unknown account from a wrong password (same message, same work).
pub async fn login_with_password(
    db: &Db,
    email: &str,
    password: &str,
    address: &str,
) -> CoreResult<Result<User, LoginError>> {
    let email = email.trim().to_lowercase();
    let since = now() - Duration::minutes(password::WINDOW_MINUTES);
    let account_key = format!("compte:{email}");
    let address_key = format!("adresse:{address}");
    if repo::count_failures(db, &account_key, since).await? >= password::MAX_FAILURES_PER_ACCOUNT
        || repo::count_failures(db, &address_key, since).await? >= password::MAX_FAILURES_PER_ADDRESS
    {
        return Ok(Err(LoginError::Throttled));
    }
    let user = repo::find_user_by_email(db, &email).await?;
    let hash = match &user {
        Some(u) => repo::password_hash(db, &u.id).await?,
        None => None,
    };
    let candidate = password.to_owned();
    let stored = hash.clone().unwrap_or_else(|| password::DUMMY_HASH.clone());
    let matches = tokio::task::spawn_blocking(move || password::verify(&candidate, &stored))
        .await
        .map_err(|e| CoreError::Internal(format!("vérification du mot de passe : {e}")))?;
    match user {
        Some(u) if matches && hash.is_some() && u.status == "active" => {
            repo::clear_failures(db, &account_key).await?;
            Ok(Ok(u))
        }
        _ => {
            repo::record_failure(db, &account_key, now()).await?;
            repo::record_failure(db, &address_key, now()).await?;
            Ok(Err(LoginError::Invalid))
        }
    }
}

/// Opens a session; returns the secret for the cookie (the database keeps its hash).
pub async fn open_session(db: &Db, user_id: &str) -> CoreResult<String> {
    let secret = random_hex(32)?;
    let stamp = now();
    repo::insert_session(
        db,
        &audit::sha256_hex(&secret),
        user_id,
        stamp,
        stamp + SESSION_ABSOLUTE,
    )
    .await?;
    Ok(secret)
}

/// The person behind a session cookie, if the session is still valid (idle and absolute
/// time-outs, active account).
pub async fn session_principal(db: &Db, secret: &str) -> CoreResult<Option<Principal>> {
    let id_hash = audit::sha256_hex(secret);
    let Some(session) = repo::find_session(db, &id_hash).await? else {
        return Ok(None);
    };
    let stamp = now();
    if stamp >= session.expires_at || stamp - session.last_seen_at > SESSION_IDLE {
        repo::delete_session(db, &id_hash).await?;
        return Ok(None);
    }
    if stamp - session.last_seen_at > Duration::minutes(1) {
        repo::touch_session(db, &id_hash, stamp).await?;
    }
    principal(db, &session.user_id, false).await
}

/// Ends a session on the server.
pub async fn close_session(db: &Db, secret: &str) -> CoreResult<()> {
    repo::delete_session(db, &audit::sha256_hex(secret)).await?;
    Ok(())
}

// --- API tokens ---------------------------------------------------------------------------

/// The prefix of every token, so that leaked ones are easy to recognise.
pub const TOKEN_PREFIX: &str = "gvt_";

/// Creates a token for `user_id`; returns its description and the secret, shown once.
pub async fn create_token(
    db: &Db,
    actor: &Actor,
    user_id: &str,
    name: &str,
    read_only: bool,
    expires: Date,
) -> CoreResult<(ApiToken, String)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(CoreError::Validation(vec![FieldError::new(
            "nom",
            "entre 1 et 100 caractères",
        )]));
    }
    if expires <= today() || expires > today() + Duration::days(TOKEN_MAX_DAYS) {
        return Err(CoreError::Validation(vec![FieldError::new(
            "expiration",
            format!("entre demain et {TOKEN_MAX_DAYS} jours"),
        )]));
    }
    let user = repo::find_user(db, user_id)
        .await?
        .ok_or_else(|| CoreError::not_found("utilisateur", user_id))?;
    if user.status != "active" {
        return Err(CoreError::Validation(vec![FieldError::new(
            "utilisateur",
            "compte inactif",
        )]));
    }
    let secret = format!("{TOKEN_PREFIX}{}", random_hex(32)?);
    let stamp = now();
    let token = ApiToken {
        id: new_id(),
        user_id: user.id.clone(),
        name: name.to_owned(),
        read_only,
        expires_at: expires.midnight().assume_utc(),
        revoked_at: None,
        last_used_at: None,
        created_at: stamp,
    };
    let mut tx = db.begin().await?;
    repo::insert_token(&mut tx, &token, &audit::sha256_hex(&secret)).await?;
    audit::record(
        &mut tx,
        actor,
        "creer",
        "jeton",
        &token.id,
        None,
        Some(&serde_json::json!({
            "utilisateur": token.user_id, "nom": token.name, "lectureSeule": read_only,
            "expiration": expires.to_string(),
        })),
    )
    .await?;
    tx.commit().await?;
    Ok((token, secret))
}

/// Creates a token for oneself (or, for an administrator, for someone else).
pub async fn create_token_as(
    db: &Db,
    by: &Principal,
    user_id: Option<&str>,
    name: &str,
    read_only: bool,
    expires: Date,
) -> CoreResult<(ApiToken, String)> {
    if by.read_only {
        return Err(CoreError::Forbidden);
    }
    let target = user_id.unwrap_or(&by.user.id);
    if target != by.user.id && !by.is_admin() {
        return Err(CoreError::not_found("utilisateur", target));
    }
    create_token(db, &by.actor(), target, name, read_only, expires).await
}

/// The person behind a bearer token, if it is known, not revoked, not expired, and its
/// owner is active.
pub async fn token_principal(db: &Db, secret: &str) -> CoreResult<Option<Principal>> {
    if !secret.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let Some(token) = repo::find_token_by_hash(db, &audit::sha256_hex(secret)).await? else {
        return Ok(None);
    };
    let stamp = now();
    if token.revoked_at.is_some() || token.expires_at <= stamp {
        return Ok(None);
    }
    if token
        .last_used_at
        .is_none_or(|t| stamp - t > Duration::minutes(1))
    {
        repo::touch_token(db, &token.id, stamp).await?;
    }
    principal(db, &token.user_id, token.read_only).await
}

/// One's own tokens.
pub async fn list_tokens(db: &Db, by: &Principal) -> CoreResult<Vec<ApiToken>> {
    repo::tokens_of(db, &by.user.id).await
}

/// Revokes a token (its owner or an administrator); it stops working at once.
pub async fn revoke_token(db: &Db, by: &Principal, id: &str) -> CoreResult<()> {
    if by.read_only {
        return Err(CoreError::Forbidden);
    }
    let token = repo::find_token(db, id)
        .await?
        .ok_or_else(|| CoreError::not_found("jeton", id))?;
    if token.user_id != by.user.id && !by.is_admin() {
        return Err(CoreError::not_found("jeton", id));
    }
    let mut tx = db.begin().await?;
    repo::revoke_token(&mut tx, id, now()).await?;
    audit::record(&mut tx, &by.actor(), "revoquer", "jeton", id, None, None).await?;
    tx.commit().await
}

// --- Roles and delegation ---------------------------------------------------------------

/// Checks that a perimeter names something that exists.
async fn check_perimeter_exists(db: &Db, perimeter: &Perimeter) -> CoreResult<()> {
    use crate::territory::service as t;
    let found = match perimeter {
        Perimeter::National => true,
        Perimeter::RegionAcademique(c) => t::get_region_academique(db, c).await.is_ok(),
        Perimeter::Academie(c) => t::get_academie(db, c).await.is_ok(),
        Perimeter::Departement(c) => t::get_departement(db, c).await.is_ok(),
        Perimeter::Collectivite(s) => t::get_collectivite(db, s).await.is_ok(),
        Perimeter::Etablissement(u) => t::get_etablissement(db, u).await.is_ok(),
        Perimeter::Organisation(id) => repo::find_organisation(db, id).await?.is_some(),
    };
    if found {
        Ok(())
    } else {
        Err(CoreError::Validation(vec![FieldError::new(
            "perimetre",
            format!("périmètre inconnu : {perimeter}"),
        )]))
    }
}

/// A new appointment.
#[derive(Debug, Clone)]
pub struct NewAssignment {
    pub user_id: String,
    pub role: Role,
    pub perimeter: Perimeter,
    pub from: Date,
    pub until: Option<Date>,
}

/// Grants a role. With `by`, this is a delegation: the appointer must hold, on a perimeter
/// containing the target one, a role that may appoint this role, and the appointment
/// cannot outlast the appointer's own.
pub async fn grant_role(db: &Db, by: Option<&Principal>, new: &NewAssignment) -> CoreResult<Assignment> {
    if let Some(until) = new.until
        && until <= new.from
    {
        return Err(CoreError::Validation(vec![FieldError::new(
            "fin",
            "la fin doit suivre le début",
        )]));
    }
    let user = repo::find_user(db, &new.user_id)
        .await?
        .ok_or_else(|| CoreError::not_found("utilisateur", &new.user_id))?;
    if user.erased_at.is_some() || user.status == "disabled" {
        return Err(CoreError::Validation(vec![FieldError::new(
            "utilisateur",
            "compte désactivé",
        )]));
    }
    if let Some(by) = by {
        if by.read_only {
            return Err(CoreError::Forbidden);
        }
        by.check(
            db,
            Capability::Appoint,
            &new.perimeter,
            "périmètre",
            &new.perimeter.to_string(),
        )
        .await?;
        let ancestors = policy::ancestors(db, &new.perimeter).await?;
        let allowed = by.grants.iter().any(|g| {
            ancestors.contains(&g.perimeter)
                && g.role.may_appoint().contains(&new.role)
                && match (g.valid_until, new.until) {
                    (None, _) => true,
                    (Some(_), None) => false,
                    (Some(mine), Some(theirs)) => theirs <= mine,
                }
        });
        if !allowed {
            return Err(CoreError::Forbidden);
        }
    }
    check_perimeter_exists(db, &new.perimeter).await?;
    let actor = by.map_or_else(Actor::cli, Principal::actor);
    let id = new_id();
    let mut tx = db.begin().await?;
    repo::insert_assignment(
        &mut tx,
        &id,
        &new.user_id,
        new.role.as_str(),
        new.perimeter.kind(),
        new.perimeter.code(),
        new.from,
        new.until,
        by.map(|p| p.user.id.as_str()),
        now(),
    )
    .await?;
    let assignment = repo::find_assignment_tx(&mut tx, &id)
        .await?
        .ok_or_else(|| CoreError::not_found("nomination", &id))?;
    audit::record(
        &mut tx,
        &actor,
        "nommer",
        "nomination",
        &id,
        None,
        Some(&assignment.audit_json()),
    )
    .await?;
    tx.commit().await?;
    Ok(assignment)
}

/// Ends an appointment on `on` (today by default): the appointer's rules apply.
pub async fn end_role(db: &Db, by: &Principal, id: &str, on: Option<Date>) -> CoreResult<Assignment> {
    let current = repo::find_assignment(db, id)
        .await?
        .ok_or_else(|| CoreError::not_found("nomination", id))?;
    let perimeter = Perimeter::from_parts(&current.perimeter_kind, &current.perimeter_code)?;
    by.check(db, Capability::Read, &perimeter, "nomination", id)
        .await?;
    if by.read_only {
        return Err(CoreError::Forbidden);
    }
    let role = Role::parse(&current.role)?;
    let ancestors = policy::ancestors(db, &perimeter).await?;
    if !by
        .grants
        .iter()
        .any(|g| ancestors.contains(&g.perimeter) && g.role.may_appoint().contains(&role))
    {
        return Err(CoreError::Forbidden);
    }
    let on = on.unwrap_or_else(today);
    if on < current.valid_from {
        return Err(CoreError::Validation(vec![FieldError::new(
            "fin",
            "la fin doit suivre le début",
        )]));
    }
    let mut tx = db.begin().await?;
    repo::end_assignment(&mut tx, id, on, Some(&by.user.id), now()).await?;
    let after = repo::find_assignment_tx(&mut tx, id)
        .await?
        .ok_or_else(|| CoreError::not_found("nomination", id))?;
    audit::record(
        &mut tx,
        &by.actor(),
        "fin-nomination",
        "nomination",
        id,
        Some(&current.audit_json()),
        Some(&after.audit_json()),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// The appointments a person may see: those on perimeters they can read, optionally
/// restricted to one perimeter and what lies below it.
pub async fn list_assignments(
    db: &Db,
    by: &Principal,
    within: Option<&Perimeter>,
) -> CoreResult<Vec<Assignment>> {
    if let Some(p) = within {
        by.check(db, Capability::Read, p, "périmètre", &p.to_string())
            .await?;
    }
    let mut out = Vec::new();
    for a in repo::all_assignments(db, None, None).await? {
        let Ok(perimeter) = Perimeter::from_parts(&a.perimeter_kind, &a.perimeter_code) else {
            continue;
        };
        if let Some(within) = within {
            let ancestors = policy::ancestors(db, &perimeter).await?;
            if !ancestors.contains(within) {
                continue;
            }
        }
        if a.user_id == by.user.id || by.can(db, Capability::Read, &perimeter).await? {
            out.push(a);
        }
    }
    Ok(out)
}

/// A person's own appointments (past and present).
pub async fn assignments_of(db: &Db, user_id: &str) -> CoreResult<Vec<Assignment>> {
    repo::assignments_of(db, user_id).await
}

/// Finds a user by e-mail (command line).
pub async fn user_by_email(db: &Db, email: &str) -> CoreResult<User> {
    let email = check_email(email)?;
    repo::find_user_by_email(db, &email)
        .await?
        .ok_or_else(|| CoreError::not_found("utilisateur", email))
}

// --- Single sign-on --------------------------------------------------------------------------

/// What the identity provider says of the person (ProConnect claims).
#[derive(Debug, Clone, Default)]
pub struct SsoIdentity {
    pub subject: String,
    pub email: String,
    pub given_name: Option<String>,
    pub usual_name: Option<String>,
    pub uid: Option<String>,
    pub siret: Option<String>,
}

/// The result of a single sign-on.
#[derive(Debug, Clone, PartialEq)]
pub enum SsoOutcome {
    /// A known, active account: signed in.
    SignedIn(User),
    /// A new person, or an account still awaiting approval: nothing granted.
    Pending(User),
    /// A disabled account.
    Refused,
}

/// Links a ProConnect identity to an account: by subject, else by (verified) e-mail; a
/// person unknown here gets an account held for an administrator's approval, with no role.
pub async fn sso_login(db: &Db, identity: &SsoIdentity) -> CoreResult<SsoOutcome> {
    let email = check_email(&identity.email)?;
    let stamp = now();
    let existing = match repo::find_user_by_subject(db, &identity.subject).await? {
        Some(u) => Some(u),
        None => repo::find_user_by_email(db, &email).await?,
    };
    let actor = Actor {
        id: None,
        label: format!("ProConnect <{email}>"),
    };
    match existing {
        Some(user) if user.status == "disabled" => Ok(SsoOutcome::Refused),
        Some(user) => {
            if user.oidc_subject.as_deref() != Some(identity.subject.as_str()) {
                let mut tx = db.begin().await?;
                repo::link_subject(
                    &mut tx,
                    &user.id,
                    &identity.subject,
                    identity.siret.as_deref(),
                    stamp,
                )
                .await?;
                audit::record(
                    &mut tx,
                    &actor,
                    "lier-proconnect",
                    "utilisateur",
                    &user.id,
                    Some(&user.audit_json()),
                    Some(&serde_json::json!({ "sujet": identity.subject, "siret": identity.siret })),
                )
                .await?;
                tx.commit().await?;
            }
            let user = repo::find_user(db, &user.id)
                .await?
                .ok_or_else(|| CoreError::not_found("utilisateur", &user.id))?;
            if user.status == "active" {
                Ok(SsoOutcome::SignedIn(user))
            } else {
                Ok(SsoOutcome::Pending(user))
            }
        }
        None => {
            let name = match (&identity.given_name, &identity.usual_name) {
                (Some(g), Some(u)) => format!("{g} {u}"),
                (Some(n), None) | (None, Some(n)) => n.clone(),
                (None, None) => email.clone(),
            };
            let id = new_id();
            let mut tx = db.begin().await?;
            repo::insert_user(
                &mut tx,
                &id,
                &email,
                &check_name(&name).unwrap_or_else(|_| email.clone()),
                None,
                "pending",
                Some(&identity.subject),
                identity.siret.as_deref(),
                stamp,
            )
            .await?;
            let user = repo::find_user_tx(&mut tx, &id)
                .await?
                .ok_or_else(|| CoreError::not_found("utilisateur", &id))?;
            audit::record(
                &mut tx,
                &actor,
                "creer-en-attente",
                "utilisateur",
                &id,
                None,
                Some(&user.audit_json()),
            )
            .await?;
            tx.commit().await?;
            Ok(SsoOutcome::Pending(user))
        }
    }
}

/// Remembers an OpenID Connect login in progress (state, nonce, PKCE verifier).
pub async fn remember_oidc_login(db: &Db, state: &str, nonce: &str, verifier: &str) -> CoreResult<()> {
    repo::insert_oidc_pending(db, state, nonce, verifier, now()).await
}

/// Takes back a login in progress by its state: good once, for ten minutes.
pub async fn take_oidc_login(db: &Db, state: &str) -> CoreResult<Option<(String, String)>> {
    let Some(row) = repo::take_oidc_pending(db, state).await? else {
        return Ok(None);
    };
    if now() - row.created_at > Duration::minutes(10) {
        return Ok(None);
    }
    Ok(Some((row.nonce, row.pkce_verifier)))
}

/// A random secret of `bytes` bytes, in hexadecimal (state, nonce, verifier).
pub fn random_secret(bytes: usize) -> CoreResult<String> {
    random_hex(bytes)
}

// --- History ----------------------------------------------------------------------------------

/// The history of one object ("Historique"), for those who may see the object.
pub async fn history(db: &Db, by: &Principal, kind: &str, id: &str) -> CoreResult<Vec<audit::AuditEntry>> {
    let visible = match kind {
        "utilisateur" => by.user.id == id || by.is_admin(),
        "jeton" => match repo::find_token(db, id).await? {
            Some(t) => t.user_id == by.user.id || by.is_admin(),
            None => false,
        },
        "nomination" => match repo::find_assignment(db, id).await? {
            Some(a) => {
                let perimeter = Perimeter::from_parts(&a.perimeter_kind, &a.perimeter_code)?;
                a.user_id == by.user.id || by.can(db, Capability::Read, &perimeter).await?
            }
            None => false,
        },
        // The national strategy's objects: whoever reads the national level.
        "strategie" | "projet-national" => by.can(db, Capability::Read, &Perimeter::National).await?,
        "declinaison" => crate::roadmap::service::get_declension(db, by, id).await.is_ok(),
        "action" => crate::roadmap::actions::get_action(db, by, id).await.is_ok(),
        "convention" | "engagement" => crate::convention::service::visible(db, by, kind, id).await?,
        "instance" | "membre" | "reunion" | "decision" | "compte-rendu" => {
            crate::governance::service::visible(db, by, kind, id).await?
        }
        _ => by.is_admin(),
    };
    if !visible {
        return Err(CoreError::not_found("objet", format!("{kind}/{id}")));
    }
    let filter = audit::AuditFilter {
        object_kind: Some(kind.to_owned()),
        object_id: Some(id.to_owned()),
        ..Default::default()
    };
    Ok(audit::list(db, &filter, 1_000, 0).await?.0)
}

/// The whole trail, filtered (administrators only).
pub async fn audit_trail(
    db: &Db,
    by: &Principal,
    filter: &audit::AuditFilter,
    limit: i64,
    offset: i64,
) -> CoreResult<(Vec<audit::AuditEntry>, i64)> {
    if !by.is_admin() {
        return Err(CoreError::Forbidden);
    }
    audit::list(db, filter, limit, offset).await
}

/// Verifies the chain of the trail (administrators only).
pub async fn verify_trail(db: &Db, by: &Principal) -> CoreResult<audit::VerifyReport> {
    if !by.is_admin() {
        return Err(CoreError::Forbidden);
    }
    audit::verify(db).await
}
