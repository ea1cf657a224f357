//! The refusals `srt learn` learns from: the JSON lines `srt run --violations FILE` writes,
//! one object per refusal. Network refusals come from the proxies
//! (`srt_runtime::proxy::violation`: `host`, `port`, `kind`, `protocol`), filesystem
//! refusals from the filesystem observer (`"kind": "filesystem"`, `access`, `path`,
//! `syscall`, `command`), and Unix sockets as `"kind": "unix-socket"` with the socket's
//! `path` and `command` (a refusal source that reports the path, such as Seatbelt's log on
//! macOS). Every source writes the same `"ignored"` flag (`ignoreViolations` matched it).
//!
//! Reading is lenient: a line that is not such an object is counted and skipped, never fatal,
//! so a file from a newer srt still teaches what this one understands.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use srt_compiler::Access;

/// What was refused.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A destination the proxies refused. `kind` is the violation kind as written
    /// (`not-allowed`, `denied`, `resolved-address`, …).
    Host {
        host: String,
        port: Option<u16>,
        kind: String,
    },
    /// A path the sandbox refused to read or write.
    Path { access: Access, path: PathBuf },
    /// A Unix socket the sandbox refused to connect to.
    UnixSocket { path: PathBuf },
}

/// One refusal, and every time it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub subject: Subject,
    /// How many records name it.
    pub times: u64,
    /// How it was asked: `CONNECT`/`GET`/`SOCKS5`, or the system call (`openat`, `mkdir`).
    pub how: BTreeSet<String>,
    /// The processes that asked (filesystem and socket refusals; the proxies do not know).
    pub commands: BTreeSet<String>,
    /// The reason srt gave (the first record's).
    pub reason: String,
    /// `ignoreViolations` matched it, so the user does not want to hear about it.
    pub ignored: bool,
}

impl Refusal {
    /// `CONNECT pkg.example.com:443`, `write /home/dev/.cache/x (openat)`.
    pub fn describe(&self) -> String {
        let how = self.how.iter().cloned().collect::<Vec<_>>().join("/");
        match &self.subject {
            Subject::Host { host, port, .. } => {
                let dest = destination(host, *port);
                if how.is_empty() {
                    dest
                } else {
                    format!("{how} {dest}")
                }
            }
            Subject::Path { access, path } => {
                let at = if how.is_empty() {
                    String::new()
                } else {
                    format!(" ({how})")
                };
                format!(
                    "{} {}{at}",
                    access.as_str(),
                    printable(&path.to_string_lossy())
                )
            }
            Subject::UnixSocket { path } => {
                format!(
                    "connect to Unix socket {}",
                    printable(&path.to_string_lossy())
                )
            }
        }
    }

    /// The order refusals are shown in: network, then paths, then sockets, each by name.
    fn sort_key(&self) -> (u8, String, u16, String) {
        match &self.subject {
            Subject::Host { host, port, kind } => {
                (0, host.clone(), port.unwrap_or(0), kind.clone())
            }
            Subject::Path { access, path } => (
                1,
                path.to_string_lossy().into_owned(),
                0,
                access.as_str().to_string(),
            ),
            Subject::UnixSocket { path } => {
                (2, path.to_string_lossy().into_owned(), 0, String::new())
            }
        }
    }
}

