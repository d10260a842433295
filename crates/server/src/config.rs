//! Configuration: `portico.toml`, then `PORTICO_*` environment variables, then flags (each
//! overriding the one before), validated at start with messages that say what to change.

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Landing page at `/`, friendly defaults for a first run.
    Dev,
    Production,
}

/// The file's shape. Every key is optional; unknown keys are an error so typos do not pass
/// silently.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub mode: Option<Mode>,
    pub listen: Option<String>,
    pub public_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    /// Base64 of 32 random bytes; seals signing keys at rest. The same on every node.
    pub secret_key: Option<String>,
    #[serde(default)]
    pub database: DatabaseSection,
    #[serde(default)]
    pub sessions: SessionsSection,
    #[serde(default)]
    pub rate_limits: RateLimitsSection,
    #[serde(default)]
    pub roles: RolesSection,
    #[serde(default)]
    pub events: EventsSection,
    #[serde(default)]
    pub bootstrap: BootstrapSection,
    #[serde(default)]
    pub log: LogSection,
    #[serde(default)]
    pub sign_in: SignInSection,
    #[serde(default)]
    pub branding: BrandingSection,
    #[serde(default)]
    pub email: EmailSection,
    #[serde(default)]
    pub passkeys: PasskeysSection,
}

/// Where passkeys work. By default the RP ID is the public URL's host and the only origin is the
/// public URL's; an RP ID of a parent domain lets passkeys work across its subdomains.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasskeysSection {
    pub rp_id: Option<String>,
    pub origins: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInSection {
    pub require_email_verification: Option<bool>,
    /// Every user of the environment must pass a second factor (organizations can require it
    /// for their own members either way).
    pub require_mfa: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrandingSection {
    pub product_name: Option<String>,
    pub logo_url: Option<String>,
    pub primary_color: Option<String>,
    pub background_color: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSection {
    pub smtp_url: Option<String>,
    pub from: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSection {
    pub max_connections: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsSection {
    pub access_token_ttl_seconds: Option<i64>,
    pub absolute_lifetime_hours: Option<i64>,
    pub idle_timeout_hours: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitsSection {
    pub sign_in_per_email_per_minute: Option<u32>,
    pub sign_in_per_ip_per_minute: Option<u32>,
    pub email_sends_per_email_per_minute: Option<u32>,
    pub email_sends_per_ip_per_minute: Option<u32>,
    pub code_checks_per_ip_per_minute: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolesSection {
    pub default_role: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsSection {
    pub retention_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapSection {
    pub redirect_uris: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    pub format: Option<String>,
    pub level: Option<String>,
}

/// Settings from the environment and flags (clap fills these from both).
#[derive(Debug, Default, Clone, clap::Args)]
pub struct Overrides {
    /// Configuration file [default: ./portico.toml when it exists]
    #[arg(long, env = "PORTICO_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Where the embedded SQLite database lives [default: ./portico-data]
    #[arg(long, env = "PORTICO_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// postgres://… to use PostgreSQL instead of the embedded SQLite
    #[arg(long, env = "PORTICO_DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// dev or production [default: dev]
    #[arg(long, env = "PORTICO_MODE", global = true)]
    pub mode: Option<String>,
}

/// Where the key-encryption key comes from.
#[derive(Clone)]
pub enum SecretKeySource {
    Given([u8; 32]),
    /// Dev mode without a configured key: kept in this file, created on first use.
    File(PathBuf),
}

impl std::fmt::Debug for SecretKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretKeySource::Given(_) => f.write_str("Given(…)"),
            SecretKeySource::File(path) => write!(f, "File({})", path.display()),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub mode: Mode,
    pub listen: SocketAddr,
    pub public_url: String,
    pub database: Database,
    pub max_connections: u32,
    pub default_role: String,
    pub event_retention_days: u32,
    pub bootstrap_redirect_uris: Vec<String>,
    pub log_json: bool,
    pub log_level: String,
    pub secret_key: SecretKeySource,
    pub access_token_ttl_seconds: i64,
    pub session_absolute_hours: i64,
    pub session_idle_hours: i64,
    pub sign_in_per_email_per_minute: u32,
    pub sign_in_per_ip_per_minute: u32,
    pub email_sends_per_email_per_minute: u32,
    pub email_sends_per_ip_per_minute: u32,
    pub code_checks_per_ip_per_minute: u32,
    pub require_email_verification: bool,
    pub require_mfa: bool,
    pub branding: portico_app::branding::Branding,
    /// SMTP URL and sender; `None` in dev mode means the dev mailbox.
    pub smtp: Option<(String, String)>,
    /// The passkeys' RP ID and the origins of the hosted pages; `None` when passkeys are off
    /// (the public URL's host is an IP address and no RP ID was given).
    pub passkeys: Option<(String, Vec<String>)>,
}

/// `scheme://host[:port]` of an http(s) URL with nothing after it but an optional `/`, and its host.
fn split_origin(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.trim_end_matches('/');
    if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
        return None;
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default().to_owned(),
        None => authority.rsplit_once(':').map_or(authority, |(host, _)| host).to_owned(),
    };
    Some((url.trim_end_matches('/').to_owned(), host.to_ascii_lowercase()))
}

/// The passkeys' relying party from the configuration, checked: the RP ID is a domain (browsers
/// refuse IP addresses) and every origin is on it or one of its subdomains, over https (http only
/// for localhost).
fn passkeys_from(public_url: &str, section: PasskeysSection) -> Result<Option<(String, Vec<String>)>> {
    let rp_id = std::env::var("PORTICO_PASSKEY_RP_ID").ok().filter(|v| !v.is_empty()).or(section.rp_id);
    let origins = std::env::var("PORTICO_PASSKEY_ORIGINS")
        .ok()
        .filter(|v| !v.is_empty())
        .map(|v| v.split(',').map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()).collect())
        .or(section.origins);
    let (public_origin, public_host) =
        split_origin(public_url).with_context(|| format!("public_url {public_url:?} is not a plain origin"))?;
    let is_ip = |host: &str| host.parse::<std::net::IpAddr>().is_ok();
    let rp_id = match rp_id {
        Some(id) => id.trim().to_ascii_lowercase(),
        None if is_ip(&public_host) => return Ok(None),
        None => public_host,
    };
    if rp_id.is_empty() || is_ip(&rp_id) || rp_id.contains(['/', ':', ' ']) {
        bail!("passkeys.rp_id must be a domain name such as example.com (PORTICO_PASSKEY_RP_ID), not {rp_id:?}");
    }
    let origins = origins.unwrap_or_else(|| vec![public_origin]);
    for origin in &origins {
        let (_, host) = split_origin(origin).with_context(|| {
            format!("passkeys.origins: {origin:?} is not an origin such as https://auth.example.com (PORTICO_PASSKEY_ORIGINS)")
        })?;
        if host != rp_id && !host.ends_with(&format!(".{rp_id}")) {
            bail!("passkeys.origins: {origin:?} is not on the RP ID {rp_id:?} or one of its subdomains");
        }
        if origin.starts_with("http://") && host != "localhost" {
            bail!(
                "passkeys.origins: {origin:?} must be https:// (browsers allow passkeys over http only on localhost)"
            );
        }
    }
    Ok(Some((rp_id, origins.iter().map(|o| o.trim_end_matches('/').to_owned()).collect())))
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_REDIRECT_URI: &str = "http://localhost:3000/callback";

fn read_file(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
    toml::from_str(&text).map_err(|error| anyhow::anyhow!("{}: {}", path.display(), error.to_string().trim()))
}

impl Settings {
    /// Builds the settings for a command; `listen` and `public_url` come from `serve`'s flags.
    pub fn load(overrides: &Overrides, listen: Option<&str>, public_url: Option<&str>) -> Result<Settings> {
        let file = match &overrides.config {
            Some(path) => read_file(path)?,
            None if Path::new("portico.toml").exists() => read_file(Path::new("portico.toml"))?,
            None => FileConfig::default(),
        };
        let mode = match overrides.mode.as_deref() {
            Some("dev") => Mode::Dev,
            Some("production") => Mode::Production,
            Some(other) => bail!("mode must be \"dev\" or \"production\", not {other:?} (PORTICO_MODE / --mode)"),
            None => file.mode.unwrap_or(Mode::Dev),
        };
        let listen_text = listen.map(str::to_owned).or(file.listen).unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            anyhow::anyhow!("listen must be an address and port such as 127.0.0.1:8080, not {listen_text:?}")
        })?;
        let public_url = public_url
            .map(str::to_owned)
            .or(file.public_url)
            .unwrap_or_else(|| {
                let host = if listen.ip().is_unspecified() || listen.ip().is_loopback() {
                    "localhost".to_owned()
                } else {
                    listen.ip().to_string()
                };
                format!("http://{host}:{}", listen.port())
            })
            .trim_end_matches('/')
            .to_owned();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            bail!("public_url must start with http:// or https://, not {public_url:?}");
        }
        if mode == Mode::Production && public_url.starts_with("http://") && !public_url.contains("://localhost") {
            bail!("in production, public_url must be https:// (it is {public_url:?}); put Portico behind TLS");
        }
        let data_dir = overrides.data_dir.clone().or(file.data_dir).unwrap_or_else(|| PathBuf::from("portico-data"));
        let secret_key = match std::env::var("PORTICO_SECRET_KEY").ok().or(file.secret_key).filter(|k| !k.is_empty()) {
            Some(text) => SecretKeySource::Given(parse_secret_key(&text)?),
            None if mode == Mode::Dev => SecretKeySource::File(data_dir.join("secret.key")),
            None => bail!(
                "secret_key is required in production (PORTICO_SECRET_KEY): 32 random bytes in base64, e.g. from `openssl rand -base64 32`, the same on every node"
            ),
        };
        let access_token_ttl_seconds = file.sessions.access_token_ttl_seconds.unwrap_or(300);
        if !(30..=3600).contains(&access_token_ttl_seconds) {
            bail!("sessions.access_token_ttl_seconds must be between 30 and 3600, not {access_token_ttl_seconds}");
        }
        let session_absolute_hours = file.sessions.absolute_lifetime_hours.unwrap_or(24 * 30);
        let session_idle_hours = file.sessions.idle_timeout_hours.unwrap_or(24 * 7);
        if session_absolute_hours < 1 || session_idle_hours < 1 || session_idle_hours > session_absolute_hours {
            bail!(
                "sessions.idle_timeout_hours ({session_idle_hours}) must be at least 1 and at most sessions.absolute_lifetime_hours ({session_absolute_hours})"
            );
        }
        let sign_in_per_email_per_minute = file.rate_limits.sign_in_per_email_per_minute.unwrap_or(10);
        let sign_in_per_ip_per_minute = file.rate_limits.sign_in_per_ip_per_minute.unwrap_or(300);
        if sign_in_per_email_per_minute == 0 || sign_in_per_ip_per_minute == 0 {
            bail!("rate_limits.sign_in_per_email_per_minute and sign_in_per_ip_per_minute must be at least 1");
        }
        let email_sends_per_email_per_minute = file.rate_limits.email_sends_per_email_per_minute.unwrap_or(3);
        let email_sends_per_ip_per_minute = file.rate_limits.email_sends_per_ip_per_minute.unwrap_or(60);
        let code_checks_per_ip_per_minute = file.rate_limits.code_checks_per_ip_per_minute.unwrap_or(120);
        if email_sends_per_email_per_minute == 0
            || email_sends_per_ip_per_minute == 0
            || code_checks_per_ip_per_minute == 0
        {
            bail!(
                "rate_limits.email_sends_per_email_per_minute, email_sends_per_ip_per_minute and code_checks_per_ip_per_minute must be at least 1"
            );
        }
        let branding = branding(file.branding, mode)?;
        let smtp = match (
            std::env::var("PORTICO_SMTP_URL").ok().or(file.email.smtp_url).filter(|u| !u.is_empty()),
            file.email.from,
        ) {
            (Some(url), from) => {
                if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                    bail!(
                        "email.smtp_url must start with smtp:// or smtps:// (e.g. smtp://user:pass@mail.example.com:587?tls=required)"
                    );
                }
                let from = match from {
                    Some(from) => from,
                    None if mode == Mode::Production => bail!(
                        "email.from is required in production: the sender of sign-in codes and links, such as \"Acme <no-reply@acme.com>\""
                    ),
                    None => format!("{} <no-reply@localhost>", branding.product_name),
                };
                if !portico_app::mail::is_valid_sender(&from) {
                    bail!("email.from must be an address such as \"Acme <no-reply@acme.com>\", not {from:?}");
                }
                Some((url, from))
            }
            (None, _) if mode == Mode::Production => bail!(
                "email.smtp_url is required in production (PORTICO_SMTP_URL): hosted sign-in emails codes and links; e.g. smtp://user:pass@mail.example.com:587?tls=required"
            ),
            (None, _) => None,
        };
        let require_email_verification = file.sign_in.require_email_verification.unwrap_or(true);
        let require_mfa = file.sign_in.require_mfa.unwrap_or(false);
        let passkeys = passkeys_from(&public_url, file.passkeys)?;
        let database_url = overrides.database_url.clone().or(file.database_url).filter(|u| !u.is_empty());
        let database = match database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => Database::Postgres(url),
            Some(url) if url.starts_with("sqlite://") => {
                Database::Sqlite(PathBuf::from(url.trim_start_matches("sqlite://")))
            }
            Some(url) => {
                let scheme = url.split("://").next().unwrap_or_default();
                bail!("database_url must start with postgres:// (or sqlite://PATH), not {scheme}://…")
            }
            None => Database::Sqlite(data_dir.join("portico.db")),
        };
        let max_connections = file.database.max_connections.unwrap_or(16);
        if !(1..=512).contains(&max_connections) {
            bail!("database.max_connections must be between 1 and 512, not {max_connections}");
        }
        let event_retention_days = file.events.retention_days.unwrap_or(90);
        if event_retention_days < portico_domain::event::MIN_RETENTION_DAYS {
            bail!(
                "events.retention_days must be at least {} (it is {event_retention_days})",
                portico_domain::event::MIN_RETENTION_DAYS
            );
        }
        let default_role =
            std::env::var("PORTICO_DEFAULT_ROLE").ok().or(file.roles.default_role).unwrap_or_else(|| "member".into());
        portico_domain::slug::check("roles.default_role", &default_role).map_err(|e| anyhow::anyhow!(e.message))?;
        let bootstrap_redirect_uris =
            file.bootstrap.redirect_uris.unwrap_or_else(|| vec![DEFAULT_REDIRECT_URI.to_owned()]);
        for uri in &bootstrap_redirect_uris {
            portico_domain::client::check_redirect_uri("bootstrap.redirect_uris", uri)
                .map_err(|e| anyhow::anyhow!(e.message))?;
        }
        let log_json = match file.log.format.as_deref() {
            None => mode == Mode::Production,
            Some("json") => true,
            Some("pretty") => false,
            Some(other) => bail!("log.format must be \"json\" or \"pretty\", not {other:?}"),
        };
        let log_level = std::env::var("PORTICO_LOG").ok().or(file.log.level).unwrap_or_else(|| "info".into());
        Ok(Settings {
            mode,
            listen,
            public_url,
            database,
            max_connections,
            default_role,
            event_retention_days,
            bootstrap_redirect_uris,
            log_json,
            log_level,
            secret_key,
            access_token_ttl_seconds,
            session_absolute_hours,
            session_idle_hours,
            sign_in_per_email_per_minute,
            sign_in_per_ip_per_minute,
            email_sends_per_email_per_minute,
            email_sends_per_ip_per_minute,
            code_checks_per_ip_per_minute,
            require_email_verification,
            require_mfa,
            passkeys,
            branding,
            smtp,
        })
    }
}

fn branding(section: BrandingSection, mode: Mode) -> Result<portico_app::branding::Branding> {
    use portico_app::branding::{Branding, parse_color};
    let defaults = Branding::default();
    let product_name = section.product_name.unwrap_or(defaults.product_name);
    if product_name.trim().is_empty() || product_name.chars().count() > 64 {
        bail!("branding.product_name must be 1 to 64 characters");
    }
    let color = |name: &str, value: Option<String>, default: String| -> Result<String> {
        let value = value.unwrap_or(default);
        if parse_color(&value).is_none() {
            bail!("branding.{name} must be a colour such as \"#4338ca\", not {value:?}");
        }
        Ok(value.to_ascii_lowercase())
    };
    let primary_color = color("primary_color", section.primary_color, defaults.primary_color)?;
    let background_color = color("background_color", section.background_color, defaults.background_color)?;
    if let Some(logo) = &section.logo_url {
        let allowed = logo.starts_with("https://") || (mode == Mode::Dev && logo.starts_with("http://"));
        if !allowed || logo.contains(['"', '<', '>', ' ']) {
            bail!("branding.logo_url must be an https:// image URL, not {logo:?}");
        }
    }
    Ok(Branding { product_name, logo_url: section.logo_url, primary_color, background_color })
}

fn parse_secret_key(text: &str) -> Result<[u8; 32]> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| anyhow::anyhow!("secret_key must be base64 (e.g. from `openssl rand -base64 32`)"))?;
    bytes.try_into().map_err(|_| anyhow::anyhow!("secret_key must decode to exactly 32 bytes"))
}

