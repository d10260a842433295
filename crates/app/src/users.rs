//! Users: create (with a password or an imported hash), read, list, update, delete.

use crate::error::{Error, Result};
use crate::input::{CreateUser, UpdateUser};
use crate::{App, events};
use portico_domain::event::names;
use portico_domain::id::check_id;
use portico_domain::user::{Identity, PasswordHashType, User, display_name, is_valid_locale, split_name};
use portico_domain::validation::{Checker, optional_text};
use portico_domain::{Email, FieldError, OrganizationId, UserId, metadata, password};
use portico_store::users::UserFilter;
use portico_store::{Page, PageRequest};

const NAME_CHARS: usize = 256;
const EXTERNAL_ID_CHARS: usize = 128;

pub(crate) fn parse_user_id(text: &str) -> Result<UserId> {
    UserId::parse(text).ok_or_else(|| Error::not_found("User", text))
}

/// How the new password arrives: in clear (hashed here) or already hashed elsewhere.
enum PasswordInput {
    Clear(String),
    Imported(String),
}

fn check_password_fields(
    checker: &mut Checker,
    password: Option<&str>,
    hash: Option<&str>,
    hash_type: Option<&str>,
    email: Option<&str>,
) -> Option<PasswordInput> {
    match (password, hash, hash_type) {
        (Some(_), Some(_), _) => {
            checker.fail("password", "password_conflict", "give either password or password_hash, not both");
            None
        }
        (Some(password), None, _) => checker
            .check(password::check_new_password("password", password, email))
            .map(|()| PasswordInput::Clear(password.to_owned())),
        (None, Some(hash), kind) => {
            let Some(kind) = kind else {
                checker.fail(
                    "password_hash_type",
                    "password_hash_type_required",
                    "password_hash_type is required with password_hash (bcrypt or argon2)",
                );
                return None;
            };
            let checked = match PasswordHashType::parse(kind) {
                Some(PasswordHashType::Bcrypt) => portico_crypto::password::check_bcrypt_hash(hash),
                Some(PasswordHashType::Argon2) => portico_crypto::password::check_argon2_hash(hash),
                None => {
                    checker.fail(
                        "password_hash_type",
                        "password_hash_type_invalid",
                        "password_hash_type must be bcrypt or argon2",
                    );
                    return None;
                }
            };
            match checked {
                Ok(()) => Some(PasswordInput::Imported(hash.to_owned())),
                Err(error) => {
                    checker.fail("password_hash", "password_hash_invalid", error.to_string());
                    None
                }
            }
        }
        (None, None, Some(_)) => {
            checker.fail(
                "password_hash",
                "password_hash_required",
                "password_hash_type was given without password_hash",
            );
            None
        }
        (None, None, None) => None,
    }
}

async fn stored_hash(app: &App, input: Option<PasswordInput>) -> Result<Option<String>> {
    Ok(match input {
        Some(PasswordInput::Clear(password)) => Some(app.passwords.hash(password).await?),
        Some(PasswordInput::Imported(hash)) => Some(hash),
        None => None,
    })
}

fn names(
    checker: &mut Checker,
    first: Option<&str>,
    last: Option<&str>,
    name: Option<&str>,
) -> (Option<String>, Option<String>) {
    let first = checker.check(optional_text("first_name", first, NAME_CHARS)).flatten();
    let last = checker.check(optional_text("last_name", last, NAME_CHARS)).flatten();
    let name = checker.check(optional_text("name", name, NAME_CHARS * 2)).flatten();
    match name {
        Some(full) if first.is_none() && last.is_none() => split_name(&full),
        _ => (first, last),
    }
}

fn email_not_available(creating: bool, field: &str, what: &str) -> Error {
    Error::BadRequest {
        code: if creating { "user_creation_error" } else { "user_update_error" },
        message: if creating { "Could not create user.".into() } else { "Could not update user.".into() },
        errors: vec![FieldError::new(
            field,
            &format!("{field}_not_available"),
            format!("This {what} is not available."),
        )],
    }
}

