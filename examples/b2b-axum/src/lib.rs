//! Lighthouse: a small B2B project tracker that signs people in with Portico and lets their
//! organization's roles decide what they may do.
//!
//! - sign-in and sign-up on Portico's hosted pages (PKCE), tokens in a sealed cookie that
//!   `portico-sdk` refreshes on its own;
//! - an organization switcher in the header (one click through the refresh grant, or Portico's
//!   hosted switcher for the full list);
//! - pages gated by permission: projects (`projects:read`; creating needs `projects:write`),
//!   settings (`settings:manage`), billing (`billing:manage`), members (`members:manage`: list,
//!   invite, change role, remove, built on the management client);
//! - the same data as JSON under `/api`, gated the same way, for bearer-token clients.
//!
//! Projects, settings and plans live in this process's memory: they stand for the app's own
//! database. Everything about people, organizations and roles comes from Portico.

mod html;

use axum::extract::{Form, Path, Query, Request, State};
use axum::http::header::{CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use html::{Header, esc, page, refusal};
use portico_sdk::{
    CookieSessions, Guard, ListMemberships, Management, Pkce, Portico, Rejection, Requirement, SendInvitation, Session,
    Tokens, require_permission,
};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The permissions Lighthouse checks, and what each role grants.
pub const PERMISSIONS: &[(&str, &str)] = &[
    ("projects:read", "Read projects"),
    ("projects:write", "Create and edit projects"),
    ("settings:manage", "Manage organization settings"),
    ("billing:manage", "Manage billing"),
    ("members:manage", "Manage members"),
];

/// (slug, name, description, permissions)
pub const ROLES: &[(&str, &str, &str, &[&str])] = &[
    (
        "admin",
        "Admin",
        "Everything, including members, settings and billing",
        &["projects:read", "projects:write", "settings:manage", "billing:manage", "members:manage"],
    ),
    ("billing_admin", "Billing admin", "Billing, and reading projects", &["projects:read", "billing:manage"]),
    ("member", "Member", "Reads and writes projects", &["projects:read", "projects:write"]),
    ("read_only", "Read only", "Reads projects", &["projects:read"]),
];

/// How Lighthouse is set up.
#[derive(Clone)]
pub struct Config {
    /// Where Portico is, e.g. `http://localhost:8080`.
    pub portico_url: String,
    pub client_id: String,
    pub api_key: String,
    /// Where Lighthouse itself is reachable; `{app_url}/callback` must be a redirect URI of the
    /// client.
    pub app_url: String,
    /// At least 32 bytes; seals the session cookie.
    pub cookie_secret: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Project {
    name: String,
    created_by: String,
}

#[derive(Debug, Clone, Default)]
struct OrgData {
    projects: Vec<Project>,
    require_review: bool,
    plan: Option<String>,
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    portico: Portico,
    api: Management,
    cookies: CookieSessions,
    app_url: String,
    data: Arc<Mutex<HashMap<String, OrgData>>>,
}

impl AppState {
    pub fn new(config: &Config) -> Result<AppState, portico_sdk::Error> {
        let portico = Portico::builder(&config.portico_url, &config.client_id).api_key(&config.api_key).build()?;
        let api = portico.management()?;
        let secure = config.app_url.starts_with("https://");
        let cookies = CookieSessions::new(&config.cookie_secret)?.name("lighthouse_session").secure(secure);
        Ok(AppState {
            portico,
            api,
            cookies,
            app_url: config.app_url.trim_end_matches('/').to_owned(),
            data: Arc::default(),
        })
    }

    pub fn portico(&self) -> &Portico {
        &self.portico
    }

    fn callback_url(&self) -> String {
        format!("{}/callback", self.app_url)
    }

    fn with_org<T>(&self, organization: &str, f: impl FnOnce(&mut OrgData) -> T) -> T {
        let mut data = match self.data.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(data.entry(organization.to_owned()).or_default())
    }
}

/// Creates Lighthouse's permissions and roles in Portico when missing, and sets what each role
/// permits (this replaces the permissions of the environment's `admin` and `member` roles).
pub async fn provision(api: &Management) -> Result<(), portico_sdk::Error> {
    for (slug, name) in PERMISSIONS {
        api.ensure_permission(slug, name).await?;
    }
    let existing: Vec<String> = api.list_environment_roles().await?.into_iter().map(|r| r.slug).collect();
    for (slug, name, description, permissions) in ROLES {
        if !existing.iter().any(|e| e == slug) {
            api.create_environment_role(slug, name, description).await?;
        }
        api.set_environment_role_permissions(slug, permissions).await?;
    }
    Ok(())
}

/// Pages answer refusals in HTML: sign in again, or "you cannot".
fn page_guard(permission: &str) -> Guard {
    require_permission(permission).respond_with(|rejection| match rejection {
        Rejection::Unauthenticated(_) => Redirect::to("/").into_response(),
        Rejection::Forbidden { requirement: Requirement::Permission(permission), .. } => {
            let what =
                PERMISSIONS.iter().find(|(slug, _)| *slug == permission).map_or(permission.as_str(), |(_, name)| name);
            let message =
                format!("Your role in this organization does not include “{what}”. Ask an admin if you need it.");
            refusal(StatusCode::FORBIDDEN, "You can’t do that here", &message, None)
        }
        Rejection::Forbidden { reason, .. } => {
            refusal(StatusCode::FORBIDDEN, "You can’t do that here", &capitalize(&reason), None)
        }
        Rejection::MissingLayer => rejection.into_response(),
    })
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// All of Lighthouse's routes, behind the Portico cookie layer.
pub fn router(state: AppState) -> Router {
    let layer = state.portico.cookie_layer(state.cookies.clone());
    Router::new()
        .route("/projects", get(projects_page).route_layer(page_guard("projects:read")))
        .route("/projects/new", post(create_project).route_layer(page_guard("projects:write")))
        .route("/settings", get(settings_page).post(save_settings).route_layer(page_guard("settings:manage")))
        .route("/security", get(security_page).post(change_security).route_layer(page_guard("settings:manage")))
        .route("/billing", get(billing_page).post(change_plan).route_layer(page_guard("billing:manage")))
        .route("/members", get(members_page).route_layer(page_guard("members:manage")))
        .route("/members/invite", post(invite_member).route_layer(page_guard("members:manage")))
        .route("/members/{id}/role", post(change_role).route_layer(page_guard("members:manage")))
        .route("/members/{id}/remove", post(remove_member).route_layer(page_guard("members:manage")))
        .route("/invitations/{id}/revoke", post(revoke_invitation).route_layer(page_guard("members:manage")))
        .route("/api/projects", get(api_projects).route_layer(require_permission("projects:read")))
        .route("/api/projects", post(api_create_project).route_layer(require_permission("projects:write")))
        .route("/", get(home))
        .route("/login", get(login))
        .route("/callback", get(callback))
        .route("/switch", get(hosted_switcher).post(quick_switch))
        .route("/passkeys", get(passkeys))
        .route("/logout", post(logout))
        .layer(layer)
        .layer(axum::middleware::from_fn_with_state(state.clone(), same_origin_posts))
        .route("/assets/app.css", get(|| async { ([(CONTENT_TYPE, "text/css")], html::STYLESHEET) }))
        .route("/health", get(|| async { "ok" }))
        .with_state(state)
}

/// Forms only from Lighthouse's own pages: the session cookie is `SameSite=Lax`, and posts
/// whose `Origin` (or `Sec-Fetch-Site`) says another site are refused outright.
async fn same_origin_posts(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() == axum::http::Method::POST {
        let headers = request.headers();
        let origin_ok = headers.get(ORIGIN).and_then(|o| o.to_str().ok()).is_none_or(|o| o == state.app_url);
        let site_ok = headers
            .get("sec-fetch-site")
            .and_then(|s| s.to_str().ok())
            .is_none_or(|s| s == "same-origin" || s == "none");
        if !(origin_ok && site_ok) {
            return refusal(StatusCode::FORBIDDEN, "Request refused", "This form was sent from another site.", None);
        }
    }
    next.run(request).await
}

/// The header for a signed-in page: organization name, role, the other organizations, and the
/// links this person's permissions open.
async fn header_for(state: &AppState, session: &Session, current: &str) -> Header {
    let memberships = state.api.list_memberships(&ListMemberships::user(&session.user_id).limit(100)).await;
    let (mut organization_name, mut others, mut user_label) = (String::new(), Vec::new(), session.user_id.clone());
    if let Ok(list) = memberships {
        for membership in list.data {
            if let Some(user) = &membership.user {
                user_label = user.email.clone();
            }
            let name = membership.organization_name.clone().unwrap_or_else(|| membership.organization_id.clone());
            if Some(&membership.organization_id) == session.organization_id.as_ref() {
                organization_name = name;
            } else {
                others.push((membership.organization_id, name));
            }
        }
    }
    let role = ROLES
        .iter()
        .find(|(slug, ..)| session.role.as_deref() == Some(*slug))
        .map(|(_, name, ..)| (*name).to_owned())
        .unwrap_or_else(|| session.role.clone().unwrap_or_default());
    let mut nav = Vec::new();
    for (path, label, permission) in [
        ("/projects", "Projects", "projects:read"),
        ("/members", "Members", "members:manage"),
        ("/settings", "Settings", "settings:manage"),
        ("/security", "Security", "settings:manage"),
        ("/billing", "Billing", "billing:manage"),
    ] {
        if session.has_permission(permission) {
            nav.push((path, label, path == current));
        }
    }
    Header { user_label, organization_name, role, other_organizations: others, nav }
}

async fn home(session: Option<Session>) -> Response {
    if session.is_some() {
        return Redirect::to("/projects").into_response();
    }
    page(
        StatusCode::OK,
        "Welcome",
        None,
        "<section class=\"card narrow hero\"><h1>Lighthouse</h1>\
         <p class=\"lead\">Projects for teams. Sign in with your work account.</p>\
         <p class=\"row\" style=\"justify-content:center\"><a class=\"button\" href=\"/login\">Sign in</a>\
         <a class=\"button secondary\" href=\"/login?screen=sign-up\">Create an account</a></p></section>",
    )
}

const AUTH_COOKIE: &str = "lighthouse_auth";

/// Remembers `state` and the PKCE verifier for the callback, for ten minutes.
fn auth_cookie(state: &AppState, value: &str, max_age: u32) -> HeaderValue {
    let secure = if state.app_url.starts_with("https://") { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{AUTH_COOKIE}={value}; Path=/callback; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn redirect_with(location: &str, cookies: &[HeaderValue]) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(LOCATION, location.to_owned())]).into_response();
    for cookie in cookies {
        response.headers_mut().append(SET_COOKIE, cookie.clone());
    }
    response
}

#[derive(Deserialize)]
struct LoginQuery {
    screen: Option<String>,
}

async fn login(State(state): State<AppState>, Query(query): Query<LoginQuery>) -> Response {
    let pkce = Pkce::generate();
    let nonce = portico_sdk::random_token();
    let mut params = portico_sdk::AuthorizationParams::new(state.callback_url(), &nonce).pkce(&pkce);
    if query.screen.as_deref() == Some("sign-up") {
        params = params.screen_hint("sign-up");
    }
    let url = state.portico.authorization_url(&params);
    redirect_with(&url, &[auth_cookie(&state, &format!("{nonce}.{}", pkce.verifier), 600)])
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// The code from Portico (a sign-in, or the hosted organization switcher): check `state`
/// against this browser's cookie, exchange the code with the PKCE verifier, keep the tokens.
async fn callback(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<CallbackQuery>) -> Response {
    if let Some(error) = query.error {
        let message = query.error_description.unwrap_or(error);
        return refusal(StatusCode::BAD_REQUEST, "Sign-in did not finish", &message, None);
    }
    let remembered = cookie_value(&headers, AUTH_COOKIE).and_then(|v| v.split_once('.'));
    let (Some(code), Some(returned), Some((expected, verifier))) = (query.code, query.state, remembered) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "Sign-in did not finish",
            "This sign-in link has expired. Start again.",
            None,
        );
    };
    if returned != expected {
        return refusal(
            StatusCode::BAD_REQUEST,
            "Sign-in did not finish",
            "This sign-in was started elsewhere. Start again.",
            None,
        );
    }
    match state.portico.authenticate_with_code(&code, Some(verifier)).await {
        Ok(signed_in) => {
            let tokens = Tokens { access_token: signed_in.access_token, refresh_token: signed_in.refresh_token };
            redirect_with("/projects", &[state.cookies.set_cookie(&tokens), auth_cookie(&state, "", 0)])
        }
        Err(error) => refusal(StatusCode::BAD_REQUEST, "Sign-in did not finish", &error.to_string(), None),
    }
}

/// Sends the browser to Portico's organization switcher for this session.
async fn hosted_switcher(State(state): State<AppState>, session: Option<Session>) -> Response {
    let Some(session) = session else { return Redirect::to("/").into_response() };
    let pkce = Pkce::generate();
    let nonce = portico_sdk::random_token();
    match state.portico.organization_switch_url(&session.session_id, &state.callback_url(), &nonce, Some(&pkce)).await {
        Ok(url) => redirect_with(&url, &[auth_cookie(&state, &format!("{nonce}.{}", pkce.verifier), 600)]),
        Err(error) => refusal(StatusCode::BAD_GATEWAY, "Could not switch", &error.to_string(), None),
    }
}

/// Sends the browser to Portico's passkeys page for this session; "Done" there comes back to
/// Projects.
async fn passkeys(State(state): State<AppState>, session: Option<Session>) -> Response {
    let Some(session) = session else { return Redirect::to("/").into_response() };
    match state.portico.passkeys_url(&session.session_id, &format!("{}/projects", state.app_url)).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(error) => refusal(StatusCode::BAD_GATEWAY, "Could not open your passkeys", &error.to_string(), None),
    }
}

