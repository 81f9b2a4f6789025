//! The receipt QR as a Slint image, for the receipt page when the printer cannot print and
//! for samples. Pure pixels: a quiet zone of four modules, black on white.

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

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_a_receipt_number_with_quiet_zone() {
        let img = super::image("HK-20240501-000123").expect("fits in a QR");
        let size = img.size();
        assert_eq!(size.width, size.height);
        // 21 modules (version 1) at least, plus 8 quiet modules.
        assert!(size.width as usize >= (21 + 8) * super::MODULE_PX);
    }
}
