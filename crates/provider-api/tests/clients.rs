//! The clients against local fakes of the providers' management APIs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hookgate_config::{BhApi, BhPaths, KeetaApi, Secret};
use hookgate_provider_api::{bh, keeta, ApiError};
use hookgate_testkit::fake_providers::{FakeBh, FakeKeeta};
use std::time::Duration;

fn bh_api(fake: &FakeBh, secret: &str) -> BhApi {
    BhApi {
        base_url: fake.base_url.clone(),
        api_key: Secret::new("api-key-1"),
        api_secret: Secret::new(secret),
        paths: BhPaths::default(),
        event_types: vec!["ORDER_WEBHOOK".into()],
        timeout: Duration::from_secs(5),
        token_renew_before: Duration::from_secs(60),
        token_error_codes: vec![401, 403],
    }
}

#[tokio::test]
async fn bh_crud_with_one_cached_token() {
    let fake = FakeBh::start("api-key-1", "api-secret-1");
    let client = bh::Client::new(&bh_api(&fake, "api-secret-1")).unwrap();
    let created = client
        .create("ORDER_WEBHOOK", "https://hooks.example/hooks/t/bh")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(created.event_type, "ORDER_WEBHOOK");
    assert_eq!(created.status, bh::STATUS_ACTIVE);
    assert_eq!(created.public_key.as_deref(), Some(fake.public_key(0).as_str()));
    let updated = client
        .update(
            &created.webhook_id,
            "https://hooks.example/hooks/t/bh2",
            bh::STATUS_DISABLED,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (updated.url.as_str(), updated.status),
        ("https://hooks.example/hooks/t/bh2", 20)
    );
    assert_eq!(
        client.list(Some(bh::STATUS_DISABLED)).await.unwrap(),
        vec![updated.clone()]
    );
    assert!(client.list(Some(bh::STATUS_ACTIVE)).await.unwrap().is_empty());
    assert!(client.delete(&created.webhook_id).await.unwrap());
    assert_eq!(fake.webhooks()[0].status, 30);
    // Five calls, one token: it is cached until shortly before expireTime.
    assert_eq!((client.token_fetches(), fake.token_requests()), (1, 1));
}

#[tokio::test]
async fn bh_token_close_to_expiry_is_renewed_before_use() {
    let fake = FakeBh::start("api-key-1", "s");
    // Tokens live 30 s; the client renews 60 s ahead, so each call needs a new one.
    fake.set_token_ttl_ms(30_000);
    let client = bh::Client::new(&bh_api(&fake, "s")).unwrap();
    client.list(None).await.unwrap();
    client.list(None).await.unwrap();
    assert_eq!(client.token_fetches(), 2);
    assert_eq!(
        fake.refused_tokens(),
        0,
        "no call went out with a token about to expire"
    );
}

#[tokio::test]
async fn bh_expired_token_is_renewed_and_the_call_retried_once() {
    let fake = FakeBh::start("api-key-1", "s");
    let client = bh::Client::new(&bh_api(&fake, "s")).unwrap();
    client.list(None).await.unwrap();
    fake.expire_tokens();
    let w = client
        .create("FUNDING_WEBHOOK", "https://h.example/x")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(w.event_type, "FUNDING_WEBHOOK");
    assert_eq!((fake.refused_tokens(), client.token_fetches()), (1, 2));
    assert_eq!(fake.webhooks().len(), 1, "the refused create did not happen twice");

    // Tokens that are dead on arrival: one retry, then the provider's answer.
    fake.set_token_ttl_ms(-1);
    fake.expire_tokens();
    let err = client.list(None).await.unwrap_err();
    assert_eq!(err.provider_code(), Some("401"), "{err}");
    assert!(err.to_string().contains("TOKEN_EXPIRED"), "{err}");
    assert_eq!(client.token_fetches(), 3, "exactly one renewal for the failing call");
    assert_eq!(fake.refused_tokens(), 3, "the call was tried twice, not more");
}

