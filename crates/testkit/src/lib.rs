#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: a failed set-up panics with its reason

//! Test harness: a real Portico (the same router the binary serves) on 127.0.0.1:0, over a
//! temporary SQLite file, or over a fresh schema of the PostgreSQL named by `TEST_DATABASE_URL`.

pub mod smtp;

use async_trait::async_trait;
use portico_app::dns::{DnsError, DnsResolver};
use portico_app::ports::{Clock, SystemClock};
use portico_app::{App, AppSettings};
use portico_store::Db;
use portico_store::db::PoolSettings;
use reqwest::Method;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tempfile::TempDir;

/// A DNS resolver answering from a table the test fills.
#[derive(Default)]
pub struct StaticDns {
    records: Mutex<HashMap<String, Vec<String>>>,
}

impl StaticDns {
    pub fn set_txt(&self, name: &str, values: &[&str]) {
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        records.insert(name.to_owned(), values.iter().map(|v| (*v).to_owned()).collect());
    }
}

#[async_trait]
impl DnsResolver for StaticDns {
    async fn txt(&self, name: &str) -> Result<Vec<String>, DnsError> {
        let records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        records.get(name).cloned().ok_or_else(|| DnsError::NotFound(name.to_owned()))
    }
}

/// A database for one test: which engine `TEST_DATABASE_URL` selects, isolated from other tests.
pub struct TestDb {
    pub db: Db,
    _dir: Option<TempDir>,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let settings = PoolSettings::default();
        match std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(url) => {
                let schema = format!("t_{}", portico_crypto::secret::random_token().unwrap()[..16].to_lowercase());
                let db = Db::open_postgres(&url, Some(&schema), &settings).await.expect("connect to TEST_DATABASE_URL");
                db.migrate().await.expect("migrate PostgreSQL");
                TestDb { db, _dir: None }
            }
            None => {
                let dir = tempfile::tempdir().expect("temp dir");
                let db = Db::open_sqlite(&dir.path().join("portico.db"), &settings).await.expect("open SQLite");
                db.migrate().await.expect("migrate SQLite");
                TestDb { db, _dir: Some(dir) }
            }
        }
    }
}

/// The answer to a request: status, headers and the JSON body (`Value::Null` when empty).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `body[key]` as a string, panicking with the whole body when absent (tests only).
    pub fn str(&self, key: &str) -> String {
        self.body[key].as_str().unwrap_or_else(|| panic!("no string {key} in {}", self.text)).to_owned()
    }
}

