//! What unauthenticated clients may hold, so that a stalled or flooding
//! client costs itself and never its neighbours.
//!
//! Body bytes are taken as they arrive, never on a client's word (a declared
//! `Content-Length` reserves nothing), and each byte is charged three ways:
//! to the peer address (at most `max_body_bytes_per_peer`), to the source it
//! was sent to (at most `max_body_bytes_per_source`), and to the process
//! (`max_body_bytes_in_memory`). The last `small_body_reserve_bytes` of the
//! process budget serve only bodies of at most [`SMALL_BODY`] bytes: real
//! webhooks are a few kilobytes, so a flood of large stalled bodies, from
//! however many addresses, leaves them room. Requests in flight are likewise
//! bounded per peer (`max_in_flight_per_peer`).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Largest body that may draw on the small-body reserve.
pub const SMALL_BODY: usize = 64 * 1024;

/// The bytes of a process budget of `process` kept for small bodies: as
/// configured, but at most a quarter of the budget, so that a small budget
/// still holds bodies of the full source limit.
pub fn small_reserve(process: usize, configured: usize) -> usize {
    configured.min(process / 4)
}

/// Which budget refused (the label of `hookgate_ingress_budget_refusals_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spent {
    /// The peer's requests in flight.
    PeerRequests,
    /// The peer's body bytes.
    PeerBytes,
    /// The source's body bytes.
    SourceBytes,
    /// The process's body bytes.
    ProcessBytes,
}

impl Spent {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Spent::PeerRequests => "peer_requests",
            Spent::PeerBytes => "peer_bytes",
            Spent::SourceBytes => "source_bytes",
            Spent::ProcessBytes => "process_bytes",
        }
    }
}

/// Amounts held per key, each key at most `cap` (0: no cap).
#[derive(Debug)]
pub(crate) struct Ledger<K> {
    cap: usize,
    held: Mutex<HashMap<K, usize>>,
}

impl<K: Hash + Eq + Clone> Ledger<K> {
    pub(crate) fn new(cap: usize) -> Self {
        Ledger {
            cap,
            held: Mutex::new(HashMap::new()),
        }
    }

    /// Takes `n` for `key` unless that would pass the cap.
    fn take(&self, key: &K, n: usize) -> bool {
        if self.cap == 0 || n == 0 {
            return true;
        }
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let now = held.get(key).copied().unwrap_or(0);
        if now + n > self.cap {
            return false;
        }
        held.insert(key.clone(), now + n);
        true
    }

    /// Gives back `n` of `key`.
    fn give(&self, key: &K, n: usize) {
        if self.cap == 0 || n == 0 {
            return;
        }
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(now) = held.get_mut(key) {
            *now = now.saturating_sub(n);
            if *now == 0 {
                held.remove(key);
            }
        }
    }

    #[cfg(test)]
    fn held(&self, key: &K) -> usize {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.get(key).copied().unwrap_or(0)
    }
}

/// The sizes of the budgets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes {
    pub process: usize,
    pub small_reserve: usize,
    pub per_peer: usize,
    pub per_source: usize,
    pub in_flight_per_peer: usize,
}

/// The body-byte budgets of one process.
#[derive(Debug)]
pub(crate) struct BodyBudget {
    shared: Arc<Semaphore>,
    small: Arc<Semaphore>,
    peers: Ledger<IpAddr>,
    sources: Ledger<(String, String)>,
    requests: Ledger<IpAddr>,
}

impl BodyBudget {
    pub(crate) fn new(s: Sizes) -> Self {
        let process = s.process.min(Semaphore::MAX_PERMITS);
        let small = small_reserve(s.process, s.small_reserve).min(process);
        BodyBudget {
            shared: Arc::new(Semaphore::new(process - small)),
            small: Arc::new(Semaphore::new(small)),
            peers: Ledger::new(s.per_peer),
            sources: Ledger::new(s.per_source),
            requests: Ledger::new(s.in_flight_per_peer),
        }
    }

    /// A request of `peer` in flight, or which budget is spent.
    pub(crate) fn request(&self, peer: Option<IpAddr>) -> Result<RequestHold<'_>, Spent> {
        if let Some(ip) = peer {
            if !self.requests.take(&ip, 1) {
                return Err(Spent::PeerRequests);
            }
        }
        Ok(RequestHold { budget: self, peer })
    }

    /// An empty hold of body bytes for one request to `tenant`/`source`.
    pub(crate) fn body(&self, peer: Option<IpAddr>, tenant: &str, source: &str) -> BodyHold<'_> {
        BodyHold {
            budget: self,
            peer,
            source: (tenant.to_owned(), source.to_owned()),
            held: 0,
            shared: None,
            small: None,
        }
    }
}

/// One request in flight of a peer; given back on drop.
#[derive(Debug)]
pub(crate) struct RequestHold<'a> {
    budget: &'a BodyBudget,
    peer: Option<IpAddr>,
}

impl Drop for RequestHold<'_> {
    fn drop(&mut self) {
        if let Some(ip) = self.peer {
            self.budget.requests.give(&ip, 1);
        }
    }
}

/// The body bytes one request holds; given back on drop.
#[derive(Debug)]
pub(crate) struct BodyHold<'a> {
    budget: &'a BodyBudget,
    peer: Option<IpAddr>,
    source: (String, String),
    held: usize,
    shared: Option<OwnedSemaphorePermit>,
    small: Option<OwnedSemaphorePermit>,
}

