//! Email: messages are rendered and written to the outbox in the transaction of the change that
//! sends them, then delivered by a worker through a `Mailer` (SMTP, or the dev mailbox when
//! Portico runs in dev mode without SMTP). Bodies are sealed at rest: they carry codes and links.

use crate::App;
use crate::branding::Branding;
use crate::error::{Error, Result};
use crate::i18n::Catalog;
use askama::Template;
use base64::Engine;
use portico_domain::Timestamp;
use portico_store::Conn;
use portico_store::email_outbox::OutboxEmail;
use serde::{Deserialize, Serialize};

/// How long a worker holds a message before another may try it.
const LEASE_MS: i64 = 60_000;
/// Attempts before a message is given up (the last waits about an hour).
pub const MAX_ATTEMPTS: i64 = 8;

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailBody {
    pub text: String,
    pub html: String,
}

/// Delivers one message. Implementations: SMTP, the dev mailbox.
#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, to: &str, subject: &str, body: &EmailBody) -> std::result::Result<(), String>;
    /// Whether delivered messages are shown on the dev mailbox page instead of leaving the machine.
    fn is_dev_mailbox(&self) -> bool {
        false
    }
}

/// Whether `text` is a sender such as `Acme <no-reply@acme.com>`.
pub fn is_valid_sender(text: &str) -> bool {
    text.parse::<lettre::message::Mailbox>().is_ok()
}

/// Dev mode without SMTP: a message is delivered by being listed on `/_dev/mail`.
pub struct DevMailbox;

#[async_trait::async_trait]
impl Mailer for DevMailbox {
    async fn send(&self, _to: &str, _subject: &str, _body: &EmailBody) -> std::result::Result<(), String> {
        Ok(())
    }

    fn is_dev_mailbox(&self) -> bool {
        true
    }
}

/// SMTP through lettre, with a connection pool and TLS as the URL asks
/// (`smtp://host:25`, `smtp://user:pass@host:587?tls=required`, `smtps://host:465`).
pub struct SmtpMailer {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl SmtpMailer {
    pub fn new(url: &str, from: &str) -> std::result::Result<Self, String> {
        let transport = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
            .map_err(|e| format!("email.smtp_url is not a usable SMTP URL: {e}"))?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        let from = from.parse().map_err(|e| format!("email.from is not an email address ({e})"))?;
        Ok(SmtpMailer { transport, from })
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, to: &str, subject: &str, body: &EmailBody) -> std::result::Result<(), String> {
        use lettre::AsyncTransport;
        use lettre::message::{Message, MultiPart};
        let to = to.parse().map_err(|e| format!("recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(None)
            .date_now()
            .multipart(MultiPart::alternative_plain_html(body.text.clone(), body.html.clone()))
            .map_err(|e| e.to_string())?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| e.to_string())
    }
}

#[derive(Template)]
#[template(path = "email/message.txt")]
struct TextEmail<'a> {
    heading: &'a str,
    paragraphs: &'a [String],
    code: Option<&'a str>,
    action: Option<(&'a str, &'a str)>,
    footer: &'a str,
    branding: &'a Branding,
}

#[derive(Template)]
#[template(path = "email/message.html")]
struct HtmlEmail<'a> {
    lang: &'a str,
    heading: &'a str,
    paragraphs: &'a [String],
    code: Option<&'a str>,
    action: Option<(&'a str, &'a str)>,
    footer: &'a str,
    branding: &'a Branding,
    on_primary: &'a str,
}

