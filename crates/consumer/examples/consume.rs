//! Prints every event of a tenant's exchange, verified and deduplicated.
//!
//! ```text
//! AMQP_URL=amqp://guest:guest@127.0.0.1:5672/%2f EXCHANGE=hookgate.demo BINDINGS='#' \
//! SIGNING_SECRET=whsec_... DATABASE_URL=postgres://postgres@127.0.0.1/orders \
//!   cargo run -p hookgate-consumer --example consume
//! ```
//!
//! `SIGNING_SECRET` (a `whsec_`) and/or `SIGNING_PUBLIC_KEY` (a `whpk_`, from
//! `GET /v1/signing-keys`) turn verification on; `DATABASE_URL` turns the
//! PostgreSQL inbox on (else every delivery is handled). Ctrl-C stops it
//! after the message in hand.

use hookgate_consumer::{Config, Consumer, Handler, HandlerError, Inbox, Keys, Message, NoInbox, PgInbox};
use std::env::var;
use tokio_util::sync::CancellationToken;

/// Prints one line per event.
struct Print;

impl<Tx: Send> Handler<Tx> for Print {
    async fn handle(&self, m: &Message, _tx: &mut Tx) -> Result<(), HandlerError> {
        let e = &m.event;
        let replay = m.replay_job().map(|j| format!(" replay={j}")).unwrap_or_default();
        let stale = if m.is_stale() { " stale" } else { "" };
        println!(
            "{} {} {} key={}{replay}{stale}",
            m.routing_key, e.subject, e.id, e.idempotency_key
        );
        Ok(())
    }
}

async fn run<I: Inbox>(consumer: Consumer, inbox: I) -> Result<(), Box<dyn std::error::Error>> {
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        stop.cancel();
    });
    consumer.run(&inbox, &Print, shutdown).await?;
    println!("{:?}", consumer.stats().snapshot());
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let url = var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let exchange = var("EXCHANGE").unwrap_or_else(|_| "hookgate.demo".into());
    let queue = var("QUEUE").unwrap_or_else(|_| format!("{exchange}.example"));
    let bindings = var("BINDINGS").unwrap_or_else(|_| "#".into());
    let bindings: Vec<&str> = bindings.split(',').collect();
    let mut keys = Keys::none();
    if let Ok(secret) = var("SIGNING_SECRET") {
        keys = keys.hmac_secret(&secret)?;
    }
    if let Ok(public) = var("SIGNING_PUBLIC_KEY") {
        keys = keys.public_key(&public)?;
    }
    let consumer = Consumer::new(Config::new(url, queue, exchange, &bindings).verify_with(keys));
    match var("DATABASE_URL") {
        Ok(db) => {
            let inbox = PgInbox::new(sqlx::PgPool::connect(&db).await?);
            inbox.migrate().await?;
            run(consumer, inbox).await
        }
        Err(_) => run(consumer, NoInbox).await,
    }
}
