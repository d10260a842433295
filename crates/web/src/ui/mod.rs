//! The hosted pages: the sign-in flow that `/user_management/authorize` starts, password reset,
//! invitations, and the dev mailbox. Server-rendered HTML that works without JavaScript.
//!
//! Every form is protected against cross-site request forgery twice: a double-submit token (a
//! random cookie echoed in a hidden field, compared in constant time) and the browser's own
//! `Sec-Fetch-Site` / `Origin` headers, which must not say the form came from another site.

mod assets;
mod mailbox;
mod mfa;
mod page;
mod passkeys;
mod recovery;
mod sign_in;

use crate::WebState;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use portico_app::i18n::Catalog;
use portico_app::sessions::Origin;
use std::collections::HashMap;

/// `/user_management/authorize`, which starts the hosted pages, in the OpenAPI document.
pub fn documented_routes() -> utoipa_axum::router::OpenApiRouter<WebState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(sign_in::authorize))
}

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/sign-in", get(sign_in::email_page).post(sign_in::submit_email))
        .route("/sign-in/password", get(sign_in::password_page).post(sign_in::submit_password))
        .route("/sign-in/code", get(sign_in::code_page).post(sign_in::submit_code))
        .route("/sign-in/code/send", post(sign_in::send_code))
        .route("/sign-up", get(sign_in::sign_up_page).post(sign_in::submit_sign_up))
        .route("/verify-email", get(sign_in::verify_page).post(sign_in::submit_verification))
        .route("/verify-email/resend", post(sign_in::resend_verification))
        .route("/choose-organization", get(sign_in::organizations_page).post(sign_in::choose_organization))
        .route("/switch-organization", get(sign_in::switch_organization))
        .route("/mfa/setup", get(mfa::setup_page).post(mfa::submit_setup))
        .route("/mfa/continue", post(mfa::continue_after_setup))
        .route("/mfa/verify", get(mfa::verify_page).post(mfa::submit_verify))
        .route("/mfa/passkey", post(passkeys::second_factor))
        .route("/mfa/setup/passkey", post(passkeys::set_up))
        .route("/sign-in/passkey", post(passkeys::sign_in))
        .route("/passkeys/options", post(passkeys::options))
        .route("/passkeys", get(passkeys::settings_page))
        .route("/passkeys/confirm", post(passkeys::confirm))
        .route("/passkeys/add", post(passkeys::add))
        .route("/passkeys/remove", post(passkeys::remove))
        .route("/passkeys/remove-app", post(passkeys::remove_app))
        .route("/mfa/soon", get(mfa::grace_page))
        .route("/mfa/later", post(mfa::later))
        .route("/invitation", get(sign_in::invitation))
        .route("/forgot-password", get(recovery::forgot_page).post(recovery::submit_forgot))
        .route("/reset-password", get(recovery::reset_page).post(recovery::submit_reset))
        .route("/signed-out", get(sign_in::signed_out))
        .route("/_dev/mail", get(mailbox::page))
        .route("/_dev/mail.json", get(mailbox::json))
        .route("/assets/portico.css", get(assets::stylesheet))
        .route("/assets/theme.css", get(assets::theme))
        .route("/assets/passkeys.js", get(assets::passkeys_script))
}

/// The person in front of a hosted page: their language, their CSRF token, the sign-in flow
/// their browser is in, and where the request came from.
pub struct Visitor {
    pub t: &'static Catalog,
    pub csrf: String,
    /// The CSRF cookie was missing and is set on this response.
    new_csrf: bool,
    /// `?lang=` chose a language, remembered in a cookie.
    chosen_lang: Option<&'static str>,
    pub flow_cookie: Option<String>,
    pub last_organization: Option<String>,
    pub origin: Origin,
    path: String,
    query: Vec<(String, String)>,
    secure: bool,
    cross_site: bool,
    /// `scheme://host` this page was asked for at: passkeys work only on the configured origins.
    pub page_origin: Option<String>,
}

const LANG_COOKIE: &str = "portico_lang";
const LAST_ORGANIZATION_COOKIE: &str = "portico_last_org";

/// Cookie names get the `__Host-` prefix over HTTPS, which pins them to this exact origin.
fn cookie_name(secure: bool, name: &'static str) -> String {
    if secure { format!("__Host-{name}") } else { name.to_owned() }
}

