//! Portico's use cases. The only crate that combines the domain rules, storage, cryptography and
//! the outbound ports (clock, randomness, DNS). Every change runs in one transaction that also
//! writes its event.

pub mod api_keys;
pub mod authenticate;
pub mod authorization;
pub mod authorize;
pub mod bootstrap;
pub mod branding;
pub mod clients;
mod codes;
mod context;
pub mod dns;
pub mod email_verification;
pub mod error;
pub mod events;
pub mod i18n;
pub mod idempotency;
pub mod input;
pub mod invitations;
pub mod keys;
pub mod magic_auth;
pub mod mail;
pub mod maintenance;
pub mod memberships;
pub mod mfa;
pub mod organization_domains;
pub mod organizations;
pub mod passkey_page;
pub mod passkeys;
pub mod password_resets;
pub mod passwords;
pub mod permissions;
pub mod policies;
pub mod ports;
mod qr;
pub mod rate_limits;
pub mod roles;
pub mod sessions;
pub mod users;

pub use context::{App, AppSettings, SecretKey};
pub use error::{AuthError, Error, Result};
pub use portico_store::{Db, Engine, Order, Page, PageRequest};
