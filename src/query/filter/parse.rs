//! Reads a filter text into a `cql2` expression, turning the crate's errors into 400s that
//! name the position and the token where parsing failed.

use cql2::Expr;

use super::Lang;
use crate::error::{Error, Result};

/// Parses `text` in `lang`.
///
/// # Errors
/// A 400 on parameter `filter` naming the character position and the token that failed.
pub fn parse(text: &str, lang: Lang) -> Result<Expr> {
    match lang {
        Lang::Text => cql2::parse_text(text).map_err(|e| text_error(text, &e)),
        Lang::Json => cql2::parse_json(text).map_err(|e| {
            let offset = offset_of(text, e.line(), e.column());
            bad(text, offset, &format!("invalid cql2-json: {e}"))
        }),
    }
}

fn text_error(text: &str, e: &cql2::Error) -> Error {
    match e {
        cql2::Error::Pest(p) => {
            let offset = match p.location {
                pest::error::InputLocation::Pos(o) | pest::error::InputLocation::Span((o, _)) => o,
            };
            let expected = match &p.variant {
                pest::error::ErrorVariant::ParsingError { positives, .. }
                    if !positives.is_empty() =>
                {
                    let names: Vec<String> =
                        positives.iter().take(6).map(|r| format!("{r:?}")).collect();
                    format!("expected one of {}", names.join(", "))
                }
                pest::error::ErrorVariant::ParsingError { .. } => "unexpected input".to_owned(),
                pest::error::ErrorVariant::CustomError { message } => message.clone(),
            };
            bad(text, offset, &format!("invalid cql2-text: {expected}"))
        }
        other => Error::bad_param("filter", text, format!("invalid cql2-text: {other}")),
    }
}

/// Byte offset of a 1-based line and column.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + column.saturating_sub(1)).min(text.len())
}

/// The token at byte `offset`: up to the next space, at most 20 characters.
fn token_at(text: &str, offset: usize) -> &str {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let rest = &text[at..];
    let end = rest
        .char_indices()
        .take(20)
        .find(|(_, c)| c.is_whitespace())
        .map_or_else(
            || rest.char_indices().nth(20).map_or(rest.len(), |(i, _)| i),
            |(i, _)| i,
        );
    &rest[..end]
}

fn bad(text: &str, offset: usize, reason: &str) -> Error {
    let token = token_at(text, offset);
    let position = text[..offset.min(text.len())].chars().count() + 1;
    let near = if token.is_empty() {
        "at the end of the filter".to_owned()
    } else {
        format!("at '{token}'")
    };
    Error::bad_param(
        "filter",
        text,
        format!("syntax error at character {position} {near}: {reason}"),
    )
}
