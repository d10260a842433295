//! Sign-in policies: the rules an organization's admin sets for its members (second factor,
//! sign-in methods, session lifetimes, network), on top of the environment's own rules.
//!
//! One pure function, [`evaluate`], decides at every checkpoint (a grant, an organization choice,
//! a refresh, a switch) whether a session may go on, must step up, or is refused. It checks the
//! environment's policy and the organization's side by side and answers with the strictest
//! outcome of any rule, so an organization can tighten what the environment sets but never
//! loosen it, and adding a rule can only make an answer stricter.

use crate::id::UserId;
use crate::timestamp::Timestamp;
use crate::validation::{Checker, Invalid};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::str::FromStr;

/// A way to sign in, as policies name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Password,
    /// A code sent by email (Magic Auth).
    MagicAuth,
    Passkey,
    /// An OAuth provider such as Google or GitHub.
    Social,
    Sso,
}

impl Method {
    pub const ALL: [Method; 5] = [Method::Password, Method::MagicAuth, Method::Passkey, Method::Social, Method::Sso];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Password => "password",
            Method::MagicAuth => "magic_auth",
            Method::Passkey => "passkey",
            Method::Social => "social",
            Method::Sso => "sso",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Method::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

/// An IPv4 or IPv6 network in CIDR notation (`203.0.113.0/24`, `2001:db8::/32`); a bare address
/// is a network of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpNetwork {
    address: IpAddr,
    prefix: u8,
}

impl IpNetwork {
    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 client seen through an IPv6 socket is the same client.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpNetwork {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr =
            address.trim().parse().map_err(|_| format!("'{text}' is not an IP address or CIDR network"))?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("'{text}' has a prefix length outside 0–{max}"))?,
            None => max,
        };
        let network = IpNetwork { address, prefix };
        // Host bits set ("10.0.0.7/8") usually mean a typo: say so rather than guess.
        if !network.contains(address) || network.canonical() != address {
            return Err(format!("'{text}' has host bits set; did you mean {}/{prefix}?", network.canonical()));
        }
        Ok(network)
    }
}

impl IpNetwork {
    fn canonical(&self) -> IpAddr {
        match self.address {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                IpAddr::V4((u32::from(a) & mask).into())
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                IpAddr::V6((u128::from(a) & mask).into())
            }
        }
    }
}

impl std::fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

impl Serialize for IpNetwork {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IpNetwork {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The rules of one policy: the environment's or an organization's. Every rule is optional; an
/// absent rule allows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Members must pass a second factor. `mfa_enforced_from` ends the grace period: before it,
    /// members without a factor may still sign in (and are reminded).
    pub mfa_required: bool,
    pub mfa_enforced_from: Option<Timestamp>,
    /// The sign-in methods members may use; `None` allows every method.
    pub allowed_methods: Option<BTreeSet<Method>>,
    /// Email domains that may join (invitations, sign-up into the organization); `None` allows any.
    pub allowed_email_domains: Option<BTreeSet<String>>,
    /// A session ends this long after sign-in, whatever its activity.
    pub max_session_lifetime_ms: Option<i64>,
    /// A session ends after this long without a refresh.
    pub idle_timeout_ms: Option<i64>,
    /// The user must sign in again (prove who they are) this long after they last did.
    pub reauthentication_interval_ms: Option<i64>,
    /// Requests must come from one of these networks; `None` allows any address.
    pub ip_allowlist: Option<Vec<IpNetwork>>,
    /// An account the IP allowlist does not apply to, so that an admin who locked everyone out
    /// with a wrong list can still sign in and fix it.
    pub break_glass_user_id: Option<UserId>,
    /// Users whose verified email is at one of the organization's verified domains join it at
    /// sign-in with this role.
    pub auto_join_role: Option<String>,
}

/// How a policy is kept in storage: plain values, read back with [`Policy::from_stored`].
#[derive(Debug, Serialize, Deserialize)]
struct StoredPolicy {
    mfa_required: bool,
    mfa_enforced_from_ms: Option<i64>,
    allowed_methods: Option<BTreeSet<Method>>,
    allowed_email_domains: Option<BTreeSet<String>>,
    max_session_lifetime_ms: Option<i64>,
    idle_timeout_ms: Option<i64>,
    reauthentication_interval_ms: Option<i64>,
    ip_allowlist: Option<Vec<IpNetwork>>,
    break_glass_user_id: Option<String>,
    #[serde(default)]
    auto_join_role: Option<String>,
}

impl Policy {
    pub fn to_stored(&self) -> String {
        let stored = StoredPolicy {
            mfa_required: self.mfa_required,
            mfa_enforced_from_ms: self.mfa_enforced_from.map(Timestamp::unix_ms),
            allowed_methods: self.allowed_methods.clone(),
            allowed_email_domains: self.allowed_email_domains.clone(),
            max_session_lifetime_ms: self.max_session_lifetime_ms,
            idle_timeout_ms: self.idle_timeout_ms,
            reauthentication_interval_ms: self.reauthentication_interval_ms,
            ip_allowlist: self.ip_allowlist.clone(),
            break_glass_user_id: self.break_glass_user_id.as_ref().map(ToString::to_string),
            auto_join_role: self.auto_join_role.clone(),
        };
        serde_json::to_string(&stored).unwrap_or_default()
    }

