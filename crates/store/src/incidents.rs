//! Incidents and their transitions. Every change takes one transaction-level
//! advisory lock, so the evaluator of one process, an operator's
//! acknowledgement and a reload's refusal never interleave, and the
//! evaluators of several processes take turns (one decides per round; the
//! others find the lock taken and skip). A transition and its operator
//! event are written in the same transaction.

use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use hookgate_watch::{decide, operator_event, routing_key, Active, Change, Condition, Facts, Key, Kind, Report, State};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};

/// The advisory lock of incident changes ("hookwatc" in ASCII). Distinct
/// from the relay's claim lock and the partitions' lock: sharing the claim's
/// key made rounds skip while a relay claimed, and held claims back while an
/// evaluator decided.
pub(crate) const WATCH_LOCK: i64 = 0x686f_6f6b_7761_7463;

/// One incident as the evaluator and the changes see it (typed key and
/// state); reads for the API answer [`hookgate_api_types::Incident`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Incident {
    /// Id.
    pub id: i64,
    /// Kind, tenant, source, cause.
    pub key: Key,
    /// State.
    pub state: State,
    /// Count (refusals, parked rows, seconds of age).
    pub count: i64,
    /// Sample ids (notifications or rejections).
    pub samples: Vec<i64>,
    /// One line.
    pub summary: String,
    /// Opened.
    pub opened_at: DateTime<Utc>,
    /// Last changed (count or state).
    pub updated_at: DateTime<Utc>,
    /// Closed (resolved, or an ignored one's condition ended).
    pub closed_at: Option<DateTime<Utc>>,
}

/// A transition just made (what the caller counts and logs).
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentTransition {
    /// Id (also in the operator event's id).
    pub id: i64,
    /// Incident.
    pub incident_id: i64,
    /// Kind of the incident.
    pub kind: Kind,
    /// The state it moved to.
    pub state: State,
}

/// An operator event to publish.
#[derive(Debug, Clone)]
pub struct OperatorEvent {
    /// Transition id.
    pub id: i64,
    /// `<kind>.<state>`.
    pub routing_key: String,
    /// The CloudEvent (structured mode).
    pub event: serde_json::Value,
}

/// Why an operator's change was not made.
#[derive(Debug, thiserror::Error)]
pub enum IncidentChangeError {
    /// No such incident (or not one of the caller's tenants).
    #[error("no such incident")]
    NotFound,
    /// The change is not one its state allows.
    #[error("an incident that is {from} cannot become {to}")]
    NotAllowed {
        /// Current state.
        from: &'static str,
        /// Asked for.
        to: &'static str,
    },
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
}

const COLUMNS: &str =
    "id, kind, tenant, source, cause, state, count, samples, summary, opened_at, updated_at, closed_at";

fn incident(r: &PgRow) -> Result<Incident, StoreError> {
    let kind: String = r.try_get("kind")?;
    let state: String = r.try_get("state")?;
    Ok(Incident {
        id: r.try_get("id")?,
        key: Key {
            kind: Kind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("incident kind {kind:?}")))?,
            tenant: r.try_get("tenant")?,
            source: r.try_get("source")?,
            cause: r.try_get("cause")?,
        },
        state: State::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("incident state {state:?}")))?,
        count: r.try_get("count")?,
        samples: r.try_get("samples")?,
        summary: r.try_get("summary")?,
        opened_at: r.try_get("opened_at")?,
        updated_at: r.try_get("updated_at")?,
        closed_at: r.try_get("closed_at")?,
    })
}

/// An incident as the API answers it.
fn view(i: Incident) -> hookgate_api_types::Incident {
    hookgate_api_types::Incident {
        id: i.id,
        kind: i.key.kind.as_str().to_owned(),
        tenant: i.key.tenant,
        source: i.key.source,
        cause: i.key.cause,
        state: i.state.as_str().to_owned(),
        count: i.count,
        samples: i.samples,
        summary: i.summary,
        opened_at: i.opened_at,
        updated_at: i.updated_at,
        closed_at: i.closed_at,
    }
}

