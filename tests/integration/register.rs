//! Onboarding through `hookgate register` against local fakes of BH's and
//! Keeta's management APIs: listeners and callback URLs created, updated and
//! recorded; the key BH returns verifies pushes at once, without copying it
//! into configuration; a rotated key is added and the old one kept until removed.

use hookgate_app::Role;
use hookgate_config::{BhApi, BhPaths, KeetaApi, Tenant, KEETA_GENERAL_EVENTS};
use hookgate_onboarding::bh::{self, Action as BhAction, Mode, Registration as BhArgs};
use hookgate_onboarding::keeta::{self, Registration as KeetaArgs};
use hookgate_onboarding::{list, plan_text};
use hookgate_providers::bh::signature::PrivateKey;
use hookgate_testkit::fake_providers::{FakeBh, FakeKeeta};
use hookgate_testkit::{http, TestEnv};
use std::time::Duration;

const API_KEY: &str = "acme-api-key-7f3a";
const API_SECRET: &str = "acme-api-secret-91c2";

fn with_bh(fake: &FakeBh) -> impl FnOnce(&mut Tenant) {
    let base_url = fake.base_url.clone();
    move |t: &mut Tenant| {
        t.providers.bh = Some(BhApi {
            base_url,
            api_key: hookgate_config::Secret::new(API_KEY),
            api_secret: hookgate_config::Secret::new(API_SECRET),
            paths: BhPaths::default(),
            event_types: vec!["ORDER_WEBHOOK".into()],
            timeout: Duration::from_secs(5),
            token_renew_before: Duration::from_secs(60),
            token_error_codes: vec![401],
        });
        // No key in configuration: registration is the only source of keys.
        if let Some(s) = t.source_mut("bh") {
            s.settings = std::sync::Arc::new(hookgate_providers::bh::Settings { public_keys: vec![] });
        }
    }
}

fn bh_args(tenant: &str) -> BhArgs {
    BhArgs {
        tenant: tenant.to_owned(),
        source: "bh".into(),
        event_types: vec![],
        mode: Mode::Activate,
        // The test gateway's URL is http on loopback.
        allow_insecure_url: true,
    }
}

fn order(n: u32) -> String {
    format!(
        r#"{{"webhookId":"w","eventType":"ORDER_WEBHOOK","orderId":"4731305226931{n:05}","orderStatus":"60","updateTime":1740568725231}}"#
    )
}

/// POSTs a BH push; (status, body, delivery key).
async fn push(url: &str, body: &str, signature: &str) -> (u16, String, String) {
    let r = http()
        .post(url)
        .header("content-type", "application/json")
        .header("signature", signature)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let key = hookgate_providers::delivery_key(hookgate_providers::bh::KIND, body.as_bytes(), &Vec::new()).unwrap();
    (r.status().as_u16(), r.text().await.unwrap(), key.as_str().to_owned())
}

