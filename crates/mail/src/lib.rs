//! SMTP sending: the server's configuration, and the MIME message built from a queued mail.
//!
//! The only crate that knows lettre. It sends one [`MailMessage`] at a time and keeps no
//! queue: mails wait in the database (`gouvernail_core::jobs`), and the worker of the web
//! crate hands them here one by one. See docs/MAIL.md for the choices.

use std::time::Duration;

use gouvernail_core::jobs::{MailAttachment, MailMessage, Recipient};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls as LettreTls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// Plain text (`aucun`): only for a relay on the same machine or network.
    None,
    /// Plain text, then STARTTLS, required (`starttls`, port 587 by default).
    StartTls,
    /// TLS from the first byte (`tls`, port 465 by default).
    Tls,
}

impl Tls {
    /// Reads `aucun`, `starttls` or `tls` (any case).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "aucun" => Some(Tls::None),
            "starttls" => Some(Tls::StartTls),
            "tls" => Some(Tls::Tls),
            _ => None,
        }
    }

    /// The word of `GOUVERNAIL_SMTP_TLS` for this mode.
    pub fn as_str(self) -> &'static str {
        match self {
            Tls::None => "aucun",
            Tls::StartTls => "starttls",
            Tls::Tls => "tls",
        }
    }

    /// The usual port of this mode: 25, 587 or 465.
    pub fn default_port(self) -> u16 {
        match self {
            Tls::None => 25,
            Tls::StartTls => 587,
            Tls::Tls => 465,
        }
    }
}

/// Where and as whom mails are sent. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    /// The account on the server; `None` sends without authentication.
    pub user: Option<String>,
    pub password: Option<String>,
    /// The sender of every mail (`From`, and the envelope's `MAIL FROM`).
    pub from: Recipient,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .finish()
    }
}

/// The environment variables of the SMTP configuration.
pub const ENV_HOST: &str = "GOUVERNAIL_SMTP_HOST";
pub const ENV_PORT: &str = "GOUVERNAIL_SMTP_PORT";
pub const ENV_TLS: &str = "GOUVERNAIL_SMTP_TLS";
pub const ENV_USER: &str = "GOUVERNAIL_SMTP_USER";
pub const ENV_PASSWORD: &str = "GOUVERNAIL_SMTP_PASSWORD";
pub const ENV_FROM: &str = "GOUVERNAIL_SMTP_FROM";

impl SmtpConfig {
    /// Reads the `GOUVERNAIL_SMTP_*` variables. `None` when `GOUVERNAIL_SMTP_HOST` is unset
    /// or empty: nothing is sent and mails stay queued.
    ///
    /// `_TLS` is `aucun`, `starttls` (default) or `tls`; `_PORT` defaults to the mode's usual
    /// port; `_USER` and `_PASSWORD` go together; `_FROM` (`Nom <adresse>` or `adresse`) is
    /// required. Each error names its variable.
    pub fn from_env() -> Result<Option<Self>, MailError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`SmtpConfig::from_env`] with the variables read by `var` (for tests).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, MailError> {
        let get = |name: &str| var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let Some(host) = get(ENV_HOST) else {
            return Ok(None);
        };
        if host.contains(['/', ' ', '@']) {
            return Err(MailError::config(
                ENV_HOST,
                format!("nom d'hôte invalide « {host} »"),
            ));
        }
        let tls = match get(ENV_TLS) {
            None => Tls::StartTls,
            Some(text) => Tls::parse(&text)
                .ok_or_else(|| MailError::config(ENV_TLS, format!("« {text} » : aucun, starttls ou tls")))?,
        };
        let port = match get(ENV_PORT) {
            None => tls.default_port(),
            Some(text) => text.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                MailError::config(ENV_PORT, format!("« {text} » n'est pas un numéro de port"))
            })?,
        };
        let user = get(ENV_USER);
        // A password may hold spaces at its ends: read it as given.
        let password = var(ENV_PASSWORD).filter(|p| !p.is_empty());
        match (&user, &password) {
            (Some(_), None) => {
                return Err(MailError::config(
                    ENV_PASSWORD,
                    format!("absent alors que {ENV_USER} est donné"),
                ));
            }
            (None, Some(_)) => {
                return Err(MailError::config(
                    ENV_USER,
                    format!("absent alors que {ENV_PASSWORD} est donné"),
                ));
            }
            _ => {}
        }
        let from_text = get(ENV_FROM).ok_or_else(|| {
            MailError::config(
                ENV_FROM,
                format!("l'expéditeur est requis quand {ENV_HOST} est donné"),
            )
        })?;
        let mailbox = from_text.parse::<Mailbox>().map_err(|e| {
            MailError::config(
                ENV_FROM,
                format!("« {from_text} » : {e} (attendu : Nom <adresse> ou adresse)"),
            )
        })?;
        Ok(Some(SmtpConfig {
            host,
            port,
            tls,
            user,
            password,
            from: Recipient {
                name: mailbox.name.unwrap_or_default(),
                email: mailbox.email.to_string(),
            },
        }))
    }
}

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A setting is wrong; names the environment variable.
    #[error("{variable} : {message}")]
    Config { variable: &'static str, message: String },
    /// The mail cannot be built (an address or a content type the library refuses): sending it
    /// again will not help.
    #[error("courriel impossible à construire : {0}")]
    Message(String),
    /// The server refused the mail, or could not be reached or spoken to.
    #[error("envoi SMTP : {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    /// The whole exchange took longer than the limit.
    #[error("envoi SMTP : aucune fin d'échange après {0} s")]
    Timeout(u64),
}

