//! The operator commands over the admin API (`notifications`, `timeline`,
//! `replay`, `jobs`, `parked`, `rejections`, `retention`, `erase`): each is one or two calls of the
//! typed client (`hookgate-client`) to a running gateway's `/v1` routes, never a
//! second implementation; flags are parsed into the API's types here. The admin
//! URL and token come from flags or `HOOKGATE_ADMIN_URL` /
//! `HOOKGATE_ADMIN_TOKEN`; `--output json` prints the API's answer as is.

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};
use hookgate_client::types::{
    ErasureRequest, NotificationFilter, OutboxStatus, ReplayOne, ReplayRequest, RequeueRequest,
};
use hookgate_client::{self as client, Client};
use hookgate_core::{SourceId, TenantId};
use serde::Serialize;
use serde_json::Value;

/// How answers are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// One line per item (lists), indented JSON (single objects).
    Text,
    /// The API's JSON answer.
    Json,
}

/// An outbox status to filter by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Status {
    /// Waiting to be published (or retrying).
    Pending,
    /// Every event confirmed by the broker.
    Published,
    /// Given up on; waiting for an operator.
    Parked,
}

impl Status {
    /// The API's status.
    pub fn to_api(self) -> OutboxStatus {
        match self {
            Status::Pending => OutboxStatus::Pending,
            Status::Published => OutboxStatus::Published,
            Status::Parked => OutboxStatus::Parked,
        }
    }
}

/// `hookgate timeline` arguments.
#[derive(Debug, Clone, Args)]
pub struct TimelineArgs {
    /// Tenant.
    #[arg(long)]
    pub tenant: String,
    /// Subject, e.g. order/553440887574627.
    pub subject: String,
}

/// `hookgate retention` arguments.
#[derive(Debug, Clone, Copy, Args)]
pub struct RetentionArgs {
    /// Show what would be removed; remove nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Where the admin API is and how to call it.
#[derive(Debug, Clone, Args)]
pub struct Admin {
    /// Base URL of the admin listener.
    #[arg(
        long = "admin-url",
        env = "HOOKGATE_ADMIN_URL",
        default_value = "http://127.0.0.1:8081",
        global = true
    )]
    pub url: String,
    /// Bearer token of the admin API.
    #[arg(
        long = "admin-token",
        env = "HOOKGATE_ADMIN_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub token: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text", global = true)]
    pub output: Output,
}

/// Which notifications (the API's filter), parsed here, at the edge.
#[derive(Debug, Clone, Default, Args)]
pub struct Filter {
    /// Tenant.
    #[arg(long)]
    pub tenant: Option<TenantId>,
    /// Source id.
    #[arg(long)]
    pub source: Option<SourceId>,
    /// Delivery key.
    #[arg(long)]
    pub delivery_key: Option<String>,
    /// Subject, e.g. order/553440887574627.
    #[arg(long)]
    pub subject: Option<String>,
    /// Received at or after (RFC 3339).
    #[arg(long)]
    pub since: Option<DateTime<Utc>>,
    /// Received before (RFC 3339).
    #[arg(long)]
    pub until: Option<DateTime<Utc>>,
}

impl Filter {
    /// The API's filter, with `status`.
    fn to_api(&self, status: Option<Status>) -> NotificationFilter {
        NotificationFilter {
            tenant: self.tenant.clone(),
            source: self.source.clone(),
            status: status.map(Status::to_api),
            delivery_key: self.delivery_key.clone(),
            subject: self.subject.clone(),
            since: self.since,
            until: self.until,
            ids: None,
        }
    }
}

/// Paging of a list.
#[derive(Debug, Clone, Default, Args)]
pub struct Paging {
    /// Continue after this cursor (`next_cursor` of the previous page).
    #[arg(long)]
    pub cursor: Option<String>,
    /// Page size (1 to 500).
    #[arg(long)]
    pub limit: Option<i64>,
}

impl Paging {
    fn to_api(&self) -> client::Paging {
        client::Paging {
            cursor: self.cursor.clone(),
            limit: self.limit,
        }
    }
}

/// `hookgate notifications …`.
#[derive(Debug, Subcommand)]
pub enum NotificationsCommand {
    /// Search notifications, newest first.
    List {
        #[command(flatten)]
        filter: Filter,
        /// Only notifications in this state.
        #[arg(long, value_enum)]
        status: Option<Status>,
        #[command(flatten)]
        paging: Paging,
    },
    /// One notification in full (raw request with the read_payload scope).
    Show {
        /// Notification id.
        id: i64,
    },
}

