//! One message as the handler sees it: the typed event, its exact `raw`
//! payload, and what the broker and hookgate said about it.

use hookgate_proto::v1;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// Header naming the replay job that republished a message (absent on a
/// first publish).
pub const REPLAY_HEADER: &str = "x-hookgate-replay-job";
/// Header set to `true` on a stale event (docs/events.md, "Stale states").
pub const STALE_HEADER: &str = "x-hookgate-stale";

/// One verified, decoded message.
#[derive(Debug, Clone)]
pub struct Message {
    /// The canonical event (`raw` is in [`Message::raw`], exact).
    pub event: v1::Event,
    /// The provider payload as exact JSON text (ids beyond 2^53 and decimal
    /// amounts keep their digits).
    pub raw: Box<RawValue>,
    /// The routing key it was published with (`keeta.order.accepted`,
    /// `….stale` under `stale_policy = "route"`).
    pub routing_key: String,
    /// The broker delivered it before (to this or another consumer).
    pub redelivered: bool,
    /// Its AMQP headers, as text.
    pub headers: BTreeMap<String, String>,
    /// The body exactly as published.
    pub body: Vec<u8>,
}

impl Message {
    /// The replay job that republished it: an operator's deliberate
    /// republish, handled again (see [`Message::dedupe_key`]).
    pub fn replay_job(&self) -> Option<&str> {
        self.headers.get(REPLAY_HEADER).map(String::as_str)
    }

    /// Its state comes before one its subject already reached
    /// ([`v1::Event::stale_behind`] names it): applying it as the newest
    /// state would move the subject backwards.
    pub fn is_stale(&self) -> bool {
        self.event.stale
    }

    /// What the inbox records to drop repeats: the event's idempotency key
    /// (two notifications meaning one business change share it), and for a
    /// replay, the key and the replay job (so a corrective replay is handled
    /// once more, and its own redeliveries are dropped). The event id where
    /// an event has no idempotency key.
    pub fn dedupe_key(&self) -> String {
        let key = if self.event.idempotency_key.is_empty() {
            format!("id:{}", self.event.id)
        } else {
            self.event.idempotency_key.clone()
        };
        match self.replay_job() {
            Some(job) => format!("{key}#replay:{job}"),
            None => key,
        }
    }

    /// Times the broker delivered it before (`x-delivery-count`, set by
    /// quorum queues); 0 when unknown.
    pub fn delivery_count(&self) -> u32 {
        self.headers
            .get("x-delivery-count")
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;

    fn message(key: &str, headers: &[(&str, &str)]) -> Message {
        Message {
            event: v1::Event {
                id: "0190".into(),
                idempotency_key: key.into(),
                ..Default::default()
            },
            raw: RawValue::from_string("{}".into()).unwrap(),
            routing_key: String::new(),
            redelivered: false,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: Vec::new(),
        }
    }

    #[test]
    fn replays_dedupe_per_job_and_first_publishes_on_the_key() {
        assert_eq!(message("keeta:1002:1:30", &[]).dedupe_key(), "keeta:1002:1:30");
        assert_eq!(
            message("keeta:1002:1:30", &[(REPLAY_HEADER, "7")]).dedupe_key(),
            "keeta:1002:1:30#replay:7"
        );
        assert_eq!(message("", &[]).dedupe_key(), "id:0190");
        assert_eq!(message("k", &[("x-delivery-count", "3")]).delivery_count(), 3);
    }
}
