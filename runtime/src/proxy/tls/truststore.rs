//! The JVM's copy of the trust bundle: a PKCS#12 trust store (RFC 7292), since a JVM reads none
//! of the PEM variables. It holds certificates only, so it needs no encryption and no integrity
//! MAC, and the JVM loads it without a password (JDK 11.0.12 and later). Each certificate is a
//! `certBag` carrying Oracle's trusted-key-usage attribute, which is what makes the JDK treat
//! a certificate in a PKCS#12 store as a trust anchor (what `keytool -importcert` writes).
//!
//! The DER is written here: the structure is a few nested sequences and no cryptography, which
//! does not warrant a PKCS#12 crate (those pull in the ciphers and KDFs of encrypted stores).

use rustls::pki_types::CertificateDer;

/// A password-less PKCS#12 store trusting every certificate of `certs`, in order.
pub fn pkcs12(certs: &[CertificateDer<'_>]) -> Vec<u8> {
    let bags: Vec<Vec<u8>> = certs
        .iter()
        .enumerate()
        .map(|(i, cert)| cert_bag(cert, &format!("srt-{i}")))
        .collect();
    let safe_contents = tlv(0x30, &bags.concat());
    let authenticated_safe = tlv(0x30, &data_content_info(&safe_contents));
    tlv(
        0x30,
        &[tlv(0x02, &[3]), data_content_info(&authenticated_safe)].concat(),
    )
}

const DATA: &[u64] = &[1, 2, 840, 113_549, 1, 7, 1];
const CERT_BAG: &[u64] = &[1, 2, 840, 113_549, 1, 12, 10, 1, 3];
const X509_CERTIFICATE: &[u64] = &[1, 2, 840, 113_549, 1, 9, 22, 1];
const FRIENDLY_NAME: &[u64] = &[1, 2, 840, 113_549, 1, 9, 20];
const ORACLE_TRUSTED_KEY_USAGE: &[u64] = &[2, 16, 840, 1, 113_894, 746_875, 1, 1];
const ANY_EXTENDED_KEY_USAGE: &[u64] = &[2, 5, 29, 37, 0];

/// `SafeBag { certBag, [0] CertBag { x509Certificate, [0] OCTET STRING }, attributes }`.
fn cert_bag(cert: &CertificateDer<'_>, alias: &str) -> Vec<u8> {
    let bag_value = tlv(
        0x30,
        &[oid(X509_CERTIFICATE), tlv(0xA0, &tlv(0x04, cert.as_ref()))].concat(),
    );
    let alias_bmp: Vec<u8> = alias.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let attributes = set_of(vec![
        tlv(
            0x30,
            &[oid(FRIENDLY_NAME), tlv(0x31, &tlv(0x1E, &alias_bmp))].concat(),
        ),
        tlv(
            0x30,
            &[
                oid(ORACLE_TRUSTED_KEY_USAGE),
                tlv(0x31, &oid(ANY_EXTENDED_KEY_USAGE)),
            ]
            .concat(),
        ),
    ]);
    tlv(
        0x30,
        &[oid(CERT_BAG), tlv(0xA0, &bag_value), attributes].concat(),
    )
}

/// `ContentInfo { data, [0] EXPLICIT OCTET STRING }`.
fn data_content_info(content: &[u8]) -> Vec<u8> {
    tlv(0x30, &[oid(DATA), tlv(0xA0, &tlv(0x04, content))].concat())
}

/// DER `SET OF`: the elements sorted by their encodings.
fn set_of(mut elements: Vec<Vec<u8>>) -> Vec<u8> {
    elements.sort();
    tlv(0x31, &elements.concat())
}

fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut body = Vec::new();
    let (first, second) = (
        arcs.first().copied().unwrap_or(0),
        arcs.get(1).copied().unwrap_or(0),
    );
    for arc in std::iter::once(first * 40 + second).chain(arcs.iter().skip(2).copied()) {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            groups.push(0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        body.extend(groups.iter().rev());
    }
    tlv(0x06, &body)
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_pieces() {
        // 1.2.840.113549 is the classic example: 06 06 2A 86 48 86 F7 0D.
        assert_eq!(
            oid(&[1, 2, 840, 113_549]),
            [0x06, 0x06, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D]
        );
        assert_eq!(tlv(0x04, &[0; 200])[..3], [0x04, 0x81, 200]);
        assert_eq!(tlv(0x04, &[0; 300])[..4], [0x04, 0x82, 0x01, 0x2C]);
    }

    /// The JDK's own `keytool` reads the store without a password and lists every certificate
    /// as a trusted entry.
    #[test]
    fn keytool_lists_every_certificate_as_trusted() {
        let certs: Vec<CertificateDer<'static>> = (0..3)
            .map(|i| {
                let key = rcgen::KeyPair::generate().unwrap();
                let params = rcgen::CertificateParams::new(vec![format!("ca{i}.test")]).unwrap();
                params.self_signed(&key).unwrap().der().clone()
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trust.p12");
        std::fs::write(&path, pkcs12(&certs)).unwrap();
        let out = std::process::Command::new("keytool")
            .args(["-list", "-storetype", "PKCS12", "-keystore"])
            .arg(&path)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(text.matches("trustedCertEntry").count(), 3, "{text}");
        for i in 0..3 {
            assert!(text.contains(&format!("srt-{i},")), "{text}");
        }
    }
}
