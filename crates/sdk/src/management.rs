//! A typed client for Portico's management API: organizations, users, memberships, roles,
//! invitations and permission checks. Server-side only: it authenticates with the API key.

use crate::error::{Error, read_empty, read_json};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The management API, from [`crate::Portico::management`].
///
/// ```no_run
/// # async fn demo(portico: portico_sdk::Portico) -> Result<(), portico_sdk::Error> {
/// let api = portico.management()?;
/// let members = api.list_memberships(&portico_sdk::ListMemberships::organization("org_01H…")).await?;
/// for member in members.data {
///     println!("{} is {}", member.user.map(|u| u.email).unwrap_or_default(), member.role.slug);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Management {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
}

impl std::fmt::Debug for Management {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Management").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

/// One page of a list, with the cursors for the next and previous pages.
///
/// ```no_run
/// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
/// use portico_sdk::ListMemberships;
///
/// let mut query = ListMemberships::organization("org_01H…").limit(100);
/// loop {
///     let page = api.list_memberships(&query).await?;
///     for membership in &page.data {
///         println!("{} is {}", membership.user_id, membership.role.slug);
///     }
///     match page.list_metadata.after {
///         Some(cursor) => query = query.after(cursor),
///         None => break,
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Deserialize)]
pub struct List<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub list_metadata: ListMetadata,
}

/// The cursors of a [`List`]: pass `after` to the next request for the next page.
///
/// ```no_run
/// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
/// let page = api.list_memberships(&portico_sdk::ListMemberships::organization("org_01H…")).await?;
/// if let Some(cursor) = &page.list_metadata.after {
///     println!("{} members shown, more after {cursor}", page.data.len());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListMetadata {
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A Portico user.
///
/// ```no_run
/// # async fn demo(api: portico_sdk::Management, session: portico_sdk::Session) -> Result<(), portico_sdk::Error> {
/// let user = api.get_user(&session.user_id).await?;
/// println!("{} <{}>, verified: {}", user.display_name(), user.email, user.email_verified);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
    pub profile_picture_url: Option<String>,
    pub external_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl User {
    /// "First Last", or the email when no name is known.
    ///
    /// ```
    /// # let mut user = portico_sdk::User { id: "user_1".into(), email: "ada@example.com".into(),
    /// #   first_name: None, last_name: None, email_verified: true, profile_picture_url: None,
    /// #   external_id: None, created_at: String::new(), updated_at: String::new() };
    /// assert_eq!(user.display_name(), "ada@example.com");
    /// user.first_name = Some("Ada".into());
    /// assert_eq!(user.display_name(), "Ada");
    /// ```
    pub fn display_name(&self) -> String {
        let name = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if name.is_empty() { self.email.clone() } else { name }
    }
}

/// An organization.
///
/// ```no_run
/// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
/// let organization = api.create_organization("Acme").await?;
/// assert!(organization.id.starts_with("org_"));
/// println!("{} created at {}", organization.name, organization.created_at);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub external_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A role as memberships name it.
///
/// ```no_run
/// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
/// let membership = api.get_membership("om_01H…").await?;
/// let slugs: Vec<&str> = membership.roles.iter().map(|role| role.slug.as_str()).collect();
/// println!("primary role {}, all roles {slugs:?}", membership.role.slug);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct RoleSlug {
    pub slug: String,
}

/// A user's membership in an organization.
///
/// ```no_run
/// # async fn demo(api: portico_sdk::Management, session: portico_sdk::Session) -> Result<(), portico_sdk::Error> {
/// use portico_sdk::ListMemberships;
///
/// let page = api.list_memberships(&ListMemberships::user(&session.user_id).limit(100)).await?;
/// for membership in page.data.iter().filter(|m| m.status == "active") {
///     let name = membership.organization_name.as_deref().unwrap_or(&membership.organization_id);
///     println!("{name}: {}", membership.role.slug);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Membership {
    pub id: String,
    pub user_id: String,
    pub organization_id: String,
    #[serde(default)]
    pub organization_name: Option<String>,
    /// `active`, `inactive` or `pending`.
    pub status: String,
    /// The primary role.
    pub role: RoleSlug,
    #[serde(default)]
    pub roles: Vec<RoleSlug>,
    /// The member, when the API embeds them (lists and gets do).
    pub user: Option<User>,
    pub created_at: String,
    pub updated_at: String,
}

