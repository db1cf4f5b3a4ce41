//! Geometry shared by the modules above it, with no dependency on any of them: the
//! antimeridian-aware bounding box and Web Mercator maths. Lon/lat degrees are EPSG:4326.

pub mod bbox;
pub mod mercator;
