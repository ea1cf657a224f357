//! The macOS backend: the [`Ir`] as a Seatbelt (SBPL) profile for `sandbox-exec -p`.
//!
//! Pure: the same IR and [`Options`] give byte-identical text. Nothing random goes in (the log
//! tag is [`DEFAULT_LOG_TAG`] unless the caller picks one), and every path, regex or name from
//! outside srt goes through [`escape`]; a name that cannot be written safely is an error,
//! never a guess.
//!
//! Sections, always in this order (each omitted when empty):
//! 1. header: `(version 1)`, `(deny default …)`, the log tag and what the profile was built from;
//! 2. the fixed base (`base.sbpl`: process, Mach, IPC, IOKit, sysctl, device blocks);
//! 3. Mach services the settings add: `enableWeakerNetworkIsolation` (trustd),
//!    `allowAppleEvents`, `network.allowMachLookup`;
//! 4. network: local binding, Unix sockets, the proxy port(s) on loopback;
//! 5. file read: layered denies and re-allows, then the move-blocking denies for read-denied
//!    paths, then unlink/create re-allowed in the write roots;
//! 6. file write: the write roots, then `denyWrite`, the settings file and the mandatory
//!    denies, then their move-blocking denies;
//! 7. read-denied paths inside write roots: not writable, not movable;
//! 8. `allowPty`.
//!
//! Seatbelt applies the last rule that matches, so the order inside sections 5–7 is the
//! policy; see `book/src/compile/macos.md` for an annotated example and the deliberate
//! differences from the npm srt's profile.

pub mod command;
pub mod escape;
mod fs;
mod net;
mod render;

use std::collections::BTreeMap;
use std::path::Path;

use srt_schema::{items, Settings, Span};

use crate::ir::Ir;
use crate::origin::Origin;
use render::Item;

/// The fixed base of every profile.
pub const BASE: &str = include_str!("base.sbpl");

/// The message Seatbelt attaches to this profile's denials when the caller names none.
pub const DEFAULT_LOG_TAG: &str = "SRT_SBX";

/// The loopback port `srt compile` names for srt's own proxy when `--proxy-port` is not given;
/// `srt run` passes the port its proxy really listens on.
pub const DEFAULT_PROXY_PORT: u16 = 3128;

/// The loopback ports the sandboxed process may reach: the HTTP and the SOCKS proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProxyPorts {
    pub http: u16,
    pub socks: u16,
}

impl ProxyPorts {
    /// `network.httpProxyPort` / `network.socksProxyPort` where the settings name an external
    /// proxy, else `own`: srt's proxy, which serves HTTP and SOCKS on one port (as the npm
    /// srt's does on macOS).
    pub fn for_ir(ir: &Ir, own: u16) -> Self {
        ProxyPorts {
            http: ir.net.http_proxy_port.unwrap_or(own),
            socks: ir.net.socks_proxy_port.unwrap_or(own),
        }
    }
}

/// Where boolean and list keys that switch on built-in blocks were written, for `--annotate`
/// (the IR keeps only their values).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeySpans(BTreeMap<String, Span>);

impl KeySpans {
    pub fn from_settings(s: &Settings) -> Self {
        let mut map = BTreeMap::new();
        let flag =
            |map: &mut BTreeMap<String, Span>, key: &str, v: &Option<srt_schema::Spanned<bool>>| {
                if let Some(v) = v {
                    map.insert(key.to_string(), v.span);
                }
            };
        flag(&mut map, "allowPty", &s.allow_pty);
        flag(
            &mut map,
            "enableWeakerNetworkIsolation",
            &s.enable_weaker_network_isolation,
        );
        flag(&mut map, "allowAppleEvents", &s.allow_apple_events);
        if let Some(n) = s.network() {
            flag(
                &mut map,
                "network.allowLocalBinding",
                &n.allow_local_binding,
            );
            flag(
                &mut map,
                "network.allowAllUnixSockets",
                &n.allow_all_unix_sockets,
            );
            for (key, port) in [
                ("network.httpProxyPort", &n.http_proxy_port),
                ("network.socksProxyPort", &n.socks_proxy_port),
            ] {
                if let Some(p) = port {
                    map.insert(key.to_string(), p.span);
                }
            }
            for (i, m) in items(&n.allow_mach_lookup).iter().enumerate() {
                map.insert(format!("network.allowMachLookup[{i}]"), m.span);
            }
        }
        if let Some(f) = s.filesystem() {
            flag(&mut map, "filesystem.disabled", &f.disabled);
        }
        KeySpans(map)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub proxy: ProxyPorts,
    /// `(with message …)` on every path rule and the default deny: how a denial in the
    /// system log is traced back to this profile.
    pub log_tag: String,
    /// Put a comment above each rule's filter naming its origin (`--annotate`).
    pub annotate: bool,
    pub key_spans: KeySpans,
    /// The run's CA bundle and Java trust store (`tlsTerminate`), readable whatever `denyRead`
    /// says: they hold certificates only. None in `srt compile`.
    pub trust_files: Vec<std::path::PathBuf>,
}

impl Options {
    /// The deterministic defaults `srt compile` uses for `ir`.
    pub fn for_ir(ir: &Ir) -> Self {
        Options {
            proxy: ProxyPorts::for_ir(ir, DEFAULT_PROXY_PORT),
            log_tag: DEFAULT_LOG_TAG.to_string(),
            annotate: false,
            key_spans: KeySpans::default(),
            trust_files: Vec::new(),
        }
    }
}

/// The codes of [`EmitError`]'s variants, as `srt compile --target macos` prints them. The
/// lints crate documents each one (`srt explain CODE`, the book).
pub const ERROR_CODES: &[&str] = &["seatbelt-unrepresentable", "seatbelt-path-not-utf8"];

/// Why no profile could be written. Nothing is emitted then: a profile missing a rule would
/// be weaker than the settings say.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum EmitError {
    #[error("{what}: {text} cannot be written into a Seatbelt profile: {reason}")]
    #[diagnostic(
        code("seatbelt-unrepresentable"),
        help("rename the file or directory, or leave this entry out")
    )]
    Unrepresentable {
        what: String,
        /// The text, quoted with Rust escapes so it prints on one line.
        text: String,
        reason: escape::EscapeError,
    },
    #[error("{what}: {path} is not valid UTF-8, which a Seatbelt profile needs")]
    #[diagnostic(code("seatbelt-path-not-utf8"))]
    NotUtf8 { what: String, path: String },
}

