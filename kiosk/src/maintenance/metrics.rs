//! The status report in the Prometheus text exposition format (version 0.0.4): the numbers
//! of `kiosk status --json` under conventional names (`hall_kiosk_` prefix, `_total` for
//! counters, `_seconds` and `_bytes` units, Unix times as `_timestamp_seconds`), each family
//! with its HELP and TYPE lines. Text only; no personal data can reach it (the report has
//! none).

use std::fmt::Write as _;

use drivers::device::DeviceState;

use super::report::{AppRun, StatusReport};

/// The `Content-Type` of the exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Vec<(&'static str, String)>;

/// Families in the order they are written.
struct Exposition {
    out: String,
}

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str, samples: Vec<(Labels, f64)>) {
        if samples.is_empty() {
            return;
        }
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            self.out.push_str(name);
            if !labels.is_empty() {
                self.out.push('{');
                for (i, (k, v)) in labels.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    let _ = write!(self.out, "{k}=\"{}\"", escape(v));
                }
                self.out.push('}');
            }
            let _ = writeln!(self.out, " {value}");
        }
    }

    fn gauge(&mut self, name: &str, help: &str, value: Option<f64>) {
        self.family(
            name,
            "gauge",
            help,
            value.map(|v| (vec![], v)).into_iter().collect(),
        );
    }

    fn counter(&mut self, name: &str, help: &str, value: Option<u64>) {
        self.family(
            name,
            "counter",
            help,
            value.map(|v| (vec![], v as f64)).into_iter().collect(),
        );
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// Renders the report.
pub fn render(r: &StatusReport) -> String {
    let mut e = Exposition { out: String::new() };
    e.family(
        "hall_kiosk_info",
        "gauge",
        "Identity and version of this kiosk (always 1).",
        vec![(
            vec![
                ("kiosk_id", r.kiosk_id.clone()),
                ("version", r.app_version.clone()),
            ],
            1.0,
        )],
    );
    e.gauge(
        "hall_kiosk_app_running",
        "1 while the kiosk app runs and reports; 0 when stopped or hung.",
        Some(flag(r.app.state == AppRun::Running)),
    );
    e.gauge(
        "hall_kiosk_uptime_seconds",
        "Seconds since the kiosk app started.",
        r.uptime_s.map(|s| s as f64),
    );
    e.gauge(
        "hall_kiosk_maintenance_mode",
        "1 while staff have the kiosk in maintenance mode.",
        Some(flag(r.maintenance_mode)),
    );
    e.gauge(
        "hall_kiosk_warnings",
        "Warnings staff should look at.",
        Some(r.warnings.len() as f64),
    );

    let o = &r.outbox.counts;
    for (name, help, v) in [
        (
            "hall_kiosk_outbox_pending",
            "Submissions waiting to be sent.",
            o.pending,
        ),
        (
            "hall_kiosk_outbox_in_flight",
            "Submissions sent and not answered yet.",
            o.in_flight,
        ),
        (
            "hall_kiosk_outbox_acked",
            "Acknowledged submissions still kept (receipt and hash).",
            o.acked,
        ),
        (
            "hall_kiosk_outbox_quarantined",
            "Submissions the platform rejected, kept for staff.",
            o.quarantined,
        ),
    ] {
        e.gauge(name, help, Some(v as f64));
    }
    e.gauge(
        "hall_kiosk_outbox_oldest_pending_seconds",
        "Age of the oldest submission not yet acknowledged.",
        o.oldest_pending_s.map(|s| s as f64),
    );
    e.counter(
        "hall_kiosk_submissions_queued_total",
        "Submissions ever queued on this kiosk (the highest seq).",
        Some(o.last_seq),
    );

    let s = &r.sync;
    e.gauge(
        "hall_kiosk_sync_last_success_timestamp_seconds",
        "Unix time of the last batch the platform acknowledged.",
        s.last_success_ms.map(secs),
    );
    e.gauge(
        "hall_kiosk_sync_last_error_timestamp_seconds",
        "Unix time of the last failed contact with the platform.",
        s.last_error_ms.map(secs),
    );
    e.gauge(
        "hall_kiosk_sync_next_attempt_timestamp_seconds",
        "Unix time the head of the outbox is tried next.",
        s.next_attempt_ms.map(secs),
    );
    e.gauge(
        "hall_kiosk_sync_consecutive_failures",
        "Failed sync attempts in a row.",
        s.consecutive_failures.map(f64::from),
    );
    if let Some(c) = &s.counters {
        for (name, help, v) in [
            (
                "hall_kiosk_sync_batches_ok_total",
                "Batches the platform answered with 200.",
                c.batches_ok,
            ),
            (
                "hall_kiosk_sync_batches_failed_total",
                "Batches that failed (no answer, 4xx, 5xx).",
                c.batches_failed,
            ),
            (
                "hall_kiosk_sync_accepted_total",
                "Submissions the platform accepted.",
                c.accepted,
            ),
            (
                "hall_kiosk_sync_duplicates_total",
                "Submissions the platform already had.",
                c.duplicates,
            ),
            (
                "hall_kiosk_sync_rejected_total",
                "Submissions the platform rejected.",
                c.rejected,
            ),
            (
                "hall_kiosk_sync_retried_total",
                "Submissions put back for another attempt.",
                c.retried,
            ),
            (
                "hall_kiosk_sync_heartbeats_ok_total",
                "Heartbeats the platform answered.",
                c.heartbeats_ok,
            ),
            (
                "hall_kiosk_sync_heartbeats_failed_total",
                "Heartbeats that failed.",
                c.heartbeats_failed,
            ),
            (
                "hall_kiosk_sync_sent_bytes_total",
                "Request bytes sent to the platform.",
                c.bytes_sent,
            ),
        ] {
            e.counter(name, help, Some(v));
        }
    }
    e.gauge(
        "hall_kiosk_central_reachable",
        "1 if the last contact with the platform worked, 0 if it failed.",
        r.network.central_reachable.map(flag),
    );

    e.gauge(
        "hall_kiosk_catalog_version",
        "Active matter catalog version.",
        r.catalog_version.map(|v| v as f64),
    );
    e.gauge(
        "hall_kiosk_catalog_stale",
        "1 when the catalog is past its expiry plus grace.",
        Some(flag(r.catalog.stale)),
    );

    let mut states = Vec::new();
    let mut counters = Vec::new();
    for (name, d) in &r.devices {
        for st in [
            DeviceState::Closed,
            DeviceState::Idle,
            DeviceState::Busy,
            DeviceState::Error,
        ] {
            states.push((
                vec![("device", name.clone()), ("state", st.to_string())],
                flag(d.state == st),
            ));
        }
        for (k, v) in &d.counters {
            counters.push((
                vec![("device", name.clone()), ("counter", k.clone())],
                *v as f64,
            ));
        }
    }
    e.family(
        "hall_kiosk_device_state",
        "gauge",
        "1 for the state each device is in (closed, idle, busy, error).",
        states,
    );
    e.family(
        "hall_kiosk_device_counter_total",
        "counter",
        "Persistent device counters (reads_ok, prints_ok, fail_<cause>...).",
        counters,
    );
    if let Some(p) = &r.printer {
        e.family(
            "hall_kiosk_printer_paper",
            "gauge",
            "1 for the printer's paper level (ok, near_end, out).",
            ["ok", "near_end", "out"]
                .into_iter()
                .map(|l| (vec![("level", l.to_string())], flag(p.paper == l)))
                .collect(),
        );
        e.gauge(
            "hall_kiosk_printer_cover_open",
            "1 while the printer cover is open.",
            Some(flag(p.cover_open)),
        );
        e.gauge(
            "hall_kiosk_printer_online",
            "1 while the printer is online.",
            Some(flag(p.online)),
        );
    }

    e.gauge(
        "hall_kiosk_data_disk_avail_bytes",
        "Bytes free for the kiosk on the file system of its data folder.",
        r.disk.free_bytes.map(|b| b as f64),
    );
    e.gauge(
        "hall_kiosk_data_disk_size_bytes",
        "Size of the file system of the data folder.",
        r.disk.total_bytes.map(|b| b as f64),
    );
    e.family(
        "hall_kiosk_network_interface_up",
        "gauge",
        "1 for each network interface whose operstate is up.",
        r.network
            .interfaces
            .iter()
            .map(|i| (vec![("interface", i.name.clone())], flag(i.up)))
            .collect(),
    );
    e.out
}

/// Reads samples back (`name{labels}` -> value): for tests and scripts that compare the
/// endpoint with `kiosk status --json`. Comment lines are skipped; a malformed line is an
/// error naming it.
pub fn parse_samples(text: &str) -> Result<Vec<(String, f64)>, String> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .rsplit_once(' ')
            .ok_or_else(|| format!("no value on line {line:?}"))?;
        let v: f64 = value
            .parse()
            .map_err(|_| format!("bad value {value:?} on line {line:?}"))?;
        out.push((key.to_string(), v));
    }
    Ok(out)
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
