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
    // $XDG_RUNTIME_DIR (`/run/user/UID`): the session's sockets.
    (
        "/run/user/1000/bus",
        "the D-Bus session bus: run commands as the user through desktop services",
    ),
    (
        "/run/user/1000/systemd/private",
        "the user's systemd: start any unit as the user",
    ),
    (
        "/run/user/1000/docker.sock",
        "rootless Docker: the user's every file",
    ),
    (
        "/run/user/1000/podman/podman.sock",
        "rootless Podman: containers with the user's files mounted",
    ),
    (
        "/run/user/1000/gnupg/S.gpg-agent.ssh",
        "the GnuPG agent's SSH side: log in as the user anywhere",
    ),
    (
        "/run/user/1000/keyring/ssh",
        "GNOME Keyring's SSH agent: log in as the user anywhere",
    ),
    // Where ssh-agent puts its socket by default, and launchd's on macOS.
    (
        "/tmp/ssh-srt-lint-probe/agent.1",
        "an SSH agent: log in as the user anywhere",
    ),
    (
        "/private/tmp/com.apple.launchd.srt-lint-probe/Listeners",
        "the macOS SSH agent: log in as the user anywhere",
    ),
];

/// Directories where programs put sockets of their own: allowing one whole is close to
/// `allowAllUnixSockets` even when no known dangerous socket is there. Probed with a socket
/// inside.
pub static SOCKET_DIRECTORIES: &[(&str, &str)] = &[
    (
        "/var/folders/zz/srt-lint-probe/T/app.sock",
        "macOS's per-user temporary directories ($TMPDIR), where editors, agents and language servers keep their sockets",
    ),
    (
        "/private/var/folders/zz/srt-lint-probe/T/app.sock",
        "macOS's per-user temporary directories ($TMPDIR), where editors, agents and language servers keep their sockets",
    ),
    (
        "/tmp/srt-lint-probe/app.sock",
        "the shared temporary directory, where any program may put a socket",
    ),
    (
        "/private/tmp/srt-lint-probe/app.sock",
        "the shared temporary directory, where any program may put a socket",
    ),
    (
        "/run/user/1000/srt-lint-probe/app.sock",
        "$XDG_RUNTIME_DIR, the session's socket directory",
    ),
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

/// Names other than `localhost` that resolve to loopback: the hosts file's aliases, and public
/// wildcard-DNS names that answer 127.0.0.1 for every name under them. `srt run`'s
/// resolved-address guard refuses them (only `localhost` and `*.localhost` may resolve to
/// loopback); the npm srt lets them reach every port of the machine.
pub static LOOPBACK_NAMES: &[&str] = &[
    "localhost.localdomain",
    "localhost6",
    "localhost6.localdomain6",
    "ip6-localhost",
    "ip6-loopback",
];

/// Public domains whose every name (and the domain itself) resolves to 127.0.0.1.
pub static LOOPBACK_DNS_DOMAINS: &[&str] = &[
    "localtest.me",
    "lvh.me",
    "vcap.me",
    "localho.st",
    "lacolhost.com",
    "localhost.direct",
    "traefik.me",
    "127.0.0.1.nip.io",
    "127-0-0-1.nip.io",
    "127.0.0.1.sslip.io",
    "127-0-0-1.sslip.io",
];

/// Public domains that resolve a name to the address it embeds (`10.0.0.5.nip.io`).
pub static EMBEDDED_ADDRESS_DOMAINS: &[&str] = &["nip.io", "sslip.io", "xip.io"];
