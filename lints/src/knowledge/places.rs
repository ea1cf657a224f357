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
