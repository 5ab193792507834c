//! `POST /hooks/{tenant}/{source}`: the life of one webhook up to its ack
//! (DESIGN.md §1, steps 1-7).

use crate::kinds::{self, Reason, Refusal, RequestFacts};
use crate::reason::UNKNOWN;
use crate::rejections::Keep;
use crate::IngressState;
use actix_web::http::header::{HeaderMap, CONTENT_LENGTH};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::{Bytes, BytesMut};
use chrono::Utc;
use futures_util::StreamExt;
use hookgate_config::{Source, Tenant, Tenants, Verification};
use hookgate_core::{Header, RawNotification};
use hookgate_providers::{Admitted, Delivery, Inspected, RefusalReason};
use hookgate_store::{InsertOutcome, Rejection};
use hookgate_telemetry::Outcome;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// Header values never stored or logged as received (besides every header a
/// source names as its token, see [`IngressState`]).
pub(crate) const REDACTED_HEADERS: &[&str] = &["authorization", "proxy-authorization", "cookie", "x-api-key"];
/// How long recording a rejection may delay the answer.
const REJECTION_WRITE_TIMEOUT: Duration = Duration::from_secs(1);
/// Retry-After sent with 503.
const RETRY_AFTER_SECS: &str = "5";

pub(crate) async fn receive(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    state: web::Data<IngressState>,
) -> HttpResponse {
    let (tenant_seg, source_seg) = path.into_inner();
    receive_at(req, tenant_seg, source_seg, payload, state).await
}

/// A webhook for `tenant_seg`/`source_seg`, reached by its URL or by one of
/// the source's fixed paths on its tenant's host names.
async fn receive_at(
    req: HttpRequest,
    tenant_seg: String,
    source_seg: String,
    payload: web::Payload,
    state: web::Data<IngressState>,
) -> HttpResponse {
    // Path segments are percent-decoded client text: escaped, so that a
    // `%0a` cannot write a forged line into text logs.
    let span = tracing::info_span!("webhook", tenant.id = %tenant_seg.escape_debug(), source.id = %source_seg.escape_debug(), notification.id = tracing::field::Empty, http.status = tracing::field::Empty);
    if let Some(tp) = req.headers().get("traceparent").and_then(|v| v.to_str().ok()) {
        let state = req.headers().get("tracestate").and_then(|v| v.to_str().ok());
        hookgate_telemetry::set_parent(&span, tp, state);
    }
    let response = receive_inner(&req, &tenant_seg, &source_seg, payload, &state)
        .instrument(span.clone())
        .await;
    span.record("http.status", response.status().as_u16());
    response
}

