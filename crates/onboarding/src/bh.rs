//! BH: one webhook listener per event type. Registration creates or
//! updates it (adopting one BH already has for this URL), records its
//! `webhookId`, status and `publicKey`, and adds the key to the keys that
//! verify the source's pushes (a changed key is added; the old one stays
//! until `remove-key`). [`decide`] is the one decision both the run and the
//! dry run use.

use crate::{check_callback_url, find, source_url, PlanItem};
use anyhow::{bail, Context};
use hookgate_config::{Settings, Source, Tenant};
use hookgate_core::{SourceId, TenantId};
use hookgate_provider_api::bh::{Client, Webhook, EVENT_TYPES, STATUS_ACTIVE, STATUS_DELETED, STATUS_DISABLED};
use hookgate_provider_api::ApiError;
use hookgate_providers::bh::signature::PublicKey;
use hookgate_store::{NewProviderWebhook, ProviderWebhook, Store};
use std::fmt;

/// The provider name registrations are recorded under.
const PROVIDER: &str = "bh";

/// What to make of the listeners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Create or update them, active (status 10).
    #[default]
    Activate,
    /// Update them to disabled (status 20); never creates one.
    Disable,
    /// Delete them at BH (cannot be undone; stored keys stay until removed).
    Delete,
}

/// A BH registration request.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Tenant id.
    pub tenant: String,
    /// A source of kind `bh`.
    pub source: String,
    /// Event types (empty: the tenant's `[providers.bh] event_types`).
    pub event_types: Vec<String>,
    /// What to make of the listeners.
    pub mode: Mode,
    /// Register a non-https or loopback callback URL anyway.
    pub allow_insecure_url: bool,
}

/// What was done for one event type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A new listener.
    Created,
    /// The stored listener was updated.
    Updated,
    /// A listener found at BH (same event type and URL) was taken over and updated.
    Adopted,
    /// The listener was deleted.
    Deleted,
}

/// The next step for one event type, decided from what is recorded and,
/// when that is not enough, from BH's list of listeners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Not recorded here: BH's list decides (a listener of this event type
    /// at this URL is adopted). Decide again with the list.
    List,
    /// Update listener `id` (recorded, or adopted from the list).
    Update {
        /// The listener's `webhookId`.
        id: String,
        /// Updated or adopted.
        action: Action,
    },
    /// Create a listener.
    Create,
    /// Delete listener `id`.
    Delete {
        /// The listener's `webhookId`.
        id: String,
    },
    /// Nothing can be done (no listener to disable or delete).
    Refuse(String),
}

/// The one decision of a BH registration for `event_type`: from the
/// listener recorded here (`recorded`, unless deleted) and BH's list
/// (`listed`, once fetched).
pub fn decide(event_type: &str, url: &str, mode: Mode, recorded: Option<&str>, listed: Option<&[Webhook]>) -> Step {
    let known = match (recorded, listed) {
        (Some(id), _) => Some((id.to_owned(), Action::Updated)),
        (None, None) => return Step::List,
        (None, Some(list)) => list
            .iter()
            .find(|w| w.event_type == event_type && w.url == url && w.status != STATUS_DELETED)
            .map(|w| (w.webhook_id.clone(), Action::Adopted)),
    };
    match (mode, known) {
        (Mode::Delete, Some((id, _))) => Step::Delete { id },
        (_, Some((id, action))) => Step::Update { id, action },
        (Mode::Activate, None) => Step::Create,
        (Mode::Disable, None) => Step::Refuse(format!("{event_type}: no BH listener to disable")),
        (Mode::Delete, None) => Step::Refuse(format!("{event_type}: no BH listener to delete")),
    }
}

/// A key BH returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOutcome {
    /// Fingerprint.
    pub fingerprint: String,
    /// True when the key was not accepted before.
    pub added: bool,
    /// Other keys still accepted for the source (a rotation keeps them).
    pub others: Vec<String>,
}

