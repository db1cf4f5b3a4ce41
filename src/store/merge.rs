//! Shipped geodata + stored changes = the layers served.
//!
//! Owns: applying features to a layer snapshot ([`LayerEdit`], used at startup and by every
//! write), re-running the joins a change affects ([`rejoin`]), and the merge rule at startup
//! ([`apply_records`]).
//!
//! # The merge rule
//! Changes are keyed by `(layer, feature id)`, and ids of shipped features are stable (see
//! [`crate::catalog::load`]: a string id is hashed, so reordering or extending a file does not
//! move them). At startup the shipped files are loaded, then for every stored record:
//! - a stored feature replaces the shipped feature of the same id, keeping its position, or
//!   is appended (in id order) when no shipped feature has that id;
//! - a tombstone removes the shipped feature of that id: a deleted shipped feature stays
//!   deleted, whatever later versions of the file say.
//!
//! So an edit always wins over the file, and updating `geodata/` never silently drops it.
//! To make such a conflict visible, each record keeps the [`fingerprint`] of the shipped
//! feature it was first made over; at startup a warning is logged when the shipped feature
//! has changed since (the edit is kept), when it has left the file (the edit is kept, as a
//! feature of its own), or when a shipped feature appears with the id of a feature created
//! through the API (the stored one hides it; give shipped features explicit string ids to
//! avoid this). Properties written by joins are recomputed after the merge.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use geo::Geometry;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::Record;
use crate::catalog::join;
use crate::catalog::load::Interner;
use crate::catalog::load::parse_geometry_value;
use crate::catalog::output::GeometryJson;
use crate::catalog::time::parse_time;
use crate::catalog::{
    Catalog, Feature, Features, Field, IdLookup, Indexing, JoinConfig, Layer, Prop,
};
use crate::error::{Error, Result};
use crate::index::SpatialIndex;

/// Properties of `layer` written by joins: copies into a point layer, counts of a polygon
/// layer. The server owns them.
pub fn derived_fields<'a>(joins: &'a [JoinConfig], layer: &str) -> HashSet<&'a str> {
    let mut out = HashSet::new();
    for j in joins {
        if j.points == layer {
            out.extend(j.copy.keys().map(String::as_str));
        }
        if j.polygons == layer
            && let Some(c) = &j.count_property
        {
            out.insert(c.as_str());
        }
    }
    out
}

/// A fingerprint of a feature's own content (geometry and properties, without `derived`
/// ones, in name order), independent of field order and of joins.
///
/// # Errors
/// [`Error::Internal`] when the feature cannot be serialized.
pub fn fingerprint(layer: &Layer, feature: &Feature, derived: &HashSet<&str>) -> Result<String> {
    #[derive(Serialize)]
    struct Content<'a> {
        geometry: GeometryJson<'a>,
        properties: BTreeMap<&'a str, &'a Prop>,
    }
    let properties = layer
        .fields
        .iter()
        .zip(feature.props.iter())
        .filter(|(f, p)| !matches!(p, Prop::Absent) && !derived.contains(f.name.as_str()))
        .map(|(f, p)| (f.name.as_str(), p))
        .collect();
    let text = serde_json::to_string(&Content {
        geometry: GeometryJson(&feature.geometry.get()),
        properties,
    })
    .map_err(|e| Error::Internal(format!("cannot fingerprint feature {}: {e}", feature.id)))?;
    Ok(format!(
        "{:032x}",
        xxhash_rust::xxh3::xxh3_128(text.as_bytes())
    ))
}

/// Changes to one layer snapshot, applied in order, then built into a new snapshot.
///
/// Field order is canonical, so that a feature serializes to the same bytes before and after
/// a restart whatever the history of writes: first the `shipped` fields of the loaded layer
/// (file order, then the fields of joins), then the fields that only writes introduced,
/// sorted by name.
#[derive(Debug)]
pub struct LayerEdit {
    /// Number of leading fields that come from the shipped file and joins.
    shipped: usize,
    /// Number of fields of the snapshot the edit started from.
    before: usize,
    fields: Vec<Field>,
    field_pos: HashMap<String, usize>,
    /// The snapshot's features, shared until changed.
    features: Features,
    ids: IdLookup,
    /// Positions put or emptied.
    changed: Vec<usize>,
    time_property: Option<String>,
    /// The string values put so far, by field: equal values share one copy (a startup
    /// merge puts every stored feature in one edit; the writer carries the table from one
    /// batch to the next).
    strings: Interner,
}

impl LayerEdit {
    /// Starts from `layer`'s features (shared, not copied); its first `shipped` fields come
    /// from the shipped file and joins.
    pub fn new(layer: &Layer, shipped: usize) -> Self {
        Self::over(layer, shipped, layer.features.clone(), layer.ids.clone())
    }