/// Writes a transition and its operator event.
async fn record(
    tx: &mut Transaction<'_, Postgres>,
    i: &Incident,
    state: State,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<IncidentTransition, StoreError> {
    let id: i64 = sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('incident_events', 'id'))")
        .fetch_one(&mut **tx)
        .await?;
    let report = Report {
        id: i.id,
        key: &i.key,
        state,
        count: i.count,
        samples: &i.samples,
        summary: &i.summary,
        opened_at: i.opened_at,
        by: actor,
    };
    let event = operator_event(id, &report, at);
    sqlx::query(
        "INSERT INTO incident_events (id, incident_id, state, at, actor, routing_key, event)
         OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(i.id)
    .bind(state.as_str())
    .bind(at)
    .bind(crate::pg_text(actor).as_ref())
    .bind(routing_key(i.key.kind, state))
    .bind(event)
    .execute(&mut **tx)
    .await?;
    // A tenant's own endpoint, if it has one when the notifier runs.
    if !i.key.tenant.is_empty() {
        sqlx::query("INSERT INTO incident_deliveries (event_id, tenant, at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(crate::pg_text(&i.key.tenant).as_ref())
            .bind(at)
            .execute(&mut **tx)
            .await?;
    }
    Ok(IncidentTransition {
        id,
        incident_id: i.id,
        kind: i.key.kind,
        state,
    })
}

async fn active(tx: &mut Transaction<'_, Postgres>) -> Result<Vec<Incident>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM incidents WHERE closed_at IS NULL ORDER BY id FOR UPDATE"
    ))
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(incident).collect()
}

async fn open(
    tx: &mut Transaction<'_, Postgres>,
    c: &Condition,
    at: DateTime<Utc>,
) -> Result<IncidentTransition, StoreError> {
    insert(tx, c, State::Open, at).await
}

/// A new incident in `state` (`open`, or `resolved` for a notice, closed as
/// it is made), with its transition.
async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    c: &Condition,
    state: State,
    at: DateTime<Utc>,
) -> Result<IncidentTransition, StoreError> {
    let row = sqlx::query(&format!(
        "INSERT INTO incidents (kind, tenant, source, cause, state, count, samples, summary, opened_at, updated_at,
                                closed_at)
         VALUES ($1, $2, $3, $4, $9, $5, $6, $7, $8, $8, CASE WHEN $9 = 'resolved' THEN $8 END) RETURNING {COLUMNS}"
    ))
    .bind(c.key.kind.as_str())
    .bind(crate::pg_text(&c.key.tenant).as_ref())
    .bind(crate::pg_text(&c.key.source).as_ref())
    .bind(crate::pg_text(&c.key.cause).as_ref())
    .bind(c.count)
    .bind(&c.samples)
    .bind(crate::pg_text(&c.summary).as_ref())
    .bind(at)
    .bind(state.as_str())
    .fetch_one(&mut **tx)
    .await?;
    let i = incident(&row)?;
    record(tx, &i, state, "", at).await
}