/// The result of a registration for one event type.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Event type.
    pub event_type: String,
    /// What was done.
    pub action: Action,
    /// The listener as BH returned it (`None` after a delete).
    pub webhook: Option<Webhook>,
    /// The key BH returned, if any.
    pub key: Option<KeyOutcome>,
    /// True when no key verifies the source's pushes: BH returned none, and
    /// none is configured or stored (pushes are refused `no_verification_key`).
    pub unverifiable: bool,
    /// What the operator should know: BH's list of listeners failed (nothing
    /// was adopted), or BH's answer held no listener id.
    pub note: Option<String>,
}

struct Target<'a> {
    tenant: &'a Tenant,
    source: &'a Source,
    url: String,
    client: Client,
    event_types: Vec<String>,
}

fn target<'a>(settings: &'a Settings, reg: &Registration) -> anyhow::Result<Target<'a>> {
    let (tenant, source) = find(settings, &reg.tenant, &reg.source)?;
    if source.kind != hookgate_providers::bh::KIND {
        bail!(
            "source {} of tenant {} is of kind {}, not bh",
            source.id,
            tenant.id,
            source.kind
        );
    }
    let api = tenant.providers.bh.as_ref().with_context(|| {
        format!(
            "tenant {} has no [providers.bh] section (base_url, api_key, api_secret) in {}",
            tenant.id,
            tenant.file.display()
        )
    })?;
    let event_types = if reg.event_types.is_empty() {
        api.event_types.clone()
    } else {
        reg.event_types.clone()
    };
    for et in &event_types {
        if !EVENT_TYPES.contains(&et.as_str()) {
            tracing::warn!(event_type = %et, "event type not named in BH's docs; sending it anyway");
        }
    }
    let url = source_url(settings, tenant, source);
    if reg.mode != Mode::Delete {
        check_callback_url(&url, reg.allow_insecure_url)?;
    }
    Ok(Target {
        url,
        client: Client::new(api)?,
        tenant,
        source,
        event_types,
    })
}

impl Target<'_> {
    /// Records the listener of `event_type` as BH now has it.
    async fn record(
        &self,
        store: &Store,
        event_type: &str,
        remote_id: Option<&str>,
        url: &str,
        status: Option<i32>,
        public_key: Option<&str>,
    ) -> anyhow::Result<()> {
        store
            .upsert_provider_webhook(&NewProviderWebhook {
                tenant: &self.tenant.id,
                source: &self.source.id,
                provider: PROVIDER,
                event: event_type,
                is_test: false,
                remote_id,
                url,
                status,
                public_key,
            })
            .await?;
        Ok(())
    }
}

fn recorded<'a>(rows: &'a [ProviderWebhook], source: &SourceId, event_type: &str) -> Option<&'a ProviderWebhook> {
    rows.iter()
        .find(|r| &r.source == source && r.provider == PROVIDER && r.event == event_type && !r.is_test)
}

/// The `webhookId` of the listener recorded for this event type, unless deleted.
fn recorded_id<'a>(rows: &'a [ProviderWebhook], source: &SourceId, event_type: &str) -> Option<&'a str> {
    recorded(rows, source, event_type)
        .filter(|r| r.status != Some(STATUS_DELETED))
        .and_then(|r| r.remote_id.as_deref())
}

fn status(mode: Mode) -> i32 {
    match mode {
        Mode::Disable => STATUS_DISABLED,
        Mode::Activate | Mode::Delete => STATUS_ACTIVE,
    }
}

