//! gzip and zlib (`Content-Encoding: deflate`) bodies at level 1, from one deflate
//! compressor per thread and wrapping, reset between bodies.
//!
//! Owns: the compressors and the gzip framing around their raw deflate stream (RFC 1952:
//! the ten-byte header, then CRC-32 and length). Making a compressor allocates its tables
//! (a few hundred KB) and clears them, where a reset only clears them: a page of 100
//! features (about 17 KB) takes about an eighth fewer instructions from a compressor kept
//! on its thread. Choosing a coding is [`super::compress`]'s job.

use std::cell::RefCell;

use flate2::{Compress, Compression, Crc, FlushCompress, Status};

/// The deflate level of both wrappings: the fastest, as every dynamic response is
/// compressed.
const LEVEL: u32 = 1;

/// The gzip header: deflate, no flags, no modification time, "fastest algorithm" (the
/// extra flags of level 1), unknown operating system.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 0xff];

thread_local! {
    /// This thread's compressors: raw deflate (for gzip) and zlib, made on first use.
    static COMPRESSORS: RefCell<[Option<Compress>; 2]> = const { RefCell::new([None, None]) };
}

/// `data` as a gzip member; `None` if the compressor fails.
pub fn gzip(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bound(data.len()) + GZIP_HEADER.len() + 8);
    out.extend_from_slice(&GZIP_HEADER);
    deflate_into(&mut out, data, false)?;
    let mut crc = Crc::new();
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    // The length modulo 2^32, as RFC 1952 has it.
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    Some(out)
}

/// `data` as a zlib stream (what HTTP calls `deflate`); `None` if the compressor fails.
pub fn zlib(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bound(data.len()) + 6);
    deflate_into(&mut out, data, true)?;
    Some(out)
}

/// Most bytes deflate makes of `len` bytes: stored blocks of at most 65,535 bytes with
/// five bytes each of framing, and a few to spare.
fn bound(len: usize) -> usize {
    len + 5 * (len / 65_535 + 1) + 16
}

/// Appends `data` compressed by this thread's compressor of the wrapping (`zlib` or raw),
/// reset first.
fn deflate_into(out: &mut Vec<u8>, data: &[u8], zlib: bool) -> Option<()> {
    COMPRESSORS.with(|cell| {
        let mut compressors = cell.try_borrow_mut().ok()?;
        let compressor = compressors[usize::from(zlib)]
            .get_or_insert_with(|| Compress::new(Compression::new(LEVEL), zlib));
        // A reset compressor counts from zero: its count read is where `data` goes on.
        compressor.reset();
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(64));
            }
            let before = (compressor.total_in(), compressor.total_out());
            let read = usize::try_from(before.0).ok()?;
            let status = compressor
                .compress_vec(data.get(read..)?, out, FlushCompress::Finish)
                .ok()?;
            if status == Status::StreamEnd {
                return Some(());
            }
            if (compressor.total_in(), compressor.total_out()) == before {
                // No progress with room to write: the compressor is stuck.
                return None;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};

    use super::*;

    /// Text of `n` bytes that compresses about as GeoJSON does, and some that does not.
    fn sample(n: usize, seed: u64) -> Vec<u8> {
        let mut state = seed;
        (0..n)
            .map(|i| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                if i % 3 == 0 {
                    (state >> 56) as u8
                } else {
                    b"{\"type\":\"Feature\",\"id\":"[i % 23]
                }
            })
            .collect()
    }

    #[test]
    fn bodies_in_a_row_round_trip_through_other_decoders() {
        // Empty, small, around a stored block's size and several blocks, twice each, so
        // that every body after the first is made by a compressor reset.
        for round in 0..2 {
            for n in [0usize, 1, 600, 21_000, 65_535, 65_536, 300_000] {
                let data = sample(n, n as u64 + round);
                let gz = gzip(&data).expect("gzip");
                let zl = zlib(&data).expect("zlib");
                let decoders: [(&str, Box<dyn std::io::Read + '_>); 2] = [
                    ("gzip", Box::new(flate2::read::GzDecoder::new(&gz[..]))),
                    ("zlib", Box::new(flate2::read::ZlibDecoder::new(&zl[..]))),
                ];
                for (name, mut decoder) in decoders {
                    let mut back = Vec::new();
                    decoder.read_to_end(&mut back).expect("a whole stream");
                    assert_eq!(back, data, "{name} of {n} bytes");
                }
            }
        }
    }

    #[test]
    fn the_deflate_stream_is_the_one_flate2_writes() {
        let data = sample(50_000, 9);
        let mut encoder =
            flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(LEVEL));
        encoder.write_all(&data).expect("written");
        let expected = encoder.finish().expect("finished");
        let z = gzip(&data).expect("gzip");
        // The same compressed blocks, CRC and length; headers may differ in their
        // operating-system byte.
        assert_eq!(z.len(), expected.len());
        assert_eq!(z[10..], expected[10..]);
        assert_eq!(z[..9], expected[..9]);
    }
}
