//! The in-memory model of a layer: features with compact properties, the fields, extents,
//! and the id lookup. How fields are built is [`super::schema`]; how a snapshot is built is
//! [`Layer::build`].

use std::collections::HashMap;
use std::sync::Arc;

pub use arcstr::ArcStr;
use geo::Geometry;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use super::features::{Features, IdLookup};
use super::settings::LayerSettings;
use super::shape::Shape;
use crate::index::SpatialIndex;

/// One property value, stored compactly (16 bytes: a tag and one word). `Absent` marks a
/// property the feature does not have, which is different from an explicit `null`.
#[derive(Debug, Clone, PartialEq)]
pub enum Prop {
    Absent,
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Strings (one pointer; the length lives with the text); repeated values of a field
    /// share one allocation (see `catalog::load`).
    Str(ArcStr),
    /// Arrays and objects, kept as JSON.
    Json(Box<Value>),
    /// A value kept as its source text because [`Value`] would change it: integers outside
    /// `i64`, and arrays or objects holding integers outside `i64`/`u64`.
    Raw(RawJson),
}

/// JSON source text, compared by its text (boxed twice so that [`Prop`] stays one word).
#[derive(Debug, Clone)]
pub struct RawJson(pub Box<Box<RawValue>>);

const _: () = assert!(std::mem::size_of::<Prop>() == 16);

impl RawJson {
    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Prop {
    /// A row of `len` absent values, for a feature's properties to be filled in: each
    /// slot written in place, where `vec![Prop::Absent; len]` calls `clone` for each
    /// (about 140 instructions a feature of six properties when loading).
    pub fn absent_row(len: usize) -> Vec<Self> {
        std::iter::repeat_with(|| Self::Absent).take(len).collect()
    }

    /// Converts the source text of a JSON value: integers that fit `i64` stay integers, and
    /// values that [`Value`] cannot hold exactly keep their text ([`Prop::Raw`]).
    pub fn from_raw(raw: &RawValue) -> std::result::Result<Self, serde_json::Error> {
        let text = raw.get();
        let exact = match text.as_bytes().first() {
            Some(b'-' | b'0'..=b'9') => !is_integer(text) || text.parse::<i64>().is_ok(),
            Some(b'[' | b'{') => integers_fit(text),
            _ => true,
        };
        if exact {
            serde_json::from_str(text).map(Self::from_json)
        } else {
            Ok(Self::Raw(RawJson(Box::new(raw.to_owned()))))
        }
    }

    /// Converts a JSON value; integers that fit `i64` stay integers.
    pub fn from_json(value: Value) -> Self {
        match value {
            Value::Null => Self::Null,
            Value::Bool(b) => Self::Bool(b),
            Value::Number(n) => n
                .as_i64()
                .map_or_else(|| Self::Float(n.as_f64().unwrap_or(f64::NAN)), Self::Int),
            Value::String(s) => Self::Str(ArcStr::from(s)),
            other => Self::Json(Box::new(other)),
        }
    }

    /// Back to JSON.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Absent | Self::Null => Value::Null,
            Self::Bool(b) => Value::Bool(*b),
            Self::Int(i) => Value::from(*i),
            Self::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Self::Str(s) => Value::String(s.to_string()),
            Self::Json(v) => (**v).clone(),
            Self::Raw(r) => serde_json::from_str(r.get()).unwrap_or(Value::Null),
        }
    }

    /// The value as a number, if it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            #[expect(clippy::cast_precision_loss, reason = "comparison only")]
            Self::Int(i) => Some(*i as f64),
            Self::Float(f) => Some(*f),
            Self::Raw(r) if is_integer(r.get()) => r.get().parse().ok(),
            _ => None,
        }
    }

    /// The kind of the value, for the schema.
    pub fn kind(&self) -> Option<FieldKind> {
        Some(match self {
            Self::Absent | Self::Null => return None,
            Self::Bool(_) => FieldKind::Boolean,
            Self::Int(_) => FieldKind::Integer,
            Self::Float(_) => FieldKind::Number,
            Self::Str(_) => FieldKind::String,
            Self::Json(v) if v.is_array() => FieldKind::Array,
            Self::Json(_) => FieldKind::Object,
            Self::Raw(r) => match r.get().as_bytes().first() {
                Some(b'[') => FieldKind::Array,
                Some(b'{') => FieldKind::Object,
                _ => FieldKind::Integer,
            },
        })
    }
}