/// `hookgate parked …`.
#[derive(Debug, Subcommand)]
pub enum ParkedCommand {
    /// Parked notifications with their error and attempts.
    List {
        #[command(flatten)]
        filter: Filter,
        #[command(flatten)]
        paging: Paging,
    },
    /// Put parked notifications back in the queue (a plan unless --run).
    Requeue {
        #[command(flatten)]
        filter: Filter,
        /// Only these notification ids.
        #[arg(long = "id")]
        ids: Vec<i64>,
        /// Requeue (without it: show the plan).
        #[arg(long)]
        run: bool,
    },
}

/// `hookgate rejections …`.
#[derive(Debug, Subcommand)]
pub enum RejectionsCommand {
    /// Refused requests, newest first.
    List {
        /// Tenant.
        #[arg(long)]
        tenant: Option<TenantId>,
        /// Source.
        #[arg(long)]
        source: Option<SourceId>,
        /// Reason, e.g. bad_signature.
        #[arg(long)]
        reason: Option<String>,
        /// At or after (RFC 3339).
        #[arg(long)]
        since: Option<DateTime<Utc>>,
        /// Before (RFC 3339).
        #[arg(long)]
        until: Option<DateTime<Utc>>,
        #[command(flatten)]
        paging: Paging,
    },
    /// One rejection (its stored request with the read_payload scope).
    Show {
        /// Rejection id.
        id: i64,
    },
    /// Verify a rejected request again under the running configuration and
    /// store it if it now passes.
    Readmit {
        /// Rejection id.
        id: i64,
    },
}

/// `hookgate incidents …`.
#[derive(Debug, Subcommand)]
pub enum IncidentsCommand {
    /// Incidents, newest first (active ones unless --all).
    List {
        /// Resolved ones too.
        #[arg(long)]
        all: bool,
        /// Only this kind (source_quiet, rejection_spike, parked, outbox_age, reload_refused,
        /// relay_not_publishing, dependency_down, tls_expiry, replay_failed, replay_finished,
        /// key_added, key_removed, spooled).
        #[arg(long)]
        kind: Option<String>,
        /// Only this tenant's.
        #[arg(long)]
        tenant: Option<TenantId>,
        #[command(flatten)]
        paging: Paging,
    },
    /// One incident with its transitions.
    Show {
        /// Incident id.
        id: i64,
    },
    /// Someone is on it.
    Ack {
        /// Incident id.
        id: i64,
    },
    /// Over (a new one opens if the condition is still seen).
    Resolve {
        /// Incident id.
        id: i64,
    },
    /// Not told again while it lasts.
    Ignore {
        /// Incident id.
        id: i64,
    },
}

/// `hookgate incidents`.
pub async fn incidents(admin: &Admin, command: IncidentsCommand) -> anyhow::Result<()> {
    let client = admin.client()?;
    match command {
        IncidentsCommand::List {
            all,
            kind,
            tenant,
            paging,
        } => {
            let tenant = tenant.map(|t| t.to_string());
            let page = client
                .incidents(all, kind.as_deref(), tenant.as_deref(), &paging.to_api())
                .await?;
            admin.print(&page, incident_line);
        }
        IncidentsCommand::Show { id } => admin.print(&client.incident(id).await?, incident_line),
        IncidentsCommand::Ack { id } => admin.print(&client.change_incident(id, "acknowledge").await?, incident_line),
        IncidentsCommand::Resolve { id } => admin.print(&client.change_incident(id, "resolve").await?, incident_line),
        IncidentsCommand::Ignore { id } => admin.print(&client.change_incident(id, "ignore").await?, incident_line),
    }
    Ok(())
}

/// `hookgate health`: every configured source's health.
pub async fn health(admin: &Admin, tenant: Option<TenantId>) -> anyhow::Result<()> {
    let tenant = tenant.map(|t| t.to_string());
    let sources = admin.client()?.source_health(tenant.as_deref()).await?;
    admin.print(&sources, health_line);
    Ok(())
}

fn incident_line(r: &Value) -> String {
    let i = if r["incident"].is_object() { &r["incident"] } else { r };
    format!(
        "{:>6}  {:<12}  {:<16}  {}  {}",
        s(&i["id"]),
        s(&i["state"]),
        s(&i["kind"]),
        s(&i["opened_at"]),
        s(&i["summary"]),
    )
}

