//! Passkeys: registering WebAuthn credentials and signing in with them, on the hosted pages.
//!
//! A ceremony starts when a page asks for options: Portico stores a random challenge for the
//! browser's flow and purpose, and the browser's answer is accepted once, on whichever node it
//! reaches, while that challenge is still stored. Portico asks for user verification (a PIN or
//! biometric on the device), so a passkey counts as two factors: it satisfies an organization's
//! MFA rule on its own, and serves as the second factor after a password.

use crate::App;
use crate::error::{Error, Result};
use crate::events;
use crate::sessions::Origin;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portico_crypto::webauthn::{self, RelyingParty, WebauthnError};
use portico_domain::event::names;
use portico_domain::passkey::{MAX_PER_USER, Passkey};
use portico_domain::user::User;
use portico_domain::{PasskeyId, Timestamp, UserId};
use portico_store::passkeys::{Ceremony, PasskeyRow};
use portico_store::sign_in_flows::SignInFlow;

/// How long a browser has to answer a challenge (the options' `timeout`).
const CEREMONY_TTL_MS: i64 = 5 * 60 * 1000;

/// What a ceremony is for. Each purpose has its own challenges: an answer made for one cannot
/// finish another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Sign in with a passkey, no email typed: any of the user's passkeys (discoverable).
    SignIn,
    /// The second factor of a sign-in that started with a password or an emailed code.
    SecondFactor,
    /// Register a new passkey for the flow's user.
    Register,
    /// Prove it is still the user before changing their passkeys.
    Confirm,
}

impl Purpose {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "sign_in" => Some(Purpose::SignIn),
            "second_factor" => Some(Purpose::SecondFactor),
            "register" => Some(Purpose::Register),
            "confirm" => Some(Purpose::Confirm),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Purpose::SignIn => "sign_in",
            Purpose::SecondFactor => "second_factor",
            Purpose::Register => "register",
            Purpose::Confirm => "confirm",
        }
    }
}

/// What the browser's `PublicKeyCredential` says, with its binary parts in base64url (as the
/// hosted pages' script sends it, and as `PublicKeyCredential.toJSON()` writes it).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct CredentialResponse {
    pub id: String,
    #[serde(rename = "clientDataJSON")]
    pub client_data_json: String,
    #[serde(rename = "attestationObject")]
    pub attestation_object: Option<String>,
    #[serde(rename = "authenticatorData")]
    pub authenticator_data: Option<String>,
    pub signature: Option<String>,
    #[serde(rename = "userHandle")]
    pub user_handle: Option<String>,
    #[serde(default)]
    pub transports: Vec<String>,
}

impl CredentialResponse {
    /// Reads the JSON the hosted pages post in their `credential` field.
    pub fn parse(json: &str) -> Result<Self> {
        serde_json::from_str(json).map_err(|_| failed("the browser's answer is not a passkey response"))
    }
}

fn failed(reason: impl std::fmt::Display) -> Error {
    tracing::info!(%reason, "a passkey was refused");
    Error::BadRequest {
        code: "passkey_failed",
        message: "That passkey could not be used. Try again, or use another way to sign in.".into(),
        errors: Vec::new(),
    }
}

fn bad(code: &'static str, message: &str) -> Error {
    Error::BadRequest { code, message: message.to_owned(), errors: Vec::new() }
}

fn decode(field: &str, text: &str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).map_err(|_| failed(format!("{field} is not base64url")))
}

/// The relying party, when passkeys are on.
fn relying_party(app: &App) -> Result<&RelyingParty> {
    app.settings
        .passkeys
        .as_ref()
        .ok_or_else(|| bad("passkeys_unavailable", "Passkeys are not available on this server."))
}

/// Whether a page at `origin` (`scheme://host[:port]`) can use passkeys.
pub fn available_at(app: &App, origin: &str) -> bool {
    app.settings.passkeys.as_ref().is_some_and(|rp| rp.origins.iter().any(|o| o == origin))
}

fn view(row: &PasskeyRow) -> Passkey {
    Passkey {
        id: PasskeyId::from_trusted(row.id.clone()),
        user_id: UserId::from_trusted(row.user_id.clone()),
        name: row.name.clone(),
        synced: row.backed_up,
        last_used_at: row.last_used_at.map(Timestamp::from_unix_ms),
        created_at: Timestamp::from_unix_ms(row.created_at),
        updated_at: Timestamp::from_unix_ms(row.updated_at),
    }
}

async fn rows_of(app: &App, user: &UserId) -> Result<Vec<PasskeyRow>> {
    let mut reader = app.db.read().await?;
    Ok(portico_store::passkeys::list_for_user(reader.conn(), user).await?)
}

