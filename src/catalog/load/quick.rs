//! A feature of the plain shape most files write, read without serde: its members `type`
//! (`"Feature"`), `id` (digits, a string without escapes, or `null`), `geometry` (a 2-D
//! `Point` or `null`) and
//! `properties` (an object or `null`), in any order, each at most once, with names that
//! have no escapes.
//!
//! Owns: recognising that shape and reading it in one pass over the bytes. Anything else
//! (another geometry, an altitude, an id with escapes, another member, a position out of range,
//! bytes that end inside the feature) is not read here: [`read`] gives `None` and the
//! caller reads the feature with serde ([`super::raw::RawFeature`]), which gives the same
//! features and the same messages. The `properties` object is walked member by member when
//! its members are plain (their names and value texts become [`Span`]s), and otherwise only
//! delimited (its strings and nesting followed); neither checks every value: its reader
//! ([`super::Builder`]) parses the values and must treat a syntax error there as the serde
//! reading would, as a document of an unexpected shape.

use super::raw::{Parsed, null_geometry};
use crate::catalog::geometry::plain_point;
use crate::catalog::model::ArcStr;

/// A feature read by [`read`].
pub struct Quick<'a> {
    pub parsed: Parsed,
    /// The `id` member's text (digits, or a string with its quotes), unless it is missing
    /// or `null`.
    pub id: Option<&'a str>,
    /// The `properties` object's text, delimited but not checked, unless it is missing or
    /// `null`.
    pub properties: Option<&'a str>,
    /// Where the members of the properties object are ([`Span`]s added to the caller's
    /// list), when [`members`] would find them; `None` when the properties text is for serde
    /// to read.
    pub members: Option<std::ops::Range<usize>>,
    /// Bytes of the feature, from its `{` to its `}`.
    pub len: usize,
}

/// Where one member's name and value text are in the text of its object: name start and
/// end, value start and end.
pub type Span = [u32; 4];

/// The feature at the start of `bytes` (its `{`), when it has the plain shape; the spans of
/// its properties' members are added to `spans` (and nothing is added when it has not).
pub fn read<'a>(bytes: &'a [u8], spans: &mut Vec<Span>) -> Option<Quick<'a>> {
    let mark = spans.len();
    let quick = read_feature(bytes, spans);
    if quick.is_none() {
        spans.truncate(mark);
    }
    quick
}

fn read_feature<'a>(bytes: &'a [u8], spans: &mut Vec<Span>) -> Option<Quick<'a>> {
    let mut at = Cursor { bytes, pos: 0 };
    let mark = spans.len();
    let mut members = None;
    at.expect(b'{')?;
    let (mut kind, mut id, mut geometry, mut properties) = (false, None, None, None);
    loop {
        let name = at.member_name()?;
        match at.bytes.get(name)? {
            b"type" if !kind => {
                at.literal(b"\"Feature\"")?;
                kind = true;
            }
            b"id" if id.is_none() => id = Some(at.id()?),
            b"geometry" if geometry.is_none() => geometry = Some(at.point()?),
            b"properties" if properties.is_none() => {
                let found;
                (properties, found) = at.properties(spans)?;
                members = found.then_some(mark..spans.len());
            }
            _ => return None,
        }
        if at.object_end()? {
            break;
        }
    }
    if !kind {
        return None;
    }
    let (geometry, source_geometry) = match geometry? {
        Some(point) => (point, None),
        None => null_geometry(),
    };
    let id: Option<&str> = id.flatten();
    let (number, source_id) = match id {
        Some(text) => match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            Some(string) => (Some(super::string_id(string)), Some(ArcStr::from(string))),
            None => (Some(text.parse::<u64>().ok()?), None),
        },
        None => (None, None),
    };
    Some(Quick {
        parsed: Parsed {
            geometry,
            source_geometry,
            id: number,
            source_id,
        },
        id,
        properties: properties.flatten(),
        members,
        len: at.pos,
    })
}