/// `host:port`, IPv6 bracketed.
pub fn destination(host: &str, port: Option<u16>) -> String {
    let host = if host.parse::<std::net::Ipv6Addr>().is_ok() {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    match port {
        Some(p) => format!("{host}:{p}"),
        None => host,
    }
}

/// Control characters escaped, so a name the sandbox chose cannot forge lines on a terminal.
pub fn printable(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// What a violations file held.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refusals {
    /// Distinct refusals, merged, in display order.
    pub refusals: Vec<Refusal>,
    /// Lines that were not a refusal srt understands.
    pub unreadable: usize,
}

fn string(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// One record: what, how it was asked, by which process, srt's reason, whether ignored.
struct Record {
    subject: Subject,
    how: Option<String>,
    command: Option<String>,
    reason: String,
    ignored: bool,
}

/// One JSON line as a refusal, or `None` when it is not one srt understands.
fn parse_line(line: &str) -> Option<Record> {
    let v: Value = serde_json::from_str(line).ok()?;
    let kind = string(&v, "kind")?;
    let ignored = v.get("ignored").and_then(Value::as_bool).unwrap_or(false);
    let reason = string(&v, "reason").unwrap_or_default();
    let command = string(&v, "command").filter(|c| !c.is_empty());
    match kind.as_str() {
        "filesystem" => {
            let access = match string(&v, "access")?.as_str() {
                "read" => Access::Read,
                "write" => Access::Write,
                _ => return None,
            };
            let path = PathBuf::from(string(&v, "path")?);
            let how = string(&v, "syscall");
            Some(Record {
                subject: Subject::Path { access, path },
                how,
                command,
                reason,
                ignored,
            })
        }
        "unix-socket" => {
            let path = PathBuf::from(string(&v, "path")?);
            let how = string(&v, "syscall").or_else(|| string(&v, "operation"));
            Some(Record {
                subject: Subject::UnixSocket { path },
                how,
                command,
                reason,
                ignored,
            })
        }
        _ => {
            let host = string(&v, "host")?;
            let port = match v.get("port") {
                None | Some(Value::Null) => None,
                Some(p) => Some(u16::try_from(p.as_u64()?).ok()?),
            };
            let how = string(&v, "protocol");
            Some(Record {
                subject: Subject::Host { host, port, kind },
                how,
                command: None,
                reason,
                ignored,
            })
        }
    }
}

/// Reads a violations file's text (JSON lines), merging repeated refusals.
pub fn parse_jsonl(text: &str) -> Refusals {
    let mut out = Refusals::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        // The end-of-run audit's findings share the file; they are not refusals.
        if line.contains("\"kind\":\"audit\"") {
            continue;
        }
        let Some(Record {
            subject,
            how,
            command,
            reason,
            ignored,
        }) = parse_line(line)
        else {
            out.unreadable += 1;
            continue;
        };
        let r = match out.refusals.iter_mut().find(|r| r.subject == subject) {
            Some(r) => {
                r.times += 1;
                // One record not ignored is enough to hear about it.
                r.ignored &= ignored;
                r
            }
            None => {
                out.refusals.push(Refusal {
                    subject,
                    times: 1,
                    how: BTreeSet::new(),
                    commands: BTreeSet::new(),
                    reason,
                    ignored,
                });
                let last = out.refusals.len() - 1;
                &mut out.refusals[last]
            }
        };
        r.how.extend(how);
        r.commands.extend(command);
    }
    out.refusals.sort_by_key(Refusal::sort_key);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The lines as `srt run` writes them: the proxies' shape and the filesystem observer's.
    #[test]
    fn network_filesystem_and_socket_lines_merge_per_subject() {
        let text = r#"{"time":"2026-12-07T05:00:00.000Z","protocol":"CONNECT","host":"pkg.example.com","port":443,"kind":"not-allowed","reason":"host is not on the allow list","rule":null,"line":"srt: blocked CONNECT pkg.example.com:443 — not in network.allowedDomains","ignored":false}
{"time":"2026-12-07T05:00:01.000Z","protocol":"GET","host":"pkg.example.com","port":443,"kind":"not-allowed","reason":"host is not on the allow list","rule":null,"line":"…","ignored":false}
{"time":"2026-12-07T05:00:02.000Z","protocol":"SOCKS5","host":"2001:db8::1","port":8443,"kind":"denied","reason":"host is on the deny list","rule":"network.deniedDomains[0] (.srt.json:1:2)","line":"…","ignored":true}
{"time":"2026-12-07T05:00:03.000Z","kind":"filesystem","access":"write","path":"/home/dev/.cache/tool/a\nb","syscall":"openat","pid":7,"command":"python3","rule":null,"reason":"not under any filesystem.allowWrite","line":"…","ignored":false}
{"time":"2026-12-07T05:00:04.000Z","kind":"filesystem","access":"read","path":"/home/dev/.ssh/id_rsa","syscall":"openat","pid":8,"command":"cat","rule":"filesystem.denyRead[0]","reason":"on filesystem.denyRead[0]","line":"…","ignored":false}
{"kind":"unix-socket","path":"/var/run/docker.sock","command":"docker","operation":"network-outbound","ignored":false}
not json
{"kind":"filesystem","access":"execute","path":"/x"}
{"time":"2026-12-07T05:00:05.000Z","kind":"audit","code":"created-hook","path":"/p/.git/hooks/x"}
"#;
        let r = parse_jsonl(text);
        assert_eq!(r.unreadable, 2);
        assert_eq!(r.refusals.len(), 5);
        let first = &r.refusals[0];
        assert_eq!(first.describe(), "SOCKS5 [2001:db8::1]:8443");
        assert!(first.ignored);
        let pkg = &r.refusals[1];
        assert_eq!(pkg.times, 2);
        assert_eq!(pkg.describe(), "CONNECT/GET pkg.example.com:443");
        assert!(!pkg.ignored);
        let write = r
            .refusals
            .iter()
            .find(|r| {
                matches!(
                    &r.subject,
                    Subject::Path {
                        access: Access::Write,
                        ..
                    }
                )
            })
            .unwrap();
        assert_eq!(
            write.describe(),
            "write /home/dev/.cache/tool/a\\nb (openat)"
        );
        assert_eq!(write.commands.iter().collect::<Vec<_>>(), ["python3"]);
        let socket = r.refusals.last().unwrap();
        assert_eq!(
            socket.subject,
            Subject::UnixSocket {
                path: "/var/run/docker.sock".into()
            }
        );
    }
}
