//! The feature queries as typed requests, each parsed and validated in one step.
//!
//! Owns: the parameter tables of `/items`, `/radius` and `/nearest` ([`ParamSpec`]: name,
//! description, JSON Schema), which are both the set of parameters each parser accepts and
//! what the API document lists, and the requests built from them ([`ItemsRequest`],
//! [`DistanceRequest`]). Every parameter, `properties` and `sortby` included, is checked
//! against the layer before a query runs; errors name the parameter and the bad value. It
//! does not run HTTP, write responses or choose the output format's media type.

use std::sync::Arc;

use geo::Point;
use serde_json::{Value, json};

use super::filter::Filter;
use super::params::{
    Params, SortKey, parse_coords, parse_count, parse_filter_value, parse_sortby, parse_within,
    queryable,
};
use super::{BBox, Interval, Outcome, Page, Selection};
use crate::catalog::Layer;
use crate::error::{Error, Result};

/// The pages a server allows: `limit` defaults to `default` and may not exceed `max`;
/// `offset` may not exceed `max_offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimits {
    pub default: usize,
    pub max: usize,
    pub max_offset: usize,
}

/// One query parameter: its name, what it means, whether it is required, and its JSON
/// Schema (which may depend on the page limits).
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub required: bool,
    schema: fn(PageLimits) -> Value,
}

impl ParamSpec {
    /// The JSON Schema of the parameter's value.
    pub fn schema(&self, limits: PageLimits) -> Value {
        (self.schema)(limits)
    }
}

/// `f`: the output format. Which formats a route offers is the HTTP layer's (its `/api`
/// lists them per route).
pub const FORMAT: ParamSpec = ParamSpec {
    name: "f",
    description: "Output format (default: from `Accept`, else JSON).",
    required: false,
    schema: |_| json!({ "type": "string" }),
};
const LIMIT: ParamSpec = ParamSpec {
    name: "limit",
    description: "Number of features per page.",
    required: false,
    schema: |limits| json!({ "type": "integer", "minimum": 1, "maximum": limits.max, "default": limits.default }),
};
const OFFSET: ParamSpec = ParamSpec {
    name: "offset",
    description: "Number of features to skip (paging).",
    required: false,
    schema: |limits| json!({ "type": "integer", "minimum": 0, "maximum": limits.max_offset, "default": 0 }),
};
const BBOX: ParamSpec = ParamSpec {
    name: "bbox",
    description: "west,south,east,north in degrees (CRS84); west > east crosses the antimeridian.",
    required: false,
    // OGC API - Features Part 1 (17-069r4) 7.15.3, /req/core/fc-bbox-definition: four
    // numbers (2D) or six (3D), nothing in between.
    schema: |_| {
        json!({ "type": "array", "items": { "type": "number" },
        "oneOf": [{ "minItems": 4, "maxItems": 4 }, { "minItems": 6, "maxItems": 6 }] })
    },
};
const DATETIME: ParamSpec = ParamSpec {
    name: "datetime",
    description: "RFC 3339 date-time (or a date, a whole UTC day), or an interval start/end with `..` or nothing for an open end (OGC API - Features Part 1, 7.15.4).",
    required: false,
    schema: |_| json!({ "type": "string", "pattern": super::datetime::DATETIME_PATTERN }),
};
const PROPERTIES: ParamSpec = ParamSpec {
    name: "properties",
    description: "Comma-separated properties to return.",
    required: false,
    schema: |_| json!({ "type": "array", "items": { "type": "string" } }),
};
const SORTBY: ParamSpec = ParamSpec {
    name: "sortby",
    description: "Comma-separated queryables, `-` for descending.",
    required: false,
    schema: |_| json!({ "type": "array", "items": { "type": "string" } }),
};
const COORDS: ParamSpec = ParamSpec {
    name: "coords",
    description: "Centre as WKT: POINT(lon lat).",
    required: true,
    schema: |_| json!({ "type": "string", "example": "POINT(69.17 34.53)" }),
};
const WITHIN: ParamSpec = ParamSpec {
    name: "within",
    description: "Radius (greater than 0, at most half the Earth's circumference).",
    required: false,
    schema: |_| json!({ "type": "number", "minimum": 0, "exclusiveMinimum": true }),
};
/// `within` of `/radius`, where it is the query itself.
const WITHIN_REQUIRED: ParamSpec = ParamSpec {
    required: true,
    ..WITHIN
};
const WITHIN_UNITS: ParamSpec = ParamSpec {
    name: "within-units",
    description: "Units of `within`.",
    required: false,
    schema: |_| json!({ "type": "string", "enum": ["km", "m"], "default": "km" }),
};

