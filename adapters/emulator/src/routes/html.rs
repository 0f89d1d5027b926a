//! The few HTML pages a person sees: errors, the consent page, the device verification page.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// A page echoes request parameters: never let them become markup.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A complete page; `title` is escaped here, `body` must already be safe markup.
/// A plain, readable look for every page (consent, device verification, errors), inline so that
/// the page loads nothing else.
const STYLE: &str =
    "body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}\
main{max-width:34rem;margin:3rem auto;background:#fff;border-radius:8px;padding:1.5rem 2rem;\
box-shadow:0 1px 4px rgba(0,0,0,.12)}h1{font-size:1.4rem}ul{padding-left:1.2rem}\
button,input[type=submit]{font-size:1rem;padding:.5rem 1.2rem;margin-right:.6rem;border-radius:4px;\
border:1px solid #888;cursor:pointer}#accept{background:#1a7f37;color:#fff;border-color:#1a7f37}\
input[type=text]{font-size:1rem;padding:.4rem}";

pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let title = escape(title);
    (
        status,
        Html(format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title}</title><style>{STYLE}</style></head>\n<body><main>\n{body}\n</main></body></html>\n"
        )),
    )
        .into_response()
}

/// An error page: a heading and one paragraph, both escaped.
pub(crate) fn error_page(status: StatusCode, title: &str, detail: &str) -> Response {
    page(
        status,
        title,
        &format!("<h1>{}</h1><p>{}</p>", escape(title), escape(detail)),
    )
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn echoed_parameters_cannot_inject_markup() {
        assert_eq!(escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
    }
}
