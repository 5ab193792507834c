//! Operational endpoints: liveness, readiness, metrics.

use crate::IngressState;
use actix_web::{web, HttpRequest, HttpResponse};
use std::sync::atomic::Ordering;
use std::time::Duration;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /healthz`: the process serves HTTP.
pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// `GET /readyz`: PostgreSQL and every probe (RabbitMQ, Redis) answer.
pub(crate) async fn readyz(state: web::Data<IngressState>) -> HttpResponse {
    let mut checks = serde_json::Map::new();
    let mut ready = state.accepting.load(Ordering::SeqCst);
    if !ready {
        checks.insert("shutdown".into(), "in progress".into());
    }
    let pg = match tokio::time::timeout(CHECK_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".to_owned()),
    };
    let probes = futures_util::future::join_all(state.probes.iter().map(|p| async move {
        let r = match tokio::time::timeout(CHECK_TIMEOUT, p.check()).await {
            Ok(r) => r,
            Err(_) => Err("timed out".to_owned()),
        };
        (p.name(), r)
    }))
    .await;
    for (name, result) in std::iter::once(("postgres", pg)).chain(probes) {
        ready &= result.is_ok();
        checks.insert(name.into(), result.err().unwrap_or_else(|| "ok".into()).into());
    }
    let body = serde_json::json!({ "status": if ready { "ready" } else { "not ready" }, "checks": checks });
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// `GET /metrics`: OpenMetrics when the scraper asks for it in `Accept`
/// (Prometheus does), else the Prometheus text format 0.0.4; the outbox
/// gauges are refreshed first.
pub(crate) async fn metrics(req: HttpRequest, state: web::Data<IngressState>) -> HttpResponse {
    if let Ok(Ok(s)) = tokio::time::timeout(CHECK_TIMEOUT, state.store.outbox_stats()).await {
        state.metrics.outbox(s.pending, s.parked, s.oldest_pending_secs);
    }
    let openmetrics = req
        .headers()
        .get_all(actix_web::http::header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    if openmetrics {
        HttpResponse::Ok()
            .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
            .body(state.metrics.render())
    } else {
        HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(state.metrics.render_text())
    }
}
