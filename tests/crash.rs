//! Crash safety of writes, with the real binary: concurrent writers, the server killed with
//! SIGKILL at random moments and restarted on the same data directory. After every restart
//! every acknowledged write is there byte for byte, acknowledged deletes stay deleted, a
//! write that was not acknowledged is all or nothing, and retried creates (same
//! `Idempotency-Key`) never make duplicates.
//!
//! Short by default; `CRASH_CYCLES`, `CRASH_WRITERS` and `CRASH_SEED` make it longer or
//! reproducible (`benches/crash_long.sh` runs it with many cycles). `CRASH_STORE` (a
//! `postgresql://` URL of an empty store) runs it against the PostgreSQL store instead of
//! SQLite (`benches/pg_crash_long.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

mod server;

const TOKEN: &str = "crash-test-token";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ---------------------------------------------------------------------------------------
// A minimal HTTP/1.1 client (one request per connection).

struct Reply {
    status: u16,
    body: String,
}

fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> std::io::Result<Reply> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.set_write_timeout(Some(Duration::from_secs(10)))?;
    let body = body.unwrap_or("");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    s.write_all(body.as_bytes())?;
    let reply = server::read_reply(&mut s)?;
    Ok(Reply {
        status: reply.status,
        body: reply.body,
    })
}

// ---------------------------------------------------------------------------------------
// The server under test.

/// The default atlas reduced to incidents and provinces ([`server::reduced_atlas`]), with no
/// rate limit.
fn write_config(dir: &Path, port: u16) -> PathBuf {
    let mut table = server::reduced_atlas(port);
    let settings = table["server"].as_table_mut().unwrap();
    settings.insert("write_rate_per_minute".into(), 0.into());
    let path = dir.join("crash.toml");
    std::fs::write(&path, toml::to_string(&table).unwrap()).unwrap();
    path
}

fn start(config: &Path, data: &Path, log: &Path, port: u16) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_khorasan-atlas"))
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .arg("--workers")
        .arg("2")
        .args(
            std::env::var("CRASH_STORE")
                .ok()
                .map(|url| ["--store".to_owned(), url])
                .into_iter()
                .flatten(),
        )
        .env("KHORASAN_WRITE_TOKEN", TOKEN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if request(port, "GET", "/health", &[], None).is_ok_and(|r| r.status == 200) {
            return child;
        }
        thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not start with {}", config.display());
}

// ---------------------------------------------------------------------------------------
// What each writer knows.

/// A write sent but not acknowledged (the server died), to be resolved after the restart.
#[derive(Debug, Clone)]
enum Pending {
    /// Retried with the same key until acknowledged.
    Create {
        key: String,
        body: String,
        title: String,
    },
    /// The feature now holds either the old state or one with `title`.
    Replace { id: u64, title: String },
    /// The feature is either gone or in its old state.
    Delete { id: u64 },
}

#[derive(Debug, Default)]
struct Ledger {
    /// The exact JSON each live feature must have: the acknowledged body (POST or PUT), or
    /// what the server showed after a restart for a write that was not acknowledged.
    live: HashMap<u64, String>,
    /// Acknowledged (or confirmed) deletes.
    deleted: HashSet<u64>,
    /// Title of each live feature this writer created.
    titles: HashMap<u64, String>,
    pending: Vec<Pending>,
    acked_creates: usize,
    acked_replaces: usize,
    acked_deletes: usize,
    /// Unacknowledged writes found committed / not committed after a restart.
    unacked_applied: usize,
    unacked_dropped: usize,
}

fn incident(title: &str, deaths: u32) -> String {
    json!({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [69.0 + f64::from(deaths % 100) / 100.0, 34.5]},
        "properties": {
            "date": "2026-01-15",
            "title": title,
            "deaths": deaths,
            "injuries": null,
            "sources": ["https://example.org/crash-test"],
        }
    })
    .to_string()
}

fn auth() -> String {
    format!("Bearer {TOKEN}")
}

const JSON: (&str, &str) = ("Content-Type", "application/geo+json");

fn title_of(body: &str) -> Option<String> {
    serde_json::from_str::<Value>(body).ok()?["properties"]["title"]
        .as_str()
        .map(str::to_owned)
}

// ---------------------------------------------------------------------------------------
// Writers.

struct Shared {
    /// Epoch of the running server; writers wait for it to change after a failure.
    epoch: Mutex<u64>,
    wake: Condvar,
    /// Writers parked (waiting for the next epoch).
    parked: AtomicUsize,
    /// Writers that woke up for the current epoch.
    woke: AtomicUsize,
    /// Writers must stop for good.
    stop: AtomicBool,
    /// Writers must park at the next occasion (clean end of the last cycle).
    pause: AtomicBool,
    port: u16,
}

