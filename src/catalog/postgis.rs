//! Reading a read-only layer from a PostGIS table or view.
//!
//! Owns: the query that reads a [`PostgisSource`] and the connection it runs on. PostgreSQL
//! writes each row as GeoJSON text (`ST_AsGeoJSON` of the geometry with 15 decimal digits,
//! `to_json` of the id, `json_build_object` of the property columns in the configured
//! order); the texts go through the file loader's feature building ([`FeatureReader`]), so
//! validation, ids, property types, altitudes and time spans follow exactly the rules of
//! files. Rows are streamed, in id order, and progress is logged every
//! [`PROGRESS_EVERY`] rows.
//!
//! What differs from a file: a NULL column is a `null` property (a table cannot leave a
//! property out), a NULL id makes the feature's id its 1-based position, and geometries in
//! another SRID are transformed to EPSG:4326 by PostGIS. GeoJSON text rather than WKB keeps
//! one parser for every source and carries `json`/`jsonb` columns unchanged; 15 decimals are
//! the most PostGIS writes, enough for every coordinate with at most 15 decimal digits.
//!
//! The connection uses the sync `postgres` client (rust-postgres) without TLS; the password
//! comes from the environment variable [`PASSWORD_ENV`] so it stays out of configuration
//! files. The client runs on its own thread, so loading works inside an async runtime too.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use postgres::fallible_iterator::FallibleIterator;

use super::load::{FeatureReader, LoadOptions, Loaded};
use super::settings::{PostgisSource, PostgisTable};
use crate::error::{Error, Result};

/// Environment variable holding the password of the PostGIS connection.
pub const PASSWORD_ENV: &str = "KHORASAN_PG_PASSWORD";

/// Rows between two progress lines in the log.
pub const PROGRESS_EVERY: u64 = 100_000;

/// Properties per `json_build_object` call (PostgreSQL functions take at most 100 arguments).
const PROPERTIES_PER_CALL: usize = 50;

/// The name of a source in messages: `postgis:TABLE`.
pub fn source_name(source: &PostgisSource) -> PathBuf {
    PathBuf::from(format!("postgis:{}", source.table.table))
}

/// Reads every row of the source's table into features.
///
/// # Errors
/// [`Error::Load`] when the database cannot be reached or the query fails (unknown table
/// or column), and the loader's errors under [`super::InvalidPolicy::Refuse`].
pub fn load_table(source: &PostgisSource, options: &LoadOptions) -> Result<Loaded> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| read_rows(source, options))
            .join()
            .unwrap_or_else(|_| Err(load_error(source, "the PostGIS reader panicked")))
    })
}

fn load_error(source: &PostgisSource, reason: impl Into<String>) -> Error {
    Error::Load {
        path: source_name(source),
        reason: reason.into(),
    }
}

/// Opens a connection to `url`, with the password from [`PASSWORD_ENV`] when it is set.
///
/// # Errors
/// A message naming the problem (bad URL, unreachable server, refused login).
pub fn connect(url: &str) -> std::result::Result<postgres::Client, String> {
    let mut config = postgres::Config::from_str(url)
        .map_err(|e| format!("postgis url is not a PostgreSQL URL: {e}"))?;
    if let Ok(password) = std::env::var(PASSWORD_ENV) {
        config.password(password);
    }
    config.connect_timeout(Duration::from_secs(10));
    config
        .connect(postgres::NoTls)
        .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))
}

fn read_rows(source: &PostgisSource, options: &LoadOptions) -> Result<Loaded> {
    let started = Instant::now();
    let mut client = connect(&source.url).map_err(|e| load_error(source, e))?;
    let sql = select_sql(&source.table);
    let params: [&str; 0] = [];
    let mut rows = client
        .query_raw(sql.as_str(), params)
        .map_err(|e| load_error(source, format!("query failed: {}", db_message(&e))))?;
    let name = source_name(source);
    let mut reader = FeatureReader::new(&name, options);
    let mut count: u64 = 0;
    let mut text = String::new();
    while let Some(row) = rows
        .next()
        .map_err(|e| load_error(source, format!("reading rows: {}", db_message(&e))))?
    {
        let id: Option<String> = row
            .try_get(0)
            .map_err(|e| load_error(source, e.to_string()))?;
        let geometry: Option<String> = row
            .try_get(1)
            .map_err(|e| load_error(source, e.to_string()))?;
        text.clear();
        text.push_str("{\"type\":\"Feature\"");
        if let Some(id) = id.filter(|id| id != "null") {
            text.push_str(",\"id\":");
            text.push_str(&id);
        }
        text.push_str(",\"geometry\":");
        text.push_str(geometry.as_deref().unwrap_or("null"));
        text.push_str(",\"properties\":{");
        for i in 2..row.len() {
            let part: String = row
                .try_get(i)
                .map_err(|e| load_error(source, e.to_string()))?;
            let inner = part
                .strip_prefix('{')
                .and_then(|p| p.strip_suffix('}'))
                .unwrap_or_default()
                .trim();
            if !inner.is_empty() {
                if !text.ends_with('{') {
                    text.push(',');
                }
                text.push_str(inner);
            }
        }
        text.push_str("}}");
        reader.push_json(&text)?;
        count += 1;
        if count.is_multiple_of(PROGRESS_EVERY) {
            tracing::info!(
                source = %name.display(),
                rows = count,
                ms = started.elapsed().as_millis() as u64,
                "reading PostGIS table"
            );
        }
    }
    Ok(reader.finish())
}

/// The database's own message of a query error, when it gave one.
fn db_message(e: &postgres::Error) -> String {
    e.as_db_error()
        .map_or_else(|| e.to_string(), |db| db.message().to_owned())
}

/// `"name"` with inner quotes doubled; `schema.table` quotes each part.
pub fn quoted(name: &str) -> String {
    name.split('.')
        .map(|part| format!("\"{}\"", part.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(".")
}

/// A string literal for SQL.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The query: id as JSON text, geometry as GeoJSON text in EPSG:4326, then the properties as
/// JSON objects of at most [`PROPERTIES_PER_CALL`] members each, in id order.
pub fn select_sql(table: &PostgisTable) -> String {
    let id = quoted(&table.id_column);
    let geom = quoted(&table.geometry_column);
    let mut columns = vec![
        format!("to_json({id})::text"),
        format!(
            "ST_AsGeoJSON(CASE WHEN ST_SRID({geom}) IN (0, 4326) THEN {geom} \
             ELSE ST_Transform({geom}, 4326) END, 15)"
        ),
    ];
    for chunk in table.properties.chunks(PROPERTIES_PER_CALL) {
        let members: Vec<String> = chunk
            .iter()
            .map(|p| format!("{}, {}", literal(p), quoted(p)))
            .collect();
        columns.push(format!("json_build_object({})::text", members.join(", ")));
    }
    format!(
        "SELECT {} FROM {} ORDER BY {id}",
        columns.join(", "),
        quoted(&table.table)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_and_properties_chunked() {
        let table = PostgisTable {
            table: "public.my\"t".to_owned(),
            geometry_column: "geom".to_owned(),
            id_column: "id".to_owned(),
            properties: (0..60).map(|i| format!("p'{i}")).collect(),
            notify_channel: None,
        };
        let sql = select_sql(&table);
        assert!(sql.contains("FROM \"public\".\"my\"\"t\" ORDER BY \"id\""));
        assert_eq!(sql.matches("json_build_object(").count(), 2);
        assert!(sql.contains("'p''59', \"p'59\""));
    }
}
