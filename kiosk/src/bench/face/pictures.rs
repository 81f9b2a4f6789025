//! The benchmark's inputs, made from the fetched test photos and written as PNG so both
//! pipelines read identical pixels: ID-card photos (102x126 head-and-shoulders crops) and
//! 640x480 live frames like the kiosk camera's.

use std::path::{Path, PathBuf};

use anyhow::Context;
use drivers::camera::files::load_picture;
use drivers::camera::Frame;
use drivers::face::{Detection, FaceEngine};

/// The kiosk camera's frame size.
pub const FRAME_W: u32 = 640;
pub const FRAME_H: u32 = 480;
/// How much of a live frame's width the face takes: a citizen at arm's length from a
/// 640x480 camera is about 150-250 pixels wide (see `QualityConfig::min_face_px`).
const FACE_SHARE: f32 = 0.3;

/// The card photo for `spec`: `card:NAME` is an ID-card-sized crop made from NAME, any
/// other name is that photo as it is.
pub fn card_photo(
    engine: &mut FaceEngine,
    photos: &Path,
    work: &Path,
    spec: &str,
) -> anyhow::Result<PathBuf> {
    let Some(name) = spec.strip_prefix("card:") else {
        return Ok(photos.join(spec));
    };
    let src = load_picture(&photos.join(name))?;
    let face = largest_face(engine, &src)?
        .with_context(|| format!("no face in {name} to make a card photo from"))?;
    let card = card_crop(&src, &face)?;
    save(&card, &work.join(format!("card-{name}.png")))
}

/// A 640x480 live frame made from photo `name`: the 4:3 window in which its largest face
/// takes [`FACE_SHARE`] of the width (or the largest window the photo allows), scaled to
/// 640x480. A photo where no face is found gives its centre window.
pub fn live_frame(
    engine: &mut FaceEngine,
    photos: &Path,
    work: &Path,
    name: &str,
) -> anyhow::Result<PathBuf> {
    let src = load_picture(&photos.join(name))?;
    let img = to_image(&src)?;
    let (pw, ph) = (img.width() as f32, img.height() as f32);
    let (cx, cy, want) = match largest_face(engine, &src)? {
        Some(f) => (
            f.bbox[0] + f.bbox[2] / 2.0,
            f.bbox[1] + f.bbox[3] / 2.0,
            f.bbox[2] / FACE_SHARE,
        ),
        None => (pw / 2.0, ph / 2.0, pw),
    };
    let ratio = FRAME_H as f32 / FRAME_W as f32;
    let ww = want.min(pw).min(ph / ratio).max(1.0);
    let wh = (ww * ratio).max(1.0);
    let x0 = (cx - ww / 2.0).clamp(0.0, pw - ww) as u32;
    let y0 = (cy - wh / 2.0).clamp(0.0, ph - wh) as u32;
    let window = image::imageops::crop_imm(&img, x0, y0, ww as u32, wh as u32).to_image();
    let frame = image::imageops::resize(
        &window,
        FRAME_W,
        FRAME_H,
        image::imageops::FilterType::Triangle,
    );
    save(&frame, &work.join(format!("frame-{name}.png")))
}

fn largest_face(engine: &mut FaceEngine, src: &Frame) -> anyhow::Result<Option<Detection>> {
    let faces = engine.detect(src.view())?;
    Ok(faces
        .into_iter()
        .max_by(|a, b| a.area().total_cmp(&b.area())))
}

fn to_image(src: &Frame) -> anyhow::Result<image::RgbImage> {
    image::RgbImage::from_raw(
        src.width() as u32,
        src.height() as u32,
        src.view().data().to_vec(),
    )
    .context("picture size")
}

fn save(img: &image::RgbImage, path: &Path) -> anyhow::Result<PathBuf> {
    img.save(path)
        .with_context(|| format!("write {}", path.display()))?;
    Ok(path.to_path_buf())
}

/// Head and shoulders around the face at the card's proportions, scaled to 102x126.
fn card_crop(src: &Frame, face: &Detection) -> anyhow::Result<image::RgbImage> {
    let img = to_image(src)?;
    let [x, y, w, h] = face.bbox;
    let cw = w / 0.6;
    let ch = cw * 126.0 / 102.0;
    let cx = (x + w / 2.0 - cw / 2.0).clamp(0.0, img.width() as f32 - 1.0) as u32;
    let cy = (y + h / 2.0 - ch * 0.45).clamp(0.0, img.height() as f32 - 1.0) as u32;
    let cw = (cw as u32).min(img.width() - cx).max(1);
    let ch = (ch as u32).min(img.height() - cy).max(1);
    let crop = image::imageops::crop_imm(&img, cx, cy, cw, ch).to_image();
    Ok(image::imageops::resize(
        &crop,
        102,
        126,
        image::imageops::FilterType::Triangle,
    ))
}