pub async fn create(app: &App, input: CreateUser) -> Result<User> {
    let mut checker = Checker::new();
    let email = match input.email.as_deref() {
        Some(text) => checker.check(Email::parse("email", text)),
        None => {
            checker.fail("email", "email_required", "email is required");
            None
        }
    };
    let password = check_password_fields(
        &mut checker,
        input.password.as_deref(),
        input.password_hash.as_deref(),
        input.password_hash_type.as_deref(),
        email.as_ref().map(Email::as_str),
    );
    let (first_name, last_name) =
        names(&mut checker, input.first_name.as_deref(), input.last_name.as_deref(), input.name.as_deref());
    let external_id =
        checker.check(optional_text("external_id", input.external_id.as_deref(), EXTERNAL_ID_CHARS)).flatten();
    let metadata = match &input.metadata {
        Some(value) => checker.check(metadata::check("metadata", value)),
        None => Some(Default::default()),
    };
    checker.finish()?;
    let (Some(email), Some(metadata)) = (email, metadata) else {
        return Err(Error::Internal("validated fields missing".into()));
    };

    // Hash before the transaction: it takes tens of milliseconds and must not hold the writer.
    let password_hash = stored_hash(app, password).await?;
    let now = app.now();
    let user = User {
        id: app.new_id(),
        email,
        email_verified: input.email_verified.unwrap_or(false),
        name: display_name(first_name.as_deref(), last_name.as_deref()),
        first_name,
        last_name,
        profile_picture_url: None,
        last_sign_in_at: None,
        locale: None,
        external_id,
        metadata,
        created_at: now,
        updated_at: now,
    };
    let mut tx = app.db.begin().await?;
    if portico_store::users::get_by_email(tx.conn(), &user.email).await?.is_some() {
        return Err(email_not_available(true, "email", "email"));
    }
    if let Some(external_id) = &user.external_id
        && portico_store::users::get_by_external_id(tx.conn(), external_id).await?.is_some()
    {
        return Err(email_not_available(true, "external_id", "external_id"));
    }
    portico_store::users::insert(tx.conn(), &user, password_hash.as_deref())
        .await
        .map_err(|e| unique_to_user_error(e, true))?;
    events::record(app, tx.conn(), names::USER_CREATED, &user, None).await?;
    tx.commit().await?;
    Ok(user)
}

fn unique_to_user_error(error: portico_store::StoreError, creating: bool) -> Error {
    match &error {
        portico_store::StoreError::Unique { index } if index == "uq_users_email" => {
            email_not_available(creating, "email", "email")
        }
        portico_store::StoreError::Unique { index } if index == "uq_users_external_id" => {
            email_not_available(creating, "external_id", "external_id")
        }
        _ => error.into(),
    }
}

pub async fn get(app: &App, id: &str) -> Result<User> {
    let user_id = parse_user_id(id)?;
    let mut reader = app.db.read().await?;
    portico_store::users::get(reader.conn(), &user_id).await?.ok_or_else(|| Error::not_found("User", id))
}

pub async fn get_by_external_id(app: &App, external_id: &str) -> Result<User> {
    let mut reader = app.db.read().await?;
    portico_store::users::get_by_external_id(reader.conn(), external_id)
        .await?
        .ok_or_else(|| Error::not_found("User", external_id))
}

/// Filters of `GET /user_management/users`, as received.
#[derive(Debug, Default, Clone)]
pub struct UserQuery {
    pub email: Option<String>,
    pub organization_id: Option<String>,
}

pub async fn list(app: &App, query: &UserQuery, page: &PageRequest) -> Result<Page<User>> {
    let mut checker = Checker::new();
    let email = query.email.as_deref().and_then(|text| checker.check(Email::parse("email", text)));
    let organization_id = query
        .organization_id
        .as_deref()
        .and_then(|text| checker.check(check_id::<OrganizationId>("organization_id", text)));
    checker.finish()?;
    let mut reader = app.db.read().await?;
    Ok(portico_store::users::list(reader.conn(), &UserFilter { email, organization_id }, page).await?)
}

