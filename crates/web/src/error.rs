//! How core errors become HTTP answers: one JSON envelope for the API, one error page for
//! people. A 5xx is logged with its cause and answered with a generic message.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gouvernail_core::{CoreError, FieldError};
use serde::Serialize;
use utoipa::ToSchema;

/// The error envelope of every API answer that is not a success.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong, for programs (`code`) and people (`message`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable machine code: `not_found`, `bad_request`, `validation_failed`, `conflict`,
    /// `unauthenticated`, `forbidden`, `internal`.
    pub code: String,
    /// A sentence in French.
    pub message: String,
    /// The fields (parameters, columns) at fault, if any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldErrorBody>,
}

/// One field at fault.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorBody {
    pub field: String,
    pub message: String,
}

impl From<&FieldError> for FieldErrorBody {
    fn from(f: &FieldError) -> Self {
        Self {
            field: f.field.clone(),
            message: f.message.clone(),
        }
    }
}

/// The HTTP status of a core error.
pub fn status_of(error: &CoreError) -> StatusCode {
    match error {
        CoreError::NotFound { .. } => StatusCode::NOT_FOUND,
        CoreError::BadRequest(_) => StatusCode::BAD_REQUEST,
        CoreError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
        CoreError::Conflict(_) => StatusCode::CONFLICT,
        CoreError::Unauthenticated => StatusCode::UNAUTHORIZED,
        CoreError::Forbidden => StatusCode::FORBIDDEN,
        CoreError::Config(_) | CoreError::Db(_) | CoreError::Migrate(_) | CoreError::Internal(_) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// The message shown for an error: the error's own for user errors, a generic sentence
/// for ours (whose cause goes to the log only).
pub fn public_message(error: &CoreError) -> String {
    if error.is_internal() || matches!(error, CoreError::Config(_)) {
        tracing::error!(error = %error, "internal error while serving a request");
        "Une erreur interne est survenue ; elle a été enregistrée.".to_owned()
    } else {
        error.to_string()
    }
}

/// An API failure, answered as the JSON envelope.
#[derive(Debug)]
pub struct ApiError(pub CoreError);

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        ApiError(e)
    }
}

impl ApiError {
    /// A 400 for a parameter that could not be read at all.
    pub fn bad_request(field: &str, message: impl Into<String>) -> Self {
        ApiError(CoreError::bad_request(field, message))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(&self.0);
        let body = ErrorBody {
            error: ErrorDetail {
                code: if matches!(self.0, CoreError::Config(_)) {
                    "internal".to_owned()
                } else {
                    self.0.code().to_owned()
                },
                message: public_message(&self.0),
                fields: self.0.fields().iter().map(FieldErrorBody::from).collect(),
            },
        };
        (status, Json(body)).into_response()
    }
}

/// The answer of an API handler.
pub type ApiResult<T> = Result<T, ApiError>;