async fn receive_inner(
    req: &HttpRequest,
    tenant_seg: &str,
    source_seg: &str,
    payload: web::Payload,
    state: &IngressState,
) -> HttpResponse {
    let received_at = Utc::now();
    // One snapshot of the tenants for the whole request: a reload meanwhile
    // does not change what this request is checked against.
    let tenants = state.tenants.load();
    let headers = capture_headers(req.headers(), &tenants);
    let remote_addr = req.peer_addr().map(|a| a.to_string());
    let request_url = request_url(req, &state.trusted_proxies);
    let request = RequestCtx {
        state,
        headers: &headers,
        remote_addr: remote_addr.as_deref(),
        request_url: &request_url,
        declared_size: content_length(req).unwrap_or(0),
    };

    // 0. Load shedding: beyond the in-flight budget, while the commits in
    // flight are at their cap (the database is behind), or while this worker
    // runs late (CPU saturation), answer at once instead of queueing work the
    // client will have given up on. Not recorded in
    // `rejections` (writing rows is what an overload cannot afford); counted.
    let lagging = !state.limits.max_worker_lag.is_zero() && crate::lag::current() > state.limits.max_worker_lag;
    let behind = state.limits.commits.available_permits() == 0;
    let in_flight = (!lagging && !behind)
        .then(|| state.limits.in_flight.clone().try_acquire_owned().ok())
        .flatten();
    // A peer's share of the requests in flight: one client's stalled
    // connections cannot take every slot.
    let peer = req.peer_addr().map(|a| a.ip());
    let in_flight = in_flight.and_then(|permit| match state.limits.body_budget.request(peer) {
        Ok(hold) => Some((permit, hold)),
        Err(spent) => {
            state.metrics.budget_refused(spent.as_str());
            None
        }
    });
    let Some(_in_flight) = in_flight else {
        let tenant = tenants.get(tenant_seg);
        let source = tenant.and_then(|t| t.source(source_seg));
        state.metrics.rejected(
            tenant.map_or(UNKNOWN, |t| t.id.as_str()),
            source.map_or(UNKNOWN, |s| s.id.as_str()),
            Reason::Overloaded.as_str(),
        );
        return unavailable(source, "overloaded, retry later");
    };

    // 1. Resolve tenant and source from the path.
    let Some(tenant) = tenants.get(tenant_seg) else {
        state.metrics.received(UNKNOWN, UNKNOWN);
        let refusal = Refusal::new(Reason::UnknownTenant, "unknown tenant or source");
        return request.reject_unread(None, None, refusal).await;
    };
    let Some(source) = tenant.source(source_seg) else {
        state.metrics.received(tenant.id.as_str(), UNKNOWN);
        let refusal = Refusal::new(Reason::UnknownSource, "unknown tenant or source");
        return request.reject_unread(Some(tenant.as_ref()), None, refusal).await;
    };
    state.metrics.received(tenant.id.as_str(), source.id.as_str());
    let facts = RequestFacts {
        request_url: &request_url,
        headers: req.headers(),
        peer: req.peer_addr().map(|a| a.ip()),
        now_secs: received_at.timestamp(),
    };

    // 2. What can be checked without the body is checked before reading it:
    // network access controls, then the body limit. The body is read within
    // a deadline and a process-wide budget of body bytes held in memory.
    if let Err(refusal) = kinds::admit(source, &facts) {
        return request
            .reject_unread(Some(tenant.as_ref()), Some(source), refusal)
            .await;
    }
    // Held until the request is answered; given back on every path.
    let mut hold = (state.limits.body_budget).body(peer, tenant.id.as_str(), source.id.as_str());
    let read = tokio::time::timeout(
        state.limits.body_read_timeout,
        read_body(req, payload, source.body_limit_bytes, &mut hold),
    )
    .await
    .unwrap_or(Err(BodyError::Timeout));
    let body = match read {
        Ok(body) => body,
        Err(BodyError::Overloaded(spent)) => {
            state.metrics.budget_refused(spent.as_str());
            state
                .metrics
                .rejected(tenant.id.as_str(), source.id.as_str(), Reason::Overloaded.as_str());
            tracing::warn!(budget = spent.as_str(), "body budget spent; answering 503");
            return unavailable(Some(source), "overloaded, retry later");
        }
        Err(BodyError::Timeout) => {
            let detail = format!(
                "body not received within {} ms",
                state.limits.body_read_timeout.as_millis()
            );
            let refusal = Refusal::new(Reason::BodyTimeout, detail);
            return request
                .reject_unread(Some(tenant.as_ref()), Some(source), refusal)
                .await;
        }
        Err(BodyError::TooLarge { read, size }) => {
            let detail = format!("body exceeds {} bytes", source.body_limit_bytes);
            let refusal = Refusal::new(Reason::BodyTooLarge, detail);
            return request
                .reject(Some(tenant.as_ref()), Some(source), refusal, read, size)
                .await;
        }
        Err(BodyError::Read(e)) => {
            let refusal = Refusal::new(Reason::BodyReadError, e);
            return request
                .reject(Some(tenant.as_ref()), Some(source), refusal, Bytes::new(), 0)
                .await;
        }
    };
    let size = body.len() as i64;

    // 3-5. The provider inspects the body once: heartbeat or not, the
    // signature, the delivery and ordering keys.
    let inspected = match inspect(state, tenant.id.as_str(), source, &facts, &body).await {
        Ok(i) => i,
        Err(refusal) => {
            return request
                .reject(Some(tenant.as_ref()), Some(source), refusal, body, size)
                .await
        }
    };
    let admitted = match inspected {
        // Heartbeat: answered, nothing stored.
        Inspected::Heartbeat => {
            state.metrics.heartbeat(tenant.id.as_str(), source.id.as_str());
            return kinds::success(source);
        }
        Inspected::Authenticated(delivery) => Admitted::Authenticated(delivery),
        Inspected::Unverified { delivery, failure } => {
            if source.verification != Verification::Observe {
                return request
                    .reject(Some(tenant.as_ref()), Some(source), failure.into(), body, size)
                    .await;
            }
            state.metrics.unverified(tenant.id.as_str(), source.id.as_str());
            tracing::warn!(reason = %failure.detail, "accepted without a matching signature (observe mode)");
            Admitted::Observed(delivery)
        }
    };

    // 6. One transaction: notification + outbox row. Events of one subject
    // are published in commit order: the ordering key is stored with it.
    let to_notification = |d: Delivery| RawNotification {
        tenant: tenant.id.clone(),
        source: source.id.clone(),
        kind: source.kind,
        delivery_key: d.delivery_key,
        body: body.clone(),
        headers: headers.clone(),
        remote_addr: remote_addr.clone(),
        received_at,
        traceparent: hookgate_telemetry::current_traceparent(),
        ordering_key: d.ordering_key,
        utc_offset_minutes: source.settings.options().utc_offset_minutes,
    };
    // The recipe this delivery proves, the first time this process sees it.
    let proves = match &admitted {
        Admitted::Authenticated(a) => (a.check().recipe())
            .filter(|r| !state.proofs.recorded(tenant.id.as_str(), source.id.as_str(), r))
            .map(str::to_owned),
        Admitted::Observed(_) => None,
    };
    let notification = match admitted {
        Admitted::Authenticated(a) => Admitted::Authenticated(a.map(to_notification)),
        Admitted::Observed(u) => Admitted::Observed(u.map(to_notification)),
    };
    // The cap on commits in flight, taken for real (the check before the
    // body was only a glance): held until the commit answers.
    let Ok(_commit) = state.limits.commits.clone().try_acquire_owned() else {
        state
            .metrics
            .rejected(tenant.id.as_str(), source.id.as_str(), Reason::Overloaded.as_str());
        return unavailable(Some(source), "overloaded, retry later");
    };
    // While the spool holds entries, new requests join it: they reach
    // PostgreSQL in the order they arrived.
    if let Some(spool) = state.spool.as_ref().filter(|s| s.holds_entries()) {
        return spooled(state, spool, source, &notification).await;
    }
    let started = Instant::now();
    match state.writer.insert_keeping(notification).await {
        // 7. Only now: the provider's success body (duplicates too).
        Ok(outcome) => {
            state.metrics.commit_latency(started.elapsed().as_secs_f64());
            let (id, outcome) = match outcome {
                InsertOutcome::Inserted { id } => (id, Outcome::New),
                InsertOutcome::Duplicate { id, delivery_count } => {
                    tracing::info!(delivery_count, "redelivery of a stored notification");
                    (id, Outcome::Duplicate)
                }
            };
            tracing::Span::current().record("notification.id", id);
            if let Some(recipe) = proves {
                let proofs = &state.proofs;
                (proofs.verified(&state.store, tenant.id.as_str(), source.id.as_str(), &recipe, id)).await;
            }
            state.metrics.accepted(tenant.id.as_str(), source.id.as_str(), outcome);
            kinds::success(source)
        }
        // PostgreSQL is away: the spool keeps it, when there is one.
        Err((e, Some(notification))) if e.is_unavailable() && state.spool.is_some() => {
            tracing::warn!(error = %hookgate_core::Chain(&e), "could not store notification; spooling it");
            match state.spool.as_ref() {
                Some(spool) => spooled(state, spool, source, &notification).await,
                None => unavailable(Some(source), "storage unavailable, retry later"),
            }
        }
        Err((e, _)) if e.is_unavailable() => {
            tracing::error!(error = %hookgate_core::Chain(&e), "could not store notification; answering 503");
            state.metrics.rejected(
                tenant.id.as_str(),
                source.id.as_str(),
                Reason::StorageUnavailable.as_str(),
            );
            unavailable(Some(source), "storage unavailable, retry later")
        }
        // Refused for this request's own content (its neighbours committed
        // without it): a 500 the provider may retry, recorded with the body.
        Err((e, _)) => {
            tracing::error!(error = %hookgate_core::Chain(&e), "the database refused this notification");
            let refusal = Refusal::new(Reason::StorageRefused, "the notification could not be stored");
            request
                .reject(Some(tenant.as_ref()), Some(source), refusal, body, size)
                .await
        }
    }
}

