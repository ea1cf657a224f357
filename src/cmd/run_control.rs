//! `srt run --control-fd FD`: how a line on the control channel is validated. The same front
//! end as the settings file: the schema, resolution in the run's place (cwd, home), and the
//! lints that stop a run; a line any of them refuses is reported and dropped.

use srt_compiler::{Ir, RealFs, ResolveOptions};
use srt_lints::LevelConfig;
use srt_schema::Severity;

/// Why a line is not a policy, one reason per diagnostic (`code: message`).
fn reasons<'a>(diags: impl Iterator<Item = &'a srt_schema::Diagnostic>) -> Vec<String> {
    diags
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect()
}

/// A line of control fd `fd`, numbered `number`, as the policy it describes.
pub fn validate(
    fd: i32,
    opts: &ResolveOptions,
    levels: &LevelConfig,
    text: &str,
    number: usize,
) -> Result<Ir, Vec<String>> {
    let name = format!("control fd {fd}, line {number}");
    let loaded = srt_schema::load_str(&name, None, text.trim_end());
    if loaded.has_errors() {
        return Err(reasons(loaded.diagnostics.iter()));
    }
    let (ir, notes) =
        srt_compiler::resolve(&loaded.settings, Some(loaded.source.clone()), opts, &RealFs);
    let refused = reasons(notes.iter());
    if !refused.is_empty() {
        return Err(refused);
    }
    let gate = srt_lints::run_gate(&loaded, opts, &RealFs, levels);
    if !gate.stops.is_empty() {
        return Err(gate
            .stops
            .iter()
            .map(|d| format!("{}: {} (it would stop a run)", d.code, d.message))
            .collect());
    }
    Ok(ir)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn opts() -> ResolveOptions {
        ResolveOptions {
            cwd: std::env::temp_dir(),
            home: std::env::temp_dir(),
            settings_path: None,
        }
    }

    #[test]
    fn lines_are_validated_like_a_settings_file() {
        let levels = LevelConfig::default();
        let ok = validate(
            3,
            &opts(),
            &levels,
            r#"{"network":{"allowedDomains":["example.com"],"deniedDomains":[]},"filesystem":{"denyRead":[],"allowWrite":[],"denyWrite":[]}}"#,
            1,
        )
        .unwrap();
        assert!(ok.decide_host("example.com", 443).allowed);
        assert_eq!(
            ok.describe(&ok.net.allowed[0].origin),
            "network.allowedDomains[0] (control fd 3, line 1:1:31)"
        );
        let bad = validate(
            3,
            &opts(),
            &levels,
            r#"{"network":{"allowedDomains":"x"}}"#,
            2,
        )
        .unwrap_err();
        assert!(!bad.is_empty(), "{bad:?}");
        let not_json = validate(3, &opts(), &levels, "allow everything", 3).unwrap_err();
        assert!(!not_json.is_empty());
        // A line that would stop a run is refused too (the cloud metadata endpoint).
        let metadata = validate(
            3,
            &opts(),
            &levels,
            r#"{"network":{"allowedDomains":["169.254.169.254"],"deniedDomains":[]},"filesystem":{"denyRead":[],"allowWrite":[],"denyWrite":[]}}"#,
            4,
        )
        .unwrap_err();
        assert!(
            metadata.iter().any(|r| r.contains("stop a run")),
            "{metadata:?}"
        );
    }
}
