//! The dependency invariants of ARCHITECTURE.md, checked over `cargo
//! metadata`: breaking one fails the build's tests, not just a review.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Each workspace package and the names of its normal (non-dev) dependencies.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null()) // normal dependencies only
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .collect();
            (p["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

/// The packages whose normal dependencies include `dep`.
fn users(all: &BTreeMap<String, BTreeSet<String>>, dep: &str) -> BTreeSet<String> {
    all.iter()
        .filter(|(_, deps)| deps.contains(dep))
        .map(|(name, _)| name.clone())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

#[test]
fn only_the_owning_crate_names_each_io_library() {
    let all = dependencies();
    assert!(all.contains_key("hookgate-core"), "{:?}", all.keys());
    // The consumer SDK is not part of the gateway: it is the library the
    // services that bind hookgate's queues use (its PostgreSQL inbox, its
    // RabbitMQ consumer).
    assert_eq!(
        users(&all, "sqlx"),
        set(&["hookgate-store", "hookgate-consumer"]),
        "only store (and the consumer SDK) names sqlx"
    );
    // testkit serves the fake provider management APIs.
    assert_eq!(
        users(&all, "actix-web"),
        set(&["hookgate-ingress", "hookgate-admin", "hookgate-testkit"]),
        "only ingress and admin name actix-web"
    );
    assert_eq!(
        users(&all, "lapin"),
        set(&["hookgate-dispatcher", "hookgate-consumer"]),
        "only dispatcher (and the consumer SDK) names lapin"
    );
    assert_eq!(
        users(&all, "redis"),
        set(&["hookgate-dispatcher"]),
        "only dispatcher names redis"
    );
    assert_eq!(
        users(&all, "reqwest"),
        set(&["hookgate-provider-api", "hookgate-client", "hookgate-cli", "hookgate-testkit", "hookgate-app"]),
        "provider calls only in provider-api (client: the admin API's; cli: the load generator and simulate; testkit: test clients; app: the operator-event notifier, which calls the operators' own URL)"
    );
    assert_eq!(
        users(&all, "hookgate-provider-api"),
        set(&["hookgate-onboarding"]),
        "only onboarding talks to providers' management APIs"
    );
}

#[test]
fn the_consumer_sdk_stands_apart_from_the_gateway() {
    let all = dependencies();
    let hookgate: BTreeSet<String> = all["hookgate-consumer"]
        .iter()
        .filter(|d| d.starts_with("hookgate-"))
        .cloned()
        .collect();
    assert_eq!(
        hookgate,
        set(&["hookgate-proto"]),
        "the SDK depends on the wire types only"
    );
    assert_eq!(
        users(&all, "hookgate-consumer"),
        set(&[]),
        "no gateway crate uses the SDK"
    );
}

#[test]
fn pure_crates_have_no_io_dependency() {
    let all = dependencies();
    let io = ["tokio", "sqlx", "actix-web", "lapin", "redis", "reqwest", "config"];
    for pure in [
        "hookgate-core",
        "hookgate-providers",
        "hookgate-signature",
        "hookgate-proto",
        "hookgate-watch",
    ] {
        let deps = &all[pure];
        for lib in io {
            assert!(!deps.contains(lib), "{pure} depends on {lib}");
        }
    }
}

#[test]
fn the_admin_client_knows_the_api_only_through_its_wire_types() {
    let all = dependencies();
    let client = &all["hookgate-client"];
    assert!(client.contains("hookgate-api-types"));
    for server in [
        "hookgate-admin",
        "hookgate-store",
        "hookgate-config",
        "sqlx",
        "actix-web",
    ] {
        assert!(!client.contains(server), "the client depends on {server}");
    }
    let types = &all["hookgate-api-types"];
    for io in ["tokio", "sqlx", "actix-web", "reqwest", "hookgate-store"] {
        assert!(!types.contains(io), "the wire types depend on {io}");
    }
    assert!(
        all["hookgate-cli"].contains("hookgate-client"),
        "the CLI's operator commands use the client"
    );
}

#[test]
fn ingress_and_dispatcher_meet_only_in_the_outbox() {
    let all = dependencies();
    assert!(!all["hookgate-ingress"].contains("hookgate-dispatcher"));
    assert!(!all["hookgate-dispatcher"].contains("hookgate-ingress"));
    // Nothing depends on the binary crate: its commands are thin shells
    // over libraries (app, onboarding, providers' samples).
    assert_eq!(
        users(&all, "hookgate-cli"),
        set(&[]),
        "no crate depends on the binary crate"
    );
}

#[test]
fn the_composition_root_is_its_own_crate() {
    let all = dependencies();
    // The gateway is built in one place, which the binary and the test kit use.
    for user in ["hookgate-cli", "hookgate-testkit"] {
        assert!(
            all[user].contains("hookgate-app"),
            "{user} builds gateways through hookgate-app"
        );
    }
    // Providers are pure and know nothing of the crates that run them.
    for dep in [
        "hookgate-config",
        "hookgate-store",
        "hookgate-ingress",
        "hookgate-dispatcher",
        "hookgate-app",
    ] {
        assert!(!all["hookgate-providers"].contains(dep), "providers depends on {dep}");
    }
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() && path.file_name().is_some_and(|n| n != "target") {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// An `Admitted` (the proof that a request authenticated) is made by the
/// providers crate, or read back from the spool, which journals only what
/// was one: no other code may call `restore_journaled`.
#[test]
fn only_the_spool_restores_an_admission() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    let callers: BTreeSet<String> = files
        .iter()
        .filter(|p| {
            std::fs::read_to_string(p)
                .unwrap_or_default()
                .contains("restore_journaled(")
        })
        .map(|p| p.strip_prefix(&root).unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        callers,
        set(&["crates/ingress/src/spool.rs", "crates/providers/src/inspect.rs"]),
        "restore_journaled is the spool's alone"
    );
}