/// Appends a verified notification to the spool: the provider's success
/// once it is on disk; 503 when the spool is full or cannot be written.
async fn spooled(
    state: &IngressState,
    spool: &crate::spool::Spool,
    source: &Source,
    notification: &Admitted<RawNotification>,
) -> HttpResponse {
    let (tenant, source_id) = (notification.value().tenant.as_str(), source.id.as_str());
    match spool.append(notification).await {
        Ok(()) => {
            state.metrics.spooled(tenant, source_id);
            kinds::success(source)
        }
        Err(e) => {
            if matches!(e, crate::spool::SpoolError::Full(_)) {
                state.metrics.spool_full();
            }
            tracing::error!(error = %e, "could not spool the notification; answering 503");
            state
                .metrics
                .rejected(tenant, source_id, Reason::StorageUnavailable.as_str());
            unavailable(Some(source), "storage unavailable, retry later")
        }
    }
}

/// 503 with `Retry-After`, shaped for the provider when known.
fn unavailable(source: Option<&Source>, message: &str) -> HttpResponse {
    let mut response = kinds::failure(source, StatusCode::SERVICE_UNAVAILABLE, message);
    if let Ok(v) = RETRY_AFTER_SECS.parse() {
        response.headers_mut().insert(actix_web::http::header::RETRY_AFTER, v);
    }
    response
}

