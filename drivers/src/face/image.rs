//! Pixel plumbing for the two networks: an RGB view type, and the resampling that turns a
//! frame into network input. Bilinear sampling follows OpenCV's `INTER_LINEAR` conventions
//! (pixel centres at +0.5, no anti-aliasing, border clamped) so that our landmarks and
//! OpenCV's agree when the benchmark runs both on the same picture.

use super::FaceError;

/// A borrowed RGB8 picture, rows top to bottom, 3 bytes a pixel, no row padding.
#[derive(Clone, Copy)]
pub struct RgbRef<'a> {
    width: usize,
    height: usize,
    data: &'a [u8],
}

impl std::fmt::Debug for RgbRef<'_> {
    // Never print pixels: they are personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RgbRef({}x{})", self.width, self.height)
    }
}

impl<'a> RgbRef<'a> {
    /// Checks the buffer holds exactly `width * height` RGB pixels.
    pub fn new(width: usize, height: usize, data: &'a [u8]) -> Result<Self, FaceError> {
        if width == 0 || height == 0 {
            return Err(FaceError::BadImage(format!(
                "empty picture {width}x{height}"
            )));
        }
        let want = width
            .checked_mul(height)
            .and_then(|n| n.checked_mul(3))
            .ok_or_else(|| FaceError::BadImage(format!("picture {width}x{height} is too big")))?;
        if data.len() != want {
            return Err(FaceError::BadImage(format!(
                "picture {width}x{height} needs {want} RGB bytes, got {}",
                data.len()
            )));
        }
        Ok(RgbRef {
            width,
            height,
            data,
        })
    }

    /// For owners that checked the length when they were built (camera frames).
    pub(crate) fn checked_before(width: usize, height: usize, data: &'a [u8]) -> Self {
        debug_assert_eq!(data.len(), width * height * 3);
        RgbRef {
            width,
            height,
            data,
        }
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    pub fn data(&self) -> &'a [u8] {
        self.data
    }
}

/// Rounds `n` up to a multiple of 32 (YuNet's largest stride), as OpenCV's detector pads.
pub fn pad32(n: usize) -> usize {
    n.div_ceil(32) * 32
}

/// One axis of a bilinear resize: for each destination index the two source indices and the
/// weight of the second. Computed once per row/column instead of per pixel.
struct Axis {
    i0: Vec<usize>,
    i1: Vec<usize>,
    w1: Vec<f32>,
}

impl Axis {
    fn new(src: usize, dst: usize) -> Axis {
        let scale = src as f32 / dst as f32;
        let last = src.saturating_sub(1);
        let mut axis = Axis {
            i0: Vec::with_capacity(dst),
            i1: Vec::with_capacity(dst),
            w1: Vec::with_capacity(dst),
        };
        for d in 0..dst {
            let s = ((d as f32 + 0.5) * scale - 0.5).max(0.0);
            let i0 = (s.floor() as usize).min(last);
            let i1 = (i0 + 1).min(last);
            axis.i0.push(i0);
            axis.i1.push(i1);
            axis.w1.push(s - i0 as f32);
        }
        axis
    }
}

/// Writes `src` resized to `dw x dh` into the top-left of a planar `3 x ph x pw` buffer in
/// **BGR** order, values 0-255, the rest zero: YuNet's input after OpenCV's
/// `copyMakeBorder(.., BORDER_CONSTANT, 0)` + `blobFromImage`.
pub fn bgr_planar_resized(
    src: RgbRef<'_>,
    dw: usize,
    dh: usize,
    pw: usize,
    ph: usize,
    out: &mut [f32],
) {
    debug_assert!(dw <= pw && dh <= ph && out.len() == 3 * pw * ph);
    out.fill(0.0);
    let plane = pw * ph;
    if dw == src.width && dh == src.height {
        // Same size: a plain copy (the common case for a 640x480 camera).
        for y in 0..dh {
            let row = &src.data[y * src.width * 3..(y + 1) * src.width * 3];
            for (x, px) in row.chunks_exact(3).enumerate() {
                let o = y * pw + x;
                out[o] = px[2] as f32;
                out[plane + o] = px[1] as f32;
                out[2 * plane + o] = px[0] as f32;
            }
        }
        return;
    }
    let ax = Axis::new(src.width, dw);
    let ay = Axis::new(src.height, dh);
    let stride = src.width * 3;
    for y in 0..dh {
        let r0 = &src.data[ay.i0[y] * stride..ay.i0[y] * stride + stride];
        let r1 = &src.data[ay.i1[y] * stride..ay.i1[y] * stride + stride];
        let wy = ay.w1[y];
        for x in 0..dw {
            let (c0, c1, wx) = (ax.i0[x] * 3, ax.i1[x] * 3, ax.w1[x]);
            let o = y * pw + x;
            for c in 0..3 {
                let top = r0[c0 + c] as f32 + (r0[c1 + c] as f32 - r0[c0 + c] as f32) * wx;
                let bot = r1[c0 + c] as f32 + (r1[c1 + c] as f32 - r1[c0 + c] as f32) * wx;
                // c: 0 = R, 1 = G, 2 = B; BGR planes put R last.
                out[(2 - c) * plane + o] = top + (bot - top) * wy;
            }
        }
    }
}

