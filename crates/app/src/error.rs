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
    /// An authentication flow answer: a refused grant or a step the user must take first.
    #[error("{0}")]
    Auth(#[from] AuthError),
    /// Too many requests; try again after `retry_after_seconds`.
    #[error("{message}")]
    RateLimited { retry_after_seconds: u64, message: String },
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

/// How `POST /user_management/authenticate` refuses, or asks for one more step. The web layer
/// renders each in the family the WorkOS SDKs expect.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// RFC 6749 `invalid_request`: a required parameter is missing or malformed.
    #[error("{0}")]
    InvalidRequest(String),
    /// RFC 6749 `invalid_client`: unknown client, or a client secret that is not a valid API key.
    #[error("{0}")]
    InvalidClient(String),
    /// RFC 6749 `invalid_grant`: a code or refresh token that is unknown, expired, used or revoked.
    #[error("{0}")]
    InvalidGrant(String),
    #[error("unsupported grant_type {0}")]
    UnsupportedGrantType(String),
    /// Wrong email or password; the same answer whether or not the account exists.
    #[error("Invalid email or password.")]
    InvalidCredentials,
    #[error("The pending authentication token is invalid, expired or already used.")]
    InvalidPendingAuthenticationToken,
    /// The user is not an active member of the organization asked for.
    #[error("{0}")]
    OrganizationMembershipNotFound(String),
    /// An emailed code was refused (wrong, expired, used, or tried too often).
    #[error("{}", .0.message())]
    OneTimeCode(portico_domain::one_time_code::CodeRefusal),
    /// The user must prove their email address; a code was sent.
    #[error("Email ownership must be verified before authentication.")]
    EmailVerificationRequired {
        pending_authentication_token: String,
        email: String,
        email_verification_id: String,
        user: Box<portico_domain::user::User>,
    },
    /// The invitation cannot be used: unknown, expired, revoked, accepted, or for another email.
    #[error("{0}")]
    InvitationInvalid(String),
    /// A second-factor code or challenge was refused: a wrong code, an expired, spent or
    /// over-tried challenge, or another user's challenge.
    #[error("{message}")]
    SecondFactor { code: &'static str, message: String },
    /// A second factor is required and the user has none: enroll one, then verify with it.
    #[error("The user must enroll a second factor to finish their authentication.")]
    MfaEnrollment { pending_authentication_token: String, user: Box<portico_domain::user::User> },
    /// The user must verify with one of their second factors.
    #[error("The user must verify with their second factor to finish their authentication.")]
    MfaChallenge {
        pending_authentication_token: String,
        user: Box<portico_domain::user::User>,
        /// `(id, type)` of the factors they can use.
        factors: Vec<(String, &'static str)>,
    },
    /// The organization's policy refuses the sign-in (method, network, session limits).
    #[error("{message}")]
    PolicyRefused { code: &'static str, message: String, email: String, allowed_methods: Option<Vec<&'static str>> },
    /// A refresh the policy stops: OAuth-style `error` (`mfa_enrollment`, `invalid_grant`,
    /// `access_denied`), so the SDKs end or keep the session as they do for those codes.
    #[error("{message}")]
    RefreshRefused { error: &'static str, message: String },
    /// The user belongs to several organizations and must pick one.
    #[error("The user must choose an organization to finish their authentication.")]
    OrganizationSelectionRequired {
        pending_authentication_token: String,
        user: Box<portico_domain::user::User>,
        organizations: Vec<(String, String)>,
    },
}
