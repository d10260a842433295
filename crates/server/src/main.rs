//! `portico`: the Portico server and its administration commands.

mod config;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use config::{Database, Mode, Overrides, SecretKeySource, Settings};
use portico_app::SecretKey;
use portico_app::dns::SystemDnsResolver;
use portico_app::ports::SystemClock;
use portico_app::rate_limits::Limit;
use portico_app::{App, AppSettings};
use portico_domain::session::SessionLimits;
use portico_store::Db;
use portico_store::db::PoolSettings;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "portico",
    version,
    about = "Portico: self-hosted identity for B2B software, with a WorkOS-compatible API."
)]
struct Cli {
    #[command(flatten)]
    overrides: Overrides,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (migrating the database and bootstrapping the environment on first start).
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080]
        #[arg(long, env = "PORTICO_LISTEN")]
        listen: Option<String>,
        /// The URL people and apps reach Portico at [default: http://localhost:PORT]
        #[arg(long, env = "PORTICO_PUBLIC_URL")]
        public_url: Option<String>,
    },
    /// Create the environment if it is fresh and print credentials; on an existing environment,
    /// mint a new API key. With --json, prints {"api_key": …, "client_id": …}.
    Bootstrap {
        #[arg(long)]
        json: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Check the configuration and exit.
    CheckConfig,
    /// Manage management-API keys.
    #[command(subcommand)]
    ApiKeys(ApiKeysCommand),
    /// Manage OAuth clients (redirect URIs, allowed origins).
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Manage access-token signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Publish a new signing key now; it starts signing in 10 minutes, and the current key stays
    /// published until the last token it signed has expired.
    Rotate,
}

#[derive(Subcommand)]
enum ApiKeysCommand {
    /// Create a key and print its secret (shown once).
    Create {
        #[arg(long, default_value = "API key")]
        name: String,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by id (api_key_…).
    Revoke { id: String },
}

#[derive(Subcommand)]
enum ClientsCommand {
    /// Create a client.
    Create {
        #[arg(long)]
        name: String,
        /// An exact redirect URI (repeatable).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// A browser origin allowed to call Portico (repeatable).
        #[arg(long = "allowed-origin")]
        allowed_origins: Vec<String>,
    },
    /// Change a client's name, redirect URIs or allowed origins.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long = "add-redirect-uri")]
        add_redirect_uris: Vec<String>,
        #[arg(long = "remove-redirect-uri")]
        remove_redirect_uris: Vec<String>,
        #[arg(long = "add-allowed-origin")]
        add_origins: Vec<String>,
        #[arg(long = "remove-allowed-origin")]
        remove_origins: Vec<String>,
    },
    /// List clients.
    List,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    let (listen, public_url) = match &cli.command {
        Command::Serve { listen, public_url } => (listen.as_deref(), public_url.as_deref()),
        _ => (None, None),
    };
    let settings = Settings::load(&cli.overrides, listen, public_url)?;
    init_logging(&settings, matches!(cli.command, Command::Serve { .. }));
    match cli.command {
        Command::CheckConfig => {
            println!(
                "configuration is valid: mode {:?}, listening on {}, database {}",
                settings.mode,
                settings.listen,
                describe(&settings.database)
            );
            Ok(())
        }
        Command::Migrate => {
            let db = open_db(&settings).await?;
            db.migrate().await.context("migrating the database")?;
            let (known, applied) = db.migration_status().await?;
            println!(
                "database is at migration {} of {}",
                applied.last().copied().unwrap_or(0),
                known.last().copied().unwrap_or(0)
            );
            Ok(())
        }
        Command::Bootstrap { json } => {
            let app = open_app(&settings).await?;
            let result = portico_app::bootstrap::bootstrap_or_new_key(&app, &settings.bootstrap_redirect_uris).await?;
            portico_app::keys::ensure_signing_key(&app).await?;
            if json {
                println!("{}", serde_json::json!({ "api_key": result.api_key, "client_id": result.client_id }));
            } else {
                print_credentials(&settings, &result);
            }
            Ok(())
        }
        Command::ApiKeys(command) => {
            let app = open_app(&settings).await?;
            match command {
                ApiKeysCommand::Create { name } => {
                    let key = portico_app::api_keys::create(&app, &name).await?;
                    println!(
                        "Created {} ({}). Its secret, shown only now:\n\n  {}\n",
                        key.record.id, key.record.name, key.secret
                    );
                }
                ApiKeysCommand::List => {
                    for key in portico_app::api_keys::list(&app).await? {
                        let state = match key.revoked_at {
                            Some(at) => format!("revoked {at}"),
                            None => "active".to_owned(),
                        };
                        println!(
                            "{}  {:<20} {}  created {}  {}",
                            key.id, key.name, key.display_hint, key.created_at, state
                        );
                    }
                }
                ApiKeysCommand::Revoke { id } => {
                    portico_app::api_keys::revoke(&app, &id).await?;
                    println!("Revoked {id}.");
                }
            }
            Ok(())
        }
        Command::Clients(command) => {
            let app = open_app(&settings).await?;
            let print = |client: &portico_store::clients::ClientRecord| {
                println!("{}  {}", client.id, client.name);
                println!(
                    "  redirect URIs:   {}",
                    if client.redirect_uris.is_empty() { "(none)".into() } else { client.redirect_uris.join(", ") }
                );
                println!(
                    "  allowed origins: {}",
                    if client.allowed_origins.is_empty() { "(none)".into() } else { client.allowed_origins.join(", ") }
                );
            };
            match command {
                ClientsCommand::Create { name, redirect_uris, allowed_origins } => {
                    print(&portico_app::clients::create(&app, &name, &redirect_uris, &allowed_origins).await?);
                }
                ClientsCommand::Update {
                    id,
                    name,
                    add_redirect_uris,
                    remove_redirect_uris,
                    add_origins,
                    remove_origins,
                } => {
                    let changes = portico_app::clients::ClientChanges {
                        name,
                        add_redirect_uris,
                        remove_redirect_uris,
                        add_origins,
                        remove_origins,
                    };
                    print(&portico_app::clients::update(&app, &id, changes).await?);
                }
                ClientsCommand::List => {
                    for client in portico_app::clients::list(&app).await? {
                        print(&client);
                    }
                }
            }
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate) => {
            let app = open_app(&settings).await?;
            portico_app::keys::ensure_signing_key(&app).await?;
            let (kid, activates_at) = portico_app::keys::rotate(&app).await?;
            println!("Published {kid}; it signs access tokens from {activates_at}.");
            Ok(())
        }
        Command::Serve { .. } => serve(settings).await,
    }
}

