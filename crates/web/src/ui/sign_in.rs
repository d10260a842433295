//! The sign-in flow's pages: `/user_management/authorize`, email, password, emailed code,
//! sign-up, email verification, organization choice, invitations, and the signed-out page.

use super::page::{
    Choice, Chrome, CodePage, InvitationPage, MessagePage, OrganizationsPage, PasswordPage, SignInPage, SignUpPage,
    error_page, explain, refused, render, show_refusal,
};
use super::{Form, Visitor, see_other};
use crate::WebState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use portico_app::authorize::SignInFlow;
use portico_app::authorize::{self, AuthorizeError, AuthorizeRequest, FirstPage, Next};

/// Loads the browser's flow, or answers with the "start again" page.
pub(super) async fn flow_of(state: &WebState, visitor: &Visitor) -> Result<SignInFlow, Response> {
    let Some(cookie) = &visitor.flow_cookie else {
        return Err(error_page(state, visitor, StatusCode::BAD_REQUEST, "flow_expired"));
    };
    match authorize::find(&state.app, cookie).await {
        Ok(Some(flow)) => Ok(flow),
        Ok(None) => Err(error_page(state, visitor, StatusCode::BAD_REQUEST, "flow_expired")),
        Err(error) => {
            tracing::error!(%error, "loading a sign-in flow failed");
            Err(error_page(state, visitor, StatusCode::INTERNAL_SERVER_ERROR, "internal"))
        }
    }
}

/// Loads the browser's flow for a page that needs the email typed on the first page; without
/// it, back to that page.
async fn flow_with_email(state: &WebState, visitor: &Visitor) -> Result<SignInFlow, Response> {
    let flow = flow_of(state, visitor).await?;
    if flow.email.is_none() {
        return Err(see_other(visitor, "/sign-in"));
    }
    Ok(flow)
}

/// Loads the flow for a form submission, after checking the submission is genuine.
pub(super) async fn posted_flow(
    state: &WebState,
    visitor: &Visitor,
    body: &Bytes,
) -> Result<(SignInFlow, Form), Response> {
    let form = Form::parse(body);
    if !visitor.form_is_genuine(&form) {
        return Err(error_page(state, visitor, StatusCode::FORBIDDEN, "csrf"));
    }
    // One browser has one flow at a time: a form shown for a flow that a newer sign-in (in
    // another tab) replaced must not carry on with the newer one.
    let current = visitor.flow_cookie.as_deref().map(authorize::flow_tag);
    if form.get("flow").is_none_or(|tag| current.as_deref() != Some(tag)) {
        return Err(error_page(state, visitor, StatusCode::CONFLICT, "flow_replaced"));
    }
    Ok((flow_of(state, visitor).await?, form))
}

pub(super) fn go(visitor: &Visitor, next: Next) -> Response {
    match next {
        Next::VerifyEmail => see_other(visitor, "/verify-email"),
        Next::ChooseOrganization => see_other(visitor, "/choose-organization"),
        Next::MfaChallenge => see_other(visitor, "/mfa/verify"),
        Next::MfaEnroll => see_other(visitor, "/mfa/setup"),
        Next::MfaGrace => see_other(visitor, "/mfa/soon"),
        Next::Redirect(url) => see_other(visitor, &url),
    }
}

/// `GET /user_management/authorize`: checks the client and redirect URI (an error page, never a
/// redirect, when either is wrong), then starts a flow and shows its first page.
#[utoipa::path(get, path = "/user_management/authorize", tag = "authentication", security(()),
    params(
        ("client_id" = String, Query), ("redirect_uri" = String, Query, description = "Exactly one of the client's redirect URIs"),
        ("response_type" = String, Query, description = "code"), ("state" = Option<String>, Query, description = "Returned verbatim"),
        ("code_challenge" = Option<String>, Query, description = "PKCE S256 challenge"), ("code_challenge_method" = Option<String>, Query, description = "S256"),
        ("provider" = Option<String>, Query, description = "authkit"), ("screen_hint" = Option<String>, Query, description = "sign-in or sign-up"),
        ("login_hint" = Option<String>, Query), ("organization_id" = Option<String>, Query), ("invitation_token" = Option<String>, Query),
        ("prompt" = Option<String>, Query, description = "none answers login_required"), ("max_age" = Option<String>, Query),
    ),
    responses(
        (status = 302, description = "To the first hosted page; or back to redirect_uri with error and state"),
        (status = 400, description = "An HTML error page: unknown client, or a redirect URI the client does not list"),
    ))]
