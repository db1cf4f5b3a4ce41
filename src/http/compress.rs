//! Response compression.
//!
//! Owns: choosing the content coding of a response from `Accept-Encoding` (zstd, br, gzip,
//! deflate; highest `q` wins, ties go to the first in that order: the smallest bodies first)
//! and compressing whole bodies in place, at settings chosen for a server that compresses
//! every dynamic response: zstd level 1, Brotli quality 2 with a window of at most 256 KiB,
//! gzip and deflate level 1 (from each thread's compressors, [`super::deflate`]). Bodies below
//! [`MIN_BYTES`], streamed bodies (the event stream, files), bodies that already carry a
//! `Content-Encoding` (pre-compressed tiles), media that is compressed already, `HEAD` and
//! bodiless statuses pass through unchanged. A compressed response keeps the `ETag` of its
//! uncompressed bytes (so `If-None-Match` and `If-Match` work whatever the coding) and says
//! `Vary: Accept-Encoding`.

use std::cell::RefCell;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use bytes::Bytes;

use super::deflate;

/// Bodies smaller than this many bytes are sent as they are: the coding would save less
/// than its headers and the client's work cost.
pub const MIN_BYTES: usize = 512;

/// A content coding the server produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Zstd,
    Brotli,
    Gzip,
    Deflate,
}

impl Coding {
    /// Server preference on equal `q`: zstd (the fastest and the smallest), then br (about
    /// a fifth smaller than gzip, for more CPU: 0.58-0.73x gzip's throughput on pages of
    /// 1,000 features), then gzip and deflate.
    const ALL: [Coding; 4] = [Coding::Zstd, Coding::Brotli, Coding::Gzip, Coding::Deflate];

    /// The token of `Content-Encoding`.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Zstd => "zstd",
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
        }
    }

    /// [`Self::token`] as a header value (made once).
    pub(crate) fn header_value(self) -> HeaderValue {
        static ZSTD_VALUE: HeaderValue = HeaderValue::from_static("zstd");
        static BROTLI_VALUE: HeaderValue = HeaderValue::from_static("br");
        static GZIP_VALUE: HeaderValue = HeaderValue::from_static("gzip");
        static DEFLATE_VALUE: HeaderValue = HeaderValue::from_static("deflate");
        match self {
            Coding::Zstd => ZSTD_VALUE.clone(),
            Coding::Brotli => BROTLI_VALUE.clone(),
            Coding::Gzip => GZIP_VALUE.clone(),
            Coding::Deflate => DEFLATE_VALUE.clone(),
        }
    }

    /// Compresses `data`; `None` when the coder fails (the body then goes uncompressed).
    pub fn compress(self, data: &[u8]) -> Option<Vec<u8>> {
        match self {
            Coding::Zstd => zstd_compress(data),
            Coding::Brotli => brotli_compress(data),
            Coding::Gzip => deflate::gzip(data),
            Coding::Deflate => deflate::zlib(data),
        }
    }
}

/// Brotli quality: 2 is the fastest setting that compresses GeoJSON tighter than gzip level
/// 1 (qualities 0 and 1 leave it about 20% larger than gzip); actix's default, 3 with a 4 MiB
/// window, costs several times more per response for 1% fewer bytes.
const BROTLI_QUALITY: i32 = 2;
/// Largest Brotli window (log2 bytes); smaller bodies get a window just above their size,
/// which keeps the encoder's tables small.
const BROTLI_MAX_LGWIN: i32 = 18;

fn brotli_compress(data: &[u8]) -> Option<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY,
        lgwin: lgwin_for(data.len()),
        size_hint: data.len(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(data.len() / 4 + 64);
    let mut input = data;
    brotli::BrotliCompress(&mut input, &mut out, &params).ok()?;
    Some(out)
}

/// The smallest Brotli window (10..=[`BROTLI_MAX_LGWIN`]) that holds `len` bytes.
fn lgwin_for(len: usize) -> i32 {
    let bits = usize::BITS - len.max(1).leading_zeros();
    i32::try_from(bits)
        .unwrap_or(BROTLI_MAX_LGWIN)
        .clamp(10, BROTLI_MAX_LGWIN)
}

