//! A small SBPL (Seatbelt profile) reader and evaluator, for tests: it checks that a profile is
//! well formed, uses only known operations and filters, and has no deny a later allow makes
//! unreachable; and it decides requests (read, write, unlink/create, network, Unix socket,
//! pty) the way Seatbelt does, so srt's profiles and the npm srt's can be compared.

mod check;
mod eval;
mod profile;
mod read;

pub use check::unreachable_denies;
pub use eval::{decide, filter_matches, op_covers, Addr, Kind, Model, Request};
pub use profile::{parse, Filter, Profile, Rule, OPERATIONS};
pub use read::{read, Pos, Sexp};

/// Parses `text` and runs every check; all problems at once.
pub fn validate(text: &str) -> Result<Profile, Vec<String>> {
    let profile = parse(text).map_err(|e| vec![e])?;
    let problems = unreachable_denies(&profile);
    if problems.is_empty() {
        Ok(profile)
    } else {
        Err(problems)
    }
}

/// The decision under both evaluation models, or a message when they disagree.
pub fn decide_both(profile: &Profile, req: &Request) -> Result<bool, String> {
    let (a, ra) = decide(profile, req, Model::LastMatch);
    let (b, rb) = decide(profile, req, Model::SpecificFirst);
    if a == b {
        Ok(a)
    } else {
        Err(format!(
            "{req:?}: last-match says {a} (rule {ra}), specific-first says {b} (rule {rb})"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = r#"(version 1)
(deny default (with message "t"))
(allow file-read*)
(deny file-read* (subpath "/s") (regex "^/p/(.*/)?[^/]*\\.pem(/.*)?$") (with message "t"))
(allow file-read* (subpath "/s/ok"))
(allow file-write* (subpath "/w"))
(deny file-write-unlink file-write-create (literal "/w"))
(allow network-outbound (remote ip "localhost:3128"))
(allow network-outbound (remote unix-socket (subpath "/run/a.sock")))
(allow file-read-metadata (vnode-type DIRECTORY))
"#;

    #[test]
    fn evaluates_paths_and_network() {
        let p = validate(P).unwrap();
        let read = |path: &str| decide_both(&p, &Request::file("file-read-data", path, Kind::File));
        assert_eq!(read("/etc/passwd"), Ok(true));
        assert_eq!(read("/s/x"), Ok(false));
        assert_eq!(read("/s/ok/x"), Ok(true));
        assert_eq!(read("/p/a/b.pem"), Ok(false));
        assert_eq!(read("/p/a/b.pemx"), Ok(true));
        assert_eq!(
            decide_both(&p, &Request::file("file-read-metadata", "/s", Kind::Dir)),
            Ok(true)
        );
        let write = |op: &str, path: &str| decide_both(&p, &Request::file(op, path, Kind::File));
        assert_eq!(write("file-write-data", "/w/x"), Ok(true));
        assert_eq!(write("file-write-data", "/x"), Ok(false));
        assert_eq!(write("file-write-unlink", "/w"), Ok(false));
        assert_eq!(write("file-write-unlink", "/w/x"), Ok(true));
        assert_eq!(
            decide_both(&p, &Request::connect("localhost", 3128)),
            Ok(true)
        );
        assert_eq!(
            decide_both(&p, &Request::connect("localhost", 3129)),
            Ok(false)
        );
        assert_eq!(
            decide_both(&p, &Request::connect("1.2.3.4", 3128)),
            Ok(false)
        );
        assert_eq!(
            decide_both(&p, &Request::unix_connect("/run/a.sock")),
            Ok(true)
        );
        assert_eq!(
            decide_both(&p, &Request::unix_connect("/run/b.sock")),
            Ok(false)
        );
    }

    #[test]
    fn the_two_models_differ_on_a_specific_deny_before_a_wildcard_allow() {
        let p = parse(
            "(version 1)(deny default)(deny file-write-unlink (subpath \"/a\"))(allow file-write* (subpath \"/a\"))",
        )
        .unwrap();
        let r = Request::file("file-write-unlink", "/a/x", Kind::File);
        assert!(decide(&p, &r, Model::LastMatch).0);
        assert!(!decide(&p, &r, Model::SpecificFirst).0);
        assert!(decide_both(&p, &r).is_err());
        // and the checker calls that deny unreachable (under last-match it is)
        assert_eq!(unreachable_denies(&p).len(), 1);
    }

    #[test]
    fn shape_errors() {
        for bad in [
            "(deny default)",
            "(version 1)(allow file-read*)",
            "(version 1)(deny default)(deny default)",
            "(version 1)(deny default)(allow file-frobnicate)",
            "(version 1)(deny default)(allow file-read* (frob \"x\"))",
            "(version 1)(deny default)(allow file-read* (with message \"t\") (subpath \"/x\"))",
            "(version 1)(deny default)(allow network-bind (local ip \"example.com:80\"))",
            "(version 1)(deny default)(allow file-read* (regex \"(\"))",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unreachable_denies_are_found() {
        let p = parse(
            "(version 1)(deny default)\
             (deny file-read* (subpath \"/a/b\") (literal \"/c\") (subpath \"/keep\"))\
             (allow file-read* (subpath \"/a\") (regex \"^/c$\"))",
        )
        .unwrap();
        assert_eq!(unreachable_denies(&p).len(), 2);
    }
}