fn health_line(r: &Value) -> String {
    format!(
        "{}/{}  {:<13}  {:>8.0}s since accepted  {}",
        s(&r["tenant"]),
        s(&r["source"]),
        s(&r["state"]),
        r["seconds_since_accepted"].as_f64().unwrap_or_default(),
        s(&r["rule"]),
    )
}

/// `hookgate replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Replay this one notification (at once, no plan).
    #[arg(long, conflicts_with_all = ["run", "rate"])]
    pub id: Option<i64>,
    #[command(flatten)]
    pub filter: Filter,
    /// Only notifications in this state.
    #[arg(long, value_enum)]
    pub status: Option<Status>,
    /// Only this queue (else the tenant exchange and all its bindings).
    #[arg(long)]
    pub queue: Option<String>,
    /// Notifications per second.
    #[arg(long)]
    pub rate: Option<i32>,
    /// Make the job (without it: show the plan).
    #[arg(long)]
    pub run: bool,
}

/// `hookgate jobs`.
#[derive(Debug, Args)]
pub struct JobsArgs {
    /// One job (else the list).
    pub id: Option<i64>,
    /// Cancel that job.
    #[arg(long, requires = "id")]
    pub cancel: bool,
    #[command(flatten)]
    pub paging: Paging,
}

impl Admin {
    /// The typed client of the admin API these flags name.
    fn client(&self) -> anyhow::Result<Client> {
        let token = self
            .token
            .as_deref()
            .context("no admin token: pass --admin-token or set HOOKGATE_ADMIN_TOKEN")?;
        Ok(Client::new(&self.url, token))
    }

    /// Prints an answer; `line` renders one list item in text mode.
    fn print(&self, answer: &impl Serialize, line: fn(&Value) -> String) {
        let value = &serde_json::to_value(answer).unwrap_or_default();
        let items = value.get("items").and_then(Value::as_array).or(value.as_array());
        match (self.output, items) {
            (Output::Json, _) => crate::outln!("{value}"),
            (Output::Text, Some(items)) => {
                for item in items {
                    crate::outln!("{}", line(item));
                }
                if let Some(c) = value["next_cursor"].as_str() {
                    crate::outln!("(more: --cursor {c})");
                }
            }
            (Output::Text, None) => crate::outln!("{}", serde_json::to_string_pretty(value).unwrap_or_default()),
        }
    }
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}

fn notification_line(n: &Value) -> String {
    format!(
        "{:>8}  {}  {}/{}  {:<9}  attempts {}  key {}  subject {}{}",
        s(&n["id"]),
        s(&n["received_at"]),
        s(&n["tenant"]),
        s(&n["source"]),
        s(&n["status"]),
        s(&n["attempts"]),
        s(&n["delivery_key"]),
        s(&n["subject"]),
        n["last_error"]
            .as_str()
            .map_or_else(String::new, |e| format!("  error: {e}")),
    )
}

/// A plan in text: its headline, the newest notifications it samples, and
/// how to go on.
fn print_plan(headline: &str, plan: &Value, then: &str) {
    crate::outln!("{headline}; newest:");
    for n in plan["sample"].as_array().into_iter().flatten() {
        crate::outln!("{}", notification_line(n));
    }
    crate::outln!("({then})");
}

fn rejection_line(r: &Value) -> String {
    format!(
        "{:>8}  {}  {}/{}  {} {}  {}{}",
        s(&r["id"]),
        s(&r["received_at"]),
        s(&r["tenant"]),
        s(&r["source"]),
        s(&r["http_status"]),
        s(&r["reason"]),
        s(&r["detail"]),
        r["readmitted_as"]
            .as_i64()
            .map_or_else(String::new, |n| format!("  (readmitted as {n})")),
    )
}

fn job_line(j: &Value) -> String {
    format!(
        "{:>6}  {}  {:<9}  {}/{} replayed, {} failed, {} events  by {}",
        s(&j["id"]),
        s(&j["tenant"]),
        s(&j["status"]),
        s(&j["replayed"]),
        s(&j["planned"]),
        s(&j["failed"]),
        s(&j["events"]),
        s(&j["created_by"]),
    )
}

/// `hookgate notifications`.
pub async fn notifications(admin: &Admin, command: NotificationsCommand) -> anyhow::Result<()> {
    match command {
        NotificationsCommand::List { filter, status, paging } => {
            let page = (admin.client()?)
                .notifications(&filter.to_api(status), &paging.to_api())
                .await?;
            admin.print(&page, notification_line);
        }
        NotificationsCommand::Show { id } => {
            admin.print(&admin.client()?.notification(id).await?, notification_line);
        }
    }
    Ok(())
}

