//! Pagsmile notifications (PROVIDERS.md §2): issuing-card webhooks (the
//! "common" envelope with `notify_type` and `biz_data`, seed 002), pay-in
//! IPNs and payout notifications. Amounts are exact signed decimal strings.

use crate::inspect::{delivery_key_or_hash, Keys};
use crate::value::{Decimal, Flag, Int, Text};
use crate::{money_from_decimal, parse_body, parse_lenient, raw_body, type_word, Input, Mapped, NormalizeError};
use hookgate_proto::v1::{self, event::Data};
use hookgate_proto::{timestamp_from_secs, CanonicalEvent, Timestamp};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Provider name: first segment of routing keys.
pub const PROVIDER: &str = "pagsmile";

fn text(t: Option<Text>) -> Option<String> {
    t.map(|t| t.0).filter(|s| !s.trim().is_empty())
}

fn int32(v: Option<Int>) -> Option<i32> {
    v.and_then(|i| i32::try_from(i.0).ok())
}

fn money(amount: Option<Decimal>, currency: Option<&str>) -> Option<v1::Money> {
    amount.map(|a| money_from_decimal(&a.0, currency.unwrap_or("")))
}

/// An amount whose currency was taken from a sibling field, marked so.
fn inferred(money: Option<v1::Money>) -> Option<v1::Money> {
    money.map(|m| v1::Money {
        currency_inferred: Some(true),
        ..m
    })
}

/// `+HH:MM` / `-HH:MM` of an offset in minutes.
pub fn format_offset(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.unsigned_abs();
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

/// `yyyy-MM-dd HH:mm:ss` in the provider's zone (`offset_minutes` from UTC).
fn local_time(s: &str, offset_minutes: i32) -> Option<Timestamp> {
    let naive = chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S").ok()?;
    let utc = naive.and_utc().timestamp() - i64::from(offset_minutes) * 60;
    timestamp_from_secs(utc)
}

// ---------- issuing ----------

#[derive(Deserialize)]
struct IssuingEnvelope<'a> {
    request_id: Option<Text>,
    notify_type: Option<Int>,
    /// `yyyy-MM-dd HH:mm:ss` as documented, or Unix seconds as the pay-in and
    /// payout families send them: read whatever it is, never refused for it.
    #[serde(borrow)]
    timestamp: Option<&'a RawValue>,
    #[serde(borrow)]
    biz_data: Option<&'a RawValue>,
    /// Non-empty: `biz_data` is encrypted with `random_key` by this scheme.
    sign_type: Option<Text>,
}

/// The push time of an issuing envelope: a local `yyyy-MM-dd HH:mm:ss`, or
/// Unix seconds (milliseconds past 10^11), as a string or a number; an
/// unreadable one is a warning, and the event's time falls back as if none
/// had been sent.
fn pushed_time(raw: &RawValue, offset_minutes: i32) -> Option<Timestamp> {
    let text = match serde_json::from_str::<Text>(raw.get()) {
        Ok(Text(t)) => t,
        Err(_) if raw.get() == "null" => return None,
        Err(_) => String::new(),
    };
    let t = text.trim();
    let read = local_time(t, offset_minutes).or_else(|| match t.parse::<i64>() {
        Ok(ms) if ms > 100_000_000_000 => hookgate_proto::timestamp_from_millis(ms),
        Ok(secs) => timestamp_from_secs(secs),
        Err(_) => None,
    });
    if read.is_none() {
        crate::lenient::note(format!(
            "timestamp: {} is neither yyyy-MM-dd HH:mm:ss nor Unix seconds; left out",
            raw.get()
        ));
    }
    read
}