fn writer(w: usize, seed: u64, shared: &Shared, ledger: &Mutex<Ledger>) {
    let mut rng = StdRng::seed_from_u64(seed ^ ((w as u64 + 1) * 0x9E37_79B9));
    let mut seen_epoch = 0;
    let mut n = 0_u32;
    let port = shared.port;
    loop {
        {
            let mut epoch = shared.epoch.lock().unwrap();
            shared.parked.fetch_add(1, Ordering::SeqCst);
            while *epoch == seen_epoch && !shared.stop.load(Ordering::SeqCst) {
                epoch = shared.wake.wait(epoch).unwrap();
            }
            shared.parked.fetch_sub(1, Ordering::SeqCst);
            if shared.stop.load(Ordering::SeqCst) {
                return;
            }
            seen_epoch = *epoch;
            shared.woke.fetch_add(1, Ordering::SeqCst);
        }
        // Retry creates that were not acknowledged, with their keys.
        let retries: Vec<Pending> = std::mem::take(&mut ledger.lock().unwrap().pending);
        let mut failed = false;
        for p in retries {
            if failed {
                ledger.lock().unwrap().pending.push(p);
                continue;
            }
            match &p {
                Pending::Create { key, body, title } => {
                    match request(
                        port,
                        "POST",
                        "/collections/incidents/items",
                        &[("Authorization", &auth()), ("Idempotency-Key", key), JSON],
                        Some(body),
                    ) {
                        Ok(r) if r.status == 201 => record_create(ledger, &r.body, title),
                        Ok(r) if r.status == 503 => {
                            failed = true;
                            ledger.lock().unwrap().pending.push(p);
                        }
                        Ok(r) => panic!("retry of {key}: {} {}", r.status, r.body),
                        Err(_) => {
                            failed = true;
                            ledger.lock().unwrap().pending.push(p);
                        }
                    }
                }
                other => panic!("unresolved {other:?} at the start of an epoch"),
            }
        }
        if failed {
            continue;
        }
        // Write until the server dies or the test pauses.
        while !shared.pause.load(Ordering::SeqCst) {
            n += 1;
            let mine: Vec<u64> = ledger.lock().unwrap().titles.keys().copied().collect();
            let roll = rng.gen_range(0..100);
            let ok = if roll < 60 || mine.is_empty() {
                let title = format!("crash w{w} n{n}");
                let key = format!("w{w}-n{n}");
                let body = incident(&title, n);
                match request(
                    port,
                    "POST",
                    "/collections/incidents/items",
                    &[("Authorization", &auth()), ("Idempotency-Key", &key), JSON],
                    Some(&body),
                ) {
                    Ok(r) if r.status == 201 => {
                        record_create(ledger, &r.body, &title);
                        true
                    }
                    Ok(r) if r.status != 503 => panic!("create: {} {}", r.status, r.body),
                    _ => {
                        ledger
                            .lock()
                            .unwrap()
                            .pending
                            .push(Pending::Create { key, body, title });
                        false
                    }
                }
            } else {
                let id = mine[rng.gen_range(0..mine.len())];
                let path = format!("/collections/incidents/items/{id}");
                if roll < 80 {
                    let title = format!("crash w{w} n{n} (edited)");
                    match request(
                        port,
                        "PUT",
                        &path,
                        &[("Authorization", &auth()), JSON],
                        Some(&incident(&title, n)),
                    ) {
                        Ok(r) if r.status == 200 => {
                            let mut l = ledger.lock().unwrap();
                            l.live.insert(id, r.body);
                            l.titles.insert(id, title);
                            l.acked_replaces += 1;
                            true
                        }
                        Ok(r) if r.status != 503 => panic!("replace {id}: {} {}", r.status, r.body),
                        _ => {
                            ledger
                                .lock()
                                .unwrap()
                                .pending
                                .push(Pending::Replace { id, title });
                            false
                        }
                    }
                } else {
                    match request(port, "DELETE", &path, &[("Authorization", &auth())], None) {
                        Ok(r) if r.status == 204 => {
                            let mut l = ledger.lock().unwrap();
                            l.live.remove(&id);
                            l.titles.remove(&id);
                            l.deleted.insert(id);
                            l.acked_deletes += 1;
                            true
                        }
                        Ok(r) if r.status != 503 => panic!("delete {id}: {} {}", r.status, r.body),
                        _ => {
                            ledger.lock().unwrap().pending.push(Pending::Delete { id });
                            false
                        }
                    }
                }
            };
            if !ok {
                break;
            }
        }
    }
}

