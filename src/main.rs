//! The `khorasan-atlas` command: flags and configuration, the catalog, then [`http::serve`],
//! or `bake`, which writes the tiles into a PMTiles archive ([`khorasan_atlas::bake`]).

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use khorasan_atlas::bake::{BakeOptions, bake};
use khorasan_atlas::catalog::Catalog;
use khorasan_atlas::config::{Config, RawConfig};
use khorasan_atlas::http;

/// jemalloc instead of the system allocator: under concurrent load glibc's per-thread arenas
/// kept the memory of freed response buffers, so RSS rose by a quarter above the loaded data
/// within a minute of mixed load; jemalloc gives freed pages back (see docs/performance.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The environment variable through which jemalloc reads its options.
const JEMALLOC_OPTIONS_ENV: &str = "_RJEM_MALLOC_CONF";

/// Starts jemalloc's background threads, which give freed pages back to the system on a
/// timer. Without them pages are given back only when the thread that freed them allocates
/// again: the memory a finished thread freed (a startup replaying stored writes, the tile
/// preparation) stayed resident while the server idled, over a gigabyte after replaying
/// 385,000 stored writes on a 1M-point layer against 444 MB with the threads. Left to
/// `_RJEM_MALLOC_CONF` when it is set.
fn start_allocator_threads() {
    if std::env::var_os(JEMALLOC_OPTIONS_ENV).is_some() {
        return;
    }
    if let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
        tracing::warn!(error = %e, "jemalloc's background threads cannot be started: freed memory is given back later");
    }
}

/// Has every jemalloc arena purge its unused pages now: a decay time of 0 purges them at
/// once, and each arena's own time is then written back, so that later purging keeps its
/// schedule (writing the same time again restarts the schedule without purging). jemalloc's
/// own `arena.<i>.purge` takes no value, which the safe `tikv_jemalloc_ctl` interface cannot
/// send (and the crate forbids `unsafe`); the decay times can be written safely.
fn give_back_freed_pages() {
    use tikv_jemalloc_ctl::{Access, AsName, arenas};
    let Ok(count) = arenas::narenas::read() else {
        return;
    };
    for name in [
        b"arena.0.dirty_decay_ms\0".as_slice(),
        b"arena.0.muzzy_decay_ms\0".as_slice(),
    ] {
        let Ok(mut mib) = name.name().mib::<[usize; 3]>() else {
            continue;
        };
        for arena in 0..count {
            mib[1] = arena as usize;
            // Arenas not made yet answer with an error: they hold nothing.
            if let Ok(ms) = Access::<isize>::read(&mib)
                && ms > 0
                && mib.write(0_isize).is_ok()
            {
                let _ = mib.write(ms);
            }
        }
    }
}

/// Serve the khorasan-atlas: OGC API - Features, vector tiles and geodesic queries over
/// GeoJSON layers.
#[derive(Debug, Parser)]
#[command(name = "khorasan-atlas", version, about)]
struct Cli {
    /// Address to listen on, HOST:PORT. [default: the config's server.listen, else 127.0.0.1:8080]
    #[arg(long, value_name = "HOST:PORT")]
    listen: Option<String>,
    /// TOML configuration file. [default: geodata/atlas.toml when no --layer is given]
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Serve a GeoJSON file as a layer (repeatable); replaces a config layer of the same id.
    #[arg(long = "layer", value_name = "ID=PATH")]
    layers: Vec<String>,
    /// Directory of the built map page. [default: the config's server.web_dir, else web/dist]
    #[arg(long, value_name = "DIR")]
    web_dir: Option<PathBuf>,
    /// Directory of the durable store of writes (created when writes are on).
    /// [default: the config's server.data_dir, else ./data]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Keep writes in PostgreSQL/PostGIS, shared with every server on the same database
    /// (password from KHORASAN_PG_PASSWORD). [default: the config's server.store, else
    /// SQLite in the data directory]
    #[arg(long, value_name = "postgresql://USER@HOST:PORT/DB")]
    store: Option<String>,
    /// Do not reload layers when their files change.
    #[arg(long)]
    no_watch: bool,
    /// Number of HTTP worker threads. [default: the number of CPUs]
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write the vector tiles of some layers, as the server serves them, into a PMTiles v3
    /// archive (the configuration and flags above choose the data, stored edits included).
    Bake {
        /// The archive to write.
        #[arg(long, value_name = "OUT.pmtiles")]
        pmtiles: PathBuf,
        /// Layers, comma-separated, one MVT layer each. [default: every tile layer]
        #[arg(long, value_delimiter = ',', value_name = "A,B")]
        layers: Vec<String>,
        /// Smallest zoom.
        #[arg(long, default_value_t = 0)]
        minzoom: u8,
        /// Largest zoom. [default: the largest maxzoom of the layers' tile settings]
        #[arg(long)]
        maxzoom: Option<u8>,
    },
}

