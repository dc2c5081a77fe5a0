//! The dashboard as the owner sees it: the headline, the tiers, the chart of engaged
//! recipients per campaign, the latest replies (escaped), and the last campaign's genuine
//! numbers beside the machine ones.

use std::time::Duration;

use crate::fixtures::{
    DESKTOP, IPHONE, MENU, assert_contains, confirmed, engagement_app, fetch, receive,
    send_to_everyone, tracking_urls,
};
use crate::helpers::{Backend, text_of};
use crate::on_both_databases;

on_both_databases!(the_dashboard_shows_who_genuinely_cares);

async fn the_dashboard_shows_who_genuinely_cares(backend: Backend) {
    let app = engagement_app(backend, "1").await;
    let owner = app.owner().await;
    let empty = owner.page("/admin").await;
    assert_eq!(text_of(&empty, "headline"), "0 engaged of 0 confirmed");
    assert!(empty.contains("No campaign sent yet"));
    assert!(empty.contains("No replies yet"));

    let token = app.api_token().await;
    for who in ["opener", "clicker", "replier", "machine", "silent"] {
        let name = (who == "replier").then_some("<b>Rosa</b> <script>alert(1)</script>");
        confirmed(
            &app,
            &token,
            &format!("{who}@example.com"),
            name,
            serde_json::json!({}),
        )
        .await;
    }
    app.subscribe_via_page("waiting@example.com", "").await;
    send_to_everyone(&app, &token, "Spring bread", "Hello.").await;
    let campaign = send_to_everyone(
        &app,
        &token,
        "Rye <script>alert('x')</script> week",
        &format!("See [the menu]({MENU})."),
    )
    .await;

    // A machine opens at delivery; later a person opens, another clicks, a third replies.
    let machine_pixel =
        &tracking_urls(&app.smtp.messages_to("machine@example.com")[1].html(), "o")[0];
    assert_eq!(fetch(machine_pixel, "Mozilla/5.0").await.status(), 200);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let last_copy = |who: &str| app.smtp.messages_to(&format!("{who}@example.com"))[1].clone();
    let opener_pixel = &tracking_urls(&last_copy("opener").html(), "o")[0];
    assert_eq!(fetch(opener_pixel, IPHONE).await.status(), 200);
    let link = &tracking_urls(&last_copy("clicker").html(), "c")[0];
    assert_eq!(fetch(link, DESKTOP).await.status(), 302);
    let reply = format!(
        "From: Rosa <replier@example.com>
To: Bakery <replies@bakery.example>
Subject: Re: Rye week
Message-ID: <dashboard-reply-1@example.com>
In-Reply-To: {}
Content-Type: text/plain

Two rye loaves for Saturday <script>alert('reply')</script> please!

On Thu, Bakery wrote:
> See the menu
",
        last_copy("replier").header("Message-ID").unwrap()
    );
    assert_eq!(receive(&app, &reply).await["kind"], "reply");

    // The events reach the store a moment later.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let page = loop {
        let page = owner.page("/admin").await;
        if text_of(&page, "headline") == "3 engaged of 5 confirmed"
            || std::time::Instant::now() > deadline
        {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(text_of(&page, "headline"), "3 engaged of 5 confirmed");
    assert_contains(&page, "1 more has not confirmed yet", "the pending signup");

    // The tiers link to the table, filtered.
    assert!(page.contains("href=\"/admin/subscribers?tier=engaged\""));
    for tier in ["core", "engaged", "new", "quiet", "dormant", "gone"] {
        assert!(
            page.contains(&format!("class=\"tier tier-{tier}\"")),
            "{tier}"
        );
    }

    // The chart: one bar pair per campaign, with the figures in a table too.
    assert_eq!(page.matches("<rect class=\"engaged\"").count(), 2);
    let figures = text_of(&page, "chart-table");
    assert!(figures.contains("1 Spring bread"), "{figures}");
    assert_contains(&figures, "5 0", "5 delivered, 0 engaged the first time");
    assert_contains(&figures, "5 3", "5 delivered, 3 engaged the second");

    // The latest reply, by name, escaped, linking to the person.
    let replies = text_of(&page, "latest-replies");
    assert!(replies.contains("Two rye loaves for Saturday"), "{replies}");
    assert!(!page.contains("<script>alert"), "nothing from outside runs");
    assert!(
        page.contains("&lt;b&gt;Rosa&lt;&#x2f;b&gt;") || page.contains("&lt;b&gt;Rosa&lt;/b&gt;")
    );
    assert!(page.contains("/admin/subscribers/"));

    // The last campaign, genuine beside machine numbers.
    assert!(page.contains(&format!("/admin/campaigns/{campaign}")));
    let last = text_of(&page, "last-campaign");
    assert_contains(
        &last,
        "3 opened by a person",
        "opener, clicker and replier (a click or a reply is an open)",
    );
    assert!(last.contains("1 only by a machine"), "{last}");
    assert!(last.contains("1 clicked by a person"), "{last}");
    assert!(last.contains("0 only by a link scanner"), "{last}");
    assert!(last.contains("1 reply"), "{last}");
}
