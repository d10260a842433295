//! The hosted sign-in flow: `GET /user_management/authorize` starts a flow for one browser, the
//! hosted pages move it along (email, password or emailed code, sign-up, email verification,
//! invitation, organization choice), and it ends with a redirect to the app carrying a
//! single-use authorization code.
//!
//! Flows live in the database, so every node can serve every page; the browser keeps only a
//! random cookie.

use crate::authenticate::{Resolution, resolve};
use crate::error::{AuthError, Error, Result};
use crate::sessions::Origin;
use crate::{App, codes};
use portico_domain::policy::{Checkpoint, Decision, StepUp};
use portico_domain::session::AuthMethod;
use portico_domain::user::User;
use portico_domain::{ClientId, Email, OrganizationId, UserId};
use portico_store::authorization_codes::AuthorizationCode;
pub use portico_store::sign_in_flows::SignInFlow;

/// How long a browser has to finish signing in.
const FLOW_TTL_MS: i64 = 60 * 60 * 1000;
/// A flow's purpose: signing in (the organization switcher too).
const SIGN_IN: &str = "sign_in";
/// A flow's purpose: the signed-in user's passkey page.
pub(crate) const PASSKEY_SETTINGS: &str = "passkeys";
/// How long an authorization code can wait for its exchange.
const CODE_TTL_MS: i64 = 10 * 60 * 1000;

/// The query of `GET /user_management/authorize`.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeRequest {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub state: Option<String>,
    pub provider: Option<String>,
    pub connection_id: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub screen_hint: Option<String>,
    pub login_hint: Option<String>,
    pub domain_hint: Option<String>,
    pub organization_id: Option<String>,
    pub invitation_token: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
}

/// Why `/authorize` cannot start a flow.
#[derive(Debug)]
pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: show an error page, never redirect.
    Page { code: &'static str, message: String },
    /// A bad request from a trusted client: send the browser back with an OAuth error.
    Redirect(String),
}

/// The first page of a new flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstPage {
    SignIn,
    SignUp,
    Invitation,
    ChooseOrganization,
}

#[derive(Debug)]
pub struct Started {
    /// The browser's cookie: the only copy of the flow's secret.
    pub cookie: String,
    pub flow: SignInFlow,
    pub first_page: FirstPage,
}

/// What the browser sees next.
#[derive(Debug)]
pub enum Next {
    VerifyEmail,
    ChooseOrganization,
    /// The user must verify with their second factor.
    MfaChallenge,
    /// The organization requires a second factor and the user has none: set one up.
    MfaEnroll,
    /// The organization will require a second factor when its grace period ends, and the user
    /// has none yet: offered to set one up now.
    MfaGrace,
    /// Back to the app: `redirect_uri?code=…&state=…`.
    Redirect(String),
}

pub(crate) fn append_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = uri.to_owned();
    let mut separator = if uri.contains('?') { '&' } else { '?' };
    for (key, value) in pairs {
        out.push(separator);
        out.push_str(key);
        out.push('=');
        out.extend(form_urlencoded::byte_serialize(value.as_bytes()));
        separator = '&';
    }
    out
}

/// The redirect that reports an OAuth error to the app (RFC 6749 §4.1.2.1).
pub fn error_redirect(redirect_uri: &str, error: &str, description: &str, state: Option<&str>) -> String {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    append_query(redirect_uri, &pairs)
}