    /// Starts from `layer`'s own features, moved out of it (`layer` keeps its index and
    /// extents for [`Self::finish`]): when nothing else shares them, as at startup, a change
    /// is made in place instead of copying the chunk it falls in.
    pub fn take(layer: &mut Layer, shipped: usize) -> Self {
        let features = std::mem::take(&mut layer.features);
        let ids = std::mem::replace(&mut layer.ids, IdLookup::Ordinal);
        Self::over(layer, shipped, features, ids)
    }

    /// An edit of `features` (looked up by `ids`) with `layer`'s fields and settings.
    fn over(layer: &Layer, shipped: usize, features: Features, ids: IdLookup) -> Self {
        Self {
            shipped: shipped.min(layer.fields.len()),
            before: layer.fields.len(),
            fields: layer.fields.clone(),
            field_pos: layer
                .fields
                .iter()
                .enumerate()
                .map(|(i, f)| (f.name.clone(), i))
                .collect(),
            features,
            ids,
            changed: Vec::new(),
            time_property: layer.config.time_property.clone(),
            strings: Interner::default(),
        }
    }

    /// The same edit sharing equal string values with `strings` (by field position), the
    /// table of an earlier edit of the layer ([`Self::take_strings`]): values met before are
    /// not allocated again.
    #[must_use]
    pub fn with_strings(mut self, strings: Interner) -> Self {
        self.strings = strings;
        self
    }

    /// The table of the string values put so far, taken out of the edit (which goes on with
    /// an empty one), to be given to the next edit of the layer ([`Self::with_strings`]).
    pub fn take_strings(&mut self) -> Interner {
        std::mem::take(&mut self.strings)
    }

    /// The feature with `id` as the edit has it so far.
    pub fn feature(&self, id: u64) -> Option<&Feature> {
        self.features.get(self.position(id)?)
    }

    /// The position of the feature with `id`, if it has one.
    fn position(&self, id: u64) -> Option<usize> {
        let pos = self.ids.slot(id)?;
        self.features
            .get(pos)
            .is_some_and(|f| f.id == id)
            .then_some(pos)
    }

    fn field(&mut self, name: &str) -> usize {
        if let Some(&i) = self.field_pos.get(name) {
            return i;
        }
        self.fields.push(Field {
            name: name.to_owned(),
            kind: None,
        });
        self.field_pos
            .insert(name.to_owned(), self.fields.len() - 1);
        self.fields.len() - 1
    }

    /// Puts a feature: replaces the feature of the same id in place, or appends it.
    /// `source_geometry` is the geometry member to serve when `geometry` cannot give it back
    /// (see [`crate::catalog::Feature::source_geometry`]).
    ///
    /// # Errors
    /// The reason when the time property does not parse.
    pub fn put(
        &mut self,
        id: u64,
        geometry: Geometry<f64>,
        source_geometry: Option<Box<RawValue>>,
        properties: &Map<String, Value>,
    ) -> Result<(), String> {
        let mut props = Prop::absent_row(self.fields.len());
        for (name, value) in properties {
            let i = self.field(name);
            if props.len() <= i {
                props.resize(i + 1, Prop::Absent);
            }
            let prop = match value {
                Value::String(s) => {
                    self.strings.note_field(i);
                    Prop::Str(self.strings.intern(i, s))
                }
                other => Prop::from_json(other.clone()),
            };
            if let Some(kind) = prop.kind() {
                let field = &mut self.fields[i];
                field.kind = Some(field.kind.map_or(kind, |k| k.merge(kind)));
            }
            props[i] = prop;
        }
        let time = match self
            .time_property
            .as_deref()
            .and_then(|t| properties.get(t))
        {
            Some(Value::String(s)) => Some(parse_time(s)?),
            None | Some(Value::Null) => None,
            Some(other) => return Err(format!("time {other} is not a date")),
        };
        let feature = Feature {
            id,
            geometry: geometry.into(),
            source_geometry: source_geometry.map(Box::new),
            props: props.into_boxed_slice(),
            time: time.into(),
        };
        let pos = match self.position(id) {
            Some(p) => {
                let _ = self.features.replace(p, feature);
                p
            }
            None => {
                let p = self.features.push(feature);
                self.ids.insert(id, p, &self.features);
                p
            }
        };
        self.changed.push(pos);
        Ok(())
    }

    /// Removes a feature, if present: its slot is left empty.
    pub fn delete(&mut self, id: u64) {
        if let Some(p) = self.position(id) {
            self.features.remove(p);
            self.changed.push(p);
        }
    }

    /// The new snapshot (new generation, changed positions indexed again), with `layer`'s
    /// configuration. A write that brings a new property name widens every feature, once.
    pub fn finish(self, layer: &Layer) -> Layer {
        let (fields, features, ids, changed) = self.into_parts();
        layer.edited(fields, features, ids, changed, Indexing::Edits)
    }

