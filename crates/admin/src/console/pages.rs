//! One handler per page: it calls the operations layer as the caller its
//! extractor names, builds the page's view model and renders its template.
//! Actions are posts that take a [`CsrfForm`] and an [`Operator`], then
//! redirect (post/redirect/get) or render the plan they asked for.

use super::csrf::CsrfForm;
use super::format::{self, ago, duration, pretty_json, query, size, sparkline, time};
use super::{render, see_other, session, Me};
use crate::auth::{key_of, Operator, Reader};
use crate::error::ApiError;
use crate::ops::{self, Preview, ReplayAnswer};
use crate::AdminState;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{DateTime, NaiveDateTime, Utc};
use hookgate_api_types::{
    AuditEntry, NotificationDetail, NotificationFilter, NotificationSummary, OutboxStatus, Payload, ReadmitResult,
    RejectionDetail, RejectionSummary, ReplayJob, ReplayOne, ReplayRequest, RequeueAnswer, RequeueRequest, TenantView,
    Timeline,
};
use hookgate_core::{SourceId, TenantId};
use hookgate_store::RejectionFilter;
use serde::Deserialize;
use std::collections::HashMap;

type Page = Result<HttpResponse, ApiError>;

// ---------------------------------------------------------------- filters

/// A notification filter as the console's forms and links carry it: every
/// field text, empty meaning "any".
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct FilterForm {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    delivery_key: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    cursor: String,
}

fn some(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

/// A time from a form: RFC 3339, or `datetime-local` (read as UTC).
fn parse_time(field: &str, v: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(v) = some(v) else { return Ok(None) };
    if let Ok(t) = DateTime::parse_from_rfc3339(&v) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    for f in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(&v, f) {
            return Ok(Some(t.and_utc()));
        }
    }
    Err(ApiError::bad_request(format!(
        "{field} {v:?} is not a time (RFC 3339, or YYYY-MM-DDTHH:MM in UTC)"
    )))
}

impl FilterForm {
    fn from_form(form: &CsrfForm) -> FilterForm {
        let f = |k: &str| form.get(k).unwrap_or_default().to_owned();
        FilterForm {
            tenant: f("tenant"),
            source: f("source"),
            status: f("status"),
            subject: f("subject"),
            delivery_key: f("delivery_key"),
            since: f("since"),
            until: f("until"),
            cursor: String::new(),
        }
    }

    /// The typed filter, checked once here.
    fn filter(&self) -> Result<NotificationFilter, ApiError> {
        let tenant = some(&self.tenant)
            .map(|t| TenantId::parse(&t).map_err(|e| ApiError::bad_request(format!("tenant: {e}"))))
            .transpose()?;
        let source = some(&self.source)
            .map(|s| SourceId::parse(&s).map_err(|e| ApiError::bad_request(format!("source: {e}"))))
            .transpose()?;
        let status = match some(&self.status).as_deref() {
            None => None,
            Some("pending") => Some(OutboxStatus::Pending),
            Some("published") => Some(OutboxStatus::Published),
            Some("parked") => Some(OutboxStatus::Parked),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "status {other:?}: pending, published or parked"
                )))
            }
        };
        Ok(NotificationFilter {
            tenant,
            source,
            status,
            delivery_key: some(&self.delivery_key),
            subject: some(&self.subject),
            since: parse_time("since", &self.since)?,
            until: parse_time("until", &self.until)?,
            ids: None,
        })
    }

    /// Whether the status field says `s` (the forms' selects).
    fn status_is(&self, s: &str) -> bool {
        self.status == s
    }

    /// The filter as a query string (links to the next page).
    fn query(&self, cursor: Option<String>) -> String {
        query(&[
            ("tenant", some(&self.tenant)),
            ("source", some(&self.source)),
            ("status", some(&self.status)),
            ("subject", some(&self.subject)),
            ("delivery_key", some(&self.delivery_key)),
            ("since", some(&self.since)),
            ("until", some(&self.until)),
            ("cursor", cursor),
        ])
    }
}

/// A notification as a list row shows it.
pub(crate) struct Row {
    n: NotificationSummary,
    received: String,
    subject_link: Option<String>,
}

fn rows(items: Vec<NotificationSummary>) -> Vec<Row> {
    items
        .into_iter()
        .map(|n| Row {
            received: time(&n.received_at),
            subject_link: n.subject.as_ref().map(|s| subject_link(&n.tenant, s)),
            n,
        })
        .collect()
}

fn subject_link(tenant: &str, subject: &str) -> String {
    format!(
        "/subjects/{}/{}",
        format::url_encode(tenant),
        format::url_encode(subject)
    )
}