/// A 2x3 affine map from destination to source pixel coordinates.
pub type Affine = [[f32; 3]; 2];

/// Samples `src` through the inverse map `inv` (destination -> source) into a `size x size`
/// RGB8 picture, bilinear, black outside: OpenCV's `warpAffine(.., INTER_LINEAR,
/// BORDER_CONSTANT)` with the forward matrix inverted.
pub fn warp_affine_rgb(src: RgbRef<'_>, inv: &Affine, size: usize, out: &mut [u8]) {
    debug_assert_eq!(out.len(), size * size * 3);
    let (w, h) = (src.width as isize, src.height as isize);
    let fetch = |x: isize, y: isize, c: usize| -> f32 {
        if x < 0 || y < 0 || x >= w || y >= h {
            0.0
        } else {
            src.data[(y as usize * src.width + x as usize) * 3 + c] as f32
        }
    };
    let stride = src.width * 3;
    for dy in 0..size {
        for dx in 0..size {
            let (fx, fy) = (dx as f32, dy as f32);
            let sx = inv[0][0] * fx + inv[0][1] * fy + inv[0][2];
            let sy = inv[1][0] * fx + inv[1][1] * fy + inv[1][2];
            let (x0, y0) = (floor(sx), floor(sy));
            let (wx, wy) = (sx - x0, sy - y0);
            let (x0, y0) = (x0 as isize, y0 as isize);
            let o = (dy * size + dx) * 3;
            if x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h {
                // All four neighbours inside (a face crop, nearly always): the same sums
                // as below with the bounds checked once.
                let i = y0 as usize * stride + x0 as usize * 3;
                let (top, bottom) = (&src.data[i..i + 6], &src.data[i + stride..i + stride + 6]);
                for c in 0..3 {
                    let t = top[c] as f32 * (1.0 - wx) + top[c + 3] as f32 * wx;
                    let b = bottom[c] as f32 * (1.0 - wx) + bottom[c + 3] as f32 * wx;
                    out[o + c] = to_u8(t * (1.0 - wy) + b * wy);
                }
                continue;
            }
            for c in 0..3 {
                let top = fetch(x0, y0, c) * (1.0 - wx) + fetch(x0 + 1, y0, c) * wx;
                let bot = fetch(x0, y0 + 1, c) * (1.0 - wx) + fetch(x0 + 1, y0 + 1, c) * wx;
                out[o + c] = to_u8(top * (1.0 - wy) + bot * wy);
            }
        }
    }
}

/// `v.floor()` without the library call the x86-64 baseline makes for it (no SSE4.1 round
/// instruction): this runs twice per pixel of every face crop.
#[inline]
fn floor(v: f32) -> f32 {
    let t = v as i32 as f32;
    if t > v {
        t - 1.0
    } else {
        t
    }
}

/// A bilinear sample (0..=255 by construction) rounded half up to a byte, again without a
/// library call; `as` saturates, so anything outside still lands in 0..=255.
#[inline]
fn to_u8(v: f32) -> u8 {
    (v + 0.5) as u8
}

