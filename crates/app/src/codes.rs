//! Emailed one-time codes (Magic Auth, email verification) and secrets sealed at rest, shared by
//! the use cases that send and check them.

use crate::App;
use crate::error::{AuthError, Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use portico_domain::one_time_code::{CODE_TTL_MS, CodeRefusal, check_code, normalize_code};
use portico_domain::{Timestamp, UserId};
use portico_store::Conn;
use portico_store::one_time_codes::{OneTimeCode, Purpose};

fn internal(error: impl std::fmt::Display) -> Error {
    Error::Internal(error.to_string())
}

/// Seals a secret the API must be able to show again, bound to its row.
pub(crate) fn seal_text(app: &App, text: &str, row: &str) -> Result<String> {
    Ok(STANDARD.encode(app.sealer.seal(text.as_bytes(), row).map_err(internal)?))
}

pub(crate) fn open_text(app: &App, sealed: &str, row: &str) -> Result<String> {
    let bytes = STANDARD.decode(sealed).map_err(internal)?;
    String::from_utf8(app.sealer.open(&bytes, row).map_err(internal)?).map_err(internal)
}

/// A fresh 256-bit token (links, invitations, pending authentications).
pub(crate) fn new_token() -> Result<String> {
    portico_crypto::secret::random_token().map_err(internal)
}

/// Counts a code check against the client address's allowance (emailed codes and second factors
/// share it).
pub(crate) async fn limit_checks_from(app: &App, ip_address: Option<&str>) -> Result<()> {
    let Some(ip) = ip_address else { return Ok(()) };
    crate::rate_limits::check(app, &format!("code-check:ip:{ip}"), app.settings.code_checks_per_ip, "code attempts")
        .await
}

/// Writes a new code for `user` and returns it with its row. The newest code is the only one
/// that counts, so asking again replaces the previous one.
pub(crate) async fn issue(
    app: &App,
    conn: Conn<'_>,
    purpose: Purpose,
    id: String,
    user: &UserId,
    email: &str,
) -> Result<(OneTimeCode, String)> {
    let code = portico_crypto::secret::random_digits(6).map_err(internal)?;
    let now = app.now();
    let row = OneTimeCode {
        code_sealed: seal_text(app, &code, &id)?,
        id,
        user_id: user.to_string(),
        email: email.to_owned(),
        attempts: 0,
        created_at: now.unix_ms(),
        updated_at: now.unix_ms(),
        expires_at: now.plus_ms(CODE_TTL_MS).unix_ms(),
        used_at: None,
    };
    portico_store::one_time_codes::insert(conn, purpose, &row).await?;
    Ok((row, code))
}

/// Checks `presented` against the user's newest code and uses it up when it matches. A wrong
/// guess is counted (and committed) before the refusal is returned; each code allows a few
/// guesses, and each client address a bounded number of checks per minute.
pub(crate) async fn redeem(
    app: &App,
    purpose: Purpose,
    user: &UserId,
    presented: &str,
    ip_address: Option<&str>,
) -> Result<OneTimeCode> {
    let refused = |refusal: CodeRefusal| Error::Auth(AuthError::OneTimeCode(refusal));
    limit_checks_from(app, ip_address).await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let Some(row) = portico_store::one_time_codes::latest_for_user(tx.conn(), purpose, user).await? else {
        return Err(refused(CodeRefusal::Invalid));
    };
    let stored = open_text(app, &row.code_sealed, &row.id)?;
    let matches =
        normalize_code(presented).is_some_and(|digits| portico_crypto::secret::constant_time_eq(&digits, &stored));
    match check_code(row.used_at.is_some(), Timestamp::from_unix_ms(row.expires_at), row.attempts, now, matches) {
        Ok(()) => {
            if !portico_store::one_time_codes::mark_used(tx.conn(), &row.id, now).await? {
                return Err(refused(CodeRefusal::PreviouslyUsed));
            }
            tx.commit().await?;
            Ok(row)
        }
        Err(refusal) => {
            if refusal == CodeRefusal::Invalid {
                portico_store::one_time_codes::count_attempt(tx.conn(), &row.id, now).await?;
                tx.commit().await?;
            }
            Err(refused(refusal))
        }
    }
}

/// Counts an email with a code or link against the address's and the client's allowance.
pub(crate) async fn limit_sends(app: &App, email: &str, ip_address: Option<&str>) -> Result<()> {
    let email = email.trim().to_lowercase();
    crate::rate_limits::check(
        app,
        &format!("email-send:email:{email}"),
        app.settings.email_sends_per_email,
        "emails to this address",
    )
    .await?;
    if let Some(ip) = ip_address {
        crate::rate_limits::check(
            app,
            &format!("email-send:ip:{ip}"),
            app.settings.email_sends_per_ip,
            "emails requested from this address",
        )
        .await?;
    }
    Ok(())
}

/// What `magic_auth.created` and `email_verification.created` events carry: the object without
/// its code.
pub(crate) fn event_data(object: &str, row: &OneTimeCode) -> serde_json::Value {
    serde_json::json!({
        "object": object,
        "id": row.id,
        "user_id": row.user_id,
        "email": row.email,
        "expires_at": Timestamp::from_unix_ms(row.expires_at),
        "created_at": Timestamp::from_unix_ms(row.created_at),
        "updated_at": Timestamp::from_unix_ms(row.updated_at),
    })
}
