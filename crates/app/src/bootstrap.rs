//! First start of an environment: an API key, a client, and the `admin` and `member` roles.

use crate::error::{Error, Result};
use crate::{App, api_keys, clients};
use portico_domain::role::{ADMIN_SLUG, MEMBER_SLUG, ORGANIZATION_RESOURCE_TYPE, Role, RoleType};
use portico_store::settings;

/// What a bootstrap produced. The API key secret is shown once.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    pub api_key: String,
    pub client_id: String,
    pub redirect_uris: Vec<String>,
    /// True when this call created the environment; false when it only minted a new key.
    pub created: bool,
}

pub async fn is_bootstrapped(app: &App) -> Result<bool> {
    let mut reader = app.db.read().await?;
    Ok(settings::get(reader.conn(), settings::BOOTSTRAPPED_AT).await?.is_some())
}

/// Creates the environment if it is fresh. Returns `None` when it already existed.
pub async fn bootstrap_if_fresh(app: &App, redirect_uris: &[String]) -> Result<Option<Bootstrap>> {
    let now = app.now();
    // Claim the bootstrap first so that two nodes starting together do not both create one.
    let mut tx = app.db.begin().await?;
    if settings::get(tx.conn(), settings::BOOTSTRAPPED_AT).await?.is_some() {
        return Ok(None);
    }
    settings::set(tx.conn(), settings::BOOTSTRAPPED_AT, &now.to_string(), now).await?;
    for (slug, name, description) in [
        (ADMIN_SLUG, "Admin", "Manages the organization and its members."),
        (MEMBER_SLUG, "Member", "Belongs to the organization."),
    ] {
        if portico_store::roles::get_environment_role(tx.conn(), slug).await?.is_none() {
            let role = Role {
                id: app.new_id(),
                name: name.to_owned(),
                slug: slug.to_owned(),
                description: Some(description.to_owned()),
                role_type: RoleType::EnvironmentRole,
                resource_type_slug: ORGANIZATION_RESOURCE_TYPE.to_owned(),
                organization_id: None,
                permissions: Vec::new(),
                created_at: now,
                updated_at: now,
            };
            portico_store::roles::insert(tx.conn(), &role).await?;
        }
    }
    tx.commit().await?;
    let key = api_keys::create(app, "Default").await?;
    let client = clients::create(app, "Default", redirect_uris, &[]).await?;
    Ok(Some(Bootstrap {
        api_key: key.secret,
        client_id: client.id.to_string(),
        redirect_uris: client.redirect_uris,
        created: true,
    }))
}

/// Bootstraps a fresh environment, or, for an existing one, mints a new API key next to its first
/// client, so a script always gets credentials it can use.
pub async fn bootstrap_or_new_key(app: &App, redirect_uris: &[String]) -> Result<Bootstrap> {
    if let Some(created) = bootstrap_if_fresh(app, redirect_uris).await? {
        return Ok(created);
    }
    let client = clients::list(app).await?.into_iter().next().ok_or_else(|| {
        Error::Internal("the environment has no client; create one with `portico clients create`".into())
    })?;
    let key = api_keys::create(app, "Bootstrap").await?;
    Ok(Bootstrap {
        api_key: key.secret,
        client_id: client.id.to_string(),
        redirect_uris: client.redirect_uris,
        created: false,
    })
}

/// Checks that the configured default role exists as an environment role.
pub async fn check_default_role(app: &App) -> Result<()> {
    let mut reader = app.db.read().await?;
    let slug = &app.settings.default_role_slug;
    if portico_store::roles::get_environment_role(reader.conn(), slug).await?.is_none() {
        return Err(Error::invalid(
            "default_role",
            "role_not_found",
            format!(
                "the default role '{slug}' is not an environment role; create it or set roles.default_role to an existing one"
            ),
        ));
    }
    Ok(())
}