#[derive(Deserialize)]
struct SwitchForm {
    organization_id: String,
}

/// One click in the header menu: the same session, moved by the refresh grant.
async fn quick_switch(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<SwitchForm>) -> Response {
    let Some(tokens) = state.cookies.read(&headers) else { return Redirect::to("/").into_response() };
    match state.portico.switch_organization(&tokens.refresh_token, &form.organization_id).await {
        Ok(switched) => {
            let tokens = Tokens { access_token: switched.access_token, refresh_token: switched.refresh_token };
            redirect_with("/projects", &[state.cookies.set_cookie(&tokens)])
        }
        Err(error) => refusal(StatusCode::FORBIDDEN, "Could not switch", &error.to_string(), None),
    }
}

/// Forgets the cookie here and ends the session at Portico, which sends the browser back.
async fn logout(State(state): State<AppState>, session: Option<Session>) -> Response {
    let clear = state.cookies.clear_cookie();
    match session {
        Some(session) => redirect_with(
            &state.portico.logout_url(&session.session_id, Some(&format!("{}/", state.app_url))),
            &[clear],
        ),
        None => redirect_with("/", &[clear]),
    }
}

fn organization(session: &Session) -> String {
    session.organization_id.clone().unwrap_or_default()
}

async fn projects_page(State(state): State<AppState>, session: Session) -> Response {
    let header = header_for(&state, &session, "/projects").await;
    let projects = state.with_org(&organization(&session), |data| data.projects.clone());
    let rows: String = if projects.is_empty() {
        "<tr><td colspan=\"2\" class=\"muted\">No projects yet.</td></tr>".to_owned()
    } else {
        projects
            .iter()
            .map(|p| format!("<tr><td>{}</td><td class=\"muted\">{}</td></tr>", esc(&p.name), esc(&p.created_by)))
            .collect()
    };
    let form = if session.has_permission("projects:write") {
        "<form method=\"post\" action=\"/projects/new\" class=\"row\" data-testid=\"new-project\">\
         <div><label for=\"name\">New project</label><input id=\"name\" name=\"name\" type=\"text\" required maxlength=\"80\"></div>\
         <button type=\"submit\">Create project</button></form>"
            .to_owned()
    } else {
        "<p class=\"readonly\" data-testid=\"read-only\">Your role can read projects but not create them.</p>"
            .to_owned()
    };
    let body = format!(
        "<h1>Projects</h1><p class=\"lead\">Everything {org} is working on.</p>\
         <section class=\"card\">{form}</section><section class=\"card\"><table><thead><tr><th>Name</th><th>Created by</th></tr></thead>\
         <tbody>{rows}</tbody></table></section>",
        org = esc(&header.organization_name),
    );
    page(StatusCode::OK, "Projects", Some(&header), &body)
}

