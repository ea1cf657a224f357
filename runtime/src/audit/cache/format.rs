//! The index file: a header (magic, version, what it was made for, the root), the records in
//! depth-first order, and a checksum of everything before it. Little-endian throughout. A
//! file that does not decode exactly, to its last byte, is not used.

use std::path::Path;

use super::{Listing, Prior, Source, Stamp};
use crate::audit::fsio::Kind;

const MAGIC: &[u8; 8] = b"SRTAIDX\0";
/// Bumped whenever the walk's rules or this layout change: an older file is then ignored.
const VERSION: u32 = 1;

/// A fast 64-bit hash of bytes, eight at a time (not cryptographic: the file is in a directory
/// only this user and srt write; the checksum catches torn and foreign files).
pub(crate) struct Fnv(u64);

impl Fnv {
    pub fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn mix(&mut self, word: u64) {
        self.0 = (self.0 ^ word)
            .wrapping_mul(0x0000_0100_0000_01b3)
            .rotate_left(29)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    pub fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.mix(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 56));
        }
        self.mix(bytes.len() as u64);
    }

    pub fn finish(&self) -> u64 {
        self.0
    }
}

fn kind_code(kind: Option<Kind>) -> u8 {
    match kind {
        None => 0,
        Some(Kind::File) => 1,
        Some(Kind::Dir) => 2,
        Some(Kind::Symlink) => 3,
        Some(Kind::Other) => 4,
    }
}

fn kind_of(code: u8) -> Option<Option<Kind>> {
    Some(match code {
        0 => None,
        1 => Some(Kind::File),
        2 => Some(Kind::Dir),
        3 => Some(Kind::Symlink),
        4 => Some(Kind::Other),
        _ => return None,
    })
}

/// Encodes records (as [`super::ordered`] gives them) for `root`, made for `fingerprint`;
/// kept records are copied from `prior`'s file.
pub(crate) fn encode(
    root: &Path,
    fingerprint: u64,
    records: &[(u32, Vec<u8>, Source)],
    prior: &Prior,
) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    let mut out = Vec::with_capacity(64 + prior.raw.len() + records.len() * 16);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&fingerprint.to_le_bytes());
    put_bytes32(&mut out, root.as_os_str().as_bytes());
    out.extend_from_slice(&(records.len() as u32).to_le_bytes());
    for (parent, name, source) in records {
        out.extend_from_slice(&parent.to_le_bytes());
        put_bytes16(&mut out, name);
        match source {
            Source::Kept(rec) => {
                let bytes = prior
                    .recs
                    .get(*rec as usize)
                    .and_then(|r| prior.raw.get(r.at as usize..r.end as usize));
                out.extend_from_slice(bytes.unwrap_or_default());
            }
            Source::Fresh(l) => {
                out.extend_from_slice(&l.stamp.dev.to_le_bytes());
                out.extend_from_slice(&l.stamp.ino.to_le_bytes());
                out.extend_from_slice(&l.stamp.ctime_sec.to_le_bytes());
                out.extend_from_slice(&l.stamp.ctime_nsec.to_le_bytes());
                out.push(u8::from(l.settled));
                out.extend_from_slice(&l.count.to_le_bytes());
                out.extend_from_slice(&(l.entries.len() as u32).to_le_bytes());
                for (n, k) in &l.entries {
                    out.push(kind_code(*k));
                    put_bytes16(&mut out, n.to_bytes());
                }
            }
        }
    }
    let mut h = Fnv::new();
    h.write(&out);
    out.extend_from_slice(&h.finish().to_le_bytes());
    out
}

fn put_bytes16(out: &mut Vec<u8>, b: &[u8]) {
    // Names are at most NAME_MAX (255) bytes.
    let len = u16::try_from(b.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(b.get(..usize::from(len)).unwrap_or(b));
}

fn put_bytes32(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.buf.get(self.at..end)?;
        self.at = end;
        Some(s)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Some(a)
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.array()?))
    }
    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.array()?))
    }
}