/// The tenants the caller may choose in a form.
fn tenant_ids(state: &AdminState, me: &Me) -> Vec<String> {
    state
        .tenants()
        .iter()
        .map(|t| t.id.to_string())
        .filter(|t| me.tenants.as_ref().is_none_or(|l| l.contains(t)))
        .collect()
}

// ---------------------------------------------------------------- sign-in

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    token: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

/// Only a path of this console may be where a sign-in returns to.
fn local(next: Option<&str>) -> String {
    match next {
        // No control character either: it becomes a `Location` header.
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && !n.contains(char::is_control) => {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

async fn sign_in_page(req: HttpRequest, q: web::Query<Next>) -> Page {
    let (token, cookie) = session::sign_in_token(&req);
    let page = SignInPage {
        token,
        next: local(q.next.as_deref()),
        error: None,
    };
    let mut res = render(&page)?;
    res.add_cookie(&cookie).map_err(|_| ApiError::internal())?;
    Ok(res)
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    sign_in: String,
    #[serde(default)]
    next: String,
}

/// `POST /sign-in`: the token for a session cookie. A wrong token is
/// refused (401 page, counted); the sign-in form's own token guards
/// against a sign-in forged from another site.
async fn sign_in(req: HttpRequest, state: web::Data<AdminState>, form: web::Form<SignInForm>) -> Page {
    let next = local(Some(&form.next));
    if !session::sign_in_token_ok(&req, &form.sign_in) {
        state.metrics.admin_refused("console_csrf");
        return Err(ApiError::forbidden(
            "the sign-in form carries no valid token: open the sign-in page again",
        ));
    }
    let Some(key) = key_of(&state.keys, form.token.trim()) else {
        state.metrics.admin_refused("console_sign_in");
        tracing::info!("console: a sign-in with an unknown token was refused");
        let (token, cookie) = session::sign_in_token(&req);
        let page = SignInPage {
            token,
            next,
            error: Some("That token is not one this gateway knows.".to_owned()),
        };
        let mut res = render(&page)?;
        *res.status_mut() = actix_web::http::StatusCode::UNAUTHORIZED;
        res.add_cookie(&cookie).map_err(|_| ApiError::internal())?;
        return Ok(res);
    };
    let value = session::issue(key);
    if let Err(e) = (state.store)
        .record_audit(
            &key.name,
            "console.sign_in",
            None,
            None,
            &serde_json::json!({}),
            200,
            &serde_json::json!({}),
        )
        .await
    {
        tracing::error!(error = %hookgate_core::Chain(&e), "could not record a console sign-in");
    }
    let mut res = see_other(&next);
    res.add_cookie(&session::cookie(&req, value))
        .map_err(|_| ApiError::internal())?;
    let mut removal = actix_web::cookie::Cookie::new(session::SIGN_IN_COOKIE, "");
    removal.set_path("/sign-in");
    removal.make_removal();
    res.add_cookie(&removal).map_err(|_| ApiError::internal())?;
    Ok(res)
}

/// `POST /sign-out`.
async fn sign_out(req: HttpRequest, state: web::Data<AdminState>, _caller: Reader, _form: CsrfForm) -> Page {
    session::sign_out(&req, &state);
    let mut res = see_other("/sign-in");
    res.add_cookie(&session::removal(&req))
        .map_err(|_| ApiError::internal())?;
    Ok(res)
}

// ---------------------------------------------------------------- overview

struct SourceLine {
    tenant: String,
    source: String,
    kind: String,
    accepted: i64,
    duplicate: i64,
    rejected: i64,
    spark_accepted: String,
    spark_rejected: String,
    last_accepted: String,
    last_rejected: String,
    causes: Vec<(String, i64)>,
    /// `ok`, `quiet`, `refused`, `learning`, `outside_hours` (`-` unknown).
    health: String,
    rule: String,
    refused_by: Option<String>,
}

struct TenantLine {
    id: String,
    pending: i64,
    parked: i64,
    oldest: String,
    sources: Vec<SourceLine>,
}

struct DependencyLine {
    name: &'static str,
    ok: bool,
    detail: String,
}

struct IncidentLine {
    i: hookgate_api_types::Incident,
    place: String,
    opened: String,
    updated: String,
}

fn incident_line(i: hookgate_api_types::Incident) -> IncidentLine {
    IncidentLine {
        place: match (i.tenant.as_str(), i.source.as_str()) {
            ("", _) => "the whole gateway".to_owned(),
            (t, "") => t.to_owned(),
            (t, s) => format!("{t} / {s}"),
        },
        opened: ago(Some(i.opened_at)),
        updated: ago(Some(i.updated_at)),
        i,
    }
}

struct Live {
    incidents: Vec<IncidentLine>,
    tenants: Vec<TenantLine>,
    dependencies: Vec<DependencyLine>,
    reload: String,
    reload_error: Option<String>,
    at: String,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    me: Me,
    live: Live,
}

#[derive(Template)]
#[template(path = "overview_live.html")]
struct OverviewLive {
    live: Live,
}

async fn live(state: &AdminState, caller: &Reader) -> Result<Live, ApiError> {
    let (traffic, deps, health, incidents) = futures_util::join!(
        ops::source_traffic(state, caller),
        crate::dependencies(state),
        ops::source_health(state, caller, None),
        ops::incidents(state, caller, true, None, None, None, Some(20)),
    );
    let (traffic, outbox) = traffic?;
    // The overview still shows traffic when the health cannot be judged.
    let health = health.unwrap_or_else(|e| {
        tracing::warn!(error = e.message(), "source health not available for the overview");
        Vec::new()
    });
    let incidents = incidents.map(|p| p.items).unwrap_or_default();
    let mut tenants: Vec<TenantLine> = Vec::new();
    for s in traffic {
        let accepted: Vec<i64> = s.hours.iter().map(|h| h.accepted + h.duplicate).collect();
        let rejected: Vec<i64> = s.hours.iter().map(|h| h.rejected).collect();
        let h = health.iter().find(|h| h.tenant == s.tenant && h.source == s.source);
        let line = SourceLine {
            accepted: s.hours.iter().map(|h| h.accepted).sum(),
            duplicate: s.hours.iter().map(|h| h.duplicate).sum(),
            rejected: rejected.iter().sum(),
            spark_accepted: sparkline(&accepted, 120.0, 24.0),
            spark_rejected: sparkline(&rejected, 120.0, 24.0),
            last_accepted: ago(s.last_accepted_at),
            last_rejected: ago(s.last_rejected_at),
            health: h.map_or_else(|| "-".to_owned(), |h| h.state.clone()),
            rule: h.map(|h| h.rule.clone()).unwrap_or_default(),
            refused_by: h.and_then(|h| h.refused_by.clone()),
            causes: s.causes,
            tenant: s.tenant.clone(),
            source: s.source,
            kind: s.kind,
        };
        match tenants.iter_mut().find(|t| t.id == s.tenant) {
            Some(t) => t.sources.push(line),
            None => {
                let o = outbox.iter().find(|o| o.tenant == s.tenant);
                tenants.push(TenantLine {
                    id: s.tenant,
                    pending: o.map_or(0, |o| o.pending),
                    parked: o.map_or(0, |o| o.parked),
                    oldest: o.map_or_else(|| "-".to_owned(), |o| duration(o.oldest_pending_secs as i64)),
                    sources: vec![line],
                })
            }
        }
    }
    let dependencies = deps
        .into_iter()
        .map(|d| DependencyLine {
            name: d.name,
            ok: d.result.is_ok() && d.degraded.is_none(),
            detail: match (d.result, d.degraded) {
                (Err(e), _) => e,
                (Ok(()), Some(part)) => format!("degraded: {part}"),
                (Ok(()), None) => "ok".to_owned(),
            },
        })
        .collect();
    let status = state.reload.as_ref().map(|r| r.status()).unwrap_or_default();
    let reload = if !status.enabled {
        "not started from files".to_owned()
    } else {
        format!(
            "generation {}, {} tenants, applied {}",
            status.generation,
            status.tenants,
            ago(status.last_applied_at)
        )
    };
    Ok(Live {
        incidents: incidents.into_iter().map(incident_line).collect(),
        tenants,
        dependencies,
        reload,
        reload_error: status.last_error,
        at: time(&Utc::now()),
    })
}

async fn overview(caller: Reader, state: web::Data<AdminState>) -> Page {
    let live = live(&state, &caller).await?;
    render(&OverviewPage {
        me: Me::of(&caller),
        live,
    })
}

async fn overview_live(caller: Reader, state: web::Data<AdminState>) -> Page {
    render(&OverviewLive {
        live: live(&state, &caller).await?,
    })
}

// ---------------------------------------------------------------- notifications

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    me: Me,
    form: FilterForm,
    tenants: Vec<String>,
    rows: Vec<Row>,
    next: Option<String>,
}

async fn notifications(caller: Reader, state: web::Data<AdminState>, q: web::Query<FilterForm>) -> Page {
    let form = q.into_inner();
    let filter = form.filter()?;
    let page = ops::notifications(&state, &caller, &filter, some(&form.cursor).as_deref(), None).await?;
    let me = Me::of(&caller);
    render(&NotificationsPage {
        tenants: tenant_ids(&state, &me),
        me,
        next: page
            .next_cursor
            .clone()
            .map(|c| format!("/notifications{}", form.query(Some(c)))),
        rows: rows(page.items),
        form,
    })
}

struct Shown {
    headers: Vec<(String, String)>,
    body: String,
    binary: bool,
    size: String,
}

fn shown(p: &Payload, body_size: i64) -> Shown {
    let headers = p
        .headers
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| {
                    let s = |k: &str| h.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
                    (s("name"), s("value"))
                })
                .collect()
        })
        .unwrap_or_default();
    let (body, binary) = match &p.body_text {
        Some(text) => (pretty_json(text).unwrap_or_else(|| text.clone()), false),
        None => {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&p.body_base64)
                .unwrap_or_default();
            (format::hex_dump(&bytes), true)
        }
    };
    Shown {
        headers,
        body,
        binary,
        size: size(body_size),
    }
}