/// A position in the bytes of one feature.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        (self.next()? == b).then_some(())
    }

    /// Skips JSON's white space.
    fn space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn literal(&mut self, text: &[u8]) -> Option<()> {
        let end = self.pos + text.len();
        (self.bytes.get(self.pos..end)? == text).then(|| self.pos = end)
    }

    /// A member's name (see [`Self::name`]), its `:` and the white space around them: where
    /// the name is.
    #[inline(always)]
    fn member_name(&mut self) -> Option<std::ops::Range<usize>> {
        self.space();
        let name = self.name()?;
        self.space();
        self.expect(b':')?;
        self.space();
        Some(name)
    }

    /// After a member's value: `true` at the `}` that ends the object, `false` at a `,`.
    #[inline(always)]
    fn object_end(&mut self) -> Option<bool> {
        self.space();
        match self.next()? {
            b',' => Some(false),
            b'}' => Some(true),
            _ => None,
        }
    }

    /// A member name without escapes: where its bytes between the quotes are.
    fn name(&mut self) -> Option<std::ops::Range<usize>> {
        self.expect(b'"')?;
        let start = self.pos;
        loop {
            self.skip_plain();
            match self.next()? {
                b'"' => return Some(start..self.pos - 1),
                b'\\' | 0..0x20 => return None,
                _ => {}
            }
        }
    }

    /// Moves to the next quote, backslash or control character, eight bytes at a time (or
    /// near the end of the bytes: fewer than eight are left to the caller).
    #[inline(always)]
    fn skip_plain(&mut self) {
        const ONES: u64 = u64::from_ne_bytes([1; 8]);
        const HIGH: u64 = ONES << 7;
        // Marks the bytes below `n` (exactly the lowest such byte; those above it may be
        // marked wrongly, which the lowest mark makes no matter).
        let below = |w: u64, n: u8| w.wrapping_sub(ONES * u64::from(n)) & !w & HIGH;
        while let Some(chunk) = self.bytes.get(self.pos..self.pos + 8) {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            let w = u64::from_le_bytes(word);
            let marks = below(w ^ (ONES * u64::from(b'"')), 1)
                | below(w ^ (ONES * 0x5c), 1)
                | below(w, 0x20);
            if marks != 0 {
                self.pos += (marks.trailing_zeros() / 8) as usize;
                return;
            }
            self.pos += 8;
        }
    }

    /// An `id` of digits or a string without escapes (its text, quotes included: `Some`),
    /// or `null` (`None`).
    fn id(&mut self) -> Option<Option<&'a str>> {
        if self.literal(b"null").is_some() {
            return Some(None);
        }
        if self.peek() == Some(b'"') {
            return self.plain_string().map(Some);
        }
        let start = self.pos;
        let rest = self.bytes.get(start..)?;
        self.pos += rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let digits = self.bytes.get(start..self.pos)?;
        // JSON has no leading zero; a sign, fraction or exponent is not for this reader.
        if digits.is_empty() || (digits.len() > 1 && digits[0] == b'0') {
            return None;
        }
        if let Some(b'.' | b'e' | b'E') = self.peek() {
            return None;
        }
        std::str::from_utf8(digits).ok().map(Some)
    }

    /// A string without escapes or control characters: its text, quotes included.
    #[inline(never)]
    fn plain_string(&mut self) -> Option<&'a str> {
        let start = self.pos;
        self.name()?;
        std::str::from_utf8(self.bytes.get(start..self.pos)?).ok()
    }

    /// A 2-D `Point` that passes the checks of loading (`Some`), or `null` (`None`).
    fn point(&mut self) -> Option<Option<geo::Geometry<f64>>> {
        if self.literal(b"null").is_some() {
            return Some(None);
        }
        self.expect(b'{')?;
        let (mut kind, mut position) = (false, None);
        loop {
            let name = self.member_name()?;
            match self.bytes.get(name)? {
                b"type" if !kind => {
                    self.literal(b"\"Point\"")?;
                    kind = true;
                }
                b"coordinates" if position.is_none() => {
                    self.expect(b'[')?;
                    self.space();
                    let x = self.number()?;
                    self.space();
                    self.expect(b',')?;
                    self.space();
                    let y = self.number()?;
                    self.space();
                    self.expect(b']')?;
                    position = Some((x, y));
                }
                _ => return None,
            }
            if self.object_end()? {
                break;
            }
        }
        let (x, y) = position.filter(|_| kind)?;
        plain_point(x, y).map(Some)
    }

    /// A JSON number, read as the nearest double (as serde_json reads it with its
    /// `float_roundtrip` feature); `None` when it is not finite.
    fn number(&mut self) -> Option<f64> {
        let start = self.pos;
        self.number_end()?;
        let text = std::str::from_utf8(self.bytes.get(start..self.pos)?).ok()?;
        text.parse::<f64>().ok().filter(|x| x.is_finite())
    }

    /// Moves past a number as JSON writes it.
    fn number_end(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.some_digits()
        } else {
            Some(())
        }
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.pos;
        self.digits();
        (self.pos > start).then_some(())
    }

    /// A `properties` object (`Some`) or `null` (`None`), its text valid UTF-8, and whether
    /// its members' spans were added to `spans` ([`Self::member_spans`]); when they could not
    /// be, the object is only delimited, by following its strings and its braces, and its
    /// syntax is not checked.
    fn properties(&mut self, spans: &mut Vec<Span>) -> Option<(Option<Option<&'a str>>, bool)> {
        if self.literal(b"null").is_some() {
            return Some((Some(None), false));
        }
        let start = self.pos;
        let mark = spans.len();
        let found = self.member_spans(spans).is_some();
        if !found {
            spans.truncate(mark);
            self.pos = start;
            self.expect(b'{')?;
            self.close(b'{', b'}')?;
        }
        let text = std::str::from_utf8(self.bytes.get(start..self.pos)?).ok()?;
        Some((Some(Some(text)), found))
    }

    /// The spans of the members of the object at the cursor (see [`members`]), relative to
    /// its `{`, added to `spans`; the cursor is then past its `}`.
    fn member_spans(&mut self, spans: &mut Vec<Span>) -> Option<()> {
        let start = self.pos;
        let at = |pos: usize| u32::try_from(pos - start).ok();
        self.expect(b'{')?;
        self.space();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Some(());
        }
        loop {
            let name = self.member_name()?;
            let value = self.value()?.len();
            spans.push([
                at(name.start)?,
                at(name.end)?,
                at(self.pos - value)?,
                at(self.pos)?,
            ]);
            if self.object_end()? {
                return Some(());
            }
        }
    }

    /// Moves past the `close` that ends the `open` just read, following strings (in valid
    /// JSON no other bracket can stand between them unbalanced).
    fn close(&mut self, open: u8, close: u8) -> Option<()> {
        let mut depth = 1usize;
        while depth > 0 {
            match self.next()? {
                b'"' => self.string_end()?,
                b if b == open => depth += 1,
                b if b == close => depth -= 1,
                _ => {}
            }
        }
        Some(())
    }

    /// Moves past the rest of a string whose opening quote was read; `None` at a control
    /// character (JSON has them only escaped) or the end of the bytes.
    #[inline(always)]
    fn string_end(&mut self) -> Option<()> {
        loop {
            self.skip_plain();
            match self.next()? {
                b'"' => return Some(()),
                // The escaped byte is not the end of the string.
                b'\\' => {
                    self.next()?;
                }
                0..0x20 => return None,
                _ => {}
            }
        }
    }

    /// One property value (see [`members`]): its text.
    fn value(&mut self) -> Option<&'a [u8]> {
        let start = self.pos;
        match self.next()? {
            b'"' => self.string_end()?,
            b'-' | b'0'..=b'9' => {
                self.pos = start;
                self.number_end()?;
            }
            b't' => self.literal(b"rue")?,
            b'f' => self.literal(b"alse")?,
            b'n' => self.literal(b"ull")?,
            b'{' => self.close(b'{', b'}')?,
            b'[' => self.array_end()?,
            _ => return None,
        }
        self.bytes.get(start..self.pos)
    }

    /// Moves past the `]` that ends the array whose `[` was read, following strings and
    /// both kinds of brackets.
    fn array_end(&mut self) -> Option<()> {
        let mut depth = 1usize;
        while depth > 0 {
            match self.next()? {
                b'"' => self.string_end()?,
                b'[' | b'{' => depth += 1,
                b']' | b'}' => depth -= 1,
                _ => {}
            }
        }
        Some(())
    }
}