/// A role and what it permits.
///
/// ```no_run
/// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
/// for role in api.list_organization_roles("org_01H…").await? {
///     println!("{} ({}, {}): {}", role.name, role.slug, role.kind, role.permissions.join(", "));
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Role {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    /// `EnvironmentRole` or `OrganizationRole`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// An invitation to join Portico, or an organization.
///
/// ```no_run
/// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
/// let page = api.list_invitations("org_01H…").await?;
/// for invitation in page.data.iter().filter(|i| i.state == "pending") {
///     println!("{} as {:?}, until {}", invitation.email, invitation.role_slug, invitation.expires_at);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Invitation {
    pub id: String,
    pub email: String,
    /// `pending`, `accepted`, `revoked` or `expired`.
    pub state: String,
    pub organization_id: Option<String>,
    pub role_slug: Option<String>,
    pub expires_at: String,
    pub accept_invitation_url: String,
    pub created_at: String,
}

/// A user's passkey, registered on Portico's hosted pages.
///
/// ```no_run
/// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
/// for passkey in api.list_passkeys("user_01H…").await? {
///     let used = passkey.last_used_at.as_deref().unwrap_or("never");
///     println!("{} (synced: {}), last used {used}", passkey.name, passkey.synced);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Passkey {
    pub id: String,
    pub user_id: String,
    /// Where it was made, e.g. "Safari on iPhone".
    pub name: String,
    /// Synced to the user's other devices by their platform or password manager.
    pub synced: bool,
    pub last_used_at: Option<String>,
    pub created_at: String,
}

/// Which memberships to list.
///
/// ```
/// let query = portico_sdk::ListMemberships::organization("org_01H…").limit(50);
/// # drop(query);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ListMemberships {
    organization_id: Option<String>,
    user_id: Option<String>,
    statuses: Vec<String>,
    limit: Option<u32>,
    after: Option<String>,
}

impl ListMemberships {
    /// The members of an organization (active ones unless [`ListMemberships::statuses`] says otherwise).
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// let members = api.list_memberships(&portico_sdk::ListMemberships::organization("org_01H…")).await?;
    /// for member in &members.data {
    ///     println!("{} is {}", member.user.as_ref().map_or("?", |user| user.email.as_str()), member.role.slug);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn organization(id: impl Into<String>) -> Self {
        ListMemberships { organization_id: Some(id.into()), ..Default::default() }
    }

    /// The organizations a user belongs to.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management, session: portico_sdk::Session) -> Result<(), portico_sdk::Error> {
    /// let query = portico_sdk::ListMemberships::user(&session.user_id).limit(100);
    /// let page = api.list_memberships(&query).await?;
    /// let organizations: Vec<String> = page.data.into_iter().map(|m| m.organization_id).collect();
    /// # drop(organizations); Ok(()) }
    /// ```
    pub fn user(id: impl Into<String>) -> Self {
        ListMemberships { user_id: Some(id.into()), ..Default::default() }
    }

    /// Only memberships in these states (`active`, `inactive`, `pending`).
    ///
    /// ```
    /// let query = portico_sdk::ListMemberships::organization("org_01H…").statuses(&["active", "pending"]);
    /// # drop(query);
    /// ```
    /// Narrows a user's memberships to one organization (at most one membership matches).
    ///
    /// ```
    /// let query = portico_sdk::ListMemberships::user("user_01H…").in_organization("org_01H…");
    /// # drop(query);
    /// ```
    pub fn in_organization(mut self, id: impl Into<String>) -> Self {
        self.organization_id = Some(id.into());
        self
    }

    pub fn statuses(mut self, statuses: &[&str]) -> Self {
        self.statuses = statuses.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    /// Page size, 1 to 100 (default 10).
    ///
    /// ```
    /// let query = portico_sdk::ListMemberships::user("user_01H…").limit(100);
    /// # drop(query);
    /// ```
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The page after this cursor (`list_metadata.after` of the previous page).
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// use portico_sdk::ListMemberships;
    ///
    /// let first = api.list_memberships(&ListMemberships::organization("org_01H…")).await?;
    /// if let Some(cursor) = first.list_metadata.after {
    ///     let second = api.list_memberships(&ListMemberships::organization("org_01H…").after(cursor)).await?;
    ///     println!("{} more", second.data.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn after(mut self, cursor: impl Into<String>) -> Self {
        self.after = Some(cursor.into());
        self
    }
}

