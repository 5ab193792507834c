//! Observability for hookgate: structured logs (tracing), traces
//! (OpenTelemetry, exported over OTLP/HTTP when an endpoint is configured),
//! Prometheus metrics ([`Metrics`]) and W3C `traceparent` helpers that carry a
//! trace from the HTTP request through the outbox to the published message.

mod metrics;
pub mod traffic;

pub use metrics::{Metrics, Outcome};

use hookgate_config::{LogFormat, TelemetrySettings};
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::io::IsTerminal;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Telemetry could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// Bad log filter.
    #[error("invalid telemetry.log_filter: {0}")]
    Filter(String),
    /// OTLP exporter could not be built.
    #[error("cannot build the OTLP exporter for {endpoint}: {message}")]
    Exporter {
        /// Configured endpoint.
        endpoint: String,
        /// Cause.
        message: String,
    },
    /// A global subscriber was already installed.
    #[error("a tracing subscriber is already installed")]
    AlreadyInstalled,
}

/// Keeps the tracer provider alive; call [`TelemetryGuard::shutdown`] last.
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl TelemetryGuard {
    /// Flushes pending spans and stops the exporter.
    pub fn shutdown(self) {
        if let Err(e) = self.provider.shutdown() {
            eprintln!("telemetry shutdown: {e}");
        }
    }
}

/// Installs the global tracing subscriber and the OpenTelemetry tracer.
pub fn init(settings: &TelemetrySettings) -> Result<TelemetryGuard, TelemetryError> {
    let filter = EnvFilter::try_new(&settings.log_filter).map_err(|e| TelemetryError::Filter(e.to_string()))?;
    let mut builder = SdkTracerProvider::builder().with_resource(
        opentelemetry_sdk::Resource::builder()
            .with_service_name(settings.service_name.clone())
            .build(),
    );
    if !settings.otlp_endpoint.is_empty() {
        use opentelemetry_otlp::WithExportConfig;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(settings.otlp_endpoint.clone())
            .build()
            .map_err(|e| TelemetryError::Exporter {
                endpoint: settings.otlp_endpoint.clone(),
                message: e.to_string(),
            })?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    let tracer = provider.tracer("hookgate");
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    // Colours only for a terminal: escape sequences do not belong in files.
    let ansi = std::io::stderr().is_terminal();
    // The log filter governs logs only: quieting logs to `warn` must not
    // stop the (info-level) spans of a webhook from being exported.
    let fmt = match settings.log_format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_target(true)
            .with_ansi(ansi)
            .with_filter(filter)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_filter(filter)
            .boxed(),
    };
    let traces = tracing_subscriber::filter::LevelFilter::INFO;
    tracing_subscriber::registry()
        .with(fmt)
        .with(tracing_opentelemetry::layer().with_tracer(tracer).with_filter(traces))
        .try_init()
        .map_err(|_| TelemetryError::AlreadyInstalled)?;
    Ok(TelemetryGuard { provider })
}

/// The W3C `traceparent` of the current span, if tracing is set up.
pub fn current_traceparent() -> Option<String> {
    traceparent_of(&tracing::Span::current())
}

/// The W3C `traceparent` of `span`, if tracing is set up.
pub fn traceparent_of(span: &tracing::Span) -> Option<String> {
    let context = span.context();
    let span = context.span();
    let sc = span.span_context();
    sc.is_valid()
        .then(|| format!("00-{}-{}-{:02x}", sc.trace_id(), sc.span_id(), sc.trace_flags().to_u8()))
}

/// The W3C trace context headers of a request.
struct TraceHeaders<'a> {
    traceparent: &'a str,
    tracestate: Option<&'a str>,
}

impl Extractor for TraceHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "traceparent" => Some(self.traceparent),
            "tracestate" => self.tracestate,
            _ => None,
        }
    }
    fn keys(&self) -> Vec<&str> {
        vec!["traceparent", "tracestate"]
    }
}

/// Makes `span` a child of the trace in a `traceparent` value, keeping the
/// vendor entries of `tracestate` (W3C Trace Context §3.3); ignored if invalid.
pub fn set_parent(span: &tracing::Span, traceparent: &str, tracestate: Option<&str>) {
    let cx = TraceContextPropagator::new().extract(&TraceHeaders {
        traceparent,
        tracestate,
    });
    if cx.span().span_context().is_valid() {
        let _ = span.set_parent(cx);
    }
}