impl Serialize for Prop {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Absent | Self::Null => s.serialize_none(),
            Self::Bool(b) => s.serialize_bool(*b),
            Self::Int(i) => s.serialize_i64(*i),
            Self::Float(f) if f.is_finite() => s.serialize_f64(*f),
            Self::Float(_) => s.serialize_none(),
            Self::Str(v) => s.serialize_str(v),
            Self::Json(v) => v.serialize(s),
            Self::Raw(r) => r.0.serialize(s),
        }
    }
}

/// Whether a JSON number's text is an integer (no fraction, no exponent).
fn is_integer(number: &str) -> bool {
    !number.contains(['.', 'e', 'E'])
}

/// Whether every integer in a JSON text fits `i64` or `u64`, so that [`Value`] keeps it.
fn integers_fit(json: &str) -> bool {
    let bytes = json.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len()
                    && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                let number = &json[start..i];
                if is_integer(number)
                    && number.parse::<i64>().is_err()
                    && number.parse::<u64>().is_err()
                {
                    return false;
                }
            }
            _ => i += 1,
        }
    }
    true
}

/// The JSON type of a field, as inferred from its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Boolean,
    Integer,
    Number,
    String,
    Array,
    Object,
    /// Values of several kinds.
    Mixed,
}

impl FieldKind {
    /// JSON Schema type name.
    pub fn json_type(self) -> &'static str {
        match self {
            Self::Boolean => "boolean",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::String => "string",
            Self::Array => "array",
            Self::Object => "object",
            Self::Mixed => "string",
        }
    }

    /// The kind that holds values of both kinds.
    pub fn merge(self, other: Self) -> Self {
        match (self, other) {
            (a, b) if a == b => a,
            (Self::Integer, Self::Number) | (Self::Number, Self::Integer) => Self::Number,
            _ => Self::Mixed,
        }
    }

    /// Whether values of this kind can be compared for equality filters and sorting.
    pub fn is_scalar(self) -> bool {
        matches!(
            self,
            Self::Boolean | Self::Integer | Self::Number | Self::String
        )
    }
}

/// One property of a layer's schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    /// `None` when every value is null.
    pub kind: Option<FieldKind>,
}

/// A time interval in milliseconds since the Unix epoch, start inclusive, end exclusive.
/// An instant `t` is `(t, t + 1)`; a date is the whole UTC day.
pub type TimeSpan = (i64, i64);

/// A feature's time span, or none, in 16 bytes: `Option<TimeSpan>` would take 24. No parsed
/// time starts at `i64::MIN`, which marks none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time {
    start: i64,
    end: i64,
}

impl Time {
    /// No time.
    pub const NONE: Self = Self {
        start: i64::MIN,
        end: i64::MIN,
    };

    /// The span, if there is one.
    pub fn get(self) -> Option<TimeSpan> {
        (self.start != i64::MIN).then_some((self.start, self.end))
    }
}

impl From<Option<TimeSpan>> for Time {
    fn from(span: Option<TimeSpan>) -> Self {
        span.map_or(Self::NONE, |(start, end)| Self { start, end })
    }
}

/// The source text of a geometry, boxed twice so that it takes one word in [`Feature`].
pub type SourceGeometry = Box<Box<RawValue>>;

/// One feature. Geometry is lon/lat degrees (EPSG:4326).
#[derive(Debug, Clone)]
pub struct Feature {
    /// Stable numeric id (see [`crate::catalog::load`] for how it is derived).
    pub id: u64,
    /// The 2-D geometry every query and tile uses; an empty collection for a null geometry.
    pub geometry: Shape,
    /// The geometry as the source wrote it, kept only when `geometry` cannot give it back:
    /// a `null` geometry, or positions with an altitude.
    pub source_geometry: Option<SourceGeometry>,
    /// Values in the order of the layer's fields.
    pub props: Box<[Prop]>,
    /// Time of the feature from the configured time property ([`Time::get`]).
    pub time: Time,
}

