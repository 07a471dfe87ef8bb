//! Who is calling: the session cookie or the bearer token, turned into a core
//! [`Principal`]. The checks themselves are made by the core services.

pub mod api;
pub mod oidc;
pub mod pages;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use gouvernail_core::CoreError;
use gouvernail_core::identity::Principal;
use gouvernail_core::identity::service;

use crate::error::ApiError;
use crate::state::AppState;

/// The session cookie: `__Host-` (Secure, Path=/, no Domain), HttpOnly, SameSite=Lax.
pub const SESSION_COOKIE: &str = "__Host-gouvernail_session";

/// The value of a cookie of the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The `Set-Cookie` header that opens a session.
pub fn session_cookie(secret: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={secret}; Path=/; Secure; HttpOnly; SameSite=Lax"
    ))
    .ok()
}

/// The `Set-Cookie` header that removes the session cookie.
pub fn clear_session_cookie() -> HeaderValue {
    HeaderValue::from_static("__Host-gouvernail_session=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// Resolves the caller: a bearer token first, else the session cookie.
pub async fn resolve(parts: &Parts, state: &AppState) -> Result<Option<Principal>, CoreError> {
    if let Some(value) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let Some(token) = value.strip_prefix("Bearer ").map(str::trim) else {
            return Ok(None);
        };
        return service::token_principal(&state.db, token).await;
    }
    match cookie(&parts.headers, SESSION_COOKIE) {
        Some(secret) if !secret.is_empty() => service::session_principal(&state.db, secret).await,
        _ => Ok(None),
    }
}

/// The caller, who may be anonymous.
pub struct MaybeUser(pub Option<Principal>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(MaybeUser(resolve(parts, state).await?))
    }
}

/// An authenticated caller; anonymous requests get 401 with the JSON envelope.
pub struct User(pub Principal);

impl FromRequestParts<AppState> for User {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        resolve(parts, state)
            .await?
            .map(User)
            .ok_or(ApiError(CoreError::Unauthenticated))
    }
}
