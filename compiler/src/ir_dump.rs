//! [`Ir::dump`]: the IR as stable, readable text.

use crate::ir::{HostRule, Ir, PathRule};

impl Ir {
    /// A stable, readable listing of every rule and its origin (for snapshots and `--debug`).
    pub fn dump(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "cwd: {}\nhome: {}",
            self.cwd.display(),
            self.home.display()
        );
        if let Some(p) = &self.settings_path {
            let _ = writeln!(out, "settings: {}", p.display());
        }
        let path_section = |out: &mut String, title: &str, rules: &[PathRule]| {
            let _ = writeln!(out, "{title}:");
            for r in rules {
                let kind = if r.pattern.is_glob() { "glob" } else { "path" };
                let _ = write!(
                    out,
                    "  {kind} {}  <- {}",
                    r.pattern.display(),
                    self.describe(&r.origin)
                );
                if r.origin.span().is_some() && r.spelled != r.pattern.display() {
                    let _ = write!(out, " as {:?}", r.spelled);
                }
                if let Some(t) = &r.symlink_not_followed {
                    let _ = write!(out, " (symlink to {} not followed)", t.display());
                }
                out.push('\n');
            }
        };
        if self.fs.disabled {
            out.push_str("filesystem: disabled\n");
        }
        path_section(&mut out, "deny read", &self.fs.deny_read);
        path_section(&mut out, "allow read", &self.fs.allow_read);
        path_section(&mut out, "allow write", &self.fs.allow_write);
        path_section(&mut out, "deny write", &self.fs.deny_write);
        let _ = writeln!(
            out,
            "mandatory deny: {} names under {} (search depth {})",
            self.fs.mandatory_deny_names.join(" "),
            self.fs
                .mandatory_deny_roots
                .iter()
                .map(|r| r.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            self.fs.mandatory_deny_search_depth
        );
        let host_section = |out: &mut String, title: &str, rules: &[HostRule]| {
            let _ = writeln!(out, "{title}:");
            for r in rules {
                let _ = writeln!(out, "  {}  <- {}", r.pattern, self.describe(&r.origin));
            }
        };
        host_section(&mut out, "denied hosts", &self.net.denied);
        host_section(&mut out, "allowed hosts", &self.net.allowed);
        for (k, v) in &self.net.denied_reasons {
            let _ = writeln!(out, "  reason for {k}: {v}");
        }
        if !self.net.allow_unix_sockets.is_empty() {
            path_section(&mut out, "unix sockets", &self.net.allow_unix_sockets);
        }
        let n = &self.net;
        let p = &self.process;
        let _ = writeln!(
            out,
            "options: allowAllUnixSockets={} allowLocalBinding={} httpProxyPort={:?} socksProxyPort={:?} weakerNested={} weakerNetwork={} nestedUserNs={} appleEvents={} pty={}",
            n.allow_all_unix_sockets, n.allow_local_binding, n.http_proxy_port, n.socks_proxy_port,
            p.weaker_nested_sandbox, p.weaker_network_isolation, p.allow_nested_user_namespaces, p.allow_apple_events, p.allow_pty
        );
        out
    }
}
