//! The signed-in user as a verified access token describes them.

use std::time::SystemTime;

/// Who is calling, read from a verified Portico access token.
///
/// ```
/// # use portico_sdk::Session;
/// fn can_publish(session: &Session) -> bool {
///     session.organization_id.is_some() && session.has_permission("posts:publish")
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// `user_…`
    pub user_id: String,
    /// `session_…`: what sign-out and the organization switcher act on.
    pub session_id: String,
    /// The organization the session is in, when it is in one.
    pub organization_id: Option<String>,
    /// The primary role's slug in that organization.
    pub role: Option<String>,
    /// Every role's slug in that organization.
    pub roles: Vec<String>,
    /// The union of what those roles permit.
    pub permissions: Vec<String>,
    /// Who is impersonating the user, when someone is.
    pub impersonator: Option<String>,
    /// When the access token stops being accepted.
    pub expires_at: SystemTime,
    /// The token's `jti`.
    pub token_id: Option<String>,
}

impl Session {
    /// Whether the session's roles permit `permission` in its organization.
    ///
    /// ```
    /// # let session = portico_sdk::Session::example();
    /// assert!(session.has_permission("posts:read"));
    /// assert!(!session.has_permission("billing:manage"));
    /// ```
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }

    /// Whether the session holds the role `slug` in its organization.
    ///
    /// ```
    /// # let session = portico_sdk::Session::example();
    /// assert!(session.has_role("member"));
    /// ```
    pub fn has_role(&self, slug: &str) -> bool {
        self.role.as_deref() == Some(slug) || self.roles.iter().any(|r| r == slug)
    }

    /// A session for documentation and tests: a `member` of `org_01EXAMPLE` who may read posts.
    ///
    /// ```
    /// let session = portico_sdk::Session::example();
    /// assert_eq!(session.organization_id.as_deref(), Some("org_01EXAMPLE"));
    /// ```
    pub fn example() -> Session {
        Session {
            user_id: "user_01EXAMPLE".to_owned(),
            session_id: "session_01EXAMPLE".to_owned(),
            organization_id: Some("org_01EXAMPLE".to_owned()),
            role: Some("member".to_owned()),
            roles: vec!["member".to_owned()],
            permissions: vec!["posts:read".to_owned()],
            impersonator: None,
            expires_at: crate::client::wall_clock() + std::time::Duration::from_secs(300),
            token_id: None,
        }
    }
}
