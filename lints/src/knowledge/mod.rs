//! What the lints know about the world: hosts that publish data, shared front doors, package
//! ecosystems, MCP servers, secrets, places whose contents run outside the sandbox, and
//! dangerous sockets. Data only; the rules decide what to do with it.

pub mod base;
pub mod exfiltration;
pub mod places;

pub use base::{
    Channel, HostRunPlace, KindDoc, ProjectFile, Sure, CHANNELS, HOST_RUN, KINDS, PROJECT_FILES,
};

/// One package ecosystem: the hosts a build needs and the caches it writes.
pub struct Ecosystem {
    pub name: &'static str,
    /// Hosts whose presence says the ecosystem is in use.
    pub signature: &'static [&'static str],
    /// Every host a normal build reaches, with what it serves.
    pub hosts: &'static [(&'static str, &'static str)],
    pub caches: &'static [Cache],
}

/// A cache directory a build must write; any one of the alternatives will do.
pub struct Cache {
    pub what: &'static str,
    pub linux: &'static [&'static str],
    pub macos: &'static [&'static str],
}

/// The seed allowlists' ecosystems: Rust, Go, Node and Python.
pub static ECOSYSTEMS: &[Ecosystem] = &[
    Ecosystem {
        name: "Rust (cargo)",
        signature: &["crates.io", "index.crates.io", "static.crates.io"],
        // Not `crates.io`: that is the publish API (`cargo publish`), which builds with the
        // sparse index never use (see the publish channels). Nor `static.rust-lang.org`: only
        // a toolchain install needs it, and most builds use the toolchain already there.
        hosts: &[
            ("index.crates.io", "the sparse registry index"),
            ("static.crates.io", "crate downloads"),
        ],
        caches: &[
            Cache {
                what: "the registry cache",
                linux: &["~/.cargo/registry"],
                macos: &["~/.cargo/registry"],
            },
            Cache {
                what: "git dependency checkouts",
                linux: &["~/.cargo/git"],
                macos: &["~/.cargo/git"],
            },
        ],
    },
    Ecosystem {
        name: "Go",
        signature: &["proxy.golang.org", "sum.golang.org"],
        hosts: &[
            ("proxy.golang.org", "the module proxy"),
            ("sum.golang.org", "the checksum database"),
            (
                "storage.googleapis.com",
                "module zips, which the proxy redirects to",
            ),
        ],
        caches: &[
            Cache {
                what: "the module cache (GOMODCACHE)",
                linux: &["~/go/pkg/mod"],
                macos: &["~/go/pkg/mod"],
            },
            Cache {
                what: "the build cache (GOCACHE)",
                linux: &["~/.cache/go-build"],
                macos: &["~/Library/Caches/go-build"],
            },
        ],
    },
    Ecosystem {
        name: "Node (npm)",
        signature: &["registry.npmjs.org"],
        hosts: &[("registry.npmjs.org", "package metadata and tarballs")],
        // `~/.npm/_cacache`, not all of `~/.npm`: `~/.npm/_npx` holds packages `npx` runs on
        // the host later (see the places the host runs).
        caches: &[Cache {
            what: "the npm cache",
            linux: &["~/.npm/_cacache", "~/.npm"],
            macos: &["~/.npm/_cacache", "~/.npm"],
        }],
    },
    Ecosystem {
        name: "Python (pip, uv)",
        signature: &["pypi.org", "files.pythonhosted.org"],
        hosts: &[
            ("pypi.org", "the package index"),
            ("files.pythonhosted.org", "package downloads"),
        ],
        caches: &[Cache {
            what: "the pip or uv cache",
            linux: &["~/.cache/pip", "~/.cache/uv"],
            macos: &["~/Library/Caches/pip", "~/.cache/uv"],
        }],
    },
];

/// Hosts whose being reachable means an MCP server is meant to run in the sandbox.
pub static MCP_HOSTS: &[(&str, &str)] = &[
    ("context7.com", "Context7"),
    ("mcp.context7.com", "Context7"),
    ("api.upstash.com", "Context7 (Upstash)"),
    ("mcp.brightdata.com", "Bright Data"),
    ("api.brightdata.com", "Bright Data"),
];

/// Where Claude Code writes MCP server logs.
pub fn mcp_cache(target: crate::Target) -> &'static str {
    match target {
        crate::Target::Macos => "~/Library/Caches/claude-cli-nodejs",
        crate::Target::Linux => "~/.cache/claude-cli-nodejs",
    }
}

/// Claude Code's per-session shell state; bash commands fail without it.
pub const CLAUDE_SESSION_ENV: &str = "~/.claude/session-env";

/// A boolean option that weakens isolation, where it has effect, and what it gives up.
pub struct WeakerOption {
    pub key: &'static str,
    pub get: fn(&srt_schema::Settings) -> Option<&srt_schema::Spanned<bool>>,
    pub on: places::On,
    pub gives_up: &'static str,
}

pub static WEAKER_OPTIONS: &[WeakerOption] = &[
    WeakerOption {
        key: "filesystem.disabled",
        get: |s| s.filesystem().and_then(|f| f.disabled.as_ref()),
        on: places::On::Both,
        gives_up: "every filesystem rule, the mandatory denies included: the sandbox reads and writes everything the user can",
    },
    WeakerOption {
        key: "enableWeakerNestedSandbox",
        get: |s| s.enable_weaker_nested_sandbox.as_ref(),
        on: places::On::Linux,
        gives_up: "a private /proc: the host's /proc is mounted, so the sandbox sees every process on the machine and their command lines (which often hold tokens)",
    },
    WeakerOption {
        key: "allowNestedUserNamespaces",
        get: |s| s.allow_nested_user_namespaces.as_ref(),
        on: places::On::Linux,
        gives_up: "the ban on new user namespaces: root inside one reaches kernel code unprivileged users cannot, the usual route of kernel privilege escalations",
    },
    WeakerOption {
        key: "enableWeakerNetworkIsolation",
        get: |s| s.enable_weaker_network_isolation.as_ref(),
        on: places::On::Macos,
        gives_up: "isolation from trustd, a system service that fetches certificate status over the network on the sandbox's behalf, outside srt's proxy",
    },
    WeakerOption {
        key: "allowAppleEvents",
        get: |s| s.allow_apple_events.as_ref(),
        on: places::On::Macos,
        gives_up: "the ban on Apple Events: the sandbox can script applications that run outside it (Terminal, Finder, System Events)",
    },
    WeakerOption {
        key: "network.allowLocalBinding",
        get: |s| s.network().and_then(|n| n.allow_local_binding.as_ref()),
        on: places::On::Macos,
        gives_up: "the ban on local ports: the sandbox can listen on any port and connect to every service on localhost (databases, dev servers, the Docker API over TCP)",
    },
];
