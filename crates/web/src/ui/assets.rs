//! The stylesheet, the theme built from the branding configuration, and the passkey script. All
//! are served by Portico itself (no CDN), so the pages' Content-Security-Policy can stay
//! `style-src 'self'; script-src 'self'`.

use crate::WebState;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("../../assets/portico.css");
const PASSKEYS_JS: &str = include_str!("../../assets/passkeys.js");

/// Changes whenever the stylesheet or the script does, so they can be cached for a year.
pub const CSS_VERSION: &str = env!("CARGO_PKG_VERSION");

fn theme_css(state: &WebState) -> String {
    let branding = &state.app.settings.branding;
    format!(
        ":root {{ --primary: {}; --on-primary: {}; --page: {}; }}\n",
        branding.primary_color,
        branding.on_primary_color(),
        branding.background_color
    )
}

pub fn theme_version(state: &WebState) -> String {
    let css = theme_css(state);
    // A short content hash: FNV-1a is plenty to tell two themes apart.
    let hash = css.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{hash:016x}")
}

fn css_response(body: String) -> Response {
    asset_response(body, "text/css; charset=utf-8")
}

fn asset_response(body: String, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

pub async fn stylesheet() -> Response {
    css_response(CSS.to_owned())
}

pub async fn theme(State(state): State<WebState>) -> Response {
    css_response(theme_css(&state))
}

pub async fn passkeys_script() -> Response {
    asset_response(PASSKEYS_JS.to_owned(), "text/javascript; charset=utf-8")
}
