//! A feature's 2-D geometry as the catalog keeps it in memory.
//!
//! Owns: [`Shape`], a point held inline and any other geometry boxed, so that a feature of
//! a point layer (most incident layers) spends 24 bytes on its geometry where a
//! `geo::Geometry` takes 56: 32 MB a million points. Readers that need a
//! `geo::Geometry` take one with [`Shape::get`] (borrowed, or a point built on the stack);
//! hot paths that only handle points read [`Shape::point`].

use std::borrow::Cow;

use geo::{BoundingRect, Geometry, Point, Rect};

/// The geometry of a feature: a point inline, anything else boxed.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Point(Point<f64>),
    Other(Box<Geometry<f64>>),
}

impl Shape {
    /// The geometry: borrowed, or for a point a `Geometry::Point` of its own.
    pub fn get(&self) -> Cow<'_, Geometry<f64>> {
        match self {
            Self::Point(p) => Cow::Owned(Geometry::Point(*p)),
            Self::Other(g) => Cow::Borrowed(g),
        }
    }

    /// Whether this is the empty collection that stands for a null geometry (see
    /// [`crate::catalog::load`]).
    pub fn is_empty_collection(&self) -> bool {
        match self {
            Self::Other(g) => matches!(&**g, Geometry::GeometryCollection(gc) if gc.0.is_empty()),
            Self::Point(_) => false,
        }
    }

    /// The point, when the geometry is a single point.
    pub fn point(&self) -> Option<Point<f64>> {
        match self {
            Self::Point(p) => Some(*p),
            Self::Other(_) => None,
        }
    }

    /// The geometry, owned.
    pub fn into_geometry(self) -> Geometry<f64> {
        match self {
            Self::Point(p) => Geometry::Point(p),
            Self::Other(g) => *g,
        }
    }

    /// The bounding rectangle (`None` for an empty geometry).
    pub fn bounding_rect(&self) -> Option<Rect<f64>> {
        match self {
            Self::Point(p) => Some(p.bounding_rect()),
            Self::Other(g) => g.bounding_rect(),
        }
    }
}

impl From<Geometry<f64>> for Shape {
    fn from(geometry: Geometry<f64>) -> Self {
        match geometry {
            Geometry::Point(p) => Self::Point(p),
            other => Self::Other(Box::new(other)),
        }
    }
}

impl From<Point<f64>> for Shape {
    fn from(point: Point<f64>) -> Self {
        Self::Point(point)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::GeometryCollection;

    #[test]
    fn every_geometry_comes_back_as_given() {
        let point = Geometry::Point(Point::new(69.1, 34.5));
        let line = Geometry::LineString(vec![(0.0, 0.0), (1.0, 1.0)].into());
        let empty = Geometry::GeometryCollection(GeometryCollection::default());
        for g in [point, line, empty] {
            let shape = Shape::from(g.clone());
            assert_eq!(*shape.get(), g);
            assert_eq!(shape.bounding_rect(), g.bounding_rect());
            assert_eq!(shape.clone().into_geometry(), g);
        }
        let empty = Shape::from(Geometry::GeometryCollection(GeometryCollection::default()));
        assert_eq!(empty.bounding_rect(), None);
        assert!(empty.is_empty_collection());
        assert!(!Shape::from(Point::new(0.0, 0.0)).is_empty_collection());
        assert_eq!(std::mem::size_of::<Shape>(), 24);
    }
}
