//! Shared helpers of the face tests: where the fetched models and photos are (failing loudly,
//! never skipping, when they are missing), and picture edits that build test frames: card-
//! sized crops, two people side by side, noise, and a synthetic head turn.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use drivers::camera::files::load_picture;
use drivers::camera::Frame;
use drivers::face::{Detection, EngineConfig, FaceEngine};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("drivers/ sits in the workspace root")
        .to_path_buf()
}

/// The models folder; panics naming the setup script when the models are not there.
pub fn models_dir() -> PathBuf {
    let dir = std::env::var_os("KIOSK_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("models"));
    assert!(
        dir.join(drivers::face::models::YUNET_FILE).is_file()
            && dir.join(drivers::face::models::SFACE_FILE).is_file(),
        "face models missing in {}: run scripts/setup.sh (or scripts/fetch-models.sh) first",
        dir.display()
    );
    dir
}

/// The loaded engine with default settings.
pub fn engine() -> FaceEngine {
    FaceEngine::load(&models_dir(), EngineConfig::default()).expect("load the face models")
}

/// A test photo from `testdata/faces/`; panics naming the setup script when missing.
pub fn photo(name: &str) -> Frame {
    let path = workspace_root().join("testdata/faces").join(name);
    assert!(
        path.is_file(),
        "test photo {} missing: run scripts/setup.sh (or scripts/fetch-testdata.sh) first",
        path.display()
    );
    load_picture(&path).expect("decode the test photo")
}

fn to_image(f: &Frame) -> image::RgbImage {
    image::RgbImage::from_raw(
        f.width() as u32,
        f.height() as u32,
        f.view().data().to_vec(),
    )
    .expect("frame size")
}

fn from_image(img: image::RgbImage) -> Frame {
    let (w, h) = (img.width() as usize, img.height() as usize);
    Frame::new(w, h, img.into_raw(), Duration::ZERO).expect("frame")
}

/// The picture resized (area-like filter, as a card printer's scaler would).
pub fn resized(f: &Frame, w: u32, h: u32) -> Frame {
    from_image(image::imageops::resize(
        &to_image(f),
        w,
        h,
        image::imageops::FilterType::Triangle,
    ))
}

/// A sub-rectangle of the picture (clamped to it).
pub fn crop(f: &Frame, x: i64, y: i64, w: u32, h: u32) -> Frame {
    let img = to_image(f);
    let x = x.clamp(0, img.width() as i64 - 1) as u32;
    let y = y.clamp(0, img.height() as i64 - 1) as u32;
    let w = w.min(img.width() - x);
    let h = h.min(img.height() - y);
    from_image(image::imageops::crop_imm(&img, x, y, w, h).to_image())
}

/// An ID-card-style photo: head and shoulders around the detected face, 102x126.
pub fn card_photo(f: &Frame, face: &Detection) -> Frame {
    let [x, y, w, h] = face.bbox;
    let (cx, cy) = (x + w / 2.0, y + h / 2.0);
    let cw = w / 0.6;
    let ch = cw * 126.0 / 102.0;
    let c = crop(
        f,
        (cx - cw / 2.0) as i64,
        (cy - ch * 0.45) as i64,
        cw as u32,
        ch as u32,
    );
    resized(&c, 102, 126)
}

/// Two pictures side by side on one canvas (the taller sets the height; black fill).
pub fn side_by_side(a: &Frame, b: &Frame) -> Frame {
    let (ia, ib) = (to_image(a), to_image(b));
    let mut out = image::RgbImage::new(ia.width() + ib.width(), ia.height().max(ib.height()));
    image::imageops::replace(&mut out, &ia, 0, 0);
    image::imageops::replace(&mut out, &ib, ia.width() as i64, 0);
    from_image(out)
}

/// A picture placed in the middle of a larger black canvas.
pub fn on_canvas(f: &Frame, w: u32, h: u32) -> Frame {
    let img = to_image(f);
    let mut out = image::RgbImage::new(w, h);
    let x = (w as i64 - img.width() as i64) / 2;
    let y = (h as i64 - img.height() as i64) / 2;
    image::imageops::replace(&mut out, &img, x, y);
    from_image(out)
}

/// Deterministic pseudo-random noise (xorshift), no faces in it.
pub fn noise(w: usize, h: usize, seed: u64) -> Frame {
    let mut s = seed.max(1);
    let px = (0..w * h * 3)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 24) as u8
        })
        .collect();
    Frame::new(w, h, px, Duration::ZERO).expect("frame")
}

/// Box blur of the given radius (motion/focus blur stand-in).
pub fn blurred(f: &Frame, sigma: f32) -> Frame {
    from_image(image::imageops::blur(&to_image(f), sigma))
}

/// Squeezes the whole picture sideways: a flat photo turned about a vertical axis.
pub fn squeezed(f: &Frame, factor: f32) -> Frame {
    let w = ((f.width() as f32) * factor).round().max(1.0) as u32;
    let s = resized(f, w, f.height() as u32);
    on_canvas(&s, f.width() as u32, f.height() as u32)
}

/// A synthetic head turn: columns between the eyes' outer band are remapped so the nose
/// column `nose_x` moves by `shift` pixels while the columns `nose_x ± half_width` stay put,
/// as a 3-D head's nose moves against its eyes when it turns. Positive `shift` moves the
/// nose to the picture's right (the subject turning to their left).
pub fn turned(f: &Frame, nose_x: f32, half_width: f32, shift: f32) -> Frame {
    assert!(shift.abs() < half_width, "the remap must stay monotonic");
    let img = to_image(f);
    let (w, h) = img.dimensions();
    let (l, r, c) = (nose_x - half_width, nose_x + half_width, nose_x + shift);
    // For each output column, the source column (inverse of the piecewise-linear map).
    let src_x = |x: f32| -> f32 {
        if x <= l || x >= r {
            x
        } else if x <= c {
            l + (x - l) * (nose_x - l) / (c - l)
        } else {
            nose_x + (x - c) * (r - nose_x) / (r - c)
        }
    };
    let mut out = image::RgbImage::new(w, h);
    for x in 0..w {
        let sx = src_x(x as f32 + 0.5) - 0.5;
        let x0 = sx.floor().clamp(0.0, (w - 1) as f32) as u32;
        let x1 = (x0 + 1).min(w - 1);
        let t = (sx - x0 as f32).clamp(0.0, 1.0);
        for y in 0..h {
            let (a, b) = (img.get_pixel(x0, y), img.get_pixel(x1, y));
            let mut p = [0u8; 3];
            for k in 0..3 {
                p[k] = (a[k] as f32 * (1.0 - t) + b[k] as f32 * t).round() as u8;
            }
            out.put_pixel(x, y, image::Rgb(p));
        }
    }
    from_image(out)
}

/// Writes frames as PNGs named in order into a folder (for the file-backed camera).
pub fn write_sequence(dir: &Path, frames: &[Frame]) {
    for (i, f) in frames.iter().enumerate() {
        to_image(f)
            .save(dir.join(format!("frame-{i:03}.png")))
            .expect("write test frame");
    }
}
