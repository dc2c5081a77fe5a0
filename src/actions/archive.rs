//! The public archive: the campaigns that went out and are marked public, as anyone may
//! read them (`/archive`, `/archive/{slug}`, `/archive/feed.xml`), and the owner's choice
//! of which are.
//!
//! A campaign is read there as an anonymous reader would get it: placeholders take their
//! defaults (no name, no attributes, an empty address), links go straight to where the
//! author pointed them, and there is no open pixel, no unsubscribe link, nothing of any
//! subscriber. Its address (`slug`) is made from its subject when it starts going out
//! (`Store::give_slugs`), and kept after, whatever the subject becomes.

use atom_syndication::{Content, Entry, Feed, FixedDateTime, Link, Person, Text};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::Services;
use crate::mail::draft::content_of;
use crate::mail::render::{CompiledCampaign, RecipientData};
use crate::mail::system;
use crate::store::{CampaignRecord, Timestamp};
use crate::templates::editable::OwnerTemplates;

/// Campaigns on one page of the archive.
pub const PER_PAGE: i64 = 20;
/// Campaigns in the feed.
pub const IN_FEED: i64 = 20;
/// How much of the first paragraph stands in for a missing preheader.
const DESCRIPTION_CHARS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveRefusal {
    /// No public campaign that went out has this address (or the page is past the end).
    #[error("There is no such issue in the archive.")]
    NotFound,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

type Result<T> = std::result::Result<T, ArchiveRefusal>;

/// One campaign as the archive lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Listed {
    pub slug: String,
    pub subject: String,
    pub preheader: Option<String>,
    /// When it went out, in the list's language ("2 December 2026").
    pub date: String,
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
}

/// A page of the archive, newest first.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ArchivePage {
    pub issues: Vec<Listed>,
    pub page: i64,
    pub pages: i64,
    pub total: i64,
}

/// One campaign as the archive shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Issue {
    #[serde(flatten)]
    pub listed: Listed,
    /// Its body as HTML, for an anonymous reader.
    pub html: String,
    /// The preheader, or the start of its first paragraph: what a shared link shows.
    pub description: String,
    /// The picture a shared link shows: the first image in it, else the logo.
    pub image: Option<String>,
    /// Its address, absolute.
    pub url: String,
}

fn sent_at(record: &CampaignRecord) -> OffsetDateTime {
    record
        .finished_at
        .or(record.started_at)
        .unwrap_or(record.created_at)
        .0
}

fn listed(services: &Services, record: &CampaignRecord) -> Listed {
    let sent_at = sent_at(record);
    Listed {
        slug: record.slug.clone().unwrap_or_default(),
        subject: record.subject.clone(),
        preheader: record.preheader.clone(),
        date: crate::i18n::date(services.settings().language, sent_at.date()),
        sent_at,
    }
}

/// Page `page` (from 1) of the archive.
pub async fn page(services: &Services, page: i64) -> Result<ArchivePage> {
    let page = page.max(1);
    let (total, records) = services
        .store
        .archive(PER_PAGE, (page - 1).saturating_mul(PER_PAGE))
        .await?;
    let pages = (total + PER_PAGE - 1) / PER_PAGE;
    if page > 1 && page > pages {
        return Err(ArchiveRefusal::NotFound);
    }
    Ok(ArchivePage {
        issues: records.iter().map(|r| listed(services, r)).collect(),
        page,
        pages: pages.max(1),
        total,
    })
}

/// The public campaign at `slug`, for an anonymous reader.
pub async fn issue(services: &Services, slug: &str) -> Result<Issue> {
    if !crate::domain::is_slug(slug) {
        return Err(ArchiveRefusal::NotFound);
    }
    let record = services
        .store
        .archived(slug)
        .await?
        .ok_or(ArchiveRefusal::NotFound)?;
    Ok(shown(services, &record)?)
}

/// Nobody in particular: no name, no attributes, no address.
fn anonymous() -> RecipientData {
    RecipientData {
        name: None,
        email: String::new(),
        attributes: serde_json::json!({}),
    }
}

fn shown(services: &Services, record: &CampaignRecord) -> anyhow::Result<Issue> {
    // Only the content is shown (the page is the list's own, not the mail's layout), so
    // the shipped layout serves to compile it whatever became of the campaign's.
    let layout = system::current_layout(&OwnerTemplates::default(), system::SYSTEM_LAYOUT)
        .ok_or_else(|| anyhow::anyhow!("the shipped layout is missing"))?;
    let compiled =
        CompiledCampaign::compile(&content_of(record), &layout, &services.composer.look())
            .map_err(|err| anyhow::anyhow!("an archived campaign does not render: {err}"))?;
    let personal = compiled
        .personalise(&anonymous())
        .map_err(|err| anyhow::anyhow!("an archived campaign does not render: {err}"))?;
    let html = personal.content_html();
    let listed = listed(services, record);
    let description = match personal.preheader().trim() {
        "" => first_paragraph(&html),
        preheader => preheader.to_string(),
    };
    let image = first_image(&html).or_else(|| {
        services
            .composer
            .look()
            .brand
            .logo
            .map(|logo| logo.url.clone())
    });
    Ok(Issue {
        url: format!("{}/archive/{}", services.config.public_base(), listed.slug),
        listed,
        html,
        description,
        image,
    })
}