/// Validates an `/authorize` request and starts a flow.
pub async fn begin(app: &App, request: AuthorizeRequest) -> std::result::Result<Started, AuthorizeError> {
    let page = |code: &'static str, message: String| AuthorizeError::Page { code, message };
    let client_text = request.client_id.as_deref().filter(|c| !c.is_empty()).ok_or_else(|| {
        page("missing_client_id", "The sign-in link is incomplete: it names no application (client_id).".into())
    })?;
    let unknown_client = || {
        page("invalid_client", format!("The sign-in link names an application that does not exist ({client_text})."))
    };
    let client_id = ClientId::parse(client_text).ok_or_else(unknown_client)?;
    let mut reader = app.db.read().await.map_err(|e| page("internal", e.to_string()))?;
    let client = portico_store::clients::get(reader.conn(), &client_id)
        .await
        .map_err(|e| page("internal", e.to_string()))?
        .ok_or_else(unknown_client)?;
    drop(reader);
    let redirect_uri = request.redirect_uri.as_deref().filter(|r| !r.is_empty()).ok_or_else(|| {
        page("missing_redirect_uri", "The sign-in link is incomplete: it names no redirect_uri.".into())
    })?;
    // Exact string match against the client's list: no prefix, no normalisation.
    if !client.redirect_uris.iter().any(|allowed| allowed == redirect_uri) {
        return Err(page(
            "invalid_redirect_uri",
            format!("{redirect_uri} is not a redirect URI of this application, so Portico will not send you there."),
        ));
    }
    let state = request.state.clone();
    let back = |error: &str, description: &str| {
        AuthorizeError::Redirect(error_redirect(redirect_uri, error, description, state.as_deref()))
    };
    match request.response_type.as_deref() {
        Some("code") => {}
        None | Some("") => return Err(back("invalid_request", "response_type is required and must be code.")),
        Some(_) => return Err(back("unsupported_response_type", "Only response_type=code is supported.")),
    }
    match request.provider.as_deref() {
        None | Some("") | Some("authkit") => {}
        Some(other) => {
            return Err(back(
                "invalid_request",
                &format!("The provider {other} is not configured; use provider=authkit."),
            ));
        }
    }
    if request.connection_id.as_deref().is_some_and(|c| !c.is_empty()) {
        return Err(back("invalid_request", "No SSO connection is configured; use provider=authkit."));
    }
    let code_challenge = match (request.code_challenge.as_deref(), request.code_challenge_method.as_deref()) {
        (None | Some(""), None | Some("")) => None,
        (Some(challenge), Some("S256")) => {
            let well_formed = (43..=128).contains(&challenge.len())
                && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !well_formed {
                return Err(back(
                    "invalid_request",
                    "code_challenge must be a base64url SHA-256 digest (43 characters).",
                ));
            }
            Some(challenge.to_owned())
        }
        (Some(_), _) => return Err(back("invalid_request", "code_challenge_method must be S256.")),
        (None, Some(_)) => return Err(back("invalid_request", "code_challenge_method needs a code_challenge.")),
    };
    match request.prompt.as_deref() {
        None | Some("") | Some("login") | Some("consent") | Some("select_account") => {}
        // Portico keeps no browser sign-in between flows, so it can never answer without asking.
        Some("none") => return Err(back("login_required", "The user must sign in.")),
        Some(other) => return Err(back("invalid_request", &format!("prompt={other} is not supported."))),
    }
    if let Some(max_age) = request.max_age.as_deref().filter(|m| !m.is_empty())
        && max_age.parse::<u64>().is_err()
    {
        return Err(back("invalid_request", "max_age must be a number of seconds."));
    }
    let first_page = match request.screen_hint.as_deref() {
        None | Some("") | Some("sign-in") => FirstPage::SignIn,
        Some("sign-up") => FirstPage::SignUp,
        Some(other) => return Err(back("invalid_request", &format!("screen_hint={other} is not sign-in or sign-up."))),
    };
    let organization_hint = match request.organization_id.as_deref().filter(|o| !o.is_empty()) {
        Some(text) => Some(
            OrganizationId::parse(text)
                .ok_or_else(|| back("invalid_request", &format!("organization_id {text} is not an organization id.")))?
                .to_string(),
        ),
        None => None,
    };
    let (invitation, first_page) = match request.invitation_token.as_deref().filter(|t| !t.is_empty()) {
        Some(token) => {
            let invitation = crate::invitations::pending_by_token(app, token).await.map_err(|e| match e {
                Error::Auth(auth) => page("invitation_invalid", auth.to_string()),
                other => page("internal", other.to_string()),
            })?;
            (Some(invitation), FirstPage::Invitation)
        }
        None => (None, first_page),
    };
    let login_hint = match &invitation {
        Some(invitation) => Some(invitation.email.as_str().to_owned()),
        None => request
            .login_hint
            .as_deref()
            .and_then(|hint| Email::parse("login_hint", hint).ok())
            .map(|e| e.as_str().to_owned()),
    };
    let cookie = codes::new_token().map_err(|e| page("internal", e.to_string()))?;
    let now = app.now();
    let flow = SignInFlow {
        id: app.ids.next_ulid(now).to_string(),
        client_id: client_id.to_string(),
        redirect_uri: redirect_uri.to_owned(),
        state,
        code_challenge,
        organization_hint: invitation
            .as_ref()
            .and_then(|i| i.organization_id.as_ref().map(ToString::to_string))
            .or(organization_hint),
        invitation_id: invitation.as_ref().map(|i| i.id.to_string()),
        email: login_hint,
        user_id: None,
        auth_method: None,
        email_verification_id: None,
        continues_session_id: None,
        mfa_verified_at: None,
        pending_organization_id: None,
        enrolling_factor_id: None,
        purpose: SIGN_IN.to_owned(),
        created_at: now.unix_ms(),
        updated_at: now.unix_ms(),
        expires_at: now.plus_ms(FLOW_TTL_MS).unix_ms(),
    };
    let stored = async {
        let mut tx = app.db.begin().await?;
        portico_store::sign_in_flows::insert(tx.conn(), &flow, &portico_crypto::secret::sha256_hex(&cookie)).await?;
        tx.commit().await?;
        Ok::<_, Error>(())
    };
    stored.await.map_err(|e| page("internal", e.to_string()))?;
    Ok(Started { cookie, flow, first_page })
}

/// Starts a flow from an invitation link: towards the environment's default redirect URI (the
/// first redirect URI of the oldest client that has one), as if the app had sent the browser to
/// `/authorize` with the invitation token.
pub async fn begin_for_invitation(app: &App, token: &str) -> std::result::Result<Started, AuthorizeError> {
    let page = |code: &'static str, message: String| AuthorizeError::Page { code, message };
    let clients = crate::clients::list(app).await.map_err(|e| page("internal", e.to_string()))?;
    let Some((client, redirect_uri)) =
        clients.iter().find_map(|c| c.redirect_uris.first().map(|uri| (c.id.to_string(), uri.clone())))
    else {
        return Err(page("invalid_redirect_uri", "No client has a redirect URI to return to after accepting.".into()));
    };
    begin(
        app,
        AuthorizeRequest {
            client_id: Some(client),
            redirect_uri: Some(redirect_uri),
            response_type: Some("code".into()),
            invitation_token: Some(token.to_owned()),
            ..Default::default()
        },
    )
    .await
}

/// The live flow behind a browser's cookie.
pub async fn find(app: &App, cookie: &str) -> Result<Option<SignInFlow>> {
    let mut reader = app.db.read().await?;
    Ok(portico_store::sign_in_flows::find_by_cookie(
        reader.conn(),
        &portico_crypto::secret::sha256_hex(cookie),
        app.now(),
    )
    .await?)
}

pub(crate) async fn save(app: &App, flow: &mut SignInFlow) -> Result<()> {
    flow.updated_at = app.now().unix_ms();
    let mut tx = app.db.begin().await?;
    portico_store::sign_in_flows::save_progress(tx.conn(), flow).await?;
    tx.commit().await?;
    Ok(())
}