impl Cli {
    /// The configuration: the config file (or none), then the flags over it.
    fn config(&self) -> Result<Config, Box<dyn std::error::Error>> {
        let config_path = self.config.clone().or_else(|| {
            self.layers
                .is_empty()
                .then(|| PathBuf::from("geodata/atlas.toml"))
        });
        let mut raw = match &config_path {
            Some(path) => RawConfig::from_file(path)?,
            None => RawConfig::default(),
        };
        for layer in &self.layers {
            raw.add_layer_arg(layer)?;
        }
        if let Some(listen) = &self.listen {
            raw.server.listen = Some(listen.clone());
        }
        if let Some(dir) = &self.web_dir {
            raw.server.web_dir = Some(dir.clone());
        }
        if self.no_watch {
            raw.server.watch_files = Some(false);
        }
        if let Some(dir) = &self.data_dir {
            raw.server.data_dir = Some(dir.clone());
        }
        if let Some(url) = &self.store {
            raw.server.store = Some(url.clone());
        }
        Ok(raw.validate()?)
    }
}

fn run(cli: &Cli) -> Result<(), Box<dyn std::error::Error>> {
    let config = cli.config()?;
    let started = std::time::Instant::now();
    let catalog = Catalog::load(&config.catalog())?;
    tracing::info!(
        layers = catalog.layers.len(),
        ms = started.elapsed().as_millis() as u64,
        "catalog ready"
    );
    if let Some(Command::Bake {
        pmtiles,
        layers,
        minzoom,
        maxzoom,
    }) = &cli.command
    {
        let state = http::AppState::open(config, catalog)?;
        let options = BakeOptions {
            out: pmtiles.clone(),
            layers: layers.clone(),
            minzoom: *minzoom,
            maxzoom: *maxzoom,
        };
        let summary = bake(&state, &options)?;
        println!("{}: {summary}", pmtiles.display());
        return Ok(());
    }
    http::serve(config, catalog, cli.workers)?;
    tracing::info!("stopped");
    Ok(())
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    start_allocator_threads();
    khorasan_atlas::memory::set_give_back(give_back_freed_pages);
    match run(&Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("khorasan-atlas: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The process's resident memory in KiB (Linux).
    fn resident_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    #[test]
    fn freed_pages_are_given_back_at_once() {
        // 64 MiB written and freed: jemalloc keeps the pages until they decay (10 s) or are
        // purged; no background thread runs in this test.
        let blocks: Vec<Vec<u8>> = (0..64u8).map(|i| vec![i | 1; 1 << 20]).collect();
        let written: u64 = blocks.iter().map(|b| u64::from(b[b.len() - 1])).sum();
        assert!(written > 0);
        drop(blocks);
        let before = resident_kib();
        give_back_freed_pages();
        let after = resident_kib();
        assert!(
            after + 32 * 1024 < before,
            "resident {before} KiB before, {after} KiB after"
        );
    }
}
