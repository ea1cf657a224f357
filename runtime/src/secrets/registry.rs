//! The run's sentinel → secret map, and the substitution the proxy applies on egress.
//!
//! Real values live only here, in memory that is zeroed when the registry is dropped; nothing
//! formats them (`Debug` prints names and lengths). Each secret carries its own inject hosts:
//! a sentinel is replaced only on a request to one of them, so one credential's sentinel
//! cannot be laundered through another credential's host.

use std::fmt;

use srt_schema::domain::{DomainPattern, Host};
use zeroize::Zeroizing;

/// One masked value.
pub struct Secret {
    /// `$NAME`, `$NAME#0` (an extract capture), `/path`, `/path#1`, …: for messages only.
    pub name: String,
    pub sentinel: Vec<u8>,
    real: Zeroizing<Vec<u8>>,
    inject: Vec<DomainPattern>,
}

impl Secret {
    pub fn injects_at(&self, host: &Host) -> bool {
        self.inject.iter().any(|p| p.matches(host, 0))
    }
}

/// Every masked value of the run.
#[derive(Default)]
pub struct Registry {
    secrets: Vec<Secret>,
    /// Masked AWS credentials the proxy re-signs SigV4 requests for.
    aws: Vec<super::aws::AwsPair>,
    /// Bytes of request bodies buffered for re-signing right now, all tunnels together.
    pub(crate) resign_buffered: std::sync::atomic::AtomicUsize,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.secrets
                    .iter()
                    .map(|s| format!("{} ({} bytes)", s.name, s.real.len()))
                    .chain(self.aws.iter().map(|p| format!("{p:?}"))),
            )
            .finish()
    }
}

/// The sentinel → real pairs that apply to one destination.
#[derive(Clone, Copy)]
pub struct Substitutions<'a> {
    pairs: &'a [Secret],
    host_mask: u64,
    /// Bytes of the longest sentinel, less one: what a stream must hold back across reads.
    pub hold_back: usize,
    /// Whether every pair keeps the length (a body's `Content-Length` then stays right).
    pub same_length: bool,
}

impl Registry {
    /// Registers `real` under `sentinel`. A sentinel that contains or is contained in another
    /// one would make replacement depend on order; callers mint fresh ones (≥ 64 random bits),
    /// so that is checked, not worked around.
    pub fn add(
        &mut self,
        name: String,
        sentinel: Vec<u8>,
        real: Zeroizing<Vec<u8>>,
        inject: Vec<DomainPattern>,
    ) -> Result<(), String> {
        let overlaps = self.secrets.iter().any(|s| {
            memchr::memmem::find(&s.sentinel, &sentinel).is_some()
                || memchr::memmem::find(&sentinel, &s.sentinel).is_some()
        });
        if overlaps || sentinel.is_empty() {
            return Err(format!("{name}: sentinel overlaps another one"));
        }
        self.secrets.push(Secret {
            name,
            sentinel,
            real,
            inject,
        });
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty() && self.aws.is_empty()
    }

    pub(crate) fn add_aws_pair(&mut self, pair: super::aws::AwsPair) {
        self.aws.push(pair);
    }

    /// The pair whose masked access key id is `access_key_id` (exactly), if any.
    pub fn aws_pair(&self, access_key_id: &str) -> Option<&super::aws::AwsPair> {
        self.aws
            .iter()
            .find(|p| p.access_key_id_sentinel == access_key_id)
    }

    /// Whether any AWS pair is registered.
    pub fn has_aws_pairs(&self) -> bool {
        !self.aws.is_empty()
    }

    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// The secrets whose inject hosts include `host` (at most 64 are tracked per registry;
    /// more are refused when masking).
    pub fn for_host(&self, host: &Host) -> Option<Substitutions<'_>> {
        let mut mask = 0u64;
        let mut hold_back = 0;
        let mut same_length = true;
        for (i, s) in self.secrets.iter().enumerate().take(64) {
            if s.injects_at(host) {
                mask |= 1 << i;
                hold_back = hold_back.max(s.sentinel.len() - 1);
                same_length &= s.sentinel.len() == s.real.len();
            }
        }
        (mask != 0).then_some(Substitutions {
            pairs: &self.secrets,
            host_mask: mask,
            hold_back,
            same_length,
        })
    }

    /// Every sentinel (to find ones sent where they are not injected, e.g. for lints and tests).
    pub fn sentinels(&self) -> impl Iterator<Item = &[u8]> {
        self.secrets.iter().map(|s| s.sentinel.as_slice())
    }

    /// Whether any registered real value occurs in `text` (tests and audits of srt's own
    /// output; never for traffic).
    pub fn leaks_into(&self, text: &[u8]) -> bool {
        self.secrets
            .iter()
            .any(|s| !s.real.is_empty() && memchr::memmem::find(text, &s.real).is_some())
    }
}

