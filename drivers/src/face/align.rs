//! Face alignment: the least-squares similarity transform (rotation, uniform scale,
//! translation) that takes YuNet's five landmarks onto the ArcFace 112x112 template, then a
//! bilinear warp. Same template and maths as OpenCV's `FaceRecognizerSF::alignCrop` (its
//! Umeyama estimate reduces to this closed form in 2-D when there is no reflection).

use zeroize::Zeroizing;

use super::image::{laplacian_variance, warp_affine_rgb, Affine, RgbRef};

/// Side of the aligned face crop SFace takes.
pub const ALIGNED_SIZE: usize = 112;

/// Where the five landmarks land in the 112x112 crop (right eye, left eye, nose, right and
/// left mouth corners): the standard ArcFace template.
pub const TEMPLATE: [[f32; 2]; 5] = [
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
];

/// A 112x112 RGB face crop, wiped from memory when dropped.
pub struct AlignedFace {
    pub rgb: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for AlignedFace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AlignedFace(112x112)")
    }
}

impl AlignedFace {
    /// Focus measure of the crop (variance of the Laplacian); the same scale for every face
    /// because every crop has the same size and eye distance.
    pub fn sharpness(&self) -> f32 {
        laplacian_variance(&self.rgb, ALIGNED_SIZE)
    }
}

/// The forward similarity `[a -b tx; b a ty]` mapping `src` points onto `dst` in the least
/// squares sense. `None` when the source points all coincide (no scale can be found).
pub fn similarity(src: &[[f32; 2]; 5], dst: &[[f32; 2]; 5]) -> Option<Affine> {
    let n = src.len() as f64;
    let mean = |p: &[[f32; 2]; 5]| {
        let (sx, sy) = p.iter().fold((0.0f64, 0.0f64), |(x, y), q| {
            (x + q[0] as f64, y + q[1] as f64)
        });
        (sx / n, sy / n)
    };
    let (msx, msy) = mean(src);
    let (mdx, mdy) = mean(dst);
    let (mut num_a, mut num_b, mut den) = (0.0f64, 0.0f64, 0.0f64);
    for (s, d) in src.iter().zip(dst) {
        let (sx, sy) = (s[0] as f64 - msx, s[1] as f64 - msy);
        let (dx, dy) = (d[0] as f64 - mdx, d[1] as f64 - mdy);
        num_a += sx * dx + sy * dy;
        num_b += sx * dy - sy * dx;
        den += sx * sx + sy * sy;
    }
    if den < 1e-9 || !den.is_finite() {
        return None;
    }
    let (a, b) = (num_a / den, num_b / den);
    let tx = mdx - (a * msx - b * msy);
    let ty = mdy - (b * msx + a * msy);
    Some([
        [a as f32, -b as f32, tx as f32],
        [b as f32, a as f32, ty as f32],
    ])
}

/// Inverts a similarity/affine map. `None` when it is singular.
pub fn invert(m: &Affine) -> Option<Affine> {
    let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    if det.abs() < 1e-12 || !det.is_finite() {
        return None;
    }
    let (ia, ib, ic, id) = (m[1][1] / det, -m[0][1] / det, -m[1][0] / det, m[0][0] / det);
    Some([
        [ia, ib, -(ia * m[0][2] + ib * m[1][2])],
        [ic, id, -(ic * m[0][2] + id * m[1][2])],
    ])
}

/// Crops and aligns one face. `None` when the landmarks are degenerate.
pub fn align_face(img: RgbRef<'_>, landmarks: &[[f32; 2]; 5]) -> Option<AlignedFace> {
    if landmarks.iter().flatten().any(|v| !v.is_finite()) {
        return None;
    }
    let forward = similarity(landmarks, &TEMPLATE)?;
    let inverse = invert(&forward)?;
    let mut rgb = Zeroizing::new(vec![0u8; ALIGNED_SIZE * ALIGNED_SIZE * 3]);
    warp_affine_rgb(img, &inverse, ALIGNED_SIZE, &mut rgb);
    Some(AlignedFace { rgb })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(m: &Affine, p: [f32; 2]) -> [f32; 2] {
        [
            m[0][0] * p[0] + m[0][1] * p[1] + m[0][2],
            m[1][0] * p[0] + m[1][1] * p[1] + m[1][2],
        ]
    }

    #[test]
    fn recovers_a_known_similarity() {
        // Scale 2, rotate 30 degrees, shift (10, -5): the template seen through that map
        // must be mapped back exactly.
        let (s, th) = (2.0f32, 30f32.to_radians());
        let m: Affine = [
            [s * th.cos(), -s * th.sin(), 10.0],
            [s * th.sin(), s * th.cos(), -5.0],
        ];
        let src: [[f32; 2]; 5] = TEMPLATE.map(|p| apply(&m, p));
        let back = similarity(&src, &TEMPLATE).unwrap();
        for (p, t) in src.iter().zip(TEMPLATE) {
            let q = apply(&back, *p);
            assert!(
                (q[0] - t[0]).abs() < 1e-3 && (q[1] - t[1]).abs() < 1e-3,
                "{q:?} vs {t:?}"
            );
        }
        let inv = invert(&back).unwrap();
        let q = apply(&inv, TEMPLATE[2]);
        assert!((q[0] - src[2][0]).abs() < 1e-3 && (q[1] - src[2][1]).abs() < 1e-3);
    }

    #[test]
    fn degenerate_landmarks_give_none() {
        assert!(similarity(&[[5.0, 5.0]; 5], &TEMPLATE).is_none());
        let px = vec![0u8; 4 * 4 * 3];
        let img = RgbRef::new(4, 4, &px).unwrap();
        assert!(align_face(img, &[[f32::NAN, 0.0]; 5]).is_none());
    }
}
