//! Configuration: raw (TOML file, CLI flags, environment) into a validated [`Config`], and
//! from it the settings of each module ([`Config::catalog`], [`Config::tile_layers`]).
//!
//! Owns: the file format (unknown keys are rejected), the defaults (documented on each
//! field), and the checks that make a configuration usable (unique layer ids, joins that
//! name existing layers, limits in range). The settings types belong to the modules that
//! read them; no module below [`crate::http`] imports this one. It does not read layer files;
//! see [`crate::catalog`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod limits;

pub use limits::Limits;

use crate::catalog::{CatalogSettings, LayerSettings, PostgisSource, PostgisTable};
use crate::error::{Error, Result};

pub use crate::catalog::{InvalidPolicy, JoinConfig};

/// Default address to listen on.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default `limit` of `items` when the client gives none.
pub const DEFAULT_LIMIT: usize = 10;
/// Largest `limit` a client may ask for.
pub const MAX_LIMIT: usize = 10_000;

/// The configuration file as written (TOML).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Server settings.
    #[serde(default)]
    pub server: RawServer,
    /// The layers, in the order they are listed in `/collections`.
    #[serde(default)]
    pub layers: Vec<LayerConfig>,
    /// Spatial joins applied at load (and after each write).
    #[serde(default)]
    pub joins: Vec<JoinConfig>,
}

/// `[server]` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    /// Address to listen on. Default `127.0.0.1:8080`; `--listen` overrides it.
    pub listen: Option<String>,
    /// Default page size of `items`. Default 10.
    pub default_limit: Option<usize>,
    /// Largest page size. Default 10000 (the largest allowed).
    pub max_limit: Option<usize>,
    /// Directory with the built map page (`index.html` and assets). Default `web/dist`.
    pub web_dir: Option<PathBuf>,
    /// Directory of the durable store. Default `data`.
    pub data_dir: Option<PathBuf>,
    /// The shared store of writes, `postgresql://USER@HOST:PORT/DB`: writable layers are kept
    /// in PostgreSQL/PostGIS instead of the SQLite file of `data_dir`, and every server on the
    /// same database is a replica (see [`crate::store::postgres`]). The password comes from
    /// the environment variable `KHORASAN_PG_PASSWORD`; `--store` overrides it. Default: none
    /// (the SQLite store).
    pub store: Option<String>,
    /// `Cache-Control` max-age, in seconds, of read responses. Default 60.
    pub cache_max_age: Option<u32>,
    /// PostgreSQL connection of the layers read from PostGIS (`postgis = { ... }`), as
    /// `postgresql://USER@HOST:PORT/DB`; the password comes from the environment variable
    /// `KHORASAN_PG_PASSWORD`. Default: none (no PostGIS layers).
    pub postgis_url: Option<String>,
    /// Reload a layer when its file changes (see [`crate::catalog::watch`]). Default true;
    /// `--no-watch` turns it off.
    pub watch_files: Option<bool>,
    /// SHA-256 digests (64 hex digits) of the bearer tokens allowed to write
    /// (`printf %s "$TOKEN" | sha256sum`). Default: none; then writes are off unless the
    /// environment variable `KHORASAN_WRITE_TOKEN` holds a token.
    #[serde(default)]
    pub write_tokens_sha256: Vec<String>,
    /// Writes per minute per client (token, or address when the token is wrong); 0 turns the
    /// limit off. Default 120.
    pub write_rate_per_minute: Option<u32>,
    /// Writes a client may make at once before the rate applies. Default 20.
    pub write_burst: Option<u32>,
    /// Largest body of a write, in bytes. Default 262144 (256 KiB).
    pub max_body_bytes: Option<usize>,
    /// Vector tile settings (`[server.tiles]`): max zoom, cache size, max-age. Defaults in
    /// [`crate::tiles::TileServerConfig`].
    #[serde(default)]
    pub tiles: crate::tiles::TileServerConfig,
    /// Bounds on clients (`[server.limits]`): timeouts, connections, request sizes, paging
    /// depth, event streams. Defaults in [`Limits`].
    #[serde(default)]
    pub limits: Limits,
}

