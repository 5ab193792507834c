//! The replay runner: runs the replay jobs the admin API stores, one at a
//! time per process, at each job's rate.
//!
//! A replayed notification is normalized again from its stored raw request
//! with the code and configuration running now (so the event ids, which are
//! derived from the notification, stay the same), bypasses dedupe (a replay
//! is asked for), and each message carries [`REPLAY_HEADER`] naming the
//! job. A job targets the tenant exchange (every binding sees it again) or
//! one queue (published through the default exchange, mandatory: a queue
//! that does not exist fails the job instead of dropping messages).
//!
//! Progress (the last id done) is stored after every batch with the lease
//! renewed, so a job survives restarts: a runner that stops lets go of its
//! job, one that dies loses its lease, and either way another runner goes on
//! from the stored cursor (a batch cut short by a crash is published again).

use crate::{AmqpError, DispatchError, Dispatcher};
use futures_util::FutureExt;
use hookgate_store::{ReplayJob, ReplayProgress};
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Message header naming the replay job (its id).
pub const REPLAY_HEADER: &str = "x-hookgate-replay-job";

/// Most notifications per batch (a batch's progress is stored at once).
const BATCH_MAX: i64 = 100;

/// How a job's batch went.
enum Batch {
    /// More may follow.
    Continue,
    /// The job is finished, failed, or no longer this runner's.
    Stop,
}

