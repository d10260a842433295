//! The hosted passkeys page: a signed-in user's passkeys and authenticator apps, reached through
//! a one-time link the app's backend asks for. Adding or removing needs a sign-in within the
//! last ten minutes, or a confirmation on the page (a passkey, or the password).

use crate::App;
use crate::authorize::{
    LINK_TTL_MS, PASSKEY_SETTINGS, SessionLink, SignInFlow, append_query, issue_link, link_subject, live_session_of,
    open_link, save,
};
use crate::error::{Error, Result};
use crate::sessions::Origin;
use portico_domain::user::User;

/// How recently the user must have proved who they are to change their passkeys.
const FRESH_MS: i64 = 10 * 60 * 1000;

/// What a one-time link to the passkeys page takes: which app it returns to.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasskeySettingsRequest {
    pub client_id: Option<String>,
    /// Where "Done" goes: a page on the origin of one of the client's redirect URIs.
    pub return_to: Option<String>,
}

/// `scheme://host[:port]` of an absolute http(s) URL.
fn origin_of(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let host_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    (host_len > 0).then(|| &url[..url.len() - rest.len() + host_len])
}

/// Creates a one-time link that shows a signed-in user their passkeys (add, remove), and
/// returns to the app at `return_to`.
pub async fn begin_passkey_settings(
    app: &App,
    session_id: &str,
    request: PasskeySettingsRequest,
) -> Result<SessionLink> {
    use portico_domain::validation::FieldError;
    let now = app.now();
    let mut checker = portico_domain::validation::Checker::new();
    let return_to = request.return_to.as_deref().unwrap_or_default();
    let (session, client) =
        link_subject(app, session_id, request.client_id.as_deref().unwrap_or_default(), &mut checker).await?;
    match (&client, origin_of(return_to)) {
        (Some(_), None) => checker.push(FieldError::new(
            "return_to",
            "invalid",
            "return_to must be an absolute http(s) URL of the application.",
        )),
        (Some(client), Some(origin)) if !client.redirect_uris.iter().any(|uri| origin_of(uri) == Some(origin)) => {
            checker.push(FieldError::new(
                "return_to",
                "return_to_not_allowed",
                format!("{return_to} is not on the origin of one of the client's redirect URIs."),
            ))
        }
        _ => {}
    }
    if app.settings.passkeys.is_none() {
        checker.push(FieldError::new(
            "session_id",
            "passkeys_unavailable",
            "Passkeys are not available on this server.",
        ));
    }
    checker.finish()?;
    let client = client.ok_or_else(|| Error::Internal("validated client missing".into()))?;
    let link = issue_link(app, &session, &client, PASSKEY_SETTINGS, return_to, None, None).await?;
    // The page must open where passkeys work: the public URL, unless passkeys are configured for
    // other origins only.
    let base = match app.settings.passkeys.as_ref() {
        Some(rp) if !rp.origins.iter().any(|o| o == app.public_url()) => rp.origins.first().map(String::as_str),
        _ => None,
    }
    .unwrap_or(app.public_url());
    Ok(SessionLink {
        object: "passkey_settings",
        url: append_query(&format!("{base}/passkeys"), &[("token", &link)]),
        session_id: session.id.to_string(),
        expires_at: now.plus_ms(LINK_TTL_MS),
    })
}

/// Opens a passkeys-page link in a browser: the cookie for the page's flow.
pub async fn open_passkey_settings(app: &App, link: &str) -> Result<Option<String>> {
    Ok(open_link(app, link, PASSKEY_SETTINGS).await?.map(|(cookie, _)| cookie))
}

/// The signed-in user of a passkeys page, while their session lives.
pub(crate) async fn settings_user(app: &App, flow: &SignInFlow) -> Result<User> {
    let ended = || Error::invalid("session_id", "session_ended", "Your session has ended; sign in again.");
    if flow.purpose != PASSKEY_SETTINGS {
        return Err(ended());
    }
    live_session_of(app, flow).await?.ok_or_else(ended)?;
    let id = flow.user().ok_or_else(ended)?;
    let mut reader = app.db.read().await?;
    portico_store::users::get(reader.conn(), &id).await?.ok_or_else(ended)
}

