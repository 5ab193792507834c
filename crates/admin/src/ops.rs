//! The operations layer: every read and every action of the admin plane as
//! a typed function of (state, caller, typed request) → typed answer. Both
//! front ends stand on it: the JSON API (`api/`) and the console
//! (`console/`) only translate HTTP to these calls and their answers to
//! JSON or HTML, so a scope, a tenant limit, an audit row or a check (a
//! replay queue must be the tenant's) cannot differ between them.
//!
//! The caller types come from the auth extractors: a function that changes
//! something takes an [`Operator`], one that shows payloads a
//! [`PayloadReader`] (obtained from a [`Reader`] only when its token holds
//! the scope).

use crate::api::{page_window, Page, MAX_LIMIT};
use crate::auth::{Caller, Operator, PayloadReader, Reader};
use crate::error::ApiError;
use crate::AdminState;
use base64::Engine;
use hookgate_api_types::{
    AuditEntry, NotificationDetail, Payload, Plan, ProvenRecipe, ReadmitResult, RecipeState, RejectionDetail,
    ReplayOne, ReplayRequest, RequeueAnswer, RequeueRequest, Requeued, SigningKey, SigningKeys, SourceView,
    SubscriptionView, TenantView, Timeline, TimelineEntry,
};
use hookgate_config::Verification;
use hookgate_core::TenantId;
use hookgate_ingress::readmit::{NotReadmitted, Readmitted, StoredRequest};
use hookgate_store::{
    NewReplayJob, NotificationFilter, NotificationSummary, OutboxStatus, RejectionFilter, RejectionSummary, ReplayJob,
    Window,
};
use serde::Serialize;

/// Notifications shown in a plan.
pub(crate) const SAMPLE: i64 = 10;
/// Most parked rows one requeue call moves.
const REQUEUE_MAX: i64 = 10_000;

/// Runs a mutating call as `caller` and records it in the audit log with
/// its outcome (a refusal too): the call answers its status and value. An
/// audit row that cannot be written is logged (the call already happened).
pub(crate) async fn audited<T, F, Fut>(
    state: &AdminState,
    caller: &Caller,
    action: &str,
    tenant: Option<&str>,
    target: Option<String>,
    request: serde_json::Value,
    call: F,
) -> Result<T, ApiError>
where
    T: Serialize,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(u16, T), ApiError>>,
{
    let result = call().await;
    let (status, shown) = match &result {
        Ok((status, value)) => (*status, json(value)),
        Err(e) => (e.status(), serde_json::json!({ "error": e.message() })),
    };
    if let Err(e) = (state.store)
        .record_audit(
            &caller.name,
            action,
            tenant,
            target.as_deref(),
            &request,
            status,
            &shown,
        )
        .await
    {
        tracing::error!(error = %hookgate_core::Chain(&e), action, token = %caller.name, "could not record an admin call in the audit log");
    }
    tracing::info!(action, token = %caller.name, tenant, target, status, "admin call");
    result.map(|(_, value)| value)
}

pub(crate) fn json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

/// The raw request as shown: only a caller holding `read_payload` gets one.
pub(crate) fn payload(
    _allowed: &PayloadReader,
    headers: serde_json::Value,
    body: &[u8],
    remote_addr: Option<String>,
    traceparent: Option<String>,
) -> Payload {
    Payload {
        headers,
        body_text: std::str::from_utf8(body).ok().map(str::to_owned),
        body_base64: base64::engine::general_purpose::STANDARD.encode(body),
        remote_addr,
        traceparent,
    }
}

