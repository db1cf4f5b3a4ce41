//! Reading one GeoJSON file into features, in one streaming pass.
//!
//! Pipeline, per feature of the `features` array (the file is never held as a JSON tree):
//! 1. borrow `id`, `geometry` and `properties` as raw JSON slices;
//! 2. parse and check coordinates: finite, lon in [-180, 180], lat in [-90, 90], rings
//!    closed with at least 4 positions; then geo's validity rules for lines and polygons;
//! 3. map properties onto the layer's field list (first-seen order), inferring each type;
//! 4. derive the feature id (below) and its time span from the configured time property.
//!
//! A file is read on two threads ([`blocks`]): one reads the blocks and does steps 1-2 and
//! the id's own checks ([`raw`]), the other the rest, in file order.
//!
//! # Feature ids
//! Stable across restarts for the same file: an integer `id` member is used as is; a string
//! `id` member (such as `"iskp-001"`) becomes a 53-bit FNV-1a hash of the string, so it is safe
//! in JavaScript and does not move when features are added or reordered (the string still finds
//! the feature); a feature without an `id` gets its 1-based position in the file. The API
//! serves the id as the source gave it ([`super::model::ApiId`]); the numeric key is what
//! MVT feature ids carry, and `/items/{key}` finds the feature by it too.
//!
//! # What is kept
//! A `null` geometry is kept (it takes part in no spatial query); a geometry with altitudes
//! keeps its source text for output; property values that `serde_json::Value` would change
//! (integers outside `i64`) keep their text ([`super::model::Prop::Raw`]). Features refused
//! are counted per reason ([`Loaded::refusals`]) and logged when the layer loads.
//!
//! # Invalid features
//! With `on_invalid = "skip"` (the default) an invalid feature is logged with file, index and
//! reason and left out; with `"refuse"` the first one fails the whole layer.

use rustc_hash::FxHashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::features::{FeatureList, Features};
pub use super::geometry::{
    parse_geometry, parse_geometry_value, parse_source_geometry, source_form,
};
use super::model::{Feature, Field, Prop, SourceIds, TimeSpan};
use super::schema::{Schema, pad};
use super::settings::InvalidPolicy;
use super::time::{parse_time, period_span};
use crate::error::{Error, Result};
pub use intern::Interner;
use quick::Span;
use raw::{Parsed, RawFeature};

pub mod blocks;
mod intern;
mod quick;
mod raw;
mod stream;

/// What a file yields: the schema, the valid features, and the features left out.
#[derive(Debug, Default)]
pub struct Loaded {
    pub fields: Vec<Field>,
    pub features: Features,
    pub source_ids: SourceIds,
    /// `(index in the file, reason)` of features left out.
    pub skipped: Vec<(usize, String)>,
}

impl Loaded {
    /// Everything the load kept and left out, as text (string ids sorted: their map has no
    /// order): two readings of one file agree when their summaries do.
    pub fn summary(&self) -> String {
        let mut ids: Vec<_> = self.source_ids.iter().collect();
        ids.sort();
        format!(
            "{:?} {:?} {ids:?} {:?}",
            self.fields,
            self.features.by_slot().collect::<Vec<_>>(),
            self.skipped
        )
    }

    /// How many features were left out for each kind of reason, most frequent first.
    pub fn refusals(&self) -> Vec<(&'static str, usize)> {
        let mut counts: Vec<(&'static str, usize)> = Vec::new();
        for (_, reason) in &self.skipped {
            let kind = refusal_kind(reason);
            match counts.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, n)) => *n += 1,
                None => counts.push((kind, 1)),
            }
        }
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        counts
    }
}

/// The kind of a reason a feature was left out, for the counts logged at load.
fn refusal_kind(reason: &str) -> &'static str {
    const KINDS: [(&str, &str); 9] = [
        ("coordinates:", "malformed coordinates"),
        ("not closed", "unclosed ring"),
        ("is not finite", "invalid coordinates"),
        ("is outside", "invalid coordinates"),
        ("needs at least", "too few positions"),
        ("invalid geometry", "invalid geometry"),
        ("geometry is missing", "missing geometry"),
        ("properties:", "malformed properties"),
        ("expected \"Feature\"", "not a Feature"),
    ];
    if reason.starts_with("id ") {
        return if reason.ends_with("is repeated") {
            "repeated id"
        } else {
            "invalid id"
        };
    }
    KINDS
        .iter()
        .find(|(needle, _)| reason.contains(needle))
        .map_or("malformed geometry or time", |(_, kind)| kind)
}