// CQL2 filtering (OGC API - Features Part 3), see `query::filter`.
/// `filter`: a CQL2 expression.
pub const FILTER: ParamSpec = ParamSpec {
    name: "filter",
    description: "CQL2 filter expression on the queryables (see /queryables).",
    required: false,
    schema: |_| json!({ "type": "string" }),
};
/// `filter-lang`: the encoding of `filter`.
pub const FILTER_LANG: ParamSpec = ParamSpec {
    name: "filter-lang",
    description: "Encoding of `filter`.",
    required: false,
    schema: |_| json!({ "type": "string", "enum": ["cql2-text", "cql2-json"], "default": "cql2-text" }),
};
/// `filter-crs`: the CRS of geometries in `filter` (CRS84 only).
pub const FILTER_CRS: ParamSpec = ParamSpec {
    name: "filter-crs",
    description: "CRS of the geometries in `filter`.",
    required: false,
    schema: |_| json!({ "type": "string", "format": "uri", "enum": [crate::query::filter::CRS84] }),
};

/// Parameters of `/collections/{id}/items`, besides queryable properties.
pub const ITEMS_PARAMS: &[ParamSpec] = &[
    FORMAT,
    LIMIT,
    OFFSET,
    BBOX,
    DATETIME,
    PROPERTIES,
    SORTBY,
    FILTER,
    FILTER_LANG,
    FILTER_CRS,
];
/// Parameters of `/collections/{id}/radius`, besides queryable properties.
pub const RADIUS_PARAMS: &[ParamSpec] = &[
    FORMAT,
    COORDS,
    WITHIN_REQUIRED,
    WITHIN_UNITS,
    LIMIT,
    OFFSET,
    BBOX,
    DATETIME,
    PROPERTIES,
    FILTER,
    FILTER_LANG,
    FILTER_CRS,
];
/// Parameters of `/collections/{id}/nearest`, besides queryable properties.
pub const NEAREST_PARAMS: &[ParamSpec] = &[
    FORMAT,
    COORDS,
    WITHIN,
    WITHIN_UNITS,
    LIMIT,
    BBOX,
    DATETIME,
    PROPERTIES,
    FILTER,
    FILTER_LANG,
    FILTER_CRS,
];

fn in_table(table: &[ParamSpec], name: &str) -> bool {
    table.iter().any(|p| p.name == name)
}

/// What every feature listing carries: its filters, its page, the properties to return and
/// the decoded parameters (to link to other pages).
#[derive(Debug)]
pub struct Listing {
    pub selection: Selection,
    pub page: Page,
    /// Positions of the properties to return; `None` for all.
    pub properties: Option<Vec<usize>>,
    pub params: Params,
}

/// `/items`: filters, sort order and page.
#[derive(Debug)]
pub struct ItemsRequest {
    pub listing: Listing,
    pub sort: Vec<SortKey>,
}

/// How far a distance query reaches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reach {
    /// Every feature within `within_m` metres, paged.
    Radius { within_m: f64 },
    /// The `limit` nearest features, optionally within `within_m` metres; one page.
    Nearest { within_m: Option<f64> },
}

/// Most features (`offset + limit`) of an answer that `is_small` calls small.
pub const SMALL_PAGE: usize = 100;
/// Largest radius that [`DistanceRequest::is_small`] calls small, metres.
pub const SMALL_RADIUS_M: f64 = 100_000.0;

/// `/radius` and `/nearest`: a centre, a reach, filters and page.
#[derive(Debug)]
pub struct DistanceRequest {
    pub listing: Listing,
    pub center: Point<f64>,
    pub reach: Reach,
}

