//! Human or machine: the verdict on one open or click, with its reason in words.
//!
//! Since Apple Mail Privacy Protection, most raw opens are Apple's proxies fetching every
//! image at delivery, and corporate link scanners click every link seconds after a message
//! arrives. Counting those flatters a list; these rules keep them apart. Each rule is
//! cheap and looks only at what one request says, plus how long after delivery it came.
//! (A burst of clicks on every link of one message, and the visible clicks that come with
//! a click on the hidden link, are judged by the event writer, which sees the message's
//! other clicks.)

use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Open,
    Click,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Click => "click",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Human,
    /// An open made by software: a privacy proxy's prefetch, a bot.
    Machine,
    /// A click made by a link scanner.
    Scanner,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Human => "human",
            Self::Machine => "machine",
            Self::Scanner => "scanner",
        }
    }

    /// Not a person: machine for opens, scanner for clicks.
    fn not_human(kind: EventKind) -> Self {
        match kind {
            EventKind::Open => Self::Machine,
            EventKind::Click => Self::Scanner,
        }
    }
}

/// What one request tells about who made it.
#[derive(Debug, Clone, Copy)]
pub struct Signals<'a> {
    pub kind: EventKind,
    pub user_agent: Option<&'a str>,
    pub ip: Option<IpAddr>,
    /// How long after the message was accepted for delivery; `None` when it is not known.
    pub since_delivery: Option<Duration>,
    /// The click followed the hidden link every tracked copy carries, which no person can
    /// see or reach.
    pub hidden_link: bool,
}

/// The settings the rules use.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Anything this soon after delivery is a machine.
    pub machine_window: Duration,
    pub apple_proxy_ranges: Vec<IpNet>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    pub verdict: Verdict,
    pub reason: String,
}

impl Judged {
    fn human(reason: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Human,
            reason: reason.into(),
        }
    }

    fn not_human(kind: EventKind, reason: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::not_human(kind),
            reason: reason.into(),
        }
    }
}

/// Parts of user agents that only software sends: crawlers, HTTP libraries, headless
/// browsers, link-preview fetchers, and the mail-security gateways that scan links.
const SOFTWARE_AGENTS: &[&str] = &[
    "bot",
    "spider",
    "crawl",
    "slurp",
    "python",
    "curl/",
    "wget",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww",
    "httpclient",
    "node-fetch",
    "axios",
    "headless",
    "phantomjs",
    "scanner",
    "barracuda",
    "proofpoint",
    "mimecast",
    "symantec",
    "trendmicro",
    "forcepoint",
    "sophos",
    "fortiguard",
    "ironport",
    "safelinks",
    "microsoft office existence discovery",
    "facebookexternalhit",
    "whatsapp",
    "skypeuripreview",
    "bingpreview",
    "preview",
];

/// Why a click on the hidden link is a scanner's.
const HIDDEN_LINK_REASON: &str = "followed a hidden link no person can see";

