//! Hosts where anyone can publish or fetch data: what each lets a process do, when a build
//! legitimately needs it, and the narrower alternative.

/// A service whose hosts are an exfiltration path.
pub struct Service {
    pub name: &'static str,
    /// What a process that reaches it can do.
    pub can: &'static str,
    /// When a policy legitimately needs it.
    pub needed_for: &'static str,
    /// The minimal alternative.
    pub instead: &'static str,
    /// Hosts probed through the decision procedure, each with what it gives.
    pub hosts: &'static [(&'static str, &'static str)],
}

pub static SERVICES: &[Service] = &[
    Service {
        name: "GitHub",
        can: "a process that can reach github.com can push to any repository it has or finds a token for, and open gists, issues and comments; domain fronting reaches any GitHub-hosted endpoint through an allowed name",
        needed_for: "git dependencies (Cargo git dependencies, Go modules fetched directly, npm git refs) and `bd sync` (beads pushes work state)",
        instead: "registry-only dependencies need no GitHub (crates.io, proxy.golang.org, registry.npmjs.org); vendor or pre-fetch git dependencies before the sandboxed run; run `bd sync` after reviewing the run; for documentation lookups Context7 is narrower",
        hosts: &[
            ("github.com", "git push over HTTPS to any repository, and every github.com page"),
            ("api.github.com", "the REST and GraphQL API: gists, issues, comments, releases, repository contents"),
            ("uploads.github.com", "release-asset uploads"),
            ("gist.github.com", "public and secret gists"),
            ("codeload.github.com", "archives of any repository (attacker-chosen code in)"),
            ("raw.githubusercontent.com", "any public repository's files (attacker-controlled content in)"),
            ("objects.githubusercontent.com", "release assets and LFS objects of any repository"),
            ("gist.githubusercontent.com", "raw gists"),
        ],
    },
    Service {
        name: "GitLab",
        can: "a process that can reach gitlab.com can push to any repository it has a token for and post snippets, issues and comments",
        needed_for: "git dependencies hosted on GitLab",
        instead: "vendor or pre-fetch the dependency before the sandboxed run",
        hosts: &[("gitlab.com", "git push, snippets and the API")],
    },
    Service {
        name: "Bitbucket",
        can: "a process that can reach Bitbucket can push to any repository it has a token for and post snippets",
        needed_for: "git dependencies hosted on Bitbucket",
        instead: "vendor or pre-fetch the dependency before the sandboxed run",
        hosts: &[
            ("bitbucket.org", "git push and snippets"),
            ("api.bitbucket.org", "the API"),
        ],
    },
    Service {
        name: "paste and file-drop services",
        can: "anyone can upload text or files anonymously and read them back from anywhere",
        needed_for: "never for a build or a test",
        instead: "remove the entry",
        hosts: &[
            ("pastebin.com", "anonymous pastes"),
            ("paste.ee", "anonymous pastes"),
            ("hastebin.com", "anonymous pastes"),
            ("dpaste.com", "anonymous pastes"),
            ("termbin.com", "pastes from a plain socket"),
            ("0x0.st", "anonymous file uploads"),
            ("transfer.sh", "anonymous file uploads"),
            ("file.io", "anonymous file uploads"),
            ("temp.sh", "anonymous file uploads"),
        ],
    },
    Service {
        name: "request catchers and tunnels",
        can: "whatever is sent there is relayed to a listener anyone can set up",
        needed_for: "testing webhooks by hand, never an unattended run",
        instead: "remove the entry",
        hosts: &[
            ("webhook.site", "a request catcher"),
            ("srt-lint-probe.m.pipedream.net", "RequestBin endpoints"),
            ("srt-lint-probe.ngrok.io", "ngrok tunnels"),
            ("srt-lint-probe.ngrok-free.app", "ngrok tunnels"),
            ("srt-lint-probe.ngrok.app", "ngrok tunnels"),
            ("srt-lint-probe.trycloudflare.com", "Cloudflare quick tunnels"),
            ("srt-lint-probe.loca.lt", "localtunnel"),
            ("srt-lint-probe.oast.fun", "interactsh out-of-band catchers"),
        ],
    },
    Service {
        name: "object storage",
        can: "a process can write to any bucket that accepts it, including one an attacker owns and lets anyone write to",
        needed_for: "Go module downloads (proxy.golang.org redirects module zips to storage.googleapis.com) and some toolchain downloads",
        instead: "for Go, run `go mod download` before the sandboxed run and set `GOFLAGS=-mod=mod GOPROXY=off` inside it; otherwise name the exact bucket host your build reads",
        hosts: &[
            ("storage.googleapis.com", "every Google Cloud Storage bucket"),
            ("s3.amazonaws.com", "every Amazon S3 bucket (path-style)"),
            ("srt-lint-probe.s3.amazonaws.com", "every Amazon S3 bucket (virtual-host style)"),
            ("srt-lint-probe.blob.core.windows.net", "every Azure storage account"),
            ("srt-lint-probe.r2.cloudflarestorage.com", "every Cloudflare R2 bucket"),
        ],
    },
    Service {
        name: "chat webhooks",
        can: "a webhook URL posts messages (and files) to whichever workspace, server or chat issued it",
        needed_for: "a job that posts its own notifications",
        instead: "post notifications from outside the sandbox after the run",
        hosts: &[
            ("hooks.slack.com", "Slack incoming webhooks"),
            ("discord.com", "Discord webhooks"),
            ("discordapp.com", "Discord webhooks"),
            ("api.telegram.org", "Telegram bots"),
            ("srt-lint-probe.webhook.office.com", "Microsoft Teams webhooks"),
        ],
    },
];

/// Shared front doors not covered by the Public Suffix List lint: one wildcard reaches many
/// tenants' endpoints (domain fronting, customer buckets and APIs).
pub static FRONT_DOORS: &[(&str, &str)] = &[
    ("amazonaws.com", "every AWS service endpoint and customer resource (S3 buckets, API Gateway, load balancers, Lambda function URLs)"),
    ("cloudfront.net", "every Amazon CloudFront distribution"),
    ("fastly.net", "every site behind Fastly"),
    ("fastlylb.net", "every site behind Fastly"),
    ("akamaihd.net", "every site behind Akamai"),
    ("akamaized.net", "every site behind Akamai"),
    ("akamai.net", "every site behind Akamai"),
    ("edgekey.net", "every site behind Akamai"),
    ("edgesuite.net", "every site behind Akamai"),
    ("azureedge.net", "every Azure CDN endpoint"),
    ("azurefd.net", "every Azure Front Door endpoint"),
    ("windows.net", "every Azure storage account, database and website"),
    ("azurewebsites.net", "every Azure App Service site"),
    ("googleapis.com", "every Google API, including Cloud Storage buckets"),
    ("googleusercontent.com", "content any Google user hosts"),
    ("appspot.com", "every App Engine app"),
    ("cloudflare.net", "every site behind Cloudflare"),
    ("cloudflarestorage.com", "every Cloudflare R2 bucket"),
    ("b-cdn.net", "every site behind Bunny CDN"),
];
