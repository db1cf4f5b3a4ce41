//! The threat model of `SECURITY.md`, checked against the real binary: static routes never
//! serve a file outside the map directory, writes never get CORS headers, tokens never
//! appear in logs or answers, every response says `nosniff`, the map pages carry a
//! same-origin Content-Security-Policy, and `X-Forwarded-For` does not escape the write
//! rate limit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server;

use server::{Server, TOKEN};

const INCIDENT: &str = r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[69.1,34.5]},"properties":{"date":"2026-01-15","title":"security test","deaths":1,"injuries":null,"sources":["https://example.org/s"]}}"#;

#[test]
fn static_routes_never_leave_the_map_directory() {
    let server = Server::start(&[], &[]);
    assert_eq!(server.get("/map/index.html").unwrap().status, 200);
    assert_eq!(server.get("/map/tiles.html").unwrap().status, 200);
    let targets = [
        "/map/../secret.txt",
        "/map/..%2fsecret.txt",
        "/map/%2e%2e/secret.txt",
        "/map/%2e%2e%2fsecret.txt",
        "/map/..%2f..%2fCargo.toml",
        "/map/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/map/%252e%252e%252fsecret.txt",
        "/map/..%5csecret.txt",
        "/map/....//secret.txt",
        "/map//..//secret.txt",
        "/map/%2fetc%2fpasswd",
        "/map/.%2e/secret.txt",
        "/map/%c0%ae%c0%ae/secret.txt",
        "/map/tiles.html%00.txt",
        "/../secret.txt",
        "/tiles/..%2f..%2fsecret.txt",
        "/collections/..%2f..%2fsecret.txt",
    ];
    for target in targets {
        let r = server.get(target).unwrap();
        assert!(
            matches!(r.status, 400 | 404),
            "{target}: {} {}",
            r.status,
            r.body
        );
        for secret in ["outside the web directory", "[package]", "root:"] {
            assert!(
                !r.body.contains(secret),
                "{target} served a file: {}",
                r.body
            );
        }
    }
}

#[test]
fn writes_never_get_cors_headers() {
    let server = Server::start(&[], &[]);
    let origin = ("Origin", "https://elsewhere.example");
    for (method, target) in [
        ("POST", "/collections/incidents/items"),
        ("PUT", "/collections/incidents/items/1"),
        ("DELETE", "/collections/incidents/items/1"),
    ] {
        let r = server
            .request(
                "OPTIONS",
                target,
                &[
                    origin,
                    ("Access-Control-Request-Method", method),
                    (
                        "Access-Control-Request-Headers",
                        "authorization,content-type",
                    ),
                ],
                "",
            )
            .unwrap();
        assert_eq!(
            r.header("access-control-allow-origin"),
            None,
            "preflight of {method} {target}: {r:?}"
        );
        let auth = format!("Bearer {TOKEN}");
        let r = server
            .request(
                method,
                target,
                &[
                    origin,
                    ("Authorization", &auth),
                    ("Content-Type", "application/geo+json"),
                ],
                if method == "DELETE" { "" } else { INCIDENT },
            )
            .unwrap();
        assert_eq!(
            r.header("access-control-allow-origin"),
            None,
            "{method} {target}: {r:?}"
        );
    }
    // Reads stay open to every origin.
    let r = server
        .request("GET", "/collections", &[origin], "")
        .unwrap();
    assert!(r.header("access-control-allow-origin").is_some(), "{r:?}");
}

#[test]
fn tokens_never_appear_in_logs_or_answers() {
    let server = Server::start(&[], &[]);
    let wrong = "wrong-token-4c1d8e2b9a";
    let good = format!("Bearer {TOKEN}");
    let bad = format!("Bearer {wrong}");
    let mut bodies = Vec::new();
    let cases: [(&str, &str, &str); 5] = [
        ("POST", "/collections/incidents/items", &bad),
        ("POST", "/collections/incidents/items", &good),
        ("PUT", "/collections/incidents/items/999999", &good),
        ("DELETE", "/collections/incidents/items/999999", &bad),
        ("POST", "/collections/provinces/items", &good),
    ];
    for (method, target, auth) in cases {
        let r = server
            .request(
                method,
                target,
                &[
                    ("Authorization", auth),
                    ("Content-Type", "application/geo+json"),
                ],
                r#"{"type":"Feature","geometry":null}"#,
            )
            .unwrap();
        assert!(r.status >= 400, "{method} {target}: {}", r.status);
        bodies.push(format!("{:?} {}", r.headers, r.body));
    }
    let r = server
        .get(&format!("/collections/incidents/items?token={TOKEN}"))
        .unwrap();
    assert_eq!(r.status, 400);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let log = server.log();
    assert!(
        log.contains("/collections/incidents/items"),
        "no request log: {log}"
    );
    for token in [TOKEN, wrong] {
        for body in &bodies {
            assert!(!body.contains(token), "token in an answer: {body}");
        }
        // The one request that put a token in its own URL is the only line allowed to show it.
        for line in log.lines().filter(|l| !l.contains("?token=")) {
            assert!(!line.contains(token), "token in the log: {line}");
        }
    }
}

