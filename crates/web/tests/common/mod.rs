//! What several HTTP test files share: API tokens for test accounts.
#![allow(dead_code, reason = "each test binary uses its part of these helpers")]

use gouvernail_core::audit::Actor;
use gouvernail_core::db::Db;
use gouvernail_core::identity::service::{self, NewAssignment};
use gouvernail_core::identity::{Perimeter, Role};

pub type E = Box<dyn std::error::Error>;

/// A ten-day API token for the account `user_id`.
pub async fn token_for(db: &Db, user_id: &str) -> Result<String, E> {
    let expires = time::OffsetDateTime::now_utc().date() + time::Duration::days(10);
    Ok(
        service::create_token(db, &Actor::cli(), user_id, "test", false, expires)
            .await?
            .1,
    )
}

/// Creates the account `email` with `role` on `perimeter` (if any) since 2020, and returns an
/// API token for it.
pub async fn new_account_token(db: &Db, email: &str, role: Option<(Role, &str)>) -> Result<String, E> {
    let user = service::create_user(db, &Actor::cli(), email, email, None).await?;
    if let Some((role, perimeter)) = role {
        service::grant_role(
            db,
            None,
            &NewAssignment {
                user_id: user.id.clone(),
                role,
                perimeter: Perimeter::parse(perimeter)?,
                from: time::macros::date!(2020 - 01 - 01),
                until: None,
            },
        )
        .await?;
    }
    token_for(db, &user.id).await
}
