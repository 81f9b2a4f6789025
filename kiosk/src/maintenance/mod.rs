//! Everything staff and remote eyes need that is not the diagnostics screen itself:
//!
//! - `pin`, `pin_config`, `lockout`, `gate`: the staff PIN (Argon2id PHC string in the
//!   config) and the persisted lockout (5 wrong PINs lock for 15 minutes, across restarts).
//! - `audit`: the audit log of staff entries and actions (no personal data).
//! - `mode`: maintenance mode, persisted in the store.
//! - `actions`: retry and export of quarantined entries (into `maintenance.export_dir`), the
//!   test card read's verdict.
//! - `report`, `collect`, `warnings`, `app_state`, `host`: the [`StatusReport`] behind the
//!   diagnostics screen, `kiosk status --json` and the metrics; the running app's facts and
//!   the state file through which `kiosk status` sees them.
//! - `heartbeat`: the same report cut down for the platform (the sync engine's
//!   `HeartbeatFacts`: device states, last errors, health texts, warnings, free disk).
//! - `metrics`, `metrics_server`: the Prometheus text format and the loopback endpoint.
//! - `systemd`: `Type=notify` readiness, the watchdog and stopping.

pub mod actions;
pub mod app_state;
pub mod audit;
pub mod collect;
pub mod gate;
pub mod heartbeat;
pub mod host;
pub mod lockout;
pub mod metrics;
pub mod metrics_server;
pub mod mode;
pub mod pin;
pub mod pin_config;
pub mod report;
pub mod systemd;
mod warnings;

#[cfg(test)]
pub(crate) mod test_support;

pub use actions::{
    export_dir, export_quarantined, export_quarantined_to_config, retry_quarantined, CardCheck,
    Exported,
};
pub use app_state::{AppFacts, SharedFacts};
pub use audit::{AuditLog, AuditRecord, Outcome, StaffAction};
pub use collect::{counter_file, StatusCollector};
pub use gate::{PinCheck, StaffGate};
pub use lockout::{LockoutPolicy, LockoutState};
pub use metrics_server::{MetricsServer, StatusSource};
pub use mode::MaintenanceMode;
pub use pin::{hash_pin, PinError, PinHash};
pub use report::{DeviceReport, PrinterReport, StatusReport, SyncReport};
pub use systemd::Notifier;