/// What a message says, before it is rendered in the recipient's language.
pub enum Content<'a> {
    /// A code to verify the email address.
    VerificationCode { code: &'a str },
    /// A code to sign in with.
    MagicCode { code: &'a str },
    /// A link to choose a new password.
    PasswordReset { url: &'a str },
    /// An invitation, to an organization when it has a name.
    Invitation { url: &'a str, organization: Option<&'a str>, inviter: Option<&'a str> },
    /// Someone tried to sign up with an address that already has an account.
    AlreadyRegistered { sign_in_url: &'a str },
    /// An organization will require a second factor from `deadline`; the member has none yet.
    MfaReminder { organization: &'a str, deadline: Timestamp },
}

/// The subject and rendered body of a message.
pub fn render(content: &Content<'_>, t: &Catalog, branding: &Branding) -> Result<(String, EmailBody)> {
    let product = branding.product_name.as_str();
    let p = |key: &str| t.format(key, &[("product", product)]);
    // (message key, paragraphs, the code shown large, the button's label and link)
    type Parts<'c> = (&'static str, Vec<String>, Option<&'c str>, Option<(String, &'c str)>);
    let (kind, paragraphs, code, action): Parts<'_> = match content {
        Content::VerificationCode { code } => ("verify", vec![p("email.verify.intro")], Some(code), None),
        Content::MagicCode { code } => ("magic", vec![p("email.magic.intro")], Some(code), None),
        Content::PasswordReset { url } => {
            ("reset", vec![p("email.reset.intro")], None, Some((p("email.reset.action"), url)))
        }
        Content::Invitation { url, organization, inviter } => {
            let invited = match (organization, inviter) {
                (Some(org), Some(who)) => t.format(
                    "email.invite.intro_org_by",
                    &[("organization", org), ("inviter", who), ("product", product)],
                ),
                (Some(org), None) => t.format("email.invite.intro_org", &[("organization", org), ("product", product)]),
                (None, _) => p("email.invite.intro"),
            };
            ("invite", vec![invited], None, Some((p("email.invite.action"), url)))
        }
        Content::AlreadyRegistered { sign_in_url } => {
            ("registered", vec![p("email.registered.intro")], None, Some((p("email.registered.action"), sign_in_url)))
        }
        Content::MfaReminder { organization, deadline } => {
            let date = deadline.to_string();
            let day = date.get(..10).unwrap_or(&date);
            let intro = t.format(
                "email.mfa_reminder.intro",
                &[("organization", organization), ("date", day), ("product", product)],
            );
            ("mfa_reminder", vec![intro, p("email.mfa_reminder.how")], None, None)
        }
    };
    let subject = p(&format!("email.{kind}.subject"));
    let heading = p(&format!("email.{kind}.heading"));
    let footer = p(&format!("email.{kind}.footer"));
    let action = action.as_ref().map(|(label, url)| (label.as_str(), *url));
    let text = TextEmail { heading: &heading, paragraphs: &paragraphs, code, action, footer: &footer, branding }
        .render()
        .map_err(|e| Error::Internal(format!("rendering an email: {e}")))?;
    let html = HtmlEmail {
        lang: t.lang,
        heading: &heading,
        paragraphs: &paragraphs,
        code,
        action,
        footer: &footer,
        branding,
        on_primary: branding.on_primary_color(),
    }
    .render()
    .map_err(|e| Error::Internal(format!("rendering an email: {e}")))?;
    Ok((subject, EmailBody { text, html }))
}

fn seal_body(app: &App, id: &str, body: &EmailBody) -> Result<String> {
    let plain = serde_json::to_vec(body).map_err(|e| Error::Internal(e.to_string()))?;
    let sealed = app.sealer.seal(&plain, id).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(sealed))
}

fn open_body(app: &App, email: &OutboxEmail) -> Result<EmailBody> {
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(&email.body_sealed)
        .map_err(|e| Error::Internal(format!("outbox email {}: {e}", email.id)))?;
    let plain = app.sealer.open(&sealed, &email.id).map_err(|e| Error::Internal(e.to_string()))?;
    serde_json::from_slice(&plain).map_err(|e| Error::Internal(e.to_string()))
}

/// Renders `content` for `to` in `lang` and writes it to the outbox, inside the caller's
/// transaction: the message exists exactly when the change that sends it does.
pub(crate) async fn enqueue(app: &App, conn: Conn<'_>, to: &str, lang: &str, content: &Content<'_>) -> Result<()> {
    let (subject, body) = render(content, crate::i18n::catalog(lang), &app.settings.branding)?;
    let now = app.now();
    let id = format!("email_{}", app.ids.next_ulid(now));
    let email = OutboxEmail {
        body_sealed: seal_body(app, &id, &body)?,
        id,
        recipient: to.to_owned(),
        subject,
        attempts: 0,
        next_attempt_at: now.unix_ms(),
        last_error: None,
        sent_at: None,
        failed_at: None,
        created_at: now.unix_ms(),
    };
    portico_store::email_outbox::insert(conn, &email).await?;
    app.outbox_wakeup.notify_one();
    Ok(())
}

/// How long to wait before attempt `attempts + 1`: 5 s, 10 s, 20 s … capped at an hour.
fn backoff_ms(attempts: i64) -> i64 {
    let exponent = u32::try_from(attempts.clamp(1, 10) - 1).unwrap_or(0);
    (5_000_i64 << exponent).min(3_600_000)
}

/// Delivers the messages that are due; returns how many were sent. Safe to run on every node.
pub async fn deliver_due(app: &App) -> Result<usize> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let claimed = portico_store::email_outbox::claim_due(tx.conn(), now, now.plus_ms(LEASE_MS), 16).await?;
    tx.commit().await?;
    let mut sent = 0;
    for email in claimed {
        let outcome = match open_body(app, &email) {
            Ok(body) => app.mailer.send(&email.recipient, &email.subject, &body).await,
            Err(error) => Err(error.to_string()),
        };
        let at = app.now();
        let mut tx = app.db.begin().await?;
        match outcome {
            Ok(()) => {
                portico_store::email_outbox::mark_sent(tx.conn(), &email.id, at).await?;
                sent += 1;
            }
            Err(error) => {
                let retry = (email.attempts < MAX_ATTEMPTS).then(|| at.plus_ms(backoff_ms(email.attempts)));
                tracing::warn!(email = %email.id, attempt = email.attempts, gave_up = retry.is_none(), %error, "email delivery failed");
                portico_store::email_outbox::mark_failed(tx.conn(), &email.id, &error, retry, at).await?;
            }
        }
        tx.commit().await?;
    }
    Ok(sent)
}

