//! A typed client of hookgate's admin API (`/v1`): one method per
//! operation, taking and returning the wire types of `hookgate-api-types`,
//! so a field renamed on the server breaks this crate's build, not a script
//! at 3 a.m. The CLI's operator commands are written over it.
//!
//! Architecture invariant: knows the API only through `hookgate-api-types`
//! and HTTP; nothing of the server's crates.

pub use hookgate_api_types as types;

use hookgate_api_types::{
    AuditEntry, Erased, ErasureRequest, ErrorBody, NotificationDetail, NotificationFilter, NotificationSummary, Page,
    Plan, ReadmitResult, RejectionDetail, RejectionSummary, ReloadStatus, ReplayJob, ReplayOne, ReplayRequest,
    RequeueAnswer, RequeueRequest, TenantRetention, TenantView, Timeline,
};
use hookgate_api_types::{Incident, IncidentDetail, SigningKeys, SourceHealth};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// What a call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The API answered an error (`{error, message}`).
    #[error("{status} {}: {}", .body.error, .body.message)]
    Api {
        /// HTTP status.
        status: u16,
        /// The answer.
        body: ErrorBody,
    },
    /// The request did not get an answer.
    #[error("calling {url}")]
    Http {
        /// The URL called.
        url: String,
        /// Why.
        #[source]
        cause: reqwest::Error,
    },
    /// The answer is not what the API documents.
    #[error("{url}: unexpected answer ({status}): {text}")]
    Unexpected {
        /// The URL called.
        url: String,
        /// HTTP status.
        status: u16,
        /// What came back (shortened).
        text: String,
    },
}

/// One page of a list: where to start (`cursor`, from the previous page's
/// `next_cursor`) and how many.
#[derive(Debug, Clone, Default)]
pub struct Paging {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size (1 to 500).
    pub limit: Option<i64>,
}

/// Which rejections.
#[derive(Debug, Clone, Default)]
pub struct RejectionQuery {
    /// Tenant.
    pub tenant: Option<String>,
    /// Source id.
    pub source: Option<String>,
    /// Reason, e.g. `bad_signature`.
    pub reason: Option<String>,
    /// Received at or after (RFC 3339).
    pub since: Option<String>,
    /// Received before (RFC 3339).
    pub until: Option<String>,
}

/// A replay's answer: the plan (a dry run) or the job it made.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ReplayAnswer {
    /// What it would replay.
    Plan(Plan),
    /// The job.
    Job(Box<ReplayJob>),
}

/// The admin API of one gateway, with one bearer token.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

