//! The poller's mark, its search date and its back-off.

use super::*;

#[test]
fn the_mark_and_the_search_date_are_written_as_kept_and_as_imap_wants() {
    let mark = ReadUpTo {
        validity: 1_700_000_000,
        uid: 42,
    };
    assert_eq!(mark.kept(), "1700000000:42");
    assert_eq!(ReadUpTo::parse(&mark.kept()), Some(mark));
    for broken in ["", "42", "x:1", "1:", "1:-3", "1:2:3"] {
        assert_eq!(ReadUpTo::parse(broken), None, "{broken}");
    }
    assert_eq!(imap_date(time::macros::date!(2026 - 11 - 05)), "5-Nov-2026");
    assert_eq!(
        imap_date(time::macros::date!(2027 - 01 - 31)),
        "31-Jan-2027"
    );
}

#[test]
fn failures_in_a_row_wait_longer() {
    let poller_wait =
        |interval: u64, failures: u32| backoff(Duration::from_secs(interval), failures).as_secs();
    assert_eq!(poller_wait(60, 0), 60);
    assert_eq!(poller_wait(60, 1), 60);
    assert_eq!(poller_wait(60, 3), 240);
    assert_eq!(poller_wait(60, 50), 900);
    assert_eq!(poller_wait(3600, 5), 3600);
}
