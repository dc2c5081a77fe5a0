//! The two mail servers hundred may talk to, as checked values read from their URLs:
//! the relay it sends through (`HUNDRED_SMTP_URL`) and the mailbox it polls
//! (`HUNDRED_IMAP_URL`). They live here, not beside the code that connects, so a typo
//! stops start-up with one line naming the variable and config imports nothing above it.

use std::fmt;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use url::Url;

use super::Secret;

/// How the connection to the relay is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP; STARTTLS is not attempted.
    None,
    /// STARTTLS is required (`?tls=required`).
    StartTls,
    /// STARTTLS when the server offers it (`?tls=opportunistic`).
    Opportunistic,
    /// TLS from the first byte (`smtps://`).
    Implicit,
}

/// Where and how to connect, parsed from `HUNDRED_SMTP_URL`.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) hello: ClientId,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

impl SmtpSettings {
    /// `smtp://[user:pass@]host[:port][?tls=required|opportunistic|none]` or `smtps://…`.
    /// A user name and password need TLS unless the server is on this machine or the URL
    /// says `tls=none`.
    pub fn from_url(raw: &str) -> Result<Self, String> {
        let url = Url::parse(raw).map_err(|err| format!("not a URL: {err}"))?;
        let tls_param = url
            .query_pairs()
            .find(|(key, _)| key == "tls")
            .map(|(_, value)| value.into_owned());
        let (tls, default_port) = match (url.scheme(), tls_param.as_deref()) {
            ("smtp", None | Some("none")) => (SmtpTls::None, 25),
            ("smtp", Some("required")) => (SmtpTls::StartTls, 587),
            ("smtp", Some("opportunistic")) => (SmtpTls::Opportunistic, 587),
            ("smtps", None | Some("required")) => (SmtpTls::Implicit, 465),
            ("smtp" | "smtps", Some(other)) => {
                return Err(format!(
                    "tls={other} is not one of required, opportunistic, none"
                ));
            }
            _ => return Err("must start with smtp:// or smtps://".into()),
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("has no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let credentials = if url.username().is_empty() {
            None
        } else {
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .map(|c| c.into_owned())
                    .map_err(|_| "the user name or password is not valid UTF-8".to_string())
            };
            Some(Credentials::new(
                decode(url.username())?,
                decode(url.password().unwrap_or_default())?,
            ))
        };
        if credentials.is_some()
            && !credentials_stay_private(tls, tls_param.as_deref() == Some("none"), &host)
        {
            return Err(format!(
                "the user name and password would cross the network to {host} unencrypted; \
                 add ?tls=required (STARTTLS) or use smtps://, or write ?tls=none to accept that"
            ));
        }
        let hello = match url.path().trim_start_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_string()),
        };
        Ok(Self {
            port: url.port().unwrap_or(default_port),
            host,
            tls,
            credentials,
            hello,
        })
    }
}

/// Whether a password sent to `host` with `tls` stays off the network in clear: always
/// with STARTTLS required or implicit TLS, and to this machine (loopback) in any case.
/// Opportunistic STARTTLS is not enough (whoever sits in between can hide the offer), and
/// plain SMTP to another machine only when the owner wrote `tls=none` to say so.
fn credentials_stay_private(tls: SmtpTls, written_none: bool, host: &str) -> bool {
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.eq_ignore_ascii_case("localhost.")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match tls {
        SmtpTls::StartTls | SmtpTls::Implicit => true,
        SmtpTls::None => loopback || written_none,
        SmtpTls::Opportunistic => loopback,
    }
}

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImapTls {
    /// `imaps://`: TLS from the first byte (port 993).
    Implicit,
    /// `imap://`: STARTTLS, required (port 143), so the password never crosses in clear.
    StartTls,
    /// `imap://…?tls=none`: no TLS at all, for a server on this machine or a trusted network.
    None,
}

/// Where and as whom to poll, parsed from `HUNDRED_IMAP_URL`.
#[derive(Clone, Debug)]
pub struct ImapSettings {
    pub host: String,
    pub port: u16,
    pub tls: ImapTls,
    pub user: String,
    pub(crate) password: Secret,
    /// The mailbox (folder) read, `INBOX` unless the URL's path names another.
    pub mailbox: String,
}

impl ImapSettings {
    /// `imaps://user:pass@host[:port][/mailbox]` or `imap://…[?tls=required|none]`. The
    /// problem, when there is one, never quotes the URL (it holds the password).
    pub fn from_url(raw: &str) -> Result<Self, String> {
        let url = Url::parse(raw.trim()).map_err(|err| format!("not a URL: {err}"))?;
        let tls_param = url
            .query_pairs()
            .find(|(key, _)| key == "tls")
            .map(|(_, value)| value.into_owned());
        let (tls, default_port) = match (url.scheme(), tls_param.as_deref()) {
            ("imaps", None | Some("required")) => (ImapTls::Implicit, 993),
            ("imap", None | Some("required")) => (ImapTls::StartTls, 143),
            ("imap", Some("none")) => (ImapTls::None, 143),
            ("imap" | "imaps", Some(other)) => {
                return Err(format!("tls={other} is not one of required, none"));
            }
            _ => {
                return Err("must start with imaps:// (TLS) or imap:// (STARTTLS)".into());
            }
        };
        let host = url
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or("has no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let decode = |part: &str, what: &str| {
            percent_encoding::percent_decode_str(part)
                .decode_utf8()
                .map(|decoded| decoded.into_owned())
                .map_err(|_| format!("the {what} is not valid UTF-8"))
        };
        let user = decode(url.username(), "user name")?;
        let password = decode(url.password().unwrap_or_default(), "password")?;
        if user.is_empty() || url.password().is_none() {
            return Err("needs a user and a password: imaps://user:password@host/INBOX".into());
        }
        let mailbox = match decode(url.path().trim_start_matches('/'), "mailbox")? {
            mailbox if mailbox.is_empty() => "INBOX".to_string(),
            mailbox => mailbox,
        };
        for (value, what) in [
            (&user, "user name"),
            (&password, "password"),
            (&mailbox, "mailbox"),
        ] {
            if value.chars().any(char::is_control) {
                return Err(format!("the {what} has a control character"));
            }
        }
        Ok(Self {
            port: url.port().unwrap_or(default_port),
            host,
            tls,
            user,
            password: Secret::new(password),
            mailbox,
        })
    }
}