fn record_create(ledger: &Mutex<Ledger>, body: &str, title: &str) {
    let id = serde_json::from_str::<Value>(body).unwrap()["id"]
        .as_u64()
        .unwrap();
    let mut l = ledger.lock().unwrap();
    assert!(
        !l.live.contains_key(&id) && !l.deleted.contains(&id),
        "id {id} given out twice"
    );
    l.live.insert(id, body.to_owned());
    l.titles.insert(id, title.to_owned());
    l.acked_creates += 1;
}

// ---------------------------------------------------------------------------------------
// Verification after a restart.

/// Every feature of the incidents layer, by id, as the exact JSON the server writes for it
/// (the items pages carry each feature as the write API acknowledged it, without links).
fn listing(port: u16) -> HashMap<u64, String> {
    #[derive(serde::Deserialize)]
    struct Page<'a> {
        #[serde(rename = "numberMatched")]
        matched: usize,
        #[serde(borrow)]
        features: Vec<&'a serde_json::value::RawValue>,
    }
    #[derive(serde::Deserialize)]
    struct Id {
        id: serde_json::Value,
    }
    let mut out = HashMap::new();
    loop {
        let path = format!(
            "/collections/incidents/items?limit=10000&offset={}",
            out.len()
        );
        let r = request(port, "GET", &path, &[], None).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        let page: Page<'_> = serde_json::from_str(&r.body).unwrap();
        let n = page.features.len();
        for raw in page.features {
            // Shipped features keep their string ids; the key is the internal numeric one.
            let id = match serde_json::from_str::<Id>(raw.get()).unwrap().id {
                serde_json::Value::String(s) => khorasan_atlas::catalog::load::string_id(&s),
                other => other.as_u64().unwrap(),
            };
            assert!(
                out.insert(id, raw.get().to_owned()).is_none(),
                "id {id} listed twice"
            );
        }
        if n == 0 || out.len() >= page.matched {
            return out;
        }
    }
}

/// Checks every acknowledged state of one writer against `features` and resolves its
/// pending replaces and deletes (all or nothing).
fn verify(features: &HashMap<u64, String>, ledger: &Mutex<Ledger>) {
    let mut l = ledger.lock().unwrap();
    let pending = std::mem::take(&mut l.pending);
    for p in pending {
        match p {
            Pending::Create { .. } => l.pending.push(p),
            Pending::Replace { id, title } => {
                let now = features.get(&id).unwrap_or_else(|| {
                    panic!("feature {id} vanished after an unacknowledged replace")
                });
                if l.live.get(&id) == Some(now) {
                    l.unacked_dropped += 1;
                } else {
                    assert_eq!(
                        title_of(now).as_deref(),
                        Some(title.as_str()),
                        "feature {id} is neither its old nor its new state: {now}"
                    );
                    l.live.insert(id, now.clone());
                    l.titles.insert(id, title);
                    l.unacked_applied += 1;
                }
            }
            Pending::Delete { id } => match features.get(&id) {
                None => {
                    l.live.remove(&id);
                    l.titles.remove(&id);
                    l.deleted.insert(id);
                    l.unacked_applied += 1;
                }
                Some(now) => {
                    assert_eq!(
                        l.live.get(&id),
                        Some(now),
                        "feature {id} changed by an unacknowledged delete"
                    );
                    l.unacked_dropped += 1;
                }
            },
        }
    }
    for (id, expected) in &l.live {
        let now = features
            .get(id)
            .unwrap_or_else(|| panic!("LOST: acknowledged feature {id}"));
        assert_eq!(
            now, expected,
            "CHANGED: feature {id} is not byte-equal to its acknowledged state"
        );
    }
    for id in &l.deleted {
        assert!(
            !features.contains_key(id),
            "RESURRECTED: deleted feature {id}"
        );
    }
}

