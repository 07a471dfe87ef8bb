//! The one error type of the core, and its stable machine codes.
//!
//! Every service returns [`CoreError`]. The web edge maps it to an HTTP status and a JSON
//! envelope (or an error page); the CLI prints it. Internal details (SQL text, driver
//! messages) are logged, never shown to users.

use std::fmt;

/// One problem with one input field (or one line of an imported file).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The field (or column) that is wrong, as the user named it.
    pub field: String,
    /// What is wrong, in French, for a person.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The error of every core operation.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The object does not exist, or the caller may not know it exists.
    #[error("{entity} introuvable : {id}")]
    NotFound { entity: &'static str, id: String },
    /// The input is malformed (an identifier that cannot be one, a bad parameter).
    #[error("requête invalide : {}", fmt_fields(.0))]
    BadRequest(Vec<FieldError>),
    /// The input is well formed but breaks a rule of the domain.
    #[error("données invalides : {}", fmt_fields(.0))]
    Validation(Vec<FieldError>),
    /// No valid session or token.
    #[error("authentification requise")]
    Unauthenticated,
    /// Signed in, allowed to see the object, not allowed to do this.
    #[error("action non autorisée")]
    Forbidden,
    /// A concurrent change or a uniqueness rule prevents the operation.
    #[error("conflit : {0}")]
    Conflict(String),
    /// Configuration is wrong (bad database URL, missing setting).
    #[error("configuration : {0}")]
    Config(String),
    /// The database failed.
    #[error("erreur de base de données : {0}")]
    Db(#[from] sqlx::Error),
    /// A migration failed.
    #[error("erreur de migration : {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Anything else that is our fault.
    #[error("erreur interne : {0}")]
    Internal(String),
}

fn fmt_fields(fields: &[FieldError]) -> String {
    fields
        .iter()
        .map(|f| format!("{} : {}", f.field, f.message))
        .collect::<Vec<_>>()
        .join(" ; ")
}

impl CoreError {
    /// A stable snake_case code for programs (the API's `error.code`).
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::NotFound { .. } => "not_found",
            CoreError::BadRequest(_) => "bad_request",
            CoreError::Validation(_) => "validation_failed",
            CoreError::Conflict(_) => "conflict",
            CoreError::Unauthenticated => "unauthenticated",
            CoreError::Forbidden => "forbidden",
            CoreError::Config(_) => "configuration",
            CoreError::Db(_) | CoreError::Migrate(_) | CoreError::Internal(_) => "internal",
        }
    }

    /// Shorthand for a malformed parameter.
    pub fn bad_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        CoreError::BadRequest(vec![FieldError::new(field, message)])
    }

    /// Shorthand for an object that was not found.
    pub fn not_found(entity: &'static str, id: impl fmt::Display) -> Self {
        CoreError::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    /// The field errors carried by this error, if any.
    pub fn fields(&self) -> &[FieldError] {
        match self {
            CoreError::BadRequest(f) | CoreError::Validation(f) => f,
            _ => &[],
        }
    }

    /// True when the error is the server's fault (to be logged, and hidden from users).
    pub fn is_internal(&self) -> bool {
        self.code() == "internal"
    }
}

/// The result of every core operation.
pub type CoreResult<T> = Result<T, CoreError>;