/// Registers (not a dry run): executes [`decide`]'s step for each event type.
pub async fn register(settings: &Settings, store: &Store, reg: &Registration) -> anyhow::Result<Vec<Outcome>> {
    let t = target(settings, reg)?;
    let (tenant, source) = (&t.tenant.id, &t.source.id);
    let stored = store.provider_webhooks(Some(tenant)).await?;
    let mut listed: Option<Vec<Webhook>> = None;
    let mut list_failed: Option<String> = None;
    let mut outcomes = Vec::new();
    for event_type in &t.event_types {
        let known = recorded_id(&stored, source, event_type);
        let mut step = decide(event_type, &t.url, reg.mode, known, listed.as_deref());
        if step == Step::List {
            // Not in our records: maybe registered before (another database,
            // the dashboard). BH's list may hold a listener to take over. The
            // list is not documented as an API everyone has: when it fails,
            // there is nothing to adopt, and the documented create goes on.
            let list = match t.client.list(None).await {
                Ok(list) => list,
                Err(e) if reg.mode == Mode::Activate => {
                    tracing::warn!(error = %e, "bh's list of listeners failed; nothing to adopt, creating");
                    list_failed = Some(format!(
                        "BH's list of listeners failed ({e}): nothing adopted, a new listener created; \
                         check BH's dashboard for an older one at this URL"
                    ));
                    Vec::new()
                }
                Err(e) => return Err(e.into()),
            };
            step = decide(event_type, &t.url, reg.mode, known, Some(&list));
            listed = Some(list);
        }
        let mut note = list_failed.clone().filter(|_| step == Step::Create);
        let (webhook, action) = match step {
            Step::List => bail!("{event_type}: BH's list of listeners did not decide"),
            Step::Refuse(why) => bail!("{why} (tenant {tenant} source {source})"),
            Step::Delete { id } => {
                t.client.delete(&id).await?;
                let url = recorded(&stored, source, event_type).map_or(t.url.as_str(), |r| r.url.as_str());
                t.record(store, event_type, Some(&id), url, Some(STATUS_DELETED), None)
                    .await?;
                outcomes.push(Outcome {
                    event_type: event_type.clone(),
                    action: Action::Deleted,
                    webhook: None,
                    key: None,
                    unverifiable: false,
                    note: None,
                });
                continue;
            }
            Step::Create => match t.client.create(event_type, &t.url).await? {
                Some(w) => (w, Action::Created),
                None => {
                    outcomes.push(record_unidentified(store, &t, event_type).await?);
                    continue;
                }
            },
            Step::Update { id, action } => match t.client.update(&id, &t.url, status(reg.mode)).await {
                Ok(Some(w)) => (w, action),
                // Updated, but the answer holds no listener: it is the one
                // asked for, as asked.
                Ok(None) => {
                    note = Some("BH's answer held no listener; recorded as requested".to_owned());
                    (
                        Webhook {
                            webhook_id: id,
                            event_type: event_type.clone(),
                            url: t.url.clone(),
                            status: status(reg.mode),
                            public_key: None,
                        },
                        action,
                    )
                }
                // Refused: if BH no longer lists it (deleted in the dashboard),
                // the record is stale and a new listener replaces it.
                Err(refusal @ ApiError::Provider { .. }) => {
                    let gone = !t
                        .client
                        .list(None)
                        .await?
                        .iter()
                        .any(|w| w.webhook_id == id && w.status != STATUS_DELETED);
                    if !gone || reg.mode == Mode::Disable {
                        return Err(refusal.into());
                    }
                    tracing::warn!(webhook_id = %id, "listener no longer exists at BH; creating a new one");
                    match t.client.create(event_type, &t.url).await? {
                        Some(w) => (w, Action::Created),
                        None => {
                            outcomes.push(record_unidentified(store, &t, event_type).await?);
                            continue;
                        }
                    }
                }
                Err(e) => return Err(e.into()),
            },
        };
        // The listener first: it exists at BH now, whatever its key turns out to be.
        t.record(
            store,
            event_type,
            Some(&webhook.webhook_id),
            &webhook.url,
            Some(webhook.status),
            webhook.public_key.as_deref(),
        )
        .await?;
        let key = match webhook.public_key.as_deref().filter(|k| !k.trim().is_empty()) {
            Some(text) => Some(keep_key(store, tenant, source, event_type, &webhook.webhook_id, text).await?),
            None => None,
        };
        let unverifiable = key.is_none() && !has_keys(store, tenant, t.source).await?;
        if unverifiable {
            tracing::warn!(event_type = %event_type, "BH returned no publicKey and the source has no key: its pushes will be refused (no_verification_key)");
        }
        outcomes.push(Outcome {
            event_type: event_type.clone(),
            action,
            webhook: Some(webhook),
            key,
            unverifiable,
            note,
        });
    }
    Ok(outcomes)
}

