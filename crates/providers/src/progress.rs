//! Where an event stands in its provider's own order of states, for the
//! stale-state guard: the relay records the furthest state published per
//! (tenant, subject, track) and marks an event whose state ranks below it.
//!
//! Each provider's order lives in its own folder (`keeta/states.rs`,
//! `pagsmile/states.rs`, `bh/states.rs`) and is documented, with its source,
//! in `docs/events.md`. Where the provider does not document an order
//! (refund codes, logistics codes, card and store statuses that go back and
//! forth) there is no [`Progress`]: such events are never judged and never
//! move a subject's state.

use crate::{bh, keeta, pagsmile};
use hookgate_proto::v1::{self, event::Data};

/// An event's place in the order of its subject's states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// Which order of the subject this is (an order's status and its
    /// refunds are different tracks of one subject).
    pub track: &'static str,
    /// Position in the order: a later state has a higher rank. States of one
    /// rank are not ordered against each other (completed and cancelled),
    /// so neither is ever stale behind the other.
    pub rank: i16,
}

impl Progress {
    /// On `track` at `rank`.
    pub const fn at(track: &'static str, rank: i16) -> Progress {
        Progress { track, rank }
    }

    /// True when this state comes before `recorded` in the provider's order:
    /// the event would move its subject backwards.
    pub fn is_behind(&self, recorded: i16) -> bool {
        self.rank < recorded
    }
}

