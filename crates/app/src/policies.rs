//! Organization sign-in policies: reading and writing them (with "enforce now"), the dry-run
//! report, MFA grace reminders, and the checks the grants, the hosted pages and refreshes make
//! through the domain's one evaluation function.

use crate::error::{AuthError, Error, Result};
use crate::organizations::parse_organization_id;
use crate::sessions::Origin;
use crate::{App, events};
use portico_domain::event::names;
use portico_domain::policy::{
    Ceilings, Checkpoint, Decision, Facts, Method, Policy, PolicyInput, PolicyView, Refusal, StepUp, evaluate,
};
use portico_domain::session::{AuthMethod, Session};
use portico_domain::{OrganizationId, Timestamp, UserId};
use portico_store::Conn;
use serde::Serialize;
use std::net::IpAddr;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// `GET /organizations/{id}/policy`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "object", rename = "organization_policy")]
pub struct PolicyObject {
    pub organization_id: OrganizationId,
    #[serde(flatten)]
    pub policy: PolicyView,
    /// `null` until the organization's admin first saves a policy.
    pub created_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
}

/// What `PUT /organizations/{id}/policy` did besides saving.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyUpdate {
    #[serde(flatten)]
    pub policy: PolicyObject,
    /// Sessions ended because the request asked to enforce the policy now.
    pub revoked_session_count: usize,
}

/// The method a session's `auth_method` names, as policies name it.
pub(crate) fn method_of(auth_method: &str) -> Method {
    match AuthMethod::parse_session_name(auth_method) {
        Some(AuthMethod::MagicCode) => Method::MagicAuth,
        Some(AuthMethod::Passkey) => Method::Passkey,
        _ => Method::Password,
    }
}

fn ceilings(app: &App) -> Ceilings {
    let limits = app.settings.session_limits;
    Ceilings { max_session_lifetime_ms: limits.absolute_ms, idle_timeout_ms: limits.idle_ms }
}

pub(crate) async fn policy_of(conn: Conn<'_>, organization: &OrganizationId) -> Result<Option<Policy>> {
    match portico_store::organization_policies::get(conn, organization).await? {
        Some(row) => Policy::from_stored(&row.policy).map(Some).map_err(Error::Internal),
        None => Ok(None),
    }
}

async fn organization_exists(app: &App, id: &str) -> Result<OrganizationId> {
    let organization = parse_organization_id(id)?;
    let mut reader = app.db.read().await?;
    if portico_store::organizations::get(reader.conn(), &organization).await?.is_none() {
        return Err(Error::not_found("Organization", id));
    }
    Ok(organization)
}

pub async fn get(app: &App, organization_id: &str) -> Result<PolicyObject> {
    let organization = organization_exists(app, organization_id).await?;
    let mut reader = app.db.read().await?;
    let row = portico_store::organization_policies::get(reader.conn(), &organization).await?;
    let policy = match &row {
        Some(row) => Policy::from_stored(&row.policy).map_err(Error::Internal)?,
        None => Policy::default(),
    };
    Ok(PolicyObject {
        organization_id: organization,
        policy: policy.view(),
        created_at: row.as_ref().map(|r| Timestamp::from_unix_ms(r.created_at)),
        updated_at: row.as_ref().map(|r| Timestamp::from_unix_ms(r.updated_at)),
    })
}

/// Splits a request body into the policy and the `enforce_now` flag, naming what is wrong.
fn parse_body(mut body: serde_json::Value) -> Result<(PolicyInput, bool)> {
    let Some(object) = body.as_object_mut() else {
        return Err(Error::invalid("body", "invalid_body", "The body must be a JSON object."));
    };
    let enforce_now = match object.remove("enforce_now") {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::Bool(flag)) => flag,
        Some(_) => return Err(Error::invalid("enforce_now", "invalid_boolean", "enforce_now must be true or false.")),
    };
    let input = serde_path_to_error::deserialize::<_, PolicyInput>(body).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        Error::invalid(&field, "invalid_policy", e.into_inner().to_string())
    })?;
    Ok((input, enforce_now))
}

