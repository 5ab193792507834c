//! Reference for docs/benchmarks.md: how fast RabbitMQ on this machine takes
//! persistent 1 KiB messages into a durable quorum queue with publisher
//! confirms, awaiting each confirm (`in_flight` = 1) or keeping many in
//! flight. `cargo run --release -p hookgate-dispatcher --example confirm_publish -- 5000 1`
//! and `-- 100000 1000`. Uses a throwaway queue, deleted at the end.

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use std::collections::VecDeque;
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let in_flight: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000).max(1);
    let url = std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let conn = Connection::connect(&url, ConnectionProperties::default()).await?;
    let ch = conn.create_channel().await?;
    ch.confirm_select(ConfirmSelectOptions::default()).await?;
    let queue = format!("hookgate-bench.confirm.{}", std::process::id());
    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), AMQPValue::LongString(LongString::from("quorum")));
    ch.queue_declare(
        queue.as_str().into(),
        QueueDeclareOptions {
            durable: true,
            ..Default::default()
        },
        args,
    )
    .await?;
    let body = vec![b'x'; 1024];
    let started = Instant::now();
    let mut pending = VecDeque::with_capacity(in_flight);
    for _ in 0..count {
        if pending.len() >= in_flight {
            if let Some(c) = pending.pop_front() {
                let _: lapin::Confirmation = c.await?;
            }
        }
        let confirm = ch
            .basic_publish(
                "".into(),
                queue.as_str().into(),
                BasicPublishOptions::default(),
                &body,
                BasicProperties::default().with_delivery_mode(2),
            )
            .await?;
        pending.push_back(confirm);
    }
    while let Some(c) = pending.pop_front() {
        let _: lapin::Confirmation = c.await?;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{count} persistent messages, {in_flight} confirms in flight: {:.0} msg/s ({secs:.2} s)",
        count as f64 / secs
    );
    ch.queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await?;
    conn.close(200, "done".into()).await?;
    Ok(())
}
