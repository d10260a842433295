//! `portico-example-b2b`: runs Lighthouse. Configuration comes from the environment:
//!
//! - `PORTICO_URL` (default `http://localhost:8080`), `PORTICO_CLIENT_ID`, `PORTICO_API_KEY`:
//!   what `portico serve` printed on its first start;
//! - `APP_URL` (default `http://localhost:3000`): where Lighthouse is reached; `{APP_URL}/callback`
//!   must be one of the client's redirect URIs;
//! - `COOKIE_SECRET`: 32 bytes or more that seal the session cookie (without it, a random one is
//!   made at start, so restarting signs everyone out);
//! - `PORT` (default: the port of `APP_URL`).

use portico_example_b2b::{AppState, Config, provision, router};

fn setting(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn fail(message: &str) -> ! {
    eprintln!("lighthouse: {message}");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let app_url = setting("APP_URL").unwrap_or_else(|| "http://localhost:3000".to_owned());
    let client_id = setting("PORTICO_CLIENT_ID")
        .unwrap_or_else(|| fail("set PORTICO_CLIENT_ID to the client id `portico serve` printed (client_…)"));
    let api_key = setting("PORTICO_API_KEY")
        .unwrap_or_else(|| fail("set PORTICO_API_KEY to the API key `portico serve` printed (sk_…)"));
    let cookie_secret = match setting("COOKIE_SECRET") {
        Some(secret) if secret.len() >= 32 => secret.into_bytes(),
        Some(_) => fail("COOKIE_SECRET must be at least 32 characters"),
        None => {
            eprintln!("lighthouse: COOKIE_SECRET is not set; using a random one (restarting signs everyone out)");
            format!("{}{}", portico_sdk::random_token(), portico_sdk::random_token()).into_bytes()
        }
    };
    let config = Config {
        portico_url: setting("PORTICO_URL").unwrap_or_else(|| "http://localhost:8080".to_owned()),
        client_id,
        api_key,
        app_url: app_url.clone(),
        cookie_secret,
    };
    let state = AppState::new(&config).unwrap_or_else(|e| fail(&e.to_string()));
    let api = state.portico().management().unwrap_or_else(|e| fail(&e.to_string()));
    if let Err(error) = provision(&api).await {
        fail(&format!("could not set up Lighthouse's roles in Portico at {}: {error}", config.portico_url));
    }
    if let Err(error) = state.portico().preload_keys().await {
        fail(&format!("could not load Portico's signing keys: {error}"));
    }
    let port = setting("PORT")
        .or_else(|| app_url.rsplit(':').next().map(|p| p.trim_end_matches('/').to_owned()))
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(3000);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on 127.0.0.1:{port}: {e}")));
    println!("Lighthouse is running at {app_url} (Portico at {})", config.portico_url);
    if let Err(error) = axum::serve(listener, router(state)).await {
        fail(&error.to_string());
    }
}
