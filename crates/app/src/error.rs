//! What a use case can answer besides success. `web` renders each surface's wire format.

use portico_domain::{FieldError, Invalid};
use portico_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Fields failed validation; each is named.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The request was well formed but cannot be carried out as asked (WorkOS answers these 400).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String, errors: Vec<FieldError> },
    #[error("{entity} not found: '{id}'")]
    NotFound { entity: &'static str, id: String },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("a valid API key is required")]
    Unauthorized,
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn not_found(entity: &'static str, id: impl std::fmt::Display) -> Self {
        Error::NotFound { entity, id: id.to_string() }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Error::Conflict { code, message: message.into() }
    }

    pub fn invalid(field: &str, code: &str, message: impl Into<String>) -> Self {
        Error::Invalid(Invalid::one(field, code, message))
    }
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            // Reached only when two requests race past the checks each use case makes first.
            StoreError::Unique { index } => {
                Error::Conflict { code: "conflict", message: format!("A conflicting object already exists ({index}).") }
            }
            StoreError::ForeignKey => Error::Conflict {
                code: "conflict",
                message: "The object refers to, or is referred to by, an object that changed meanwhile.".into(),
            },
            other => Error::Internal(other.to_string()),
        }
    }
}
