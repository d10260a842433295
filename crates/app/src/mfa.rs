//! Second factors: TOTP enrollment, challenges and their verification (the WorkOS auth-factor
//! API), the checks the hosted pages make, and recovery codes.
//!
//! A factor counts for sign-in once a code from it was accepted; until then it is an enrollment
//! in progress. Each 30-second step's code is accepted once per factor.

use crate::error::{AuthError, Error, Result};
use crate::sessions::Origin;
use crate::users::parse_user_id;
use crate::{App, codes, events};
use portico_domain::auth_factor::{AuthChallenge, AuthFactor, Totp, otpauth_uri};
use portico_domain::event::names;
use portico_domain::user::User;
use portico_domain::{AuthChallengeId, AuthFactorId, Timestamp, UserId};
use portico_store::auth_factors::{ChallengeRow, FactorRow};
use serde::Deserialize;

/// How long a challenge can be answered.
const CHALLENGE_TTL_MS: i64 = 10 * 60 * 1000;
/// Wrong codes a challenge takes before it is spent.
const CHALLENGE_ATTEMPTS: i64 = 5;
/// Recovery codes issued at enrollment; each works once.
pub const RECOVERY_CODE_COUNT: usize = 10;
const TOTP: &str = "totp";

/// `POST /user_management/users/{id}/auth_factors`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollRequest {
    #[serde(rename = "type")]
    pub factor_type: Option<String>,
    /// The name the authenticator app shows (the product name by default).
    pub totp_issuer: Option<String>,
    /// The account the app shows (the user's email by default).
    pub totp_user: Option<String>,
    /// A base32 secret to import instead of a new one (migrating from another system).
    pub totp_secret: Option<String>,
}

fn refused(code: &'static str, message: &str) -> Error {
    Error::Auth(AuthError::SecondFactor { code, message: message.to_owned() })
}

fn invalid_code() -> Error {
    refused("invalid_one_time_code", "The code is not valid for this factor.")
}

fn factor_view(row: &FactorRow) -> AuthFactor {
    AuthFactor {
        id: AuthFactorId::from_trusted(row.id.clone()),
        factor_type: TOTP,
        user_id: UserId::from_trusted(row.user_id.clone()),
        totp: Totp { issuer: row.issuer.clone(), user: row.account.clone(), secret: None, qr_code: None, uri: None },
        created_at: Timestamp::from_unix_ms(row.created_at),
        updated_at: Timestamp::from_unix_ms(row.updated_at),
    }
}

fn challenge_view(row: &ChallengeRow) -> AuthChallenge {
    AuthChallenge {
        id: AuthChallengeId::from_trusted(row.id.clone()),
        authentication_factor_id: AuthFactorId::from_trusted(row.factor_id.clone()),
        expires_at: Timestamp::from_unix_ms(row.expires_at),
        code: None,
        created_at: Timestamp::from_unix_ms(row.created_at),
        updated_at: Timestamp::from_unix_ms(row.updated_at),
    }
}

fn secret_of(app: &App, row: &FactorRow) -> Result<Vec<u8>> {
    let text = codes::open_text(app, &row.secret_sealed, &row.id)?;
    portico_crypto::totp::base32_decode(&text).ok_or_else(|| Error::Internal(format!("factor {} secret", row.id)))
}

async fn user_or_404(app: &App, user_id: &str) -> Result<User> {
    let id = parse_user_id(user_id)?;
    let mut reader = app.db.read().await?;
    portico_store::users::get(reader.conn(), &id).await?.ok_or_else(|| Error::not_found("User", user_id))
}

/// Creates a TOTP factor (not yet counting for sign-in), with a first challenge when asked, in
/// one transaction; returns it with its secret, QR code and URI, which are shown this once.
pub(crate) async fn new_totp_factor(
    app: &App,
    user: &User,
    issuer: &str,
    account: &str,
    secret: Vec<u8>,
    with_challenge: bool,
) -> Result<(AuthFactor, Option<AuthChallenge>)> {
    let now = app.now();
    let id = AuthFactorId::from_ulid(app.ids.next_ulid(now)).to_string();
    let encoded = portico_crypto::totp::base32_encode(&secret);
    let row = FactorRow {
        secret_sealed: codes::seal_text(app, &encoded, &id)?,
        id,
        user_id: user.id.to_string(),
        factor_type: TOTP.into(),
        issuer: issuer.to_owned(),
        account: account.to_owned(),
        last_used_step: None,
        verified_at: None,
        created_at: now.unix_ms(),
        updated_at: now.unix_ms(),
    };
    // Everything that can fail runs before the write, so a failure leaves nothing behind.
    let uri = otpauth_uri(issuer, account, &encoded);
    let mut view = factor_view(&row);
    view.totp.qr_code = Some(crate::qr::png_data_url(&uri).map_err(Error::Internal)?);
    view.totp.secret = Some(encoded);
    view.totp.uri = Some(uri);
    let challenge = with_challenge.then(|| challenge_row(app, &row.id));
    let mut tx = app.db.begin().await?;
    portico_store::auth_factors::insert_factor(tx.conn(), &row).await?;
    if let Some(challenge) = &challenge {
        portico_store::auth_factors::insert_challenge(tx.conn(), challenge).await?;
    }
    tx.commit().await?;
    Ok((view, challenge.as_ref().map(challenge_view)))
}

