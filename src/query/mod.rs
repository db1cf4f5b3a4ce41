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

use geo::{Intersects, Point, Rect, coord};

pub use params::{BBox, Interval, SortKey};

use crate::catalog::{Layer, Prop, Shape};
use crate::index::Candidate;
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
    /// Whether only the bbox (if any) filters: no datetime, property or CQL2 filter.
    fn spatial_only(&self) -> bool {
        self.datetime.is_none() && self.equals.is_empty() && self.filter.is_none()
    }

    /// Whether a candidate of a distance query must be checked against its feature (an
    /// attribute filter or a `bbox`); otherwise every candidate of the index passes.
    fn reads_features(&self) -> bool {
        !self.spatial_only() || self.bbox.is_some()
    }

    /// Whether the feature at `pos` passes the non-spatial filters.
    fn passes_attributes(&self, layer: &Layer, pos: usize) -> bool {
        let Some(f) = layer.features.get(pos) else {
            return false;
        };
        self.datetime.is_none_or(|d| d.matches(f.time.get()))
            && self
                .equals
                .iter()
                .all(|(i, v)| prop_equals(&f.props[*i], v))
            && self.filter.as_ref().is_none_or(|q| q.matches(layer, pos))
    }

    /// Whether the feature's geometry intersects the bbox (true without bbox).
    fn passes_bbox(&self, layer: &Layer, pos: usize) -> bool {
        let Some(b) = self.bbox else { return true };
        let Some(g) = layer.features.get(pos).map(|f| &f.geometry) else {
            return false;
        };
        b.envelopes().any(|[w, s, e, n]| {
            let rect = Rect::new(coord! { x: w, y: s }, coord! { x: e, y: n });
            match g {
                Shape::Point(p) => rect.intersects(p),
                Shape::Other(other) => rect.intersects(&**other),
            }
        })
    }

    /// Candidate positions (unique, in no particular order) from the bbox or the filter's
    /// envelope, or all
    /// positions.
    fn candidates(&self, layer: &Layer) -> Vec<usize> {
        let from_filter = self.filter.as_ref().and_then(|q| q.envelope());
        match (self.bbox, from_filter) {
            (None, None) => layer.features.iter().map(|(pos, _)| pos).collect(),
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
                // A geometry may meet both halves of a box split at the antimeridian.
                if b.envelopes().nth(1).is_some() {
                    c.sort_unstable();
                    c.dedup();
                }
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

/// Features matching `selection`, in layer order or by `sort`, one page.
pub fn items(layer: &Layer, selection: &Selection, sort: &[SortKey], page: Page) -> Outcome {
    let unfiltered = selection.bbox.is_none()
        && selection.datetime.is_none()
        && selection.equals.is_empty()
        && selection.filter.is_none();
    if unfiltered && sort.is_empty() {
        let n = layer.features.live();
        let hits = (layer.features.page(page.offset, page.limit))
            .map(|pos| Hit {
                pos,
                distance_m: None,
            })
            .collect();
        return Outcome { matched: n, hits };
    }
    // For a layer of points the envelope test of the index is already the exact bbox test.
    let exact_from_index = layer.index.points_only();
    if exact_from_index
        && sort.is_empty()
        && selection.spatial_only()
        && let Some(bbox) = selection.bbox
    {
        return bbox_page(layer, bbox, page);
    }
    let mut positions: Vec<usize> = selection
        .candidates(layer)
        .into_iter()
        .filter(|&p| {
            selection.passes_attributes(layer, p)
                && (exact_from_index || selection.passes_bbox(layer, p))
        })
        .collect();
    let matched = positions.len();
    // Only the first `offset + limit` positions of the order need sorting.
    let want = page.offset.saturating_add(page.limit).min(matched);
    if sort.is_empty() {
        first_sorted(&mut positions, want, usize::cmp);
    } else {
        let by_keys = |&a: &usize, &b: &usize| {
            let (Some(fa), Some(fb)) = (layer.features.get(a), layer.features.get(b)) else {
                return a.cmp(&b);
            };
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
        };
        first_sorted(&mut positions, want, by_keys);
    }
    Outcome {
        matched,
        hits: positions
            .into_iter()
            .skip(page.offset)
            .take(page.limit)
            .map(|pos| Hit {
                pos,
                distance_m: None,
            })
            .collect(),
    }
}

/// The points of a single-point layer in `bbox`, in layer order: counted by whole index
/// nodes, the page read in position order from the index.
fn bbox_page(layer: &Layer, bbox: BBox, page: Page) -> Outcome {
    let index = &layer.index;
    // The two halves of a box split at the antimeridian hold no point in common.
    let want = page.offset.saturating_add(page.limit);
    let mut matched = 0;
    let mut positions: Vec<usize> = Vec::new();
    for [w, s, e, n] in bbox.envelopes() {
        let (count, first) = index.count_and_first_in_envelope(w, s, e, n, want);
        matched += count;
        positions.extend(first);
    }
    if bbox.envelopes().nth(1).is_some() {
        positions.sort_unstable();
        positions.dedup();
        positions.truncate(want);
    }
    Outcome {
        matched,
        hits: positions
            .into_iter()
            .skip(page.offset)
            .map(|pos| Hit {
                pos,
                distance_m: None,
            })
            .collect(),
    }
}

/// Keeps the `want` first elements of `v` in the total order `cmp`, sorted.
fn first_sorted<T>(v: &mut Vec<T>, want: usize, mut cmp: impl FnMut(&T, &T) -> Ordering) {
    if want < v.len() {
        if want == 0 {
            v.clear();
            return;
        }
        v.select_nth_unstable_by(want, &mut cmp);
        v.truncate(want);
    }
    v.sort_unstable_by(cmp);
}

/// Pages reaching further than this many features into a radius answer are read from the
/// whole answer, not from a walk nearest first.
const LARGE_PAGE: usize = 1000;

/// Features within `within_m` metres (geodesic) of `center`, nearest first, one page.
///
/// The count is exact and needs the exact distance only of the candidates in the thin band
/// where the index's bounds cannot tell inside from outside. Without filters on a layer of
/// points, the index counts whole nodes inside the radius
/// ([`crate::index::SpatialIndex::count_within`]) and the page is the nearest features
/// within the radius; otherwise the page measures the candidates inside in the order of
/// their lower bounds until no later one can enter it.
pub fn radius(
    layer: &Layer,
    center: Point<f64>,
    within_m: f64,
    selection: &Selection,
    page: Page,
) -> Outcome {
    if selection.spatial_only()
        && selection.bbox.is_none()
        && let Some(matched) = layer.index.count_within(center, within_m)
    {
        let want = page.offset.saturating_add(page.limit).min(matched);
        if want <= LARGE_PAGE {
            let hits = nearest(layer, center, want, Some(within_m), selection).hits;
            return Outcome {
                matched,
                hits: hits.into_iter().skip(page.offset).collect(),
            };
        }
    }
    let mut inside: Vec<Candidate> = Vec::new();
    let filtered = selection.reads_features();
    for c in layer.index.within_bounds(center, within_m) {
        if c.lower_m > within_m
            || filtered
                && (!selection.passes_attributes(layer, c.pos)
                    || !selection.passes_bbox(layer, c.pos))
        {
            continue;
        }
        if c.upper_m <= within_m {
            inside.push(c);
        } else {
            let d = distance_m(layer, c.pos, center);
            if d <= within_m {
                inside.push(Candidate {
                    pos: c.pos,
                    lower_m: d,
                    upper_m: d,
                });
            }
        }
    }
    let matched = inside.len();
    let want = page.offset.saturating_add(page.limit).min(matched);
    let hits = nearest_of(layer, center, inside, want);
    Outcome {
        matched,
        hits: hits.into_iter().skip(page.offset).collect(),
    }
}

/// The `k` nearest of `candidates` by exact distance (ties by position), nearest first:
/// candidates are measured in the order of their lower bounds until the next lower bound
/// passes the `k`-th distance.
fn nearest_of(
    layer: &Layer,
    center: Point<f64>,
    mut candidates: Vec<Candidate>,
    k: usize,
) -> Vec<Hit> {
    let mut best: Vec<Hit> = Vec::with_capacity(k + 1);
    if k == 0 {
        return best;
    }
    candidates.sort_unstable_by(|a, b| a.lower_m.total_cmp(&b.lower_m));
    for c in candidates {
        if best.len() == k
            && best
                .last()
                .and_then(|h| h.distance_m)
                .is_some_and(|worst| c.lower_m > worst)
        {
            break;
        }
        // A candidate measured in the band carries its distance as both bounds.
        let d = if c.upper_m <= c.lower_m {
            c.lower_m
        } else {
            distance_m(layer, c.pos, center)
        };
        let hit = Hit {
            pos: c.pos,
            distance_m: Some(d),
        };
        let at = best.partition_point(|h| cmp_hit(h, &hit) == Ordering::Less);
        if at < k {
            best.insert(at, hit);
            best.truncate(k);
        }
    }
    best
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
        // On a layer of points the coordinates come from the index, without reading the
        // features that do not make the answer.
        let candidates: Box<dyn Iterator<Item = (usize, f64, Option<Point<f64>>)>> =
            match layer.index.nearest_points(center) {
                Some(points) => Box::new(points.map(|(pos, bound, p)| (pos, bound, Some(p)))),
                None => Box::new(
                    layer
                        .index
                        .nearest(center)
                        .map(|(pos, bound)| (pos, bound, None)),
                ),
            };
        // Without filters every candidate passes: its feature is not read unless measured.
        let filtered = selection.reads_features();
        for (pos, lower_bound_m, point) in candidates {
            if lower_bound_m > worst(&best) {
                break;
            }
            if filtered
                && (!selection.passes_attributes(layer, pos) || !selection.passes_bbox(layer, pos))
            {
                continue;
            }
            let d = match point {
                Some(p) => geodesic_m(center, p),
                None => distance_m(layer, pos, center),
            };
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
    match layer.features.get(pos).map(|f| &f.geometry) {
        Some(Shape::Point(p)) => geodesic_m(center, *p),
        Some(Shape::Other(g)) => distance_to_geometry_m(center, g),
        None => f64::INFINITY,
    }
}

fn cmp_hit(a: &Hit, b: &Hit) -> Ordering {
    let (x, y) = (
        a.distance_m.unwrap_or(f64::INFINITY),
        b.distance_m.unwrap_or(f64::INFINITY),
    );
    x.total_cmp(&y).then(a.pos.cmp(&b.pos))
}
