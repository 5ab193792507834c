//! Subject states for the stale-state guard: the furthest state published
//! per (tenant, subject, track), read for a batch before it is published
//! and advanced with its event records when its rows are marked published.

use crate::{Store, StoreError};
use sqlx::{Postgres, Transaction};
use std::collections::HashMap;

/// The state a subject's track has reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectState {
    /// Rank in the provider's order.
    pub rank: i16,
    /// Routing key of the event that reached it.
    pub state: String,
    /// The notification of that event.
    pub notification_id: i64,
}

/// A state an event reached, to record once its row is published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateAdvance {
    /// Tenant.
    pub tenant: String,
    /// Subject.
    pub subject: String,
    /// Track of the subject.
    pub track: String,
    /// Rank reached.
    pub rank: i16,
    /// Routing key of the event.
    pub state: String,
    /// Its notification.
    pub notification_id: i64,
}

/// States by (tenant, subject, track).
pub type SubjectStates = HashMap<(String, String, String), SubjectState>;

impl Store {
    /// Every recorded state of these (tenant, subject) pairs, all tracks.
    pub async fn subject_states(&self, subjects: &[(String, String)]) -> Result<SubjectStates, StoreError> {
        if subjects.is_empty() {
            return Ok(SubjectStates::new());
        }
        let tenants: Vec<&str> = subjects.iter().map(|(t, _)| t.as_str()).collect();
        let names: Vec<&str> = subjects.iter().map(|(_, s)| s.as_str()).collect();
        let rows = sqlx::query!(
            r#"SELECT s.tenant, s.subject, s.track, s.rank, s.state, s.notification_id
               FROM subject_states s
               JOIN UNNEST($1::text[], $2::text[]) AS k(tenant, subject)
                 ON s.tenant = k.tenant AND s.subject = k.subject"#,
            &tenants as &[&str],
            &names as &[&str],
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let state = SubjectState {
                    rank: r.rank,
                    state: r.state,
                    notification_id: r.notification_id,
                };
                ((r.tenant, r.subject, r.track), state)
            })
            .collect())
    }

    /// Removes the states of `tenant` not advanced since `cutoff` (retention).
    pub async fn expire_subject_states(
        &self,
        tenant: &str,
        cutoff: chrono::DateTime<chrono::Utc>,
        batch: i64,
    ) -> Result<i64, StoreError> {
        self.delete_in_batches(batch, || {
            sqlx::query(
                "DELETE FROM subject_states WHERE (tenant, subject, track) IN (
                     SELECT tenant, subject, track FROM subject_states
                     WHERE updated_at < $1 AND tenant = $2 LIMIT $3)",
            )
            .bind(cutoff)
            .bind(tenant)
            .bind(batch)
        })
        .await
    }
}

/// Records the states reached, never moving one back (the higher rank
/// wins; at an equal rank the later event's name). `advances` holds at most
/// one entry per key (one statement cannot update a row twice).
pub(crate) async fn advance(tx: &mut Transaction<'_, Postgres>, advances: &[StateAdvance]) -> Result<(), StoreError> {
    if advances.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&StateAdvance) -> &str| advances.iter().map(f).collect::<Vec<&str>>();
    let (tenants, subjects, tracks, states) = (
        column(|a| &a.tenant),
        column(|a| &a.subject),
        column(|a| &a.track),
        column(|a| &a.state),
    );
    let ranks: Vec<i16> = advances.iter().map(|a| a.rank).collect();
    let notifications: Vec<i64> = advances.iter().map(|a| a.notification_id).collect();
    sqlx::query!(
        r#"INSERT INTO subject_states (tenant, subject, track, rank, state, notification_id)
           SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int2[], $5::text[], $6::int8[])
           ON CONFLICT (tenant, subject, track) DO UPDATE
           SET rank = EXCLUDED.rank, state = EXCLUDED.state, notification_id = EXCLUDED.notification_id,
               updated_at = now()
           WHERE subject_states.rank <= EXCLUDED.rank"#,
        &tenants as &[&str],
        &subjects as &[&str],
        &tracks as &[&str],
        &ranks,
        &states as &[&str],
        &notifications,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}