    /// Reads back what [`Policy::to_stored`] wrote.
    pub fn from_stored(text: &str) -> Result<Policy, String> {
        let stored: StoredPolicy = serde_json::from_str(text).map_err(|e| format!("stored policy: {e}"))?;
        Ok(Policy {
            mfa_required: stored.mfa_required,
            mfa_enforced_from: stored.mfa_enforced_from_ms.map(Timestamp::from_unix_ms),
            allowed_methods: stored.allowed_methods,
            allowed_email_domains: stored.allowed_email_domains,
            max_session_lifetime_ms: stored.max_session_lifetime_ms,
            idle_timeout_ms: stored.idle_timeout_ms,
            reauthentication_interval_ms: stored.reauthentication_interval_ms,
            ip_allowlist: stored.ip_allowlist,
            break_glass_user_id: stored.break_glass_user_id.map(UserId::from_trusted),
            auto_join_role: stored.auto_join_role,
        })
    }
}

/// Where in a session's life the policy is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkpoint {
    /// A sign-in finishing: a grant, the hosted pages' organization choice.
    SignIn,
    /// A session minting a new access token for the organization it is already in. Sign-in
    /// method rules were checked when it started; "enforce now" re-applies them to live sessions.
    Refresh,
    /// A live session moving to another organization: every rule of the new organization.
    Switch,
}

/// What is known when a policy is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub now: Timestamp,
    pub checkpoint: Checkpoint,
    pub user_id: UserId,
    /// The user has a second factor enrolled (decides enrollment versus challenge).
    pub has_second_factor: bool,
    /// How the session's user proved who they are.
    pub method: Method,
    /// When they last did (the session's sign-in).
    pub authenticated_at: Timestamp,
    /// The session passed a second factor.
    pub second_factor_verified: bool,
    /// The session's last refresh (its sign-in when it has none yet).
    pub last_active_at: Timestamp,
    /// Where the request came from, when known.
    pub ip: Option<IpAddr>,
}

/// A step the user can take to satisfy the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StepUp {
    /// Verify with the second factor they have.
    MfaChallenge,
    /// Enroll a second factor, then verify with it.
    MfaEnrollment,
    /// Sign in again.
    Reauthenticate,
}

/// Why the policy refuses outright.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Refusal {
    /// The sign-in method is not one the policy allows; these are.
    MethodNotAllowed { allowed: BTreeSet<Method> },
    /// The request comes from outside the allowed networks.
    IpNotAllowed,
    /// The session outlived the maximum lifetime.
    SessionLifetimeExceeded,
    /// The session was idle longer than allowed.
    SessionIdle,
}

/// The outcome of a check. Variants are ordered from the most to the least permissive, so the
/// strictest of several outcomes is their maximum.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Decision {
    Allow,
    StepUp(StepUp),
    Refuse(Refusal),
}

impl Decision {
    /// How strict the outcome is: allow (0), a step the user can take (1), a refusal (2).
    pub fn severity(&self) -> u8 {
        match self {
            Decision::Allow => 0,
            Decision::StepUp(_) => 1,
            Decision::Refuse(_) => 2,
        }
    }

    /// The WorkOS error code for this outcome, where one exists.
    pub fn error_code(&self) -> Option<&'static str> {
        match self {
            Decision::Allow => None,
            Decision::StepUp(StepUp::MfaChallenge) => Some("mfa_challenge"),
            Decision::StepUp(StepUp::MfaEnrollment) => Some("mfa_enrollment"),
            Decision::StepUp(StepUp::Reauthenticate) => Some("reauthentication_required"),
            Decision::Refuse(Refusal::MethodNotAllowed { .. }) => Some("organization_authentication_methods_required"),
            Decision::Refuse(Refusal::IpNotAllowed) => Some("ip_address_not_allowed"),
            Decision::Refuse(Refusal::SessionLifetimeExceeded | Refusal::SessionIdle) => Some("session_expired"),
        }
    }
}

/// One rule of a policy, checked on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule<'a> {
    Mfa { enforced_from: Option<Timestamp> },
    Methods(&'a BTreeSet<Method>),
    MaxLifetime(i64),
    IdleTimeout(i64),
    Reauthentication(i64),
    IpAllowlist { networks: &'a [IpNetwork], break_glass: Option<&'a UserId> },
}

