//! What the host hands the init for the observer, in one inherited file (a memfd): the
//! observer's program and the rules the init decides paths with.
//!
//! `SRTO` `[u8 version = 1][u8 reads][u32 program length in bytes]` program, then the
//! [`FsRules`] as JSON.

use srt_compiler::fs_rules::FsRules;

const MAGIC: &[u8; 4] = b"SRTO";
const VERSION: u8 = 1;

pub struct ObserverConfig {
    /// `struct sock_filter` instructions.
    pub program: Vec<libc::sock_filter>,
    /// Every open is observed (the policy hides paths), not only those that can write.
    pub reads: bool,
    pub rules: FsRules,
}

/// The file's bytes for an observer program (`ObserverProgram::to_bytes`) and rules.
pub fn encode(program: &[u8], reads: bool, rules: &FsRules) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + program.len());
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.push(u8::from(reads));
    out.extend_from_slice(&(program.len() as u32).to_le_bytes());
    out.extend_from_slice(program);
    out.extend(rules.to_json());
    out
}

impl ObserverConfig {
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let rest = bytes.strip_prefix(MAGIC)?;
        let (&[version, reads], rest) = rest.split_first_chunk::<2>()?;
        if version != VERSION {
            return None;
        }
        let (len, rest) = rest.split_first_chunk::<4>()?;
        let len = u32::from_le_bytes(*len) as usize;
        if len > rest.len() {
            return None;
        }
        let (program, rules) = rest.split_at(len);
        Some(ObserverConfig {
            program: crate::init::filter_from_bytes(program)?.0,
            reads: reads != 0,
            rules: FsRules::from_json(rules)?,
        })
    }
}
