//! Hot reload of `tenants.d` without a restart: a tenant added (its
//! topology declared), a broken file refused with the running set kept and
//! reported, a tenant removed (404 from then on).

use hookgate_app::Role;
use hookgate_config::AdminScope::{Operate, Read};
use hookgate_config::Tenants;
use hookgate_dispatcher::Subscription;
use hookgate_testkit::{receive, unique, TestEnv, TestGateway, KEETA_APP_ID};
use std::path::Path;
use std::time::Duration;

/// A tenant file with one Keeta source signed like the test env's.
fn tenant_file(env: &TestEnv, id: &str, queue: Option<&str>) -> String {
    let subscription = queue.map_or_else(String::new, |q| {
        format!("[[subscriptions]]\nqueue = \"{q}\"\nbindings = [\"keeta.#\"]\ntype = \"classic\"\n")
    });
    format!(
        "id = \"{id}\"\ndemo = true\nexchange = \"hookgate-test.{id}\"\n{subscription}\
         [sources.keeta]\nkind = \"keeta\"\napp_id = {KEETA_APP_ID}\napp_secrets = [{{ demo = \"{secret}\" }}]\n\
         callback_url = \"{cb}\"\n",
        secret = env.keeta_secret,
        cb = env.callback_url,
    )
}

/// POSTs a fresh signed Keeta webhook to a tenant; returns the status.
async fn post(env: &TestEnv, gw: &TestGateway, tenant: &str, seq: u64) -> u16 {
    let (body, _) = env.keeta_webhook(1002, seq);
    gw.post(tenant, "keeta", body).await
}

