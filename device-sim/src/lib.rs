//! Simulators that speak the real protocols, written from `../shared/specs/` without
//! importing the drivers they imitate (see ARCHITECTURE.md).

pub mod central;
pub mod idcard;
pub mod printer;