/// The `biz_data` to read: as sent, or decrypted. Pagsmile marks an
/// encrypted `biz_data` with a non-empty `sign_type` (and a `random_key`)
/// and documents no scheme (PROVIDERS.md open question 14), so an encrypted
/// one cannot be read: the notification is stored and parks with
/// `encrypted_payload_unsupported`, to be requeued once a scheme exists.
/// A scheme goes here: decrypt `biz_data` with the source's key material and
/// `random_key`, and return the plain JSON.
fn readable_biz_data<'a>(env: &IssuingEnvelope<'a>) -> Result<Option<&'a RawValue>, NormalizeError> {
    match env.sign_type.as_ref().map(|t| t.0.trim()).filter(|s| !s.is_empty()) {
        Some(scheme) => Err(NormalizeError::Encrypted {
            scheme: scheme.chars().take(40).collect(),
        }),
        None => Ok(env.biz_data),
    }
}

fn issuing_envelope(body: &[u8]) -> Result<(IssuingEnvelope<'_>, String), NormalizeError> {
    let env: IssuingEnvelope<'_> = parse_body(body)?;
    let request_id = text(env.request_id.clone()).ok_or(NormalizeError::MissingField("request_id"))?;
    if env.notify_type.is_none() {
        return Err(NormalizeError::MissingField("notify_type"));
    }
    if env.biz_data.is_none() {
        return Err(NormalizeError::MissingField("biz_data"));
    }
    Ok((env, request_id))
}

/// The fields of `biz_data` a subject is made of, whatever the `notify_type`.
#[derive(Deserialize)]
struct SubjectBiz {
    #[serde(default, deserialize_with = "present")]
    validation_value: bool,
    order_no: Option<Text>,
    card_token: Option<Text>,
    holder_id: Option<Int>,
    auth_id: Option<Text>,
    original_auth_id: Option<Text>,
}

/// True for a key that is there (even `null`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| true)
}

/// The subject of an issuing notification (`card/<token>`,
/// `card-authorization/<original or auth id>`, ...), else `message/<request
/// id>` when the field it would name is missing or unreadable. The one
/// definition ingress and normalization share, so the two always agree.
fn issuing_subject(biz: &RawValue, notify_type: i64, request_id: &str) -> String {
    let message = || format!("message/{request_id}");
    let Ok(b) = serde_json::from_str::<SubjectBiz>(biz.get()) else {
        return message();
    };
    if b.validation_value {
        return format!("card/{}", text(b.card_token).as_deref().unwrap_or("unknown"));
    }
    let named = match notify_type {
        1 => text(b.order_no).map(|o| format!("card-order/{o}")),
        2 => text(b.card_token).map(|t| format!("card/{t}")),
        3 => b.holder_id.map(|h| format!("cardholder/{}", h.0)),
        4 => {
            text(b.auth_id).map(|auth_id| format!("card-authorization/{}", text(b.original_auth_id).unwrap_or(auth_id)))
        }
        _ => None,
    };
    named.unwrap_or_else(message)
}

/// Keys of an issuing notification: `request_id` ("globally unique" per the
/// docs) and the subject, from one parse of the envelope and one narrow
/// parse of `biz_data`.
pub fn issuing_keys(body: &[u8]) -> Result<Keys, NormalizeError> {
    let (env, request_id) = issuing_envelope(body)?;
    let notify_type = env.notify_type.map(|i| i.0).unwrap_or_default();
    // An encrypted biz_data names no subject (it parks, holding nothing back).
    let biz = readable_biz_data(&env).ok().flatten();
    let subject = biz.map(|biz| issuing_subject(biz, notify_type, &request_id));
    Ok(Keys {
        delivery_key: delivery_key_or_hash(request_id, body),
        subject,
    })
}

#[derive(Deserialize)]
struct ApplyCard {
    order_no: Option<Text>,
    card_token: Option<Text>,
    card_pan: Option<String>,
    holder_id: Option<Int>,
    holder_name: Option<String>,
    card_scheme: Option<Int>,
    card_type: Option<Int>,
    order_count: Option<Int>,
    order_status: Option<Int>,
    is_share_card: Option<Flag>,
}

#[derive(Deserialize)]
struct CardStatusBiz {
    card_token: Option<Text>,
    card_pan: Option<String>,
    pre_status: Option<Int>,
    status: Option<Int>,
    desc: Option<String>,
}

