//! The kiosk runtime: matter catalog, SQLite store, session flow, outbox and sync, and the
//! command line. See ARCHITECTURE.md for the map and the invariants.

pub mod app;
pub mod bench;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod logging;
pub mod maintenance;
pub mod outbox;
pub mod session;
pub mod store;
pub mod sync;
