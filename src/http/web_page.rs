//! The map page: `web/dist` (built from `web/` with npm) served at `/map`, and at `/` for
//! browsers. The directory is `server.web_dir` (default `web/dist`).

use actix_web::HttpResponse;

use super::state::AppState;
use crate::error::{Error, Result};

/// The page's `index.html`, or a 404 that says how to build it.
pub async fn index(state: &AppState) -> Result<HttpResponse> {
    let path = state.config.web_dir.join("index.html");
    match tokio::fs::read(&path).await {
        Ok(body) => Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header(("Cache-Control", "no-cache"))
            .body(body)),
        Err(_) => Err(Error::NotFound {
            kind: "map page (build it with `make web`)",
            id: path.display().to_string(),
        }),
    }
}