/// A page of notifications the caller may see.
pub(crate) async fn notifications(
    state: &AdminState,
    caller: &Caller,
    filter: &NotificationFilter,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<NotificationSummary>, ApiError> {
    if let Some(t) = &filter.tenant {
        caller.tenant(t.as_str())?;
    }
    let window = page_window(caller, cursor, limit)?;
    let items = state.store.notifications(filter, &window).await?;
    Ok(Page::new(items, window.limit, |n| n.id))
}

/// One notification's summary, when the caller may see it (404 otherwise:
/// another tenant's notification is not even said to exist).
pub(crate) async fn notification_summary(
    state: &AdminState,
    caller: &Caller,
    id: i64,
) -> Result<NotificationSummary, ApiError> {
    state
        .store
        .notification_summary(id)
        .await?
        .filter(|n| caller.sees(&n.tenant))
        .ok_or_else(|| ApiError::not_found(format!("no notification {id}")))
}

/// One notification in full (its raw request only for `read_payload`).
pub(crate) async fn notification(state: &AdminState, caller: &Reader, id: i64) -> Result<NotificationDetail, ApiError> {
    let notification = notification_summary(state, caller, id).await?;
    let events = state.store.events_of(&[id]).await?;
    let payload = match caller.payload_reader() {
        Some(allowed) => (state.store.notification_payload(id).await?)
            .map(|p| payload(&allowed, p.headers, &p.body, p.remote_addr, p.traceparent)),
        None => None,
    };
    Ok(NotificationDetail {
        notification,
        events,
        payload,
    })
}

/// Every notification, event and replay of a subject, in commit order.
pub(crate) async fn timeline(
    state: &AdminState,
    caller: &Caller,
    tenant: &str,
    subject: String,
    limit: Option<i64>,
) -> Result<Timeline, ApiError> {
    caller.tenant(tenant)?;
    let limit = limit.map_or(Ok(MAX_LIMIT), |l| crate::api::limit(Some(l)))?;
    let notifications = state.store.subject_notifications(tenant, &subject, limit).await?;
    let ids: Vec<i64> = notifications.iter().map(|n| n.id).collect();
    let events = state.store.events_of(&ids).await?;
    let replays = state.store.replays_of(&ids).await?;
    let entries = notifications
        .into_iter()
        .map(|notification| TimelineEntry {
            events: events
                .iter()
                .filter(|e| e.notification_id == notification.id)
                .cloned()
                .collect(),
            replays: replays
                .iter()
                .filter(|r| r.notification_id == notification.id)
                .cloned()
                .collect(),
            notification,
        })
        .collect();
    Ok(Timeline {
        tenant: tenant.to_owned(),
        subject,
        entries,
    })
}

/// 400 unless `name` can be a queue name; 403 unless it is a queue of
/// `tenant`'s own subscriptions. A replay to one queue publishes through
/// the default exchange, which reaches ANY queue of the vhost: another
/// tenant's, or the shared unrouted queue. So only the queues the tenant's
/// configuration declares may be targeted, whoever asks.
fn check_queue(state: &AdminState, tenant: &str, name: Option<&str>) -> Result<(), ApiError> {
    let Some(q) = name else { return Ok(()) };
    if q.is_empty() || q.len() > 255 || q.contains('\0') {
        return Err(ApiError::bad_request(format!(
            "queue {q:?}: give the name of one of the tenant's subscription queues (1 to 255 bytes, no NUL)"
        )));
    }
    let tenants = state.tenants();
    let own = (tenants.get(tenant)).is_some_and(|t| t.subscriptions.iter().any(|s| s.queue == q));
    if !own {
        state.metrics.admin_refused("replay_queue");
        return Err(ApiError::forbidden(format!(
            "queue {q:?} is not a subscription queue of tenant {tenant:?}: a replay may only target the queues \
             the tenant's configuration declares ([[subscriptions]])"
        )));
    }
    Ok(())
}

/// The subscription queues of a tenant (what a replay may target).
pub(crate) fn queues_of(state: &AdminState, tenant: &str) -> Vec<String> {
    let tenants = state.tenants();
    (tenants.get(tenant))
        .map(|t| t.subscriptions.iter().map(|s| s.queue.clone()).collect())
        .unwrap_or_default()
}

async fn plan(state: &AdminState, filter: &NotificationFilter, window: &Window) -> Result<Plan, ApiError> {
    let (count, max_id) = state.store.count_notifications_matching(filter, window).await?;
    let sample_window = Window {
        limit: SAMPLE,
        ..window.clone()
    };
    let sample = state.store.notifications(filter, &sample_window).await?;
    Ok(Plan { count, max_id, sample })
}

fn rate(state: &AdminState, given: Option<i32>) -> Result<i32, ApiError> {
    match given {
        None => Ok(state.replay_rate_per_sec),
        Some(r) if (1..=100_000).contains(&r) => Ok(r),
        Some(r) => Err(ApiError::bad_request(format!(
            "rate_per_sec {r} is not within 1..=100000"
        ))),
    }
}

/// Replays one notification as a one-notification job.
pub(crate) async fn replay_notification(
    state: &AdminState,
    caller: &Operator,
    id: i64,
    body: &ReplayOne,
) -> Result<ReplayJob, ApiError> {
    let notification = notification_summary(state, caller, id).await?;
    let tenant = notification.tenant.clone();
    audited(
        state,
        caller,
        "notification.replay",
        Some(&tenant),
        Some(id.to_string()),
        json(body),
        || async {
            check_queue(state, &tenant, body.queue.as_deref())?;
            let filter = NotificationFilter {
                ids: Some(vec![id]),
                ..NotificationFilter::default()
            };
            let job = state
                .store
                .create_replay_job(&NewReplayJob {
                    tenant: &tenant,
                    filter: &filter,
                    target_queue: body.queue.as_deref(),
                    rate_per_sec: state.replay_rate_per_sec,
                    planned: 1,
                    max_id: id,
                    created_by: &caller.name,
                })
                .await?;
            Ok((202, job))
        },
    )
    .await
}

/// What a replay request answers: its plan (dry run) or its job.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum ReplayAnswer {
    /// The plan.
    Plan(Plan),
    /// The job made.
    Job(Box<ReplayJob>),
}

