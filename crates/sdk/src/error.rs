//! What can go wrong when the SDK calls Portico.

use crate::token::TokenError;
use serde::de::DeserializeOwned;

/// An error from a call to Portico, or from the SDK's own checks.
///
/// ```no_run
/// # async fn demo(portico: portico_sdk::Portico) -> Result<(), portico_sdk::Error> {
/// use portico_sdk::Error;
///
/// match portico.management()?.get_user("user_01H…").await {
///     Ok(user) => println!("{}", user.display_name()),
///     Err(Error::Api { status: 404, .. }) => println!("no such user"),
///     Err(Error::Http(reason)) => println!("Portico is unreachable: {reason}"),
///     Err(other) => return Err(other),
/// }
/// # Ok(()) }
/// ```
///
/// A [`TokenError`] converts into it, so `?` works on [`crate::Portico::verify`] too:
///
/// ```
/// use portico_sdk::{Error, TokenError};
///
/// let error: Error = TokenError::Expired.into();
/// assert!(matches!(error, Error::Token(TokenError::Expired)));
/// assert_eq!(error.to_string(), "the access token has expired");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Portico answered with an error: its HTTP status, its error `code` (WorkOS codes such as
    /// `invalid_grant`, `entity_not_found`, `invalid_request_parameters`) and message.
    #[error("Portico answered {status}: {message}")]
    Api {
        status: u16,
        code: Option<String>,
        message: String,
        /// The whole error body, for the fields a code carries (`errors`, `pending_authentication_token`…).
        body: serde_json::Value,
    },
    /// Portico could not be reached, or its answer could not be read.
    #[error("could not talk to Portico: {0}")]
    Http(String),
    /// A token Portico issued did not verify (for example the JWKS could not be loaded).
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The SDK is configured wrongly for this call.
    #[error("{0}")]
    Config(String),
}

impl Error {
    /// The WorkOS-style error code Portico answered with, if any.
    ///
    /// ```
    /// use portico_sdk::Error;
    ///
    /// let error = Error::Api {
    ///     status: 400,
    ///     code: Some("invalid_grant".into()),
    ///     message: "the code has expired or was already used".into(),
    ///     body: serde_json::json!({"code": "invalid_grant", "message": "the code has expired or was already used"}),
    /// };
    /// assert_eq!(error.code(), Some("invalid_grant"));
    /// assert_eq!(Error::Http("connection refused".into()).code(), None);
    /// ```
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status Portico answered with, if it answered.
    ///
    /// ```
    /// use portico_sdk::Error;
    ///
    /// let error = Error::Api {
    ///     status: 404,
    ///     code: Some("entity_not_found".into()),
    ///     message: "no organization org_01H…".into(),
    ///     body: serde_json::Value::Null,
    /// };
    /// assert_eq!(error.status(), Some(404));
    /// assert_eq!(Error::Config("this call needs the API key".into()).status(), None);
    /// ```
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl From<reqwest::Error> for Error {
    fn from(error: reqwest::Error) -> Self {
        Error::Http(error.to_string())
    }
}

/// Reads a JSON answer, turning an error status into [`Error::Api`].
pub(crate) async fn read_json<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, Error> {
    let status = response.status();
    let bytes = response.bytes().await?;
    if !status.is_success() {
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        let code = body["code"].as_str().or_else(|| body["error"].as_str()).map(str::to_owned);
        let message = body["message"]
            .as_str()
            .or_else(|| body["error_description"].as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
        return Err(Error::Api { status: status.as_u16(), code, message, body });
    }
    serde_json::from_slice(&bytes).map_err(|e| Error::Http(format!("unexpected answer from Portico: {e}")))
}

/// Checks an answer without a body worth reading.
pub(crate) async fn read_empty(response: reqwest::Response) -> Result<(), Error> {
    if response.status().is_success() {
        return Ok(());
    }
    read_json::<serde_json::Value>(response).await.map(|_| ())
}
