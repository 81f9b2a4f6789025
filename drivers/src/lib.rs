//! Device drivers. Each kind of device has one small trait; the kiosk holds trait objects so a
//! simulator, a vendor SDK or real hardware plug in without touching the flow.
pub mod camera;
pub mod device;
pub mod face;
pub mod idcard;
pub mod printer;