pub async fn enroll(app: &App, user_id: &str, request: EnrollRequest) -> Result<(AuthFactor, AuthChallenge)> {
    let mut checker = portico_domain::validation::Checker::new();
    match request.factor_type.as_deref() {
        Some(TOTP) => {}
        Some(other) => {
            checker.fail("type", "unsupported_factor_type", format!("'{other}' is not supported; use totp."))
        }
        None => checker.fail("type", "type_required", "type is required (totp)."),
    }
    let issuer = checker
        .check(portico_domain::validation::optional_text("totp_issuer", request.totp_issuer.as_deref(), 100))
        .flatten();
    let account = checker
        .check(portico_domain::validation::optional_text("totp_user", request.totp_user.as_deref(), 256))
        .flatten();
    let imported = match request.totp_secret.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => match portico_crypto::totp::base32_decode(text).filter(|bytes| bytes.len() >= 10) {
            Some(bytes) => Some(bytes),
            None => {
                checker.fail("totp_secret", "invalid_totp_secret", "totp_secret must be base32 of at least 80 bits.");
                None
            }
        },
        None => None,
    };
    checker.finish()?;
    let user = user_or_404(app, user_id).await?;
    let secret = match imported {
        Some(bytes) => bytes,
        None => portico_crypto::totp::new_secret().map_err(|e| Error::Internal(e.to_string()))?,
    };
    let issuer = issuer.unwrap_or_else(|| app.settings.branding.product_name.clone());
    let account = account.unwrap_or_else(|| user.email.as_str().to_owned());
    match new_totp_factor(app, &user, &issuer, &account, secret, true).await? {
        (factor, Some(challenge)) => Ok((factor, challenge)),
        (_, None) => Err(Error::Internal("enrollment without its challenge".into())),
    }
}

pub async fn list(app: &App, user_id: &str) -> Result<Vec<AuthFactor>> {
    let user = user_or_404(app, user_id).await?;
    let mut reader = app.db.read().await?;
    let rows = portico_store::auth_factors::list_for_user(reader.conn(), &user.id).await?;
    Ok(rows.iter().map(factor_view).collect())
}

async fn factor_row(app: &App, factor_id: &str) -> Result<FactorRow> {
    let mut reader = app.db.read().await?;
    portico_store::auth_factors::get_factor(reader.conn(), factor_id)
        .await?
        .ok_or_else(|| Error::not_found("Authentication factor", factor_id))
}

pub async fn get(app: &App, factor_id: &str) -> Result<AuthFactor> {
    Ok(factor_view(&factor_row(app, factor_id).await?))
}

/// Removes a factor. With its last verified factor gone, the user's recovery codes go too.
pub async fn delete(app: &App, factor_id: &str) -> Result<()> {
    let row = factor_row(app, factor_id).await?;
    remove(app, &row).await
}

/// Removes one of `user`'s factors (the passkeys page: the user's own, never another's).
pub(crate) async fn delete_for(app: &App, user: &UserId, factor_id: &str) -> Result<()> {
    let not_theirs =
        || Error::invalid("factor_id", "factor_not_found", "That authenticator app is not on your account.");
    match factor_row(app, factor_id).await {
        Ok(row) if row.user_id == user.as_str() => remove(app, &row).await,
        Ok(_) | Err(Error::NotFound { .. }) => Err(not_theirs()),
        Err(other) => Err(other),
    }
}

