//! Writes deterministic random points for benchmarks (never committed: write them under
//! `benches/data/`, which is ignored by git, or `/tmp`).
//!
//! ```text
//! cargo run --release --example gen_points -- 1000000 benches/data/points_1m.geojson
//! cargo run --release --example gen_points -- urls 20000 benches/data points
//! ```
//!
//! The first form writes N points as a GeoJSON FeatureCollection with six properties each
//! (see `benches/support/points.rs` for the distribution). The second writes request paths
//! for the load test, one a line, with query centres drawn from the same distribution as the
//! points: `urls_items.txt` (`bbox` of 0.2-2 degrees, `limit=100`), `urls_radius.txt` (50 km,
//! `limit=100`) and `urls_nearest.txt` (`limit=10`) for the collection named last.

#[allow(
    dead_code,
    reason = "shared with benches/features.rs, which uses the rest"
)]
#[path = "../benches/support/points.rs"]
mod points;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn usage() -> Box<dyn std::error::Error> {
    "usage: gen_points N OUT.geojson | gen_points urls M DIR COLLECTION".into()
}

fn write_urls(m: usize, dir: &Path, collection: &str) -> Res<()> {
    std::fs::create_dir_all(dir)?;
    let base = format!("/collections/{collection}");
    let mut items = BufWriter::new(File::create(dir.join("urls_items.txt"))?);
    for [w, s, e, n] in points::query_boxes(m, 7) {
        writeln!(
            items,
            "{base}/items?bbox={w:.4},{s:.4},{e:.4},{n:.4}&limit=100"
        )?;
    }
    items.flush()?;
    let mut radius = BufWriter::new(File::create(dir.join("urls_radius.txt"))?);
    for (lon, lat) in points::query_points(m, 8) {
        writeln!(
            radius,
            "{base}/radius?coords=POINT({lon:.4}%20{lat:.4})&within=50&within-units=km&limit=100"
        )?;
    }
    radius.flush()?;
    let mut nearest = BufWriter::new(File::create(dir.join("urls_nearest.txt"))?);
    for (lon, lat) in points::query_points(m, 9) {
        writeln!(
            nearest,
            "{base}/nearest?coords=POINT({lon:.4}%20{lat:.4})&limit=10"
        )?;
    }
    nearest.flush()?;
    Ok(())
}

fn run() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let started = Instant::now();
    match args.as_slice() {
        [cmd, m, dir, collection] if cmd == "urls" => {
            write_urls(m.parse()?, Path::new(dir), collection)?;
            eprintln!("gen_points: wrote {m} urls per endpoint to {dir}");
        }
        [n, out] => {
            let n: usize = n.parse()?;
            let out = Path::new(out);
            if let Some(parent) = out.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let mut w = BufWriter::with_capacity(1 << 20, File::create(out)?);
            points::write_collection(n, &mut w)?;
            w.flush()?;
            eprintln!(
                "gen_points: wrote {n} points to {} in {:.1} s",
                out.display(),
                started.elapsed().as_secs_f64()
            );
        }
        _ => return Err(usage()),
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_points: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
