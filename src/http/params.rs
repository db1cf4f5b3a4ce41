//! Query-string handling: every parameter known, none repeated.
//!
//! OGC API - Features asks servers to reject unknown parameters, so each endpoint lists what
//! it accepts; property names that are queryables of the layer are accepted as equality
//! filters where the endpoint allows them.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// The decoded parameters of one request.
#[derive(Debug, Default)]
pub struct Params {
    values: BTreeMap<String, String>,
}

impl Params {
    /// Decodes `query`, rejecting repeated parameters and those for which `known` is false.
    pub fn parse(query: &str, known: impl Fn(&str) -> bool) -> Result<Self> {
        let mut values = BTreeMap::new();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            if !known(&k) {
                return Err(Error::UnknownParameter(k.into_owned()));
            }
            if values
                .insert(k.clone().into_owned(), v.into_owned())
                .is_some()
            {
                return Err(Error::RepeatedParameter(k.into_owned()));
            }
        }
        Ok(Self { values })
    }

    /// The value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// All parameters, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Checks `f` (output format): only JSON is served by the API endpoints.
    pub fn check_format(&self) -> Result<()> {
        match self.get("f") {
            None | Some("json" | "geojson" | "application/json" | "application/geo+json") => Ok(()),
            Some(other) => Err(Error::bad_param("f", other, "supported formats: json")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_repeated_parameters_are_refused() {
        let known = |k: &str| matches!(k, "limit" | "bbox");
        assert!(Params::parse("limit=1&bbox=1,2,3,4", known).is_ok());
        assert!(matches!(
            Params::parse("limt=1", known),
            Err(Error::UnknownParameter(_))
        ));
        assert!(matches!(
            Params::parse("limit=1&limit=2", known),
            Err(Error::RepeatedParameter(_))
        ));
        let p = Params::parse("bbox=1%2C2%2C3%2C4", known).unwrap();
        assert_eq!(p.get("bbox"), Some("1,2,3,4"));
    }
}