#[derive(Deserialize)]
struct ProjectForm {
    name: String,
}

fn clean_project_name(name: &str) -> Result<String, &'static str> {
    let name = name.trim();
    if name.is_empty() {
        return Err("Give the project a name.");
    }
    if name.chars().count() > 80 {
        return Err("Project names are at most 80 characters.");
    }
    Ok(name.to_owned())
}

/// Who is creating something, as people read it: their email.
async fn creator(state: &AppState, session: &Session) -> String {
    state.api.get_user(&session.user_id).await.map(|u| u.email).unwrap_or_else(|_| session.user_id.clone())
}

async fn create_project(State(state): State<AppState>, session: Session, Form(form): Form<ProjectForm>) -> Response {
    let name = match clean_project_name(&form.name) {
        Ok(name) => name,
        Err(message) => return refusal(StatusCode::UNPROCESSABLE_ENTITY, "Project not created", message, None),
    };
    let created_by = creator(&state, &session).await;
    state.with_org(&organization(&session), |data| data.projects.push(Project { name, created_by }));
    Redirect::to("/projects").into_response()
}

async fn api_projects(State(state): State<AppState>, session: Session) -> Json<serde_json::Value> {
    let projects = state.with_org(&organization(&session), |data| data.projects.clone());
    Json(json!({
        "organization_id": session.organization_id,
        "projects": projects.iter().map(|p| json!({"name": p.name, "created_by": p.created_by})).collect::<Vec<_>>(),
    }))
}

