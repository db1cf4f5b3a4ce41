//! Choosing the output format of a response from `f` and `Accept`.
//!
//! Owns: the formats the API serves ([`Format`]), the names `f` takes for each, and the one
//! rule that picks a format: an `f` wins (an unknown or unoffered one is a 400); without
//! `f`, the offered media type of `Accept` with the highest quality, ties going to the
//! first listed; JSON when `Accept` is absent or names nothing offered.

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::error::{Error, Result};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON or GeoJSON: the default.
    Json,
    /// A server-side HTML page (see [`super::html`]).
    Html,
    /// Comma-separated values (see [`super::csv`]).
    Csv,
}

/// Formats of the documents (landing page, collections, tilesets...).
pub const DOCUMENT: &[Format] = &[Format::Json, Format::Html];
/// Formats of the feature listings (`/items`, `/radius`, `/nearest`).
pub const LISTING: &[Format] = &[Format::Json, Format::Html, Format::Csv];

impl Format {
    /// The short name `f` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Html => "html",
            Self::Csv => "csv",
        }
    }

    fn from_f(value: &str) -> Option<Self> {
        match value {
            "json" | "geojson" | "application/json" | "application/geo+json" => Some(Self::Json),
            "html" | "text/html" => Some(Self::Html),
            "csv" | "text/csv" => Some(Self::Csv),
            _ => None,
        }
    }

    fn from_media(media: &str) -> Option<Self> {
        match media {
            "application/json" | "application/geo+json" | "application/*" | "*/*" => {
                Some(Self::Json)
            }
            "text/html" | "application/xhtml+xml" => Some(Self::Html),
            "text/csv" => Some(Self::Csv),
            _ => None,
        }
    }
}

/// The format of the response to `req`, among `offers` (the first is the default).
///
/// # Errors
/// A 400 naming `f` when it names no format of `offers`.
pub fn choose(req: &HttpRequest, f: Option<&str>, offers: &[Format]) -> Result<Format> {
    if let Some(value) = f {
        return Format::from_f(value)
            .filter(|fmt| offers.contains(fmt))
            .ok_or_else(|| {
                let names: Vec<&str> = offers.iter().map(|o| o.name()).collect();
                Error::bad_param(
                    "f",
                    value,
                    format!("supported formats: {}", names.join(", ")),
                )
            });
    }
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Ok(from_accept(accept, offers))
}

/// The offered format `accept` prefers; the first offer when it names none.
fn from_accept(accept: &str, offers: &[Format]) -> Format {
    let default = offers.first().copied().unwrap_or(Format::Json);
    let mut best: Option<(f32, Format)> = None;
    for entry in accept.split(',') {
        let mut parts = entry.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let Some(fmt) = Format::from_media(&media).filter(|f| offers.contains(f)) else {
            continue;
        };
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, fmt));
        }
    }
    best.map_or(default, |(_, f)| f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_picks_the_preferred_offer() {
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert_eq!(from_accept(browser, LISTING), Format::Html);
        assert_eq!(from_accept("", LISTING), Format::Json);
        assert_eq!(from_accept("*/*", LISTING), Format::Json);
        assert_eq!(from_accept("application/json", DOCUMENT), Format::Json);
        assert_eq!(from_accept("text/csv", LISTING), Format::Csv);
        assert_eq!(from_accept("text/csv", DOCUMENT), Format::Json);
        assert_eq!(
            from_accept("text/html;q=0.5, application/geo+json", LISTING),
            Format::Json
        );
        assert_eq!(from_accept("image/png", LISTING), Format::Json);
    }
}
