//! The DNS port, used to verify organization domains. Tests replace the resolver.

use async_trait::async_trait;
use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::RData;

#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("no TXT record found at {0}")]
    NotFound(String),
    #[error("DNS lookup of {name} failed: {reason}")]
    Failed { name: String, reason: String },
}

#[async_trait]
pub trait DnsResolver: Send + Sync {
    /// The TXT records at `name`, each joined into one string.
    async fn txt(&self, name: &str) -> Result<Vec<String>, DnsError>;
}

/// Resolves through the system's configured name servers.
pub struct SystemDnsResolver {
    resolver: Option<TokioResolver>,
    setup_error: Option<String>,
}

impl SystemDnsResolver {
    pub fn new() -> Self {
        match TokioResolver::builder_tokio().and_then(|builder| builder.build()) {
            Ok(resolver) => SystemDnsResolver { resolver: Some(resolver), setup_error: None },
            // A host without resolver configuration can still serve everything but verification.
            Err(error) => SystemDnsResolver { resolver: None, setup_error: Some(error.to_string()) },
        }
    }
}

impl Default for SystemDnsResolver {
    fn default() -> Self {
        SystemDnsResolver::new()
    }
}

#[async_trait]
impl DnsResolver for SystemDnsResolver {
    async fn txt(&self, name: &str) -> Result<Vec<String>, DnsError> {
        let Some(resolver) = &self.resolver else {
            return Err(DnsError::Failed {
                name: name.to_owned(),
                reason: self.setup_error.clone().unwrap_or_default(),
            });
        };
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        let lookup = resolver.txt_lookup(fqdn.as_str()).await.map_err(|error| {
            if error.to_string().to_lowercase().contains("no record") {
                DnsError::NotFound(name.to_owned())
            } else {
                DnsError::Failed { name: name.to_owned(), reason: error.to_string() }
            }
        })?;
        let records: Vec<String> = lookup
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::TXT(txt) => {
                    Some(txt.txt_data.iter().map(|part| String::from_utf8_lossy(part)).collect::<String>())
                }
                _ => None,
            })
            .collect();
        if records.is_empty() { Err(DnsError::NotFound(name.to_owned())) } else { Ok(records) }
    }
}