async fn api_create_project(
    State(state): State<AppState>,
    session: Session,
    Json(body): Json<serde_json::Value>,
) -> Response {
    let name = match clean_project_name(body["name"].as_str().unwrap_or_default()) {
        Ok(name) => name,
        Err(message) => {
            return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"error": "invalid_name", "reason": message})))
                .into_response();
        }
    };
    let project = Project { name, created_by: creator(&state, &session).await };
    state.with_org(&organization(&session), |data| data.projects.push(project.clone()));
    (StatusCode::CREATED, Json(json!({"name": project.name, "created_by": project.created_by}))).into_response()
}

#[derive(Deserialize)]
struct NoticeQuery {
    saved: Option<String>,
}

async fn settings_page(State(state): State<AppState>, session: Session, Query(query): Query<NoticeQuery>) -> Response {
    let header = header_for(&state, &session, "/settings").await;
    let review = state.with_org(&organization(&session), |data| data.require_review);
    let notice = if query.saved.is_some() { "<p class=\"notice\">Settings saved.</p>" } else { "" };
    let body = format!(
        "<h1>Settings</h1><p class=\"lead\">How {org} works in Lighthouse.</p>{notice}\
         <section class=\"card\"><dl><dt>Organization</dt><dd>{org}</dd><dt>Organization id</dt><dd><code>{id}</code></dd></dl></section>\
         <section class=\"card\"><form method=\"post\" action=\"/settings\">\
         <label><input type=\"checkbox\" name=\"require_review\" value=\"on\"{checked}> Require a review before a project is archived</label>\
         <p><button type=\"submit\">Save settings</button></p></form></section>",
        org = esc(&header.organization_name),
        id = esc(&organization(&session)),
        checked = if review { " checked" } else { "" },
    );
    page(StatusCode::OK, "Settings", Some(&header), &body)
}

