//! What srt's init sends the host about observed accesses, over an inherited pipe: one record
//! per `write(2)`, never more than `PIPE_BUF` bytes, so that a record is written whole or not
//! at all on the non-blocking pipe (a full pipe drops it, counted) and never interleaves.
//!
//! `[u16 length of the rest][u8 tag]` then, by tag:
//! - `1` an access: `[u8 access][u32 pid][u8 len][syscall][u8 len][comm][path bytes]`;
//! - `2` a notice for the user (the observer is not running, and why): UTF-8 text;
//! - `3` how many accesses were dropped since the last such record: `[u64]`.
//!
//! The host decodes defensively all the same: a malformed record ends the stream.

use std::io::Read;

/// `PIPE_BUF` on Linux: writes up to this size are atomic.
pub const MAX_RECORD: usize = 4096;

const TAG_ACCESS: u8 = 1;
const TAG_NOTICE: u8 = 2;
const TAG_DROPPED: u8 = 3;

/// Read or write, as the observer classified the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccessKind {
    Read,
    Write,
}

/// One access the init thinks the policy refused (the host decides again).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    pub access: AccessKind,
    /// The process, in the sandbox's PID namespace.
    pub pid: u32,
    pub syscall: String,
    /// The process's name (`/proc/PID/comm`), `?` when it was gone.
    pub comm: String,
    /// The absolute path, resolved in the sandbox's view (bytes as the kernel saw them).
    pub path: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    Access(Access),
    Notice(String),
    Dropped(u64),
}

fn short(bytes: &[u8], max: usize) -> &[u8] {
    &bytes[..bytes.len().min(max)]
}

/// The record's bytes, or `None` when it would not fit in [`MAX_RECORD`] (a path that long
/// is dropped and counted by the caller).
pub fn encode(r: &Record) -> Option<Vec<u8>> {
    let mut body = Vec::with_capacity(64);
    match r {
        Record::Access(a) => {
            body.push(TAG_ACCESS);
            body.push(match a.access {
                AccessKind::Read => 0,
                AccessKind::Write => 1,
            });
            body.extend_from_slice(&a.pid.to_le_bytes());
            for s in [a.syscall.as_bytes(), a.comm.as_bytes()] {
                let s = short(s, 64);
                body.push(s.len() as u8);
                body.extend_from_slice(s);
            }
            body.extend_from_slice(&a.path);
        }
        Record::Notice(text) => {
            body.push(TAG_NOTICE);
            body.extend_from_slice(short(text.as_bytes(), 1024));
        }
        Record::Dropped(n) => {
            body.push(TAG_DROPPED);
            body.extend_from_slice(&n.to_le_bytes());
        }
    }
    if body.len() + 2 > MAX_RECORD {
        return None;
    }
    let mut out = (body.len() as u16).to_le_bytes().to_vec();
    out.extend_from_slice(&body);
    Some(out)
}

fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if b.len() < n {
        return None;
    }
    let (head, rest) = b.split_at(n);
    *b = rest;
    Some(head)
}

fn decode_body(mut b: &[u8]) -> Option<Record> {
    let tag = *take(&mut b, 1)?.first()?;
    match tag {
        TAG_ACCESS => {
            let access = match take(&mut b, 1)?.first()? {
                0 => AccessKind::Read,
                _ => AccessKind::Write,
            };
            let pid = u32::from_le_bytes(take(&mut b, 4)?.try_into().ok()?);
            let mut text = || -> Option<String> {
                let n = usize::from(*take(&mut b, 1)?.first()?);
                Some(String::from_utf8_lossy(take(&mut b, n)?).into_owned())
            };
            let syscall = text()?;
            let comm = text()?;
            Some(Record::Access(Access {
                access,
                pid,
                syscall,
                comm,
                path: b.to_vec(),
            }))
        }
        TAG_NOTICE => Some(Record::Notice(String::from_utf8_lossy(b).into_owned())),
        TAG_DROPPED => Some(Record::Dropped(u64::from_le_bytes(
            take(&mut b, 8)?.try_into().ok()?,
        ))),
        _ => None,
    }
}

/// Reads records from `input` until it ends (or holds something malformed).
pub struct Decoder<R> {
    input: R,
    buf: Vec<u8>,
}

impl<R: Read> Decoder<R> {
    pub fn new(input: R) -> Self {
        Decoder {
            input,
            buf: vec![0; MAX_RECORD],
        }
    }

    /// The next record; `None` at the end of the stream.
    pub fn next_record(&mut self) -> Option<Record> {
        let mut len = [0u8; 2];
        self.input.read_exact(&mut len).ok()?;
        let len = usize::from(u16::from_le_bytes(len));
        if len == 0 || len > MAX_RECORD {
            return None;
        }
        self.input.read_exact(&mut self.buf[..len]).ok()?;
        decode_body(&self.buf[..len])
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn records_round_trip_and_oversized_ones_are_refused() {
        let records = [
            Record::Access(Access {
                access: AccessKind::Write,
                pid: 42,
                syscall: "openat".into(),
                comm: "sh".into(),
                path: b"/etc/\xffpasswd".to_vec(),
            }),
            Record::Notice("not installed".into()),
            Record::Dropped(7),
        ];
        let mut stream = Vec::new();
        for r in &records {
            stream.extend(encode(r).unwrap());
        }
        let mut d = Decoder::new(stream.as_slice());
        for r in &records {
            assert_eq!(d.next_record().as_ref(), Some(r));
        }
        assert_eq!(d.next_record(), None);
        let huge = Record::Access(Access {
            access: AccessKind::Read,
            pid: 1,
            syscall: "open".into(),
            comm: "x".repeat(500),
            path: vec![b'a'; MAX_RECORD],
        });
        assert_eq!(encode(&huge), None);
    }

    #[test]
    fn garbage_ends_the_stream_without_a_panic() {
        for bytes in [
            &[][..],
            &[1][..],
            &[5, 0, 1, 0][..],
            &[2, 0, 9, 9][..],
            &[0xff, 0xff, 1][..],
            &[3, 0, 1, 0, 0][..],
        ] {
            let mut d = Decoder::new(bytes);
            while d.next_record().is_some() {}
        }
    }
}
