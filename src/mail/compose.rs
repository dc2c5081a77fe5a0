//! Composes the lifecycle messages (confirmation, welcome) from the templates under
//! `templates/email/`, in the list's language, with the headers every list message carries
//! (`Content-Language` among them), and the owner's answers to replies.

use std::sync::Arc;

use anyhow::Context as _;
use lettre::Message;
use lettre::address::{Address, Envelope};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MessageBuilder, MultiPart, SinglePart};
use tera::Context;
use time::OffsetDateTime;
use uuid::Uuid;

use super::dkim::DkimSigner;
pub use super::list_id::list_id;
use super::render::{RecipientData, RenderedCopy, Wrapped};
use super::system::{self, MessageFrame};
use super::thread::is_valid_message_id;
use crate::config::{Config, Current, LiveSettings};
use crate::domain::Language;
use crate::i18n;
use crate::signing::{Signer, TokenPurpose};
use crate::templates::Templates;
use crate::templates::editable::{OwnerTemplates, TemplateName};

/// How long a confirmation link works.
pub const CONFIRMATION_VALIDITY: time::Duration = time::Duration::days(7);

/// Who a message goes to.
#[derive(Debug, Clone)]
pub struct Recipient {
    /// The subscriber.
    pub id: Uuid,
    /// The message row (queued message or campaign delivery) this copy belongs to; its
    /// reply and bounce addresses carry it.
    pub message: Uuid,
    /// The address as SMTP carries it (ASCII domain).
    pub address: String,
    pub name: Option<String>,
}

/// A message ready for the transport.
pub struct Composed {
    pub envelope: Envelope,
    pub bytes: Vec<u8>,
}

#[derive(Clone)]
pub struct Composer {
    config: Arc<Config>,
    templates: Arc<Templates>,
    signer: Signer,
    /// Signs every message when DKIM is configured; built at start-up from `config.dkim`.
    dkim: Option<Arc<DkimSigner>>,
    /// The owner's settings in effect (From, Reply-To, list name, consent text, …).
    live: LiveSettings,
}

impl Composer {
    pub fn new(
        config: Arc<Config>,
        templates: Arc<Templates>,
        signer: Signer,
        dkim: Option<Arc<DkimSigner>>,
        live: LiveSettings,
    ) -> Self {
        Self {
            config,
            templates,
            signer,
            dkim,
            live,
        }
    }

    /// The owner's settings as they change.
    pub fn live(&self) -> LiveSettings {
        self.live.clone()
    }

    /// The owner's settings in effect now.
    pub fn owner(&self) -> Arc<Current> {
        self.live.get()
    }

    /// The language readers are written to: the system messages, the default layout's
    /// footer and `Content-Language`. Read here only.
    pub fn language(&self) -> Language {
        self.owner().language
    }

    /// What a campaign's layout shows of the list now: name, language, postal address,
    /// the accent's colours and the logo.
    pub fn look(&self) -> super::render::ListLook {
        let owner = self.owner();
        super::render::ListLook {
            list_name: owner.list_name(),
            language: owner.language,
            postal_address: owner.postal_address.clone(),
            brand: owner.brand(self.config.public_base()),
        }
    }

    /// The layout called `name` as it stands now.
    pub fn layout(&self, name: &str) -> Option<super::render::LayoutSource> {
        system::current_layout(&self.owner().templates, name)
    }

    /// The names of the layouts a campaign can pick.
    pub fn layouts(&self) -> Vec<String> {
        self.owner().templates.layouts()
    }

    pub fn confirm_url(&self, subscriber: Uuid, now: OffsetDateTime) -> String {
        let token = self
            .signer
            .confirm_token(subscriber, now, CONFIRMATION_VALIDITY);
        format!("{}/confirm/{token}", self.config.public_base())
    }

    pub fn unsubscribe_url(&self, subscriber: Uuid) -> String {
        let token = self.signer.unsubscribe_token(subscriber);
        format!("{}/unsubscribe/{token}", self.config.public_base())
    }

    /// Where the public pages are served from (links in mail are absolute).
    pub fn public_base(&self) -> String {
        self.config.public_base().to_string()
    }

    /// A campaign copy's own links: its web version and its reader's page.
    pub fn reader_links(&self, subscriber: Uuid, delivery: Uuid) -> super::render::ReaderLinks {
        let base = self.config.public_base();
        super::render::ReaderLinks {
            web_version: Some(format!(
                "{base}/v/{}",
                self.signer.web_version_token(delivery)
            )),
            subscription: format!("{base}/me/{}", self.signer.reader_token(subscriber)),
        }
    }

    /// The double opt-in message: a link to the confirmation page. Not a list message, so
    /// it carries no unsubscribe headers: the person is not on the list until they confirm.
    pub fn confirmation(
        &self,
        to: &Recipient,
        message_id: &str,
        now: OffsetDateTime,
    ) -> anyhow::Result<Composed> {
        let mut values = Context::new();
        values.insert("confirm_url", &self.confirm_url(to.id, now));
        values.insert("valid_days", &CONFIRMATION_VALIDITY.whole_days());
        values.insert("consent_text", &self.owner().consent_text());
        self.compose(Wrapped::Confirmation, to, message_id, values, false)
    }

