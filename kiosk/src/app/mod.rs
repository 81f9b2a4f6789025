//! UI glue between the Slint app (`ui` crate) and the rest of the kiosk: the session binding
//! ([`flow`]) and its off-UI-thread workers ([`workers`]), Fluent translations, the on-screen
//! keyboard's pinyin engine and controller, the wipe of personal data, and the synthetic
//! sample data for `kiosk screenshot`. `kiosk run`/`kiosk demo` assemble them ([`runner`]);
//! the adapters they fill are documented in docs/ui-adapters.md.

pub mod demo;
pub mod flow;
pub mod i18n;
pub mod ime;
pub mod keyboard;
pub mod qr;
pub mod render;
pub mod runner;
pub mod sample;
pub mod wipe;
pub mod workers;

pub use ui::AppWindow;
