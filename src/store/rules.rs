//! What a written feature must look like, declared per layer in config (`[layers.write]`).
//!
//! Owns: the [`WriteRules`] of a layer (geometry types, vertex limit, typed properties,
//! server-owned properties) and [`WriteRules::check`], which turns a request body into a
//! [`Draft`] or a 400 that names the offending field (`geometry.type`,
//! `properties.deaths`, `properties.sources[1]`, ...). The checks that need the current
//! state of the layer (the `id` member, server-owned values on replace) are made when the
//! writer stages the request.
//!
//! Example, for a layer of incidents:
//!
//! ```toml
//! [layers.write]
//! geometry = ["Point"]
//! max_vertices = 1
//! additional_properties = true
//! server_owned = ["id"]
//! created_property = "created"
//! updated_property = "updated"
//! properties.date = { type = "date", required = true }
//! properties.title = { type = "string", required = true, min_length = 1, max_length = 300 }
//! properties.deaths = { type = "integer", required = true, nullable = true, minimum = 0 }
//! properties.sources = { type = "array", items = "url", required = true, min_items = 1 }
//! ```

use std::collections::BTreeMap;

use geo::{CoordsIter, Geometry};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::catalog::load::parse_source_geometry;
use crate::catalog::time::parse_time;
use crate::error::{Error, Result};

/// Default of [`WriteRules::max_vertices`].
pub const DEFAULT_MAX_VERTICES: usize = 10_000;

/// Members of a Feature object a client may send. `bbox` and `links` are accepted (so a
/// feature read with GET can be sent back) and ignored: the server computes them.
const FEATURE_MEMBERS: &[&str] = &["type", "id", "geometry", "properties", "bbox", "links"];

/// A GeoJSON geometry type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum GeometryType {
    Point,
    MultiPoint,
    LineString,
    MultiLineString,
    Polygon,
    MultiPolygon,
    GeometryCollection,
}

impl GeometryType {
    /// The GeoJSON name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Point => "Point",
            Self::MultiPoint => "MultiPoint",
            Self::LineString => "LineString",
            Self::MultiLineString => "MultiLineString",
            Self::Polygon => "Polygon",
            Self::MultiPolygon => "MultiPolygon",
            Self::GeometryCollection => "GeometryCollection",
        }
    }
}

/// The type of a property value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    /// A JSON string.
    String,
    /// A JSON number without fraction that fits a signed 64-bit integer.
    Integer,
    /// Any JSON number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A calendar date `YYYY-MM-DD`.
    Date,
    /// An RFC 3339 date-time.
    Datetime,
    /// An absolute `http` or `https` URL.
    Url,
    /// A JSON array (see [`PropertyRule::items`]).
    Array,
    /// A JSON object.
    Object,
}

impl ValueType {
    fn describe(self) -> &'static str {
        match self {
            Self::String => "a string",
            Self::Integer => "an integer",
            Self::Number => "a number",
            Self::Boolean => "true or false",
            Self::Date => "a date YYYY-MM-DD",
            Self::Datetime => "an RFC 3339 date-time",
            Self::Url => "an http(s) URL",
            Self::Array => "an array",
            Self::Object => "an object",
        }
    }
}

/// The rule of one property.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PropertyRule {
    /// Type of the value.
    #[serde(rename = "type")]
    pub kind: ValueType,
    /// Type of each item when `type = "array"`. Default: any.
    pub items: Option<ValueType>,
    /// Whether the property must be present. Default false.
    #[serde(default)]
    pub required: bool,
    /// Whether `null` is accepted (for example "deaths unknown"). Default false.
    #[serde(default)]
    pub nullable: bool,
    /// Smallest number accepted (integer and number). Default: none.
    pub minimum: Option<f64>,
    /// Largest number accepted (integer and number). Default: none.
    pub maximum: Option<f64>,
    /// Fewest characters of a string. Default: none.
    pub min_length: Option<usize>,
    /// Most characters of a string. Default: none.
    pub max_length: Option<usize>,
    /// Fewest items of an array. Default: none.
    pub min_items: Option<usize>,
    /// Most items of an array. Default: none.
    pub max_items: Option<usize>,
    /// The only string values accepted. Default: any.
    #[serde(rename = "enum")]
    pub one_of: Option<Vec<String>>,
}