#[test]
fn answered_requests_are_logged_at_debug_level_without_their_query() {
    let server = Server::start(&[], &[]);
    let marker = "query-marker-5e0c";
    let r = server.get("/collections/incidents/items?limit=x").unwrap();
    assert_eq!(r.status, 400, "{r:?}");
    let r = server
        .get(&format!(
            "/collections/incidents/items?limit=1&filter=title%3D%27{marker}%27"
        ))
        .unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let log = without_colours(&server.log());
    let answered: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("request answered"))
        .collect();
    assert!(
        answered
            .iter()
            .any(|l| l.contains("/collections/incidents/items") && l.contains("status=200")),
        "no access log line: {log}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("request refused") && l.contains("status=400")),
        "no refusal line: {log}"
    );
    assert!(!log.contains(marker), "the query string in the log: {log}");
}

/// `text` without its ANSI colour sequences (`ESC [ ... m`).
fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}

type Headers<'a> = Vec<(&'a str, &'a str)>;

#[test]
fn every_response_says_nosniff_and_map_pages_carry_a_same_origin_csp() {
    let server = Server::start(&[("max_uri_bytes", 500)], &[]);
    let long = format!("/collections?{}", "x".repeat(600));
    let html = ("Accept", "text/html");
    let cases: Vec<(&str, &str, Headers)> = vec![
        ("GET", "/", vec![]),
        ("GET", "/health", vec![]),
        ("GET", "/api", vec![]),
        ("GET", "/collections", vec![]),
        ("GET", "/collections/incidents/items?limit=1", vec![]),
        ("GET", "/collections/incidents/items?limit=x", vec![]),
        ("GET", "/collections/nothing", vec![]),
        ("GET", "/nothing/here", vec![]),
        ("GET", "/tiles", vec![]),
        ("GET", "/metrics", vec![]),
        ("GET", &long, vec![]),
        ("POST", "/collections/incidents/items", vec![]),
        ("PATCH", "/collections/incidents/items", vec![]),
        (
            "OPTIONS",
            "/collections",
            vec![
                ("Origin", "https://a.example"),
                ("Access-Control-Request-Method", "GET"),
            ],
        ),
        ("GET", "/map", vec![]),
        ("GET", "/map/tiles.html", vec![]),
        ("GET", "/", vec![html]),
    ];
    for (method, target, headers) in &cases {
        let r = server.request(method, target, headers, "").unwrap();
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{method} {target}: {r:?}"
        );
    }
    for (target, headers) in [
        ("/map", vec![]),
        ("/map/tiles.html", vec![]),
        ("/", vec![html]),
    ] {
        let r = server.request("GET", target, &headers, "").unwrap();
        assert_eq!(r.status, 200, "{target}");
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
        let csp = r.header("content-security-policy").unwrap_or_default();
        let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
        assert!(
            directives.contains(&"default-src 'self'"),
            "{target}: {csp}"
        );
        assert!(directives.contains(&"script-src 'self'"), "{target}: {csp}");
        assert!(
            directives.contains(&"frame-ancestors 'none'"),
            "{target}: {csp}"
        );
        assert!(!csp.contains("http:") && !csp.contains("https:") && !csp.contains('*'));
    }
}

#[test]
fn x_forwarded_for_does_not_escape_the_write_rate_limit() {
    let server = Server::start(
        &[],
        &[
            ("write_rate_per_minute", 1.into()),
            ("write_burst", 2.into()),
        ],
    );
    let statuses: Vec<u16> = (0..4)
        .map(|i| {
            let forwarded = format!("203.0.113.{i}");
            server
                .request(
                    "POST",
                    "/collections/incidents/items",
                    &[
                        ("Authorization", "Bearer not-the-token"),
                        ("Content-Type", "application/geo+json"),
                        ("X-Forwarded-For", &forwarded),
                        ("X-Real-IP", &forwarded),
                        ("Forwarded", &format!("for={forwarded}")),
                    ],
                    INCIDENT,
                )
                .unwrap()
                .status
        })
        .collect();
    assert_eq!(statuses, [401, 401, 429, 429]);
}