pub async fn authorize(State(state): State<WebState>, visitor: Visitor) -> Response {
    let mut request = AuthorizeRequest::default();
    for (field, value) in [
        ("client_id", &mut request.client_id),
        ("redirect_uri", &mut request.redirect_uri),
        ("response_type", &mut request.response_type),
        ("state", &mut request.state),
        ("provider", &mut request.provider),
        ("connection_id", &mut request.connection_id),
        ("code_challenge", &mut request.code_challenge),
        ("code_challenge_method", &mut request.code_challenge_method),
        ("screen_hint", &mut request.screen_hint),
        ("login_hint", &mut request.login_hint),
        ("domain_hint", &mut request.domain_hint),
        ("organization_id", &mut request.organization_id),
        ("invitation_token", &mut request.invitation_token),
        ("prompt", &mut request.prompt),
        ("max_age", &mut request.max_age),
    ] {
        *value = visitor.query(field).map(str::to_owned);
    }
    start(&state, &visitor, authorize::begin(&state.app, request).await)
}

fn start(state: &WebState, visitor: &Visitor, outcome: Result<authorize::Started, AuthorizeError>) -> Response {
    match outcome {
        Ok(started) => {
            let first = match started.first_page {
                FirstPage::SignIn => "/sign-in",
                FirstPage::SignUp => "/sign-up",
                FirstPage::Invitation => "/invitation",
                FirstPage::ChooseOrganization => "/choose-organization",
            };
            let mut response = see_other(visitor, first);
            response.headers_mut().insert(header::LOCATION, header::HeaderValue::from_static(first));
            response.headers_mut().append(header::SET_COOKIE, visitor.flow_cookie_header(&started.cookie));
            // `/authorize` is a top-level GET navigation: 302, as OAuth clients expect.
            *response.status_mut() = StatusCode::FOUND;
            response
        }
        Err(AuthorizeError::Page { code, message }) => {
            tracing::info!(code, %message, "refused an authorization request");
            error_page(state, visitor, StatusCode::BAD_REQUEST, code)
        }
        Err(AuthorizeError::Redirect(url)) => {
            let mut response = see_other(visitor, &url);
            *response.status_mut() = StatusCode::FOUND;
            response
        }
    }
}

pub(super) fn sign_in_page(state: &WebState, visitor: &Visitor, email: String) -> SignInPage {
    SignInPage { chrome: Chrome::new(state, visitor, "sign_in.title"), email, email_invalid: true }
}

pub async fn email_page(State(state): State<WebState>, visitor: Visitor) -> Response {
    let flow = match flow_of(&state, &visitor).await {
        Ok(flow) => flow,
        Err(response) => return response,
    };
    let email = if visitor.query("change").is_some() { String::new() } else { flow.email.unwrap_or_default() };
    render(StatusCode::OK, &visitor, &sign_in_page(&state, &visitor, email))
}

