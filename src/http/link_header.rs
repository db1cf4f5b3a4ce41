//! The `Link` header of a filterable feature listing (OGC API - Features Part 3,
//! `/req/queryables/get-queryables-uris`): the page in each of its formats (`self` for the
//! one served, `alternate` for the others, each with its media type) and the collection's
//! queryables. Commas and semicolons in the URLs are percent-encoded, as they separate links
//! and their parameters.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

use super::format::{Format, LISTING};
use super::respond::{self, GEOJSON};

/// The media type of each listing format.
fn media(format: Format) -> &'static str {
    match format {
        Format::Json => GEOJSON,
        Format::Html => "text/html",
        Format::Csv => "text/csv",
    }
}

/// Adds the `Link` header to `resp`, the listing of `layer_id` in `served`.
pub fn add(req: &HttpRequest, resp: &mut HttpResponse, layer_id: &str, served: Format) {
    let base = respond::base_url(req);
    let keep: Vec<(String, String)> = form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(k, _)| k != "f")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let url = |format: Format| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.extend_pairs(&keep);
        query.append_pair("f", format.name());
        let href = format!("{base}{}?{}", req.path(), query.finish());
        href.replace(',', "%2C").replace(';', "%3B")
    };
    let mut links: Vec<String> = LISTING
        .iter()
        .map(|&f| {
            let rel = if f == served { "self" } else { "alternate" };
            format!("<{}>; rel=\"{rel}\"; type=\"{}\"", url(f), media(f))
        })
        .collect();
    links.push(format!(
        "<{base}/collections/{layer_id}/queryables>; rel=\"http://www.opengis.net/def/rel/ogc/1.0/queryables\"; type=\"application/schema+json\""
    ));
    let value = links.join(", ");
    if let Ok(v) = HeaderValue::from_str(&value) {
        match resp.headers_mut().get(header::LINK).cloned() {
            // The CSV page carries its paging links already: keep them first.
            Some(paging) => {
                let joined = format!("{}, {value}", paging.to_str().unwrap_or_default());
                if let Ok(v) = HeaderValue::from_str(&joined) {
                    resp.headers_mut().insert(header::LINK, v);
                }
            }
            None => {
                resp.headers_mut().insert(header::LINK, v);
            }
        }
    }
}