/// Email-first sign-in: remembers the address for the next page. Says nothing about whether an
/// account exists.
pub async fn submit_email(app: &App, flow: &mut SignInFlow, email: &str) -> Result<()> {
    let email = Email::parse("email", email).map_err(|e| Error::Invalid(e.into()))?;
    flow.email = Some(email.as_str().to_owned());
    flow.user_id = None;
    save(app, flow).await
}

pub async fn sign_in_with_password(app: &App, flow: &mut SignInFlow, password: &str, origin: &Origin) -> Result<Next> {
    let email =
        flow.email.clone().ok_or_else(|| Error::invalid("email", "email_required", "Enter your email first."))?;
    let user = crate::authenticate::verify_password(app, &email, password, origin).await?;
    proceed(app, flow, user, AuthMethod::Password, origin).await
}

/// Sends a sign-in code to the flow's address (creating the account if there is none: the code
/// proves the address either way).
pub async fn send_magic_code(app: &App, flow: &mut SignInFlow, lang: &str, origin: &Origin) -> Result<()> {
    let email =
        flow.email.clone().ok_or_else(|| Error::invalid("email", "email_required", "Enter your email first."))?;
    crate::magic_auth::create(app, &email, Some(lang), origin).await.map(|_| ())
}

pub async fn sign_in_with_code(app: &App, flow: &mut SignInFlow, code: &str, origin: &Origin) -> Result<Next> {
    let email =
        flow.email.clone().ok_or_else(|| Error::invalid("email", "email_required", "Enter your email first."))?;
    let user = crate::magic_auth::redeem(app, &email, code, origin).await?;
    proceed(app, flow, user, AuthMethod::MagicCode, origin).await
}

/// What the sign-up form sends.
#[derive(Debug, Clone, Default)]
pub struct SignUp {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
}

/// Creates an account and asks for its email to be verified. When the address already has an
/// account, that account's owner gets an email saying so, and this page carries on exactly as
/// for a new address (same next page, a comparable Argon2id cost): nobody learns which
/// addresses are registered.
pub async fn sign_up(app: &App, flow: &mut SignInFlow, form: SignUp, lang: &str, origin: &Origin) -> Result<Next> {
    let password = form.password.clone().unwrap_or_default();
    let email_text = form.email.clone().unwrap_or_default();
    let mut checker = portico_domain::validation::Checker::new();
    let email = checker.check(Email::parse("email", &email_text));
    checker.check(portico_domain::password::check_new_password("password", &password, Some(&email_text)));
    checker.finish()?;
    let email = email.ok_or_else(|| Error::Internal("validated fields missing".into()))?;
    codes::limit_sends(app, email.as_str(), origin.ip_address.as_deref()).await?;
    let mut reader = app.db.read().await?;
    let existing = portico_store::users::get_by_email(reader.conn(), &email).await?;
    drop(reader);
    flow.email = Some(email.as_str().to_owned());
    if existing.is_some() {
        // Spend what creating the account would have spent, then tell the owner.
        app.passwords.hash(password).await?;
        let sign_in_url = format!("{}/sign-in", app.public_url());
        let mut tx = app.db.begin().await?;
        crate::mail::enqueue(
            app,
            tx.conn(),
            email.as_str(),
            lang,
            &crate::mail::Content::AlreadyRegistered { sign_in_url: &sign_in_url },
        )
        .await?;
        tx.commit().await?;
        flow.user_id = None;
        flow.email_verification_id = None;
        save(app, flow).await?;
        return Ok(Next::VerifyEmail);
    }
    let invited_here = match &flow.invitation_id {
        Some(id) => crate::invitations::get(app, id).await.is_ok_and(|i| i.email == email),
        None => false,
    };
    let input = crate::input::CreateUser {
        email: Some(email.as_str().to_owned()),
        password: Some(password),
        first_name: form.first_name.filter(|n| !n.trim().is_empty()),
        last_name: form.last_name.filter(|n| !n.trim().is_empty()),
        // Following the invitation link proved the address.
        email_verified: Some(invited_here),
        ..Default::default()
    };
    let user = crate::users::create(app, input).await?;
    proceed(app, flow, user, AuthMethod::Password, origin).await
}

pub async fn verify_email(app: &App, flow: &mut SignInFlow, code: &str, origin: &Origin) -> Result<Next> {
    let invalid = || Error::Auth(AuthError::OneTimeCode(portico_domain::one_time_code::CodeRefusal::Invalid));
    let Some(user_id) = flow.user() else { return Err(invalid()) };
    let mut reader = app.db.read().await?;
    let user = portico_store::users::get(reader.conn(), &user_id).await?.ok_or_else(invalid)?;
    drop(reader);
    let user = crate::email_verification::redeem(app, user, code, origin.ip_address.as_deref()).await?;
    let method = flow.auth_method.as_deref().and_then(AuthMethod::parse_session_name).unwrap_or(AuthMethod::Password);
    proceed(app, flow, user, method, origin).await
}

/// Sends a new verification code for the flow's user (the "send again" link).
pub async fn resend_verification(app: &App, flow: &mut SignInFlow, lang: &str, origin: &Origin) -> Result<()> {
    let Some(user_id) = flow.user() else {
        // A sign-up for a taken address: nothing to resend, and nothing to reveal.
        return Ok(());
    };
    let user = crate::users::get(app, user_id.as_str()).await?;
    codes::limit_sends(app, user.email.as_str(), origin.ip_address.as_deref()).await?;
    let mut tx = app.db.begin().await?;
    let id = crate::email_verification::issue(app, tx.conn(), &user, Some(lang)).await?;
    tx.commit().await?;
    flow.email_verification_id = Some(id.to_string());
    save(app, flow).await
}