/// The bytes of a record after its name: dev, ino, ctime (seconds, nanoseconds), settled, count.
const STAMP_LEN: usize = 8 + 8 + 8 + 4 + 1 + 8;

/// Decodes a file made by [`encode`] for `root` and `fingerprint`; `None` for anything else.
/// The bytes are kept in the result, for [`patch`].
pub(crate) fn decode(bytes: Vec<u8>, root: &Path, fingerprint: u64) -> Option<Prior> {
    use std::os::unix::ffi::OsStrExt;
    let body_len = bytes.len().checked_sub(8)?;
    let (body, sum) = bytes.split_at(body_len);
    let mut h = Fnv::new();
    h.write(body);
    if h.finish().to_le_bytes() != sum {
        return None;
    }
    let mut r = Reader { buf: body, at: 0 };
    if r.take(8)? != MAGIC || r.u32()? != VERSION || r.u64()? != fingerprint {
        return None;
    }
    let root_len = r.u32()? as usize;
    if r.take(root_len)? != root.as_os_str().as_bytes() {
        return None;
    }
    let n = r.u32()? as usize;
    // Each record takes more than STAMP_LEN bytes: a count beyond what the file holds is a lie.
    if n > body.len() / STAMP_LEN {
        return None;
    }
    let mut prior = Prior::default();
    prior.recs.reserve(n);
    for _ in 0..n {
        let parent = r.u32()?;
        let name_len = usize::from(r.u16()?);
        let name = r.take(name_len)?;
        let at = u32::try_from(r.at).ok()?;
        let stamp = Stamp {
            dev: r.u64()?,
            ino: r.u64()?,
            ctime_sec: r.i64()?,
            ctime_nsec: r.u32()?,
        };
        let settled = match r.u8()? {
            0 => false,
            1 => true,
            _ => return None,
        };
        let count = r.u64()?;
        prior.push_record(parent, name, at, stamp, settled, count)?;
        let n_ents = r.u32()? as usize;
        for _ in 0..n_ents {
            let kind = kind_of(r.u8()?)?;
            let len = usize::from(r.u16()?);
            let name = r.take(len)?;
            if name.is_empty() || name.contains(&0) {
                return None;
            }
            prior.push_entry(name, kind)?;
        }
        prior.recs.last_mut()?.end = u32::try_from(r.at).ok()?;
    }
    if r.at != body.len() {
        return None;
    }
    prior.finish()?;
    prior.raw = bytes;
    Some(prior)
}

/// The file `prior` was read from with the stamps, `settled` flags and counts of `changes`
/// (record, listing) written in; `None` when a listing's entries differ from its record's (the
/// shape of the tree changed: the file must be encoded again).
pub(crate) fn patch(prior: &Prior, changes: &[(u32, Listing)]) -> Option<Vec<u8>> {
    let mut out = prior.raw.clone();
    for (rec, l) in changes {
        let same = prior
            .entries(*rec)
            .eq(l.entries.iter().map(|(n, k)| (n.to_bytes(), *k)));
        if !same {
            return None;
        }
        let at = prior.recs.get(*rec as usize)?.at as usize;
        let slot = out.get_mut(at..at + STAMP_LEN)?;
        let mut w = Vec::with_capacity(STAMP_LEN);
        w.extend_from_slice(&l.stamp.dev.to_le_bytes());
        w.extend_from_slice(&l.stamp.ino.to_le_bytes());
        w.extend_from_slice(&l.stamp.ctime_sec.to_le_bytes());
        w.extend_from_slice(&l.stamp.ctime_nsec.to_le_bytes());
        w.push(u8::from(l.settled));
        w.extend_from_slice(&l.count.to_le_bytes());
        slot.copy_from_slice(&w);
    }
    let body_len = out.len().checked_sub(8)?;
    let mut h = Fnv::new();
    h.write(out.get(..body_len)?);
    out.truncate(body_len);
    out.extend_from_slice(&h.finish().to_le_bytes());
    Some(out)
}