/// The user's passkeys, oldest first.
pub async fn list(app: &App, user: &UserId) -> Result<Vec<Passkey>> {
    Ok(rows_of(app, user).await?.iter().map(view).collect())
}

/// `GET /user_management/users/{id}/passkeys`.
pub async fn list_for_user(app: &App, user_id: &str) -> Result<Vec<Passkey>> {
    let user = crate::users::get(app, user_id).await?;
    list(app, &user.id).await
}

/// `DELETE /user_management/passkeys/{id}`: the app's backend (with its API key) removes a
/// passkey, e.g. for a user who lost the device.
pub async fn delete(app: &App, id: &str) -> Result<()> {
    let mut tx = app.db.begin().await?;
    let row = portico_store::passkeys::get(tx.conn(), id).await?.ok_or_else(|| Error::not_found("Passkey", id))?;
    let user = UserId::from_trusted(row.user_id);
    if !portico_store::passkeys::delete_for_user(tx.conn(), &user, id).await? {
        return Err(Error::not_found("Passkey", id));
    }
    forget_recovery_codes_without_factors(tx.conn(), &user).await?;
    tx.commit().await?;
    Ok(())
}

/// Recovery codes stand in for a second factor: with the user's last one gone, they go too
/// (as when the last authenticator app is removed).
async fn forget_recovery_codes_without_factors(mut conn: portico_store::Conn<'_>, user: &UserId) -> Result<()> {
    if !portico_store::auth_factors::has_verified(conn.reborrow(), user).await? {
        portico_store::auth_factors::delete_recovery_codes(conn, user).await?;
    }
    Ok(())
}

fn credential_descriptors(rows: &[PasskeyRow]) -> Vec<serde_json::Value> {
    rows.iter()
        .map(|row| {
            let transports: Vec<&str> = row.transports.split_whitespace().collect();
            serde_json::json!({"type": "public-key", "id": row.credential_id, "transports": transports})
        })
        .collect()
}

/// Starts a ceremony for the flow: stores its challenge and returns the options for
/// `navigator.credentials.create()` (register) or `.get()` (the others), with binary values in
/// base64url. `user` is the flow's signed-in user, for every purpose but sign-in.
pub(crate) async fn options(
    app: &App,
    flow: &SignInFlow,
    purpose: Purpose,
    user: Option<&User>,
) -> Result<serde_json::Value> {
    let rp = relying_party(app)?;
    let now = app.now();
    let challenge = portico_crypto::secret::random_bytes::<32>().map_err(|e| Error::Internal(e.to_string()))?;
    let challenge = URL_SAFE_NO_PAD.encode(challenge);
    let existing = match user {
        Some(user) => rows_of(app, &user.id).await?,
        None => Vec::new(),
    };
    let options = match (purpose, user) {
        (Purpose::Register, Some(user)) => {
            if existing.len() >= MAX_PER_USER {
                return Err(bad(
                    "too_many_passkeys",
                    "You have as many passkeys as an account can have; remove one first.",
                ));
            }
            let display = match (&user.first_name, &user.last_name) {
                (Some(first), Some(last)) => format!("{first} {last}"),
                (Some(name), None) | (None, Some(name)) => name.clone(),
                (None, None) => user.email.as_str().to_owned(),
            };
            let algorithms: Vec<serde_json::Value> = webauthn::SUPPORTED_ALGORITHMS
                .iter()
                .map(|alg| serde_json::json!({"type": "public-key", "alg": alg}))
                .collect();
            serde_json::json!({
                "challenge": challenge,
                "rp": {"id": rp.id, "name": app.settings.branding.product_name},
                "user": {"id": URL_SAFE_NO_PAD.encode(user.id.as_str()), "name": user.email.as_str(), "displayName": display},
                "pubKeyCredParams": algorithms,
                "timeout": CEREMONY_TTL_MS,
                "excludeCredentials": credential_descriptors(&existing),
                "authenticatorSelection": {"residentKey": "required", "requireResidentKey": true, "userVerification": "required"},
                "attestation": "none",
            })
        }
        (Purpose::SignIn, _) => serde_json::json!({
            "challenge": challenge,
            "rpId": rp.id,
            "timeout": CEREMONY_TTL_MS,
            "userVerification": "required",
            "allowCredentials": [],
        }),
        (Purpose::SecondFactor | Purpose::Confirm, Some(_)) => {
            if existing.is_empty() {
                return Err(bad("no_passkeys", "You have no passkey yet."));
            }
            serde_json::json!({
                "challenge": challenge,
                "rpId": rp.id,
                "timeout": CEREMONY_TTL_MS,
                "userVerification": "required",
                "allowCredentials": credential_descriptors(&existing),
            })
        }
        (_, None) => return Err(Error::invalid("purpose", "not_signed_in", "Sign in first.")),
    };
    let ceremony = Ceremony {
        id: app.ids.next_ulid(now).to_string(),
        flow_id: flow.id.clone(),
        purpose: purpose.name().to_owned(),
        challenge,
        expires_at: now.plus_ms(CEREMONY_TTL_MS).unix_ms(),
        created_at: now.unix_ms(),
    };
    let mut tx = app.db.begin().await?;
    portico_store::passkeys::insert_ceremony(tx.conn(), &ceremony).await?;
    tx.commit().await?;
    Ok(options)
}