/// For logs and the settings summary: everything but the password.
impl fmt::Display for ImapSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls == ImapTls::Implicit {
            "imaps"
        } else {
            "imap"
        };
        let query = if self.tls == ImapTls::None {
            "?tls=none"
        } else {
            ""
        };
        write!(
            f,
            "{scheme}://{}:***@{}:{}/{}{query}",
            self.user, self.host, self.port, self.mailbox
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_form_of_smtp_url() {
        let plain = SmtpSettings::from_url("smtp://127.0.0.1:2525").unwrap();
        assert_eq!(
            (plain.host.as_str(), plain.port, plain.tls),
            ("127.0.0.1", 2525, SmtpTls::None)
        );
        assert!(plain.credentials.is_none());
        let starttls =
            SmtpSettings::from_url("smtp://me%40x.com:p%3Ass@mail.example.com?tls=required")
                .unwrap();
        assert_eq!((starttls.port, starttls.tls), (587, SmtpTls::StartTls));
        assert!(starttls.credentials.is_some());
        let implicit = SmtpSettings::from_url("smtps://mail.example.com").unwrap();
        assert_eq!((implicit.port, implicit.tls), (465, SmtpTls::Implicit));
        assert!(
            !format!("{starttls:?}").contains("p:ss"),
            "credentials are not printed"
        );
        for bad in [
            "http://x",
            "smtp://",
            "smtp://host?tls=sometimes",
            "not a url",
        ] {
            assert!(SmtpSettings::from_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_password_never_crosses_the_network_in_clear() {
        for refused in [
            "smtp://me:hunter2@mail.example.com:587",
            "smtp://me:hunter2@mail.example.com?tls=opportunistic",
            "smtp://me:hunter2@192.0.2.7:25",
            "smtp://me:hunter2@[2001:db8::1]:25",
            "smtp://me@mail.example.com",
        ] {
            let err = SmtpSettings::from_url(refused).unwrap_err();
            assert!(err.contains("tls=required"), "{refused}: {err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
        for allowed in [
            "smtp://me:hunter2@mail.example.com?tls=required",
            "smtps://me:hunter2@mail.example.com",
            "smtp://me:hunter2@mail.example.com?tls=none",
            "smtp://me:hunter2@127.0.0.1:2525",
            "smtp://me:hunter2@127.8.9.10:2525?tls=opportunistic",
            "smtp://me:hunter2@[::1]:2525",
            "smtp://me:hunter2@LocalHost:2525",
            "smtp://mail.example.com:25",
        ] {
            assert!(SmtpSettings::from_url(allowed).is_ok(), "{allowed}");
        }
    }

    #[test]
    fn reads_the_url_of_a_mailbox() {
        let settings =
            ImapSettings::from_url("imaps://shop%40bakery.example:p%40ss%2Fw0rd@mail.example.com")
                .unwrap();
        assert_eq!(settings.tls, ImapTls::Implicit);
        assert_eq!(settings.port, 993);
        assert_eq!(settings.host, "mail.example.com");
        assert_eq!(settings.user, "shop@bakery.example");
        assert_eq!(settings.password.expose(), "p@ss/w0rd");
        assert_eq!(settings.mailbox, "INBOX");

        let settings =
            ImapSettings::from_url("imap://me:pw@127.0.0.1:1143/Newsletter%20replies?tls=none")
                .unwrap();
        assert_eq!(settings.tls, ImapTls::None);
        assert_eq!(settings.port, 1143);
        assert_eq!(settings.mailbox, "Newsletter replies");
        let settings = ImapSettings::from_url("imap://me:pw@[::1]/INBOX").unwrap();
        assert_eq!((settings.tls, settings.port), (ImapTls::StartTls, 143));
        assert_eq!(settings.host, "::1");
    }

    #[test]
    fn refuses_what_cannot_work_without_quoting_the_password() {
        for url in [
            "pop3://me:hunter2@mail.example.com",
            "imap://me:hunter2@mail.example.com?tls=maybe",
            "imaps://mail.example.com/INBOX",
            "imaps://me@mail.example.com/INBOX",
            "imaps://me:hunter2@/INBOX",
            "imaps://me:hunter2%0A@mail.example.com",
            "not a url hunter2",
        ] {
            let problem = ImapSettings::from_url(url).unwrap_err();
            assert!(!problem.contains("hunter2"), "{url}: {problem}");
        }
    }

    #[test]
    fn the_password_never_shows() {
        let settings = ImapSettings::from_url("imaps://me:hunter2@mail.example.com").unwrap();
        let shown = format!("{settings} {settings:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(
            settings.to_string(),
            "imaps://me:***@mail.example.com:993/INBOX"
        );
    }
}