fn pairs(items: &[(&'static str, Option<String>)]) -> Vec<(&'static str, String)> {
    items.iter().filter_map(|(k, v)| v.clone().map(|v| (*k, v))).collect()
}

fn filter_pairs(f: &NotificationFilter) -> Vec<(&'static str, String)> {
    pairs(&[
        ("tenant", f.tenant.as_ref().map(|t| t.to_string())),
        ("source", f.source.as_ref().map(|s| s.to_string())),
        ("status", f.status.map(|s| s.as_str().to_owned())),
        ("delivery_key", f.delivery_key.clone()),
        ("subject", f.subject.clone()),
        ("since", f.since.map(|t| t.to_rfc3339())),
        ("until", f.until.map(|t| t.to_rfc3339())),
    ])
}

fn paging_pairs(p: &Paging) -> Vec<(&'static str, String)> {
    pairs(&[("cursor", p.cursor.clone()), ("limit", p.limit.map(|l| l.to_string()))])
}

impl Client {
    /// A client of the admin listener at `base` (e.g. `http://127.0.0.1:8081`).
    pub fn new(base: &str, token: &str) -> Client {
        Client {
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http: reqwest::Client::new(),
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&dyn erased::Body>,
    ) -> Result<(u16, T), ClientError> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method, &url).bearer_auth(&self.token).query(query);
        if let Some(b) = body {
            req = req.json(&b.value());
        }
        let r = req.send().await.map_err(|cause| ClientError::Http {
            url: url.clone(),
            cause,
        })?;
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        if !(200..300).contains(&status) {
            return Err(match serde_json::from_str::<ErrorBody>(&text) {
                Ok(body) => ClientError::Api { status, body },
                Err(_) => ClientError::Unexpected {
                    url,
                    status,
                    text: text.chars().take(300).collect(),
                },
            });
        }
        serde_json::from_str(&text)
            .map(|v| (status, v))
            .map_err(|e| ClientError::Unexpected {
                url,
                status,
                text: format!("{e}: {}", text.chars().take(300).collect::<String>()),
            })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> Result<T, ClientError> {
        self.call(reqwest::Method::GET, path, query, None).await.map(|(_, v)| v)
    }

    async fn post<T: DeserializeOwned>(&self, path: &str, body: &dyn erased::Body) -> Result<(u16, T), ClientError> {
        self.call(reqwest::Method::POST, path, &[], Some(body)).await
    }

    /// A POST whose body is `{}` (the action is in the path).
    async fn act<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let empty = serde_json::json!({});
        self.post(path, &empty).await.map(|(_, v)| v)
    }

    /// `GET /v1/notifications`.
    pub async fn notifications(
        &self,
        filter: &NotificationFilter,
        paging: &Paging,
    ) -> Result<Page<NotificationSummary>, ClientError> {
        self.filtered("/v1/notifications", filter, paging).await
    }

    /// `GET /v1/parked`.
    pub async fn parked(
        &self,
        filter: &NotificationFilter,
        paging: &Paging,
    ) -> Result<Page<NotificationSummary>, ClientError> {
        self.filtered("/v1/parked", filter, paging).await
    }

    /// A page of `path` chosen by a notification filter.
    async fn filtered(
        &self,
        path: &str,
        filter: &NotificationFilter,
        paging: &Paging,
    ) -> Result<Page<NotificationSummary>, ClientError> {
        let mut q = filter_pairs(filter);
        q.extend(paging_pairs(paging));
        self.get(path, &q).await
    }

    /// `GET /v1/notifications/{id}`.
    pub async fn notification(&self, id: i64) -> Result<NotificationDetail, ClientError> {
        self.get(&format!("/v1/notifications/{id}"), &[]).await
    }

    /// `GET /v1/subjects/{subject}/timeline`.
    pub async fn timeline(&self, tenant: &str, subject: &str) -> Result<Timeline, ClientError> {
        self.get(
            &format!("/v1/subjects/{subject}/timeline"),
            &[("tenant", tenant.to_owned())],
        )
        .await
    }

    /// `POST /v1/notifications/{id}/replay`.
    pub async fn replay_one(&self, id: i64, body: &ReplayOne) -> Result<ReplayJob, ClientError> {
        self.post(&format!("/v1/notifications/{id}/replay"), body)
            .await
            .map(|(_, v)| v)
    }

    /// `POST /v1/replays`: the plan (dry run, 200) or the job (202).
    pub async fn replay(&self, body: &ReplayRequest) -> Result<ReplayAnswer, ClientError> {
        let (status, value): (u16, serde_json::Value) = self.post("/v1/replays", body).await?;
        let decoded = if status == 202 {
            serde_json::from_value(value.clone()).map(|job| ReplayAnswer::Job(Box::new(job)))
        } else {
            serde_json::from_value(value.clone()).map(ReplayAnswer::Plan)
        };
        decoded.map_err(|e| ClientError::Unexpected {
            url: format!("{}/v1/replays", self.base),
            status,
            text: format!("{e}: {value}"),
        })
    }

    /// `GET /v1/replays`.
    pub async fn jobs(&self, paging: &Paging) -> Result<Page<ReplayJob>, ClientError> {
        self.get("/v1/replays", &paging_pairs(paging)).await
    }

    /// `GET /v1/replays/{id}`.
    pub async fn job(&self, id: i64) -> Result<ReplayJob, ClientError> {
        self.get(&format!("/v1/replays/{id}"), &[]).await
    }

    /// `POST /v1/replays/{id}/cancel`.
    pub async fn cancel_job(&self, id: i64) -> Result<ReplayJob, ClientError> {
        self.act(&format!("/v1/replays/{id}/cancel")).await
    }

    /// `POST /v1/parked/requeue`.
    pub async fn requeue(&self, body: &RequeueRequest) -> Result<RequeueAnswer, ClientError> {
        self.post("/v1/parked/requeue", body).await.map(|(_, v)| v)
    }

    /// `GET /v1/rejections`.
    pub async fn rejections(
        &self,
        query: &RejectionQuery,
        paging: &Paging,
    ) -> Result<Page<RejectionSummary>, ClientError> {
        let mut q = pairs(&[
            ("tenant", query.tenant.clone()),
            ("source", query.source.clone()),
            ("reason", query.reason.clone()),
            ("since", query.since.clone()),
            ("until", query.until.clone()),
        ]);
        q.extend(paging_pairs(paging));
        self.get("/v1/rejections", &q).await
    }

    /// `GET /v1/rejections/{id}`.
    pub async fn rejection(&self, id: i64) -> Result<RejectionDetail, ClientError> {
        self.get(&format!("/v1/rejections/{id}"), &[]).await
    }

    /// `POST /v1/rejections/{id}/readmit`.
    pub async fn readmit(&self, id: i64) -> Result<ReadmitResult, ClientError> {
        self.act(&format!("/v1/rejections/{id}/readmit")).await
    }

    /// `GET /v1/retention`: what retention would remove now.
    pub async fn retention_plan(&self) -> Result<Vec<TenantRetention>, ClientError> {
        self.get("/v1/retention", &[]).await
    }

    /// `POST /v1/retention/run`.
    pub async fn retention_run(&self) -> Result<Vec<TenantRetention>, ClientError> {
        self.act("/v1/retention/run").await
    }

    /// `POST /v1/erasures`.
    pub async fn erase(&self, body: &ErasureRequest) -> Result<Erased, ClientError> {
        self.post("/v1/erasures", body).await.map(|(_, v)| v)
    }

    /// `GET /v1/tenants`.
    pub async fn tenants(&self) -> Result<Vec<TenantView>, ClientError> {
        self.get("/v1/tenants", &[]).await
    }

    /// `GET /v1/signing-keys?tenant=T`.
    pub async fn signing_keys(&self, tenant: &str) -> Result<SigningKeys, ClientError> {
        self.get("/v1/signing-keys", &pairs(&[("tenant", Some(tenant.to_owned()))]))
            .await
    }

    /// `GET /v1/audit`.
    pub async fn audit(&self, paging: &Paging) -> Result<Page<AuditEntry>, ClientError> {
        self.get("/v1/audit", &paging_pairs(paging)).await
    }

    /// `GET /v1/config/reload`.
    pub async fn reload_status(&self) -> Result<ReloadStatus, ClientError> {
        self.get("/v1/config/reload", &[]).await
    }

    /// `POST /v1/config/reload`.
    pub async fn reload(&self) -> Result<ReloadStatus, ClientError> {
        self.act("/v1/config/reload").await
    }

    /// `GET /v1/sources/health`.
    pub async fn source_health(&self, tenant: Option<&str>) -> Result<Vec<SourceHealth>, ClientError> {
        self.get("/v1/sources/health", &pairs(&[("tenant", tenant.map(str::to_owned))]))
            .await
    }

    /// `GET /v1/incidents` (`all`: resolved ones too).
    pub async fn incidents(
        &self,
        all: bool,
        kind: Option<&str>,
        tenant: Option<&str>,
        paging: &Paging,
    ) -> Result<Page<Incident>, ClientError> {
        let mut q = pairs(&[
            ("scope", Some(if all { "all" } else { "active" }.to_owned())),
            ("kind", kind.map(str::to_owned)),
            ("tenant", tenant.map(str::to_owned)),
        ]);
        q.extend(paging_pairs(paging));
        self.get("/v1/incidents", &q).await
    }

    /// `GET /v1/incidents/{id}`.
    pub async fn incident(&self, id: i64) -> Result<IncidentDetail, ClientError> {
        self.get(&format!("/v1/incidents/{id}"), &[]).await
    }

    /// `POST /v1/incidents/{id}/{action}`: `acknowledge`, `resolve` or `ignore`.
    pub async fn change_incident(&self, id: i64, action: &str) -> Result<IncidentDetail, ClientError> {
        self.act(&format!("/v1/incidents/{id}/{action}")).await
    }
}

/// Request bodies as JSON, object-safe (the methods above take any of the
/// wire types).
mod erased {
    pub trait Body {
        fn value(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Body for T {
        fn value(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or_default()
        }
    }
}
