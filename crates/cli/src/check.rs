//! `hookgate config check`: validates the configuration and prints the
//! routing plan, touching nothing.

use hookgate_config::{Settings, SourceAuth};
use std::fmt::Write;

/// The plan as text.
pub fn plan(settings: &Settings) -> String {
    let svc = &settings.service;
    let mut out = String::new();
    let _ = writeln!(out, "configuration OK: {} tenant(s)", settings.tenants.len());
    let _ = writeln!(out, "listen {}  public {}", svc.http.listen, svc.http.public_base_url);
    let _ = writeln!(
        out,
        "unroutable events → exchange {} (fanout) → queue {}",
        svc.rabbitmq.unrouted_exchange, svc.rabbitmq.unrouted_queue
    );
    for tenant in settings.tenants.iter() {
        let demo = if tenant.demo {
            " (demo: literal secrets allowed)"
        } else {
            ""
        };
        let _ = writeln!(out, "\ntenant {}{}  [{}]", tenant.id, demo, tenant.file.display());
        let _ = writeln!(
            out,
            "  exchange {} (topic, durable, alternate-exchange {})",
            tenant.exchange, svc.rabbitmq.unrouted_exchange
        );
        for source in tenant.sources.values() {
            let _ = writeln!(
                out,
                "  source {} kind={} POST {}/hooks/{}/{}  body≤{}B",
                source.id, source.kind, svc.http.public_base_url, tenant.id, source.id, source.body_limit_bytes
            );
            match &source.auth {
                SourceAuth::Keeta(k) => {
                    let recipes: Vec<_> = k.recipes.iter().map(|r| r.name()).collect();
                    let _ = writeln!(
                        out,
                        "    verification={:?} secrets={} app_id={} callback_url={}\n    recipes: {}",
                        k.verification,
                        k.app_secrets.len(),
                        k.app_id.map_or("any".to_owned(), |a| a.to_string()),
                        k.callback_url,
                        recipes.join(", ")
                    );
                }
            }
            let _ = writeln!(
                out,
                "    events → routing keys {}.<type> (e.g. {}.order.accepted)",
                source.kind.provider(),
                source.kind.provider()
            );
        }
    }
    out
}
