//! CQL2 filters (OGC API - Features Part 3) over one layer snapshot.
//!
//! Owns: the `filter`, `filter-lang` and `filter-crs` parameters turned into a [`Filter`]:
//! the text is parsed by the `cql2` crate ([`parse`]), compiled once per request into a
//! tree over the layer's field positions ([`compile`]), and evaluated per feature
//! ([`eval`]) with spatial ([`spatial`]), temporal ([`temporal`]) and LIKE ([`like`])
//! predicates in their own files. A top-level spatial predicate that implies intersection
//! gives an envelope the caller uses to take candidates from the R-tree.
//!
//! Limits (a filter beyond them is a 400 before anything runs): at most [`MAX_NODES`]
//! nodes in the expression, LIKE patterns of at most [`MAX_LIKE_CHARS`] characters with
//! at most [`MAX_LIKE_WILDCARDS`] `%`, literal geometries of at most
//! [`MAX_GEOMETRY_VERTICES`] vertices, and filter texts of at most [`MAX_FILTER_BYTES`].
//! The work budget ([`cost`]) refuses, with a 400 saying why and what to change, a filter
//! whose cost per feature times the features it must test exceeds [`MAX_FILTER_WORK`]: such a
//! filter would run for seconds rather than fail fast.

mod compile;
mod cost;
mod eval;
mod like;
mod parse;
mod spatial;
mod temporal;

#[cfg(test)]
mod tests;

use crate::catalog::Layer;
use crate::error::{Error, Result};

pub use compile::Node;

/// Most nodes (operators, properties, literals) in one expression.
pub const MAX_NODES: usize = 500;
/// Longest LIKE pattern, in characters.
pub const MAX_LIKE_CHARS: usize = 200;
/// Most `%` wildcards in one LIKE pattern.
pub const MAX_LIKE_WILDCARDS: usize = 8;
/// Most vertices of all literal geometries of a filter.
pub const MAX_GEOMETRY_VERTICES: usize = 100_000;
/// Longest filter text.
pub const MAX_FILTER_BYTES: usize = 256 * 1024;

/// Most units of work (see [`cost`]) one filter may take over a layer: about a second of
/// one core.
pub const MAX_FILTER_WORK: u64 = 200_000_000;

/// The only CRS of filter geometries.
pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// The name a filter uses for the feature geometry.
pub const GEOMETRY_QUERYABLE: &str = "geometry";

/// The encoding of a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Text,
    Json,
}

impl Lang {
    /// `filter-lang`: `cql2-text` (the default) or `cql2-json`.
    ///
    /// # Errors
    /// A 400 naming any other value.
    pub fn parse(value: Option<&str>) -> Result<Self> {
        match value {
            None | Some("cql2-text") => Ok(Self::Text),
            Some("cql2-json") => Ok(Self::Json),
            Some(other) => Err(Error::bad_param(
                "filter-lang",
                other,
                "expected cql2-text or cql2-json",
            )),
        }
    }
}

/// A compiled filter, bound to the field positions of the layer it was compiled for.
#[derive(Debug, Clone)]
pub struct Filter {
    root: Node,
    /// `[west, south, east, north]` every match intersects, when the filter says so.
    envelope: Option<[f64; 4]>,
    /// The normalized filter text, for cache keys.
    canonical: String,
}

impl Filter {
    /// Parses and compiles `text` against `layer`.
    ///
    /// # Errors
    /// A 400 for a bad `filter-lang` or `filter-crs`, a syntax error (with position and
    /// token), a property that is not queryable, or a filter beyond the limits.
    pub fn parse(layer: &Layer, text: &str, lang: Option<&str>, crs: Option<&str>) -> Result<Self> {
        let lang = Lang::parse(lang)?;
        if let Some(c) = crs.filter(|c| *c != CRS84) {
            return Err(Error::bad_param(
                "filter-crs",
                c,
                format!("only {CRS84} is supported"),
            ));
        }
        if text.len() > MAX_FILTER_BYTES {
            return Err(Error::bad_param(
                "filter",
                format!("{}...", text.chars().take(40).collect::<String>()),
                format!("longer than {MAX_FILTER_BYTES} bytes"),
            ));
        }
        let expr = parse::parse(text, lang)?;
        let canonical = expr.to_text().unwrap_or_else(|_| text.to_owned());
        let root = compile::compile(layer, &expr)?;
        let envelope = spatial::prefilter(&root);
        check_work(layer, text, &root, envelope)?;
        Ok(Self {
            root,
            envelope,
            canonical,
        })
    }