/// After the user proved who they are: verification, invitation, organization, code.
async fn proceed(app: &App, flow: &mut SignInFlow, user: User, method: AuthMethod, origin: &Origin) -> Result<Next> {
    if flow.purpose != SIGN_IN {
        return Err(Error::invalid("email", "not_signed_in", "Sign in from the application."));
    }
    flow.user_id = Some(user.id.to_string());
    flow.auth_method = Some(method.session_name().to_owned());
    let preferred = flow.organization_hint.clone().map(OrganizationId::from_trusted);
    // Verification comes before the invitation: an unproven address must not join anything.
    let resolution = resolve(app, &user, None).await?;
    if let Resolution::VerifyEmail { email_verification_id } = resolution {
        flow.email_verification_id = Some(email_verification_id);
        save(app, flow).await?;
        return Ok(Next::VerifyEmail);
    }
    if let Some(invitation_id) = flow.invitation_id.clone() {
        crate::invitations::accept_for(app, &invitation_id, &user).await?;
        flow.invitation_id = None;
    }
    crate::policies::auto_join(app, &user).await?;
    // A user who set up a second factor is asked for it whatever the organization requires.
    if flow.mfa_verified_at.is_none() && crate::mfa::has_second_factor(app, &user.id).await? {
        flow.pending_organization_id = None;
        save(app, flow).await?;
        return Ok(Next::MfaChallenge);
    }
    choose_or_finish(app, flow, &user, preferred, origin).await
}

/// Into the preferred or only organization, or to the choice.
async fn choose_or_finish(
    app: &App,
    flow: &mut SignInFlow,
    user: &User,
    preferred: Option<OrganizationId>,
    origin: &Origin,
) -> Result<Next> {
    match resolve(app, user, preferred.as_ref()).await? {
        Resolution::Organization(organization) => finish(app, flow, &user.id, organization, origin).await,
        Resolution::Choose(_) => {
            save(app, flow).await?;
            Ok(Next::ChooseOrganization)
        }
        Resolution::VerifyEmail { .. } => Ok(Next::VerifyEmail),
    }
}

/// The organizations the flow's user can choose from: (id, name, name of their role).
pub async fn choices(app: &App, flow: &SignInFlow) -> Result<Vec<(OrganizationId, String, String)>> {
    let Some(user) = flow.user() else { return Ok(Vec::new()) };
    let mut reader = app.db.read().await?;
    let organizations = portico_store::memberships::active_for_user(reader.conn(), &user).await?;
    let mut out = Vec::with_capacity(organizations.len());
    for (id, name) in organizations {
        let slug = match portico_store::memberships::find_state(reader.conn(), &user, &id).await? {
            Some(state) => portico_store::memberships::get(reader.conn(), &state.id).await?.map(|m| m.role.slug),
            None => None,
        };
        let Some(slug) = slug else { continue };
        // People read the role's name; its slug is for code.
        let role = match portico_store::roles::get_organization_role(reader.conn(), &id, &slug).await? {
            Some(role) => role.name,
            None => portico_store::roles::get_environment_role(reader.conn(), &slug).await?.map_or(slug, |r| r.name),
        };
        out.push((id, name, role));
    }
    Ok(out)
}

pub async fn choose_organization(
    app: &App,
    flow: &mut SignInFlow,
    organization: &str,
    origin: &Origin,
) -> Result<Next> {
    let user = flow.user().ok_or_else(|| Error::invalid("organization_id", "not_signed_in", "Sign in first."))?;
    let refused =
        || Error::invalid("organization_id", "organization_not_available", "Choose one of your organizations.");
    let organization = OrganizationId::parse(organization).ok_or_else(refused)?;
    let mut reader = app.db.read().await?;
    // The flow knows the user once their password or code was right, but a choice made before
    // their email is verified must not skip the verification.
    let verified = portico_store::users::get(reader.conn(), &user).await?.is_some_and(|u| u.email_verified);
    if app.settings.require_email_verification && !verified {
        return Err(Error::invalid("organization_id", "email_not_verified", "Verify your email first."));
    }
    let member = portico_store::memberships::find_state(reader.conn(), &user, &organization)
        .await?
        .is_some_and(|m| m.status == portico_domain::membership::MembershipStatus::Active);
    drop(reader);
    if !member {
        return Err(refused());
    }
    finish(app, flow, &user, Some(organization), origin).await
}

/// Checks the organization's policy for the flow, then issues the authorization code and ends
/// the flow; or sends the person to the second factor the policy asks for.
async fn finish(
    app: &App,
    flow: &mut SignInFlow,
    user: &UserId,
    organization: Option<OrganizationId>,
    origin: &Origin,
) -> Result<Next> {
    finish_offering(app, flow, user, organization, origin, true).await
}

