//! Who may write, and how often.
//!
//! Owns: the write settings of `[server]` ([`WriteSettings`]), bearer-token checks and the
//! per-client rate limit ([`Access`]). It knows nothing of HTTP: the caller passes the
//! `Authorization` header value and the client address.
//!
//! # Tokens
//! Tokens are kept only as SHA-256 hashes: `[server] write_tokens_sha256` lists hex digests
//! (`printf %s "$TOKEN" | sha256sum`), and the environment variable [`TOKEN_ENV`] adds one
//! token in clear, hashed at startup. A presented token is hashed and compared with every
//! configured hash in constant time (`subtle`), so neither the result nor the timing tells
//! which bytes matched. With no token configured, writes are off.
//!
//! # Rate limit
//! A token bucket per client: per token when the token is valid, per IP address when it is
//! not (which slows down guessing). A bucket holds `write_burst` requests and refills at
//! `write_rate_per_minute`; an empty bucket answers 429 with the seconds until the next
//! request is allowed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::error::{Error, Result};

/// Environment variable holding one write token in clear.
pub const TOKEN_ENV: &str = "KHORASAN_WRITE_TOKEN";
/// Default of [`WriteSettings::rate_per_minute`].
pub const DEFAULT_RATE_PER_MINUTE: u32 = 120;
/// Default of [`WriteSettings::burst`].
pub const DEFAULT_BURST: u32 = 20;
/// Default of [`WriteSettings::max_body_bytes`]: 256 KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;
/// Buckets kept before idle (full) ones are dropped.
const MAX_BUCKETS: usize = 10_000;

/// The write settings of `[server]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteSettings {
    /// SHA-256 of each accepted token (`write_tokens_sha256`). Default: none.
    pub token_hashes: Vec<[u8; 32]>,
    /// Writes per minute per client (`write_rate_per_minute`); 0 turns the limit off.
    /// Default 120.
    pub rate_per_minute: u32,
    /// Writes a client may make at once before the rate applies (`write_burst`). Default 20.
    pub burst: u32,
    /// Largest write body in bytes (`max_body_bytes`). Default 262144 (256 KiB).
    pub max_body_bytes: usize,
}

