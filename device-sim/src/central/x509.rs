//! The one thing the simulator needs from a client certificate after rustls has verified it:
//! the kiosk id, which is the subject's common name or else the first DNS subjectAltName.
//!
//! A small, bounds-checked DER walker (no X.509 crate in the workspace): it reads only the
//! TBSCertificate's subject and its subjectAltName extension and never panics on any input.

/// OID 2.5.4.3 (commonName), DER content bytes.
const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
/// OID 2.5.29.17 (subjectAltName), DER content bytes.
const OID_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];

const TAG_SEQUENCE: u8 = 0x30;
const TAG_SET: u8 = 0x31;
const TAG_OID: u8 = 0x06;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_BOOLEAN: u8 = 0x01;
const TAG_VERSION: u8 = 0xa0;
const TAG_EXTENSIONS: u8 = 0xa3;
/// dNSName in a GeneralName: [2] IMPLICIT IA5String.
const TAG_DNS_NAME: u8 = 0x82;

/// Why no kiosk id could be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error("certificate is not valid DER: {0}")]
    Der(&'static str),
    #[error("certificate has neither a common name nor a DNS subjectAltName")]
    NoName,
}

/// One DER element: its tag and content, and what follows it.
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    rest: &'a [u8],
}

fn read_tlv(input: &[u8]) -> Result<Tlv<'_>, CertError> {
    let (&tag, after_tag) = input.split_first().ok_or(CertError::Der("truncated tag"))?;
    if tag & 0x1f == 0x1f {
        return Err(CertError::Der(
            "multi-byte tags are not used in certificates",
        ));
    }
    let (&first, mut after_len) = after_tag
        .split_first()
        .ok_or(CertError::Der("truncated length"))?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err(CertError::Der("unsupported length form"));
        }
        if after_len.len() < n {
            return Err(CertError::Der("truncated length"));
        }
        let mut len = 0usize;
        for &b in &after_len[..n] {
            len = (len << 8) | usize::from(b);
        }
        after_len = &after_len[n..];
        len
    };
    if after_len.len() < len {
        return Err(CertError::Der("element longer than its container"));
    }
    let (content, rest) = after_len.split_at(len);
    Ok(Tlv { tag, content, rest })
}

fn expect<'a>(input: &'a [u8], tag: u8, what: &'static str) -> Result<Tlv<'a>, CertError> {
    let tlv = read_tlv(input)?;
    if tlv.tag != tag {
        return Err(CertError::Der(what));
    }
    Ok(tlv)
}

/// The subject common name, if any.
pub fn common_name(cert_der: &[u8]) -> Result<Option<String>, CertError> {
    let tbs = tbs_fields(cert_der)?;
    let mut rdns = tbs.subject;
    while !rdns.is_empty() {
        let rdn = expect(rdns, TAG_SET, "name entry is not a SET")?;
        rdns = rdn.rest;
        let mut attrs = rdn.content;
        while !attrs.is_empty() {
            let attr = expect(attrs, TAG_SEQUENCE, "attribute is not a SEQUENCE")?;
            attrs = attr.rest;
            let oid = expect(attr.content, TAG_OID, "attribute type is not an OID")?;
            if oid.content == OID_COMMON_NAME {
                let value = read_tlv(oid.rest)?;
                return Ok(Some(String::from_utf8_lossy(value.content).into_owned()));
            }
        }
    }
    Ok(None)
}

/// The first dNSName of the subjectAltName extension, if any.
pub fn first_dns_san(cert_der: &[u8]) -> Result<Option<String>, CertError> {
    let tbs = tbs_fields(cert_der)?;
    let Some(exts) = tbs.extensions else {
        return Ok(None);
    };
    let list = expect(exts, TAG_SEQUENCE, "extensions are not a SEQUENCE")?;
    let mut items = list.content;
    while !items.is_empty() {
        let ext = expect(items, TAG_SEQUENCE, "extension is not a SEQUENCE")?;
        items = ext.rest;
        let oid = expect(ext.content, TAG_OID, "extension id is not an OID")?;
        if oid.content != OID_SUBJECT_ALT_NAME {
            continue;
        }
        let mut after = oid.rest;
        let next = read_tlv(after)?;
        if next.tag == TAG_BOOLEAN {
            after = next.rest;
        }
        let value = expect(
            after,
            TAG_OCTET_STRING,
            "extension value is not an OCTET STRING",
        )?;
        let names = expect(
            value.content,
            TAG_SEQUENCE,
            "subjectAltName is not a SEQUENCE",
        )?;
        let mut gn = names.content;
        while !gn.is_empty() {
            let name = read_tlv(gn)?;
            gn = name.rest;
            if name.tag == TAG_DNS_NAME {
                return Ok(Some(String::from_utf8_lossy(name.content).into_owned()));
            }
        }
    }
    Ok(None)
}

