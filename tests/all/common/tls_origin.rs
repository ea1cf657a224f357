//! A real HTTPS origin on 127.0.0.1 with its own test CA (written as PEM for
//! `extraCaCertPaths`), recording every request it receives: the name the client asked for
//! (SNI), the request line, the headers and the body (chunked bodies decoded). It answers
//! each request with `200 ok <n>` and closes; `GET /repo.git/info/refs` gets an empty git
//! smart-HTTP advertisement so `git ls-remote` works against it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

/// One request as the origin saw it.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    pub sni: Option<String>,
    pub line: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Everything received, as text (for "contains" checks).
    pub fn all(&self) -> String {
        let mut s = self.line.clone();
        for (k, v) in &self.headers {
            s.push_str(&format!("\n{k}: {v}"));
        }
        s.push('\n');
        s.push_str(&String::from_utf8_lossy(&self.body));
        s
    }
}

pub struct Origin {
    pub port: u16,
    /// The test CA's certificate (PEM file).
    pub ca_pem: PathBuf,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Origin {
    /// Serves names `names` (SANs) with a leaf signed by a fresh test CA written into `dir`.
    pub fn start(dir: &Path, names: &[&str]) -> Origin {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name = rcgen::DistinguishedName::new();
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "srt test origin CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let ca_pem = dir.join("origin-ca.pem");
        std::fs::write(&ca_pem, ca_cert.pem()).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf_params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(
            rustls::pki_types::PrivatePkcs8KeyDer::from(leaf_key.serialize_der()),
        );
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone()], key)
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(tcp) = conn else { continue };
                let (config, log) = (config.clone(), log.clone());
                std::thread::spawn(move || {
                    let Ok(tls) = rustls::ServerConnection::new(config) else {
                        return;
                    };
                    let mut stream = rustls::StreamOwned::new(tls, tcp);
                    let _ = serve_one(&mut stream, &log);
                });
            }
        });
        Origin { port, ca_pem, seen }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve_one(
    stream: &mut rustls::StreamOwned<rustls::ServerConnection, std::net::TcpStream>,
    log: &Mutex<Vec<Seen>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(&mut *stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut seen = Seen {
        line: line.trim_end().to_string(),
        ..Seen::default()
    };
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            seen.headers
                .push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let chunked = seen
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            seen.body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = seen.header("content-length").and_then(|v| v.parse().ok()) {
        let mut body = vec![0; n];
        reader.read_exact(&mut body)?;
        seen.body = body;
    }
    drop(reader);
    seen.sni = stream.conn.server_name().map(str::to_string);
    let git = seen.line.contains("/info/refs?service=git-upload-pack");
    let count = {
        let mut l = log.lock().unwrap();
        l.push(seen);
        l.len()
    };
    let (ctype, body) = if git {
        let caps = "0000000000000000000000000000000000000000 capabilities^{}\0agent=srt-test\n";
        let body = format!(
            "001e# service=git-upload-pack\n0000{:04x}{caps}0000",
            caps.len() + 4
        );
        ("application/x-git-upload-pack-advertisement", body)
    } else {
        ("text/plain", format!("ok {count}\n"))
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()?;
    stream.conn.send_close_notify();
    let _ = stream.flush();
    Ok(())
}