const HOUR_MS: i64 = 60 * 60 * 1000;

fn describe(database: &Database) -> String {
    match database {
        Database::Sqlite(path) => format!("SQLite at {}", path.display()),
        Database::Postgres(_) => "PostgreSQL".to_owned(),
    }
}

fn init_logging(settings: &Settings, serving: bool) {
    use tracing_subscriber::EnvFilter;
    let default = if serving { settings.log_level.clone() } else { "warn".to_owned() };
    let filter = EnvFilter::try_new(&default).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if settings.log_json {
        builder.json().init();
    } else {
        builder.compact().init();
    }
}

async fn open_db(settings: &Settings) -> Result<Db> {
    let pool = PoolSettings { max_connections: settings.max_connections, ..PoolSettings::default() };
    match &settings.database {
        Database::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
            }
            Db::open_sqlite(path, &pool)
                .await
                .with_context(|| format!("cannot open the SQLite database {}", path.display()))
        }
        Database::Postgres(url) => Db::open_postgres(url, None, &pool)
            .await
            .context("cannot connect to PostgreSQL (check database_url / PORTICO_DATABASE_URL)"),
    }
}

async fn open_app(settings: &Settings) -> Result<App> {
    let db = open_db(settings).await?;
    db.migrate().await.context("migrating the database")?;
    let secret_key = match &settings.secret_key {
        SecretKeySource::Given(key) => *key,
        SecretKeySource::File(path) => config::load_or_create_key_file(path)?,
    };
    let app_settings = AppSettings {
        default_role_slug: settings.default_role.clone(),
        product_slug: "portico".to_owned(),
        event_retention_days: settings.event_retention_days,
        issuer: settings.public_url.clone(),
        access_token_ttl_seconds: settings.access_token_ttl_seconds,
        session_limits: SessionLimits {
            absolute_ms: settings.session_absolute_hours * HOUR_MS,
            idle_ms: settings.session_idle_hours * HOUR_MS,
        },
        refresh_grace_ms: 30_000,
        secret_key: SecretKey(secret_key),
        sign_in_per_email: Limit { max: settings.sign_in_per_email_per_minute, window_seconds: 60 },
        sign_in_per_ip: Limit { max: settings.sign_in_per_ip_per_minute, window_seconds: 60 },
        email_sends_per_email: Limit { max: settings.email_sends_per_email_per_minute, window_seconds: 60 },
        email_sends_per_ip: Limit { max: settings.email_sends_per_ip_per_minute, window_seconds: 60 },
        code_checks_per_ip: Limit { max: settings.code_checks_per_ip_per_minute, window_seconds: 60 },
        require_email_verification: settings.require_email_verification,
        branding: settings.branding.clone(),
        environment_policy: portico_domain::policy::Policy {
            mfa_required: settings.require_mfa,
            ..portico_domain::policy::Policy::default()
        },
        passkeys: settings.passkeys.clone().map(|(id, origins)| portico_crypto::webauthn::RelyingParty { id, origins }),
    };
    let app = App::new(db, Arc::new(SystemClock), Arc::new(SystemDnsResolver::new()), app_settings);
    Ok(match &settings.smtp {
        Some((url, from)) => {
            let mailer = portico_app::mail::SmtpMailer::new(url, from).map_err(|e| anyhow::anyhow!(e))?;
            app.with_mailer(Arc::new(mailer))
        }
        None => app,
    })
}

