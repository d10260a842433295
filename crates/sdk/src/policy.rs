//! Organization sign-in policies through the management API: read one, change it (optionally
//! ending the sessions it rules out at once), and preview who a change would stop.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The longest grace period Portico accepts, in days.
const MAX_GRACE_DAYS: u32 = 90;

/// An organization's sign-in policy, as Portico enforces it. Every rule is off (`None`,
/// `false`) until the organization's admin sets it.
///
/// ```no_run
/// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
/// let policy = api.organization_policy("org_01H…").await?;
/// if policy.mfa.required {
///     match &policy.mfa.enforced_from {
///         Some(date) => println!("two-step verification from {date}"),
///         None => println!("two-step verification required"),
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct OrganizationPolicy {
    pub organization_id: String,
    pub mfa: MfaRule,
    /// `password`, `magic_auth`, `passkey`, `social`, `sso`; `None` allows every method.
    pub allowed_authentication_methods: Option<Vec<String>>,
    /// Domains whose addresses may join; `None` allows any.
    pub allowed_email_domains: Option<Vec<String>>,
    pub session: SessionRules,
    /// CIDR networks requests must come from; `None` allows any address.
    pub ip_allowlist: Option<Vec<String>>,
    /// The member the allowlist does not apply to.
    pub break_glass_user_id: Option<String>,
    /// The role users at the organization's verified domains join with at sign-in.
    pub auto_join: Option<AutoJoin>,
    /// `None` until the policy was first saved.
    pub updated_at: Option<String>,
    /// After a change with [`PolicyChange::enforce_now`]: the sessions it ended.
    #[serde(default)]
    pub revoked_session_count: Option<u64>,
}

/// The second-factor rule of an [`OrganizationPolicy`].
///
/// ```
/// let rule = portico_sdk::MfaRule { required: true, enforced_from: None };
/// assert!(rule.required && rule.enforced_from.is_none()); // required now, no grace left
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct MfaRule {
    pub required: bool,
    /// When members without a second factor start being stopped (the end of the grace period);
    /// `None` when required from the start.
    pub enforced_from: Option<String>,
}

/// The session limits of an [`OrganizationPolicy`], in seconds.
///
/// ```
/// let limits = portico_sdk::SessionRules { idle_timeout_seconds: Some(3600), ..Default::default() };
/// assert_eq!(limits.max_lifetime_seconds, None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct SessionRules {
    pub max_lifetime_seconds: Option<u64>,
    pub idle_timeout_seconds: Option<u64>,
    pub reauthentication_interval_seconds: Option<u64>,
}

/// Auto-join: the role given to users who join at sign-in.
///
/// ```
/// let auto_join = portico_sdk::AutoJoin { role_slug: "member".into() };
/// assert_eq!(auto_join.role_slug, "member");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AutoJoin {
    pub role_slug: String,
}

/// A policy to save (it replaces the whole policy: rules not set are off). Build it from
/// [`PolicyChange::new`].
///
/// ```no_run
/// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
/// use portico_sdk::PolicyChange;
///
/// let change = PolicyChange::new()
///     .require_mfa(7)                       // a week's grace, with reminders
///     .idle_timeout(8 * 3600)
///     .ip_allowlist(["203.0.113.0/24"])
///     .break_glass("user_01H…");
/// let report = api.dry_run_organization_policy("org_01H…", &change).await?;
/// println!("{} of {} members would be stopped", report.affected_member_count, report.member_count);
/// api.set_organization_policy("org_01H…", &change).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PolicyChange {
    #[serde(flatten)]
    body: Map<String, Value>,
}

impl PolicyChange {
    pub(crate) fn to_body(&self) -> Value {
        Value::Object(self.body.clone())
    }

    /// A policy with every rule off.
    ///
    /// ```
    /// let off = portico_sdk::PolicyChange::new();
    /// assert_eq!(serde_json::to_value(&off).unwrap(), serde_json::json!({}));
    /// ```
    pub fn new() -> Self {
        PolicyChange::default()
    }

