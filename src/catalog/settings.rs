//! The settings the catalog reads: which file makes a layer and how it is described,
//! validated, timed and queried, and the spatial joins between layers.
//!
//! Owns: [`LayerSettings`], [`InvalidPolicy`], [`JoinConfig`] and [`CatalogSettings`]. It does
//! not parse the configuration file or validate ids and limits ([`crate::config`] builds these
//! values), and it knows nothing of tile or write settings, which their modules own.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// What to do with a feature that fails validation when a layer is loaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvalidPolicy {
    /// Log the feature (file, index, reason) and leave it out. The default.
    #[default]
    Skip,
    /// Refuse the whole file: the server does not start.
    Refuse,
}

/// One layer as the catalog sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LayerSettings {
    /// Collection id used in URLs.
    pub id: String,
    /// Human title; `None` means the id.
    pub title: Option<String>,
    /// Human description.
    pub description: String,
    /// GeoJSON file (FeatureCollection, EPSG:4326); empty for a layer read from PostGIS.
    pub file: PathBuf,
    /// The PostGIS table or view the layer is read from, instead of a file.
    pub postgis: Option<PostgisSource>,
    /// Attribution shown by maps.
    pub attribution: Option<String>,
    /// Property holding the time of a feature (`YYYY-MM-DD` or RFC 3339).
    pub time_property: Option<String>,
    /// Property holding the end of a feature's period; with it, `time_property` holds the
    /// start. Both may be `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or RFC 3339, and a null end is an
    /// open period (rules in [`super::time`]).
    pub time_end_property: Option<String>,
    /// Properties usable as equality filters and in `sortby`; `None` means every property
    /// whose values are strings, numbers or booleans.
    pub queryables: Option<Vec<String>>,
    /// Policy for invalid features.
    pub on_invalid: InvalidPolicy,
    /// Whether authenticated clients may create, replace and delete features.
    pub writable: bool,
}

/// A layer's `postgis = { ... }` entry: which table or view, and which of its columns.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgisTable {
    /// Table or view, optionally with its schema (`schema.table`).
    pub table: String,
    /// Geometry column (PostGIS `geometry`, EPSG:4326 or transformable to it). Default `geom`.
    #[serde(default = "default_geometry_column")]
    pub geometry_column: String,
    /// Column holding the feature id (integer or text). Default `id`.
    #[serde(default = "default_id_column")]
    pub id_column: String,
    /// Columns served as properties, in this order. Default: none.
    #[serde(default)]
    pub properties: Vec<String>,
    /// A `NOTIFY` channel announcing changes of the table (a trigger sends them); the layer
    /// is read again on each, see [`super::postgis_listen`]. Default: none (read at start
    /// only).
    pub notify_channel: Option<String>,
}

fn default_geometry_column() -> String {
    "geom".to_owned()
}

fn default_id_column() -> String {
    "id".to_owned()
}

/// Where a PostGIS layer comes from: the connection and the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgisSource {
    /// `postgresql://USER@HOST:PORT/DB`; the password, when needed, comes from the
    /// environment ([`super::postgis::PASSWORD_ENV`]).
    pub url: String,
    pub table: PostgisTable,
}

/// One `[[joins]]` entry: points of one layer take attributes of the polygon containing
/// them, and polygons count the points inside.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinConfig {
    /// Point layer id.
    pub points: String,
    /// Polygon layer id.
    pub polygons: String,
    /// Map of point property to write -> polygon property to read. Default: none.
    #[serde(default)]
    pub copy: BTreeMap<String, String>,
    /// Property of the polygon receiving the number of points inside. Default: none.
    pub count_property: Option<String>,
}

/// Everything [`super::Catalog::load`] needs: the layers in listing order and the joins in
/// the order they are applied.
#[derive(Debug, Clone, Default)]
pub struct CatalogSettings {
    pub layers: Vec<LayerSettings>,
    pub joins: Vec<JoinConfig>,
}