/// Options for reading a file.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub on_invalid: InvalidPolicy,
    pub time_property: Option<String>,
    /// With `time_property` as the start, the property holding the end of a period.
    pub time_end_property: Option<String>,
}

/// Reads a GeoJSON FeatureCollection from `path`, one block at a time ([`stream`]); a
/// file of an unexpected shape is read whole by [`load_slice`], which gives its messages.
pub fn load_file(path: &Path, options: &LoadOptions) -> Result<Loaded> {
    if let Some(loaded) = blocks::load_blocks(path, options)? {
        return Ok(loaded);
    }
    let bytes = std::fs::read(path).map_err(|e| io_error(path, &e))?;
    load_slice(&bytes, path, options)
}

fn io_error(path: &Path, e: &std::io::Error) -> Error {
    Error::Load {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

/// Reads a GeoJSON FeatureCollection from memory; `path` is only used in messages.
pub fn load_slice(bytes: &[u8], path: &Path, options: &LoadOptions) -> Result<Loaded> {
    let mut builder = Builder::new(path, options);
    builder.reserve(bytes.len());
    let outcome = parse_collection(&mut builder, bytes);
    if let Some(err) = builder.fatal.take() {
        return Err(err);
    }
    outcome.map_err(|e| Error::Load {
        path: path.to_owned(),
        reason: format!("not a GeoJSON FeatureCollection: {e}"),
    })?;
    if !builder.saw_features {
        return Err(Error::Load {
            path: path.to_owned(),
            reason: "not a GeoJSON FeatureCollection: no \"features\" array".to_owned(),
        });
    }
    Ok(builder.finish())
}

/// Parses a whole FeatureCollection document into `builder`.
fn parse_collection(builder: &mut Builder<'_>, bytes: &[u8]) -> serde_json::Result<()> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    CollectionSeed(builder)
        .deserialize(&mut de)
        .and_then(|()| de.end())
}

/// Builds a layer's features from GeoJSON Feature texts given one by one, with the same
/// validation, ids, property typing and time spans as [`load_file`]; for sources other than
/// a FeatureCollection file ([`super::postgis`]). `source` names the origin in messages.
pub struct FeatureReader<'p>(Builder<'p>);

impl<'p> FeatureReader<'p> {
    pub fn new(source: &'p Path, options: &'p LoadOptions) -> Self {
        Self(Builder::new(source, options))
    }

    /// Takes one GeoJSON Feature object.
    ///
    /// # Errors
    /// When the feature is invalid and the policy refuses the whole source.
    pub fn push_json(&mut self, text: &str) -> Result<()> {
        let refused = match serde_json::from_str::<RawFeature<'_>>(text) {
            Ok(raw) => self.0.push(&raw).is_err(),
            Err(e) => {
                let index = self.0.index;
                self.0.index += 1;
                self.0
                    .reject(index, format!("not a GeoJSON Feature: {e}"))
                    .is_err()
            }
        };
        match self.0.fatal.take() {
            Some(err) if refused => Err(err),
            _ => Ok(()),
        }
    }

    /// The features taken so far, with their schema.
    pub fn finish(self) -> Loaded {
        self.0.finish()
    }
}

/// The 53-bit FNV-1a hash used for string feature ids (never 0).
pub fn string_id(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h & ((1 << 53) - 1)).max(1)
}

/// About the size of a point feature with a few properties, in GeoJSON bytes.
const BYTES_PER_POINT: usize = 200;

struct Builder<'p> {
    path: &'p Path,
    /// Per field: the distinct strings seen so far, shared by every feature.
    interned: Interner,
    options: &'p LoadOptions,
    schema: Schema,
    features: FeatureList,
    source_ids: SourceIds,
    /// Features expected in all, from the size of the file ([`Self::reserve`]): what the
    /// id tables make room for when they are first needed.
    expected: usize,
    /// Ids seen so far, filled only once ids stop increasing.
    seen_ids: FxHashSet<u64>,
    /// Whether every id so far was greater than the one before, and the last one.
    increasing: bool,
    last_id: Option<u64>,
    skipped: Vec<(usize, String)>,
    index: usize,
    fatal: Option<Error>,
    saw_features: bool,
    /// Set when properties that were only delimited turned out not to be JSON
    /// ([`PropertiesText::checked`]; [`Self::take`] then returns `Err`).
    unexpected: bool,
    /// The members' spans of the properties being read, kept between features.
    spans: Vec<Span>,
}

