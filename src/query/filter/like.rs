//! LIKE patterns: `%` matches any run of characters, `_` one character, `\` escapes the
//! next character. Matching is linear in the text for each `%`-separated segment, so a
//! pattern within the limits costs at most `text × pattern` steps.

use super::compile::bad;
use super::{MAX_LIKE_CHARS, MAX_LIKE_WILDCARDS};
use crate::error::Result;

/// One element of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Char(char),
    One,
    Any,
}

/// A compiled LIKE pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    toks: Vec<Tok>,
    /// Compare lower-cased (CASEI on the pattern).
    pub casei: bool,
}

impl Pattern {
    /// Compiles `text`, lower-cased when `casei`.
    ///
    /// # Errors
    /// A 400 when the pattern is longer than the limits allow.
    pub fn new(text: &str, casei: bool) -> Result<Self> {
        let n = text.chars().count();
        if n > MAX_LIKE_CHARS {
            return Err(bad(
                text,
                format!("LIKE pattern of {n} characters; at most {MAX_LIKE_CHARS} are allowed"),
            ));
        }
        let source = if casei {
            text.to_lowercase()
        } else {
            text.to_owned()
        };
        let mut toks = Vec::with_capacity(n);
        let mut chars = source.chars();
        while let Some(c) = chars.next() {
            toks.push(match c {
                '\\' => Tok::Char(chars.next().unwrap_or('\\')),
                '%' => {
                    if toks.last() == Some(&Tok::Any) {
                        continue;
                    }
                    Tok::Any
                }
                '_' => Tok::One,
                c => Tok::Char(c),
            });
        }
        let wild = toks.iter().filter(|t| **t == Tok::Any).count();
        if wild > MAX_LIKE_WILDCARDS {
            return Err(bad(
                text,
                format!("LIKE pattern with {wild} '%'; at most {MAX_LIKE_WILDCARDS} are allowed"),
            ));
        }
        Ok(Self { toks, casei })
    }

    /// The number of elements of the pattern.
    pub fn len(&self) -> usize {
        self.toks.len()
    }

    /// Whether the pattern is empty (matches only the empty text).
    pub fn is_empty(&self) -> bool {
        self.toks.is_empty()
    }

    /// Whether `text` matches the whole pattern.
    pub fn matches(&self, text: &str) -> bool {
        glob(&self.toks, text)
    }
}

/// The character at byte `at` of `s` and its length in bytes.
fn char_at(s: &str, at: usize) -> (char, usize) {
    s[at..]
        .chars()
        .next()
        .map_or(('\0', 1), |c| (c, c.len_utf8()))
}

/// Greedy matching with one backtrack point (the last `%`), which is exact for patterns
/// whose only unbounded element is `%`. Walks the text by byte offsets, without copying it.
fn glob(p: &[Tok], s: &str) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        let (c, width) = char_at(s, si);
        match p.get(pi) {
            Some(Tok::Any) => {
                star = Some((pi, si));
                pi += 1;
            }
            Some(Tok::One) => {
                pi += 1;
                si += width;
            }
            Some(Tok::Char(x)) if *x == c => {
                pi += 1;
                si += width;
            }
            _ => match star {
                Some((sp, ss)) => {
                    let next = ss + char_at(s, ss).1;
                    pi = sp + 1;
                    si = next;
                    star = Some((sp, next));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|t| *t == Tok::Any)
}
