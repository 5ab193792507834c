//! Keeta store authorizations 1301/1302 (seed 000): `{clientId, authId,
//! opType, shopId, shopName, createTime}`; idempotency on `authId` + `opType`.

use crate::inspect::{delivery_key_or_hash, Keys};
use crate::value::{Int, Text};
use crate::{parse_lenient, raw_body, Input, Mapped, NormalizeError};
use hookgate_proto::v1::{self, event::Data};
use hookgate_proto::{timestamp_from_millis, CanonicalEvent};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    client_id: Option<Int>,
    auth_id: Option<Text>,
    op_type: Option<Int>,
    shop_id: Option<Int>,
    shop_name: Option<String>,
    create_time: Option<Int>,
}

fn parse(body: &[u8]) -> Result<(Body, String, i64), NormalizeError> {
    let b: Body = parse_lenient(body)?;
    let auth_id = b
        .auth_id
        .clone()
        .map(|t| t.0)
        .filter(|a| !a.is_empty())
        .ok_or(NormalizeError::MissingField("authId"))?;
    let op_type = b.op_type.ok_or(NormalizeError::MissingField("opType"))?.0;
    Ok((b, auth_id, op_type))
}

/// Provider family: first segment of routing keys (shared with `keeta`).
pub const PROVIDER: &str = crate::keeta::PROVIDER;

/// What ingress reads from one parse of a push: its keys (delivery key
/// `authId:opType`, the documented idempotency key; subject the store) and
/// its `clientId`, if it has one.
pub fn read(body: &[u8]) -> Result<(Keys, Option<i64>), NormalizeError> {
    let (b, auth_id, op_type) = parse(body)?;
    let keys = Keys {
        delivery_key: delivery_key_or_hash(format!("{auth_id}:{op_type}"), body),
        subject: Some(subject_of(&b, &auth_id)),
    };
    Ok((keys, b.client_id.map(|i| i.0)))
}

/// `store/<shopId>`, or `authorization/<authId>` for a body that names no
/// store (never `store/0`): one definition for ingress and normalization.
fn subject_of(b: &Body, auth_id: &str) -> String {
    match b.shop_id {
        Some(shop) => format!("store/{}", shop.0),
        None => format!("authorization/{auth_id}"),
    }
}

/// A store authorization mapped: what both the `keeta-auth` endpoint and a
/// 1301/1302 in Keeta's general envelope become (the same type, subject,
/// idempotency key and data, so one authorization received both ways is
/// published once).
pub(crate) struct Authorization {
    /// Canonical type.
    pub kind: &'static str,
    /// Provider event type (`1301`, `1302`, or `authorization`).
    pub provider_event_type: &'static str,
    /// `store/<shopId>` (`authorization/<authId>` without one).
    pub subject: String,
    /// `keeta-auth:<authId>:<opType>`, the documented idempotency key.
    pub idempotency_key: String,
    /// `createTime`, milliseconds.
    pub occurred_ms: Option<i64>,
    /// Typed data.
    pub data: Data,
}

impl Authorization {
    /// Maps a body; `op_type` is the body's, or the one its event id implies.
    fn of(b: Body, auth_id: String, op_type: i64) -> Authorization {
        let (kind, provider_event_type) = match op_type {
            1 => ("store.authorized", "1301"),
            2 => ("store.authorization_cancelled", "1302"),
            _ => ("unknown", "authorization"),
        };
        let shop_id = crate::lenient::said(b.shop_id.map(|i| i.0), "shopId", "shopId");
        Authorization {
            kind,
            provider_event_type,
            subject: subject_of(&b, &auth_id),
            idempotency_key: format!("keeta-auth:{auth_id}:{op_type}"),
            occurred_ms: b.create_time.map(|t| t.0),
            data: Data::StoreAuthorization(v1::StoreAuthorization {
                client_id: crate::lenient::said(b.client_id.map(|i| i.0), "clientId", "clientId"),
                auth_id,
                shop_id,
                shop_name: b.shop_name,
                op_type: i32::try_from(op_type).unwrap_or_default(),
                time: b.create_time.and_then(|t| timestamp_from_millis(t.0)),
            }),
        }
    }

    /// A 1301 / 1302 pushed in Keeta's general envelope: the authorization
    /// body is its `message`; `opType` defaults to the event's (1301 → 1,
    /// 1302 → 2) and `shopId` to the envelope's.
    pub(crate) fn from_message(
        message: &str,
        event_id: i64,
        envelope_shop: Option<i64>,
    ) -> Result<Authorization, NormalizeError> {
        let mut b: Body =
            crate::lenient::parse(message).map_err(|e| NormalizeError::payload(event_id.to_string(), e))?;
        let auth_id = text_id(&b).ok_or(NormalizeError::MissingField("authId"))?;
        let op_type = b.op_type.map(|i| i.0).unwrap_or(if event_id == 1302 { 2 } else { 1 });
        if b.shop_id.is_none() {
            b.shop_id = envelope_shop.map(Int);
        }
        Ok(Authorization::of(b, auth_id, op_type))
    }

    /// The subject of a 1301 / 1302 in the general envelope, as
    /// [`Authorization::from_message`] names it (ingress's narrow parse).
    pub(crate) fn subject_in_message(message: &str, envelope_shop: Option<i64>) -> Option<String> {
        let mut b: Body = crate::lenient::parse(message).ok()?;
        let auth_id = text_id(&b)?;
        if b.shop_id.is_none() {
            b.shop_id = envelope_shop.map(Int);
        }
        Some(subject_of(&b, &auth_id))
    }
}

fn text_id(b: &Body) -> Option<String> {
    b.auth_id.clone().map(|t| t.0).filter(|a| !a.is_empty())
}

/// Maps 1301 (opType 1) to `store.authorized`, 1302 (opType 2) to
/// `store.authorization_cancelled`; another opType to `unknown`.
pub fn normalize(input: &Input<'_>) -> Result<Vec<CanonicalEvent>, NormalizeError> {
    let (b, auth_id, op_type) = parse(input.body)?;
    let a = Authorization::of(b, auth_id, op_type);
    let mapped = Mapped {
        kind: a.kind.to_owned(),
        provider_event_type: a.provider_event_type.to_owned(),
        subject: a.subject,
        idempotency_key: a.idempotency_key,
        occurred_at: a.occurred_ms.and_then(timestamp_from_millis),
        data: Some(a.data),
    };
    Ok(vec![mapped.into_event(
        input,
        crate::keeta::PROVIDER,
        0,
        raw_body(input.body)?,
    )])
}
