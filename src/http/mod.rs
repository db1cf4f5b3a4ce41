//! The HTTP layer: the only module that knows actix.
//!
//! Owns: the routes ([`ROUTES`], [`configure`]), the middleware stack ([`app`]: a span
//! per request for the logs, security headers ([`security`]), request size bounds ([`limits`]), compression ([`compress`]),
//! CORS for reads), running the server with the timeouts and connection caps of
//! `server.limits` ([`serve`]), the routes that take
//! only `f` ([`params`]), problem+json, entity tags and caching headers ([`respond`]), the
//! OpenAPI document ([`openapi`]) and the map page ([`web_page`]). Feature handlers build a
//! request with [`crate::query::request`] (which checks every parameter), run it, and
//! serialize the answer.

pub mod blocking;
pub mod compress;
pub mod csv;
pub mod deflate;
pub mod events;
pub mod features;
pub mod format;
pub mod html;
pub mod limits;
pub mod link_header;
pub mod metrics;
pub mod openapi;
pub mod params;
pub mod respond;
pub mod security;
pub mod state;
pub mod tiles;
pub mod web_page;
pub mod write;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpRequest, HttpResponse, web};

pub use state::AppState;

use crate::catalog::Catalog;
use crate::config::Config;
use crate::error::{Error, Result};

/// Every route of the JSON API (OpenAPI path syntax); `/api` must document each one.
pub const ROUTES: &[&str] = &[
    "/",
    "/conformance",
    "/api",
    "/collections",
    "/collections/{collectionId}",
    "/collections/{collectionId}/queryables",
    "/collections/{collectionId}/items",
    "/collections/{collectionId}/items/{featureId}",
    "/collections/{collectionId}/radius",
    "/collections/{collectionId}/nearest",
    "/collections/{collectionId}/events",
    "/health",
    "/metrics",
    "/map",
];

/// Largest request body accepted anywhere, in bytes.
pub const MAX_BODY_BYTES: usize = 1 << 20;

async fn api(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse> {
    let params = params::format_only(req.query_string())?;
    format::choose(&req, params.get("f"), format::JSON_ONLY)?;
    let writable: Vec<&str> = state
        .catalog
        .layers
        .iter()
        .map(|l| l.id.as_str())
        .filter(|id| state.writes.accepts(id))
        .collect();
    let doc = openapi::document(&state.config, &state.catalog, &writable);
    respond::json(&req, &doc, respond::OPENAPI, state.config.cache_max_age)
}

async fn map_page(state: web::Data<AppState>) -> Result<HttpResponse> {
    web_page::index(&state).await
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse> {
    Err(Error::NotFound {
        kind: "resource",
        id: req.path().to_owned(),
    })
}

/// A route for reading: `GET`, and `HEAD` with the same headers and no body (actix-http drops
/// the body of a response to `HEAD`), so that clients probing a resource first (GDAL's
/// `/vsicurl/`, `curl -I`, link checkers) are answered.
pub(crate) fn read() -> actix_web::Route {
    web::route().guard(actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head()))
}

/// The answer to a method a read-only route does not have: 405 with `Allow`.
async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    let e = Error::MethodNotAllowed(format!("{} {}", req.method(), req.path()));
    let mut resp = actix_web::ResponseError::error_response(&e);
    resp.headers_mut().insert(
        actix_web::http::header::ALLOW,
        actix_web::http::header::HeaderValue::from_static("GET, HEAD"),
    );
    resp
}

/// The prefix of the routes of one collection ([`collection_routes`]).
const COLLECTION: &str = "/collections/{id}";

/// The prefixes (OpenAPI syntax, as in [`ROUTES`]) of the scopes: the tiles and one
/// collection. Each scope answers other methods on its own paths ([`fallbacks_under`]).
const SCOPES: [&str; 2] = [tiles::SCOPE, COLLECTION_PATHS];

/// [`COLLECTION`] as the paths of [`ROUTES`] spell it.
const COLLECTION_PATHS: &str = "/collections/{collectionId}";

