//! The spool: nothing lost while PostgreSQL is away (`[spool] dir`).
//!
//! When a verified request cannot be committed because the database is
//! unreachable, ingress appends it to a local journal instead, fsyncs, and
//! answers the provider's success. A drainer moves the entries into
//! PostgreSQL once it is back, through the same group commit as live
//! requests (so the delivery-key dedupe folds a provider's retries of one
//! delivery). While the journal holds entries, new requests join it too: they
//! reach PostgreSQL in the order they arrived.
//!
//! The journal is a directory of segments (`<seq>.seg`, 16 digits). Appends
//! go to the newest; the drainer seals it (later appends start the next),
//! commits a sealed segment's entries, and deletes it. A crash between the
//! commit and the delete drains the segment again: its entries are then
//! redeliveries (stored once, their delivery count bumped).
//!
//! A record is `HGS1` · payload length (u32 LE) · the first 8 bytes of the
//! payload's SHA-256 · payload; the payload is the length of a JSON head
//! (u32 LE), the head (every field of the notification but its body, and how
//! its signature was checked), then the body. On open, a record that is
//! incomplete or whose checksum does not match ends its segment: the segment
//! is cut there (a torn tail after a crash: nothing after it was answered
//! 2xx, since an entry is answered only after its fsync), reported in the log
//! and in `hookgate_spool_cut_bytes_total`, and never replayed.
//!
//! One thread owns the writing: appends that arrive while a write and fsync
//! run share the next one (group fsync).

use bytes::Bytes;
use chrono::{DateTime, Utc};
use hookgate_core::{DeliveryKey, Header, RawNotification, SignatureCheck, SourceId, TenantId};
use hookgate_providers::Admitted;
use hookgate_store::{GroupWriter, Store};
use hookgate_telemetry::Metrics;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{oneshot, Notify};
use tokio_util::sync::CancellationToken;

const MAGIC: &[u8; 4] = b"HGS1";
/// Magic, payload length, checksum.
const HEADER_LEN: usize = 4 + 4 + 8;
/// Appends that share one write and fsync at most.
const MAX_GROUP: usize = 512;
/// Requests the drainer has in the group commit at once.
const DRAIN_IN_FLIGHT: usize = 64;
/// Where entries this build cannot read are kept (not a segment: never drained).
const UNREADABLE: &str = "unreadable.journal";
/// How long the drainer waits after the database refused a segment.
const DRAIN_RETRY: Duration = Duration::from_secs(1);

/// Why an append was not made durable (the request is answered 503).
#[derive(Debug, thiserror::Error)]
pub(crate) enum SpoolError {
    /// `spool.max_bytes` would be exceeded.
    #[error("the spool is full ({0} bytes)")]
    Full(u64),
    /// The write or fsync failed.
    #[error("the spool could not be written: {0}")]
    Io(String),
}

/// What the journal held when it was opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Opened {
    /// Entries waiting to be drained.
    pub entries: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Bytes cut off segments' ends (a torn or corrupted record and what
    /// followed it), with the segment and offset of each cut.
    pub cuts: Vec<(PathBuf, u64, u64)>,
}

/// A spell of spooling, reported once the spool is empty again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drained {
    /// Entries drained since the spool was last empty.
    pub entries: u64,
    /// When the oldest of them was received.
    pub since: Option<DateTime<Utc>>,
    /// When the last was committed.
    pub until: DateTime<Utc>,
}

/// A sealed segment waiting for the drainer.
#[derive(Debug, Clone)]
struct Segment {
    path: PathBuf,
    entries: u64,
    bytes: u64,
    oldest: Option<DateTime<Utc>>,
}

enum Command {
    Append(Vec<u8>, DateTime<Utc>, oneshot::Sender<Result<(), SpoolError>>),
    /// Seal the active segment (if it holds entries).
    Seal(oneshot::Sender<()>),
}

