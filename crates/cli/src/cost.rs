//! Where a benchmark's CPU went: the CPU time of the gateway, PostgreSQL,
//! RabbitMQ and Redis processes on this host over the run (user + system,
//! from `/proc/<pid>/stat`), per acknowledged webhook, and the machine's idle
//! share (`/proc/stat`). Linux only; elsewhere the report says `null`.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// `/proc` counts CPU time in USER_HZ ticks, 100 per second on Linux.
const TICKS_PER_SECOND: f64 = 100.0;

/// Process groups by the command names (`/proc/<pid>/comm`) of their processes.
const GROUPS: &[(&str, &[&str])] = &[
    ("hookgate", &["hookgate"]),
    ("postgresql", &["postgres"]),
    ("rabbitmq", &["beam.smp", "erl_child_setup", "inet_gethost", "epmd"]),
    ("redis", &["redis-server"]),
];

/// CPU counters at one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Ticks per group (processes alive at the moment).
    groups: BTreeMap<&'static str, u64>,
    /// Every CPU's ticks, and the idle (+ iowait) ones.
    machine: (u64, u64),
}

/// The counters now; `None` without `/proc`.
pub fn snapshot() -> Option<Snapshot> {
    let machine = machine_ticks()?;
    let own = std::process::id().to_string();
    let mut groups: BTreeMap<&'static str, u64> = GROUPS.iter().map(|(g, _)| (*g, 0)).collect();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().filter(|p| p.bytes().all(|b| b.is_ascii_digit())) else {
            continue;
        };
        if pid == own {
            continue; // the load generator is not the gateway
        }
        let Ok(comm) = std::fs::read_to_string(entry.path().join("comm")) else {
            continue;
        };
        let Some((group, _)) = GROUPS.iter().find(|(_, names)| names.contains(&comm.trim())) else {
            continue;
        };
        if let Some(ticks) = process_ticks(&entry.path().join("stat")) {
            *groups.entry(group).or_default() += ticks;
        }
    }
    Some(Snapshot { groups, machine })
}

/// CPU ticks of one process and of its children already reaped (fields 14
/// to 17 of its stat line: utime, stime, cutime, cstime). The children's
/// share keeps a PostgreSQL backend that exits during the run counted,
/// through the postmaster; without it, its CPU would vanish from the sum.
fn process_ticks(path: &std::path::Path) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The command may hold spaces and parentheses: fields follow the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let mut ticks = 0u64;
    for i in 11..=14 {
        ticks += fields.get(i)?.parse::<u64>().ok()?;
    }
    Some(ticks)
}

/// (all ticks, idle + iowait ticks) of the `cpu` line of `/proc/stat`.
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let values: Vec<u64> = line.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let total: u64 = values.iter().take(8).sum();
    let idle = values.get(3).copied().unwrap_or(0) + values.get(4).copied().unwrap_or(0);
    Some((total, idle))
}

/// The cost of a run between two snapshots, per acknowledged webhook.
pub fn report(before: Option<&Snapshot>, after: Option<&Snapshot>, webhooks: usize) -> Value {
    let (Some(before), Some(after)) = (before, after) else {
        return Value::Null;
    };
    let mut seconds = Map::new();
    let mut per_webhook = Map::new();
    for (group, ticks) in &after.groups {
        let spent = ticks.saturating_sub(before.groups.get(group).copied().unwrap_or(0));
        let secs = spent as f64 / TICKS_PER_SECOND;
        seconds.insert((*group).to_owned(), json!((secs * 100.0).round() / 100.0));
        let us = if webhooks == 0 {
            0.0
        } else {
            secs * 1e6 / webhooks as f64
        };
        per_webhook.insert((*group).to_owned(), json!(us.round()));
    }
    let total = after.machine.0.saturating_sub(before.machine.0);
    let idle = after.machine.1.saturating_sub(before.machine.1);
    let idle_share = if total == 0 { 0.0 } else { idle as f64 / total as f64 };
    json!({
        "cpu_seconds": seconds,
        "cpu_us_per_webhook": per_webhook,
        "machine_idle_share": (idle_share * 1000.0).round() / 1000.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_of_a_child_that_exited_is_still_counted() {
        let me = std::path::Path::new("/proc/self/stat");
        let before = process_ticks(me).unwrap();
        // A child that spins for about half a second, then exits (reaped).
        let status = std::process::Command::new("sh")
            .args([
                "-c",
                "end=$(( $(date +%s%N) + 500000000 )); while [ $(date +%s%N) -lt $end ]; do :; done",
            ])
            .status()
            .unwrap();
        assert!(status.success());
        let after = process_ticks(me).unwrap();
        assert!(after - before >= 20, "{} ticks counted for the child", after - before);
    }

    #[test]
    fn this_process_is_read_and_a_report_divides_by_webhooks() {
        assert!(process_ticks(std::path::Path::new("/proc/self/stat")).is_some());
        let before = Snapshot {
            groups: BTreeMap::from([("hookgate", 100), ("postgresql", 50)]),
            machine: (1_000, 600),
        };
        let after = Snapshot {
            groups: BTreeMap::from([("hookgate", 150), ("postgresql", 70)]),
            machine: (2_000, 1_100),
        };
        let r = report(Some(&before), Some(&after), 1_000);
        assert_eq!(r["cpu_seconds"]["hookgate"], 0.5);
        assert_eq!(r["cpu_us_per_webhook"]["hookgate"], 500.0);
        assert_eq!(r["cpu_us_per_webhook"]["postgresql"], 200.0);
        assert_eq!(r["machine_idle_share"], 0.5);
        assert!(report(None, Some(&after), 1).is_null());
    }
}
