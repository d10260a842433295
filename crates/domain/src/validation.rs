//! Field-level validation errors. A request with bad input gets every bad field named at once.

use serde::Serialize;

/// One bad field: which one, a machine-readable code, and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    #[serde(skip)]
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, code: &str, message: impl Into<String>) -> Self {
        FieldError { field: field.to_owned(), code: code.to_owned(), message: message.into() }
    }
}

/// The input was rejected; each entry names a field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    pub fn one(field: &str, code: &str, message: impl Into<String>) -> Self {
        Invalid(vec![FieldError::new(field, code, message)])
    }
}

impl From<FieldError> for Invalid {
    fn from(error: FieldError) -> Self {
        Invalid(vec![error])
    }
}

/// Collects field errors while a request is checked, so all of them are reported together.
#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    pub fn new() -> Self {
        Checker::default()
    }

    pub fn push(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    pub fn fail(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, code, message));
    }

    /// Records the error of a fallible check and keeps its value when it succeeded.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.errors.push(error);
                None
            }
        }
    }

    /// Like `check`, for several errors at once.
    pub fn check_all<T>(&mut self, result: Result<T, Invalid>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(Invalid(errors)) => {
                self.errors.extend(errors);
                None
            }
        }
    }

    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn finish(self) -> Result<(), Invalid> {
        if self.errors.is_empty() { Ok(()) } else { Err(Invalid(self.errors)) }
    }
}

/// Trims a free-text field and bounds its length; empty becomes `None`.
pub fn optional_text(field: &str, value: Option<&str>, max_chars: usize) -> Result<Option<String>, FieldError> {
    let Some(value) = value else { return Ok(None) };
    let trimmed = value.trim();
    if trimmed.chars().count() > max_chars {
        return Err(FieldError::new(
            field,
            &format!("{field}_too_long"),
            format!("{field} must be at most {max_chars} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            &format!("{field}_invalid"),
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(if trimmed.is_empty() { None } else { Some(trimmed.to_owned()) })
}

/// Like `optional_text`, for fields that must be present and not blank.
pub fn required_text(field: &str, value: Option<&str>, max_chars: usize) -> Result<String, FieldError> {
    optional_text(field, value, max_chars)?
        .ok_or_else(|| FieldError::new(field, &format!("{field}_required"), format!("{field} is required")))
}
