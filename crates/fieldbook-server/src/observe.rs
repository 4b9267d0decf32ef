//! Request metrics (Prometheus), and the protocol-version gate every `/v1` request passes.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use fieldbook_protocol::{PROTOCOL_HEADER, PROTOCOL_VERSION};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::error::ApiError;

/// The process-wide metrics recorder (installed once, even with several servers in one test).
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5])
            .expect("static buckets are valid")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed in a test process; ours still renders.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Counts requests and times them by route and status.
pub async fn record_metrics(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().to_string();
    let start = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("fieldbook_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("fieldbook_http_request_duration_seconds", "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    response
}

/// Refuses a request that does not speak this server's protocol version, before it can
/// change anything.
pub async fn require_protocol(request: Request, next: Next) -> Response {
    let sent = request.headers().get(PROTOCOL_HEADER).map(|v| v.to_str().unwrap_or("").trim().to_owned());
    match sent.as_deref() {
        Some(v) if v == PROTOCOL_VERSION.to_string() => next.run(request).await,
        Some(v) => {
            let newer = v.parse::<u32>().is_ok_and(|n| n > PROTOCOL_VERSION);
            let what = if newer {
                "the server is older than the app: ask your administrator to update the server"
            } else {
                "update the Fieldbook app to sync with this server"
            };
            ApiError::new(
                StatusCode::UPGRADE_REQUIRED,
                "protocol_mismatch",
                format!("this server speaks Fieldbook protocol {PROTOCOL_VERSION} and the request spoke '{v}': {what}"),
            )
            .into_response()
        }
        None => ApiError::new(
            StatusCode::BAD_REQUEST,
            "protocol_missing",
            format!(
                "send the header '{PROTOCOL_HEADER}: {PROTOCOL_VERSION}' with every request; update the Fieldbook app"
            ),
        )
        .into_response(),
    }
}
