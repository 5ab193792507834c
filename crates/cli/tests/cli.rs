//! The `hookgate` binary itself: argument handling and `config check` on the
//! repository's configuration. (Building this test also builds the binary
//! that the fault tests in `tests/faults.rs` start as a separate process.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::process::Command;

fn hookgate() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hookgate"));
    cmd.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    cmd
}

#[test]
fn config_check_prints_the_plan_of_the_demo_tenant() {
    let out = hookgate().args(["config", "check"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("tenant demo"), "{text}");
    assert!(text.contains("exchange hookgate.demo"), "{text}");
    for source in [
        "keeta",
        "keeta-auth",
        "pagsmile-issuing",
        "pagsmile-payin",
        "pagsmile-payout",
        "bh",
        "webhooks",
    ] {
        assert!(
            text.contains(&format!("POST http://127.0.0.1:8080/hooks/demo/{source} ")),
            "{source}: {text}"
        );
    }
    assert!(!text.contains("demo-keeta-secret"), "secrets must not be printed");
    // The Keeta sources try candidate recipes until a delivery proves one.
    assert_eq!(text.matches("recipe unproven: ").count(), 2, "{text}");
}

#[test]
fn config_check_shows_a_pinned_recipe() {
    let dir = std::env::temp_dir().join(format!("hookgate-cli-pinned-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("tenants.d")).unwrap();
    std::fs::write(
        dir.join("tenants.d/x.toml"),
        "id = \"x\"\ndemo = true\n[sources.k]\nkind = \"keeta\"\napp_secrets = [{ demo = \"s\" }]\nrecipes = [\"callback_url+params+secret\"]\n",
    )
    .unwrap();
    let out = hookgate()
        .args(["--config", dir.to_str().unwrap(), "config", "check"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("recipe pinned: callback_url+params+secret"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_bad_configuration_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("hookgate-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("tenants.d")).unwrap();
    std::fs::write(
        dir.join("tenants.d/x.toml"),
        "id = \"x\"\n[sources.k]\nkind = \"keeta\"\napp_secrets = [{ env = \"HOOKGATE_CLI_TEST_UNSET\" }]\n",
    )
    .unwrap();
    let out = hookgate()
        .args(["--config", dir.to_str().unwrap(), "config", "check"])
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("x.toml") && err.contains("sources.k.app_secrets[0]") && err.contains("HOOKGATE_CLI_TEST_UNSET"),
        "{err}"
    );
}

#[test]
fn config_check_warns_of_a_proxy_header_believed_from_any_peer() {
    let dir = std::env::temp_dir().join(format!("hookgate-cli-proxy-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("tenants.d")).unwrap();
    std::fs::write(
        dir.join("tenants.d/x.toml"),
        "id = \"x\"\ndemo = true\n[sources.i]\nkind = \"pagsmile-issuing\"\n[sources.i.access]\n\
         allow_ips = [\"10.0.0.0/8\"]\ntrusted_proxy_header = \"x-forwarded-for\"\n",
    )
    .unwrap();
    let out = hookgate()
        .args(["--config", dir.to_str().unwrap(), "config", "check"])
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        text.contains("warning: tenant x source i: access.trusted_proxy_header"),
        "{text}"
    );
}

#[test]
fn an_unreachable_database_names_the_setting_to_fix() {
    // Nothing listens on port 1.
    let out = hookgate()
        .args(["migrate"])
        .env("HOOKGATE__DATABASE__URL", "postgres://postgres@127.0.0.1:1/hookgate")
        .env("HOOKGATE__DATABASE__ACQUIRE_TIMEOUT_MS", "500")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("(setting database.url)") && err.contains("127.0.0.1:1"),
        "{err}"
    );
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    // `hookgate config check | head -1`: a plan larger than a pipe holds,
    // and a reader that stops at once.
    let dir = std::env::temp_dir().join(format!("hookgate-cli-pipe-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("tenants.d")).unwrap();
    for i in 0..300 {
        std::fs::write(
            dir.join(format!("tenants.d/t{i}.toml")),
            format!(
                "id = \"t{i}\"\ndemo = true\n[sources.k]\nkind = \"keeta\"\napp_id = 1\napp_secrets = [{{ demo = \"s\" }}]\n"
            ),
        )
        .unwrap();
    }
    let mut child = hookgate()
        .args(["--config", dir.to_str().unwrap(), "config", "check"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.status.success(), "{:?}: {err}", out.status);
}

#[test]
fn simulate_rejects_unknown_kinds_and_events_with_the_known_ones() {
    let out = hookgate().args(["simulate", "bh", "nope"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("stablecoin-payment"), "{err}");
    let out = hookgate().args(["simulate", "nope", "x"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("pagsmile-payin"));
}

#[test]
fn register_dry_runs_print_redacted_requests_and_touch_nothing() {
    let dir = std::env::temp_dir().join(format!("hookgate-cli-register-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("tenants.d")).unwrap();
    // Nothing listens on port 1: the dry run must not need the database.
    std::fs::write(
        dir.join("hookgate.toml"),
        "[http]\npublic_base_url = \"https://hooks.acme.example\"\n[database]\nurl = \"postgres://postgres@127.0.0.1:1/none\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("tenants.d/acme.toml"),
        r#"id = "acme"
[sources.bh]
kind = "bh"
[sources.keeta]
kind = "keeta"
app_id = 2061048026
app_secrets = [{ env = "HOOKGATE_CLI_TEST_KEETA_SECRET" }]
[providers.bh]
base_url = "https://api-test.velafi.com"
api_key = { env = "HOOKGATE_CLI_TEST_BH_KEY" }
api_secret = { env = "HOOKGATE_CLI_TEST_BH_SECRET" }
[providers.keeta]
base_url = "https://open.mykeeta.com"
"#,
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = hookgate()
            .args(["--config", dir.to_str().unwrap(), "register"])
            .args(args)
            .env("HOOKGATE_CLI_TEST_KEETA_SECRET", "keeta-secret-value")
            .env("HOOKGATE_CLI_TEST_BH_KEY", "bh-key-value")
            .env("HOOKGATE_CLI_TEST_BH_SECRET", "bh-secret-value")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
        for secret in ["keeta-secret-value", "bh-key-value", "bh-secret-value"] {
            assert!(!text.contains(secret), "{secret} printed:\n{text}");
        }
        text
    };
    let bh = run(&[
        "bh",
        "--tenant",
        "acme",
        "--source",
        "bh",
        "--event-type",
        "ORDER_WEBHOOK",
        "--event-type",
        "FUNDING_WEBHOOK",
        "--dry-run",
    ]);
    assert!(
        bh.contains("GET https://api-test.velafi.com/v2/token/generate?timestamp="),
        "{bh}"
    );
    assert!(bh.contains("X-BH-APIKEY: <redacted>"), "{bh}");
    assert_eq!(
        bh.matches("POST https://api-test.velafi.com/openapi/v2/business/webhook")
            .count(),
        2,
        "{bh}"
    );
    assert!(
        bh.contains(r#""url":"https://hooks.acme.example/hooks/acme/bh""#),
        "{bh}"
    );
    // An http or loopback callback URL is refused without --allow-insecure-url.
    let insecure = hookgate()
        .args([
            "--config",
            dir.to_str().unwrap(),
            "register",
            "bh",
            "--tenant",
            "acme",
            "--source",
            "bh",
            "--dry-run",
        ])
        .env("HOOKGATE__HTTP__PUBLIC_BASE_URL", "http://127.0.0.1:8080")
        .env("HOOKGATE_CLI_TEST_BH_KEY", "bh-key-value")
        .env("HOOKGATE_CLI_TEST_BH_SECRET", "bh-secret-value")
        .env("HOOKGATE_CLI_TEST_KEETA_SECRET", "keeta-secret-value")
        .output()
        .unwrap();
    assert!(!insecure.status.success());
    assert!(String::from_utf8_lossy(&insecure.stderr).contains("not https"));
    let keeta = run(&[
        "keeta",
        "--tenant",
        "acme",
        "--source",
        "keeta",
        "--event",
        "1001",
        "--test",
        "--dry-run",
    ]);
    assert!(
        keeta.contains("POST https://open.mykeeta.com/api/open/base/callback/url/set"),
        "{keeta}"
    );
    assert!(
        keeta.contains(r#""isTest":1"#) && keeta.contains(r#""sig":"<redacted>""#),
        "{keeta}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

fn temp_config(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hookgate-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("tenants.d")).unwrap();
    dir
}

#[test]
fn a_missing_directory_or_no_tenant_is_an_error_not_an_empty_gateway() {
    let out = hookgate()
        .args(["--config", "/no/such/hookgate/dir", "config", "check"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("/no/such/hookgate/dir: no such configuration directory"),
        "{err}"
    );

    let dir = temp_config("empty");
    for args in [&["config", "check"][..], &["serve"][..]] {
        let out = hookgate().arg("--config").arg(&dir).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded with no tenant");
        assert!(err.contains("no tenants configured"), "{args:?}: {err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn errors_are_one_line_without_a_backtrace() {
    let out = hookgate()
        .args(["--config", "/no/such/hookgate/dir", "config", "check"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(!err.to_lowercase().contains("backtrace"), "{err}");
}

#[test]
fn an_environment_typo_names_the_variable() {
    let out = hookgate()
        .args(["config", "check"])
        .env("HOOKGATE__HTTP__LISTN", "127.0.0.1:1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("environment: HOOKGATE__HTTP__LISTN: no such setting http.listn"),
        "{err}"
    );
    assert!(!err.contains("hookgate.toml"), "not a file error: {err}");
}

#[test]
fn simulate_fails_when_requests_fail() {
    // Nothing listens on port 9: every request is a transport error.
    let out = hookgate()
        .args(["simulate", "keeta", "order-accepted", "--url", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("not every request was answered 2xx"), "{text}");
}