    /// [`Self::finish`] for an edit made by [`Self::take`] from `layer`: when its changes
    /// make a re-pack due ([`SpatialIndex::edits_to_pack`]), as a startup merge of many
    /// stored writes does, `layer`'s index is let go and the new snapshot's is built packed,
    /// instead of edits of it that a re-pack would wait for the next write to replace.
    pub fn finish_taken(self, mut layer: Layer) -> Layer {
        if self.changed.len() < SpatialIndex::edits_to_pack(self.features.slots()) {
            return self.finish(&layer);
        }
        layer.index = Arc::default();
        let (fields, features, ids, changed) = self.into_parts();
        layer.edited(fields, features, ids, changed, Indexing::Packed)
    }

    /// The fields in canonical order, the features widened to them, the id lookup and the
    /// changed positions.
    fn into_parts(mut self) -> (Vec<Field>, Features, IdLookup, Vec<usize>) {
        let width = self.fields.len();
        // Canonical order: shipped fields as they are, written fields by name.
        let mut order: Vec<usize> = (0..width).collect();
        order[self.shipped..].sort_by(|&a, &b| self.fields[a].name.cmp(&self.fields[b].name));
        let sorted = order.iter().enumerate().all(|(i, &o)| i == o);
        if width > self.before || !sorted {
            for (_, f) in self.features.iter_mut() {
                if f.props.len() < width || !sorted {
                    let mut v = std::mem::take(&mut f.props).into_vec();
                    v.resize(width, Prop::Absent);
                    if !sorted {
                        v = order
                            .iter()
                            .map(|&i| std::mem::replace(&mut v[i], Prop::Absent))
                            .collect();
                    }
                    f.props = v.into_boxed_slice();
                }
            }
        }
        let fields = if sorted {
            self.fields
        } else {
            order.iter().map(|&i| self.fields[i].clone()).collect()
        };
        (fields, self.features, self.ids, self.changed)
    }
}

/// Re-runs, in configuration order, every join that involves a layer of `working` (the
/// changed layers, by id), cloning partner layers from `catalog`. On return `working` holds
/// every layer to swap in: the changed ones, the point layers whose copied properties were
/// recomputed, and the polygon layers whose counts changed. A partner that did not change
/// (such as a basemap that only lends its names) is left alone, so its tile cache stays
/// valid.
///
/// With `changed_ids` (the ids written in each layer), a join whose polygon layer did not
/// change is updated incrementally ([`join::apply_incremental`]): only the written points are
/// placed again and the counts of their old and new polygons adjusted, so a write costs the
/// same whatever the size of the layer. Otherwise, and at startup, the
/// join is recomputed in full ([`join::apply`]).
///
/// # Errors
/// [`Error::Config`] when a join names a layer the catalog does not have.
pub fn rejoin(
    catalog: &Catalog,
    joins: &[JoinConfig],
    working: &mut HashMap<String, Layer>,
    changed_ids: Option<&HashMap<String, Vec<u64>>>,
) -> Result<()> {
    let changed: HashSet<String> = working.keys().cloned().collect();
    for j in joins {
        if !changed.contains(&j.points) && !changed.contains(&j.polygons) {
            continue;
        }
        if j.points == j.polygons {
            return Err(Error::Config(format!(
                "join of layer {:?} with itself",
                j.points
            )));
        }
        // Both layers are found before either is taken out of `working`, so an error never
        // loses one.
        let (points_handle, polygons_handle) = (catalog.get(&j.points)?, catalog.get(&j.polygons)?);
        let mut points = match working.remove(&j.points) {
            Some(l) => l,
            None => (*points_handle.snapshot()).clone(),
        };
        let ids = changed_ids.and_then(|c| c.get(&j.points));
        if let Some(ids) = ids.filter(|_| !changed.contains(&j.polygons)) {
            let old_points = points_handle.snapshot();
            let polygons = match working.get(&j.polygons) {
                Some(l) => Arc::new(l.clone()),
                None => polygons_handle.snapshot(),
            };
            if let Some(counted) =
                join::apply_incremental(&old_points, &mut points, &polygons, j, ids)
            {
                working.insert(j.points.clone(), points);
                if let Some(new_polygons) = counted {
                    working.insert(j.polygons.clone(), new_polygons);
                }
                continue;
            }
        }
        let (mut polygons, before) = match working.remove(&j.polygons) {
            Some(l) => (l, None),
            None => {
                let snapshot = polygons_handle.snapshot();
                ((*snapshot).clone(), Some(snapshot))
            }
        };
        join::apply(&mut points, &mut polygons, j);
        working.insert(j.points.clone(), points);
        let keep = match (&before, &j.count_property) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(old), Some(count)) => !same_values(old, &polygons, count),
        };
        if keep {
            working.insert(j.polygons.clone(), polygons);
        }
    }
    Ok(())
}