/// zstd level: 1 is faster than gzip level 1 and smaller.
const ZSTD_LEVEL: i32 = 1;

thread_local! {
    /// One zstd context per thread, reused across responses (making one allocates its
    /// tables).
    static ZSTD: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
}

fn zstd_compress(data: &[u8]) -> Option<Vec<u8>> {
    ZSTD.with(|cell| {
        let mut slot = cell.try_borrow_mut().ok()?;
        if slot.is_none() {
            *slot = Some(zstd::bulk::Compressor::new(ZSTD_LEVEL).ok()?);
        }
        let c = slot.as_mut()?;
        let mut out = Vec::with_capacity(zstd::zstd_safe::compress_bound(data.len()));
        c.compress_to_buffer(data, &mut out).ok()?;
        Some(out)
    })
}

/// The coding to answer `Accept-Encoding` with, or `None` for the identity. A coding with
/// `q=0` is refused; `*` stands for every coding not named.
pub fn choose(accept: &str) -> Option<Coding> {
    let mut q_of = [None::<f32>; 4];
    let mut star = None::<f32>;
    for part in accept.split(',') {
        let mut it = part.split(';');
        let name = it.next().unwrap_or("").trim();
        let q = it
            .find_map(|p| p.trim().strip_prefix("q="))
            .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok());
        let Some(q) = q else { continue };
        if name == "*" {
            star = Some(q);
            continue;
        }
        if let Some(i) = Coding::ALL
            .iter()
            .position(|c| c.token().eq_ignore_ascii_case(name))
        {
            q_of[i] = Some(q);
        }
    }
    let mut best: Option<(Coding, f32)> = None;
    for (i, c) in Coding::ALL.iter().enumerate() {
        let q = q_of[i].or(star).unwrap_or(0.0);
        if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
            best = Some((*c, q));
        }
    }
    best.map(|(c, _)| c)
}

/// Whether a body of this media type is worth compressing (text, JSON, XML, MVT, SVG, CSV).
fn compressible(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    // Lower-cased on the stack: a response's media type is short.
    let mut buf = [0u8; 128];
    let owned;
    let ct = match buf.get_mut(..ct.len()) {
        Some(lower) => {
            lower.copy_from_slice(ct.as_bytes());
            lower.make_ascii_lowercase();
            std::str::from_utf8(lower).unwrap_or_default()
        }
        None => {
            owned = ct.to_ascii_lowercase();
            &owned
        }
    };
    ct.starts_with("text/")
        || ct.contains("json")
        || ct.contains("xml")
        || ct.contains("javascript")
        || ct.contains("vnd.mapbox-vector-tile")
        || ct.contains("csv")
}