impl Policy {
    /// The rules this policy sets (email domains are checked when someone joins, not here).
    pub fn rules(&self) -> Vec<Rule<'_>> {
        let mut rules = Vec::with_capacity(6);
        if self.mfa_required {
            rules.push(Rule::Mfa { enforced_from: self.mfa_enforced_from });
        }
        if let Some(methods) = &self.allowed_methods {
            rules.push(Rule::Methods(methods));
        }
        if let Some(ms) = self.max_session_lifetime_ms {
            rules.push(Rule::MaxLifetime(ms));
        }
        if let Some(ms) = self.idle_timeout_ms {
            rules.push(Rule::IdleTimeout(ms));
        }
        if let Some(ms) = self.reauthentication_interval_ms {
            rules.push(Rule::Reauthentication(ms));
        }
        if let Some(networks) = &self.ip_allowlist {
            rules.push(Rule::IpAllowlist { networks, break_glass: self.break_glass_user_id.as_ref() });
        }
        rules
    }

    /// Whether someone with this email address may join under this policy.
    pub fn allows_email(&self, email: &str) -> bool {
        let domain = email.rsplit_once('@').map_or("", |(_, d)| d).to_ascii_lowercase();
        self.allowed_email_domains.as_ref().is_none_or(|allowed| allowed.contains(&domain))
    }

    /// When the MFA grace period ends, if it has not yet.
    pub fn mfa_grace_until(&self, now: Timestamp) -> Option<Timestamp> {
        self.mfa_enforced_from.filter(|from| self.mfa_required && *from > now)
    }
}

impl Rule<'_> {
    pub fn check(&self, facts: &Facts) -> Decision {
        let elapsed = |since: Timestamp| facts.now.unix_ms().saturating_sub(since.unix_ms());
        match self {
            Rule::Mfa { enforced_from } => {
                let in_grace = enforced_from.is_some_and(|from| facts.now < from);
                if facts.second_factor_verified || in_grace {
                    Decision::Allow
                } else if facts.has_second_factor {
                    Decision::StepUp(StepUp::MfaChallenge)
                } else {
                    Decision::StepUp(StepUp::MfaEnrollment)
                }
            }
            Rule::Methods(allowed) => {
                if facts.checkpoint == Checkpoint::Refresh || allowed.contains(&facts.method) {
                    Decision::Allow
                } else {
                    Decision::Refuse(Refusal::MethodNotAllowed { allowed: (*allowed).clone() })
                }
            }
            Rule::MaxLifetime(ms) if elapsed(facts.authenticated_at) >= *ms => {
                Decision::Refuse(Refusal::SessionLifetimeExceeded)
            }
            Rule::IdleTimeout(ms) if elapsed(facts.last_active_at) >= *ms => Decision::Refuse(Refusal::SessionIdle),
            Rule::Reauthentication(ms) if elapsed(facts.authenticated_at) >= *ms => {
                Decision::StepUp(StepUp::Reauthenticate)
            }
            Rule::IpAllowlist { networks, break_glass } => {
                let inside = facts.ip.is_some_and(|ip| networks.iter().any(|n| n.contains(ip)));
                if inside || *break_glass == Some(&facts.user_id) {
                    Decision::Allow
                } else {
                    Decision::Refuse(Refusal::IpNotAllowed)
                }
            }
            Rule::MaxLifetime(_) | Rule::IdleTimeout(_) | Rule::Reauthentication(_) => Decision::Allow,
        }
    }
}

/// Checks a session against the environment's policy and, when it is in (or moving to) an
/// organization, that organization's: the strictest outcome of any rule of either.
pub fn evaluate(environment: &Policy, organization: Option<&Policy>, facts: &Facts) -> Decision {
    environment
        .rules()
        .iter()
        .chain(organization.map(Policy::rules).unwrap_or_default().iter())
        .map(|rule| rule.check(facts))
        .max()
        .unwrap_or(Decision::Allow)
}

