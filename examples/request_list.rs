//! Answers the requests of a request list in process, through the server's whole
//! application (router, middleware, handlers, the blocking pool), without sockets: for
//! counting the instructions a request takes (`benches/instructions.sh`), which unlike its
//! time does not move with the machine's load.
//!
//! ```text
//! cargo run --release --example request_list -- benches/data/dense/points_1000000.geojson \
//!     benches/data/dense/urls_nearest.txt [COUNT]
//! ```
//!
//! The layer is served as `--layer points=FILE` serves it, with the server's logging at its
//! default level (`info`, to stderr), and with the tile cache off unless
//! `TILE_CACHE_MIB` gives it a size (then the counted requests of a tile list are answered
//! from the cache that the first answers filled); `ACCEPT_ENCODING` sets the requests'
//! `Accept-Encoding` (none by default, as wrk sends none). The first COUNT requests of the list
//! (default 1,000) are answered once untimed (the layer's tile preparation and every first
//! use happen then), then again in [`answer_all`], the function to count (`valgrind
//! --tool=callgrind --toggle-collect=request_list::answer_all`). Each must be answered with
//! 200, and with the same bytes both times.

use std::time::{Duration, Instant};

use actix_web::dev::{Service, ServiceResponse};
use actix_web::test;
use khorasan_atlas::catalog::Catalog;
use khorasan_atlas::config::RawConfig;
use khorasan_atlas::http::{self, AppState};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The server's allocator, whose instructions are counted with the requests'.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The server's configuration for the list: a larger `limit` allowed, and the tile cache
/// of `cache_mib` MiB.
fn config(cache_mib: u64) -> String {
    format!("[server]\nmax_limit = 10000\n\n[server.tiles]\ncache_mib = {cache_mib}\n")
}

fn main() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let (Some(data), Some(list)) = (args.next(), args.next()) else {
        return Err("usage: request_list FILE.geojson PATHS.txt [COUNT]".into());
    };
    let count: usize = args.next().map_or(Ok(1_000), |n| n.parse())?;
    // The server's logging, at its default level: what it costs a request is counted too.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .init();
    let cache_mib: u64 = std::env::var("TILE_CACHE_MIB").map_or(Ok(0), |v| v.parse())?;
    let mut raw: RawConfig = toml::from_str(&config(cache_mib))?;
    raw.add_layer_arg(&format!("points={data}"))?;
    let config = raw.validate()?;
    let catalog = Catalog::load(&config.catalog())?;
    let runner = actix_web::rt::System::new();
    let app = runner.block_on(test::init_service(http::app(AppState::new(
        config, catalog,
    ))));
    let text = std::fs::read_to_string(&list)?;
    let paths: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let counted = &paths[..count.min(paths.len())];
    // Read once, outside the counted function.
    let accept = std::env::var("ACCEPT_ENCODING")
        .ok()
        .filter(|v| !v.is_empty());
    let warm = runner.block_on(answer(&app, counted, accept.as_deref()))?;
    let (bytes, took) = answer_all(&runner, &app, counted, accept.as_deref())?;
    if bytes != warm {
        return Err(format!("the second answers took {bytes} B, the first {warm} B").into());
    }
    println!(
        "all: {} requests, {:.0} us/request, {} B/request",
        counted.len(),
        took.as_secs_f64() * 1e6 / counted.len().max(1) as f64,
        bytes / counted.len().max(1)
    );
    Ok(())
}

/// [`answer`], timed: the function whose instructions are counted.
#[inline(never)]
fn answer_all<S, B>(
    runner: &actix_web::rt::SystemRunner,
    app: &S,
    paths: &[&str],
    accept: Option<&str>,
) -> Res<(usize, Duration)>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let started = Instant::now();
    let bytes = runner.block_on(answer(app, paths, accept))?;
    Ok((bytes, started.elapsed()))
}

/// Answers every path of `paths`, reading each body; the bytes of the bodies. Requests ask
/// for the identity encoding, as wrk does, unless `accept` gives an `Accept-Encoding`.
async fn answer<S, B>(app: &S, paths: &[&str], accept: Option<&str>) -> Res<usize>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let mut bytes = 0;
    for path in paths {
        let mut req = test::TestRequest::get().uri(path);
        if let Some(accept) = accept {
            req = req.insert_header(("Accept-Encoding", accept));
        }
        let req = req.to_request();
        let resp = test::call_service(app, req).await;
        let status = resp.status();
        let body = test::read_body(resp).await;
        if !status.is_success() {
            return Err(format!("{path}: {status}: {}", String::from_utf8_lossy(&body)).into());
        }
        bytes += body.len();
    }
    Ok(bytes)
}