#[derive(Deserialize)]
struct SettingsForm {
    require_review: Option<String>,
}

async fn save_settings(State(state): State<AppState>, session: Session, Form(form): Form<SettingsForm>) -> Response {
    state.with_org(&organization(&session), |data| data.require_review = form.require_review.is_some());
    Redirect::to("/settings?saved=1").into_response()
}

/// The organization's two-step verification rule, in words.
fn mfa_status(policy: &portico_sdk::OrganizationPolicy) -> String {
    match (policy.mfa.required, &policy.mfa.enforced_from) {
        (false, _) => "Off: members sign in with their password or an emailed code.".to_owned(),
        (true, None) => "Required: every member verifies with an authenticator app.".to_owned(),
        (true, Some(from)) => format!(
            "Required from {}: until then members without it are offered the set-up and reminded by email.",
            from.get(..10).unwrap_or(from)
        ),
    }
}

/// What the security form asked.
#[derive(Deserialize, Default)]
struct SecurityForm {
    require_mfa: Option<String>,
    grace_days: Option<String>,
    enforce_now: Option<String>,
    action: Option<String>,
}

async fn security_page(State(state): State<AppState>, session: Session, Query(query): Query<NoticeQuery>) -> Response {
    let notice = query.saved.map(|_| "Security settings saved.".to_owned());
    security_view(&state, &session, &SecurityForm::default(), None, notice).await
}