/// Variance of the 4-neighbour Laplacian of the grey picture: the usual focus measure. Sharp
/// faces give hundreds, motion-blurred ones tens.
pub fn laplacian_variance(rgb: &[u8], size: usize) -> f32 {
    if size < 3 || rgb.len() < size * size * 3 {
        return 0.0;
    }
    let grey: Vec<f32> = rgb
        .chunks_exact(3)
        .map(|p| 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32)
        .collect();
    let (mut sum, mut sum2, mut n) = (0.0f64, 0.0f64, 0usize);
    for y in 1..size - 1 {
        for x in 1..size - 1 {
            let i = y * size + x;
            let l = grey[i - 1] + grey[i + 1] + grey[i - size] + grey[i + size] - 4.0 * grey[i];
            sum += l as f64;
            sum2 += (l as f64) * (l as f64);
            n += 1;
        }
    }
    let mean = sum / n as f64;
    (sum2 / n as f64 - mean * mean) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgb_ref_checks_the_buffer_length() {
        assert!(RgbRef::new(2, 2, &[0; 12]).is_ok());
        assert!(matches!(
            RgbRef::new(2, 2, &[0; 11]),
            Err(FaceError::BadImage(_))
        ));
        assert!(matches!(
            RgbRef::new(0, 2, &[]),
            Err(FaceError::BadImage(_))
        ));
        assert!(RgbRef::new(usize::MAX, 3, &[]).is_err());
    }

    #[test]
    fn pad32_rounds_up() {
        assert_eq!(pad32(1), 32);
        assert_eq!(pad32(32), 32);
        assert_eq!(pad32(102), 128);
        assert_eq!(pad32(480), 480);
    }

    #[test]
    fn planar_copy_swaps_to_bgr_and_pads_with_zero() {
        // 2x1 picture: red, then blue.
        let px = [255u8, 0, 0, 0, 0, 255];
        let src = RgbRef::new(2, 1, &px).unwrap();
        let mut out = vec![9.0; 3 * 4 * 2];
        bgr_planar_resized(src, 2, 1, 4, 2, &mut out);
        let plane = 8;
        // B plane: pixel 1 is blue.
        assert_eq!(&out[0..4], &[0.0, 255.0, 0.0, 0.0]);
        // R plane: pixel 0 is red.
        assert_eq!(&out[2 * plane..2 * plane + 4], &[255.0, 0.0, 0.0, 0.0]);
        assert!(out[4..8].iter().all(|v| *v == 0.0), "padding row is zero");
    }

    #[test]
    fn downscale_by_two_averages_pixel_pairs() {
        // 4x1 grey ramp 0, 100, 200, 300->255: halving samples between pairs like OpenCV.
        let px: Vec<u8> = [0u8, 100, 200, 250]
            .iter()
            .flat_map(|v| [*v, *v, *v])
            .collect();
        let src = RgbRef::new(4, 1, &px).unwrap();
        let mut out = vec![0.0; 3 * 2];
        bgr_planar_resized(src, 2, 1, 2, 1, &mut out);
        assert_eq!(&out[0..2], &[50.0, 225.0]);
    }

    #[test]
    fn identity_warp_copies_and_outside_is_black() {
        let px: Vec<u8> = (0..2 * 2 * 3).map(|v| v as u8 * 10).collect();
        let src = RgbRef::new(2, 2, &px).unwrap();
        let mut out = vec![0u8; 3 * 3 * 3];
        warp_affine_rgb(src, &[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], 3, &mut out);
        assert_eq!(&out[0..6], &px[0..6]);
        assert_eq!(&out[6..9], &[0, 0, 0], "column 2 lies outside the source");
    }

    #[test]
    fn rotated_warp_matches_the_textbook_bilinear_inside_and_across_edges() {
        let (w, h) = (7usize, 5usize);
        let px: Vec<u8> = (0..w * h * 3).map(|i| (i * 37 % 251) as u8).collect();
        let src = RgbRef::new(w, h, &px).unwrap();
        // Rotated and shifted so that some samples fall inside, some across the border.
        let (c, s) = (0.8f32, 0.6f32);
        let inv = [[c, -s, 1.3], [s, c, -0.7]];
        let size = 6;
        let mut out = vec![0u8; size * size * 3];
        warp_affine_rgb(src, &inv, size, &mut out);
        let at = |x: f32, y: f32, ch: usize| -> f32 {
            if x < 0.0 || y < 0.0 || x >= w as f32 || y >= h as f32 {
                0.0
            } else {
                px[(y as usize * w + x as usize) * 3 + ch] as f32
            }
        };
        for dy in 0..size {
            for dx in 0..size {
                let sx = inv[0][0] * dx as f32 + inv[0][1] * dy as f32 + inv[0][2];
                let sy = inv[1][0] * dx as f32 + inv[1][1] * dy as f32 + inv[1][2];
                let (x0, y0) = (sx.floor(), sy.floor());
                let (wx, wy) = (sx - x0, sy - y0);
                for ch in 0..3 {
                    let t = at(x0, y0, ch) * (1.0 - wx) + at(x0 + 1.0, y0, ch) * wx;
                    let b = at(x0, y0 + 1.0, ch) * (1.0 - wx) + at(x0 + 1.0, y0 + 1.0, ch) * wx;
                    let want = (t * (1.0 - wy) + b * wy).round().clamp(0.0, 255.0) as u8;
                    assert_eq!(out[(dy * size + dx) * 3 + ch], want, "({dx},{dy}) {ch}");
                }
            }
        }
    }

    #[test]
    fn flat_pictures_have_no_laplacian_variance() {
        let flat = vec![128u8; 8 * 8 * 3];
        assert_eq!(laplacian_variance(&flat, 8), 0.0);
        let checker: Vec<u8> = (0..64)
            .flat_map(|i| {
                let v = if (i % 8 + i / 8) % 2 == 0 { 0 } else { 255 };
                [v, v, v]
            })
            .collect();
        assert!(laplacian_variance(&checker, 8) > 1000.0);
    }
}