/// One `[[layers]]` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerConfig {
    /// Collection id used in URLs: letters, digits, `_` and `-`.
    pub id: String,
    /// Human title. Default: the id.
    pub title: Option<String>,
    /// Human description. Default: empty.
    #[serde(default)]
    pub description: String,
    /// GeoJSON file (FeatureCollection, EPSG:4326). Relative paths are resolved against the
    /// directory of the configuration file. Either this or `postgis`.
    #[serde(default)]
    pub file: PathBuf,
    /// A PostGIS table or view to read the layer from, on the connection of
    /// `server.postgis_url`: `{ table, geometry_column = "geom", id_column = "id",
    /// properties = [...] }`. Read-only; see [`crate::catalog::postgis`].
    pub postgis: Option<PostgisTable>,
    /// Attribution shown by maps. Default: none.
    pub attribution: Option<String>,
    /// Property holding the time of a feature (`YYYY-MM-DD` or RFC 3339). Default: none,
    /// and `datetime` filters then match nothing but open intervals.
    pub time_property: Option<String>,
    /// Property holding the end of a feature's period, `time_property` then holding its
    /// start. Values `YYYY` (whole year), `YYYY-MM` (whole month), `YYYY-MM-DD` or RFC 3339;
    /// a null end is an open period. `datetime` selects the periods overlapping the
    /// requested one. Default: none (features have one time). Not for writable layers.
    pub time_end_property: Option<String>,
    /// Properties usable as equality filters and in `sortby`. Default: every property
    /// whose values are strings, numbers or booleans.
    pub queryables: Option<Vec<String>>,
    /// Policy for invalid features. Default `skip`.
    #[serde(default)]
    pub on_invalid: InvalidPolicy,
    /// Whether authenticated clients may create, replace and delete features. Default false.
    #[serde(default)]
    pub writable: bool,
    /// What a written feature must look like (`[layers.write]`): geometry types, required and
    /// typed properties, vertex limit, server-owned properties. Default: any valid feature of
    /// at most 10000 positions. See [`crate::store::rules`].
    #[serde(default)]
    pub write: crate::store::WriteRules,
    /// How the layer is served as vector tiles (`[layers.tiles]`): zoom range, extent,
    /// buffer, simplification, budget, clustering. Defaults in [`crate::tiles::TileLayerConfig`].
    #[serde(default)]
    pub tiles: crate::tiles::TileLayerConfig,
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub default_limit: usize,
    pub max_limit: usize,
    pub web_dir: PathBuf,
    pub data_dir: PathBuf,
    /// The PostgreSQL store of writes (`server.store`); `None`: SQLite in `data_dir`.
    pub store: Option<String>,
    pub cache_max_age: u32,
    /// Whether layer files are watched and reloaded when they change.
    pub watch_files: bool,
    /// The PostgreSQL connection of PostGIS layers (`server.postgis_url`).
    pub postgis_url: Option<String>,
    /// Tokens, rate limit and body limit of writes.
    pub write: crate::store::WriteSettings,
    /// Vector tile settings of the server.
    pub tiles: crate::tiles::TileServerConfig,
    /// Bounds on clients.
    pub limits: Limits,
    pub layers: Vec<LayerConfig>,
    pub joins: Vec<JoinConfig>,
}

