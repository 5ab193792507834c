//! Keeta's order of an order's states (docs/events.md, "Stale states"):
//! placed (1001) → accepted (1002, status 30) → completed (1003) or
//! cancelled (1004, status 50). Completed and cancelled share a rank: the
//! docs do not say whether one can follow the other. Refunds (1005, 1007:
//! status codes not documented), deliveries (1006: logistics codes not
//! documented), store status (1102: 3 and 4 go back and forth) and store
//! authorizations have no order here.

use crate::progress::Progress;

/// An order notification's place by its Keeta event id.
pub fn order(event_id: &str) -> Option<Progress> {
    let rank = match event_id {
        "1001" => 1,
        "1002" => 2,
        "1003" | "1004" => 3,
        _ => return None,
    };
    Some(Progress::at("order", rank))
}
