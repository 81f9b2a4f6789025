//! The data part of the replies that carry data: the card read (30 01 / 30 10), the SAM id
//! (12 FF) and the additional address (30 03). Pure functions over bytes.

use std::fmt;

use zeroize::Zeroizing;

/// Size of the text block every card type uses.
pub const TEXT_LEN: usize = 256;
/// Size of the photo blob (WLT on a real card).
pub const PHOTO_LEN: usize = 1024;
/// Fingerprint sizes the spec lists for the 30 10 read.
pub const FINGERPRINT_LENS: [usize; 3] = [1024, 512, 0];

/// Why a reply's data did not have the shape the spec gives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("{what}: reply data is {got} bytes, expected {expected}")]
    WrongSize {
        what: &'static str,
        got: usize,
        expected: String,
    },
    #[error("card read: text length field is {0}, the card layouts need 256")]
    TextLength(usize),
    #[error("card read: photo length field is {0}, expected 1024")]
    PhotoLength(usize),
    #[error("card read: fingerprint length field is {0}, expected 1024, 512 or 0")]
    FingerprintLength(usize),
}

/// The three blocks of a card read, still raw. Wiped on drop.
pub struct RawCard {
    pub text: Zeroizing<[u8; TEXT_LEN]>,
    pub photo: Zeroizing<Vec<u8>>,
    pub fingerprint: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for RawCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawCard")
            .field("photo_len", &self.photo.len())
            .field("fingerprint_len", &self.fingerprint.len())
            .finish_non_exhaustive()
    }
}

fn be16(data: &[u8], at: usize) -> Option<usize> {
    let b = data.get(at..at + 2)?;
    Some(usize::from(u16::from_be_bytes([b[0], b[1]])))
}

/// Splits the data of a successful read reply. `with_fingerprint` is true for 30 10, whose
/// header has a third length (FP_LEN).
pub fn parse_read(data: &[u8], with_fingerprint: bool) -> Result<RawCard, ReplyError> {
    let header = if with_fingerprint { 6 } else { 4 };
    let what = if with_fingerprint {
        "read text, photo and fingerprint"
    } else {
        "read text and photo"
    };
    let short = || ReplyError::WrongSize {
        what,
        got: data.len(),
        expected: format!("at least {header}"),
    };
    let text_len = be16(data, 0).ok_or_else(short)?;
    let photo_len = be16(data, 2).ok_or_else(short)?;
    let fp_len = if with_fingerprint {
        be16(data, 4).ok_or_else(short)?
    } else {
        0
    };
    if text_len != TEXT_LEN {
        return Err(ReplyError::TextLength(text_len));
    }
    if photo_len != PHOTO_LEN {
        return Err(ReplyError::PhotoLength(photo_len));
    }
    if !FINGERPRINT_LENS.contains(&fp_len) {
        return Err(ReplyError::FingerprintLength(fp_len));
    }
    let expected = header + text_len + photo_len + fp_len;
    if data.len() != expected {
        return Err(ReplyError::WrongSize {
            what,
            got: data.len(),
            expected: expected.to_string(),
        });
    }
    let mut text = Zeroizing::new([0u8; TEXT_LEN]);
    text.copy_from_slice(&data[header..header + TEXT_LEN]);
    let photo_at = header + TEXT_LEN;
    let fp_at = photo_at + PHOTO_LEN;
    Ok(RawCard {
        text,
        photo: Zeroizing::new(data[photo_at..fp_at].to_vec()),
        fingerprint: Zeroizing::new(data[fp_at..].to_vec()),
    })
}

/// The SAM's identity: five little-endian numbers (u16, u16, u32, u32, u32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SamId {
    pub major: u16,
    pub minor: u16,
    pub date: u32,
    pub serial_hi: u32,
    pub serial_lo: u32,
}

impl SamId {
    pub fn parse(data: &[u8]) -> Result<SamId, ReplyError> {
        let b: &[u8; 16] = data.try_into().map_err(|_| ReplyError::WrongSize {
            what: "read SAM id",
            got: data.len(),
            expected: "16".into(),
        })?;
        let u16le = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let u32le = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Ok(SamId {
            major: u16le(0),
            minor: u16le(2),
            date: u32le(4),
            serial_hi: u32le(8),
            serial_lo: u32le(12),
        })
    }
}