impl ItemsRequest {
    /// Parses and checks the query string of `/items` against `layer`.
    ///
    /// # Errors
    /// A 400 naming the first bad parameter.
    pub fn parse(layer: &Layer, query: &str, limits: PageLimits) -> Result<Self> {
        let params = decode(layer, query, ITEMS_PARAMS)?;
        let selection = selection(layer, &params, ITEMS_PARAMS)?;
        let page = page(&params, limits, true)?;
        let sort = params
            .get("sortby")
            .map(|s| parse_sortby(layer, s))
            .transpose()?
            .unwrap_or_default();
        Ok(Self {
            listing: listing(layer, params, selection, page)?,
            sort,
        })
    }

    /// Whether the answer takes only a few index steps whatever the data: no filter but
    /// `bbox`, no `sortby`, a page ending within [`SMALL_PAGE`], on a layer of single points
    /// (counted by whole index nodes, the page read in layer order from the index).
    pub fn is_small(&self, layer: &Layer) -> bool {
        let Listing {
            selection, page, ..
        } = &self.listing;
        self.sort.is_empty()
            && selection.spatial_only()
            && layer.index.points_only()
            && page.offset.saturating_add(page.limit) <= SMALL_PAGE
    }

    /// Runs the query on `layer` (the snapshot it was parsed against).
    pub fn run(&self, layer: &Layer) -> Outcome {
        super::items(
            layer,
            &self.listing.selection,
            &self.sort,
            self.listing.page,
        )
    }
}

impl DistanceRequest {
    /// Parses and checks the query string of `/radius` against `layer`: `within` is required.
    ///
    /// # Errors
    /// A 400 naming the first bad parameter.
    pub fn parse_radius(layer: &Layer, query: &str, limits: PageLimits) -> Result<Self> {
        Self::parse(layer, query, limits, RADIUS_PARAMS, |within_m| {
            within_m
                .map(|within_m| Reach::Radius { within_m })
                .ok_or_else(|| {
                    Error::bad_param("within", "", "required: a distance greater than 0")
                })
        })
    }

    /// Parses and checks the query string of `/nearest` against `layer`: one page, no
    /// `offset`.
    ///
    /// # Errors
    /// A 400 naming the first bad parameter.
    pub fn parse_nearest(layer: &Layer, query: &str, limits: PageLimits) -> Result<Self> {
        Self::parse(layer, query, limits, NEAREST_PARAMS, |within_m| {
            Ok(Reach::Nearest { within_m })
        })
    }

    /// The parameters of `table`, with `reach` made from `within` (in metres, if given).
    fn parse(
        layer: &Layer,
        query: &str,
        limits: PageLimits,
        table: &[ParamSpec],
        reach: impl FnOnce(Option<f64>) -> Result<Reach>,
    ) -> Result<Self> {
        let params = decode(layer, query, table)?;
        let (center, within_m) = center_and_within(&params)?;
        let reach = reach(within_m)?;
        let selection = selection(layer, &params, table)?;
        let page = page(&params, limits, matches!(reach, Reach::Radius { .. }))?;
        Ok(Self {
            listing: listing(layer, params, selection, page)?,
            center,
            reach,
        })
    }

    /// Whether answers come in pages (with `offset`, and links to the next and previous).
    pub fn is_paged(&self) -> bool {
        matches!(self.reach, Reach::Radius { .. })
    }

    /// Whether the answer takes only a few index steps whatever the data: no filter (a
    /// filter may skip most of the layer before enough features pass), a page ending within
    /// [`SMALL_PAGE`], and `nearest`, or `radius` up to [`SMALL_RADIUS_M`] on a layer of
    /// single points (counted by whole index nodes, see [`super::radius`]).
    pub fn is_small(&self, layer: &Layer) -> bool {
        let Listing {
            selection, page, ..
        } = &self.listing;
        let reach = match self.reach {
            Reach::Nearest { .. } => true,
            Reach::Radius { within_m } => within_m <= SMALL_RADIUS_M && layer.index.points_only(),
        };
        reach
            && selection.spatial_only()
            && selection.bbox.is_none()
            && page.offset.saturating_add(page.limit) <= SMALL_PAGE
    }