/// The security page: the rule as it stands, the form, and a preview when one was asked for.
async fn security_view(
    state: &AppState,
    session: &Session,
    form: &SecurityForm,
    preview: Option<portico_sdk::PolicyReport>,
    notice: Option<String>,
) -> Response {
    let header = header_for(state, session, "/security").await;
    let policy = match state.api.organization_policy(&organization(session)).await {
        Ok(policy) => policy,
        Err(error) => {
            return refusal(StatusCode::BAD_GATEWAY, "Security settings unavailable", &error_message(&error), None);
        }
    };
    let asked = form.action.is_some();
    let require = if asked { form.require_mfa.is_some() } else { policy.mfa.required };
    // The grace shown is what is left of it: none once the rule is enforced.
    let grace = match (&form.grace_days, policy.mfa.required, &policy.mfa.enforced_from) {
        (Some(days), ..) => days.clone(),
        (None, true, None) => "0".to_owned(),
        (None, ..) => "7".to_owned(),
    };
    let notice = notice.map(|text| format!("<p class=\"notice\">{}</p>", esc(&text))).unwrap_or_default();
    let enforce_now = form.enforce_now.is_some();
    let preview = preview
        .map(|report| {
            let members: String = report
                .members
                .iter()
                .map(|m| {
                    let why: Vec<&str> = m.findings.iter().map(|f| f.message.as_str()).collect();
                    format!("<li><strong>{}</strong> — {}</li>", esc(&m.email), esc(&why.join(" ")))
                })
                .collect();
            let list = if members.is_empty() {
                "<p>Every member is ready.</p>".to_owned()
            } else {
                format!("<ul>{members}</ul>")
            };
            let sessions = match (enforce_now, report.sessions_ended_by_enforce_now) {
                (false, _) => String::new(),
                (true, 1) => " 1 signed-in session would end now.".to_owned(),
                (true, n) => format!(" {n} signed-in sessions would end now."),
            };
            format!(
                "<section class=\"card\" data-testid=\"preview\"><h2>Preview</h2>\
                 <p>{} of {} members would be affected.{sessions} Nothing is saved yet.</p>{list}</section>",
                report.affected_member_count, report.member_count
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<h1>Security</h1><p class=\"lead\">How people sign in to {org}. Portico enforces these rules at every sign-in, \
         organization switch and refresh.</p>{notice}\
         <section class=\"card\"><dl><dt>Two-step verification</dt><dd data-testid=\"mfa-status\">{status}</dd></dl></section>\
         <section class=\"card\"><form method=\"post\" action=\"/security\">\
         <label class=\"check\"><input type=\"checkbox\" name=\"require_mfa\" value=\"on\"{checked}> Require two-step verification</label>\
         <div class=\"field\"><label for=\"grace_days\">Grace period for members who have not set it up (days)</label>\
         <input id=\"grace_days\" name=\"grace_days\" type=\"number\" min=\"0\" max=\"90\" value=\"{grace}\"></div>\
         <label class=\"check\"><input type=\"checkbox\" name=\"enforce_now\" value=\"on\"{enforce}> End the sessions this rules out now</label>\
         <p class=\"row\"><button type=\"submit\" name=\"action\" value=\"preview\" class=\"secondary\">Preview</button>\
         <button type=\"submit\" name=\"action\" value=\"save\">Save</button></p></form></section>{preview}",
        org = esc(&header.organization_name),
        status = esc(&mfa_status(&policy)),
        checked = if require { " checked" } else { "" },
        enforce = if enforce_now { " checked" } else { "" },
        grace = esc(&grace),
    );
    page(StatusCode::OK, "Security", Some(&header), &body)
}

async fn change_security(State(state): State<AppState>, session: Session, Form(form): Form<SecurityForm>) -> Response {
    let org = organization(&session);
    let grace = form.grace_days.as_deref().map(str::trim).filter(|g| !g.is_empty()).unwrap_or("0");
    let Some(grace) = grace.parse::<u32>().ok().filter(|days| *days <= 90) else {
        return refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not saved",
            "The grace period is a number of days from 0 to 90.",
            None,
        );
    };
    let current = match state.api.organization_policy(&org).await {
        Ok(policy) => policy,
        Err(error) => return refusal(StatusCode::BAD_GATEWAY, "Not saved", &error_message(&error), None),
    };
    // Only the MFA rule is managed here; the organization's other rules stay as they are.
    let mut change = portico_sdk::PolicyChange::from_policy(&current).without_mfa();
    if form.require_mfa.is_some() {
        change = change.require_mfa(grace);
    }
    if form.enforce_now.is_some() {
        change = change.enforce_now();
    }
    if form.action.as_deref() == Some("preview") {
        return match state.api.dry_run_organization_policy(&org, &change).await {
            Ok(report) => security_view(&state, &session, &form, Some(report), None).await,
            Err(error) => refusal(StatusCode::UNPROCESSABLE_ENTITY, "No preview", &error_message(&error), None),
        };
    }
    match state.api.set_organization_policy(&org, &change).await {
        Ok(_) => Redirect::to("/security?saved=1").into_response(),
        Err(error) => refusal(StatusCode::UNPROCESSABLE_ENTITY, "Not saved", &error_message(&error), None),
    }
}

const PLANS: &[(&str, &str, &str)] =
    &[("starter", "Starter", "$0 / month"), ("team", "Team", "$49 / month"), ("enterprise", "Enterprise", "Custom")];

async fn billing_page(State(state): State<AppState>, session: Session, Query(query): Query<NoticeQuery>) -> Response {
    let header = header_for(&state, &session, "/billing").await;
    let plan = state.with_org(&organization(&session), |data| data.plan.clone()).unwrap_or_else(|| "starter".into());
    let notice = if query.saved.is_some() { "<p class=\"notice\">Plan changed.</p>" } else { "" };
    let options: String = PLANS
        .iter()
        .map(|(slug, name, price)| {
            let selected = if *slug == plan { " selected" } else { "" };
            format!("<option value=\"{slug}\"{selected}>{name} — {price}</option>")
        })
        .collect();
    let current = PLANS.iter().find(|(slug, ..)| *slug == plan).map_or("Starter", |(_, name, _)| name);
    let body = format!(
        "<h1>Billing</h1><p class=\"lead\">The plan {org} is on.</p>{notice}\
         <section class=\"card\"><dl><dt>Current plan</dt><dd data-testid=\"plan\">{current}</dd></dl></section>\
         <section class=\"card\"><form method=\"post\" action=\"/billing\" class=\"row\">\
         <div><label for=\"plan\">Change plan</label><select id=\"plan\" name=\"plan\">{options}</select></div>\
         <button type=\"submit\">Change plan</button></form></section>",
        org = esc(&header.organization_name),
    );
    page(StatusCode::OK, "Billing", Some(&header), &body)
}

#[derive(Deserialize)]
struct PlanForm {
    plan: String,
}

async fn change_plan(State(state): State<AppState>, session: Session, Form(form): Form<PlanForm>) -> Response {
    if !PLANS.iter().any(|(slug, ..)| *slug == form.plan) {
        return refusal(StatusCode::UNPROCESSABLE_ENTITY, "Plan not changed", "Choose one of the plans listed.", None);
    }
    state.with_org(&organization(&session), |data| data.plan = Some(form.plan));
    Redirect::to("/billing?saved=1").into_response()
}

#[derive(Deserialize)]
struct MembersQuery {
    done: Option<String>,
    error: Option<String>,
}

async fn members_page(State(state): State<AppState>, session: Session, Query(query): Query<MembersQuery>) -> Response {
    let header = header_for(&state, &session, "/members").await;
    let org = organization(&session);
    let (members, roles, invitations) = match (
        state.api.list_memberships(&ListMemberships::organization(&org).limit(100)).await,
        state.api.list_organization_roles(&org).await,
        state.api.list_invitations(&org).await,
    ) {
        (Ok(members), Ok(roles), Ok(invitations)) => (members.data, roles, invitations.data),
        _ => {
            return refusal(StatusCode::BAD_GATEWAY, "Members unavailable", "Portico did not answer. Try again.", None);
        }
    };
    let role_name =
        |slug: &str| -> String { roles.iter().find(|r| r.slug == slug).map_or(slug.to_owned(), |r| r.name.clone()) };
    let role_options = |current: &str| -> String {
        roles
            .iter()
            .map(|r| {
                let selected = if r.slug == current { " selected" } else { "" };
                format!("<option value=\"{}\"{selected}>{}</option>", esc(&r.slug), esc(&r.name))
            })
            .collect()
    };
    let rows: String = members
        .iter()
        .map(|m| {
            let (name, email) = m.user.as_ref().map_or((String::new(), String::new()), |u| (u.display_name(), u.email.clone()));
            let yourself = m.user_id == session.user_id;
            let actions = if yourself {
                "<span class=\"badge\">You</span>".to_owned()
            } else {
                format!(
                    "<form method=\"post\" action=\"/members/{id}/role\" class=\"inline\">\
                     <select id=\"role-{id}\" name=\"role_slug\" aria-label=\"Role of {email}\">{options}</select>\
                     <button type=\"submit\" class=\"secondary\">Change role</button></form> \
                     <form method=\"post\" action=\"/members/{id}/remove\" class=\"inline\"><button type=\"submit\" class=\"danger\" aria-label=\"Remove {email}\">Remove</button></form>",
                    id = esc(&m.id),
                    email = esc(&email),
                    options = role_options(&m.role.slug),
                )
            };
            format!(
                "<tr data-email=\"{email}\"><td><strong>{name}</strong><br><span class=\"muted\">{email}</span></td><td>{role}</td><td class=\"actions\">{actions}</td></tr>",
                email = esc(&email),
                name = esc(&name),
                role = esc(&role_name(&m.role.slug)),
            )
        })
        .collect();
    let pending: String = invitations
        .iter()
        .filter(|i| i.state == "pending")
        .map(|i| {
            format!(
                "<tr><td>{email}</td><td>{role}</td><td class=\"actions\"><form method=\"post\" action=\"/invitations/{id}/revoke\" class=\"inline\">\
                 <button type=\"submit\" class=\"secondary\" aria-label=\"Revoke the invitation of {email}\">Revoke</button></form></td></tr>",
                email = esc(&i.email),
                role = esc(&role_name(i.role_slug.as_deref().unwrap_or(""))),
                id = esc(&i.id),
            )
        })
        .collect();
    let pending = if pending.is_empty() {
        String::new()
    } else {
        format!(
            "<section class=\"card\"><h2>Pending invitations</h2><table><thead><tr><th>Email</th><th>Role</th><th></th></tr></thead>\
             <tbody>{pending}</tbody></table></section>"
        )
    };
    let notice = match (&query.done, &query.error) {
        (_, Some(error)) => format!("<p class=\"readonly\" role=\"alert\">{}</p>", esc(error)),
        (Some(done), None) => format!("<p class=\"notice\">{}</p>", esc(done)),
        _ => String::new(),
    };
    let body = format!(
        "<h1>Members</h1><p class=\"lead\">People in {org} and what they can do.</p>{notice}\
         <section class=\"card\"><form method=\"post\" action=\"/members/invite\" class=\"row\" data-testid=\"invite\">\
         <div><label for=\"email\">Invite by email</label><input id=\"email\" name=\"email\" type=\"email\" required></div>\
         <div><label for=\"invite-role\">Role</label><select id=\"invite-role\" name=\"role_slug\">{options}</select></div>\
         <button type=\"submit\">Send invitation</button></form></section>\
         <section class=\"card\"><table><thead><tr><th>Member</th><th>Role</th><th></th></tr></thead><tbody>{rows}</tbody></table></section>{pending}",
        org = esc(&header.organization_name),
        options = role_options("member"),
    );
    page(StatusCode::OK, "Members", Some(&header), &body)
}

fn back_to_members(outcome: Result<String, String>) -> Response {
    let (key, text) = match outcome {
        Ok(done) => ("done", done),
        Err(error) => ("error", error),
    };
    let mut url = String::from("/members?");
    url.push_str(key);
    url.push('=');
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => url.push(char::from(byte)),
            _ => url.push_str(&format!("%{byte:02X}")),
        }
    }
    Redirect::to(&url).into_response()
}