/// Judges one open or click.
pub fn judge(signals: &Signals<'_>, rules: &Rules) -> Judged {
    let kind = signals.kind;
    // Whatever it says about itself: only software follows a link that is never shown.
    if kind == EventKind::Click && signals.hidden_link {
        return Judged::not_human(kind, HIDDEN_LINK_REASON);
    }
    let agent = signals.user_agent.map(str::trim).unwrap_or("");
    // Gmail fetches images through its proxy when the message is opened, not at delivery.
    if kind == EventKind::Open && agent.contains("GoogleImageProxy") {
        return Judged::human("opened in Gmail (its image proxy fetches when a person opens)");
    }
    if kind == EventKind::Open && agent == "Mozilla/5.0" {
        return Judged::not_human(
            kind,
            "Apple Mail Privacy Protection (its proxy's bare user agent)",
        );
    }
    if kind == EventKind::Open
        && let Some(ip) = signals.ip
        && rules
            .apple_proxy_ranges
            .iter()
            .any(|range| range.contains(&ip))
    {
        return Judged::not_human(
            kind,
            "Apple Mail Privacy Protection (an Apple proxy address)",
        );
    }
    if agent.is_empty() {
        return Judged::not_human(kind, "no user agent: software, not a mail client");
    }
    let lowered = agent.to_ascii_lowercase();
    if let Some(word) = SOFTWARE_AGENTS.iter().find(|word| lowered.contains(**word)) {
        let what = match kind {
            EventKind::Open => "a bot",
            EventKind::Click => "a link scanner",
        };
        return Judged::not_human(kind, format!("{what} (user agent says \"{word}\")"));
    }
    if let Some(since) = signals.since_delivery
        && since < rules.machine_window
    {
        let verb = match kind {
            EventKind::Open => "opened",
            EventKind::Click => "clicked",
        };
        return Judged::not_human(
            kind,
            format!(
                "{verb} {} s after delivery, sooner than a person reads",
                since.as_secs()
            ),
        );
    }
    match kind {
        EventKind::Open => Judged::human("opened"),
        EventKind::Click => Judged::human("clicked"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148";
    const GMAIL: &str =
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)";

    fn rules() -> Rules {
        Rules {
            machine_window: Duration::from_secs(10),
            apple_proxy_ranges: vec!["17.0.0.0/8".parse().unwrap()],
        }
    }

    fn judge_one(kind: EventKind, agent: Option<&str>, ip: &str, after: u64) -> Judged {
        judge(
            &Signals {
                kind,
                user_agent: agent,
                ip: Some(ip.parse().unwrap()),
                since_delivery: Some(Duration::from_secs(after)),
                hidden_link: false,
            },
            &rules(),
        )
    }

    #[test]
    fn apple_privacy_protection_is_a_machine_by_agent_or_address() {
        let by_agent = judge_one(EventKind::Open, Some("Mozilla/5.0"), "203.0.113.9", 3600);
        assert_eq!(by_agent.verdict, Verdict::Machine);
        assert!(by_agent.reason.contains("Apple"), "{}", by_agent.reason);
        let by_address = judge_one(EventKind::Open, Some(IPHONE), "17.58.1.2", 3600);
        assert_eq!(by_address.verdict, Verdict::Machine);
    }

    #[test]
    fn anything_right_after_delivery_is_a_machine() {
        assert_eq!(
            judge_one(EventKind::Open, Some(IPHONE), "203.0.113.9", 2).verdict,
            Verdict::Machine
        );
        let click = judge_one(EventKind::Click, Some(IPHONE), "203.0.113.9", 2);
        assert_eq!(click.verdict, Verdict::Scanner);
        assert!(
            click.reason.contains("2 s after delivery"),
            "{}",
            click.reason
        );
    }

    #[test]
    fn people_are_people_and_gmail_proxy_opens_count() {
        assert_eq!(
            judge_one(EventKind::Open, Some(IPHONE), "203.0.113.9", 600).verdict,
            Verdict::Human
        );
        assert_eq!(
            judge_one(EventKind::Click, Some(IPHONE), "203.0.113.9", 600).verdict,
            Verdict::Human
        );
        // Even within the window: Gmail's proxy only fetches when the message is opened.
        assert_eq!(
            judge_one(EventKind::Open, Some(GMAIL), "66.249.84.1", 5).verdict,
            Verdict::Human
        );
    }

    #[test]
    fn scanners_and_bots_by_user_agent() {
        for agent in [
            "python-requests/2.31",
            "Mozilla/5.0 (compatible; Barracuda Sentinel)",
            "curl/8.4.0",
            "Mozilla/5.0 HeadlessChrome/120.0",
        ] {
            let click = judge_one(EventKind::Click, Some(agent), "203.0.113.9", 600);
            assert_eq!(click.verdict, Verdict::Scanner, "{agent}");
            let open = judge_one(EventKind::Open, Some(agent), "203.0.113.9", 600);
            assert_eq!(open.verdict, Verdict::Machine, "{agent}");
        }
        assert_eq!(
            judge_one(EventKind::Click, None, "203.0.113.9", 600).verdict,
            Verdict::Scanner
        );
    }

    #[test]
    fn the_hidden_link_is_followed_only_by_scanners() {
        // A browser's user agent, long after delivery: a person's click, were the link
        // visible.
        let hidden = |agent: Option<&str>| {
            judge(
                &Signals {
                    kind: EventKind::Click,
                    user_agent: agent,
                    ip: Some("203.0.113.9".parse().unwrap()),
                    since_delivery: Some(Duration::from_secs(3600)),
                    hidden_link: true,
                },
                &rules(),
            )
        };
        for agent in [Some(IPHONE), Some(GMAIL), Some("curl/8.4.0"), None] {
            let click = hidden(agent);
            assert_eq!(click.verdict, Verdict::Scanner, "{agent:?}");
            assert_eq!(click.reason, "followed a hidden link no person can see");
        }
        assert_eq!(
            judge_one(EventKind::Click, Some(IPHONE), "203.0.113.9", 3600).verdict,
            Verdict::Human,
            "the same click on a visible link is a person's"
        );
    }
}
