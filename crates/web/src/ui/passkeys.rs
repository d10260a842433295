//! Passkeys on the hosted pages: signing in with one, using one as the second factor, setting
//! one up when an organization requires a second factor, and the passkeys page (list, add,
//! remove; the user's authenticator apps can be removed there too) a signed-in user reaches
//! through a one-time link from the app.
//!
//! The browser's part runs in `/assets/passkeys.js`: it asks `/passkeys/options` for a
//! challenge, lets the browser create or use the passkey, and submits the answer in the form's
//! `credential` field, so the server's reply is an ordinary form response.

use super::page::{Chrome, PasskeyItem, PasskeysPage, SignInPage, error_page, render, show_refusal};
use super::sign_in::{flow_of, go, posted_flow, sign_in_page};
use super::{Form, Visitor, see_other};
use crate::WebState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use portico_app::authorize::{self, SignInFlow};
use portico_app::passkey_page;
use portico_app::passkeys::CredentialResponse;

fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(serde_json::json!({"error": code, "message": message}))).into_response()
}

/// `POST /passkeys/options`: starts a ceremony for the browser's flow. The same CSRF checks as
/// every form; answers JSON for the script.
pub async fn options(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Response {
    let form = Form::parse(&body);
    if !visitor.form_is_genuine(&form) {
        return json_error(StatusCode::FORBIDDEN, "csrf", visitor.t.get("errors.csrf"));
    }
    let current = visitor.flow_cookie.as_deref().map(authorize::flow_tag);
    if form.get("flow").is_none_or(|tag| current.as_deref() != Some(tag)) {
        return json_error(StatusCode::CONFLICT, "flow_replaced", visitor.t.get("errors.flow_replaced"));
    }
    let flow = match flow_of(&state, &visitor).await {
        Ok(flow) => flow,
        Err(_) => return json_error(StatusCode::BAD_REQUEST, "flow_expired", visitor.t.get("errors.flow_expired")),
    };
    match authorize::passkey_options(&state.app, &flow, &form.text("purpose"), &visitor.origin).await {
        Ok(options) => {
            let mut response = Json(options).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => {
            let explained = super::page::explain(visitor.t, &error);
            let code = match &error {
                portico_app::Error::BadRequest { code, .. } => code,
                portico_app::Error::Invalid(invalid) => invalid.0.first().map_or("invalid", |e| e.code.as_str()),
                portico_app::Error::RateLimited { .. } => "rate_limited",
                _ => "invalid",
            };
            let message = explained.messages.first().map(String::as_str).unwrap_or_default();
            let mut response = json_error(explained.status, code, message);
            if let Some(seconds) = explained.retry_after
                && let Ok(value) = header::HeaderValue::from_str(&seconds.to_string())
            {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}

/// The browser's answer from a passkey form.
fn credential_of(form: &Form) -> Result<CredentialResponse, portico_app::Error> {
    CredentialResponse::parse(&form.text("credential"))
}

/// `POST /sign-in/passkey`: signs in with a passkey from the first page.
pub async fn sign_in(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Response {
    let (mut flow, form) = match posted_flow(&state, &visitor, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let result = match credential_of(&form) {
        Ok(credential) => authorize::sign_in_with_passkey(&state.app, &mut flow, &credential, &visitor.origin).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(next) => go(&visitor, next),
        Err(error) => {
            let page = SignInPage { email_invalid: false, ..sign_in_page(&state, &visitor, String::new()) };
            show_refusal(&visitor, &error, page)
        }
    }
}

/// `POST /mfa/passkey`: the second factor with a passkey.
pub async fn second_factor(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Response {
    let (mut flow, form) = match posted_flow(&state, &visitor, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let result = match credential_of(&form) {
        Ok(credential) => {
            authorize::verify_second_factor_with_passkey(&state.app, &mut flow, &credential, &visitor.origin).await
        }
        Err(error) => Err(error),
    };
    match result {
        Ok(next) => go(&visitor, next),
        Err(error) => {
            let page = super::mfa::verify_view(&state, &visitor, &flow).await;
            show_refusal(&visitor, &error, page)
        }
    }
}

/// `POST /mfa/setup/passkey`: a passkey as the second factor the organization requires.
pub async fn set_up(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Response {
    let (mut flow, form) = match posted_flow(&state, &visitor, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let result = match credential_of(&form) {
        Ok(credential) => authorize::set_up_passkey(&state.app, &mut flow, &credential, &visitor.origin).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(next) => go(&visitor, next),
        Err(error) => match super::mfa::setup_view(&state, &visitor, &mut flow).await {
            Ok(page) => show_refusal(&visitor, &error, page),
            Err(response) => response,
        },
    }
}

fn day(timestamp: portico_domain::Timestamp) -> String {
    let text = timestamp.to_string();
    text.get(..10).unwrap_or(&text).to_owned()
}

async fn settings_view(state: &WebState, visitor: &Visitor, flow: &SignInFlow) -> Result<PasskeysPage, Response> {
    let settings = match passkey_page::passkey_settings(&state.app, flow).await {
        Ok(settings) => settings,
        Err(error) => {
            tracing::info!(%error, "no passkeys page for this flow");
            return Err(error_page(state, visitor, StatusCode::BAD_REQUEST, "passkeys_link_invalid"));
        }
    };
    let t = visitor.t;
    let passkeys = settings
        .passkeys
        .iter()
        .map(|passkey| {
            let mut detail = vec![t.format("passkeys.page.added", &[("date", &day(passkey.created_at))])];
            if passkey.synced {
                detail.insert(0, t.get("passkeys.page.synced").to_owned());
            }
            if let Some(used) = passkey.last_used_at {
                detail.push(t.format("passkeys.page.last_used", &[("date", &day(used))]));
            }
            PasskeyItem {
                id: passkey.id.to_string(),
                name: passkey.name.clone(),
                detail: detail.join(" · "),
                remove_label: t.format("passkeys.page.remove_named", &[("name", &passkey.name)]),
            }
        })
        .collect();
    let apps = settings
        .authenticator_apps
        .iter()
        .map(|factor| {
            let name = t.format("passkeys.page.app_name", &[("issuer", &factor.totp.issuer)]);
            PasskeyItem {
                id: factor.id.to_string(),
                detail: t.format("passkeys.page.added", &[("date", &day(factor.created_at))]),
                remove_label: t.format("passkeys.page.remove_named", &[("name", &name)]),
                name,
            }
        })
        .collect();
    Ok(PasskeysPage {
        chrome: Chrome::new(state, visitor, "passkeys.page.title"),
        passkeys,
        apps,
        fresh: settings.fresh,
        has_password: settings.has_password,
        return_to: settings.return_to,
        back_label: t.get("passkeys.page.back").to_owned(),
    })
}

async fn show_settings(state: &WebState, visitor: &Visitor, flow: &SignInFlow, notice: Option<&str>) -> Response {
    match settings_view(state, visitor, flow).await {
        Ok(mut page) => {
            page.chrome.notice = notice.map(|key| visitor.t.get(key).to_owned());
            render(StatusCode::OK, visitor, &page)
        }
        Err(response) => response,
    }
}

async fn refuse_on_settings(
    state: &WebState,
    visitor: &Visitor,
    flow: &SignInFlow,
    error: &portico_app::Error,
) -> Response {
    match settings_view(state, visitor, flow).await {
        Ok(page) => show_refusal(visitor, error, page),
        Err(response) => response,
    }
}

/// `GET /passkeys?token=…` opens a one-time link (then `GET /passkeys` shows the page).
pub async fn settings_page(State(state): State<WebState>, visitor: Visitor) -> Response {
    if let Some(token) = visitor.query("token").filter(|t| !t.is_empty()).map(str::to_owned) {
        return match passkey_page::open_passkey_settings(&state.app, &token).await {
            Ok(Some(cookie)) => {
                let mut response = see_other(&visitor, "/passkeys");
                response.headers_mut().append(header::SET_COOKIE, visitor.flow_cookie_header(&cookie));
                response
            }
            Ok(None) => error_page(&state, &visitor, StatusCode::BAD_REQUEST, "passkeys_link_invalid"),
            Err(error) => {
                tracing::error!(%error, "opening a passkeys link failed");
                error_page(&state, &visitor, StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
    }
    let flow = match flow_of(&state, &visitor).await {
        Ok(flow) => flow,
        Err(response) => return response,
    };
    let notice = match visitor.query("done") {
        Some("added") => Some("passkeys.page.added_notice"),
        Some("removed") => Some("passkeys.page.removed_notice"),
        Some("app_removed") => Some("passkeys.page.app_removed_notice"),
        Some("confirmed") => Some("passkeys.page.confirmed_notice"),
        _ => None,
    };
    show_settings(&state, &visitor, &flow, notice).await
}

/// `POST /passkeys/confirm`: "confirm it's you", with a passkey or the password.
pub async fn confirm(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Response {
    let (mut flow, form) = match posted_flow(&state, &visitor, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let result = match form.get("password") {
        Some(password) => passkey_page::confirm_with_password(&state.app, &mut flow, password, &visitor.origin).await,
        None => match credential_of(&form) {
            Ok(credential) => {
                passkey_page::confirm_with_passkey(&state.app, &mut flow, &credential, &visitor.origin).await
            }
            Err(error) => Err(error),
        },
    };
    match result {
        Ok(()) => see_other(&visitor, "/passkeys?done=confirmed"),
        Err(error) => refuse_on_settings(&state, &visitor, &flow, &error).await,
    }
}

/// `POST /passkeys/add`: registers a new passkey.
pub async fn add(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Response {
    let (flow, form) = match posted_flow(&state, &visitor, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let result = match credential_of(&form) {
        Ok(credential) => passkey_page::add_passkey(&state.app, &flow, &credential, &visitor.origin).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(_) => see_other(&visitor, "/passkeys?done=added"),
        Err(error) => refuse_on_settings(&state, &visitor, &flow, &error).await,
    }
}

/// `POST /passkeys/remove`: removes one of the user's passkeys.
pub async fn remove(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Response {
    let (flow, form) = match posted_flow(&state, &visitor, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match passkey_page::remove_passkey(&state.app, &flow, &form.text("passkey_id")).await {
        Ok(()) => see_other(&visitor, "/passkeys?done=removed"),
        Err(error) => refuse_on_settings(&state, &visitor, &flow, &error).await,
    }
}

/// `POST /passkeys/remove-app`: removes one of the user's authenticator apps.
pub async fn remove_app(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Response {
    let (flow, form) = match posted_flow(&state, &visitor, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match passkey_page::remove_authenticator_app(&state.app, &flow, &form.text("factor_id")).await {
        Ok(()) => see_other(&visitor, "/passkeys?done=app_removed"),
        Err(error) => refuse_on_settings(&state, &visitor, &flow, &error).await,
    }
}
