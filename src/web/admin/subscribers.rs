//! `/admin/subscribers`: who is on the list and how much they care, as a table the owner
//! can sort (engagement, name, signup date, last human activity; either way), search (an
//! address or a name, any case), filter (tier, status) and page through, all in the query
//! string so it works without JavaScript and every view can be bookmarked.
//!
//! One person's page and what the owner can do there is in `person`; how their consent
//! record and timeline read, in `story`.

mod person;
mod story;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Serialize;
use tera::Context;
use time::OffsetDateTime;

use super::{AdminError, Owner, page};
use crate::actions::subscribers::SubscriberError;
use crate::domain::{SubscriberStatus, Tier};
use crate::store::{SubscriberFilter, SubscriberOrder};
use crate::web::AppState;
use crate::web::routes::Routes;

/// How a refused change to a subscriber reads on an admin page.
fn refused(err: SubscriberError) -> AdminError {
    match err {
        SubscriberError::NotFound => AdminError::no_subscriber(),
        SubscriberError::Invalid { message, .. } => AdminError::Invalid {
            title: "Please check that again",
            message,
        },
        SubscriberError::AlreadyOnList | SubscriberError::Erased => AdminError::Conflict {
            title: "Not added",
            message: err.to_string(),
        },
        SubscriberError::Unexpected(err) => AdminError::Unexpected(err),
    }
}

/// Subscribers per page.
pub const PAGE_SIZE: i64 = 50;
const MAX_PAGE: i64 = 1_000_000;
const MAX_SEARCH_CHARS: usize = 200;
const LIST_PATH: &str = "/admin/subscribers";

pub fn routes() -> Routes {
    Routes::new()
        .route(LIST_PATH, get(list))
        .merge(person::routes())
}

/// What the table can be sorted by; each has its natural direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Engagement,
    Name,
    Signup,
    Activity,
}

impl SortKey {
    const ALL: [Self; 4] = [Self::Engagement, Self::Name, Self::Signup, Self::Activity];

    fn as_str(self) -> &'static str {
        match self {
            Self::Engagement => "engagement",
            Self::Name => "name",
            Self::Signup => "signup",
            Self::Activity => "activity",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|key| key.as_str() == raw)
    }

    /// Most engaged, newest and most recently active first; names from A.
    fn descending_by_default(self) -> bool {
        !matches!(self, Self::Name)
    }

    fn order(self, descending: bool) -> SubscriberOrder {
        match (self, descending) {
            (Self::Engagement, true) => SubscriberOrder::Engagement,
            (Self::Engagement, false) => SubscriberOrder::LeastEngaged,
            (Self::Name, false) => SubscriberOrder::Name,
            (Self::Name, true) => SubscriberOrder::NameDescending,
            (Self::Signup, true) => SubscriberOrder::Newest,
            (Self::Signup, false) => SubscriberOrder::Oldest,
            (Self::Activity, true) => SubscriberOrder::RecentActivity,
            (Self::Activity, false) => SubscriberOrder::LeastRecentActivity,
        }
    }
}

/// The view the owner asked for.
#[derive(Debug, Clone)]
struct ListView {
    search: Option<String>,
    tier: Option<Tier>,
    status: Option<SubscriberStatus>,
    sort: SortKey,
    descending: bool,
    page: i64,
    notice: Option<&'static str>,
}

impl Default for ListView {
    fn default() -> Self {
        Self {
            search: None,
            tier: None,
            status: None,
            sort: SortKey::Engagement,
            descending: true,
            page: 1,
            notice: None,
        }
    }
}