/// An invitation to send.
///
/// ```
/// let invite = portico_sdk::SendInvitation::new("grace@example.com").organization("org_01H…").role("member");
/// # drop(invite);
/// ```
#[derive(Debug, Clone, Default, Serialize)]
pub struct SendInvitation {
    email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    organization_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_slug: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inviter_user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in_days: Option<u32>,
}

impl SendInvitation {
    /// An invitation to `email`: to Portico only, unless [`SendInvitation::organization`] names one.
    ///
    /// ```
    /// let invitation = portico_sdk::SendInvitation::new("grace@example.com");
    /// assert_eq!(serde_json::to_value(&invitation).unwrap(), serde_json::json!({"email": "grace@example.com"}));
    /// ```
    pub fn new(email: impl Into<String>) -> Self {
        SendInvitation { email: email.into(), ..Default::default() }
    }

    /// The organization the invitation is to.
    ///
    /// ```
    /// let invitation = portico_sdk::SendInvitation::new("grace@example.com").organization("org_01H…");
    /// assert_eq!(serde_json::to_value(&invitation).unwrap()["organization_id"], "org_01H…");
    /// ```
    pub fn organization(mut self, id: impl Into<String>) -> Self {
        self.organization_id = Some(id.into());
        self
    }

    /// The role the invitee gets in the organization (the environment's default role otherwise).
    ///
    /// ```
    /// let invitation = portico_sdk::SendInvitation::new("grace@example.com").organization("org_01H…").role("admin");
    /// assert_eq!(serde_json::to_value(&invitation).unwrap()["role_slug"], "admin");
    /// ```
    pub fn role(mut self, slug: impl Into<String>) -> Self {
        self.role_slug = Some(slug.into());
        self
    }

    /// Shown in the email as who invited them.
    ///
    /// ```
    /// let session = portico_sdk::Session::example();
    /// let invitation = portico_sdk::SendInvitation::new("grace@example.com").inviter(&session.user_id);
    /// assert_eq!(serde_json::to_value(&invitation).unwrap()["inviter_user_id"], "user_01EXAMPLE");
    /// ```
    pub fn inviter(mut self, user_id: impl Into<String>) -> Self {
        self.inviter_user_id = Some(user_id.into());
        self
    }

    /// 1 to 30 days (default 7).
    ///
    /// ```
    /// let invitation = portico_sdk::SendInvitation::new("grace@example.com").expires_in_days(14);
    /// assert_eq!(serde_json::to_value(&invitation).unwrap()["expires_in_days"], 14);
    /// ```
    pub fn expires_in_days(mut self, days: u32) -> Self {
        self.expires_in_days = Some(days);
        self
    }
}

/// One answer of [`Management::check_permissions`].
///
/// ```no_run
/// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
/// let checks = api.check_permissions("om_01H…", &["posts:read", "posts:write", "posts:publish"]).await?;
/// let granted: Vec<&str> = checks.iter().filter(|c| c.authorized).map(|c| c.permission_slug.as_str()).collect();
/// println!("may {}", granted.join(", "));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct PermissionCheck {
    pub permission_slug: String,
    pub authorized: bool,
}