/// The routes under [`COLLECTION`], relative to it: the feature queries first, the tiles of
/// OGC API - Tiles, the writes and the event stream, then the answers to other methods. In
/// a scope, the path after the prefix is compared with most of them as it is, without a
/// pattern to try.
fn collection_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/items", read().to(features::items))
        .route("/radius", read().to(features::radius))
        .route("/nearest", read().to(features::nearest))
        .route("/items/{fid}", read().to(features::item))
        .route("", read().to(features::collection))
        .route("/queryables", read().to(features::queryables));
    tiles::collection_routes(cfg);
    write::routes(cfg);
    fallbacks_under(cfg, COLLECTION_PATHS);
}

/// The rest of `path` when it lies under `prefix` (the whole of a segment).
fn rest_under<'a>(prefix: &str, path: &'a str) -> Option<&'a str> {
    path.strip_prefix(prefix)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The paths of [`ROUTES`] and [`tiles::TILE_ROUTES`] that only read: the feature paths,
/// which may take writes, answer other methods in [`write::routes`].
fn read_only_paths() -> impl Iterator<Item = &'static str> {
    let writes = [
        "/collections/{collectionId}/items",
        "/collections/{collectionId}/items/{featureId}",
    ];
    ROUTES
        .iter()
        .chain(tiles::TILE_ROUTES)
        .copied()
        .filter(move |path| !writes.contains(path))
}

/// Registers, after the routes of the scope of `prefix` (one of [`SCOPES`]), one resource
/// per read-only path under it, relative to it, that takes any other method and answers
/// 405 with `Allow: GET, HEAD` (a route's guard that does not match passes the request on
/// to the next resource of the same path).
fn fallbacks_under(cfg: &mut web::ServiceConfig, prefix: &str) {
    for rest in read_only_paths().filter_map(|path| rest_under(prefix, path)) {
        cfg.service(web::resource(rest).to(method_not_allowed));
    }
}

/// [`fallbacks_under`] for the read-only paths outside every scope, after every route.
/// Paths that match no route stay 404.
fn method_fallbacks(cfg: &mut web::ServiceConfig) {
    for path in read_only_paths() {
        if SCOPES
            .iter()
            .all(|prefix| rest_under(prefix, path).is_none())
        {
            cfg.service(web::resource(path).to(method_not_allowed));
        }
    }
}

/// Registers every route on `cfg`.
pub fn configure(cfg: &mut web::ServiceConfig, state: &AppState) {
    cfg.app_data(web::Data::new(state.clone()))
        .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .app_data(web::JsonConfig::default().limit(MAX_BODY_BYTES))
        .app_data(
            web::PathConfig::default()
                .error_handler(|e, _| Error::bad_param("path", "", e.to_string()).into()),
        )
        .route("/", read().to(features::landing))
        .route("/conformance", read().to(features::conformance))
        .route("/api", read().to(api))
        .route("/health", read().to(features::health))
        .route("/metrics", read().to(metrics::metrics))
        .route("/collections", read().to(features::collections))
        // A request is matched against each route in turn: the tiles, then the routes of
        // one collection, each set behind one prefix, before the rest.
        .service(tiles::scope().configure(|cfg| fallbacks_under(cfg, tiles::SCOPE)))
        .service(web::scope(COLLECTION).configure(collection_routes))
        .route("/map", read().to(map_page));
    tiles::routes(cfg);
    method_fallbacks(cfg);
    if state.map_built {
        cfg.service(
            actix_files::Files::new("/map", &state.config.web_dir).index_file("index.html"),
        );
    }
}

/// The application with its middleware, as used by `main` and by every integration test.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let cors = Cors::default()
        .allow_any_origin()
        .allowed_methods(["GET", "HEAD", "OPTIONS"])
        .allow_any_header()
        .expose_headers([
            "ETag",
            "Location",
            "Link",
            "OGC-NumberMatched",
            "OGC-NumberReturned",
        ])
        .max_age(3600)
        // Said once by `security::headers` (as a value made once) for every response.
        .disable_vary_header();
    App::new()
        .configure(move |cfg| configure(cfg, &state))
        .default_service(web::to(not_found))
        .wrap(cors)
        .wrap(actix_web::middleware::from_fn(compress::compress))
        .wrap(actix_web::middleware::from_fn(limits::request_size))
        .wrap(actix_web::middleware::from_fn(security::headers))
        .wrap(actix_web::middleware::from_fn(metrics::record))
        .wrap(actix_web::middleware::from_fn(request_span))
}

