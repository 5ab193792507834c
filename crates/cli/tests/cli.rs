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
fn simulate_rejects_unknown_kinds_and_events_with_the_known_ones() {
    let out = hookgate().args(["simulate", "bh", "nope"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("stablecoin-payment"), "{err}");
    let out = hookgate().args(["simulate", "nope", "x"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("pagsmile-payin"));
}
