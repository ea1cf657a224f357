//! Credentials the sandbox can use but never read: sentinels in place of secrets inside the
//! sandbox, and the map the proxy uses to put the real values back on egress, only toward each
//! credential's inject hosts.

pub mod aws;
pub mod jwt;
pub mod mask;
pub mod registry;
pub mod sentinel;

pub use mask::{mask_all, MaskError, Masked};
pub use registry::{Registry, Substitutions};
pub mod run;
