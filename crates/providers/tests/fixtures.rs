//! Data-driven normalizer tests: every `fixtures/<provider>/<name>.json` is a
//! provider body; `<name>.expected.json` beside it is the canonical event
//! list it must map to. Regenerate the expectations after an intended change
//! with `UPDATE_EXPECT=1 cargo test -p hookgate-providers --test fixtures`
//! and review the diff.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use chrono::DateTime;
use hookgate_core::SourceKind;
use hookgate_providers::{delivery_key, normalize, Input, Options};
use std::path::Path;

/// Every fixture input of `kind` with the text its expectation must hold
/// (the delivery key and the published events, or the error).
fn published(kind: SourceKind) -> Vec<(std::path::PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind.as_str());
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".json") && !p.to_string_lossy().ends_with(".expected.json"))
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no fixtures in {}", dir.display());
    inputs
        .into_iter()
        .map(|input| {
            let text = actual(kind, &input);
            (input, text)
        })
        .collect()
}

fn actual(kind: SourceKind, input: &Path) -> String {
    let body = std::fs::read(input).unwrap();
    let body = body.trim_ascii_end();
    let received_at = DateTime::parse_from_rfc3339("2025-06-04T03:35:44.500Z")
        .unwrap()
        .to_utc();
    // Standard Webhooks takes its delivery key from a header.
    let header: Vec<(String, String)> = vec![("webhook-id".into(), "msg_2xK4fixture".into())];
    let key = delivery_key(kind, body, &header)
        .map(|k| k.to_string())
        .unwrap_or_else(|e| format!("error: {e}"));
    // Every source's default options: Pagsmile issuing times at
    // `pagsmile::DEFAULT_UTC_OFFSET`, as a source that does not set one.
    let options = Options::default();
    assert_eq!(hookgate_providers::pagsmile::DEFAULT_UTC_OFFSET, "+00:00");
    let input_meta = Input {
        tenant: "demo",
        source: kind.as_str(),
        kind,
        notification_id: 42,
        received_at,
        body,
        delivery_key: &key,
        options,
    };
    let actual = match normalize(&input_meta) {
        Ok(events) => {
            let events: Vec<serde_json::Value> = events
                .iter()
                .map(|e| serde_json::from_slice(&e.to_json().unwrap()).unwrap())
                .collect();
            serde_json::json!({ "deliveryKey": key, "events": events })
        }
        Err(e) => serde_json::json!({ "deliveryKey": key, "error": e.to_string() }),
    };
    // Exactness of raw numbers is checked on the wire text, not on parsed values.
    if let Ok(events) = normalize(&input_meta) {
        for e in events {
            let wire = String::from_utf8(e.to_json().unwrap()).unwrap();
            for token in [
                "9007199254740993",
                "123456789012345678901234567890",
                "473130522693193728",
                "1000.00",
            ] {
                if std::str::from_utf8(body).unwrap().contains(token) {
                    assert!(wire.contains(token), "{} lost {token}: {wire}", input.display());
                }
            }
        }
    }
    serde_json::to_string_pretty(&actual).unwrap() + "\n"
}