    /// Runs the query on `layer` (the snapshot it was parsed against).
    pub fn run(&self, layer: &Layer) -> Outcome {
        let Listing {
            selection, page, ..
        } = &self.listing;
        match self.reach {
            Reach::Radius { within_m } => {
                super::radius(layer, self.center, within_m, selection, *page)
            }
            Reach::Nearest { within_m } => {
                super::nearest(layer, self.center, page.limit, within_m, selection)
            }
        }
    }
}

/// Decodes `query`: the parameters of `table`, and equality filters on the layer's
/// queryables; anything else is a 400, as is an `f` other than JSON, HTML or CSV.
fn decode(layer: &Layer, query: &str, table: &[ParamSpec]) -> Result<Params> {
    let params = Params::parse(query, |k| {
        in_table(table, k) || layer.queryables().iter().any(|f| f.name == k)
    })?;
    params.check_listing_format()?;
    Ok(params)
}

/// The filters shared by all queries: `bbox`, `datetime`, and every parameter outside
/// `table` as an equality filter.
fn selection(layer: &Layer, params: &Params, table: &[ParamSpec]) -> Result<Selection> {
    let mut sel = Selection {
        bbox: params.get("bbox").map(BBox::parse).transpose()?,
        datetime: params.get("datetime").map(Interval::parse).transpose()?,
        equals: Vec::new(),
        filter: parse_filter(layer, params)?,
    };
    for (name, value) in params.iter() {
        if in_table(table, name) {
            continue;
        }
        let field = queryable(layer, name, name)?;
        sel.equals
            .push((field, parse_filter_value(layer, field, value)?));
    }
    Ok(sel)
}

/// The compiled `filter` with its `filter-lang` and `filter-crs`, if given.
fn parse_filter(layer: &Layer, params: &Params) -> Result<Option<Arc<Filter>>> {
    let filter = Filter::from_params(
        layer,
        params.get("filter"),
        params.get("filter-lang"),
        params.get("filter-crs"),
    )?;
    Ok(filter.map(Arc::new))
}

fn page(params: &Params, limits: PageLimits, with_offset: bool) -> Result<Page> {
    let limit = params
        .get("limit")
        .map(|v| parse_count("limit", v, 1, limits.max))
        .transpose()?
        .unwrap_or(limits.default);
    let offset = if with_offset {
        params
            .get("offset")
            .map(|v| parse_count("offset", v, 0, limits.max_offset))
            .transpose()?
            .unwrap_or(0)
    } else {
        0
    };
    Ok(Page { limit, offset })
}

/// The listing of a request, once `properties` is checked (the last parameter checked).
fn listing(layer: &Layer, params: Params, selection: Selection, page: Page) -> Result<Listing> {
    Ok(Listing {
        properties: selected_properties(layer, &params)?,
        selection,
        page,
        params,
    })
}

fn selected_properties(layer: &Layer, params: &Params) -> Result<Option<Vec<usize>>> {
    let Some(list) = params.get("properties") else {
        return Ok(None);
    };
    list.split(',')
        .filter(|s| !s.is_empty())
        .map(|name| {
            layer.field_index(name).ok_or_else(|| {
                Error::bad_param(
                    "properties",
                    name,
                    format!("not a property of '{}'", layer.id()),
                )
            })
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// `coords` (required) and `within` with `within-units` (`within-units` alone is a 400).
fn center_and_within(params: &Params) -> Result<(Point<f64>, Option<f64>)> {
    let coords = params
        .get("coords")
        .ok_or_else(|| Error::bad_param("coords", "", "required: POINT(lon lat)"))?;
    let center = parse_coords(coords)?;
    let within = params
        .get("within")
        .map(|w| parse_within(w, params.get("within-units")))
        .transpose()?;
    if within.is_none()
        && let Some(u) = params.get("within-units")
    {
        return Err(Error::bad_param("within-units", u, "given without within"));
    }
    Ok((center, within))
}

#[cfg(test)]
mod tests;