async fn remove(app: &App, row: &FactorRow) -> Result<()> {
    let factor_id = row.id.as_str();
    let user = UserId::from_trusted(row.user_id.clone());
    let mut tx = app.db.begin().await?;
    if !portico_store::auth_factors::delete_factor(tx.conn(), &row.id).await? {
        return Err(Error::not_found("Authentication factor", factor_id));
    }
    if !portico_store::auth_factors::has_verified(tx.conn(), &user).await? {
        portico_store::auth_factors::delete_recovery_codes(tx.conn(), &user).await?;
    }
    tx.commit().await?;
    Ok(())
}

fn challenge_row(app: &App, factor_id: &str) -> ChallengeRow {
    let now = app.now();
    ChallengeRow {
        id: AuthChallengeId::from_ulid(app.ids.next_ulid(now)).to_string(),
        factor_id: factor_id.to_owned(),
        attempts: 0,
        expires_at: now.plus_ms(CHALLENGE_TTL_MS).unix_ms(),
        verified_at: None,
        created_at: now.unix_ms(),
        updated_at: now.unix_ms(),
    }
}

async fn new_challenge(app: &App, factor_id: &str) -> Result<AuthChallenge> {
    let row = challenge_row(app, factor_id);
    let mut tx = app.db.begin().await?;
    portico_store::auth_factors::insert_challenge(tx.conn(), &row).await?;
    tx.commit().await?;
    Ok(challenge_view(&row))
}

/// `POST /auth/factors/{id}/challenge`.
pub async fn challenge(app: &App, factor_id: &str) -> Result<AuthChallenge> {
    let row = factor_row(app, factor_id).await?;
    new_challenge(app, &row.id).await
}

/// Checks a code against a factor, using up its time step. Counts nothing; callers do.
async fn accept_code(app: &App, factor: &FactorRow, code: &str) -> Result<bool> {
    let now = app.now();
    let secret = secret_of(app, factor)?;
    let Some(step) = portico_crypto::totp::matching_step(&secret, code, now.unix_ms() / 1000) else {
        return Ok(false);
    };
    let mut tx = app.db.begin().await?;
    let fresh = portico_store::auth_factors::use_step(tx.conn(), &factor.id, step, now).await?;
    tx.commit().await?;
    Ok(fresh)
}

async fn limit_checks(app: &App, user: &str, origin: &Origin) -> Result<()> {
    // Per user as well as per address: six digits fall to a distributed guesser otherwise.
    crate::rate_limits::check(app, &format!("totp:user:{user}"), app.settings.code_checks_per_ip, "code attempts")
        .await?;
    codes::limit_checks_from(app, origin.ip_address.as_deref()).await
}

/// Verifies a code for a challenge: whether it was right, the challenge as it now stands, and
/// the factor's user. A challenge passes once; a spent, expired or over-tried one is refused.
async fn answer(app: &App, challenge_id: &str, code: &str, origin: &Origin) -> Result<(bool, ChallengeRow, FactorRow)> {
    let now = app.now();
    let mut reader = app.db.read().await?;
    let challenge = portico_store::auth_factors::get_challenge(reader.conn(), challenge_id)
        .await?
        .ok_or_else(|| Error::not_found("Authentication challenge", challenge_id))?;
    let factor = portico_store::auth_factors::get_factor(reader.conn(), &challenge.factor_id)
        .await?
        .ok_or_else(|| Error::not_found("Authentication challenge", challenge_id))?;
    drop(reader);
    if challenge.verified_at.is_some() {
        return Err(refused(
            "authentication_challenge_previously_verified",
            "The challenge was already verified; start a new one.",
        ));
    }
    if challenge.expires_at <= now.unix_ms() {
        return Err(refused("authentication_challenge_expired", "The challenge has expired; start a new one."));
    }
    if challenge.attempts >= CHALLENGE_ATTEMPTS {
        return Err(refused(
            "one_time_code_too_many_attempts",
            "Too many wrong codes for this challenge; start a new one.",
        ));
    }
    limit_checks(app, &factor.user_id, origin).await?;
    let valid = accept_code(app, &factor, code).await?;
    let mut tx = app.db.begin().await?;
    if valid {
        if !portico_store::auth_factors::pass_challenge(tx.conn(), &challenge.id, now).await? {
            return Err(refused(
                "authentication_challenge_previously_verified",
                "The challenge was already verified; start a new one.",
            ));
        }
    } else {
        portico_store::auth_factors::count_attempt(tx.conn(), &challenge.id, now).await?;
    }
    record_outcome(app, tx.conn(), &factor.user_id, valid, origin).await?;
    tx.commit().await?;
    let mut reader = app.db.read().await?;
    let challenge = portico_store::auth_factors::get_challenge(reader.conn(), challenge_id).await?.unwrap_or(challenge);
    Ok((valid, challenge, factor))
}

