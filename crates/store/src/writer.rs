//! Group commit: concurrent requests share transactions. A few writer tasks,
//! each with its own connection, take whatever requests queued while the
//! previous commit ran (up to `max_batch`) and store them with one multi-row
//! statement. Every request still gets its answer only after the commit that
//! contains its row. A commit refused for its content (not for an outage) is
//! retried one request at a time, so a request the database cannot take fails
//! alone and its neighbours still commit.

use crate::{InsertOutcome, Store, StoreError};
use hookgate_core::RawNotification;
use hookgate_providers::Admitted;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex};

/// A failed insert, with the notification given back.
pub type InsertFailure = (StoreError, Option<Admitted<RawNotification>>);

struct Job {
    notification: Admitted<RawNotification>,
    reply: oneshot::Sender<Result<InsertOutcome, InsertFailure>>,
}

/// Handle to the group-commit writers; cheap to clone. The writers stop when
/// every handle is dropped.
#[derive(Debug, Clone)]
pub struct GroupWriter {
    tx: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").finish_non_exhaustive()
    }
}

/// The writer loops of a [`GroupWriter`], for their owner to run (the
/// composition root runs them under its task tracker). They end once every
/// handle of their writer is dropped, after answering what was queued.
pub struct Writers {
    loops: Vec<futures_util::future::BoxFuture<'static, ()>>,
}

impl std::fmt::Debug for Writers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writers").field("loops", &self.loops.len()).finish()
    }
}

impl Writers {
    /// Runs every writer loop until its writer's handles are all dropped.
    pub async fn run(self) {
        futures_util::future::join_all(self.loops).await;
    }
}

impl GroupWriter {
    /// A writer and its `writers` loops (up to `max_batch` rows per
    /// commit), which the caller runs ([`Writers::run`]).
    pub fn new(store: Store, writers: usize, max_batch: usize) -> (GroupWriter, Writers) {
        let (tx, rx) = mpsc::channel::<Job>(max_batch.max(1) * writers.max(1) * 4);
        let rx = Arc::new(Mutex::new(rx));
        let loops = (0..writers.max(1))
            .map(|_| {
                let (store, rx) = (store.clone(), rx.clone());
                let writer: futures_util::future::BoxFuture<'static, ()> = Box::pin(async move {
                    let mut batch = Vec::with_capacity(max_batch);
                    loop {
                        {
                            let mut rx = rx.lock().await;
                            match rx.recv().await {
                                Some(job) => batch.push(job),
                                None => return,
                            }
                            while batch.len() < max_batch {
                                match rx.try_recv() {
                                    Ok(job) => batch.push(job),
                                    Err(_) => break,
                                }
                            }
                        }
                        write_batch(&store, std::mem::take(&mut batch)).await;
                    }
                });
                writer
            })
            .collect();
        (GroupWriter { tx }, Writers { loops })
    }

    /// [`GroupWriter::new`] with its loops spawned on the current runtime
    /// (tests and tools; the gateway owns its loops).
    pub fn start(store: Store, writers: usize, max_batch: usize) -> GroupWriter {
        let (writer, loops) = GroupWriter::new(store, writers, max_batch);
        tokio::spawn(loops.run());
        writer
    }

    /// Stores a verified notification (and its outbox row) in the next group
    /// commit; returns after that commit.
    pub async fn insert(&self, notification: Admitted<RawNotification>) -> Result<InsertOutcome, StoreError> {
        self.insert_keeping(notification).await.map_err(|(e, _)| e)
    }

    /// [`GroupWriter::insert`], giving the notification back when it was
    /// not stored (for the spool; `None` only if a writer stopped with it).
    pub async fn insert_keeping(
        &self,
        notification: Admitted<RawNotification>,
    ) -> Result<InsertOutcome, InsertFailure> {
        let (reply, answer) = oneshot::channel();
        if let Err(send) = self.tx.send(Job { notification, reply }).await {
            return Err((StoreError::WriterStopped, Some(send.0.notification)));
        }
        answer.await.unwrap_or(Err((StoreError::WriterStopped, None)))
    }
}

async fn write_batch(store: &Store, jobs: Vec<Job>) {
    if let Some(jobs) = write_together(store, jobs).await {
        // Refused for its content: find the request at fault by committing
        // each on its own. (Rare; an outage does not get here.)
        // A batch of one always answers.
        for job in jobs {
            let _ = write_together(store, vec![job]).await;
        }
    }
}

/// Commits `jobs` in one statement and answers them; gives the jobs back
/// unanswered when a batch of several was refused for its content.
async fn write_together(store: &Store, jobs: Vec<Job>) -> Option<Vec<Job>> {
    // Fold redeliveries inside the batch: one row per delivery key, its count
    // being the number of copies (ON CONFLICT cannot touch a row twice).
    let mut first: HashMap<(&str, &str, &str), usize> = HashMap::new();
    let mut rows: Vec<(usize, i32)> = Vec::with_capacity(jobs.len());
    let mut row_of = Vec::with_capacity(jobs.len());
    for (i, job) in jobs.iter().enumerate() {
        let n = job.notification.value();
        let key = (n.tenant.as_str(), n.source.as_str(), n.delivery_key.as_str());
        match first.get(&key) {
            Some(&r) => {
                rows[r].1 += 1;
                row_of.push((r, false));
            }
            None => {
                first.insert(key, rows.len());
                row_of.push((rows.len(), true));
                rows.push((i, 1));
            }
        }
    }
    let batch: Vec<(&Admitted<RawNotification>, i32)> =
        rows.iter().map(|&(i, count)| (&jobs[i].notification, count)).collect();
    match store.insert_batch(&batch).await {
        Ok(outcomes) => {
            for (job, (row, is_first)) in jobs.into_iter().zip(row_of) {
                let outcome = match outcomes[row] {
                    InsertOutcome::Inserted { id } if !is_first => InsertOutcome::Duplicate {
                        id,
                        delivery_count: rows[row].1,
                    },
                    other => other,
                };
                let _ = job.reply.send(Ok(outcome));
            }
        }
        Err(e) if !e.is_unavailable() && jobs.len() > 1 => {
            tracing::warn!(error = %hookgate_core::Chain(&e), rows = jobs.len(), "group commit refused; committing its requests one by one");
            return Some(jobs);
        }
        Err(e) => {
            let e = Arc::new(e);
            for job in jobs {
                let _ = job
                    .reply
                    .send(Err((StoreError::Batch(e.clone()), Some(job.notification))));
            }
        }
    }
    None
}
