//! One part of a [`super::SpatialIndex`]: the two packed trees over a set of positions and
//! their geometries (the whole layer for the packed part, the positions edited since for
//! each level of the edit part).

use std::borrow::Borrow;
use std::sync::OnceLock;

use geo::{BoundingRect, Geometry};

use super::geodesic;
use super::packed::{PackedTree, hilbert_keys};

/// The trees of one set of geometries.
#[derive(Debug, Clone, Default)]
pub(super) struct Part {
    /// Geometry envelopes in lon/lat degrees (points when every geometry is one).
    pub envelopes: PackedTree<2>,
    /// Unit normals of point vertices.
    pub normals: PackedTree<3>,
    /// Positions of geometries that are not points, in the order given.
    pub non_points: Vec<u32>,
    /// Whether every geometry is a single point, so that an envelope hit is an exact hit.
    pub points_only: bool,
    /// The place in tree order of each position's envelope (`u32::MAX`: none), made when
    /// first asked for (only a part that is edited needs it).
    items: OnceLock<Vec<u32>>,
}

impl Part {
    /// Builds the trees over `(position, geometry)` pairs; geometries without a position
    /// (empty collections) are in neither tree.
    pub fn build<G: Borrow<Geometry<f64>>>(geometries: impl IntoIterator<Item = (u32, G)>) -> Self {
        let mut lows = Vec::new();
        // Empty while every geometry is a point (its own highest corner).
        let mut highs = Vec::new();
        let mut ids = Vec::new();
        // Point vertices with their positions, once a geometry is not a single point.
        let mut vertices: Vec<([f64; 2], u32)> = Vec::new();
        let mut non_points = Vec::new();
        let mut points_only = true;
        for (pos, geometry) in geometries {
            let geometry = geometry.borrow();
            let Some(r) = geometry.bounding_rect() else {
                continue;
            };
            if points_only && !matches!(geometry, Geometry::Point(_)) {
                points_only = false;
                highs.clone_from(&lows);
                vertices.extend(lows.iter().copied().zip(ids.iter().copied()));
            }
            lows.push([r.min().x, r.min().y]);
            if !points_only {
                highs.push([r.max().x, r.max().y]);
            }
            ids.push(pos);
            match geometry {
                Geometry::Point(p) if !points_only => vertices.push(([p.x(), p.y()], pos)),
                Geometry::Point(_) => {}
                Geometry::MultiPoint(mp) => {
                    vertices.extend(mp.iter().map(|p| ([p.x(), p.y()], pos)))
                }
                _ => non_points.push(pos),
            }
        }
        if points_only {
            // One tree order serves both trees: the normals are the points, turned.
            let keys = hilbert_keys(lows.iter().copied());
            let envelopes = PackedTree::build(lows, None, ids, &keys);
            drop(keys);
            let normals = envelopes.map_points(|[x, y]| geodesic::unit_vector(x, y));
            return Self {
                envelopes,
                normals,
                non_points,
                points_only,
                items: OnceLock::new(),
            };
        }
        let keys = hilbert_keys(
            lows.iter()
                .zip(&highs)
                .map(|(a, b)| [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0]),
        );
        let envelopes = PackedTree::build(lows, Some(highs), ids, &keys);
        let keys = hilbert_keys(vertices.iter().map(|(v, _)| *v));
        let normals = vertices
            .iter()
            .map(|&([x, y], _)| geodesic::unit_vector(x, y))
            .collect();
        let normal_ids = vertices.iter().map(|&(_, pos)| pos).collect();
        drop(vertices);
        Self {
            envelopes,
            normals: PackedTree::build(normals, None, normal_ids, &keys),
            non_points,
            points_only,
            items: OnceLock::new(),
        }
    }

    /// The place in tree order of the envelope of `pos` (also of its normal when the part
    /// holds points only: both trees have one order then).
    pub fn item_of(&self, pos: usize) -> Option<usize> {
        let items = self.items.get_or_init(|| {
            let tree = &self.envelopes;
            let slots = (0..tree.len()).map(|i| tree.id(i) + 1).max().unwrap_or(0);
            let mut items = vec![u32::MAX; slots];
            for i in 0..tree.len() {
                items[tree.id(i)] = u32::try_from(i).unwrap_or(u32::MAX);
            }
            items
        });
        items
            .get(pos)
            .filter(|&&i| i != u32::MAX)
            .map(|&i| i as usize)
    }
}

/// Whether adding `geometry` to a part of single points would make it hold something else.
pub(super) fn breaks_points_only(geometry: &Geometry<f64>) -> bool {
    !matches!(geometry, Geometry::Point(_)) && geometry.bounding_rect().is_some()
}
