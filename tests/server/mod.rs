//! The real binary on a port of its own, and a raw HTTP/1.1 client over `TcpStream`, for
//! the tests of connection and security bounds (`tests/limits.rs`, `tests/security.rs`)
//! and the crash test (`tests/crash.rs`, which uses the response parser).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The write token of the test servers.
pub const TOKEN: &str = "limits-test-token-7f3a9c";

/// A running server; stopped (and its files removed) when dropped.
pub struct Server {
    pub port: u16,
    child: Child,
    pub dir: tempfile::TempDir,
}

/// One HTTP response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// Header lines, names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The default atlas (`geodata/atlas.toml`) reduced to incidents and provinces and their join,
/// with its write rules, absolute layer paths and `[server] listen` on `port`.
pub fn reduced_atlas(port: u16) -> toml::Table {
    let root = root();
    let text = std::fs::read_to_string(root.join("geodata/atlas.toml")).unwrap();
    let mut table: toml::Table = text.parse().unwrap();
    let server = table["server"].as_table_mut().unwrap();
    server.insert("listen".into(), format!("127.0.0.1:{port}").into());
    let layers = table["layers"].as_array_mut().unwrap();
    layers.retain(|l| matches!(l["id"].as_str(), Some("incidents" | "provinces")));
    for l in layers.iter_mut() {
        let file = root.join("geodata").join(l["file"].as_str().unwrap());
        l.as_table_mut()
            .unwrap()
            .insert("file".into(), file.display().to_string().into());
    }
    let joins = table["joins"].as_array_mut().unwrap();
    joins.retain(|j| j["polygons"].as_str() == Some("provinces"));
    table
}

impl Server {
    /// Starts the default atlas reduced to incidents and provinces (writable incidents,
    /// token [`TOKEN`]), with `limits` as the `[server.limits]` table and `server` keys added
    /// to `[server]`, and a map directory holding `index.html` and `tiles.html`.
    pub fn start(limits: &[(&str, i64)], server: &[(&str, toml::Value)]) -> Self {
        Self::start_with(limits, server, |_| Vec::new())
    }

    /// [`Self::start`] with more layers: `extra` writes their files into the given directory
    /// and returns their ids and paths.
    pub fn start_with(
        limits: &[(&str, i64)],
        server: &[(&str, toml::Value)],
        extra: impl FnOnce(&Path) -> Vec<(String, PathBuf)>,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut table = reduced_atlas(port);
        let srv = table["server"].as_table_mut().unwrap();
        for (k, v) in server {
            srv.insert((*k).into(), v.clone());
        }
        let mut lim = toml::Table::new();
        for (k, v) in limits {
            lim.insert((*k).into(), (*v).into());
        }
        srv.insert("limits".into(), lim.into());
        let layers = table["layers"].as_array_mut().unwrap();
        for (id, file) in extra(dir.path()) {
            let mut layer = toml::Table::new();
            layer.insert("id".into(), id.into());
            layer.insert("file".into(), file.display().to_string().into());
            layers.push(layer.into());
        }
        let config = dir.path().join("atlas.toml");
        std::fs::write(&config, toml::to_string(&table).unwrap()).unwrap();
        let web = dir.path().join("web");
        std::fs::create_dir_all(&web).unwrap();
        std::fs::write(web.join("index.html"), "<!doctype html><title>map</title>").unwrap();
        std::fs::write(
            web.join("tiles.html"),
            "<!doctype html><title>tiles</title>",
        )
        .unwrap();
        std::fs::write(dir.path().join("secret.txt"), "outside the web directory").unwrap();
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_khorasan-atlas"))
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--web-dir")
            .arg(&web)
            .arg("--workers")
            .arg("2")
            .env("KHORASAN_WRITE_TOKEN", TOKEN)
            .env("RUST_LOG", "debug")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut server = Self { port, child, dir };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if server.get("/health").is_ok_and(|r| r.status == 200) {
                return server;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = server.child.kill();
        panic!("the server did not start: {}", server.log());
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// A connection with 10 s read and write timeouts.
    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect_timeout(&self.addr(), Duration::from_secs(5)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }

    /// Sends `raw` (a whole request) on a new connection and reads the response.
    pub fn raw(&self, raw: &[u8]) -> std::io::Result<Reply> {
        let mut s = TcpStream::connect_timeout(&self.addr(), Duration::from_secs(5))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        s.write_all(raw)?;
        read_reply(&mut s)
    }

    /// A request with `Connection: close`.
    pub fn request(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> std::io::Result<Reply> {
        let mut head = format!(
            "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.port,
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        head.push_str(body);
        self.raw(head.as_bytes())
    }

    pub fn get(&self, target: &str) -> std::io::Result<Reply> {
        self.request("GET", target, &[], "")
    }

    /// How long `GET /health` takes.
    pub fn health_time(&self) -> Duration {
        let t = Instant::now();
        let r = self.get("/health").unwrap();
        assert_eq!(r.status, 200);
        t.elapsed()
    }

    /// The names of the server process's threads (Linux: `/proc/PID/task/*/comm`).
    pub fn thread_names(&self) -> Vec<String> {
        let tasks = format!("/proc/{}/task", self.child.id());
        let mut names: Vec<String> = std::fs::read_dir(tasks)
            .unwrap()
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .map(|name| name.trim_end().to_owned())
            .collect();
        names.sort();
        names
    }

    /// What the server wrote (stdout and stderr) so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads one response until the server closes the connection.
pub fn read_reply(s: &mut TcpStream) -> std::io::Result<Reply> {
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    parse_reply(&raw)
}

/// Parses a response (chunked or not). A body shorter than its `Content-Length` is an
/// error: a response cut off by a dying server is never taken for an answer.
pub fn parse_reply(raw: &[u8]) -> std::io::Result<Reply> {
    let text = String::from_utf8_lossy(raw).into_owned();
    let bad = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("bad response {text:?}"),
        )
    };
    let (head, rest) = text.split_once("\r\n\r\n").ok_or_else(bad)?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let body = if chunked {
        dechunk(rest).ok_or_else(bad)?
    } else {
        match length {
            Some(n) if rest.len() < n => return Err(bad()),
            Some(n) => rest[..n].to_owned(),
            None => rest.to_owned(),
        }
    };
    Ok(Reply {
        status,
        headers,
        body,
    })
}

fn dechunk(mut rest: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size, tail) = rest.split_once("\r\n")?;
        let n = usize::from_str_radix(size.trim(), 16).ok()?;
        if n == 0 {
            return Some(out);
        }
        out.push_str(tail.get(..n)?);
        rest = tail.get(n + 2..)?;
    }
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
