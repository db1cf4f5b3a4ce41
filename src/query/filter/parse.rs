//! Reads a filter text into a `cql2` expression, turning the crate's errors into 400s that
//! name the position and the token where parsing failed.

use cql2::Expr;

use super::Lang;
use crate::error::{Error, Result};

/// Most parentheses open at once in a cql2-text filter. The parser backtracks through
/// every open parenthesis of a filter that fails to parse, so its time grows about fourfold
/// with each level: 4 ms at 10 levels, seconds at 20.
pub const MAX_NESTING: usize = 10;

/// The most parentheses open at once in `text`, outside quoted strings (`'...'`, with `''`
/// for a quote inside one).
fn nesting(text: &str) -> usize {
    let (mut depth, mut deepest, mut quoted) = (0usize, 0usize, false);
    for c in text.chars() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' if !quoted => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Parses `text` in `lang`.
///
/// # Errors
/// A 400 on parameter `filter` naming the character position and the token that failed.
pub fn parse(text: &str, lang: Lang) -> Result<Expr> {
    match lang {
        Lang::Text => {
            let depth = nesting(text);
            if depth > MAX_NESTING {
                return Err(Error::bad_param(
                    "filter",
                    text,
                    format!("nests parentheses {depth} deep; at most {MAX_NESTING}"),
                ));
            }
            cql2::parse_text(text).map_err(|e| text_error(text, &e))
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_counts_open_parentheses_outside_strings() {
        assert_eq!(nesting("a = 1"), 0);
        assert_eq!(nesting("(a = 1) AND ((b = 2))"), 2);
        assert_eq!(nesting("name = '((((' AND (x = 'it''s (')"), 1);
        assert_eq!(nesting("(((("), 4);
    }

    #[test]
    fn deep_nesting_is_refused_before_the_parser_sees_it() {
        let deep = format!("{}a = 1", "(".repeat(MAX_NESTING + 1));
        let err = parse(&deep, Lang::Text).unwrap_err().to_string();
        assert!(
            err.contains("nests parentheses 11 deep; at most 10"),
            "{err}"
        );
        let fine = format!(
            "{}a = 1{}",
            "(".repeat(MAX_NESTING),
            ")".repeat(MAX_NESTING)
        );
        assert!(parse(&fine, Lang::Text).is_ok());
        let unclosed = format!("{}a = 1", "(".repeat(MAX_NESTING));
        assert!(parse(&unclosed, Lang::Text).is_err());
    }
}
