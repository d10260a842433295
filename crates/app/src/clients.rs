//! OAuth clients: their exact redirect URIs and the browser origins allowed to call Portico.

use crate::App;
use crate::error::{Error, Result};
use portico_domain::ClientId;
use portico_domain::client::{check_origin, check_redirect_uri};
use portico_domain::validation::{Checker, required_text};
use portico_store::clients::ClientRecord;

fn check_lists(checker: &mut Checker, redirect_uris: &[String], origins: &[String]) -> (Vec<String>, Vec<String>) {
    let mut uris = Vec::new();
    for uri in redirect_uris {
        if let Some(uri) = checker.check(check_redirect_uri("redirect_uri", uri))
            && !uris.contains(&uri)
        {
            uris.push(uri);
        }
    }
    let mut allowed = Vec::new();
    for origin in origins {
        if let Some(origin) = checker.check(check_origin("allowed_origin", origin))
            && !allowed.contains(&origin)
        {
            allowed.push(origin);
        }
    }
    (uris, allowed)
}

pub async fn create(app: &App, name: &str, redirect_uris: &[String], origins: &[String]) -> Result<ClientRecord> {
    let mut checker = Checker::new();
    let name = checker.check(required_text("name", Some(name), 128));
    let (redirect_uris, allowed_origins) = check_lists(&mut checker, redirect_uris, origins);
    checker.finish()?;
    let name = name.ok_or_else(|| Error::Internal("validated fields missing".into()))?;
    let now = app.now();
    let client =
        ClientRecord { id: app.new_id(), name, redirect_uris, allowed_origins, created_at: now, updated_at: now };
    let mut tx = app.db.begin().await?;
    portico_store::clients::insert(tx.conn(), &client).await?;
    tx.commit().await?;
    Ok(client)
}

/// Changes to a client's lists: URIs and origins to add and to remove.
#[derive(Debug, Default, Clone)]
pub struct ClientChanges {
    pub name: Option<String>,
    pub add_redirect_uris: Vec<String>,
    pub remove_redirect_uris: Vec<String>,
    pub add_origins: Vec<String>,
    pub remove_origins: Vec<String>,
}

pub async fn update(app: &App, id: &str, changes: ClientChanges) -> Result<ClientRecord> {
    let client_id = ClientId::parse(id).ok_or_else(|| Error::not_found("Client", id))?;
    let mut checker = Checker::new();
    let name = changes.name.as_deref().and_then(|n| checker.check(required_text("name", Some(n), 128)));
    let (add_uris, add_origins) = check_lists(&mut checker, &changes.add_redirect_uris, &changes.add_origins);
    checker.finish()?;
    let mut tx = app.db.begin().await?;
    let mut client =
        portico_store::clients::get(tx.conn(), &client_id).await?.ok_or_else(|| Error::not_found("Client", id))?;
    for uri in &changes.remove_redirect_uris {
        if !client.redirect_uris.contains(uri) {
            return Err(Error::invalid(
                "redirect_uri",
                "redirect_uri_not_found",
                format!("{uri} is not a redirect URI of this client"),
            ));
        }
    }
    for origin in &changes.remove_origins {
        if !client.allowed_origins.contains(origin) {
            return Err(Error::invalid(
                "allowed_origin",
                "origin_not_found",
                format!("{origin} is not an allowed origin of this client"),
            ));
        }
    }
    client.redirect_uris.retain(|u| !changes.remove_redirect_uris.contains(u));
    client.allowed_origins.retain(|o| !changes.remove_origins.contains(o));
    for uri in add_uris {
        if !client.redirect_uris.contains(&uri) {
            client.redirect_uris.push(uri);
        }
    }
    for origin in add_origins {
        if !client.allowed_origins.contains(&origin) {
            client.allowed_origins.push(origin);
        }
    }
    if let Some(name) = name {
        client.name = name;
    }
    client.updated_at = app.now();
    portico_store::clients::update(tx.conn(), &client).await?;
    tx.commit().await?;
    Ok(client)
}

/// Whether `id` names a client of this environment.
pub async fn exists(app: &App, id: &str) -> Result<bool> {
    let Some(client_id) = ClientId::parse(id) else { return Ok(false) };
    let mut reader = app.db.read().await?;
    Ok(portico_store::clients::get(reader.conn(), &client_id).await?.is_some())
}

pub async fn list(app: &App) -> Result<Vec<ClientRecord>> {
    let mut reader = app.db.read().await?;
    Ok(portico_store::clients::list(reader.conn()).await?)
}

/// Whether browser code at `origin` (`https://app.example.com`) may call the auth-flow
/// endpoints: it must be an allowed origin of some client, exactly.
pub async fn is_allowed_origin(app: &App, origin: &str) -> Result<bool> {
    Ok(list(app).await?.iter().any(|client| client.allowed_origins.iter().any(|allowed| allowed == origin)))
}

/// Whether Portico may send a browser to `url` after sign-out: it must share its origin with a
/// redirect URI or an allowed origin of some client.
pub async fn is_allowed_return_to(app: &App, url: &str) -> Result<bool> {
    let Ok(origin) = check_origin("return_to", &origin_of(url)) else { return Ok(false) };
    for client in list(app).await? {
        let redirect_origins =
            client.redirect_uris.iter().filter_map(|u| check_origin("redirect_uri", &origin_of(u)).ok());
        if redirect_origins.chain(client.allowed_origins.iter().cloned()).any(|o| o == origin) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `scheme://host[:port]` of an absolute URL, or an empty string.
fn origin_of(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return String::new() };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    format!("{scheme}://{authority}")
}