#[derive(Template)]
#[template(path = "notification.html")]
struct NotificationPage {
    me: Me,
    d: NotificationDetail,
    received: String,
    subject_link: Option<String>,
    payload: Option<Shown>,
    queues: Vec<String>,
}

async fn notification(caller: Reader, state: web::Data<AdminState>, id: web::Path<i64>) -> Page {
    let d = ops::notification(&state, &caller, id.into_inner()).await?;
    let payload = d.payload.as_ref().map(|p| shown(p, d.notification.body_size));
    render(&NotificationPage {
        me: Me::of(&caller),
        received: time(&d.notification.received_at),
        subject_link: (d.notification.subject.as_ref()).map(|s| subject_link(&d.notification.tenant, s)),
        queues: ops::queues_of(&state, &d.notification.tenant),
        payload,
        d,
    })
}

async fn replay_notification(
    caller: Operator,
    state: web::Data<AdminState>,
    id: web::Path<i64>,
    form: CsrfForm,
) -> Page {
    let body = ReplayOne {
        queue: form.get("queue").map(str::to_owned),
    };
    let job = ops::replay_notification(&state, &caller, id.into_inner(), &body).await?;
    Ok(see_other(&format!("/replays/{}", job.id)))
}

// ---------------------------------------------------------------- timeline