impl MailError {
    fn config(variable: &'static str, message: impl Into<String>) -> Self {
        MailError::Config {
            variable,
            message: message.into(),
        }
    }

    /// True when retrying cannot succeed (the mail itself is wrong). Refusals by the server,
    /// even permanent (5xx) ones, are retried: they are as often a setting of ours (sender,
    /// credentials) that a person will fix as a bad recipient.
    pub fn is_permanent(&self) -> bool {
        matches!(self, MailError::Message(_))
    }
}

/// The limit of the TCP connection to the server, so that an unreachable one fails the attempt
/// quickly.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The limit of a whole sending (connection, TLS, every command, the data), so that a server
/// that stops answering fails the attempt too: lettre's own timeout covers only the TCP
/// connection on tokio.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends mails through one SMTP server, with a small pool of connections. Cheap to share
/// behind a reference; build one per process.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    send_timeout: Duration,
}

impl Mailer {
    /// A mailer for `config`, with the default timeouts. Call it inside a Tokio runtime (the
    /// connection pool starts a task).
    pub fn new(config: &SmtpConfig) -> Result<Self, MailError> {
        Self::with_timeouts(config, CONNECT_TIMEOUT, SEND_TIMEOUT)
    }

    /// A mailer with other limits for the connection and for a whole sending.
    pub fn with_timeouts(config: &SmtpConfig, connect: Duration, send: Duration) -> Result<Self, MailError> {
        let (from, tls) = config.parts()?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.as_str())
            .port(config.port)
            .tls(tls)
            .timeout(Some(connect))
            .pool_config(
                PoolConfig::new()
                    .max_size(4)
                    .idle_timeout(Duration::from_secs(60)),
            );
        if let (Some(user), Some(password)) = (&config.user, &config.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
            send_timeout: send,
        })
    }

    /// Sends `msg` with this `Message-ID` (angle brackets included), to every recipient of
    /// `msg.to` in one message.
    pub async fn send(&self, msg: &MailMessage, message_id: &str) -> Result<(), MailError> {
        let message = build(&self.from, msg, message_id)?;
        match tokio::time::timeout(self.send_timeout, self.transport.send(message)).await {
            Ok(Ok(_response)) => Ok(()),
            Ok(Err(e)) => Err(MailError::Smtp(e)),
            Err(_) => Err(MailError::Timeout(self.send_timeout.as_secs())),
        }
    }
}

