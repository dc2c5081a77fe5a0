//! Genuine interest, per subscriber: a score that decays, a tier, and the reasons in words.
//!
//! The score is a decayed sum of human signals: each copy a person opened counts once
//! (`OPEN`), each copy they clicked in counts once more (`CLICK`), each reply they wrote
//! counts `REPLY`. A signal loses half its weight every half-life (60 days unless
//! configured). Machine opens, scanner clicks and automatic replies never count: only
//! signals judged human reach this module.
//!
//! The sum is kept as a *rank*, `log2(Σ weight · 2^(t / half_life))` with `t` in days since
//! the Unix epoch. The rank does not change as time passes, so ordering subscribers by rank
//! orders them by their current score without recomputing anything; the score itself is
//! `2^(rank − now / half_life)`.

use serde::Serialize;
use time::{Duration, OffsetDateTime};

/// One copy opened by a person (a human click counts as an open too).
pub const OPEN: f64 = 1.0;
/// One copy whose links a person followed, on top of its open.
pub const CLICK: f64 = 3.0;
/// One reply a person wrote.
pub const REPLY: f64 = 10.0;
/// A "keep me" answer to a re-permission request.
pub const KEPT: f64 = 3.0;

/// `core`: a score of at least this (a reply in the last few weeks, or opening and
/// clicking most campaigns).
pub const CORE_SCORE: f64 = 8.0;
/// `engaged`: a human open, click or reply within this many days.
pub const ENGAGED_DAYS: i64 = 90;
/// `new`: joined within this many days, or sent fewer than `NEW_CAMPAIGNS` campaigns.
pub const NEW_DAYS: i64 = 30;
pub const NEW_CAMPAIGNS: i64 = 3;
/// `dormant`: nothing human for this many days and at least `DORMANT_CAMPAIGNS` campaigns.
pub const DORMANT_DAYS: i64 = 180;
pub const DORMANT_CAMPAIGNS: i64 = 5;

pub const DEFAULT_HALF_LIFE_DAYS: f64 = 60.0;

/// How interest is weighed over time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngagementModel {
    pub half_life_days: f64,
}

impl Default for EngagementModel {
    fn default() -> Self {
        Self {
            half_life_days: DEFAULT_HALF_LIFE_DAYS,
        }
    }
}

fn days_since_epoch(at: OffsetDateTime) -> f64 {
    (at - OffsetDateTime::UNIX_EPOCH).as_seconds_f64() / 86_400.0
}

impl EngagementModel {
    /// The rank of a set of weighted signals; `None` when there are none.
    pub fn rank(&self, signals: impl IntoIterator<Item = (f64, OffsetDateTime)>) -> Option<f64> {
        let terms: Vec<f64> = signals
            .into_iter()
            .filter(|(weight, _)| *weight > 0.0)
            .map(|(weight, at)| weight.log2() + days_since_epoch(at) / self.half_life_days)
            .collect();
        // log2(Σ 2^term), computed around the largest term so nothing overflows.
        let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if !top.is_finite() {
            return None;
        }
        Some(top + terms.iter().map(|t| (t - top).exp2()).sum::<f64>().log2())
    }

    /// The score a rank stands for at `now`.
    pub fn score(&self, rank: Option<f64>, now: OffsetDateTime) -> f64 {
        rank.map_or(0.0, |rank| {
            (rank - days_since_epoch(now) / self.half_life_days).exp2()
        })
    }

    /// The smallest rank whose score at `now` is at least `score`.
    pub fn rank_for_score(&self, score: f64, now: OffsetDateTime) -> f64 {
        score.log2() + days_since_epoch(now) / self.half_life_days
    }

