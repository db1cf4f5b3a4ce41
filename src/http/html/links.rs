//! Links as the pages show them: each JSON link with, when its target has an HTML face, the
//! address of that face; and the other formats of the page itself (`rel=alternate`).

use actix_web::HttpRequest;
use serde::Serialize;
use serde_json::Value;

use crate::http::respond;

/// One link of a page.
#[derive(Debug, Serialize)]
pub struct Link {
    pub href: String,
    pub rel: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    /// The link's target as an HTML page, when it has one.
    pub html: Option<String>,
    /// A URI template (`{z}`...), shown as text rather than followed.
    pub templated: bool,
}

impl Link {
    /// A link of a JSON document's `links`.
    pub fn from_json(link: &Value) -> Option<Self> {
        let href = link.get("href")?.as_str()?.to_owned();
        let text = |k: &str| link.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let templated =
            link.get("templated").and_then(Value::as_bool) == Some(true) || href.contains('{');
        let kind = text("type");
        let html = (!templated && is_json(&kind))
            .then(|| html_href(&href))
            .flatten();
        Some(Self {
            title: text("title"),
            rel: text("rel"),
            kind,
            html,
            templated,
            href,
        })
    }
}

/// The links of `doc["links"]`.
pub fn of(doc: &Value) -> Vec<Link> {
    doc.get("links")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Link::from_json).collect())
        .unwrap_or_default()
}

fn is_json(kind: &str) -> bool {
    kind.is_empty() || kind.contains("json")
}

/// `href` with its `f` parameter set to `format`.
pub fn with_format(href: &str, format: &str) -> String {
    let (path, query) = href.split_once('?').unwrap_or((href, ""));
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(query.as_bytes()).filter(|(k, _)| k != "f") {
        q.append_pair(&k, &v);
    }
    q.append_pair("f", format);
    format!("{path}?{}", q.finish())
}

/// The HTML face of `href`, when its path is one of the resources with one.
pub fn html_href(href: &str) -> Option<String> {
    let after_scheme = href.split_once("://").map_or(href, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    let path = path.split('?').next().unwrap_or("/");
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let has_html = matches!(
        segments.as_slice(),
        [] | ["conformance" | "collections" | "tiles"]
            | ["collections", _]
            | [
                "collections",
                _,
                "items" | "queryables" | "radius" | "nearest" | "tiles"
            ]
            | ["collections", _, "items", _]
            | ["collections", _, "tiles", "WebMercatorQuad"]
    );
    has_html.then(|| with_format(href, "html"))
}

/// The other formats of the page answering `req`: JSON (of media type `json_type`), and CSV
/// for pages of features.
pub fn alternates(req: &HttpRequest, json_type: &str, csv: bool) -> Vec<Link> {
    let here = format!(
        "{}{}?{}",
        respond::base_url(req),
        req.path(),
        req.query_string()
    );
    let mut out = vec![Link {
        href: with_format(&here, "json"),
        rel: "alternate".into(),
        kind: json_type.into(),
        title: "This document as JSON".into(),
        html: None,
        templated: false,
    }];
    if csv {
        out.push(Link {
            href: with_format(&here, "csv"),
            rel: "alternate".into(),
            kind: "text/csv".into(),
            title: "This page as CSV".into(),
            html: None,
            templated: false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_faces_of_links() {
        let b = "http://h:1";
        assert_eq!(
            html_href(&format!("{b}/collections/a/items?limit=2&f=json")).as_deref(),
            Some("http://h:1/collections/a/items?limit=2&f=html")
        );
        assert_eq!(
            html_href(&format!("{b}/")).as_deref(),
            Some("http://h:1/?f=html")
        );
        assert_eq!(html_href(&format!("{b}/api")), None);
        assert_eq!(html_href(&format!("{b}/tiles/a")), None);
        assert_eq!(html_href(&format!("{b}/tileMatrixSets")), None);
    }
}