/// Logs every answer that carries an error (a warning for 4xx, an error for 5xx) with the
/// request's method and path; with debug logging on
/// (`RUST_LOG=khorasan_atlas::http=debug`), also runs each request inside a `request` span
/// of its method and path, so that whatever a handler logs names the request it served, and
/// logs every other answer with its status and time (an access log). The span is left out
/// at the default level: made, entered at every poll and closed, it cost about 8,000
/// instructions a request, more than a `nearest` request's ten distances. The query string
/// is left out: it may hold what a client should not have put there.
async fn request_span(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody>,
) -> std::result::Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    use tracing::Instrument as _;
    let started = std::time::Instant::now();
    // Kept for the log lines: cheap copies (a standard method is inline, the path shared).
    let (method, uri) = (req.method().clone(), req.uri().clone());
    let span = tracing::debug_span!("request", method = %req.method(), path = %req.path());
    let res = next.call(req).instrument(span.clone()).await;
    let failed = match &res {
        Ok(r) => r
            .response()
            .error()
            .map(|e| (e.as_response_error(), r.status())),
        Err(e) => Some((e.as_response_error(), e.as_response_error().status_code())),
    };
    let (method, path) = (method.as_str(), uri.path());
    if let Some((error, status)) = failed {
        if status.is_client_error() {
            tracing::warn!(
                method,
                path,
                status = status.as_u16(),
                "request refused: {error:?}"
            );
        } else {
            tracing::error!(
                method,
                path,
                status = status.as_u16(),
                "request failed: {error:?}"
            );
        }
    } else if let Ok(r) = &res
        && tracing::enabled!(tracing::Level::DEBUG)
    {
        span.in_scope(|| {
            tracing::debug!(
                status = r.status().as_u16(),
                micros = started.elapsed().as_micros(),
                "request answered"
            );
        });
    }
    res
}

/// Seconds a stopping server gives open requests to finish.
const SHUTDOWN_TIMEOUT_S: u64 = 10;

/// Serves `catalog` on `config.listen` until the process is told to stop (Ctrl-C, SIGTERM):
/// opens the durable store (see [`AppState::open`]), then runs `workers` HTTP worker threads
/// (default: one per CPU) on a runtime of its own.
///
/// # Errors
/// When the store cannot be opened, the address cannot be bound or the server fails.
pub fn serve(
    config: Config,
    catalog: Catalog,
    workers: Option<usize>,
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let listen = config.listen;
    let limits = config.limits.clone();
    let watch_files = config.watch_files;
    let state = AppState::open(config, catalog)?;
    let tiler = std::sync::Arc::clone(&state.tiler);
    let snapshots: Vec<_> = state.catalog.layers.iter().map(|l| l.snapshot()).collect();
    std::thread::Builder::new()
        .name("tile-prepare".to_owned())
        .spawn(move || {
            // The pages the load and a startup merge freed, before the preparation takes
            // its own; then the preparation's scratch.
            crate::memory::give_back_freed();
            tiler.prepare_all(snapshots);
            crate::memory::give_back_freed();
        })?;
    let _watcher = if watch_files {
        Some(crate::catalog::watch::watch(
            std::sync::Arc::clone(&state.catalog),
            crate::catalog::watch::DEFAULT_DEBOUNCE,
        )?)
    } else {
        None
    };
    let _listener = if watch_files {
        crate::catalog::postgis_listen::listen(
            &state.catalog,
            crate::catalog::postgis_listen::DEFAULT_DEBOUNCE,
        )
    } else {
        None
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mut server = actix_web::HttpServer::new(move || app(state.clone()))
            .client_request_timeout(limits.request_timeout())
            .client_disconnect_timeout(limits.disconnect_timeout())
            .keep_alive(
                limits
                    .keep_alive()
                    .map_or(actix_web::http::KeepAlive::Disabled, |d| d.into()),
            )
            // A client that closes its side of the connection is gone: its request is
            // dropped, and with it the work queued for it (see `blocking`).
            .h1_allow_half_closed(false)
            .max_connections(limits.max_connections)
            .max_connection_rate(limits.max_connection_rate)
            .backlog(limits.backlog)
            .bind(listen)?
            .shutdown_timeout(SHUTDOWN_TIMEOUT_S);
        if let Some(n) = workers {
            server = server.workers(n);
        }
        tracing::info!(%listen, "serving http://{listen}/");
        server.run().await
    })?;
    Ok(())
}