#[derive(Deserialize)]
struct AuditBiz {
    holder_id: Option<Int>,
    pre_status: Option<Int>,
    status: Option<Int>,
    #[serde(default)]
    codes: Vec<Text>,
    remark: Option<String>,
}

#[derive(Deserialize)]
struct AuthBiz {
    auth_id: Option<Text>,
    data_type: Option<String>,
    card_token: Option<Text>,
    card_pan: Option<String>,
    transaction_id: Option<Text>,
    transaction_type: Option<Int>,
    process_status: Option<Int>,
    original_auth_id: Option<Text>,
    auth_status: Option<Int>,
    auth_code: Option<Text>,
    response_code: Option<Text>,
    settle_status: Option<Int>,
    mcc_code: Option<Text>,
    merchant_id: Option<Text>,
    merchant_name: Option<String>,
    note: Option<String>,
    transaction_amount: Option<Decimal>,
    transaction_currency: Option<String>,
    transaction_country_code: Option<String>,
    bill_amount: Option<Decimal>,
    bill_currency: Option<String>,
    fee: Option<Decimal>,
    settled_amount: Option<Decimal>,
    base_exchange_rate: Option<Decimal>,
    create_time: Option<String>,
    acquirer_id: Option<Text>,
}

/// The idempotency key of an authorization notification: one per business
/// state of the authorization, so a later notification about the same
/// authorization with a new transaction, status or amount (a reversal, a
/// partial approval, each of several partial settlements) is published, and
/// only a true repeat folds. Statuses enter as sent (`raw`), not as read: a
/// value the event leaves out because it could not be read still tells its
/// state apart, and a more lenient reading later does not change the key.
/// Amounts enter in canonical decimal form (`10.50` and `10.5` are one).
fn auth_key(auth_id: &str, data_type: &str, b: &AuthBiz, raw: &RawValue) -> String {
    let sent: serde_json::Map<String, serde_json::Value> = serde_json::from_str(raw.get()).unwrap_or_default();
    let field = |name: &str| match sent.get(name) {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.trim().to_owned(),
        Some(v) => v.to_string(),
    };
    let amount = |d: &Option<Decimal>, name: &str| match d {
        Some(d) => canonical_decimal(&d.0),
        None => field(name),
    };
    let transaction = b.transaction_id.as_ref().map(|t| t.0.trim()).unwrap_or_default();
    format!(
        "pagsmile:auth:{auth_id}:{data_type}:{transaction}:{}:{}:{}:{}:{}:{}",
        field("transaction_type"),
        field("process_status"),
        field("auth_status"),
        field("settle_status"),
        amount(&b.transaction_amount, "transaction_amount"),
        amount(&b.settled_amount, "settled_amount"),
    )
}

