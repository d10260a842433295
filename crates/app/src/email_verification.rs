//! Email verification: a six-digit code proves that a user reads the address on their account.

use crate::codes;
use crate::error::{Error, Result};
use crate::mail::{self, Content};
use crate::{App, events};
use portico_domain::event::names;
use portico_domain::one_time_code::EmailVerification;
use portico_domain::user::User;
use portico_domain::{Email, EmailVerificationId, Timestamp, UserId};
use portico_store::Conn;
use portico_store::one_time_codes::{OneTimeCode, Purpose};

fn to_object(app: &App, row: &OneTimeCode) -> Result<EmailVerification> {
    Ok(EmailVerification {
        id: EmailVerificationId::from_trusted(row.id.clone()),
        user_id: UserId::from_trusted(row.user_id.clone()),
        email: Email::parse("email", &row.email).map_err(|_| Error::Internal("stored email is invalid".into()))?,
        code: codes::open_text(app, &row.code_sealed, &row.id)?,
        expires_at: Timestamp::from_unix_ms(row.expires_at),
        created_at: Timestamp::from_unix_ms(row.created_at),
        updated_at: Timestamp::from_unix_ms(row.updated_at),
    })
}

/// Writes a verification code for `user` and its email, inside the caller's transaction.
pub(crate) async fn issue(app: &App, conn: Conn<'_>, user: &User, lang: Option<&str>) -> Result<EmailVerificationId> {
    let id = app.new_id::<EmailVerificationId>();
    let mut conn = conn;
    let (row, code) =
        codes::issue(app, conn.reborrow(), Purpose::EmailVerification, id.to_string(), &user.id, user.email.as_str())
            .await?;
    let lang = lang.or(user.locale.as_deref()).unwrap_or("en");
    mail::enqueue(app, conn.reborrow(), user.email.as_str(), lang, &Content::VerificationCode { code: &code }).await?;
    let event = codes::event_data("email_verification", &row);
    events::record(app, conn, names::EMAIL_VERIFICATION_CREATED, &event, None).await?;
    Ok(id)
}

/// Sends a fresh verification code (`POST /user_management/users/{id}/email_verification/send`).
pub async fn send(app: &App, user_id: &str, ip_address: Option<&str>) -> Result<User> {
    let user = crate::users::get(app, user_id).await?;
    codes::limit_sends(app, user.email.as_str(), ip_address).await?;
    let mut tx = app.db.begin().await?;
    issue(app, tx.conn(), &user, None).await?;
    tx.commit().await?;
    Ok(user)
}

/// Marks the user's email verified (no-op when it already is).
pub(crate) async fn mark_verified(app: &App, mut user: User) -> Result<User> {
    if user.email_verified {
        return Ok(user);
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    portico_store::users::set_email_verified(tx.conn(), &user.id, now).await?;
    user.email_verified = true;
    user.updated_at = now;
    events::record(app, tx.conn(), names::USER_UPDATED, &user, None).await?;
    tx.commit().await?;
    Ok(user)
}

/// Checks a code for `user` and marks the email verified.
pub(crate) async fn redeem(app: &App, user: User, code: &str, ip_address: Option<&str>) -> Result<User> {
    codes::redeem(app, Purpose::EmailVerification, &user.id, code, ip_address).await?;
    let user = mark_verified(app, user).await?;
    let mut tx = app.db.begin().await?;
    let data = serde_json::json!({"type": "email_verification", "status": "succeeded", "user_id": user.id,
        "email": user.email, "ip_address": ip_address, "user_agent": null});
    events::record(app, tx.conn(), names::AUTHENTICATION_EMAIL_VERIFICATION_SUCCEEDED, &data, None).await?;
    tx.commit().await?;
    Ok(user)
}

/// `POST /user_management/users/{id}/email_verification/confirm`.
pub async fn confirm(app: &App, user_id: &str, code: &str, ip_address: Option<&str>) -> Result<User> {
    let user = crate::users::get(app, user_id).await?;
    redeem(app, user, code, ip_address).await
}

pub async fn get(app: &App, id: &str) -> Result<EmailVerification> {
    let mut reader = app.db.read().await?;
    let row = portico_store::one_time_codes::get(reader.conn(), Purpose::EmailVerification, id)
        .await?
        .ok_or_else(|| Error::not_found("EmailVerification", id))?;
    drop(reader);
    to_object(app, &row)
}