struct Shared {
    dir: PathBuf,
    max_bytes: u64,
    /// Entries not yet drained (sealed and active).
    entries: AtomicU64,
    /// Their bytes, and those reserved by appends under way.
    bytes: AtomicU64,
    sealed: Mutex<VecDeque<Segment>>,
    /// The active segment's first entry time.
    active_oldest: Mutex<Option<DateTime<Utc>>>,
    wake: Notify,
}

/// The journal; cheap to clone.
#[derive(Clone)]
pub struct Spool {
    shared: Arc<Shared>,
    commands: std::sync::mpsc::Sender<Command>,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spool")
            .field("dir", &self.shared.dir)
            .field("entries", &self.entries())
            .finish_non_exhaustive()
    }
}

/// The head of a record.
#[derive(Serialize, Deserialize)]
struct Head {
    tenant: String,
    source: String,
    kind: String,
    delivery_key: String,
    headers: Vec<Header>,
    remote_addr: Option<String>,
    received_at: DateTime<Utc>,
    traceparent: Option<String>,
    ordering_key: Option<String>,
    utc_offset_minutes: Option<i32>,
    check: Check,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "as", rename_all = "snake_case")]
enum Check {
    Matched { recipe: String },
    NotRequired { by: String },
    Observed { reason: String },
}

/// A record of `n`.
fn encode(n: &Admitted<RawNotification>) -> Result<Vec<u8>, SpoolError> {
    let raw = n.value();
    let check = match n.check() {
        SignatureCheck::Matched { recipe } => Check::Matched { recipe },
        SignatureCheck::NotRequired { by } => Check::NotRequired { by },
        SignatureCheck::Observed { reason } => Check::Observed { reason },
    };
    let head = Head {
        tenant: raw.tenant.to_string(),
        source: raw.source.to_string(),
        kind: raw.kind.as_str().to_owned(),
        delivery_key: raw.delivery_key.as_str().to_owned(),
        headers: raw.headers.clone(),
        remote_addr: raw.remote_addr.clone(),
        received_at: raw.received_at,
        traceparent: raw.traceparent.clone(),
        ordering_key: raw.ordering_key.clone(),
        utc_offset_minutes: raw.utc_offset_minutes,
        check,
    };
    let head = serde_json::to_vec(&head).map_err(|e| SpoolError::Io(e.to_string()))?;
    let payload_len = 4 + head.len() + raw.body.len();
    let mut out = Vec::with_capacity(HEADER_LEN + payload_len);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&u32_len(payload_len)?.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&u32_len(head.len())?.to_le_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(&raw.body);
    let sum = checksum(&out[HEADER_LEN..]);
    out[8..HEADER_LEN].copy_from_slice(&sum);
    Ok(out)
}

fn u32_len(n: usize) -> Result<u32, SpoolError> {
    u32::try_from(n).map_err(|_| SpoolError::Io(format!("a record of {n} bytes is too large")))
}

fn checksum(payload: &[u8]) -> [u8; 8] {
    let digest = sha2::Sha256::digest(payload);
    let mut sum = [0; 8];
    sum.copy_from_slice(&digest[..8]);
    sum
}

/// The notification of a record's payload.
fn decode(payload: &[u8]) -> Result<Admitted<RawNotification>, String> {
    let head_len = payload
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(|b| u32::from_le_bytes(b) as usize)
        .ok_or("no head length")?;
    let head = payload.get(4..4 + head_len).ok_or("head beyond the payload")?;
    let body = &payload[4 + head_len..];
    let head: Head = serde_json::from_slice(head).map_err(|e| e.to_string())?;
    let kind = hookgate_providers::lookup(&head.kind)
        .map(|p| p.kind())
        .ok_or_else(|| format!("no provider of kind {:?}", head.kind))?;
    let delivery_key = DeliveryKey::new(head.delivery_key).ok_or("an invalid delivery key")?;
    let check = match head.check {
        Check::Matched { recipe } => SignatureCheck::Matched { recipe },
        Check::NotRequired { by } => SignatureCheck::NotRequired { by },
        Check::Observed { reason } => SignatureCheck::Observed { reason },
    };
    let raw = RawNotification {
        tenant: TenantId::from_stored(head.tenant),
        source: SourceId::from_stored(head.source),
        kind,
        delivery_key,
        body: Bytes::copy_from_slice(body),
        headers: head.headers,
        remote_addr: head.remote_addr,
        received_at: head.received_at,
        traceparent: head.traceparent,
        ordering_key: head.ordering_key,
        utc_offset_minutes: head.utc_offset_minutes,
    };
    Ok(Admitted::restore_journaled(raw, check))
}