/// [`finish`], saying whether to offer a set-up during an MFA grace period (not when the person
/// just chose "Not now").
async fn finish_offering(
    app: &App,
    flow: &mut SignInFlow,
    user: &UserId,
    organization: Option<OrganizationId>,
    origin: &Origin,
    offer_grace_setup: bool,
) -> Result<Next> {
    // Only a sign-in (or switcher) flow ends with a code: the passkeys page's flow never does.
    if flow.purpose != SIGN_IN {
        return Err(Error::invalid("organization_id", "not_signed_in", "Sign in first."));
    }
    let now = app.now();
    // The organization switcher continues a live session: it must meet the new organization's
    // policy with what it proved (a session that satisfied one organization's policy does not
    // unlock another's). A sign-in checks what it just proved.
    let (checkpoint, proof) = match flow.continues_session_id.as_deref().and_then(portico_domain::SessionId::parse) {
        Some(session_id) => {
            let mut reader = app.db.read().await?;
            let session = portico_store::sessions::get(reader.conn(), &session_id)
                .await?
                .filter(|s| s.is_live(now, app.settings.session_limits))
                .ok_or_else(|| {
                    Error::invalid("organization_id", "session_ended", "Your session has ended; sign in again.")
                })?;
            drop(reader);
            let mut proof = crate::policies::Proof::of(&session);
            proof.mfa_verified |= flow.mfa_verified_at.is_some();
            (Checkpoint::Switch, proof)
        }
        None => {
            let method =
                flow.auth_method.as_deref().and_then(AuthMethod::parse_session_name).unwrap_or(AuthMethod::Password);
            (Checkpoint::SignIn, crate::policies::Proof::fresh(app, method, flow.mfa_verified_at.is_some()))
        }
    };
    let decision = crate::policies::check(app, checkpoint, user, organization.as_ref(), &proof, origin).await?;
    match decision {
        Decision::Allow => {
            if offer_grace_setup
                && let Some(org) = &organization
                && crate::policies::grace_deadline(app, org, user).await?.is_some()
            {
                flow.pending_organization_id = Some(org.to_string());
                save(app, flow).await?;
                return Ok(Next::MfaGrace);
            }
        }
        Decision::StepUp(step @ (StepUp::MfaChallenge | StepUp::MfaEnrollment)) => {
            flow.pending_organization_id = organization.map(|o| o.to_string());
            save(app, flow).await?;
            return Ok(if step == StepUp::MfaChallenge { Next::MfaChallenge } else { Next::MfaEnroll });
        }
        Decision::StepUp(StepUp::Reauthenticate) => {
            return Err(AuthError::PolicyRefused {
                code: "reauthentication_required",
                message: "The organization requires signing in again after a while.".into(),
                email: String::new(),
                allowed_methods: None,
            }
            .into());
        }
        Decision::Refuse(_) => {
            let mut reader = app.db.read().await?;
            let email = portico_store::users::get(reader.conn(), user).await?.map(|u| u.email.as_str().to_owned());
            drop(reader);
            return Err(crate::policies::refusal(&decision, email.as_deref().unwrap_or_default())
                .unwrap_or_else(|| Error::Internal("a refusal without a reason".into())));
        }
    }
    let code = codes::new_token()?;
    let now = app.now();
    let record = AuthorizationCode {
        id: app.ids.next_ulid(now).to_string(),
        client_id: flow.client_id.clone(),
        redirect_uri: flow.redirect_uri.clone(),
        code_challenge: flow.code_challenge.clone(),
        user_id: user.to_string(),
        organization_id: organization.map(|o| o.to_string()),
        invitation_id: None,
        auth_method: flow.auth_method.clone().unwrap_or_else(|| AuthMethod::Password.session_name().to_owned()),
        ip_address: origin.ip_address.clone(),
        user_agent: origin.user_agent.clone(),
        created_at: now.unix_ms(),
        expires_at: now.plus_ms(CODE_TTL_MS).unix_ms(),
        used_at: None,
        session_id: None,
        continues_session_id: flow.continues_session_id.clone(),
        mfa_verified_at: flow.mfa_verified_at,
    };
    let mut tx = app.db.begin().await?;
    portico_store::authorization_codes::insert(tx.conn(), &record, &portico_crypto::secret::sha256_hex(&code)).await?;
    portico_store::sign_in_flows::delete(tx.conn(), &flow.id).await?;
    tx.commit().await?;
    let mut pairs = vec![("code", code.as_str())];
    if let Some(state) = flow.state.as_deref() {
        pairs.push(("state", state));
    }
    Ok(Next::Redirect(append_query(&flow.redirect_uri, &pairs)))
}

/// The user the flow's second-factor pages are for: known, and with a verified email.
async fn user_for_second_factor(app: &App, flow: &SignInFlow) -> Result<User> {
    let not_ready = || Error::invalid("code", "not_signed_in", "Sign in first.");
    let id = flow.user().ok_or_else(not_ready)?;
    let mut reader = app.db.read().await?;
    let user = portico_store::users::get(reader.conn(), &id).await?.ok_or_else(not_ready)?;
    if app.settings.require_email_verification && !user.email_verified {
        return Err(not_ready());
    }
    Ok(user)
}

/// The user setting up a second factor in the flow. A user who has one already must pass it
/// first: a new factor must not stand in for the one an attacker with the password lacks.
async fn user_for_enrollment(app: &App, flow: &SignInFlow) -> Result<User> {
    let user = user_for_second_factor(app, flow).await?;
    if flow.mfa_verified_at.is_none() && crate::mfa::has_second_factor(app, &user.id).await? {
        return Err(Error::invalid(
            "code",
            "second_factor_required",
            "Verify with the second factor you already have first.",
        ));
    }
    Ok(user)
}

/// The TOTP factor the enrollment page shows (the same one on every reload of the flow).
pub async fn enrollment(app: &App, flow: &mut SignInFlow) -> Result<portico_domain::auth_factor::AuthFactor> {
    let user = user_for_enrollment(app, flow).await?;
    let factor = crate::mfa::hosted_enrollment(app, &user, flow.enrolling_factor_id.as_deref()).await?;
    if flow.enrolling_factor_id.as_deref() != Some(factor.id.as_str()) {
        flow.enrolling_factor_id = Some(factor.id.to_string());
        save(app, flow).await?;
    }
    Ok(factor)
}

/// Confirms the enrollment with a first code; returns the recovery codes to show once.
pub async fn confirm_enrollment(app: &App, flow: &mut SignInFlow, code: &str, origin: &Origin) -> Result<Vec<String>> {
    let user = user_for_enrollment(app, flow).await?;
    let factor = flow
        .enrolling_factor_id
        .clone()
        .ok_or_else(|| Error::invalid("code", "no_enrollment", "Start the set-up again."))?;
    let recovery = crate::mfa::confirm_enrollment(app, &user.id, &factor, code, origin).await?;
    flow.mfa_verified_at = Some(app.now().unix_ms());
    flow.enrolling_factor_id = None;
    save(app, flow).await?;
    Ok(recovery)
}