/// A decimal without a `+`, leading zeros or trailing fractional zeros
/// (`-007.50` → `-7.5`, `10.00` → `10`).
fn canonical_decimal(text: &str) -> String {
    let text = text.trim();
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.strip_prefix('+').unwrap_or(text)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let sign = if int == "0" && frac.is_empty() { "" } else { sign };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

#[derive(Deserialize)]
struct OtpBiz {
    validation_value: Option<Text>,
    card_token: Option<Text>,
    card_pan: Option<String>,
    amount: Option<Decimal>,
    currency: Option<String>,
    created_seconds: Option<Int>,
}

fn biz<T: serde::de::DeserializeOwned>(raw: &RawValue, event: &str) -> Result<T, NormalizeError> {
    crate::lenient::parse(raw.get()).map_err(|e| NormalizeError::payload(event.to_owned(), e))
}

/// Maps an issuing notification by `notify_type` (and `data_type` for 4).
pub fn normalize_issuing(input: &Input<'_>) -> Result<Vec<CanonicalEvent>, NormalizeError> {
    let (env, request_id) = issuing_envelope(input.body)?;
    let notify_type = env.notify_type.map(|i| i.0).unwrap_or_default();
    let biz_raw = readable_biz_data(&env)?.ok_or(NormalizeError::MissingField("biz_data"))?;
    let offset = input.options.utc_offset_minutes.unwrap_or(0);
    let pushed_at = env.timestamp.and_then(|t| pushed_time(t, offset));
    let is_otp = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(biz_raw.get())
        .is_ok_and(|m| m.contains_key("validation_value"));
    let subject = issuing_subject(biz_raw, notify_type, &request_id);
    let mapped = if is_otp {
        let b: OtpBiz = biz(biz_raw, "otp")?;
        let card_token = text(b.card_token);
        Mapped {
            kind: "card.otp".into(),
            provider_event_type: format!("{notify_type}/otp"),
            subject: subject.clone(),
            idempotency_key: format!("pagsmile:otp:{request_id}"),
            occurred_at: b.created_seconds.and_then(|s| timestamp_from_secs(s.0)).or(pushed_at),
            data: Some(Data::CardOtp(v1::CardOtp {
                card_token,
                card_pan: b.card_pan,
                code: text(b.validation_value).unwrap_or_default(),
                amount: money(b.amount, b.currency.as_deref()),
                created_at: b.created_seconds.and_then(|s| timestamp_from_secs(s.0)),
            })),
        }
    } else {
        match notify_type {
            1 => {
                let b: ApplyCard = biz(biz_raw, "1")?;
                let order_no = text(b.order_no).ok_or(NormalizeError::MissingField("biz_data.order_no"))?;
                let status = int32(b.order_status).unwrap_or_default();
                Mapped {
                    kind: "card.application_result".into(),
                    provider_event_type: "1".into(),
                    subject: subject.clone(),
                    idempotency_key: format!("pagsmile:apply:{order_no}:{status}"),
                    occurred_at: pushed_at,
                    data: Some(Data::CardApplication(v1::CardApplication {
                        order_no,
                        card_token: text(b.card_token),
                        card_pan: b.card_pan,
                        holder_id: b.holder_id.map(|i| i.0),
                        holder_name: b.holder_name,
                        card_scheme: int32(b.card_scheme),
                        card_type: int32(b.card_type),
                        order_count: int32(b.order_count),
                        order_status: status,
                        shared_card: b.is_share_card.map(|f| f.0),
                    })),
                }
            }
            2 => {
                let b: CardStatusBiz = biz(biz_raw, "2")?;
                let card_token = text(b.card_token).ok_or(NormalizeError::MissingField("biz_data.card_token"))?;
                Mapped {
                    kind: "card.status_changed".into(),
                    provider_event_type: "2".into(),
                    subject: subject.clone(),
                    // A card may return to a status (frozen → active → frozen):
                    // only the request id tells two such changes apart.
                    idempotency_key: format!("pagsmile:card-status:{request_id}"),
                    occurred_at: pushed_at,
                    data: Some(Data::CardStatus(v1::CardStatus {
                        card_token,
                        card_pan: b.card_pan,
                        previous_status: int32(b.pre_status),
                        status: int32(b.status).unwrap_or_default(),
                        description: b.desc,
                    })),
                }
            }
            3 => {
                let b: AuditBiz = biz(biz_raw, "3")?;
                let holder_id = b
                    .holder_id
                    .map(|i| i.0)
                    .ok_or(NormalizeError::MissingField("biz_data.holder_id"))?;
                Mapped {
                    kind: "cardholder.audit_status_changed".into(),
                    provider_event_type: "3".into(),
                    subject: subject.clone(),
                    idempotency_key: format!("pagsmile:audit:{request_id}"),
                    occurred_at: pushed_at,
                    data: Some(Data::CardholderAudit(v1::CardholderAudit {
                        holder_id,
                        previous_status: int32(b.pre_status),
                        status: int32(b.status).unwrap_or_default(),
                        reason_codes: b.codes.into_iter().map(|c| c.0).collect(),
                        remark: b.remark,
                    })),
                }
            }
            4 => {
                let b: AuthBiz = biz(biz_raw, "4")?;
                let auth_id = text(b.auth_id.clone()).ok_or(NormalizeError::MissingField("biz_data.auth_id"))?;
                let data_type = b.data_type.clone().unwrap_or_default();
                let idempotency_key = auth_key(&auth_id, &data_type, &b, biz_raw);
                let kind = match data_type.as_str() {
                    "cardAuthorization" => "card.authorization".to_owned(),
                    "cardSettlement" => "card.settlement".to_owned(),
                    "cardAuthorizationExpired" => "card.authorization_expired".to_owned(),
                    other => format!("card.authorization_{}", type_word(other)),
                };
                let original = text(b.original_auth_id);
                let created_at = b.create_time.as_deref().and_then(|t| local_time(t, offset));
                Mapped {
                    kind,
                    provider_event_type: format!("4/{data_type}"),
                    subject: subject.clone(),
                    idempotency_key,
                    occurred_at: created_at.or(pushed_at),
                    data: Some(Data::CardAuthorization(v1::CardAuthorization {
                        auth_id,
                        data_type,
                        card_token: text(b.card_token),
                        card_pan: b.card_pan,
                        transaction_id: text(b.transaction_id),
                        transaction_type: int32(b.transaction_type),
                        process_status: int32(b.process_status),
                        original_auth_id: original,
                        auth_status: int32(b.auth_status),
                        auth_code: text(b.auth_code),
                        response_code: text(b.response_code),
                        settle_status: int32(b.settle_status),
                        mcc: text(b.mcc_code),
                        // Exactly as sent: padding may be part of an acquirer's id.
                        merchant_id: text(b.merchant_id),
                        merchant_name: b.merchant_name,
                        note: b.note,
                        transaction_amount: money(b.transaction_amount, b.transaction_currency.as_deref()),
                        transaction_country: b.transaction_country_code,
                        bill_amount: money(b.bill_amount, b.bill_currency.as_deref()),
                        // Pagsmile sends no currency for these: the bill currency is assumed.
                        fee: inferred(money(b.fee, b.bill_currency.as_deref())),
                        settled_amount: inferred(money(b.settled_amount, b.bill_currency.as_deref())),
                        exchange_rate: b.base_exchange_rate.map(|d| d.0),
                        created_at,
                        acquirer_id: text(b.acquirer_id),
                    })),
                }
            }
            other => Mapped {
                kind: "unknown".into(),
                provider_event_type: other.to_string(),
                subject,
                idempotency_key: format!("pagsmile:issuing:{request_id}"),
                occurred_at: pushed_at,
                data: None,
            },
        }
    };
    let mut event = mapped.into_event(input, PROVIDER, 0, raw_body(input.body)?);
    // Its times carry no zone: say which offset read them.
    event.event.provider_utc_offset = Some(format_offset(offset));
    Ok(vec![event])
}

// ---------- pay-in ----------

#[derive(Deserialize)]
struct Payin {
    trade_no: Option<Text>,
    out_trade_no: Option<Text>,
    out_request_no: Option<Text>,
    app_id: Option<Text>,
    trade_status: Option<String>,
    amount: Option<Decimal>,
    method: Option<String>,
    currency: Option<String>,
    timestamp: Option<Int>,
    channel: Option<String>,
}

fn payin(body: &[u8]) -> Result<(Payin, String, String, Option<String>), NormalizeError> {
    let p: Payin = parse_lenient(body)?;
    let trade_no = text(p.trade_no.clone()).ok_or(NormalizeError::MissingField("trade_no"))?;
    let status = p
        .trade_status
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::MissingField("trade_status"))?;
    let refund = text(p.out_request_no.clone());
    Ok((p, trade_no, status, refund))
}

