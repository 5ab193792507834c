//! The operator console in a real browser: headless Chromium driven over
//! WebDriver (Debian's `chromium` and `chromium-driver`), against a gateway
//! on the real PostgreSQL, Redis and RabbitMQ.
//!
//! Without `chromedriver` on the PATH these tests say so and pass, unless
//! `HOOKGATE_BROWSER_TESTS=1` (`.ci/run` sets it, after installing the
//! browser): then a missing browser fails them. Screenshots of the main
//! pages are saved to `$HOOKGATE_SCREENSHOTS` (default: a temporary
//! directory, printed).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use fantoccini::{Client, ClientBuilder, Locator};
use hookgate_app::Role;
use hookgate_config::AdminScope::{Operate, Read, ReadPayload};
use hookgate_config::Settings;
use hookgate_testkit::{free_port, TestEnv, TestGateway};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A chromedriver of this test, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn driver() -> Option<Driver> {
    let found =
        std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("chromedriver").is_file()));
    if !found {
        assert!(
            std::env::var("HOOKGATE_BROWSER_TESTS").as_deref() != Ok("1"),
            "HOOKGATE_BROWSER_TESTS=1 but no chromedriver on the PATH (apt-get install chromium chromium-driver)"
        );
        eprintln!(
            "no chromedriver on the PATH: the browser tests are skipped (HOOKGATE_BROWSER_TESTS=1 makes this fail)"
        );
        return None;
    }
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    })
}

async fn browser(driver: &Driver) -> Client {
    // Two rustls providers are linked into the tests: pick one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--user-data-dir=".to_owned()
                        + &std::env::temp_dir().join(hookgate_testkit::unique("chromium-")).to_string_lossy()]
        }),
    );
    ClientBuilder::rustls()
        .expect("rustls")
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session")
}

fn screenshots() -> PathBuf {
    let dir = std::env::var_os("HOOKGATE_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("hookgate-console-screenshots"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    let path = screenshots().join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
}

async fn css(c: &Client, selector: &str) -> fantoccini::elements::Element {
    match c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(selector))
        .await
    {
        Ok(e) => e,
        Err(e) => {
            let url = c.current_url().await.map(|u| u.to_string()).unwrap_or_default();
            let page = c.source().await.unwrap_or_default();
            panic!("no {selector} on {url}: {e}\n{page}");
        }
    }
}

async fn has(c: &Client, selector: &str) -> bool {
    !c.find_all(Locator::Css(selector)).await.unwrap().is_empty()
}

