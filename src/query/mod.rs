//! Queries over one layer snapshot: bbox, datetime, property equality, radius, nearest,
//! sorting and paging. Pure and synchronous; no HTTP.
//!
//! Every query returns an [`Outcome`]: how many features matched and the positions (with
//! distances, for distance queries) of the requested page. Default order is the layer's
//! order (file order); radius and nearest answers are sorted nearest first.

pub mod datetime;
pub mod filter;
pub mod params;
pub mod request;

use std::cmp::Ordering;
use std::sync::Arc;

use geo::{Geometry, Intersects, Point, Rect, coord};

pub use params::{BBox, Interval, SortKey};

use crate::catalog::{Layer, Prop};
use crate::index::geodesic::{distance_to_geometry_m, geodesic_m};

/// Filters shared by all queries.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub bbox: Option<BBox>,
    pub datetime: Option<Interval>,
    /// `(field position, value)` pairs that must all be equal.
    pub equals: Vec<(usize, Prop)>,
    /// A CQL2 filter (`filter`), compiled for the layer.
    pub filter: Option<Arc<filter::Filter>>,
}

/// A page of results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: usize,
    pub offset: usize,
}

/// One result: the feature position and, for distance queries, its distance in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub pos: usize,
    pub distance_m: Option<f64>,
}

/// The answer to a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Features matching the query, over all pages.
    pub matched: usize,
    pub hits: Vec<Hit>,
}

impl Selection {
    /// Whether the feature at `pos` passes the non-spatial filters.
    fn passes_attributes(&self, layer: &Layer, pos: usize) -> bool {
        let f = &layer.features[pos];
        self.datetime.is_none_or(|d| d.matches(f.time))
            && self
                .equals
                .iter()
                .all(|(i, v)| prop_equals(&f.props[*i], v))
            && self.filter.as_ref().is_none_or(|q| q.matches(layer, pos))
    }

    /// Whether the feature's geometry intersects the bbox (true without bbox).
    fn passes_bbox(&self, layer: &Layer, pos: usize) -> bool {
        let Some(b) = self.bbox else { return true };
        let g = &layer.features[pos].geometry;
        b.envelopes().any(|[w, s, e, n]| {
            let rect = Rect::new(coord! { x: w, y: s }, coord! { x: e, y: n });
            match g {
                Geometry::Point(p) => rect.intersects(p),
                other => rect.intersects(other),
            }
        })
    }

    /// Candidate positions (sorted, unique) from the bbox and the filter's envelope, or all
    /// positions.
    fn candidates(&self, layer: &Layer) -> Vec<usize> {
        let from_filter = self.filter.as_ref().and_then(|q| q.envelope());
        match (self.bbox, from_filter) {
            (None, None) => (0..layer.features.len()).collect(),
            (None, Some([w, s, e, n])) => {
                let mut c: Vec<usize> = layer.index.in_envelope(w, s, e, n).collect();
                c.sort_unstable();
                c
            }
            (Some(b), _) => {
                let mut c: Vec<usize> = b
                    .envelopes()
                    .flat_map(|[w, s, e, n]| layer.index.in_envelope(w, s, e, n))
                    .collect();
                c.sort_unstable();
                c.dedup();
                c
            }
        }
    }
}

fn prop_equals(a: &Prop, b: &Prop) -> bool {
    match (a, b) {
        (Prop::Int(x), Prop::Float(y)) | (Prop::Float(y), Prop::Int(x)) => {
            #[expect(
                clippy::cast_precision_loss,
                clippy::float_cmp,
                reason = "exact equality filter"
            )]
            let eq = *x as f64 == *y;
            eq
        }
        (Prop::Absent, Prop::Null) => true,
        _ => a == b,
    }
}

/// Orders two property values: numbers by value, strings lexically, missing and null last.
pub fn compare_props(a: &Prop, b: &Prop) -> Ordering {
    let rank = |p: &Prop| match p {
        Prop::Absent | Prop::Null => 3,
        Prop::Bool(_) => 0,
        Prop::Int(_) | Prop::Float(_) => 1,
        _ => 2,
    };
    match (a, b) {
        (Prop::Bool(x), Prop::Bool(y)) => x.cmp(y),
        (Prop::Str(x), Prop::Str(y)) => x.cmp(y),
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => rank(a).cmp(&rank(b)),
        },
    }
}

fn paginate(all: Vec<Hit>, page: Page) -> Outcome {
    let matched = all.len();
    let hits = all.into_iter().skip(page.offset).take(page.limit).collect();
    Outcome { matched, hits }
}