    /// The welcome after confirmation: the first list message, with every list header.
    pub fn welcome(&self, to: &Recipient, message_id: &str) -> anyhow::Result<Composed> {
        self.compose(Wrapped::Welcome, to, message_id, Context::new(), true)
    }

    /// "Still want this?" to a dormant subscriber: a button to keep receiving it, answered
    /// by `answer_by`. A list message, with every list header.
    pub fn repermission(
        &self,
        to: &Recipient,
        message_id: &str,
        answer_by: OffsetDateTime,
    ) -> anyhow::Result<Composed> {
        let mut values = Context::new();
        let token = self.signer.keep_token(to.id);
        values.insert(
            "keep_url",
            &format!("{}/keep/{token}", self.config.public_base()),
        );
        values.insert("answer_by", &i18n::date(self.language(), answer_by.date()));
        self.compose(Wrapped::Repermission, to, message_id, values, true)
    }

    /// The system message `wrapped` for `to`, from the owner's templates; should they fail
    /// for this person after all, from the shipped ones (the message must go).
    fn render_system(
        &self,
        wrapped: Wrapped,
        to: &Recipient,
        values: Context,
    ) -> anyhow::Result<RenderedCopy> {
        let owner = self.owner();
        let look = self.look();
        let person = RecipientData {
            name: to.name.clone(),
            email: to.address.clone(),
            attributes: serde_json::json!({}),
        };
        let unsubscribe_url = self.unsubscribe_url(to.id);
        let message = TemplateName::parse(&format!("message/{}", wrapped.as_str()))
            .and_then(|name| owner.templates.resolve(&name))
            .context("a system message without a template")?;
        if let Some(layout) = system::current_layout(&owner.templates, system::SYSTEM_LAYOUT) {
            let frame = MessageFrame {
                wrapped,
                parts: &message.parts,
                layout: &layout,
                look: &look,
            };
            match system::render_message(&frame, &person, &unsubscribe_url, values.clone()) {
                Ok(copy) => return Ok(copy),
                Err(err) => tracing::warn!(
                    message = wrapped.as_str(),
                    error = %err,
                    "the owner's template failed for this person; the shipped one goes instead"
                ),
            }
        }
        let shipped = OwnerTemplates::default();
        let parts = shipped
            .resolve(&message.name)
            .map(|m| m.parts)
            .unwrap_or_default();
        let layout = system::current_layout(&shipped, system::SYSTEM_LAYOUT)
            .context("the shipped layout is missing")?;
        let frame = MessageFrame {
            wrapped,
            parts: &parts,
            layout: &layout,
            look: &look,
        };
        system::render_message(&frame, &person, &unsubscribe_url, values)
            .map_err(|err| anyhow::anyhow!("the shipped {} message: {err}", wrapped.as_str()))
    }

    /// A plain-text check of the mail settings, sent straight to `to` (the settings page's
    /// "send a test message"): From, Date, Message-ID and the DKIM signature as real mail
    /// has them; no list headers, no reply token.
    pub fn test_message(&self, to: Address) -> anyhow::Result<Composed> {
        let owner = self.owner();
        let mut context = Context::new();
        context.insert("lang", self.language().code());
        context.insert("list_name", &owner.list_name());
        context.insert(
            "settings_url",
            &format!("{}/admin/settings", self.config.public_base()),
        );
        // Which words the message uses: the mail server, or the settings (the outbox).
        context.insert(
            "smtp",
            if self.config.smtp_url.is_some() {
                "yes"
            } else {
                "no"
            },
        );
        let subject = one_line(
            &self
                .templates
                .render("email/test_message.subject.txt", &context)?,
        );
        let text = self.templates.render("email/test_message.txt", &context)?;
        let message_id = format!("<{}@{}>", Uuid::now_v7().simple(), owner.sending_domain());
        let mut message = Message::builder()
            .from(owner.from.clone())
            .to(Mailbox::new(None, to.clone()))
            .subject(subject)
            .date_now()
            .message_id(Some(message_id))
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(text)
            .context("building the test message")?;
        message.headers_mut().insert_raw(self.content_language());
        self.sign_and_envelope(message, owner.from.email.clone(), to)
    }

    fn compose(
        &self,
        wrapped: Wrapped,
        to: &Recipient,
        message_id: &str,
        values: Context,
        list_message: bool,
    ) -> anyhow::Result<Composed> {
        let copy = self.render_system(wrapped, to, values)?;
        self.assemble(
            to,
            message_id,
            copy.subject,
            copy.text,
            copy.html,
            list_message,
        )
    }

    /// One recipient's copy of a campaign, with every list header.
    pub fn campaign(
        &self,
        to: &Recipient,
        message_id: &str,
        copy: &RenderedCopy,
    ) -> anyhow::Result<Composed> {
        self.assemble(
            to,
            message_id,
            copy.subject.clone(),
            copy.text.clone(),
            copy.html.clone(),
            true,
        )
    }

