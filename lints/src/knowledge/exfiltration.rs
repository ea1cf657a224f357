//! Shared front doors: wildcards that reach many tenants. The channels that carry data out are
//! the knowledge base's data files (`lints/knowledge/*.toml`, [`super::CHANNELS`]).

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