impl Substitutions<'_> {
    fn active(&self) -> impl Iterator<Item = &Secret> {
        self.pairs
            .iter()
            .enumerate()
            .filter(|(i, _)| *i < 64 && self.host_mask & (1 << i) != 0)
            .map(|(_, s)| s)
    }

    /// The earliest sentinel in `data` at or after `from`: (position, secret).
    fn next_match(&self, data: &[u8], from: usize) -> Option<(usize, &Secret)> {
        self.active()
            .filter_map(|s| memchr::memmem::find(&data[from..], &s.sentinel).map(|p| (from + p, s)))
            .min_by_key(|(p, _)| *p)
    }

    /// `data` with every sentinel replaced, or `None` when it holds none. The result holds
    /// real values: callers hand it on and drop it, never log it.
    pub fn apply(&self, data: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let (out, _) = self.apply_partial(data, true)?;
        Some(out)
    }

    /// Replaces sentinels in `data`; unless `last`, the final `hold_back` bytes (which may
    /// begin a sentinel) are left over. Returns the output and how many input bytes it covers,
    /// or `None` when nothing was replaced (then all but the hold-back may pass as they are).
    pub fn apply_partial(&self, data: &[u8], last: bool) -> Option<(Zeroizing<Vec<u8>>, usize)> {
        let mut out = Zeroizing::new(Vec::with_capacity(data.len()));
        let mut pos = 0;
        let mut replaced = false;
        while let Some((at, s)) = self.next_match(data, pos) {
            out.extend_from_slice(&data[pos..at]);
            out.extend_from_slice(&s.real);
            pos = at + s.sentinel.len();
            replaced = true;
        }
        let end = if last {
            data.len()
        } else {
            pos.max(data.len().saturating_sub(self.hold_back))
        };
        if !replaced {
            return None;
        }
        out.extend_from_slice(&data[pos..end]);
        Some((out, end))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use srt_schema::domain::{canonical_host, parse_pattern, DomainList};

    fn pat(s: &str) -> DomainPattern {
        parse_pattern(s, DomainList::Allow).unwrap()
    }

    fn registry() -> Registry {
        let mut r = Registry::default();
        r.add(
            "$A".into(),
            b"SENTINEL_A_0123".to_vec(),
            Zeroizing::new(b"real-a".to_vec()),
            vec![pat("a.example")],
        )
        .unwrap();
        r.add(
            "$B".into(),
            b"SENTINEL_B_4567".to_vec(),
            Zeroizing::new(b"real-b".to_vec()),
            vec![pat("*.b.example")],
        )
        .unwrap();
        r
    }

    #[test]
    fn only_the_hosts_own_secrets_are_replaced() {
        let r = registry();
        let a = r.for_host(&canonical_host("a.example").unwrap()).unwrap();
        let out = a.apply(b"x SENTINEL_A_0123 y SENTINEL_B_4567").unwrap();
        assert_eq!(&out[..], b"x real-a y SENTINEL_B_4567");
        assert!(r.for_host(&canonical_host("b.example").unwrap()).is_none());
        let b = r
            .for_host(&canonical_host("api.b.example").unwrap())
            .unwrap();
        assert!(b.apply(b"nothing here").is_none());
    }

    #[test]
    fn partial_holds_back_a_split_sentinel() {
        let r = registry();
        let a = r.for_host(&canonical_host("a.example").unwrap()).unwrap();
        assert!(a.apply_partial(b"abc SENTINEL_A_", false).is_none());
        // What follows the last replacement is held back while it may begin a sentinel.
        let (out, used) = a
            .apply_partial(b"SENTINEL_A_0123 and SENTIN", false)
            .unwrap();
        assert_eq!(&out[..], b"real-a");
        assert_eq!(used, 15);
        let (out, used) = a
            .apply_partial(b"SENTINEL_A_0123 and then a long tail", false)
            .unwrap();
        assert_eq!(&out[..], b"real-a and th");
        assert_eq!(used, 36 - 14);
    }

    #[test]
    fn overlapping_sentinels_are_refused() {
        let mut r = registry();
        let e = r.add(
            "$C".into(),
            b"SENTINEL_A_0123X".to_vec(),
            Zeroizing::new(b"c".to_vec()),
            vec![],
        );
        assert!(e.is_err());
        assert!(!format!("{r:?}").contains("real-a"));
    }
}
