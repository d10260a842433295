#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: a failed set-up panics with its reason

//! Test harness: a real Portico (the same router the binary serves) on 127.0.0.1:0, over a
//! temporary SQLite file, or over a fresh schema of the PostgreSQL named by `TEST_DATABASE_URL`.

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
        let test_db = TestDb::new().await;
        let dns = Arc::new(StaticDns::default());
        let app = App::new(test_db.db.clone(), clock, dns.clone(), settings);
        let created = portico_app::bootstrap::bootstrap_if_fresh(&app, &["http://localhost:3000/callback".to_owned()])
            .await
            .expect("bootstrap")
            .expect("a fresh environment");
        portico_app::keys::ensure_signing_key(&app).await.expect("a signing key");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let base_url = format!("http://{address}");
        let state = portico_web::WebState::new(app.clone(), None, true, base_url.clone());
        let router = portico_web::router(state);
        let server = tokio::spawn(async move {
            let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
            let _ = axum::serve(listener, service).await;
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
