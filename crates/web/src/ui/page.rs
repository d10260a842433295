//! Rendering hosted pages: the shared chrome (language, branding, CSRF token, messages) and one
//! askama template struct per page.

use super::Visitor;
use crate::WebState;
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portico_app::i18n::Catalog;

/// What every page shows around its content.
#[derive(Clone)]
pub struct Chrome {
    pub t: &'static Catalog,
    pub lang: &'static str,
    pub title: String,
    pub product: String,
    pub logo_url: Option<String>,
    pub csrf: String,
    /// Names the sign-in flow a form belongs to, so a form from a flow that another tab replaced
    /// is refused instead of finishing the other flow.
    pub flow_tag: Option<String>,
    /// (code, name, link to this page in that language, whether it is the current one)
    pub languages: Vec<(&'static str, &'static str, String, bool)>,
    pub errors: Vec<String>,
    pub notice: Option<String>,
    pub asset_version: &'static str,
    pub theme_version: String,
    /// Passkeys work on this page's origin: the page loads the passkey script and shows its buttons.
    pub passkeys: bool,
}

impl Chrome {
    pub fn new(state: &WebState, visitor: &Visitor, title_key: &str) -> Self {
        let branding = &state.app.settings.branding;
        let t = visitor.t;
        Chrome {
            t,
            lang: t.lang,
            title: t.format(title_key, &[("product", &branding.product_name)]),
            product: branding.product_name.clone(),
            logo_url: branding.logo_url.clone(),
            csrf: visitor.csrf.clone(),
            flow_tag: visitor.flow_cookie.as_deref().map(portico_app::authorize::flow_tag),
            languages: portico_app::i18n::LANGUAGES
                .iter()
                .map(|(code, name, _)| (*code, *name, visitor.path_in(code), *code == t.lang))
                .collect(),
            errors: Vec::new(),
            notice: None,
            asset_version: super::assets::CSS_VERSION,
            theme_version: super::assets::theme_version(state),
            passkeys: visitor
                .page_origin
                .as_deref()
                .is_some_and(|origin| portico_app::passkeys::available_at(&state.app, origin)),
        }
    }

    pub fn with_title(mut self, title: String) -> Self {
        self.title = title;
        self
    }
}

#[derive(Template)]
#[template(path = "sign_in.html")]
pub struct SignInPage {
    pub chrome: Chrome,
    pub email: String,
    /// An error is about the email typed (not, say, a passkey that did not work).
    pub email_invalid: bool,
}

#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordPage {
    pub chrome: Chrome,
    pub email: String,
    pub subtitle: String,
}

#[derive(Template)]
#[template(path = "code.html")]
pub struct CodePage {
    pub chrome: Chrome,
    pub subtitle: String,
    pub action: &'static str,
    pub resend_action: &'static str,
    pub submit: String,
}

#[derive(Template)]
#[template(path = "sign_up.html")]
pub struct SignUpPage {
    pub chrome: Chrome,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub email_locked: bool,
    pub invalid_email: bool,
    pub invalid_password: bool,
}

pub struct Choice {
    pub id: String,
    pub name: String,
    pub initial: String,
    pub role: String,
    pub last_used: bool,
    /// The organization the session is in now (organization switcher).
    pub current: bool,
}

#[derive(Template)]
#[template(path = "organizations.html")]
pub struct OrganizationsPage {
    pub chrome: Chrome,
    pub subtitle: String,
    pub choices: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "forgot_password.html")]
pub struct ForgotPasswordPage {
    pub chrome: Chrome,
    pub email: String,
}

#[derive(Template)]
#[template(path = "reset_password.html")]
pub struct ResetPasswordPage {
    pub chrome: Chrome,
    pub token: String,
    /// Which account the link is for; empty when the page is shown again after a refusal.
    pub subtitle: String,
}

#[derive(Template)]
#[template(path = "invitation.html")]
pub struct InvitationPage {
    pub chrome: Chrome,
    pub subtitle: String,
}

#[derive(Template)]
#[template(path = "mfa_setup.html")]
pub struct MfaSetupPage {
    pub chrome: Chrome,
    pub subtitle: String,
    pub qr_code: String,
    /// The base32 secret in groups of four, for typing into an app by hand.
    pub secret_grouped: String,
}

#[derive(Template)]
#[template(path = "mfa_recovery.html")]
pub struct MfaRecoveryPage {
    pub chrome: Chrome,
    pub codes: Vec<String>,
}

#[derive(Template)]
#[template(path = "mfa_verify.html")]
pub struct MfaVerifyPage {
    pub chrome: Chrome,
    pub subtitle: String,
    /// The user can enter a code: from an authenticator app, or a recovery code.
    pub has_codes: bool,
    pub has_passkeys: bool,
}

/// One passkey on the passkeys page.
pub struct PasskeyItem {
    pub id: String,
    pub name: String,
    /// "Synced · added 2026-11-27 · last used 2026-11-27"
    pub detail: String,
    /// "Remove Chrome on macOS", for screen readers.
    pub remove_label: String,
}

#[derive(Template)]
#[template(path = "passkeys.html")]
pub struct PasskeysPage {
    pub chrome: Chrome,
    pub passkeys: Vec<PasskeyItem>,
    /// The user's authenticator apps, in the same shape (removable on the same terms).
    pub apps: Vec<PasskeyItem>,
    pub fresh: bool,
    pub has_password: bool,
    pub return_to: String,
    pub back_label: String,
}

#[derive(Template)]
#[template(path = "mfa_grace.html")]
pub struct MfaGracePage {
    pub chrome: Chrome,
    pub subtitle: String,
}

