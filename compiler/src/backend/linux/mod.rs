//! The Linux backend: bubblewrap plan and seccomp program (see the `compile --target linux` issue).

pub mod seccomp;
