//! khorasan-atlas: a GeoJSON, OGC API - Features and vector tile server for the atlas of
//! ISIS-K attacks against the historical Khorasan region.
//!
//! The map of the crate, from the edge inwards (a module uses only those listed below it):
//! - [`http`]: actix routes and handlers, query-string parsing, links, OpenAPI, metrics,
//!   static web assets. The only module that knows HTTP.
//! - [`config`]: the TOML file, CLI flags and environment, validated and assembled into the
//!   settings of each module. Nothing below imports it.
//! - [`store`]: the write side: tokens and rate limits, write rules, drafts, the durable
//!   store and change log, merging stored changes into the layers, change events.
//! - [`tiles`]: vector tiles: tile coordinates, clipping, simplification, clustering,
//!   budgets, MVT encoding, the tile cache, TileJSON.
//! - [`query`]: typed read requests (bbox, datetime, property filters, sorting, paging) and
//!   their answers over one layer snapshot: items, radius, nearest.
//! - [`catalog`]: layers and their snapshots: features, the field schema, loading GeoJSON,
//!   ids and times, joins, output as GeoJSON, and the settings these read.
//! - [`index`]: the R-trees of a snapshot (candidates by envelope, by distance, nearest
//!   first) and geodesic distances.
//! - [`geom`]: the antimeridian-aware bounding box and Web Mercator maths.
//! - [`memory`]: the hook that has the allocator give freed pages back after a large piece
//!   of work.
//! - [`cancel`]: the flag that tells long work its client has gone.
//! - [`etag`]: the one entity-tag scheme of every `ETag` the server sends.
//! - [`error`]: the one error type, with the context that names the bad value; `http` maps
//!   it to status codes.
//!
//! All coordinates are lon/lat degrees in EPSG:4326; all distances are metres on WGS84.

pub mod bake;
pub mod cancel;
pub mod catalog;
pub mod config;
pub mod error;
pub mod etag;
pub mod geom;
pub mod http;
pub mod index;
pub mod memory;
pub mod query;
pub mod store;
pub mod tiles;

pub use error::{Error, Result};