/// Any method but POST on a webhook URL: 405 with `Allow: POST`, counted and
/// recorded like every refusal.
pub(crate) async fn method_not_allowed(req: HttpRequest, state: web::Data<IngressState>) -> HttpResponse {
    let tenant = req.match_info().get("tenant").unwrap_or_default();
    let source = req.match_info().get("source").unwrap_or_default();
    let detail = format!("{} is not allowed; webhooks are POSTed", req.method());
    let refusal = Refusal::new(Reason::MethodNotAllowed, detail);
    let mut response = refuse_outside_route(&req, &state, tenant, source, refusal).await;
    response.headers_mut().insert(
        actix_web::http::header::ALLOW,
        actix_web::http::header::HeaderValue::from_static("POST"),
    );
    response
}

/// A path no route serves: 404, counted and recorded like every refusal.
pub(crate) async fn unmatched(req: HttpRequest, payload: web::Payload, state: web::Data<IngressState>) -> HttpResponse {
    // A source's fixed path on one of its tenant's host names.
    // The `Host` header (HTTP/2: the authority), not a forwarding header.
    let host = (req.headers().get(actix_web::http::header::HOST))
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or_default()
        .to_owned();
    let alias = (state.tenants.load())
        .by_alias(&host, req.path())
        .map(|(t, s)| (t.id.to_string(), s.id.to_string()));
    if let Some((tenant, source)) = alias {
        if req.method() == actix_web::http::Method::POST {
            return receive_at(req, tenant, source, payload, state).await;
        }
        let detail = format!("{} is not allowed; webhooks are POSTed", req.method());
        let refusal = Refusal::new(Reason::MethodNotAllowed, detail);
        let mut response = refuse_outside_route(&req, &state, &tenant, &source, refusal).await;
        response.headers_mut().insert(
            actix_web::http::header::ALLOW,
            actix_web::http::header::HeaderValue::from_static("POST"),
        );
        return response;
    }
    let refusal = Refusal::new(Reason::NoRoute, "no such endpoint");
    refuse_outside_route(&req, &state, "", "", refusal).await
}

/// Counts, records and answers a refusal decided before the webhook handler.
async fn refuse_outside_route(
    req: &HttpRequest,
    state: &IngressState,
    tenant_seg: &str,
    source_seg: &str,
    refusal: Refusal,
) -> HttpResponse {
    tracing::warn!(method = %req.method(), path = ?req.path(), "request outside the webhook routes");
    let tenants = state.tenants.load();
    let headers = capture_headers(req.headers(), &tenants);
    let remote_addr = req.peer_addr().map(|a| a.to_string());
    let request_url = request_url(req, &state.trusted_proxies);
    let ctx = RequestCtx {
        state,
        headers: &headers,
        remote_addr: remote_addr.as_deref(),
        request_url: &request_url,
        declared_size: content_length(req).unwrap_or(0),
    };
    let tenant = tenants.get(tenant_seg);
    let source = tenant.and_then(|t| t.source(source_seg));
    ctx.reject_unread(tenant.map(|t| t.as_ref()), source, refusal).await
}