/// `hookgate sources [--tenant T]`: each source with its recipe state.
pub async fn sources(admin: &Admin, tenant: Option<TenantId>) -> anyhow::Result<()> {
    let tenants = admin.client()?.tenants().await?;
    let rows: Vec<Value> = (tenants.iter())
        .filter(|t| tenant.as_ref().is_none_or(|want| want.as_str() == t.id))
        .flat_map(|t| {
            t.sources.iter().map(|src| {
                let mut row = serde_json::to_value(src).unwrap_or_default();
                row["tenant"] = Value::String(t.id.clone());
                row
            })
        })
        .collect();
    admin.print(&rows, source_line);
    Ok(())
}

fn source_line(r: &Value) -> String {
    let recipe = &r["recipe"];
    let proven: Vec<String> = (recipe["proven"].as_array().into_iter().flatten())
        .map(|p| format!("{} since {}", s(&p["recipe"]), s(&p["first_verified_at"])))
        .collect();
    let detail = if !proven.is_empty() {
        proven.join("; ")
    } else if let Some(c) = recipe["candidates"].as_array() {
        let names: Vec<String> = c.iter().map(s).collect();
        format!("candidates: {}", names.join(", "))
    } else {
        "no delivery verified yet".to_owned()
    };
    format!(
        "{}/{}  {:<18}  {:<8}  {:<13}  {}",
        s(&r["tenant"]),
        s(&r["id"]),
        s(&r["kind"]),
        s(&r["verification"]),
        s(&recipe["state"]),
        detail
    )
}

/// `hookgate signing-keys --tenant T`.
pub async fn signing_keys(admin: &Admin, tenant: &str) -> anyhow::Result<()> {
    let keys = admin.client()?.signing_keys(tenant).await?;
    if !keys.signed && admin.output == Output::Text {
        crate::outln!("tenant {tenant}'s messages are not signed (no [signing] in its file)");
        return Ok(());
    }
    admin.print(&keys.keys, |k| {
        format!(
            "{}  {}  {}",
            s(&k["id"]),
            s(&k["algorithm"]),
            k["public_key"].as_str().unwrap_or("(a secret: consumers hold it)")
        )
    });
    Ok(())
}

/// `hookgate timeline`.
pub async fn timeline(admin: &Admin, args: &TimelineArgs) -> anyhow::Result<()> {
    let (tenant, subject) = (args.tenant.as_str(), args.subject.as_str());
    let value = serde_json::to_value(admin.client()?.timeline(tenant, subject).await?)?;
    if admin.output == Output::Json {
        crate::outln!("{value}");
        return Ok(());
    }
    for entry in value["entries"].as_array().into_iter().flatten() {
        crate::outln!("{}", notification_line(&entry["notification"]));
        for e in entry["events"].as_array().into_iter().flatten() {
            crate::outln!(
                "          → {}  {}  published {}",
                s(&e["routing_key"]),
                s(&e["event_id"]),
                s(&e["published_at"])
            );
        }
    }
    Ok(())
}

/// `hookgate replay`.
pub async fn replay(admin: &Admin, args: ReplayArgs) -> anyhow::Result<()> {
    if let Some(id) = args.id {
        let body = ReplayOne { queue: args.queue };
        let job = admin.client()?.replay_one(id, &body).await?;
        admin.print(&job, job_line);
        return Ok(());
    }
    let body = ReplayRequest {
        filter: args.filter.to_api(args.status),
        queue: args.queue,
        rate_per_sec: args.rate,
        dry_run: !args.run,
    };
    let answer = serde_json::to_value(admin.client()?.replay(&body).await?)?;
    if admin.output == Output::Text && !args.run {
        let headline = format!(
            "plan: {} notification(s), ids up to {}",
            s(&answer["count"]),
            s(&answer["max_id"])
        );
        print_plan(&headline, &answer, "run it with --run");
    } else {
        admin.print(&answer, job_line);
    }
    Ok(())
}

/// `hookgate jobs`.
pub async fn jobs(admin: &Admin, args: JobsArgs) -> anyhow::Result<()> {
    let client = admin.client()?;
    match (args.id, args.cancel) {
        (Some(id), true) => admin.print(&client.cancel_job(id).await?, job_line),
        (Some(id), false) => admin.print(&client.job(id).await?, job_line),
        (None, _) => admin.print(&client.jobs(&args.paging.to_api()).await?, job_line),
    }
    Ok(())
}