pub async fn submit_email(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Response {
    let (mut flow, form) = match posted_flow(&state, &visitor, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let email = form.text("email");
    match authorize::submit_email(&state.app, &mut flow, &email).await {
        Ok(()) => see_other(&visitor, "/sign-in/password"),
        Err(error) => show_refusal(&visitor, &error, sign_in_page(&state, &visitor, email)),
    }
}

fn password_view(state: &WebState, visitor: &Visitor, flow: &SignInFlow) -> PasswordPage {
    let email = flow.email.clone().unwrap_or_default();
    PasswordPage {
        chrome: Chrome::new(state, visitor, "password.title"),
        subtitle: visitor.t.format("password.subtitle", &[("email", &email)]),
        email,
    }
}

pub async fn password_page(State(state): State<WebState>, visitor: Visitor) -> Response {
    let (state, visitor) = (&state, &visitor);
    let flow = match flow_with_email(state, visitor).await {
        Ok(flow) => flow,
        Err(response) => return response,
    };
    render(StatusCode::OK, visitor, &password_view(state, visitor, &flow))
}

pub async fn submit_password(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Response {
    let (mut flow, form) = match posted_flow(&state, &visitor, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let password = form.get("password").unwrap_or_default().to_owned();
    match authorize::sign_in_with_password(&state.app, &mut flow, &password, &visitor.origin).await {
        Ok(next) => go(&visitor, next),
        Err(error) => show_refusal(&visitor, &error, password_view(&state, &visitor, &flow)),
    }
}

fn code_view(state: &WebState, visitor: &Visitor, flow: &SignInFlow) -> CodePage {
    let email = flow.email.clone().unwrap_or_default();
    let product = state.app.settings.branding.product_name.clone();
    CodePage {
        chrome: Chrome::new(state, visitor, "code.title"),
        subtitle: visitor.t.format("code.subtitle", &[("email", &email), ("product", &product)]),
        action: "/sign-in/code",
        resend_action: "/sign-in/code/send",
        submit: visitor.t.get("code.submit").to_owned(),
    }
}

pub async fn code_page(State(state): State<WebState>, visitor: Visitor) -> Response {
    let (state, visitor) = (&state, &visitor);
    let flow = match flow_with_email(state, visitor).await {
        Ok(flow) => flow,
        Err(response) => return response,
    };
    let mut page = code_view(state, visitor, &flow);
    if visitor.query("sent").is_some() {
        page.chrome.notice = Some(visitor.t.get("code.sent").to_owned());
    }
    render(StatusCode::OK, visitor, &page)
}

pub async fn send_code(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Response {
    let (mut flow, _) = match posted_flow(&state, &visitor, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match authorize::send_magic_code(&state.app, &mut flow, visitor.t.lang, &visitor.origin).await {
        // The code page says a code was sent; "sent again" is for the resend button.
        Ok(()) if visitor.query("again").is_some() => see_other(&visitor, "/sign-in/code?sent=1"),
        Ok(()) => see_other(&visitor, "/sign-in/code"),
        Err(error) => show_refusal(&visitor, &error, code_view(&state, &visitor, &flow)),
    }
}

pub async fn submit_code(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Response {
    let (mut flow, form) = match posted_flow(&state, &visitor, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match authorize::sign_in_with_code(&state.app, &mut flow, &form.text("code"), &visitor.origin).await {
        Ok(next) => go(&visitor, next),
        Err(error) => show_refusal(&visitor, &error, code_view(&state, &visitor, &flow)),
    }
}

async fn invited_email(state: &WebState, flow: &SignInFlow) -> Option<String> {
    let id = flow.invitation_id.as_deref()?;
    portico_app::invitations::get(&state.app, id).await.ok().map(|i| i.email.as_str().to_owned())
}

pub async fn sign_up_page(State(state): State<WebState>, visitor: Visitor) -> Response {
    let flow = match flow_of(&state, &visitor).await {
        Ok(flow) => flow,
        Err(response) => return response,
    };
    let invited = invited_email(&state, &flow).await;
    let page = SignUpPage {
        chrome: Chrome::new(&state, &visitor, "sign_up.title"),
        first_name: String::new(),
        last_name: String::new(),
        email: invited.clone().or(flow.email).unwrap_or_default(),
        email_locked: invited.is_some(),
        invalid_email: false,
        invalid_password: false,
    };
    render(StatusCode::OK, &visitor, &page)
}

pub async fn submit_sign_up(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Response {
    let (mut flow, form) = match posted_flow(&state, &visitor, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let invited = invited_email(&state, &flow).await;
    let email = invited.clone().unwrap_or_else(|| form.text("email"));
    let sign_up = authorize::SignUp {
        first_name: Some(form.text("first_name")),
        last_name: Some(form.text("last_name")),
        email: Some(email.clone()),
        password: form.get("password").map(str::to_owned),
    };
    match authorize::sign_up(&state.app, &mut flow, sign_up, visitor.t.lang, &visitor.origin).await {
        Ok(next) => go(&visitor, next),
        Err(error) => {
            let explained = explain(visitor.t, &error);
            let mut chrome = Chrome::new(&state, &visitor, "sign_up.title");
            chrome.errors = explained.messages.clone();
            let page = SignUpPage {
                chrome,
                first_name: form.text("first_name"),
                last_name: form.text("last_name"),
                email,
                email_locked: invited.is_some(),
                invalid_email: explained.fields.iter().any(|f| f == "email"),
                invalid_password: explained.fields.iter().any(|f| f == "password"),
            };
            refused(&visitor, &explained, &page)
        }
    }
}

fn verify_page_for(state: &WebState, visitor: &Visitor, flow: &SignInFlow) -> CodePage {
    let email = flow.email.clone().unwrap_or_default();
    CodePage {
        chrome: Chrome::new(state, visitor, "verify.title"),
        subtitle: visitor.t.format("verify.subtitle", &[("email", &email)]),
        action: "/verify-email",
        resend_action: "/verify-email/resend",
        submit: visitor.t.get("verify.submit").to_owned(),
    }
}

pub async fn verify_page(State(state): State<WebState>, visitor: Visitor) -> Response {
    let flow = match flow_of(&state, &visitor).await {
        Ok(flow) => flow,
        Err(response) => return response,
    };
    let mut page = verify_page_for(&state, &visitor, &flow);
    if visitor.query("sent").is_some() {
        page.chrome.notice = Some(visitor.t.get("verify.sent").to_owned());
    }
    render(StatusCode::OK, &visitor, &page)
}

pub async fn submit_verification(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Response {
    let (mut flow, form) = match posted_flow(&state, &visitor, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match authorize::verify_email(&state.app, &mut flow, &form.text("code"), &visitor.origin).await {
        Ok(next) => go(&visitor, next),
        Err(error) => show_refusal(&visitor, &error, verify_page_for(&state, &visitor, &flow)),
    }
}

pub async fn resend_verification(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Response {
    let (mut flow, _) = match posted_flow(&state, &visitor, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match authorize::resend_verification(&state.app, &mut flow, visitor.t.lang, &visitor.origin).await {
        Ok(()) => see_other(&visitor, "/verify-email?sent=1"),
        Err(error) => show_refusal(&visitor, &error, verify_page_for(&state, &visitor, &flow)),
    }
}

async fn organizations_for(
    state: &WebState,
    visitor: &Visitor,
    flow: &SignInFlow,
) -> Result<OrganizationsPage, Response> {
    let choices = authorize::choices(&state.app, flow).await.map_err(|error| {
        let explained = explain(visitor.t, &error);
        error_page(state, visitor, explained.status, "internal")
    })?;
    if choices.is_empty() {
        return Err(error_page(state, visitor, StatusCode::BAD_REQUEST, "flow_expired"));
    }
    let last = visitor.last_organization.as_deref();
    // From the organization switcher, the session's organization is marked as the current one.
    let switching = flow.continues_session_id.is_some();
    let current = flow.organization_hint.as_deref().filter(|_| switching);
    let mut choices: Vec<Choice> = choices
        .into_iter()
        .map(|(id, name, role)| Choice {
            current: current == Some(id.as_str()),
            last_used: !switching && last == Some(id.as_str()),
            id: id.to_string(),
            initial: name.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default(),
            role: visitor.t.format("organizations.role", &[("role", &role)]),
            name,
        })
        .collect();
    // The organization used last comes first.
    choices.sort_by_key(|c| !c.last_used);
    let (title, subtitle) = if switching {
        ("organizations.switch_title", "organizations.switch_subtitle")
    } else {
        ("organizations.title", "organizations.subtitle")
    };
    Ok(OrganizationsPage {
        chrome: Chrome::new(state, visitor, title),
        subtitle: visitor.t.get(subtitle).to_owned(),
        choices,
    })
}

/// `GET /switch-organization?token=…`: opens a link from the organization-switch API (once),
/// then shows the user's organizations.
pub async fn switch_organization(State(state): State<WebState>, visitor: Visitor) -> Response {
    let Some(token) = visitor.query("token").filter(|t| !t.is_empty()).map(str::to_owned) else {
        return error_page(&state, &visitor, StatusCode::BAD_REQUEST, "switch_link_invalid");
    };
    match authorize::open_switch(&state.app, &token).await {
        Ok(Some(started)) => start(&state, &visitor, Ok(started)),
        Ok(None) => error_page(&state, &visitor, StatusCode::BAD_REQUEST, "switch_link_invalid"),
        Err(error) => {
            tracing::error!(%error, "opening an organization-switch link failed");
            error_page(&state, &visitor, StatusCode::INTERNAL_SERVER_ERROR, "internal")
        }
    }
}

pub async fn organizations_page(State(state): State<WebState>, visitor: Visitor) -> Response {
    let flow = match flow_of(&state, &visitor).await {
        Ok(flow) => flow,
        Err(response) => return response,
    };
    match organizations_for(&state, &visitor, &flow).await {
        Ok(page) => render(StatusCode::OK, &visitor, &page),
        Err(response) => response,
    }
}

pub async fn choose_organization(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Response {
    let (mut flow, form) = match posted_flow(&state, &visitor, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let chosen = form.text("organization_id");
    match authorize::choose_organization(&state.app, &mut flow, &chosen, &visitor.origin).await {
        Ok(next) => {
            let mut response = go(&visitor, next);
            response.headers_mut().append(header::SET_COOKIE, visitor.last_organization_header(&chosen));
            response
        }
        Err(error) => match organizations_for(&state, &visitor, &flow).await {
            Ok(page) => show_refusal(&visitor, &error, page),
            Err(response) => response,
        },
    }
}

/// `GET /invitation?invitation_token=…`, the link in invitation emails. Starts a flow for the
/// invitation (towards the environment's default redirect URI) unless this browser's flow is
/// already for it, then offers to sign up or sign in.
pub async fn invitation(State(state): State<WebState>, visitor: Visitor) -> Response {
    let token = visitor.query("invitation_token").map(str::to_owned);
    let current = match &visitor.flow_cookie {
        Some(cookie) => authorize::find(&state.app, cookie).await.ok().flatten(),
        None => None,
    };
    let flow = match (token, current) {
        (None, Some(flow)) if flow.invitation_id.is_some() => flow,
        (Some(token), current) => {
            let invitation = portico_app::invitations::find_by_token(&state.app, &token).await.ok();
            match current {
                Some(flow)
                    if flow.invitation_id.is_some() && flow.invitation_id == invitation.map(|i| i.id.to_string()) =>
                {
                    flow
                }
                _ => return start(&state, &visitor, authorize::begin_for_invitation(&state.app, &token).await),
            }
        }
        _ => return error_page(&state, &visitor, StatusCode::BAD_REQUEST, "invitation_invalid"),
    };
    let Some(invitation_id) = flow.invitation_id.as_deref() else {
        return error_page(&state, &visitor, StatusCode::BAD_REQUEST, "invitation_invalid");
    };
    let Ok(invitation) = portico_app::invitations::get(&state.app, invitation_id).await else {
        return error_page(&state, &visitor, StatusCode::BAD_REQUEST, "invitation_invalid");
    };
    let product = state.app.settings.branding.product_name.clone();
    let organization = match &invitation.organization_id {
        Some(id) => portico_app::organizations::get(&state.app, id.as_str()).await.ok().map(|o| o.name),
        None => None,
    };
    let title = match &organization {
        Some(name) => visitor.t.format("invitation.title", &[("organization", name)]),
        None => visitor.t.format("invitation.title_environment", &[("product", &product)]),
    };
    let page = InvitationPage {
        chrome: Chrome::new(&state, &visitor, "invitation.title_environment").with_title(title),
        subtitle: visitor.t.format("invitation.subtitle", &[("email", invitation.email.as_str())]),
    };
    render(StatusCode::OK, &visitor, &page)
}

/// Where sign-out lands when the app gives no `return_to`.
pub async fn signed_out(State(state): State<WebState>, visitor: Visitor) -> Response {
    let chrome = Chrome::new(&state, &visitor, "signed_out.title");
    let page = MessagePage {
        paragraphs: vec![visitor.t.get("signed_out.body").to_owned()],
        chrome,
        error_code: None,
        link: None,
    };
    render(StatusCode::OK, &visitor, &page).into_response()
}