impl RawConfig {
    /// Reads a TOML configuration file; relative layer paths become relative to its directory.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Load {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let mut raw: RawConfig = toml::from_str(&text).map_err(|e| Error::Load {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        for layer in &mut raw.layers {
            if layer.file.is_relative() && !layer.file.as_os_str().is_empty() {
                layer.file = base.join(&layer.file);
            }
        }
        Ok(raw)
    }

    /// Adds a layer given on the command line as `ID=PATH`, replacing a layer of the same id.
    pub fn add_layer_arg(&mut self, arg: &str) -> Result<()> {
        let (id, path) = arg
            .split_once('=')
            .ok_or_else(|| Error::Config(format!("--layer {arg:?}: expected ID=PATH")))?;
        let layer = LayerConfig {
            id: id.to_owned(),
            title: None,
            description: String::new(),
            file: PathBuf::from(path),
            ..LayerConfig::default()
        };
        self.layers.retain(|l| l.id != id);
        self.layers.push(layer);
        Ok(())
    }

    /// Checks everything that can be checked without reading layer files.
    pub fn validate(self) -> Result<Config> {
        let listen_text = self.server.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
        let listen = listen_text.parse().map_err(|_| {
            Error::Config(format!("listen address {listen_text:?} is not HOST:PORT"))
        })?;
        let max_limit = self.server.max_limit.unwrap_or(MAX_LIMIT);
        if !(1..=MAX_LIMIT).contains(&max_limit) {
            return Err(Error::Config(format!(
                "server.max_limit {max_limit} must be in 1..={MAX_LIMIT}"
            )));
        }
        let default_limit = self.server.default_limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=max_limit).contains(&default_limit) {
            return Err(Error::Config(format!(
                "server.default_limit {default_limit} must be in 1..={max_limit}"
            )));
        }
        if self.layers.is_empty() {
            return Err(Error::Config(
                "no layers: give --config FILE or --layer ID=PATH".to_owned(),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for layer in &self.layers {
            let ok = !layer.id.is_empty()
                && layer
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !ok {
                return Err(Error::Config(format!(
                    "layer id {:?} must be non-empty and use only letters, digits, '_' and '-'",
                    layer.id
                )));
            }
            if layer.time_end_property.is_some()
                && (layer.writable || layer.time_property.is_none())
            {
                return Err(Error::Config(format!(
                    "layer {:?}: time_end_property needs time_property and a layer that is not writable",
                    layer.id
                )));
            }
            check_source(layer, self.server.postgis_url.as_deref())?;
            if !seen.insert(layer.id.as_str()) {
                return Err(Error::Config(format!(
                    "layer id {:?} is repeated",
                    layer.id
                )));
            }
        }
        if let Some(url) = &self.server.store {
            check_store_url(url)?;
        }
        self.server.tiles.validate()?;
        self.server.limits.validate()?;
        for layer in &self.layers {
            layer.tiles.validate(&layer.id)?;
        }
        for join in &self.joins {
            for id in [&join.points, &join.polygons] {
                if !seen.contains(id.as_str()) {
                    return Err(Error::Config(format!("join names unknown layer {id:?}")));
                }
            }
        }
        Ok(Config {
            listen,
            default_limit,
            max_limit,
            web_dir: self
                .server
                .web_dir
                .unwrap_or_else(|| PathBuf::from("web/dist")),
            data_dir: self
                .server
                .data_dir
                .unwrap_or_else(|| PathBuf::from("data")),
            store: self.server.store,
            cache_max_age: self.server.cache_max_age.unwrap_or(60),
            watch_files: self.server.watch_files.unwrap_or(true),
            postgis_url: self.server.postgis_url,
            write: crate::store::WriteSettings::from_raw(
                &self.server.write_tokens_sha256,
                self.server.write_rate_per_minute,
                self.server.write_burst,
                self.server.max_body_bytes,
            )?,
            tiles: self.server.tiles,
            limits: self.server.limits,
            layers: self.layers,
            joins: self.joins,
        })
    }
}

/// The shared store is named by a PostgreSQL URL; the password stays out of it.
fn check_store_url(url: &str) -> Result<()> {
    let rest = url
        .strip_prefix("postgresql://")
        .or_else(|| url.strip_prefix("postgres://"));
    let problem = match rest {
        None => "is not a postgresql:// URL",
        Some(rest)
            if rest
                .split_once('@')
                .is_some_and(|(user, _)| user.contains(':')) =>
        {
            "holds a password: give it in KHORASAN_PG_PASSWORD instead"
        }
        Some(_) => return Ok(()),
    };
    Err(Error::Config(format!("server.store {url:?} {problem}")))
}

/// A layer reads exactly one of a file and a PostGIS table; a PostGIS one needs the
/// connection and is read-only.
fn check_source(layer: &LayerConfig, postgis_url: Option<&str>) -> Result<()> {
    let has_file = !layer.file.as_os_str().is_empty();
    let problem = match (&layer.postgis, has_file) {
        (None, false) => Some("needs a file or a postgis table"),
        (Some(_), true) => Some("has both a file and a postgis table; give one"),
        (Some(_), false) if postgis_url.is_none() => {
            Some("reads from PostGIS but server.postgis_url is not set")
        }
        (Some(_), false) if layer.writable => Some("reads from PostGIS and cannot be writable"),
        _ => None,
    };
    match problem {
        Some(p) => Err(Error::Config(format!("layer {:?} {p}", layer.id))),
        None => Ok(()),
    }
}

impl LayerConfig {
    /// The part of this entry the catalog reads; `postgis_url` is the connection of a
    /// PostGIS layer.
    pub fn catalog_settings(&self, postgis_url: Option<&str>) -> LayerSettings {
        LayerSettings {
            id: self.id.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            file: self.file.clone(),
            postgis: self.postgis.clone().map(|table| PostgisSource {
                url: postgis_url.unwrap_or_default().to_owned(),
                table,
            }),
            attribution: self.attribution.clone(),
            time_property: self.time_property.clone(),
            time_end_property: self.time_end_property.clone(),
            queryables: self.queryables.clone(),
            on_invalid: self.on_invalid,
            writable: self.writable,
        }
    }
}

impl Config {
    /// What the catalog loads: every layer and the joins.
    pub fn catalog(&self) -> CatalogSettings {
        CatalogSettings {
            layers: self
                .layers
                .iter()
                .map(|l| l.catalog_settings(self.postgis_url.as_deref()))
                .collect(),
            joins: self.joins.clone(),
        }
    }

    /// The tile settings of each layer, by layer id.
    pub fn tile_layers(
        &self,
    ) -> impl Iterator<Item = (String, crate::tiles::TileLayerConfig)> + '_ {
        self.layers.iter().map(|l| (l.id.clone(), l.tiles.clone()))
    }

    /// The configuration of one layer.
    pub fn layer(&self, id: &str) -> Option<&LayerConfig> {
        self.layers.iter().find(|l| l.id == id)
    }
}

