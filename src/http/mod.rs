//! The HTTP layer: the only module that knows actix.
//!
//! Owns: the routes ([`ROUTES`], [`configure`]), the middleware stack ([`app`]: request
//! logs, compression, CORS for reads), running the server ([`serve`]), the routes that take
//! only `f` ([`params`]), problem+json, entity tags and caching headers ([`respond`]), the
//! OpenAPI document ([`openapi`]) and the map page ([`web_page`]). Feature handlers build a
//! request with [`crate::query::request`] (which checks every parameter), run it, and
//! serialize the answer.

pub mod csv;
pub mod events;
pub mod features;
pub mod format;
pub mod html;
pub mod metrics;
pub mod openapi;
pub mod params;
pub mod respond;
pub mod state;
pub mod tiles;
pub mod web_page;
pub mod write;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::Compress;
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
    params::format_only(req.query_string())?;
    let doc = openapi::document(&state.config, &state.catalog);
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
        .route("/collections/{id}", read().to(features::collection))
        .route(
            "/collections/{id}/queryables",
            read().to(features::queryables),
        )
        .route("/collections/{id}/items", read().to(features::items))
        .route("/collections/{id}/items/{fid}", read().to(features::item))
        .route("/collections/{id}/radius", read().to(features::radius))
        .route("/collections/{id}/nearest", read().to(features::nearest))
        .route("/map", read().to(map_page));
    tiles::routes(cfg);
    write::routes(cfg);
    if state.config.web_dir.is_dir() {
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
        .max_age(3600);
    App::new()
        .configure(move |cfg| configure(cfg, &state))
        .default_service(web::to(not_found))
        .wrap(cors)
        .wrap(Compress::default())
        .wrap(actix_web::middleware::from_fn(metrics::record))
        .wrap(tracing_actix_web::TracingLogger::default())
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
    let state = AppState::open(config, catalog)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mut server = actix_web::HttpServer::new(move || app(state.clone()))
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