impl ListView {
    /// Reads the query string; every value that cannot be taken is explained.
    fn parse(query: Option<&str>) -> (Self, Vec<String>) {
        let mut view = Self::default();
        let mut problems = Vec::new();
        let mut direction: Option<String> = None;
        let quoted = |raw: &str| raw.chars().take(40).collect::<String>();
        for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match key.as_ref() {
                "q" => {
                    if value.chars().count() > MAX_SEARCH_CHARS {
                        problems.push(format!(
                            "Search for at most {MAX_SEARCH_CHARS} characters."
                        ));
                    } else {
                        view.search = Some(value.to_string());
                    }
                }
                "tier" => match Tier::parse(value) {
                    Some(tier) => view.tier = Some(tier),
                    None => problems.push(format!(
                        "There is no tier “{}”: choose core, engaged, new, quiet, dormant or gone.",
                        quoted(value)
                    )),
                },
                "status" => match SubscriberStatus::parse(value) {
                    Some(status) => view.status = Some(status),
                    None => problems.push(format!(
                        "There is no status “{}”: choose pending, confirmed, unsubscribed, bounced or complained.",
                        quoted(value)
                    )),
                },
                "sort" => match SortKey::parse(value) {
                    Some(sort) => view.sort = sort,
                    None => problems.push(format!(
                        "The table cannot be sorted by “{}”: sort by engagement, name, signup or activity.",
                        quoted(value)
                    )),
                },
                "dir" => direction = Some(value.to_string()),
                "page" => match value.parse::<i64>() {
                    Ok(page) if (1..=MAX_PAGE).contains(&page) => view.page = page,
                    _ => problems.push(format!(
                        "“{}” is not a page number: pages are numbered from 1.",
                        quoted(value)
                    )),
                },
                "notice" => view.notice = notice(value),
                _ => {}
            }
        }
        view.descending = match direction.as_deref() {
            None => view.sort.descending_by_default(),
            Some("desc") => true,
            Some("asc") => false,
            Some(other) => {
                problems.push(format!(
                    "“{}” is not a direction: use asc or desc.",
                    quoted(other)
                ));
                view.sort.descending_by_default()
            }
        };
        (view, problems)
    }

    /// The link to this view (defaults left out, so links stay short).
    fn href(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(search) = &self.search {
            query.append_pair("q", search);
        }
        if let Some(tier) = self.tier {
            query.append_pair("tier", tier.as_str());
        }
        if let Some(status) = self.status {
            query.append_pair("status", status.as_str());
        }
        if self.sort != SortKey::Engagement {
            query.append_pair("sort", self.sort.as_str());
        }
        if self.descending != self.sort.descending_by_default() {
            query.append_pair("dir", if self.descending { "desc" } else { "asc" });
        }
        if self.page != 1 {
            query.append_pair("page", &self.page.to_string());
        }
        let query = query.finish();
        if query.is_empty() {
            LIST_PATH.to_string()
        } else {
            format!("{LIST_PATH}?{query}")
        }
    }

    fn on_page(&self, page: i64) -> String {
        Self {
            page,
            notice: None,
            ..self.clone()
        }
        .href()
    }

    /// The column header's link: sorted by `key` in its natural direction, or the other
    /// way when it is already sorted by it so; back to the first page.
    fn sorted_by(&self, key: SortKey) -> String {
        let descending = if self.sort == key {
            !self.descending
        } else {
            key.descending_by_default()
        };
        Self {
            sort: key,
            descending,
            page: 1,
            notice: None,
            ..self.clone()
        }
        .href()
    }
}

/// The messages a redirect back to the list may ask for (never text from the URL).
fn notice(name: &str) -> Option<&'static str> {
    match name {
        "erased" => Some(
            "The subscriber was erased: everything about them is gone, and their address will not be added again unless they sign up themselves.",
        ),
        _ => None,
    }
}

/// A sortable column's header: its link, and how the table is sorted by it now.
#[derive(Serialize)]
struct Column {
    href: String,
    /// `ascending` or `descending` when the table is sorted by it (for `aria-sort`).
    sorted: Option<&'static str>,
}

#[derive(Serialize)]
struct Columns {
    name: Column,
    score: Column,
    signup: Column,
    activity: Column,
}

#[derive(Serialize)]
struct Choice {
    value: &'static str,
    selected: bool,
}