impl Config {
    /// The settings of the write side: data directory, access, and the rules of each
    /// writable layer.
    pub fn store_settings(&self) -> crate::store::StoreSettings {
        crate::store::StoreSettings {
            data_dir: self.data_dir.clone(),
            store_url: self.store.clone(),
            access: self.write.clone(),
            writable_layers: self
                .layers
                .iter()
                .filter(|l| l.writable)
                .map(|l| (l.id.clone(), l.write.clone()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| Error::Config(e.to_string()))?;
        raw.validate()
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = parse("[server]\nlisten='127.0.0.1:1'\ncolour='red'\n").unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn defaults_apply() {
        let cfg = parse("[[layers]]\nid='a'\nfile='a.geojson'\n").unwrap();
        assert_eq!(cfg.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(cfg.default_limit, DEFAULT_LIMIT);
        assert_eq!(cfg.max_limit, MAX_LIMIT);
    }

    #[test]
    fn repeated_layer_ids_and_bad_joins_are_refused() {
        assert!(parse("[[layers]]\nid='a'\nfile='a'\n[[layers]]\nid='a'\nfile='b'\n").is_err());
        assert!(
            parse("[[layers]]\nid='a'\nfile='a'\n[[joins]]\npoints='a'\npolygons='b'\n").is_err()
        );
        assert!(parse("[[layers]]\nid='a/../b'\nfile='a'\n").is_err());
    }

    #[test]
    fn the_shared_store_is_a_postgresql_url_without_a_password() {
        let layer = "[[layers]]\nid='a'\nfile='a'\n";
        let with = |url: &str| parse(&format!("[server]\nstore='{url}'\n{layer}"));
        let cfg = with("postgresql://atlas@db:5432/atlas").unwrap();
        assert_eq!(
            cfg.store_settings().store_url.as_deref(),
            Some("postgresql://atlas@db:5432/atlas")
        );
        assert!(with("postgres://db/atlas").is_ok());
        let err = with("mysql://db/atlas").unwrap_err();
        assert!(err.to_string().contains("mysql://db/atlas"), "{err}");
        let err = with("postgresql://atlas:secret@db/atlas").unwrap_err();
        assert!(err.to_string().contains("KHORASAN_PG_PASSWORD"), "{err}");
        assert!(parse(layer).unwrap().store_settings().store_url.is_none());
    }

    #[test]
    fn a_period_end_needs_a_start_and_a_read_only_layer() {
        let layer = "[[layers]]\nid='a'\nfile='a'\n";
        let cfg = parse(&format!(
            "{layer}time_property='start'\ntime_end_property='end'\n"
        ))
        .unwrap();
        let settings = cfg.catalog();
        assert_eq!(settings.layers[0].time_end_property.as_deref(), Some("end"));
        assert!(parse(&format!("{layer}time_end_property='end'\n")).is_err());
        let writable = format!("{layer}time_property='s'\ntime_end_property='e'\nwritable=true\n");
        assert!(parse(&writable).is_err());
    }

    #[test]
    fn a_layer_reads_one_source_and_postgis_needs_a_connection() {
        let pg = "[[layers]]\nid='a'\npostgis={table='t', properties=['x']}\n";
        assert!(parse(pg).is_err());
        let url = "[server]\npostgis_url='postgresql://u@h/d'\n";
        let cfg = parse(&format!("{url}{pg}")).unwrap();
        let settings = cfg.catalog().layers.remove(0);
        let source = settings.postgis.unwrap();
        assert_eq!(source.url, "postgresql://u@h/d");
        assert_eq!(source.table.geometry_column, "geom");
        assert_eq!(source.table.properties, ["x"]);
        assert!(parse(&format!("{url}{pg}file='f'\n")).is_err());
        assert!(parse(&format!("{url}{pg}writable=true\n")).is_err());
        assert!(parse("[[layers]]\nid='a'\n").is_err());
    }

    #[test]
    fn layer_args_replace_layers_of_the_same_id() {
        let mut raw = RawConfig::default();
        raw.add_layer_arg("x=one.geojson").unwrap();
        raw.add_layer_arg("x=two.geojson").unwrap();
        assert_eq!(raw.layers.len(), 1);
        assert_eq!(raw.layers[0].file, PathBuf::from("two.geojson"));
        assert!(raw.add_layer_arg("nothing").is_err());
    }
}
