//! Test-only crate: golden tests under `tests/`, and the test support they share with the other
//! crates' tests: an SBPL reader and evaluator ([`sbpl`]) and the table of path decisions that
//! compares srt's macOS profiles with the npm srt's ([`peer_table`]).

#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test support may panic

pub mod peer_table;
pub mod sbpl;