async fn list(
    State(state): State<AppState>,
    owner: Owner,
    RawQuery(query): RawQuery,
) -> Result<Response, AdminError> {
    let (view, problems) = ListView::parse(query.as_deref());
    let mut context = Context::new();
    context.insert("search", view.search.as_deref().unwrap_or_default());
    context.insert(
        "tiers",
        &Tier::ALL.map(|tier| Choice {
            value: tier.as_str(),
            selected: view.tier == Some(tier),
        }),
    );
    context.insert(
        "statuses",
        &SubscriberStatus::ALL.map(|status| Choice {
            value: status.as_str(),
            selected: view.status == Some(status),
        }),
    );
    context.insert("sort", view.sort.as_str());
    context.insert("dir", if view.descending { "desc" } else { "asc" });
    if let Some(notice) = view.notice {
        context.insert("notice", notice);
    }
    if !problems.is_empty() {
        context.insert("problems", &problems);
        let mut response = page(
            &state,
            &owner,
            "subscribers",
            "web/admin/subscribers.html",
            &mut context,
        );
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return Ok(response);
    }
    let filter = SubscriberFilter {
        status: view.status,
        tier: view.tier,
        order: view.sort.order(view.descending),
    };
    let offset = (view.page - 1) * PAGE_SIZE;
    let found = state
        .store
        .search_subscribers(
            filter,
            view.search.as_deref(),
            PAGE_SIZE,
            offset,
            OffsetDateTime::now_utc(),
        )
        .await?;
    let shown = found.subscribers.len() as i64;
    let column = |key: SortKey| Column {
        href: view.sorted_by(key),
        sorted: (view.sort == key).then_some(if view.descending {
            "descending"
        } else {
            "ascending"
        }),
    };
    let columns = Columns {
        name: column(SortKey::Name),
        score: column(SortKey::Engagement),
        signup: column(SortKey::Signup),
        activity: column(SortKey::Activity),
    };
    let filtered = view.search.is_some() || view.tier.is_some() || view.status.is_some();
    context.insert("columns", &columns);
    context.insert("subscribers", &found.subscribers);
    context.insert("total", &found.total);
    context.insert("filtered", &filtered);
    // People who erased themselves from their own page: a count, never an address.
    context.insert("erased_by_people", &state.store.erased_by_people().await?);
    context.insert("first_shown", &(offset + 1));
    context.insert("last_shown", &(offset + shown));
    context.insert("page", &view.page);
    context.insert("page_size", &PAGE_SIZE);
    context.insert("pages", &((found.total + PAGE_SIZE - 1) / PAGE_SIZE).max(1));
    if view.page > 1 {
        context.insert("previous_href", &view.on_page(view.page - 1));
        context.insert("first_href", &view.on_page(1));
    }
    if offset + shown < found.total {
        context.insert("next_href", &view.on_page(view.page + 1));
    }
    Ok(page(
        &state,
        &owner,
        "subscribers",
        "web/admin/subscribers.html",
        &mut context,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_reads_from_and_links_to_the_query_string() {
        let (view, problems) =
            ListView::parse(Some("q=ann+b%26c&tier=core&status=&sort=name&page=3"));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(view.search.as_deref(), Some("ann b&c"));
        assert_eq!(view.tier, Some(Tier::Core));
        assert_eq!(view.status, None);
        assert_eq!(view.sort, SortKey::Name);
        assert!(!view.descending);
        assert_eq!(
            view.href(),
            "/admin/subscribers?q=ann+b%26c&tier=core&sort=name&page=3"
        );
        assert_eq!(
            view.on_page(4),
            "/admin/subscribers?q=ann+b%26c&tier=core&sort=name&page=4"
        );
        assert_eq!(
            view.sorted_by(SortKey::Name),
            "/admin/subscribers?q=ann+b%26c&tier=core&sort=name&dir=desc"
        );
        assert_eq!(
            view.sorted_by(SortKey::Engagement),
            "/admin/subscribers?q=ann+b%26c&tier=core"
        );
        assert_eq!(ListView::parse(None).0.href(), "/admin/subscribers");
    }

    #[test]
    fn bad_values_are_explained() {
        let (_, problems) = ListView::parse(Some("tier=vip&status=gone&sort=shoe&dir=up&page=0"));
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(problems[0].contains("no tier “vip”"));
        let (_, problems) = ListView::parse(Some("page=abc"));
        assert!(problems[0].contains("not a page number"));
        let long = format!("q={}", "x".repeat(201));
        assert_eq!(ListView::parse(Some(&long)).1.len(), 1);
    }
}
