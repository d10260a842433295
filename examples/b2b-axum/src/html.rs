//! The page frame and a few HTML helpers. Everything interpolated goes through `esc`.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// Escapes text for HTML element content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// What the header shows about the signed-in person.
pub struct Header {
    pub user_label: String,
    pub organization_name: String,
    pub role: String,
    /// (organization id, name) of the user's other organizations.
    pub other_organizations: Vec<(String, String)>,
    /// (path, label, current) of the navigation links this person may use.
    pub nav: Vec<(&'static str, &'static str, bool)>,
}

/// A whole page: the header (when signed in), a title and the body.
pub fn page(status: StatusCode, title: &str, header: Option<&Header>, body: &str) -> Response {
    let header_html = header.map(render_header).unwrap_or_else(|| {
        "<header class=\"top\"><a class=\"brand\" href=\"/\">&#9673; Lighthouse</a></header>".to_owned()
    });
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Lighthouse</title><link rel=\"stylesheet\" href=\"/assets/app.css\"></head>\
         <body>{header_html}<main>{body}</main>\
         <footer>Lighthouse is an example app for <a href=\"https://github.com/portico-auth/portico\">Portico</a>.</footer>\
         </body></html>",
        title = esc(title),
    );
    (status, Html(html)).into_response()
}

fn render_header(header: &Header) -> String {
    let nav: String = header
        .nav
        .iter()
        .map(|(path, label, current)| {
            let aria = if *current { " aria-current=\"page\"" } else { "" };
            format!("<a href=\"{path}\"{aria}>{label}</a>")
        })
        .collect();
    let others: String = header
        .other_organizations
        .iter()
        .map(|(id, name)| {
            format!(
                "<li><form method=\"post\" action=\"/switch\"><input type=\"hidden\" name=\"organization_id\" value=\"{}\">\
                 <button type=\"submit\">{}</button></form></li>",
                esc(id),
                esc(name)
            )
        })
        .collect();
    format!(
        "<header class=\"top\"><a class=\"brand\" href=\"/projects\">&#9673; Lighthouse</a>\
         <details class=\"switcher\" data-testid=\"org-switcher\"><summary><span class=\"org\">{org}</span>\
         <span class=\"role\">{role}</span></summary><div class=\"menu\"><p class=\"menu-title\">Switch organization</p>\
         <div class=\"current\">{org} <span class=\"badge\">Current</span></div><ul>{others}</ul><a href=\"/switch\" class=\"all\">All organizations…</a></div></details>\
         <nav>{nav}</nav><div class=\"who\"><span>{user}</span><a href=\"/passkeys\" class=\"passkeys\">Passkeys</a>\
         <form method=\"post\" action=\"/logout\"><button type=\"submit\" class=\"link\">Sign out</button></form></div></header>",
        org = esc(&header.organization_name),
        role = esc(&header.role),
        user = esc(&header.user_label),
    )
}

/// A page that says why something was refused.
pub fn refusal(status: StatusCode, title: &str, message: &str, header: Option<&Header>) -> Response {
    page(
        status,
        title,
        header,
        &format!(
            "<section class=\"card narrow\"><h1>{}</h1><p>{}</p><div class=\"row\"><a class=\"button\" href=\"/projects\">Back to projects</a>\
             <form method=\"post\" action=\"/logout\"><button type=\"submit\" class=\"secondary\">Sign out</button></form></div></section>",
            esc(title),
            esc(message)
        ),
    )
}

