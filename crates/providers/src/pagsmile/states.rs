//! Pagsmile's order of states (docs/events.md, "Stale states"; PROVIDERS.md
//! §2b-2c). Card status and cardholder audit codes go back and forth (a card
//! is frozen and unfrozen) and their tables were not retrievable, so they
//! have no order here.

use crate::progress::Progress;

/// Pay-in `trade_status`: the opt-in in-flight states (PROCESSING,
/// RISK_CONTROLLING) → a first outcome (SUCCESS, CANCEL, EXPIRED, REFUSED)
/// → what can only follow a payment (refunds, chargebacks, disputes), which
/// are not ordered against each other (several refunds of one payment).
pub fn payment(status: &str) -> Option<Progress> {
    let rank = match status {
        "PROCESSING" | "RISK_CONTROLLING" => 1,
        "SUCCESS" | "CANCEL" | "EXPIRED" | "REFUSED" => 2,
        "REFUND_VERIFYING"
        | "REFUND_PROCESSING"
        | "REFUNDED"
        | "REFUND_REFUSED"
        | "REFUND_REVOKE"
        | "CHARGEBACK"
        | "CHARGEBACK_REVERSED"
        | "DISPUTE" => 3,
        _ => return None,
    };
    Some(Progress::at("status", rank))
}

/// Payout `status`: PAID or REJECTED → PARTIAL_REFUNDED → REFUNDED.
pub fn payout(status: &str) -> Option<Progress> {
    let rank = match status {
        "PAID" | "REJECTED" => 1,
        "PARTIAL_REFUNDED" => 2,
        "REFUNDED" => 3,
        _ => return None,
    };
    Some(Progress::at("status", rank))
}

/// Issuing authorization `data_type` (one subject per original
/// authorization): cardAuthorization → cardSettlement or
/// cardAuthorizationExpired.
pub fn card_authorization(data_type: &str) -> Option<Progress> {
    let rank = match data_type {
        "cardAuthorization" => 1,
        "cardSettlement" | "cardAuthorizationExpired" => 2,
        _ => return None,
    };
    Some(Progress::at("authorization", rank))
}
