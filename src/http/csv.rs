//! CSV output of a page of features (`f=csv`, `Accept: text/csv`).
//!
//! Owns: the columns (`id`, `distance_m` for distance queries, the layer's fields in schema
//! order or the `properties` asked for, `geometry` as 2-D WKT (empty for a feature without
//! geometry), and `lon`/`lat` on layers of points or of mixed types, filled for points),
//! the cell text and the guard against formula injection: a string cell that begins with
//! `=`, `+`, `-`, `@`, a tab or a carriage return is written with a `'` in front, so that a
//! spreadsheet shows it as text; numbers stay numbers (`-3.5` is written as is). Arrays and
//! objects are written as JSON text. Quoting is RFC 4180 (the `csv` crate); the header row
//! comes first, lines end with CRLF. Paging links and counts travel in headers (see
//! [`super::features`]).

use wkt::ToWkt;

use super::respond::CappedBuffer;
use crate::catalog::{ApiId, Feature, GeometryKind, Layer, Prop};
use crate::error::{Error, Result};
use crate::query::Outcome;

/// Media type of the CSV answers.
pub const CSV: &str = "text/csv; charset=utf-8";

/// The first characters that make a spreadsheet read a cell as a formula.
const FORMULA_START: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// `text` made safe to open in a spreadsheet: a `'` before a leading formula character.
pub fn defuse(text: &str) -> String {
    if text.starts_with(FORMULA_START) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn cell(prop: Option<&Prop>) -> String {
    match prop {
        None | Some(Prop::Absent | Prop::Null) => String::new(),
        Some(Prop::Bool(b)) => b.to_string(),
        Some(Prop::Int(i)) => i.to_string(),
        Some(Prop::Float(f)) => f.to_string(),
        Some(Prop::Str(s)) => defuse(s),
        Some(Prop::Json(v)) => defuse(&v.to_string()),
        // The source text: a number beyond 64 bits stays a number; an array or object
        // holding one is JSON text like any other.
        Some(Prop::Raw(raw)) => {
            let text = raw.0.get();
            if text.starts_with(['[', '{']) {
                defuse(text)
            } else {
                text.to_owned()
            }
        }
    }
}

fn point_columns(feature: &Feature) -> [String; 2] {
    match feature.geometry.point() {
        Some(p) => [p.x().to_string(), p.y().to_string()],
        None => [String::new(), String::new()],
    }
}

/// The CSV bytes of the features of `outcome` in `layer`, with the fields at `select` (all
/// when `None`), and `distance_m` when `with_distance`.
///
/// # Errors
/// [`Error::ResponseTooLarge`] when the CSV would exceed `limit` bytes.
pub fn page(
    layer: &Layer,
    outcome: &Outcome,
    select: Option<&[usize]>,
    with_distance: bool,
    limit: usize,
) -> Result<Vec<u8>> {
    let fields: Vec<usize> =
        select.map_or_else(|| (0..layer.fields.len()).collect(), <[usize]>::to_vec);
    // Layers that may hold points: their rows carry `lon`/`lat` (empty for other types).
    let points = matches!(
        layer.geometry_kind,
        GeometryKind::Point | GeometryKind::Mixed
    );
    let mut header: Vec<String> = vec!["id".into()];
    if with_distance {
        header.push("distance_m".into());
    }
    header.extend(fields.iter().map(|&i| defuse(&layer.fields[i].name)));
    header.push("geometry".into());
    if points {
        header.extend(["lon".into(), "lat".into()]);
    }
    let fail = |e: csv::Error| match e.kind() {
        csv::ErrorKind::Io(_) => Error::ResponseTooLarge { limit },
        _ => Error::Internal(format!("writing CSV: {e}")),
    };
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(CappedBuffer::new(limit));
    out.write_record(&header).map_err(fail)?;
    for hit in &outcome.hits {
        let Some(feature) = layer.features.get(hit.pos) else {
            continue;
        };
        let mut row: Vec<String> = vec![match layer.api_id(feature.id) {
            ApiId::Number(n) => n.to_string(),
            ApiId::Text(text) => defuse(text),
        }];
        if with_distance {
            row.push(
                hit.distance_m
                    .map_or_else(String::new, |d| ((d * 1000.0).round() / 1000.0).to_string()),
            );
        }
        row.extend(fields.iter().map(|&i| cell(feature.props.get(i))));
        row.push(if feature.has_null_geometry() {
            String::new()
        } else {
            feature.geometry.get().wkt_string()
        });
        if points {
            row.extend(point_columns(feature));
        }
        out.write_record(&row).map_err(fail)?;
    }
    out.into_inner()
        .map(CappedBuffer::into_inner)
        .map_err(|_| Error::ResponseTooLarge { limit })
}

/// The response carrying `body`, the CSV of a page of `layer_id`: `Content-Disposition`
/// names a file, `OGC-NumberMatched` and `OGC-NumberReturned` give the counts, and `Link`
/// carries the `next` and `prev` links of `links` (the JSON page's links).
pub fn respond(
    req: &actix_web::HttpRequest,
    body: Vec<u8>,
    layer_id: &str,
    counts: (usize, usize),
    links: &[super::respond::Link],
    max_age: u32,
) -> actix_web::HttpResponse {
    use actix_web::http::header::{self, HeaderName, HeaderValue};
    let mut resp = super::respond::cacheable(req, body, CSV, max_age);
    let file: String = layer_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let paging: Vec<String> = links
        .iter()
        .filter(|l| matches!(l.rel, "next" | "prev"))
        .map(|l| {
            let target = super::link_header::link_target(l.href.clone());
            format!("<{target}>; rel=\"{}\"", l.rel)
        })
        .collect();
    let mut headers = vec![
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file}.csv\""),
        ),
        (
            HeaderName::from_static(NUMBER_MATCHED),
            counts.0.to_string(),
        ),
        (
            HeaderName::from_static(NUMBER_RETURNED),
            counts.1.to_string(),
        ),
    ];
    if !paging.is_empty() {
        headers.push((header::LINK, paging.join(", ")));
    }
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(name, v);
        }
    }
    resp
}

/// Header with the number of features matching the query (GeoJSON's `numberMatched`).
pub const NUMBER_MATCHED: &str = "ogc-numbermatched";
/// Header with the number of features in this page (GeoJSON's `numberReturned`).
pub const NUMBER_RETURNED: &str = "ogc-numberreturned";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_defused_and_other_text_kept() {
        for bad in ["=1+1", "+1", "-cmd", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(defuse(bad), format!("'{bad}"));
        }
        for good in ["Kabul", "", "1-2", "a=b"] {
            assert_eq!(defuse(good), good);
        }
        assert_eq!(cell(Some(&Prop::Float(-3.5))), "-3.5");
        assert_eq!(cell(Some(&Prop::Int(-2))), "-2");
    }
}