#[derive(Template)]
#[template(path = "timeline.html")]
struct TimelinePage {
    me: Me,
    t: Timeline,
}

async fn timeline(caller: Reader, state: web::Data<AdminState>, path: web::Path<(String, String)>) -> Page {
    let (tenant, subject) = path.into_inner();
    let t = ops::timeline(&state, &caller, &tenant, subject, None).await?;
    render(&TimelinePage { me: Me::of(&caller), t })
}

// ---------------------------------------------------------------- parked

#[derive(Template)]
#[template(path = "parked.html")]
struct ParkedPage {
    me: Me,
    form: FilterForm,
    tenants: Vec<String>,
    rows: Vec<Row>,
    next: Option<String>,
    plan: Option<(i64, Vec<Row>)>,
    done: Option<String>,
}

async fn parked_page(
    caller: &Reader,
    state: &AdminState,
    form: FilterForm,
    plan: Option<(i64, Vec<Row>)>,
    done: Option<String>,
) -> Page {
    let mut filter = form.filter()?;
    filter.status = Some(OutboxStatus::Parked);
    let page = ops::notifications(state, caller, &filter, some(&form.cursor).as_deref(), None).await?;
    let me = Me::of(caller);
    render(&ParkedPage {
        tenants: tenant_ids(state, &me),
        me,
        next: page
            .next_cursor
            .clone()
            .map(|c| format!("/parked{}", form.query(Some(c)))),
        rows: rows(page.items),
        form,
        plan,
        done,
    })
}

async fn parked(caller: Reader, state: web::Data<AdminState>, q: web::Query<FilterForm>) -> Page {
    parked_page(&caller, &state, q.into_inner(), None, None).await
}

/// The requeue a parked form asks for: its filter, or the rows ticked.
fn requeue_request(form: &CsrfForm, dry_run: bool) -> Result<RequeueRequest, ApiError> {
    let mut filter = FilterForm::from_form(form).filter()?;
    let ids: Vec<i64> = form.all("id").filter_map(|v| v.parse().ok()).collect();
    if form.get("selected").is_some() || !ids.is_empty() {
        if ids.is_empty() {
            return Err(ApiError::bad_request("tick at least one parked notification"));
        }
        filter.ids = Some(ids);
    }
    Ok(RequeueRequest { filter, dry_run })
}