/// The middleware: compresses the response body as the module documentation says.
pub async fn compress(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let coding = if req.method() == Method::HEAD {
        None
    } else {
        req.headers()
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .and_then(choose)
    };
    let res = next.call(req).await?;
    let status = res.status();
    let eligible = !matches!(
        status,
        StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED | StatusCode::PARTIAL_CONTENT
    ) && !res.headers().contains_key(header::CONTENT_ENCODING)
        && compressible(res.headers())
        && matches!(res.response().body().size(), BodySize::Sized(n) if n >= MIN_BYTES as u64);
    if !eligible {
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let (mut res, body) = res.into_parts();
    add_vary(res.headers_mut());
    let bytes: Bytes = match body.try_into_bytes() {
        Ok(b) => b,
        Err(body) => {
            return Ok(ServiceResponse::new(
                req,
                res.set_body(body).map_into_boxed_body(),
            ));
        }
    };
    let Some(coding) = coding else {
        return Ok(ServiceResponse::new(req, res.set_body(BoxBody::new(bytes))));
    };
    let body = match coding.compress(&bytes) {
        Some(z) => {
            res.headers_mut()
                .insert(header::CONTENT_ENCODING, coding.header_value());
            Bytes::from(z)
        }
        None => bytes,
    };
    Ok(ServiceResponse::new(req, res.set_body(BoxBody::new(body))))
}

/// `Vary` of a body whose coding follows `Accept-Encoding` (made once).
pub(crate) static VARY_ACCEPT_ENCODING: HeaderValue = HeaderValue::from_static("Accept-Encoding");

/// Adds `Accept-Encoding` to `Vary` unless it is there.
fn add_vary(headers: &mut HeaderMap) {
    let has = headers.get_all(header::VARY).any(|v| {
        v.as_bytes()
            .split(|&b| b == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"accept-encoding"))
    });
    if !has {
        headers.append(header::VARY, VARY_ACCEPT_ENCODING.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choice_follows_q_then_server_preference() {
        assert_eq!(choose("gzip, deflate, br, zstd"), Some(Coding::Zstd));
        assert_eq!(choose("gzip, deflate, br"), Some(Coding::Brotli));
        assert_eq!(choose("gzip"), Some(Coding::Gzip));
        assert_eq!(choose("br;q=0.5, gzip"), Some(Coding::Gzip));
        assert_eq!(choose("zstd;q=0, br;q=0"), None);
        assert_eq!(choose("*;q=0, gzip"), Some(Coding::Gzip));
        assert_eq!(choose("*"), Some(Coding::Zstd));
        assert_eq!(choose("identity"), None);
        assert_eq!(choose(""), None);
        assert_eq!(choose("gzip;q=abc"), None);
    }

    /// A GeoJSON page like the server's answers (the shape the settings are tuned on).
    fn sample(n: usize) -> Vec<u8> {
        let mut s = String::from("{\"type\":\"FeatureCollection\",\"features\":[");
        for i in 0..n {
            if i > 0 {
                s.push(',');
            }
            s.push_str(&format!(
                "{{\"type\":\"Feature\",\"id\":{i},\"geometry\":{{\"type\":\"Point\",\"coordinates\":[{:.6},{:.6}]}},\"properties\":{{\"id\":{i},\"date\":\"20{:02}-0{}-1{}\",\"deaths\":{},\"category\":\"{}\"}}}}",
                60.0 + (i as f64 * 0.7311).sin().abs() * 15.0,
                24.0 + (i as f64 * 1.37).cos().abs() * 14.0,
                15 + i % 10,
                1 + i % 9,
                i % 10,
                i % 7,
                ["explosion", "armed_clash", "protest"][i % 3]
            ));
        }
        s.push_str("]}");
        s.into_bytes()
    }

    #[test]
    fn every_coding_round_trips() {
        use std::io::Read as _;
        let data = sample(500);
        for c in Coding::ALL {
            let z = c.compress(&data).unwrap();
            assert!(
                z.len() < data.len() / 2,
                "{c:?}: {} of {}",
                z.len(),
                data.len()
            );
            let mut back = Vec::new();
            match c {
                Coding::Zstd => back = zstd::stream::decode_all(&z[..]).unwrap(),
                Coding::Brotli => {
                    brotli::Decompressor::new(&z[..], 4096)
                        .read_to_end(&mut back)
                        .unwrap();
                }
                Coding::Gzip => {
                    flate2::read::GzDecoder::new(&z[..])
                        .read_to_end(&mut back)
                        .unwrap();
                }
                Coding::Deflate => {
                    flate2::read::ZlibDecoder::new(&z[..])
                        .read_to_end(&mut back)
                        .unwrap();
                }
            }
            assert_eq!(back, data, "{c:?}");
        }
        assert_eq!(lgwin_for(0), 10);
        assert_eq!(lgwin_for(5000), 13);
        assert_eq!(lgwin_for(100 << 20), BROTLI_MAX_LGWIN);
    }

    /// Speed and size of each coding on a page of 1,000 features (figures, not a check):
    /// `cargo test --release --lib http::compress -- --ignored --nocapture`.
    #[test]
    #[ignore = "prints figures"]
    fn speed_and_size() {
        let data = sample(1000);
        for c in Coding::ALL {
            let t = std::time::Instant::now();
            let mut len = 0;
            for _ in 0..50 {
                len = c.compress(&data).unwrap().len();
            }
            let us = t.elapsed().as_micros() / 50;
            println!("{c:?}: {len} B of {} in {us} us", data.len());
        }
    }
}
