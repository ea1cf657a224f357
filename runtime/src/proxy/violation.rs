//! Network violations: one line on stderr per refused destination as it happens, optionally
//! one JSON object per line in a file (`--violations FILE`), and an in-process callback.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::ProxyError;

/// Which proxy entry point refused the destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// An HTTP `CONNECT` tunnel.
    Connect,
    /// A plain (absolute-URI) HTTP request; the method as sent.
    Http(String),
    Socks5,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::Connect => f.write_str("CONNECT"),
            Protocol::Http(m) => f.write_str(m),
            Protocol::Socks5 => f.write_str("SOCKS5"),
        }
    }
}

/// What kind of refusal it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ViolationKind {
    /// The request could not be read as a destination (userinfo, bad port, …).
    BadRequest,
    /// The host is malformed (NUL, CR/LF, `%`, …).
    MalformedHost,
    /// No `allowedDomains` entry matches.
    NotAllowed,
    /// A `deniedDomains` entry matches.
    Denied,
    /// The name is allowed but resolved only to addresses the guard refuses.
    ResolvedAddress,
    /// The `Host` header names another destination than the request target.
    HostMismatch,
    /// A tunnel srt cannot inspect, under `network.refuseOpaqueTunnels`.
    OpaqueTunnel,
    /// Past `network.tlsTerminate.maxTunnels`.
    TooManyTunnels,
    /// A request signed with a masked AWS credential that cannot be re-signed
    /// (`credentials.sigv4`).
    UnsignableCredential,
}

/// One refused destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub time: SystemTime,
    pub protocol: Protocol,
    /// The host as canonicalised, or the client's spelling made printable when it was malformed.
    pub host: String,
    pub port: Option<u16>,
    pub kind: ViolationKind,
    /// The short reason: the 403 status phrase (`host is not on the allow list`, …).
    pub reason: String,
    /// The settings entry that decided, described (`network.deniedDomains[0] (.srt.json:5:9)`).
    pub rule: Option<String>,
    /// What the stderr line says after the dash.
    pub explanation: String,
}

impl Violation {
    /// `host:port` with IPv6 bracketed.
    pub fn destination(&self) -> String {
        let host = if self.host.parse::<std::net::Ipv6Addr>().is_ok() {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(p) => format!("{host}:{p}"),
            None => host,
        }
    }

    /// `srt: blocked CONNECT example.com:443 — not in network.allowedDomains`
    pub fn line(&self) -> String {
        format!(
            "srt: blocked {} {} — {}",
            self.protocol,
            self.destination(),
            self.explanation
        )
    }

    fn json(&self, ignored: bool) -> serde_json::Value {
        serde_json::json!({
            "time": rfc3339(self.time),
            "protocol": self.protocol.to_string(),
            "host": self.host,
            "port": self.port,
            "kind": self.kind,
            "reason": self.reason,
            "rule": self.rule,
            "line": self.line(),
            "ignored": ignored,
        })
    }
}

/// A callback that sees every violation (ignored ones included).
pub type ViolationCallback = Arc<dyn Fn(&Violation) + Send + Sync>;

/// Where violations go.
#[derive(Clone, Default)]
pub struct ViolationOptions {
    /// Print one line per violation on stderr.
    pub stderr: bool,
    /// Append one JSON object per violation to this file.
    pub jsonl: Option<PathBuf>,
    /// Substrings of the violation line that silence the stderr line (from
    /// `ignoreViolations`; see [`ignore_patterns`]). The JSON lines record every violation,
    /// with `"ignored": true` for these.
    pub ignore: Vec<String>,
    pub callback: Option<ViolationCallback>,
}

impl fmt::Debug for ViolationOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ViolationOptions")
            .field("stderr", &self.stderr)
            .field("jsonl", &self.jsonl)
            .field("ignore", &self.ignore)
            .field("callback", &self.callback.is_some())
            .finish()
    }
}

/// The `ignoreViolations` patterns that apply to `command`: those under `"*"` and those under
/// every key that is a substring of the command (the npm srt's rule).
pub fn ignore_patterns(settings: &srt_schema::Settings, command: &str) -> Vec<String> {
    settings
        .ignore_violations
        .iter()
        .filter(|(key, _)| key.value == "*" || command.contains(key.value.as_str()))
        .flat_map(|(_, values)| values.iter().map(|v| v.value.clone()))
        .collect()
}

