//! BH's order of states per push family (docs/events.md, "Stale states";
//! the codes and meanings of PROVIDERS.md §3, from the order-detail API).
//! Codes of one rank are not ordered against each other: the RFI exchange
//! (11 and 12) goes back and forth, and the final states (released,
//! canceled) are alternatives. Stablecoin payments (only `CONFIRMED` is
//! documented) and withdrawals (`succeeded` or `failed`, both final) have
//! no order here; an unknown code is never judged.

use crate::progress::Progress;

/// ORDER_WEBHOOK `orderStatus`: 10/11/12 reviewing → 30/31 approved → 40
/// pending payment → 50 paid → 60 released or 70 canceled → 73 refunding →
/// 72 refunded.
pub fn ramp_order(status: &str) -> Option<Progress> {
    let rank = match status {
        "10" | "11" | "12" => 1,
        "30" | "31" => 2,
        "40" => 3,
        "50" => 4,
        "60" | "70" => 5,
        "73" => 6,
        "72" => 7,
        _ => return None,
    };
    Some(Progress::at("status", rank))
}

/// GLOBAL_PAYMENT_WEBHOOK `orderStatus`: 10/11/12 pending → 30/31 approved
/// → 41 pay-in pending → 51 payout pending → 60 released, 71 pay-in
/// canceled or 72 payout canceled.
pub fn global_payment(status: &str) -> Option<Progress> {
    let rank = match status {
        "10" | "11" | "12" => 1,
        "30" | "31" => 2,
        "41" => 3,
        "51" => 4,
        "60" | "71" | "72" => 5,
        _ => return None,
    };
    Some(Progress::at("status", rank))
}

/// FUNDING_WEBHOOK `status`: 1 pending → 2 completed or 3 canceled → 4
/// refunded.
pub fn funding(status: &str) -> Option<Progress> {
    let rank = match status {
        "1" => 1,
        "2" | "3" => 2,
        "4" => 3,
        _ => return None,
    };
    Some(Progress::at("status", rank))
}
