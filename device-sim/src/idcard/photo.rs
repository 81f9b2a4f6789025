//! The simulator's photo test encoding, `HKSIMPH1`. It is NOT WLT (the real cards' format,
//! which only licensed vendor decoders open); it exists so a simulated card can carry a real
//! face for the face-match step. Format (docs/idcard-sim-photo-format.md):
//!
//! ```text
//! offset 0   8 bytes   ASCII "HKSIMPH1"
//! offset 8   2 bytes   N, big-endian: length of the JPEG, 1..=1014
//! offset 10  N bytes   baseline JPEG of the 102x126 portrait (colour, or greyscale when
//!                      colour does not fit)
//! offset 10+N          zero bytes up to 1024
//! ```
//! The encoder lowers the JPEG quality until the image fits.

use anyhow::{bail, Result};
use image::{imageops::FilterType, DynamicImage, GrayImage, Rgb, RgbImage};

pub const MAGIC: &[u8; 8] = b"HKSIMPH1";
pub const WIDTH: u32 = 102;
pub const HEIGHT: u32 = 126;
const BLOB: usize = 1024;
const ROOM: usize = BLOB - 10;
/// Below this quality colour is given up for greyscale (detail matters more to a face
/// recognizer than colour at this size).
const MIN_COLOUR_QUALITY: u8 = 25;

/// Baseline JPEG (one sequential scan, SOF0) of an RGB or greyscale image, by mozjpeg with
/// optimised Huffman tables and trellis quantisation: at 1 KB that is the difference between
/// a recognisable face and blocks. Colour is subsampled 4:2:0.
fn jpeg(img: &DynamicImage, quality: u8) -> Result<Vec<u8>> {
    let (space, data, w, h) = match img {
        DynamicImage::ImageLuma8(g) => (
            mozjpeg::ColorSpace::JCS_GRAYSCALE,
            g.as_raw().clone(),
            g.width(),
            g.height(),
        ),
        other => {
            let rgb = other.to_rgb8();
            let (w, h) = rgb.dimensions();
            (mozjpeg::ColorSpace::JCS_RGB, rgb.into_raw(), w, h)
        }
    };
    // libjpeg reports errors by unwinding; keep that inside.
    let result = std::panic::catch_unwind(move || -> std::io::Result<Vec<u8>> {
        let mut c = mozjpeg::Compress::new(space);
        c.set_size(w as usize, h as usize);
        // Tables clamped to 8-bit entries, so even low qualities stay baseline (SOF0).
        let table = mozjpeg::qtable::NRobidoux.scaled(f32::from(quality), f32::from(quality));
        c.set_luma_qtable(&table);
        c.set_chroma_qtable(&table);
        // No scan script: a single sequential scan, i.e. baseline JPEG.
        c.set_optimize_scans(false);
        c.set_optimize_coding(true);
        if space == mozjpeg::ColorSpace::JCS_RGB {
            c.set_chroma_sampling_pixel_sizes((2, 2), (2, 2));
        }
        let mut started = c.start_compress(Vec::new())?;
        started.write_scanlines(&data)?;
        started.finish()
    });
    match result {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => bail!("JPEG encoder: {e}"),
        Err(_) => bail!("JPEG encoder failed"),
    }
}

/// Crops `img` to the portrait's aspect ratio (centred) and scales it to 102x126.
pub fn to_portrait(img: &DynamicImage) -> RgbImage {
    let (w, h) = (img.width().max(1), img.height().max(1));
    // Largest centred window with aspect 102:126.
    let (cw, ch) = if u64::from(w) * u64::from(HEIGHT) > u64::from(h) * u64::from(WIDTH) {
        (
            (u64::from(h) * u64::from(WIDTH) / u64::from(HEIGHT)) as u32,
            h,
        )
    } else {
        (
            w,
            (u64::from(w) * u64::from(HEIGHT) / u64::from(WIDTH)) as u32,
        )
    };
    let cropped = img.crop_imm((w - cw) / 2, (h - ch) / 2, cw.max(1), ch.max(1));
    cropped
        .resize_exact(WIDTH, HEIGHT, FilterType::Lanczos3)
        .to_rgb8()
}

