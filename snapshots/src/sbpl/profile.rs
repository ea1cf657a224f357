//! A read profile as rules, with only known operations and filters accepted.

use regex::Regex;

use super::read::{read, Pos, Sexp};

/// Every operation a profile of srt or the npm srt may use.
pub const OPERATIONS: &[&str] = &[
    "default",
    "process-exec",
    "process-fork",
    "process-info*",
    "signal",
    "mach-priv-task-port",
    "user-preference-read",
    "mach-lookup",
    "ipc-posix-shm",
    "ipc-posix-sem",
    "iokit-open",
    "iokit-get-properties",
    "system-socket",
    "sysctl-read",
    "sysctl-write",
    "distributed-notification-post",
    "appleevent-send",
    "lsopen",
    "pseudo-tty",
    "network*",
    "network-bind",
    "network-inbound",
    "network-outbound",
    "file-ioctl",
    "file-read*",
    "file-read-data",
    "file-read-metadata",
    "file-write*",
    "file-write-data",
    "file-write-unlink",
    "file-write-create",
];

#[derive(Clone, Debug)]
pub enum Filter {
    Literal(String),
    Subpath(String),
    /// `regex` (or `path-regex` inside `unix-socket`), with its source text.
    Regex(Regex, String),
    VnodeType(String),
    RequireAll(Vec<Filter>),
    RequireAny(Vec<Filter>),
    RequireNot(Box<Filter>),
    Target(String),
    GlobalName(String),
    GlobalNamePrefix(String),
    IokitRegistryEntryClass(String),
    IokitUserClientClass(String),
    SocketDomain(String),
    SocketProtocol(u32),
    SysctlName(String),
    SysctlNamePrefix(String),
    /// `(local ip "H:P")` / `(remote ip "H:P")`.
    Ip {
        local: bool,
        host: String,
        port: String,
    },
    /// `(local unix-socket F)` / `(remote unix-socket F)`.
    UnixSocket {
        local: bool,
        path: Box<Filter>,
    },
}