/// Checks a code from the user's authenticator (or a recovery code) and goes on.
pub async fn verify_second_factor(app: &App, flow: &mut SignInFlow, code: &str, origin: &Origin) -> Result<Next> {
    let user = user_for_second_factor(app, flow).await?;
    crate::mfa::verify_user_code(app, &user.id, code, origin).await?;
    flow.mfa_verified_at = Some(app.now().unix_ms());
    save(app, flow).await?;
    continue_after_second_factor(app, flow, origin).await
}

/// Which second factors the flow's user can verify with: (a code — from an authenticator app,
/// or a recovery code —, passkeys).
pub async fn second_factor_kinds(app: &App, flow: &SignInFlow) -> Result<(bool, bool)> {
    let Some(user) = flow.user() else { return Ok((false, false)) };
    let has_codes = !crate::mfa::verified_factors(app, &user).await?.is_empty()
        || crate::mfa::remaining_recovery_codes(app, &user).await? > 0;
    let has_passkeys = !crate::passkeys::list(app, &user).await?.is_empty();
    Ok((has_codes, has_passkeys))
}

/// Starts a passkey ceremony for the flow (`purpose`: `sign_in`, `second_factor`, `register`, or
/// on the passkeys page `register` and `confirm`): the options for the browser's WebAuthn call.
/// Each stores a challenge, so they are limited per client address like code checks.
pub async fn passkey_options(
    app: &App,
    flow: &SignInFlow,
    purpose: &str,
    origin: &Origin,
) -> Result<serde_json::Value> {
    use crate::passkeys::Purpose;
    if let Some(ip) = &origin.ip_address {
        crate::rate_limits::check(
            app,
            &format!("passkey-options:ip:{ip}"),
            app.settings.code_checks_per_ip,
            "passkey requests from this address",
        )
        .await?;
    }
    let purpose = Purpose::parse(purpose).ok_or_else(|| {
        Error::invalid("purpose", "invalid", "purpose must be sign_in, second_factor, register or confirm.")
    })?;
    let signing_in = flow.purpose == SIGN_IN && flow.continues_session_id.is_none();
    match purpose {
        Purpose::SignIn if signing_in => crate::passkeys::options(app, flow, purpose, None).await,
        Purpose::SecondFactor if signing_in => {
            let user = user_for_second_factor(app, flow).await?;
            crate::passkeys::options(app, flow, purpose, Some(&user)).await
        }
        Purpose::Register if signing_in => {
            let user = user_for_enrollment(app, flow).await?;
            crate::passkeys::options(app, flow, purpose, Some(&user)).await
        }
        Purpose::Register | Purpose::Confirm if flow.purpose == PASSKEY_SETTINGS => {
            let user = crate::passkey_page::settings_user(app, flow).await?;
            crate::passkeys::options(app, flow, purpose, Some(&user)).await
        }
        _ => Err(Error::invalid("purpose", "invalid", "This page cannot use a passkey that way.")),
    }
}

fn passkey_flow_only(flow: &SignInFlow) -> Result<()> {
    if flow.purpose != SIGN_IN || flow.continues_session_id.is_some() {
        return Err(Error::invalid("credential", "invalid", "This page cannot sign in with a passkey."));
    }
    Ok(())
}

/// Signs in with a passkey (no email typed): the passkey verified the user, so it counts as the
/// second factor too.
pub async fn sign_in_with_passkey(
    app: &App,
    flow: &mut SignInFlow,
    response: &crate::passkeys::CredentialResponse,
    origin: &Origin,
) -> Result<Next> {
    passkey_flow_only(flow)?;
    let user =
        crate::passkeys::authenticate(app, flow, crate::passkeys::Purpose::SignIn, None, response, origin).await?;
    flow.email = Some(user.email.as_str().to_owned());
    flow.mfa_verified_at = Some(app.now().unix_ms());
    proceed(app, flow, user, AuthMethod::Passkey, origin).await
}

/// The second factor with one of the user's passkeys, after a password or an emailed code.
pub async fn verify_second_factor_with_passkey(
    app: &App,
    flow: &mut SignInFlow,
    response: &crate::passkeys::CredentialResponse,
    origin: &Origin,
) -> Result<Next> {
    passkey_flow_only(flow)?;
    let user = user_for_second_factor(app, flow).await?;
    crate::passkeys::authenticate(app, flow, crate::passkeys::Purpose::SecondFactor, Some(&user.id), response, origin)
        .await?;
    flow.mfa_verified_at = Some(app.now().unix_ms());
    save(app, flow).await?;
    continue_after_second_factor(app, flow, origin).await
}

/// Sets up a passkey as the second factor an organization requires, instead of an
/// authenticator app, and goes on.
pub async fn set_up_passkey(
    app: &App,
    flow: &mut SignInFlow,
    response: &crate::passkeys::CredentialResponse,
    origin: &Origin,
) -> Result<Next> {
    passkey_flow_only(flow)?;
    let user = user_for_enrollment(app, flow).await?;
    crate::passkeys::register(app, flow, &user, response, origin).await?;
    // The authenticator-app enrollment the set-up page started is not wanted any more.
    crate::mfa::drop_unfinished_enrollment(app, &user.id).await?;
    flow.mfa_verified_at = Some(app.now().unix_ms());
    flow.enrolling_factor_id = None;
    save(app, flow).await?;
    continue_after_second_factor(app, flow, origin).await
}

