//! Keeta general webhooks (Standard API, seed 001): one JSON envelope
//! `{sig, eventId, appId, messageId, shopId, message, timestamp}` whose
//! `message` is a JSON-encoded string holding the per-event payload.
//! Sources: <https://api-docs.mykeeta.com/apis/standard/docs/webhook> and the
//! per-event pages listed in PROVIDERS.md §1a.

use crate::lenient::said;
use crate::value::{Flag, Int, Text};
use crate::{money_from_minor, Input, NormalizeError};
use hookgate_core::DeliveryKey;
use hookgate_proto::v1::{self, event::Data};
use hookgate_proto::{timestamp_from_millis, timestamp_from_secs, CanonicalEvent};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// Provider name: first segment of routing keys.
pub const PROVIDER: &str = "keeta";

/// The Keeta push envelope. Only the fields hookgate needs are typed; all of
/// them are read leniently (numbers or strings).
#[derive(Debug, Clone)]
pub struct Envelope {
    /// Event code, e.g. 1002.
    pub event_id: i64,
    /// Keeta app id (may exceed i32).
    pub app_id: Option<i64>,
    /// Per-message id; Keeta's retries are expected to reuse it.
    pub message_id: String,
    /// Keeta store id.
    pub shop_id: Option<i64>,
    /// The `message` field decoded: the JSON text of the event payload.
    pub message: String,
    /// Push time, Unix seconds.
    pub timestamp: Option<i64>,
}

/// The top-level fields of a push body, each as its exact JSON text: the
/// one parse of the body that the envelope, the signature parameters and
/// the raw payload all read.
pub type Fields<'a> = BTreeMap<String, &'a RawValue>;

/// Parses a body into its top-level fields.
pub fn fields(body: &[u8]) -> Result<Fields<'_>, NormalizeError> {
    serde_json::from_slice(body).map_err(NormalizeError::not_json)
}

/// A field read leniently (a number or a numeric string); `None` when absent,
/// `null` or unreadable.
fn field<'a, T: Deserialize<'a>>(fields: &Fields<'a>, name: &str) -> Option<T> {
    fields.get(name).and_then(|raw| serde_json::from_str(raw.get()).ok())
}

impl Envelope {
    /// Parses and checks the envelope of a push body.
    pub fn parse(body: &[u8]) -> Result<Envelope, NormalizeError> {
        Envelope::from_fields(&fields(body)?)
    }

    /// Checks the envelope of parsed fields.
    pub fn from_fields(fields: &Fields<'_>) -> Result<Envelope, NormalizeError> {
        let event_id = field::<Int>(fields, "eventId")
            .ok_or(NormalizeError::MissingField("eventId"))?
            .0;
        let message_id = field::<Text>(fields, "messageId")
            .map(|t| t.0)
            .filter(|m| !m.is_empty())
            .ok_or(NormalizeError::MissingField("messageId"))?;
        let message = fields
            .get("message")
            .filter(|m| m.get() != "null")
            .ok_or(NormalizeError::MissingField("message"))?;
        // `message` is documented as a JSON-encoded string; accept an inline object too.
        let message = match serde_json::from_str::<String>(message.get()) {
            Ok(text) => text,
            Err(_) if message.get().trim_start().starts_with('{') => message.get().to_owned(),
            Err(_) => return Err(NormalizeError::MissingField("message")),
        };
        Ok(Envelope {
            event_id,
            app_id: field::<Int>(fields, "appId").map(|i| i.0),
            message_id,
            shop_id: field::<Int>(fields, "shopId").map(|i| i.0),
            message,
            timestamp: field::<Int>(fields, "timestamp").map(|i| i.0),
        })
    }

    /// The delivery key: `messageId`, or the body hash if it is too long.
    pub fn delivery_key(&self, body: &[u8]) -> DeliveryKey {
        DeliveryKey::new(self.message_id.clone())
            .unwrap_or_else(|| DeliveryKey::from_digest_hex(crate::body_hash(body)))
    }
}

