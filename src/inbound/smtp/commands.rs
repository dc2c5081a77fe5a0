//! Answering the commands of one SMTP conversation: the grammar is `smtp-proto`'s, the
//! rules ours: EHLO first, one sender, recipients of our own domains only (it never relays)
//! and at most so many, a size announced over the limit refused at once, DATA only with a
//! recipient; HELP and VRFY answered politely, what we do not offer refused with 502.

use smtp_proto::Request;

use super::Settings;

/// What the session does next.
pub(super) enum Step {
    Reply(String),
    Quit,
    StartTls,
    Data,
}

/// Where one conversation stands; STARTTLS starts a new one (RFC 3207).
#[derive(Default)]
pub(super) struct Conversation {
    pub(super) secure: bool,
    pub(super) greeted: bool,
    /// Recipients taken so far (the envelope's, as written), once MAIL FROM was.
    pub(super) transaction: Option<Vec<String>>,
    pub(super) bad_in_a_row: u32,
}

/// Answers one command line.
pub(super) fn answer(
    settings: &Settings,
    tls_offered: bool,
    line: &[u8],
    talk: &mut Conversation,
) -> Step {
    let limits = &settings.limits;
    let request = match Request::parse(&mut line.iter()) {
        Ok(request) => request,
        Err(err) => return Step::Reply(parse_error(err)),
    };
    let reply = match request {
        Request::Ehlo { .. } => {
            *talk = Conversation {
                secure: talk.secure,
                greeted: true,
                ..Conversation::default()
            };
            return Step::Reply(ehlo(settings, tls_offered && !talk.secure));
        }
        Request::Helo { .. } => {
            talk.greeted = true;
            talk.transaction = None;
            return Step::Reply(format!("250 {}\r\n", settings.server_name));
        }
        Request::Mail { from } => {
            if !talk.greeted {
                "503 5.5.1 Say EHLO first\r\n"
            } else if talk.transaction.is_some() {
                "503 5.5.1 Sender already given\r\n"
            } else if from.size > limits.message_bytes {
                "552 5.3.4 Message size exceeds the limit of this server\r\n"
            } else {
                talk.transaction = Some(Vec::new());
                "250 2.1.0 OK\r\n"
            }
        }
        Request::Rcpt { to } => match &mut talk.transaction {
            None => "503 5.5.1 MAIL FROM first\r\n",
            Some(taken) if taken.len() >= limits.recipients => "452 4.5.3 Too many recipients\r\n",
            Some(taken) => {
                if takes(settings, &to.address) {
                    taken.push(to.address.to_string());
                    "250 2.1.5 OK\r\n"
                } else {
                    "550 5.7.1 This server only takes replies for its own list\r\n"
                }
            }
        },
        Request::Data => match &talk.transaction {
            None => "503 5.5.1 MAIL FROM first\r\n",
            Some(taken) if taken.is_empty() => "503 5.5.1 No valid recipients\r\n",
            Some(_) => return Step::Data,
        },
        Request::Rset => {
            talk.transaction = None;
            "250 2.0.0 OK\r\n"
        }
        Request::Noop { .. } => "250 2.0.0 OK\r\n",
        Request::Quit => return Step::Quit,
        Request::Help { .. } => {
            "214 2.0.0 This server takes replies and bounces for its list: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT\r\n"
        }
        Request::Vrfy { .. } => {
            "252 2.5.2 Cannot verify the address, but will take mail for this list\r\n"
        }
        Request::StartTls if talk.secure => "503 5.5.1 TLS is already on\r\n",
        Request::StartTls if !tls_offered => "502 5.5.1 TLS is not offered here\r\n",
        Request::StartTls => return Step::StartTls,
        Request::Lhlo { .. }
        | Request::Bdat { .. }
        | Request::Auth { .. }
        | Request::Expn { .. }
        | Request::Etrn { .. }
        | Request::Atrn { .. }
        | Request::Burl { .. } => "502 5.5.1 Command not implemented\r\n",
    };
    Step::Reply(reply.into())
}

fn ehlo(settings: &Settings, starttls: bool) -> String {
    let mut lines = vec![
        settings.server_name.clone(),
        format!("SIZE {}", settings.limits.message_bytes),
        "8BITMIME".into(),
        "PIPELINING".into(),
    ];
    if starttls {
        lines.push("STARTTLS".into());
    }
    lines.push("ENHANCEDSTATUSCODES".into());
    let last = lines.len() - 1;
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| format!("250{}{line}\r\n", if i == last { ' ' } else { '-' }))
        .collect()
}

/// Mail is taken for the listener's domains only: it never relays.
fn takes(settings: &Settings, address: &str) -> bool {
    let Some((_, domain)) = address.rsplit_once('@') else {
        return false;
    };
    let domains = settings.domains_now();
    domains.is_empty() || domains.contains(&domain.to_ascii_lowercase())
}

fn parse_error(err: smtp_proto::Error) -> String {
    use smtp_proto::Error;
    match err {
        Error::UnknownCommand => "500 5.5.2 Command not recognized\r\n".into(),
        Error::InvalidSenderAddress => "501 5.1.7 Bad sender address syntax\r\n".into(),
        Error::InvalidRecipientAddress => "501 5.1.3 Bad recipient address syntax\r\n".into(),
        Error::SyntaxError { syntax } => format!("501 5.5.4 Syntax: {}\r\n", one_line(syntax)),
        Error::InvalidParameter { param } => {
            format!("501 5.5.4 Invalid parameter {}\r\n", one_line(param))
        }
        Error::UnsupportedParameter { .. } => "555 5.5.4 Unsupported parameter\r\n".into(),
        _ => "500 5.5.2 Syntax error\r\n".into(),
    }
}

/// Text for a reply line: printable ASCII only, so nothing can end the line early.
pub(super) fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(200)
        .collect()
}