/// Features matching `selection`, in layer order or by `sort`, one page.
pub fn items(layer: &Layer, selection: &Selection, sort: &[SortKey], page: Page) -> Outcome {
    let unfiltered = selection.bbox.is_none()
        && selection.datetime.is_none()
        && selection.equals.is_empty()
        && selection.filter.is_none();
    if unfiltered && sort.is_empty() {
        let n = layer.features.len();
        let hits = (page.offset.min(n)..n)
            .take(page.limit)
            .map(|pos| Hit {
                pos,
                distance_m: None,
            })
            .collect();
        return Outcome { matched: n, hits };
    }
    // For a layer of points the envelope test of the index is already the exact bbox test.
    let exact_from_index = layer.index.points_only();
    let mut positions: Vec<usize> = selection
        .candidates(layer)
        .into_iter()
        .filter(|&p| {
            selection.passes_attributes(layer, p)
                && (exact_from_index || selection.passes_bbox(layer, p))
        })
        .collect();
    if !sort.is_empty() {
        positions.sort_by(|&a, &b| {
            let (fa, fb) = (&layer.features[a], &layer.features[b]);
            sort.iter()
                .map(|k| {
                    let (x, y) = (&fa.props[k.field], &fb.props[k.field]);
                    let missing = |p: &Prop| matches!(p, Prop::Absent | Prop::Null);
                    match (missing(x), missing(y)) {
                        (false, false) if k.descending => compare_props(x, y).reverse(),
                        (false, false) => compare_props(x, y),
                        // Missing values sort last in both directions.
                        (a, b) => a.cmp(&b),
                    }
                })
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
                .then(a.cmp(&b))
        });
    }
    paginate(
        positions
            .into_iter()
            .map(|pos| Hit {
                pos,
                distance_m: None,
            })
            .collect(),
        page,
    )
}

/// Features within `within_m` metres (geodesic) of `center`, nearest first, one page.
pub fn radius(
    layer: &Layer,
    center: Point<f64>,
    within_m: f64,
    selection: &Selection,
    page: Page,
) -> Outcome {
    let mut hits: Vec<Hit> = layer
        .index
        .within(center, within_m)
        .filter(|&pos| selection.passes_attributes(layer, pos) && selection.passes_bbox(layer, pos))
        .filter_map(|pos| {
            let d = distance_m(layer, pos, center);
            (d <= within_m).then_some(Hit {
                pos,
                distance_m: Some(d),
            })
        })
        .collect();
    sort_by_distance(&mut hits);
    paginate(hits, page)
}

/// The `k` features nearest to `center` (geodesic), optionally within `within_m`.
pub fn nearest(
    layer: &Layer,
    center: Point<f64>,
    k: usize,
    within_m: Option<f64>,
    selection: &Selection,
) -> Outcome {
    let limit = within_m.unwrap_or(f64::INFINITY);
    let mut best: Vec<Hit> = Vec::with_capacity(k + 1);
    let worst = |best: &Vec<Hit>| {
        if best.len() < k {
            limit
        } else {
            best.last()
                .and_then(|h| h.distance_m)
                .unwrap_or(f64::INFINITY)
                .min(limit)
        }
    };
    let offer = |pos: usize, d: f64, best: &mut Vec<Hit>| {
        if d > limit {
            return;
        }
        let hit = Hit {
            pos,
            distance_m: Some(d),
        };
        let at = best.partition_point(|h| cmp_hit(h, &hit) == Ordering::Less);
        best.insert(at, hit);
        best.truncate(k);
    };
    if k > 0 {
        for (pos, lower_bound_m) in layer.index.nearest(center) {
            if lower_bound_m > worst(&best) {
                break;
            }
            if !selection.passes_attributes(layer, pos) || !selection.passes_bbox(layer, pos) {
                continue;
            }
            let d = distance_m(layer, pos, center);
            offer(pos, d, &mut best);
        }
        for pos in layer.index.non_points() {
            if selection.passes_attributes(layer, pos) && selection.passes_bbox(layer, pos) {
                let d = distance_m(layer, pos, center);
                offer(pos, d, &mut best);
            }
        }
    }
    Outcome {
        matched: best.len(),
        hits: best,
    }
}

fn distance_m(layer: &Layer, pos: usize, center: Point<f64>) -> f64 {
    match &layer.features[pos].geometry {
        Geometry::Point(p) => geodesic_m(center, *p),
        g => distance_to_geometry_m(center, g),
    }
}

fn cmp_hit(a: &Hit, b: &Hit) -> Ordering {
    let (x, y) = (
        a.distance_m.unwrap_or(f64::INFINITY),
        b.distance_m.unwrap_or(f64::INFINITY),
    );
    x.total_cmp(&y).then(a.pos.cmp(&b.pos))
}

fn sort_by_distance(hits: &mut [Hit]) {
    hits.sort_by(cmp_hit);
}