/// The message as the mailer would send it from `from` (RFC 5322 bytes), for tests and
/// previews; needs no server.
pub fn format_message(from: &Recipient, msg: &MailMessage, message_id: &str) -> Result<Vec<u8>, MailError> {
    let from = mailbox(from).map_err(|e| MailError::config(ENV_FROM, e))?;
    Ok(build(&from, msg, message_id)?.formatted())
}

impl SmtpConfig {
    /// Checks what can be checked without a connection (the sender's address, the host name
    /// for TLS), so that a bad setting stops the server at start.
    pub fn check(&self) -> Result<(), MailError> {
        self.parts().map(|_| ())
    }

    fn parts(&self) -> Result<(Mailbox, LettreTls), MailError> {
        let from = mailbox(&self.from).map_err(|e| MailError::config(ENV_FROM, e))?;
        let tls = match self.tls {
            Tls::None => LettreTls::None,
            Tls::StartTls => LettreTls::Required(tls_parameters(&self.host)?),
            Tls::Tls => LettreTls::Wrapper(tls_parameters(&self.host)?),
        };
        Ok((from, tls))
    }
}

fn tls_parameters(host: &str) -> Result<TlsParameters, MailError> {
    TlsParameters::new(host.to_owned())
        .map_err(|e| MailError::config(ENV_HOST, format!("paramètres TLS pour « {host} » : {e}")))
}

fn mailbox(r: &Recipient) -> Result<Mailbox, String> {
    let address = r
        .email
        .parse::<Address>()
        .map_err(|e| format!("adresse « {} » : {e}", r.email))?;
    let name = r.name.trim();
    Ok(Mailbox::new((!name.is_empty()).then(|| name.to_owned()), address))
}

fn content_type(text: &str) -> Result<ContentType, MailError> {
    ContentType::parse(text).map_err(|e| MailError::Message(format!("type « {text} » : {e}")))
}

/// `Auto-Submitted: auto-generated` (RFC 3834): out-of-office replies are not sent back.
const AUTO_SUBMITTED: HeaderName = HeaderName::new_from_ascii_str("Auto-Submitted");

/// The MIME structure:
///
/// ```text
/// multipart/mixed                      (only when there are attachments)
/// ├── multipart/alternative            (only when there is more than the text)
/// │   ├── text/plain
/// │   ├── text/html                    (when given)
/// │   └── text/calendar; method=…      (the first calendar attachment with a method)
/// └── each attachment; a calendar one as application/ics, named as given
/// ```
///
/// A calendar with a method is both an alternative of the body, which is where Outlook and
/// Gmail look for an invitation to show its answer buttons, and a plain `.ics` attachment,
/// which every other client can open or import.
fn build(from: &Mailbox, msg: &MailMessage, message_id: &str) -> Result<Message, MailError> {
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(msg.subject.clone())
        .message_id(Some(message_id.to_owned()))
        .date_now();
    for r in &msg.to {
        builder = builder.to(mailbox(r).map_err(MailError::Message)?);
    }
    let invitation = msg.attachments.iter().find(|a| is_itip(a));
    let mut alternatives = vec![SinglePart::plain(msg.text.clone())];
    if let Some(html) = &msg.html {
        alternatives.push(SinglePart::html(html.clone()));
    }
    if let Some(calendar) = invitation {
        alternatives.push(
            SinglePart::builder()
                .content_type(content_type(&calendar.content_type)?)
                .body(calendar.content.clone()),
        );
    }
    let body = if alternatives.len() == 1 {
        None
    } else {
        let mut parts = alternatives.into_iter();
        let mut multi = MultiPart::alternative().build();
        for part in parts.by_ref() {
            multi = multi.singlepart(part);
        }
        Some(multi)
    };
    let message = if msg.attachments.is_empty() {
        match body {
            Some(multi) => builder.multipart(multi),
            None => builder.singlepart(SinglePart::plain(msg.text.clone())),
        }
    } else {
        let mut mixed = match body {
            Some(multi) => MultiPart::mixed().multipart(multi),
            None => MultiPart::mixed().singlepart(SinglePart::plain(msg.text.clone())),
        };
        for a in &msg.attachments {
            let kind = if is_itip(a) {
                content_type("application/ics")?
            } else {
                content_type(&a.content_type)?
            };
            mixed = mixed.singlepart(Attachment::new(a.filename.clone()).body(a.content.clone(), kind));
        }
        builder.multipart(mixed)
    };
    let mut message = message.map_err(|e| MailError::Message(e.to_string()))?;
    message
        .headers_mut()
        .insert_raw(HeaderValue::new(AUTO_SUBMITTED, "auto-generated".to_owned()));
    Ok(message)
}