#[tokio::test]
async fn bh_bare_http_401_also_renews_the_token_once() {
    let fake = FakeBh::start("api-key-1", "s");
    fake.refuse_tokens_with_http_401();
    let client = bh::Client::new(&bh_api(&fake, "s")).unwrap();
    client.list(None).await.unwrap();
    fake.expire_tokens();
    client.list(None).await.unwrap();
    assert_eq!((fake.refused_tokens(), client.token_fetches()), (1, 2));
    fake.set_token_ttl_ms(-1);
    fake.expire_tokens();
    let err = client.list(None).await.unwrap_err();
    assert!(matches!(err, ApiError::Unexpected { http_status: 401, .. }), "{err:?}");
    assert_eq!(fake.refused_tokens(), 3);
}

#[tokio::test]
async fn bh_refusals_carry_the_providers_code_and_message() {
    let fake = FakeBh::start("api-key-1", "right");
    // Wrong secret: the token request's HMAC does not verify.
    let wrong = bh::Client::new(&bh_api(&fake, "wrong")).unwrap();
    let err = wrong.list(None).await.unwrap_err();
    assert!(
        matches!(&err, ApiError::Provider { code, message, op: "generate token", .. } if code == "-1022" && message == "SIGNATURE_INVALID"),
        "{err:?}"
    );
    let client = bh::Client::new(&bh_api(&fake, "right")).unwrap();
    let err = client.create("NOT_A_TYPE", "https://h.example/x").await.unwrap_err();
    assert_eq!(err.provider_code(), Some("-4010"));
    fake.fail_next(-5046, "COMMON_ERROR");
    let err = client.update("0", "https://h.example/x", 10).await.unwrap_err();
    assert!(err.to_string().contains("code -5046: COMMON_ERROR"), "{err}");
    // Nothing listening: a transport error naming the operation.
    let mut api = bh_api(&fake, "right");
    api.base_url = "http://127.0.0.1:9".into();
    let err = bh::Client::new(&api).unwrap().list(None).await.unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Transport {
                op: "generate token",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn bh_paths_are_configurable() {
    let fake = FakeBh::start("api-key-1", "s");
    let mut api = bh_api(&fake, "s");
    // The reference pages' create path; the fake serves only the guide's.
    api.paths.create = "/v2/webhook".into();
    let err = bh::Client::new(&api)
        .unwrap()
        .create("ORDER_WEBHOOK", "https://h.example/x")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Unexpected { http_status: 404, .. } | ApiError::Provider { http_status: 404, .. }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn keeta_callback_urls_are_signed_as_keeta_checks_them() {
    let fake = FakeKeeta::start(2_061_048_026, "app-secret");
    let cfg = KeetaApi {
        base_url: fake.base_url.clone(),
        events: vec![],
        timeout: Duration::from_secs(5),
    };
    let client = keeta::Client::new(&cfg, 2_061_048_026, Secret::new("app-secret")).unwrap();
    client
        .set_callback_url(1001, "https://h.example/hooks/t/keeta", false)
        .await
        .unwrap();
    client
        .set_callback_url(1002, "https://h.example/hooks/t/keeta", true)
        .await
        .unwrap();
    let set = fake.callbacks();
    assert_eq!(set.len(), 2);
    assert!(set.iter().any(|c| c.event_id == 1002 && c.is_test));
    assert!(fake.refused().is_empty());

    let wrong = keeta::Client::new(&cfg, 2_061_048_026, Secret::new("other")).unwrap();
    let err = wrong
        .set_callback_url(1003, "https://h.example/x", false)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ApiError::Provider { code, message, .. } if code == "401" && message == "sig invalid"),
        "{err:?}"
    );
    fake.fail_next(500, "system busy");
    let err = client
        .set_callback_url(1003, "https://h.example/x", false)
        .await
        .unwrap_err();
    assert_eq!(err.provider_code(), Some("500"));
    assert_eq!(fake.callbacks().len(), 2);
}
