//! The card photo. On a real card the 1024-byte blob is WLT, a proprietary format only the
//! reader vendor's licensed decoder opens, so the driver treats it as opaque and hands it to a
//! [`PhotoDecoder`]:
//!
//! - [`SimTestDecoder`] decodes the simulator's own test encoding, `HKSIMPH1`, which is NOT
//!   WLT (docs/idcard-sim-photo-format.md): the 8 ASCII bytes `HKSIMPH1`, a big-endian u16
//!   length N (1..=1014), N bytes of baseline JPEG of the 102x126 portrait, zero padding to
//!   1024 bytes.
//! - [`CommandDecoder`] runs the vendor decoder named in the configuration
//!   (`devices.id_reader.photo_decoder_command`): the blob on its stdin, an image (BMP as the
//!   vendor tools write it; PNG and JPEG work too) on its stdout.
//! - [`PhotoDecoders`] picks one by the blob: test encoding by its magic, anything else to the
//!   vendor decoder when one is configured, else [`PhotoError::Unavailable`]: face match is
//!   then unavailable and the UI says so; the rest of the flow works on.

use std::fmt;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

/// Magic of the simulator's test encoding.
pub const TEST_MAGIC: &[u8; 8] = b"HKSIMPH1";
/// Size of the photo blob.
pub const BLOB_LEN: usize = 1024;
/// Portrait size of the card photo.
pub const WIDTH: u32 = 102;
pub const HEIGHT: u32 = 126;
/// Largest JPEG the test encoding carries: the blob less magic and length.
pub const MAX_TEST_JPEG: usize = BLOB_LEN - 10;

/// A decoded portrait, 24-bit RGB, wiped on drop.
#[derive(Clone)]
pub struct Portrait {
    pub width: u32,
    pub height: u32,
    rgb: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Portrait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Portrait({}x{})", self.width, self.height)
    }
}

impl Portrait {
    pub fn from_image(img: image::RgbImage) -> Portrait {
        let (width, height) = img.dimensions();
        Portrait {
            width,
            height,
            rgb: Zeroizing::new(img.into_raw()),
        }
    }

    /// Row-major RGB bytes, `width * height * 3` of them.
    pub fn rgb(&self) -> &[u8] {
        &self.rgb
    }

    /// A copy as an `image` buffer (for the face recognizer); the caller owns wiping it.
    pub fn to_image(&self) -> image::RgbImage {
        image::RgbImage::from_raw(self.width, self.height, self.rgb.to_vec())
            .unwrap_or_else(|| image::RgbImage::new(self.width, self.height))
    }
}

/// Why a photo could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    #[error("no photo decoder is configured for this photo (a real card's WLT needs the vendor decoder): face match is unavailable")]
    Unavailable,
    #[error("the photo is not in the simulator's test encoding")]
    NotTestEncoding,
    #[error("test-encoded photo is corrupt: {0}")]
    Corrupt(String),
    #[error("vendor photo decoder: {0}")]
    Vendor(String),
}

/// Turns the opaque 1024-byte blob into a portrait.
pub trait PhotoDecoder: Send + Sync {
    /// A short name for diagnostics (`sim_test_encoding`, `vendor_command`).
    fn name(&self) -> &str;
    fn decode(&self, blob: &[u8]) -> Result<Portrait, PhotoError>;
}

/// Decoder of the simulator's `HKSIMPH1` test encoding (NOT WLT).
#[derive(Debug, Clone, Copy, Default)]
pub struct SimTestDecoder;

impl SimTestDecoder {
    pub fn recognises(blob: &[u8]) -> bool {
        blob.starts_with(TEST_MAGIC)
    }
}

impl PhotoDecoder for SimTestDecoder {
    fn name(&self) -> &str {
        "sim_test_encoding"
    }