    /// What a subscriber's signals add up to, from the copies they were sent, their
    /// replies, and their "keep me" answers.
    pub fn figures(
        &self,
        copies: &[CopySignals],
        replies: &[OffsetDateTime],
        kept: &[OffsetDateTime],
    ) -> Figures {
        let opened: Vec<OffsetDateTime> = copies.iter().filter_map(|c| c.opened_at).collect();
        let clicked: Vec<OffsetDateTime> = copies.iter().filter_map(|c| c.clicked_at).collect();
        let rank = self.rank(
            opened
                .iter()
                .map(|at| (OPEN, *at))
                .chain(clicked.iter().map(|at| (CLICK, *at)))
                .chain(replies.iter().map(|at| (REPLY, *at)))
                .chain(kept.iter().map(|at| (KEPT, *at))),
        );
        let last_open_at = opened.iter().max().copied();
        let last_click_at = clicked.iter().max().copied();
        let last_reply_at = replies.iter().max().copied();
        let last_kept_at = kept.iter().max().copied();
        let last_signal_at = [last_open_at, last_click_at, last_reply_at, last_kept_at]
            .into_iter()
            .flatten()
            .max();
        let campaigns_since_signal = copies
            .iter()
            .filter(|c| last_signal_at.is_none_or(|last| c.sent_at > last))
            .count() as i64;
        Figures {
            rank,
            opens: opened.len() as i64,
            clicks: clicked.len() as i64,
            replies: replies.len() as i64,
            last_open_at,
            last_click_at,
            last_reply_at,
            last_kept_at,
            last_signal_at,
            campaigns: copies.len() as i64,
            campaigns_since_signal,
        }
    }
}

/// One campaign copy sent to a subscriber, and when a person first opened or clicked it.
#[derive(Debug, Clone, Copy)]
pub struct CopySignals {
    /// When the copy was addressed to them (the campaign's start).
    pub sent_at: OffsetDateTime,
    pub opened_at: Option<OffsetDateTime>,
    pub clicked_at: Option<OffsetDateTime>,
}

/// A subscriber's interest, as stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Figures {
    /// `None`: no human signal at all.
    pub rank: Option<f64>,
    /// Copies a person opened, clicked in, and replies written.
    pub opens: i64,
    pub clicks: i64,
    pub replies: i64,
    pub last_open_at: Option<OffsetDateTime>,
    pub last_click_at: Option<OffsetDateTime>,
    pub last_reply_at: Option<OffsetDateTime>,
    /// The last "keep me" answer to a re-permission request.
    pub last_kept_at: Option<OffsetDateTime>,
    pub last_signal_at: Option<OffsetDateTime>,
    /// Campaigns addressed to them, and those since their last human signal.
    pub campaigns: i64,
    pub campaigns_since_signal: i64,
}

/// Where a subscriber stands; defined in README ("Engagement").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Core,
    Engaged,
    New,
    Quiet,
    Dormant,
    Gone,
}

impl Tier {
    /// Most engaged first.
    pub const ALL: [Self; 6] = [
        Self::Core,
        Self::Engaged,
        Self::New,
        Self::Quiet,
        Self::Dormant,
        Self::Gone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Core => "core",
            Self::Engaged => "engaged",
            Self::New => "new",
            Self::Quiet => "quiet",
            Self::Dormant => "dormant",
            Self::Gone => "gone",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|tier| tier.as_str() == raw)
    }

    /// The people who genuinely care: the headline's "engaged".
    pub fn is_engaged(self) -> bool {
        matches!(self, Self::Core | Self::Engaged)
    }
}

/// The moments the tiers are measured from, at one `now` (bound into the tier query).
#[derive(Debug, Clone, Copy)]
pub struct TierBounds {
    pub core_rank: f64,
    pub engaged_since: OffsetDateTime,
    pub new_since: OffsetDateTime,
    pub dormant_before: OffsetDateTime,
}

impl TierBounds {
    pub fn at(model: &EngagementModel, now: OffsetDateTime) -> Self {
        Self {
            core_rank: model.rank_for_score(CORE_SCORE, now),
            engaged_since: now - Duration::days(ENGAGED_DAYS),
            new_since: now - Duration::days(NEW_DAYS),
            dormant_before: now - Duration::days(DORMANT_DAYS),
        }
    }
}