/// A page that only says something: signed out, email sent, an error.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub chrome: Chrome,
    pub paragraphs: Vec<String>,
    pub error_code: Option<String>,
    pub link: Option<(String, String)>,
}

/// Renders a template into a response with the hosted pages' headers.
pub fn render(status: StatusCode, visitor: &Visitor, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            let mut response = (status, html).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            visitor.decorate(headers);
            response
        }
        Err(error) => {
            tracing::error!(%error, "rendering a hosted page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Portico could not render this page.").into_response()
        }
    }
}

/// The error page, for a problem the person cannot fix on this page. Never redirects.
pub fn error_page(state: &WebState, visitor: &Visitor, status: StatusCode, code: &str) -> Response {
    let chrome = Chrome::new(state, visitor, "errors.title");
    let key = format!("errors.{code}");
    let message = visitor.t.get(&key);
    let message = if message == key { visitor.t.get("errors.internal").to_owned() } else { message.to_owned() };
    render(
        status,
        visitor,
        &MessagePage { chrome, paragraphs: vec![message], error_code: Some(code.to_owned()), link: None },
    )
}

/// An app error in words for the person at the form.
pub struct Explained {
    pub status: StatusCode,
    pub messages: Vec<String>,
    pub retry_after: Option<u64>,
    /// Which fields were refused, to mark them invalid.
    pub fields: Vec<String>,
}

pub fn explain(t: &Catalog, error: &portico_app::Error) -> Explained {
    use portico_app::{AuthError, Error};
    let keyed = |code: &str, fallback: &str| {
        let key = format!("errors.{code}");
        let text = t.get(&key);
        if text == key { fallback.to_owned() } else { text.to_owned() }
    };
    let simple = |status, code: &str| Explained {
        status,
        messages: vec![keyed(code, t.get("errors.internal"))],
        retry_after: None,
        fields: Vec::new(),
    };
    match error {
        Error::Invalid(invalid) => Explained {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            messages: invalid
                .0
                .iter()
                .map(|e| {
                    let code = if e.code == "email_required" { "email_invalid" } else { e.code.as_str() };
                    keyed(code, &e.message)
                })
                .collect(),
            retry_after: None,
            fields: invalid.0.iter().map(|e| e.field.clone()).collect(),
        },
        Error::Auth(AuthError::InvalidCredentials) => simple(StatusCode::BAD_REQUEST, "invalid_credentials"),
        Error::Auth(AuthError::OneTimeCode(refusal)) => simple(StatusCode::BAD_REQUEST, refusal.code()),
        Error::Auth(AuthError::InvitationInvalid(message)) => {
            let code = if message.contains("another email") { "invitation_wrong_email" } else { "invitation_invalid" };
            simple(StatusCode::BAD_REQUEST, code)
        }
        Error::Auth(AuthError::PolicyRefused { code, .. }) => simple(StatusCode::FORBIDDEN, code),
        Error::Auth(AuthError::SecondFactor { code, .. }) => simple(StatusCode::BAD_REQUEST, code),
        Error::RateLimited { retry_after_seconds, .. } => Explained {
            status: StatusCode::TOO_MANY_REQUESTS,
            messages: vec![t.get("errors.rate_limited").to_owned()],
            retry_after: Some(*retry_after_seconds),
            fields: Vec::new(),
        },
        Error::BadRequest { code, message, .. } => Explained {
            status: StatusCode::BAD_REQUEST,
            messages: vec![keyed(code, message)],
            retry_after: None,
            fields: Vec::new(),
        },
        other => {
            tracing::error!(error = %other, "a hosted page failed");
            simple(StatusCode::INTERNAL_SERVER_ERROR, "internal")
        }
    }
}

/// A page with a form, which can be shown again with the reasons its submission was refused.
pub trait FormPage: Template {
    fn chrome_mut(&mut self) -> &mut Chrome;
}

macro_rules! form_pages {
    ($($page:ty),*) => {
        $(impl FormPage for $page {
            fn chrome_mut(&mut self) -> &mut Chrome {
                &mut self.chrome
            }
        })*
    };
}
form_pages!(
    SignInPage,
    PasswordPage,
    CodePage,
    SignUpPage,
    OrganizationsPage,
    ForgotPasswordPage,
    ResetPasswordPage,
    MfaSetupPage,
    MfaVerifyPage,
    PasskeysPage
);

/// Shows a form page again with `error` explained in the person's language.
pub fn show_refusal(visitor: &Visitor, error: &portico_app::Error, mut page: impl FormPage) -> Response {
    let explained = explain(visitor.t, error);
    // Nothing typed on the form was wrong: say what stops the sign-in on a page of its own,
    // rather than mark the form's fields.
    if let portico_app::Error::Auth(portico_app::AuthError::PolicyRefused { code, .. }) = error {
        let chrome = page.chrome_mut().clone().with_title(visitor.t.get("errors.policy_heading").to_owned());
        let link = Some((visitor.t.get("common.use_another_email").to_owned(), "/sign-in?change=1".to_owned()));
        let message =
            MessagePage { chrome, paragraphs: explained.messages.clone(), error_code: Some((*code).to_owned()), link };
        return render(explained.status, visitor, &message);
    }
    page.chrome_mut().errors = explained.messages.clone();
    refused(visitor, &explained, &page)
}

/// Renders a form page again with the error explained (and `Retry-After` when rate-limited).
pub fn refused(visitor: &Visitor, explained: &Explained, page: &impl Template) -> Response {
    let mut response = render(explained.status, visitor, page);
    if let Some(seconds) = explained.retry_after
        && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}