/// `MM.mm-YYYYMMDD-NNNNNNNNNN-NNNNNNNNNN`: the string form the spec suggests. Vendors differ
/// (*unconfirmed*), so the raw fields stay available.
impl fmt::Display for SamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}.{:02}-{:08}-{:010}-{:010}",
            self.major, self.minor, self.date, self.serial_hi, self.serial_lo
        )
    }
}

/// The additional address (30 03): UCS-2 text, trimmed. Its framing is *unconfirmed* (the
/// spec saw 70 bytes), so any even length up to 70 bytes is taken as it comes.
pub fn parse_extra_address(data: &[u8]) -> Result<String, ReplyError> {
    if data.len() > 70 || !data.len().is_multiple_of(2) {
        return Err(ReplyError::WrongSize {
            what: "read additional address",
            got: data.len(),
            expected: "an even number up to 70".into(),
        });
    }
    Ok(super::text::decode_ucs2(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_data(fp_len: Option<u16>) -> Vec<u8> {
        let mut d = vec![0x01, 0x00, 0x04, 0x00];
        if let Some(n) = fp_len {
            d.extend_from_slice(&n.to_be_bytes());
        }
        d.extend((0..256).map(|i| i as u8));
        d.extend(std::iter::repeat_n(0xEE, 1024));
        d.extend(std::iter::repeat_n(0xF0, usize::from(fp_len.unwrap_or(0))));
        d
    }

    #[test]
    fn read_reply_splits_into_text_and_photo() {
        let raw = parse_read(&read_data(None), false).unwrap();
        assert_eq!(raw.text[0], 0);
        assert_eq!(raw.text[255], 255);
        assert_eq!(raw.photo.len(), 1024);
        assert!(raw.photo.iter().all(|b| *b == 0xEE));
        assert!(raw.fingerprint.is_empty());
    }

    #[test]
    fn fingerprint_variants_have_the_spec_sizes() {
        // 2321 / 1809 / 1297-byte frames: data = frame - 7 header - 3 SW - 1 CHK.
        for (fp, frame_len) in [(1024u16, 2321usize), (512, 1809), (0, 1297)] {
            let data = read_data(Some(fp));
            assert_eq!(data.len() + 11, frame_len);
            let raw = parse_read(&data, true).unwrap();
            assert_eq!(raw.fingerprint.len(), usize::from(fp));
            assert_eq!(raw.text[1], 1, "text at frame offset 16");
        }
    }

    #[test]
    fn wrong_lengths_are_specific_errors() {
        let mut d = read_data(None);
        d[1] = 0x80;
        assert_eq!(
            parse_read(&d, false).unwrap_err(),
            ReplyError::TextLength(0x180)
        );
        let mut d = read_data(None);
        d[3] = 0x01;
        assert_eq!(
            parse_read(&d, false).unwrap_err(),
            ReplyError::PhotoLength(0x401)
        );
        let mut d = read_data(Some(300));
        d.truncate(100);
        assert_eq!(
            parse_read(&d, true).unwrap_err(),
            ReplyError::FingerprintLength(300)
        );
        let mut d = read_data(None);
        d.pop();
        assert!(matches!(
            parse_read(&d, false),
            Err(ReplyError::WrongSize { got: 1283, .. })
        ));
        assert!(matches!(
            parse_read(&[0x01], false),
            Err(ReplyError::WrongSize { got: 1, .. })
        ));
    }

    #[test]
    fn sam_id_formats_as_the_spec_suggests() {
        let mut d = Vec::new();
        d.extend_from_slice(&5u16.to_le_bytes());
        d.extend_from_slice(&1u16.to_le_bytes());
        d.extend_from_slice(&20240131u32.to_le_bytes());
        d.extend_from_slice(&123u32.to_le_bytes());
        d.extend_from_slice(&4_000_000_000u32.to_le_bytes());
        let id = SamId::parse(&d).unwrap();
        assert_eq!(id.to_string(), "05.01-20240131-0000000123-4000000000");
        assert!(SamId::parse(&d[..15]).is_err());
    }

    #[test]
    fn extra_address_is_trimmed_ucs2() {
        let mut d: Vec<u8> = "幸福路8号"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        while d.len() < 70 {
            d.extend_from_slice(&[0x20, 0x00]);
        }
        assert_eq!(parse_extra_address(&d).unwrap(), "幸福路8号");
        assert!(parse_extra_address(&d[..69]).is_err());
    }
}