pub struct TestApp {
    pub base_url: String,
    pub api_key: String,
    pub client_id: String,
    pub app: App,
    pub dns: Arc<StaticDns>,
    http: reqwest::Client,
    _db: TestDb,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(AppSettings::default(), Arc::new(SystemClock)).await
    }

    pub async fn spawn_with(settings: AppSettings, clock: Arc<dyn Clock>) -> TestApp {
        TestApp::spawn_with_mailer(settings, clock, None).await
    }

    /// As `spawn_with`, delivering email through `mailer` instead of the dev mailbox.
    pub async fn spawn_with_mailer(
        settings: AppSettings,
        clock: Arc<dyn Clock>,
        mailer: Option<Arc<dyn portico_app::mail::Mailer>>,
    ) -> TestApp {
        let test_db = TestDb::new().await;
        let dns = Arc::new(StaticDns::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let base_url = format!("http://{address}");
        // Links in emails and the tokens' issuer name this server, as `public_url` does in production.
        let mut settings = AppSettings { issuer: base_url.clone(), ..settings };
        // This server's pages are a passkey origin too (tests answer ceremonies with a software
        // authenticator, which signs for whichever configured origin a test names).
        if let Some(rp) = settings.passkeys.as_mut() {
            rp.origins.push(base_url.clone());
        }
        let app = App::new(test_db.db.clone(), clock, dns.clone(), settings);
        let app = match mailer {
            Some(mailer) => app.with_mailer(mailer),
            None => app,
        };
        let created = portico_app::bootstrap::bootstrap_if_fresh(&app, &["http://localhost:3000/callback".to_owned()])
            .await
            .expect("bootstrap")
            .expect("a fresh environment");
        portico_app::keys::ensure_signing_key(&app).await.expect("a signing key");
        let state = portico_web::WebState::new(app.clone(), None, true, base_url.clone());
        let router = portico_web::router(state);
        let outbox = app.clone();
        let server = tokio::spawn(async move {
            let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
            // The outbox worker runs beside the server, as in `portico serve`.
            let worker = tokio::spawn(portico_app::mail::run_outbox_worker(outbox));
            let _ = axum::serve(listener, service).await;
            worker.abort();
        });
        TestApp {
            base_url,
            api_key: created.api_key,
            client_id: created.client_id,
            app,
            dns,
            http: reqwest::Client::new(),
            _db: test_db,
            server,
        }
    }

    /// Another Portico node on the same database (same secret key and settings, its own caches
    /// and its own port), as several nodes share one PostgreSQL in production. Keep `self`
    /// alive while the node is used: it owns the database.
    pub async fn another_node(&self) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("address"));
        let app = App::new(self.app.db.clone(), self.app.clock.clone(), self.dns.clone(), (*self.app.settings).clone());
        let state = portico_web::WebState::new(app.clone(), None, true, base_url.clone());
        let router = portico_web::router(state);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
        });
        TestApp {
            base_url,
            api_key: self.api_key.clone(),
            client_id: self.client_id.clone(),
            app,
            dns: self.dns.clone(),
            http: reqwest::Client::new(),
            _db: TestDb { db: self.app.db.clone(), _dir: None },
            server,
        }
    }

    /// Sends a request with the API key; `body` is sent as JSON when given.
    pub async fn request(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        self.send(self.http.request(method, format!("{}{}", self.base_url, path)).bearer_auth(&self.api_key), body)
            .await
    }

    /// Sends a request built by the caller (other headers, another key, raw bodies).
    pub fn raw(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{}", self.base_url, path))
    }

    pub async fn send(&self, builder: reqwest::RequestBuilder, body: Option<Value>) -> Response {
        let builder = match body {
            Some(body) => builder.header("content-type", "application/json").body(body.to_string()),
            None => builder,
        };
        let response = builder.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::Null) };
        Response { status, headers, body, text }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.request(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Response {
        self.request(Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Response {
        self.request(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path, None).await
    }

    /// Creates a user and returns its id.
    pub async fn user(&self, email: &str) -> String {
        let response = self.post("/user_management/users", serde_json::json!({ "email": email })).await;
        assert_eq!(response.status, 201, "{}", response.text);
        response.str("id")
    }

    /// Creates a user who can sign in with `password` (email already verified); returns its id.
    pub async fn verified_user(&self, email: &str, password: &str) -> String {
        let body = serde_json::json!({ "email": email, "password": password, "email_verified": true });
        let response = self.post("/user_management/users", body).await;
        assert_eq!(response.status, 201, "{}", response.text);
        response.str("id")
    }

    /// Creates an organization and returns its id.
    pub async fn organization(&self, name: &str) -> String {
        let response = self.post("/organizations", serde_json::json!({ "name": name })).await;
        assert_eq!(response.status, 201, "{}", response.text);
        response.str("id")
    }

    /// Event names recorded so far, oldest first.
    pub async fn event_names(&self) -> Vec<String> {
        let response = self.get("/events?limit=100&order=asc").await;
        response.body["data"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap().to_owned()).collect()
    }
}

impl TestApp {
    /// A browser: its own cookies, no automatic redirects.
    pub fn browser(&self) -> Browser {
        Browser::new(&self.base_url)
    }

    /// The newest email to `to` in the dev mailbox, waiting for the outbox worker to deliver it.
    /// `after` skips messages already seen (their ids).
    pub async fn mail_to(&self, to: &str, seen: &[String]) -> MailboxMessage {
        for _ in 0..100 {
            let response = self.raw(Method::GET, "/_dev/mail.json").send().await.expect("mailbox");
            let entries: Value = response.json().await.expect("mailbox JSON");
            if let Some(entry) =
                entries.as_array().into_iter().flatten().find(|e| {
                    e["to"] == to && e["status"] == "delivered" && !seen.iter().any(|id| e["id"] == id.as_str())
                })
            {
                return MailboxMessage {
                    id: entry["id"].as_str().unwrap_or_default().to_owned(),
                    subject: entry["subject"].as_str().unwrap_or_default().to_owned(),
                    text: entry["text"].as_str().unwrap_or_default().to_owned(),
                    html: entry["html"].as_str().unwrap_or_default().to_owned(),
                };
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no email to {to} arrived");
    }
}

/// An email read from the dev mailbox.
#[derive(Debug, Clone)]
pub struct MailboxMessage {
    pub id: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl MailboxMessage {
    /// The six-digit code in the message.
    pub fn code(&self) -> String {
        self.text
            .split(|c: char| !c.is_ascii_digit())
            .find(|word| word.len() == 6)
            .unwrap_or_else(|| panic!("no code in {}", self.text))
            .to_owned()
    }

    /// The first link to Portico or an app in the text part.
    pub fn link(&self) -> String {
        self.text
            .split_whitespace()
            .find(|word| word.starts_with("http://") || word.starts_with("https://"))
            .unwrap_or_else(|| panic!("no link in {}", self.text))
            .to_owned()
    }
}

/// A browser for the hosted pages: keeps cookies, does not follow redirects, and fills in the
/// CSRF token of forms it posts, as a person's browser would.
pub struct Browser {
    base_url: String,
    http: reqwest::Client,
    pub cookies: std::collections::BTreeMap<String, String>,
}

/// What a page answered.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub html: String,
}

impl Browser {
    fn new(base_url: &str) -> Browser {
        Browser {
            base_url: base_url.to_owned(),
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client"),
            cookies: Default::default(),
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") { path.to_owned() } else { format!("{}{}", self.base_url, path) }
    }

    async fn send(&mut self, builder: reqwest::RequestBuilder) -> Page {
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let builder = if cookie.is_empty() { builder } else { builder.header("cookie", cookie) };
        let response = builder.send().await.expect("request");
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap_or_default();
            if let Some((name, rest)) =
                text.split(';').next().and_then(|pair| pair.split_once('=')).map(|(n, v)| (n.to_owned(), v.to_owned()))
            {
                if text.contains("Max-Age=0") {
                    self.cookies.remove(&name);
                } else {
                    self.cookies.insert(name, rest);
                }
            }
        }
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let location = headers.get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let html = response.text().await.expect("body");
        Page { status, location, headers, html }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let builder = self.http.get(self.url(path)).header("sec-fetch-site", "none");
        self.send(builder).await
    }

    /// Posts a form from one of Portico's own pages (same origin), with this browser's CSRF token.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.cookies.get("portico_csrf").cloned().unwrap_or_default();
        // The hidden `flow` field the page's form carries.
        let flow =
            self.cookies.get("portico_flow").map(|cookie| portico_app::authorize::flow_tag(cookie)).unwrap_or_default();
        let mut pairs: Vec<(&str, &str)> = vec![("csrf_token", csrf.as_str()), ("flow", flow.as_str())];
        pairs.extend_from_slice(fields);
        self.post_raw(path, &pairs, "same-origin").await
    }

    /// Posts exactly these fields, claiming `fetch_site` as `Sec-Fetch-Site`.
    pub async fn post_raw(&mut self, path: &str, pairs: &[(&str, &str)], fetch_site: &str) -> Page {
        let body = form_urlencoded(pairs);
        let builder = self
            .http
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("sec-fetch-site", fetch_site)
            .body(body);
        self.send(builder).await
    }
}

fn form_urlencoded(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Runs futures concurrently on the current task and collects their outputs in order, so tests
/// can race requests against each other.
pub async fn join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut waiting = false;
        for (slot, future) in outputs.iter_mut().zip(pending.iter_mut()) {
            if slot.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *slot = Some(value),
                    std::task::Poll::Pending => waiting = true,
                }
            }
        }
        if waiting { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().map(|o| o.expect("every future finished")).collect()
}