/// The challenge the browser signed, read from its `clientDataJSON`; the ceremony that issued it
/// is used up here (once, on any node), so an answer can never be replayed.
async fn consume(app: &App, flow: &SignInFlow, purpose: Purpose, client_data_json: &[u8]) -> Result<Vec<u8>> {
    #[derive(serde::Deserialize)]
    struct Challenge {
        challenge: String,
    }
    let presented: Challenge =
        serde_json::from_slice(client_data_json).map_err(|_| failed("clientDataJSON is not valid"))?;
    let challenge = presented.challenge.trim_end_matches('=').to_owned();
    let mut tx = app.db.begin().await?;
    let live =
        portico_store::passkeys::consume_ceremony(tx.conn(), &flow.id, purpose.name(), &challenge, app.now()).await?;
    tx.commit().await?;
    if !live {
        return Err(bad("passkey_expired", "That passkey request has expired or was already used. Try again."));
    }
    decode("challenge", &challenge)
}

/// Finishes a registration for `user`: stores the new passkey, named after the browser.
pub(crate) async fn register(
    app: &App,
    flow: &SignInFlow,
    user: &User,
    response: &CredentialResponse,
    origin: &Origin,
) -> Result<Passkey> {
    let rp = relying_party(app)?;
    let client_data_json = decode("clientDataJSON", &response.client_data_json)?;
    let challenge = consume(app, flow, Purpose::Register, &client_data_json).await?;
    let attestation = decode("attestationObject", response.attestation_object.as_deref().unwrap_or_default())?;
    let registration =
        webauthn::verify_registration(rp, &challenge, &client_data_json, &attestation).map_err(failed)?;
    let now = app.now();
    let transports: Vec<&str> = response
        .transports
        .iter()
        .map(String::as_str)
        .filter(|t| matches!(*t, "usb" | "nfc" | "ble" | "smart-card" | "hybrid" | "internal"))
        .collect();
    let mut row = PasskeyRow {
        id: PasskeyId::from_ulid(app.ids.next_ulid(now)).to_string(),
        user_id: user.id.to_string(),
        credential_id: URL_SAFE_NO_PAD.encode(&registration.credential_id),
        public_key: URL_SAFE_NO_PAD.encode(&registration.public_key),
        algorithm: registration.algorithm,
        sign_count: i64::from(registration.sign_count),
        aaguid: hex::encode(registration.aaguid),
        name: portico_domain::passkey::device_name(origin.user_agent.as_deref()),
        backup_eligible: registration.backup_eligible,
        backed_up: registration.backed_up,
        transports: transports.join(" "),
        last_used_at: None,
        created_at: now.unix_ms(),
        updated_at: now.unix_ms(),
    };
    let mut tx = app.db.begin().await?;
    let existing = portico_store::passkeys::list_for_user(tx.conn(), &user.id).await?;
    if existing.len() >= MAX_PER_USER {
        return Err(bad("too_many_passkeys", "You have as many passkeys as an account can have; remove one first."));
    }
    row.name = portico_domain::passkey::distinct_name(&row.name, existing.iter().map(|p| p.name.as_str()));
    if !portico_store::passkeys::insert(tx.conn(), &row).await? {
        return Err(bad("passkey_exists", "This passkey is registered already."));
    }
    tx.commit().await?;
    Ok(view(&row))
}

/// Finishes a sign-in ceremony: the user whose passkey signed the challenge. For every purpose
/// but [`Purpose::SignIn`] the passkey must be `expected_user`'s. Recorded as an
/// `authentication.passkey_succeeded` or `…_failed` event, whatever refused it.
pub(crate) async fn authenticate(
    app: &App,
    flow: &SignInFlow,
    purpose: Purpose,
    expected_user: Option<&UserId>,
    response: &CredentialResponse,
    origin: &Origin,
) -> Result<User> {
    // The user the answer is about, once known: the failed event names them.
    let mut known_user = expected_user.map(|u| u.as_str().to_owned());
    let (row, assertion) = match check_assertion(app, flow, purpose, expected_user, response, &mut known_user).await {
        Ok(checked) => checked,
        Err(error @ Error::BadRequest { .. }) => {
            record_failure(app, known_user.as_deref(), origin).await?;
            return Err(error);
        }
        Err(other) => return Err(other),
    };
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let recorded = portico_store::passkeys::record_use(
        tx.conn(),
        &row.id,
        row.sign_count,
        i64::from(assertion.sign_count),
        assertion.backed_up,
        now,
    )
    .await?;
    if !recorded {
        drop(tx);
        record_failure(app, Some(&row.user_id), origin).await?;
        return Err(failed("another sign-in used the passkey's counter value at the same time"));
    }
    let user = portico_store::users::get(tx.conn(), &UserId::from_trusted(row.user_id.clone()))
        .await?
        .ok_or_else(|| bad("passkey_unknown", "This passkey is not registered to an account here."))?;
    record_in(app, tx.conn(), Some(&row.user_id), Some(user.email.as_str()), true, origin).await?;
    tx.commit().await?;
    Ok(user)
}

