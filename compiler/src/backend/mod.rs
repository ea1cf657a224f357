//! Backends: pure functions from the [`crate::Ir`] to what an OS enforces.

pub mod linux;
pub mod macos;
