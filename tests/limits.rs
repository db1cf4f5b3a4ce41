//! Bounded resources, with the real binary and raw `TcpStream`s: slow clients are cut off
//! after the configured time, clients that never read hold no worker, idle connections do
//! not stop the server answering, the connection cap holds, request targets, headers and
//! offsets and single responses have limits, and event streams are capped per address and in total.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use server::{Server, TOKEN};

/// Writes `head` and then `trickle` one byte every `every`, until the server answers or
/// closes; the time it took and what it said.
fn trickle(s: &mut TcpStream, head: &[u8], trickle: &[u8], every: Duration) -> (Duration, Vec<u8>) {
    let start = Instant::now();
    s.write_all(head).unwrap();
    s.set_read_timeout(Some(every)).unwrap();
    let mut got = Vec::new();
    for byte in trickle.iter().cycle() {
        if s.write_all(&[*byte]).is_err() {
            break;
        }
        let mut buf = [0_u8; 4096];
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                break;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
        assert!(start.elapsed() < Duration::from_secs(20), "never cut off");
    }
    (start.elapsed(), got)
}

#[test]
fn slow_headers_are_cut_off_after_the_request_timeout() {
    let server = Server::start(&[("request_timeout_ms", 1000)], &[]);
    let mut s = server.connect();
    let (took, got) = trickle(
        &mut s,
        b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ",
        b"a",
        Duration::from_millis(250),
    );
    assert!(took < Duration::from_secs(4), "cut off after {took:?}");
    assert!(took >= Duration::from_millis(900), "cut off after {took:?}");
    let text = String::from_utf8_lossy(&got);
    assert!(got.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");
}

#[test]
fn slow_write_bodies_get_408_after_the_body_timeout() {
    let server = Server::start(&[("body_timeout_ms", 1000)], &[]);
    let mut s = server.connect();
    let head = format!(
        "POST /collections/incidents/items HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/geo+json\r\nContent-Length: 100000\r\n\r\n{{"
    );
    let (took, got) = trickle(&mut s, head.as_bytes(), b" ", Duration::from_millis(250));
    assert!(took < Duration::from_secs(4), "cut off after {took:?}");
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("1000 ms"), "{text}");
}

#[test]
fn clients_that_never_read_hold_no_worker() {
    let server = Server::start(&[], &[]);
    let big = "GET /collections/incidents/items?limit=10000 HTTP/1.1\r\nHost: x\r\n\r\n";
    let stuck: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut s = server.connect();
            s.write_all(big.as_bytes()).unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    for _ in 0..5 {
        let took = server.health_time();
        assert!(took < Duration::from_secs(1), "/health took {took:?}");
    }
    drop(stuck);
}

#[test]
fn idle_keep_alive_connections_are_closed() {
    let server = Server::start(&[("keep_alive_s", 1)], &[]);
    let mut s = server.connect();
    let start = Instant::now();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let took = start.elapsed();
    assert!(String::from_utf8_lossy(&all).starts_with("HTTP/1.1 200"));
    assert!(took < Duration::from_secs(4), "closed after {took:?}");
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");
}

