//! Paths and sockets that matter for security.

/// Where a place matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum On {
    Both,
    Linux,
    Macos,
}

impl On {
    pub fn applies(self, target: crate::Target) -> bool {
        matches!(
            (self, target),
            (On::Both, _) | (On::Linux, crate::Target::Linux) | (On::Macos, crate::Target::Macos)
        )
    }
}

/// Secrets most machines hold, and what they unlock.
pub static SECRETS: &[(&str, &str)] = &[
    ("~/.ssh", "SSH keys"),
    ("~/.gnupg", "GnuPG keys"),
    ("~/.aws", "AWS credentials"),
    ("~/.config/gcloud", "Google Cloud credentials"),
    ("~/.azure", "Azure credentials"),
    ("~/.kube", "Kubernetes credentials"),
    ("~/.docker/config.json", "container registry credentials"),
    ("~/.netrc", "HTTP and FTP passwords"),
    ("~/.git-credentials", "git passwords and tokens"),
    ("~/.config/gh", "the GitHub CLI token"),
    ("~/.npmrc", "npm registry tokens"),
    ("~/.pypirc", "PyPI upload tokens"),
    ("~/.cargo/credentials.toml", "crates.io publish tokens"),
];

/// Files a tool needs to read for its own registry (left out of the automatic fix when that
/// ecosystem's registry is allowed).
pub static SECRET_NEEDED_BY: &[(&str, &str)] = &[
    ("~/.npmrc", "registry.npmjs.org"),
    ("~/.pypirc", "pypi.org"),
];

/// Places whose contents run outside the sandbox later: writing them from inside escapes it.
/// `path` is probed for writing with the decision procedure.
pub struct CodeExecPlace {
    pub path: &'static str,
    /// How it is shown (a directory rather than the probe file inside it).
    pub shown: &'static str,
    pub why: &'static str,
    pub on: On,
}

pub static CODE_EXEC_PLACES: &[CodeExecPlace] = &[
    CodeExecPlace {
        path: "~/.ssh/authorized_keys",
        shown: "~/.ssh/authorized_keys",
        why: "lets anyone holding a planted key log in",
        on: On::Both,
    },
    CodeExecPlace {
        path: "~/.ssh/config",
        shown: "~/.ssh/config",
        why: "ssh runs its ProxyCommand and LocalCommand on the host",
        on: On::Both,
    },
    CodeExecPlace {
        path: "~/.bashrc",
        shown: "~/.bashrc",
        why: "every interactive bash runs it",
        on: On::Both,
    },
    CodeExecPlace {
        path: "~/.bash_profile",
        shown: "~/.bash_profile",
        why: "login shells run it",
        on: On::Both,
    },
    CodeExecPlace {
        path: "~/.profile",
        shown: "~/.profile",
        why: "login shells run it",
        on: On::Both,
    },
    CodeExecPlace {
        path: "~/.zshrc",
        shown: "~/.zshrc",
        why: "every interactive zsh runs it",
        on: On::Both,
    },
    CodeExecPlace {
        path: "~/.zprofile",
        shown: "~/.zprofile",
        why: "login shells run it",
        on: On::Both,
    },
    CodeExecPlace {
        path: "~/.gitconfig",
        shown: "~/.gitconfig",
        why:
            "git's per-user config: core.fsmonitor, core.hooksPath, aliases and pagers run commands",
        on: On::Both,
    },
    CodeExecPlace {
        path: "~/.zshenv",
        shown: "~/.zshenv",
        why: "every zsh runs it (srt's mandatory denies cover .zshrc, not this)",
        on: On::Both,
    },
    CodeExecPlace {
        path: "~/.zlogin",
        shown: "~/.zlogin",
        why: "login shells run it",
        on: On::Both,
    },
    CodeExecPlace {
        path: "~/.bash_login",
        shown: "~/.bash_login",
        why: "login shells run it",
        on: On::Both,
    },
    CodeExecPlace {
        path: "~/.config/fish/config.fish",
        shown: "~/.config/fish",
        why: "every fish shell runs it",
        on: On::Both,
    },
    CodeExecPlace {
        path: "~/.config/git/config",
        shown: "~/.config/git/config",
        why:
            "git's per-user config: core.fsmonitor, core.hooksPath, aliases and pagers run commands",
        on: On::Both,
    },
    CodeExecPlace {
        path: "~/.local/bin/git",
        shown: "~/.local/bin",
        why: "on $PATH: a planted `git` or `ls` runs instead of the real one",
        on: On::Both,
    },
    CodeExecPlace {
        path: "~/bin/git",
        shown: "~/bin",
        why: "on $PATH for many shells",
        on: On::Both,
    },
    CodeExecPlace {
        path: "~/.cargo/bin/cargo",
        shown: "~/.cargo/bin",
        why: "on $PATH for Rust users: a planted `cargo` runs on the host",
        on: On::Both,
    },
    CodeExecPlace {
        path: "~/go/bin/gopls",
        shown: "~/go/bin",
        why: "on $PATH for Go users",
        on: On::Both,
    },
    CodeExecPlace {
        path: "/usr/local/bin/git",
        shown: "/usr/local/bin",
        why: "on $PATH",
        on: On::Both,
    },
    CodeExecPlace {
        path: "~/.claude/settings.json",
        shown: "~/.claude/settings.json",
        why: "Claude Code hooks run commands on the host",
        on: On::Both,
    },
    CodeExecPlace {
        path: "~/.claude.json",
        shown: "~/.claude.json",
        why: "Claude Code starts the MCP server commands it lists",
        on: On::Both,
    },
    CodeExecPlace {
        path: "~/.vimrc",
        shown: "~/.vimrc",
        why: "Vim runs it when it starts",
        on: On::Both,
    },
    CodeExecPlace {
        path: "~/.config/nvim/init.lua",
        shown: "~/.config/nvim",
        why: "Neovim runs it when it starts",
        on: On::Both,
    },
    CodeExecPlace {
        path: "~/.config/autostart/srt.desktop",
        shown: "~/.config/autostart",
        why: "the desktop session starts these at login",
        on: On::Linux,
    },
    CodeExecPlace {
        path: "~/.config/systemd/user/srt.service",
        shown: "~/.config/systemd/user",
        why: "systemd user units run on the host",
        on: On::Linux,
    },
    CodeExecPlace {
        path: "/var/spool/cron/crontabs/root",
        shown: "/var/spool/cron/crontabs",
        why: "cron runs them",
        on: On::Linux,
    },
    CodeExecPlace {
        path: "/etc/profile.d/srt.sh",
        shown: "/etc/profile.d",
        why: "every login shell runs them",
        on: On::Linux,
    },
    CodeExecPlace {
        path: "~/Library/LaunchAgents/srt.plist",
        shown: "~/Library/LaunchAgents",
        why: "launchd runs them at login",
        on: On::Macos,
    },
    CodeExecPlace {
        path: "/usr/lib/cron/tabs/root",
        shown: "/usr/lib/cron/tabs",
        why: "cron runs them",
        on: On::Macos,
    },
];

