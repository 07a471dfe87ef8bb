//! All the SQL of identity: accounts, role assignments, sessions, tokens, throttling and
//! OpenID Connect logins in progress.

use time::{Date, OffsetDateTime};

use crate::db::{Db, Sql, Tx, Value};
use crate::error::CoreResult;

use super::model::{ApiToken, Assignment, Organisation, User};

const USER_COLUMNS: &str =
    "id, email, display_name, status, oidc_subject, siret, erased_at, version, created_at, updated_at";

const ASSIGNMENT_COLUMNS: &str = "r.id, r.user_id, u.email AS user_email, u.display_name AS user_name, r.role, \
     r.perimeter_kind, r.perimeter_code, r.valid_from, r.valid_until, r.granted_by, r.ended_by";

pub async fn find_user(db: &Db, id: &str) -> CoreResult<Option<User>> {
    db.fetch_optional(Sql::new(&format!("SELECT {USER_COLUMNS} FROM app_user WHERE id = ")).bind(id))
        .await
}

pub async fn find_user_tx(tx: &mut Tx, id: &str) -> CoreResult<Option<User>> {
    tx.fetch_optional(Sql::new(&format!("SELECT {USER_COLUMNS} FROM app_user WHERE id = ")).bind(id))
        .await
}

pub async fn find_user_by_email(db: &Db, email: &str) -> CoreResult<Option<User>> {
    db.fetch_optional(Sql::new(&format!("SELECT {USER_COLUMNS} FROM app_user WHERE email = ")).bind(email))
        .await
}

pub async fn find_user_by_subject(db: &Db, subject: &str) -> CoreResult<Option<User>> {
    db.fetch_optional(
        Sql::new(&format!(
            "SELECT {USER_COLUMNS} FROM app_user WHERE oidc_subject = "
        ))
        .bind(subject),
    )
    .await
}

#[derive(sqlx::FromRow)]
struct HashRow {
    password_hash: Option<String>,
}

pub async fn password_hash(db: &Db, id: &str) -> CoreResult<Option<String>> {
    let row: Option<HashRow> = db
        .fetch_optional(Sql::new("SELECT password_hash FROM app_user WHERE id = ").bind(id))
        .await?;
    Ok(row.and_then(|r| r.password_hash))
}

pub async fn list_users(db: &Db, status: Option<&str>) -> CoreResult<Vec<User>> {
    let mut q = Sql::new(&format!("SELECT {USER_COLUMNS} FROM app_user WHERE 1 = 1"));
    if let Some(status) = status {
        q.push_mut(" AND status = ");
        q.bind_mut(status);
    }
    q.push_mut(" ORDER BY email");
    db.fetch_all(q).await
}

#[expect(clippy::too_many_arguments, reason = "one column each")]
pub async fn insert_user(
    tx: &mut Tx,
    id: &str,
    email: &str,
    display_name: &str,
    password_hash: Option<&str>,
    status: &str,
    oidc_subject: Option<&str>,
    siret: Option<&str>,
    now: OffsetDateTime,
) -> CoreResult<()> {
    tx.execute(
        Sql::new(
            "INSERT INTO app_user (id, email, display_name, password_hash, status, oidc_subject, siret, version, \
             created_at, updated_at) VALUES ",
        )
        .bind_tuple([
            Value::from(id),
            email.into(),
            display_name.into(),
            password_hash.into(),
            status.into(),
            oidc_subject.into(),
            siret.into(),
            1_i64.into(),
            now.into(),
            now.into(),
        ]),
    )
    .await?;
    Ok(())
}

/// Updates the name and status if the row is still at `version`; returns false otherwise.
pub async fn update_user(
    tx: &mut Tx,
    id: &str,
    version: i64,
    display_name: &str,
    status: &str,
    now: OffsetDateTime,
) -> CoreResult<bool> {
    let n = tx
        .execute(
            Sql::new("UPDATE app_user SET display_name = ")
                .bind(display_name)
                .push(", status = ")
                .bind(status)
                .push(", version = version + 1, updated_at = ")
                .bind(now)
                .push(" WHERE id = ")
                .bind(id)
                .push(" AND version = ")
                .bind(version),
        )
        .await?;
    Ok(n == 1)
}

