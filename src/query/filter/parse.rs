//! Reads a filter text into a `cql2` expression, turning the crate's errors into 400s that
//! name the position and the token where parsing failed.

use std::num::NonZeroUsize;
use std::sync::Once;

use cql2::Expr;

use super::Lang;
use crate::error::{Error, Result};

/// Most parentheses open at once in a cql2-text filter. The parser backtracks through
/// every open parenthesis of a filter that fails to parse, so its time grows about fourfold
/// with each level: 4 ms at 10 levels, seconds at 20.
pub const MAX_NESTING: usize = 10;

/// Most parser steps (pest rule calls, about 11 ns each) one filter may take, so that no
/// filter holds a worker for more than about 12 ms. A filter filling the longest request
/// target the server accepts by default (8 KB: an `IN` list of 1,500 strings, a polygon of
/// 400 vertices) takes under 300,000; a filter that makes the parser backtrack through
/// runs of operators inside open parentheses (and so has no valid parse) takes millions.
pub const MAX_PARSE_STEPS: usize = 1_000_000;

/// Sets pest's step budget (process-wide, read when each parse starts) before the first
/// parse. The server's only pest grammar is cql2-text's.
fn limit_parse_steps() {
    static LIMIT: Once = Once::new();
    LIMIT.call_once(|| pest::set_call_limit(NonZeroUsize::new(MAX_PARSE_STEPS)));
}

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
            limit_parse_steps();
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
                pest::error::ErrorVariant::CustomError { message }
                    if message.contains("call limit") =>
                {
                    return Error::bad_param(
                        "filter",
                        text,
                        format!(
                            "takes the parser more than {MAX_PARSE_STEPS} steps (it backtracks \
                             through the operators inside its parentheses); simplify it"
                        ),
                    );
                }
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
    fn a_filter_the_parser_backtracks_through_is_refused_within_its_step_budget() {
        // Ten open parentheses, each followed by a run of minus signs: without the budget
        // this takes about 50 ms to fail, and grows fourfold with each parenthesis.
        let tangled = format!("{}x", format!("({}", "-".repeat(200)).repeat(MAX_NESTING));
        let err = parse(&tangled, Lang::Text).unwrap_err().to_string();
        assert!(err.contains("more than 1000000 steps"), "{err}");
    }

    #[test]
    fn the_longest_filters_a_request_target_holds_parse_within_the_budget() {
        let values: Vec<String> = (0..1500).map(|i| format!("'v{i}'")).collect();
        let in_list = format!("category IN ({})", values.join(","));
        assert!(in_list.len() > 8192);
        parse(&in_list, Lang::Text).unwrap_or_else(|e| panic!("{e}"));
        let ring: Vec<String> = (0..400)
            .map(|i| {
                let a = f64::from(i) / 400.0 * std::f64::consts::TAU;
                format!("{:.6} {:.6}", 60.0 + 5.0 * a.cos(), 30.0 + 5.0 * a.sin())
            })
            .chain(std::iter::once("65.000000 30.000000".to_owned()))
            .collect();
        let polygon = format!(
            "S_INTERSECTS(geometry, POLYGON(({}))) AND (name LIKE 'K%' OR deaths > 5)",
            ring.join(", ")
        );
        assert!(polygon.len() > 8192);
        parse(&polygon, Lang::Text).unwrap_or_else(|e| panic!("{e}"));
    }

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