/// The kiosk id a client certificate names: its CN, else its first DNS SAN.
pub fn kiosk_id(cert_der: &[u8]) -> Result<String, CertError> {
    if let Some(cn) = common_name(cert_der)?.filter(|s| !s.is_empty()) {
        return Ok(cn);
    }
    first_dns_san(cert_der)?
        .filter(|s| !s.is_empty())
        .ok_or(CertError::NoName)
}

struct TbsFields<'a> {
    subject: &'a [u8],
    extensions: Option<&'a [u8]>,
}

fn tbs_fields(cert_der: &[u8]) -> Result<TbsFields<'_>, CertError> {
    let cert = expect(cert_der, TAG_SEQUENCE, "certificate is not a SEQUENCE")?;
    let tbs = expect(
        cert.content,
        TAG_SEQUENCE,
        "TBSCertificate is not a SEQUENCE",
    )?;
    let mut rest = tbs.content;
    let first = read_tlv(rest)?;
    if first.tag == TAG_VERSION {
        rest = first.rest;
    }
    // serialNumber, signature, issuer, validity, then subject.
    for what in ["serial", "signature algorithm", "issuer", "validity"] {
        let skipped = read_tlv(rest).map_err(|_| CertError::Der(what))?;
        rest = skipped.rest;
    }
    let subject = expect(rest, TAG_SEQUENCE, "subject is not a SEQUENCE")?;
    rest = subject.rest;
    // subjectPublicKeyInfo, then optional unique ids and extensions.
    let spki = expect(rest, TAG_SEQUENCE, "public key info is not a SEQUENCE")?;
    rest = spki.rest;
    let mut extensions = None;
    while !rest.is_empty() {
        let field = read_tlv(rest)?;
        rest = field.rest;
        if field.tag == TAG_EXTENSIONS {
            extensions = Some(field.content);
        }
    }
    Ok(TbsFields {
        subject: subject.content,
        extensions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DnType, KeyPair};

    fn cert(cn: Option<&str>, sans: Vec<String>) -> Vec<u8> {
        let mut params = CertificateParams::new(sans).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::OrganizationName, "hall");
        if let Some(cn) = cn {
            params.distinguished_name.push(DnType::CommonName, cn);
        }
        let key = KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn reads_the_common_name_first() {
        let der = cert(Some("XH-0001"), vec!["xh-0009.example".into()]);
        assert_eq!(common_name(&der).unwrap().as_deref(), Some("XH-0001"));
        assert_eq!(
            first_dns_san(&der).unwrap().as_deref(),
            Some("xh-0009.example")
        );
        assert_eq!(kiosk_id(&der).unwrap(), "XH-0001");
    }

    #[test]
    fn falls_back_to_the_first_dns_san() {
        let der = cert(None, vec!["127.0.0.1".into(), "XH-0002".into(), "b".into()]);
        assert_eq!(common_name(&der).unwrap(), None);
        assert_eq!(kiosk_id(&der).unwrap(), "XH-0002");
        let bare = cert(None, vec![]);
        assert_eq!(kiosk_id(&bare).unwrap_err(), CertError::NoName);
    }

    #[test]
    fn never_panics_on_truncated_or_garbage_input() {
        let der = cert(Some("XH-0001"), vec!["a".into()]);
        for cut in 0..der.len() {
            let _ = kiosk_id(&der[..cut]);
        }
        for bad in [
            &b""[..],
            &[0x30],
            &[0x30, 0x85, 1, 2, 3, 4, 5],
            &[0x1f, 0],
            &[0x30, 0x80],
        ] {
            assert!(kiosk_id(bad).is_err());
        }
        let mut flipped = der.clone();
        for i in 0..flipped.len() {
            flipped[i] ^= 0xff;
            let _ = kiosk_id(&flipped);
            flipped[i] ^= 0xff;
        }
    }
}
