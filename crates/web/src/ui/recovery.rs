//! Forgotten passwords: ask for a link (`/forgot-password`), then choose a new password with it
//! (`/reset-password?token=…`). The first page answers the same whether or not the address has
//! an account, and in the same time: the lookup and the email happen after the answer.

use super::page::{
    Chrome, ForgotPasswordPage, MessagePage, ResetPasswordPage, error_page, explain, render, show_refusal,
};
use super::{Form, Visitor};
use crate::WebState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

pub async fn forgot_page(State(state): State<WebState>, visitor: Visitor) -> Response {
    let page = ForgotPasswordPage { chrome: Chrome::new(&state, &visitor, "forgot.title"), email: String::new() };
    render(StatusCode::OK, &visitor, &page)
}

pub async fn submit_forgot(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Response {
    let form = Form::parse(&body);
    if !visitor.form_is_genuine(&form) {
        return error_page(&state, &visitor, StatusCode::FORBIDDEN, "csrf");
    }
    let email = form.text("email");
    match portico_app::password_resets::request(
        &state.app,
        &email,
        visitor.t.lang,
        visitor.origin.ip_address.as_deref(),
    )
    .await
    {
        Ok(()) => {
            let chrome = Chrome::new(&state, &visitor, "forgot.sent_title");
            let page = MessagePage {
                paragraphs: vec![visitor.t.format("forgot.sent_body", &[("email", &email)])],
                chrome,
                error_code: None,
                link: Some((visitor.t.get("forgot.back_to_sign_in").to_owned(), "/sign-in".to_owned())),
            };
            render(StatusCode::OK, &visitor, &page)
        }
        Err(error) => show_refusal(
            &visitor,
            &error,
            ForgotPasswordPage { chrome: Chrome::new(&state, &visitor, "forgot.title"), email },
        ),
    }
}

fn link_no_longer_works(state: &WebState, visitor: &Visitor) -> Response {
    let chrome = Chrome::new(state, visitor, "reset.invalid_title");
    let page = MessagePage {
        paragraphs: vec![visitor.t.get("reset.invalid_body").to_owned()],
        chrome,
        error_code: None,
        link: Some((visitor.t.get("reset.ask_again").to_owned(), "/forgot-password".to_owned())),
    };
    render(StatusCode::BAD_REQUEST, visitor, &page)
}

pub async fn reset_page(State(state): State<WebState>, visitor: Visitor) -> Response {
    let token = visitor.query("token").unwrap_or_default().to_owned();
    match portico_app::password_resets::usable_for(&state.app, &token).await {
        Ok(Some(email)) => {
            let subtitle = visitor.t.format("reset.subtitle", &[("email", &email)]);
            let page = ResetPasswordPage { chrome: Chrome::new(&state, &visitor, "reset.title"), token, subtitle };
            render(StatusCode::OK, &visitor, &page)
        }
        Ok(None) => link_no_longer_works(&state, &visitor),
        Err(error) => {
            let explained = explain(visitor.t, &error);
            error_page(&state, &visitor, explained.status, "internal")
        }
    }
}

pub async fn submit_reset(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Response {
    let form = Form::parse(&body);
    if !visitor.form_is_genuine(&form) {
        return error_page(&state, &visitor, StatusCode::FORBIDDEN, "csrf");
    }
    let token = form.text("token");
    let password = form.get("new_password").unwrap_or_default();
    match portico_app::password_resets::confirm(&state.app, &token, password).await {
        Ok(_) => {
            let chrome = Chrome::new(&state, &visitor, "reset.done_title");
            let page = MessagePage {
                paragraphs: vec![visitor.t.get("reset.done_body").to_owned()],
                chrome,
                error_code: None,
                link: Some((visitor.t.get("forgot.back_to_sign_in").to_owned(), "/sign-in".to_owned())),
            };
            render(StatusCode::OK, &visitor, &page)
        }
        Err(portico_app::Error::Auth(portico_app::AuthError::InvalidGrant(_))) => {
            link_no_longer_works(&state, &visitor)
        }
        Err(error) => show_refusal(
            &visitor,
            &error,
            ResetPasswordPage { chrome: Chrome::new(&state, &visitor, "reset.title"), token, subtitle: String::new() },
        ),
    }
}
