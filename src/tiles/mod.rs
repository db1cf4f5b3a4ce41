//! Vector tiles: Web Mercator tile maths, clipping, simplification, clustering, the per-tile
//! budget and the MVT 2.1 encoder. Pure and synchronous: no HTTP here (see
//! `crate::http::tiles`).

pub mod budget;
pub mod clip;
pub mod cluster;
pub mod coord;
pub mod mvt;
pub mod simplify;