#[tokio::test]
async fn bh_registration_key_verifies_pushes_and_rotation_keeps_the_old_key_until_removed() {
    let fake = FakeBh::start(API_KEY, API_SECRET);
    let env = TestEnv::with(with_bh(&fake)).await;
    // The default 30 s refresh: a new key must work through the reload on a miss.
    let gw = env.start(Role::Ingress).await;
    let url = gw.hook_url(&env.tenant, "bh");
    let store = env.store().await;
    let demo_key = PrivateKey::from_pkcs8_pem(&hookgate_testkit::demo_bh_keys().1).unwrap();

    // Before registration no key verifies a push: refused as a configuration
    // to fix (503, BH retries), not as a bad signature.
    let body = order(1);
    let (status, answer, _) = push(&url, &body, &demo_key.sign_hex(body.as_bytes())).await;
    assert_eq!((status, answer.as_str()), (503, r#"{"callbackStatus":"FAIL"}"#));
    let rejections = gw.store.rejections(Some(&env.tenant_id())).await.unwrap();
    assert_eq!(rejections[0].reason, "no_verification_key");

    let out = bh::register(&env.settings, &store, &bh_args(&env.tenant))
        .await
        .unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].action, BhAction::Created);
    let webhook = out[0].webhook.clone().unwrap();
    let first = out[0].key.clone().unwrap();
    assert!(first.added && first.others.is_empty(), "{first:?}");
    let listener = &fake.webhooks()[0];
    let expected_url = format!("{}/hooks/{}/bh", env.settings.service.http.public_base_url, env.tenant);
    assert_eq!((listener.url.as_str(), listener.status), (expected_url.as_str(), 10));
    assert_eq!(webhook.webhook_id, listener.webhook_id);

    // Signed with the key BH returned: accepted at once, without any key in
    // configuration and without waiting for a refresh.
    let body = order(2);
    let (status, answer, key) = push(&url, &body, &fake.sign_push(&webhook.webhook_id, body.as_bytes())).await;
    assert_eq!((status, answer.as_str()), (200, r#"{"callbackStatus":"SUCCESS"}"#));
    let stored = gw.stored(&env.tenant, "bh", &key).await;
    assert_eq!(
        stored.signature_recipe.as_deref(),
        Some(format!("rsa-sha256/hex#registered:{}", first.fingerprint).as_str())
    );

    // BH hands out a new key on update: it is added, the old one kept.
    fake.rotate_keys_on_update();
    let out = bh::register(&env.settings, &store, &bh_args(&env.tenant))
        .await
        .unwrap();
    assert_eq!(out[0].action, BhAction::Updated);
    let second = out[0].key.clone().unwrap();
    assert!(second.added && second.fingerprint != first.fingerprint);
    assert_eq!(second.others, vec![first.fingerprint.clone()]);
    assert_eq!(fake.webhooks().len(), 1, "updated in place, not created again");
    assert!(out[0].to_string().contains("remove-key"), "{}", out[0]);

    let body = order(3);
    let (status, ..) = push(&url, &body, &fake.sign_push(&webhook.webhook_id, body.as_bytes())).await;
    assert_eq!(status, 200, "the new key verifies");
    let body = order(4);
    let (status, ..) = push(&url, &body, &demo_key.sign_hex(body.as_bytes())).await;
    assert_eq!(status, 200, "the old key is still accepted during the rotation");

    // Removing the old key: the change is announced and the cache reloads
    // long before the 30 s refresh.
    assert!(store
        .remove_provider_key(&env.tenant_id(), &hookgate_testkit::id("bh"), &first.fingerprint)
        .await
        .unwrap());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut n = 100;
    loop {
        n += 1;
        let body = order(n);
        let (status, ..) = push(&url, &body, &demo_key.sign_hex(body.as_bytes())).await;
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            tokio::time::Instant::now() < deadline,
            "a removed key was still accepted after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let body = order(7);
    let (status, ..) = push(&url, &body, &fake.sign_push(&webhook.webhook_id, body.as_bytes())).await;
    assert_eq!(status, 200);

    let listed = list(&store, Some(&env.tenant_id())).await.unwrap();
    for needle in [
        webhook.webhook_id.as_str(),
        first.fingerprint.as_str(),
        second.fingerprint.as_str(),
        "removed",
        "ORDER_WEBHOOK",
    ] {
        assert!(listed.contains(needle), "{needle} missing from\n{listed}");
    }
    gw.stop().await;
}

#[tokio::test]
async fn bh_registration_adopts_disables_deletes_and_dry_runs_without_secrets() {
    let fake = FakeBh::start(API_KEY, API_SECRET);
    let env = TestEnv::with(with_bh(&fake)).await;
    let store = env.store().await;
    let args = bh_args(&env.tenant);

    // The test gateway's callback URL is http on loopback: refused unless allowed.
    let strict = BhArgs {
        allow_insecure_url: false,
        ..args.clone()
    };
    let err = bh::register(&env.settings, &store, &strict).await.unwrap_err();
    assert!(err.to_string().contains("is not https"), "{err}");
    assert!(fake.webhooks().is_empty());

    // A refusal of the create is reported with BH's code and nothing is recorded.
    fake.fail_next_create(-5046, "COMMON_ERROR");
    let err = bh::register(&env.settings, &store, &args).await.unwrap_err();
    assert!(format!("{err:#}").contains("-5046"), "{err:#}");
    assert!(store.provider_webhooks(None).await.unwrap().is_empty());

    // Dry run before anything is stored: token, list, create; no secret shown.
    let plan = plan_text(&bh::plan(&env.settings, Some(&store), &args).await.unwrap());
    assert!(plan.contains("GET ") && plan.contains("POST ") && plan.contains("/openapi/v2/business/webhook"));
    assert!(
        plan.contains("X-BH-APIKEY: <redacted>") && plan.contains("signature=<redacted>"),
        "{plan}"
    );
    assert!(!plan.contains(API_KEY) && !plan.contains(API_SECRET), "{plan}");
    assert!(fake.webhooks().is_empty(), "a dry run sends nothing");

    // A listener that exists at BH for this URL is taken over, not duplicated.
    let client = hookgate_provider_api::bh::Client::new(
        env.settings
            .tenants
            .iter()
            .next()
            .unwrap()
            .providers
            .bh
            .as_ref()
            .unwrap(),
    )
    .unwrap();
    let url = format!("{}/hooks/{}/bh", env.settings.service.http.public_base_url, env.tenant);
    let existing = client.create("ORDER_WEBHOOK", &url).await.unwrap().unwrap();
    let out = bh::register(&env.settings, &store, &args).await.unwrap();
    assert_eq!(out[0].action, BhAction::Adopted);
    assert_eq!(out[0].webhook.as_ref().unwrap().webhook_id, existing.webhook_id);
    assert_eq!(fake.webhooks().len(), 1);

    // Now stored: the dry run plans an update.
    let plan = plan_text(&bh::plan(&env.settings, Some(&store), &args).await.unwrap());
    assert!(
        plan.contains(&format!("PUT {}/v2/webhook/{}", fake.base_url, existing.webhook_id)),
        "{plan}"
    );

    let disable = BhArgs {
        mode: Mode::Disable,
        ..args.clone()
    };
    let out = bh::register(&env.settings, &store, &disable).await.unwrap();
    assert_eq!(out[0].webhook.as_ref().unwrap().status, 20);
    assert_eq!(fake.webhooks()[0].status, 20);
    let rows = store.provider_webhooks(Some(&env.tenant_id())).await.unwrap();
    assert_eq!((rows.len(), rows[0].status), (1, Some(20)));

    let delete = BhArgs {
        mode: Mode::Delete,
        ..args.clone()
    };
    let out = bh::register(&env.settings, &store, &delete).await.unwrap();
    assert_eq!(out[0].action, BhAction::Deleted);
    assert_eq!(fake.webhooks()[0].status, 30);
    assert_eq!(
        store.provider_webhooks(Some(&env.tenant_id())).await.unwrap()[0].status,
        Some(30)
    );
    // Registering again after a delete creates a new listener.
    let out = bh::register(&env.settings, &store, &args).await.unwrap();
    assert_eq!(out[0].action, BhAction::Created);
    assert_eq!(fake.webhooks().len(), 2);

    // Deleted at BH behind our back (the dashboard): the stale record is
    // replaced by a new listener instead of failing forever.
    let current = out[0].webhook.as_ref().unwrap().webhook_id.clone();
    assert!(client.delete(&current).await.unwrap());
    let out = bh::register(&env.settings, &store, &args).await.unwrap();
    assert_eq!(out[0].action, BhAction::Created);
    assert_ne!(out[0].webhook.as_ref().unwrap().webhook_id, current);
    let rows = store.provider_webhooks(Some(&env.tenant_id())).await.unwrap();
    assert_eq!(
        rows[0].remote_id.as_deref(),
        out[0].webhook.as_ref().map(|w| w.webhook_id.as_str())
    );
    // A refusal of a listener BH still has is reported, not papered over.
    fake.fail_next(-5046, "COMMON_ERROR");
    let err = bh::register(&env.settings, &store, &args).await.unwrap_err();
    assert!(err.to_string().contains("-5046"), "{err}");
    assert_eq!(fake.webhooks().len(), 3);

    // Wrong kinds and missing configuration are clear errors.
    let err = bh::register(
        &env.settings,
        &store,
        &BhArgs {
            source: "keeta".into(),
            ..args.clone()
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("not bh"), "{err}");
}

#[tokio::test]
async fn keeta_registration_sets_each_event_with_a_signed_call_and_records_it() {
    const APP_SECRET: &str = "acme-keeta-app-secret-5d1e";
    let fake = FakeKeeta::start(hookgate_testkit::KEETA_APP_ID, APP_SECRET);
    let base_url = fake.base_url.clone();
    let env = TestEnv::with(move |t| {
        t.providers.keeta = Some(KeetaApi {
            base_url,
            events: KEETA_GENERAL_EVENTS.to_vec(),
            timeout: Duration::from_secs(5),
        });
        if let Some(s) = t.source_mut("keeta") {
            if let Some(k) = s.settings.downcast::<hookgate_providers::keeta::Settings>() {
                let mut k = k.clone();
                k.app_secrets = vec![hookgate_config::Secret::new(APP_SECRET)];
                s.settings = std::sync::Arc::new(k);
            }
        }
    })
    .await;
    let store = env.store().await;
    let args = KeetaArgs {
        tenant: env.tenant.clone(),
        source: "keeta".into(),
        events: vec![],
        test: false,
        allow_insecure_url: true,
    };

    // The dry run shows one signed call per event, signature redacted.
    let plan = plan_text(&keeta::plan(&env.settings, &args).unwrap());
    assert_eq!(plan.matches("POST ").count(), KEETA_GENERAL_EVENTS.len(), "{plan}");
    assert!(
        plan.contains(r#""sig":"<redacted>""#) && !plan.contains(APP_SECRET),
        "{plan}"
    );
    assert!(fake.callbacks().is_empty());

    let done = keeta::register(&env.settings, &store, &args).await.unwrap();
    assert_eq!(done.events, KEETA_GENERAL_EVENTS.to_vec());
    let set = fake.callbacks();
    assert_eq!(set.len(), KEETA_GENERAL_EVENTS.len());
    assert!(set.iter().all(|c| c.url == env.callback_url && !c.is_test), "{set:?}");
    assert!(fake.refused().is_empty(), "{:?}", fake.refused());

    let test_set = KeetaArgs {
        events: vec![1001, 1002],
        test: true,
        ..args.clone()
    };
    keeta::register(&env.settings, &store, &test_set).await.unwrap();
    let rows = store.provider_webhooks(Some(&env.tenant_id())).await.unwrap();
    assert_eq!(rows.len(), KEETA_GENERAL_EVENTS.len() + 2);
    assert_eq!(rows.iter().filter(|r| r.is_test).count(), 2);
    assert!(rows.iter().all(|r| r.provider == "keeta" && r.url == env.callback_url));

    // Keeta refuses: its code and message, and nothing more is recorded.
    fake.fail_next(1010, "app not authorized");
    let err = keeta::register(
        &env.settings,
        &store,
        &KeetaArgs {
            events: vec![1101, 1102],
            ..args.clone()
        },
    )
    .await
    .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("1010") && text.contains("app not authorized") && text.contains("nothing was registered"),
        "{text}"
    );
    assert_eq!(
        store.provider_webhooks(Some(&env.tenant_id())).await.unwrap().len(),
        rows.len()
    );

    // Store authorizations are set in Keeta's portal, not through this API.
    let err = keeta::register(
        &env.settings,
        &store,
        &KeetaArgs {
            source: "keeta-auth".into(),
            ..args.clone()
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("Developer Portal"), "{err}");
}

/// BH documents `publicKey` as optional: with none returned, configured or
/// stored, registration says so loudly, `config check` flags the source and
/// pushes are refused `no_verification_key` (503), never `bad_signature`.
#[tokio::test]
async fn bh_without_any_key_is_flagged_and_refused_distinctly() {
    let fake = FakeBh::start(API_KEY, API_SECRET);
    fake.omit_public_keys();
    let env = TestEnv::with(with_bh(&fake)).await;
    let store = env.store().await;
    let out = bh::register(&env.settings, &store, &bh_args(&env.tenant))
        .await
        .unwrap();
    assert_eq!(out[0].action, BhAction::Created);
    assert!(out[0].key.is_none() && out[0].unverifiable, "{:?}", out[0]);
    let text = out[0].to_string();
    assert!(
        text.contains("WARNING") && text.contains("no_verification_key"),
        "{text}"
    );
    assert!(env.source("bh").settings.summary().contains("WARNING"));

    let gw = env.start(Role::Ingress).await;
    let body = order(7);
    let signature = fake.sign_push(&out[0].webhook.as_ref().unwrap().webhook_id, body.as_bytes());
    let r = http()
        .post(gw.hook_url(&env.tenant, "bh"))
        .header("content-type", "application/json")
        .header("signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(gw.metrics.rejected_count(&env.tenant, "bh", "no_verification_key"), 1);
    let rejections = gw.store.rejections(Some(&env.tenant_id())).await.unwrap();
    assert_eq!(rejections[0].reason, "no_verification_key");
    assert_eq!(gw.store.count_notifications(&env.tenant_id()).await.unwrap(), 0);
    gw.stop().await;
}

#[tokio::test]
async fn bh_registration_creates_when_the_list_fails_and_reads_loose_answers() {
    let fake = FakeBh::start(API_KEY, API_SECRET);
    // No list at this account, and answers with a numeric id and a text status.
    fake.remove_list();
    fake.loose_answers();
    let env = TestEnv::with(with_bh(&fake)).await;
    let store = env.store().await;
    let out = bh::register(&env.settings, &store, &bh_args(&env.tenant))
        .await
        .unwrap();
    assert_eq!(out[0].action, BhAction::Created);
    let webhook = out[0].webhook.as_ref().unwrap();
    assert_eq!(fake.webhooks().len(), 1, "the documented create was sent");
    assert_eq!(
        webhook.webhook_id,
        fake.webhooks()[0].webhook_id,
        "a numeric webhookId read"
    );
    assert_eq!(webhook.status, 10, "a text status read");
    let text = out[0].to_string();
    assert!(
        text.contains("NOTE") && text.contains("list of listeners failed"),
        "{text}"
    );
    let recorded = store.provider_webhooks(Some(&env.tenant_id())).await.unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].remote_id.as_deref(), Some(webhook.webhook_id.as_str()));
    assert_eq!(recorded[0].status, Some(10));
    // The key BH returned verifies pushes as always.
    assert!(out[0].key.as_ref().is_some_and(|k| k.added));

    // Registered again: the record decides (an update), no list is needed.
    let again = bh::register(&env.settings, &store, &bh_args(&env.tenant))
        .await
        .unwrap();
    assert_eq!(again[0].action, BhAction::Updated);
    assert_eq!(fake.webhooks().len(), 1);
}

#[tokio::test]
async fn a_listener_bh_created_without_answering_its_id_is_recorded_and_adopted_next_time() {
    let fake = FakeBh::start(API_KEY, API_SECRET);
    fake.create_without_id();
    let env = TestEnv::with(with_bh(&fake)).await;
    let store = env.store().await;
    let out = bh::register(&env.settings, &store, &bh_args(&env.tenant))
        .await
        .unwrap();
    assert_eq!(out[0].action, BhAction::Created);
    assert!(out[0].webhook.is_none());
    assert!(out[0].to_string().contains("no webhookId"), "{}", out[0]);
    let recorded = store.provider_webhooks(Some(&env.tenant_id())).await.unwrap();
    assert_eq!(recorded.len(), 1, "what BH created is recorded");
    assert_eq!(recorded[0].remote_id, None);

    // The next registration finds it in BH's list and takes it over: still one listener.
    let again = bh::register(&env.settings, &store, &bh_args(&env.tenant))
        .await
        .unwrap();
    assert_eq!(again[0].action, BhAction::Adopted, "{}", again[0]);
    assert_eq!(fake.webhooks().len(), 1);
    let recorded = store.provider_webhooks(Some(&env.tenant_id())).await.unwrap();
    assert_eq!(
        recorded[0].remote_id.as_deref(),
        Some(fake.webhooks()[0].webhook_id.as_str())
    );
}