/// The text of `selector`; found again when a live region (htmx) replaced it
/// between the finding and the reading.
async fn text(c: &Client, selector: &str) -> String {
    let mut last = None;
    for _ in 0..50 {
        match css(c, selector).await.text().await {
            Ok(t) => return t,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{selector} kept going stale: {last:?}");
}

/// Waits until `selector`'s text satisfies `ok`, reloading the page.
async fn until_text(c: &Client, selector: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let t = text(c, selector).await;
        if ok(&t) {
            return t;
        }
        assert!(tokio::time::Instant::now() < deadline, "{selector} still says {t:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
        c.refresh().await.unwrap();
    }
}

async fn sign_in(c: &Client, admin: &str, token: &str) {
    c.goto(&format!("{admin}/sign-in")).await.unwrap();
    css(c, "#token").await.send_keys(token).await.unwrap();
    css(c, "#sign-in").await.click().await.unwrap();
    // A click does not wait for the navigation it starts: wait for a signed-in page.
    css(c, "form.who").await;
}

async fn sign_out(c: &Client) {
    css(c, "form.who button").await.click().await.unwrap();
    css(c, "#token").await;
}

/// Clicks a button marked "danger", answering yes to its confirmation. The
/// button is found first, so the answer is given on the page that holds it (a
/// page still loading would otherwise get the real dialog).
/// Found again when a live region replaced it before the click.
async fn click_confirmed(c: &Client, selector: &str) {
    let mut last = None;
    for _ in 0..50 {
        let button = css(c, selector).await;
        c.execute("window.confirm = function () { return true; };", vec![])
            .await
            .unwrap();
        match button.click().await {
            Ok(()) => return,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{selector} kept going stale: {last:?}");
}

async fn post_order(env: &TestEnv, gw: &TestGateway, seq: u64) {
    for event in [1001, 1002, 1003] {
        let (body, _) = env.keeta_webhook(event, seq);
        assert_eq!(gw.post(&env.tenant, "keeta", body).await, 200);
    }
}

async fn first_id(gw: &TestGateway, token: &str, path: &str) -> i64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (_, page) = gw.admin_get(path, Some(token)).await;
        if let Some(id) = page["items"][0]["id"].as_i64() {
            return id;
        }
        assert!(tokio::time::Instant::now() < deadline, "nothing at {path}: {page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_operator_signs_in_finds_replays_requeues_and_readmits_in_a_browser() {
    let Some(driver) = driver() else { return };
    let mut env = TestEnv::new().await;
    let tenant = env.tenant.clone();
    let ops = env.admin_token("ops", &[Read, ReadPayload, Operate], None);
    // A delivery signed with a secret the gateway does not know yet.
    let rotated = hookgate_testkit::unique("rotated-");
    let real = env.keeta_secret.clone();
    env.keeta_secret = rotated.clone();
    let (refused_body, _) = env.keeta_webhook(1002, 90);
    env.keeta_secret = real;
    let gw = env.start(Role::All).await;
    let admin = gw.admin_url.clone();
    assert_eq!(gw.post(&tenant, "keeta", refused_body).await, 401);
    let c = browser(&driver).await;

    // A wrong token cannot sign in; every page sends an anonymous visitor to the sign-in.
    c.goto(&format!("{admin}/notifications")).await.unwrap();
    css(&c, "#token").await.send_keys("not-a-token").await.unwrap();
    css(&c, "#sign-in").await.click().await.unwrap();
    assert!(text(&c, "#sign-in-error").await.contains("not one this gateway knows"));
    c.goto(&format!("{admin}/")).await.unwrap();
    css(&c, "#token").await;

    // Sign in; a simulated webhook appears in the list and its detail.
    sign_in(&c, &admin, &ops).await;
    post_order(&env, &gw, 91).await;
    c.goto(&format!("{admin}/notifications?tenant={tenant}")).await.unwrap();
    let rows = until_text(&c, "table.rows tbody", |t| t.matches("keeta").count() >= 3).await;
    assert!(rows.contains(&tenant), "{rows}");
    let first = first_id(
        &gw,
        &ops,
        &format!("/v1/notifications?tenant={tenant}&status=published"),
    )
    .await;
    c.goto(&format!("{admin}/notifications/{first}")).await.unwrap();
    let body = text(&c, "#body").await;
    assert!(
        body.contains("\"eventId\"") && body.contains("\n  "),
        "pretty-printed: {body}"
    );
    until_text(&c, "#status", |s| s == "published").await;
    assert!(text(&c, "#events").await.contains("keeta."));
    shot(&c, "notification").await;

    // Replay it from the detail page and see the job finish.
    css(&c, "#replay").await.click().await.unwrap();
    until_text(&c, "#job-status", |s| s == "done").await;
    // The subject's timeline shows the replay.
    c.goto(&format!("{admin}/notifications/{first}")).await.unwrap();
    css(&c, "#subject-link").await.click().await.unwrap();
    assert!(text(&c, "ol.timeline").await.contains("replayed by job"));

    // A filter replay: plan with the count, run it; a second one cancelled.
    c.goto(&format!("{admin}/replays")).await.unwrap();
    css(&c, "#replay-filter select[name=tenant]")
        .await
        .select_by_value(&tenant)
        .await
        .unwrap();
    css(&c, "#plan-replay").await.click().await.unwrap();
    assert_eq!(text(&c, "#plan-count").await, "3");
    assert!(has(&c, "section.preview").await);
    shot(&c, "replay-plan").await;
    click_confirmed(&c, "#run-replay").await;
    until_text(&c, "#job-status", |s| s == "done").await;
    c.goto(&format!("{admin}/replays")).await.unwrap();
    css(&c, "#replay-filter select[name=tenant]")
        .await
        .select_by_value(&tenant)
        .await
        .unwrap();
    css(&c, "#replay-filter input[name=rate_per_sec]")
        .await
        .send_keys("1")
        .await
        .unwrap();
    css(&c, "#plan-replay").await.click().await.unwrap();
    click_confirmed(&c, "#run-replay").await;
    css(&c, "#job-status").await;
    click_confirmed(&c, "#cancel").await;
    until_text(&c, "#job-status", |s| s == "cancelled").await;

    // Requeue a parked notification.
    env.post_parking(&gw, 92).await;
    first_id(&gw, &ops, "/v1/parked").await;
    c.goto(&format!("{admin}/parked?tenant={tenant}")).await.unwrap();
    css(&c, "#plan-all").await.click().await.unwrap();
    assert_eq!(text(&c, "#plan-count").await, "1");
    click_confirmed(&c, "#requeue-all").await;
    assert!(text(&c, "#requeued").await.starts_with("1 parked"));

    // The overview shows the tenant's sources and their traffic.
    tokio::time::sleep(Duration::from_secs(6)).await;
    c.goto(&format!("{admin}/")).await.unwrap();
    let overview = text(&c, "main").await;
    assert!(
        overview.contains(&tenant) && overview.contains("no_recipe_matched_yet"),
        "{overview}"
    );
    shot(&c, "overview").await;
    c.goto(&format!("{admin}/tenants")).await.unwrap();
    let tenants_page = text(&c, "main").await;
    assert!(tenants_page.contains("/hooks/"));
    // Keeta's deliveries proved a recipe; the sources nothing was sent to are onboarding.
    assert!(
        tenants_page.contains("callback_url") && tenants_page.contains("never matched"),
        "{tenants_page}"
    );
    let page = c.source().await.unwrap();
    assert!(
        !page.contains(&env.keeta_secret),
        "the tenants page never shows a secret"
    );
    shot(&c, "tenants").await;
    c.goto(&format!("{admin}/audit")).await.unwrap();
    let audit = text(&c, "#audit").await;
    assert!(
        audit.contains("notification.replay") && audit.contains("parked.requeue"),
        "{audit}"
    );

    // A form posted without its CSRF token is refused.
    c.goto(&format!("{admin}/notifications/{first}")).await.unwrap();
    css(&c, "#replay-form").await;
    c.execute(
        "var f = document.querySelector('#replay-form'); f.querySelector('input[name=csrf]').remove(); f.submit();",
        vec![],
    )
    .await
    .unwrap();
    assert!(text(&c, "#error-message").await.contains("CSRF"));
    c.goto(&format!("{admin}/audit")).await.unwrap();
    assert!(
        text(&c, "#audit").await.contains("POST /notifications/{id}/replay"),
        "the refusal is audited"
    );

    // The rejection, re-admitted once the secret is rotated in the configuration.
    c.goto(&format!("{admin}/rejections?tenant={tenant}")).await.unwrap();
    css(&c, "a.rid").await.click().await.unwrap();
    let rejection_url = c.current_url().await.unwrap();
    assert!(text(&c, "main").await.contains("no_recipe_matched_yet"));
    gw.stop().await;
    let mut tenant_cfg = env.settings.tenants.iter().next().unwrap().as_ref().clone();
    let source = hookgate_testkit::keeta_source(
        "keeta",
        &rotated,
        &env.callback_url,
        hookgate_config::Verification::Enforce,
    );
    tenant_cfg.sources.insert(source.id.clone(), source);
    env.settings = Settings::with_tenants(env.settings.service.clone(), vec![tenant_cfg]).unwrap();
    let gw = env.start(Role::All).await;
    // The session cookie holds across the restart: it is signed, not stored.
    c.goto(&format!("{}{}", gw.admin_url, rejection_url.path()))
        .await
        .unwrap();
    css(&c, "#readmit").await.click().await.unwrap();
    css(&c, "#readmitted-link").await.click().await.unwrap();
    css(&c, "#body").await;
    c.close().await.unwrap();
    gw.stop().await;
}

#[tokio::test]
async fn read_only_and_tenant_limited_tokens_see_only_what_their_scopes_allow() {
    let Some(driver) = driver() else { return };
    let mut env = TestEnv::new().await;
    let tenant = env.tenant.clone();
    let other = env.add_tenant(|_| {});
    let ops = env.admin_token("ops", &[Read, ReadPayload, Operate], None);
    let reader = env.admin_token("reader", &[Read], None);
    let limited = env.admin_token("other-team", &[Read, ReadPayload, Operate], Some(&[other.as_str()]));
    let gw = env.start(Role::All).await;
    let admin = gw.admin_url.clone();
    post_order(&env, &gw, 93).await;
    let id = first_id(&gw, &ops, &format!("/v1/notifications?tenant={tenant}")).await;
    let c = browser(&driver).await;

    // Read-only: no payload, no action buttons, and its posts are refused.
    sign_in(&c, &admin, &reader).await;
    c.goto(&format!("{admin}/notifications/{id}")).await.unwrap();
    css(&c, "#no-payload").await;
    assert!(!has(&c, "#replay").await, "a read-only token sees no replay button");
    c.goto(&format!("{admin}/replays")).await.unwrap();
    assert!(!has(&c, "#plan-replay").await);
    c.goto(&format!("{admin}/notifications/{id}")).await.unwrap();
    // A hand-made form with the session's own CSRF token: the scope still refuses.
    c.execute(
        &format!(
            "var f = document.createElement('form'); f.method = 'post'; f.action = '/notifications/{id}/replay';
             var i = document.createElement('input'); i.name = 'csrf';
             i.value = document.querySelector('form.who input[name=csrf]').value;
             f.appendChild(i); document.body.appendChild(f); f.submit();"
        ),
        vec![],
    )
    .await
    .unwrap();
    assert!(text(&c, "#error-message").await.contains("lacks the operate scope"));
    c.goto(&format!("{admin}/")).await.unwrap();
    sign_out(&c).await;
    // Signed out: the pages ask for a sign-in again.
    c.goto(&format!("{admin}/notifications")).await.unwrap();
    css(&c, "#token").await;

    // Limited to the other tenant: this tenant's notification does not exist for it.
    sign_in(&c, &admin, &limited).await;
    c.goto(&format!("{admin}/notifications/{id}")).await.unwrap();
    assert!(text(&c, "h1").await.starts_with("404"));
    c.goto(&format!("{admin}/notifications?tenant={tenant}")).await.unwrap();
    assert!(text(&c, "h1").await.starts_with("403"));
    c.goto(&format!("{admin}/")).await.unwrap();
    let overview = text(&c, "main").await;
    assert!(overview.contains(&other) && !overview.contains(&tenant), "{overview}");
    c.close().await.unwrap();
    gw.stop().await;
}

#[tokio::test]
async fn an_operator_sees_a_quiet_source_and_acknowledges_its_incident() {
    let Some(driver) = driver() else { return };
    // Quiet after one second of silence; this test runs the evaluator's rounds.
    let mut env = TestEnv::with(|t| {
        for (id, s) in t.sources.iter_mut() {
            if id.as_str() == "keeta" {
                s.watch.quiet_after = Some(Duration::from_secs(1));
            }
        }
    })
    .await;
    env.settings.service.watch.enabled = false;
    let tenant = env.tenant.clone();
    let ops = env.admin_token("ops", &[Read, Operate], None);
    let gw = env.start(Role::All).await;
    let admin = gw.admin_url.clone();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let round = gw.watcher.round(chrono::Utc::now()).await.unwrap();
    assert_eq!(round.transitions.map(|t| t.len()), Some(1));
    let c = browser(&driver).await;
    sign_in(&c, &admin, &ops).await;
    c.goto(&format!("{admin}/")).await.unwrap();
    let overview = text(&c, "main").await;
    assert!(overview.contains("quiet after 1s"), "the rule is shown: {overview}");
    let incidents = text(&c, "#active-incidents").await;
    assert!(incidents.contains(&format!("{tenant}/keeta")), "{incidents}");
    shot(&c, "overview-quiet").await;
    css(&c, "#active-incidents a").await.click().await.unwrap();
    assert_eq!(text(&c, "#incident-state").await, "open");
    css(&c, "#acknowledge").await.click().await.unwrap();
    until_text(&c, "#incident-state", |s| s == "acknowledged").await;
    assert!(text(&c, "#transitions").await.contains("by ops"));
    shot(&c, "incident").await;
    c.goto(&format!("{admin}/incidents")).await.unwrap();
    assert!(text(&c, "#incidents").await.contains("acknowledged"));
    shot(&c, "incidents").await;
    c.close().await.unwrap();
    gw.stop().await;
}

#[tokio::test]
async fn a_stale_event_is_shown_in_its_subject_s_timeline() {
    let Some(driver) = driver() else { return };
    let mut env = TestEnv::new().await;
    let tenant = env.tenant.clone();
    let reader = env.admin_token("reader", &[Read], None);
    let gw = env.start(Role::All).await;
    let admin = gw.admin_url.clone();
    // Cancelled, then (once that is published) a late acceptance.
    let (cancelled, _) = env.keeta_webhook(1004, 31);
    assert_eq!(gw.post(&tenant, "keeta", cancelled).await, 200);
    let first = first_id(
        &gw,
        &reader,
        &format!("/v1/notifications?tenant={tenant}&status=published"),
    )
    .await;
    let (accepted, _) = env.keeta_webhook(1002, 31);
    assert_eq!(gw.post(&tenant, "keeta", accepted).await, 200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (_, page) = gw
            .admin_get(
                &format!("/v1/notifications?tenant={tenant}&status=published"),
                Some(&reader),
            )
            .await;
        if page["items"].as_array().is_some_and(|i| i.len() == 2) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not published: {page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let c = browser(&driver).await;
    sign_in(&c, &admin, &reader).await;
    c.goto(&format!("{admin}/notifications/{first}")).await.unwrap();
    let subject = text(&c, "body").await;
    assert!(subject.contains("order/553440887574658"), "{subject}");
    c.goto(&format!("{admin}/subjects/{tenant}/order/553440887574658"))
        .await
        .unwrap();
    let mark = text(&c, ".timeline .stale").await;
    assert!(mark.contains("stale: behind keeta.order.cancelled"), "{mark}");
    let all = text(&c, ".timeline").await;
    assert_eq!(all.matches("stale:").count(), 1, "only the late acceptance: {all}");
    shot(&c, "timeline-stale").await;
    // The late acceptance's own page marks its event too.
    let (_, page) = gw
        .admin_get(
            &format!("/v1/notifications?tenant={tenant}&status=published"),
            Some(&reader),
        )
        .await;
    let late = page["items"][0]["id"].as_i64().unwrap();
    assert_ne!(late, first);
    c.goto(&format!("{admin}/notifications/{late}")).await.unwrap();
    let mark = text(&c, "#events .stale").await;
    assert!(mark.contains("stale: behind keeta.order.cancelled"), "{mark}");
    shot(&c, "notification-stale").await;
    c.close().await.unwrap();
    gw.stop().await;
}