fn read_cookies(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

impl<S> FromRequestParts<S> for Visitor
where
    S: Send + Sync,
    WebState: axum::extract::FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state: WebState = axum::extract::FromRef::from_ref(state);
        let secure = state.public_url.starts_with("https://");
        let cookies = read_cookies(&parts.headers);
        let query: Vec<(String, String)> =
            parts.uri.query().map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
        let asked =
            query.iter().find(|(k, _)| k == "lang").map(|(_, v)| v.as_str()).filter(|l| portico_app::i18n::speaks(l));
        let chosen_lang = asked.map(|l| portico_app::i18n::catalog(l).lang);
        let lang = chosen_lang
            .or_else(|| {
                cookies
                    .get(LANG_COOKIE)
                    .filter(|l| portico_app::i18n::speaks(l))
                    .map(|l| portico_app::i18n::catalog(l).lang)
            })
            .unwrap_or_else(|| {
                parts
                    .headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .map_or("en", portico_app::i18n::negotiate)
            });
        let (csrf, new_csrf) = match cookies.get(&cookie_name(secure, "portico_csrf")) {
            Some(token) if token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                (token.clone(), false)
            }
            _ => (
                portico_app::authorize::new_browser_token()
                    .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())?,
                true,
            ),
        };
        let header_text = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let fetch_site = header_text("sec-fetch-site");
        let origin_header = header_text("origin");
        let host = header_text("host");
        let cross_site = match (fetch_site.as_deref(), origin_header.as_deref()) {
            (Some("same-origin") | Some("none"), _) => false,
            (Some(_), _) => true,
            (None, Some(origin)) => {
                origin == "null" || host.as_deref().is_none_or(|h| origin.split("://").nth(1) != Some(h))
            }
            (None, None) => false,
        };
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip().to_string());
        Ok(Visitor {
            t: portico_app::i18n::catalog(lang),
            csrf,
            new_csrf,
            chosen_lang,
            flow_cookie: cookies.get(&cookie_name(secure, "portico_flow")).cloned(),
            last_organization: cookies.get(LAST_ORGANIZATION_COOKIE).cloned(),
            origin: Origin { ip_address: peer, user_agent: header_text("user-agent") },
            path: parts.uri.path().to_owned(),
            query,
            secure,
            cross_site,
            page_origin: host.map(|h| format!("{}://{h}", if secure { "https" } else { "http" })),
        })
    }
}

impl Visitor {
    /// This page's address in another language.
    pub fn path_in(&self, lang: &str) -> String {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.query.iter().filter(|(k, _)| k != "lang") {
            serializer.append_pair(k, v);
        }
        serializer.append_pair("lang", lang);
        format!("{}?{}", self.path, serializer.finish())
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn cookie(&self, name: &str, value: &str, max_age_seconds: i64, http_only: bool) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let http_only = if http_only { "; HttpOnly" } else { "" };
        HeaderValue::from_str(&format!(
            "{name}={value}; Path=/; Max-Age={max_age_seconds}; SameSite=Lax{http_only}{secure}"
        ))
        .unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
    }

    /// The cookie that binds a new sign-in flow to this browser.
    pub fn flow_cookie_header(&self, value: &str) -> HeaderValue {
        self.cookie(&cookie_name(self.secure, "portico_flow"), value, 3600, true)
    }

    /// Remembers the organization chosen last, to put it first next time.
    pub fn last_organization_header(&self, organization: &str) -> HeaderValue {
        self.cookie(LAST_ORGANIZATION_COOKIE, organization, 400 * 24 * 3600, true)
    }

    /// Headers every hosted page carries.
    pub fn decorate(&self, headers: &mut HeaderMap) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        // Reset and invitation links carry secrets in the URL: never pass them to another site.
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' https: data:; \
                 base-uri 'none'; frame-ancestors 'none'",
            ),
        );
        if self.new_csrf {
            headers.append(
                header::SET_COOKIE,
                self.cookie(&cookie_name(self.secure, "portico_csrf"), &self.csrf, 86_400, true),
            );
        }
        if let Some(lang) = self.chosen_lang {
            headers.append(header::SET_COOKIE, self.cookie(LANG_COOKIE, lang, 365 * 86_400, false));
        }
    }

    /// Whether a form submission is genuine: same-site, and carrying this browser's CSRF token.
    pub fn form_is_genuine(&self, form: &Form) -> bool {
        !self.new_csrf
            && !self.cross_site
            && form.get("csrf_token").is_some_and(|t| portico_app::authorize::tokens_match(t, &self.csrf))
    }
}

/// A submitted `application/x-www-form-urlencoded` body.
pub struct Form(HashMap<String, String>);

impl Form {
    pub fn parse(body: &[u8]) -> Self {
        Form(form_urlencoded::parse(body).into_owned().collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().trim().to_owned()
    }
}

/// `303 See Other` to `location`, with the hosted pages' headers.
pub fn see_other(visitor: &Visitor, location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    visitor.decorate(response.headers_mut());
    response
}