    /// The filter of a request's `filter`, `filter-lang` and `filter-crs`, if it has one.
    ///
    /// # Errors
    /// As [`Filter::parse`], and a 400 for `filter-lang` or `filter-crs` without `filter`.
    pub fn from_params(
        layer: &Layer,
        text: Option<&str>,
        lang: Option<&str>,
        crs: Option<&str>,
    ) -> Result<Option<Self>> {
        match (text, lang, crs) {
            (Some(text), ..) => Self::parse(layer, text, lang, crs).map(Some),
            (None, Some(lang), _) => Err(Error::bad_param(
                "filter-lang",
                lang,
                "given without filter",
            )),
            (None, None, Some(crs)) => {
                Err(Error::bad_param("filter-crs", crs, "given without filter"))
            }
            (None, None, None) => Ok(None),
        }
    }

    /// Whether the feature at `pos` matches (unknown, as with nulls, does not).
    pub fn matches(&self, layer: &Layer, pos: usize) -> bool {
        layer
            .features
            .get(pos)
            .is_some_and(|f| eval::test(&self.root, f) == Some(true))
    }

    /// The envelope all matches intersect, for an index prefilter.
    pub fn envelope(&self) -> Option<[f64; 4]> {
        self.envelope
    }

    /// The filter in normalized cql2-text (the same for both encodings).
    pub fn canonical(&self) -> &str {
        &self.canonical
    }
}

/// Refuses a filter whose work over `layer` exceeds [`MAX_FILTER_WORK`].
fn check_work(layer: &Layer, text: &str, root: &Node, envelope: Option<[f64; 4]>) -> Result<()> {
    let per_feature = cost::per_feature(root);
    let all = layer.features.live() as u64;
    if per_feature.saturating_mul(all) <= MAX_FILTER_WORK {
        return Ok(());
    }
    let (tested, scope) = match envelope {
        Some([w, s, e, n]) => (
            layer.index.in_envelope(w, s, e, n).count() as u64,
            "the features in the envelope of its spatial predicate",
        ),
        None => (
            all,
            "every feature of the layer (it has no top-level spatial predicate)",
        ),
    };
    let work = per_feature.saturating_mul(tested);
    if work <= MAX_FILTER_WORK {
        return Ok(());
    }
    Err(Error::bad_param(
        "filter",
        text.chars().take(200).collect::<String>(),
        format!(
            "too expensive: {per_feature} units of work per feature times {tested} features \
             to test ({scope}) is {work}, over the limit of {MAX_FILTER_WORK}; narrow it with \
             S_INTERSECTS(geometry, ...) on a smaller area or use smaller literal geometries, \
             patterns and lists"
        ),
    ))
}

/// The names a filter of `layer` may use: the queryables, array properties and the
/// geometry.
pub fn filter_fields(layer: &Layer) -> Vec<usize> {
    let mut out: Vec<usize> = layer
        .queryables()
        .iter()
        .filter_map(|f| layer.field_index(&f.name))
        .collect();
    if layer.config.queryables.is_none() {
        for (i, f) in layer.fields.iter().enumerate() {
            if f.kind == Some(crate::catalog::FieldKind::Array) && !out.contains(&i) {
                out.push(i);
            }
        }
    }
    out.sort_unstable();
    out
}

/// The JSON Schema properties of `/queryables`: every name a filter may use, the geometry
/// included.
pub fn queryables_schema(layer: &Layer) -> serde_json::Map<String, serde_json::Value> {
    let mut out: serde_json::Map<String, serde_json::Value> = filter_fields(layer)
        .into_iter()
        .map(|i| {
            let f = &layer.fields[i];
            let kind = f.kind.map_or("string", |k| k.json_type());
            (
                f.name.clone(),
                serde_json::json!({ "title": f.name, "type": kind }),
            )
        })
        .collect();
    out.insert(
        GEOMETRY_QUERYABLE.to_owned(),
        serde_json::json!({
            "title": "geometry",
            "description": "The feature geometry (CRS84), for spatial functions.",
            "format": "geometry-any",
        }),
    );
    out
}