/// The event's place in its provider's order of states; `None` where the
/// provider documents no order for it.
pub fn progress(event: &v1::Event) -> Option<Progress> {
    match event.data.as_ref()? {
        Data::Order(_) | Data::OrderStatus(_) => keeta::states::order(&event.provider_event_type),
        Data::Payment(p) => pagsmile::states::payment(&p.status),
        Data::Payout(p) => pagsmile::states::payout(&p.status),
        Data::CardAuthorization(a) => pagsmile::states::card_authorization(&a.data_type),
        Data::RampOrder(o) => bh::states::ramp_order(&o.status),
        Data::GlobalPayment(p) => bh::states::global_payment(&p.status),
        Data::Funding(f) => bh::states::funding(&f.status),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(provider_event_type: &str, data: Data) -> v1::Event {
        v1::Event {
            provider_event_type: provider_event_type.into(),
            data: Some(data),
            ..Default::default()
        }
    }

    fn keeta(id: &str) -> v1::Event {
        event(id, Data::OrderStatus(v1::OrderStatusChange::default()))
    }

    fn ramp(status: &str) -> v1::Event {
        event(
            "ORDER_WEBHOOK",
            Data::RampOrder(v1::RampOrder {
                status: status.into(),
                ..Default::default()
            }),
        )
    }

    fn payout(status: &str) -> v1::Event {
        event(
            "payout",
            Data::Payout(v1::Payout {
                status: status.into(),
                ..Default::default()
            }),
        )
    }

    /// `later` arriving after `earlier` was published: is it stale?
    fn stale_after(earlier: &v1::Event, later: &v1::Event) -> Option<bool> {
        let (a, b) = (progress(earlier)?, progress(later)?);
        (a.track == b.track).then(|| b.is_behind(a.rank))
    }

    #[test]
    fn keeta_accepted_after_cancelled_is_stale_and_the_other_way_is_not() {
        assert_eq!(stale_after(&keeta("1004"), &keeta("1002")), Some(true));
        assert_eq!(stale_after(&keeta("1002"), &keeta("1004")), Some(false));
        assert_eq!(
            stale_after(&event("1001", Data::Order(v1::Order::default())), &keeta("1002")),
            Some(false)
        );
        assert_eq!(
            stale_after(&keeta("1002"), &event("1001", Data::Order(v1::Order::default()))),
            Some(true)
        );
    }

    #[test]
    fn keeta_completed_and_cancelled_are_not_ordered_against_each_other() {
        assert_eq!(stale_after(&keeta("1003"), &keeta("1004")), Some(false));
        assert_eq!(stale_after(&keeta("1004"), &keeta("1003")), Some(false));
        // The same state again is not a regression (a re-push).
        assert_eq!(stale_after(&keeta("1004"), &keeta("1004")), Some(false));
    }

    #[test]
    fn keeta_refunds_and_deliveries_after_a_cancellation_are_no_regression() {
        let refund = event("1005", Data::Refund(v1::Refund::default()));
        let delivery = event("1006", Data::Delivery(v1::Delivery::default()));
        assert_eq!(progress(&refund), None);
        assert_eq!(progress(&delivery), None);
        assert_eq!(stale_after(&keeta("1004"), &refund), None);
    }

    #[test]
    fn bh_ramp_orders_follow_their_documented_order() {
        assert_eq!(stale_after(&ramp("60"), &ramp("50")), Some(true), "paid after released");
        assert_eq!(
            stale_after(&ramp("72"), &ramp("73")),
            Some(true),
            "refunding after refunded"
        );
        assert_eq!(stale_after(&ramp("50"), &ramp("60")), Some(false));
        assert_eq!(
            stale_after(&ramp("60"), &ramp("73")),
            Some(false),
            "a refund after release"
        );
        assert_eq!(stale_after(&ramp("11"), &ramp("12")), Some(false));
        assert_eq!(
            stale_after(&ramp("12"), &ramp("11")),
            Some(false),
            "RFI goes back and forth"
        );
        assert_eq!(
            stale_after(&ramp("60"), &ramp("70")),
            Some(false),
            "released and canceled: not ordered"
        );
        assert_eq!(progress(&ramp("99")), None, "an unknown code is never judged");
    }

    #[test]
    fn bh_global_payments_and_fundings() {
        let global = |s: &str| {
            event(
                "GLOBAL_PAYMENT_WEBHOOK",
                Data::GlobalPayment(v1::GlobalPayment {
                    status: s.into(),
                    ..Default::default()
                }),
            )
        };
        let funding = |s: &str| {
            event(
                "FUNDING_WEBHOOK",
                Data::Funding(v1::Funding {
                    status: s.into(),
                    ..Default::default()
                }),
            )
        };
        assert_eq!(stale_after(&global("60"), &global("41")), Some(true));
        assert_eq!(stale_after(&global("41"), &global("51")), Some(false));
        assert_eq!(stale_after(&funding("2"), &funding("1")), Some(true));
        assert_eq!(stale_after(&funding("2"), &funding("4")), Some(false));
        assert_eq!(stale_after(&funding("4"), &funding("2")), Some(true));
    }

    #[test]
    fn pagsmile_payouts_payments_and_authorizations() {
        assert_eq!(stale_after(&payout("REFUNDED"), &payout("PAID")), Some(true));
        assert_eq!(
            stale_after(&payout("REFUNDED"), &payout("PARTIAL_REFUNDED")),
            Some(true)
        );
        assert_eq!(
            stale_after(&payout("PARTIAL_REFUNDED"), &payout("REFUNDED")),
            Some(false)
        );
        assert_eq!(stale_after(&payout("PAID"), &payout("REJECTED")), Some(false));
        let payment = |s: &str| {
            event(
                "payin",
                Data::Payment(v1::Payment {
                    status: s.into(),
                    ..Default::default()
                }),
            )
        };
        assert_eq!(stale_after(&payment("SUCCESS"), &payment("PROCESSING")), Some(true));
        assert_eq!(stale_after(&payment("REFUNDED"), &payment("SUCCESS")), Some(true));
        assert_eq!(
            stale_after(&payment("CHARGEBACK"), &payment("CHARGEBACK_REVERSED")),
            Some(false)
        );
        assert_eq!(
            stale_after(&payment("PROCESSING"), &payment("RISK_CONTROLLING")),
            Some(false)
        );
        let auth = |t: &str| {
            event(
                "4",
                Data::CardAuthorization(v1::CardAuthorization {
                    data_type: t.into(),
                    ..Default::default()
                }),
            )
        };
        assert_eq!(
            stale_after(&auth("cardSettlement"), &auth("cardAuthorization")),
            Some(true)
        );
        assert_eq!(
            stale_after(&auth("cardAuthorization"), &auth("cardSettlement")),
            Some(false)
        );
        assert_eq!(
            stale_after(&auth("cardAuthorizationExpired"), &auth("cardSettlement")),
            Some(false)
        );
    }

    #[test]
    fn families_without_a_documented_order_are_never_judged() {
        for data in [
            Data::CardStatus(v1::CardStatus::default()),
            Data::CardholderAudit(v1::CardholderAudit::default()),
            Data::StoreStatus(v1::StoreStatus::default()),
            Data::StoreAuthorization(v1::StoreAuthorization::default()),
            Data::StablecoinPayment(v1::StablecoinPayment::default()),
            Data::Withdrawal(v1::Withdrawal::default()),
        ] {
            assert_eq!(progress(&event("x", data)), None);
        }
    }
}