/// Takes the incidents' advisory lock for the transaction.
pub(crate) async fn lock(tx: &mut Transaction<'_, Postgres>) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(WATCH_LOCK)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// [`Store::raise_incident`] inside a transaction holding [`lock`].
pub(crate) async fn raise_in(
    tx: &mut Transaction<'_, Postgres>,
    c: &Condition,
    now: DateTime<Utc>,
) -> Result<Option<IncidentTransition>, StoreError> {
    if c.key.kind.notice() {
        return Ok(Some(insert(tx, c, State::Resolved, now).await?));
    }
    let existing = active(tx).await?.into_iter().find(|i| i.key == c.key);
    Ok(match existing {
        Some(i) => {
            sqlx::query("UPDATE incidents SET count = count + 1, summary = $2, updated_at = $3 WHERE id = $1")
                .bind(i.id)
                .bind(crate::pg_text(&c.summary).as_ref())
                .bind(now)
                .execute(&mut **tx)
                .await?;
            None
        }
        None => Some(open(tx, c, now).await?),
    })
}

async fn close(
    tx: &mut Transaction<'_, Postgres>,
    i: &Incident,
    state: State,
    actor: &str,
    at: DateTime<Utc>,
    transition: bool,
) -> Result<Option<IncidentTransition>, StoreError> {
    let closes = matches!(state, State::Resolved) || !transition;
    sqlx::query(
        "UPDATE incidents SET state = $2, updated_at = $3, closed_at = CASE WHEN $4 THEN $3 ELSE closed_at END
         WHERE id = $1",
    )
    .bind(i.id)
    .bind(state.as_str())
    .bind(at)
    .bind(closes)
    .execute(&mut **tx)
    .await?;
    if !transition {
        return Ok(None);
    }
    Ok(Some(record(tx, i, state, actor, at).await?))
}

impl Store {
    /// One round of the evaluator: compares the conditions seen now with the
    /// active incidents and writes what changed. `None` when another process
    /// holds the lock (it evaluates this round).
    pub async fn evaluate_incidents(
        &self,
        present: &[Condition],
        unjudged: &[Kind],
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<IncidentTransition>>, StoreError> {
        let mut tx = self.pool().begin().await?;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(WATCH_LOCK)
            .fetch_one(&mut *tx)
            .await?;
        if !got {
            tx.rollback().await?;
            return Ok(None);
        }
        let active_rows = active(&mut tx).await?;
        let as_active: Vec<Active> = active_rows
            .iter()
            .map(|i| Active {
                id: i.id,
                key: i.key.clone(),
                state: i.state,
            })
            .collect();
        let by_id = |id: i64| active_rows.iter().find(|i| i.id == id);
        let mut transitions = Vec::new();
        for change in decide(&as_active, present, unjudged) {
            match change {
                Change::Open(c) => transitions.push(open(&mut tx, &c, now).await?),
                Change::Update(id, c) => {
                    let same = by_id(id).is_some_and(|i| i.count == c.count && i.samples == c.samples);
                    if !same {
                        sqlx::query("UPDATE incidents SET count = $2, samples = $3, summary = $4, updated_at = $5 WHERE id = $1")
                            .bind(id)
                            .bind(c.count)
                            .bind(&c.samples)
                            .bind(crate::pg_text(&c.summary).as_ref())
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                Change::Resolve(id) => {
                    if let Some(i) = by_id(id) {
                        transitions.extend(close(&mut tx, i, State::Resolved, "", now, true).await?);
                    }
                }
                Change::Close(id) => {
                    if let Some(i) = by_id(id) {
                        close(&mut tx, i, State::Ignored, "", now, false).await?;
                    }
                }
            }
        }
        tx.commit().await?;
        Ok(Some(transitions))
    }

    /// Opens an incident the evaluator does not judge (a refused reload, a
    /// failed replay), or updates the open one of its key; records a notice
    /// ([`Kind::notice`]: a key added) resolved at once. Returns the
    /// transition, if any.
    pub async fn raise_incident(
        &self,
        c: &Condition,
        now: DateTime<Utc>,
    ) -> Result<Option<IncidentTransition>, StoreError> {
        let mut tx = self.locked().await?;
        let t = raise_in(&mut tx, c, now).await?;
        tx.commit().await?;
        Ok(t)
    }

    /// Resolves the active incident of `key` (a reload that succeeded).
    pub async fn clear_incident(
        &self,
        key: &Key,
        now: DateTime<Utc>,
    ) -> Result<Option<IncidentTransition>, StoreError> {
        let mut tx = self.locked().await?;
        let existing = active(&mut tx).await?.into_iter().find(|i| &i.key == key);
        let t = match existing {
            Some(i) if i.state == State::Ignored => close(&mut tx, &i, State::Ignored, "", now, false).await?,
            Some(i) => close(&mut tx, &i, State::Resolved, "", now, true).await?,
            None => None,
        };
        tx.commit().await?;
        Ok(t)
    }

    /// An operator's change (acknowledge, resolve, ignore), limited to
    /// `tenants` when the token is (an incident of the whole gateway is not
    /// one of a limited token's).
    pub async fn change_incident(
        &self,
        id: i64,
        to: State,
        actor: &str,
        tenants: Option<&[String]>,
        now: DateTime<Utc>,
    ) -> Result<IncidentTransition, IncidentChangeError> {
        let mut tx = self.locked().await?;
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM incidents WHERE id = $1 FOR UPDATE"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        // A refusal ends the transaction at once: it holds the incident lock.
        let Some(row) = row else {
            tx.rollback().await.map_err(StoreError::from)?;
            return Err(IncidentChangeError::NotFound);
        };
        let i = incident(&row)?;
        if tenants.is_some_and(|t| !t.contains(&i.key.tenant)) {
            tx.rollback().await.map_err(StoreError::from)?;
            return Err(IncidentChangeError::NotFound);
        }
        if i.closed_at.is_some() || !i.state.can_become(to) {
            tx.rollback().await.map_err(StoreError::from)?;
            return Err(IncidentChangeError::NotAllowed {
                from: if i.closed_at.is_some() {
                    "closed"
                } else {
                    i.state.as_str()
                },
                to: to.as_str(),
            });
        }
        let t = match to {
            State::Resolved => close(&mut tx, &i, to, actor, now, true).await?,
            _ => {
                sqlx::query("UPDATE incidents SET state = $2, updated_at = $3 WHERE id = $1")
                    .bind(i.id)
                    .bind(to.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from)?;
                Some(record(&mut tx, &i, to, actor, now).await?)
            }
        };
        tx.commit().await.map_err(StoreError::from)?;
        t.ok_or(IncidentChangeError::NotFound)
    }

    async fn locked(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        let mut tx = self.pool().begin().await?;
        lock(&mut tx).await?;
        Ok(tx)
    }

    /// Incidents, newest first: the active ones only, or all; of these
    /// tenants (`None`: all, including those of the whole gateway).
    pub async fn incidents(
        &self,
        active_only: bool,
        kind: Option<Kind>,
        tenants: Option<&[String]>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<hookgate_api_types::Incident>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM incidents
             WHERE (NOT $1 OR closed_at IS NULL) AND ($2::text IS NULL OR kind = $2)
               AND ($3::text[] IS NULL OR tenant = ANY($3)) AND ($4::bigint IS NULL OR id < $4)
             ORDER BY id DESC LIMIT $5"
        ))
        .bind(active_only)
        .bind(kind.map(Kind::as_str))
        .bind(tenants)
        .bind(before)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| incident(r).map(view)).collect()
    }

    /// One incident with its transitions, oldest first.
    pub async fn incident(&self, id: i64) -> Result<Option<hookgate_api_types::IncidentDetail>, StoreError> {
        let Some(row) = sqlx::query(&format!("SELECT {COLUMNS} FROM incidents WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
        else {
            return Ok(None);
        };
        let incident = view(incident(&row)?);
        let rows = sqlx::query(
            "SELECT id, state, at, actor, published_at FROM incident_events WHERE incident_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        let transitions = rows
            .iter()
            .map(|r| {
                Ok(hookgate_api_types::IncidentTransition {
                    id: r.try_get("id")?,
                    state: r.try_get("state")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    published_at: r.try_get("published_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok(Some(hookgate_api_types::IncidentDetail { incident, transitions }))
    }

    /// Leases up to `limit` unpublished operator events, oldest first, for
    /// `lease_secs` (another process skips them meanwhile).
    pub async fn lease_operator_events(&self, limit: i64, lease_secs: f64) -> Result<Vec<OperatorEvent>, StoreError> {
        let rows = sqlx::query(
            "UPDATE incident_events SET leased_until = now() + make_interval(secs => $2)
             WHERE id IN (SELECT id FROM incident_events
                          WHERE published_at IS NULL AND (leased_until IS NULL OR leased_until < now())
                          ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
             RETURNING id, routing_key, event",
        )
        .bind(limit)
        .bind(lease_secs)
        .fetch_all(self.pool())
        .await?;
        let mut events = rows
            .iter()
            .map(|r| {
                Ok(OperatorEvent {
                    id: r.try_get("id")?,
                    routing_key: r.try_get("routing_key")?,
                    event: r.try_get("event")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        events.sort_by_key(|e| e.id);
        Ok(events)
    }

    /// Marks operator events published.
    pub async fn operator_events_published(&self, ids: &[i64]) -> Result<(), StoreError> {
        sqlx::query("UPDATE incident_events SET published_at = now(), leased_until = NULL WHERE id = ANY($1)")
            .bind(ids)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Leases up to `limit` operator events of `tenants` (those with their
    /// own endpoint) not yet delivered to it, due, of the last day, oldest
    /// first, for `lease_secs`: (event, its tenant, attempts so far).
    pub async fn lease_tenant_notifications(
        &self,
        tenants: &[String],
        limit: i64,
        lease_secs: f64,
    ) -> Result<Vec<(OperatorEvent, String, i32)>, StoreError> {
        if tenants.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "WITH leased AS (
                 UPDATE incident_deliveries SET leased_until = now() + make_interval(secs => $3)
                 WHERE (event_id, tenant) IN (
                     SELECT event_id, tenant FROM incident_deliveries
                     WHERE tenant = ANY($1) AND notified_at IS NULL AND at > now() - interval '1 day'
                       AND (next_at IS NULL OR next_at <= now())
                       AND (leased_until IS NULL OR leased_until < now())
                     ORDER BY event_id LIMIT $2 FOR UPDATE SKIP LOCKED)
                 RETURNING event_id, tenant, attempts)
             SELECT e.id, e.routing_key, e.event, l.tenant, l.attempts
             FROM leased l JOIN incident_events e ON e.id = l.event_id ORDER BY e.id",
        )
        .bind(tenants)
        .bind(limit)
        .bind(lease_secs)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    OperatorEvent {
                        id: r.try_get("id")?,
                        routing_key: r.try_get("routing_key")?,
                        event: r.try_get("event")?,
                    },
                    r.try_get("tenant")?,
                    r.try_get("attempts")?,
                ))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Removes tenant notification rows older than two days: past the
    /// one-day window in which they are sent, delivered or not (retention).
    pub async fn expire_incident_deliveries(&self) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM incident_deliveries WHERE at < now() - interval '2 days'")
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }

    /// Records one attempt of a tenant's notification: delivered, or due
    /// again in `retry_in_secs`.
    pub async fn tenant_notification_attempted(
        &self,
        event_id: i64,
        tenant: &str,
        delivered: bool,
        retry_in_secs: f64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE incident_deliveries SET attempts = attempts + 1, leased_until = NULL,
                    notified_at = CASE WHEN $3 THEN now() END,
                    next_at = CASE WHEN $3 THEN NULL ELSE now() + make_interval(secs => $4) END
             WHERE event_id = $1 AND tenant = $2",
        )
        .bind(event_id)
        .bind(tenant)
        .bind(delivered)
        .bind(retry_in_secs)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Leases up to `limit` operator events not yet notified over HTTP whose
    /// next attempt is due, oldest first, for `lease_secs`; returns them with
    /// their attempts so far.
    pub async fn lease_notifications(
        &self,
        limit: i64,
        lease_secs: f64,
    ) -> Result<Vec<(OperatorEvent, i32)>, StoreError> {
        let rows = sqlx::query(
            "UPDATE incident_events SET notify_leased_until = now() + make_interval(secs => $2)
             WHERE id IN (SELECT id FROM incident_events
                          WHERE notified_at IS NULL AND (notify_next_at IS NULL OR notify_next_at <= now())
                            AND (notify_leased_until IS NULL OR notify_leased_until < now())
                          ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
             RETURNING id, routing_key, event, notify_attempts",
        )
        .bind(limit)
        .bind(lease_secs)
        .fetch_all(self.pool())
        .await?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok((
                    OperatorEvent {
                        id: r.try_get("id")?,
                        routing_key: r.try_get("routing_key")?,
                        event: r.try_get("event")?,
                    },
                    r.try_get("notify_attempts")?,
                ))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        out.sort_by_key(|(e, _)| e.id);
        Ok(out)
    }

    /// Records an HTTP notification's outcome: delivered, or retried after `retry_in_secs`.
    pub async fn notification_attempted(&self, id: i64, delivered: bool, retry_in_secs: f64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE incident_events SET notify_leased_until = NULL, notify_attempts = notify_attempts + 1,
                    notified_at = CASE WHEN $2 THEN now() END,
                    notify_next_at = CASE WHEN $2 THEN NULL ELSE now() + make_interval(secs => $3) END
             WHERE id = $1",
        )
        .bind(id)
        .bind(delivered)
        .bind(retry_in_secs)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Active incidents per kind (for `hookgate_incidents_active`).
    pub async fn active_incident_counts(&self) -> Result<Vec<(Kind, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, count(*) AS n FROM incidents WHERE closed_at IS NULL AND state <> 'ignored' GROUP BY kind",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let kind: String = r.try_get("kind")?;
            if let Some(k) = Kind::parse(&kind) {
                out.push((k, r.try_get("n")?));
            }
        }
        Ok(out)
    }
}

impl Store {
    /// What the evaluator judges by: accepted traffic since
    /// `accepted_since`, refusals since `refused_since`, the outbox per tenant.
    pub async fn watch_facts(
        &self,
        accepted_since: DateTime<Utc>,
        refused_since: DateTime<Utc>,
    ) -> Result<Facts, StoreError> {
        let mut facts = Facts::default();
        let rows = sqlx::query(
            "SELECT tenant, source, hour, sum(count)::bigint AS n FROM traffic_hourly
             WHERE hour >= $1 AND outcome <> 'rejected' GROUP BY tenant, source, hour",
        )
        .bind(accepted_since)
        .fetch_all(self.pool())
        .await?;
        for r in &rows {
            facts.hourly_accepted.push((
                r.try_get("tenant")?,
                r.try_get("source")?,
                r.try_get("hour")?,
                r.try_get("n")?,
            ));
        }
        let rows = sqlx::query("SELECT tenant, source, min(hour) AS first FROM traffic_hourly GROUP BY tenant, source")
            .fetch_all(self.pool())
            .await?;
        for r in &rows {
            facts
                .first_seen
                .push((r.try_get("tenant")?, r.try_get("source")?, r.try_get("first")?));
        }
        let rows = sqlx::query(
            "SELECT tenant, source, last_accepted_at FROM source_activity WHERE last_accepted_at IS NOT NULL",
        )
        .fetch_all(self.pool())
        .await?;
        for r in &rows {
            facts.last_accepted.push((
                r.try_get("tenant")?,
                r.try_get("source")?,
                r.try_get("last_accepted_at")?,
            ));
        }
        let rows = sqlx::query(
            "SELECT tenant, source, reason, sum(count)::bigint AS n, max(last_at) AS latest FROM traffic_hourly
             WHERE hour >= $1 AND outcome = 'rejected' GROUP BY tenant, source, reason",
        )
        .bind(refused_since)
        .fetch_all(self.pool())
        .await?;
        for r in &rows {
            facts.refused.push((
                r.try_get("tenant")?,
                r.try_get("source")?,
                r.try_get("reason")?,
                r.try_get("n")?,
                r.try_get("latest")?,
            ));
        }
        for o in self.outbox_by_tenant(None).await? {
            facts
                .outbox
                .push((o.tenant, o.parked, o.pending, o.oldest_pending_secs));
        }
        // Is any relay publishing? The longest a pending row has been due
        // unclaimed, and the last publish (the newest notification's event:
        // a backward walk of the events' notification index).
        let due: f64 = sqlx::query_scalar(
            "SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(available_at))::float8, 0) FROM outbox
             WHERE status = 'pending' AND available_at <= now() AND (lease_until IS NULL OR lease_until < now())",
        )
        .fetch_one(self.pool())
        .await?;
        let last: Option<f64> = sqlx::query_scalar(
            "SELECT EXTRACT(EPOCH FROM now() - published_at)::float8 FROM events
             WHERE published_at IS NOT NULL ORDER BY notification_id DESC LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await?;
        facts.relay = (due, last);
        Ok(facts)
    }

    /// The newest rejection ids of a source and reason (an incident's samples).
    pub async fn rejection_samples(
        &self,
        tenant: &str,
        source: &str,
        reason: &str,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM rejections WHERE tenant = $1 AND source = $2 AND reason = $3 ORDER BY id DESC LIMIT $4",
        )
        .bind(crate::pg_text(tenant).as_ref())
        .bind(crate::pg_text(source).as_ref())
        .bind(crate::pg_text(reason).as_ref())
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// The newest parked notification ids of a tenant.
    pub async fn parked_samples(&self, tenant: &str, limit: i64) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT notification_id FROM outbox WHERE tenant = $1 AND status = 'parked'
             ORDER BY notification_id DESC LIMIT $2",
        )
        .bind(crate::pg_text(tenant).as_ref())
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_advisory_lock_has_its_own_key() {
        let keys = [
            super::WATCH_LOCK,
            crate::outbox::CLAIM_LOCK,
            crate::partitions::PARTITION_LOCK,
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