    /// The owner's answer to a subscriber's reply: plain text, threaded under the reply
    /// (`In-Reply-To`, `References`: ids checked again here, as they came from outside),
    /// with the per-message reply address so their next reply finds them. A personal
    /// message, not a list message: no list headers.
    pub fn answer(
        &self,
        to: &Recipient,
        message_id: &str,
        answer: &crate::store::AnswerMail,
    ) -> anyhow::Result<Composed> {
        let (mut builder, address) = self.start(to, message_id, answer.subject.clone())?;
        if let Some(id) = answer
            .in_reply_to
            .as_deref()
            .filter(|id| is_valid_message_id(id))
        {
            builder = builder.in_reply_to(id.to_string());
        }
        let references: Vec<&str> = answer
            .reference_ids
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .filter(|id| is_valid_message_id(id))
            .collect();
        if !references.is_empty() {
            builder = builder.references(references.join(" "));
        }
        let message = builder
            .singlepart(SinglePart::plain(answer.body.clone()))
            .context("building the message")?;
        self.seal(message, to, address)
    }

    /// Builds the message with lettre's typed builders (so nothing in a name or subject
    /// can become a header), adds the list headers, the per-message reply and bounce
    /// addresses, and the DKIM signature.
    fn assemble(
        &self,
        to: &Recipient,
        message_id: &str,
        subject: String,
        text: String,
        html: String,
        list_message: bool,
    ) -> anyhow::Result<Composed> {
        let (builder, address) = self.start(to, message_id, subject)?;
        let mut message = builder
            .multipart(MultiPart::alternative_plain_html(text, html))
            .context("building the message")?;
        message.headers_mut().insert_raw(self.content_language());
        if list_message {
            for header in self.list_headers(to.id) {
                message.headers_mut().insert_raw(header);
            }
        }
        self.seal(message, to, address)
    }

    /// The headers every message has: From, To, Subject, Date, Message-ID, and the
    /// per-message reply address where replies are collected.
    fn start(
        &self,
        to: &Recipient,
        message_id: &str,
        subject: String,
    ) -> anyhow::Result<(MessageBuilder, Address)> {
        let address: Address = to
            .address
            .parse()
            .with_context(|| format!("the stored address {} is not deliverable", to.address))?;
        let mailbox = Mailbox::new(to.name.clone(), address.clone());
        let owner = self.owner();
        let mut builder = Message::builder()
            .from(owner.from.clone())
            .to(mailbox)
            .subject(subject)
            .date_now()
            .message_id(Some(message_id.to_string()));
        if let Some(reply_to) = &owner.reply_to {
            let token = self.signer.address_token(TokenPurpose::Reply, to.message);
            builder = builder.reply_to(Mailbox::new(
                reply_to.name.clone(),
                tagged(&reply_to.email, &token)?,
            ));
        }
        Ok((builder, address))
    }

    /// Signs the finished message and puts it in its envelope, from the per-message
    /// bounce address where one is configured.
    fn seal(&self, message: Message, to: &Recipient, address: Address) -> anyhow::Result<Composed> {
        let sender = match &self.config.bounce_address {
            Some(bounce) => tagged(
                bounce,
                &self.signer.address_token(TokenPurpose::Bounce, to.message),
            )?,
            None => self.owner().from.email.clone(),
        };
        self.sign_and_envelope(message, sender, address)
    }

    /// The DKIM signature, where configured, and the envelope from `sender` to `to`.
    fn sign_and_envelope(
        &self,
        mut message: Message,
        sender: Address,
        to: Address,
    ) -> anyhow::Result<Composed> {
        if let Some(dkim) = &self.dkim {
            dkim.sign(&mut message);
        }
        let envelope = Envelope::new(Some(sender), vec![to]).context("building the envelope")?;
        Ok(Composed {
            envelope,
            bytes: message.formatted(),
        })
    }

    /// `Content-Language`: the language the system messages and the default layout's words
    /// are in (a campaign's own words are the owner's, in the language they chose).
    fn content_language(&self) -> HeaderValue {
        header("Content-Language", self.language().code().to_string())
    }

    /// `List-Unsubscribe` (URL, and mailto where configured), RFC 8058 one-click, `List-Id`.
    fn list_headers(&self, subscriber: Uuid) -> Vec<HeaderValue> {
        let owner = self.owner();
        let mut unsubscribe = format!("<{}>", self.unsubscribe_url(subscriber));
        if let Some(mailto) = &owner.unsubscribe_mailto {
            unsubscribe.push_str(&format!(", <mailto:{mailto}?subject=unsubscribe>"));
        }
        let mut headers = vec![
            header("List-Unsubscribe", unsubscribe),
            header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".into()),
        ];
        headers.push(header(
            "List-Id",
            list_id(&owner.list_name(), owner.sending_domain()),
        ));
        headers
    }
}

/// `local+token@domain`.
/// A subject as one line: a template may wrap it, a header may not.
fn one_line(subject: &str) -> String {
    subject.lines().map(str::trim).collect::<Vec<_>>().join(" ")
}

fn tagged(address: &Address, token: &str) -> anyhow::Result<Address> {
    Address::new(format!("{}+{token}", address.user()), address.domain())
        .context("building a tagged address")
}

fn header(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}
