//! The words of a public page as the owner wrote them: Markdown with placeholders, rendered
//! the way a campaign body is (values never read as Markdown), to HTML the page shows.

use tera::Context;

use super::{TemplateError, add, markdown_blocks, placeholders};

/// The page words `source` with `values` (and `lang`, for `t()`), as HTML.
pub fn page_words(source: &str, values: &Context) -> Result<String, TemplateError> {
    let mut tera = crate::templates::engine();
    tera.set_escape_fn(placeholders::write_token);
    add(
        &mut tera,
        "body",
        "body.html",
        &placeholders::without_tokens(source),
    )?;
    let markdown = tera
        .render("body.html", values)
        .map_err(|err| TemplateError {
            field: "body",
            reason: super::explain(&err),
        })?;
    let options =
        pulldown_cmark::Options::ENABLE_TABLES | pulldown_cmark::Options::ENABLE_STRIKETHROUGH;
    Ok(markdown_blocks(&markdown, &[], options).join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_markdown_and_values_stay_text() {
        let mut values = Context::new();
        values.insert("lang", "en");
        values.insert("email", "*x*@example.com <b>");
        values.insert("list_name", "Corner Bakery");
        let html = page_words(
            "Thanks, **{{ email }}**: {{ list_name }} is yours.\n\n{{ t(key=\"confirmed-unsubscribe\") }}",
            &values,
        )
        .unwrap();
        assert!(
            html.contains("<strong>*x*@example.com &lt;b&gt;</strong>"),
            "{html}"
        );
        assert!(html.contains("<p>Every message has a link"), "{html}");
        let err = page_words("{{ nope }}", &values).unwrap_err();
        assert_eq!(err.field, "body");
    }
}
