//! `srt compile --target linux` output: a readable text plan and a JSON document. Both are
//! deterministic (no times, no random names, stable orders).

use std::ffi::OsString;
use std::fmt::Write;

use serde_json::{json, Map, Value};

use srt_schema::Severity;

use super::LinuxPlan;
use crate::ir::Ir;

fn word(w: &OsString) -> String {
    let s = w.to_string_lossy();
    shlex::try_quote(&s).map_or_else(|_| format!("{s:?}"), |q| q.into_owned())
}

pub(super) fn text(plan: &LinuxPlan, ir: &Ir) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# bwrap arguments, in order (step, arguments, effect, origin)"
    );
    let rows: Vec<(String, String, &str, String)> = plan
        .args
        .iter()
        .map(|a| {
            (
                a.step.as_str().to_string(),
                a.words.iter().map(word).collect::<Vec<_>>().join(" "),
                a.effect,
                ir.describe(&a.origin),
            )
        })
        .collect();
    let w_step = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let w_args = rows
        .iter()
        .map(|r| r.1.chars().count())
        .max()
        .unwrap_or(0)
        .min(72);
    let w_eff = rows.iter().map(|r| r.2.len()).max().unwrap_or(0);
    for (step, args, effect, origin) in &rows {
        let _ = writeln!(
            out,
            "{step:<w_step$}  {args:<w_args$}  {effect:<w_eff$}  <- {origin}"
        );
    }
    if !plan.link_pins.is_empty() {
        let _ = writeln!(
            out,
            "\n# link pins: srt's init mounts each symlink on itself before the command starts, then drops every capability"
        );
        for pin in &plan.link_pins {
            let _ = writeln!(
                out,
                "--pin-link {}  <- {}",
                word(&pin.path.clone().into_os_string()),
                ir.describe(&pin.origin)
            );
        }
    }
    let _ = writeln!(out, "\n# environment (set on the bwrap process)");
    for (k, v) in &plan.env {
        let _ = writeln!(out, "{k}={v}");
    }
    for (k, origin) in &plan.env_unset {
        let _ = writeln!(out, "-{k} (withheld)  <- {}", ir.describe(origin));
    }
    let _ = writeln!(
        out,
        "\n# stubs (created on the host before the run, removed after it)"
    );
    if plan.stubs.is_empty() {
        let _ = writeln!(out, "(none)");
    }
    for s in &plan.stubs {
        let kind = match s.kind {
            super::StubKind::File => "file",
            super::StubKind::Dir => "dir ",
        };
        let _ = writeln!(
            out,
            "{kind} {}  <- {}",
            s.path.display(),
            ir.describe(&s.origin)
        );
    }
    let p = &plan.proxy;
    let _ = writeln!(out, "\n# proxy");
    if plan.bridges && !super::needs_proxies(ir) {
        let _ = writeln!(
            out,
            "no host is allowed: the proxies run only to refuse and report each destination (--report-network)"
        );
    }
    let _ = writeln!(
        out,
        "127.0.0.1:{} -> {} (HTTP)",
        p.http_port,
        p.http_socket.display()
    );
    let _ = writeln!(
        out,
        "127.0.0.1:{} -> {} (SOCKS5)",
        p.socks_port,
        p.socks_socket.display()
    );
    if let Some(parent) = &ir.chain.parent {
        let _ = writeln!(out, "{}", parent.describe());
    }
    for w in &ir.chain.environment_warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    if let Some(m) = &ir.chain.mitm {
        let domains: Vec<&str> = m.domains.iter().map(|r| r.raw.as_str()).collect();
        let _ = writeln!(
            out,
            "network.mitmProxy: {} -> {}",
            domains.join(", "),
            m.socket_path.display()
        );
    }
    for (kind, port, key) in [
        ("HTTP", p.external_http_port, "httpProxyPort"),
        ("SOCKS5", p.external_socks_port, "socksProxyPort"),
    ] {
        if let Some(port) = port {
            let _ = writeln!(
                out,
                "{kind} connections are relayed as they are to localhost:{port}, your proxy (network.{key}): it decides, srt does not; the run refuses to start if nothing listens there"
            );
        }
    }
    {
        // What bwrap runs as PID 1, word for word; the seccomp program's descriptor number is
        // chosen at run time.
        let _ = writeln!(
            out,
            "\n# init (PID 1{})",
            if plan.bridges {
                "; it checks each socket's DEV:INO before the command starts"
            } else {
                ""
            }
        );
        let mut words: Vec<String> = vec![word(&plan.init_path.clone().into_os_string())];
        words.extend(plan.init_args(None).iter().map(word));
        words.push(format!("--seccomp-fd {}", super::SECCOMP_FD_PLACEHOLDER));
        if plan.observer.is_some() {
            words.push(format!(
                "--fs-observer {} --fs-events {}",
                super::invocation::FS_OBSERVER_FD_PLACEHOLDER,
                super::invocation::FS_EVENTS_FD_PLACEHOLDER
            ));
        }
        let _ = writeln!(out, "{}", words.join(" "));
    }
    let _ = writeln!(out, "\n# host process");
    for line in host_process(plan) {
        let _ = writeln!(out, "{line}");
    }
    let s = &plan.seccomp;
    let _ = writeln!(
        out,
        "\n# seccomp ({}): {} rules, {} instructions; other architectures{} are killed",
        s.arch.name(),
        s.rules.len(),
        s.instructions.len(),
        if s.arch == super::seccomp::Arch::X86_64 {
            " and the x32 ABI"
        } else {
            ""
        }
    );
    for r in &s.rules {
        let _ = writeln!(out, "{:<52}  # {}", r.describe(), r.why);
    }
    let _ = writeln!(out, "\n# seccomp BPF");
    out.push_str(&s.disassemble());
    super::observe::render_text(plan.observer.as_ref(), ir, &mut out);
    let _ = writeln!(out, "\n# notes");
    if plan.notes.is_empty() {
        let _ = writeln!(out, "(none)");
    }
    for n in &plan.notes {
        let _ = writeln!(out, "{}[{}]: {}", n.severity.as_str(), n.code, n.message);
        if let Some(help) = n.help.as_ref().filter(|_| n.severity == Severity::Error) {
            let _ = writeln!(out, "  help: {help}");
        }
    }
    out.push('\n');
    out.push_str(&plan.audit.render_text(ir));
    out
}

