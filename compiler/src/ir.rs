//! The intermediate representation: every rule resolved (absolute paths, parsed domain
//! patterns), every rule carrying its [`Origin`]. Built by [`resolve`]; read by the decision
//! procedure, the lints and the backends.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use srt_schema::domain::DomainPattern;
use srt_schema::{items, Diagnostic, PathEntry, Settings, SourceFile, Spanned};

use crate::fsview::FsView;
use crate::origin::{builtin, Origin};
use crate::path::{resolve_spelling, PathPattern};

/// One filesystem rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathRule {
    pub pattern: PathPattern,
    pub origin: Origin,
    /// The text as written in the settings file (or the built-in's spelling).
    pub spelled: String,
    /// Set when the spelled path is a symlink whose target srt did not follow (see
    /// [`crate::path::symlink_outside_boundary`]).
    pub symlink_not_followed: Option<PathBuf>,
}

/// One network rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostRule {
    pub pattern: DomainPattern,
    pub origin: Origin,
    /// The entry as written.
    pub raw: String,
}

/// Names that are never writable, wherever they appear under a write root or the cwd,
/// because something outside the sandbox later runs or trusts them.
pub const MANDATORY_DENY_FILES: [&str; 11] = [
    ".gitconfig",
    ".gitmodules",
    ".bashrc",
    ".bash_profile",
    ".zshrc",
    ".zprofile",
    ".profile",
    ".ripgreprc",
    ".mcp.json",
    // Claude Code runs the hooks these name, on the host, the next time it starts there.
    ".claude/settings.json",
    ".claude/settings.local.json",
];
pub const MANDATORY_DENY_DIRS: [&str; 5] = [
    ".vscode",
    ".idea",
    ".claude/commands",
    ".claude/agents",
    ".git/hooks",
];
/// Denied unless `filesystem.allowGitConfig` is true.
pub const GIT_CONFIG: &str = ".git/config";

