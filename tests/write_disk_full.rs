//! Storage failures: a full disk under the data directory.
//!
//! The data directory is put on a tiny tmpfs (mounting needs root, as in CI; elsewhere the
//! test is skipped with a message). While the disk is full, writes answer 503 problem+json
//! and nothing is acknowledged that is not stored; reads keep working; once space returns,
//! writes work again without a restart. A restart then shows exactly the acknowledged writes.
//! (A read-only remount cannot be simulated this way: the kernel refuses it while SQLite
//! holds its files open for writing. The store maps every SQLite error, read-only and I/O
//! errors included, to the same 503 path, tested here and in `store::sqlite`.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use actix_web::test::{self, TestRequest};
use khorasan_atlas::http::{self, AppState};
use serde_json::{Value, json};

const TOKEN: &str = "disk-full-token";

/// A tmpfs mounted for the test, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Self(dir.to_owned()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn open(data: &Path) -> AppState {
    common::open_writable(common::writable_config(data, TOKEN, 64 * 1024))
}

fn incident(title: &str, padding: usize) -> String {
    json!({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [69.2, 34.5]},
        "properties": {
            "date": "2026-03-04",
            "title": title,
            "deaths": 0,
            "sources": ["https://example.org/disk"],
            "notes": "n".repeat(padding),
        }
    })
    .to_string()
}

/// Fills the file system of `dir` until it refuses more bytes.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![0_u8; 4096];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
    path
}

fn test_titles(state: &AppState) -> Vec<String> {
    let layer = state.catalog.get("incidents").unwrap().snapshot();
    let title = layer.field_index("title").unwrap();
    layer
        .features
        .iter()
        .filter_map(|(_, f)| f.props[title].to_json().as_str().map(str::to_owned))
        .filter(|t| t.starts_with("disk "))
        .collect()
}

#[actix_web::test]
async fn a_full_disk_refuses_writes_keeps_reads_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("mnt");
    let Some(tmpfs) = Tmpfs::mount(&mount, "2m") else {
        eprintln!(
            "SKIPPED write_disk_full: cannot mount a tmpfs here (needs root); CI runs it as root"
        );
        return;
    };
    let data = mount.join("data");
    let state = open(&data);
    // Responses hold the application (and so the store) until they are dropped.
    let (mut acked, refused) = {
        let app = test::init_service(http::app(state.clone())).await;
        let post = |title: &str, padding: usize| {
            TestRequest::post()
                .uri("/collections/incidents/items")
                .insert_header(("Authorization", format!("Bearer {TOKEN}")))
                .insert_header(("Content-Type", "application/geo+json"))
                .set_payload(incident(title, padding))
                .to_request()
        };
        let mut acked: Vec<String> = Vec::new();
        let resp = test::call_service(&app, post("disk 0", 10)).await;
        assert_eq!(resp.status().as_u16(), 201);
        acked.push("disk 0".into());

        // Full disk: writes fail with 503 and are not acknowledged; reads work.
        let filler = fill(&mount);
        let mut refused = 0;
        for i in 1..=40 {
            let title = format!("disk {i}");
            let resp = test::call_service(&app, post(&title, 20_000)).await;
            match resp.status().as_u16() {
                201 => acked.push(title),
                503 => {
                    refused += 1;
                    let ct = resp
                        .headers()
                        .get("content-type")
                        .unwrap()
                        .to_str()
                        .unwrap()
                        .to_owned();
                    let body: Value = serde_json::from_slice(&test::read_body(resp).await).unwrap();
                    assert_eq!(ct, "application/problem+json");
                    assert_eq!(body["status"], 503);
                    assert!(
                        body["detail"].as_str().unwrap().contains("not applied"),
                        "{body}"
                    );
                }
                other => panic!("unexpected status {other}"),
            }
        }
        assert!(refused > 0, "the full disk refused no write");
        assert_eq!(
            test_titles(&state),
            acked,
            "only acknowledged writes are visible"
        );
        let read = test::call_service(
            &app,
            TestRequest::get()
                .uri("/collections/incidents/items?limit=5")
                .to_request(),
        )
        .await;
        assert_eq!(read.status().as_u16(), 200, "reads are unaffected");

        // Space returns: writes work again, without a restart.
        std::fs::remove_file(filler).unwrap();
        let resp = test::call_service(&app, post("disk after", 20_000)).await;
        assert_eq!(
            resp.status().as_u16(),
            201,
            "writes recover once space returns"
        );
        acked.push("disk after".into());

        (acked, refused)
    };
    // A restart shows exactly the acknowledged writes.
    drop(state);
    let state = open(&data);
    let mut titles = test_titles(&state);
    titles.sort();
    acked.sort();
    assert_eq!(titles, acked);
    eprintln!(
        "write_disk_full: {} writes acknowledged, {refused} refused while full; all acknowledged present after restart",
        acked.len()
    );
    drop(state);
    drop(tmpfs);
}