/// The received time in a payload's head (for the age of a segment).
fn received_at(payload: &[u8]) -> Option<DateTime<Utc>> {
    let head_len = u32::from_le_bytes(payload.get(..4)?.try_into().ok()?) as usize;
    #[derive(Deserialize)]
    struct Time {
        received_at: DateTime<Utc>,
    }
    let t: Time = serde_json::from_slice(payload.get(4..4 + head_len)?).ok()?;
    Some(t.received_at)
}

/// The valid records of a segment's bytes: each payload's range, and where
/// the valid part ends (`data.len()` when all of it is valid).
fn records(data: &[u8]) -> (Vec<std::ops::Range<usize>>, usize) {
    let mut out = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let Some(header) = data.get(at..at + HEADER_LEN) else {
            break;
        };
        if &header[..4] != MAGIC {
            break;
        }
        let len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let start = at + HEADER_LEN;
        let Some(payload) = data.get(start..start + len) else {
            break;
        };
        if checksum(payload)[..] != header[8..] {
            break;
        }
        out.push(start..start + len);
        at = start + len;
    }
    (out, at)
}

fn segment_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:016}.seg"))
}

fn segment_seq(path: &Path) -> Option<u64> {
    let name = path.file_name()?.to_str()?;
    name.strip_suffix(".seg")?.parse().ok()
}

fn io(e: std::io::Error) -> SpoolError {
    SpoolError::Io(e.to_string())
}

