//! The page the browser shows after the redirect: self-contained (no scripts, images or
//! outside requests), telling the user whether the sign-in worked and what to do next.

/// Whether the page reports success (the tone of its heading).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    Done,
    Problem,
}

/// The HTML of a result page. `heading` and `detail` are escaped here: the detail may quote
/// what arrived in the redirect's query (a provider's `error_description`).
pub(crate) fn render(tone: Tone, heading: &str, detail: &str) -> String {
    let accent = match tone {
        Tone::Done => "#1a7f37",
        Tone::Problem => "#b42318",
    };
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; background: #f6f7f9; color: #1f2328; margin: 0; }}
main {{ max-width: 32rem; margin: 15vh auto; background: #fff; border-radius: 12px; padding: 2rem 2.25rem; box-shadow: 0 1px 3px rgba(0,0,0,.12); }}
h1 {{ font-size: 1.35rem; margin: 0 0 .75rem; color: {accent}; }}
p {{ line-height: 1.5; margin: 0 0 .75rem; }}
.app {{ font-size: .85rem; color: #59636e; margin-top: 1.5rem; }}
</style>
</head>
<body>
<main>
<h1>{heading}</h1>
<p>{detail}</p>
<p class="app">Switchboard</p>
</main>
</body>
</html>
"#,
        heading = escape(heading),
        detail = escape(detail),
    )
}

/// HTML-escapes text for element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_nothing_is_loaded_from_outside() {
        let html = render(Tone::Problem, "Oops", "<script>alert('x')</script> & more");
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("src="));
        assert!(!html.contains("href="));
    }
}