/// The write rules of a layer (`[layers.write]`). With the defaults, any valid GeoJSON
/// feature of at most [`DEFAULT_MAX_VERTICES`] positions is accepted.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteRules {
    /// Geometry types accepted. Default: every type, and `null` (a feature with no location,
    /// listed by items but in no spatial query or tile).
    #[serde(default)]
    pub geometry: Vec<GeometryType>,
    /// Most positions in one geometry. Default 10000.
    pub max_vertices: Option<usize>,
    /// Rules of named properties. Default: none.
    #[serde(default)]
    pub properties: BTreeMap<String, PropertyRule>,
    /// Whether properties without a rule are accepted. Default true.
    pub additional_properties: Option<bool>,
    /// Properties only the server sets: a create may not send them, a replace may only repeat
    /// their current value, which is kept. Default: none. The properties written by joins
    /// and the two timestamps below are always server-owned.
    #[serde(default)]
    pub server_owned: Vec<String>,
    /// Property the server sets to the creation time (RFC 3339, UTC). Default: none.
    pub created_property: Option<String>,
    /// Property the server sets to the time of each create or replace. Default: none.
    pub updated_property: Option<String>,
}

/// A body that passed the rules of its layer.
#[derive(Debug, Clone)]
pub struct Draft {
    pub geometry: Geometry<f64>,
    /// The geometry member as stored and served: normalized (positions as `[lon, lat]`),
    /// or as sent when its positions have an altitude; `null` for no location.
    pub geometry_json: Value,
    /// The properties the client sent.
    pub properties: Map<String, Value>,
    /// The `id` member the client sent, if any (checked by the writer).
    pub id: Option<Value>,
}

impl WriteRules {
    /// The vertex limit in force.
    pub fn max_vertices(&self) -> usize {
        self.max_vertices.unwrap_or(DEFAULT_MAX_VERTICES)
    }

    /// The properties a client may not set (besides those of joins).
    pub fn server_owned(&self) -> impl Iterator<Item = &str> {
        self.server_owned
            .iter()
            .map(String::as_str)
            .chain(self.created_property.as_deref())
            .chain(self.updated_property.as_deref())
    }