    /// The rules of a policy as it stands, to change one of them and keep the rest (saving
    /// replaces the whole policy). An MFA rule keeps its deadline: Portico never moves a grace
    /// period's end later when the same rule is saved again.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// use portico_sdk::PolicyChange;
    ///
    /// let current = api.organization_policy("org_01H…").await?;
    /// let change = PolicyChange::from_policy(&current).idle_timeout(1800);
    /// api.set_organization_policy("org_01H…", &change).await?;
    /// # Ok(()) }
    /// ```
    pub fn from_policy(policy: &OrganizationPolicy) -> Self {
        let mut change = PolicyChange::new();
        if policy.mfa.required {
            // The grace that is left is kept by the server (the earlier deadline wins).
            let grace = if policy.mfa.enforced_from.is_some() { MAX_GRACE_DAYS } else { 0 };
            change = change.require_mfa(grace);
        }
        if let Some(methods) = &policy.allowed_authentication_methods {
            change = change.allowed_methods(methods.iter().cloned());
        }
        if let Some(domains) = &policy.allowed_email_domains {
            change = change.allowed_email_domains(domains.iter().cloned());
        }
        if let Some(seconds) = policy.session.max_lifetime_seconds {
            change = change.max_session_lifetime(seconds);
        }
        if let Some(seconds) = policy.session.idle_timeout_seconds {
            change = change.idle_timeout(seconds);
        }
        if let Some(seconds) = policy.session.reauthentication_interval_seconds {
            change = change.reauthenticate_every(seconds);
        }
        if let Some(networks) = &policy.ip_allowlist {
            change = change.ip_allowlist(networks.iter().cloned());
        }
        if let Some(user) = &policy.break_glass_user_id {
            change = change.break_glass(user.clone());
        }
        if let Some(auto_join) = &policy.auto_join {
            change = change.auto_join(auto_join.role_slug.clone());
        }
        change
    }

    /// Turns the MFA rule off.
    ///
    /// ```
    /// let change = portico_sdk::PolicyChange::new().require_mfa(7).without_mfa();
    /// assert!(serde_json::to_value(&change).unwrap().get("mfa").is_none());
    /// ```
    pub fn without_mfa(mut self) -> Self {
        self.body.remove("mfa");
        self
    }

    /// Members must pass a second factor; those without one get `grace_period_days` (0: none,
    /// at most 90) and are reminded by email.
    ///
    /// ```
    /// let change = portico_sdk::PolicyChange::new().require_mfa(7);
    /// assert_eq!(serde_json::to_value(&change).unwrap()["mfa"]["grace_period_days"], 7);
    /// ```
    pub fn require_mfa(mut self, grace_period_days: u32) -> Self {
        self.body.insert("mfa".into(), json!({ "required": true, "grace_period_days": grace_period_days }));
        self
    }

    /// Only these sign-in methods (`password`, `magic_auth`, `passkey`, `social`, `sso`).
    ///
    /// ```
    /// let change = portico_sdk::PolicyChange::new().allowed_methods(["magic_auth"]);
    /// assert_eq!(serde_json::to_value(&change).unwrap()["allowed_authentication_methods"][0], "magic_auth");
    /// ```
    pub fn allowed_methods<S: Into<String>>(mut self, methods: impl IntoIterator<Item = S>) -> Self {
        let list: Vec<String> = methods.into_iter().map(Into::into).collect();
        self.body.insert("allowed_authentication_methods".into(), json!(list));
        self
    }

    /// Only addresses at these domains may join (memberships, invitations).
    ///
    /// ```
    /// let change = portico_sdk::PolicyChange::new().allowed_email_domains(["acme.com"]);
    /// assert_eq!(serde_json::to_value(&change).unwrap()["allowed_email_domains"][0], "acme.com");
    /// ```
    pub fn allowed_email_domains<S: Into<String>>(mut self, domains: impl IntoIterator<Item = S>) -> Self {
        let list: Vec<String> = domains.into_iter().map(Into::into).collect();
        self.body.insert("allowed_email_domains".into(), json!(list));
        self
    }

    fn session_limit(mut self, name: &str, seconds: u64) -> Self {
        let session = self.body.entry("session").or_insert_with(|| json!({}));
        if let Some(limits) = session.as_object_mut() {
            limits.insert(name.into(), json!(seconds));
        }
        self
    }

    /// Sessions end this long after sign-in (at most the environment's limit).
    ///
    /// ```
    /// let change = portico_sdk::PolicyChange::new().max_session_lifetime(86_400);
    /// assert_eq!(serde_json::to_value(&change).unwrap()["session"]["max_lifetime_seconds"], 86_400);
    /// ```
    pub fn max_session_lifetime(self, seconds: u64) -> Self {
        self.session_limit("max_lifetime_seconds", seconds)
    }

