//! Reading a FeatureCollection file on two threads. A reading thread takes the file in
//! blocks ([`stream`]), parses each feature's own parts (type, geometry, id: [`quick`] for a
//! feature of the plain shape, else [`RawFeature::parse`]) and hands them on in batches, in
//! file order; the calling thread builds the layer from them (ids seen, fields, shared
//! strings, time), as [`Builder::push`] would. The features, reasons and messages are those
//! of the sequential reading: the building thread takes every feature the reading thread got
//! to, so a refused feature still comes before a problem further on in the file, and a
//! syntax error in properties that [`quick`] only delimited gives the file to the whole
//! reading, as serde finding it while reading the feature does.

use std::fs::File;
use std::ops::Range;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use serde_json::value::RawValue;

use super::quick::{self, Quick};
use super::raw::{Parsed, RawFeature};
use super::stream::{self, Stop, Taken};
use super::{Builder, LoadOptions, Loaded, PropertiesText, io_error, parse_collection};
use crate::error::{Error, Result};

/// Features handed on at a time.
const BATCH: usize = 1024;

/// Batches on their way between the threads, at most.
const QUEUE: usize = 4;

/// About the bytes of a feature's `id` and `properties` texts.
const TEXT_PER_FEATURE: usize = 128;

/// About the properties of a feature.
const MEMBERS_PER_FEATURE: usize = 8;

/// A feature read by the reading thread.
struct Item {
    parsed: std::result::Result<Parsed, String>,
    /// The `id` member's text in [`Batch::text`].
    id: Option<Range<usize>>,
    /// The `properties` member's text in [`Batch::text`], unless it is missing or `null`.
    properties: Option<Range<usize>>,
    /// Whether the properties text is known to be JSON ([`PropertiesText::checked`]).
    checked: bool,
    /// Where the spans of the properties' members are in [`Batch::spans`], when the
    /// reading thread found them.
    members: Option<Range<usize>>,
}

/// Consecutive features, with their texts.
struct Batch {
    text: String,
    items: Vec<Item>,
    /// The spans of the items' properties' members ([`quick::Span`]).
    spans: Vec<quick::Span>,
}

impl Batch {
    fn with_capacity(features: usize) -> Self {
        Self {
            text: String::with_capacity(features * TEXT_PER_FEATURE),
            items: Vec::with_capacity(features),
            spans: Vec::with_capacity(features * MEMBERS_PER_FEATURE),
        }
    }

    fn add(&mut self, raw: &RawFeature<'_>) {
        let item = (raw.id.map(RawValue::get), raw.properties());
        self.push(raw.parse(), item, (true, None));
    }

    fn add_quick(&mut self, feature: Quick<'_>) {
        let item = (feature.id, feature.properties);
        // The properties were only delimited (their members' spans found when they could be).
        self.push(Ok(feature.parsed), item, (false, feature.members));
    }

    /// An item with its `id` and `properties` texts, which are kept in [`Self::text`].
    fn push(
        &mut self,
        parsed: std::result::Result<Parsed, String>,
        (id, properties): (Option<&str>, Option<&str>),
        (checked, members): (bool, Option<Range<usize>>),
    ) {
        let id = id.map(|v| self.keep(v));
        let properties = properties.map(|p| self.keep(p));
        self.items.push(Item {
            parsed,
            id,
            properties,
            checked,
            members,
        });
    }

    /// `text` kept in [`Self::text`]: where it is.
    fn keep(&mut self, text: &str) -> Range<usize> {
        let start = self.text.len();
        self.text.push_str(text);
        start..self.text.len()
    }
}

/// [`super::load_file`] on two threads; `None` when the file has to be read whole.
pub fn load_blocks(path: &Path, options: &LoadOptions) -> Result<Option<Loaded>> {
    load_blocks_with(path, options, stream::BLOCK, BATCH)
}

