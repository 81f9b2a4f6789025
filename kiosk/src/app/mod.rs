//! UI glue between the Slint app (`ui` crate) and the rest of the kiosk: Fluent translations,
//! the on-screen keyboard's pinyin engine and controller, the wipe of personal data, and the
//! synthetic sample data for `kiosk screenshot`. The session binding (`kiosk run`/`demo`)
//! builds on these; the adapters they fill are documented in docs/ui-adapters.md.

pub mod i18n;
pub mod ime;
pub mod keyboard;
pub mod qr;
pub mod render;
pub mod sample;
pub mod wipe;

pub use ui::AppWindow;