/// Delivers outbox messages until the process stops: whenever this node queues one, and every
/// few seconds for retries and for messages other nodes queued.
pub async fn run_outbox_worker(app: App) {
    loop {
        // Policy reminders become outbox messages here, so they ride the same delivery.
        if let Err(error) = crate::policies::send_due_reminders(&app).await {
            tracing::warn!(%error, "sending policy reminders failed; retrying");
        }
        match deliver_due(&app).await {
            // A full batch may mean more are waiting.
            Ok(sent) if sent >= 16 => continue,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "the email outbox worker failed; retrying"),
        }
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), app.outbox_wakeup.notified()).await;
    }
}

/// A message as the dev mailbox shows it.
#[derive(Debug, Clone, Serialize)]
pub struct MailboxEntry {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub status: &'static str,
    pub created_at: Timestamp,
}

/// The newest messages, opened, for the dev mailbox.
pub async fn mailbox(app: &App, limit: i64) -> Result<Vec<MailboxEntry>> {
    let mut reader = app.db.read().await?;
    let emails = portico_store::email_outbox::recent(reader.conn(), limit).await?;
    drop(reader);
    emails
        .into_iter()
        .map(|email| {
            let body = open_body(app, &email)?;
            let status = match (email.sent_at, email.failed_at) {
                (Some(_), _) => "delivered",
                (None, Some(_)) => "failed",
                (None, None) => "queued",
            };
            Ok(MailboxEntry {
                id: email.id,
                to: email.recipient,
                subject: email.subject,
                text: body.text,
                html: body.html,
                status,
                created_at: Timestamp::from_unix_ms(email.created_at),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff_ms(1), 5_000);
        assert_eq!(backoff_ms(2), 10_000);
        assert_eq!(backoff_ms(4), 40_000);
        assert_eq!(backoff_ms(12), 2_560_000);
        assert!(backoff_ms(100) <= 3_600_000);
    }

    #[test]
    fn emails_have_both_parts_and_keep_codes_out_of_subjects() {
        let branding = Branding::default();
        for lang in ["en", "fr"] {
            let t = crate::i18n::catalog(lang);
            let (subject, body) = render(&Content::MagicCode { code: "123456" }, t, &branding).unwrap();
            assert!(!subject.contains("123456"));
            assert!(body.text.contains("123456") && body.html.contains("123456"));
            assert!(body.html.contains(&format!("lang=\"{lang}\"")));
            let (_, body) = render(
                &Content::Invitation { url: "https://x.test/i?t=<a>", organization: Some("A&B"), inviter: None },
                t,
                &branding,
            )
            .unwrap();
            assert!(body.html.contains("A&#38;B") || body.html.contains("A&amp;B"), "{}", body.html);
            assert!(!body.html.contains("<a>"));
        }
    }
}
