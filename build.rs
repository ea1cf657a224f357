//! Link flags for the `srt` binary.
//!
//! `-z pack-relative-relocs` stores the binary's ~34,000 relative relocations as a DT_RELR
//! bitmap (a few KiB) instead of 24-byte RELA entries (800 KiB): both the host srt and the
//! in-sandbox init are started on every run, and the dynamic loader then reads and applies
//! less. The binary stays position-independent (ASLR unchanged). GNU ld uses it from 2.38
//! when glibc (2.36+) defines GLIBC_ABI_DT_RELR; older linkers ignore it with a warning.

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.ends_with("-linux-gnu") {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