fn payin_key(trade_no: &str, status: &str, refund: Option<&str>) -> String {
    match refund {
        Some(r) => format!("{trade_no}:{status}:{r}"),
        None => format!("{trade_no}:{status}"),
    }
}

/// Keys of a pay-in notification: `trade_no:trade_status`
/// (`:out_request_no` on refunds) and `payment/<trade_no>`, from one parse.
pub fn payin_keys(body: &[u8]) -> Result<Keys, NormalizeError> {
    let (_, trade_no, status, refund) = payin(body)?;
    Ok(Keys {
        delivery_key: delivery_key_or_hash(payin_key(&trade_no, &status, refund.as_deref()), body),
        subject: Some(payin_subject(&trade_no)),
    })
}

fn payin_subject(trade_no: &str) -> String {
    format!("payment/{trade_no}")
}

/// `payment.<trade_status>`, e.g. `payment.success`, `payment.chargeback`.
pub fn normalize_payin(input: &Input<'_>) -> Result<Vec<CanonicalEvent>, NormalizeError> {
    let (p, trade_no, status, refund) = payin(input.body)?;
    let mapped = Mapped {
        kind: format!("payment.{}", type_word(&status)),
        provider_event_type: status.clone(),
        subject: payin_subject(&trade_no),
        idempotency_key: format!("pagsmile:payin:{}", payin_key(&trade_no, &status, refund.as_deref())),
        occurred_at: p.timestamp.and_then(|t| timestamp_from_secs(t.0)),
        data: Some(Data::Payment(v1::Payment {
            trade_no,
            out_trade_no: text(p.out_trade_no),
            out_request_no: refund,
            status,
            amount: money(p.amount, p.currency.as_deref()),
            method: p.method.filter(|m| !m.is_empty()),
            channel: p.channel.filter(|c| !c.is_empty()),
            app_id: text(p.app_id),
        })),
    };
    Ok(vec![mapped.into_event(input, PROVIDER, 0, raw_body(input.body)?)])
}