/// `POST /parked/plan`: what a requeue would move (audited as a plan).
async fn parked_plan(caller: Operator, state: web::Data<AdminState>, form: CsrfForm) -> Page {
    let request = requeue_request(&form, true)?;
    let plan = match ops::requeue(&state, &caller, &request).await? {
        RequeueAnswer::Plan(p) => (p.count, rows(p.sample)),
        RequeueAnswer::Done(_) => (0, Vec::new()),
    };
    let reader = Reader(caller.0.clone());
    parked_page(&reader, &state, FilterForm::from_form(&form), Some(plan), None).await
}

/// `POST /parked/requeue`.
async fn parked_requeue(caller: Operator, state: web::Data<AdminState>, form: CsrfForm) -> Page {
    let request = requeue_request(&form, false)?;
    let done = match ops::requeue(&state, &caller, &request).await? {
        RequeueAnswer::Done(d) => format!("{} parked notification(s) requeued", d.requeued),
        RequeueAnswer::Plan(_) => String::new(),
    };
    let reader = Reader(caller.0.clone());
    parked_page(&reader, &state, FilterForm::from_form(&form), None, Some(done)).await
}

// ---------------------------------------------------------------- rejections

#[derive(Debug, Default, Deserialize)]
struct RejectionForm {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    cursor: String,
}

struct RejectionRow {
    r: RejectionSummary,
    received: String,
}

#[derive(Template)]
#[template(path = "rejections.html")]
struct RejectionsPage {
    me: Me,
    form: RejectionForm,
    tenants: Vec<String>,
    causes: Vec<(String, String, String, i64)>,
    rows: Vec<RejectionRow>,
    next: Option<String>,
}

async fn rejections(caller: Reader, state: web::Data<AdminState>, q: web::Query<RejectionForm>) -> Page {
    let form = q.into_inner();
    if let Some(t) = some(&form.tenant) {
        TenantId::parse(&t).map_err(|e| ApiError::bad_request(format!("tenant: {e}")))?;
    }
    let filter = RejectionFilter {
        tenant: some(&form.tenant),
        source: some(&form.source),
        reason: some(&form.reason),
        since: None,
        until: None,
    };
    let cursor = some(&form.cursor);
    let (page, traffic) = futures_util::join!(
        ops::rejections(&state, &caller, &filter, cursor.as_deref(), None),
        ops::source_traffic(&state, &caller)
    );
    let page = page?;
    // Refusals of the last 24 hours by cause and source, from the rollup.
    let mut causes: Vec<(String, String, String, i64)> = traffic?
        .0
        .into_iter()
        .flat_map(|s| {
            let (t, src) = (s.tenant, s.source);
            s.causes
                .into_iter()
                .map(move |(reason, n)| (t.clone(), src.clone(), reason, n))
        })
        .collect();
    causes.sort_by_key(|c| std::cmp::Reverse(c.3));
    let me = Me::of(&caller);
    let next = page.next_cursor.clone().map(|c| {
        format!(
            "/rejections{}",
            query(&[
                ("tenant", some(&form.tenant)),
                ("source", some(&form.source)),
                ("reason", some(&form.reason)),
                ("cursor", Some(c)),
            ])
        )
    });
    render(&RejectionsPage {
        tenants: tenant_ids(&state, &me),
        me,
        causes,
        rows: page
            .items
            .into_iter()
            .map(|r| RejectionRow {
                received: time(&r.received_at),
                r,
            })
            .collect(),
        next,
        form,
    })
}

#[derive(Template)]
#[template(path = "rejection.html")]
struct RejectionPage {
    me: Me,
    d: RejectionDetail,
    received: String,
    payload: Option<Shown>,
    readmitted: Option<ReadmitResult>,
}

async fn rejection(caller: Reader, state: web::Data<AdminState>, id: web::Path<i64>) -> Page {
    let d = ops::rejection(&state, &caller, id.into_inner()).await?;
    render(&RejectionPage {
        me: Me::of(&caller),
        received: time(&d.rejection.received_at),
        payload: d.payload.as_ref().map(|p| shown(p, d.rejection.body_size)),
        readmitted: None,
        d,
    })
}

