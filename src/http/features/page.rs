//! A page of a feature listing (`items`, `radius`, `nearest`): its links (self, collection,
//! next and previous pages) and its body, GeoJSON written straight into one buffer within
//! the response size limit, or CSV.

use actix_web::{HttpRequest, HttpResponse};

use super::geojson::FeatureWriter;
use super::{link, max_age};
use crate::catalog::{Layer, Prop};
use crate::error::{Error, Result};
use crate::http::format::{self, Format};
use crate::http::html::{self, Page};
use crate::http::params::Params;
use crate::http::respond::{self, GEOJSON, JSON, Link};
use crate::http::state::AppState;
use crate::query::Outcome;
use crate::query::request::Listing;

/// A page of features as a GeoJSON FeatureCollection with OGC paging members.
struct CollectionPage<'a> {
    layer: &'a Layer,
    outcome: &'a Outcome,
    select: Option<&'a [usize]>,
    links: Vec<Link>,
}

impl CollectionPage<'_> {
    /// The page as GeoJSON, written straight into one buffer (a GeoJSON FeatureCollection
    /// with `numberMatched`, `numberReturned`, `links` and `features`, in that order), or
    /// [`Error::ResponseTooLarge`] when it passes `limit` bytes: the size is checked after
    /// each feature, so no more than one feature past the limit is written.
    fn to_json(&self, limit: usize) -> Result<Vec<u8>> {
        use std::io::Write as _;
        // Every hit is a live slot of the layer; `filter_map` only keeps the count honest.
        let page: Vec<_> = self
            .outcome
            .hits
            .iter()
            .filter_map(|h| Some((h, self.layer.features.get(h.pos)?)))
            .collect();
        let mut out = Vec::with_capacity(limit.min(1024 + 256 * page.len()));
        let failed =
            |e: &dyn std::fmt::Display| Error::Internal(format!("serializing a response: {e}"));
        write!(
            out,
            r#"{{"type":"FeatureCollection","numberMatched":{},"numberReturned":{},"links":"#,
            self.outcome.matched,
            page.len()
        )
        .map_err(|e| failed(&e))?;
        serde_json::to_writer(&mut out, &self.links).map_err(|e| failed(&e))?;
        out.extend_from_slice(br#","features":["#);
        // Tight loops touching every feature of the page first, then the text of its
        // strings (behind a pointer in the properties), let their cache misses overlap,
        // instead of one at a time between the writes.
        std::hint::black_box(page.iter().fold(0_u64, |acc, (_, f)| {
            acc ^ f.id
                ^ f.props
                    .first()
                    .map_or(0, |p| u64::from(matches!(p, Prop::Null)))
        }));
        std::hint::black_box(page.iter().fold(0_usize, |acc, (_, f)| {
            f.props.iter().fold(acc, |acc, p| match p {
                Prop::Str(s) => acc ^ s.len(),
                _ => acc,
            })
        }));
        let writer = FeatureWriter::new(self.layer, self.select).map_err(|e| failed(&e))?;
        for (i, (h, feature)) in page.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let extra = h
                .distance_m
                .map(|d| ("distance_m", (d * 1000.0).round() / 1000.0));
            writer
                .write(&mut out, feature, extra)
                .map_err(|e| failed(&e))?;
            if out.len() > limit {
                return Err(Error::ResponseTooLarge { limit });
            }
        }
        out.extend_from_slice(b"]}");
        if out.len() > limit {
            return Err(Error::ResponseTooLarge { limit });
        }
        Ok(out)
    }
}

/// The URL of this request (at `base`) with `offset` replaced.
fn page_url(req: &HttpRequest, base: &str, params: &Params, offset: usize) -> String {
    let offset = offset.to_string();
    let kept = params.iter().filter(|(k, _)| *k != "offset");
    respond::url_with_query(
        base,
        req.path(),
        req.query_string().len(),
        kept.chain([("offset", offset.as_str())]),
    )
}

pub(super) fn respond_page(
    req: &HttpRequest,
    state: &AppState,
    layer: &Layer,
    listing: &Listing,
    outcome: &Outcome,
    paged: bool,
    distance_column: bool,
) -> Result<HttpResponse> {
    let (params, page) = (&listing.params, listing.page);
    let base = respond::base_url(req);
    let mut links = vec![
        link(
            [base.as_str(), req.path(), "?", req.query_string()].concat(),
            "self",
            GEOJSON,
            "This page",
        ),
        link(
            [base.as_str(), "/collections/", layer.id()].concat(),
            "collection",
            JSON,
            "The collection",
        ),
    ];
    if paged {
        let shown = page.offset + outcome.hits.len();
        if shown < outcome.matched {
            links.push(link(
                page_url(req, &base, params, shown),
                "next",
                GEOJSON,
                "Next page",
            ));
        }
        if page.offset > 0 {
            links.push(link(
                page_url(req, &base, params, page.offset.saturating_sub(page.limit)),
                "prev",
                GEOJSON,
                "Previous page",
            ));
        }
    }
    let select = listing.properties.as_deref();
    let max_age = max_age(state, layer);
    let cap = state.config.limits.max_response_bytes;
    match format::choose(req, params.get("f"), format::LISTING)? {
        Format::Csv => {
            let bytes = crate::http::csv::page(layer, outcome, select, distance_column, cap)?;
            let counts = (outcome.matched, outcome.hits.len());
            let mut resp =
                crate::http::csv::respond(req, bytes, layer.id(), counts, &links, max_age);
            html::vary_accept(&mut resp);
            Ok(resp)
        }
        fmt => {
            let body = CollectionPage {
                layer,
                outcome,
                select,
                links,
            };
            let json = body.to_json(cap)?;
            html::document_json(req, fmt, Page::Items, json, GEOJSON, max_age)
        }
    }
}
