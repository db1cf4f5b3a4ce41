//! khorasan-atlas: a GeoJSON, OGC API - Features and vector tile server for the atlas of
//! ISIS-K attacks against the historical Khorasan region.
//!
//! The map of the crate, from the edge inwards:
//! - [`http`]: actix handlers, query-string parsing, links, OpenAPI, static web assets. The
//!   only module that knows HTTP.
//! - [`config`]: the TOML configuration and CLI flags, validated.
//! - [`catalog`]: loading layers (validation, ids, schema, time), joins, snapshots.
//! - [`index`]: the R-trees and the geodesic distance functions.
//! - [`query`]: bbox, datetime, property filters, radius, nearest, sorting and paging.
//! - [`error`]: the one error type and its status codes.
//!
//! All coordinates are lon/lat degrees in EPSG:4326; all distances are metres on WGS84.

pub mod catalog;
pub mod config;
pub mod error;
pub mod geom;
pub mod http;
pub mod index;
pub mod query;
pub mod store;
pub mod tiles;

pub use error::{Error, Result};