impl Spool {
    /// Opens (creating) the journal in `dir`, cutting torn or corrupted
    /// tails, and starts its writer thread.
    pub fn open(dir: &Path, max_bytes: u64) -> std::io::Result<(Spool, Opened)> {
        std::fs::create_dir_all(dir)?;
        let mut paths: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| segment_seq(&e.path()).map(|s| (s, e.path())))
            .collect();
        paths.sort();
        let mut opened = Opened::default();
        let mut sealed = VecDeque::new();
        for (_, path) in &paths {
            let mut data = Vec::new();
            File::open(path)?.read_to_end(&mut data)?;
            let (ranges, valid) = records(&data);
            if valid < data.len() {
                let cut = (data.len() - valid) as u64;
                tracing::error!(segment = %path.display(), offset = valid, bytes = cut, "spool: a torn or corrupted record ends this segment; cut there, not replayed");
                let f = OpenOptions::new().write(true).open(path)?;
                f.set_len(valid as u64)?;
                f.sync_all()?;
                opened.cuts.push((path.clone(), valid as u64, cut));
            }
            if ranges.is_empty() {
                std::fs::remove_file(path)?;
                continue;
            }
            let segment = Segment {
                path: path.clone(),
                entries: ranges.len() as u64,
                bytes: valid as u64,
                oldest: ranges.first().and_then(|r| received_at(&data[r.clone()])),
            };
            opened.entries += segment.entries;
            opened.bytes += segment.bytes;
            sealed.push_back(segment);
        }
        let next = paths.last().map_or(1, |(s, _)| s + 1);
        let active = OpenOptions::new()
            .create(true)
            .append(true)
            .open(segment_path(dir, next))?;
        File::open(dir)?.sync_all()?;
        let shared = Arc::new(Shared {
            dir: dir.to_owned(),
            max_bytes,
            entries: AtomicU64::new(opened.entries),
            bytes: AtomicU64::new(opened.bytes),
            sealed: Mutex::new(sealed),
            active_oldest: Mutex::new(None),
            wake: Notify::new(),
        });
        let (commands, rx) = std::sync::mpsc::channel();
        let writer = Writer {
            shared: shared.clone(),
            active,
            seq: next,
            entries: 0,
            bytes: 0,
        };
        std::thread::Builder::new()
            .name("hookgate-spool".into())
            .spawn(move || writer.run(rx))?;
        Ok((Spool { shared, commands }, opened))
    }

    /// Entries waiting to be drained.
    pub fn entries(&self) -> u64 {
        self.shared.entries.load(Ordering::SeqCst)
    }

    /// True while the journal holds entries (new requests then join it).
    pub(crate) fn holds_entries(&self) -> bool {
        self.entries() > 0
    }

    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        self.shared.bytes.load(Ordering::SeqCst)
    }

    /// When the oldest entry held was received.
    pub fn oldest(&self) -> Option<DateTime<Utc>> {
        let sealed = self.shared.sealed.lock().unwrap_or_else(|p| p.into_inner());
        let active = *self.shared.active_oldest.lock().unwrap_or_else(|p| p.into_inner());
        sealed.iter().find_map(|s| s.oldest).or(active)
    }

    /// Appends `n` and returns once it is on disk (fsynced).
    pub(crate) async fn append(&self, n: &Admitted<RawNotification>) -> Result<(), SpoolError> {
        let record = encode(n)?;
        let len = record.len() as u64;
        let held = self.shared.bytes.fetch_add(len, Ordering::SeqCst);
        if held + len > self.shared.max_bytes {
            self.shared.bytes.fetch_sub(len, Ordering::SeqCst);
            return Err(SpoolError::Full(self.shared.max_bytes));
        }
        let (reply, answer) = oneshot::channel();
        let sent = self
            .commands
            .send(Command::Append(record, n.value().received_at, reply));
        let result = match sent {
            Ok(()) => answer
                .await
                .unwrap_or_else(|_| Err(SpoolError::Io("the spool writer stopped".into()))),
            Err(_) => Err(SpoolError::Io("the spool writer stopped".into())),
        };
        if result.is_err() {
            self.shared.bytes.fetch_sub(len, Ordering::SeqCst);
        }
        result
    }

    async fn seal(&self) {
        let (reply, answer) = oneshot::channel();
        if self.commands.send(Command::Seal(reply)).is_ok() {
            let _ = answer.await;
        }
    }

    /// Moves the journal into PostgreSQL through `writer` whenever it holds
    /// entries, until `shutdown` (what is left stays for the next start);
    /// each time it is empty again, says so on `reports`.
    pub async fn drain(
        self,
        writer: GroupWriter,
        store: Store,
        metrics: Arc<Metrics>,
        reports: Option<tokio::sync::mpsc::UnboundedSender<Drained>>,
        shutdown: CancellationToken,
    ) {
        let mut spell: Option<Drained> = None;
        loop {
            self.export(&metrics);
            if !self.holds_entries() {
                if let (Some(done), Some(reports)) = (spell.take(), &reports) {
                    let _ = reports.send(done);
                }
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = self.shared.wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                continue;
            }
            if spell.is_none() {
                spell = Some(Drained {
                    entries: 0,
                    since: self.oldest(),
                    until: Utc::now(),
                });
            }
            let next = self
                .shared
                .sealed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .front()
                .cloned();
            let Some(segment) = next else {
                self.seal().await;
                continue;
            };
            match self.drain_segment(&segment, &writer, &store, &metrics).await {
                Ok(()) => {
                    if let Err(e) = std::fs::remove_file(&segment.path) {
                        tracing::error!(error = %e, segment = %segment.path.display(), "spool: a drained segment could not be removed");
                    }
                    self.shared.sealed.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                    self.shared.entries.fetch_sub(segment.entries, Ordering::SeqCst);
                    self.shared.bytes.fetch_sub(segment.bytes, Ordering::SeqCst);
                    if let Some(s) = spell.as_mut() {
                        s.entries += segment.entries;
                        s.until = Utc::now();
                    }
                    tracing::info!(
                        entries = segment.entries,
                        left = self.entries(),
                        "spool: a segment is in PostgreSQL"
                    );
                }
                Err(e) => {
                    tracing::warn!(error = %e, "spool: draining waits for PostgreSQL");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(DRAIN_RETRY) => {}
                    }
                }
            }
        }
    }

    /// Commits every entry of `segment`, in order (redeliveries fold).
    ///
    /// No entry blocks the others: one this build cannot read is kept in
    /// `unreadable.journal` beside the segments (for an operator), and one
    /// the database refuses for its content is recorded as a rejection
    /// (`storage_refused`, its body whole, for re-admission). Only the
    /// database being away makes the segment wait.
    async fn drain_segment(
        &self,
        segment: &Segment,
        writer: &GroupWriter,
        store: &Store,
        metrics: &Metrics,
    ) -> Result<(), String> {
        use futures_util::StreamExt as _;
        let path = segment.path.clone();
        let data = tokio::task::spawn_blocking(move || std::fs::read(path))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let (ranges, _) = records(&data);
        let mut notifications = Vec::with_capacity(ranges.len());
        for r in ranges {
            match decode(&data[r.clone()]) {
                Ok(n) => notifications.push(n),
                Err(e) => {
                    let record = &data[r.start - HEADER_LEN..r.end];
                    self.set_aside(record)
                        .map_err(|io| format!("an unreadable entry could not be kept: {io}"))?;
                    metrics.spool_set_aside();
                    tracing::error!(error = %e, kept_in = %self.shared.dir.join(UNREADABLE).display(), "spool: an entry this build cannot read was set aside");
                }
            }
        }
        let results: Vec<_> = futures_util::stream::iter(notifications.into_iter().map(|n| writer.insert_keeping(n)))
            .buffered(DRAIN_IN_FLIGHT)
            .collect()
            .await;
        let mut drained = 0u64;
        for r in results {
            match r {
                Ok(_) => drained += 1,
                Err((e, Some(n))) if !e.is_unavailable() => {
                    let raw = n.value();
                    let detail = format!(
                        "refused by the database when drained from the spool: {}",
                        hookgate_core::Chain(&e)
                    );
                    let rejection = hookgate_store::Rejection {
                        tenant: Some(&raw.tenant),
                        source: Some(&raw.source),
                        reason: "storage_refused",
                        detail: &detail,
                        // What the provider was answered: its success, from the spool.
                        http_status: 200,
                        remote_addr: raw.remote_addr.as_deref(),
                        headers: &raw.headers,
                        body: &raw.body,
                        request_url: None,
                        body_size: raw.body.len() as i64,
                    };
                    store
                        .record_rejection(&rejection)
                        .await
                        .map_err(|e| hookgate_core::Chain(&e).to_string())?;
                    metrics.rejected(raw.tenant.as_str(), raw.source.as_str(), "storage_refused");
                    tracing::error!(error = %hookgate_core::Chain(&e), "spool: the database refused an entry; recorded as a rejection");
                    drained += 1;
                }
                Err((e, _)) => return Err(hookgate_core::Chain(&e).to_string()),
            }
        }
        metrics.spool_drained(drained);
        Ok(())
    }

    /// Appends a record to `unreadable.journal` (fsynced).
    fn set_aside(&self, record: &[u8]) -> std::io::Result<()> {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.shared.dir.join(UNREADABLE))?;
        f.write_all(record)?;
        f.sync_data()
    }

    fn export(&self, metrics: &Metrics) {
        let age = self
            .oldest()
            .map_or(0.0, |t| (Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0);
        metrics.spool(self.entries(), self.bytes(), age);
    }
}

