//! The kiosk's screens, compiled from the `.slint` files beside this crate.
//! This crate is Slint only: no SQLite, no devices, no tokio (see ARCHITECTURE.md).
slint::include_modules!();
