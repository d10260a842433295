//! End-to-end tests of the HTTP API against a real Portico, on SQLite, or on PostgreSQL when
//! `TEST_DATABASE_URL` is set. One binary, modules mirroring the API's.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

mod authenticate;
mod authorization;
mod email;
mod errors;
mod events;
mod hosted;
mod idempotency;
mod memberships;
mod ops;
mod organization_domains;
mod organizations;
mod pagination;
mod passkeys;
mod policies;
mod roles;
mod users;