/// A subscriber's engagement as the API and the console show it.
#[derive(Debug, Clone, Serialize)]
pub struct Engagement {
    /// The decayed sum of human signals now, one decimal.
    pub score: f64,
    pub tier: Tier,
    /// Why, in words: "replied twice, last 5 days ago".
    pub reasons: Vec<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_human_activity_at: Option<OffsetDateTime>,
}

/// What the reasons are told from, besides the figures.
pub struct Standing<'a> {
    pub status: &'a str,
    pub joined_at: OffsetDateTime,
}

impl Engagement {
    pub fn describe(
        model: &EngagementModel,
        figures: &Figures,
        tier: Tier,
        standing: &Standing<'_>,
        now: OffsetDateTime,
    ) -> Self {
        let mut reasons = Vec::new();
        if tier == Tier::Gone {
            reasons.push(match standing.status {
                "bounced" => "their address bounces".to_string(),
                "complained" => "marked a newsletter as spam".to_string(),
                other => other.to_string(),
            });
        }
        let mut counted = |count: i64, what: &str, unit: &str, last: Option<OffsetDateTime>| {
            if count > 0 {
                let last = last.map(|at| ago(now - at)).unwrap_or_default();
                reasons.push(format!("{what} {}, last {last}", times(count, unit)));
            }
        };
        counted(figures.replies, "replied", "", figures.last_reply_at);
        counted(
            figures.clicks,
            "clicked in",
            "campaign",
            figures.last_click_at,
        );
        counted(figures.opens, "opened", "campaign", figures.last_open_at);
        if let Some(kept) = figures.last_kept_at {
            reasons.push(format!("asked to keep receiving it, {}", ago(now - kept)));
        }
        if figures.last_signal_at.is_none() {
            reasons.push(if figures.campaigns == 0 {
                "not sent a campaign yet".to_string()
            } else {
                format!(
                    "no human open, click or reply in {}",
                    times(figures.campaigns, "campaign")
                )
            });
        } else if figures.campaigns_since_signal >= DORMANT_CAMPAIGNS {
            reasons.push(format!(
                "nothing since, in {}",
                times(figures.campaigns_since_signal, "campaign")
            ));
        }
        if tier == Tier::New {
            reasons.push(format!("joined {}", ago(now - standing.joined_at)));
        }
        Self {
            score: (model.score(figures.rank, now) * 10.0).round() / 10.0,
            tier,
            reasons,
            last_human_activity_at: figures.last_signal_at,
        }
    }
}

/// "once", "twice", "3 times"; with a unit: "1 campaign", "3 campaigns".
fn times(count: i64, unit: &str) -> String {
    match (count, unit) {
        (1, "") => "once".to_string(),
        (2, "") => "twice".to_string(),
        (n, "") => format!("{n} times"),
        (1, unit) => format!("1 {unit}"),
        (n, unit) => format!("{n} {unit}s"),
    }
}