/// The ids a subject is made of, read from the event payload without the rest.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubjectIds {
    order_view_id: Option<Int>,
    shop_id: Option<Int>,
    order_info: Option<OrderInfoIds>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderInfoIds {
    base_order: Option<BaseOrderIds>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BaseOrderIds {
    order_view_id: Option<Int>,
}

/// The subject of the event an envelope carries, as [`normalize`] names it,
/// read with one narrow parse of `message` (none for unknown events).
/// `None` where normalization would not find it either.
pub fn subject(env: &Envelope) -> Option<String> {
    // As leniently as normalization reads the payload (values that do not fit are left out).
    let ids = || crate::lenient::parse::<SubjectIds>(&env.message).ok();
    match env.event_id {
        1001 => {
            let id = ids()?.order_info?.base_order?.order_view_id?;
            Some(format!("order/{}", id.0))
        }
        1002..=1007 => Some(format!("order/{}", ids()?.order_view_id?.0)),
        1101 | 1102 => {
            let shop = ids()?.shop_id.map(|i| i.0).or(env.shop_id)?;
            Some(format!("store/{shop}"))
        }
        1201 | 1202 => Some(match ids()?.shop_id.map(|i| i.0).or(env.shop_id) {
            Some(shop) => format!("store/{shop}"),
            None => format!("message/{}", env.message_id),
        }),
        1301 | 1302 => crate::keeta_auth::normalize::Authorization::subject_in_message(&env.message, env.shop_id),
        _ => Some(match env.shop_id {
            Some(shop) => format!("store/{shop}"),
            None => format!("message/{}", env.message_id),
        }),
    }
}

/// The one parse of a push body: `None` for Keeta's heartbeat (an empty
/// packet: empty body or `{}`), else the body's top-level fields.
pub fn parse_push(body: &[u8]) -> Result<Option<Fields<'_>>, NormalizeError> {
    if body.trim_ascii().is_empty() {
        return Ok(None);
    }
    let fields = fields(body)?;
    Ok((!fields.is_empty()).then_some(fields))
}

/// Canonical type and typed data of one event.
struct Mapped {
    kind: &'static str,
    subject: String,
    idempotency_key: String,
    occurred_ms: Option<i64>,
    data: Option<Data>,
}

impl Mapped {
    fn finish(self, env: &Envelope) -> crate::Mapped {
        crate::Mapped {
            kind: self.kind.to_owned(),
            provider_event_type: env.event_id.to_string(),
            subject: self.subject,
            idempotency_key: self.idempotency_key,
            occurred_at: self
                .occurred_ms
                .and_then(timestamp_from_millis)
                .or_else(|| env.timestamp.and_then(timestamp_from_secs)),
            data: self.data,
        }
    }
}

/// Maps a Keeta notification to its canonical event (always exactly one).
pub fn normalize(input: &Input<'_>) -> Result<Vec<CanonicalEvent>, NormalizeError> {
    let env = Envelope::parse(input.body)?;
    let mapped = map_event(&env)?.finish(&env);
    Ok(vec![mapped.into_event(input, PROVIDER, 0, raw_payload(input.body)?)])
}

/// The envelope without `sig`, with `message` expanded to the object it encodes
/// (when it is valid JSON), every value kept as its exact text.
fn raw_payload(body: &[u8]) -> Result<Box<RawValue>, NormalizeError> {
    let fields: BTreeMap<String, &RawValue> = serde_json::from_slice(body).map_err(NormalizeError::not_json)?;
    let mut out = String::with_capacity(body.len());
    out.push('{');
    for (key, value) in fields.iter().filter(|(k, _)| k.as_str() != "sig") {
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(key).map_err(NormalizeError::not_json)?);
        out.push(':');
        let expanded = (key == "message")
            .then(|| serde_json::from_str::<String>(value.get()).ok())
            .flatten()
            .filter(|text| serde_json::from_str::<&RawValue>(text).is_ok());
        match expanded {
            Some(text) => out.push_str(text.trim()),
            None => out.push_str(value.get()),
        }
    }
    out.push('}');
    RawValue::from_string(out).map_err(NormalizeError::not_json)
}

fn payload<T: serde::de::DeserializeOwned>(env: &Envelope) -> Result<T, NormalizeError> {
    crate::lenient::parse(&env.message).map_err(|e| NormalizeError::payload(env.event_id.to_string(), e))
}