/// Waits until `tenant` answers `status`.
async fn until_status(env: &TestEnv, gw: &TestGateway, tenant: &str, status: u16) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut seq = 500;
    loop {
        seq += 1;
        let got = post(env, gw, tenant, seq).await;
        if got == status {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{tenant} still answers {got}, not {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[tokio::test]
async fn tenants_are_added_refused_and_removed_without_a_restart() {
    let mut env = TestEnv::new().await;
    let token = env.admin_token("ops", &[Read, Operate], None);
    let dir = std::env::temp_dir().join(unique("hookgate-tenants-"));
    std::fs::create_dir_all(&dir).unwrap();
    let a = env.tenant.clone();
    write(&dir, "a.toml", &tenant_file(&env, &a, None));
    env.settings.tenants = Tenants::load_dir(&dir, &env.settings.service).unwrap();
    env.settings.tenants_dir = Some(dir.clone());
    env.settings.service.tenants_watch = Some(Duration::from_millis(100));
    let gw = env.start(Role::All).await;
    let b = unique("t");
    let queue = format!("hookgate-test.{b}.orders");
    assert_eq!(post(&env, &gw, &a, 1).await, 200);
    assert_eq!(post(&env, &gw, &b, 2).await, 404);

    // Added: the watch sees the file; its exchange and queue are declared.
    write(&dir, "b.toml", &tenant_file(&env, &b, Some(&queue)));
    until_status(&env, &gw, &b, 200).await;
    let (_, status) = gw.admin_get("/v1/config/reload", Some(&token)).await;
    assert_eq!(
        (status["generation"].as_u64(), status["tenants"].as_u64()),
        (Some(2), Some(2)),
        "{status}"
    );
    let url = &env.settings.service.rabbitmq.url;
    let mut orders = Subscription::existing(url, &queue)
        .await
        .expect("the new tenant's queue was declared");
    assert_eq!(post(&env, &gw, &b, 3).await, 200);
    let got = receive(&mut orders, 1, Duration::from_secs(20)).await;
    assert!(
        got[0].routing_key.starts_with("keeta.order."),
        "{:?}",
        got[0].routing_key
    );
    let (_, tenants) = gw.admin_get("/v1/tenants", Some(&token)).await;
    assert_eq!(tenants.as_array().map(Vec::len), Some(2));

    // Broken: refused as a whole, the running set kept, and said so.
    write(&dir, "b.toml", "id = \"b\"\nthis is not toml\n");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        let (_, status) = gw.admin_get("/v1/config/reload", Some(&token)).await;
        if status["last_error"].is_string() {
            break status;
        }
        assert!(tokio::time::Instant::now() < deadline, "{status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status["last_error"].as_str().unwrap().contains("b.toml"), "{status}");
    assert_eq!(status["generation"], 2, "nothing applied: {status}");
    assert_eq!(post(&env, &gw, &b, 4).await, 200, "the running set is kept");
    assert!(gw.metrics.config_reload_count("invalid") >= 1);
    let (code, refused) = gw
        .admin_post("/v1/config/reload", Some(&token), serde_json::json!({}))
        .await;
    assert_eq!(code, 422, "{refused}");
    // Refused twice (the watch and the call): one incident, counted.
    let refusals = gw.store.incidents(true, None, None, None, 10).await.unwrap();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert_eq!(refusals[0].kind, "reload_refused");
    assert!(
        refusals[0].count >= 2 && refusals[0].summary.contains("b.toml"),
        "{refusals:?}"
    );

    // Removed: 404 from the swap on; the other tenant is untouched.
    std::fs::remove_file(dir.join("b.toml")).unwrap();
    until_status(&env, &gw, &b, 404).await;
    assert_eq!(post(&env, &gw, &a, 5).await, 200);
    let (code, status) = gw
        .admin_post("/v1/config/reload", Some(&token), serde_json::json!({}))
        .await;
    assert_eq!((code, status["tenants"].as_u64()), (200, Some(1)), "{status}");
    // Applied again: the incident is resolved.
    assert!(gw.store.incidents(true, None, None, None, 10).await.unwrap().is_empty());
    let (_, audit) = gw.admin_get("/v1/audit", Some(&token)).await;
    assert_eq!(audit["items"][0]["action"], "config.reload");
    drop(orders);
    gw.stop().await;
    let _ = hookgate_dispatcher::amqp::delete_topology(url, &[format!("hookgate-test.{b}")], &[queue]).await;
    std::fs::remove_dir_all(&dir).ok();
}

/// A tenant file whose Keeta source accepts these app secrets (demo literals).
fn tenant_with_secrets(env: &TestEnv, id: &str, secrets: &[&str]) -> String {
    let list: Vec<String> = secrets.iter().map(|s| format!("{{ demo = \"{s}\" }}")).collect();
    format!(
        "id = \"{id}\"\ndemo = true\nexchange = \"hookgate-test.{id}\"\n\
         [sources.keeta]\nkind = \"keeta\"\napp_id = {KEETA_APP_ID}\napp_secrets = [{}]\ncallback_url = \"{}\"\n",
        list.join(", "),
        env.callback_url,
    )
}

#[tokio::test]
async fn a_rotated_secret_is_a_key_added_then_a_key_removed_notice() {
    let mut env = TestEnv::new().await;
    let token = env.admin_token("ops", &[Read, Operate], None);
    let dir = std::env::temp_dir().join(unique("hookgate-tenants-"));
    std::fs::create_dir_all(&dir).unwrap();
    let a = env.tenant.clone();
    let old = env.keeta_secret.clone();
    write(&dir, "a.toml", &tenant_with_secrets(&env, &a, &[&old]));
    env.settings.tenants = Tenants::load_dir(&dir, &env.settings.service).unwrap();
    env.settings.tenants_dir = Some(dir.clone());
    env.settings.service.watch.enabled = false;
    let gw = env.start(Role::All).await;
    let reload = || async {
        let (code, status) = gw
            .admin_post("/v1/config/reload", Some(&token), serde_json::json!({}))
            .await;
        assert_eq!(code, 200, "{status}");
    };
    let notices = || async {
        let (_, page) = gw.admin_get("/v1/incidents?scope=all", Some(&token)).await;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        let mut got: Vec<(String, String, String)> = items
            .iter()
            .map(|i| {
                let s = |k: &str| i[k].as_str().unwrap_or_default().to_owned();
                (s("kind"), s("cause"), s("state"))
            })
            .collect();
        got.sort();
        got
    };
    // The rotation: the new secret first, the old one kept while the
    // provider moves: one key added (the old one only moved).
    write(
        &dir,
        "a.toml",
        &tenant_with_secrets(&env, &a, &["new-secret-of-the-rotation", &old]),
    );
    reload().await;
    assert_eq!(
        notices().await,
        vec![(
            "key_added".to_owned(),
            "sources.keeta.app_secrets[0] (demo)".to_owned(),
            "resolved".to_owned()
        )]
    );
    // Reloaded unchanged: nothing new.
    reload().await;
    assert_eq!(notices().await.len(), 1);
    // The old one leaves: one key removed, named where it was.
    write(
        &dir,
        "a.toml",
        &tenant_with_secrets(&env, &a, &["new-secret-of-the-rotation"]),
    );
    reload().await;
    let got = notices().await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(
        got[1],
        (
            "key_removed".to_owned(),
            "sources.keeta.app_secrets[1] (demo)".to_owned(),
            "resolved".to_owned()
        )
    );
    // No notice carries a secret.
    let (_, page) = gw.admin_get("/v1/incidents?scope=all", Some(&token)).await;
    let text = page.to_string();
    assert!(
        !text.contains(&old) && !text.contains("new-secret-of-the-rotation"),
        "{text}"
    );
    gw.stop().await;
    std::fs::remove_dir_all(&dir).ok();
}