    fn decode(&self, blob: &[u8]) -> Result<Portrait, PhotoError> {
        if !Self::recognises(blob) {
            return Err(PhotoError::NotTestEncoding);
        }
        if blob.len() != BLOB_LEN {
            return Err(PhotoError::Corrupt(format!(
                "blob is {} bytes, expected {BLOB_LEN}",
                blob.len()
            )));
        }
        let n = usize::from(u16::from_be_bytes([blob[8], blob[9]]));
        if !(1..=MAX_TEST_JPEG).contains(&n) {
            return Err(PhotoError::Corrupt(format!(
                "JPEG length {n} is outside 1..={MAX_TEST_JPEG}"
            )));
        }
        if blob[10 + n..].iter().any(|b| *b != 0) {
            return Err(PhotoError::Corrupt(
                "padding after the JPEG is not zero".into(),
            ));
        }
        let img = image::load_from_memory_with_format(&blob[10..10 + n], image::ImageFormat::Jpeg)
            .map_err(|e| PhotoError::Corrupt(format!("JPEG does not decode: {e}")))?;
        if (img.width(), img.height()) != (WIDTH, HEIGHT) {
            return Err(PhotoError::Corrupt(format!(
                "portrait is {}x{}, expected {WIDTH}x{HEIGHT}",
                img.width(),
                img.height()
            )));
        }
        Ok(Portrait::from_image(img.into_rgb8()))
    }
}

/// Adapter for a vendor decoder run as a command: the blob goes to its stdin, an image comes
/// back on its stdout (BMP as vendor tools write it; any format the `image` crate reads with
/// this build's features works). A real deployment wraps its licensed decoder library in
/// such a command.
#[derive(Debug, Clone)]
pub struct CommandDecoder {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub timeout: Duration,
}

/// Cap on the decoder's output: a 102x126 BMP is 38,862 bytes.
const MAX_VENDOR_OUTPUT: u64 = 4 << 20;

impl CommandDecoder {
    /// Parses the configuration value: the program, then arguments split at whitespace (no
    /// quoting; use a wrapper script for arguments with spaces). `None` when empty.
    pub fn from_config(command: &str) -> Option<CommandDecoder> {
        let mut words = command.split_whitespace();
        let program = words.next()?;
        Some(CommandDecoder {
            program: PathBuf::from(program),
            args: words.map(str::to_string).collect(),
            timeout: Duration::from_secs(5),
        })
    }
}

impl PhotoDecoder for CommandDecoder {
    fn name(&self) -> &str {
        "vendor_command"
    }

    fn decode(&self, blob: &[u8]) -> Result<Portrait, PhotoError> {
        // Its own process group, so a timeout can stop a wrapper script and its children.
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                PhotoError::Vendor(format!("cannot start {}: {e}", self.program.display()))
            })?;
        // Write the blob and read the image on their own threads, so a decoder that writes
        // before it has read everything cannot deadlock us.
        let stdin = child.stdin.take();
        let input = Zeroizing::new(blob.to_vec());
        let writer = std::thread::spawn(move || {
            if let Some(mut stdin) = stdin {
                let _ = stdin.write_all(&input);
            }
        });
        let stdout = child.stdout.take();
        let reader = std::thread::spawn(move || {
            let mut out = Zeroizing::new(Vec::new());
            if let Some(stdout) = stdout {
                let _ = stdout.take(MAX_VENDOR_OUTPUT).read_to_end(&mut out);
            }
            out
        });
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() >= deadline => {
                    kill_group(child.id());
                    let _ = child.kill();
                    let _ = child.wait();
                    // The threads end when the pipes close; not joined, in case a straggler
                    // outside the group still holds one.
                    drop((writer, reader));
                    return Err(PhotoError::Vendor(format!(
                        "no answer within {} ms",
                        self.timeout.as_millis()
                    )));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => return Err(PhotoError::Vendor(format!("cannot wait for it: {e}"))),
            }
        };
        let _ = writer.join();
        let out = reader
            .join()
            .map_err(|_| PhotoError::Vendor("output reader failed".into()))?;
        if !status.success() {
            return Err(PhotoError::Vendor(format!("exited with {status}")));
        }
        if out.is_empty() {
            return Err(PhotoError::Vendor("wrote no image".into()));
        }
        let img = image::load_from_memory(&out)
            .map_err(|e| PhotoError::Vendor(format!("its output is not an image: {e}")))?;
        if img.width() == 0 || img.height() == 0 || img.width() > 2000 || img.height() > 2000 {
            return Err(PhotoError::Vendor(format!(
                "image size {}x{} is not a portrait",
                img.width(),
                img.height()
            )));
        }
        Ok(Portrait::from_image(img.into_rgb8()))
    }
}