impl Dispatcher {
    /// Runs replay jobs until `shutdown`: wakes when a job is made (NOTIFY)
    /// or every poll interval. A job whose batch fails (broker down) is let
    /// go and taken again on a later round; a panic costs that round only.
    pub async fn run_replays(&self, shutdown: CancellationToken) {
        let poll = Duration::from_millis(self.settings.poll_interval_ms.max(10));
        let lease = Duration::from_secs(self.settings.lease_secs);
        let mut listener = None;
        while !shutdown.is_cancelled() {
            if listener.is_none() {
                listener = self.store.listen_replays().await.ok();
            }
            match self.store.claim_replay_job(self.owner, lease).await {
                Ok(Some(job)) => {
                    let id = job.id;
                    match AssertUnwindSafe(self.run_job(job, &shutdown)).catch_unwind().await {
                        Ok(Ok(())) => continue,
                        Ok(Err(e)) => {
                            self.metrics.relay_error("replay_failed");
                            tracing::warn!(job = id, error = %hookgate_core::Chain(&e), "replay batch failed; the job is retried");
                        }
                        Err(panic) => {
                            self.metrics.relay_error("panic");
                            tracing::error!(job = id, panic = crate::panic_message(&panic), "replay panicked");
                        }
                    }
                    if let Err(e) = self.store.release_replay_job(id, self.owner).await {
                        tracing::warn!(job = id, error = %hookgate_core::Chain(&e), "could not let go of a replay job; its lease will lapse");
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %hookgate_core::Chain(&e), "claiming a replay job failed"),
            }
            if !crate::wait_for_work(&mut listener, poll, &shutdown).await {
                break;
            }
        }
    }

    /// Runs one job until it ends, is cancelled, or `shutdown` (then it is
    /// let go of, for another runner to go on at once).
    async fn run_job(&self, mut job: ReplayJob, shutdown: &CancellationToken) -> Result<(), DispatchError> {
        tracing::info!(job = job.id, tenant = %job.tenant, cursor = job.cursor, "running replay job");
        // The default exchange reaches every queue of the vhost: a job may
        // only target a queue its tenant's configuration declares (the admin
        // API checks it too; the configuration may have changed since).
        if let Some(queue) = &job.target_queue {
            let tenants = self.tenants.load();
            let own =
                (tenants.get(job.tenant.as_str())).is_some_and(|t| t.subscriptions.iter().any(|s| &s.queue == queue));
            if !own {
                let error = format!(
                    "queue {queue:?} is not a subscription queue of tenant {}: refused",
                    job.tenant
                );
                self.store
                    .finish_replay_job(job.id, self.owner, "failed", Some(&error))
                    .await?;
                tracing::warn!(job = job.id, error = %error, "replay job refused");
                return Ok(());
            }
        }
        let rate = f64::from(job.rate_per_sec.max(1));
        let size = i64::from(job.rate_per_sec).clamp(1, BATCH_MAX);
        loop {
            if shutdown.is_cancelled() {
                self.store.release_replay_job(job.id, self.owner).await?;
                return Ok(());
            }
            let started = Instant::now();
            let rows = self.store.replay_batch(&job, size).await?;
            let Some(last) = rows.last().map(|r| r.notification_id) else {
                self.store.finish_replay_job(job.id, self.owner, "done", None).await?;
                tracing::info!(job = job.id, "replay job done");
                return Ok(());
            };
            let count = rows.len();
            match self.replay_batch(&job, rows, last).await? {
                Batch::Continue => job.cursor = last,
                Batch::Stop => return Ok(()),
            }
            // At most `rate` notifications per second.
            let due = Duration::from_secs_f64(count as f64 / rate);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
    }

    /// Publishes one batch of a job and records its progress.
    async fn replay_batch(
        &self,
        job: &ReplayJob,
        rows: Vec<hookgate_store::Claimed>,
        last: i64,
    ) -> Result<Batch, DispatchError> {
        let down = self.publisher.connect().await?;
        if down.iter().any(|v| self.publisher.tenants_of(v).contains(&job.tenant)) {
            // The job's vhost is unreachable: let go of the job, try later.
            return Err(DispatchError::Broker(AmqpError::NotSent));
        }
        let mut progress = ReplayProgress {
            cursor: last,
            ..ReplayProgress::default()
        };
        let mut error: Option<String> = None;
        let mut outgoing = Vec::new();
        let mut owners = Vec::new();
        let work: Vec<_> = rows.into_iter().map(|row| self.prepare(row)).collect();
        let mut ok = vec![true; work.len()];
        for (i, w) in work.iter().enumerate() {
            if let Some(f) = &w.failure {
                ok[i] = false;
                error = Some(format!("notification {}: {}", w.row.notification_id, f.message()));
                continue;
            }
            for (event, record) in &w.events {
                match self.outgoing(w, event, record) {
                    Ok(mut m) => {
                        m.headers.insert(REPLAY_HEADER.to_owned(), job.id.to_string());
                        if let Some(queue) = &job.target_queue {
                            m.exchange = String::new();
                            m.routing_key = queue.clone();
                        }
                        outgoing.push(m);
                        owners.push(i);
                    }
                    Err(f) => {
                        ok[i] = false;
                        error = Some(format!("notification {}: {}", w.row.notification_id, f.message()));
                    }
                }
            }
        }
        let results = if outgoing.is_empty() {
            Vec::new()
        } else {
            self.publisher.publish_all(&outgoing).await
        };
        let mut confirmed = 0;
        let mut per_row = vec![0i32; work.len()];
        for (result, &i) in results.iter().zip(&owners) {
            match result {
                Ok(()) => {
                    confirmed += 1;
                    per_row[i] += 1;
                }
                Err(e) => {
                    ok[i] = false;
                    error = Some(format!(
                        "notification {}: {}",
                        work[i].row.notification_id,
                        hookgate_core::Chain(e)
                    ));
                }
            }
        }
        progress.events = confirmed;
        progress.replayed = ok.iter().filter(|o| **o).count() as i64;
        progress.failed = ok.len() as i64 - progress.replayed;
        // What a subject's timeline shows of this job.
        let items: Vec<(i64, i32, bool)> = (work.iter().enumerate())
            .map(|(i, w)| (w.row.notification_id, per_row[i], ok[i]))
            .collect();
        if let Err(e) = self.store.record_replay_items(job.id, &items).await {
            tracing::warn!(job = job.id, error = %hookgate_core::Chain(&e), "could not record which notifications a replay published");
        }
        if !outgoing.is_empty() && confirmed == 0 {
            // Nothing of the batch went out (e.g. the target queue does not
            // exist): going on would fail the same way for every batch.
            self.store
                .advance_replay_job(
                    job.id,
                    self.owner,
                    Duration::from_secs(self.settings.lease_secs),
                    progress,
                    error.as_deref(),
                )
                .await?;
            self.store
                .finish_replay_job(job.id, self.owner, "failed", error.as_deref())
                .await?;
            tracing::warn!(job = job.id, error = ?error, "replay job failed: nothing of a batch was confirmed");
            return Ok(Batch::Stop);
        }
        let lease = Duration::from_secs(self.settings.lease_secs);
        let mine = self
            .store
            .advance_replay_job(job.id, self.owner, lease, progress, error.as_deref())
            .await?;
        if !mine {
            tracing::info!(job = job.id, "replay job cancelled or taken over; stopping");
            return Ok(Batch::Stop);
        }
        Ok(Batch::Continue)
    }
}