#[derive(Deserialize)]
struct InviteForm {
    email: String,
    role_slug: String,
}

async fn invite_member(State(state): State<AppState>, session: Session, Form(form): Form<InviteForm>) -> Response {
    let invitation = SendInvitation::new(form.email.trim())
        .organization(organization(&session))
        .role(&form.role_slug)
        .inviter(&session.user_id);
    back_to_members(match state.api.send_invitation(&invitation).await {
        Ok(sent) => Ok(format!("Invitation sent to {}.", sent.email)),
        Err(error) => Err(format!("Could not invite {}: {}", form.email.trim(), error_message(&error))),
    })
}

fn error_message(error: &portico_sdk::Error) -> String {
    match error {
        portico_sdk::Error::Api { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// The membership `id`, only when it belongs to the session's organization: an admin of one
/// organization must not reach another's members by guessing ids.
async fn own_membership(state: &AppState, session: &Session, id: &str) -> Result<portico_sdk::Membership, String> {
    match state.api.get_membership(id).await {
        Ok(membership) if Some(&membership.organization_id) == session.organization_id.as_ref() => Ok(membership),
        _ => Err("That member is not in this organization.".to_owned()),
    }
}

#[derive(Deserialize)]
struct RoleForm {
    role_slug: String,
}

async fn change_role(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<RoleForm>,
) -> Response {
    let outcome = async {
        let membership = own_membership(&state, &session, &id).await?;
        if membership.user_id == session.user_id {
            return Err("You cannot change your own role.".to_owned());
        }
        let updated = state.api.update_membership_role(&id, &form.role_slug).await.map_err(|e| error_message(&e))?;
        let who = updated.user.map(|u| u.email).unwrap_or(updated.user_id);
        Ok(format!("{who} is now {}.", updated.role.slug))
    };
    back_to_members(outcome.await)
}

async fn remove_member(State(state): State<AppState>, session: Session, Path(id): Path<String>) -> Response {
    let outcome = async {
        let membership = own_membership(&state, &session, &id).await?;
        if membership.user_id == session.user_id {
            return Err("You cannot remove yourself.".to_owned());
        }
        state.api.delete_membership(&id).await.map_err(|e| error_message(&e))?;
        let who = membership.user.map(|u| u.email).unwrap_or(membership.user_id);
        Ok(format!("{who} was removed."))
    };
    back_to_members(outcome.await)
}

async fn revoke_invitation(State(state): State<AppState>, session: Session, Path(id): Path<String>) -> Response {
    let outcome = async {
        let invitation = state.api.get_invitation(&id).await.map_err(|e| error_message(&e))?;
        if invitation.organization_id != session.organization_id {
            return Err("That invitation is not for this organization.".to_owned());
        }
        let revoked = state.api.revoke_invitation(&id).await.map_err(|e| error_message(&e))?;
        Ok(format!("The invitation of {} was revoked.", revoked.email))
    };
    back_to_members(outcome.await)
}