/// `hookgate parked`.
pub async fn parked(admin: &Admin, command: ParkedCommand) -> anyhow::Result<()> {
    match command {
        ParkedCommand::List { filter, paging } => {
            let page = (admin.client()?).parked(&filter.to_api(None), &paging.to_api()).await?;
            admin.print(&page, notification_line);
        }
        ParkedCommand::Requeue { filter, ids, run } => {
            let mut filter = filter.to_api(None);
            filter.ids = (!ids.is_empty()).then_some(ids);
            let body = RequeueRequest { filter, dry_run: !run };
            let answer = serde_json::to_value(admin.client()?.requeue(&body).await?)?;
            if admin.output == Output::Text && !run {
                let headline = format!("plan: {} parked notification(s) would be requeued", s(&answer["count"]));
                print_plan(&headline, &answer, "requeue them with --run");
            } else {
                admin.print(&answer, notification_line);
            }
        }
    }
    Ok(())
}

/// `hookgate rejections`.
pub async fn rejections(admin: &Admin, command: RejectionsCommand) -> anyhow::Result<()> {
    match command {
        RejectionsCommand::List {
            tenant,
            source,
            reason,
            since,
            until,
            paging,
        } => {
            let query = client::RejectionQuery {
                tenant: tenant.map(|t| t.to_string()),
                source: source.map(|s| s.to_string()),
                reason,
                since: since.map(|t| t.to_rfc3339()),
                until: until.map(|t| t.to_rfc3339()),
            };
            let page = admin.client()?.rejections(&query, &paging.to_api()).await?;
            admin.print(&page, rejection_line);
        }
        RejectionsCommand::Show { id } => {
            admin.print(&admin.client()?.rejection(id).await?, rejection_line);
        }
        RejectionsCommand::Readmit { id } => {
            admin.print(&admin.client()?.readmit(id).await?, rejection_line);
        }
    }
    Ok(())
}

fn retention_line(r: &Value) -> String {
    format!(
        "{:<24}  {:>4} days  before {}  notifications {} ({} in whole partitions)  rejections {}",
        r["tenant"].as_str().unwrap_or("(no configured tenant)"),
        s(&r["days"]),
        s(&r["cutoff"]),
        s(&r["notifications"]),
        s(&r["in_dropped_partitions"]),
        s(&r["rejections"]),
    )
}

/// `hookgate retention [--dry-run]`.
pub async fn retention(admin: &Admin, dry_run: bool) -> anyhow::Result<()> {
    let client = admin.client()?;
    let value = serde_json::to_value(if dry_run {
        client.retention_plan().await?
    } else {
        client.retention_run().await?
    })?;
    match (admin.output, value.as_array()) {
        (Output::Text, Some(rows)) => {
            crate::outln!("{}", if dry_run { "would remove:" } else { "removed:" });
            for r in rows {
                crate::outln!("{}", retention_line(r));
            }
        }
        _ => crate::outln!("{value}"),
    }
    Ok(())
}

/// `hookgate erase`.
#[derive(Debug, Args)]
pub struct EraseArgs {
    /// Tenant.
    #[arg(long)]
    pub tenant: TenantId,
    /// A subject, e.g. order/553440887574627.
    #[arg(long)]
    pub subject: Option<String>,
    /// Received at or after (RFC 3339).
    #[arg(long)]
    pub since: Option<DateTime<Utc>>,
    /// Received before (RFC 3339).
    #[arg(long)]
    pub until: Option<DateTime<Utc>>,
    /// Erase (without it: count).
    #[arg(long)]
    pub run: bool,
}

/// `hookgate erase`.
pub async fn erase(admin: &Admin, args: EraseArgs) -> anyhow::Result<()> {
    let body = ErasureRequest {
        tenant: args.tenant.to_string(),
        subject: args.subject,
        since: args.since,
        until: args.until,
        dry_run: !args.run,
    };
    let value = serde_json::to_value(admin.client()?.erase(&body).await?)?;
    if admin.output == Output::Text {
        crate::outln!(
            "{} {} notification(s) and {} rejection(s); {} pending notification(s) skipped{}",
            if args.run { "erased" } else { "would erase" },
            s(&value["notifications"]),
            s(&value["rejections"]),
            s(&value["pending_skipped"]),
            if args.run { "" } else { " (erase with --run)" }
        );
    } else {
        crate::outln!("{value}");
    }
    Ok(())
}
