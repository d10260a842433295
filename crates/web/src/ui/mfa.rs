//! The second-factor pages of the sign-in flow: setting up an authenticator app (with recovery
//! codes shown once), and verifying with it (or with a recovery code).

use super::Visitor;
use super::page::{
    Chrome, MfaGracePage, MfaRecoveryPage, MfaSetupPage, MfaVerifyPage, error_page, render, show_refusal,
};
use super::sign_in::{flow_of, go, posted_flow};
use crate::WebState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use portico_app::authorize::{self, SignInFlow};

/// Why the page is asked for, in words: an organization's policy ended the previous session, or
/// the organization requires a second factor.
async fn reason(state: &WebState, visitor: &Visitor, flow: &SignInFlow, default_key: &str) -> String {
    match authorize::policy_notice(&state.app, flow).await {
        Ok(Some((code, organization))) => {
            let organization = organization.unwrap_or_else(|| visitor.t.get("mfa.your_organization").to_owned());
            let key = format!("mfa.ended.{code}");
            let text = visitor.t.format(&key, &[("organization", &organization)]);
            if text == key { visitor.t.format("mfa.ended.policy", &[("organization", &organization)]) } else { text }
        }
        _ => visitor.t.get(default_key).to_owned(),
    }
}

pub(super) async fn setup_view(
    state: &WebState,
    visitor: &Visitor,
    flow: &mut SignInFlow,
) -> Result<MfaSetupPage, Response> {
    let factor = match authorize::enrollment(&state.app, flow).await {
        Ok(factor) => factor,
        // The user has a second factor already: they verify with it, they don't add another.
        Err(portico_app::Error::Invalid(invalid)) if invalid.0.iter().any(|e| e.code == "second_factor_required") => {
            return Err(super::see_other(visitor, "/mfa/verify"));
        }
        Err(error) => {
            tracing::debug!(%error, "no enrollment for this flow");
            return Err(error_page(state, visitor, StatusCode::BAD_REQUEST, "flow_expired"));
        }
    };
    let secret = factor.totp.secret.unwrap_or_default();
    let grouped =
        secret.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ");
    let chrome = Chrome::new(state, visitor, "mfa.setup.title");
    let default_key = if chrome.passkeys { "mfa.setup.subtitle_with_passkeys" } else { "mfa.setup.subtitle" };
    Ok(MfaSetupPage {
        subtitle: reason(state, visitor, flow, default_key).await,
        chrome,
        qr_code: factor.totp.qr_code.unwrap_or_default(),
        secret_grouped: grouped,
    })
}

/// Set-up already finished in this flow (the recovery-codes page reloaded or went back):
/// carry on rather than start another enrollment.
fn already_set_up(flow: &SignInFlow) -> bool {
    flow.mfa_verified_at.is_some() && flow.enrolling_factor_id.is_none()
}

async fn carry_on(state: &WebState, visitor: &Visitor, flow: &mut SignInFlow) -> Response {
    match authorize::continue_after_second_factor(&state.app, flow, &visitor.origin).await {
        Ok(next) => go(visitor, next),
        Err(error) => {
            let page = verify_view(state, visitor, flow).await;
            show_refusal(visitor, &error, page)
        }
    }
}

pub async fn setup_page(State(state): State<WebState>, visitor: Visitor) -> Response {
    let mut flow = match flow_of(&state, &visitor).await {
        Ok(flow) => flow,
        Err(response) => return response,
    };
    if already_set_up(&flow) {
        return carry_on(&state, &visitor, &mut flow).await;
    }
    match setup_view(&state, &visitor, &mut flow).await {
        Ok(page) => render(StatusCode::OK, &visitor, &page),
        Err(response) => response,
    }
}

pub async fn submit_setup(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Response {
    let (mut flow, form) = match posted_flow(&state, &visitor, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if already_set_up(&flow) {
        return carry_on(&state, &visitor, &mut flow).await;
    }
    match authorize::confirm_enrollment(&state.app, &mut flow, &form.text("code"), &visitor.origin).await {
        Ok(codes) => {
            let page = MfaRecoveryPage { chrome: Chrome::new(&state, &visitor, "mfa.recovery.title"), codes };
            render(StatusCode::OK, &visitor, &page)
        }
        Err(error) => match setup_view(&state, &visitor, &mut flow).await {
            Ok(page) => show_refusal(&visitor, &error, page),
            Err(response) => response,
        },
    }
}

pub async fn continue_after_setup(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Response {
    let (mut flow, _) = match posted_flow(&state, &visitor, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    carry_on(&state, &visitor, &mut flow).await
}

pub(super) async fn verify_view(state: &WebState, visitor: &Visitor, flow: &SignInFlow) -> MfaVerifyPage {
    let (has_codes, has_passkeys) = authorize::second_factor_kinds(&state.app, flow).await.unwrap_or_else(|error| {
        tracing::error!(%error, "reading the user's second factors failed");
        (true, false)
    });
    let default_key = if has_passkeys && !has_codes { "passkeys.verify_subtitle" } else { "mfa.verify.subtitle" };
    MfaVerifyPage {
        chrome: Chrome::new(state, visitor, "mfa.verify.title"),
        subtitle: reason(state, visitor, flow, default_key).await,
        has_codes,
        has_passkeys,
    }
}

pub async fn verify_page(State(state): State<WebState>, visitor: Visitor) -> Response {
    let flow = match flow_of(&state, &visitor).await {
        Ok(flow) => flow,
        Err(response) => return response,
    };
    if flow.user_id.is_none() {
        return error_page(&state, &visitor, StatusCode::BAD_REQUEST, "flow_expired");
    }
    let page = verify_view(&state, &visitor, &flow).await;
    render(StatusCode::OK, &visitor, &page)
}

pub async fn submit_verify(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Response {
    let (mut flow, form) = match posted_flow(&state, &visitor, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match authorize::verify_second_factor(&state.app, &mut flow, &form.text("code"), &visitor.origin).await {
        Ok(next) => go(&visitor, next),
        Err(error) => {
            let page = verify_view(&state, &visitor, &flow).await;
            show_refusal(&visitor, &error, page)
        }
    }
}

/// During an organization's MFA grace period: set it up now, or not now.
pub async fn grace_page(State(state): State<WebState>, visitor: Visitor) -> Response {
    let flow = match flow_of(&state, &visitor).await {
        Ok(flow) => flow,
        Err(response) => return response,
    };
    match authorize::grace_offer(&state.app, &flow).await {
        Ok(Some((organization, deadline))) => {
            let date = deadline.to_string();
            let day = date.get(..10).unwrap_or(&date);
            let page = MfaGracePage {
                chrome: Chrome::new(&state, &visitor, "mfa.grace.title"),
                subtitle: visitor.t.format("mfa.grace.subtitle", &[("organization", &organization), ("date", day)]),
            };
            render(StatusCode::OK, &visitor, &page)
        }
        Ok(None) => error_page(&state, &visitor, StatusCode::BAD_REQUEST, "flow_expired"),
        Err(error) => {
            tracing::error!(%error, "loading the grace offer failed");
            error_page(&state, &visitor, StatusCode::INTERNAL_SERVER_ERROR, "internal")
        }
    }
}

/// "Not now": on into the organization.
pub async fn later(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Response {
    let (mut flow, _) = match posted_flow(&state, &visitor, &body).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match authorize::skip_grace_setup(&state.app, &mut flow, &visitor.origin).await {
        Ok(next) => go(&visitor, next),
        Err(error) => {
            let page = verify_view(&state, &visitor, &flow).await;
            show_refusal(&visitor, &error, page)
        }
    }
}
