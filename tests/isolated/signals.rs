//! `SIGHUP` reloads the tenant files. The signal goes to this whole test
//! process, so the test runs here, alone (`SERIAL`).

use hookgate_app::Role;
use hookgate_config::AdminScope::Read;
use hookgate_config::Tenants;
use hookgate_testkit::{unique, TestEnv, KEETA_APP_ID};
use std::time::Duration;

#[tokio::test]
async fn sighup_reloads_the_tenant_files() {
    let _serial = super::SERIAL.lock().await;
    let mut env = TestEnv::new().await;
    let token = env.admin_token("ops", &[Read], None);
    let dir = std::env::temp_dir().join(unique("hookgate-tenants-"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |id: &str| {
        format!(
            "id = \"{id}\"\ndemo = true\nexchange = \"hookgate-test.{id}\"\n[sources.keeta]\nkind = \"keeta\"\n\
             app_id = {KEETA_APP_ID}\napp_secrets = [{{ demo = \"{}\" }}]\ncallback_url = \"{}\"\n",
            env.keeta_secret, env.callback_url
        )
    };
    std::fs::write(dir.join("a.toml"), file(&env.tenant)).unwrap();
    env.settings.tenants = Tenants::load_dir(&dir, &env.settings.service).unwrap();
    env.settings.tenants_dir = Some(dir.clone());
    env.settings.service.tenants_watch = None; // the signal only
    let gw = env.start(Role::Ingress).await;
    // The handler is installed when the gateway runs: wait until it serves.
    let (status, _) = gw.admin_get("/v1/config/reload", Some(&token)).await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(200)).await;

    let b = unique("t");
    std::fs::write(dir.join("b.toml"), file(&b)).unwrap();
    let (body, _) = env.keeta_webhook(1002, 1);
    assert_eq!(gw.post(&b, "keeta", body).await, 404, "no watch: not yet");
    let pid = std::process::id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, status) = gw.admin_get("/v1/config/reload", Some(&token)).await;
        if status["generation"] == 2 {
            assert_eq!(status["tenants"], 2, "{status}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (body, _) = env.keeta_webhook(1002, 2);
    assert_eq!(gw.post(&b, "keeta", body).await, 200);
    gw.stop().await;
    let _ = hookgate_dispatcher::amqp::delete_topology(
        &env.settings.service.rabbitmq.url,
        &[format!("hookgate-test.{b}")],
        &[],
    )
    .await;
    std::fs::remove_dir_all(&dir).ok();
}