impl PartialEq for Filter {
    fn eq(&self, other: &Self) -> bool {
        format!("{self:?}") == format!("{other:?}")
    }
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub allow: bool,
    pub ops: Vec<String>,
    pub filters: Vec<Filter>,
    pub message: Option<String>,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub struct Profile {
    /// Every rule after `(version 1)`, the `(deny default)` first.
    pub rules: Vec<Rule>,
}

fn string_arg(items: &[Sexp], pos: Pos, what: &str) -> Result<String, String> {
    match items {
        [_, Sexp::Str(s, _)] => Ok(s.clone()),
        _ => Err(format!("{pos}: ({what} …) takes one string")),
    }
}

fn regex(src: &str, pos: Pos) -> Result<Regex, String> {
    Regex::new(&format!("(?s){src}")).map_err(|e| format!("{pos}: bad regex {src:?}: {e}"))
}

fn path_filter(f: &Sexp) -> Result<Filter, String> {
    let pos = f.pos();
    let items = f.list().ok_or(format!("{pos}: expected a path filter"))?;
    match (items.first().and_then(Sexp::sym), items.get(1)) {
        (Some("literal"), _) => Ok(Filter::Literal(string_arg(items, pos, "literal")?)),
        (Some("subpath"), _) => Ok(Filter::Subpath(string_arg(items, pos, "subpath")?)),
        (Some("regex" | "path-regex"), Some(Sexp::Str(s, _) | Sexp::Raw(s, _)))
            if items.len() == 2 =>
        {
            Ok(Filter::Regex(regex(s, pos)?, s.clone()))
        }
        _ => Err(format!("{pos}: unknown path filter {items:?}")),
    }
}

fn filter(f: &Sexp) -> Result<Filter, String> {
    let pos = f.pos();
    let items = f.list().ok_or(format!("{pos}: a filter must be a list"))?;
    let head = items
        .first()
        .and_then(Sexp::sym)
        .ok_or(format!("{pos}: a filter starts with a name"))?;
    let sym_arg = |what: &str| -> Result<String, String> {
        match items {
            [_, Sexp::Sym(s, _)] => Ok(s.clone()),
            _ => Err(format!("{pos}: ({what} …) takes one name")),
        }
    };
    let rest = || items[1..].iter().map(filter).collect::<Result<Vec<_>, _>>();
    Ok(match head {
        "literal" | "subpath" | "regex" => path_filter(f)?,
        "vnode-type" => {
            let t = sym_arg(head)?;
            if !["DIRECTORY", "REGULAR-FILE", "CHARACTER-DEVICE", "SYMLINK"].contains(&t.as_str()) {
                return Err(format!("{pos}: unknown vnode type {t}"));
            }
            Filter::VnodeType(t)
        }
        "require-all" => Filter::RequireAll(rest()?),
        "require-any" => Filter::RequireAny(rest()?),
        "require-not" => match &items[1..] {
            [one] => Filter::RequireNot(Box::new(filter(one)?)),
            _ => return Err(format!("{pos}: (require-not F) takes one filter")),
        },
        "target" => Filter::Target(sym_arg(head)?),
        "global-name" => Filter::GlobalName(string_arg(items, pos, head)?),
        "global-name-prefix" => Filter::GlobalNamePrefix(string_arg(items, pos, head)?),
        "iokit-registry-entry-class" => {
            Filter::IokitRegistryEntryClass(string_arg(items, pos, head)?)
        }
        "iokit-user-client-class" => Filter::IokitUserClientClass(string_arg(items, pos, head)?),
        "socket-domain" => Filter::SocketDomain(sym_arg(head)?),
        "socket-protocol" => Filter::SocketProtocol(
            sym_arg(head)?
                .parse()
                .map_err(|_| format!("{pos}: socket-protocol takes a number"))?,
        ),
        "sysctl-name" => Filter::SysctlName(string_arg(items, pos, head)?),
        "sysctl-name-prefix" => Filter::SysctlNamePrefix(string_arg(items, pos, head)?),
        "local" | "remote" => {
            let local = head == "local";
            match &items[1..] {
                [Sexp::Sym(kind, _), Sexp::Str(spec, _)] if kind == "ip" => {
                    let (host, port) = spec
                        .rsplit_once(':')
                        .ok_or(format!("{pos}: ip filter needs host:port"))?;
                    if !["localhost", "*"].contains(&host)
                        || !(port == "*" || port.parse::<u16>().is_ok_and(|p| p > 0))
                    {
                        return Err(format!("{pos}: bad ip filter {spec:?}"));
                    }
                    Filter::Ip {
                        local,
                        host: host.into(),
                        port: port.into(),
                    }
                }
                [Sexp::Sym(kind, _), inner] if kind == "unix-socket" => Filter::UnixSocket {
                    local,
                    path: Box::new(path_filter(inner)?),
                },
                _ => return Err(format!("{pos}: bad ({head} …) filter")),
            }
        }
        other => return Err(format!("{pos}: unknown filter {other}")),
    })
}

/// Reads `text` and checks its shape: `(version 1)`, then `(deny default …)`, then rules
/// `(allow|deny OP… FILTER… [(with message "…")])` with known operations and filters only.
pub fn parse(text: &str) -> Result<Profile, String> {
    let forms = read(text)?;
    let mut forms = forms.iter();
    match forms.next().and_then(Sexp::list) {
        Some([Sexp::Sym(v, _), Sexp::Sym(one, _)]) if v == "version" && one == "1" => {}
        _ => return Err("the profile must start with (version 1)".into()),
    }
    let mut rules = Vec::new();
    for form in forms {
        let pos = form.pos();
        let items = form.list().ok_or(format!("{pos}: a rule must be a list"))?;
        let allow = match items.first().and_then(Sexp::sym) {
            Some("allow") => true,
            Some("deny") => false,
            _ => return Err(format!("{pos}: a rule starts with allow or deny")),
        };
        let mut ops = Vec::new();
        let mut filters = Vec::new();
        let mut message = None;
        for (i, item) in items.iter().enumerate().skip(1) {
            match item {
                Sexp::Sym(op, _) if filters.is_empty() && message.is_none() => {
                    if !OPERATIONS.contains(&op.as_str()) {
                        return Err(format!("{pos}: unknown operation {op}"));
                    }
                    ops.push(op.clone());
                }
                Sexp::List(inner, _) if inner.first().and_then(Sexp::sym) == Some("with") => {
                    match inner.as_slice() {
                        [_, Sexp::Sym(m, _), Sexp::Str(s, _)]
                            if m == "message" && i == items.len() - 1 =>
                        {
                            message = Some(s.clone())
                        }
                        _ => return Err(format!("{pos}: (with message \"…\") must come last")),
                    }
                }
                f if message.is_none() => filters.push(filter(f)?),
                _ => return Err(format!("{pos}: nothing may follow (with message …)")),
            }
        }
        if ops.is_empty() {
            return Err(format!("{pos}: a rule needs an operation"));
        }
        let is_default = ops.iter().any(|o| o == "default");
        if is_default != rules.is_empty()
            || (is_default && (allow || ops.len() != 1 || !filters.is_empty()))
        {
            return Err(format!(
                "{pos}: (deny default) must be the first rule, alone, and nowhere else"
            ));
        }
        rules.push(Rule {
            allow,
            ops,
            filters,
            message,
            pos,
        });
    }
    if rules.is_empty() {
        return Err("the profile has no (deny default)".into());
    }
    Ok(Profile { rules })
}