/// Inspects with the source's configured credentials plus, for kinds whose
/// provider hands out keys at registration, the registered keys; when those
/// miss, reloads them (sharing a reload already under way) and tries again.
async fn inspect(
    state: &IngressState,
    tenant: &str,
    source: &Source,
    facts: &RequestFacts<'_>,
    body: &[u8],
) -> Result<Inspected, Refusal> {
    if !source.settings.uses_registered_keys() {
        return kinds::inspect(tenant, source, facts, body, &[]);
    }
    state.keys.ensure_fresh(&state.store).await;
    let registered = state.keys.keys(tenant, source.id.as_str());
    let result = kinds::inspect(tenant, source, facts, body, &registered);
    let missed = match &result {
        Ok(Inspected::Unverified { failure, .. }) => failure.reason == RefusalReason::BadSignature,
        _ => false,
    };
    if missed && state.keys.reload_after_miss(&state.store).await {
        let registered = state.keys.keys(tenant, source.id.as_str());
        return kinds::inspect(tenant, source, facts, body, &registered);
    }
    result
}

/// What every refusal of one request records.
struct RequestCtx<'a> {
    state: &'a IngressState,
    headers: &'a [Header],
    remote_addr: Option<&'a str>,
    /// The URL it was sent to (some signatures cover it: re-admission needs it).
    request_url: &'a str,
    /// The request's Content-Length (0 when absent).
    declared_size: i64,
}

impl RequestCtx<'_> {
    /// [`RequestCtx::reject`] before the body was read: the row records the
    /// declared size and no body.
    async fn reject_unread(&self, tenant: Option<&Tenant>, source: Option<&Source>, refusal: Refusal) -> HttpResponse {
        self.reject(tenant, source, refusal, Bytes::new(), self.declared_size)
            .await
    }

    /// Counts, records (best effort, bounded in time) and answers a refusal.
    async fn reject(
        &self,
        tenant: Option<&Tenant>,
        source: Option<&Source>,
        mut refusal: Refusal,
        body: Bytes,
        size: i64,
    ) -> HttpResponse {
        let tenant_id = tenant.map(|t| t.id.as_str());
        let source_id = source.map(|s| s.id.as_str());
        // A source none of whose deliveries has verified yet is onboarding:
        // what it refuses is kept whole, and a signature its candidate
        // recipes do not reproduce says so.
        let onboarding = match (tenant_id, source) {
            (Some(t), Some(s)) => self.state.proofs.onboarding(&self.state.store, t, s.id.as_str()).await,
            _ => false,
        };
        if onboarding {
            let (t, s) = (tenant_id.unwrap_or(UNKNOWN), source_id.unwrap_or(UNKNOWN));
            self.state.metrics.refused_onboarding(t, s);
            let candidates = source.and_then(|s| s.settings.candidate_recipes());
            if let (Reason::BadSignature, Some(candidates)) = (refusal.reason, candidates) {
                refusal.reason = Reason::NoRecipeMatchedYet;
                refusal.detail = format!(
                    "no candidate recipe matched yet ({}): {}",
                    candidates.join(", "),
                    refusal.detail
                );
            }
        }
        self.state.metrics.rejected(
            tenant_id.unwrap_or(UNKNOWN),
            source_id.unwrap_or(UNKNOWN),
            refusal.reason.as_str(),
        );
        tracing::warn!(reason = refusal.reason.as_str(), detail = ?refusal.detail, status = refusal.status().as_u16(), "webhook refused");
        // What the row may cost is bounded (see `rejections.rs`).
        let kept = match (self.state.rejections).keep(tenant_id, source_id, refusal.reason, body.len(), onboarding) {
            Keep::Nothing => None,
            Keep::Prefix(n) => Some(body.slice(..n.min(body.len()))),
            Keep::Whole => Some(body),
        };
        let Some(body) = kept else {
            self.state.metrics.rejection_unrecorded(
                tenant_id.unwrap_or(UNKNOWN),
                source_id.unwrap_or(UNKNOWN),
                refusal.reason.as_str(),
            );
            return self.answer(source, &refusal);
        };
        if !body.is_empty() {
            (self.state.metrics).rejection_body_stored(
                tenant_id.unwrap_or(UNKNOWN),
                source_id.unwrap_or(UNKNOWN),
                body.len() as u64,
            );
        }
        // Query parameters that carry credentials are not stored (the
        // signature check used the URL as received).
        let stored_url = self.state.tenants.load().redact_url(self.request_url);
        let rejection = Rejection {
            tenant: tenant.map(|t| &t.id),
            source: source.map(|s| &s.id),
            reason: refusal.reason.as_str(),
            detail: &refusal.detail,
            http_status: refusal.status().as_u16(),
            remote_addr: self.remote_addr,
            headers: self.headers,
            body: &body,
            body_size: size,
            request_url: Some(&stored_url),
        };
        match tokio::time::timeout(REJECTION_WRITE_TIMEOUT, self.state.store.record_rejection(&rejection)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %hookgate_core::Chain(&e), "could not record rejection"),
            Err(_) => tracing::warn!("recording the rejection timed out"),
        }
        self.answer(source, &refusal)
    }

    /// The answer of a refusal, shaped for the source's provider.
    fn answer(&self, source: Option<&Source>, refusal: &Refusal) -> HttpResponse {
        let mut response = kinds::failure(source, refusal.status(), &refusal.detail);
        // A 503 says "later": say when (the provider retries in any case).
        if refusal.status() == StatusCode::SERVICE_UNAVAILABLE {
            if let Ok(v) = RETRY_AFTER_SECS.parse() {
                response.headers_mut().insert(actix_web::http::header::RETRY_AFTER, v);
            }
        }
        response
    }
}