pub async fn update(app: &App, id: &str, input: UpdateUser) -> Result<User> {
    let user_id = parse_user_id(id)?;
    let mut checker = Checker::new();
    let email = input.email.as_deref().and_then(|text| checker.check(Email::parse("email", text)));
    let password = check_password_fields(
        &mut checker,
        input.password.as_deref(),
        input.password_hash.as_deref(),
        input.password_hash_type.as_deref(),
        email.as_ref().map(Email::as_str),
    );
    let first = match &input.first_name {
        crate::input::Patch::Value(text) => checker.check(optional_text("first_name", Some(text), NAME_CHARS)),
        _ => None,
    };
    let last = match &input.last_name {
        crate::input::Patch::Value(text) => checker.check(optional_text("last_name", Some(text), NAME_CHARS)),
        _ => None,
    };
    let full_name = checker.check(optional_text("name", input.name.as_deref(), NAME_CHARS * 2)).flatten();
    let external_id = match &input.external_id {
        crate::input::Patch::Value(text) => {
            checker.check(optional_text("external_id", Some(text), EXTERNAL_ID_CHARS)).flatten()
        }
        _ => None,
    };
    if let crate::input::Patch::Value(locale) = &input.locale
        && !is_valid_locale(locale)
    {
        checker.fail("locale", "locale_invalid", "locale must be a language tag such as en or en-US");
    }
    checker.finish()?;

    let password_hash = stored_hash(app, password).await?;
    let mut tx = app.db.begin().await?;
    let mut user = portico_store::users::get(tx.conn(), &user_id).await?.ok_or_else(|| Error::not_found("User", id))?;
    if let Some(email) = email
        && email != user.email
    {
        if portico_store::users::get_by_email(tx.conn(), &email).await?.is_some() {
            return Err(email_not_available(false, "email", "email"));
        }
        user.email = email;
        user.email_verified = false;
    }
    if let Some(verified) = input.email_verified {
        user.email_verified = verified;
    }
    match (&input.first_name, &input.last_name, full_name) {
        (f, l, Some(full)) if f.is_absent() && l.is_absent() => {
            let (first, last) = split_name(&full);
            user.first_name = first;
            user.last_name = last;
        }
        _ => {
            user.first_name = match input.first_name {
                crate::input::Patch::Value(_) => first.flatten(),
                other => other.apply(user.first_name.take()),
            };
            user.last_name = match input.last_name {
                crate::input::Patch::Value(_) => last.flatten(),
                other => other.apply(user.last_name.take()),
            };
        }
    }
    user.name = display_name(user.first_name.as_deref(), user.last_name.as_deref());
    match input.external_id {
        crate::input::Patch::Absent => {}
        crate::input::Patch::Null => user.external_id = None,
        crate::input::Patch::Value(_) => {
            if let Some(text) = &external_id
                && external_id != user.external_id
                && portico_store::users::get_by_external_id(tx.conn(), text).await?.is_some()
            {
                return Err(email_not_available(false, "external_id", "external_id"));
            }
            user.external_id = external_id;
        }
    }
    user.locale = input.locale.apply(user.locale.take());
    if let Some(update) = &input.metadata {
        user.metadata = metadata::merge("metadata", &user.metadata, update).map_err(|e| Error::Invalid(e.into()))?;
    }
    user.updated_at = app.now();
    portico_store::users::update(tx.conn(), &user).await.map_err(|e| unique_to_user_error(e, false))?;
    if let Some(hash) = &password_hash {
        portico_store::users::set_password_hash(tx.conn(), &user.id, hash, user.updated_at).await?;
    }
    events::record(app, tx.conn(), names::USER_UPDATED, &user, None).await?;
    tx.commit().await?;
    Ok(user)
}

/// Deletes a user and their memberships, writing an event for each.
pub async fn delete(app: &App, id: &str) -> Result<()> {
    let user_id = parse_user_id(id)?;
    let mut tx = app.db.begin().await?;
    let user = portico_store::users::get(tx.conn(), &user_id).await?.ok_or_else(|| Error::not_found("User", id))?;
    let memberships = portico_store::memberships::all_for(tx.conn(), Some(&user_id), None).await?;
    let active = portico_store::sessions::active_for_user(tx.conn(), &user_id).await?;
    crate::sessions::end_all(app, tx.conn(), active, "user_deleted").await?;
    portico_store::users::delete(tx.conn(), &user_id).await?;
    for membership in &memberships {
        events::record(app, tx.conn(), names::MEMBERSHIP_DELETED, membership, Some(&membership.organization_id))
            .await?;
    }
    events::record(app, tx.conn(), names::USER_DELETED, &user, None).await?;
    tx.commit().await?;
    Ok(())
}

/// External identities linked to the user. Portico links none until social and SSO sign-in exist,
/// so the list is empty for every existing user.
pub async fn identities(app: &App, id: &str) -> Result<Vec<Identity>> {
    get(app, id).await?;
    Ok(Vec::new())
}