/// [`load_blocks`], reading `block` bytes and handing on `batch` features at a time (the
/// tests and the `geojson_load` fuzz target read in small blocks).
pub fn load_blocks_with(
    path: &Path,
    options: &LoadOptions,
    block: usize,
    batch: usize,
) -> Result<Option<Loaded>> {
    let file = File::open(path).map_err(|e| io_error(path, &e))?;
    let size = file.metadata().map_or(0, |m| m.len());
    let mut builder = Builder::new(path, options);
    builder.reserve(usize::try_from(size).unwrap_or(0));
    let (tx, rx) = sync_channel(QUEUE);
    let read = std::thread::scope(|scope| {
        let reader = std::thread::Builder::new()
            .name("load-read".to_owned())
            .spawn_scoped(scope, move || {
                read(file, (path, options), block, batch.max(1), &tx)
            })
            .map_err(Stop::Io)?;
        build(&mut builder, rx);
        reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    if builder.unexpected {
        return Ok(None);
    }
    if let Some(err) = builder.fatal.take() {
        return Err(err);
    }
    match read {
        Ok(rest) => {
            let outcome = parse_collection(&mut builder, &rest);
            if let Some(err) = builder.fatal.take() {
                return Err(err);
            }
            Ok(outcome.is_ok().then(|| builder.finish()))
        }
        Err(Stop::Feature(())) => Err(Error::Load {
            path: path.to_owned(),
            reason: "invalid feature".to_owned(),
        }),
        Err(Stop::Io(e)) => Err(io_error(path, &e)),
        Err(Stop::Unexpected) => Ok(None),
    }
}

/// The building thread: takes the features of every batch in order, until the reading
/// thread is done or the policy refuses the file (then `rx` is dropped, which stops the
/// reading thread).
fn build(builder: &mut Builder<'_>, rx: Receiver<Batch>) {
    while let Ok(Batch { text, items, spans }) = rx.recv() {
        for item in items {
            let id = item.id.and_then(|r| text.get(r));
            let properties = item
                .properties
                .and_then(|r| text.get(r))
                .map(|text| PropertiesText {
                    text,
                    spans: item.members.clone().and_then(|r| spans.get(r)),
                    checked: item.checked,
                });
            let taken = builder.take(item.parsed, id, properties);
            if taken.is_err() {
                return;
            }
        }
    }
}

/// The reading thread: sends the features of the file in batches of `size`, once the
/// document before them reads as the whole reading reads it (with the file's path and
/// options). Returns the rest of the document ([`stream::read_in_blocks`]); `Stop::Feature`
/// when the building thread stopped taking batches.
fn read(
    file: File,
    (path, options): (&Path, &LoadOptions),
    block: usize,
    size: usize,
    tx: &SyncSender<Batch>,
) -> std::result::Result<Vec<u8>, Stop<()>> {
    let mut batch = Batch::with_capacity(size);
    let accepts_start =
        |start: &[u8]| parse_collection(&mut Builder::new(path, options), start).is_ok();
    let outcome = stream::read_in_blocks(file, block, accepts_start, |bytes| {
        let send_if_full = |batch: &mut Batch| {
            if batch.items.len() >= size {
                let full = std::mem::replace(batch, Batch::with_capacity(size));
                tx.send(full).map_err(|_| Stop::Feature(()))?;
            }
            Ok(())
        };
        if let Some(feature) = quick::read(bytes, &mut batch.spans) {
            let len = feature.len;
            batch.add_quick(feature);
            send_if_full(&mut batch)?;
            return Ok(Taken::Feature(len));
        }
        let mut features =
            serde_json::Deserializer::from_slice(bytes).into_iter::<RawFeature<'_>>();
        match features.next() {
            Some(Ok(raw)) => {
                let len = features.byte_offset();
                batch.add(&raw);
                send_if_full(&mut batch)?;
                Ok(Taken::Feature(len))
            }
            Some(Err(e)) if e.is_eof() => Ok(Taken::NeedMore),
            _ => Err(Stop::Unexpected),
        }
    });
    // The features read before a problem are built all the same: one of them may be
    // refused, which is the error to give.
    if !batch.items.is_empty() {
        tx.send(batch).map_err(|_| Stop::Feature(()))?;
    }
    outcome
}

#[cfg(test)]
mod tests;
