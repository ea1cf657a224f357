//! Sections 3 and 4: Mach services the settings add, and the network.
//!
//! Hosts are not in the profile: the sandboxed process may reach only srt's proxy on loopback
//! (and, with `allowLocalBinding`, other loopback ports), and the proxy applies the domain
//! rules through [`crate::Ir::decide_host`].

use super::render::{Action, Item};
use super::{Ctx, EmitError};

pub(super) fn mach_section(ctx: &Ctx<'_>, items: &mut Vec<Item>) -> Result<(), EmitError> {
    let p = &ctx.ir.process;
    let names = &ctx.ir.net.allow_mach_lookup;
    if !p.weaker_network_isolation && !p.allow_apple_events && names.is_empty() {
        return Ok(());
    }
    items.push(Item::Blank);
    items.push(Item::Comment(
        "Mach services and Apple Events the settings add (npm srt blocks, same names)".into(),
    ));
    let global = |name: &str, what: &str| -> Result<String, EmitError> {
        Ok(format!(
            "(global-name {})",
            ctx.string(name, &|| what.to_string())?
        ))
    };
    if p.weaker_network_isolation {
        let key = ctx.key_note("enableWeakerNetworkIsolation");
        items.push(Item::Comment(
            "trustd.agent, needed for Go TLS certificate verification (weaker network isolation)"
                .into(),
        ));
        items.push(Item::single(
            Action::Allow,
            "mach-lookup",
            global("com.apple.trustd.agent", "trustd")?,
            key,
        ));
    }
    if p.allow_apple_events {
        let key = ctx.key_note("allowAppleEvents");
        items.push(Item::Comment(
            "Apple Events: open/osascript talking to other apps, and Launch Services open requests (coreservicesd, quarantine resolver)".into(),
        ));
        items.push(Item::Unconditional {
            action: Action::Allow,
            ops: "appleevent-send",
            note: Some(key.clone()),
        });
        items.push(Item::single(
            Action::Allow,
            "mach-lookup",
            global("com.apple.coreservices.appleevents", "Apple Events")?,
            key.clone(),
        ));
        items.push(Item::Unconditional {
            action: Action::Allow,
            ops: "lsopen",
            note: Some(key.clone()),
        });
        for name in [
            "com.apple.CoreServices.coreservicesd",
            "com.apple.coreservices.quarantine-resolver",
        ] {
            items.push(Item::single(
                Action::Allow,
                "mach-lookup",
                global(name, "Apple Events")?,
                key.clone(),
            ));
        }
    }
    if !names.is_empty() {
        items.push(Item::Comment(
            "network.allowMachLookup: a trailing * is a prefix".into(),
        ));
    }
    for (i, name) in names.iter().enumerate() {
        let key = format!("network.allowMachLookup[{i}]");
        let note = ctx.key_note(&key);
        let filter = match name.strip_suffix('*') {
            Some(prefix) => format!(
                "(global-name-prefix {})",
                ctx.string(prefix, &|| key.clone())?
            ),
            None => global(name, &key)?,
        };
        items.push(Item::single(Action::Allow, "mach-lookup", filter, note));
    }
    Ok(())
}

pub(super) fn network_section(ctx: &Ctx<'_>, items: &mut Vec<Item>) -> Result<(), EmitError> {
    let net = &ctx.ir.net;
    items.push(Item::Blank);
    items.push(Item::Comment(
        "Network: only what is listed; hosts are checked by srt's proxy".into(),
    ));
    let allow = |items: &mut Vec<Item>, ops: &'static str, filter: &str, note: &str| {
        items.push(Item::single(
            Action::Allow,
            ops,
            filter.to_string(),
            note.to_string(),
        ));
    };
    if net.allow_local_binding {
        // Binding and accepting use `*`: Seatbelt's `localhost` does not match the
        // IPv4-mapped address a dual-stack socket binds to, and `localhost` and `*` are the
        // only host words it has. Outbound names the remote side and loopback only: a
        // `(local ip …)` filter on outbound would match every connection.
        let key = ctx.key_note("network.allowLocalBinding");
        allow(items, "network-bind", "(local ip \"*:*\")", &key);
        allow(items, "network-inbound", "(local ip \"*:*\")", &key);
        allow(
            items,
            "network-outbound",
            "(remote ip \"localhost:*\")",
            &key,
        );
    }
    if net.allow_all_unix_sockets {
        let key = ctx.key_note("network.allowAllUnixSockets");
        allow(items, "system-socket", "(socket-domain AF_UNIX)", &key);
        allow(
            items,
            "network-bind",
            "(local unix-socket (path-regex #\"^/\"))",
            &key,
        );
        allow(
            items,
            "network-outbound",
            "(remote unix-socket (path-regex #\"^/\"))",
            &key,
        );
    } else if !net.allow_unix_sockets.is_empty() {
        allow(
            items,
            "system-socket",
            "(socket-domain AF_UNIX)",
            "network.allowUnixSockets",
        );
        for r in &net.allow_unix_sockets {
            let what = || ctx.ir.describe(&r.origin);
            let sub = ctx.subpath(&r.pattern.base(), &what)?;
            let note = ctx.note(&r.origin, &r.spelled, &r.pattern.display());
            allow(
                items,
                "network-bind",
                &format!("(local unix-socket {sub})"),
                &note,
            );
            allow(
                items,
                "network-outbound",
                &format!("(remote unix-socket {sub})"),
                &note,
            );
        }
    }
    let ports = ctx.opts.proxy;
    let mut proxy = |port: u16, key: &str| {
        let note = if ctx.opts.key_spans.0.contains_key(key) {
            ctx.key_note(key)
        } else {
            "built-in: srt's proxy on loopback".to_string()
        };
        allow(
            items,
            "network-bind",
            &format!("(local ip \"localhost:{port}\")"),
            &note,
        );
        allow(
            items,
            "network-inbound",
            &format!("(local ip \"localhost:{port}\")"),
            &note,
        );
        allow(
            items,
            "network-outbound",
            &format!("(remote ip \"localhost:{port}\")"),
            &note,
        );
    };
    proxy(ports.http, "network.httpProxyPort");
    if ports.socks != ports.http {
        proxy(ports.socks, "network.socksProxyPort");
    }
    Ok(())
}