impl Feature {
    /// Whether the source gave the feature no geometry (`"geometry": null`): such features
    /// are listed and found by id but take part in no spatial query, cluster or tile.
    pub fn has_null_geometry(&self) -> bool {
        self.source_geometry
            .as_deref()
            .is_some_and(|g| g.get() == "null")
    }

    /// Bounding box `[west, south, east, north]` in degrees.
    pub fn bbox(&self) -> Option<[f64; 4]> {
        self.geometry
            .bounding_rect()
            .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
    }
}

const _: () = assert!(std::mem::size_of::<Feature>() == 72);

/// What kind of geometries a layer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeometryKind {
    Point,
    Line,
    Polygon,
    Mixed,
    Empty,
}

impl GeometryKind {
    /// The kind of one geometry.
    pub fn of(g: &Geometry<f64>) -> Self {
        match g {
            Geometry::Point(_) | Geometry::MultiPoint(_) => Self::Point,
            Geometry::Line(_) | Geometry::LineString(_) | Geometry::MultiLineString(_) => {
                Self::Line
            }
            Geometry::Polygon(_)
            | Geometry::MultiPolygon(_)
            | Geometry::Rect(_)
            | Geometry::Triangle(_) => Self::Polygon,
            Geometry::GeometryCollection(_) => Self::Mixed,
        }
    }

    /// The kind of a layer holding both.
    pub fn merge(self, other: Self) -> Self {
        match (self, other) {
            (Self::Empty, b) => b,
            (a, Self::Empty) => a,
            (a, b) if a == b => a,
            _ => Self::Mixed,
        }
    }

    /// Name used in metadata.
    pub fn name(self) -> &'static str {
        match self {
            Self::Point => "point",
            Self::Line => "line",
            Self::Polygon => "polygon",
            Self::Mixed => "mixed",
            Self::Empty => "empty",
        }
    }
}

/// Numeric ids to the string ids they were made from (see [`Layer::string_ids`]), hashed
/// with foldhash's seeded hasher of the better quality: looked up for every feature written
/// out.
pub type StringIds = HashMap<u64, ArcStr, foldhash::quality::RandomState>;

/// String ids to the numeric ids made from them (see [`Layer::source_ids`]), hashed as
/// [`StringIds`], which shares their strings.
pub type SourceIds = HashMap<ArcStr, u64, foldhash::quality::RandomState>;

/// One immutable snapshot of a layer: a write builds a new one and swaps it in. A clone is
/// cheap: the features, the id maps and the index are shared, and a write copies only the
/// parts it changes ([`super::features`]).
#[derive(Debug, Clone)]
pub struct Layer {
    pub config: Arc<LayerSettings>,
    /// Increases with every change of the layer; caches key on it.
    pub generation: u64,
    /// The generation of the last full build: snapshots with the same layout agree on the
    /// position of every feature they both hold.
    pub layout: u64,
    /// Positions whose slot differs from the previous snapshot's (empty after a full build,
    /// which starts a new layout).
    pub changed: Arc<[usize]>,
    pub fields: Vec<Field>,
    pub features: Features,
    pub index: Arc<SpatialIndex>,
    pub ids: IdLookup,
    /// Source string ids (`"id": "iskp-001"`) to numeric ids.
    pub source_ids: Arc<SourceIds>,
    /// The reverse of `source_ids`: numeric ids of features whose source id is a string.
    pub string_ids: Arc<StringIds>,
    /// `[west, south, east, north]` of all features. After a write it may be larger than
    /// the features need (a deleted or moved feature's place stays in it until the next full
    /// build), never smaller.
    pub extent: Option<[f64; 4]>,
    /// Earliest start and latest end of the features' times (after a write, as `extent`: it
    /// may be wider than they need).
    pub time_extent: Option<TimeSpan>,
    /// The kind of the geometries (after a write, as `extent`: it may still count a kind the
    /// deleted features had).
    pub geometry_kind: GeometryKind,
}