/// A feature's `properties` text as the reading hands it on.
#[derive(Debug, Clone, Copy)]
struct PropertiesText<'t> {
    text: &'t str,
    /// The spans of its members, when the reading found them ([`quick`]).
    spans: Option<&'t [Span]>,
    /// Whether the text is known to be JSON. One only delimited ([`quick`]) may not be: a
    /// syntax error in it then means the document is not of the expected shape, as serde
    /// reading the feature would have found before any other problem of the feature.
    checked: bool,
}

impl<'t> PropertiesText<'t> {
    /// A text that serde has read (checked), without spans.
    fn checked(text: &'t str) -> Self {
        Self {
            text,
            spans: None,
            checked: true,
        }
    }
}

impl<'p> Builder<'p> {
    /// Room for the chunks of as many features as a file of `bytes` bytes of small points
    /// holds.
    fn reserve(&mut self, bytes: usize) {
        self.expected = bytes / BYTES_PER_POINT;
        self.features.reserve(self.expected);
    }

    fn new(path: &'p Path, options: &'p LoadOptions) -> Self {
        Self {
            path,
            interned: Interner::default(),
            options,
            schema: Schema::default(),
            features: FeatureList::default(),
            source_ids: SourceIds::default(),
            expected: 0,
            seen_ids: FxHashSet::default(),
            increasing: true,
            last_id: None,
            skipped: Vec::new(),
            index: 0,
            fatal: None,
            saw_features: false,
            unexpected: false,
            spans: Vec::new(),
        }
    }

    /// Takes one raw feature; `Err` only when the policy refuses the file.
    fn push(&mut self, raw: &RawFeature<'_>) -> std::result::Result<(), ()> {
        self.take(
            raw.parse(),
            raw.id.map(RawValue::get),
            raw.properties().map(PropertiesText::checked),
        )
    }

    /// Takes the next feature, its own parts already read ([`RawFeature::parse`]), with
    /// the text of its `id` member and of its properties; `Err` only when the policy refuses
    /// the file.
    fn take(
        &mut self,
        parsed: std::result::Result<Parsed, String>,
        id_text: Option<&str>,
        properties: Option<PropertiesText<'_>>,
    ) -> std::result::Result<(), ()> {
        let index = self.index;
        self.index += 1;
        match parsed.and_then(|p| self.convert(p, (id_text, index), properties)) {
            Ok(feature) => {
                self.features.push(feature);
                Ok(())
            }
            // Not JSON at all: serde, reading the feature, would have found it before any
            // other problem (the test serde applies to a member it passes over).
            Err(_)
                if properties.is_some_and(|p| {
                    !p.checked && serde_json::from_str::<IgnoredAny>(p.text).is_err()
                }) =>
            {
                self.unexpected = true;
                Err(())
            }
            Err(reason) => self.reject(index, reason),
        }
    }

    /// Leaves out feature `index` (logged), or under [`InvalidPolicy::Refuse`] records the
    /// error that fails the source and returns `Err`.
    fn reject(&mut self, index: usize, reason: String) -> std::result::Result<(), ()> {
        match self.options.on_invalid {
            InvalidPolicy::Skip => {
                tracing::warn!(path = %self.path.display(), index, %reason, "invalid feature skipped");
                self.skipped.push((index, reason));
                Ok(())
            }
            InvalidPolicy::Refuse => {
                self.fatal = Some(Error::InvalidFeature {
                    path: PathBuf::from(self.path),
                    index,
                    reason,
                });
                Err(())
            }
        }
    }

    fn convert(
        &mut self,
        parsed: Parsed,
        (id_text, index): (Option<&str>, usize),
        properties: Option<PropertiesText<'_>>,
    ) -> std::result::Result<Feature, String> {
        let id = parsed.id.unwrap_or(index as u64 + 1);
        if !self.note_id(id) {
            return Err(format!(
                "id {} is repeated",
                id_text.map_or_else(|| id.to_string(), str::to_owned)
            ));
        }
        if let Some(s) = parsed.source_id {
            if self.source_ids.capacity() == 0 {
                // Files with string ids give every feature one: room for them all at once.
                self.source_ids.reserve(self.expected.saturating_sub(index));
            }
            self.source_ids.insert(s, id);
        }
        let mut props = Prop::absent_row(self.schema.len());
        if let Some(p) = properties
            && !self.read_members(p, &mut props)
        {
            props = Prop::absent_row(self.schema.len());
            let mut de = serde_json::Deserializer::from_str(p.text);
            PropsSeed {
                builder: self,
                props: &mut props,
            }
            .deserialize(&mut de)
            .map_err(|e| format!("properties: {e}"))?;
        }
        let time = self.time_of(&props)?;
        Ok(Feature {
            id,
            geometry: parsed.geometry.into(),
            source_geometry: parsed.source_geometry,
            props: props.into_boxed_slice(),
            time: time.into(),
        })
    }

