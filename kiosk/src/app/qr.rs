//! The receipt QR as a Slint image, for the receipt page when the printer cannot print and
//! for samples (pure pixels: a quiet zone of four modules, black on white); what the printed
//! QR holds, and reading a receipt number back from a scanned one.

use qrcode::{Color, QrCode};
use slint::{Image, Rgba8Pixel, SharedPixelBuffer};

/// Pixels per QR module: crisp at any size because the page scales it with nearest-neighbour.
const MODULE_PX: usize = 8;
const QUIET_MODULES: usize = 4;

/// Encodes `text` as a QR image; `None` when the text is too long for a QR code.
pub fn image(text: &str) -> Option<Image> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_MODULES) * MODULE_PX;
    let mut buffer = SharedPixelBuffer::<Rgba8Pixel>::new(side as u32, side as u32);
    let white = Rgba8Pixel {
        r: 255,
        g: 255,
        b: 255,
        a: 255,
    };
    let black = Rgba8Pixel {
        r: 0,
        g: 0,
        b: 0,
        a: 255,
    };
    let pixels = buffer.make_mut_slice();
    for (i, px) in pixels.iter_mut().enumerate() {
        let (x, y) = (i % side / MODULE_PX, i / side / MODULE_PX);
        let dark = x >= QUIET_MODULES
            && y >= QUIET_MODULES
            && x < QUIET_MODULES + modules
            && y < QUIET_MODULES + modules
            && colors.get((y - QUIET_MODULES) * modules + (x - QUIET_MODULES))
                == Some(&Color::Dark);
        *px = if dark { black } else { white };
    }
    Some(Image::from_rgba8(buffer))
}

/// What the printed receipt's QR holds: the submission's address on the central platform
/// (`{central}/v1/submissions/{receipt}`), or the bare receipt number when no platform is
/// configured.
pub fn payload(central_url: &str, receipt_no: &str) -> String {
    let base = central_url.trim_end_matches('/');
    if base.is_empty() {
        receipt_no.to_string()
    } else {
        format!("{base}/v1/submissions/{receipt_no}")
    }
}

/// The receipt number in a scanned QR text made by [`payload`] (any kiosk's platform
/// address, or the bare number); `None` for any other QR (a leaflet's, a payment code).
pub fn receipt_number(text: &str) -> Option<String> {
    let text = text.trim();
    let number = match text.rsplit_once("/v1/submissions/") {
        Some((base, n)) if base.starts_with("https://") || base.starts_with("http://") => n,
        Some(_) => return None,
        None => text,
    };
    let ok = (4..=40).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then(|| number.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::{payload, receipt_number};

    #[test]
    fn a_scanned_payload_gives_back_its_receipt_number() {
        for base in ["https://central.example:8443", "https://127.0.0.1:1/", ""] {
            let text = payload(base, "XH0001000042");
            assert_eq!(
                receipt_number(&text).as_deref(),
                Some("XH0001000042"),
                "{text}"
            );
        }
    }

    #[test]
    fn other_codes_are_not_receipts() {
        for text in [
            "https://shop.example/offer?id=1",
            "https://central.example/v1/submissions/../../etc",
            "ftp://x/v1/submissions/XH0001000042",
            "WIFI:S:hall;T:WPA;P:secret;;",
            "",
            "XH1",
        ] {
            assert_eq!(receipt_number(text), None, "{text}");
        }
    }
    #[test]
    fn encodes_a_receipt_number_with_quiet_zone() {
        let img = super::image("HK-20240501-000123").expect("fits in a QR");
        let size = img.size();
        assert_eq!(size.width, size.height);
        // 21 modules (version 1) at least, plus 8 quiet modules.
        assert!(size.width as usize >= (21 + 8) * super::MODULE_PX);
    }
}