impl Default for WriteSettings {
    fn default() -> Self {
        Self {
            token_hashes: Vec::new(),
            rate_per_minute: DEFAULT_RATE_PER_MINUTE,
            burst: DEFAULT_BURST,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

impl WriteSettings {
    /// Validates the raw `[server]` values; `None` takes the default.
    ///
    /// # Errors
    /// [`Error::Config`] for a hash that is not 64 hex digits, a zero burst or body limit.
    pub fn from_raw(
        hashes: &[String],
        rate_per_minute: Option<u32>,
        burst: Option<u32>,
        max_body_bytes: Option<usize>,
    ) -> Result<Self> {
        let token_hashes = hashes
            .iter()
            .map(|h| parse_hash(h))
            .collect::<Result<Vec<_>>>()?;
        let burst = burst.unwrap_or(DEFAULT_BURST);
        if burst == 0 {
            return Err(Error::Config(
                "server.write_burst must be at least 1".to_owned(),
            ));
        }
        let max_body_bytes = max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES);
        if max_body_bytes < 64 {
            return Err(Error::Config(
                "server.max_body_bytes must be at least 64".to_owned(),
            ));
        }
        Ok(Self {
            token_hashes,
            rate_per_minute: rate_per_minute.unwrap_or(DEFAULT_RATE_PER_MINUTE),
            burst,
            max_body_bytes,
        })
    }
}

/// SHA-256 of a token.
pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// SHA-256 of a token as lower-case hex, the form of `write_tokens_sha256`.
pub fn hash_token_hex(token: &str) -> String {
    hash_token(token)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn parse_hash(hex: &str) -> Result<[u8; 32]> {
    let bad = || {
        Error::Config(format!(
            "server.write_tokens_sha256: {hex:?} is not a SHA-256 digest (64 hex digits)"
        ))
    };
    if hex.len() != 64 || !hex.is_ascii() {
        return Err(bad());
    }
    let mut out = [0_u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// Whose bucket a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Client {
    /// An authenticated client, by the hash of its token.
    Token([u8; 32]),
    /// An unauthenticated client, by address.
    Ip(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Tokens and rate limit. See the module documentation.
#[derive(Debug)]
pub struct Access {
    hashes: Vec<[u8; 32]>,
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<Client, Bucket>>,
}

impl Access {
    /// The access rules of `settings`, plus the clear token of [`TOKEN_ENV`] if given.
    pub fn new(settings: &WriteSettings, env_token: Option<&str>) -> Self {
        let mut hashes = settings.token_hashes.clone();
        if let Some(t) = env_token.map(str::trim).filter(|t| !t.is_empty()) {
            hashes.push(hash_token(t));
        }
        Self {
            hashes,
            per_second: f64::from(settings.rate_per_minute) / 60.0,
            burst: f64::from(settings.burst),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether any token is configured (writes are off otherwise).
    pub fn enabled(&self) -> bool {
        !self.hashes.is_empty()
    }

    /// Checks an `Authorization` header value (`Bearer TOKEN`).
    ///
    /// # Errors
    /// [`Error::Unauthorized`] when it is missing, malformed or names no configured token;
    /// the same error in every case.
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<Client> {
        let token = authorization
            .and_then(|h| {
                let (scheme, rest) = h.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(Error::Unauthorized)?;
        let presented = hash_token(token);
        let mut found = Choice::from(0);
        for h in &self.hashes {
            found |= h.ct_eq(&presented);
        }
        if bool::from(found) {
            Ok(Client::Token(presented))
        } else {
            Err(Error::Unauthorized)
        }
    }

    /// Takes one request from `client`'s bucket.
    ///
    /// # Errors
    /// [`Error::RateLimited`] with the whole seconds until the bucket holds a request again.
    pub fn admit(&self, client: Client, now: Instant) -> Result<()> {
        if self.per_second <= 0.0 {
            return Ok(());
        }
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_BUCKETS {
            let (rate, burst) = (self.per_second, self.burst);
            buckets
                .retain(|_, b| b.tokens + now.duration_since(b.last).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.per_second;
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "a small positive number of seconds"
            )]
            let retry_after_s = (wait.ceil() as u64).max(1);
            Err(Error::RateLimited { retry_after_s })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn access(rate: u32, burst: u32) -> Access {
        let settings =
            WriteSettings::from_raw(&[hash_token_hex("s3cret")], Some(rate), Some(burst), None)
                .unwrap();
        Access::new(&settings, Some("  from-env \n"))
    }

    #[test]
    fn only_configured_bearer_tokens_pass() {
        let a = access(60, 1);
        assert!(a.enabled());
        assert_eq!(
            a.authenticate(Some("Bearer s3cret")).unwrap(),
            Client::Token(hash_token("s3cret"))
        );
        assert!(
            a.authenticate(Some("bearer   from-env")).is_ok(),
            "scheme is case-insensitive"
        );
        for bad in [
            None,
            Some(""),
            Some("Bearer"),
            Some("Bearer "),
            Some("Basic s3cret"),
            Some("Bearer s3cre"),
            Some("s3cret"),
        ] {
            assert!(
                matches!(a.authenticate(bad), Err(Error::Unauthorized)),
                "{bad:?}"
            );
        }
        let none = Access::new(&WriteSettings::default(), None);
        assert!(!none.enabled());
        assert!(none.authenticate(Some("Bearer anything")).is_err());
    }

    #[test]
    fn bad_hashes_are_config_errors() {
        assert!(WriteSettings::from_raw(&["abc".into()], None, None, None).is_err());
        assert!(WriteSettings::from_raw(&["g".repeat(64)], None, None, None).is_err());
        assert_eq!(
            hash_token_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn the_bucket_empties_and_refills() {
        let a = access(60, 2);
        let c = Client::Ip("127.0.0.1".parse().unwrap());
        let t0 = Instant::now();
        assert!(a.admit(c, t0).is_ok());
        assert!(a.admit(c, t0).is_ok());
        match a.admit(c, t0) {
            Err(Error::RateLimited { retry_after_s }) => assert_eq!(retry_after_s, 1),
            other => panic!("{other:?}"),
        }
        let other = Client::Ip("127.0.0.2".parse().unwrap());
        assert!(a.admit(other, t0).is_ok(), "buckets are per client");
        assert!(
            a.admit(c, t0 + Duration::from_millis(1100)).is_ok(),
            "one per second refills"
        );
        let unlimited = access(0, 1);
        for _ in 0..100 {
            assert!(unlimited.admit(c, t0).is_ok());
        }
    }
}