    fn time_of(&self, props: &[Prop]) -> std::result::Result<Option<TimeSpan>, String> {
        let Some(name) = &self.options.time_property else {
            return Ok(None);
        };
        if let Some(end_name) = &self.options.time_end_property {
            return self.period_of(props, name, end_name);
        }
        let Some(pos) = self.schema.get(name) else {
            return Ok(None);
        };
        match props.get(pos) {
            Some(Prop::Str(s)) => parse_time(s).map(Some).map_err(|e| format!("{name}: {e}")),
            Some(Prop::Absent | Prop::Null) | None => Ok(None),
            Some(other) => Err(format!("{name}: {other:?} is not a date")),
        }
    }

    /// The span of a period from its start and end properties (strings or null).
    fn period_of(
        &self,
        props: &[Prop],
        start: &str,
        end: &str,
    ) -> std::result::Result<Option<TimeSpan>, String> {
        let text = |name: &str| match self.schema.get(name).and_then(|pos| props.get(pos)) {
            Some(Prop::Str(s)) => Ok(Some(&**s)),
            Some(Prop::Absent | Prop::Null) | None => Ok(None),
            Some(other) => Err(format!("{name}: {other:?} is not a date")),
        };
        period_span(text(start)?, text(end)?).map_err(|e| format!("{start}/{end}: {e}"))
    }

    /// Records a feature id; false if it was seen before. While ids only increase they are
    /// unique without a set; the set is built the first time they do not.
    fn note_id(&mut self, id: u64) -> bool {
        if self.increasing {
            if self.last_id.is_none_or(|last| id > last) {
                self.last_id = Some(id);
                return true;
            }
            self.increasing = false;
            self.seen_ids
                .reserve(self.expected.max(self.features.len() + 1));
            self.seen_ids.extend(self.features.iter().map(|f| f.id));
        }
        self.seen_ids.insert(id)
    }

    /// Position of field `name`; `expected` is where it stood in the previous feature, which
    /// is checked first (features usually list their properties in the same order).
    fn field(&mut self, name: &str, expected: usize) -> usize {
        let pos = self.schema.position_near(name, expected);
        self.interned.note_field(pos);
        pos
    }

    /// The value of a property from its JSON text. Strings without escapes, integers,
    /// booleans and null are read from the text directly (a string is allocated once, when
    /// its field has not seen it); everything else goes through [`Prop::from_raw`].
    fn prop(&mut self, pos: usize, raw: &RawValue) -> std::result::Result<Prop, serde_json::Error> {
        match self.plain_prop(pos, raw.get()) {
            Some(value) => Ok(value),
            None => self.parsed_prop(pos, raw),
        }
    }

    /// The value of a property that [`Self::plain_prop`] does not take, parsed by serde.
    fn parsed_prop(
        &mut self,
        pos: usize,
        raw: &RawValue,
    ) -> std::result::Result<Prop, serde_json::Error> {
        Ok(match Prop::from_raw(raw)? {
            Prop::Str(s) => Prop::Str(self.interned.intern(pos, &s)),
            other => other,
        })
    }

    /// The value of a property from its text when the text is the value as it stands (see
    /// [`Self::prop`]); `None` for the others. The text must be one JSON value, or a
    /// number, literal or string delimited by [`quick::members`].
    fn plain_prop(&mut self, pos: usize, text: &str) -> Option<Prop> {
        match text.as_bytes() {
            [b'"', inner @ .., b'"'] if !inner.contains(&b'\\') => {
                // The text is valid JSON, so between the quotes it is the string itself.
                let s = text.get(1..text.len() - 1).unwrap_or_default();
                return Some(Prop::Str(self.interned.intern(pos, s)));
            }
            b"true" => return Some(Prop::Bool(true)),
            b"false" => return Some(Prop::Bool(false)),
            b"null" => return Some(Prop::Null),
            [b'-' | b'0'..=b'9', rest @ ..] if rest.iter().all(u8::is_ascii_digit) => {
                // `-0` is a float to serde_json; leave it (and overflows) to `from_raw`.
                if let Ok(i) = text.parse::<i64>()
                    && (i != 0 || !text.starts_with('-'))
                {
                    return Some(Prop::Int(i));
                }
            }
            _ => {}
        }
        None
    }

