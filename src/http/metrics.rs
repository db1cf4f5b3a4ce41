//! `/metrics` in the Prometheus text format: requests by status class, a latency histogram,
//! and the feature count and generation of every layer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

use super::state::AppState;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

/// Request counters, shared by all workers.
#[derive(Debug, Default)]
pub struct Metrics {
    by_class: [AtomicU64; 5],
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Metrics {
    fn record(&self, status: u16, seconds: f64) {
        let class = usize::from((status / 100).clamp(1, 5)) - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "durations are small and positive"
        )]
        self.sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }
}

/// Middleware recording every request in [`Metrics`].
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    let started = Instant::now();
    let res = next.call(req).await?;
    if let Some(m) = metrics {
        m.record(res.status().as_u16(), started.elapsed().as_secs_f64());
    }
    Ok(res)
}

/// `GET /metrics`.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    use std::fmt::Write as _;
    let m = &state.metrics;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP atlas_http_requests_total HTTP requests by status class.\n# TYPE atlas_http_requests_total counter"
    );
    for (i, c) in m.by_class.iter().enumerate() {
        let _ = writeln!(
            out,
            "atlas_http_requests_total{{class=\"{}xx\"}} {}",
            i + 1,
            c.load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(
        out,
        "# HELP atlas_http_request_duration_seconds Time to answer a request.\n# TYPE atlas_http_request_duration_seconds histogram"
    );
    for (i, bound) in BUCKETS.iter().enumerate() {
        let _ = writeln!(
            out,
            "atlas_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
            m.buckets[i].load(Ordering::Relaxed)
        );
    }
    let count = m.count.load(Ordering::Relaxed);
    #[expect(clippy::cast_precision_loss, reason = "a metric")]
    let sum = m.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
    let _ = writeln!(
        out,
        "atlas_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
    );
    let _ = writeln!(
        out,
        "atlas_http_request_duration_seconds_sum {sum}\natlas_http_request_duration_seconds_count {count}"
    );
    let _ = writeln!(
        out,
        "# HELP atlas_layer_features Features in each layer.\n# TYPE atlas_layer_features gauge"
    );
    for h in &state.catalog.layers {
        let _ = writeln!(
            out,
            "atlas_layer_features{{layer=\"{}\"}} {}",
            h.id,
            h.snapshot().features.live()
        );
    }
    let _ = writeln!(
        out,
        "# HELP atlas_layer_generation Generation of each layer's current snapshot.\n# TYPE atlas_layer_generation gauge"
    );
    for h in &state.catalog.layers {
        let _ = writeln!(
            out,
            "atlas_layer_generation{{layer=\"{}\"}} {}",
            h.id,
            h.snapshot().generation
        );
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .insert_header(("Cache-Control", "no-store"))
        .body(out)
}