/// Reads the dev-mode key file, creating it (readable by its owner only) on first use.
pub fn load_or_create_key_file(path: &Path) -> Result<[u8; 32]> {
    use base64::Engine;
    if path.exists() {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        return parse_secret_key(&text).with_context(|| format!("in {}", path.display()));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let key = portico_app::SecretKey::generate().map_err(|e| anyhow::anyhow!("{e}"))?.0;
    let text = base64::engine::general_purpose::STANDARD.encode(key);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    let mut file = options.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_with(file: &str, overrides: Overrides) -> Result<Settings> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("portico.toml");
        std::fs::write(&path, file)?;
        Settings::load(&Overrides { config: Some(path), ..overrides }, None, None)
    }

    #[test]
    fn defaults_to_embedded_sqlite_in_dev_mode() {
        let settings = load_with("", Overrides::default()).unwrap();
        assert_eq!(settings.mode, Mode::Dev);
        assert_eq!(settings.listen.to_string(), DEFAULT_LISTEN);
        assert!(matches!(settings.database, Database::Sqlite(ref p) if p.ends_with("portico-data/portico.db")));
        assert_eq!(settings.public_url, "http://localhost:8080");
    }

    #[test]
    fn flags_override_the_file() {
        let overrides = Overrides { database_url: Some("postgres://db/portico".into()), ..Default::default() };
        let settings =
            load_with("database_url = \"sqlite://x.db\"\n[roles]\ndefault_role = \"viewer\"", overrides).unwrap();
        assert!(matches!(settings.database, Database::Postgres(_)));
        assert_eq!(settings.default_role, "viewer");
    }

    #[test]
    fn passkeys_follow_the_public_url_unless_configured() {
        let on = |url: &str| passkeys_from(url, PasskeysSection::default());
        assert_eq!(
            on("http://localhost:8080").unwrap(),
            Some(("localhost".into(), vec!["http://localhost:8080".into()]))
        );
        assert_eq!(
            on("https://auth.example.com/").unwrap(),
            Some(("auth.example.com".into(), vec!["https://auth.example.com".into()]))
        );
        assert_eq!(on("http://127.0.0.1:8080").unwrap(), None, "browsers refuse IP addresses as RP IDs");
        let parent = PasskeysSection {
            rp_id: Some("example.com".into()),
            origins: Some(vec!["https://auth.example.com".into(), "https://example.com".into()]),
        };
        assert_eq!(passkeys_from("https://auth.example.com", parent).unwrap().unwrap().1.len(), 2);
        let elsewhere =
            PasskeysSection { rp_id: Some("example.com".into()), origins: Some(vec!["https://evil.test".into()]) };
        let error = passkeys_from("https://auth.example.com", elsewhere).unwrap_err().to_string();
        assert!(error.contains("evil.test") && error.contains("example.com"), "{error}");
        let plain_http = PasskeysSection {
            rp_id: Some("example.com".into()),
            origins: Some(vec!["http://auth.example.com".into()]),
        };
        assert!(passkeys_from("https://auth.example.com", plain_http).unwrap_err().to_string().contains("https://"));
        let ip = PasskeysSection { rp_id: Some("10.0.0.1".into()), origins: None };
        assert!(passkeys_from("https://auth.example.com", ip).unwrap_err().to_string().contains("domain name"));
    }

    #[test]
    fn bad_values_say_what_to_fix() {
        let error = load_with("listen = \"8080\"", Overrides::default()).unwrap_err().to_string();
        assert!(error.contains("127.0.0.1:8080"), "{error}");
        let error = load_with("databse_url = \"x\"", Overrides::default()).unwrap_err().to_string();
        assert!(error.contains("databse_url"), "{error}");
        let error = load_with("[events]\nretention_days = 7", Overrides::default()).unwrap_err().to_string();
        assert!(error.contains("at least 30"), "{error}");
        let error = load_with("database_url = \"mysql://x\"", Overrides::default()).unwrap_err().to_string();
        assert!(error.contains("postgres://"), "{error}");
        let error = load_with("mode = \"production\"\npublic_url = \"http://auth.example.com\"", Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("https://"), "{error}");
        let error = load_with("mode = \"production\"\npublic_url = \"https://auth.example.com\"", Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("secret_key is required"), "{error}");
        let error = load_with("secret_key = \"c2hvcnQ=\"", Overrides::default()).unwrap_err().to_string();
        assert!(error.contains("32 bytes"), "{error}");
        let error = load_with("[sessions]\nidle_timeout_hours = 1000", Overrides::default()).unwrap_err().to_string();
        assert!(error.contains("absolute_lifetime_hours"), "{error}");
        let error = load_with("[branding]\nprimary_color = \"blue\"", Overrides::default()).unwrap_err().to_string();
        assert!(error.contains("branding.primary_color"), "{error}");
        let error =
            load_with("[email]\nsmtp_url = \"mail.example.com\"", Overrides::default()).unwrap_err().to_string();
        assert!(error.contains("smtp://"), "{error}");
        let production = "mode = \"production\"\npublic_url = \"https://auth.example.com\"\nsecret_key = \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"";
        let error = load_with(production, Overrides::default()).unwrap_err().to_string();
        assert!(error.contains("email.smtp_url is required"), "{error}");
        let error = load_with(&format!("{production}\n[email]\nsmtp_url = \"smtp://mail:25\""), Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("email.from is required"), "{error}");
        let settings = load_with(
            &format!("{production}\n[email]\nsmtp_url = \"smtp://mail:25\"\nfrom = \"Acme <no-reply@acme.test>\""),
            Overrides::default(),
        )
        .unwrap();
        assert_eq!(settings.smtp.map(|(_, from)| from).as_deref(), Some("Acme <no-reply@acme.test>"));
    }
}