enum BodyError {
    TooLarge {
        read: Bytes,
        size: i64,
    },
    Read(String),
    /// A budget of body bytes in memory (the peer's, the source's, the
    /// process's) is spent.
    Overloaded(crate::budget::Spent),
    /// The body did not arrive within the deadline.
    Timeout,
}

fn content_length(req: &HttpRequest) -> Option<i64> {
    req.headers().get(CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// Reads the body, refusing it as soon as it exceeds `limit`. Every byte is
/// taken from `hold` (the peer's, the source's and the process's budgets of
/// body bytes in memory) as it arrives: a declared length reserves nothing,
/// so a connection that announces a large body and sends none holds nothing
/// of its neighbours' room.
async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
    hold: &mut crate::budget::BodyHold<'_>,
) -> Result<Bytes, BodyError> {
    let declared = content_length(req);
    if let Some(len) = declared {
        if len > limit as i64 {
            return Err(BodyError::TooLarge {
                read: Bytes::new(),
                size: len,
            });
        }
    }
    // The buffer grows with what arrives (a small first allocation whatever
    // the client declared).
    let mut buf = BytesMut::with_capacity(declared.map_or(1024, |l| l.clamp(0, 16 * 1024) as usize));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| BodyError::Read(e.to_string()))?;
        if buf.len() + chunk.len() > limit {
            let size = (buf.len() + chunk.len()) as i64;
            buf.extend_from_slice(&chunk);
            return Err(BodyError::TooLarge {
                read: buf.freeze(),
                size,
            });
        }
        hold.grow(chunk.len()).map_err(BodyError::Overloaded)?;
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// The headers to store: values of credential headers (the usual ones and
/// every header a source names in `access.token`) are replaced.
fn capture_headers(map: &HeaderMap, tenants: &Tenants) -> Vec<Header> {
    map.iter()
        .map(|(name, value)| {
            let name = name.as_str().to_owned();
            let value = if REDACTED_HEADERS.contains(&name.as_str()) || tenants.token_headers().contains(&name) {
                "<redacted>".to_owned()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            Header { name, value }
        })
        .collect()
}

/// The URL the provider called: the scheme of this listener, or the one a
/// trusted proxy (`http.trusted_proxies`) says in `X-Forwarded-Proto` or
/// `Forwarded: proto=` (from any other peer those are ignored: a client
/// does not choose the URL its signature is checked over or that is stored
/// with its rejection); the `Host` the client sent; path and query.
fn request_url(req: &HttpRequest, trusted: &[hookgate_core::Cidr]) -> String {
    let own = if req.app_config().secure() { "https" } else { "http" };
    let from_proxy = req
        .peer_addr()
        .is_some_and(|peer| trusted.iter().any(|c| c.contains(peer.ip())));
    let forwarded = || {
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        let proto = header("forwarded")
            .and_then(|f| {
                f.split([';', ',']).find_map(|pair| {
                    let (k, v) = pair.split_once('=')?;
                    k.trim()
                        .eq_ignore_ascii_case("proto")
                        .then(|| v.trim().trim_matches('"'))
                })
            })
            .or_else(|| header("x-forwarded-proto").and_then(|v| v.split(',').next()))?
            .trim()
            .to_ascii_lowercase();
        matches!(proto.as_str(), "http" | "https").then_some(proto)
    };
    let scheme = from_proxy.then(forwarded).flatten().unwrap_or_else(|| own.to_owned());
    let host = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_else(|| req.app_config().host().to_owned());
    format!(
        "{scheme}://{host}{}",
        req.uri().path_and_query().map_or("", |p| p.as_str())
    )
}