async fn record_outcome(
    app: &App,
    conn: portico_store::Conn<'_>,
    user: &str,
    valid: bool,
    origin: &Origin,
) -> Result<()> {
    let mut data = serde_json::json!({
        "type": "mfa",
        "status": if valid { "succeeded" } else { "failed" },
        "user_id": user,
        "email": serde_json::Value::Null,
        "ip_address": origin.ip_address,
        "user_agent": origin.user_agent,
    });
    if !valid {
        data["error"] = serde_json::json!({"code": "invalid_one_time_code", "message": "The code is not valid."});
    }
    let name = if valid { names::AUTHENTICATION_MFA_SUCCEEDED } else { names::AUTHENTICATION_MFA_FAILED };
    events::record(app, conn, name, &data, None).await
}

/// `POST /auth/challenges/{id}/verify`: `{challenge, valid}`.
pub async fn verify_challenge(
    app: &App,
    challenge_id: &str,
    code: &str,
    origin: &Origin,
) -> Result<(AuthChallenge, bool)> {
    let (valid, challenge, _) = answer(app, challenge_id, code, origin).await?;
    Ok((challenge_view(&challenge), valid))
}

/// The `mfa-totp` grant's check: the challenge must be for a factor of `user`, and the code right.
pub(crate) async fn verify_for_user(
    app: &App,
    user: &UserId,
    challenge_id: &str,
    code: &str,
    origin: &Origin,
) -> Result<()> {
    let mut reader = app.db.read().await?;
    let owner = match portico_store::auth_factors::get_challenge(reader.conn(), challenge_id).await? {
        Some(challenge) => portico_store::auth_factors::get_factor(reader.conn(), &challenge.factor_id).await?,
        None => None,
    };
    drop(reader);
    if owner.is_none_or(|f| f.user_id != user.as_str()) {
        return Err(refused("authentication_challenge_not_found", "The challenge is not one of this user's."));
    }
    let (valid, _, _) = answer(app, challenge_id, code, origin).await?;
    if valid { Ok(()) } else { Err(invalid_code()) }
}

/// The hosted challenge page's check: a code from any of the user's verified factors, or one of
/// their recovery codes (used up).
pub(crate) async fn verify_user_code(app: &App, user: &UserId, code: &str, origin: &Origin) -> Result<()> {
    limit_checks(app, user.as_str(), origin).await?;
    let mut reader = app.db.read().await?;
    let factors = portico_store::auth_factors::list_for_user(reader.conn(), user).await?;
    drop(reader);
    let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let mut valid = false;
    if compact.len() == 6 {
        for factor in factors.iter().filter(|f| f.verified_at.is_some()) {
            if accept_code(app, factor, &compact).await? {
                valid = true;
                break;
            }
        }
    } else if !factors.is_empty() {
        let digest = portico_crypto::secret::sha256_hex(&normalize_recovery_code(&compact));
        let mut tx = app.db.begin().await?;
        valid = portico_store::auth_factors::use_recovery_code(tx.conn(), user, &digest, app.now()).await?;
        tx.commit().await?;
    }
    let mut tx = app.db.begin().await?;
    record_outcome(app, tx.conn(), user.as_str(), valid, origin).await?;
    tx.commit().await?;
    if valid { Ok(()) } else { Err(invalid_code()) }
}

/// The hosted enrollment page's check: a code from the factor being enrolled, which then counts
/// for sign-in. Returns fresh recovery codes, to be shown once.
pub(crate) async fn confirm_enrollment(
    app: &App,
    user: &UserId,
    factor_id: &str,
    code: &str,
    origin: &Origin,
) -> Result<Vec<String>> {
    limit_checks(app, user.as_str(), origin).await?;
    let factor = factor_row(app, factor_id).await?;
    if factor.user_id != user.as_str() {
        return Err(Error::not_found("Authentication factor", factor_id));
    }
    let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let valid = accept_code(app, &factor, &compact).await?;
    let mut tx = app.db.begin().await?;
    record_outcome(app, tx.conn(), user.as_str(), valid, origin).await?;
    tx.commit().await?;
    if !valid {
        return Err(invalid_code());
    }
    new_recovery_codes(app, user).await
}