    /// Reads the members of a `properties` text into `props` as [`PropsSeed`] does, from
    /// the spans of its members (found on the reading thread, or here by [`quick::members`]);
    /// false when the text or one of its values is left to serde (what was noted here before
    /// that is noted again the same way).
    fn read_members(&mut self, properties: PropertiesText<'_>, props: &mut Vec<Prop>) -> bool {
        let text = properties.text;
        let mut found = std::mem::take(&mut self.spans);
        let read = match properties.spans {
            Some(spans) => self.read_spans(text, spans, props),
            None => {
                found.clear();
                match quick::members(text, &mut found) {
                    Some(start) => {
                        self.read_spans(text.get(start..).unwrap_or_default(), &found, props)
                    }
                    None => false,
                }
            }
        };
        self.spans = found;
        read
    }

    /// [`Self::read_members`] of the members at `spans` of `text` (an object's text from its
    /// `{`).
    fn read_spans(&mut self, text: &str, spans: &[Span], props: &mut Vec<Prop>) -> bool {
        let mut expected = 0;
        for &[name_start, name_end, start, end] in spans {
            let part = |from: u32, to: u32| text.get(from as usize..to as usize);
            let (Some(name), Some(text)) = (part(name_start, name_end), part(start, end)) else {
                return false;
            };
            let pos = self.field(name, expected);
            expected = pos + 1;
            let value = match self.plain_prop(pos, text) {
                Some(value) => value,
                None => match serde_json::from_str::<&RawValue>(text)
                    .and_then(|raw| self.parsed_prop(pos, raw))
                {
                    Ok(value) => value,
                    Err(_) => return false,
                },
            };
            if props.len() <= pos {
                props.resize(pos + 1, Prop::Absent);
            }
            self.schema.note(pos, &value);
            props[pos] = value;
        }
        true
    }

    fn finish(self) -> Loaded {
        let width = self.schema.len();
        Loaded {
            fields: self.schema.into_fields(),
            features: self.features.into_features(|f| pad(&mut f.props, width)),
            source_ids: self.source_ids,
            skipped: self.skipped,
        }
    }
}

struct PropsSeed<'b, 'p> {
    builder: &'b mut Builder<'p>,
    props: &'b mut Vec<Prop>,
}

impl<'de> DeserializeSeed<'de> for PropsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PropsSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of properties")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let mut expected = 0;
        while let Some(Name(key)) = map.next_key::<Name<'de>>()? {
            let pos = self.builder.field(&key, expected);
            expected = pos + 1;
            let raw: &'de RawValue = map.next_value()?;
            let value = self.builder.prop(pos, raw).map_err(de::Error::custom)?;
            if self.props.len() <= pos {
                self.props.resize(pos + 1, Prop::Absent);
            }
            self.builder.schema.note(pos, &value);
            self.props[pos] = value;
        }
        Ok(())
    }
}

/// A member name, borrowed from the text unless it has escapes (serde's `Cow<str>` is always
/// a copy).
struct Name<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_str(NameVisitor)
    }
}

struct NameVisitor;

impl<'de> Visitor<'de> for NameVisitor {
    type Value = Name<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Name<'de>, E> {
        Ok(Name(v.into()))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Name<'de>, E> {
        Ok(Name(v.to_owned().into()))
    }
}

struct CollectionSeed<'b, 'p>(&'b mut Builder<'p>);

impl<'de> DeserializeSeed<'de> for CollectionSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for CollectionSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a GeoJSON FeatureCollection object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "features" => {
                    self.0.saw_features = true;
                    map.next_value_seed(FeaturesSeed(self.0))?;
                }
                "type" => {
                    let t: std::borrow::Cow<'de, str> = map.next_value()?;
                    if t != "FeatureCollection" {
                        return Err(de::Error::custom(format!("type is {t:?}")));
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct FeaturesSeed<'b, 'p>(&'b mut Builder<'p>);

impl<'de> DeserializeSeed<'de> for FeaturesSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FeaturesSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of features")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<RawFeature<'de>>()? {
            if self.0.push(&raw).is_err() {
                return Err(de::Error::custom("invalid feature"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