/// Sends SIGKILL to the process group led by `pid`.
fn kill_group(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        if pid > 0 {
            // SAFETY: kill(2) takes plain integers; a stale group id fails with ESRCH.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
}

/// The decoders of one kiosk: the test encoding always, the vendor command when configured.
#[derive(Debug, Clone, Default)]
pub struct PhotoDecoders {
    pub vendor: Option<CommandDecoder>,
}

impl PhotoDecoders {
    /// From `devices.id_reader.photo_decoder_command` (empty: no vendor decoder).
    pub fn from_config(command: &str) -> PhotoDecoders {
        PhotoDecoders {
            vendor: CommandDecoder::from_config(command),
        }
    }

    /// Whether some decoder would take this blob: when false, face match is unavailable.
    pub fn can_decode(&self, blob: &[u8]) -> bool {
        SimTestDecoder::recognises(blob) || self.vendor.is_some()
    }

    /// Which decoder takes this blob, by name.
    pub fn decoder_for(&self, blob: &[u8]) -> Option<&str> {
        if SimTestDecoder::recognises(blob) {
            Some(SimTestDecoder.name())
        } else {
            self.vendor.as_ref().map(|v| v.name())
        }
    }
}

impl PhotoDecoder for PhotoDecoders {
    fn name(&self) -> &str {
        "configured"
    }

    fn decode(&self, blob: &[u8]) -> Result<Portrait, PhotoError> {
        if SimTestDecoder::recognises(blob) {
            return SimTestDecoder.decode(blob);
        }
        match &self.vendor {
            Some(v) => v.decode(blob),
            None => Err(PhotoError::Unavailable),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A test-encoded blob made in the test from the format description. Greyscale: the
    /// `image` crate's encoder writes standard tables whose colour headers alone nearly fill
    /// the 1014 bytes (the simulator uses an optimising encoder and sends colour).
    fn blob_of(img: &image::RgbImage, quality: u8) -> Vec<u8> {
        let grey = image::DynamicImage::ImageRgb8(img.clone()).to_luma8();
        let jpeg = (1..=quality)
            .rev()
            .map(|q| {
                let mut jpeg = Vec::new();
                image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, q)
                    .encode(
                        grey.as_raw(),
                        grey.width(),
                        grey.height(),
                        image::ExtendedColorType::L8,
                    )
                    .unwrap();
                jpeg
            })
            .find(|j| j.len() <= MAX_TEST_JPEG)
            .expect("test image fits");
        let mut blob = TEST_MAGIC.to_vec();
        blob.extend_from_slice(&(jpeg.len() as u16).to_be_bytes());
        blob.extend_from_slice(&jpeg);
        blob.resize(BLOB_LEN, 0);
        blob
    }

    /// Four flat grey quadrants: tiny as JPEG, easy to check after decoding.
    fn quadrants() -> image::RgbImage {
        image::RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
            let v = match (x < 48, y < 64) {
                (true, true) => 30,
                (false, true) => 90,
                (true, false) => 160,
                (false, false) => 220,
            };
            image::Rgb([v, v, v])
        })
    }

    #[test]
    fn test_encoding_round_trips() {
        let img = quadrants();
        let p = SimTestDecoder.decode(&blob_of(&img, 30)).unwrap();
        assert_eq!((p.width, p.height), (WIDTH, HEIGHT));
        assert_eq!(p.rgb().len(), (WIDTH * HEIGHT * 3) as usize);
        // Lossy, but close: compare the middle of each quadrant.
        for (x, y) in [(20, 30), (80, 30), (20, 100), (80, 100)] {
            let got = p.to_image().get_pixel(x, y).0;
            let want = img.get_pixel(x, y).0;
            for c in 0..3 {
                assert!(got[c].abs_diff(want[c]) < 24, "{got:?} vs {want:?}");
            }
        }
    }

    #[test]
    fn corrupt_test_blobs_are_specific_errors() {
        let good = blob_of(&quadrants(), 30);
        let mut b = good.clone();
        b[8] = 0xFF;
        assert!(
            matches!(SimTestDecoder.decode(&b), Err(PhotoError::Corrupt(m)) if m.contains("length"))
        );
        let mut b = good.clone();
        b[1023] = 1;
        assert!(
            matches!(SimTestDecoder.decode(&b), Err(PhotoError::Corrupt(m)) if m.contains("padding"))
        );
        let mut b = good.clone();
        b[12..40].fill(0x11);
        assert!(matches!(
            SimTestDecoder.decode(&b),
            Err(PhotoError::Corrupt(_))
        ));
        assert!(matches!(
            SimTestDecoder.decode(&good[..1000]),
            Err(PhotoError::Corrupt(_))
        ));
        let small = image::RgbImage::from_pixel(50, 50, image::Rgb([9, 9, 9]));
        assert!(
            matches!(SimTestDecoder.decode(&blob_of(&small, 50)), Err(PhotoError::Corrupt(m)) if m.contains("50x50"))
        );
    }

    #[test]
    fn wlt_blobs_need_the_vendor_decoder() {
        let mut wlt = vec![
            0x57, 0x4C, 0x66, 0x00, 0x7E, 0x00, 0x32, 0x00, 0x00, 0xFF, 0x85,
        ];
        wlt.resize(BLOB_LEN, 0x33);
        assert_eq!(
            SimTestDecoder.decode(&wlt).unwrap_err(),
            PhotoError::NotTestEncoding
        );
        let none = PhotoDecoders::from_config("   ");
        assert!(!none.can_decode(&wlt));
        assert_eq!(none.decode(&wlt).unwrap_err(), PhotoError::Unavailable);
        assert!(none.can_decode(&blob_of(&quadrants(), 30)));
        assert_eq!(
            none.decoder_for(&blob_of(&quadrants(), 30)),
            Some("sim_test_encoding")
        );
    }

    fn script(dir: &std::path::Path, body: &str) -> String {
        let path = dir.join("decoder.sh");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        format!("/bin/sh {}", path.display())
    }

    #[test]
    fn vendor_command_gets_the_blob_and_returns_a_bmp() {
        let dir = tempfile::tempdir().unwrap();
        let bmp = dir.path().join("out.bmp");
        quadrants().save(&bmp).unwrap();
        let got = dir.path().join("got.bin");
        let cmd = script(
            dir.path(),
            &format!("cat > {}\ncat {}", got.display(), bmp.display()),
        );
        let decoders = PhotoDecoders::from_config(&cmd);
        let mut wlt = vec![0x57, 0x4C, 0x66, 0x00];
        wlt.resize(BLOB_LEN, 0x42);
        assert_eq!(decoders.decoder_for(&wlt), Some("vendor_command"));
        let p = decoders.decode(&wlt).unwrap();
        assert_eq!((p.width, p.height), (WIDTH, HEIGHT));
        assert_eq!(
            p.to_image().get_pixel(60, 100).0,
            [220, 220, 220],
            "BMP is lossless"
        );
        assert_eq!(std::fs::read(&got).unwrap(), wlt, "the blob went to stdin");
    }

    #[test]
    fn vendor_command_failures_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let blob = vec![0u8; BLOB_LEN];
        let fails = PhotoDecoders::from_config(&script(dir.path(), "cat >/dev/null; exit 3"));
        assert!(matches!(fails.decode(&blob), Err(PhotoError::Vendor(m)) if m.contains("exit")));
        let junk = PhotoDecoders::from_config(&script(dir.path(), "cat >/dev/null; echo hello"));
        assert!(
            matches!(junk.decode(&blob), Err(PhotoError::Vendor(m)) if m.contains("not an image"))
        );
        let missing = PhotoDecoders::from_config("/nonexistent/wlt-decoder");
        assert!(
            matches!(missing.decode(&blob), Err(PhotoError::Vendor(m)) if m.contains("cannot start"))
        );
        let mut slow = CommandDecoder::from_config(&script(dir.path(), "sleep 30")).unwrap();
        slow.timeout = Duration::from_millis(200);
        assert!(
            matches!(slow.decode(&blob), Err(PhotoError::Vendor(m)) if m.contains("no answer"))
        );
    }
}