/// Whether two snapshots of the same features hold the same values of property `name`.
fn same_values(a: &Layer, b: &Layer, name: &str) -> bool {
    let (Some(i), Some(k)) = (a.field_index(name), b.field_index(name)) else {
        return false;
    };
    a.features.slots() == b.features.slots()
        && a.features
            .by_slot()
            .zip(b.features.by_slot())
            .all(|(x, y)| x.map(|x| x.props.get(i)) == y.map(|y| y.props.get(k)))
}

/// Applies stored records to the catalog's shipped layers (the merge rule of the module
/// documentation), re-runs the joins of changed layers and swaps the results in. Returns the
/// warnings it logged.
///
/// Meant for startup, before anything serves: a layer that no snapshot shares is changed in
/// place rather than copied.
///
/// # Errors
/// [`Error::Storage`] when a stored feature cannot be read back: its layer then holds the
/// records before it (the server does not start on such an error), the other layers are
/// left as they were.
pub fn apply_records(
    catalog: &Catalog,
    joins: &[JoinConfig],
    records: Vec<Record>,
) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    let mut by_layer: BTreeMap<String, Vec<Record>> = BTreeMap::new();
    for r in records {
        match by_layer.get_mut(&r.layer) {
            Some(layer) => layer.push(r),
            None => {
                by_layer.insert(r.layer.clone(), vec![r]);
            }
        }
    }
    let mut working = HashMap::new();
    let mut merged = Ok(());
    for (layer_id, records) in by_layer {
        let Ok(handle) = catalog.get(&layer_id) else {
            warnings.push(format!(
                "the store holds {} changes of layer {layer_id:?}, which is not configured; they are kept but not served",
                records.len()
            ));
            continue;
        };
        let mut shipped = handle
            .take_unique()
            .unwrap_or_else(|| (*handle.snapshot()).clone());
        let derived = derived_fields(joins, &layer_id);
        let width = shipped.fields.len();
        let mut edit = LayerEdit::take(&mut shipped, width);
        merged = apply_layer_records(&mut edit, &shipped, &derived, records, &mut warnings);
        // A layer taken out of its handle goes back whatever happened.
        working.insert(layer_id, edit.finish_taken(shipped));
        if merged.is_err() {
            break;
        }
    }
    let merged = merged.and_then(|()| rejoin(catalog, joins, &mut working, None));
    for (id, layer) in working {
        catalog.get(&id)?.replace(layer);
    }
    merged?;
    for w in &warnings {
        tracing::warn!("{w}");
    }
    Ok(warnings)
}

/// The records of one layer applied to its edit, in order; `shipped` is the layer the edit
/// was taken from (its fields), `derived` the fields its joins write.
fn apply_layer_records(
    edit: &mut LayerEdit,
    shipped: &Layer,
    derived: &HashSet<&str>,
    records: Vec<Record>,
    warnings: &mut Vec<String>,
) -> Result<()> {
    // Each stored text is let go once applied, so the features parsed from it reuse its
    // memory.
    for r in records {
        let layer_id = &r.layer;
        // The store keeps one record per feature, so the edit still holds the shipped
        // feature of this id.
        let now = edit.feature(r.id);
        // Only an edit of a shipped feature has a fingerprint to compare.
        let geodata_changed = match (&r.base, now) {
            (Some(base), Some(f)) => *base != fingerprint(shipped, f, derived)?,
            _ => false,
        };
        match (&r.base, now) {
            (Some(_), Some(_)) if geodata_changed => warnings.push(format!(
                "{layer_id}/{}: the geodata changed this feature after it was {}; the stored change wins",
                r.id,
                if r.feature.is_some() { "edited" } else { "deleted" }
            )),
            (Some(_), None) if r.feature.is_some() => warnings.push(format!(
                "{layer_id}/{}: the geodata no longer has this edited feature; the stored edit is kept",
                r.id
            )),
            (None, Some(_)) => warnings.push(format!(
                "{layer_id}/{}: a shipped feature has the id of a feature created through the API; the stored feature hides it",
                r.id
            )),
            _ => {}
        }
        match &r.feature {
            None => edit.delete(r.id),
            Some(text) => {
                let bad =
                    |e: String| Error::Storage(format!("stored feature {layer_id}/{}: {e}", r.id));
                let f = text.parse().map_err(bad)?;
                let (geometry, source) = parse_geometry_value(&f.geometry).map_err(bad)?;
                edit.put(r.id, geometry, source, &f.properties)
                    .map_err(bad)?;
            }
        }
    }
    Ok(())
}
