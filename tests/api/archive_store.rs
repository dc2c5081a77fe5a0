//! The archive's storage on both databases: a campaign gets its slug once it starts going
//! out, two of one subject get two, one that went out before the archive existed gets its
//! slug when asked, only public sent campaigns are listed and found by slug, and taking one
//! out of the archive hides it.

use hundred::store::Store;

use crate::fixtures::{confirmed_email, send_to_everyone};
use crate::helpers::{Backend, spawn_app};
use crate::{on_both_databases, with_pool};

on_both_databases!(sent_campaigns_get_one_slug_each_and_only_public_ones_are_listed);

async fn sent_campaigns_get_one_slug_each_and_only_public_ones_are_listed(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    confirmed_email(&app, &token, "ann@example.com").await;
    let first = send_to_everyone(&app, &token, "Rye is back!", "Thursday.").await;
    let second = send_to_everyone(&app, &token, "Rye is back!", "Friday too.").await;
    let store = Store::connect(&app.database_url).await.unwrap();

    // The sender gave both their slugs as they went out.
    assert!(store.campaigns_without_slug().await.unwrap().is_empty());
    let slug_of = |record: Option<hundred::store::CampaignRecord>| record.unwrap().slug;
    let second_id = second.parse().unwrap();
    assert_eq!(
        slug_of(store.campaign(second_id).await.unwrap()).as_deref(),
        Some("rye-is-back-2")
    );
    // As before the archive existed: no slug, not public. Asked, it gets its slug again.
    let sql = "UPDATE campaigns SET slug = NULL, public = FALSE";
    with_pool!(&app.database_url, |pool| {
        sqlx::query(sql).execute(&pool).await.unwrap();
    });
    assert_eq!(store.archive(20, 0).await.unwrap().0, 0);
    assert_eq!(store.campaigns_without_slug().await.unwrap().len(), 2);
    store.give_slugs().await.unwrap();
    assert!(store.campaigns_without_slug().await.unwrap().is_empty());
    // A slug, once given, stays.
    let first_id = first.parse().unwrap();
    assert!(store.give_slug(first_id, "something-else").await.unwrap());
    let first_record = store.campaign(first_id).await.unwrap().unwrap();
    assert_eq!(first_record.slug.as_deref(), Some("rye-is-back"));

    assert!(store.set_public(first_id, true).await.unwrap());
    assert!(store.set_public(second_id, true).await.unwrap());
    let (total, listed) = store.archive(20, 0).await.unwrap();
    assert_eq!(total, 2);
    let mut slugs: Vec<String> = listed.into_iter().filter_map(|c| c.slug).collect();
    slugs.sort();
    assert_eq!(slugs, ["rye-is-back", "rye-is-back-2"]);
    let found = store.archived("rye-is-back-2").await.unwrap().unwrap();
    assert_eq!(found.body, "Friday too.");

    // Taken out: gone from the list and from its address.
    assert!(store.set_public(first_id, false).await.unwrap());
    assert_eq!(store.archive(20, 0).await.unwrap().0, 1);
    assert!(store.archived("rye-is-back").await.unwrap().is_none());
    assert!(store.archived("no-such-issue").await.unwrap().is_none());
    assert!(!store.set_public(uuid::Uuid::nil(), true).await.unwrap());
}