impl BodyHold<'_> {
    /// Takes `n` more bytes (that just arrived), or says which budget is spent.
    pub(crate) fn grow(&mut self, n: usize) -> Result<(), Spent> {
        if n == 0 {
            return Ok(());
        }
        let b = self.budget;
        if let Some(ip) = &self.peer {
            if !b.peers.take(ip, n) {
                return Err(Spent::PeerBytes);
            }
        }
        if !b.sources.take(&self.source, n) {
            if let Some(ip) = &self.peer {
                b.peers.give(ip, n);
            }
            return Err(Spent::SourceBytes);
        }
        let permits = u32::try_from(n).ok();
        let from_process = permits.and_then(|p| {
            if let Ok(p) = b.shared.clone().try_acquire_many_owned(p) {
                return Some((p, false));
            }
            // Only a small body may use the reserve.
            (self.held + n <= SMALL_BODY)
                .then(|| b.small.clone().try_acquire_many_owned(p).ok().map(|p| (p, true)))
                .flatten()
        });
        let Some((permit, small)) = from_process else {
            if let Some(ip) = &self.peer {
                b.peers.give(ip, n);
            }
            b.sources.give(&self.source, n);
            return Err(Spent::ProcessBytes);
        };
        let slot = if small { &mut self.small } else { &mut self.shared };
        match slot {
            Some(p) => p.merge(permit),
            None => *slot = Some(permit),
        }
        self.held += n;
        Ok(())
    }
}

impl Drop for BodyHold<'_> {
    fn drop(&mut self) {
        if let Some(ip) = &self.peer {
            self.budget.peers.give(ip, self.held);
        }
        self.budget.sources.give(&self.source, self.held);
        // The permits go back to their semaphores as they drop.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget() -> BodyBudget {
        BodyBudget::new(Sizes {
            process: 1000 * 1024,
            small_reserve: 200 * 1024,
            per_peer: 400 * 1024,
            per_source: 600 * 1024,
            in_flight_per_peer: 2,
        })
    }

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([127, 0, 0, last]))
    }

    #[test]
    fn a_peer_holds_at_most_its_share_and_gets_it_back() {
        let b = budget();
        let mut one = b.body(ip(2), "t", "s");
        assert_eq!(one.grow(300 * 1024), Ok(()));
        let mut two = b.body(ip(2), "t", "other");
        assert_eq!(two.grow(200 * 1024), Err(Spent::PeerBytes));
        // Another peer is unaffected.
        let mut three = b.body(ip(3), "t", "other");
        assert_eq!(three.grow(200 * 1024), Ok(()));
        drop(one);
        assert_eq!(b.peers.held(&IpAddr::from([127, 0, 0, 2])), 0);
        assert_eq!(two.grow(200 * 1024), Ok(()));
    }

    #[test]
    fn a_source_holds_at_most_its_share() {
        let b = budget();
        let mut holds: Vec<_> = (2..5).map(|i| b.body(ip(i), "t", "s")).collect();
        assert_eq!(holds[0].grow(300 * 1024), Ok(()));
        assert_eq!(holds[1].grow(300 * 1024), Ok(()));
        assert_eq!(holds[2].grow(1024), Err(Spent::SourceBytes));
        // Refused bytes are not left charged to the peer.
        assert_eq!(b.peers.held(&IpAddr::from([127, 0, 0, 4])), 0);
        let mut other = b.body(ip(5), "u", "s");
        assert_eq!(other.grow(1024), Ok(()));
    }

    #[test]
    fn the_reserve_serves_only_small_bodies() {
        let b = budget();
        // Large bodies from many peers and sources spend the shared part.
        let mut large: Vec<_> = (0..4).map(|i| b.body(ip(10 + i), &format!("t{i}"), "s")).collect();
        for h in large.iter_mut() {
            assert_eq!(h.grow(200 * 1024), Ok(()));
        }
        let mut big = b.body(ip(20), "x", "s");
        assert_eq!(big.grow(100 * 1024), Err(Spent::ProcessBytes));
        let mut small = b.body(ip(21), "y", "s");
        assert_eq!(small.grow(4 * 1024), Ok(()), "a small body uses the reserve");
        // ... and stops being small past SMALL_BODY.
        assert_eq!(small.grow(SMALL_BODY), Err(Spent::ProcessBytes));
        drop(large);
        assert_eq!(big.grow(100 * 1024), Ok(()));
    }

    #[test]
    fn the_reserve_is_at_most_a_quarter_of_the_budget() {
        let mib = 1024 * 1024;
        assert_eq!(small_reserve(64 * mib, 8 * mib), 8 * mib);
        assert_eq!(
            small_reserve(8 * mib, 8 * mib),
            2 * mib,
            "a small budget still holds large bodies"
        );
    }

    #[test]
    fn requests_in_flight_are_bounded_per_peer() {
        let b = budget();
        let one = b.request(ip(2)).unwrap_or_else(|e| panic!("{e:?}"));
        let _two = b.request(ip(2)).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(b.request(ip(2)).err(), Some(Spent::PeerRequests));
        assert!(b.request(ip(3)).is_ok());
        drop(one);
        assert!(b.request(ip(2)).is_ok());
    }
}
