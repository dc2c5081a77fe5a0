//! What a layout must show, checked when it is prepared and when the owner saves one:
//! the content, the unsubscribe link and the postal address once each, the open pixel and
//! the hidden link once each and only in tracked copies; a problem names the part and,
//! where it can, the line.

use super::*;

/// A Tera error as a layout problem in `part`, with the line Tera names.
pub(super) fn problem(part: &'static str, err: &tera::Error) -> LayoutProblem {
    let error = TemplateError {
        field: part,
        reason: explain(err)
            .replace("--> layout.html:", "--> line ")
            .replace("--> layout.txt:", "--> line "),
    };
    LayoutProblem {
        part,
        line: error.line(),
        reason: error.reason,
    }
}

/// `what` ({{ name }}) shows exactly once (`count` times); otherwise the problem, at the
/// line of the second mention when it shows twice.
fn once(
    source: &str,
    part: &'static str,
    name: &str,
    what: &str,
    count: usize,
) -> Result<(), LayoutProblem> {
    match count {
        1 => Ok(()),
        0 => Err(LayoutProblem {
            part,
            line: None,
            reason: format!("{what} is missing: the layout must show {{{{ {name} }}}} once"),
        }),
        _ => Err(LayoutProblem {
            part,
            line: nth_line(source, name, 2),
            reason: format!(
                "{what} shows {count} times: the layout must show {{{{ {name} }}}} once"
            ),
        }),
    }
}

/// The line (from 1) of the `n`th mention of the value `name` in `source`: `{{ name`
/// (with a filter or not) or `{% if name`, not the word elsewhere (`.content` in CSS).
fn nth_line(source: &str, name: &str, n: usize) -> Option<u32> {
    let mentions = source.match_indices(['{']).filter_map(|(at, _)| {
        let rest = source[at + 1..].strip_prefix(['{', '%'])?;
        let rest = rest.trim_start();
        let rest = rest.strip_prefix("if ").map_or(rest, str::trim_start);
        let after = rest.strip_prefix(name)?;
        let ends = after
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
        ends.then_some(at)
    });
    let at = mentions.into_iter().nth(n.checked_sub(1)?)?;
    u32::try_from(source[..at].matches('\n').count() + 1).ok()
}

/// Checks a layout as saving it needs: it compiles and renders for every message it wraps;
/// the content, the unsubscribe link and the postal address each show once in the HTML and
/// in the text; the open pixel and the hidden link once, only in tracked copies.
pub fn check_layout(source: &LayoutSource, look: &ListLook) -> Result<(), LayoutProblem> {
    let mut look = look.clone();
    look.postal_address = Some(marker("postal_address"));
    for wrapped in Wrapped::ALL {
        let layout = Layout::prepare(source, &look, wrapped)?;
        let postal = layout
            .skeleton(true, Shown::Both)?
            .count(Slot::PostalAddress);
        once(
            &source.html,
            "html",
            "postal_address",
            "the postal address",
            postal,
        )?;
        let text = layout
            .text(
                "",
                "someone@example.com",
                "https://example.com/unsubscribe",
                Some(&sample_reader()),
            )
            .map_err(|err| problem("text", &err))?;
        let postal = text.matches(&marker("postal_address")).count();
        once(
            &source.text,
            "text",
            "postal_address",
            "the postal address",
            postal,
        )?;
    }
    Ok(())
}

/// The HTML's per-copy places, each as often as sending needs it.
pub(super) fn html_slots(
    source: &LayoutSource,
    tracked: &Skeleton,
    untracked: &Skeleton,
) -> Result<(), LayoutProblem> {
    let html_once = |slot: Slot, name: &str, what: &str| {
        let count = tracked.count(slot);
        once(&source.html, "html", name, what, count)
    };
    html_once(Slot::Content, "content", "the content")?;
    html_once(
        Slot::UnsubscribeUrl,
        "unsubscribe_url",
        "the unsubscribe link",
    )?;
    for (slot, name, what) in [
        (Slot::OpenPixelUrl, "open_pixel_url", "the open pixel"),
        (Slot::HiddenLinkUrl, "hidden_link_url", "the hidden link"),
    ] {
        html_once(slot, name, what)?;
        if untracked.count(slot) != 0 {
            return Err(LayoutProblem {
                part: "html",
                line: nth_line(&source.html, name, 1),
                reason: format!(
                    "{what} ({{{{ {name} }}}}) shows in copies that are not tracked; put it inside {{% if {name} %}}…{{% endif %}}"
                ),
            });
        }
    }
    if untracked.count(Slot::Content) != 1 || untracked.count(Slot::UnsubscribeUrl) != 1 {
        return Err(LayoutProblem {
            part: "html",
            line: None,
            reason: "the content and the unsubscribe link must show in untracked copies too".into(),
        });
    }
    Ok(())
}

/// A campaign copy's own links, as a check renders them.
fn sample_reader() -> ReaderLinks {
    ReaderLinks {
        web_version: Some("https://example.com/v/sample".into()),
        subscription: "https://example.com/me/sample".into(),
    }
}

/// The text part's content and unsubscribe link, once each.
pub(super) fn text_slots(layout: &Layout, source: &LayoutSource) -> Result<(), LayoutProblem> {
    let content = marker("content");
    let unsubscribe = marker("unsubscribe_url");
    let text = layout
        .text(
            &content,
            "someone@example.com",
            &unsubscribe,
            Some(&sample_reader()),
        )
        .map_err(|err| problem("text", &err))?;
    once(
        &source.text,
        "text",
        "content",
        "the content",
        text.matches(&content).count(),
    )?;
    once(
        &source.text,
        "text",
        "unsubscribe_url",
        "the unsubscribe link",
        text.matches(&unsubscribe).count(),
    )?;
    Ok(())
}