// ---------- payout ----------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PayoutBody {
    payout_id: Option<Text>,
    #[serde(rename = "custom_code")]
    custom_code: Option<Text>,
    status: Option<String>,
    msg: Option<String>,
    timestamp: Option<Int>,
}

fn payout(body: &[u8]) -> Result<(PayoutBody, String, String), NormalizeError> {
    payout_of(parse_lenient(body)?)
}

fn payout_of(p: PayoutBody) -> Result<(PayoutBody, String, String), NormalizeError> {
    let id = text(p.payout_id.clone()).ok_or(NormalizeError::MissingField("payoutId"))?;
    let status = p
        .status
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::MissingField("status"))?;
    Ok((p, id, status))
}

/// `payoutId:status`: each status happens once in a payout's life, except a
/// partial refund, which may happen again (`payoutId:PARTIAL_REFUNDED:timestamp`).
fn payout_key(id: &str, status: &str, timestamp: Option<Int>) -> String {
    match timestamp {
        Some(t) if status.eq_ignore_ascii_case("PARTIAL_REFUNDED") => format!("{id}:{status}:{}", t.0),
        _ => format!("{id}:{status}"),
    }
}

/// Keys of a payout notification, `payoutId:status` and `payout/<payoutId>`,
/// from its top-level fields (the parse its signature check reads too).
pub fn payout_keys(fields: &Fields<'_>, body: &[u8]) -> Result<Keys, NormalizeError> {
    let typed =
        serde::de::value::MapDeserializer::<_, serde_json::Error>::new(fields.iter().map(|(k, v)| (k.as_str(), *v)));
    // The fields parsed for the signature give the typed body; a value that
    // does not fit is read again leniently (left out, not refused).
    let typed = match PayoutBody::deserialize(typed) {
        Ok(p) => p,
        Err(_) => parse_lenient(body)?,
    };
    let (p, id, status) = payout_of(typed)?;
    Ok(Keys {
        delivery_key: delivery_key_or_hash(payout_key(&id, &status, p.timestamp), body),
        subject: Some(payout_subject(&id)),
    })
}

/// A body's top-level fields, values unparsed: the one parse of a payout
/// notification.
pub type Fields<'a> = std::collections::BTreeMap<String, &'a RawValue>;