/// Paths every sandboxed command may write (the peer's `getDefaultWritePaths`).
pub const DEFAULT_WRITE_PATHS: [&str; 8] = [
    "/dev/stdout",
    "/dev/stderr",
    "/dev/null",
    "/dev/tty",
    "/dev/dtracehelper",
    "/dev/autofs_nowait",
    "/tmp/claude",
    "/private/tmp/claude",
];
/// Home-relative default write paths, dropped when a `denyRead` covers them.
pub const DEFAULT_HOME_WRITE_PATHS: [&str; 2] = [".npm/_logs", ".claude/debug"];

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FsPolicy {
    /// `filesystem.disabled`: no filesystem rules at all.
    pub disabled: bool,
    pub deny_read: Vec<PathRule>,
    pub allow_read: Vec<PathRule>,
    /// Write roots: the defaults (built-in) and `allowWrite`.
    pub allow_write: Vec<PathRule>,
    /// `denyWrite` and the settings file in use.
    pub deny_write: Vec<PathRule>,
    /// The mandatory denies, one glob per name and root (`ROOT/**/NAME`).
    pub mandatory_deny: Vec<PathRule>,
    /// The directories the mandatory denies are anchored at: the cwd and every `allowWrite` root.
    pub mandatory_deny_roots: Vec<PathBuf>,
    /// The names (relative paths) denied under each root.
    pub mandatory_deny_names: Vec<&'static str>,
    pub allow_git_config: bool,
    /// How deep the Linux backend looks for existing mandatory-deny names (1–10, default 3).
    pub mandatory_deny_search_depth: u8,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetPolicy {
    pub allowed: Vec<HostRule>,
    pub denied: Vec<HostRule>,
    /// `deniedDomainReasons`, keyed by the deniedDomains entry as written.
    pub denied_reasons: BTreeMap<String, String>,
    pub allow_unix_sockets: Vec<PathRule>,
    pub allow_all_unix_sockets: bool,
    pub allow_local_binding: bool,
    pub http_proxy_port: Option<u16>,
    pub socks_proxy_port: Option<u16>,
    pub denied_resolved_addresses: Vec<(ipnet::IpNet, Origin)>,
    pub allow_mach_lookup: Vec<String>,
}

/// Options that weaken or adjust process isolation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessPolicy {
    pub weaker_nested_sandbox: bool,
    pub weaker_network_isolation: bool,
    pub allow_nested_user_namespaces: bool,
    pub allow_apple_events: bool,
    pub allow_pty: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Ir {
    pub fs: FsPolicy,
    pub net: NetPolicy,
    pub process: ProcessPolicy,
    /// `network.tlsTerminate`, `credentials` and the request options that go with them.
    pub secrets: crate::secrets::SecretsPolicy,
    /// `network.parentProxy` and `network.mitmProxy`: which way an allowed connection leaves.
    pub chain: crate::chain::ChainPolicy,
    pub cwd: PathBuf,
    pub home: PathBuf,
    /// The settings file in use (its real path), when there is one.
    pub settings_path: Option<PathBuf>,
    /// The settings text, for rendering origins as `file:line:col`.
    pub source: Option<Arc<SourceFile>>,
}

/// Where resolution happens.
#[derive(Clone, Debug)]
pub struct ResolveOptions {
    /// Relative spellings resolve against this (`--cwd`, default the process cwd).
    pub cwd: PathBuf,
    /// `~` expands to this.
    pub home: PathBuf,
    /// The settings file in use; it is write-denied.
    pub settings_path: Option<PathBuf>,
}

impl ResolveOptions {
    /// The process's cwd and `$HOME`.
    pub fn from_env() -> Self {
        ResolveOptions {
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
            home: std::env::home_dir().unwrap_or_else(|| PathBuf::from("/")),
            settings_path: None,
        }
    }
}

fn path_rules(
    key: &'static str,
    list: &[Spanned<PathEntry>],
    opts: &ResolveOptions,
    fs: &dyn FsView,
    notes: &mut Vec<Diagnostic>,
) -> Vec<PathRule> {
    let mut out = Vec::new();
    for (index, entry) in list.iter().enumerate() {
        match resolve_spelling(
            &entry.value.path,
            entry.value.literal,
            &opts.cwd,
            &opts.home,
            fs,
        ) {
            Ok(r) => {
                if let Some(target) = &r.symlink_not_followed {
                    notes.push(
                        Diagnostic::note(
                            srt_schema::code::SYMLINK_NOT_FOLLOWED,
                            format!(
                                "{key}[{index}]: \"{}\" is a symlink to {}, outside the spelled tree; srt applies the rule to the spelled path, as the npm srt does",
                                entry.value.path,
                                target.display()
                            ),
                        )
                        .with_label(entry.span, "symlink")
                        .with_help(format!("write the target ({}) if that is what you mean", target.display())),
                    );
                }
                out.push(PathRule {
                    pattern: r.pattern,
                    origin: Origin::policy(key, index, entry.span),
                    spelled: entry.value.path.clone(),
                    symlink_not_followed: r.symlink_not_followed,
                });
            }
            Err(e) => notes.push(
                Diagnostic::error(
                    srt_schema::code::INVALID_PATH_ENTRY,
                    format!("{key}[{index}]: {e}"),
                )
                .with_label(entry.span, ""),
            ),
        }
    }
    out
}

fn builtin_rule(name: crate::origin::BuiltIn, spelled: &str, path: PathBuf) -> PathRule {
    PathRule {
        pattern: PathPattern::Literal(path),
        origin: Origin::BuiltIn(name),
        spelled: spelled.to_string(),
        symlink_not_followed: None,
    }
}

/// The first prefix of `path` that ends in one of the protected `names` (each one or more
/// components, e.g. `.git/hooks`), if any.
fn protected_ancestor(path: &Path, names: &[&str]) -> Option<PathBuf> {
    let comps: Vec<_> = path.components().collect();
    for end in 1..=comps.len() {
        let prefix: PathBuf = comps[..end].iter().collect();
        if names.iter().any(|n| prefix.ends_with(n)) {
            return Some(prefix);
        }
    }
    None
}

fn host_rules(key: &'static str, list: &[Spanned<srt_schema::DomainEntry>]) -> Vec<HostRule> {
    list.iter()
        .enumerate()
        .filter_map(|(index, e)| {
            Some(HostRule {
                pattern: e.value.pattern.clone()?,
                origin: Origin::policy(key, index, e.span),
                raw: e.value.raw.clone(),
            })
        })
        .collect()
}

/// Resolves validated settings into the IR. Returns compiler notes alongside (symlinks not
/// followed, globs that cannot be translated); the IR holds every rule that resolved.
pub fn resolve(
    settings: &Settings,
    source: Option<Arc<SourceFile>>,
    opts: &ResolveOptions,
    fs: &dyn FsView,
) -> (Ir, Vec<Diagnostic>) {
    let mut notes = Vec::new();
    let mut ir = Ir {
        cwd: opts.cwd.clone(),
        home: opts.home.clone(),
        settings_path: opts
            .settings_path
            .as_ref()
            .map(|p| fs.realpath(p).unwrap_or_else(|| p.clone())),
        source,
        ..Ir::default()
    };

    if let Some(f) = settings.filesystem() {
        ir.fs.disabled = Settings::flag(&f.disabled);
        ir.fs.allow_git_config = Settings::flag(&f.allow_git_config);
        ir.fs.deny_read = path_rules(
            "filesystem.denyRead",
            items(&f.deny_read),
            opts,
            fs,
            &mut notes,
        );
        ir.fs.allow_read = path_rules(
            "filesystem.allowRead",
            items(&f.allow_read),
            opts,
            fs,
            &mut notes,
        );
        ir.fs.deny_write = path_rules(
            "filesystem.denyWrite",
            items(&f.deny_write),
            opts,
            fs,
            &mut notes,
        );
    }
    ir.secrets = crate::secrets::resolve(settings, opts, fs, &mut notes);
    ir.chain = crate::chain::resolve(settings, opts, &mut notes);
    let denied_credentials = ir.secrets.denied_files();
    ir.fs.deny_read.extend(denied_credentials);
    ir.fs.mandatory_deny_search_depth = settings
        .mandatory_deny_search_depth
        .as_ref()
        .map_or(3, |d| d.value);

    // Write roots: built-in defaults first, then the user's.
    for p in DEFAULT_WRITE_PATHS {
        ir.fs.allow_write.push(builtin_rule(
            builtin::DEFAULT_WRITE_PATH,
            p,
            PathBuf::from(p),
        ));
    }
    for rel in DEFAULT_HOME_WRITE_PATHS {
        let path = opts.home.join(rel);
        let read_denied = !ir.decide_path(&path, crate::decide::Access::Read).allowed;
        if !read_denied {
            ir.fs.allow_write.push(builtin_rule(
                builtin::DEFAULT_WRITE_PATH,
                &format!("~/{rel}"),
                path,
            ));
        }
    }
    let user_write = match settings.filesystem() {
        Some(f) => path_rules(
            "filesystem.allowWrite",
            items(&f.allow_write),
            opts,
            fs,
            &mut notes,
        ),
        None => Vec::new(),
    };

    // Mandatory denies, anchored at the cwd and at every user write root.
    let mut roots = vec![opts.cwd.clone()];
    for r in &user_write {
        let base = r.pattern.base();
        roots.retain(|x| !x.starts_with(&base) || x == &opts.cwd);
        if !roots.iter().any(|x| base.starts_with(x)) {
            roots.push(base);
        }
    }
    ir.fs.allow_write.extend(user_write);
    let mut names: Vec<&'static str> = MANDATORY_DENY_FILES.to_vec();
    names.extend(MANDATORY_DENY_DIRS);
    if !ir.fs.allow_git_config {
        names.push(GIT_CONFIG);
    }
    for root in &roots {
        for name in &names {
            let root_text = root.display().to_string();
            let glob = format!("{}/**/{name}", root_text.trim_end_matches('/'));
            // The root is a directory name, not a pattern: `[`, `*` or `?` in it are literal.
            if let Ok(regex) = crate::glob::GlobRegex::anchored(&root_text, &format!("/**/{name}"))
            {
                ir.fs.mandatory_deny.push(PathRule {
                    pattern: PathPattern::Glob { glob, regex },
                    origin: Origin::BuiltIn(builtin::MANDATORY_DENY),
                    spelled: (*name).to_string(),
                    symlink_not_followed: None,
                });
            }
        }
    }
    // A write root that is itself a protected name, or lies inside one (`allowWrite:
    // ["~/.bashrc"]`, `["~/.vscode/extensions"]`), is covered by none of the globs above, which
    // start below each root: deny the protected path itself.
    for rule in &ir.fs.allow_write {
        if !matches!(rule.origin, Origin::Policy { .. }) {
            continue;
        }
        if let Some(protected) = protected_ancestor(&rule.pattern.base(), &names) {
            let already = ir
                .fs
                .mandatory_deny
                .iter()
                .any(|m| m.pattern == PathPattern::Literal(protected.clone()));
            if !already {
                let name = protected
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                ir.fs
                    .mandatory_deny
                    .push(builtin_rule(builtin::MANDATORY_DENY, &name, protected));
            }
        }
    }
    // A write root that is the directory part of a protected name (`allowWrite: ["~/.claude"]`
    // for Claude Code's own state, or `[".git"]`): the globs above start below the root, so
    // deny the rest of the name inside it (`~/.claude/settings.json`, `.git/hooks`).
    for rule in &ir.fs.allow_write {
        if !matches!(rule.origin, Origin::Policy { .. }) || rule.pattern.is_glob() {
            continue;
        }
        let base = rule.pattern.base();
        for name in &names {
            let Some((dir, rest)) = name.split_once('/') else {
                continue;
            };
            if base.file_name() != Some(std::ffi::OsStr::new(dir)) {
                continue;
            }
            let protected = base.join(rest);
            let already = ir
                .fs
                .mandatory_deny
                .iter()
                .any(|m| m.pattern == PathPattern::Literal(protected.clone()));
            if !already {
                ir.fs
                    .mandatory_deny
                    .push(builtin_rule(builtin::MANDATORY_DENY, name, protected));
            }
        }
    }
    // What git reads config, hooks and commands from, in the repositories at the roots.
    for g in crate::git::protected_paths(fs, &roots, &opts.home, !ir.fs.allow_git_config) {
        let pattern = PathPattern::Literal(g.path.clone());
        if ir.fs.mandatory_deny.iter().any(|m| m.pattern == pattern) {
            continue;
        }
        // A directory's spelling ends in `/`, which is how the Linux plan knows its stub kind.
        let spelled = format!("{}{}", g.path.display(), if g.dir { "/" } else { "" });
        ir.fs
            .mandatory_deny
            .push(builtin_rule(builtin::GIT_FILES, &spelled, g.path));
    }
    ir.fs.mandatory_deny_roots = roots;
    ir.fs.mandatory_deny_names = names;

    if let Some(p) = &ir.settings_path {
        let rule = builtin_rule(builtin::SETTINGS_FILE, &p.display().to_string(), p.clone());
        ir.fs.deny_write.push(rule);
    }

    if let Some(n) = settings.network() {
        ir.net.allowed = host_rules("network.allowedDomains", items(&n.allowed_domains));
        ir.net.denied = host_rules("network.deniedDomains", items(&n.denied_domains));
        ir.net.denied_reasons = n
            .denied_domain_reasons
            .iter()
            .map(|(k, v)| (k.value.clone(), v.value.clone()))
            .collect();
        let sockets: Vec<Spanned<PathEntry>> = items(&n.allow_unix_sockets)
            .iter()
            .map(|s| {
                s.as_ref().map(|p| PathEntry {
                    path: p.clone(),
                    literal: true,
                })
            })
            .collect();
        ir.net.allow_unix_sockets =
            path_rules("network.allowUnixSockets", &sockets, opts, fs, &mut notes);
        ir.net.allow_all_unix_sockets = Settings::flag(&n.allow_all_unix_sockets);
        ir.net.allow_local_binding = Settings::flag(&n.allow_local_binding);
        ir.net.http_proxy_port = n.http_proxy_port.as_ref().map(|p| p.value);
        ir.net.socks_proxy_port = n.socks_proxy_port.as_ref().map(|p| p.value);
        ir.net.denied_resolved_addresses = items(&n.denied_resolved_addresses)
            .iter()
            .enumerate()
            .map(|(i, a)| {
                (
                    a.value,
                    Origin::policy("network.deniedResolvedAddresses", i, a.span),
                )
            })
            .collect();
        ir.net.allow_mach_lookup = items(&n.allow_mach_lookup)
            .iter()
            .map(|s| s.value.clone())
            .collect();
    }

    ir.process = ProcessPolicy {
        weaker_nested_sandbox: Settings::flag(&settings.enable_weaker_nested_sandbox),
        weaker_network_isolation: Settings::flag(&settings.enable_weaker_network_isolation),
        allow_nested_user_namespaces: Settings::flag(&settings.allow_nested_user_namespaces),
        allow_apple_events: Settings::flag(&settings.allow_apple_events),
        allow_pty: Settings::flag(&settings.allow_pty),
    };
    (ir, notes)
}

impl Ir {
    /// Write-denies srt's state directory `dir` (`srt-state`) when a write root covers it or
    /// lies inside it: its run records tell the next run's cleanup what to delete, so the
    /// command must not write them. Called by `srt run` and `srt compile` before planning; the
    /// plan then makes it read-only, and pins the directories between it and the write root.
    pub fn protect_state_dir(&mut self, dir: &Path) {
        let dir = self.absolute(dir);
        let reachable = self.decide_path(&dir, crate::Access::Write).allowed
            || self
                .fs
                .allow_write
                .iter()
                .any(|r| r.pattern.base().starts_with(&dir));
        if self.fs.disabled || !reachable {
            return;
        }
        let spelled = dir.display().to_string();
        self.fs
            .deny_write
            .push(builtin_rule(builtin::STATE_DIR, &spelled, dir));
    }

    /// The settings text, when the IR came from a file.
    pub fn source(&self) -> Option<&SourceFile> {
        self.source.as_deref()
    }

    /// `key[index] (file:line:col)` or `built-in NAME` for a rule's origin.
    pub fn describe(&self, origin: &Origin) -> String {
        origin.describe(self.source())
    }

    /// Normalises a queried path: `~` expansion, relative to the cwd, `.`/`..` folded.
    pub fn absolute(&self, path: &Path) -> PathBuf {
        if crate::path::is_plain_absolute(path) {
            return path.to_path_buf();
        }
        let s = path.to_string_lossy();
        let abs = crate::path::absolutize(&s, &self.cwd, &self.home);
        crate::path::lexical_normalize(Path::new(&abs))
    }
}