/// Plans (dry run) or starts a replay over a filter of one tenant.
pub(crate) async fn replay(
    state: &AdminState,
    caller: &Operator,
    body: &ReplayRequest,
) -> Result<ReplayAnswer, ApiError> {
    let action = if body.dry_run { "replay.plan" } else { "replay.create" };
    let tenant = body.filter.tenant.clone();
    audited(
        state,
        caller,
        action,
        tenant.as_ref().map(TenantId::as_str),
        None,
        json(body),
        || async {
            let tenant = tenant
                .as_ref()
                .map(TenantId::as_str)
                .ok_or_else(|| ApiError::bad_request("filter.tenant is required: a replay job is per tenant"))?;
            caller.tenant(tenant)?;
            check_queue(state, tenant, body.queue.as_deref())?;
            let rate = rate(state, body.rate_per_sec)?;
            let window = Window {
                limit: SAMPLE,
                ..Window::default()
            };
            let plan = plan(state, &body.filter, &window).await?;
            if body.dry_run {
                return Ok((200, ReplayAnswer::Plan(plan)));
            }
            let Some(max_id) = plan.max_id else {
                return Err(ApiError::unprocessable("the filter chooses no notification"));
            };
            let job = state
                .store
                .create_replay_job(&NewReplayJob {
                    tenant,
                    filter: &body.filter,
                    target_queue: body.queue.as_deref(),
                    rate_per_sec: rate,
                    planned: plan.count,
                    max_id,
                    created_by: &caller.name,
                })
                .await?;
            Ok((202, ReplayAnswer::Job(Box::new(job))))
        },
    )
    .await
}

