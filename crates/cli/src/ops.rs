//! The operator commands over the admin API (`notifications`, `timeline`,
//! `replay`, `jobs`, `parked`, `rejections`, `retention`, `erase`): each is one or two calls to a
//! running gateway's `/v1` routes, never a second implementation. The admin
//! URL and token come from flags or `HOOKGATE_ADMIN_URL` /
//! `HOOKGATE_ADMIN_TOKEN`; `--output json` prints the API's answer as is.

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};

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
    /// The API's name of the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Published => "published",
            Status::Parked => "parked",
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

/// Which notifications (the API's filter).
#[derive(Debug, Clone, Default, Args)]
pub struct Filter {
    /// Tenant.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Source id.
    #[arg(long)]
    pub source: Option<String>,
    /// Delivery key.
    #[arg(long)]
    pub delivery_key: Option<String>,
    /// Subject, e.g. order/553440887574627.
    #[arg(long)]
    pub subject: Option<String>,
    /// Received at or after (RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Received before (RFC 3339).
    #[arg(long)]
    pub until: Option<String>,
}

impl Filter {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("tenant", &self.tenant),
            ("source", &self.source),
            ("delivery_key", &self.delivery_key),
            ("subject", &self.subject),
            ("since", &self.since),
            ("until", &self.until),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
        .collect()
    }

    fn json(&self) -> Value {
        Value::Object(
            self.pairs()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), Value::String(v)))
                .collect(),
        )
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
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        if let Some(c) = &self.cursor {
            p.push(("cursor", c.clone()));
        }
        if let Some(l) = self.limit {
            p.push(("limit", l.to_string()));
        }
        p
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
        tenant: Option<String>,
        /// Source.
        #[arg(long)]
        source: Option<String>,
        /// Reason, e.g. bad_signature.
        #[arg(long)]
        reason: Option<String>,
        /// At or after (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Before (RFC 3339).
        #[arg(long)]
        until: Option<String>,
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
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let token = self
            .token
            .as_deref()
            .context("no admin token: pass --admin-token or set HOOKGATE_ADMIN_TOKEN")?;
        let url = format!("{}{path}", self.url.trim_end_matches('/'));
        let mut req = reqwest::Client::new()
            .request(method, &url)
            .bearer_auth(token)
            .query(query);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.with_context(|| format!("calling {url}"))?;
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if !status.is_success() {
            let message = value["message"]
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            anyhow::bail!("{url}: {status}: {message}");
        }
        Ok(value)
    }

    async fn get(&self, path: &str, query: &[(&str, String)]) -> anyhow::Result<Value> {
        self.call(reqwest::Method::GET, path, query, None).await
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, path, &[], Some(body)).await
    }

    /// Prints an answer; `line` renders one list item in text mode.
    fn print(&self, value: &Value, line: fn(&Value) -> String) {
        match (self.output, value.get("items").and_then(Value::as_array)) {
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
            let mut q = filter.pairs();
            q.extend(status.map(|s| ("status", s.as_str().to_owned())));
            q.extend(paging.pairs());
            admin.print(&admin.get("/v1/notifications", &q).await?, notification_line);
        }
        NotificationsCommand::Show { id } => {
            admin.print(
                &admin.get(&format!("/v1/notifications/{id}"), &[]).await?,
                notification_line,
            );
        }
    }
    Ok(())
}

/// `hookgate timeline`.
pub async fn timeline(admin: &Admin, args: &TimelineArgs) -> anyhow::Result<()> {
    let (tenant, subject) = (args.tenant.as_str(), args.subject.as_str());
    let value = admin
        .get(
            &format!("/v1/subjects/{subject}/timeline"),
            &[("tenant", tenant.to_owned())],
        )
        .await?;
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
        let body = json!({ "queue": args.queue });
        let job = admin.post(&format!("/v1/notifications/{id}/replay"), body).await?;
        admin.print(&job, job_line);
        return Ok(());
    }
    let mut filter = args.filter.json();
    if let (Some(status), Some(map)) = (args.status, filter.as_object_mut()) {
        map.insert("status".into(), Value::String(status.as_str().to_owned()));
    }
    let body = json!({ "filter": filter, "queue": args.queue, "rate_per_sec": args.rate, "dry_run": !args.run });
    let answer = admin.post("/v1/replays", body).await?;
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
    let value = match (args.id, args.cancel) {
        (Some(id), true) => admin.post(&format!("/v1/replays/{id}/cancel"), json!({})).await?,
        (Some(id), false) => admin.get(&format!("/v1/replays/{id}"), &[]).await?,
        (None, _) => admin.get("/v1/replays", &args.paging.pairs()).await?,
    };
    admin.print(&value, job_line);
    Ok(())
}

/// `hookgate parked`.
pub async fn parked(admin: &Admin, command: ParkedCommand) -> anyhow::Result<()> {
    match command {
        ParkedCommand::List { filter, paging } => {
            let mut q = filter.pairs();
            q.extend(paging.pairs());
            admin.print(&admin.get("/v1/parked", &q).await?, notification_line);
        }
        ParkedCommand::Requeue { filter, ids, run } => {
            let mut f = filter.json();
            if let (false, Some(map)) = (ids.is_empty(), f.as_object_mut()) {
                map.insert("ids".into(), json!(ids));
            }
            let answer = admin
                .post("/v1/parked/requeue", json!({ "filter": f, "dry_run": !run }))
                .await?;
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
            let mut q: Vec<(&str, String)> = [
                ("tenant", tenant),
                ("source", source),
                ("reason", reason),
                ("since", since),
                ("until", until),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
            q.extend(paging.pairs());
            admin.print(&admin.get("/v1/rejections", &q).await?, rejection_line);
        }
        RejectionsCommand::Show { id } => {
            admin.print(&admin.get(&format!("/v1/rejections/{id}"), &[]).await?, rejection_line);
        }
        RejectionsCommand::Readmit { id } => {
            admin.print(
                &admin.post(&format!("/v1/rejections/{id}/readmit"), json!({})).await?,
                rejection_line,
            );
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
    let value = if dry_run {
        admin.get("/v1/retention", &[]).await?
    } else {
        admin.post("/v1/retention/run", json!({})).await?
    };
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
    pub tenant: String,
    /// A subject, e.g. order/553440887574627.
    #[arg(long)]
    pub subject: Option<String>,
    /// Received at or after (RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Received before (RFC 3339).
    #[arg(long)]
    pub until: Option<String>,
    /// Erase (without it: count).
    #[arg(long)]
    pub run: bool,
}

/// `hookgate erase`.
pub async fn erase(admin: &Admin, args: EraseArgs) -> anyhow::Result<()> {
    let body = json!({
        "tenant": args.tenant, "subject": args.subject, "since": args.since, "until": args.until, "dry_run": !args.run,
    });
    let value = admin.post("/v1/erasures", body).await?;
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