/// What an organization's admin may write: durations in seconds, lists as the API sends them.
/// Absent fields and `null` turn a rule off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    #[serde(default)]
    pub mfa: Option<MfaInput>,
    #[serde(default)]
    pub allowed_authentication_methods: Option<Vec<String>>,
    #[serde(default)]
    pub allowed_email_domains: Option<Vec<String>>,
    #[serde(default)]
    pub session: Option<SessionInput>,
    #[serde(default)]
    pub ip_allowlist: Option<Vec<String>>,
    #[serde(default)]
    pub break_glass_user_id: Option<String>,
    #[serde(default)]
    pub auto_join: Option<AutoJoinInput>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoJoinInput {
    /// The role members who join this way get.
    pub role_slug: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MfaInput {
    #[serde(default)]
    pub required: bool,
    /// Days before members without a second factor are stopped; 0 or absent: at once.
    #[serde(default)]
    pub grace_period_days: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionInput {
    #[serde(default)]
    pub max_lifetime_seconds: Option<i64>,
    #[serde(default)]
    pub idle_timeout_seconds: Option<i64>,
    #[serde(default)]
    pub reauthentication_interval_seconds: Option<i64>,
}

/// The environment's limits an organization's policy must stay within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ceilings {
    pub max_session_lifetime_ms: i64,
    pub idle_timeout_ms: i64,
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// The longest grace an admin can give: long enough for any rollout, short enough to end.
pub const MAX_GRACE_DAYS: i64 = 90;
const MAX_LIST: usize = 100;

impl PolicyInput {
    /// Checks the input and builds the policy it asks for, naming every field that is wrong.
    /// `previous` keeps the grace period's end when an admin saves the same MFA rule again;
    /// `break_glass_is_member` says whether an id names an active member of the organization,
    /// `role_exists` whether a slug names a role the organization's members can have.
    pub fn into_policy(
        self,
        now: Timestamp,
        ceilings: Ceilings,
        previous: Option<&Policy>,
        break_glass_is_member: impl Fn(&UserId) -> bool,
        role_exists: impl Fn(&str) -> bool,
    ) -> Result<Policy, Invalid> {
        let mut invalid = Checker::new();
        let mut policy = Policy::default();
        if let Some(mfa) = self.mfa.filter(|m| m.required) {
            policy.mfa_required = true;
            match mfa.grace_period_days {
                Some(days) if !(0..=MAX_GRACE_DAYS).contains(&days) => invalid.fail(
                    "mfa.grace_period_days",
                    "grace_period_out_of_range",
                    format!("grace_period_days must be between 0 and {MAX_GRACE_DAYS}."),
                ),
                Some(days) if days > 0 => {
                    // Saving the rule again never moves its deadline later, and never re-opens
                    // a grace that has ended (turning MFA off and on again starts a new one).
                    let proposed = now.plus_ms(days * DAY_MS);
                    policy.mfa_enforced_from = match previous.filter(|p| p.mfa_required) {
                        Some(previous) => previous.mfa_enforced_from.filter(|k| *k > now).map(|k| k.min(proposed)),
                        None => Some(proposed),
                    };
                }
                _ => policy.mfa_enforced_from = None,
            }
        }
        if let Some(methods) = self.allowed_authentication_methods {
            let mut set = BTreeSet::new();
            for (i, text) in methods.iter().enumerate() {
                match Method::parse(text) {
                    Some(m) => {
                        set.insert(m);
                    }
                    None => invalid.fail(
                        &format!("allowed_authentication_methods[{i}]"),
                        "unknown_authentication_method",
                        format!("'{text}' is not a sign-in method; use password, magic_auth, passkey, social or sso."),
                    ),
                }
            }
            if set.is_empty() && methods.is_empty() {
                invalid.fail(
                    "allowed_authentication_methods",
                    "no_authentication_methods",
                    "Allow at least one sign-in method, or send null to allow them all.",
                );
            }
            policy.allowed_methods = Some(set);
        }
        if let Some(domains) = self.allowed_email_domains {
            if domains.len() > MAX_LIST {
                invalid.fail("allowed_email_domains", "too_many", format!("At most {MAX_LIST} domains."));
            }
            let mut set = BTreeSet::new();
            for (i, text) in domains.iter().enumerate() {
                let domain = text.trim().to_ascii_lowercase();
                let valid = domain.contains('.')
                    && domain.len() <= 253
                    && domain.split('.').all(|label| {
                        !label.is_empty()
                            && label.len() <= 63
                            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                            && !label.starts_with('-')
                            && !label.ends_with('-')
                    });
                if valid {
                    set.insert(domain);
                } else {
                    invalid.fail(
                        &format!("allowed_email_domains[{i}]"),
                        "invalid_domain",
                        format!("'{text}' is not a domain name such as example.com."),
                    );
                }
            }
            if domains.is_empty() {
                invalid.fail(
                    "allowed_email_domains",
                    "no_email_domains",
                    "List at least one domain, or send null to allow any.",
                );
            }
            policy.allowed_email_domains = Some(set);
        }
        if let Some(session) = self.session {
            let mut seconds = |field: &str, value: Option<i64>, min: i64, max_ms: Option<i64>| -> Option<i64> {
                let value = value?;
                let ms = value.saturating_mul(1000);
                if value < min {
                    invalid.fail(
                        &format!("session.{field}"),
                        "too_short",
                        format!("{field} must be at least {min} seconds."),
                    );
                } else if let Some(max_ms) = max_ms.filter(|max| ms > *max) {
                    invalid.fail(
                        &format!("session.{field}"),
                        "exceeds_environment_limit",
                        format!(
                            "{field} cannot exceed the environment's limit of {} seconds: an organization can only tighten it.",
                            max_ms / 1000
                        ),
                    );
                }
                Some(ms)
            };
            policy.max_session_lifetime_ms = seconds(
                "max_lifetime_seconds",
                session.max_lifetime_seconds,
                300,
                Some(ceilings.max_session_lifetime_ms),
            );
            policy.idle_timeout_ms =
                seconds("idle_timeout_seconds", session.idle_timeout_seconds, 300, Some(ceilings.idle_timeout_ms));
            policy.reauthentication_interval_ms = seconds(
                "reauthentication_interval_seconds",
                session.reauthentication_interval_seconds,
                300,
                Some(ceilings.max_session_lifetime_ms),
            );
        }
        if let Some(list) = self.ip_allowlist {
            if list.len() > MAX_LIST {
                invalid.fail("ip_allowlist", "too_many", format!("At most {MAX_LIST} networks."));
            }
            if list.is_empty() {
                invalid.fail(
                    "ip_allowlist",
                    "no_networks",
                    "An empty allowlist would lock everyone out; send null to allow any address.",
                );
            }
            let mut networks = Vec::with_capacity(list.len());
            for (i, text) in list.iter().enumerate() {
                match text.parse::<IpNetwork>() {
                    Ok(n) => networks.push(n),
                    Err(why) => invalid.fail(&format!("ip_allowlist[{i}]"), "invalid_network", why),
                }
            }
            networks.sort();
            networks.dedup();
            policy.ip_allowlist = Some(networks);
        }
        if let Some(text) = self.break_glass_user_id {
            match UserId::parse(&text) {
                Some(id) if break_glass_is_member(&id) => policy.break_glass_user_id = Some(id),
                _ => invalid.fail(
                    "break_glass_user_id",
                    "not_a_member",
                    format!("'{text}' is not an active member of the organization."),
                ),
            }
        }
        if let Some(auto_join) = self.auto_join {
            if role_exists(&auto_join.role_slug) {
                policy.auto_join_role = Some(auto_join.role_slug);
            } else {
                invalid.fail(
                    "auto_join.role_slug",
                    "role_not_found",
                    format!("'{}' is not a role of the organization.", auto_join.role_slug),
                );
            }
        }
        invalid.finish()?;
        Ok(policy)
    }
}

/// The policy as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyView {
    pub mfa: MfaView,
    pub allowed_authentication_methods: Option<Vec<&'static str>>,
    pub allowed_email_domains: Option<Vec<String>>,
    pub session: SessionView,
    pub ip_allowlist: Option<Vec<String>>,
    pub break_glass_user_id: Option<String>,
    /// `{role_slug}` when users at the organization's verified domains join at sign-in.
    pub auto_join: Option<AutoJoinView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AutoJoinView {
    pub role_slug: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MfaView {
    pub required: bool,
    /// When members without a second factor start being stopped; `null`: from the start.
    pub enforced_from: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionView {
    pub max_lifetime_seconds: Option<i64>,
    pub idle_timeout_seconds: Option<i64>,
    pub reauthentication_interval_seconds: Option<i64>,
}

impl Policy {
    pub fn view(&self) -> PolicyView {
        PolicyView {
            mfa: MfaView { required: self.mfa_required, enforced_from: self.mfa_enforced_from },
            allowed_authentication_methods: self
                .allowed_methods
                .as_ref()
                .map(|set| set.iter().map(|m| m.as_str()).collect()),
            allowed_email_domains: self.allowed_email_domains.as_ref().map(|set| set.iter().cloned().collect()),
            session: SessionView {
                max_lifetime_seconds: self.max_session_lifetime_ms.map(|ms| ms / 1000),
                idle_timeout_seconds: self.idle_timeout_ms.map(|ms| ms / 1000),
                reauthentication_interval_seconds: self.reauthentication_interval_ms.map(|ms| ms / 1000),
            },
            ip_allowlist: self.ip_allowlist.as_ref().map(|list| list.iter().map(ToString::to_string).collect()),
            break_glass_user_id: self.break_glass_user_id.as_ref().map(ToString::to_string),
            auto_join: self.auto_join_role.clone().map(|role_slug| AutoJoinView { role_slug }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::Ulid;
    use proptest::prelude::*;

    const HOUR: i64 = 60 * 60 * 1000;

    fn user(n: u64) -> UserId {
        UserId::from_ulid(Ulid::from_parts(1, u128::from(n)))
    }

    fn facts() -> Facts {
        Facts {
            now: Timestamp::from_unix_ms(100 * HOUR),
            checkpoint: Checkpoint::SignIn,
            user_id: user(1),
            has_second_factor: false,
            method: Method::Password,
            authenticated_at: Timestamp::from_unix_ms(100 * HOUR),
            second_factor_verified: false,
            last_active_at: Timestamp::from_unix_ms(100 * HOUR),
            ip: Some("203.0.113.9".parse().unwrap()),
        }
    }

    fn net(text: &str) -> IpNetwork {
        text.parse().unwrap()
    }

    #[test]
    fn networks_parse_and_match() {
        assert!(net("203.0.113.0/24").contains("203.0.113.200".parse().unwrap()));
        assert!(!net("203.0.113.0/24").contains("203.0.114.1".parse().unwrap()));
        assert!(net("203.0.113.0/24").contains("::ffff:203.0.113.7".parse().unwrap()), "IPv4-mapped IPv6");
        assert!(net("2001:db8::/32").contains("2001:db8:1::1".parse().unwrap()));
        assert!(net("0.0.0.0/0").contains("8.8.8.8".parse().unwrap()));
        assert!(net("10.1.2.3").contains("10.1.2.3".parse().unwrap()));
        assert!(!net("10.1.2.3").contains("10.1.2.4".parse().unwrap()));
        assert!("10.0.0.7/8".parse::<IpNetwork>().unwrap_err().contains("did you mean 10.0.0.0/8"));
        assert!("10.0.0.0/33".parse::<IpNetwork>().is_err());
        assert!("example.com".parse::<IpNetwork>().is_err());
    }

    #[test]
    fn mfa_rule_steps_up_after_the_grace_only() {
        let mut policy = Policy { mfa_required: true, ..Policy::default() };
        let f = facts();
        assert_eq!(evaluate(&Policy::default(), Some(&policy), &f), Decision::StepUp(StepUp::MfaEnrollment));
        let enrolled = Facts { has_second_factor: true, ..f.clone() };
        assert_eq!(evaluate(&Policy::default(), Some(&policy), &enrolled), Decision::StepUp(StepUp::MfaChallenge));
        let verified = Facts { second_factor_verified: true, ..enrolled };
        assert_eq!(evaluate(&Policy::default(), Some(&policy), &verified), Decision::Allow);
        policy.mfa_enforced_from = Some(f.now.plus_ms(HOUR));
        assert_eq!(evaluate(&Policy::default(), Some(&policy), &f), Decision::Allow, "in grace");
        let later = Facts { now: f.now.plus_ms(HOUR), ..f };
        assert_eq!(evaluate(&Policy::default(), Some(&policy), &later), Decision::StepUp(StepUp::MfaEnrollment));
    }

    #[test]
    fn methods_rule_applies_at_sign_in_and_switch_but_not_refresh() {
        let policy = Policy { allowed_methods: Some([Method::MagicAuth].into_iter().collect()), ..Policy::default() };
        let refused = Decision::Refuse(Refusal::MethodNotAllowed { allowed: [Method::MagicAuth].into() });
        assert_eq!(evaluate(&Policy::default(), Some(&policy), &facts()), refused);
        let switch = Facts { checkpoint: Checkpoint::Switch, ..facts() };
        assert_eq!(evaluate(&Policy::default(), Some(&policy), &switch), refused);
        let refresh = Facts { checkpoint: Checkpoint::Refresh, ..facts() };
        assert_eq!(evaluate(&Policy::default(), Some(&policy), &refresh), Decision::Allow);
    }

    #[test]
    fn session_rules_count_from_sign_in_and_last_activity() {
        let policy = Policy {
            max_session_lifetime_ms: Some(10 * HOUR),
            idle_timeout_ms: Some(HOUR),
            reauthentication_interval_ms: Some(5 * HOUR),
            ..Policy::default()
        };
        let mut f = Facts { checkpoint: Checkpoint::Refresh, ..facts() };
        f.authenticated_at = f.now.plus_ms(-4 * HOUR);
        f.last_active_at = f.now.plus_ms(-HOUR / 2);
        assert_eq!(evaluate(&Policy::default(), Some(&policy), &f), Decision::Allow);
        f.last_active_at = f.now.plus_ms(-HOUR);
        assert_eq!(evaluate(&Policy::default(), Some(&policy), &f), Decision::Refuse(Refusal::SessionIdle));
        f.last_active_at = f.now;
        f.authenticated_at = f.now.plus_ms(-5 * HOUR);
        assert_eq!(evaluate(&Policy::default(), Some(&policy), &f), Decision::StepUp(StepUp::Reauthenticate));
        f.authenticated_at = f.now.plus_ms(-10 * HOUR);
        assert_eq!(evaluate(&Policy::default(), Some(&policy), &f), Decision::Refuse(Refusal::SessionLifetimeExceeded));
    }

    #[test]
    fn ip_allowlist_spares_the_break_glass_account_only() {
        let policy = Policy {
            ip_allowlist: Some(vec![net("198.51.100.0/24")]),
            break_glass_user_id: Some(user(2)),
            ..Policy::default()
        };
        assert_eq!(evaluate(&Policy::default(), Some(&policy), &facts()), Decision::Refuse(Refusal::IpNotAllowed));
        let inside = Facts { ip: Some("198.51.100.4".parse().unwrap()), ..facts() };
        assert_eq!(evaluate(&Policy::default(), Some(&policy), &inside), Decision::Allow);
        let unknown = Facts { ip: None, ..facts() };
        assert_eq!(evaluate(&Policy::default(), Some(&policy), &unknown), Decision::Refuse(Refusal::IpNotAllowed));
        let owner = Facts { user_id: user(2), ..facts() };
        assert_eq!(evaluate(&Policy::default(), Some(&policy), &owner), Decision::Allow);
    }

    fn ceilings() -> Ceilings {
        Ceilings { max_session_lifetime_ms: 30 * 24 * HOUR, idle_timeout_ms: 7 * 24 * HOUR }
    }

    #[test]
    fn input_is_checked_field_by_field() {
        let input: PolicyInput = serde_json::from_value(serde_json::json!({
            "mfa": {"required": true, "grace_period_days": 400},
            "allowed_authentication_methods": ["password", "carrier_pigeon"],
            "allowed_email_domains": ["acme.com", "not a domain"],
            "session": {"max_lifetime_seconds": 99_999_999, "idle_timeout_seconds": 10},
            "ip_allowlist": ["10.0.0.0/8", "10.0.0.1/8"],
            "break_glass_user_id": "user_nobody",
            "auto_join": {"role_slug": "ghost"}
        }))
        .unwrap();
        let error = input.into_policy(Timestamp::from_unix_ms(0), ceilings(), None, |_| false, |_| false).unwrap_err();
        let fields: Vec<_> = error.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "mfa.grace_period_days",
                "allowed_authentication_methods[1]",
                "allowed_email_domains[1]",
                "session.max_lifetime_seconds",
                "session.idle_timeout_seconds",
                "ip_allowlist[1]",
                "break_glass_user_id",
                "auto_join.role_slug"
            ]
        );
        assert!(serde_json::from_value::<PolicyInput>(serde_json::json!({"mfa_required": true})).is_err());
    }

    #[test]
    fn saving_the_same_mfa_rule_again_keeps_the_deadline() {
        let input = || PolicyInput {
            mfa: Some(MfaInput { required: true, grace_period_days: Some(7) }),
            ..PolicyInput::default()
        };
        let first = input().into_policy(Timestamp::from_unix_ms(0), ceilings(), None, |_| true, |_| true).unwrap();
        let again = input()
            .into_policy(Timestamp::from_unix_ms(3 * 24 * HOUR), ceilings(), Some(&first), |_| true, |_| true)
            .unwrap();
        assert_eq!(again.mfa_enforced_from, first.mfa_enforced_from);
        assert_eq!(again.view().mfa.enforced_from, Some(Timestamp::from_unix_ms(7 * 24 * HOUR)));
        let enforced =
            PolicyInput { mfa: Some(MfaInput { required: true, grace_period_days: None }), ..PolicyInput::default() }
                .into_policy(Timestamp::from_unix_ms(0), ceilings(), Some(&first), |_| true, |_| true)
                .unwrap();
        let reopened = input()
            .into_policy(Timestamp::from_unix_ms(HOUR), ceilings(), Some(&enforced), |_| true, |_| true)
            .unwrap();
        assert_eq!(reopened.mfa_enforced_from, None, "an ended grace is not re-opened by saving again");
        let after_deadline = input()
            .into_policy(Timestamp::from_unix_ms(8 * 24 * HOUR), ceilings(), Some(&first), |_| true, |_| true)
            .unwrap();
        assert_eq!(after_deadline.mfa_enforced_from, None, "nor one that ran out");
        assert!(first.allows_email("a@anything.org"));
        assert_eq!(Policy::from_stored(&first.to_stored()).unwrap(), first);
    }

    fn arb_policy() -> impl Strategy<Value = Policy> {
        (
            any::<bool>(),
            proptest::option::of(0i64..200),
            proptest::option::of(proptest::collection::btree_set(0usize..5, 0..5)),
            proptest::option::of(1i64..200),
            proptest::option::of(1i64..200),
            proptest::option::of(1i64..200),
            proptest::option::of(proptest::collection::vec(0u8..4, 0..3)),
            any::<bool>(),
        )
            .prop_map(|(mfa, from, methods, life, idle, reauth, nets, glass)| Policy {
                mfa_required: mfa,
                mfa_enforced_from: from.map(|h| Timestamp::from_unix_ms(h * HOUR)),
                allowed_methods: methods.map(|s| s.into_iter().map(|i| Method::ALL[i]).collect()),
                allowed_email_domains: None,
                max_session_lifetime_ms: life.map(|h| h * HOUR),
                idle_timeout_ms: idle.map(|h| h * HOUR),
                reauthentication_interval_ms: reauth.map(|h| h * HOUR),
                ip_allowlist: nets.map(|v| v.into_iter().map(|i| net(&format!("10.{i}.0.0/16"))).collect()),
                break_glass_user_id: glass.then(|| user(2)),
                auto_join_role: None,
            })
    }

    fn arb_facts() -> impl Strategy<Value = Facts> {
        (
            0i64..200,
            0usize..3,
            1u64..3,
            any::<bool>(),
            0usize..5,
            0i64..200,
            any::<bool>(),
            0i64..200,
            proptest::option::of(0u8..5),
        )
            .prop_map(|(now, cp, who, factor, method, auth_ago, verified, idle_ago, ip)| {
                let now = Timestamp::from_unix_ms(200 * HOUR + now * HOUR);
                Facts {
                    now,
                    checkpoint: [Checkpoint::SignIn, Checkpoint::Refresh, Checkpoint::Switch][cp],
                    user_id: user(who),
                    has_second_factor: factor,
                    method: Method::ALL[method],
                    authenticated_at: now.plus_ms(-auth_ago * HOUR),
                    second_factor_verified: verified,
                    last_active_at: now.plus_ms(-idle_ago * HOUR),
                    ip: ip.map(|i| IpAddr::from([10, i, 0, 1])),
                }
            })
    }

    /// Every rule of `extra` added to `base`, as an admin tightening a policy would.
    fn tightened(base: &Policy, extra: &Policy) -> Policy {
        let mut p = base.clone();
        if extra.mfa_required {
            p.mfa_required = true;
            p.mfa_enforced_from = match (base.mfa_required, base.mfa_enforced_from, extra.mfa_enforced_from) {
                (false, _, from) => from,
                (true, Some(a), Some(b)) => Some(a.min(b)),
                _ => None,
            };
        }
        if let Some(methods) = &extra.allowed_methods {
            p.allowed_methods =
                Some(p.allowed_methods.map_or(methods.clone(), |m| m.intersection(methods).copied().collect()));
        }
        let min = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        p.max_session_lifetime_ms = min(p.max_session_lifetime_ms, extra.max_session_lifetime_ms);
        p.idle_timeout_ms = min(p.idle_timeout_ms, extra.idle_timeout_ms);
        p.reauthentication_interval_ms = min(p.reauthentication_interval_ms, extra.reauthentication_interval_ms);
        if let Some(nets) = &extra.ip_allowlist {
            p.ip_allowlist = Some(match &p.ip_allowlist {
                Some(mine) => mine.iter().filter(|n| nets.contains(n)).copied().collect(),
                None => nets.clone(),
            });
            if p.break_glass_user_id != extra.break_glass_user_id {
                p.break_glass_user_id = None;
            }
        }
        p
    }

    proptest! {
        #[test]
        fn an_organization_never_loosens_the_environment(env in arb_policy(), org in arb_policy(), f in arb_facts()) {
            prop_assert!(evaluate(&env, Some(&org), &f).severity() >= evaluate(&env, None, &f).severity());
        }

        #[test]
        fn adding_rules_never_turns_a_refusal_into_an_allow(
            base in arb_policy(), extra in arb_policy(), f in arb_facts()
        ) {
            let env = Policy::default();
            let before = evaluate(&env, Some(&base), &f);
            let after = evaluate(&env, Some(&tightened(&base, &extra)), &f);
            prop_assert!(after.severity() >= before.severity(), "{before:?} became {after:?}");
        }

        #[test]
        fn the_strictest_rule_wins(env in arb_policy(), org in arb_policy(), f in arb_facts()) {
            let strictest = env.rules().iter().chain(org.rules().iter()).map(|r| r.check(&f)).max();
            prop_assert_eq!(evaluate(&env, Some(&org), &f), strictest.unwrap_or(Decision::Allow));
            for rule in env.rules().iter().chain(org.rules().iter()) {
                prop_assert!(evaluate(&env, Some(&org), &f) >= rule.check(&f));
            }
        }
    }
}