fn check(kind: SourceKind) {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut failures = Vec::new();
    for (input, actual_text) in published(kind) {
        let expected_path = input.with_extension("expected.json");
        if update {
            std::fs::write(&expected_path, &actual_text).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual_text {
            failures.push(format!(
                "{}:\n--- expected\n{expected}\n--- actual\n{actual_text}",
                input.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn keeta_fixtures() {
    check(hookgate_providers::keeta::KIND);
}

#[test]
fn keeta_auth_fixtures() {
    check(hookgate_providers::keeta_auth::KIND);
}

#[test]
fn pagsmile_issuing_fixtures() {
    check(hookgate_providers::pagsmile::ISSUING);
}

#[test]
fn pagsmile_payin_fixtures() {
    check(hookgate_providers::pagsmile::PAYIN);
}

#[test]
fn pagsmile_payout_fixtures() {
    check(hookgate_providers::pagsmile::PAYOUT);
}

#[test]
fn bh_fixtures() {
    check(hookgate_providers::bh::KIND);
}

#[test]
fn standard_webhooks_fixtures() {
    check(hookgate_providers::standard_webhooks::KIND);
}

/// Every fixture of every kind: the subject ingress reads from its one
/// parse of the body (`Provider::keys`) is the subject normalization names,
/// whenever normalization names one.
#[test]
fn ingress_subjects_match_normalization_for_every_fixture() {
    let header: Vec<(String, String)> = vec![("webhook-id".into(), "msg_2xK4fixture".into())];
    let mut compared = 0;
    for provider in hookgate_providers::PROVIDERS {
        let kind = provider.kind();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(kind.as_str());
        let mut per_kind = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.to_string_lossy().into_owned();
            if !name.ends_with(".json") || name.ends_with(".expected.json") {
                continue;
            }
            let body = std::fs::read(&path).unwrap();
            let Ok(keys) = provider.keys(&body, &header) else {
                continue;
            };
            let options = Options::default();
            let reference = hookgate_providers::ordering_key("t", kind, &body, keys.delivery_key.as_str(), options);
            if reference.is_some() {
                let fast = keys.delivery("t").ordering_key;
                assert_eq!(fast, reference, "{name}");
                per_kind += 1;
            }
        }
        assert!(per_kind >= 2, "{kind}: only {per_kind} fixtures compared");
        compared += per_kind;
    }
    assert!(compared >= 39, "only {compared} fixtures compared");
}

/// The published JSON is a contract (docs/events.md, "Versioning"): what
/// each fixture publishes, digested, is recorded in `fixtures/CONTRACT.json`
/// with the `specVersion` it was recorded at. Changing what a recorded
/// fixture publishes without changing `hookgate_proto::SPEC_VERSION` fails
/// here. `UPDATE_EXPECT=1` records new fixtures (and forgets removed ones)
/// at the same version, and everything anew after a version change; it
/// never records a changed fixture at an unchanged version.
#[test]
fn published_json_changes_only_with_the_schema_version() {
    use sha2::Digest;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut now = std::collections::BTreeMap::new();
    for kind in hookgate_providers::kinds() {
        for (input, text) in published(kind) {
            let name = input.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
            now.insert(name, hex::encode(sha2::Sha256::digest(text.as_bytes())));
        }
    }
    assert!(now.len() > 50, "the fixtures are found: {}", now.len());
    let lock_path = root.join("CONTRACT.json");
    let lock: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&lock_path).unwrap()).unwrap();
    let locked_version = lock["specVersion"].as_str().unwrap();
    let recorded: std::collections::BTreeMap<String, String> =
        serde_json::from_value(lock["fixtures"].clone()).unwrap_or_default();
    let version = hookgate_proto::SPEC_VERSION;
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    if version == locked_version {
        let changed: Vec<&String> = now
            .iter()
            .filter(|(name, digest)| recorded.get(*name).is_some_and(|r| r != *digest))
            .map(|(name, _)| name)
            .collect();
        assert!(
            changed.is_empty(),
            "what these fixtures publish changed, but hookgate_proto::SPEC_VERSION is still {version}: {changed:?}. \
             An added field or value is a minor version (1.0 -> 1.1), a changed meaning a new package \
             (docs/events.md, \"Versioning\"): bump it, regenerate with UPDATE_EXPECT=1 and review the diff"
        );
        if now != recorded {
            assert!(
                update,
                "fixtures added or removed since CONTRACT.json was recorded: record them with UPDATE_EXPECT=1"
            );
        } else {
            return;
        }
    } else {
        assert!(
            update,
            "SPEC_VERSION is {version}, CONTRACT.json records {locked_version}: record it with UPDATE_EXPECT=1"
        );
    }
    let text = serde_json::json!({ "specVersion": version, "fixtures": now });
    std::fs::write(&lock_path, serde_json::to_string_pretty(&text).unwrap() + "\n").unwrap();
}
