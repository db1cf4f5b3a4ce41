//! Reading a FeatureCollection file in blocks: the features of its `features` array are
//! parsed one at a time from a buffer of about [`BLOCK`] bytes, so the file is never held
//! whole in memory.
//!
//! Outside the array only JSON's nesting and strings are followed, to find the array; the
//! rest of the document (its other members, the array left empty) is returned for the
//! caller to parse as a whole. Anything unexpected (a feature that is not an object, a
//! stray comma, a byte before the document, a feature serde_json cannot parse) gives up,
//! and the caller reads the file whole, which finds the same features and gives the same
//! messages.

use std::io::Read;

/// Bytes read at a time (more while one feature is larger).
pub const BLOCK: usize = 1 << 20;

/// Why the reading stopped early.
pub enum Stop<E> {
    /// The document is not of the expected shape: read it whole instead.
    Unexpected,
    /// The file could not be read.
    Io(std::io::Error),
    /// The caller refused a feature, or stopped.
    Feature(E),
}

/// What the caller did with the bytes from a feature's `{` to the end of the buffer.
pub enum Taken {
    /// It read one feature of this many bytes.
    Feature(usize),
    /// The bytes end inside the feature.
    NeedMore,
}

/// Where the reader is in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Outside the features array: bytes are copied to the rest of the document.
    Outside,
    /// In the array, before its first feature or after a comma (`first` for the former).
    Expect { first: bool },
    /// In the array after a feature.
    AfterFeature,
}

/// Reads `reader` to its end, at least `block` bytes at a time, calling `take` for each
/// feature of the first top-level `features` array, in order. Returns the rest of the
/// document, the array left as `[]`.
///
/// Outside the array only nesting and strings are followed, so the document up to the
/// array's `[`, closed by `]}`, is first handed to `accepts_start`: whatever the whole
/// reading would refuse there (a bad literal, a `type` that is not "FeatureCollection")
/// must not be passed over to reach the features, and gives up instead.
pub fn read_in_blocks<E>(
    mut reader: impl Read,
    block: usize,
    accepts_start: impl FnOnce(&[u8]) -> bool,
    mut take: impl FnMut(&[u8]) -> Result<Taken, Stop<E>>,
) -> Result<Vec<u8>, Stop<E>> {
    let mut accepts_start = Some(accepts_start);
    let mut outside = Outside::default();
    let mut rest = Vec::new();
    let mut buf: Vec<u8> = Vec::with_capacity(block);
    let mut phase = Phase::Outside;
    // Bytes of `buf` before `pos` are done with.
    let mut pos = 0;
    let mut eof = false;
    loop {
        buf.drain(..pos);
        pos = 0;
        if !eof {
            let want = block.max(buf.len());
            let read = (&mut reader)
                .take(want as u64)
                .read_to_end(&mut buf)
                .map_err(Stop::Io)?;
            eof = read < want;
        }
        // Until the end of the file, bytes are handed on only up to a delimiter, so that no
        // number is cut (serde_json reads `1.` at the end of its input as a bad number, not
        // as input ending early).
        let end = if eof { buf.len() } else { delimited_end(&buf) };
        let mut stalled = false;
        while pos < end {
            let b = buf[pos];
            match phase {
                Phase::Outside => {
                    if outside.step(b, &mut rest)? {
                        let mut start = Vec::with_capacity(rest.len() + 2);
                        start.extend_from_slice(&rest);
                        start.extend_from_slice(b"]}");
                        if !accepts_start.take().is_some_and(|accepts| accepts(&start)) {
                            return Err(Stop::Unexpected);
                        }
                        phase = Phase::Expect { first: true };
                    }
                }
                Phase::Expect { .. } | Phase::AfterFeature if is_space(b) => {}
                Phase::Expect { .. } if b == b'{' => match take(&buf[pos..end])? {
                    Taken::Feature(len) => {
                        phase = Phase::AfterFeature;
                        pos += len;
                        continue;
                    }
                    Taken::NeedMore => {
                        stalled = true;
                        break;
                    }
                },
                Phase::Expect { first: true } | Phase::AfterFeature if b == b']' => {
                    phase = Phase::Outside;
                    rest.push(b']');
                }
                Phase::AfterFeature if b == b',' => phase = Phase::Expect { first: false },
                Phase::Expect { .. } | Phase::AfterFeature => return Err(Stop::Unexpected),
            }
            pos += 1;
        }
        if eof && (stalled || pos >= buf.len()) {
            break;
        }
    }
    if phase != Phase::Outside || !outside.complete() {
        return Err(Stop::Unexpected);
    }
    Ok(rest)
}

/// The length of the longest prefix of `buf` ending just after a delimiter (`,` `:` `]` `}`
/// or white space), where no token is cut.
fn delimited_end(buf: &[u8]) -> usize {
    buf.iter()
        .rposition(|&b| matches!(b, b',' | b':' | b']' | b'}') || is_space(b))
        .map_or(0, |i| i + 1)
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Follows the document outside the features array: nesting and strings, and the members
/// of the top-level object, to find `"features": [`.
#[derive(Debug, Default)]
struct Outside {
    /// Open objects and arrays.
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// Where in `rest` the string being read at depth 1 started.
    key_start: Option<usize>,
    /// The last token at depth 1 was the string `"features"`.
    was_features: bool,
    /// The last tokens at depth 1 were `"features":`.
    armed: bool,
    /// The features array was found.
    entered: bool,
}

impl Outside {
    /// Takes byte `b` (copied to `rest`); true when it opens the features array.
    fn step<E>(&mut self, b: u8, rest: &mut Vec<u8>) -> Result<bool, Stop<E>> {
        rest.push(b);
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
                if let Some(start) = self.key_start.take() {
                    self.was_features = &rest[start..] == b"\"features\"";
                }
            }
            return Ok(false);
        }
        if is_space(b) {
            return Ok(false);
        }
        if self.depth == 0 && b != b'{' {
            return Err(Stop::Unexpected);
        }
        let armed = std::mem::take(&mut self.armed);
        let was_features = std::mem::take(&mut self.was_features);
        match b {
            b'"' => {
                self.in_string = true;
                if self.depth == 1 {
                    self.key_start = Some(rest.len() - 1);
                }
            }
            b'[' if armed && self.depth == 1 && !self.entered => {
                self.entered = true;
                return Ok(true);
            }
            b':' if self.depth == 1 => self.armed = was_features,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => self.depth = self.depth.checked_sub(1).ok_or(Stop::Unexpected)?,
            _ => {}
        }
        Ok(false)
    }

    /// Whether the document was whole and had the features array.
    fn complete(&self) -> bool {
        self.entered && self.depth == 0 && !self.in_string
    }
}

#[cfg(test)]
mod tests;