fn required<T>(value: Option<T>, field: &'static str) -> Result<T, NormalizeError> {
    value.ok_or(NormalizeError::MissingField(field))
}

fn int(v: Option<Int>) -> Option<i64> {
    v.map(|i| i.0)
}

fn int32(v: Option<Int>) -> Option<i32> {
    v.and_then(|i| i32::try_from(i.0).ok())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderStatusMsg {
    order_view_id: Option<Int>,
    shop_id: Option<Int>,
    status: Option<Int>,
    op_time: Option<Int>,
    cancel_reason: Option<String>,
    op_type: Option<Int>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefundMsg {
    order_view_id: Option<Int>,
    shop_id: Option<Int>,
    status: Option<Int>,
    after_sale_order_id: Option<Int>,
    is_appeal: Option<Flag>,
    pictures: Option<Pictures>,
    money: Option<Int>,
    currency: Option<String>,
    apply_op_type: Option<Int>,
    apply_reason: Option<String>,
    handle_op_type: Option<Int>,
    handle_reason: Option<String>,
    op_time: Option<Int>,
    #[serde(default)]
    refund_products: Vec<RefundProductMsg>,
}

/// `pictures` is documented as a JSON array encoded in a string; accept a plain array too.
#[derive(Deserialize)]
#[serde(untagged)]
enum Pictures {
    List(Vec<String>),
    Encoded(String),
}

impl Pictures {
    fn into_vec(self) -> Vec<String> {
        match self {
            Pictures::List(v) => v,
            Pictures::Encoded(s) if s.trim().is_empty() => Vec::new(),
            Pictures::Encoded(s) => serde_json::from_str(&s).unwrap_or_else(|_| vec![s]),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefundProductMsg {
    spu_id: Option<Int>,
    sku_id: Option<Int>,
    count: Option<Int>,
    name: Option<String>,
    spu_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeliveryMsg {
    order_view_id: Option<Int>,
    shop_id: Option<Int>,
    logistics_status: Option<Int>,
    op_time: Option<Int>,
    courier_name: Option<String>,
    courier_phone: Option<String>,
    big_order_tag: Option<Flag>,
    merchant_sub_order_id: Option<Int>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderPlacedMsg {
    order_info: Option<OrderInfo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderInfo {
    base_order: Option<BaseOrder>,
    merchant_order: Option<MerchantOrder>,
    #[serde(default)]
    products: Vec<ProductMsg>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BaseOrder {
    order_view_id: Option<Int>,
    shop_id: Option<Int>,
    choose_tableware: Option<Flag>,
    delivery_time: Option<Int>,
    ctime: Option<Int>,
    estimated_dining_ready_urge_time: Option<Int>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MerchantOrder {
    ctime: Option<Int>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProductMsg {
    name: Option<String>,
    spu_name: Option<String>,
    count: Option<Int>,
    spu_id: Option<Int>,
    sku_id: Option<Int>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoreStatusMsg {
    shop_id: Option<Int>,
    from_status: Option<Int>,
    to_status: Option<Int>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BusinessHoursMsg {
    shop_id: Option<Int>,
    #[serde(default)]
    business_hour_of_the_week: BTreeMap<String, Vec<RangeMsg>>,
    #[serde(default)]
    special_business_hour: Vec<SpecialMsg>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RangeMsg {
    start_time: Option<Int>,
    end_time: Option<Int>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpecialMsg {
    start_date: Option<Int>,
    end_date: Option<Int>,
    #[serde(default)]
    business_hour: Vec<RangeMsg>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MenuTaskMsg {
    shop_id: Option<Int>,
    task_id: Option<Text>,
    #[serde(default, rename = "errorSpuDTOList", alias = "errorList", alias = "failList")]
    error_spu_dto_list: Option<Vec<MenuErrorMsg>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MenuErrorMsg {
    id: Option<Text>,
    name: Option<String>,
    code: Option<Text>,
    message: Option<String>,
    open_item_code: Option<String>,
}

fn ranges(list: Vec<RangeMsg>, at: &str) -> Vec<v1::TimeRange> {
    list.into_iter()
        .enumerate()
        .map(|(i, r)| v1::TimeRange {
            start_second: said(int32(r.start_time), &format!("{at}[{i}].startTime"), "startSecond"),
            end_second: said(int32(r.end_time), &format!("{at}[{i}].endTime"), "endSecond"),
        })
        .collect()
}

/// The store of an event: the payload's `shopId`, else the envelope's; a
/// warning when neither says.
fn shop(payload: Option<Int>, env: &Envelope) -> Option<i64> {
    said(int(payload).or(env.shop_id), "shopId", "shopId")
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn map_event(env: &Envelope) -> Result<Mapped, NormalizeError> {
    let id = env.event_id;
    match id {
        1001 => {
            let msg: OrderPlacedMsg = payload(env)?;
            let info = required(msg.order_info, "orderInfo")?;
            let base = required(info.base_order, "orderInfo.baseOrder")?;
            let order_view_id = required(int(base.order_view_id), "orderInfo.baseOrder.orderViewId")?;
            let shop_id = said(
                int(base.shop_id).or(env.shop_id),
                "orderInfo.baseOrder.shopId",
                "shopId",
            );
            let items = info
                .products
                .into_iter()
                .enumerate()
                .map(|(i, p)| v1::OrderItem {
                    name: p.name.or(p.spu_name),
                    quantity: said(int(p.count), &format!("orderInfo.products[{i}].count"), "quantity"),
                    spu_id: int(p.spu_id),
                    sku_id: int(p.sku_id),
                })
                .collect();
            Ok(Mapped {
                kind: "order.placed",
                subject: format!("order/{order_view_id}"),
                idempotency_key: format!("keeta:1001:{order_view_id}"),
                occurred_ms: int(base.ctime),
                data: Some(Data::Order(v1::Order {
                    order_view_id,
                    shop_id,
                    created_at: int(base.ctime).and_then(timestamp_from_millis),
                    expected_delivery_at: int(base.delivery_time).and_then(timestamp_from_millis),
                    expected_ready_at: int(base.estimated_dining_ready_urge_time).and_then(timestamp_from_millis),
                    merchant_received_at: info
                        .merchant_order
                        .and_then(|m| int(m.ctime))
                        .and_then(timestamp_from_millis),
                    tableware_requested: base.choose_tableware.map(|f| f.0),
                    items,
                })),
            })
        }
        1002..=1004 => {
            let msg: OrderStatusMsg = payload(env)?;
            let order_view_id = required(int(msg.order_view_id), "orderViewId")?;
            let status = required(int32(msg.status), "status")?;
            let kind = match id {
                1002 => "order.accepted",
                1003 => "order.completed",
                _ => "order.cancelled",
            };
            Ok(Mapped {
                kind,
                subject: format!("order/{order_view_id}"),
                idempotency_key: format!("keeta:{id}:{order_view_id}:{status}"),
                occurred_ms: int(msg.op_time),
                data: Some(Data::OrderStatus(v1::OrderStatusChange {
                    order_view_id,
                    shop_id: shop(msg.shop_id, env),
                    status,
                    op_time: int(msg.op_time).and_then(timestamp_from_millis),
                    cancel_reason: msg.cancel_reason,
                    op_type: int32(msg.op_type),
                })),
            })
        }
        1005 | 1007 => {
            let msg: RefundMsg = payload(env)?;
            let order_view_id = required(int(msg.order_view_id), "orderViewId")?;
            let after_sale = required(int(msg.after_sale_order_id), "afterSaleOrderId")?;
            let status = required(int32(msg.status), "status")?;
            let partial = id == 1007;
            Ok(Mapped {
                kind: if partial {
                    "refund.partial_status_changed"
                } else {
                    "refund.status_changed"
                },
                subject: format!("order/{order_view_id}"),
                idempotency_key: format!("keeta:{id}:{after_sale}:{status}"),
                occurred_ms: int(msg.op_time),
                data: Some(Data::Refund(v1::Refund {
                    order_view_id,
                    shop_id: shop(msg.shop_id, env),
                    after_sale_order_id: after_sale,
                    status,
                    partial,
                    amount: int(msg.money).map(|m| money_from_minor(m, msg.currency.as_deref().unwrap_or(""))),
                    is_appeal: msg.is_appeal.map(|f| f.0),
                    apply_op_type: int32(msg.apply_op_type),
                    apply_reason: msg.apply_reason,
                    handle_op_type: int32(msg.handle_op_type),
                    handle_reason: msg.handle_reason,
                    pictures: msg.pictures.map(Pictures::into_vec).unwrap_or_default(),
                    products: msg
                        .refund_products
                        .into_iter()
                        .enumerate()
                        .map(|(i, p)| v1::RefundProduct {
                            spu_id: int(p.spu_id),
                            sku_id: int(p.sku_id),
                            count: said(int(p.count), &format!("refundProducts[{i}].count"), "count"),
                            name: p.name.or(p.spu_name),
                        })
                        .collect(),
                    op_time: int(msg.op_time).and_then(timestamp_from_millis),
                })),
            })
        }
        1006 => {
            let msg: DeliveryMsg = payload(env)?;
            let order_view_id = required(int(msg.order_view_id), "orderViewId")?;
            let status = required(int32(msg.logistics_status), "logisticsStatus")?;
            let op_time = int(msg.op_time);
            Ok(Mapped {
                kind: "delivery.status_changed",
                subject: format!("order/{order_view_id}"),
                idempotency_key: format!("keeta:1006:{order_view_id}:{status}:{}", op_time.unwrap_or_default()),
                occurred_ms: op_time,
                data: Some(Data::Delivery(v1::Delivery {
                    order_view_id,
                    shop_id: shop(msg.shop_id, env),
                    logistics_status: status,
                    courier_name: msg.courier_name,
                    courier_phone: msg.courier_phone,
                    big_order: msg.big_order_tag.map(|f| f.0),
                    merchant_sub_order_id: int(msg.merchant_sub_order_id),
                    op_time: op_time.and_then(timestamp_from_millis),
                })),
            })
        }
        1101 => {
            let msg: BusinessHoursMsg = payload(env)?;
            let shop_id = required(int(msg.shop_id).or(env.shop_id), "shopId")?;
            let mut week = msg.business_hour_of_the_week;
            let weekly = DAYS
                .iter()
                .filter_map(|day| {
                    week.remove(*day).map(|r| v1::DayHours {
                        day: (*day).to_owned(),
                        ranges: ranges(r, &format!("businessHourOfTheWeek.{day}")),
                    })
                })
                .collect();
            let special = msg
                .special_business_hour
                .into_iter()
                .enumerate()
                .map(|(i, s)| v1::SpecialHours {
                    start_date: int(s.start_date).and_then(timestamp_from_millis),
                    end_date: int(s.end_date).and_then(timestamp_from_millis),
                    ranges: ranges(s.business_hour, &format!("specialBusinessHour[{i}].businessHour")),
                })
                .collect();
            Ok(Mapped {
                kind: "store.business_hours_changed",
                subject: format!("store/{shop_id}"),
                // Hours may change back (A → B → A): the push time keeps the
                // third change apart from the first.
                idempotency_key: format!(
                    "keeta:1101:{shop_id}:{}:{}",
                    &crate::body_hash(env.message.as_bytes())[..16],
                    env.timestamp.unwrap_or_default()
                ),
                occurred_ms: None,
                data: Some(Data::BusinessHours(v1::StoreBusinessHours {
                    shop_id,
                    weekly,
                    special,
                })),
            })
        }
        1102 => {
            let msg: StoreStatusMsg = payload(env)?;
            let shop_id = required(int(msg.shop_id).or(env.shop_id), "shopId")?;
            let to_status = required(int32(msg.to_status), "toStatus")?;
            Ok(Mapped {
                kind: "store.status_changed",
                subject: format!("store/{shop_id}"),
                idempotency_key: format!("keeta:1102:{shop_id}:{to_status}:{}", env.timestamp.unwrap_or_default()),
                occurred_ms: None,
                data: Some(Data::StoreStatus(v1::StoreStatus {
                    shop_id,
                    from_status: said(int32(msg.from_status), "fromStatus", "fromStatus"),
                    to_status,
                    operating: match to_status {
                        3 => Some(true),
                        4 => Some(false),
                        other => {
                            crate::lenient::note(format!(
                                "toStatus: {other} is neither 3 (operating) nor 4 (suspended); operating left unset"
                            ));
                            None
                        }
                    },
                })),
            })
        }
        1201 | 1202 => {
            // 1201's schema is not published (PROVIDERS.md open question 8): read
            // it like 1202 and keep everything in `raw`.
            let msg: MenuTaskMsg = payload(env)?;
            let shop_id = shop(msg.shop_id, env);
            let task_id = msg.task_id.map(|t| t.0);
            // Succeeded only when Keeta sent the list and it is empty: an
            // unsent or unreadable list says nothing.
            let listed = said(msg.error_spu_dto_list, "errorSpuDTOList", "succeeded");
            let succeeded = listed.as_ref().map(Vec::is_empty);
            let errors: Vec<v1::MenuTaskError> = listed
                .unwrap_or_default()
                .into_iter()
                .map(|e| v1::MenuTaskError {
                    id: e.id.map(|t| t.0),
                    name: e.name,
                    code: e.code.map(|t| t.0),
                    message: e.message,
                    open_item_code: e.open_item_code,
                })
                .collect();
            let key = match &task_id {
                Some(task) => format!("keeta:{id}:{task}"),
                None => format!("keeta:{id}:msg:{}", env.message_id),
            };
            Ok(Mapped {
                kind: if id == 1201 {
                    "menu.image_binding_completed"
                } else {
                    "menu.sync_completed"
                },
                subject: match shop_id {
                    Some(shop) => format!("store/{shop}"),
                    None => format!("message/{}", env.message_id),
                },
                idempotency_key: key,
                occurred_ms: None,
                data: Some(Data::MenuTask(v1::MenuTask {
                    shop_id,
                    task_id,
                    succeeded,
                    errors,
                })),
            })
        }
        // Store authorizations pushed in the general envelope: the same
        // events as on a `keeta-auth` source.
        1301 | 1302 => {
            let a = crate::keeta_auth::normalize::Authorization::from_message(&env.message, id, env.shop_id)?;
            Ok(Mapped {
                kind: a.kind,
                subject: a.subject,
                idempotency_key: a.idempotency_key,
                occurred_ms: a.occurred_ms,
                data: Some(a.data),
            })
        }
        _ => Ok(Mapped {
            kind: "unknown",
            subject: match env.shop_id {
                Some(shop) => format!("store/{shop}"),
                None => format!("message/{}", env.message_id),
            },
            idempotency_key: format!("keeta:{id}:msg:{}", env.message_id),
            occurred_ms: None,
            data: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeats_are_empty_packets_only() {
        for hb in [&b""[..], b"  ", b"{}", b" { } \n"] {
            assert!(matches!(parse_push(hb), Ok(None)), "{hb:?}");
        }
        for not in [&b"{\"a\":1}"[..], b"[]", b"null", b"x"] {
            assert!(!matches!(parse_push(not), Ok(None)), "{not:?}");
        }
    }

    #[test]
    fn envelope_requires_event_message_id_and_message() {
        let ok = br#"{"eventId":"1002","messageId":1930106161957212198,"message":"{}","appId":3762772727}"#;
        let env = Envelope::parse(ok).unwrap();
        assert_eq!(
            (env.event_id, env.message_id.as_str(), env.app_id),
            (1002, "1930106161957212198", Some(3_762_772_727))
        );
        assert!(matches!(
            Envelope::parse(br#"{"messageId":"1","message":"{}"}"#).unwrap_err(),
            NormalizeError::MissingField("eventId")
        ));
        assert!(matches!(
            Envelope::parse(br#"{"eventId":1,"message":"{}"}"#).unwrap_err(),
            NormalizeError::MissingField("messageId")
        ));
        assert!(matches!(
            Envelope::parse(br#"{"eventId":1,"messageId":"1"}"#).unwrap_err(),
            NormalizeError::MissingField("message")
        ));
        assert!(matches!(Envelope::parse(b"nope"), Err(NormalizeError::NotJson(_))));
    }
}