/// Replay jobs the caller may see, newest first.
pub(crate) async fn replay_jobs(
    state: &AdminState,
    caller: &Caller,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<ReplayJob>, ApiError> {
    let window = page_window(caller, cursor, limit)?;
    let jobs = state.store.replay_jobs(&window).await?;
    Ok(Page::new(jobs, window.limit, |j| j.id))
}

/// One replay job, when the caller may see it.
pub(crate) async fn replay_job(state: &AdminState, caller: &Caller, id: i64) -> Result<ReplayJob, ApiError> {
    state
        .store
        .replay_job(id)
        .await?
        .filter(|j| caller.sees(&j.tenant))
        .ok_or_else(|| ApiError::not_found(format!("no replay job {id}")))
}

/// Cancels a job that has not finished.
pub(crate) async fn cancel_replay(state: &AdminState, caller: &Operator, id: i64) -> Result<ReplayJob, ApiError> {
    let job = replay_job(state, caller, id).await?;
    audited(
        state,
        caller,
        "replay.cancel",
        Some(&job.tenant),
        Some(id.to_string()),
        serde_json::json!({}),
        || async {
            let (cancelled, job) = state.store.cancel_replay_job(id).await?;
            let job = job.ok_or_else(|| ApiError::not_found(format!("no replay job {id}")))?;
            if !cancelled {
                return Err(ApiError::conflict(format!("job {id} already ended: {}", job.status)));
            }
            Ok((200, job))
        },
    )
    .await
}

/// Plans (dry run) or does a requeue of parked notifications.
pub(crate) async fn requeue(
    state: &AdminState,
    caller: &Operator,
    body: &RequeueRequest,
) -> Result<RequeueAnswer, ApiError> {
    let action = if body.dry_run { "parked.plan" } else { "parked.requeue" };
    let tenant = body.filter.tenant.clone();
    audited(
        state,
        caller,
        action,
        tenant.as_ref().map(TenantId::as_str),
        None,
        json(body),
        || async {
            if let Some(t) = &tenant {
                caller.tenant(t.as_str())?;
            }
            let mut filter = body.filter.clone();
            filter.status = Some(OutboxStatus::Parked);
            let window = Window {
                tenants: caller.limit(),
                limit: REQUEUE_MAX,
                ..Window::default()
            };
            if body.dry_run {
                return Ok((200, RequeueAnswer::Plan(plan(state, &filter, &window).await?)));
            }
            let ids = state.store.requeue_parked(&filter, &window).await?;
            Ok((
                200,
                RequeueAnswer::Done(Requeued {
                    requeued: ids.len(),
                    ids,
                }),
            ))
        },
    )
    .await
}

/// A page of rejections the caller may see.
pub(crate) async fn rejections(
    state: &AdminState,
    caller: &Caller,
    filter: &RejectionFilter,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<RejectionSummary>, ApiError> {
    if let Some(t) = &filter.tenant {
        caller.tenant(t)?;
    }
    let window = page_window(caller, cursor, limit)?;
    let items = state.store.rejections_matching(filter, &window).await?;
    Ok(Page::new(items, window.limit, |r| r.id))
}

async fn rejection_of(
    state: &AdminState,
    caller: &Caller,
    id: i64,
) -> Result<(RejectionSummary, serde_json::Value, Vec<u8>), ApiError> {
    state
        .store
        .rejection(id)
        .await?
        .filter(|(r, _, _)| match &r.tenant {
            Some(t) => caller.sees(t),
            None => caller.limit().is_none(),
        })
        .ok_or_else(|| ApiError::not_found(format!("no rejection {id}")))
}

/// One rejection (its stored request only for `read_payload`).
pub(crate) async fn rejection(state: &AdminState, caller: &Reader, id: i64) -> Result<RejectionDetail, ApiError> {
    let (rejection, headers, body) = rejection_of(state, caller, id).await?;
    let payload =
        (caller.payload_reader()).map(|allowed| payload(&allowed, headers, &body, rejection.remote_addr.clone(), None));
    Ok(RejectionDetail { rejection, payload })
}

/// Re-admits a rejected request under the running configuration.
pub(crate) async fn readmit(state: &AdminState, caller: &Operator, id: i64) -> Result<ReadmitResult, ApiError> {
    let (rejection, headers, body) = rejection_of(state, caller, id).await?;
    let tenant = rejection.tenant.clone();
    audited(
        state,
        caller,
        "rejection.readmit",
        tenant.as_deref(),
        Some(id.to_string()),
        serde_json::json!({}),
        || async {
            if let Some(n) = rejection.readmitted_as {
                return Err(ApiError::conflict(format!(
                    "rejection {id} was re-admitted already as notification {n}"
                )));
            }
            let (Some(tenant), Some(source)) = (rejection.tenant.as_deref(), rejection.source.as_deref()) else {
                return Err(ApiError::unprocessable(
                    "the request named no configured tenant and source",
                ));
            };
            let stored = StoredRequest {
                tenant,
                source,
                headers: &headers,
                body: &body,
                body_size: rejection.body_size,
                request_url: rejection.request_url.as_deref(),
                remote_addr: rejection.remote_addr.as_deref(),
                received_at: rejection.received_at,
            };
            let tenants = state.tenants();
            let (outcome, notification_id) =
                match hookgate_ingress::readmit::readmit(&tenants, &state.store, stored).await {
                    Ok(Readmitted::Stored { id }) => ("stored", id),
                    Ok(Readmitted::AlreadyStored { id }) => ("already_stored", id),
                    Err(NotReadmitted::Store(e)) => return Err(e.into()),
                    Err(e) => return Err(ApiError::unprocessable(e.to_string())),
                };
            state.store.mark_readmitted(id, notification_id).await?;
            Ok((
                200,
                ReadmitResult {
                    outcome: outcome.to_owned(),
                    notification_id,
                },
            ))
        },
    )
    .await
}

/// The keys that sign `tenant`'s published messages: public keys, and ids
/// of the HMAC secrets (never a secret).
pub(crate) fn signing_keys(state: &AdminState, caller: &Caller, tenant: &str) -> Result<SigningKeys, ApiError> {
    caller.tenant(tenant)?;
    let tenants = state.tenants();
    let t = tenants
        .get(tenant)
        .ok_or_else(|| ApiError::not_found(format!("no tenant {tenant:?}")))?;
    let mut keys = Vec::new();
    if let Some(signer) = &t.signing {
        keys.extend(signer.hmac_key_ids().into_iter().map(|id| SigningKey {
            id,
            scheme: "v1".into(),
            algorithm: "hmac-sha256".into(),
            public_key: None,
            public_key_pem: None,
        }));
        keys.extend(signer.ed25519_keys().iter().map(|k| SigningKey {
            id: k.id(),
            scheme: "v1a".into(),
            algorithm: "ed25519".into(),
            public_key: Some(k.public_key()),
            public_key_pem: Some(k.public_key_pem()),
        }));
    }
    Ok(SigningKeys {
        tenant: tenant.to_owned(),
        signed: t.signing.is_some(),
        keys,
    })
}

/// The tenants the caller may see, as the gateway runs them; never a secret.
pub(crate) async fn tenants(state: &AdminState, caller: &Caller) -> Result<Vec<TenantView>, ApiError> {
    let tenants = state.tenants();
    let mut views = Vec::new();
    for t in tenants.iter().filter(|t| caller.sees(t.id.as_str())) {
        let registrations = state.store.registrations(t.id.as_str()).await?;
        let proven = state.store.proven_recipes(Some(t.id.as_str())).await?;
        let sources = t
            .sources
            .values()
            .map(|s| SourceView {
                recipe: recipe_state(s.settings.as_ref(), &proven, s.id.as_str()),
                id: s.id.to_string(),
                kind: s.kind.as_str().to_owned(),
                url: s.settings.callback_url().map_or_else(
                    || format!("{}/hooks/{}/{}", state.public_base_url, t.id, s.id),
                    str::to_owned,
                ),
                paths: s.paths.clone(),
                verification: match s.verification {
                    Verification::Enforce => "enforce",
                    Verification::Observe => "observe",
                }
                .to_owned(),
                body_limit_bytes: s.body_limit_bytes,
            })
            .collect();
        views.push(TenantView {
            id: t.id.to_string(),
            exchange: t.exchange.clone(),
            vhost: t.vhost.clone(),
            hosts: t.hosts.clone(),
            sources,
            subscriptions: t
                .subscriptions
                .iter()
                .map(|s| SubscriptionView {
                    queue: s.queue.clone(),
                    bindings: s.bindings.clone(),
                })
                .collect(),
            registrations,
        });
    }
    Ok(views)
}

/// A source's recipe state from its settings and the recipes its tenant's
/// sources proved.
pub(crate) fn recipe_state(
    settings: &dyn hookgate_providers::SourceSettings,
    proven: &[hookgate_store::ProvenRecipe],
    source: &str,
) -> RecipeState {
    let proven: Vec<ProvenRecipe> = (proven.iter())
        .filter(|p| p.source == source)
        .map(|p| ProvenRecipe {
            recipe: p.recipe.clone(),
            first_verified_at: p.first_verified_at,
            notification_id: p.notification_id,
        })
        .collect();
    RecipeState {
        state: settings.recipe_state(!proven.is_empty()).to_owned(),
        candidates: (settings.candidate_recipes()).map(|c| c.into_iter().map(str::to_owned).collect()),
        proven,
    }
}

/// A page of the audit log the caller may see.
pub(crate) async fn audit(
    state: &AdminState,
    caller: &Caller,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<AuditEntry>, ApiError> {
    let window = page_window(caller, cursor, limit)?;
    let items = state.store.audit(&window).await?;
    Ok(Page::new(items, window.limit, |a| a.id))
}

/// One hour of a source's traffic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct HourCounts {
    /// New notifications stored.
    pub accepted: i64,
    /// Redeliveries of stored ones (answered, not stored again).
    pub duplicate: i64,
    /// Refused.
    pub rejected: i64,
}

/// A source's last 24 hours, from the rollup (never a count of
/// notifications).
#[derive(Debug, Clone)]
pub(crate) struct SourceTraffic {
    /// Tenant.
    pub tenant: String,
    /// Source.
    pub source: String,
    /// Kind.
    pub kind: String,
    /// The 24 hours up to now, oldest first.
    pub hours: Vec<HourCounts>,
    /// Refusals of those hours by reason, most first.
    pub causes: Vec<(String, i64)>,
    /// The last accepted request (any time).
    pub last_accepted_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The last refused request (any time).
    pub last_rejected_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Hours a source's traffic covers.
const HOURS: i64 = 24;

/// Every configured source the caller may see, with its last 24 hours,
/// and each tenant's outbox: a few hundred rows of rollup, whatever the
/// number of stored notifications.
pub(crate) async fn source_traffic(
    state: &AdminState,
    caller: &Caller,
) -> Result<(Vec<SourceTraffic>, Vec<hookgate_store::TenantOutbox>), ApiError> {
    use chrono::{DurationRound, Utc};
    let limit = caller.limit();
    let now = Utc::now();
    let this_hour = now.duration_trunc(chrono::Duration::hours(1)).unwrap_or(now);
    let first = this_hour - chrono::Duration::hours(HOURS - 1);
    let (rows, activity, outbox) = futures_util::try_join!(
        state.store.traffic_since(first, limit.as_deref()),
        state.store.source_activity(limit.as_deref()),
        state.store.outbox_by_tenant(limit.as_deref()),
    )?;
    let tenants = state.tenants();
    let mut out = Vec::new();
    for t in tenants.iter().filter(|t| caller.sees(t.id.as_str())) {
        for s in t.sources.values() {
            let (tenant, source) = (t.id.as_str(), s.id.as_str());
            let mut hours = vec![HourCounts::default(); HOURS as usize];
            let mut causes: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
            for r in rows.iter().filter(|r| r.tenant == tenant && r.source == source) {
                let Ok(i) = usize::try_from((r.hour - first).num_hours()) else {
                    continue;
                };
                let Some(h) = hours.get_mut(i) else { continue };
                match r.outcome.as_str() {
                    "accepted" => h.accepted += r.count,
                    "duplicate" => h.duplicate += r.count,
                    _ => {
                        h.rejected += r.count;
                        *causes.entry(r.reason.clone()).or_default() += r.count;
                    }
                }
            }
            let mut causes: Vec<(String, i64)> = causes.into_iter().collect();
            causes.sort_by_key(|c| std::cmp::Reverse(c.1));
            let seen = activity.iter().find(|a| a.tenant == tenant && a.source == source);
            out.push(SourceTraffic {
                tenant: tenant.to_owned(),
                source: source.to_owned(),
                kind: s.kind.as_str().to_owned(),
                hours,
                causes,
                last_accepted_at: seen.and_then(|a| a.last_accepted_at),
                last_rejected_at: seen.and_then(|a| a.last_rejected_at),
            });
        }
    }
    Ok((out, outbox))
}

/// One event as published the first time (recorded) or as it would be
/// published now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EventLine {
    /// Event type.
    pub event_type: String,
    /// Routing key.
    pub routing_key: String,
    /// Idempotency key.
    pub idempotency_key: String,
}

/// A sample notification of a replay plan: what was published the first
/// time beside what a replay would publish now.
#[derive(Debug, Clone)]
pub(crate) struct Preview {
    /// The notification.
    pub notification: NotificationSummary,
    /// Recorded when it was first published (empty: never published).
    pub first: Vec<EventLine>,
    /// Normalized now from the stored raw request with the running code and
    /// configuration: the events, each with its JSON body; or why it fails.
    pub now: Result<Vec<(EventLine, String)>, String>,
}

impl Preview {
    /// Whether a replay would publish something else than the first time.
    pub(crate) fn changed(&self) -> bool {
        match &self.now {
            Ok(now) => now.len() != self.first.len() || now.iter().zip(&self.first).any(|((n, _), f)| n != f),
            Err(_) => true,
        }
    }
}

/// The sample of a plan, each beside what it would become now.
pub(crate) async fn preview(state: &AdminState, sample: &[NotificationSummary]) -> Result<Vec<Preview>, ApiError> {
    let ids: Vec<i64> = sample.iter().map(|n| n.id).collect();
    let recorded = state.store.events_of(&ids).await?;
    let tenants = state.tenants();
    let mut out = Vec::new();
    for n in sample {
        let first = recorded
            .iter()
            .filter(|e| e.notification_id == n.id)
            .map(|e| EventLine {
                event_type: e.event_type.clone(),
                routing_key: e.routing_key.clone(),
                idempotency_key: e.idempotency_key.clone(),
            })
            .collect();
        let now = match state.store.notification_payload(n.id).await? {
            None => Err("the notification's body was erased or expired".to_owned()),
            Some(p) => match hookgate_providers::lookup(&n.kind) {
                None => Err(format!("no provider of kind {:?}", n.kind)),
                Some(provider) => {
                    let options = (tenants.get(&n.tenant))
                        .and_then(|t| t.source(&n.source))
                        .map(|s| s.settings.options())
                        .unwrap_or_default()
                        .with_stored(p.utc_offset_minutes);
                    let input = hookgate_providers::Input {
                        tenant: &n.tenant,
                        source: &n.source,
                        kind: provider.kind(),
                        notification_id: n.id,
                        received_at: n.received_at,
                        body: &p.body,
                        delivery_key: &n.delivery_key,
                        options,
                    };
                    match hookgate_providers::normalize(&input) {
                        Err(e) => Err(hookgate_core::without_values(&e.to_string())),
                        Ok(events) => Ok(events
                            .iter()
                            .map(|e| {
                                let body = e
                                    .to_json()
                                    .ok()
                                    .and_then(|b| String::from_utf8(b).ok())
                                    .unwrap_or_default();
                                let line = EventLine {
                                    event_type: e.event.r#type.clone(),
                                    routing_key: e.routing_key(),
                                    idempotency_key: e.event.idempotency_key.clone(),
                                };
                                (line, body)
                            })
                            .collect()),
                    }
                }
            },
        };
        out.push(Preview {
            notification: n.clone(),
            first,
            now,
        });
    }
    Ok(out)
}

/// Every configured source's health the caller may see (of `tenant` when
/// given).
pub(crate) async fn source_health(
    state: &AdminState,
    caller: &Caller,
    tenant: Option<&str>,
) -> Result<Vec<hookgate_api_types::SourceHealth>, ApiError> {
    if let Some(t) = tenant {
        caller.tenant(t)?;
    }
    let Some(health) = &state.health else {
        return Err(ApiError::unavailable("source health is not evaluated in this process"));
    };
    let assessment = health.assess().await?;
    Ok(assessment
        .sources
        .into_iter()
        .filter(|s| caller.sees(&s.tenant) && tenant.is_none_or(|t| t == s.tenant))
        .map(|s| hookgate_api_types::SourceHealth {
            state: s.state.as_str().to_owned(),
            quiet: s.silence.quiet,
            judged_by: serde_json::to_value(s.silence.judged_by)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            rule: s.silence.rule,
            seconds_since_accepted: s.silence.seconds_since_accepted,
            expected_since_accepted: s.silence.expected,
            last_accepted_at: s.last_accepted_at,
            refused_by: s.refused_by,
            refusals: (s.refusals.into_iter())
                .map(|(cause, count)| hookgate_api_types::CauseCount { cause, count })
                .collect(),
            tenant: s.tenant,
            source: s.source,
        })
        .collect())
}

/// A page of incidents the caller may see, newest first.
pub(crate) async fn incidents(
    state: &AdminState,
    caller: &Caller,
    active_only: bool,
    kind: Option<&str>,
    tenant: Option<&str>,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<hookgate_api_types::Incident>, ApiError> {
    let kind = kind
        .map(|k| {
            hookgate_watch::Kind::parse(k).ok_or_else(|| {
                let known: Vec<_> = hookgate_watch::Kind::ALL.iter().map(|k| k.as_str()).collect();
                ApiError::bad_request(format!("kind {k:?}: expected one of {}", known.join(", ")))
            })
        })
        .transpose()?;
    let window = page_window(caller, cursor, limit)?;
    let tenants = match tenant {
        Some(t) => {
            caller.tenant(t)?;
            Some(vec![t.to_owned()])
        }
        None => window.tenants.clone(),
    };
    let rows = (state.store)
        .incidents(active_only, kind, tenants.as_deref(), window.before, window.limit + 1)
        .await?;
    let more = rows.len() as i64 > window.limit;
    let items: Vec<_> = rows.into_iter().take(window.limit as usize).collect();
    let next_cursor = if more {
        items.last().map(|i| i.id.to_string())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// One incident the caller may see, with its transitions.
pub(crate) async fn incident(
    state: &AdminState,
    caller: &Caller,
    id: i64,
) -> Result<hookgate_api_types::IncidentDetail, ApiError> {
    let not_found = || ApiError::not_found(format!("no incident {id}"));
    let detail = state.store.incident(id).await?.ok_or_else(not_found)?;
    if caller.limit().is_some() && !caller.sees(&detail.incident.tenant) {
        return Err(not_found());
    }
    Ok(detail)
}

/// Moves an incident (acknowledge, resolve, ignore), audited.
pub(crate) async fn change_incident(
    state: &AdminState,
    caller: &Operator,
    id: i64,
    to: hookgate_watch::State,
) -> Result<hookgate_api_types::IncidentDetail, ApiError> {
    let limit = caller.limit();
    let action = format!("incident.{}", to.as_str());
    let tenant = state.store.incident(id).await?.map(|d| d.incident.tenant);
    let shown_tenant = tenant.as_deref().filter(|t| caller.sees(t) && !t.is_empty());
    audited(
        state,
        caller,
        &action,
        shown_tenant,
        Some(id.to_string()),
        serde_json::json!({}),
        || async {
            match (state.store)
                .change_incident(id, to, &caller.name, limit.as_deref(), chrono::Utc::now())
                .await
            {
                Ok(t) => {
                    state.metrics.incident_transition(t.kind.as_str(), t.state.as_str());
                    Ok((200, incident(state, caller, id).await?))
                }
                Err(hookgate_store::IncidentChangeError::NotFound) => {
                    Err(ApiError::not_found(format!("no incident {id}")))
                }
                Err(e @ hookgate_store::IncidentChangeError::NotAllowed { .. }) => {
                    Err(ApiError::conflict(e.to_string()))
                }
                Err(hookgate_store::IncidentChangeError::Store(e)) => Err(e.into()),
            }
        },
    )
    .await
}
