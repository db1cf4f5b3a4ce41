//! TileJSON 3.0.0 documents.
//!
//! Owns: the TileJSON of one layer or of a composite of layers: zoom range, bounds, centre,
//! attribution and the `vector_layers` with their field types (a layer's own fields, the
//! cluster properties of [`super::cluster::CLUSTER_FIELDS`] when clustered, `represents`
//! when a budget may thin it). The URL of the tiles is the caller's.

use serde_json::{Value, json};

use super::cache::Tiler;
use super::cluster::CLUSTER_FIELDS;
use crate::catalog::{FieldKind, Layer};

/// The world's bounds as TileJSON gives them when no layer has an extent (the Web Mercator
/// latitude limit, rounded outwards).
const WORLD_BOUNDS: [f64; 4] = [-180.0, -85.051_129, 180.0, 85.051_129];

/// The TileJSON type name of a field.
fn field_type(kind: Option<FieldKind>) -> &'static str {
    match kind {
        Some(FieldKind::Integer | FieldKind::Number) => "Number",
        Some(FieldKind::Boolean) => "Boolean",
        _ => "String",
    }
}

/// A TileJSON 3.0.0 document for `layers` (composite when more than one), whose tiles are
/// at `tiles_url` (a template with `{z}/{x}/{y}`).
pub fn tilejson(layers: &[&Layer], tiles_url: &str, tiler: &Tiler) -> Value {
    let server = &tiler.config;
    let mut bounds: Option<[f64; 4]> = None;
    let (mut minzoom, mut maxzoom) = (u8::MAX, 0u8);
    let mut vector_layers = Vec::new();
    let mut attributions: Vec<&str> = Vec::new();
    for layer in layers {
        let cfg = tiler.layer_config(layer.id());
        minzoom = minzoom.min(cfg.minzoom);
        maxzoom = maxzoom.max(cfg.maxzoom.min(server.max_zoom));
        if let Some(e) = layer.extent {
            bounds = Some(bounds.map_or(e, |b| {
                [
                    b[0].min(e[0]),
                    b[1].min(e[1]),
                    b[2].max(e[2]),
                    b[3].max(e[3]),
                ]
            }));
        }
        if let Some(a) = layer.config.attribution.as_deref()
            && !attributions.contains(&a)
        {
            attributions.push(a);
        }
        let mut fields = serde_json::Map::new();
        for f in &layer.fields {
            fields.insert(f.name.clone(), Value::from(field_type(f.kind)));
        }
        if cfg.cluster.enabled {
            for (name, kind) in CLUSTER_FIELDS {
                fields.insert(name.to_owned(), Value::from(kind));
            }
        }
        if cfg.max_features > 0 || cfg.max_bytes > 0 {
            fields.insert("represents".to_owned(), Value::from("Number"));
        }
        vector_layers.push(json!({
            "id": layer.id(),
            "description": layer.config.title.clone().unwrap_or_else(|| layer.id().to_owned()),
            "minzoom": cfg.minzoom,
            "maxzoom": cfg.maxzoom.min(server.max_zoom),
            "fields": fields,
        }));
    }
    if minzoom > maxzoom {
        minzoom = 0;
    }
    let [w, s, e, n] = bounds.unwrap_or(WORLD_BOUNDS);
    let (w, s, e, n) = (
        w.max(WORLD_BOUNDS[0]),
        s.max(WORLD_BOUNDS[1]),
        e.min(WORLD_BOUNDS[2]),
        n.min(WORLD_BOUNDS[3]),
    );
    let span = (e - w).max(n - s).max(1e-9);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "clamped zoom"
    )]
    let fit = (360.0 / span).log2().floor().clamp(0.0, 30.0) as u8;
    let center_zoom = fit.clamp(minzoom, maxzoom);
    let name = layers.iter().map(|l| l.id()).collect::<Vec<_>>().join(",");
    let description = layers
        .iter()
        .map(|l| l.config.description.as_str())
        .filter(|d| !d.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let mut doc = json!({
        "tilejson": "3.0.0",
        "name": name,
        "description": description,
        "version": "1.0.0",
        "scheme": "xyz",
        "tiles": [tiles_url],
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bounds": [w, s, e, n],
        "center": [(w + e) / 2.0, (s + n) / 2.0, center_zoom],
        "vector_layers": vector_layers,
    });
    if !attributions.is_empty() {
        doc["attribution"] = Value::from(attributions.join("; "));
    }
    doc
}