/// The text of the first paragraph of `html`, cut at a word near [`DESCRIPTION_CHARS`].
fn first_paragraph(html: &str) -> String {
    let Some(start) = html.find("<p>") else {
        return String::new();
    };
    let rest = &html[start + 3..];
    let inner = &rest[..rest.find("</p>").unwrap_or(rest.len())];
    let mut text = String::new();
    let mut in_tag = false;
    for c in inner.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'");
    if text.chars().count() <= DESCRIPTION_CHARS {
        return text;
    }
    let cut: String = text.chars().take(DESCRIPTION_CHARS).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{cut}…")
}

/// The address of the first image in `html` that is a web address.
fn first_image(html: &str) -> Option<String> {
    let at = html.find("<img ")?;
    let tag = &html[at..at + html[at..].find('>')?];
    let src = tag.split("src=\"").nth(1)?.split('"').next()?;
    let src = src.replace("&amp;", "&");
    (src.starts_with("https://") || src.starts_with("http://")).then_some(src)
}

fn fixed(time: OffsetDateTime) -> anyhow::Result<FixedDateTime> {
    let text = time.format(&Rfc3339)?;
    Ok(chrono::DateTime::parse_from_rfc3339(&text)?)
}

fn link(href: String, rel: &str, mime_type: Option<&str>) -> Link {
    Link {
        href,
        rel: rel.to_string(),
        mime_type: mime_type.map(str::to_string),
        ..Link::default()
    }
}

/// The archive as Atom 1.0: the [`IN_FEED`] newest public campaigns, full content as the
/// archive shows them.
pub async fn feed(services: &Services) -> anyhow::Result<String> {
    let (_, records) = services.store.archive(IN_FEED, 0).await?;
    let base = services.config.public_base();
    let list_name = services.settings().list_name();
    let mut entries = Vec::new();
    for record in &records {
        let issue = shown(services, record)?;
        let at = fixed(issue.listed.sent_at)?;
        entries.push(Entry {
            title: Text::plain(issue.listed.subject.clone()),
            id: format!("urn:uuid:{}", record.id),
            updated: at,
            published: Some(at),
            links: vec![link(issue.url.clone(), "alternate", Some("text/html"))],
            summary: (!issue.description.is_empty()).then(|| Text::plain(issue.description)),
            content: Some(Content {
                value: Some(issue.html),
                content_type: Some("html".into()),
                ..Content::default()
            }),
            ..Entry::default()
        });
    }
    let updated = records
        .first()
        .map(sent_at)
        .unwrap_or_else(|| Timestamp::now().0);
    let feed = Feed {
        title: Text::plain(list_name.clone()),
        id: format!("{base}/archive"),
        updated: fixed(updated)?,
        authors: vec![Person {
            name: list_name,
            ..Person::default()
        }],
        links: vec![
            link(
                format!("{base}/archive/feed.xml"),
                "self",
                Some("application/atom+xml"),
            ),
            link(format!("{base}/archive"), "alternate", Some("text/html")),
        ],
        logo: services.composer.look().brand.logo.map(|logo| logo.url),
        entries,
        ..Feed::default()
    };
    Ok(feed.to_string())
}

/// Shows the campaign in the archive or takes it out, at any time; from then on its page
/// and its feed entry are there, or answer 404.
pub async fn set_public(services: &Services, id: Uuid, public: bool) -> Result<()> {
    if !services.store.set_public(id, public).await? {
        return Err(ArchiveRefusal::NotFound);
    }
    // One that went out before the archive existed gets its address now.
    services.store.give_slugs().await?;
    tracing::info!(campaign = %id, public, "archive changed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_is_the_first_paragraph_as_text() {
        let html = "<h1>Rye</h1>\n<p>Out of the <strong>oven</strong> &amp; warm.</p>\n<p>More</p>";
        assert_eq!(first_paragraph(html), "Out of the oven & warm.");
        let long = format!("<p>{}</p>", "word ".repeat(100));
        let cut = first_paragraph(&long);
        assert!(
            cut.ends_with('…') && cut.chars().count() <= DESCRIPTION_CHARS + 1,
            "{cut}"
        );
        assert_eq!(first_paragraph("<ul><li>x</li></ul>"), "");
    }

    #[test]
    fn the_first_web_image_is_the_picture() {
        assert_eq!(
            first_image("<p><img src=\"https://x.example/a.png?a=1&amp;b=2\" alt=\"\"></p>"),
            Some("https://x.example/a.png?a=1&b=2".into())
        );
        assert_eq!(
            first_image("<p><img src=\"data:image/png;base64,xx\"></p>"),
            None
        );
        assert_eq!(first_image("<p>none</p>"), None);
    }
}