/// Uses up the ceremony and checks the answer against the stored passkey: the passkey and what
/// the authenticator reported. Sets `known_user` as soon as the passkey is found.
async fn check_assertion(
    app: &App,
    flow: &SignInFlow,
    purpose: Purpose,
    expected_user: Option<&UserId>,
    response: &CredentialResponse,
    known_user: &mut Option<String>,
) -> Result<(PasskeyRow, webauthn::Assertion)> {
    let rp = relying_party(app)?;
    let client_data_json = decode("clientDataJSON", &response.client_data_json)?;
    let challenge = consume(app, flow, purpose, &client_data_json).await?;
    let mut reader = app.db.read().await?;
    let row = portico_store::passkeys::find_by_credential(reader.conn(), response.id.trim_end_matches('='))
        .await?
        .filter(|row| expected_user.is_none_or(|user| row.user_id == user.as_str()));
    drop(reader);
    let row = row.ok_or_else(|| bad("passkey_unknown", "This passkey is not registered to an account here."))?;
    *known_user = Some(row.user_id.clone());
    let user_handle = response.user_handle.as_deref().filter(|h| !h.is_empty());
    if let Some(handle) = user_handle
        && decode("userHandle", handle).ok().as_deref() != Some(row.user_id.as_bytes())
    {
        return Err(failed("the user handle is not the passkey's user"));
    }
    let stored_count = u32::try_from(row.sign_count).unwrap_or(u32::MAX);
    let assertion = webauthn::verify_assertion(
        rp,
        &challenge,
        &decode("publicKey", &row.public_key)?,
        stored_count,
        &client_data_json,
        &decode("authenticatorData", response.authenticator_data.as_deref().unwrap_or_default())?,
        &decode("signature", response.signature.as_deref().unwrap_or_default())?,
    )
    .map_err(|e| {
        if matches!(e, WebauthnError::CounterRegressed { .. }) {
            tracing::warn!(passkey = %row.id, error = %e, "a passkey's signature counter went back");
        }
        failed(e)
    })?;
    Ok((row, assertion))
}

/// An `authentication.passkey_failed` event, naming the user (and their email) when known.
async fn record_failure(app: &App, user: Option<&str>, origin: &Origin) -> Result<()> {
    let mut tx = app.db.begin().await?;
    let email = match user {
        Some(id) => portico_store::users::get(tx.conn(), &UserId::from_trusted(id.to_owned()))
            .await?
            .map(|u| u.email.as_str().to_owned()),
        None => None,
    };
    record_in(app, tx.conn(), user, email.as_deref(), false, origin).await?;
    tx.commit().await?;
    Ok(())
}

async fn record_in(
    app: &App,
    conn: portico_store::Conn<'_>,
    user: Option<&str>,
    email: Option<&str>,
    succeeded: bool,
    origin: &Origin,
) -> Result<()> {
    let mut data = serde_json::json!({
        "type": "passkey",
        "status": if succeeded { "succeeded" } else { "failed" },
        "user_id": user,
        "email": email,
        "ip_address": origin.ip_address,
        "user_agent": origin.user_agent,
    });
    if !succeeded {
        data["error"] = serde_json::json!({"code": "passkey_failed", "message": "The passkey could not be verified."});
    }
    let name = if succeeded { names::AUTHENTICATION_PASSKEY_SUCCEEDED } else { names::AUTHENTICATION_PASSKEY_FAILED };
    events::record(app, conn, name, &data, None).await
}

/// Removes one of `user`'s passkeys.
pub(crate) async fn remove_for(app: &App, user: &UserId, id: &str) -> Result<()> {
    let mut tx = app.db.begin().await?;
    if !portico_store::passkeys::delete_for_user(tx.conn(), user, id).await? {
        return Err(Error::invalid("passkey_id", "passkey_not_found", "That passkey is not on your account."));
    }
    forget_recovery_codes_without_factors(tx.conn(), user).await?;
    tx.commit().await?;
    Ok(())
}