/// Builds the policy a request proposes, checked against the environment and the organization.
async fn proposed(app: &App, organization: &OrganizationId, input: PolicyInput) -> Result<(Option<Policy>, Policy)> {
    let mut reader = app.db.read().await?;
    let previous = policy_of(reader.conn(), organization).await?;
    let members = portico_store::organization_policies::active_members(reader.conn(), organization).await?;
    let auto_join_role_exists = match &input.auto_join {
        Some(auto_join) => crate::memberships::role_exists(reader.conn(), organization, &auto_join.role_slug).await?,
        None => true,
    };
    drop(reader);
    let policy = input.into_policy(
        app.now(),
        ceilings(app),
        previous.as_ref(),
        |user| members.iter().any(|m| m.user_id == user.as_str()),
        |_| auto_join_role_exists,
    )?;
    Ok((previous, policy))
}

/// Saves an organization's policy. With `enforce_now`, live sessions in the organization that
/// the new policy rules out end at once (their users are told why when they next sign in);
/// otherwise the policy applies from each member's next sign-in, refresh or switch.
pub async fn put(app: &App, organization_id: &str, body: serde_json::Value) -> Result<PolicyUpdate> {
    let organization = organization_exists(app, organization_id).await?;
    let (input, enforce_now) = parse_body(body)?;
    let (previous, policy) = proposed(app, &organization, input).await?;
    let now = app.now();
    let ruled_out = if enforce_now { sessions_ruled_out(app, &organization, &policy).await? } else { Vec::new() };
    let mut tx = app.db.begin().await?;
    portico_store::organization_policies::put(tx.conn(), &organization, &policy.to_stored(), now).await?;
    schedule_reminders(app, tx.conn(), &organization, &policy).await?;
    let revoked_session_count = ruled_out.len();
    for (session, decision) in ruled_out {
        let reason = format!("policy:{}", decision.error_code().unwrap_or("policy"));
        crate::sessions::end_all(app, tx.conn(), vec![session], &reason).await?;
    }
    let data = serde_json::json!({
        "organization_id": organization,
        "before": previous.unwrap_or_default().view(),
        "after": policy.view(),
        "enforced_now": enforce_now,
        "revoked_session_count": revoked_session_count,
    });
    events::record(app, tx.conn(), names::ORGANIZATION_POLICY_UPDATED, &data, Some(&organization)).await?;
    tx.commit().await?;
    Ok(PolicyUpdate { policy: get(app, organization_id).await?, revoked_session_count })
}

/// The facts of a live session, as a sign-in would present them again.
fn session_facts(session: &Session, has_second_factor: bool, now: Timestamp, checkpoint: Checkpoint) -> Facts {
    Facts {
        now,
        checkpoint,
        user_id: session.user_id.clone(),
        has_second_factor,
        method: method_of(&session.auth_method),
        authenticated_at: session.created_at,
        second_factor_verified: session.mfa_verified_at.is_some(),
        last_active_at: session.last_active_at,
        ip: parse_ip(session.ip_address.as_deref()),
    }
}

fn parse_ip(text: Option<&str>) -> Option<IpAddr> {
    text.and_then(|t| t.trim().parse().ok())
}

/// Live sessions in the organization that `policy` would stop at their next sign-in.
async fn sessions_ruled_out(
    app: &App,
    organization: &OrganizationId,
    policy: &Policy,
) -> Result<Vec<(Session, Decision)>> {
    let now = app.now();
    let mut reader = app.db.read().await?;
    let sessions = portico_store::sessions::active_in_organization_all(reader.conn(), organization).await?;
    let mut out = Vec::new();
    for session in sessions.into_iter().filter(|s| s.is_live(now, app.settings.session_limits)) {
        let has_factor = portico_store::auth_factors::has_verified(reader.conn(), &session.user_id).await?;
        let facts = session_facts(&session, has_factor, now, Checkpoint::SignIn);
        let decision = evaluate(&app.settings.environment_policy, Some(policy), &facts);
        if decision != Decision::Allow {
            out.push((session, decision));
        }
    }
    Ok(out)
}

/// One reason a member would be stopped.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MemberReport {
    pub organization_membership_id: String,
    pub user_id: String,
    pub email: String,
    pub findings: Vec<Finding>,
    /// This member's live sessions that "enforce now" would end.
    pub sessions_ended_by_enforce_now: usize,
}

/// `POST /organizations/{id}/policy/dry_run`: who a proposed policy would stop, and why.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "object", rename = "organization_policy_dry_run")]
pub struct DryRun {
    pub organization_id: OrganizationId,
    pub policy: PolicyView,
    pub member_count: usize,
    pub affected_member_count: usize,
    /// Only the members the policy would affect.
    pub members: Vec<MemberReport>,
    pub sessions_ended_by_enforce_now: usize,
}