/// "today", "yesterday", "5 days ago", "3 weeks ago", "4 months ago", "2 years ago".
pub fn ago(elapsed: Duration) -> String {
    let days = elapsed.whole_days().max(0);
    let (n, unit) = match days {
        0 => return "today".to_string(),
        1 => return "yesterday".to_string(),
        2..=13 => (days, "day"),
        14..=59 => (days / 7, "week"),
        60..=729 => (days / 30, "month"),
        _ => (days / 365, "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::days(20_000 + n)
    }

    fn copy(sent: i64, opened: Option<i64>, clicked: Option<i64>) -> CopySignals {
        CopySignals {
            sent_at: day(sent),
            opened_at: opened.map(day),
            clicked_at: clicked.map(day),
        }
    }

    #[test]
    fn a_signal_loses_half_its_weight_each_half_life() {
        let model = EngagementModel::default();
        let rank = model.rank([(REPLY, day(0))]);
        assert!((model.score(rank, day(0)) - 10.0).abs() < 1e-9);
        assert!((model.score(rank, day(60)) - 5.0).abs() < 1e-9);
        assert!((model.score(rank, day(120)) - 2.5).abs() < 1e-9);
        let short = EngagementModel {
            half_life_days: 10.0,
        };
        assert!((short.score(short.rank([(OPEN, day(0))]), day(10)) - 0.5).abs() < 1e-9);
        assert_eq!(model.score(None, day(0)), 0.0);
    }

    #[test]
    fn ranks_add_up_like_scores_and_order_like_them_at_any_time() {
        let model = EngagementModel::default();
        let both = model.rank([(OPEN, day(0)), (CLICK, day(30))]);
        let expected = 0.5f64.powf(100.0 / 60.0) + 3.0 * 0.5f64.powf(70.0 / 60.0);
        assert!((model.score(both, day(100)) - expected).abs() < 1e-9);
        // Far from the epoch and with a short half-life, nothing overflows.
        let tiny = EngagementModel {
            half_life_days: 0.5,
        };
        let rank = tiny.rank([(REPLY, day(0)), (OPEN, day(1))]);
        assert!(rank.is_some_and(f64::is_finite));
        assert!((tiny.score(rank, day(1)) - (1.0 + 10.0 * 0.25)).abs() < 1e-9);
        let replier = model.rank([(REPLY, day(0))]);
        let clicker = model.rank([(OPEN, day(50)), (CLICK, day(50))]);
        for now in [50, 100, 400] {
            assert!(model.score(replier, day(now)) > model.score(clicker, day(now)));
        }
        assert!(replier > clicker);
    }

    #[test]
    fn repeats_count_once_per_copy_and_silence_is_counted_in_campaigns() {
        let model = EngagementModel::default();
        let copies = [
            copy(0, Some(1), Some(1)),
            copy(10, Some(11), None),
            copy(20, None, None),
            copy(30, None, None),
        ];
        let figures = model.figures(&copies, &[day(12), day(13)], &[]);
        assert_eq!((figures.opens, figures.clicks, figures.replies), (2, 1, 2));
        assert_eq!(figures.last_signal_at, Some(day(13)));
        assert_eq!(figures.campaigns, 4);
        assert_eq!(figures.campaigns_since_signal, 2);
        let nothing = model.figures(&copies[2..], &[], &[]);
        assert_eq!(nothing.rank, None);
        assert_eq!(nothing.campaigns_since_signal, 2);
    }

    #[test]
    fn reasons_in_words() {
        let model = EngagementModel::default();
        let figures = model.figures(
            &[copy(0, Some(0), Some(2)), copy(10, Some(10), None)],
            &[day(3), day(15)],
            &[],
        );
        let standing = Standing {
            status: "confirmed",
            joined_at: day(-400),
        };
        let shown = Engagement::describe(&model, &figures, Tier::Core, &standing, day(20));
        assert_eq!(
            shown.reasons,
            [
                "replied twice, last 5 days ago",
                "clicked in 1 campaign, last 2 weeks ago",
                "opened 2 campaigns, last 10 days ago",
            ]
        );
        let silent = model.figures(&[copy(0, None, None); 6], &[], &[]);
        let shown = Engagement::describe(&model, &silent, Tier::Dormant, &standing, day(200));
        assert_eq!(
            shown.reasons,
            ["no human open, click or reply in 6 campaigns"]
        );
        assert_eq!(shown.score, 0.0);
        let fresh = Standing {
            status: "confirmed",
            joined_at: day(199),
        };
        let shown = Engagement::describe(&model, &Figures::default(), Tier::New, &fresh, day(200));
        assert_eq!(
            shown.reasons,
            ["not sent a campaign yet", "joined yesterday"]
        );
    }

    #[test]
    fn elapsed_time_reads_naturally() {
        assert_eq!(ago(Duration::hours(3)), "today");
        assert_eq!(ago(Duration::days(1)), "yesterday");
        assert_eq!(ago(Duration::days(5)), "5 days ago");
        assert_eq!(ago(Duration::days(21)), "3 weeks ago");
        assert_eq!(ago(Duration::days(130)), "4 months ago");
        assert_eq!(ago(Duration::days(800)), "2 years ago");
        assert_eq!(ago(Duration::days(-3)), "today");
    }
}
