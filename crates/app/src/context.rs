//! The application state every use case runs against.

use crate::api_keys::ApiKeyCache;
use crate::dns::DnsResolver;
use crate::passwords::PasswordHasher;
use crate::ports::{Clock, IdGenerator};
use portico_domain::Timestamp;
use portico_domain::id::PublicId;
use portico_store::Db;
use std::sync::Arc;

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
}

impl Default for AppSettings {
    fn default() -> Self {
        AppSettings {
            default_role_slug: portico_domain::role::MEMBER_SLUG.to_owned(),
            product_slug: "portico".to_owned(),
            event_retention_days: 90,
        }
    }
}

#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub dns: Arc<dyn DnsResolver>,
    pub settings: Arc<AppSettings>,
    pub(crate) ids: Arc<IdGenerator>,
    pub(crate) passwords: PasswordHasher,
    pub(crate) api_key_cache: Arc<ApiKeyCache>,
}

impl App {
    pub fn new(db: Db, clock: Arc<dyn Clock>, dns: Arc<dyn DnsResolver>, settings: AppSettings) -> Self {
        App {
            db,
            clock,
            dns,
            settings: Arc::new(settings),
            ids: Arc::new(IdGenerator::default()),
            passwords: PasswordHasher::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
            api_key_cache: Arc::new(ApiKeyCache::default()),
        }
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
