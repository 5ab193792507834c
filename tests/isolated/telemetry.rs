//! OpenTelemetry export: a gateway with `telemetry.otlp_endpoint` set sends
//! its spans over OTLP/HTTP, in the trace of the request's `traceparent`,
//! keeping its `tracestate`; the relay's span joins the same trace and the
//! published message carries it to consumers. The collector is a minimal OTLP/HTTP receiver
//! in this test (the `isolated` binary: the tracing subscriber is process-global).

use hookgate_app::Role;
use hookgate_testkit::{http, TestEnv};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Accepts OTLP/HTTP export requests and keeps their bodies.
async fn collector() -> (u16, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = bodies.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        match conn.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    while buf.len() < end + 4 + len {
                        match conn.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    kept.lock().unwrap().push(buf[end + 4..end + 4 + len].to_vec());
                    buf.drain(..end + 4 + len);
                    let ok = b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
                    if conn.write_all(ok).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, bodies)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_exported_with_the_request_trace_id_and_tracestate() {
    let _serial = super::SERIAL.lock().await;
    let (port, bodies) = collector().await;
    let mut env = TestEnv::new().await;
    env.settings.service.telemetry.otlp_endpoint = format!("http://127.0.0.1:{port}/v1/traces");
    env.settings.service.telemetry.log_filter = "warn".into();
    let guard = hookgate_telemetry::init(&env.settings.service.telemetry).unwrap();
    let gw = env.start(Role::All).await;
    let mut sub = env.subscribe(&["#"]).await;

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let (body, _) = env.keeta_webhook(1002, 1);
    let r = http()
        .post(gw.hook_url(&env.tenant, "keeta"))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .header("tracestate", "vendor=opaque-value")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // The published message continues the trace from the relay's span.
    let message = hookgate_testkit::receive(&mut sub, 1, Duration::from_secs(20))
        .await
        .remove(0);
    let traceparent = message.headers.get("traceparent").expect("traceparent header").clone();
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts[1], trace_id, "{traceparent}");
    assert_ne!(
        parts[2], "00f067aa0ba902b7",
        "the relay's own span, not the caller's: {traceparent}"
    );
    // Every admin request has a root span of its own.
    let r = http().get(format!("{}/v1/tenants", gw.admin_url)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    gw.stop().await;
    // Flush: the batch exporter sends what it holds on shutdown.
    tokio::task::spawn_blocking(move || guard.shutdown()).await.unwrap();

    let id: Vec<u8> = (0..trace_id.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&trace_id[i..i + 2], 16).unwrap())
        .collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let exported = bodies.lock().unwrap().clone();
        if let Some(batch) = exported.iter().find(|b| contains(b, &id)) {
            let all: Vec<u8> = exported.concat();
            assert!(contains(&all, b"webhook"), "the webhook span is exported");
            assert!(contains(&all, b"relay.row"), "the relay's span is exported");
            assert!(
                contains(&all, b"admin.request"),
                "the admin request's root span is exported"
            );
            assert!(contains(&all, b"/v1/tenants"), "with its route");
            assert!(contains(batch, b"vendor=opaque-value"), "tracestate is kept");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no exported span carries trace id {trace_id} ({} export requests)",
            exported.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