/// The members of a `properties` object's text, as the [`Span`]s of their names and value
/// texts in order (relative to the object's `{`, which is where the returned offset is),
/// when every name is plain (no escape, no control character) and every value is a string
/// (without control characters), a number as JSON writes it, `true`, `false`, `null`, or an
/// array or object (delimited, not checked); `None` otherwise, and then serde reads the
/// text. A value's text that the reader of values does not take as it stands (an escaped
/// string, an array, an object, a number too large for `i64`) is read by serde, which
/// checks it.
pub fn members(text: &str, spans: &mut Vec<Span>) -> Option<usize> {
    let mut at = Cursor {
        bytes: text.as_bytes(),
        pos: 0,
    };
    at.space();
    let start = at.pos;
    at.member_spans(spans)?;
    at.space();
    (at.pos == text.len()).then_some(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_shape_is_read_in_any_order_and_spacing() {
        let texts = [
            r#"{"type":"Feature","id":12,"geometry":{"type":"Point","coordinates":[64.121583,36.751044]},"properties":{"a":"x}\"{","b":[1,{"c":2}]}}"#,
            r#"{ "properties" : {"a":"x}\"{","b":[1,{"c":2}]} , "geometry": { "coordinates" : [ 64.121583 , 36.751044 ] , "type" : "Point" },
                "id": 12, "type": "Feature" }"#,
        ];
        for text in texts {
            let followed = format!("{text}, more");
            let mut spans = vec![[9; 4]];
            let q = read(followed.as_bytes(), &mut spans).expect(text);
            let properties = q.properties.unwrap();
            let members: Vec<(&str, &str)> = spans[q.members.clone().unwrap()]
                .iter()
                .map(|&[a, b, c, d]| {
                    let part = |from: u32, to: u32| &properties[from as usize..to as usize];
                    (part(a, b), part(c, d))
                })
                .collect();
            assert_eq!(members, [("a", r#""x}\"{""#), ("b", r#"[1,{"c":2}]"#)]);
            assert_eq!(q.len, text.len());
            assert_eq!(q.id, Some("12"));
            assert_eq!(q.parsed.id, Some(12));
            assert_eq!(q.properties, Some(r#"{"a":"x}\"{","b":[1,{"c":2}]}"#));
            assert_eq!(
                q.parsed.geometry,
                geo::Geometry::Point(geo::Point::new(64.121583, 36.751044))
            );
        }
        let bare = read(
            br#"{"type":"Feature","geometry":null,"properties":null}"#,
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!(
            (bare.id, bare.properties, bare.parsed.id),
            (None, None, None)
        );
        assert!(matches!(
            bare.parsed.geometry,
            geo::Geometry::GeometryCollection(_)
        ));
    }

    #[test]
    fn numbers_are_the_nearest_doubles() {
        for text in [
            "-92.70394384315951",
            "1e2",
            "-0",
            "0.5E-3",
            "179.99999999999997158",
        ] {
            let doc = format!(
                r#"{{"type":"Feature","geometry":{{"type":"Point","coordinates":[{text},0]}}}}"#
            );
            let q = read(doc.as_bytes(), &mut Vec::new()).expect(text);
            let geo::Geometry::Point(p) = q.parsed.geometry else {
                panic!("{text}");
            };
            let reference: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(
                p.x().to_bits(),
                reference.as_f64().unwrap().to_bits(),
                "{text}"
            );
        }
    }

    #[test]
    fn strings_end_where_a_byte_by_byte_reading_ends_them() {
        // The end of a string, its escapes followed byte by byte: the reference.
        fn reference(bytes: &[u8]) -> Option<usize> {
            let mut i = 0;
            loop {
                match *bytes.get(i)? {
                    b'"' => return Some(i + 1),
                    b'\\' => i += 2,
                    0..0x20 => return None,
                    _ => i += 1,
                }
            }
        }
        let pieces: [&[u8]; 7] = [
            b"a",
            "é".as_bytes(),
            b"\\\"",
            b"\\\\",
            b"\"",
            b"\x01",
            b"\x7f",
        ];
        let mut seed = 7u64;
        for len in 0..40 {
            for _ in 0..50 {
                let mut text = Vec::new();
                for _ in 0..len {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    // Mostly plain bytes, so that the specials fall anywhere in a word.
                    let pick = (seed >> 33) as usize % 24;
                    text.extend_from_slice(pieces[pick.saturating_sub(17)]);
                }
                text.extend_from_slice(b"\" tail");
                let mut at = Cursor {
                    bytes: &text,
                    pos: 0,
                };
                let got = at.string_end().map(|()| at.pos);
                assert_eq!(
                    got,
                    reference(&text),
                    "{:?}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
    }

    #[test]
    fn string_ids_are_read_as_serde_reads_them() {
        let long = "x".repeat(100);
        for id in [
            "a",
            "",
            "AFG-2021/08/26 kabul",
            "کابل",
            "1234",
            "id with a quote at the end of a word\u{7f}",
            &long,
        ] {
            let json = serde_json::to_string(id).unwrap();
            for text in [
                format!(r#"{{"type":"Feature","id":{json},"geometry":null,"properties":null}}"#),
                format!(r#"{{"geometry":null,"type":"Feature","id" : {json} }}"#),
            ] {
                let quick = read(text.as_bytes(), &mut Vec::new()).expect(&text);
                let raw: super::super::raw::RawFeature<'_> = serde_json::from_str(&text).unwrap();
                assert_eq!(quick.id, raw.id.map(serde_json::value::RawValue::get));
                let parsed = raw.parse().unwrap();
                assert_eq!(
                    (quick.parsed.id, quick.parsed.source_id),
                    (parsed.id, parsed.source_id),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn every_other_shape_is_left_to_serde() {
        let point = r#"{"type":"Point","coordinates":[1,2]}"#;
        let others = [
            format!(r#"{{"type":"Feat","geometry":{point}}}"#),
            format!(r#"{{"type":"Feature","id":"a\"b","geometry":{point}}}"#),
            format!(r#"{{"type":"Feature","id":"\u0061","geometry":{point}}}"#),
            format!("{{\"type\":\"Feature\",\"id\":\"a\tb\",\"geometry\":{point}}}"),
            format!(r#"{{"type":"Feature","id":true,"geometry":{point}}}"#),
            format!(r#"{{"type":"Feature","geometry":{point},"id":"unclosed}}"#),
            format!(r#"{{"type":"Feature","id":-1,"geometry":{point}}}"#),
            format!(r#"{{"type":"Feature","id":01,"geometry":{point}}}"#),
            format!(r#"{{"type":"Feature","id":2.0,"geometry":{point}}}"#),
            format!(r#"{{"type":"Feature","id":18446744073709551616,"geometry":{point}}}"#),
            format!(r#"{{"type":"Feature","id":1,"id":2,"geometry":{point}}}"#),
            format!(r#"{{"type":"Feature","bbox":[1,2,1,2],"geometry":{point}}}"#),
            format!(r#"{{"typ\u0065":"Feature","geometry":{point}}}"#),
            format!(r#"{{"geometry":{point}}}"#),
            r#"{"type":"Feature","properties":{}}"#.to_owned(),
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2,3]}}"#.to_owned(),
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[200,2]}}"#.to_owned(),
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1e999,2]}}"#.to_owned(),
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1.,2]}}"#.to_owned(),
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[+1,2]}}"#.to_owned(),
            r#"{"type":"Feature","geometry":{"type":"MultiPoint","coordinates":[[1,2]]}}"#
                .to_owned(),
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2],"bbox":[]}}"#
                .to_owned(),
            r#"{"type":"Feature","geometry":null,"properties":[]}"#.to_owned(),
            r#"{"type":"Feature","geometry":null,"properties":{"a":"unclosed}"#.to_owned(),
            r#"{"type":"Feature","geometry":null"#.to_owned(),
            r#"{"type":"Feature","geometry":null,}"#.to_owned(),
        ];
        for text in &others {
            let mut spans = vec![[9; 4]];
            assert!(read(text.as_bytes(), &mut spans).is_none(), "{text}");
            assert_eq!(spans, [[9; 4]], "{text}: spans left");
        }
    }
}