/// No title of the test appears twice, and every feature of the test is either live in a
/// ledger or the committed result of a create that is still to be retried (with its key).
fn check_no_duplicates(features: &HashMap<u64, String>, ledgers: &[Arc<Mutex<Ledger>>]) -> usize {
    let mut live: HashSet<u64> = HashSet::new();
    let mut retrying: HashSet<String> = HashSet::new();
    for l in ledgers {
        let l = l.lock().unwrap();
        live.extend(l.live.keys());
        for p in &l.pending {
            if let Pending::Create { title, .. } = p {
                retrying.insert(title.clone());
            }
        }
    }
    let mut seen: HashMap<String, u64> = HashMap::new();
    for (id, raw) in features {
        let Some(title) = title_of(raw).filter(|t| t.starts_with("crash w")) else {
            continue;
        };
        if let Some(other) = seen.insert(title.clone(), *id) {
            panic!("DUPLICATES: {title:?} is features {other} and {id}");
        }
        assert!(
            live.contains(id) || retrying.contains(&title),
            "PHANTOM: feature {id} ({title:?}) was never written"
        );
    }
    seen.len()
}

/// The server process, killed (SIGKILL) when dropped, so that a failing test leaves none.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn acknowledged_writes_survive_sigkill_at_random_moments() {
    let cycles = env_or("CRASH_CYCLES", 4);
    let writers = usize::try_from(env_or("CRASH_WRITERS", 4)).unwrap();
    let seed = env_or("CRASH_SEED", u64::from(std::process::id()));
    let max_ms = env_or("CRASH_MAX_MS", 800);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("server.log");
    let port = server::free_port();
    let config = write_config(dir.path(), port);
    let mut rng = StdRng::seed_from_u64(seed);
    let shared = Arc::new(Shared {
        epoch: Mutex::new(0),
        wake: Condvar::new(),
        parked: AtomicUsize::new(0),
        woke: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        pause: AtomicBool::new(false),
        port,
    });
    let ledgers: Vec<Arc<Mutex<Ledger>>> = (0..writers).map(|_| Arc::default()).collect();
    let handles: Vec<_> = ledgers
        .iter()
        .enumerate()
        .map(|(w, l)| {
            let (shared, l) = (Arc::clone(&shared), Arc::clone(l));
            thread::spawn(move || writer(w, seed, &shared, &l))
        })
        .collect();
    let wait_parked = || {
        let deadline = Instant::now() + Duration::from_secs(60);
        while shared.parked.load(Ordering::SeqCst) < writers {
            assert!(Instant::now() < deadline, "writers did not stop");
            assert!(
                !handles.iter().any(|h| h.is_finished()),
                "a writer failed; see its panic above"
            );
            thread::sleep(Duration::from_millis(5));
        }
    };
    let started = Instant::now();
    for cycle in 0..=cycles {
        let server = Server(start(&config, &data, &log, port));
        wait_parked();
        let features = listing(port);
        for l in &ledgers {
            verify(&features, l);
        }
        check_no_duplicates(&features, &ledgers);
        let last = cycle == cycles;
        shared.pause.store(last, Ordering::SeqCst);
        shared.woke.store(0, Ordering::SeqCst);
        *shared.epoch.lock().unwrap() += 1;
        shared.wake.notify_all();
        while shared.woke.load(Ordering::SeqCst) < writers {
            thread::sleep(Duration::from_millis(1));
        }
        if last {
            // A clean end: writers finish their retries with the server up.
            wait_parked();
            let features = listing(port);
            for l in &ledgers {
                verify(&features, l);
                assert!(
                    l.lock().unwrap().pending.is_empty(),
                    "creates left unacknowledged"
                );
            }
            let test_features = check_no_duplicates(&features, &ledgers);
            let live: usize = ledgers.iter().map(|l| l.lock().unwrap().live.len()).sum();
            assert_eq!(
                test_features, live,
                "features of the test differ from the acknowledged ones"
            );
            drop(server);
            let sum = |f: fn(&Ledger) -> usize| {
                ledgers.iter().map(|l| f(&l.lock().unwrap())).sum::<usize>()
            };
            let (c, r, d) = (
                sum(|l| l.acked_creates),
                sum(|l| l.acked_replaces),
                sum(|l| l.acked_deletes),
            );
            eprintln!(
                "crash test: seed {seed}, {cycles} SIGKILL cycles, {writers} writers, {:.1} s: {} acknowledged writes ({c} creates, {r} replaces, {d} deletes), lost 0, duplicates 0; {} live test features; unacknowledged writes found committed {} / not committed {}",
                started.elapsed().as_secs_f64(),
                c + r + d,
                test_features,
                sum(|l| l.unacked_applied),
                sum(|l| l.unacked_dropped),
            );
        } else {
            thread::sleep(Duration::from_millis(rng.gen_range(50..max_ms.max(51))));
            drop(server); // SIGKILL
            wait_parked();
        }
    }
    shared.stop.store(true, Ordering::SeqCst);
    shared.wake.notify_all();
    for h in handles {
        h.join().unwrap();
    }
}
