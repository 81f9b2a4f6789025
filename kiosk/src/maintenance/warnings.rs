//! What staff should look at, in words, most urgent first: the top of the diagnostics
//! screen and the `warnings` of `kiosk status`. Codes and counts only, never personal data.

use drivers::device::DeviceState;

use super::collect::{BACKLOG_WARN_S, DISK_LOW_BYTES};
use super::report::{AppRun, StatusReport};

pub fn of(r: &StatusReport) -> Vec<String> {
    let mut out = Vec::new();
    match r.app.state {
        AppRun::NotRunning => out.push("the kiosk app is not running".to_string()),
        AppRun::Unresponsive => out.push(format!(
            "the kiosk app (pid {}) has not reported for {} s: it may be hung",
            r.app.pid.unwrap_or(0),
            r.app.facts_age_s.unwrap_or(0)
        )),
        AppRun::Running => {}
    }
    if r.maintenance_mode {
        out.push("maintenance mode is on: citizens see \"under maintenance\"".into());
    }
    if let Some(free) = r.disk.free_bytes {
        if free < DISK_LOW_BYTES {
            out.push(format!(
                "disk almost full: {} MiB free under {}",
                free / (1024 * 1024),
                r.disk.path
            ));
        }
    }
    for (name, d) in &r.devices {
        if d.state == DeviceState::Error {
            out.push(format!(
                "{name}: {}",
                d.last_error.as_deref().unwrap_or("in error")
            ));
        }
    }
    if let Some(p) = &r.printer {
        if p.paper == "out" {
            out.push("printer: paper out, load a new roll".into());
        } else if p.paper == "near_end" {
            out.push("printer: paper near end".into());
        }
        if p.cover_open {
            out.push("printer: cover open".into());
        }
    }
    let o = &r.outbox.counts;
    if o.quarantined > 0 {
        out.push(format!(
            "{} submission(s) quarantined by the platform: read the reasons, then retry or export",
            o.quarantined
        ));
    }
    if let Some(age) = o.oldest_pending_s.filter(|a| *a > BACKLOG_WARN_S) {
        out.push(format!(
            "{} submission(s) waiting; the oldest for {} h {} min",
            o.pending + o.in_flight,
            age / 3600,
            age % 3600 / 60
        ));
    }
    if !r.sync.configured {
        out.push(
            "no central platform configured (central.url): submissions stay on this kiosk".into(),
        );
    } else if r.network.central_reachable == Some(false) {
        out.push(format!(
            "central platform unreachable: {}",
            r.sync.last_error.as_deref().unwrap_or("no answer")
        ));
    }
    if !r.network.interfaces.is_empty() && !r.network.interfaces.iter().any(|i| i.up) {
        out.push("no network interface is up".into());
    }
    out.extend(r.catalog.warnings.iter().cloned());
    out
}