/// How srt starts bwrap on the host: what is not a bwrap argument but part of the run.
fn host_process(plan: &LinuxPlan) -> Vec<&'static str> {
    let mut lines = vec![
        "process group: a new one for bwrap and the sandbox; kill(0, ...) in the sandbox reaches none of the caller's processes",
        if plan.observer.is_some() {
            "descriptors: 0-2, --info-fd, the seccomp program's fd and the observer's two (its program, the pipe it reports on); srt marks every other one close-on-exec, and the init keeps its own from the command"
        } else {
            "descriptors: 0-2, --info-fd and the seccomp program's fd; srt marks every other one close-on-exec"
        },
    ];
    lines.push(if plan.terminal {
        "terminal: the sandbox's group is the terminal's foreground group; bwrap starts with SIGINT, SIGQUIT and SIGHUP blocked (the init unblocks them for the command); stops are mirrored on srt's job"
    } else {
        "terminal: not shared (a run on a terminal gives the sandbox's group the terminal; see --terminal)"
    });
    lines
}

pub(super) fn json(plan: &LinuxPlan, ir: &Ir) -> Value {
    let lossy = |w: &OsString| Value::String(w.to_string_lossy().into_owned());
    let env: Map<String, Value> = plan
        .env
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let s = &plan.seccomp;
    json!({
        "bwrap": plan.argv().iter().map(lossy).collect::<Vec<_>>(),
        "env": env,
        "env_unset": plan.env_unset.iter().map(|(k, o)| json!({"name": k, "origin": ir.describe(o)})).collect::<Vec<_>>(),
        "stubs": plan.stubs.iter().map(|s| json!({
            "path": s.path.to_string_lossy(),
            "kind": s.kind,
            "origin": ir.describe(&s.origin),
        })).collect::<Vec<_>>(),
        "seccomp": {
            "arch": s.arch.name(),
            "rules": s.rules.iter().map(|r| json!({
                "syscall": r.syscall.name(),
                "condition": r.condition,
                "action": r.action.describe(),
                "rule": r.describe(),
            })).collect::<Vec<_>>(),
            "instructions": s.instructions.len(),
        },
        "notes": plan.notes.iter().map(|n| json!({
            "code": n.code,
            "severity": n.severity,
            "message": n.message,
            "location": n.primary_span().and_then(|span| ir.source().map(|s| s.location(span))),
        })).collect::<Vec<_>>(),
        "arguments": plan.args.iter().map(|a| json!({
            "words": a.words.iter().map(lossy).collect::<Vec<_>>(),
            "step": a.step,
            "effect": a.effect,
            "origin": ir.describe(&a.origin),
        })).collect::<Vec<_>>(),
        "proxy": plan.proxy,
        "upstream": {
            "parent": ir.chain.parent.as_ref().map(|p| json!({
                "http": p.http.as_ref().map(|u| u.redacted()),
                "https": p.https.as_ref().map(|u| u.redacted()),
                "from_environment": p.source == crate::chain::ParentSource::Environment,
                "summary": p.describe(),
            })),
            "mitm": ir.chain.mitm.as_ref().map(|m| json!({
                "socket": m.socket_path.to_string_lossy(),
                "domains": m.domains.iter().map(|r| r.raw.as_str()).collect::<Vec<_>>(),
            })),
        },
        "init": plan.init_path.to_string_lossy(),
        "init_args": plan.init_args(None).iter().map(lossy).collect::<Vec<_>>(),
        "bridges": plan.bridges,
        "link_pins": plan.link_pins.iter().map(|p| json!({
            "path": p.path.to_string_lossy(),
            "origin": ir.describe(&p.origin),
        })).collect::<Vec<_>>(),
        "host_process": {
            "new_process_group": true,
            "terminal": plan.terminal,
            "blocked_in_bwrap": if plan.terminal { vec!["SIGINT", "SIGQUIT", "SIGHUP"] } else { vec![] },
            "notes": host_process(plan),
        },
        "audit": plan.audit.render_json(ir),
        "launch": launch(plan),
        "fs_observer": super::observe::render_json(plan.observer.as_ref(), ir),
    })
}