fn finding_for(decision: &Decision) -> Option<Finding> {
    let (rule, message) = match decision {
        Decision::Allow => return None,
        Decision::StepUp(StepUp::MfaChallenge) => ("mfa", "Must verify with their second factor.".to_owned()),
        Decision::StepUp(StepUp::MfaEnrollment) => ("mfa", "Has no second factor and must enroll one.".to_owned()),
        Decision::StepUp(StepUp::Reauthenticate) => {
            ("reauthentication_interval", "Signed in longer ago than the re-authentication interval.".to_owned())
        }
        Decision::Refuse(Refusal::MethodNotAllowed { allowed }) => (
            "allowed_authentication_methods",
            format!(
                "Signed in with a method the policy does not allow (allowed: {}).",
                allowed.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")
            ),
        ),
        Decision::Refuse(Refusal::IpNotAllowed) => {
            ("ip_allowlist", "Signed in from outside the allowed networks.".to_owned())
        }
        Decision::Refuse(Refusal::SessionLifetimeExceeded) => {
            ("session.max_lifetime_seconds", "Has a session older than the maximum lifetime.".to_owned())
        }
        Decision::Refuse(Refusal::SessionIdle) => {
            ("session.idle_timeout_seconds", "Has a session idle longer than the idle timeout.".to_owned())
        }
    };
    Some(Finding { rule, code: decision.error_code().unwrap_or("policy"), message })
}

pub async fn dry_run(app: &App, organization_id: &str, body: serde_json::Value) -> Result<DryRun> {
    let organization = organization_exists(app, organization_id).await?;
    let (input, _) = parse_body(body)?;
    let (_, policy) = proposed(app, &organization, input).await?;
    let now = app.now();
    let ruled_out = sessions_ruled_out(app, &organization, &policy).await?;
    let mut reader = app.db.read().await?;
    let members = portico_store::organization_policies::active_members(reader.conn(), &organization).await?;
    drop(reader);
    let mut reports = Vec::new();
    for member in &members {
        let mut findings = Vec::new();
        if policy.mfa_required && !member.has_second_factor {
            let message = match policy.mfa_grace_until(now) {
                Some(until) => {
                    let date = until.to_string();
                    format!(
                        "Has no second factor; must enroll one from {} (end of the grace period).",
                        date.get(..10).unwrap_or(&date)
                    )
                }
                None => "Has no second factor; must enroll one at their next sign-in.".to_owned(),
            };
            findings.push(Finding { rule: "mfa", code: "mfa_enrollment", message });
        }
        let theirs: Vec<_> = ruled_out.iter().filter(|(s, _)| s.user_id.as_str() == member.user_id).collect();
        for (_, decision) in &theirs {
            if let Some(finding) = finding_for(decision)
                && !findings.iter().any(|f| f.rule == finding.rule)
            {
                findings.push(finding);
            }
        }
        if !findings.is_empty() {
            reports.push(MemberReport {
                organization_membership_id: member.membership_id.clone(),
                user_id: member.user_id.clone(),
                email: member.email.clone(),
                findings,
                sessions_ended_by_enforce_now: theirs.len(),
            });
        }
    }
    Ok(DryRun {
        organization_id: organization,
        policy: policy.view(),
        member_count: members.len(),
        affected_member_count: reports.len(),
        members: reports,
        sessions_ended_by_enforce_now: ruled_out.len(),
    })
}

/// Replaces the organization's pending reminders: while an MFA grace period runs, each member
/// without a second factor is reminded now and a day before the grace ends.
async fn schedule_reminders(
    app: &App,
    mut conn: Conn<'_>,
    organization: &OrganizationId,
    policy: &Policy,
) -> Result<()> {
    portico_store::organization_policies::cancel_reminders(conn.reborrow(), organization).await?;
    let now = app.now();
    let Some(deadline) = policy.mfa_grace_until(now) else { return Ok(()) };
    let members = portico_store::organization_policies::active_members(conn.reborrow(), organization).await?;
    let last_call = deadline.plus_ms(-DAY_MS);
    for member in members.iter().filter(|m| !m.has_second_factor) {
        let mut due = vec![now];
        if last_call.unix_ms() > now.plus_ms(DAY_MS / 2).unix_ms() {
            due.push(last_call);
        }
        for due_at in due {
            let reminder = portico_store::organization_policies::ReminderRow {
                id: app.ids.next_ulid(now).to_string(),
                organization_id: organization.to_string(),
                user_id: member.user_id.clone(),
                due_at: due_at.unix_ms(),
                deadline: deadline.unix_ms(),
            };
            portico_store::organization_policies::insert_reminder(conn.reborrow(), &reminder, now).await?;
        }
    }
    app.outbox_wakeup.notify_one();
    Ok(())
}