/// The writer thread's state.
struct Writer {
    shared: Arc<Shared>,
    active: File,
    seq: u64,
    entries: u64,
    bytes: u64,
}

impl Writer {
    fn run(mut self, rx: std::sync::mpsc::Receiver<Command>) {
        while let Ok(first) = rx.recv() {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(c) => group.push(c),
                    Err(_) => break,
                }
            }
            let mut replies: Vec<(oneshot::Sender<Result<(), SpoolError>>, u64)> = Vec::new();
            let mut seals = Vec::new();
            let mut buffer = Vec::new();
            let mut times = Vec::new();
            for command in group {
                match command {
                    Command::Append(record, at, reply) => {
                        buffer.extend_from_slice(&record);
                        times.push(at);
                        replies.push((reply, record.len() as u64));
                    }
                    Command::Seal(reply) => seals.push(reply),
                }
            }
            if !replies.is_empty() {
                let written = self
                    .active
                    .write_all(&buffer)
                    .and_then(|()| self.active.sync_data())
                    .map_err(io);
                match written {
                    Ok(()) => {
                        if self.entries == 0 {
                            *self.shared.active_oldest.lock().unwrap_or_else(|p| p.into_inner()) =
                                times.first().copied();
                        }
                        self.entries += replies.len() as u64;
                        self.bytes += buffer.len() as u64;
                        // Counted before any answer, so that a request
                        // answered after this one sees the journal non-empty.
                        self.shared.entries.fetch_add(replies.len() as u64, Ordering::SeqCst);
                        self.shared.wake.notify_one();
                        for (reply, _) in replies {
                            let _ = reply.send(Ok(()));
                        }
                    }
                    Err(e) => {
                        // What was written of the group is a torn tail: cut
                        // it, so a later append does not follow it.
                        let _ = self.active.set_len(self.bytes);
                        for (reply, _) in replies {
                            let _ = reply.send(Err(SpoolError::Io(e.to_string())));
                        }
                    }
                }
            }
            for reply in seals {
                if let Err(e) = self.seal() {
                    tracing::error!(error = %e, "spool: the next segment could not be opened; appends continue in this one");
                }
                let _ = reply.send(());
            }
        }
    }

    /// Closes the active segment (when it holds entries) and opens the next.
    fn seal(&mut self) -> std::io::Result<()> {
        if self.entries == 0 {
            return Ok(());
        }
        let next = OpenOptions::new()
            .create(true)
            .append(true)
            .open(segment_path(&self.shared.dir, self.seq + 1))?;
        File::open(&self.shared.dir)?.sync_all()?;
        let segment = Segment {
            path: segment_path(&self.shared.dir, self.seq),
            entries: self.entries,
            bytes: self.bytes,
            oldest: self
                .shared
                .active_oldest
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take(),
        };
        self.shared
            .sealed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(segment);
        self.active = next;
        self.seq += 1;
        self.entries = 0;
        self.bytes = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_end_at_a_torn_or_corrupted_one() {
        let mut data = Vec::new();
        for body in [&b"first"[..], b"second"] {
            let len = (4 + 2 + body.len()) as u32;
            let mut payload = Vec::new();
            payload.extend_from_slice(&2u32.to_le_bytes());
            payload.extend_from_slice(b"{}");
            payload.extend_from_slice(body);
            data.extend_from_slice(MAGIC);
            data.extend_from_slice(&len.to_le_bytes());
            data.extend_from_slice(&checksum(&payload));
            data.extend_from_slice(&payload);
        }
        let whole = data.len();
        assert_eq!(records(&data).0.len(), 2);
        assert_eq!(records(&data).1, whole);
        // Torn: the second record's last byte is missing.
        let (ranges, valid) = records(&data[..whole - 1]);
        assert_eq!(ranges.len(), 1);
        let first_end = ranges[0].end;
        assert_eq!(valid, first_end);
        // Corrupted: a flipped byte in the second payload.
        let mut bad = data.clone();
        bad[whole - 2] ^= 0x40;
        assert_eq!(records(&bad).1, first_end);
        // Garbage after the records.
        let mut tail = data.clone();
        tail.extend_from_slice(b"\0\0\0\0junk");
        assert_eq!(records(&tail).1, whole);
    }

    fn notification(key: &str) -> Admitted<RawNotification> {
        let raw = RawNotification {
            tenant: TenantId::from_stored("t".into()),
            source: SourceId::from_stored("keeta".into()),
            kind: hookgate_providers::keeta::KIND,
            delivery_key: DeliveryKey::new(key).unwrap_or_else(|| panic!("key")),
            body: Bytes::from(format!("{{\"messageId\":\"{key}\"}}")),
            headers: vec![Header {
                name: "content-type".into(),
                value: "application/json".into(),
            }],
            remote_addr: Some("127.0.0.1:1".into()),
            received_at: Utc::now(),
            traceparent: None,
            ordering_key: Some("t:order/1".into()),
            utc_offset_minutes: None,
        };
        Admitted::restore_journaled(
            raw,
            SignatureCheck::Matched {
                recipe: "callback_url?params+secret".into(),
            },
        )
    }

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "hookgate-spool-unit-{}-{}",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[tokio::test]
    async fn entries_survive_a_reopen_and_a_torn_tail_is_cut_not_replayed() {
        let dir = scratch();
        let (spool, opened) = Spool::open(&dir, 1 << 20).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(opened, Opened::default());
        for key in ["a", "b", "c"] {
            spool.append(&notification(key)).await.unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(spool.entries(), 3);
        let held = spool.bytes();
        drop(spool);
        // A crash in the middle of the last write: its tail is missing.
        let segment = segment_path(&dir, 1);
        let len = std::fs::metadata(&segment).map(|m| m.len()).unwrap_or_default();
        assert_eq!(len, held);
        let f = OpenOptions::new()
            .write(true)
            .open(&segment)
            .unwrap_or_else(|e| panic!("{e}"));
        f.set_len(len - 3).unwrap_or_else(|e| panic!("{e}"));
        drop(f);
        let (spool, opened) = Spool::open(&dir, 1 << 20).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(opened.entries, 2, "{opened:?}");
        assert_eq!(opened.cuts.len(), 1);
        assert_eq!(opened.cuts[0].0, segment);
        assert_eq!(spool.entries(), 2);
        assert!(spool.oldest().is_some());
        // What is left reads back whole, as it was admitted.
        let data = std::fs::read(&segment).unwrap_or_else(|e| panic!("{e}"));
        let (ranges, valid) = records(&data);
        assert_eq!(valid, data.len(), "the cut is on disk");
        let back: Vec<_> = ranges
            .into_iter()
            .map(|r| decode(&data[r]).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        assert_eq!(back[1].value().delivery_key.as_str(), "b");
        assert_eq!(back[1].value().body, notification("b").value().body);
        assert_eq!(back[1].check(), notification("b").check());
        assert_eq!(back[1].value().headers, notification("b").value().headers);
        // Appends after the reopen go to a new segment, after the old one.
        spool.append(&notification("d")).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spool.entries(), 3);
        assert!(segment_path(&dir, 2).exists());
        drop(spool);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_full_spool_refuses_and_keeps_what_it_holds() {
        let dir = scratch();
        let one = encode(&notification("a")).map(|r| r.len() as u64).unwrap_or_default();
        let (spool, _) = Spool::open(&dir, one * 2).unwrap_or_else(|e| panic!("{e}"));
        assert!(spool.append(&notification("a")).await.is_ok());
        assert!(spool.append(&notification("b")).await.is_ok());
        assert!(matches!(
            spool.append(&notification("c")).await,
            Err(SpoolError::Full(_))
        ));
        assert_eq!((spool.entries(), spool.bytes()), (2, one * 2));
        drop(spool);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn decimals_of_segment_names_sort_as_numbers() {
        let dir = Path::new("/x");
        assert_eq!(segment_seq(&segment_path(dir, 42)), Some(42));
        assert!(segment_path(dir, 9) < segment_path(dir, 10));
        assert_eq!(segment_seq(Path::new("/x/notes.txt")), None);
    }
}