/// The highest quality in `lo..=hi` whose JPEG fits, by bisection (size grows with quality).
fn best_fit(img: &DynamicImage, lo: u8, hi: u8) -> Result<Option<(u8, Vec<u8>)>> {
    let smallest = jpeg(img, lo)?;
    if smallest.len() > ROOM {
        return Ok(None);
    }
    let (mut best, mut lo, mut hi) = ((lo, smallest), lo + 1, hi);
    while lo <= hi {
        let mid = lo + (hi - lo) / 2;
        let j = jpeg(img, mid)?;
        if j.len() <= ROOM {
            best = (mid, j);
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    Ok(Some(best))
}

/// Encodes a portrait into the 1024-byte test blob: colour at the best quality that fits,
/// or greyscale when colour would need a quality below 25.
pub fn encode(img: &DynamicImage) -> Result<[u8; BLOB]> {
    let portrait = DynamicImage::ImageRgb8(to_portrait(img));
    let chosen = match best_fit(&portrait, MIN_COLOUR_QUALITY, 95)? {
        Some(c) => Some(c),
        None => best_fit(&DynamicImage::ImageLuma8(portrait.to_luma8()), 5, 95)?,
    };
    let Some((quality, j)) = chosen else {
        bail!("the portrait does not fit in {ROOM} bytes even as greyscale at quality 5");
    };
    tracing::debug!(quality, bytes = j.len(), "test photo encoded");
    let mut blob = [0u8; BLOB];
    blob[..8].copy_from_slice(MAGIC);
    blob[8..10].copy_from_slice(&(j.len() as u16).to_be_bytes());
    blob[10..10 + j.len()].copy_from_slice(&j);
    Ok(blob)
}

/// A simple drawn face, different per seed: pale background, shoulders, face oval, hair,
/// eyes, brows, nose and mouth. Not a person; enough to show something in the UI.
pub fn synthetic_face(seed: &str) -> DynamicImage {
    let h = seed.bytes().fold(0xCBF2_9CE4u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let pick = |shift: u32, lo: u8, span: u8| lo + ((h >> shift) % u32::from(span)) as u8;
    let skin = Rgb([pick(0, 200, 40), pick(4, 160, 40), pick(8, 120, 40)]);
    let hair = Rgb([pick(12, 20, 60), pick(14, 15, 40), pick(16, 10, 30)]);
    let cloth = Rgb([pick(18, 20, 120), pick(21, 40, 100), pick(24, 60, 120)]);
    let bg = Rgb([245, 246, 250]);
    let face_w = 30.0 + f32::from(pick(26, 0, 6));
    let mut img = RgbImage::from_pixel(WIDTH, HEIGHT, bg);
    let inside = |x: f32, y: f32, cx: f32, cy: f32, rx: f32, ry: f32| {
        ((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2) <= 1.0
    };
    for (x, y, p) in img.enumerate_pixels_mut() {
        let (x, y) = (x as f32, y as f32);
        if inside(x, y, 51.0, 140.0, 55.0, 40.0) {
            *p = cloth;
        }
        if inside(x, y, 51.0, 50.0, face_w + 5.0, 44.0) && y < 60.0 {
            *p = hair;
        }
        if inside(x, y, 51.0, 60.0, face_w, 40.0) && y > 32.0 {
            *p = skin;
        }
        let eye = inside(x, y, 38.0, 58.0, 5.0, 2.5) || inside(x, y, 64.0, 58.0, 5.0, 2.5);
        let brow =
            (inside(x, y, 38.0, 51.0, 7.0, 1.5) || inside(x, y, 64.0, 51.0, 7.0, 1.5)) && y > 32.0;
        if eye || brow {
            *p = Rgb([40, 30, 30]);
        }
        if inside(x, y, 51.0, 70.0, 2.5, 6.0) {
            *p = Rgb([skin[0] - 30, skin[1] - 30, skin[2] - 30]);
        }
        if inside(x, y, 51.0, 83.0, 9.0, 2.5) {
            *p = Rgb([170, 70, 70]);
        }
    }
    // Soften the drawn edges a little, as a camera would.
    DynamicImage::ImageRgb8(image::imageops::blur(&img, 0.8))
}

/// A greyscale test card pattern (for tests of the fallback path).
pub fn noise(seed: u32) -> DynamicImage {
    let mut x = seed | 1;
    DynamicImage::ImageLuma8(GrayImage::from_fn(WIDTH, HEIGHT, |_, _| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        image::Luma([x as u8])
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads the blob back with the format description alone.
    fn decode(blob: &[u8; BLOB]) -> RgbImage {
        assert_eq!(&blob[..8], MAGIC);
        let n = usize::from(u16::from_be_bytes([blob[8], blob[9]]));
        assert!((1..=ROOM).contains(&n));
        assert!(blob[10 + n..].iter().all(|b| *b == 0));
        image::load_from_memory(&blob[10..10 + n])
            .unwrap()
            .to_rgb8()
    }

    /// A photo-like image: smooth gradients, edges and some texture.
    fn busy(seed: u32) -> DynamicImage {
        let mut x = seed | 1;
        DynamicImage::ImageRgb8(RgbImage::from_fn(300, 380, |px, py| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let n = (x % 24) as u8;
            let ring = (((px as f32 - 150.0).powi(2) + (py as f32 - 160.0).powi(2)).sqrt() / 12.0)
                as u8
                % 2;
            Rgb([
                (px / 2) as u8 / 2 + n + ring * 60,
                (py / 2) as u8 / 2 + n,
                90 + n,
            ])
        }))
    }

    #[test]
    fn the_blob_is_baseline_jpeg_at_the_best_quality_that_fits() {
        let blob = encode(&busy(3)).unwrap();
        let n = usize::from(u16::from_be_bytes([blob[8], blob[9]]));
        let j = &blob[10..10 + n];
        assert!(j.windows(2).any(|w| w == [0xFF, 0xC0]), "SOF0: baseline");
        assert!(!j.windows(2).any(|w| w == [0xFF, 0xC2]), "not progressive");
        let img = decode(&blob);
        assert_eq!(img.dimensions(), (WIDTH, HEIGHT));
        // One quality step up would not have fitted (or it is already the top).
        let portrait = DynamicImage::ImageRgb8(to_portrait(&busy(3)));
        let grey = img.pixels().all(|p| p[0] == p[1] && p[1] == p[2]);
        let src = if grey {
            DynamicImage::ImageLuma8(portrait.to_luma8())
        } else {
            portrait
        };
        let q = (5..=95u8)
            .find(|q| jpeg(&src, *q).unwrap() == j)
            .expect("a quality made it");
        assert!(q == 95 || jpeg(&src, q + 1).unwrap().len() > ROOM, "q{q}");
    }

    #[test]
    fn synthetic_faces_fit_in_colour_and_differ() {
        let a = encode(&synthetic_face("a")).unwrap();
        let b = encode(&synthetic_face("b")).unwrap();
        assert_ne!(a, b);
        let img = decode(&a);
        assert_eq!(img.dimensions(), (WIDTH, HEIGHT));
        let p = img.get_pixel(51, 66).0;
        assert!(
            p[0] > 150 && p[0] > p[2],
            "face pixel is skin-coloured: {p:?}"
        );
    }

    #[test]
    fn any_size_is_cropped_to_the_portrait() {
        let wide = DynamicImage::ImageRgb8(RgbImage::from_pixel(640, 200, Rgb([10, 200, 10])));
        let img = decode(&encode(&wide).unwrap());
        assert_eq!(img.dimensions(), (WIDTH, HEIGHT));
        assert!(img.get_pixel(50, 60).0[1] > 150);
    }

    #[test]
    fn detail_that_does_not_fit_in_colour_falls_back_to_greyscale() {
        // Noise is incompressible: even greyscale at the lowest quality may not fit; either
        // it fits greyscale or the error says so.
        match encode(&noise(7)) {
            Ok(blob) => {
                let img = decode(&blob);
                let p = img.get_pixel(10, 10).0;
                assert!(p[0] == p[1] && p[1] == p[2], "greyscale");
            }
            Err(e) => assert!(e.to_string().contains("greyscale"), "{e}"),
        }
    }
}