/// The sink the proxies report into.
pub(crate) struct ViolationLog {
    opts: ViolationOptions,
    file: Option<Mutex<File>>,
}

impl ViolationLog {
    pub(crate) fn open(opts: ViolationOptions) -> Result<Self, ProxyError> {
        let file = match &opts.jsonl {
            Some(path) => Some(Mutex::new(open_append(path)?)),
            None => None,
        };
        Ok(ViolationLog { opts, file })
    }

    pub(crate) fn record(&self, v: &Violation) {
        let line = v.line();
        let ignored = self.opts.ignore.iter().any(|p| line.contains(p.as_str()));
        if self.opts.stderr && !ignored {
            // One write per line so lines from concurrent connections never interleave.
            let _ = std::io::stderr()
                .lock()
                .write_all(format!("{line}\n").as_bytes());
        }
        if let Some(file) = &self.file {
            let mut text = v.json(ignored).to_string();
            text.push('\n');
            if let Ok(mut f) = file.lock() {
                let _ = f.write_all(text.as_bytes());
            }
        }
        if let Some(cb) = &self.opts.callback {
            cb(v);
        }
    }
}

fn open_append(path: &Path) -> Result<File, ProxyError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| ProxyError::ViolationLog {
            path: path.to_path_buf(),
            source,
        })
}

/// `2026-11-05T09:03:07.123Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (proleptic Gregorian), days since 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn timestamps() {
        let at = |s: u64, ms: u64| rfc3339(UNIX_EPOCH + Duration::from_millis(s * 1000 + ms));
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(at(1_709_251_199, 999), "2024-02-29T23:59:59.999Z");
        assert_eq!(at(4_102_444_800, 0), "2100-01-01T00:00:00.000Z");
    }

    fn violation() -> Violation {
        Violation {
            time: UNIX_EPOCH,
            protocol: Protocol::Connect,
            host: "example.com".into(),
            port: Some(443),
            kind: ViolationKind::NotAllowed,
            reason: "host is not on the allow list".into(),
            rule: None,
            explanation: "not in network.allowedDomains".into(),
        }
    }

    #[test]
    fn lines() {
        let mut v = violation();
        assert_eq!(
            v.line(),
            "srt: blocked CONNECT example.com:443 — not in network.allowedDomains"
        );
        v.host = "2001:db8::1".into();
        v.protocol = Protocol::Socks5;
        assert!(v
            .line()
            .starts_with("srt: blocked SOCKS5 [2001:db8::1]:443 — "));
    }

    #[test]
    fn jsonl_file_and_ignore() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.jsonl");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let log = ViolationLog::open(ViolationOptions {
            stderr: false,
            jsonl: Some(path.clone()),
            ignore: vec!["ignored.example".into()],
            callback: Some(Arc::new(move |v: &Violation| {
                seen2.lock().unwrap().push(v.host.clone())
            })),
        })
        .unwrap();
        log.record(&violation());
        let mut v = violation();
        v.host = "ignored.example".into();
        log.record(&v);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["time"], "1970-01-01T00:00:00.000Z");
        assert_eq!(lines[0]["protocol"], "CONNECT");
        assert_eq!(lines[0]["port"], 443);
        assert_eq!(lines[0]["kind"], "not-allowed");
        assert_eq!(lines[0]["reason"], "host is not on the allow list");
        assert_eq!(lines[0]["rule"], serde_json::Value::Null);
        assert_eq!(lines[0]["ignored"], false);
        assert_eq!(lines[1]["ignored"], true);
        assert_eq!(*seen.lock().unwrap(), ["example.com", "ignored.example"]);
    }

    #[test]
    fn ignore_patterns_follow_the_command() {
        let loaded = srt_schema::load_str(
            "t.json",
            None,
            r#"{"ignoreViolations": {"*": ["a.test"], "npm": ["b.test"], "git": ["c.test"]},
                "network": {"allowedDomains": [], "deniedDomains": []},
                "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}"#,
        );
        assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
        assert_eq!(
            ignore_patterns(&loaded.settings, "npm install"),
            ["a.test", "b.test"]
        );
        assert_eq!(ignore_patterns(&loaded.settings, "ls"), ["a.test"]);
    }
}