pub const STYLESHEET: &str = r#"
:root { --ink:#0f172a; --muted:#64748b; --line:#e2e8f0; --bg:#f8fafc; --brand:#4f46e5; --brand-ink:#fff; --danger:#b91c1c; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--ink); background:var(--bg); }
a { color:var(--brand); }
header.top { display:flex; align-items:center; gap:1rem; padding:.75rem 1.5rem; background:#fff; border-bottom:1px solid var(--line); flex-wrap:nowrap; }
.brand { font-weight:700; color:var(--ink); text-decoration:none; font-size:1.05rem; white-space:nowrap; }
nav { display:flex; gap:.25rem; flex:1 1 auto; flex-wrap:nowrap; }
nav a { color:var(--muted); text-decoration:none; padding:.35rem .7rem; border-radius:6px; }
nav a:hover { background:var(--bg); color:var(--ink); }
nav a[aria-current=page] { background:#eef2ff; color:var(--brand); font-weight:600; }
.who { display:flex; align-items:center; gap:.75rem; color:var(--muted); font-size:.9rem; margin-left:auto; min-width:0; white-space:nowrap; }
.who span { max-width:16ch; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
.who a.passkeys { color:var(--brand); text-decoration:none; }
.who a.passkeys:hover, button.link:hover { text-decoration:underline; }
.switcher { position:relative; }
.switcher summary { list-style:none; cursor:pointer; display:flex; align-items:center; gap:.5rem; padding:.35rem .7rem; border:1px solid var(--line); border-radius:8px; }
.switcher summary::-webkit-details-marker { display:none; }
.switcher summary::after { content:"▾"; color:var(--muted); }
.org { font-weight:600; }
.role { font-size:.75rem; background:#eef2ff; color:var(--brand); padding:.05rem .45rem; border-radius:999px; }
.menu { position:absolute; top:110%; left:0; min-width:240px; background:#fff; border:1px solid var(--line); border-radius:10px; box-shadow:0 10px 30px rgba(15,23,42,.12); padding:.5rem; z-index:10; }
.menu-title { margin:.25rem .5rem .5rem; font-size:.75rem; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); }
.menu ul { list-style:none; margin:0; padding:0; }
.menu button { width:100%; text-align:left; background:none; border:0; padding:.45rem .5rem; border-radius:6px; font:inherit; cursor:pointer; color:var(--ink); }
.menu button:hover { background:var(--bg); }
.menu .current { padding:.45rem .5rem; font-weight:600; display:flex; justify-content:space-between; align-items:center; }
.menu .all { display:block; padding:.45rem .5rem; border-top:1px solid var(--line); margin-top:.35rem; text-decoration:none; border-radius:6px; }
.menu .all:hover { background:var(--bg); }
main { max-width:960px; margin:2rem auto; padding:0 1.5rem; }
h1 { font-size:1.5rem; margin:0 0 .25rem; }
.lead { color:var(--muted); margin:0 0 1.5rem; }
.card { background:#fff; border:1px solid var(--line); border-radius:12px; padding:1.5rem; margin-bottom:1.25rem; }
.card.narrow { max-width:520px; margin:3rem auto; }
.hero { text-align:center; padding:3rem 1.5rem; }
table { width:100%; border-collapse:collapse; }
th, td { text-align:left; padding:.6rem .5rem; border-bottom:1px solid var(--line); vertical-align:middle; }
td.actions { white-space:nowrap; text-align:right; }
td .muted { overflow-wrap:anywhere; }
.card h2 { font-size:1.1rem; margin:0 0 .75rem; }
.card > .readonly, .card > form { margin:0; }
th { font-size:.8rem; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); font-weight:600; }
form.inline { display:inline-flex; gap:.5rem; align-items:center; margin:0; }
label { display:block; font-weight:600; margin-bottom:.25rem; font-size:.9rem; }
label.check { font-weight:400; font-size:.95rem; display:flex; gap:.5rem; align-items:center; margin:0 0 1rem; }
.field { display:flex; flex-direction:column; margin:0 0 1rem; max-width:22rem; }
.field input { width:7rem; }
input[type=text], input[type=email], input[type=number], select { font:inherit; height:2.5rem; padding:0 .65rem; border:1px solid #cbd5e1; border-radius:8px; background:#fff; min-width:0; }
form.inline select { min-width:9.5rem; }
input:focus, select:focus, button:focus-visible, a:focus-visible { outline:3px solid #c7d2fe; outline-offset:1px; }
.row { display:flex; gap:.75rem; align-items:flex-end; flex-wrap:wrap; }
.row > div { display:flex; flex-direction:column; }
button, .button { font:inherit; cursor:pointer; border-radius:8px; height:2.5rem; line-height:calc(2.5rem - 2px); padding:0 .9rem; border:1px solid var(--brand); background:var(--brand); color:var(--brand-ink); text-decoration:none; display:inline-block; }
.button.secondary { background:#fff; color:var(--ink); border-color:#cbd5e1; }
button.secondary { background:#fff; color:var(--ink); border-color:#cbd5e1; }
button.danger { background:#fff; color:var(--danger); border-color:#fecaca; }
button.link { background:none; border:0; color:var(--brand); padding:0; height:auto; line-height:inherit; }
.menu button { height:auto; line-height:inherit; }
.badge { font-size:.75rem; padding:.1rem .5rem; border-radius:999px; background:#f1f5f9; color:#475569; }
.notice { background:#ecfdf5; border:1px solid #a7f3d0; color:#065f46; padding:.6rem .9rem; border-radius:8px; margin-bottom:1rem; }
.readonly { background:#fffbeb; border:1px solid #fde68a; color:#92400e; padding:.6rem .9rem; border-radius:8px; margin-bottom:1rem; }
.muted { color:var(--muted); }
dl { display:grid; grid-template-columns:max-content 1fr; gap:.4rem 1.25rem; margin:0; }
dt { color:var(--muted); }
dd { margin:0; }
footer { text-align:center; color:var(--muted); font-size:.8rem; padding:2rem; }
@media (max-width: 760px) { header.top { padding:.75rem 1rem; flex-wrap:wrap; } .who span { display:none; } main { padding:0 1rem; } }
"#;