/// Replaces the user's recovery codes; returns them (the only time they are readable).
async fn new_recovery_codes(app: &App, user: &UserId) -> Result<Vec<String>> {
    let now = app.now();
    let mut shown = Vec::with_capacity(RECOVERY_CODE_COUNT);
    let mut stored = Vec::with_capacity(RECOVERY_CODE_COUNT);
    for _ in 0..RECOVERY_CODE_COUNT {
        let bytes = portico_crypto::secret::random_bytes::<8>().map_err(|e| Error::Internal(e.to_string()))?;
        // 12 characters of 5 bits (60 bits) from Crockford's alphabet, which leaves out the
        // letters people misread (i, l, o, u), shown in groups of four.
        let mut bits = u64::from_be_bytes(bytes);
        let text: String = (0..12)
            .map(|_| {
                let c = char::from(RECOVERY_ALPHABET[(bits & 31) as usize]);
                bits >>= 5;
                c
            })
            .collect();
        let code = format!("{}-{}-{}", &text[..4], &text[4..8], &text[8..]);
        stored.push((
            app.ids.next_ulid(now).to_string(),
            portico_crypto::secret::sha256_hex(&normalize_recovery_code(&code)),
        ));
        shown.push(code);
    }
    let mut tx = app.db.begin().await?;
    portico_store::auth_factors::replace_recovery_codes(tx.conn(), user, &stored, now).await?;
    tx.commit().await?;
    Ok(shown)
}

const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Recovery codes are compared without dashes, spaces or case, reading the letters Crockford's
/// alphabet leaves out as the digits they look like.
fn normalize_recovery_code(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            other => other,
        })
        .collect()
}

/// Whether the user has a second factor that counts for sign-in: an authenticator app or a passkey.
pub(crate) async fn has_second_factor(app: &App, user: &UserId) -> Result<bool> {
    let mut reader = app.db.read().await?;
    Ok(portico_store::auth_factors::has_verified(reader.conn(), user).await?)
}

/// The user's authenticator apps that count for sign-in (verified), oldest first.
pub(crate) async fn verified_factor_views(app: &App, user: &UserId) -> Result<Vec<AuthFactor>> {
    let mut reader = app.db.read().await?;
    let rows = portico_store::auth_factors::list_for_user(reader.conn(), user).await?;
    Ok(rows.iter().filter(|f| f.verified_at.is_some()).map(factor_view).collect())
}

/// How many of the user's recovery codes are still unused.
pub(crate) async fn remaining_recovery_codes(app: &App, user: &UserId) -> Result<i64> {
    let mut reader = app.db.read().await?;
    Ok(portico_store::auth_factors::remaining_recovery_codes(reader.conn(), user).await?)
}

/// The user's factors that count for sign-in, as `mfa_challenge` lists them: `(id, type)`.
pub(crate) async fn verified_factors(app: &App, user: &UserId) -> Result<Vec<(String, &'static str)>> {
    let mut reader = app.db.read().await?;
    let rows = portico_store::auth_factors::list_for_user(reader.conn(), user).await?;
    Ok(rows.into_iter().filter(|f| f.verified_at.is_some()).map(|f| (f.id, TOTP)).collect())
}

/// The factor the hosted enrollment page shows: the one already in progress for this flow when
/// it still exists, otherwise a new one (older unfinished enrollments are dropped).
/// Removes the user's TOTP factors that were never confirmed with a code.
pub(crate) async fn drop_unfinished_enrollment(app: &App, user: &UserId) -> Result<()> {
    let mut tx = app.db.begin().await?;
    portico_store::auth_factors::delete_unverified(tx.conn(), user).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn hosted_enrollment(app: &App, user: &User, in_progress: Option<&str>) -> Result<AuthFactor> {
    if let Some(id) = in_progress {
        let mut reader = app.db.read().await?;
        let row = portico_store::auth_factors::get_factor(reader.conn(), id).await?;
        drop(reader);
        if let Some(row) = row.filter(|r| r.user_id == user.id.as_str() && r.verified_at.is_none()) {
            let encoded = codes::open_text(app, &row.secret_sealed, &row.id)?;
            let uri = otpauth_uri(&row.issuer, &row.account, &encoded);
            let mut view = factor_view(&row);
            view.totp.qr_code = Some(crate::qr::png_data_url(&uri).map_err(Error::Internal)?);
            view.totp.secret = Some(encoded);
            view.totp.uri = Some(uri);
            return Ok(view);
        }
    }
    drop_unfinished_enrollment(app, &user.id).await?;
    let secret = portico_crypto::totp::new_secret().map_err(|e| Error::Internal(e.to_string()))?;
    let (factor, _) =
        new_totp_factor(app, user, &app.settings.branding.product_name, user.email.as_str(), secret, false).await?;
    Ok(factor)
}