/// Raises this process's open-file limit to what the test needs, when the hard limit
/// allows it (the server gets the same limit by inheritance).
fn enough_files(n: u64) -> bool {
    let out = std::process::Command::new("sh")
        .args(["-c", "ulimit -Sn"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse::<u64>()
        .is_ok_and(|soft| soft >= n)
        || String::from_utf8_lossy(&out.stdout).trim() == "unlimited"
}

#[test]
fn two_thousand_idle_connections_leave_health_fast() {
    let n = 2000;
    if !enough_files(2 * n + 100) {
        eprintln!("skipped: the open-file limit is below {}", 2 * n + 100);
        return;
    }
    let server = Server::start(&[("request_timeout_ms", 60_000)], &[]);
    let idle: Vec<TcpStream> = (0..n).map(|_| server.connect()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let worst = (0..10).map(|_| server.health_time()).max().unwrap();
    assert!(worst < Duration::from_secs(1), "/health took {worst:?}");
    drop(idle);
}

#[test]
fn connections_beyond_the_cap_wait_until_others_close() {
    // Two workers with 5 connections each: the 11th connection is not served.
    let server = Server::start(
        &[("max_connections", 5), ("request_timeout_ms", 60_000)],
        &[],
    );
    let idle: Vec<TcpStream> = (0..10).map(|_| server.connect()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut s = server.connect();
    s.set_read_timeout(Some(Duration::from_millis(800)))
        .unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut buf = [0_u8; 64];
    let waited = s.read(&mut buf);
    assert!(
        matches!(&waited, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "answered beyond the cap: {waited:?}"
    );
    drop(idle);
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let reply = server::read_reply(&mut s).unwrap();
    assert_eq!(reply.status, 200);
}

#[test]
fn long_targets_get_414_and_large_headers_431() {
    let server = Server::start(&[("max_uri_bytes", 1000), ("max_header_bytes", 2000)], &[]);
    let long = format!("/collections/incidents/items?title={}", "a".repeat(1000));
    let r = server.get(&long).unwrap();
    assert_eq!(r.status, 414, "{}", r.body);
    assert!(r.body.contains("1000 bytes"), "{}", r.body);
    let big = "b".repeat(3000);
    let r = server
        .request("GET", "/health", &[("X-Big", &big)], "")
        .unwrap();
    assert_eq!(r.status, 431, "{}", r.body);
    assert!(r.body.contains("2000 bytes"), "{}", r.body);
    // A head beyond what actix-http buffers (128 KiB) is refused before routing.
    let huge = "c".repeat(200 * 1024);
    let r = server.request("GET", "/health", &[("X-Huge", &huge)], "");
    assert!(r.is_err() || r.is_ok_and(|r| r.status == 431));
    assert_eq!(server.get("/health").unwrap().status, 200);
}

#[test]
fn offsets_beyond_the_limit_are_refused_naming_the_value() {
    let server = Server::start(&[("max_offset", 500)], &[]);
    let r = server
        .get("/collections/incidents/items?offset=501")
        .unwrap();
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains("501") && r.body.contains("0..=500"),
        "{}",
        r.body
    );
    let r = server
        .get("/collections/incidents/items?offset=500")
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn pages_larger_than_the_response_limit_are_refused_in_every_format() {
    // The limit: half the size of the provinces' features as the source file has them, so
    // that the page of all provinces exceeds it and a page of one does not.
    let source: serde_json::Value = serde_json::from_slice(
        &std::fs::read(server::root().join("geodata/provinces_af_pk.geojson")).unwrap(),
    )
    .unwrap();
    let features = source["features"].as_array().unwrap();
    let all = serde_json::to_vec(features).unwrap().len();
    let largest = features
        .iter()
        .map(|f| serde_json::to_vec(f).unwrap().len())
        .max()
        .unwrap();
    let limit = all / 2;
    assert!(
        largest * 2 < limit,
        "one province must fit with room for links"
    );
    let server = Server::start(&[("max_response_bytes", limit as i64)], &[]);
    for f in ["json", "csv", "html"] {
        let r = server
            .get(&format!("/collections/provinces/items?limit=1000&f={f}"))
            .unwrap();
        assert_eq!(r.status, 400, "f={f}: {}", r.body);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        assert!(
            r.body.contains(&format!("limit of {limit} bytes")) && r.body.contains("limit"),
            "f={f}: {}",
            r.body
        );
        let r = server
            .get(&format!("/collections/provinces/items?limit=1&f={f}"))
            .unwrap();
        assert_eq!(r.status, 200, "f={f}: {}", r.body);
        assert!(r.body.len() <= limit, "f={f}: {} bytes", r.body.len());
    }
    assert_eq!(server.get("/health").unwrap().status, 200);
}

/// Opens an event stream and reads its status line.
fn open_stream(server: &Server) -> (TcpStream, String) {
    let mut s = server.connect();
    s.write_all(b"GET /collections/incidents/events HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = vec![0_u8; 4096];
    let n = s.read(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    (s, text)
}

/// A server allowing 2 event streams per address (100 in all), with both of 127.0.0.1's open.
fn two_streams_at_the_per_address_cap() -> (Server, (TcpStream, String), (TcpStream, String)) {
    let server = Server::start(
        &[
            ("max_event_streams_per_client", 2),
            ("max_event_streams", 100),
        ],
        &[],
    );
    let a = open_stream(&server);
    let b = open_stream(&server);
    assert!(a.1.starts_with("HTTP/1.1 200") && b.1.starts_with("HTTP/1.1 200"));
    (server, a, b)
}

#[test]
fn event_streams_are_capped_per_address_and_in_total() {
    // Both streams stay open while the third is refused.
    let (server, _a, _b) = two_streams_at_the_per_address_cap();
    let c = open_stream(&server);
    assert!(c.1.starts_with("HTTP/1.1 503"), "{}", c.1);
    assert!(
        c.1.contains("127.0.0.1 already has 2 event streams"),
        "{}",
        c.1
    );

    let server = Server::start(
        &[
            ("max_event_streams_per_client", 10),
            ("max_event_streams", 3),
        ],
        &[],
    );
    let open: Vec<_> = (0..3).map(|_| open_stream(&server)).collect();
    assert!(open.iter().all(|(_, t)| t.starts_with("HTTP/1.1 200")));
    let over = open_stream(&server);
    assert!(over.1.starts_with("HTTP/1.1 503"), "{}", over.1);
    assert!(over.1.contains("3 event streams are open"), "{}", over.1);
}

#[test]
fn a_departed_subscriber_frees_its_slot_without_waiting_for_a_heartbeat() {
    let (server, a, b) = two_streams_at_the_per_address_cap();
    assert!(open_stream(&server).1.starts_with("HTTP/1.1 503"));
    drop(a);
    // The keep-alive comment comes every 15 s: a slot back well before it was noticed from
    // the closed connection itself.
    let started = Instant::now();
    let again = loop {
        let attempt = open_stream(&server);
        if attempt.1.starts_with("HTTP/1.1 200") || started.elapsed() > Duration::from_secs(10) {
            break attempt;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(again.1.starts_with("HTTP/1.1 200"), "{}", again.1);
    drop(b);
}

/// A layer of `n` points spread over the whole Earth, written as GeoJSON.
fn world_points(dir: &std::path::Path, n: usize) -> Vec<(String, std::path::PathBuf)> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let features: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [rng.gen_range(-180.0..180.0), rng.gen_range(-85.0..85.0)]},
                "properties": {"n": i},
            })
        })
        .collect();
    let path = dir.join("world.geojson");
    let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
    std::fs::write(&path, fc.to_string()).unwrap();
    vec![("world".to_owned(), path)]
}

#[test]
fn expensive_queries_never_starve_other_requests() {
    let server = Server::start_with(&[], &[], |dir| world_points(dir, 100_000));
    // Half the Earth around a point, and the deepest allowed pages, four at once on two
    // workers: each runs on the blocking pool while the workers keep answering.
    let heavy = [
        "/collections/world/radius?coords=POINT(0%200)&within=10000&within-units=km&limit=10000",
        "/collections/world/radius?coords=POINT(90%200)&within=10000&within-units=km&limit=10000",
        "/collections/world/items?offset=190000&limit=10000&sortby=-n",
        "/collections/world/items?offset=1000000&limit=10000",
    ];
    let port = server.port;
    let started = Instant::now();
    let handles: Vec<_> = heavy
        .iter()
        .map(|target| {
            let target = (*target).to_owned();
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
                let req = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                s.write_all(req.as_bytes()).unwrap();
                let reply = server::read_reply(&mut s).unwrap();
                (target, reply.status, started.elapsed())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    let worst = (0..5).map(|_| server.health_time()).max().unwrap();
    for h in handles {
        let (target, status, took) = h.join().unwrap();
        assert_eq!(status, 200, "{target}");
        assert!(took < Duration::from_secs(30), "{target} took {took:?}");
        eprintln!("{target}: {took:?}");
    }
    assert!(worst < Duration::from_millis(500), "/health took {worst:?}");
}