/// After the second factor: into the organization chosen before it, or on to the choice.
pub async fn continue_after_second_factor(app: &App, flow: &mut SignInFlow, origin: &Origin) -> Result<Next> {
    if flow.mfa_verified_at.is_none() {
        return Err(Error::invalid("code", "second_factor_required", "Enter the code from your authenticator app."));
    }
    let user = user_for_second_factor(app, flow).await?;
    match flow.pending_organization_id.take().map(OrganizationId::from_trusted) {
        Some(organization) => finish(app, flow, &user.id, Some(organization), origin).await,
        None if flow.continues_session_id.is_some() => Ok(Next::ChooseOrganization),
        None => {
            let preferred = flow.organization_hint.clone().map(OrganizationId::from_trusted);
            choose_or_finish(app, flow, &user, preferred, origin).await
        }
    }
}

/// The organization whose MFA grace the flow is in, and when the grace ends: what the "set it up
/// now?" page says. `None` when the flow is not at that page.
pub async fn grace_offer(app: &App, flow: &SignInFlow) -> Result<Option<(String, portico_domain::Timestamp)>> {
    let (Some(user), Some(org)) = (flow.user(), flow.pending_organization_id.clone()) else { return Ok(None) };
    let org = OrganizationId::from_trusted(org);
    let Some(deadline) = crate::policies::grace_deadline(app, &org, &user).await? else { return Ok(None) };
    let mut reader = app.db.read().await?;
    let name = portico_store::organizations::name(reader.conn(), &org).await?.unwrap_or_default();
    Ok(Some((name, deadline)))
}

/// "Not now" on the grace page: on into the organization without a second factor.
pub async fn skip_grace_setup(app: &App, flow: &mut SignInFlow, origin: &Origin) -> Result<Next> {
    let user = user_for_second_factor(app, flow).await?;
    let organization = flow
        .pending_organization_id
        .take()
        .map(OrganizationId::from_trusted)
        .ok_or_else(|| Error::invalid("organization_id", "no_grace", "Sign in again."))?;
    finish_offering(app, flow, &user.id, Some(organization), origin, false).await
}

/// Why the user's previous session ended, when an organization's policy ended it: the
/// second-factor pages say so. `(code, organization name)`.
pub async fn policy_notice(app: &App, flow: &SignInFlow) -> Result<Option<(String, Option<String>)>> {
    let Some(user) = flow.user() else { return Ok(None) };
    let mut reader = app.db.read().await?;
    let Some((reason, organization)) = portico_store::sessions::last_policy_revocation(reader.conn(), &user).await?
    else {
        return Ok(None);
    };
    let name = match organization {
        Some(id) => {
            portico_store::organizations::get(reader.conn(), &OrganizationId::from_trusted(id)).await?.map(|o| o.name)
        }
        None => None,
    };
    Ok(Some((reason.trim_start_matches("policy:").to_owned(), name)))
}

/// How long a one-time link to a signed-in page (organization switcher, passkeys) can wait to
/// be opened.
pub(crate) const LINK_TTL_MS: i64 = 5 * 60 * 1000;

/// What `POST /user_management/sessions/{id}/organization_switch` takes: where to send the
/// browser back, as for `/authorize`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SwitchRequest {
    pub client_id: Option<String>,
    /// Exactly one of the client's redirect URIs; the code for the chosen organization goes there.
    pub redirect_uri: Option<String>,
    /// Returned verbatim with the code.
    pub state: Option<String>,
    /// PKCE S256 challenge; without it, the exchange needs the API key.
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// A one-time link to a hosted page for a signed-in session: the organization switcher
/// (`object: "organization_switch"`) or the passkeys page (`"passkey_settings"`).
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionLink {
    pub object: &'static str,
    pub url: String,
    pub session_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub expires_at: portico_domain::Timestamp,
}

/// The live session a one-time link is for, and the client it returns to; a missing, unknown
/// or ended one is a field error in `checker`.
pub(crate) async fn link_subject(
    app: &App,
    session_id: &str,
    client_text: &str,
    checker: &mut portico_domain::validation::Checker,
) -> Result<(portico_domain::session::Session, Option<portico_store::clients::ClientRecord>)> {
    use portico_domain::validation::FieldError;
    let id = portico_domain::SessionId::parse(session_id).ok_or_else(|| Error::not_found("Session", session_id))?;
    let mut reader = app.db.read().await?;
    let session = portico_store::sessions::get(reader.conn(), &id)
        .await?
        .ok_or_else(|| Error::not_found("Session", session_id))?;
    let client = match ClientId::parse(client_text) {
        Some(client_id) => portico_store::clients::get(reader.conn(), &client_id).await?,
        None => None,
    };
    drop(reader);
    if !session.is_live(app.now(), app.settings.session_limits) {
        checker.push(FieldError::new(
            "session_id",
            "session_ended",
            "The session has ended; the user must sign in again.",
        ));
    }
    match &client {
        None if client_text.is_empty() => {
            checker.push(FieldError::new("client_id", "required", "client_id is required."))
        }
        None => checker.push(FieldError::new(
            "client_id",
            "invalid_client",
            format!("Client '{client_text}' does not exist."),
        )),
        Some(_) => {}
    }
    Ok((session, client))
}

/// A flow that continues `session` from a one-time link, stored under the link's digest.
pub(crate) async fn issue_link(
    app: &App,
    session: &portico_domain::session::Session,
    client: &portico_store::clients::ClientRecord,
    purpose: &str,
    redirect_uri: &str,
    state: Option<String>,
    code_challenge: Option<String>,
) -> Result<String> {
    let now = app.now();
    let link = codes::new_token()?;
    let flow = SignInFlow {
        id: app.ids.next_ulid(now).to_string(),
        client_id: client.id.to_string(),
        redirect_uri: redirect_uri.to_owned(),
        state,
        code_challenge,
        organization_hint: session.organization_id.as_ref().map(ToString::to_string),
        invitation_id: None,
        email: None,
        user_id: Some(session.user_id.to_string()),
        auth_method: Some(session.auth_method.clone()),
        email_verification_id: None,
        continues_session_id: Some(session.id.to_string()),
        mfa_verified_at: None,
        pending_organization_id: None,
        enrolling_factor_id: None,
        purpose: purpose.to_owned(),
        created_at: now.unix_ms(),
        updated_at: now.unix_ms(),
        expires_at: now.plus_ms(LINK_TTL_MS).unix_ms(),
    };
    let mut tx = app.db.begin().await?;
    portico_store::sign_in_flows::insert(tx.conn(), &flow, &portico_crypto::secret::sha256_hex(&link)).await?;
    tx.commit().await?;
    Ok(link)
}

