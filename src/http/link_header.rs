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

/// `url` as the target of a link in a `Link` header: its commas and semicolons
/// percent-encoded, as they separate links and their parameters and a client splitting the
/// header at them would cut the link (a query has none: form encoding escapes them; a host
/// or path may).
pub(super) fn link_target(url: String) -> String {
    if url.contains([',', ';']) {
        url.replace(',', "%2C").replace(';', "%3B")
    } else {
        url
    }
}

/// Adds the `Link` header to `resp`, the listing of `layer_id` in `served`.
pub fn add(req: &HttpRequest, resp: &mut HttpResponse, layer_id: &str, served: Format) {
    let base = respond::base_url(req);
    // The request's URL with its query without `f`, serialized once; each format's link
    // adds its `f`.
    let query = req.query_string();
    let kept = form_urlencoded::parse(query.as_bytes()).filter(|(k, _)| k != "f");
    let mut page = respond::url_with_query(&base, req.path(), query.len(), kept);
    if !page.ends_with('?') {
        page.push('&');
    }
    page.push_str("f=");
    let page = link_target(page);
    let queryables =
        link_target([base.as_str(), "/collections/", layer_id, "/queryables"].concat());
    let mut value = String::with_capacity(4 * (page.len() + 64));
    // Put together from its parts (no formatting machinery: this runs on every page).
    for &f in LISTING {
        let rel = if f == served { "self" } else { "alternate" };
        // Format names are plain words: form encoding leaves them as they are.
        value.extend([
            "<",
            &page,
            f.name(),
            ">; rel=\"",
            rel,
            "\"; type=\"",
            media(f),
            "\", ",
        ]);
    }
    value.extend([
        "<",
        &queryables,
        ">; rel=\"http://www.opengis.net/def/rel/ogc/1.0/queryables\"; type=\"application/schema+json\"",
    ]);
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

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;
    use crate::http::html::links::with_format;

    /// Each format's link as the HTML pages set a URL's format
    /// ([`crate::http::html::links::with_format`], which serializes the query anew), as a
    /// reference for the links [`add`] builds from one serialization.
    fn reference(req: &HttpRequest, layer_id: &str, served: Format) -> String {
        let base = respond::base_url(req);
        let here = format!("{base}{}?{}", req.path(), req.query_string());
        let mut links: Vec<String> = LISTING
            .iter()
            .map(|&f| {
                let href = with_format(&here, f.name())
                    .replace(',', "%2C")
                    .replace(';', "%3B");
                let rel = if f == served { "self" } else { "alternate" };
                format!("<{href}>; rel=\"{rel}\"; type=\"{}\"", media(f))
            })
            .collect();
        links.push(format!(
            "<{base}/collections/{layer_id}/queryables>; rel=\"http://www.opengis.net/def/rel/ogc/1.0/queryables\"; type=\"application/schema+json\""
        ));
        links.join(", ")
    }

    #[test]
    fn no_link_target_holds_a_separator_whatever_the_host() {
        let req = TestRequest::get()
            .uri("/collections/x/items?bbox=1,2,3,4")
            .insert_header((header::HOST, "ex,am;ple"))
            .to_http_request();
        let mut resp = HttpResponse::Ok().finish();
        add(&req, &mut resp, "x", Format::Json);
        let value = resp.headers().get(header::LINK).unwrap().to_str().unwrap();
        let targets: Vec<&str> = value
            .split('<')
            .skip(1)
            .map(|rest| rest.split('>').next().unwrap())
            .collect();
        assert_eq!(targets.len(), LISTING.len() + 1, "{value}");
        for target in targets {
            assert!(target.starts_with("http://ex%2Cam%3Bple/"), "{target}");
            assert!(!target.contains([',', ';']), "{target}");
        }
        assert_eq!(link_target("a/b?c=1".into()), "a/b?c=1");
    }

    #[test]
    fn links_are_those_of_each_format_serialized_anew() {
        for uri in [
            "/collections/x/items",
            "/collections/x/items?f=json",
            "/collections/x/items?bbox=1,2,3,4&limit=10",
            "/collections/x/items?f=html&filter=name%20LIKE%20%27a%3Bb%27&bbox=-1.5,2,3,4",
            "/collections/x/items?q=a+b&f=csv&datetime=2020-01-01T00:00:00Z/..&empty=",
            "/collections/x/items?%C3%A9t%C3%A9=%E2%9C%93&f",
            // A comma and a semicolon in the path, which form encoding does not see.
            "/collections/a,b;c/items?limit=1",
        ] {
            let req = TestRequest::get().uri(uri).to_http_request();
            for served in LISTING.iter().copied() {
                let mut resp = HttpResponse::Ok().finish();
                add(&req, &mut resp, "x", served);
                let got = resp
                    .headers()
                    .get(header::LINK)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                assert_eq!(got, reference(&req, "x", served), "{uri}");
            }
        }
    }
}