async fn readmit(caller: Operator, state: web::Data<AdminState>, id: web::Path<i64>, _form: CsrfForm) -> Page {
    let id = id.into_inner();
    let result = ops::readmit(&state, &caller, id).await?;
    let reader = Reader(caller.0.clone());
    let d = ops::rejection(&state, &reader, id).await?;
    render(&RejectionPage {
        me: Me::of(&caller),
        received: time(&d.rejection.received_at),
        payload: d.payload.as_ref().map(|p| shown(p, d.rejection.body_size)),
        readmitted: Some(result),
        d,
    })
}

// ---------------------------------------------------------------- incidents

#[derive(Template)]
#[template(path = "incidents.html")]
struct IncidentsPage {
    me: Me,
    rows: Vec<IncidentLine>,
    all: bool,
    next: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
struct IncidentsQuery {
    scope: Option<String>,
    cursor: Option<String>,
}

async fn incidents(caller: Reader, state: web::Data<AdminState>, q: web::Query<IncidentsQuery>) -> Page {
    let all = q.scope.as_deref() == Some("all");
    let page = ops::incidents(&state, &caller, !all, None, None, q.cursor.as_deref(), None).await?;
    render(&IncidentsPage {
        me: Me::of(&caller),
        next: page
            .next_cursor
            .map(|c| format!("/incidents?{}cursor={c}", if all { "scope=all&" } else { "" })),
        rows: page.items.into_iter().map(incident_line).collect(),
        all,
    })
}

struct TransitionLine {
    state: String,
    at: String,
    actor: String,
    published: bool,
}

#[derive(Template)]
#[template(path = "incident.html")]
struct IncidentPage {
    me: Me,
    d: hookgate_api_types::IncidentDetail,
    place: String,
    opened: String,
    sample_base: &'static str,
    transitions: Vec<TransitionLine>,
}

fn incident_page(me: Me, d: hookgate_api_types::IncidentDetail) -> Page {
    let line = incident_line(d.incident.clone());
    render(&IncidentPage {
        me,
        place: line.place,
        opened: time(&d.incident.opened_at),
        sample_base: if d.incident.kind == "rejection_spike" {
            "/rejections/"
        } else {
            "/notifications/"
        },
        transitions: (d.transitions.iter())
            .map(|t| TransitionLine {
                state: t.state.clone(),
                at: time(&t.at),
                actor: t.actor.clone(),
                published: t.published_at.is_some(),
            })
            .collect(),
        d,
    })
}

async fn incident(caller: Reader, state: web::Data<AdminState>, id: web::Path<i64>) -> Page {
    let d = ops::incident(&state, &caller, id.into_inner()).await?;
    incident_page(Me::of(&caller), d)
}

async fn incident_change(
    caller: Operator,
    state: web::Data<AdminState>,
    path: web::Path<(i64, String)>,
    _form: CsrfForm,
) -> Page {
    let (id, action) = path.into_inner();
    let to = match action.as_str() {
        "acknowledge" => hookgate_watch::State::Acknowledged,
        "resolve" => hookgate_watch::State::Resolved,
        "ignore" => hookgate_watch::State::Ignored,
        _ => return Err(ApiError::not_found(format!("no action {action:?}"))),
    };
    ops::change_incident(&state, &caller, id, to).await?;
    // Post, then redirect: a reload shows the incident, it does not post again.
    Ok(see_other(&format!("/incidents/{id}")))
}

// ---------------------------------------------------------------- replay

struct JobLine {
    j: ReplayJob,
    created: String,
    percent: i64,
    rate: String,
    active: bool,
}

fn job_line(j: ReplayJob) -> JobLine {
    let percent = if j.planned > 0 {
        (j.replayed + j.failed) * 100 / j.planned
    } else {
        100
    };
    let rate = match (j.started_at, j.finished_at) {
        (Some(start), end) => {
            let secs = ((end.unwrap_or_else(Utc::now) - start).num_milliseconds() as f64 / 1000.0).max(0.001);
            format!("{:.1}/s", (j.replayed + j.failed) as f64 / secs)
        }
        _ => "-".to_owned(),
    };
    JobLine {
        created: time(&j.created_at),
        percent: percent.clamp(0, 100),
        rate,
        active: matches!(j.status.as_str(), "pending" | "running"),
        j,
    }
}

#[derive(Template)]
#[template(path = "replays.html")]
struct ReplaysPage {
    me: Me,
    form: FilterForm,
    tenants: Vec<String>,
    queues: HashMap<String, Vec<String>>,
    jobs: Vec<JobLine>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct Cursor {
    cursor: Option<String>,
}

async fn replays(caller: Reader, state: web::Data<AdminState>, q: web::Query<Cursor>) -> Page {
    let page = ops::replay_jobs(&state, &caller, q.cursor.as_deref(), None).await?;
    let me = Me::of(&caller);
    let tenants = tenant_ids(&state, &me);
    render(&ReplaysPage {
        queues: tenants.iter().map(|t| (t.clone(), ops::queues_of(&state, t))).collect(),
        tenants,
        me,
        form: FilterForm::default(),
        next: page.next_cursor.clone().map(|c| format!("/replays?cursor={c}")),
        jobs: page.items.into_iter().map(job_line).collect(),
    })
}

struct PreviewLine {
    p: Preview,
    received: String,
    changed: bool,
    now_body: String,
}

#[derive(Template)]
#[template(path = "replay_plan.html")]
struct ReplayPlanPage {
    me: Me,
    form: FilterForm,
    queue: String,
    rate: String,
    count: i64,
    previews: Vec<PreviewLine>,
}

fn replay_request(form: &CsrfForm, dry_run: bool) -> Result<ReplayRequest, ApiError> {
    let rate = form
        .get("rate_per_sec")
        .map(|r| {
            r.parse::<i32>()
                .map_err(|_| ApiError::bad_request(format!("rate_per_sec {r:?} is not a number")))
        })
        .transpose()?;
    Ok(ReplayRequest {
        filter: FilterForm::from_form(form).filter()?,
        queue: form.get("queue").map(str::to_owned),
        rate_per_sec: rate,
        dry_run,
    })
}

/// `POST /replays/plan`: the count, and each sampled notification as
/// first published beside what a replay would publish now.
async fn replay_plan(caller: Operator, state: web::Data<AdminState>, form: CsrfForm) -> Page {
    let request = replay_request(&form, true)?;
    let ReplayAnswer::Plan(plan) = ops::replay(&state, &caller, &request).await? else {
        return Err(ApiError::internal());
    };
    let previews = ops::preview(&state, &plan.sample)
        .await?
        .into_iter()
        .map(|p| PreviewLine {
            received: time(&p.notification.received_at),
            changed: p.changed(),
            now_body: match &p.now {
                Ok(events) => events
                    .iter()
                    .map(|(_, body)| pretty_json(body).unwrap_or_else(|| body.clone()))
                    .collect::<Vec<_>>()
                    .join("\n"),
                Err(e) => e.clone(),
            },
            p,
        })
        .collect();
    render(&ReplayPlanPage {
        me: Me::of(&caller),
        form: FilterForm::from_form(&form),
        queue: form.get("queue").unwrap_or_default().to_owned(),
        rate: form.get("rate_per_sec").unwrap_or_default().to_owned(),
        count: plan.count,
        previews,
    })
}

/// `POST /replays`: runs the planned replay.
async fn replay_run(caller: Operator, state: web::Data<AdminState>, form: CsrfForm) -> Page {
    let request = replay_request(&form, false)?;
    match ops::replay(&state, &caller, &request).await? {
        ReplayAnswer::Job(job) => Ok(see_other(&format!("/replays/{}", job.id))),
        ReplayAnswer::Plan(_) => Err(ApiError::internal()),
    }
}

#[derive(Template)]
#[template(path = "replay.html")]
struct ReplayPage {
    me: Me,
    job: JobLine,
    filter: String,
}

#[derive(Template)]
#[template(path = "replay_live.html")]
struct ReplayLive {
    me: Me,
    job: JobLine,
}

async fn replay_job(caller: Reader, state: web::Data<AdminState>, id: web::Path<i64>) -> Page {
    let j = ops::replay_job(&state, &caller, id.into_inner()).await?;
    render(&ReplayPage {
        me: Me::of(&caller),
        filter: serde_json::to_string(&j.filter).unwrap_or_default(),
        job: job_line(j),
    })
}

async fn replay_job_live(caller: Reader, state: web::Data<AdminState>, id: web::Path<i64>) -> Page {
    let j = ops::replay_job(&state, &caller, id.into_inner()).await?;
    render(&ReplayLive {
        me: Me::of(&caller),
        job: job_line(j),
    })
}

async fn replay_cancel(caller: Operator, state: web::Data<AdminState>, id: web::Path<i64>, _form: CsrfForm) -> Page {
    let job = ops::cancel_replay(&state, &caller, id.into_inner()).await?;
    Ok(see_other(&format!("/replays/{}", job.id)))
}

// ---------------------------------------------------------------- tenants, audit

/// A tenant as the tenants page shows it: its view, its provider keys, and
/// each source's access rules.
type TenantEntry = (TenantView, Vec<KeyLine>, Vec<(String, String)>);

struct KeyLine {
    source: String,
    fingerprint: String,
    added: String,
}

#[derive(Template)]
#[template(path = "tenants.html")]
struct TenantsPage {
    me: Me,
    tenants: Vec<TenantEntry>,
}

async fn tenants(caller: Reader, state: web::Data<AdminState>) -> Page {
    let views = ops::tenants(&state, &caller).await?;
    let mut out = Vec::new();
    let live = state.tenants();
    for v in views {
        let id = TenantId::from_stored(v.id.clone());
        let keys = (state.store.provider_keys(Some(&id), false).await?)
            .into_iter()
            .map(|k| KeyLine {
                source: k.source.to_string(),
                fingerprint: k.fingerprint,
                added: time(&k.added_at),
            })
            .collect();
        // Access rules: who may send (never a secret).
        let access = (live.get(&v.id))
            .map(|t| {
                t.sources
                    .values()
                    .map(|s| (s.id.to_string(), access_summary(&s.access)))
                    .collect()
            })
            .unwrap_or_default();
        out.push((v, keys, access));
    }
    render(&TenantsPage {
        me: Me::of(&caller),
        tenants: out,
    })
}

/// Who may send to a source, in words (never a secret's value).
fn access_summary(a: &hookgate_config::Access) -> String {
    let mut parts = Vec::new();
    if a.allow_ips.is_empty() {
        parts.push("any address".to_owned());
    } else {
        let nets: Vec<String> = a.allow_ips.iter().map(ToString::to_string).collect();
        parts.push(format!("from {}", nets.join(", ")));
    }
    if let Some(h) = &a.trusted_proxy_header {
        parts.push(format!("client address from {h}"));
    }
    if a.basic_auth.is_some() {
        parts.push("basic credentials required".to_owned());
    }
    if let Some(t) = &a.token {
        parts.push(format!("token in header {} required", t.header));
    }
    parts.join("; ")
}

struct AuditLine {
    a: AuditEntry,
    at: String,
    request: String,
    result: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    me: Me,
    rows: Vec<AuditLine>,
    next: Option<String>,
}

async fn audit(caller: Reader, state: web::Data<AdminState>, q: web::Query<Cursor>) -> Page {
    let page = ops::audit(&state, &caller, q.cursor.as_deref(), None).await?;
    render(&AuditPage {
        me: Me::of(&caller),
        next: page.next_cursor.clone().map(|c| format!("/audit?cursor={c}")),
        rows: page
            .items
            .into_iter()
            .map(|a| AuditLine {
                at: time(&a.at),
                request: a.request.to_string(),
                result: a.result.to_string(),
                a,
            })
            .collect(),
    })
}

/// The console's pages (each a stable URL).
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(overview))
        .route("/overview/live", web::get().to(overview_live))
        .route("/sign-in", web::get().to(sign_in_page))
        .route("/sign-in", web::post().to(sign_in))
        .route("/sign-out", web::post().to(sign_out))
        .route("/notifications", web::get().to(notifications))
        .route("/notifications/{id}", web::get().to(notification))
        .route("/notifications/{id}/replay", web::post().to(replay_notification))
        .route("/subjects/{tenant}/{subject:.+}", web::get().to(timeline))
        .route("/parked", web::get().to(parked))
        .route("/parked/plan", web::post().to(parked_plan))
        .route("/parked/requeue", web::post().to(parked_requeue))
        .route("/rejections", web::get().to(rejections))
        .route("/rejections/{id}", web::get().to(rejection))
        .route("/rejections/{id}/readmit", web::post().to(readmit))
        .route("/replays", web::get().to(replays))
        .route("/replays", web::post().to(replay_run))
        .route("/replays/plan", web::post().to(replay_plan))
        .route("/replays/{id}", web::get().to(replay_job))
        .route("/replays/{id}/live", web::get().to(replay_job_live))
        .route("/replays/{id}/cancel", web::post().to(replay_cancel))
        .route("/incidents", web::get().to(incidents))
        .route("/incidents/{id}", web::get().to(incident))
        .route("/incidents/{id}/{action}", web::post().to(incident_change))
        .route("/tenants", web::get().to(tenants))
        .route("/audit", web::get().to(audit));
}

#[cfg(test)]
mod tests {
    use super::local;

    #[test]
    fn a_sign_in_returns_only_to_a_path_of_this_console() {
        assert_eq!(local(Some("/notifications?tenant=a")), "/notifications?tenant=a");
        for elsewhere in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil",
            "/x\r\nSet-Cookie: a=b",
            "x",
        ] {
            assert_eq!(local(Some(elsewhere)), "/", "{elsewhere:?}");
        }
        assert_eq!(local(None), "/");
    }
}