pub async fn set_password(tx: &mut Tx, id: &str, hash: &str, now: OffsetDateTime) -> CoreResult<()> {
    tx.execute(
        Sql::new("UPDATE app_user SET password_hash = ")
            .bind(hash)
            .push(", version = version + 1, updated_at = ")
            .bind(now)
            .push(" WHERE id = ")
            .bind(id),
    )
    .await?;
    Ok(())
}

pub async fn link_subject(
    tx: &mut Tx,
    id: &str,
    subject: &str,
    siret: Option<&str>,
    now: OffsetDateTime,
) -> CoreResult<()> {
    tx.execute(
        Sql::new("UPDATE app_user SET oidc_subject = ")
            .bind(subject)
            .push(", siret = COALESCE(")
            .bind(siret)
            .push(", siret), version = version + 1, updated_at = ")
            .bind(now)
            .push(" WHERE id = ")
            .bind(id),
    )
    .await?;
    Ok(())
}

pub async fn erase_user(tx: &mut Tx, id: &str, pseudonym: &str, now: OffsetDateTime) -> CoreResult<()> {
    tx.execute(
        Sql::new("UPDATE app_user SET email = ")
            .bind(format!("{pseudonym}@efface.invalid"))
            .push(", display_name = ")
            .bind(pseudonym)
            .push(", password_hash = NULL, oidc_subject = NULL, siret = NULL, status = 'disabled', erased_at = ")
            .bind(now)
            .push(", version = version + 1, updated_at = ")
            .bind(now)
            .push(" WHERE id = ")
            .bind(id),
    )
    .await?;
    Ok(())
}

pub async fn delete_sessions_of(tx: &mut Tx, user_id: &str) -> CoreResult<u64> {
    tx.execute(Sql::new("DELETE FROM user_session WHERE user_id = ").bind(user_id))
        .await
}

pub async fn revoke_tokens_of(tx: &mut Tx, user_id: &str, now: OffsetDateTime) -> CoreResult<u64> {
    tx.execute(
        Sql::new("UPDATE api_token SET revoked_at = ")
            .bind(now)
            .push(" WHERE revoked_at IS NULL AND user_id = ")
            .bind(user_id),
    )
    .await
}

// --- Role assignments -------------------------------------------------------------------

pub async fn assignments_of(db: &Db, user_id: &str) -> CoreResult<Vec<Assignment>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM role_assignment r JOIN app_user u ON u.id = r.user_id WHERE r.user_id = "
        ))
        .bind(user_id)
        .push(" ORDER BY r.valid_from, r.role"),
    )
    .await
}

pub async fn all_assignments(db: &Db, kind: Option<&str>, code: Option<&str>) -> CoreResult<Vec<Assignment>> {
    let mut q = Sql::new(&format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM role_assignment r JOIN app_user u ON u.id = r.user_id WHERE 1 = 1"
    ));
    if let Some(kind) = kind {
        q.push_mut(" AND r.perimeter_kind = ");
        q.bind_mut(kind);
    }
    if let Some(code) = code {
        q.push_mut(" AND r.perimeter_code = ");
        q.bind_mut(code);
    }
    q.push_mut(" ORDER BY r.perimeter_kind, r.perimeter_code, r.role, u.email");
    db.fetch_all(q).await
}

pub async fn find_assignment_tx(tx: &mut Tx, id: &str) -> CoreResult<Option<Assignment>> {
    tx.fetch_optional(
        Sql::new(&format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM role_assignment r JOIN app_user u ON u.id = r.user_id WHERE r.id = "
        ))
        .bind(id),
    )
    .await
}

pub async fn find_assignment(db: &Db, id: &str) -> CoreResult<Option<Assignment>> {
    db.fetch_optional(
        Sql::new(&format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM role_assignment r JOIN app_user u ON u.id = r.user_id WHERE r.id = "
        ))
        .bind(id),
    )
    .await
}

#[expect(clippy::too_many_arguments, reason = "one column each")]
pub async fn insert_assignment(
    tx: &mut Tx,
    id: &str,
    user_id: &str,
    role: &str,
    kind: &str,
    code: &str,
    from: Date,
    until: Option<Date>,
    granted_by: Option<&str>,
    now: OffsetDateTime,
) -> CoreResult<()> {
    tx.execute(
        Sql::new(
            "INSERT INTO role_assignment (id, user_id, role, perimeter_kind, perimeter_code, valid_from, valid_until, \
             granted_by, created_at, updated_at) VALUES ",
        )
        .bind_tuple([
            Value::from(id),
            user_id.into(),
            role.into(),
            kind.into(),
            code.into(),
            from.into(),
            until.into(),
            granted_by.into(),
            now.into(),
            now.into(),
        ]),
    )
    .await?;
    Ok(())
}