/// Parses a body's top-level fields.
pub fn fields(body: &[u8]) -> Result<Fields<'_>, NormalizeError> {
    serde_json::from_slice(body).map_err(NormalizeError::not_json)
}

fn payout_subject(payout_id: &str) -> String {
    format!("payout/{payout_id}")
}

/// `payout.<status>`, e.g. `payout.paid`, `payout.partial_refunded`.
pub fn normalize_payout(input: &Input<'_>) -> Result<Vec<CanonicalEvent>, NormalizeError> {
    let (p, payout_id, status) = payout(input.body)?;
    let mapped = Mapped {
        kind: format!("payout.{}", type_word(&status)),
        provider_event_type: status.clone(),
        subject: payout_subject(&payout_id),
        idempotency_key: format!("pagsmile:payout:{}", payout_key(&payout_id, &status, p.timestamp)),
        occurred_at: p.timestamp.and_then(|t| timestamp_from_secs(t.0)),
        data: Some(Data::Payout(v1::Payout {
            payout_id,
            custom_code: text(p.custom_code),
            status,
            message: p.msg.filter(|m| !m.is_empty()),
        })),
    };
    Ok(vec![mapped.into_event(input, PROVIDER, 0, raw_body(input.body)?)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(biz: serde_json::Value) -> String {
        let body = serde_json::json!({
            "biz_data": biz, "notify_type": 4, "partner_id": "100000",
            "timestamp": "2025-04-11 02:00:01", "version": "1.0", "request_id": "IC1", "sign_type": "", "app_id": ""
        })
        .to_string();
        let input = Input {
            tenant: "t",
            source: "cards",
            kind: crate::pagsmile::ISSUING,
            notification_id: 1,
            received_at: chrono::Utc::now(),
            body: body.as_bytes(),
            delivery_key: "IC1",
            options: crate::Options::default(),
        };
        let events = normalize_issuing(&input).unwrap_or_else(|e| panic!("{e}"));
        events[0].event.idempotency_key.clone()
    }

    fn settlement(settled: serde_json::Value, settle_status: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "auth_id": "100000000077", "data_type": "cardSettlement", "original_auth_id": "100000000058",
            "transaction_id": "T1", "transaction_type": 151, "settle_status": settle_status,
            "transaction_amount": "-7.12", "bill_amount": "-1.00", "bill_currency": "USD", "settled_amount": settled
        })
    }

    #[test]
    fn partial_settlements_of_one_authorization_differ_by_amount() {
        let first = key_of(settlement("-1.00".into(), 2.into()));
        let second = key_of(settlement("-2.50".into(), 2.into()));
        assert_ne!(first, second, "two partial settlements are two business facts");
        // The same amount written otherwise is the same fact.
        assert_eq!(first, key_of(settlement("-1".into(), 2.into())));
        assert_eq!(first, key_of(settlement(serde_json::json!(-1.0), 2.into())));
    }

    #[test]
    fn a_status_left_out_of_the_event_still_keys_its_state() {
        // `"two"` cannot be read: the event leaves the status out, the key keeps what was sent.
        let unreadable = key_of(settlement("-1.00".into(), "two".into()));
        let absent = key_of(settlement("-1.00".into(), serde_json::Value::Null));
        assert_ne!(unreadable, absent);
        assert!(unreadable.contains(":two:"), "{unreadable}");
        // A number sent as text is the same state as the number.
        assert_eq!(
            key_of(settlement("-1.00".into(), "2".into())),
            key_of(settlement("-1.00".into(), 2.into()))
        );
    }

    #[test]
    fn decimals_are_canonical() {
        for (text, want) in [
            ("-007.50", "-7.5"),
            ("10.00", "10"),
            ("+3", "3"),
            ("-0.00", "0"),
            (".5", "0.5"),
            ("0", "0"),
        ] {
            assert_eq!(canonical_decimal(text), want, "{text}");
        }
    }
}
