//! Logging through `tracing`. Personal data never goes into a log line: log ids, codes and
//! counts, never names, ID numbers, addresses, form values or face data.

/// Logs to stderr (journald picks stderr up under systemd), filtered by `RUST_LOG`
/// (default `warn` for commands, so their stdout stays clean for JSON).
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
