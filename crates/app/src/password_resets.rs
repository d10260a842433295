//! Password resets: a link by email, good once for thirty minutes. Asking for a reset never says
//! whether the address has an account (the hosted page answers the same either way).

use crate::codes;
use crate::error::{AuthError, Error, Result};
use crate::mail::{self, Content};
use crate::{App, events};
use portico_domain::event::names;
use portico_domain::one_time_code::{PASSWORD_RESET_TTL_MS, PasswordReset};
use portico_domain::user::User;
use portico_domain::{Email, PasswordResetId, Timestamp, UserId, password};
use portico_store::password_resets::PasswordReset as ResetRow;

/// Where the link in the email points: Portico's hosted reset page.
pub fn reset_url(app: &App, token: &str) -> String {
    format!("{}/reset-password?token={token}", app.public_url())
}

fn to_object(app: &App, row: &ResetRow) -> Result<PasswordReset> {
    let token = codes::open_text(app, &row.token_sealed, &row.id)?;
    Ok(PasswordReset {
        id: PasswordResetId::from_trusted(row.id.clone()),
        user_id: UserId::from_trusted(row.user_id.clone()),
        email: Email::parse("email", &row.email).map_err(|_| Error::Internal("stored email is invalid".into()))?,
        password_reset_url: reset_url(app, &token),
        password_reset_token: token,
        expires_at: Timestamp::from_unix_ms(row.expires_at),
        created_at: Timestamp::from_unix_ms(row.created_at),
    })
}

/// Creates a reset for `email` and emails the link. `None` when no account has that address:
/// the API answers 404 as WorkOS does; the hosted page says the same thing in both cases.
pub async fn create(
    app: &App,
    email: &str,
    lang: Option<&str>,
    ip_address: Option<&str>,
) -> Result<Option<PasswordReset>> {
    let email = Email::parse("email", email).map_err(|e| Error::Invalid(e.into()))?;
    codes::limit_sends(app, email.as_str(), ip_address).await?;
    send_link(app, &email, lang.unwrap_or("en")).await
}

async fn send_link(app: &App, email: &Email, lang: &str) -> Result<Option<PasswordReset>> {
    let mut reader = app.db.read().await?;
    let user = portico_store::users::get_by_email(reader.conn(), email).await?;
    drop(reader);
    let Some(user) = user else { return Ok(None) };
    let token = codes::new_token()?;
    let now = app.now();
    let id = app.new_id::<PasswordResetId>().to_string();
    let row = ResetRow {
        token_sealed: codes::seal_text(app, &token, &id)?,
        id,
        user_id: user.id.to_string(),
        email: email.as_str().to_owned(),
        created_at: now.unix_ms(),
        expires_at: now.plus_ms(PASSWORD_RESET_TTL_MS).unix_ms(),
        used_at: None,
    };
    let url = reset_url(app, &token);
    let mut tx = app.db.begin().await?;
    portico_store::password_resets::insert(tx.conn(), &row, &portico_crypto::secret::sha256_hex(&token)).await?;
    let lang = user.locale.as_deref().unwrap_or(lang);
    mail::enqueue(app, tx.conn(), email.as_str(), lang, &Content::PasswordReset { url: &url }).await?;
    let event = serde_json::json!({"object": "password_reset", "id": row.id, "user_id": user.id, "email": email,
        "expires_at": Timestamp::from_unix_ms(row.expires_at), "created_at": Timestamp::from_unix_ms(row.created_at)});
    events::record(app, tx.conn(), names::PASSWORD_RESET_CREATED, &event, None).await?;
    tx.commit().await?;
    to_object(app, &row).map(Some)
}

/// The hosted "forgot password" form: checks the rate limits, then looks the address up and
/// sends the link after answering, so that the answer and its timing are the same for every
/// address.
pub async fn request(app: &App, email: &str, lang: &str, ip_address: Option<&str>) -> Result<()> {
    let email = Email::parse("email", email).map_err(|e| Error::Invalid(e.into()))?;
    codes::limit_sends(app, email.as_str(), ip_address).await?;
    let app = app.clone();
    let lang = lang.to_owned();
    tokio::spawn(async move {
        if let Err(error) = send_link(&app, &email, &lang).await {
            tracing::error!(%error, "sending a password reset link failed");
        }
    });
    Ok(())
}

pub async fn get(app: &App, id: &str) -> Result<PasswordReset> {
    let mut reader = app.db.read().await?;
    let row = portico_store::password_resets::get(reader.conn(), id)
        .await?
        .ok_or_else(|| Error::not_found("PasswordReset", id))?;
    drop(reader);
    to_object(app, &row)
}

/// The address a live reset link is for (the hosted page shows it before asking for a
/// password); `None` when the link is unknown, used or expired.
pub async fn usable_for(app: &App, token: &str) -> Result<Option<String>> {
    let mut reader = app.db.read().await?;
    let row = portico_store::password_resets::find_by_token(reader.conn(), &portico_crypto::secret::sha256_hex(token))
        .await?;
    Ok(row.filter(|r| r.used_at.is_none() && r.expires_at > app.now().unix_ms()).map(|r| r.email))
}

/// Sets a new password with a reset token. The token is used up, the email counts as verified
/// (the person read it), and every session of the user ends: whoever knew the old password is
/// signed out.
pub async fn confirm(app: &App, token: &str, new_password: &str) -> Result<User> {
    let invalid = || Error::Auth(AuthError::InvalidGrant("The password reset token is invalid or has expired.".into()));
    let mut reader = app.db.read().await?;
    let row = portico_store::password_resets::find_by_token(reader.conn(), &portico_crypto::secret::sha256_hex(token))
        .await?
        .filter(|r| r.used_at.is_none() && r.expires_at > app.now().unix_ms())
        .ok_or_else(invalid)?;
    let user = portico_store::users::get(reader.conn(), &UserId::from_trusted(row.user_id.clone()))
        .await?
        .ok_or_else(invalid)?;
    drop(reader);
    password::check_new_password("new_password", new_password, Some(user.email.as_str()))
        .map_err(|e| Error::Invalid(e.into()))?;
    let hash = app.passwords.hash(new_password.to_owned()).await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if !portico_store::password_resets::mark_used(tx.conn(), &row.id, now).await? {
        return Err(invalid());
    }
    portico_store::users::set_password_hash(tx.conn(), &user.id, &hash, now).await?;
    portico_store::users::set_email_verified(tx.conn(), &user.id, now).await?;
    let user = User { email_verified: true, updated_at: now, ..user };
    let event = serde_json::json!({"object": "password_reset", "id": row.id, "user_id": user.id, "email": user.email,
        "expires_at": Timestamp::from_unix_ms(row.expires_at), "created_at": Timestamp::from_unix_ms(row.created_at)});
    events::record(app, tx.conn(), names::PASSWORD_RESET_SUCCEEDED, &event, None).await?;
    let active = portico_store::sessions::active_for_user(tx.conn(), &user.id).await?;
    crate::sessions::end_all(app, tx.conn(), active, "password_reset").await?;
    tx.commit().await?;
    Ok(user)
}
