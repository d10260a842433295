//! `metadata`: a small string-to-string map that integrators attach to users and organizations.

use crate::validation::FieldError;
use std::collections::BTreeMap;

pub type Metadata = BTreeMap<String, String>;

pub const MAX_KEYS: usize = 10;
pub const MAX_KEY_CHARS: usize = 40;
pub const MAX_VALUE_CHARS: usize = 600;

/// Checks a full metadata map as given on create.
pub fn check(field: &str, value: &serde_json::Value) -> Result<Metadata, FieldError> {
    let map = value.as_object().ok_or_else(|| {
        FieldError::new(field, "metadata_invalid", format!("{field} must be an object of string values"))
    })?;
    let mut out = Metadata::new();
    for (key, value) in map {
        let text = value
            .as_str()
            .ok_or_else(|| FieldError::new(field, "metadata_invalid", format!("{field}.{key} must be a string")))?;
        out.insert(key.clone(), text.to_owned());
    }
    check_limits(field, &out)?;
    Ok(out)
}

/// Applies an update: string values set a key, `null` removes it (WorkOS semantics).
pub fn merge(field: &str, current: &Metadata, update: &serde_json::Value) -> Result<Metadata, FieldError> {
    let map = update.as_object().ok_or_else(|| {
        FieldError::new(field, "metadata_invalid", format!("{field} must be an object of string or null values"))
    })?;
    let mut out = current.clone();
    for (key, value) in map {
        match value {
            serde_json::Value::Null => {
                out.remove(key);
            }
            serde_json::Value::String(text) => {
                out.insert(key.clone(), text.clone());
            }
            _ => {
                return Err(FieldError::new(
                    field,
                    "metadata_invalid",
                    format!("{field}.{key} must be a string or null"),
                ));
            }
        }
    }
    check_limits(field, &out)?;
    Ok(out)
}

fn check_limits(field: &str, map: &Metadata) -> Result<(), FieldError> {
    if map.len() > MAX_KEYS {
        return Err(FieldError::new(
            field,
            "metadata_too_many_keys",
            format!("{field} may hold at most {MAX_KEYS} keys"),
        ));
    }
    for (key, value) in map {
        if key.is_empty() || key.chars().count() > MAX_KEY_CHARS {
            return Err(FieldError::new(
                field,
                "metadata_key_invalid",
                format!("{field} keys must be 1 to {MAX_KEY_CHARS} characters"),
            ));
        }
        if value.chars().count() > MAX_VALUE_CHARS {
            return Err(FieldError::new(
                field,
                "metadata_value_too_long",
                format!("{field}.{key} must be at most {MAX_VALUE_CHARS} characters"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_sets_and_removes() {
        let current = check("metadata", &json!({"a": "1", "b": "2"})).unwrap();
        let merged = merge("metadata", &current, &json!({"a": null, "c": "3"})).unwrap();
        assert_eq!(merged.len(), 2);
        assert_eq!(merged["c"], "3");
        assert!(!merged.contains_key("a"));
    }

    #[test]
    fn rejects_non_strings_and_too_many_keys() {
        assert!(check("metadata", &json!({"a": 1})).is_err());
        assert!(check("metadata", &json!(["a"])).is_err());
        let many: serde_json::Map<String, serde_json::Value> = (0..11).map(|i| (format!("k{i}"), json!("v"))).collect();
        assert!(check("metadata", &serde_json::Value::Object(many)).is_err());
    }
}
