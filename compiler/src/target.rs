//! The target OS: which backend a policy is compiled for, and which OS a lint checks.

/// The OS a policy is compiled, linted or explained for. Some keys do something on one OS
/// only; each backend is one target's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    Macos,
    Linux,
}

impl Target {
    /// The OS srt runs on (Linux for anything that is not macOS).
    pub fn host() -> Self {
        if cfg!(target_os = "macos") {
            Target::Macos
        } else {
            Target::Linux
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Target::Macos => "macOS",
            Target::Linux => "Linux",
        }
    }
}
