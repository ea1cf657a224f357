//! `srt init`: write a minimal, lint-clean policy from presets the user combines.
//!
//! The file is complete for the npm srt too (every list it requires is present), so the same
//! file works with both tools, and every preset's output lints with no warning (a test runs
//! each under `srt run` too). There is no GitHub preset: github.com is an exfiltration surface
//! that `srt lint` warns about, so it is added by hand, knowingly.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Preset {
    /// crates.io's index and downloads (not its publish API) and the Rust toolchain host;
    /// Cargo's registry and git caches.
    Rust,
    /// The Go module proxy and checksum database; Go's build and module caches.
    Go,
    /// The npm registry (also a publish channel, which `srt lint` warns about: install before
    /// the sandboxed run to do without it); npm's download cache (not `~/.npm/_npx`, whose
    /// packages `npx` runs on the host).
    Node,
    /// PyPI; pip's and uv's caches.
    Python,
    /// The Anthropic API and `~/.claude/session-env` (Claude needs it to run bash commands).
    Claude,
    /// The Context7 MCP server's hosts, Claude's MCP log cache and `~/.claude/session-env`.
    #[value(name = "mcp-context7")]
    McpContext7,
}

/// What a preset adds: hosts, writable paths.
struct Grant {
    hosts: &'static [&'static str],
    writes: &'static [&'static str],
}

fn grant(p: Preset) -> Grant {
    match p {
        Preset::Rust => Grant {
            hosts: &[
                "index.crates.io",
                "static.crates.io",
                "static.rust-lang.org",
            ],
            writes: &["~/.cargo/registry", "~/.cargo/git"],
        },
        Preset::Go => Grant {
            hosts: &[
                "proxy.golang.org",
                "sum.golang.org",
                "storage.googleapis.com",
            ],
            // GOCACHE: ~/.cache/go-build on Linux, ~/Library/Caches/go-build on macOS.
            writes: &[
                "~/.cache/go-build",
                "~/Library/Caches/go-build",
                "~/go/pkg/mod",
            ],
        },
        Preset::Node => Grant {
            hosts: &["registry.npmjs.org"],
            writes: &["~/.npm/_cacache"],
        },
        Preset::Python => Grant {
            hosts: &["pypi.org", "files.pythonhosted.org"],
            writes: &["~/.cache/pip", "~/.cache/uv"],
        },
        Preset::Claude => Grant {
            hosts: &["api.anthropic.com"],
            writes: &["~/.claude/session-env"],
        },
        Preset::McpContext7 => Grant {
            hosts: &["context7.com", "*.context7.com", "api.upstash.com"],
            // Context7 runs under Claude, whose bash tool needs session-env.
            writes: &[
                "~/.cache/claude-cli-nodejs",
                "~/Library/Caches/claude-cli-nodejs",
                "~/.claude/session-env",
            ],
        },
    }
}

/// Secrets no sandboxed command should read.
const DENY_READ: [&str; 10] = [
    "~/.ssh",
    "~/.gnupg",
    "~/.aws",
    "~/.config/gcloud",
    "~/.kube",
    "~/.docker/config.json",
    "~/.netrc",
    "~/.npmrc",
    "~/.pypirc",
    "~/.git-credentials",
];

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Presets to combine (comma-separated or repeated).
    #[arg(long, value_enum, value_delimiter = ',', required = true)]
    pub preset: Vec<Preset>,
    /// Where to write (default: ./.srt.json).
    #[arg(short, long, value_name = "FILE", default_value = ".srt.json")]
    pub output: PathBuf,
    /// Print the policy instead of writing it.
    #[arg(long, conflicts_with = "force")]
    pub stdout: bool,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

/// The policy text for a set of presets: stable order, no duplicates, two-space JSON.
pub fn render(presets: &[Preset]) -> String {
    let mut presets = presets.to_vec();
    presets.sort();
    presets.dedup();
    let mut hosts: Vec<&str> = Vec::new();
    let mut writes: Vec<&str> = vec!["."];
    for p in &presets {
        let g = grant(*p);
        for h in g.hosts {
            if !hosts.contains(h) {
                hosts.push(h);
            }
        }
        for w in g.writes {
            if !writes.contains(w) {
                writes.push(w);
            }
        }
    }
    let list = |items: &[&str], indent: &str| -> String {
        if items.is_empty() {
            return "[]".into();
        }
        let inner: Vec<String> = items
            .iter()
            .map(|i| format!("{indent}  {}", serde_json::Value::from(*i)))
            .collect();
        format!("[\n{}\n{indent}]", inner.join(",\n"))
    };
    format!(
        "{{\n  \"network\": {{\n    \"allowedDomains\": {},\n    \"deniedDomains\": []\n  }},\n  \"filesystem\": {{\n    \"denyRead\": {},\n    \"allowRead\": [],\n    \"allowWrite\": {},\n    \"denyWrite\": []\n  }}\n}}\n",
        list(&hosts, "    "),
        list(&DENY_READ, "    "),
        list(&writes, "    "),
    )
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let text = render(&args.preset);
    if args.stdout {
        crate::output::stdout(&text);
        return Ok(ExitCode::SUCCESS);
    }
    if args.output.exists() && !args.force {
        eprintln!(
            "srt init: {} exists; pass --force to overwrite it",
            args.output.display()
        );
        return Ok(ExitCode::from(2));
    }
    // Write beside the target and rename, so an interrupted init never leaves half a file.
    let dir = match args.output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = dir.join(format!(
        ".{}.srt-init-{}",
        args.output
            .file_name()
            .map_or_else(|| "srt".into(), |n| n.to_string_lossy()),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &args.output)
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        anyhow::bail!("writing {}: {e}", args.output.display());
    }
    eprintln!("srt init: wrote {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}
