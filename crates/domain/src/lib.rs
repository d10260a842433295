//! Portico's identity model: typed ids, timestamps, validated values and the objects of the
//! WorkOS-compatible API. Pure: no IO, no async, no SQL, no HTTP.
//!
//! The objects serialize to exactly the JSON the WorkOS SDKs read (see `docs/api.md`), because the
//! same shapes are stored in event payloads and returned by the API.

pub mod auth_factor;
pub mod client;
pub mod email;
pub mod event;
pub mod id;
pub mod invitation;
pub mod membership;
pub mod metadata;
pub mod one_time_code;
pub mod organization;
pub mod organization_domain;
pub mod passkey;
pub mod password;
pub mod permission;
pub mod policy;
pub mod role;
pub mod session;
pub mod slug;
pub mod timestamp;
pub mod user;
pub mod validation;

pub use email::Email;
pub use id::*;
pub use timestamp::Timestamp;
pub use validation::{FieldError, Invalid};