/// Sends the reminders that are due, to members who still have no second factor while the
/// grace still runs; safe on every node (each reminder is claimed once). Returns how many went.
pub async fn send_due_reminders(app: &App) -> Result<usize> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let due = portico_store::organization_policies::claim_due_reminders(tx.conn(), now, 32).await?;
    let mut sent = 0;
    for reminder in due {
        let organization = OrganizationId::from_trusted(reminder.organization_id.clone());
        let user = UserId::from_trusted(reminder.user_id.clone());
        let policy = policy_of(tx.conn(), &organization).await?;
        let still_in_grace =
            policy.is_some_and(|p| p.mfa_grace_until(now) == Some(Timestamp::from_unix_ms(reminder.deadline)));
        let Some(member) = portico_store::users::get(tx.conn(), &user).await? else { continue };
        let Some(org) = portico_store::organizations::get(tx.conn(), &organization).await? else { continue };
        if !still_in_grace || portico_store::auth_factors::has_verified(tx.conn(), &user).await? {
            continue;
        }
        let deadline = Timestamp::from_unix_ms(reminder.deadline);
        let lang = member.locale.clone().unwrap_or_else(|| "en".to_owned());
        let content = crate::mail::Content::MfaReminder { organization: &org.name, deadline };
        crate::mail::enqueue(app, tx.conn(), member.email.as_str(), &lang, &content).await?;
        sent += 1;
    }
    tx.commit().await?;
    Ok(sent)
}

/// What a session is, for a check: how and when its user proved who they are.
#[derive(Debug, Clone)]
pub(crate) struct Proof {
    pub method: Method,
    pub authenticated_at: Timestamp,
    pub mfa_verified: bool,
    pub last_active_at: Timestamp,
}

impl Proof {
    /// A sign-in finishing now.
    pub fn fresh(app: &App, method: AuthMethod, mfa_verified: bool) -> Proof {
        let now = app.now();
        let method = method_of(method.session_name());
        Proof { method, authenticated_at: now, mfa_verified, last_active_at: now }
    }

    /// A live session.
    pub fn of(session: &Session) -> Proof {
        Proof {
            method: method_of(&session.auth_method),
            authenticated_at: session.created_at,
            mfa_verified: session.mfa_verified_at.is_some(),
            last_active_at: session.last_active_at,
        }
    }
}

/// Checks the environment's and, when given, the organization's policy for `user` at a
/// checkpoint. Reads the organization's policy and, only when a rule needs it, whether the user
/// has a second factor.
pub(crate) async fn check(
    app: &App,
    checkpoint: Checkpoint,
    user: &UserId,
    organization: Option<&OrganizationId>,
    proof: &Proof,
    origin: &Origin,
) -> Result<Decision> {
    let mut reader = app.db.read().await?;
    check_in(app, reader.conn(), checkpoint, user, organization, proof, origin).await
}

/// [`check`] on a connection the caller already holds (the refresh path reads the session on it).
pub(crate) async fn check_in(
    app: &App,
    mut conn: Conn<'_>,
    checkpoint: Checkpoint,
    user: &UserId,
    organization: Option<&OrganizationId>,
    proof: &Proof,
    origin: &Origin,
) -> Result<Decision> {
    let policy = match organization {
        Some(org) => policy_of(conn.reborrow(), org).await?,
        None => None,
    };
    let environment = &app.settings.environment_policy;
    let mut facts = Facts {
        now: app.now(),
        checkpoint,
        user_id: user.clone(),
        has_second_factor: false,
        method: proof.method,
        authenticated_at: proof.authenticated_at,
        second_factor_verified: proof.mfa_verified,
        last_active_at: proof.last_active_at,
        ip: parse_ip(origin.ip_address.as_deref()),
    };
    let mut decision = evaluate(environment, policy.as_ref(), &facts);
    if decision == Decision::StepUp(StepUp::MfaEnrollment) {
        facts.has_second_factor = portico_store::auth_factors::has_verified(conn, user).await?;
        decision = evaluate(environment, policy.as_ref(), &facts);
    }
    Ok(decision)
}

