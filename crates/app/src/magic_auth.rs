//! Magic Auth: sign in with a six-digit code sent by email. Asking for a code for an address
//! with no account creates the user (unverified until the code is used), as WorkOS does.

use crate::codes;
use crate::error::{Error, Result};
use crate::mail::{self, Content};
use crate::sessions::Origin;
use crate::{App, events};
use portico_domain::event::names;
use portico_domain::one_time_code::MagicAuth;
use portico_domain::user::User;
use portico_domain::{Email, MagicAuthId, Timestamp};
use portico_store::one_time_codes::{OneTimeCode, Purpose};

fn to_object(app: &App, row: &OneTimeCode) -> Result<MagicAuth> {
    Ok(MagicAuth {
        id: MagicAuthId::from_trusted(row.id.clone()),
        user_id: portico_domain::UserId::from_trusted(row.user_id.clone()),
        email: Email::parse("email", &row.email).map_err(|_| Error::Internal("stored email is invalid".into()))?,
        code: codes::open_text(app, &row.code_sealed, &row.id)?,
        expires_at: Timestamp::from_unix_ms(row.expires_at),
        created_at: Timestamp::from_unix_ms(row.created_at),
        updated_at: Timestamp::from_unix_ms(row.updated_at),
    })
}

/// Finds the user with `email`, or creates one with no password and an unverified address.
pub(crate) async fn find_or_create_user(app: &App, email: &Email) -> Result<User> {
    let mut reader = app.db.read().await?;
    if let Some(user) = portico_store::users::get_by_email(reader.conn(), email).await? {
        return Ok(user);
    }
    drop(reader);
    let input = crate::input::CreateUser { email: Some(email.as_str().to_owned()), ..Default::default() };
    match crate::users::create(app, input).await {
        Ok(user) => Ok(user),
        // Created by a concurrent request meanwhile: use that one.
        Err(Error::BadRequest { .. }) => {
            let mut reader = app.db.read().await?;
            portico_store::users::get_by_email(reader.conn(), email)
                .await?
                .ok_or_else(|| Error::Internal("user vanished after a conflicting create".into()))
        }
        Err(other) => Err(other),
    }
}

/// Sends a sign-in code to `email` and returns the Magic Auth object (with the code, for the
/// app's own email delivery, as WorkOS does).
pub async fn create(app: &App, email: &str, lang: Option<&str>, origin: &Origin) -> Result<MagicAuth> {
    let email = Email::parse("email", email).map_err(|e| Error::Invalid(e.into()))?;
    codes::limit_sends(app, email.as_str(), origin.ip_address.as_deref()).await?;
    let user = find_or_create_user(app, &email).await?;
    let id = app.new_id::<MagicAuthId>().to_string();
    let mut tx = app.db.begin().await?;
    let (row, code) = codes::issue(app, tx.conn(), Purpose::MagicAuth, id, &user.id, email.as_str()).await?;
    let lang = lang.or(user.locale.as_deref()).unwrap_or("en");
    mail::enqueue(app, tx.conn(), email.as_str(), lang, &Content::MagicCode { code: &code }).await?;
    let event = codes::event_data("magic_auth", &row);
    events::record(app, tx.conn(), names::MAGIC_AUTH_CREATED, &event, None).await?;
    tx.commit().await?;
    to_object(app, &row)
}

pub async fn get(app: &App, id: &str) -> Result<MagicAuth> {
    let mut reader = app.db.read().await?;
    let row = portico_store::one_time_codes::get(reader.conn(), Purpose::MagicAuth, id)
        .await?
        .ok_or_else(|| Error::not_found("MagicAuth", id))?;
    drop(reader);
    to_object(app, &row)
}

/// Checks a Magic Auth code for `email`: the user it proves, with the email now verified.
/// Unknown addresses get the same answer as wrong codes.
pub(crate) async fn redeem(app: &App, email: &str, code: &str, origin: &Origin) -> Result<User> {
    let invalid = || Error::Auth(crate::AuthError::OneTimeCode(portico_domain::one_time_code::CodeRefusal::Invalid));
    let Ok(email) = Email::parse("email", email) else { return Err(invalid()) };
    let mut reader = app.db.read().await?;
    let user = portico_store::users::get_by_email(reader.conn(), &email).await?;
    drop(reader);
    let outcome = match &user {
        Some(user) => {
            codes::redeem(app, Purpose::MagicAuth, &user.id, code, origin.ip_address.as_deref()).await.map(|_| ())
        }
        None => Err(invalid()),
    };
    let succeeded = outcome.is_ok();
    let mut tx = app.db.begin().await?;
    let name =
        if succeeded { names::AUTHENTICATION_MAGIC_AUTH_SUCCEEDED } else { names::AUTHENTICATION_MAGIC_AUTH_FAILED };
    let mut data = serde_json::json!({"type": "magic_auth", "status": if succeeded {"succeeded"} else {"failed"},
        "user_id": user.as_ref().map(|u| u.id.to_string()), "email": email, "ip_address": origin.ip_address,
        "user_agent": origin.user_agent});
    if let Err(Error::Auth(refusal)) = &outcome {
        data["error"] = crate::events::auth_error_data(refusal);
    }
    events::record(app, tx.conn(), name, &data, None).await?;
    tx.commit().await?;
    outcome?;
    let user = user.ok_or_else(invalid)?;
    crate::email_verification::mark_verified(app, user).await
}