/// A listener BH created without answering its id: recorded all the same
/// (no id, no status), so the next registration adopts it from BH's list
/// instead of creating another.
async fn record_unidentified(store: &Store, t: &Target<'_>, event_type: &str) -> anyhow::Result<Outcome> {
    t.record(store, event_type, None, &t.url, None, None).await?;
    let tenant = &t.tenant.id;
    Ok(Outcome {
        event_type: event_type.to_owned(),
        action: Action::Created,
        webhook: None,
        key: None,
        unverifiable: !has_keys(store, tenant, t.source).await?,
        note: Some(
            "BH accepted the listener but answered no webhookId: recorded without one; \
             the next registration adopts it from BH's list"
                .to_owned(),
        ),
    })
}

/// True when some key verifies the source's pushes: one in its
/// configuration, or one stored by an earlier registration and not removed.
async fn has_keys(store: &Store, tenant: &TenantId, source: &Source) -> anyhow::Result<bool> {
    let configured =
        (source.settings.downcast::<hookgate_providers::bh::Settings>()).is_some_and(|s| !s.public_keys.is_empty());
    if configured {
        return Ok(true);
    }
    let stored = store.provider_keys(Some(tenant), false).await?;
    Ok(stored.iter().any(|k| k.source == source.id))
}

/// Adds the key BH returned to the source's accepted keys.
async fn keep_key(
    store: &Store,
    tenant: &TenantId,
    source: &SourceId,
    event_type: &str,
    webhook_id: &str,
    text: &str,
) -> anyhow::Result<KeyOutcome> {
    let parsed = PublicKey::parse(text)
        .map_err(|e| anyhow::anyhow!("{event_type}: BH returned a publicKey that is not an RSA key: {e}"))?;
    let fingerprint = parsed.fingerprint();
    let added = store
        .add_provider_key(tenant, source, &fingerprint, text.trim(), Some(webhook_id))
        .await?;
    let others = store
        .provider_keys(Some(tenant), false)
        .await?
        .into_iter()
        .filter(|k| &k.source == source && k.fingerprint != fingerprint)
        .map(|k| k.fingerprint)
        .collect();
    Ok(KeyOutcome {
        fingerprint,
        added,
        others,
    })
}

/// The dry run: [`decide`]'s steps from what the store records (when
/// reachable), assuming BH's list holds no listener to adopt; sends
/// nothing and writes nothing.
pub async fn plan(settings: &Settings, store: Option<&Store>, reg: &Registration) -> anyhow::Result<Vec<PlanItem>> {
    let t = target(settings, reg)?;
    let stored = match store {
        Some(s) => s.provider_webhooks(Some(&t.tenant.id)).await.unwrap_or_default(),
        None => Vec::new(),
    };
    let mut plan = vec![PlanItem::Request(
        t.client.token_request(chrono::Utc::now().timestamp_millis()),
    )];
    let mut listed = false;
    for event_type in &t.event_types {
        let known = recorded_id(&stored, &t.source.id, event_type);
        let mut step = decide(event_type, &t.url, reg.mode, known, None);
        if step == Step::List {
            if !listed {
                plan.push(PlanItem::Request(t.client.list_request(None)));
                listed = true;
            }
            plan.push(PlanItem::Note(format!(
                "{event_type}: a listener BH lists for this URL would be adopted and updated instead"
            )));
            step = decide(event_type, &t.url, reg.mode, known, Some(&[]));
        }
        match step {
            Step::Update { id, .. } => plan.push(PlanItem::Request(t.client.update_request(
                &id,
                &t.url,
                status(reg.mode),
            ))),
            Step::Create => plan.push(PlanItem::Request(t.client.create_request(event_type, &t.url))),
            Step::Delete { id } => plan.push(PlanItem::Request(t.client.delete_request(&id))),
            Step::Refuse(why) => plan.push(PlanItem::Note(why)),
            Step::List => {}
        }
    }
    Ok(plan)
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = match self.action {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Adopted => "adopted and updated",
            Action::Deleted => "deleted",
        };
        match &self.webhook {
            Some(w) => write!(
                f,
                "{}: {verb} listener {} → {} (status {})",
                self.event_type,
                w.webhook_id,
                w.url,
                status_name(w.status)
            )?,
            None => write!(f, "{}: {verb} listener", self.event_type)?,
        }
        match &self.key {
            Some(k) if k.added => write!(
                f,
                "; public key {} added: pushes signed with it are accepted",
                k.fingerprint
            )?,
            Some(k) => write!(f, "; public key {} unchanged", k.fingerprint)?,
            None if self.unverifiable => write!(
                f,
                "\n  WARNING: BH returned no publicKey, and no key is configured or stored for this source: \
                 every push will be refused (no_verification_key) until public_keys lists BH's key"
            )?,
            None if self.action != Action::Deleted => write!(
                f,
                "; BH returned no publicKey: the configured and previously stored keys verify pushes"
            )?,
            None => {}
        }
        if let Some(k) = self.key.as_ref().filter(|k| k.added && !k.others.is_empty()) {
            write!(
                f,
                "\n  still accepted (rotation): {}; remove with `hookgate register remove-key --fingerprint <fp>` once BH signs with the new key",
                k.others.join(", ")
            )?;
        }
        if let Some(note) = &self.note {
            write!(f, "\n  NOTE: {note}")?;
        }
        Ok(())
    }
}