/// Creates a one-time link that shows a signed-in user their organizations and returns to the
/// app with a code for the one they choose; exchanging that code continues `session_id` in the
/// chosen organization. The app's backend asks for it (with its API key), so the link stands in
/// for the sign-in the session already proved.
pub async fn begin_switch(app: &App, session_id: &str, request: SwitchRequest) -> Result<SessionLink> {
    use portico_domain::validation::FieldError;
    let now = app.now();
    let mut checker = portico_domain::validation::Checker::new();
    let redirect_uri = request.redirect_uri.as_deref().unwrap_or_default();
    let (session, client) =
        link_subject(app, session_id, request.client_id.as_deref().unwrap_or_default(), &mut checker).await?;
    match &client {
        Some(_) if redirect_uri.is_empty() => {
            checker.push(FieldError::new("redirect_uri", "required", "redirect_uri is required."))
        }
        Some(client) if !client.redirect_uris.iter().any(|allowed| allowed == redirect_uri) => {
            checker.push(FieldError::new(
                "redirect_uri",
                "redirect_uri_not_allowed",
                format!("{redirect_uri} is not one of the client's redirect URIs."),
            ))
        }
        _ => {}
    }
    let code_challenge = match (request.code_challenge.as_deref(), request.code_challenge_method.as_deref()) {
        (None | Some(""), None | Some("")) => None,
        (Some(challenge), Some("S256"))
            if (43..=128).contains(&challenge.len())
                && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Some(challenge.to_owned())
        }
        (Some(_), Some("S256")) => {
            checker.push(FieldError::new(
                "code_challenge",
                "invalid",
                "code_challenge must be a base64url SHA-256 digest.",
            ));
            None
        }
        _ => {
            checker.push(FieldError::new(
                "code_challenge_method",
                "invalid",
                "code_challenge_method must be S256, with a code_challenge.",
            ));
            None
        }
    };
    checker.finish()?;
    let client = client.ok_or_else(|| Error::Internal("validated client missing".into()))?;
    let state = request.state.filter(|s| !s.is_empty());
    let link = issue_link(app, &session, &client, SIGN_IN, redirect_uri, state, code_challenge).await?;
    Ok(SessionLink {
        object: "organization_switch",
        url: append_query(&format!("{}/switch-organization", app.public_url()), &[("token", &link)]),
        session_id: session.id.to_string(),
        expires_at: now.plus_ms(LINK_TTL_MS),
    })
}

/// Hands a one-time link's flow to the browser: the link works once, and from then on the flow
/// answers to the returned cookie. `None` when the link is unknown, used, expired or made for
/// another page, or its session has ended.
pub(crate) async fn open_link(app: &App, link: &str, purpose: &str) -> Result<Option<(String, SignInFlow)>> {
    let now = app.now();
    let cookie = codes::new_token()?;
    let mut tx = app.db.begin().await?;
    let claimed = portico_store::sign_in_flows::claim_link(
        tx.conn(),
        &portico_crypto::secret::sha256_hex(link),
        &portico_crypto::secret::sha256_hex(&cookie),
        purpose,
        now,
        // Opened in time: the person gets as long as any sign-in flow.
        now.plus_ms(FLOW_TTL_MS),
    )
    .await?;
    tx.commit().await?;
    if !claimed {
        return Ok(None);
    }
    let Some(flow) = find(app, &cookie).await? else { return Ok(None) };
    Ok(live_session_of(app, &flow).await?.map(|_| (cookie, flow)))
}

/// The live session a flow continues.
pub(crate) async fn live_session_of(app: &App, flow: &SignInFlow) -> Result<Option<portico_domain::session::Session>> {
    let Some(session_id) = flow.continues_session_id.as_deref().and_then(portico_domain::SessionId::parse) else {
        return Ok(None);
    };
    let mut reader = app.db.read().await?;
    Ok(portico_store::sessions::get(reader.conn(), &session_id)
        .await?
        .filter(|s| s.is_live(app.now(), app.settings.session_limits)))
}

/// Opens an organization-switcher link in a browser.
pub async fn open_switch(app: &App, link: &str) -> Result<Option<Started>> {
    Ok(open_link(app, link, SIGN_IN).await?.map(|(cookie, flow)| Started {
        cookie,
        flow,
        first_page: FirstPage::ChooseOrganization,
    }))
}

/// A replayed code: revoke the session its first exchange issued (RFC 9700 §4.5.3 / RFC 6749 §4.1.2).
pub(crate) async fn revoke_replayed(app: &App, code: &AuthorizationCode) -> Result<()> {
    if let Some(session) = &code.session_id {
        match crate::sessions::revoke_with_reason(app, session, "authorization_code_replayed").await {
            Ok(_) | Err(Error::NotFound { .. }) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(())
}

/// A short public name for the flow behind a cookie, put in forms: it tells which flow a form
/// was shown for without revealing the cookie.
pub fn flow_tag(cookie: &str) -> String {
    portico_crypto::secret::sha256_hex(cookie).chars().take(16).collect()
}

/// A fresh random token for browser cookies (CSRF).
pub fn new_browser_token() -> Result<String> {
    codes::new_token()
}

/// Compares two tokens in constant time.
pub fn tokens_match(presented: &str, expected: &str) -> bool {
    portico_crypto::secret::constant_time_eq(presented, expected)
}