pub async fn end_assignment(
    tx: &mut Tx,
    id: &str,
    on: Date,
    by: Option<&str>,
    now: OffsetDateTime,
) -> CoreResult<()> {
    tx.execute(
        Sql::new("UPDATE role_assignment SET valid_until = ")
            .bind(on)
            .push(", ended_by = ")
            .bind(by)
            .push(", updated_at = ")
            .bind(now)
            .push(" WHERE id = ")
            .bind(id),
    )
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
pub struct GrantRow {
    pub role: String,
    pub perimeter_kind: String,
    pub perimeter_code: String,
    pub valid_until: Option<Date>,
}

pub async fn grants_in_force(db: &Db, user_id: &str, day: Date) -> CoreResult<Vec<GrantRow>> {
    db.fetch_all(
        Sql::new(
            "SELECT role, perimeter_kind, perimeter_code, valid_until FROM role_assignment WHERE user_id = ",
        )
        .bind(user_id)
        .push(" AND valid_from <= ")
        .bind(day)
        .push(" AND (valid_until IS NULL OR valid_until > ")
        .bind(day)
        .push(")"),
    )
    .await
}

// --- Sessions -------------------------------------------------------------------------------

#[derive(sqlx::FromRow)]
pub struct SessionRow {
    pub user_id: String,
    pub last_seen_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

pub async fn insert_session(
    db: &Db,
    id_hash: &str,
    user_id: &str,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> CoreResult<()> {
    db.execute(
        Sql::new("INSERT INTO user_session (id_hash, user_id, created_at, last_seen_at, expires_at) VALUES ")
            .bind_tuple([
                Value::from(id_hash),
                user_id.into(),
                now.into(),
                now.into(),
                expires_at.into(),
            ]),
    )
    .await?;
    Ok(())
}

pub async fn find_session(db: &Db, id_hash: &str) -> CoreResult<Option<SessionRow>> {
    db.fetch_optional(
        Sql::new("SELECT user_id, last_seen_at, expires_at FROM user_session WHERE id_hash = ").bind(id_hash),
    )
    .await
}

pub async fn touch_session(db: &Db, id_hash: &str, now: OffsetDateTime) -> CoreResult<()> {
    db.execute(
        Sql::new("UPDATE user_session SET last_seen_at = ")
            .bind(now)
            .push(" WHERE id_hash = ")
            .bind(id_hash),
    )
    .await?;
    Ok(())
}

pub async fn delete_session(db: &Db, id_hash: &str) -> CoreResult<u64> {
    db.execute(Sql::new("DELETE FROM user_session WHERE id_hash = ").bind(id_hash))
        .await
}

// --- Tokens ---------------------------------------------------------------------------------

const TOKEN_COLUMNS: &str = "id, user_id, name, read_only, expires_at, revoked_at, last_used_at, created_at";

pub async fn insert_token(tx: &mut Tx, token: &ApiToken, token_hash: &str) -> CoreResult<()> {
    tx.execute(
        Sql::new(
            "INSERT INTO api_token (id, user_id, name, token_hash, read_only, expires_at, created_at) VALUES ",
        )
        .bind_tuple([
            Value::from(token.id.as_str()),
            token.user_id.as_str().into(),
            token.name.as_str().into(),
            token_hash.into(),
            token.read_only.into(),
            token.expires_at.into(),
            token.created_at.into(),
        ]),
    )
    .await?;
    Ok(())
}

pub async fn find_token_by_hash(db: &Db, token_hash: &str) -> CoreResult<Option<ApiToken>> {
    db.fetch_optional(
        Sql::new(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_token WHERE token_hash = "
        ))
        .bind(token_hash),
    )
    .await
}

pub async fn find_token(db: &Db, id: &str) -> CoreResult<Option<ApiToken>> {
    db.fetch_optional(Sql::new(&format!("SELECT {TOKEN_COLUMNS} FROM api_token WHERE id = ")).bind(id))
        .await
}

pub async fn tokens_of(db: &Db, user_id: &str) -> CoreResult<Vec<ApiToken>> {
    db.fetch_all(
        Sql::new(&format!("SELECT {TOKEN_COLUMNS} FROM api_token WHERE user_id = "))
            .bind(user_id)
            .push(" ORDER BY created_at DESC"),
    )
    .await
}

pub async fn revoke_token(tx: &mut Tx, id: &str, now: OffsetDateTime) -> CoreResult<()> {
    tx.execute(
        Sql::new("UPDATE api_token SET revoked_at = ")
            .bind(now)
            .push(" WHERE revoked_at IS NULL AND id = ")
            .bind(id),
    )
    .await?;
    Ok(())
}

pub async fn touch_token(db: &Db, id: &str, now: OffsetDateTime) -> CoreResult<()> {
    db.execute(
        Sql::new("UPDATE api_token SET last_used_at = ")
            .bind(now)
            .push(" WHERE id = ")
            .bind(id),
    )
    .await?;
    Ok(())
}

// --- Throttling -----------------------------------------------------------------------------

pub async fn count_failures(db: &Db, subject: &str, since: OffsetDateTime) -> CoreResult<i64> {
    db.fetch_scalar_i64(
        Sql::new("SELECT COUNT(*) FROM login_failure WHERE subject = ")
            .bind(subject)
            .push(" AND at >= ")
            .bind(since),
    )
    .await
}

pub async fn record_failure(db: &Db, subject: &str, now: OffsetDateTime) -> CoreResult<()> {
    db.execute(
        Sql::new("INSERT INTO login_failure (subject, at) VALUES ")
            .bind_tuple([Value::from(subject), now.into()]),
    )
    .await?;
    Ok(())
}

pub async fn clear_failures(db: &Db, subject: &str) -> CoreResult<()> {
    db.execute(Sql::new("DELETE FROM login_failure WHERE subject = ").bind(subject))
        .await?;
    Ok(())
}

// --- OpenID Connect logins in progress -------------------------------------------------------

pub async fn insert_oidc_pending(
    db: &Db,
    state: &str,
    nonce: &str,
    verifier: &str,
    now: OffsetDateTime,
) -> CoreResult<()> {
    db.execute(
        Sql::new("INSERT INTO oidc_pending (state, nonce, pkce_verifier, created_at) VALUES ").bind_tuple([
            Value::from(state),
            nonce.into(),
            verifier.into(),
            now.into(),
        ]),
    )
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
pub struct OidcPendingRow {
    pub nonce: String,
    pub pkce_verifier: String,
    pub created_at: OffsetDateTime,
}

/// Takes (reads and deletes) a login in progress: each `state` is good once.
pub async fn take_oidc_pending(db: &Db, state: &str) -> CoreResult<Option<OidcPendingRow>> {
    db.fetch_optional(
        Sql::new("DELETE FROM oidc_pending WHERE state = ")
            .bind(state)
            .push(" RETURNING nonce, pkce_verifier, created_at"),
    )
    .await
}

// --- Organisations ---------------------------------------------------------------------------

pub async fn find_organisation(db: &Db, id: &str) -> CoreResult<Option<Organisation>> {
    db.fetch_optional(Sql::new("SELECT id, nom, kind, siren FROM organisation WHERE id = ").bind(id))
        .await
}

pub async fn list_organisations(db: &Db) -> CoreResult<Vec<Organisation>> {
    db.fetch_all(Sql::new(
        "SELECT id, nom, kind, siren FROM organisation ORDER BY nom",
    ))
    .await
}

pub async fn upsert_organisation(tx: &mut Tx, org: &Organisation, now: OffsetDateTime) -> CoreResult<()> {
    tx.execute(
        Sql::new("INSERT INTO organisation (id, nom, kind, siren, created_at, updated_at) VALUES ")
            .bind_tuple([
                Value::from(org.id.as_str()),
                org.nom.as_str().into(),
                org.kind.as_str().into(),
                org.siren.as_deref().into(),
                now.into(),
                now.into(),
            ])
            .push(" ON CONFLICT (id) DO UPDATE SET nom = excluded.nom, kind = excluded.kind, siren = excluded.siren, updated_at = excluded.updated_at"),
    )
    .await?;
    Ok(())
}