    /// Checks a request body: a GeoJSON Feature whose geometry and properties follow the
    /// rules. `time_property` is the layer's time property, whose value must parse as a time.
    ///
    /// # Errors
    /// [`Error::BadBody`] naming the first offending field.
    pub fn check(&self, body: &[u8], time_property: Option<&str>) -> Result<Draft> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| Error::bad_body("body", format!("not JSON: {e}")))?;
        let Value::Object(mut object) = value else {
            return Err(Error::bad_body("body", "expected a GeoJSON Feature object"));
        };
        match object.get("type") {
            Some(Value::String(t)) if t == "Feature" => {}
            Some(other) => {
                return Err(Error::bad_body(
                    "type",
                    format!("is {other}, expected \"Feature\""),
                ));
            }
            None => return Err(Error::bad_body("type", "required: \"Feature\"")),
        }
        if let Some(key) = object
            .keys()
            .find(|k| !FEATURE_MEMBERS.contains(&k.as_str()))
        {
            return Err(Error::bad_body(
                key.clone(),
                "unknown member; a feature has type, geometry and properties",
            ));
        }
        let (geometry, geometry_json) = match object.remove("geometry") {
            None => {
                return Err(Error::bad_body(
                    "geometry",
                    "required (null for no location)",
                ));
            }
            Some(Value::Null) if self.geometry.is_empty() => (
                Geometry::GeometryCollection(geo::GeometryCollection::default()),
                Value::Null,
            ),
            Some(Value::Null) => {
                return Err(Error::bad_body(
                    "geometry",
                    "null is not accepted by this layer, whose features need a location",
                ));
            }
            Some(g) => self.check_geometry(g)?,
        };
        let properties = match object.remove("properties") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(p)) => p,
            Some(_) => return Err(Error::bad_body("properties", "must be an object")),
        };
        self.check_properties(&properties, time_property)?;
        Ok(Draft {
            geometry,
            geometry_json,
            properties,
            id: object.remove("id"),
        })
    }

    /// The geometry and its stored form: as sent when a position has an altitude, which the
    /// 2-D geometry leaves out, else normalized.
    fn check_geometry(&self, value: Value) -> Result<(Geometry<f64>, Value)> {
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::bad_body("geometry.type", "required"))?;
        if !self.geometry.is_empty() && !self.geometry.iter().any(|t| t.name() == kind) {
            let allowed: Vec<&str> = self.geometry.iter().map(|t| t.name()).collect();
            return Err(Error::bad_body(
                "geometry.type",
                format!(
                    "{kind:?} is not accepted by this layer; expected {}",
                    allowed.join(" or ")
                ),
            ));
        }
        let text = value.to_string();
        let (geometry, altitude) =
            parse_source_geometry(&text).map_err(|e| Error::bad_body("geometry", e))?;
        let count = geometry.coords_count();
        if count > self.max_vertices() {
            return Err(Error::bad_body(
                "geometry.coordinates",
                format!(
                    "{count} positions exceed the limit of {}",
                    self.max_vertices()
                ),
            ));
        }
        if altitude {
            return Ok((geometry, value));
        }
        let normalized = serde_json::to_value(geojson::GeometryValue::from(&geometry))
            .map_err(|e| Error::Internal(e.to_string()))?;
        Ok((geometry, normalized))
    }

    fn check_properties(
        &self,
        props: &Map<String, Value>,
        time_property: Option<&str>,
    ) -> Result<()> {
        for (name, rule) in &self.properties {
            match props.get(name) {
                None if rule.required => {
                    return Err(Error::bad_body(format!("properties.{name}"), "required"));
                }
                None => {}
                Some(v) => check_value(&format!("properties.{name}"), v, rule)?,
            }
        }
        let open = self.additional_properties.unwrap_or(true);
        for (name, value) in props {
            if name.is_empty() {
                return Err(Error::bad_body("properties", "a property name is empty"));
            }
            if !open
                && !self.properties.contains_key(name)
                && !self.server_owned().any(|s| s == name)
            {
                return Err(Error::bad_body(
                    format!("properties.{name}"),
                    "not a property of this layer",
                ));
            }
            if Some(name.as_str()) == time_property {
                match value {
                    Value::Null => {}
                    Value::String(s) => {
                        parse_time(s)
                            .map_err(|e| Error::bad_body(format!("properties.{name}"), e))?;
                    }
                    _ => {
                        return Err(Error::bad_body(
                            format!("properties.{name}"),
                            "must be a date YYYY-MM-DD or an RFC 3339 date-time",
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

fn check_value(field: &str, value: &Value, rule: &PropertyRule) -> Result<()> {
    if value.is_null() {
        return if rule.nullable {
            Ok(())
        } else {
            Err(Error::bad_body(field, "must not be null"))
        };
    }
    check_type(field, value, rule.kind)?;
    let bad = |reason: String| Err(Error::bad_body(field, reason));
    if let Some(n) = value.as_f64() {
        if let Some(min) = rule.minimum
            && n < min
        {
            return bad(format!("{n} is less than the minimum {min}"));
        }
        if let Some(max) = rule.maximum
            && n > max
        {
            return bad(format!("{n} is more than the maximum {max}"));
        }
    }
    if let Value::String(s) = value {
        let chars = s.chars().count();
        if rule.min_length.is_some_and(|m| chars < m) {
            return bad(format!(
                "has {chars} characters, fewer than {}",
                rule.min_length.unwrap_or(0)
            ));
        }
        if rule.max_length.is_some_and(|m| chars > m) {
            return bad(format!(
                "has {chars} characters, more than {}",
                rule.max_length.unwrap_or(0)
            ));
        }
        if let Some(allowed) = &rule.one_of
            && !allowed.iter().any(|a| a == s)
        {
            return bad(format!("{s:?} is not one of {}", allowed.join(", ")));
        }
    }
    if let Value::Array(items) = value {
        if rule.min_items.is_some_and(|m| items.len() < m) {
            return bad(format!(
                "has {} items, fewer than {}",
                items.len(),
                rule.min_items.unwrap_or(0)
            ));
        }
        if rule.max_items.is_some_and(|m| items.len() > m) {
            return bad(format!(
                "has {} items, more than {}",
                items.len(),
                rule.max_items.unwrap_or(0)
            ));
        }
        if let Some(kind) = rule.items {
            for (i, item) in items.iter().enumerate() {
                check_type(&format!("{field}[{i}]"), item, kind)?;
            }
        }
    }
    Ok(())
}

fn check_type(field: &str, value: &Value, kind: ValueType) -> Result<()> {
    let ok = match kind {
        ValueType::String => value.is_string(),
        ValueType::Integer => value.as_i64().is_some(),
        ValueType::Number => value.is_number(),
        ValueType::Boolean => value.is_boolean(),
        ValueType::Date => value.as_str().is_some_and(|s| {
            s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
        }),
        ValueType::Datetime => value
            .as_str()
            .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
        ValueType::Url => value.as_str().is_some_and(is_http_url),
        ValueType::Array => value.is_array(),
        ValueType::Object => value.is_object(),
    };
    if ok {
        Ok(())
    } else {
        Err(Error::bad_body(
            field,
            format!("{value} is not {}", kind.describe()),
        ))
    }
}

/// Whether `s` is an absolute `http` or `https` URL with a host and no whitespace.
fn is_http_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    let Some(rest) = rest else { return false };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or("");
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_'))
        && !s.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident_rules() -> WriteRules {
        toml::from_str(
            r#"
            geometry = ["Point"]
            max_vertices = 1
            additional_properties = true
            server_owned = ["id"]
            created_property = "created"
            properties.date = { type = "date", required = true }
            properties.title = { type = "string", required = true, min_length = 1, max_length = 20 }
            properties.deaths = { type = "integer", required = true, nullable = true, minimum = 0 }
            properties.sources = { type = "array", items = "url", required = true, min_items = 1 }
            properties.responsibility = { type = "string", enum = ["claimed", "attributed"] }
            "#,
        )
        .unwrap()
    }

    fn body(props: &str) -> String {
        format!(
            r#"{{"type":"Feature","geometry":{{"type":"Point","coordinates":[69.17,34.52,1800]}},"properties":{props}}}"#
        )
    }

    const GOOD: &str =
        r#"{"date":"2024-03-01","title":"t","deaths":0,"sources":["https://example.org/a"]}"#;

    fn field_of(text: &str) -> String {
        match incident_rules().check(text.as_bytes(), Some("date")) {
            Err(Error::BadBody { field, .. }) => field,
            other => panic!("expected a bad body, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_incident_passes_and_keeps_its_altitude() {
        let d = incident_rules()
            .check(body(GOOD).as_bytes(), Some("date"))
            .unwrap();
        assert_eq!(
            d.geometry_json,
            serde_json::json!({"type":"Point","coordinates":[69.17,34.52,1800]})
        );
        assert_eq!(
            d.geometry,
            geo::Geometry::Point(geo::Point::new(69.17, 34.52))
        );
        assert_eq!(d.properties.len(), 4);
        assert!(d.id.is_none());
        let null_deaths = GOOD.replace("\"deaths\":0", "\"deaths\":null");
        assert!(
            incident_rules()
                .check(body(&null_deaths).as_bytes(), Some("date"))
                .is_ok()
        );
    }

    #[test]
    fn each_rejection_names_its_field() {
        let cases: &[(&str, &str)] = &[
            ("[1]", "body"),
            ("{", "body"),
            (r#"{"type":"FeatureCollection","features":[]}"#, "type"),
            (
                r#"{"type":"Feature","geometry":null,"properties":{}}"#,
                "geometry",
            ),
            (r#"{"type":"Feature","properties":{}}"#, "geometry"),
            (
                r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[0,0]},"colour":1}"#,
                "colour",
            ),
            (
                r#"{"type":"Feature","geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]},"properties":{}}"#,
                "geometry.type",
            ),
            (
                r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[200,0]},"properties":{}}"#,
                "geometry",
            ),
            (
                r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[0,0]},"properties":[]}"#,
                "properties",
            ),
        ];
        for (text, field) in cases {
            assert_eq!(field_of(text), *field, "{text}");
        }
        let props: &[(&str, &str)] = &[
            (
                r#"{"title":"t","deaths":0,"sources":["https://a.b"]}"#,
                "properties.date",
            ),
            (
                r#"{"date":"2024-02-30","title":"t","deaths":0,"sources":["https://a.b"]}"#,
                "properties.date",
            ),
            (
                r#"{"date":"1.3.2024","title":"t","deaths":0,"sources":["https://a.b"]}"#,
                "properties.date",
            ),
            (
                r#"{"date":"2024-03-01","title":"","deaths":0,"sources":["https://a.b"]}"#,
                "properties.title",
            ),
            (
                r#"{"date":"2024-03-01","title":"much too long a title here","deaths":0,"sources":["https://a.b"]}"#,
                "properties.title",
            ),
            (
                r#"{"date":"2024-03-01","title":"t","deaths":-1,"sources":["https://a.b"]}"#,
                "properties.deaths",
            ),
            (
                r#"{"date":"2024-03-01","title":"t","deaths":1.5,"sources":["https://a.b"]}"#,
                "properties.deaths",
            ),
            (
                r#"{"date":"2024-03-01","title":"t","deaths":"3","sources":["https://a.b"]}"#,
                "properties.deaths",
            ),
            (
                r#"{"date":"2024-03-01","title":"t","sources":["https://a.b"]}"#,
                "properties.deaths",
            ),
            (
                r#"{"date":"2024-03-01","title":"t","deaths":0,"sources":[]}"#,
                "properties.sources",
            ),
            (
                r#"{"date":"2024-03-01","title":"t","deaths":0}"#,
                "properties.sources",
            ),
            (
                r#"{"date":"2024-03-01","title":"t","deaths":0,"sources":["https://a.b","ftp://x"]}"#,
                "properties.sources[1]",
            ),
            (
                r#"{"date":"2024-03-01","title":"t","deaths":0,"sources":["not a url"]}"#,
                "properties.sources[0]",
            ),
            (
                r#"{"date":"2024-03-01","title":"t","deaths":0,"sources":["https://a.b"],"responsibility":"maybe"}"#,
                "properties.responsibility",
            ),
        ];
        for (p, field) in props {
            assert_eq!(field_of(&body(p)), *field, "{p}");
        }
    }

    #[test]
    fn vertex_limit_and_closed_properties() {
        let mut rules = WriteRules {
            max_vertices: Some(4),
            ..WriteRules::default()
        };
        let square = r#"{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]},"properties":{"a":1}}"#;
        match rules.check(square.as_bytes(), None) {
            Err(Error::BadBody { field, reason }) => {
                assert_eq!(field, "geometry.coordinates");
                assert!(reason.contains("5 positions"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        rules.max_vertices = None;
        assert!(rules.check(square.as_bytes(), None).is_ok());
        rules.additional_properties = Some(false);
        match rules.check(square.as_bytes(), None) {
            Err(Error::BadBody { field, .. }) => assert_eq!(field, "properties.a"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn urls() {
        assert!(is_http_url("https://www.bbc.com/news/world-asia-58349920"));
        assert!(is_http_url("http://127.0.0.1:8080/x?y=1#z"));
        assert!(!is_http_url("https://"));
        assert!(!is_http_url("javascript:alert(1)"));
        assert!(!is_http_url("https://a b.com"));
    }
}