fn segment(id: &str) -> String {
    // Ids are `prefix_ULID`; anything else is encoded so it cannot change the path.
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Management {
    pub(crate) fn new(http: reqwest::Client, base_url: String, api_key: String) -> Self {
        Management { http, base_url, api_key }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> Result<T, Error> {
        read_json(self.http.get(self.url(path)).bearer_auth(&self.api_key).query(query).send().await?).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
    ) -> Result<T, Error> {
        read_json(self.http.request(method, self.url(path)).bearer_auth(&self.api_key).json(&body).send().await?).await
    }

    /// An organization by id.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// let organization = api.get_organization("org_01H…").await?;
    /// println!("{} ({:?})", organization.name, organization.external_id);
    /// # Ok(()) }
    /// ```
    pub async fn get_organization(&self, id: &str) -> Result<Organization, Error> {
        self.get(&format!("/organizations/{}", segment(id)), &[]).await
    }

    /// Creates an organization.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// let organization = api.create_organization("Acme").await?;
    /// println!("created {}", organization.id);
    /// # Ok(()) }
    /// ```
    pub async fn create_organization(&self, name: &str) -> Result<Organization, Error> {
        self.send(reqwest::Method::POST, "/organizations", json!({ "name": name })).await
    }

    /// A user by id.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// let user = api.get_user("user_01H…").await?;
    /// println!("{} <{}>", user.display_name(), user.email);
    /// # Ok(()) }
    /// ```
    pub async fn get_user(&self, id: &str) -> Result<User, Error> {
        self.get(&format!("/user_management/users/{}", segment(id)), &[]).await
    }

    /// The user with this email address, if there is one.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// match api.find_user_by_email("grace@example.com").await? {
    ///     Some(user) => println!("already signed up as {}", user.id),
    ///     None => println!("no such user yet: invite them"),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn find_user_by_email(&self, email: &str) -> Result<Option<User>, Error> {
        let page: List<User> = self.get("/user_management/users", &[("email", email.to_owned())]).await?;
        Ok(page.data.into_iter().next())
    }

    /// A page of memberships, each with its user.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// use portico_sdk::ListMemberships;
    ///
    /// let page = api.list_memberships(&ListMemberships::organization("org_01H…").statuses(&["pending"])).await?;
    /// for membership in page.data {
    ///     println!("{} has not accepted yet", membership.user.map(|u| u.email).unwrap_or(membership.user_id));
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list_memberships(&self, query: &ListMemberships) -> Result<List<Membership>, Error> {
        let mut pairs = Vec::new();
        if let Some(org) = &query.organization_id {
            pairs.push(("organization_id", org.clone()));
        }
        if let Some(user) = &query.user_id {
            pairs.push(("user_id", user.clone()));
        }
        for status in &query.statuses {
            pairs.push(("statuses", status.clone()));
        }
        if let Some(limit) = query.limit {
            pairs.push(("limit", limit.to_string()));
        }
        if let Some(after) = &query.after {
            pairs.push(("after", after.clone()));
        }
        self.get("/user_management/organization_memberships", &pairs).await
    }

    /// A membership by id.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// let membership = api.get_membership("om_01H…").await?;
    /// println!("{} in {}: {}", membership.user_id, membership.organization_id, membership.status);
    /// # Ok(()) }
    /// ```
    pub async fn get_membership(&self, id: &str) -> Result<Membership, Error> {
        self.get(&format!("/user_management/organization_memberships/{}", segment(id)), &[]).await
    }

    /// Adds a user to an organization with a role (the environment's default role when `None`).
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// let membership = api.create_membership("user_01H…", "org_01H…", Some("admin")).await?;
    /// assert_eq!(membership.role.slug, "admin");
    /// # Ok(()) }
    /// ```
    pub async fn create_membership(
        &self,
        user_id: &str,
        organization_id: &str,
        role_slug: Option<&str>,
    ) -> Result<Membership, Error> {
        let mut body = json!({ "user_id": user_id, "organization_id": organization_id });
        if let Some(role) = role_slug {
            body["role_slug"] = json!(role);
        }
        self.send(reqwest::Method::POST, "/user_management/organization_memberships", body).await
    }

    /// Gives a member another role. Their next token (at the latest on refresh) carries it;
    /// permission checks see it at once.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// let membership = api.update_membership_role("om_01H…", "admin").await?;
    /// assert_eq!(membership.role.slug, "admin");
    /// # Ok(()) }
    /// ```
    pub async fn update_membership_role(&self, id: &str, role_slug: &str) -> Result<Membership, Error> {
        self.send(
            reqwest::Method::PUT,
            &format!("/user_management/organization_memberships/{}", segment(id)),
            json!({ "role_slug": role_slug }),
        )
        .await
    }

    /// Removes a member from the organization; their sessions there end.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// api.delete_membership("om_01H…").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_membership(&self, id: &str) -> Result<(), Error> {
        let path = format!("/user_management/organization_memberships/{}", segment(id));
        read_empty(self.http.delete(self.url(&path)).bearer_auth(&self.api_key).send().await?).await
    }

    /// A user's passkeys, oldest first.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// let passkeys = api.list_passkeys("user_01H…").await?;
    /// println!("{} passkeys", passkeys.len());
    /// # Ok(()) }
    /// ```
    pub async fn list_passkeys(&self, user_id: &str) -> Result<Vec<Passkey>, Error> {
        let list: List<Passkey> =
            self.get(&format!("/user_management/users/{}/passkeys", segment(user_id)), &[]).await?;
        Ok(list.data)
    }

    /// Removes a passkey (a user who lost the device, say): it stops signing in at once.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// api.delete_passkey("passkey_01H…").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_passkey(&self, id: &str) -> Result<(), Error> {
        let path = format!("/user_management/passkeys/{}", segment(id));
        read_empty(self.http.delete(self.url(&path)).bearer_auth(&self.api_key).send().await?).await
    }

    /// The roles that apply in an organization: the environment's and the organization's own.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// let roles = api.list_organization_roles("org_01H…").await?;
    /// let assignable: Vec<&str> = roles.iter().map(|role| role.slug.as_str()).collect();
    /// println!("roles: {}", assignable.join(", "));
    /// # Ok(()) }
    /// ```
    pub async fn list_organization_roles(&self, organization_id: &str) -> Result<Vec<Role>, Error> {
        let list: List<Role> =
            self.get(&format!("/authorization/organizations/{}/roles", segment(organization_id)), &[]).await?;
        Ok(list.data)
    }

    /// The environment's roles (those every organization has).
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// let roles = api.list_environment_roles().await?;
    /// if !roles.iter().any(|role| role.slug == "editor") {
    ///     api.create_environment_role("editor", "Editor", "Writes and publishes posts").await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list_environment_roles(&self) -> Result<Vec<Role>, Error> {
        let list: List<Role> = self.get("/authorization/roles", &[]).await?;
        Ok(list.data)
    }

    /// Creates an environment role.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// let role = api.create_environment_role("editor", "Editor", "Writes and publishes posts").await?;
    /// assert_eq!(role.slug, "editor");
    /// # Ok(()) }
    /// ```
    pub async fn create_environment_role(&self, slug: &str, name: &str, description: &str) -> Result<Role, Error> {
        self.send(
            reqwest::Method::POST,
            "/authorization/roles",
            json!({ "slug": slug, "name": name, "description": description }),
        )
        .await
    }

    /// Replaces what an environment role permits. Checks see the change at once; tokens on
    /// their next refresh.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// let permissions = ["posts:read", "posts:write", "posts:publish"];
    /// let role = api.set_environment_role_permissions("editor", &permissions).await?;
    /// assert_eq!(role.permissions.len(), 3);
    /// # Ok(()) }
    /// ```
    pub async fn set_environment_role_permissions(&self, slug: &str, permissions: &[&str]) -> Result<Role, Error> {
        self.send(
            reqwest::Method::PUT,
            &format!("/authorization/roles/{}/permissions", segment(slug)),
            json!({ "permissions": permissions }),
        )
        .await
    }

    /// Creates a permission unless one with this slug exists; returns whether it created it.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// // At start-up: make sure the permissions the app checks exist.
    /// for (slug, name) in [("posts:read", "Read posts"), ("posts:write", "Write posts")] {
    ///     if api.ensure_permission(slug, name).await? {
    ///         println!("created {slug}");
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn ensure_permission(&self, slug: &str, name: &str) -> Result<bool, Error> {
        let created: Result<serde_json::Value, Error> =
            self.send(reqwest::Method::POST, "/authorization/permissions", json!({ "slug": slug, "name": name })).await;
        match created {
            Ok(_) => Ok(true),
            Err(error) if error.status() == Some(409) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Sends an invitation email.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// use portico_sdk::SendInvitation;
    ///
    /// let invitation = api
    ///     .send_invitation(&SendInvitation::new("grace@example.com").organization("org_01H…").role("member"))
    ///     .await?;
    /// println!("sent {} (or share {})", invitation.id, invitation.accept_invitation_url);
    /// # Ok(()) }
    /// ```
    pub async fn send_invitation(&self, invitation: &SendInvitation) -> Result<Invitation, Error> {
        let body = serde_json::to_value(invitation).map_err(|e| Error::Config(e.to_string()))?;
        self.send(reqwest::Method::POST, "/user_management/invitations", body).await
    }

    /// Invitations to an organization, newest first.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// let page = api.list_invitations("org_01H…").await?;
    /// let pending = page.data.iter().filter(|invitation| invitation.state == "pending").count();
    /// println!("{pending} pending");
    /// # Ok(()) }
    /// ```
    pub async fn list_invitations(&self, organization_id: &str) -> Result<List<Invitation>, Error> {
        self.get(
            "/user_management/invitations",
            &[("organization_id", organization_id.to_owned()), ("order", "desc".to_owned())],
        )
        .await
    }

    /// An invitation by id.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// let invitation = api.get_invitation("invitation_01H…").await?;
    /// println!("{} is {}", invitation.email, invitation.state);
    /// # Ok(()) }
    /// ```
    pub async fn get_invitation(&self, id: &str) -> Result<Invitation, Error> {
        self.get(&format!("/user_management/invitations/{}", segment(id)), &[]).await
    }

    /// Revokes a pending invitation.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// let invitation = api.revoke_invitation("invitation_01H…").await?;
    /// assert_eq!(invitation.state, "revoked");
    /// # Ok(()) }
    /// ```
    pub async fn revoke_invitation(&self, id: &str) -> Result<Invitation, Error> {
        self.send(reqwest::Method::POST, &format!("/user_management/invitations/{}/revoke", segment(id)), json!({}))
            .await
    }

    /// Whether a membership holds a permission now (answered from Portico's role cache, which
    /// every node keeps current).
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management, session: portico_sdk::Session) -> Result<(), portico_sdk::Error> {
    /// use portico_sdk::ListMemberships;
    ///
    /// // The session names the user and the organization; the check wants their membership.
    /// let memberships = api.list_memberships(&ListMemberships::user(&session.user_id).limit(100)).await?;
    /// let membership = memberships.data.iter().find(|m| Some(&m.organization_id) == session.organization_id.as_ref());
    /// if let Some(membership) = membership
    ///     && api.check_permission(&membership.id, "billing:manage").await?
    /// {
    ///     println!("{} may manage billing right now", session.user_id);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn check_permission(&self, membership_id: &str, permission: &str) -> Result<bool, Error> {
        #[derive(Deserialize)]
        struct Answer {
            authorized: bool,
        }
        let answer: Answer = self
            .send(
                reqwest::Method::POST,
                &format!("/authorization/organization_memberships/{}/check", segment(membership_id)),
                json!({ "permission_slug": permission }),
            )
            .await?;
        Ok(answer.authorized)
    }

    /// Whether a signed-in session's user holds a permission in the session's organization
    /// now, whatever their token says (it may be minutes old): finds their membership, then
    /// asks Portico. `false` for a session in no organization or a membership that has ended.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management, session: portico_sdk::Session) -> Result<(), portico_sdk::Error> {
    /// if !api.session_has_permission(&session, "billing:manage").await? {
    ///     return Ok(()); // refuse: the role changed since the token was issued
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn session_has_permission(&self, session: &crate::Session, permission: &str) -> Result<bool, Error> {
        let Some(organization) = &session.organization_id else { return Ok(false) };
        let query = ListMemberships::user(&session.user_id).in_organization(organization).limit(1);
        match self.list_memberships(&query).await?.data.into_iter().next() {
            Some(membership) => self.check_permission(&membership.id, permission).await,
            None => Ok(false),
        }
    }

    /// Many permissions at once, answered in the order asked (at most 100).
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// let asked = ["posts:read", "posts:write"];
    /// let checks = api.check_permissions("om_01H…", &asked).await?;
    /// for (permission, check) in asked.iter().zip(&checks) {
    ///     assert_eq!(*permission, check.permission_slug);
    ///     println!("{permission}: {}", check.authorized);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn check_permissions(
        &self,
        membership_id: &str,
        permissions: &[&str],
    ) -> Result<Vec<PermissionCheck>, Error> {
        let list: List<PermissionCheck> = self
            .send(
                reqwest::Method::POST,
                &format!("/authorization/organization_memberships/{}/checks", segment(membership_id)),
                json!({ "permission_slugs": permissions }),
            )
            .await?;
        Ok(list.data)
    }

    /// An organization's sign-in policy.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// let policy = api.organization_policy("org_01H…").await?;
    /// println!("MFA required: {}", policy.mfa.required);
    /// # Ok(()) }
    /// ```
    pub async fn organization_policy(&self, organization_id: &str) -> Result<crate::OrganizationPolicy, Error> {
        self.get(&format!("/organizations/{}/policy", segment(organization_id)), &[]).await
    }

    /// Replaces an organization's sign-in policy; the answer counts the sessions ended when the
    /// change asked to [enforce now](crate::PolicyChange::enforce_now). A rule looser than the
    /// environment allows, or a malformed one, is [`Error::Api`] with status 422 naming it.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// use portico_sdk::PolicyChange;
    ///
    /// let saved = api.set_organization_policy("org_01H…", &PolicyChange::new().require_mfa(7)).await?;
    /// println!("members without a second factor are stopped from {:?}", saved.mfa.enforced_from);
    /// # Ok(()) }
    /// ```
    pub async fn set_organization_policy(
        &self,
        organization_id: &str,
        change: &crate::PolicyChange,
    ) -> Result<crate::OrganizationPolicy, Error> {
        let body = change.to_body();
        self.send(reqwest::Method::PUT, &format!("/organizations/{}/policy", segment(organization_id)), body).await
    }

    /// Who a proposed policy would stop, and why, without saving it.
    ///
    /// ```no_run
    /// # async fn demo(api: portico_sdk::Management) -> Result<(), portico_sdk::Error> {
    /// use portico_sdk::PolicyChange;
    ///
    /// let report = api.dry_run_organization_policy("org_01H…", &PolicyChange::new().require_mfa(0)).await?;
    /// println!("{} members have no second factor yet", report.affected_member_count);
    /// # Ok(()) }
    /// ```
    pub async fn dry_run_organization_policy(
        &self,
        organization_id: &str,
        change: &crate::PolicyChange,
    ) -> Result<crate::PolicyReport, Error> {
        let body = change.to_body();
        self.send(reqwest::Method::POST, &format!("/organizations/{}/policy/dry_run", segment(organization_id)), body)
            .await
    }
}