fn print_credentials(settings: &Settings, result: &portico_app::bootstrap::Bootstrap) {
    let what = if result.created { "Your environment is ready." } else { "A new API key for your environment:" };
    println!("\n  {what}\n");
    println!("  API key     {}   (shown once; keep it secret)", result.api_key);
    println!("  Client ID   {}", result.client_id);
    println!("  Redirects   {}\n", result.redirect_uris.join(", "));
    println!("  Try it:");
    println!("    curl -s {}/organizations -H 'Authorization: Bearer {}'\n", settings.public_url, result.api_key);
}

async fn serve(settings: Settings) -> Result<()> {
    let started = std::time::Instant::now();
    let app = open_app(&settings).await?;
    if let Some(created) = portico_app::bootstrap::bootstrap_if_fresh(&app, &settings.bootstrap_redirect_uris).await? {
        print_credentials(&settings, &created);
    }
    portico_app::bootstrap::check_default_role(&app).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    portico_app::keys::ensure_signing_key(&app).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let metrics = portico_web::middleware::install_metrics_recorder()
        .map_err(|e| anyhow::anyhow!("cannot install the metrics recorder: {e}"))?;
    // Histograms keep every sample until upkeep folds them into their buckets: without it,
    // memory grows with traffic between scrapes (and forever when nothing scrapes).
    let upkeep = {
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(5));
            loop {
                every.tick().await;
                metrics.run_upkeep();
            }
        })
    };
    let state =
        portico_web::WebState::new(app.clone(), Some(metrics), settings.mode == Mode::Dev, settings.public_url.clone());
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {} (is another process using it? set --listen)", settings.listen))?;
    let maintenance = tokio::spawn(maintenance_loop(app.clone()));
    let outbox = tokio::spawn(portico_app::mail::run_outbox_worker(app.clone()));
    tracing::info!(listen = %settings.listen, database = %describe(&settings.database), ready_in_ms = started.elapsed().as_millis() as u64, "Portico is ready");
    println!("  Portico is running at {}", settings.public_url);
    if settings.mode == Mode::Dev {
        println!(
            "  Open {}/ for what to try next; the API reference is at {}/openapi.json",
            settings.public_url, settings.public_url
        );
        if app.uses_dev_mailbox() {
            println!("  Emails (sign-in codes, links) land in the dev mailbox: {}/_dev/mail", settings.public_url);
        }
    }
    match &settings.passkeys {
        Some((rp_id, origins)) => {
            tracing::info!(rp_id, origins = %origins.join(", "), "passkeys are on");
            if !origins.contains(&settings.public_url) {
                // The hosted pages and the passkeys-page links are at the public URL.
                println!(
                    "  Note: passkeys work at {} only, not at the public URL {}: the hosted pages there offer none.",
                    origins.join(", "),
                    settings.public_url
                );
            }
        }
        None => println!(
            "  Passkeys are off: browsers refuse them for an IP address ({}). Use a host name, or set passkeys.rp_id.",
            settings.public_url
        ),
    }
    let service = portico_web::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the HTTP server stopped")?;
    maintenance.abort();
    outbox.abort();
    upkeep.abort();
    app.db.close().await;
    tracing::info!("Portico stopped");
    Ok(())
}

/// Purges expired events and idempotency keys every hour. Safe on several nodes at once: each
/// purge is one idempotent DELETE.
async fn maintenance_loop(app: App) {
    let mut interval = tokio::time::interval(Duration::from_secs(3600));
    loop {
        interval.tick().await;
        match portico_app::maintenance::purge_expired(&app).await {
            Ok(purged) => tracing::debug!(
                events = purged.events,
                idempotency_keys = purged.idempotency_keys,
                "purged expired rows"
            ),
            Err(error) => tracing::warn!(%error, "purging expired rows failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
