//! The application state every use case runs against.

use crate::api_keys::ApiKeyCache;
use crate::authorization::PermissionCache;
use crate::branding::Branding;
use crate::dns::DnsResolver;
use crate::keys::Keyring;
use crate::mail::{DevMailbox, Mailer};
use crate::passwords::{BoundedBlocking, PasswordHasher};
use crate::ports::{Clock, IdGenerator};
use crate::rate_limits::Limit;
use portico_crypto::seal::Sealer;
use portico_domain::Timestamp;
use portico_domain::id::PublicId;
use portico_domain::session::SessionLimits;
use portico_store::Db;
use std::sync::Arc;

/// The key-encryption key that seals secrets at rest. Its `Debug` never shows it.
#[derive(Clone)]
pub struct SecretKey(pub [u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

impl SecretKey {
    /// A fresh key from the OS random number generator.
    pub fn generate() -> crate::Result<Self> {
        portico_crypto::secret::random_bytes::<32>().map(SecretKey).map_err(|e| crate::Error::Internal(e.to_string()))
    }
}

/// Environment settings that come from configuration.
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// The role a new member gets when no role is named.
    pub default_role_slug: String,
    /// Names the DNS TXT records organizations publish to prove a domain
    /// (`{slug}-domain-verification-…`).
    pub product_slug: String,
    /// How long events stay readable (at least 30 days).
    pub event_retention_days: u32,
    /// The `iss` of access tokens: Portico's public URL.
    pub issuer: String,
    pub access_token_ttl_seconds: i64,
    pub session_limits: SessionLimits,
    /// How long after a refresh token's use its one retry is still honoured.
    pub refresh_grace_ms: i64,
    pub secret_key: SecretKey,
    /// Password sign-ins per email address (WorkOS allows 10 per minute).
    pub sign_in_per_email: Limit,
    /// Password sign-ins per client IP address.
    pub sign_in_per_ip: Limit,
    /// Emails with codes or links (Magic Auth, verification, password reset) per address.
    pub email_sends_per_email: Limit,
    /// The same, per client IP address.
    pub email_sends_per_ip: Limit,
    /// Code and token checks (Magic Auth, verification) per client IP address.
    pub code_checks_per_ip: Limit,
    /// Whether a user must prove their email address before a session is issued.
    pub require_email_verification: bool,
    /// How hosted pages and emails look.
    pub branding: Branding,
    /// The environment's own sign-in rules, which every organization's policy adds to.
    pub environment_policy: portico_domain::policy::Policy,
    /// Where passkeys work (the RP ID and the origins of the hosted pages); `None` turns them off.
    pub passkeys: Option<portico_crypto::webauthn::RelyingParty>,
}

impl Default for AppSettings {
    fn default() -> Self {
        AppSettings {
            default_role_slug: portico_domain::role::MEMBER_SLUG.to_owned(),
            product_slug: "portico".to_owned(),
            event_retention_days: 90,
            issuer: "http://localhost:8080".to_owned(),
            access_token_ttl_seconds: 300,
            session_limits: SessionLimits { absolute_ms: 30 * DAY_MS, idle_ms: 7 * DAY_MS },
            refresh_grace_ms: 30_000,
            // A process-local key: enough for one process (tests); configuration gives the real one.
            secret_key: SecretKey::generate().unwrap_or(SecretKey([0x5a; 32])),
            sign_in_per_email: Limit { max: 10, window_seconds: 60 },
            sign_in_per_ip: Limit { max: 300, window_seconds: 60 },
            email_sends_per_email: Limit { max: 3, window_seconds: 60 },
            email_sends_per_ip: Limit { max: 60, window_seconds: 60 },
            code_checks_per_ip: Limit { max: 120, window_seconds: 60 },
            require_email_verification: true,
            branding: Branding::default(),
            environment_policy: portico_domain::policy::Policy::default(),
            passkeys: Some(portico_crypto::webauthn::RelyingParty {
                id: "localhost".to_owned(),
                origins: vec!["http://localhost:8080".to_owned()],
            }),
        }
    }
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub dns: Arc<dyn DnsResolver>,
    pub settings: Arc<AppSettings>,
    pub(crate) ids: Arc<IdGenerator>,
    pub(crate) passwords: PasswordHasher,
    /// Where access tokens are signed (RS256, a fraction of a millisecond each).
    pub(crate) signer: BoundedBlocking,
    pub(crate) api_key_cache: Arc<ApiKeyCache>,
    /// What every role permits, kept as new as the database's authorization version.
    pub(crate) permission_cache: Arc<PermissionCache>,
    pub(crate) sealer: Arc<Sealer>,
    pub(crate) keyring: Arc<Keyring>,
    pub(crate) mailer: Arc<dyn Mailer>,
    /// Wakes the outbox worker of this node when a message is queued.
    pub outbox_wakeup: Arc<tokio::sync::Notify>,
}

impl App {
    pub fn new(db: Db, clock: Arc<dyn Clock>, dns: Arc<dyn DnsResolver>, settings: AppSettings) -> Self {
        let sealer = Sealer::new(&settings.secret_key.0).unwrap_or_else(|_| unreachable!("the key is 32 bytes"));
        App {
            sealer: Arc::new(sealer),
            mailer: Arc::new(DevMailbox),
            outbox_wakeup: Arc::new(tokio::sync::Notify::new()),
            keyring: Arc::new(Keyring::default()),
            db,
            clock,
            dns,
            settings: Arc::new(settings),
            ids: Arc::new(IdGenerator::default()),
            passwords: PasswordHasher::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
                .unwrap_or_else(|e| panic!("cannot start the password-hashing threads: {e}")),
            signer: BoundedBlocking::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
            api_key_cache: Arc::new(ApiKeyCache::default()),
            permission_cache: Arc::new(PermissionCache::default()),
        }
    }

    /// Delivers email through `mailer` instead of the dev mailbox.
    pub fn with_mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = mailer;
        self
    }

    /// Whether emails land in the dev mailbox rather than leaving the machine.
    pub fn uses_dev_mailbox(&self) -> bool {
        self.mailer.is_dev_mailbox()
    }

    /// Portico's public URL, without a trailing slash: the base of links in emails.
    pub fn public_url(&self) -> &str {
        self.settings.issuer.trim_end_matches('/')
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// A unique id for a request, for logs and the `X-Request-ID` header.
    pub fn new_request_id(&self) -> String {
        self.ids.next_ulid(self.clock.now()).to_string()
    }

    pub(crate) fn new_id<T: PublicId>(&self) -> T {
        self.ids.next(self.clock.now())
    }
}
