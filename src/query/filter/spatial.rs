//! Spatial predicates: the feature geometry against a literal geometry (WKT, GeoJSON or
//! BBOX), tested with geo's `Intersects` and DE-9IM `Relate`, and the envelope a filter's
//! top-level spatial predicate gives the R-tree.

use cql2::Expr;
use geo::{BoundingRect, CoordsIter, Geometry, Intersects, Relate};

use super::MAX_GEOMETRY_VERTICES;
use super::compile::{Node, bad};
use crate::error::Result;

/// The spatial relations of CQL2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpatialOp {
    Intersects,
    Disjoint,
    Equals,
    Touches,
    Within,
    Overlaps,
    Crosses,
    Contains,
}

impl SpatialOp {
    fn parse(op: &str) -> Option<Self> {
        Some(match op {
            "s_intersects" => Self::Intersects,
            "s_disjoint" => Self::Disjoint,
            "s_equals" => Self::Equals,
            "s_touches" => Self::Touches,
            "s_within" => Self::Within,
            "s_overlaps" => Self::Overlaps,
            "s_crosses" => Self::Crosses,
            "s_contains" => Self::Contains,
            _ => return None,
        })
    }

    /// The relation with its arguments swapped.
    fn converse(self) -> Self {
        match self {
            Self::Within => Self::Contains,
            Self::Contains => Self::Within,
            other => other,
        }
    }
}

/// Compiles `op(left, right)`, where one side is the geometry queryable and the other a
/// literal geometry.
///
/// # Errors
/// A 400 for an unknown operator, another property, or a literal that is not a geometry.
pub fn compile(
    op: &str,
    left: &Expr,
    right: &Expr,
    is_geometry: impl Fn(&str) -> Result<()>,
) -> Result<Node> {
    let sop = SpatialOp::parse(op).ok_or_else(|| bad(op, "unsupported operator"))?;
    let (sop, literal) = match (left, right) {
        (Expr::Property { property }, lit) => {
            is_geometry(property)?;
            (sop, lit)
        }
        (lit, Expr::Property { property }) => {
            is_geometry(property)?;
            (sop.converse(), lit)
        }
        _ => {
            return Err(bad(
                op.to_owned(),
                "needs the geometry queryable and a literal geometry",
            ));
        }
    };
    let geometry = literal_geometry(literal)?;
    Ok(Node::Spatial(sop, Box::new(geometry)))
}

fn literal_geometry(expr: &Expr) -> Result<Geometry<f64>> {
    if !matches!(expr, Expr::Geometry(_) | Expr::BBox { .. }) {
        return Err(bad(
            expr.to_text().unwrap_or_default(),
            "expected a geometry literal (WKT, GeoJSON or BBOX)",
        ));
    }
    let g = Geometry::try_from(expr.clone()).map_err(|e| {
        bad(
            expr.to_text().unwrap_or_default(),
            format!("not a valid geometry: {e}"),
        )
    })?;
    let n = g.coords_count();
    if n > MAX_GEOMETRY_VERTICES {
        return Err(bad(
            format!("geometry of {n} vertices"),
            format!("at most {MAX_GEOMETRY_VERTICES} vertices are allowed in a filter"),
        ));
    }
    if g.coords_iter()
        .any(|c| !c.x.is_finite() || !c.y.is_finite())
    {
        return Err(bad(
            expr.to_text().unwrap_or_default(),
            "coordinates must be finite",
        ));
    }
    Ok(g)
}

/// Whether `feature op literal`.
pub fn test(op: SpatialOp, feature: &Geometry<f64>, literal: &Geometry<f64>) -> bool {
    match op {
        SpatialOp::Intersects => feature.intersects(literal),
        SpatialOp::Disjoint => !feature.intersects(literal),
        _ => {
            let m = feature.relate(literal);
            match op {
                SpatialOp::Equals => m.is_equal_topo(),
                SpatialOp::Touches => m.is_touches(),
                SpatialOp::Within => m.is_within(),
                SpatialOp::Overlaps => m.is_overlaps(),
                SpatialOp::Crosses => m.is_crosses(),
                _ => m.is_contains(),
            }
        }
    }
}

/// The envelope every match of `root` intersects: that of a spatial predicate other than
/// DISJOINT at the top, or inside a top-level AND (the smallest of them).
pub fn prefilter(root: &Node) -> Option<[f64; 4]> {
    let envelope = |n: &Node| match n {
        Node::Spatial(op, g) if *op != SpatialOp::Disjoint => g
            .bounding_rect()
            .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]),
        _ => None,
    };
    match root {
        Node::And(children) => children.iter().filter_map(envelope).min_by(|a, b| {
            let area = |e: &[f64; 4]| (e[2] - e[0]) * (e[3] - e[1]);
            area(a).total_cmp(&area(b))
        }),
        other => envelope(other),
    }
}