/// What the passkeys page shows.
#[derive(Debug, Clone)]
pub struct PasskeySettings {
    pub passkeys: Vec<portico_domain::passkey::Passkey>,
    /// The user's authenticator apps (verified TOTP factors), which the page can remove too.
    pub authenticator_apps: Vec<portico_domain::auth_factor::AuthFactor>,
    /// The user proved who they are recently enough to add or remove passkeys.
    pub fresh: bool,
    /// They can confirm with their password (when they have one).
    pub has_password: bool,
    pub return_to: String,
}

/// Whether the session signed in, or the page confirmed the user, within [`FRESH_MS`]. (On this
/// page's flow, `mfa_verified_at` is when the user last confirmed it was them.)
async fn is_fresh(app: &App, flow: &SignInFlow) -> Result<bool> {
    let now = app.now().unix_ms();
    let recent = |at: i64| now - at <= FRESH_MS;
    let signed_in = live_session_of(app, flow).await?.is_some_and(|s| recent(s.created_at.unix_ms()));
    Ok(signed_in || flow.mfa_verified_at.is_some_and(recent))
}

/// What the passkeys page shows for the flow's user.
pub async fn passkey_settings(app: &App, flow: &SignInFlow) -> Result<PasskeySettings> {
    let user = settings_user(app, flow).await?;
    let mut reader = app.db.read().await?;
    let has_password = portico_store::users::password_hash(reader.conn(), &user.id).await?.is_some();
    drop(reader);
    Ok(PasskeySettings {
        passkeys: crate::passkeys::list(app, &user.id).await?,
        authenticator_apps: crate::mfa::verified_factor_views(app, &user.id).await?,
        fresh: is_fresh(app, flow).await?,
        has_password,
        return_to: flow.redirect_uri.clone(),
    })
}

async fn fresh_settings_user(app: &App, flow: &SignInFlow) -> Result<User> {
    let user = settings_user(app, flow).await?;
    if !is_fresh(app, flow).await? {
        return Err(Error::invalid(
            "credential",
            "confirm_first",
            "Confirm it’s you first: with a passkey, or your password.",
        ));
    }
    Ok(user)
}

/// "Confirm it's you" on the passkeys page with one of the user's passkeys.
pub async fn confirm_with_passkey(
    app: &App,
    flow: &mut SignInFlow,
    response: &crate::passkeys::CredentialResponse,
    origin: &Origin,
) -> Result<()> {
    let user = settings_user(app, flow).await?;
    crate::passkeys::authenticate(app, flow, crate::passkeys::Purpose::Confirm, Some(&user.id), response, origin)
        .await?;
    flow.mfa_verified_at = Some(app.now().unix_ms());
    save(app, flow).await
}

/// "Confirm it's you" on the passkeys page with the user's password (rate-limited as sign-ins).
pub async fn confirm_with_password(app: &App, flow: &mut SignInFlow, password: &str, origin: &Origin) -> Result<()> {
    let user = settings_user(app, flow).await?;
    crate::authenticate::verify_password(app, user.email.as_str(), password, origin).await?;
    flow.mfa_verified_at = Some(app.now().unix_ms());
    save(app, flow).await
}

/// Adds a passkey from the passkeys page.
pub async fn add_passkey(
    app: &App,
    flow: &SignInFlow,
    response: &crate::passkeys::CredentialResponse,
    origin: &Origin,
) -> Result<portico_domain::passkey::Passkey> {
    let user = fresh_settings_user(app, flow).await?;
    crate::passkeys::register(app, flow, &user, response, origin).await
}

/// Removes one of the user's passkeys from the passkeys page.
pub async fn remove_passkey(app: &App, flow: &SignInFlow, passkey_id: &str) -> Result<()> {
    let user = fresh_settings_user(app, flow).await?;
    crate::passkeys::remove_for(app, &user.id, passkey_id).await
}

/// Removes one of the user's authenticator apps from the passkeys page (with the last second
/// factor go the recovery codes).
pub async fn remove_authenticator_app(app: &App, flow: &SignInFlow, factor_id: &str) -> Result<()> {
    let user = fresh_settings_user(app, flow).await?;
    crate::mfa::delete_for(app, &user.id, factor_id).await
}