/// What the emitter needs while it works: the IR, the options, and how to describe origins.
struct Ctx<'a> {
    ir: &'a Ir,
    opts: &'a Options,
}

impl Ctx<'_> {
    /// `filesystem.denyRead[0] (s.json:2:28) as "~/.ssh"`, or `built-in default-write-path`.
    fn note(&self, origin: &Origin, spelled: &str, shown: &str) -> String {
        let d = self.ir.describe(origin);
        match origin {
            Origin::Policy { .. } if spelled != shown => format!("{d} as {spelled:?}"),
            _ => d,
        }
    }

    /// A settings key that switched on a block: `allowPty (s.json:3:14)`.
    fn key_note(&self, key: &str) -> String {
        match (self.opts.key_spans.0.get(key), self.ir.source()) {
            (Some(span), Some(src)) => format!("{key} ({})", src.location(*span)),
            _ => key.to_string(),
        }
    }

    fn string(&self, text: &str, what: &dyn Fn() -> String) -> Result<String, EmitError> {
        escape::string(text).map_err(|reason| EmitError::Unrepresentable {
            what: what(),
            text: format!("{text:?}"),
            reason,
        })
    }

    fn path_text<'p>(&self, p: &'p Path, what: &dyn Fn() -> String) -> Result<&'p str, EmitError> {
        p.to_str().ok_or_else(|| EmitError::NotUtf8 {
            what: what(),
            path: p.to_string_lossy().into_owned(),
        })
    }

    /// `(subpath "P")`: the path and everything beneath it.
    fn subpath(&self, p: &Path, what: &dyn Fn() -> String) -> Result<String, EmitError> {
        Ok(format!(
            "(subpath {})",
            self.string(self.path_text(p, what)?, what)?
        ))
    }

    /// `(literal "P")`: the path itself only.
    fn literal(&self, p: &Path, what: &dyn Fn() -> String) -> Result<String, EmitError> {
        Ok(format!(
            "(literal {})",
            self.string(self.path_text(p, what)?, what)?
        ))
    }

    fn regex(&self, re: &str, what: &dyn Fn() -> String) -> Result<String, EmitError> {
        Ok(format!("(regex {})", self.string(re, what)?))
    }
}

/// The profile for `ir`.
/// The rules a macOS profile enforces: `ir`, with masked credential files as read denies (the
/// npm srt denies them on macOS: only Linux can put a masked copy in their place). The run
/// decides its file denials with the same rules.
pub fn profile_ir(ir: &Ir) -> std::borrow::Cow<'_, Ir> {
    let masked = ir.secrets.masked_files_as_denies();
    if masked.is_empty() {
        return std::borrow::Cow::Borrowed(ir);
    }
    let mut view = ir.clone();
    view.fs.deny_read.extend(masked);
    std::borrow::Cow::Owned(view)
}

pub fn emit(ir: &Ir, opts: &Options) -> Result<String, EmitError> {
    let view = profile_ir(ir);
    let ir: &Ir = &view;
    let ctx = Ctx { ir, opts };
    let tag = ctx.string(&opts.log_tag, &|| "the log tag".to_string())?;
    let source = ir.source().map_or("<none>", |s| s.name.as_str());
    let mut items = vec![
        Item::Verbatim("(version 1)\n"),
        Item::DenyDefault,
        Item::Blank,
        Item::Comment(format!("LogTag: {}", opts.log_tag)),
        Item::Comment(format!(
            "Generated by srt (compile --target macos) from {source}; cwd {}, home {}.",
            ir.cwd.display(),
            ir.home.display()
        )),
        Item::Blank,
    ];
    items.push(Item::Verbatim(BASE));
    net::mach_section(&ctx, &mut items)?;
    net::network_section(&ctx, &mut items)?;
    fs::file_sections(&ctx, &mut items)?;
    if ir.process.allow_pty {
        items.push(Item::Blank);
        items.push(Item::Comment(format!(
            "Pseudo-terminal (pty) support: {}",
            ctx.key_note("allowPty")
        )));
        items.push(Item::Verbatim(PTY));
    }
    Ok(render::render(&items, &tag, opts.annotate))
}

/// `allowPty`: the npm srt's block, as it writes it.
const PTY: &str = "(allow pseudo-tty)
(allow file-ioctl
  (literal \"/dev/ptmx\")
  (regex #\"^/dev/ttys\")
)
(allow file-read* file-write*
  (literal \"/dev/ptmx\")
  (regex #\"^/dev/ttys\")
)
";

#[cfg(test)]
mod tests;