/// A calendar with an iTIP method (`text/calendar; method=REQUEST…`).
fn is_itip(a: &MailAttachment) -> bool {
    let lower = a.content_type.to_ascii_lowercase();
    lower.starts_with("text/calendar") && lower.contains("method=")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn config() -> SmtpConfig {
        SmtpConfig::from_vars(vars(&[
            (ENV_HOST, "127.0.0.1"),
            (ENV_TLS, "aucun"),
            (ENV_FROM, "Gouvernail <ne-pas-repondre@gouvernail.test>"),
        ]))
        .unwrap()
        .unwrap()
    }

    fn message(attachments: Vec<MailAttachment>, html: bool) -> MailMessage {
        MailMessage {
            to: vec![
                Recipient {
                    name: "Marie Dupont".into(),
                    email: "marie.dupont@ac-rennes.fr".into(),
                },
                Recipient {
                    name: String::new(),
                    email: "jean@example.test".into(),
                },
            ],
            subject: "Comité de pilotage : invitation".into(),
            text: "Bonjour,\nvous êtes invitée.".into(),
            html: html.then(|| "<p>Bonjour,</p><p>vous êtes invitée.</p>".into()),
            attachments,
        }
    }

    fn invitation() -> MailAttachment {
        MailAttachment {
            filename: "invitation.ics".into(),
            content_type: "text/calendar; method=REQUEST; charset=UTF-8".into(),
            content: "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n".into(),
        }
    }

    fn formatted(msg: &MailMessage) -> String {
        String::from_utf8(format_message(&config().from, msg, "<abc@gouvernail>").unwrap()).unwrap()
    }

    #[test]
    fn no_host_means_no_sending() {
        assert_eq!(SmtpConfig::from_vars(vars(&[])).unwrap(), None);
        assert_eq!(SmtpConfig::from_vars(vars(&[(ENV_HOST, "  ")])).unwrap(), None);
    }

    #[test]
    fn defaults_and_ports_follow_the_tls_mode() {
        let c = SmtpConfig::from_vars(vars(&[
            (ENV_HOST, "smtp.example.test"),
            (ENV_FROM, "a@example.test"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!((c.tls, c.port), (Tls::StartTls, 587));
        assert_eq!(c.from.email, "a@example.test");
        assert_eq!(c.from.name, "");
        let c = SmtpConfig::from_vars(vars(&[
            (ENV_HOST, "smtp.example.test"),
            (ENV_TLS, "TLS"),
            (ENV_USER, "u"),
            (ENV_PASSWORD, " secret "),
            (ENV_FROM, "Gouvernail <a@example.test>"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!((c.tls, c.port), (Tls::Tls, 465));
        assert_eq!(c.password.as_deref(), Some(" secret "));
        assert_eq!(c.from.name, "Gouvernail");
        assert!(!format!("{c:?}").contains("secret"));
        let c = config();
        assert_eq!((c.tls, c.port), (Tls::None, 25));
    }

    #[test]
    fn errors_name_their_variable() {
        let err = |pairs: &[(&str, &str)]| SmtpConfig::from_vars(vars(pairs)).unwrap_err().to_string();
        let base = [(ENV_HOST, "h.example.test"), (ENV_FROM, "a@example.test")];
        assert!(err(&[base[0]]).starts_with(ENV_FROM));
        assert!(err(&[base[0], base[1], (ENV_TLS, "ssl")]).starts_with(ENV_TLS));
        assert!(err(&[base[0], base[1], (ENV_PORT, "70000")]).starts_with(ENV_PORT));
        assert!(err(&[base[0], base[1], (ENV_USER, "u")]).starts_with(ENV_PASSWORD));
        assert!(err(&[base[0], base[1], (ENV_PASSWORD, "p")]).starts_with(ENV_USER));
        assert!(err(&[base[0], (ENV_FROM, "pas une adresse")]).starts_with(ENV_FROM));
        let mut c = config();
        c.tls = Tls::StartTls;
        c.host = "smtp.example.test".into();
        assert!(c.check().is_ok());
        c.from.email = "pas une adresse".into();
        assert!(c.check().unwrap_err().to_string().starts_with(ENV_FROM));
    }

    #[test]
    fn a_text_only_mail_is_one_part() {
        let text = formatted(&message(vec![], false));
        assert!(text.contains("Message-ID: <abc@gouvernail>"), "{text}");
        assert!(text.contains("Auto-Submitted: auto-generated"));
        assert!(text.contains("From: Gouvernail <ne-pas-repondre@gouvernail.test>"));
        assert!(text.contains("marie.dupont@ac-rennes.fr"));
        assert!(text.contains("jean@example.test"));
        assert!(text.contains("Content-Type: text/plain; charset=utf-8"));
        assert!(!text.contains("multipart"));
    }

    #[test]
    fn an_invitation_is_an_alternative_and_an_attachment() {
        let text = formatted(&message(vec![invitation()], true));
        assert!(text.contains("Content-Type: multipart/mixed"), "{text}");
        assert!(text.contains("Content-Type: multipart/alternative"));
        assert!(text.contains("Content-Type: text/html; charset=utf-8"));
        // The MIME library writes parameter values in lower case.
        assert!(
            text.contains("Content-Type: text/calendar; method=REQUEST; charset=utf-8"),
            "{text}"
        );
        assert!(text.contains("Content-Type: application/ics"));
        assert!(text.contains("filename=\"invitation.ics\""));
        let alternative = text.find("multipart/alternative").unwrap();
        let calendar = text.find("text/calendar").unwrap();
        let attachment = text.find("application/ics").unwrap();
        assert!(alternative < calendar && calendar < attachment);
    }

    #[test]
    fn other_attachments_keep_their_type() {
        let csv = MailAttachment {
            filename: "liste.csv".into(),
            content_type: "text/csv; charset=UTF-8".into(),
            content: "a;b\r\n1;2\r\n".into(),
        };
        let text = formatted(&message(vec![csv], false));
        assert!(text.contains("Content-Type: multipart/mixed"));
        assert!(!text.contains("multipart/alternative"));
        assert!(text.contains("Content-Type: text/csv; charset=utf-8"), "{text}");
    }

    #[test]
    fn a_bad_address_is_permanent() {
        let mut msg = message(vec![], false);
        msg.to[0].email = "pas-une-adresse".into();
        let err = format_message(&config().from, &msg, "<x@gouvernail>").unwrap_err();
        assert!(err.is_permanent(), "{err}");
    }

    #[tokio::test]
    async fn an_unreachable_server_fails_fast() {
        // A port that was free a moment ago: the connection is refused.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let mut c = config();
        c.port = port;
        let mailer = Mailer::new(&c).unwrap();
        let started = std::time::Instant::now();
        let err = mailer
            .send(&message(vec![], false), "<x@gouvernail>")
            .await
            .unwrap_err();
        assert!(!err.is_permanent());
        assert!(started.elapsed() < Duration::from_secs(10), "{err}");
    }

    #[tokio::test]
    async fn a_mute_server_times_out() {
        // Accepts the connection and never greets.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let mut c = config();
        c.port = port;
        let mailer = Mailer::with_timeouts(&c, Duration::from_millis(300), Duration::from_secs(2)).unwrap();
        let started = std::time::Instant::now();
        let err = mailer
            .send(&message(vec![], false), "<x@gouvernail>")
            .await
            .unwrap_err();
        assert!(!err.is_permanent());
        assert!(started.elapsed() < Duration::from_secs(5), "{err}");
        hold.abort();
    }
}
