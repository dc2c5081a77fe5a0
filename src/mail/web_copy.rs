//! The web version of a delivered copy (`/v/…`): the same campaign, layout and person as
//! the copy that was sent, rendered again for a browser. Its links count as clicks as the
//! copy's do (the same signed click tokens); it has no open pixel and no hidden link, since
//! opening the page is itself the open.

use std::collections::HashMap;

use uuid::Uuid;

use super::compose::Composer;
use super::draft::{content_of, layout_as_sent};
use super::render::{
    CompiledCampaign, CopySettings, ReaderLinks, RecipientData, RenderedCopy, Tracking,
};
use crate::domain::Subscriber;
use crate::signing::{Signer, TokenPurpose};
use crate::store::Store;

/// One copy as its web version shows it, and whether it is tracked (opening it and its
/// links then count).
pub struct WebCopy {
    pub copy: RenderedCopy,
    pub tracked: bool,
}

/// The copy `delivery` of `campaign` for `subscriber`, as a browser shows it; `None` when
/// the campaign or its layout is gone.
pub async fn web_copy(
    store: &Store,
    composer: &Composer,
    signer: &Signer,
    delivery: Uuid,
    campaign: Uuid,
    subscriber: &Subscriber,
) -> anyhow::Result<Option<WebCopy>> {
    let Some(record) = store.campaign(campaign).await? else {
        return Ok(None);
    };
    let Some(layout) = layout_as_sent(store, composer, &record).await? else {
        return Ok(None);
    };
    let compiled = CompiledCampaign::compile(&content_of(&record), &layout, &composer.look())
        .map_err(|err| anyhow::anyhow!("a sent campaign no longer renders: {err}"))?;
    let data = RecipientData {
        name: subscriber.name.clone(),
        email: subscriber.email.clone(),
        attributes: subscriber.attributes.clone(),
    };
    let personal = compiled
        .personalise(&data)
        .map_err(|err| anyhow::anyhow!("a sent campaign no longer renders: {err}"))?;
    let tracked = composer.owner().tracking && subscriber.tracking;
    let links: HashMap<String, i64> = if tracked {
        store.campaign_links(campaign, &personal.links()).await?
    } else {
        HashMap::new()
    };
    let click = |link: i64| signer.sign_value(TokenPurpose::Click, delivery, link);
    let unsubscribe_url = composer.unsubscribe_url(subscriber.id);
    let public_base = composer.public_base();
    let copy = CopySettings {
        unsubscribe_url: &unsubscribe_url,
        tracking: tracked.then(|| Tracking {
            public_base: &public_base,
            open_token: None,
            click_token: &click,
            links: &links,
        }),
        // The page is the copy in a browser: it links the reader's page, not itself.
        reader: Some(ReaderLinks {
            web_version: None,
            ..composer.reader_links(subscriber.id, delivery)
        }),
    };
    let copy = compiled
        .finish(personal, &subscriber.email, &copy)
        .map_err(|err| anyhow::anyhow!("a sent campaign no longer renders: {err}"))?;
    Ok(Some(WebCopy { copy, tracked }))
}