/// Exactly what `srt run` starts: bwrap's argv and the environment set on it, with the
/// per-run values as the placeholders listed.
fn launch(plan: &LinuxPlan) -> Value {
    use super::invocation::{
        COMMAND_PLACEHOLDER, FILE_ID_PLACEHOLDER, FS_EVENTS_FD_PLACEHOLDER,
        FS_OBSERVER_FD_PLACEHOLDER, INFO_FD_PLACEHOLDER, SECCOMP_FD_PLACEHOLDER,
    };
    use super::secrets::{
        CA_BUNDLE_PLACEHOLDER, JAVA_TRUST_STORE_PLACEHOLDER, MASKED_COPY_PLACEHOLDER,
        SENTINEL_PLACEHOLDER,
    };
    let argv = plan.launch_args(None, &[COMMAND_PLACEHOLDER.into()]);
    json!({
        "program": BWRAP_PLACEHOLDER,
        "argv": argv.iter().map(|w| w.to_string_lossy()).collect::<Vec<_>>(),
        "env_base": "srt's own environment, without the variables in env_unset and those env sets",
        "env": plan.env.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "env_unset": plan.env_unset.iter().map(|(k, _)| k).collect::<Vec<_>>(),
        "placeholders": {
            BWRAP_PLACEHOLDER: "the bubblewrap srt run chooses (bwrapPath, else the first of /usr/bin/bwrap, /usr/local/bin/bwrap, /bin/bwrap; `srt doctor` names it)",
            INFO_FD_PLACEHOLDER: "the descriptor bwrap reports the sandbox's PID 1 on",
            SECCOMP_FD_PLACEHOLDER: "the descriptor of the memfd holding the seccomp program",
            FS_OBSERVER_FD_PLACEHOLDER: "the descriptor of the memfd holding the filesystem observer's program and rules",
            FS_EVENTS_FD_PLACEHOLDER: "the write end of the pipe the init reports refused accesses on",
            FILE_ID_PLACEHOLDER: "the device and inode numbers of the socket srt bound (each socket its own)",
            SOCKET_DIR_PLACEHOLDER: "the name of the run's private socket directory (srt-PID-RANDOM)",
            COMMAND_PLACEHOLDER: "the command and its arguments",
            CA_BUNDLE_PLACEHOLDER: "the run's CA bundle file",
            JAVA_TRUST_STORE_PLACEHOLDER: "the run's Java trust store (PKCS#12, the bundle's certificates)",
            SENTINEL_PLACEHOLDER: "the variable's per-run sentinel (each variable its own)",
            MASKED_COPY_PLACEHOLDER: "the file's per-run masked copy (each file its own)",
        },
    })
}

/// Stands for the bubblewrap binary in `srt compile`'s output.
pub const BWRAP_PLACEHOLDER: &str = "<bwrap>";
/// Stands for the name of a run's private proxy socket directory in `srt compile`'s output.
pub const SOCKET_DIR_PLACEHOLDER: &str = "srt-XXXXXXXX";