/// Joins a user whose email is verified to the organization that verified their email's domain,
/// when its policy turns auto-join on. A membership that exists in any state (a deactivated one
/// included: an admin ended it) is left as it is.
pub(crate) async fn auto_join(app: &App, user: &portico_domain::user::User) -> Result<()> {
    if !user.email_verified {
        return Ok(());
    }
    let Some((_, domain)) = user.email.as_str().rsplit_once('@') else { return Ok(()) };
    let mut reader = app.db.read().await?;
    let Some(found) =
        portico_store::organization_domains::find_by_domain(reader.conn(), &domain.to_ascii_lowercase()).await?
    else {
        return Ok(());
    };
    if found.state != portico_domain::organization_domain::DomainState::Verified {
        return Ok(());
    }
    let organization = found.organization_id;
    let role = policy_of(reader.conn(), &organization).await?.and_then(|p| p.auto_join_role);
    let Some(role) = role else { return Ok(()) };
    if portico_store::memberships::find_state(reader.conn(), &user.id, &organization).await?.is_some() {
        return Ok(());
    }
    drop(reader);
    let input = crate::input::CreateMembership {
        organization_id: Some(organization.to_string()),
        user_id: Some(user.id.to_string()),
        role_slug: Some(role),
        role_slugs: None,
    };
    match crate::memberships::create(app, input).await {
        // A concurrent sign-in joined first.
        Ok(_) | Err(Error::Conflict { .. }) => Ok(()),
        // The role was deleted or the domain is no longer allowed since the policy was saved:
        // the sign-in goes on without joining.
        Err(Error::Invalid(invalid)) => {
            tracing::warn!(%organization, %invalid, "auto-join skipped");
            Ok(())
        }
        Err(other) => Err(other),
    }
}

/// When the organization's MFA grace period ends, if it is running and the user has no second
/// factor yet (the hosted pages offer a set-up then).
pub(crate) async fn grace_deadline(
    app: &App,
    organization: &OrganizationId,
    user: &UserId,
) -> Result<Option<Timestamp>> {
    let mut reader = app.db.read().await?;
    let Some(deadline) = policy_of(reader.conn(), organization).await?.and_then(|p| p.mfa_grace_until(app.now()))
    else {
        return Ok(None);
    };
    let enrolled = portico_store::auth_factors::has_verified(reader.conn(), user).await?;
    Ok((!enrolled).then_some(deadline))
}

/// Refuses someone joining an organization (membership, invitation) whose email address is
/// not at one of the domains its policy allows; `field` names the request field to blame.
pub(crate) async fn check_joining(
    conn: Conn<'_>,
    organization: &OrganizationId,
    email: &str,
    field: &str,
) -> Result<()> {
    let Some(policy) = policy_of(conn, organization).await? else { return Ok(()) };
    if policy.allows_email(email) {
        return Ok(());
    }
    let allowed = policy.allowed_email_domains.iter().flatten().cloned().collect::<Vec<_>>().join(", ");
    Err(Error::invalid(
        field,
        "email_domain_not_allowed",
        format!("The organization only accepts members with an email address at {allowed}."),
    ))
}

/// The refusal a policy decision makes at a sign-in, when it is one (step-ups are the caller's).
pub(crate) fn refusal(decision: &Decision, email: &str) -> Option<Error> {
    let Decision::Refuse(refusal) = decision else { return None };
    let code = decision.error_code().unwrap_or("access_denied");
    let (message, allowed) = match refusal {
        Refusal::MethodNotAllowed { allowed } => (
            "The organization requires another sign-in method.".to_owned(),
            Some(allowed.iter().map(|m| m.as_str()).collect()),
        ),
        Refusal::IpNotAllowed => ("The organization does not allow sign-in from this network.".to_owned(), None),
        Refusal::SessionLifetimeExceeded | Refusal::SessionIdle => {
            ("The session has ended under the organization's policy; sign in again.".to_owned(), None)
        }
    };
    Some(Error::Auth(AuthError::PolicyRefused { code, message, email: email.to_owned(), allowed_methods: allowed }))
}