/// Unix sockets that hand out the host: probed paths, and names that are dangerous anywhere.
pub static DANGEROUS_SOCKET_PATHS: &[(&str, &str)] = &[
    (
        "/var/run/docker.sock",
        "the Docker daemon: root on the host",
    ),
    ("/run/docker.sock", "the Docker daemon: root on the host"),
    (
        "~/.docker/run/docker.sock",
        "the Docker daemon: root on the host",
    ),
    (
        "~/.colima/default/docker.sock",
        "the Docker daemon: root on the host",
    ),
    (
        "~/.orbstack/run/docker.sock",
        "the Docker daemon: root on the host",
    ),
    (
        "/run/podman/podman.sock",
        "the Podman service: containers with the host mounted",
    ),
    (
        "/run/containerd/containerd.sock",
        "containerd: root on the host",
    ),
    ("/var/run/crio/crio.sock", "CRI-O: root on the host"),
    (
        "/var/run/libvirt/libvirt-sock",
        "libvirt: virtual machines with host devices",
    ),
    ("/run/dbus/system_bus_socket", "the D-Bus system bus"),
    ("/run/systemd/private", "systemd: start any unit"),
];

/// Socket file names that are dangerous wherever they live.
pub static DANGEROUS_SOCKET_NAMES: &[(&str, &str)] = &[
    ("docker.sock", "the Docker daemon: root on the host"),
    (
        "podman.sock",
        "the Podman service: containers with the host mounted",
    ),
    ("containerd.sock", "containerd: root on the host"),
    ("crio.sock", "CRI-O: root on the host"),
    (
        "libvirt-sock",
        "libvirt: virtual machines with host devices",
    ),
    (
        "bus",
        "the D-Bus session bus: run commands as the user through desktop services",
    ),
    ("system_bus_socket", "the D-Bus system bus"),
    (
        "S.gpg-agent",
        "the GnuPG agent: sign and decrypt with the user's keys",
    ),
    (
        "S.gpg-agent.ssh",
        "the GnuPG agent's SSH side: log in as the user anywhere",
    ),
    ("agent.sock", "an SSH agent: log in as the user anywhere"),
    (
        "Listeners",
        "the macOS SSH agent: log in as the user anywhere",
    ),
];

/// Cloud metadata endpoints: credentials for the machine's cloud identity.
pub static METADATA_HOSTS: &[(&str, &str)] = &[
    (
        "169.254.169.254",
        "the AWS, GCP, Azure and OpenStack metadata service",
    ),
    (
        "metadata.google.internal",
        "the Google Cloud metadata service",
    ),
    ("metadata.goog", "the Google Cloud metadata service"),
    (
        "169.254.170.2",
        "the Amazon ECS task metadata and credentials service",
    ),
    ("100.100.100.200", "the Alibaba Cloud metadata service"),
    ("[fd00:ec2::254]", "the AWS metadata service over IPv6"),
];