impl Layer {
    /// The layer's id.
    pub fn id(&self) -> &str {
        &self.config.id
    }

    /// Position of a field in the schema.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// Position of a feature by its numeric id.
    pub fn position(&self, id: u64) -> Option<usize> {
        let pos = self.ids.slot(id)?;
        self.features
            .get(pos)
            .is_some_and(|f| f.id == id)
            .then_some(pos)
    }

    /// The feature with a numeric id.
    pub fn feature(&self, id: u64) -> Option<&Feature> {
        self.features.get(self.position(id)?)
    }

    /// Finds a feature by the (percent-decoded) id of a URL: a numeric id by its decimal
    /// text, a string id by its exact text. The decimal text of the internal numeric key of
    /// a feature with a string id (the MVT feature id) finds it too.
    pub fn find(&self, id: &str) -> Option<&Feature> {
        let by_number = id
            .parse::<u64>()
            .ok()
            .filter(|_| id.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| self.position(n));
        let position = by_number.or_else(|| self.position(*self.source_ids.get(id)?))?;
        self.features.get(position)
    }

    /// The id of a feature as the API shows it: the source's string id, or the number.
    pub fn api_id(&self, id: u64) -> ApiId<'_> {
        self.string_ids
            .get(&id)
            .map_or(ApiId::Number(id), |s| ApiId::Text(s))
    }

    /// Names of the properties usable as filters and sort keys.
    pub fn queryables(&self) -> Vec<&Field> {
        match &self.config.queryables {
            Some(names) => self
                .fields
                .iter()
                .filter(|f| names.contains(&f.name))
                .collect(),
            None => self
                .fields
                .iter()
                .filter(|f| f.kind.is_some_and(FieldKind::is_scalar))
                .collect(),
        }
    }

    /// The property map of a feature as a serializable view.
    pub fn properties<'a>(&'a self, feature: &'a Feature) -> PropertiesView<'a> {
        PropertiesView {
            fields: &self.fields,
            feature,
            select: None,
            extra: None,
        }
    }
}

/// A feature id as the API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiId<'a> {
    Number(u64),
    Text(&'a str),
}

impl ApiId<'_> {
    /// The id as one URL path segment, percent-encoded.
    pub fn url_segment(self) -> String {
        match self {
            Self::Number(n) => n.to_string(),
            Self::Text(s) => {
                let mut out = String::with_capacity(s.len());
                for b in s.bytes() {
                    if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                        out.push(char::from(b));
                    } else {
                        out.push_str(&format!("%{b:02X}"));
                    }
                }
                out
            }
        }
    }

    /// The id as JSON text.
    pub fn json(self) -> String {
        match self {
            Self::Number(n) => n.to_string(),
            Self::Text(s) => Value::from(s).to_string(),
        }
    }
}

impl Serialize for ApiId<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Number(n) => s.serialize_u64(*n),
            Self::Text(t) => s.serialize_str(t),
        }
    }
}

/// Serializes a feature's properties as a JSON object, optionally only some of them and
/// with one extra numeric property (e.g. `distance_m`).
pub struct PropertiesView<'a> {
    pub fields: &'a [Field],
    pub feature: &'a Feature,
    /// Field positions to keep; `None` keeps all.
    pub select: Option<&'a [usize]>,
    pub extra: Option<(&'a str, f64)>,
}

impl Serialize for PropertiesView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        let mut emit = |i: usize| -> Result<(), S::Error> {
            match self.feature.props.get(i) {
                None | Some(Prop::Absent) => Ok(()),
                Some(p) => map.serialize_entry(&self.fields[i].name, p),
            }
        };
        match self.select {
            Some(sel) => sel.iter().try_for_each(|&i| emit(i))?,
            None => (0..self.fields.len()).try_for_each(&mut emit)?,
        }
        if let Some((name, value)) = self.extra {
            map.serialize_entry(name, &value)?;
        }
        map.end()
    }
}
