//! Rendering a page: the template environment (templates compiled into the binary, HTML
//! autoescape on) and the context each page family gets from its JSON document.

use std::sync::OnceLock;

use actix_web::HttpRequest;
use minijinja::Environment;
use serde::Serialize;
use serde_json::Value;

use super::links::{self, Link};
use super::{Page, text};
use crate::error::{Error, Result};
use crate::http::respond;

const TEMPLATES: &[(&str, &str)] = &[
    ("macros.html", include_str!("templates/macros.html")),
    ("base.html", include_str!("templates/base.html")),
    ("doc.html", include_str!("templates/doc.html")),
    ("list.html", include_str!("templates/list.html")),
    ("features.html", include_str!("templates/features.html")),
];

fn environment() -> Result<&'static Environment<'static>> {
    static ENV: OnceLock<std::result::Result<Environment<'static>, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // Every template is HTML: escape every value (minijinja's default for `.html`).
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        for (name, source) in TEMPLATES {
            env.add_template(name, source).map_err(|e| e.to_string())?;
        }
        Ok(env)
    })
    .as_ref()
    .map_err(|e| Error::Internal(format!("page templates: {e}")))
}

/// A value shown in a table cell: text, or indented JSON for nested values.
#[derive(Debug, Serialize)]
struct Shown {
    text: String,
    block: bool,
}

fn shown(value: &Value) -> Shown {
    match value {
        Value::Null => Shown {
            text: String::new(),
            block: false,
        },
        Value::String(s) => Shown {
            text: s.clone(),
            block: false,
        },
        Value::Array(items) if items.iter().all(|v| !v.is_object() && !v.is_array()) => Shown {
            text: items.iter().map(scalar_text).collect::<Vec<_>>().join(", "),
            block: false,
        },
        Value::Array(_) | Value::Object(_) => Shown {
            text: serde_json::to_string_pretty(value).unwrap_or_default(),
            block: true,
        },
        other => Shown {
            text: other.to_string(),
            block: false,
        },
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The members of `doc` shown as a name/value table: all but those shown elsewhere.
fn fields(doc: &Value, skip: &[&str]) -> Vec<(String, Shown)> {
    doc.as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !skip.contains(&k.as_str()) && k.as_str() != "links")
                .map(|(k, v)| (k.clone(), shown(v)))
                .collect()
        })
        .unwrap_or_default()
}

/// An entry of a list page (a collection, a tileset).
#[derive(Debug, Serialize)]
struct Entry {
    title: String,
    html: Option<String>,
    fields: Vec<(String, Shown)>,
    links: Vec<Link>,
}

fn entries(list: Option<&Value>) -> Vec<Entry> {
    let items = list
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    items
        .iter()
        .map(|item| {
            let links = links::of(item);
            let html = links
                .iter()
                .find(|l| l.rel == "self")
                .and_then(|l| l.html.clone());
            Entry {
                title: text(item, "title")
                    .or_else(|| text(item, "id"))
                    .unwrap_or("")
                    .to_owned(),
                html,
                fields: fields(item, &["title"]),
                links,
            }
        })
        .collect()
}

/// One feature as a table row.
#[derive(Debug, Serialize)]
struct Row {
    id: String,
    html: Option<String>,
    cells: Vec<Shown>,
}

/// The columns (the union of the features' properties, in order of appearance) and rows of
/// `features`; each id links to the feature's page under `collection`.
fn table(features: &[Value], collection: Option<&str>) -> (Vec<String>, Vec<Row>) {
    let mut columns: Vec<String> = Vec::new();
    for f in features {
        if let Some(props) = f.get("properties").and_then(Value::as_object) {
            for k in props.keys() {
                if !columns.contains(k) {
                    columns.push(k.clone());
                }
            }
        }
    }
    let rows = features
        .iter()
        .map(|f| {
            let id = f.get("id").map(scalar_text).unwrap_or_default();
            let props = f.get("properties");
            Row {
                html: collection.map(|c| {
                    let fid: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
                    links::with_format(&format!("{c}/items/{fid}"), "html")
                }),
                id,
                cells: columns
                    .iter()
                    .map(|c| shown(props.and_then(|p| p.get(c)).unwrap_or(&Value::Null)))
                    .collect(),
            }
        })
        .collect();
    (columns, rows)
}

#[derive(Debug, Serialize)]
struct Context {
    title: String,
    heading: &'static str,
    description: Option<String>,
    links: Vec<Link>,
    alternates: Vec<Link>,
    fields: Vec<(String, Shown)>,
    entries: Vec<Entry>,
    columns: Vec<String>,
    rows: Vec<Row>,
    next: Option<String>,
    prev: Option<String>,
    geojson: Option<Value>,
    base: String,
}

/// The HTML of `page` for the JSON document `doc` answering `req`.
///
/// # Errors
/// An internal error when a template fails.
pub fn page(req: &HttpRequest, page: Page, doc: &Value) -> Result<String> {
    let links = links::of(doc);
    let json_type = links
        .iter()
        .find(|l| l.rel == "self")
        .map_or(respond::JSON, |l| l.kind.as_str())
        .to_owned();
    let paging = |rel: &str| {
        links
            .iter()
            .find(|l| l.rel == rel)
            .and_then(|l| l.html.clone())
    };
    let collection = links
        .iter()
        .find(|l| l.rel == "collection")
        .map(|l| l.href.split('?').next().unwrap_or("").to_owned());
    let (template, list_key, skip): (&str, &str, &[&str]) = match page {
        Page::Collections => ("list.html", "collections", &[]),
        Page::Tilesets => ("list.html", "tilesets", &[]),
        Page::Items | Page::Feature => ("features.html", "", &[]),
        _ => ("doc.html", "", &["title", "description"]),
    };
    let (features, geojson): (Vec<Value>, Option<Value>) = match page {
        Page::Items => {
            let list = doc
                .get("features")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let map = serde_json::json!({ "type": "FeatureCollection", "features": list });
            (list, Some(map))
        }
        Page::Feature => {
            let mut one = doc.clone();
            if let Some(m) = one.as_object_mut() {
                m.remove("links");
            }
            (vec![one.clone()], Some(one))
        }
        _ => (Vec::new(), None),
    };
    let (columns, rows) = table(&features, collection.as_deref());
    let title = text(doc, "title")
        .map(str::to_owned)
        .or_else(|| {
            (page == Page::Feature)
                .then(|| format!("Feature {}", rows.first().map_or("", |r| r.id.as_str())))
        })
        .unwrap_or_else(|| page.heading().to_owned());
    let ctx = Context {
        title,
        heading: page.heading(),
        description: text(doc, "description").map(str::to_owned),
        alternates: links::alternates(req, &json_type, page == Page::Items),
        fields: match page {
            Page::Items => fields(doc, &["type", "features"]),
            Page::Feature => Vec::new(),
            _ => fields(doc, &[skip, &[list_key]].concat()),
        },
        entries: entries(doc.get(list_key)),
        next: paging("next"),
        prev: paging("prev"),
        links,
        columns,
        rows,
        geojson,
        base: respond::base_url(req),
    };
    let env = environment()?;
    env.get_template(template)
        .and_then(|t| t.render(minijinja::value::Serde(&ctx)))
        .map_err(|e| Error::Internal(format!("rendering {template}: {e}")))
}