/// A BH listener status with its meaning.
pub fn status_name(status: i32) -> String {
    match status {
        STATUS_ACTIVE => "10 active".into(),
        STATUS_DISABLED => "20 disabled".into(),
        STATUS_DELETED => "30 deleted".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listener(id: &str, event_type: &str, url: &str, status: i32) -> Webhook {
        Webhook {
            webhook_id: id.to_owned(),
            event_type: event_type.to_owned(),
            url: url.to_owned(),
            status,
            public_key: None,
        }
    }

    const URL: &str = "https://gw.example/hooks/acme/bh";

    #[test]
    fn a_recorded_listener_is_updated_without_listing() {
        for mode in [Mode::Activate, Mode::Disable] {
            let step = decide("ORDER_WEBHOOK", URL, mode, Some("w1"), None);
            assert_eq!(
                step,
                Step::Update {
                    id: "w1".into(),
                    action: Action::Updated
                }
            );
        }
        assert_eq!(
            decide("ORDER_WEBHOOK", URL, Mode::Delete, Some("w1"), None),
            Step::Delete { id: "w1".into() }
        );
    }

    #[test]
    fn an_unrecorded_listener_needs_the_list_then_is_adopted_or_created() {
        assert_eq!(decide("ORDER_WEBHOOK", URL, Mode::Activate, None, None), Step::List);
        let list = [
            listener("deleted", "ORDER_WEBHOOK", URL, STATUS_DELETED),
            listener("other-url", "ORDER_WEBHOOK", "https://elsewhere/x", STATUS_ACTIVE),
            listener("other-type", "FUNDING_WEBHOOK", URL, STATUS_ACTIVE),
        ];
        assert_eq!(
            decide("ORDER_WEBHOOK", URL, Mode::Activate, None, Some(&list)),
            Step::Create
        );
        let list = [listener("mine", "ORDER_WEBHOOK", URL, STATUS_DISABLED)];
        assert_eq!(
            decide("ORDER_WEBHOOK", URL, Mode::Activate, None, Some(&list)),
            Step::Update {
                id: "mine".into(),
                action: Action::Adopted
            }
        );
        assert_eq!(
            decide("ORDER_WEBHOOK", URL, Mode::Delete, None, Some(&list)),
            Step::Delete { id: "mine".into() }
        );
    }

    #[test]
    fn nothing_to_disable_or_delete_is_refused_never_created() {
        for mode in [Mode::Disable, Mode::Delete] {
            assert!(matches!(
                decide("ORDER_WEBHOOK", URL, mode, None, Some(&[])),
                Step::Refuse(_)
            ));
        }
    }
}
