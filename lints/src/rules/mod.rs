//! The lints, one file each. To add one: write `src/rules/NAME.rs` with a
//! [`declare_lint!`](crate::declare_lint), its check, pass/fail tests and a snapshot; add the
//! module and its static to [`ALL`]; regenerate the book (`cargo test -p srt-lints --test
//! book` with `SRT_BLESS_BOOK=1`).

pub mod claude_session_env;
pub mod costly_glob;
pub mod credential_at_exfiltration_host;
pub mod credential_readable_elsewhere;
pub mod dangerous_unix_socket;
pub mod domain_fronting;
pub mod exfiltration_surface;
pub mod external_proxy;
pub mod incomplete_ecosystem;
pub mod inject_hosts_outside_allowed;
pub mod mask_without_tls;
pub mod mcp_cache;
pub mod missing_path;
pub mod overridden_by_mandatory_deny;
pub mod peer_incompatible;
pub mod platform_no_op;
pub mod private_or_metadata_host;
pub mod project_file_runs_on_host;
pub mod redundant_entry;
pub mod sensitive_paths_readable;
pub mod shadowed_allow;
pub mod unsupported_key;
pub mod unused_denied_domain_reason;
pub mod weaker_sandbox_option;
pub mod wildcard_over_public_suffix;
pub mod write_allows_host_code_execution;

use crate::Lint;

/// Every lint, in the order `srt lint --list` and the book show them: what the design
/// requires, then security, then correctness.
pub static ALL: &[&Lint] = &[
    &exfiltration_surface::EXFILTRATION_SURFACE,
    &credential_at_exfiltration_host::CREDENTIAL_AT_EXFILTRATION_HOST,
    &claude_session_env::CLAUDE_SESSION_ENV_NOT_WRITABLE,
    &mcp_cache::MCP_CACHE_NOT_WRITABLE,
    &wildcard_over_public_suffix::WILDCARD_OVER_PUBLIC_SUFFIX,
    &domain_fronting::DOMAIN_FRONTING_SURFACE,
    &private_or_metadata_host::PRIVATE_OR_METADATA_HOST,
    &dangerous_unix_socket::DANGEROUS_UNIX_SOCKET,
    &write_allows_host_code_execution::WRITE_ALLOWS_HOST_CODE_EXECUTION,
    &project_file_runs_on_host::PROJECT_FILE_RUNS_ON_HOST,
    &weaker_sandbox_option::WEAKER_SANDBOX_OPTION,
    &sensitive_paths_readable::SENSITIVE_PATHS_READABLE,
    &external_proxy::EXTERNAL_PROXY,
    &unsupported_key::UNSUPPORTED_KEY,
    &peer_incompatible::PEER_INCOMPATIBLE,
    &mask_without_tls::MASK_WITHOUT_TLS,
    &credential_readable_elsewhere::CREDENTIAL_READABLE_ELSEWHERE,
    &inject_hosts_outside_allowed::INJECT_HOSTS_OUTSIDE_ALLOWED,
    &incomplete_ecosystem::INCOMPLETE_ECOSYSTEM_ALLOWLIST,
    &shadowed_allow::SHADOWED_ALLOW,
    &overridden_by_mandatory_deny::OVERRIDDEN_BY_MANDATORY_DENY,
    &redundant_entry::REDUNDANT_ENTRY,
    &unused_denied_domain_reason::UNUSED_DENIED_DOMAIN_REASON,
    &platform_no_op::PLATFORM_NO_OP,
    &missing_path::MISSING_PATH,
    &costly_glob::COSTLY_GLOB,
];
