//! Request parsing with errors that name the problem: JSON bodies, list queries, path ids.

use super::error::ApiError;
use crate::MAX_BODY_BYTES;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use portico_app::{Order, PageRequest};
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// A JSON body. An empty body reads as `{}` (the SDKs post empty bodies to action endpoints);
/// a wrong type is a 422 naming the field; bad JSON is a 400; over 1 MiB is a 413.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, ApiError> {
        let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES).await.map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request_too_large",
                format!("The request body is larger than {} bytes.", MAX_BODY_BYTES),
            )
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!(
                "The request body is not valid JSON ({error}); send a JSON object with Content-Type: application/json."
            ),
        )
    })?;
    if !value.is_object() {
        return Err(ApiError::invalid_field("body", "body_invalid", "the request body must be a JSON object"));
    }
    serde_path_to_error::deserialize(value).map_err(|error| {
        let field = error.path().to_string();
        let field = if field == "." { "body".to_owned() } else { field };
        let inner = error.into_inner().to_string();
        let message = format!("{field} has the wrong type: {inner}");
        ApiError::invalid_field(
            &field,
            &format!("{}_invalid_type", field.split(['.', '[']).next().unwrap_or("field")),
            message,
        )
    })
}

/// The query string, keeping repeated keys. Lists accept both `a=x,y` and `a=x&a=y` (and `a[]=x`),
/// as the Node and Python SDKs send them differently.
#[derive(Debug, Default)]
pub struct Query(pub HashMap<String, Vec<String>>);

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        if let Some(query) = parts.uri.query() {
            for (key, value) in form_urlencoded::parse(query.as_bytes()) {
                let key = key.strip_suffix("[]").unwrap_or(&key).to_owned();
                map.entry(key).or_default().push(value.into_owned());
            }
        }
        Ok(Query(map))
    }
}

impl Query {
    /// A single value; empty strings count as absent (the Node SDK drops them too).
    pub fn one(&self, key: &str) -> Option<String> {
        self.0.get(key).and_then(|values| values.last()).filter(|v| !v.is_empty()).cloned()
    }

    /// Every value of a list parameter, split on commas.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.0
            .get(key)
            .into_iter()
            .flatten()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// `limit` (1–100, default 10), `before`, `after`, `order` (`desc` default, `asc`, or `normal`).
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let mut errors = Vec::new();
        let limit = match self.one("limit") {
            None => 10,
            Some(text) => match text.parse::<u32>() {
                Ok(n) if (1..=100).contains(&n) => n,
                _ => {
                    errors.push(portico_domain::FieldError::new(
                        "limit",
                        "limit_invalid",
                        "limit must be a whole number from 1 to 100",
                    ));
                    10
                }
            },
        };
        let order = match self.one("order").as_deref() {
            None | Some("desc") | Some("normal") => Order::Desc,
            Some("asc") => Order::Asc,
            Some(_) => {
                errors.push(portico_domain::FieldError::new("order", "order_invalid", "order must be asc or desc"));
                Order::Desc
            }
        };
        for key in ["before", "after"] {
            if let Some(cursor) = self.one(key)
                && (cursor.len() > 64 || !cursor.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            {
                errors.push(portico_domain::FieldError::new(
                    key,
                    &format!("{key}_invalid"),
                    format!("{key} must be an object id"),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(portico_app::Error::Invalid(portico_domain::Invalid(errors)).into());
        }
        Ok(PageRequest { limit, before: self.one("before"), after: self.one("after"), order })
    }
}