    /// Sessions end after this long without a refresh.
    ///
    /// ```
    /// let change = portico_sdk::PolicyChange::new().idle_timeout(3600);
    /// assert_eq!(serde_json::to_value(&change).unwrap()["session"]["idle_timeout_seconds"], 3600);
    /// ```
    pub fn idle_timeout(self, seconds: u64) -> Self {
        self.session_limit("idle_timeout_seconds", seconds)
    }

    /// Members sign in again this long after they last did.
    ///
    /// ```
    /// let change = portico_sdk::PolicyChange::new().reauthenticate_every(43_200);
    /// assert_eq!(serde_json::to_value(&change).unwrap()["session"]["reauthentication_interval_seconds"], 43_200);
    /// ```
    pub fn reauthenticate_every(self, seconds: u64) -> Self {
        self.session_limit("reauthentication_interval_seconds", seconds)
    }

    /// Requests must come from these networks (CIDR, IPv4 or IPv6).
    ///
    /// ```
    /// let change = portico_sdk::PolicyChange::new().ip_allowlist(["203.0.113.0/24", "2001:db8::/32"]);
    /// assert_eq!(serde_json::to_value(&change).unwrap()["ip_allowlist"][1], "2001:db8::/32");
    /// ```
    pub fn ip_allowlist<S: Into<String>>(mut self, networks: impl IntoIterator<Item = S>) -> Self {
        let list: Vec<String> = networks.into_iter().map(Into::into).collect();
        self.body.insert("ip_allowlist".into(), json!(list));
        self
    }

    /// The member the IP allowlist does not apply to, so a wrong list cannot lock everyone out.
    ///
    /// ```
    /// let change = portico_sdk::PolicyChange::new().break_glass("user_01H…");
    /// assert_eq!(serde_json::to_value(&change).unwrap()["break_glass_user_id"], "user_01H…");
    /// ```
    pub fn break_glass(mut self, user_id: impl Into<String>) -> Self {
        self.body.insert("break_glass_user_id".into(), json!(user_id.into()));
        self
    }

    /// Users with a verified email at the organization's verified domains join at sign-in with
    /// this role.
    ///
    /// ```
    /// let change = portico_sdk::PolicyChange::new().auto_join("member");
    /// assert_eq!(serde_json::to_value(&change).unwrap()["auto_join"]["role_slug"], "member");
    /// ```
    pub fn auto_join(mut self, role_slug: impl Into<String>) -> Self {
        self.body.insert("auto_join".into(), json!({ "role_slug": role_slug.into() }));
        self
    }

    /// On saving, end the live sessions the policy rules out at once (otherwise it applies from
    /// each member's next sign-in, refresh or switch). A dry run reports how many that would be.
    ///
    /// ```
    /// let change = portico_sdk::PolicyChange::new().require_mfa(0).enforce_now();
    /// assert_eq!(serde_json::to_value(&change).unwrap()["enforce_now"], true);
    /// ```
    pub fn enforce_now(mut self) -> Self {
        self.body.insert("enforce_now".into(), json!(true));
        self
    }
}

/// What a proposed policy would do: from [`crate::Management::dry_run_organization_policy`].
///
/// ```no_run
/// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
/// let report = api.dry_run_organization_policy("org_01H…", &portico_sdk::PolicyChange::new().require_mfa(7)).await?;
/// for member in &report.members {
///     for finding in &member.findings {
///         println!("{}: {} ({})", member.email, finding.message, finding.rule);
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct PolicyReport {
    pub member_count: u64,
    pub affected_member_count: u64,
    /// Only the members the policy would affect.
    pub members: Vec<AffectedMember>,
    /// Live sessions [`PolicyChange::enforce_now`] would end.
    pub sessions_ended_by_enforce_now: u64,
}

/// A member a proposed policy would stop, and why: part of a [`PolicyReport`].
///
/// ```no_run
/// # fn demo(member: portico_sdk::AffectedMember) {
/// let blocked_by_mfa = member.findings.iter().any(|f| f.rule == "mfa");
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AffectedMember {
    pub organization_membership_id: String,
    pub user_id: String,
    pub email: String,
    pub findings: Vec<Finding>,
    pub sessions_ended_by_enforce_now: u64,
}

/// One reason in an [`AffectedMember`]: the rule (`mfa`, `ip_allowlist`, …), the error code the
/// member would meet, and a sentence for people.
///
/// ```no_run
/// # fn demo(finding: portico_sdk::Finding) {
/// println!("{} → {}: {}", finding.rule, finding.code, finding.message);
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Finding {
    pub rule: String,
    pub code: String,
    pub message: String,
}
