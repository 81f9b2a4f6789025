//! The diagnostics screen's camera preview: a small copy of each frame with the detector's
//! face boxes drawn on it, so an engineer can see at a glance that the camera works, is
//! aimed right and that faces are found. Staff-only (behind the PIN); the pixels stay on
//! this device's screen and are wiped when dropped.

use drivers::camera::Frame;
use drivers::face::Detection;
use zeroize::Zeroizing;

/// One preview picture, RGB8, already annotated.
pub struct PreviewFrame {
    pub width: u32,
    pub height: u32,
    pub rgb: Zeroizing<Vec<u8>>,
    /// Faces the detector found (the box colour says whether exactly one is in view).
    pub faces: usize,
}

impl std::fmt::Debug for PreviewFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PreviewFrame({}x{}, {} faces)",
            self.width, self.height, self.faces
        )
    }
}

/// Box colours: green when exactly one face is in view (what verification needs), amber
/// when there are several; a face box is always drawn as a frame, never a fill, so the face
/// stays visible.
const ONE_FACE: [u8; 3] = [0, 200, 83];
const SEVERAL: [u8; 3] = [255, 171, 0];
const LANDMARK: [u8; 3] = [41, 121, 255];

/// `frame` scaled down (nearest pixel) to at most `max_width` wide, with `faces` drawn on it.
pub fn annotate(frame: &Frame, faces: &[Detection], max_width: u32) -> PreviewFrame {
    let (w, h) = (frame.width(), frame.height());
    let step = w.div_ceil(max_width.max(1) as usize).max(1);
    let (pw, ph) = (w.div_ceil(step), h.div_ceil(step));
    let src = frame.view().data();
    let mut rgb = Zeroizing::new(vec![0u8; pw * ph * 3]);
    for y in 0..ph {
        for x in 0..pw {
            let s = ((y * step).min(h - 1) * w + (x * step).min(w - 1)) * 3;
            rgb[(y * pw + x) * 3..(y * pw + x) * 3 + 3].copy_from_slice(&src[s..s + 3]);
        }
    }
    let colour = if faces.len() == 1 { ONE_FACE } else { SEVERAL };
    let scale = 1.0 / step as f32;
    let thick = (pw / 160).max(2);
    for d in faces {
        let [bx, by, bw, bh] = d.bbox.map(|v| v * scale);
        let (x0, y0) = (bx.max(0.0) as usize, by.max(0.0) as usize);
        let (x1, y1) = ((bx + bw).max(0.0) as usize, (by + bh).max(0.0) as usize);
        for t in 0..thick {
            hline(&mut rgb, pw, ph, x0, x1, y0 + t, colour);
            hline(&mut rgb, pw, ph, x0, x1, y1.saturating_sub(t), colour);
            vline(&mut rgb, pw, ph, x0 + t, y0, y1, colour);
            vline(&mut rgb, pw, ph, x1.saturating_sub(t), y0, y1, colour);
        }
        for [lx, ly] in d.landmarks {
            let (cx, cy) = (
                (lx * scale).max(0.0) as usize,
                (ly * scale).max(0.0) as usize,
            );
            for y in cy.saturating_sub(1)..=cy + 1 {
                hline(&mut rgb, pw, ph, cx.saturating_sub(1), cx + 1, y, LANDMARK);
            }
        }
    }
    PreviewFrame {
        width: pw as u32,
        height: ph as u32,
        rgb,
        faces: faces.len(),
    }
}

fn put(rgb: &mut [u8], w: usize, h: usize, x: usize, y: usize, c: [u8; 3]) {
    if x < w && y < h {
        rgb[(y * w + x) * 3..(y * w + x) * 3 + 3].copy_from_slice(&c);
    }
}

fn hline(rgb: &mut [u8], w: usize, h: usize, x0: usize, x1: usize, y: usize, c: [u8; 3]) {
    for x in x0..=x1.min(w.saturating_sub(1)) {
        put(rgb, w, h, x, y, c);
    }
}

fn vline(rgb: &mut [u8], w: usize, h: usize, x: usize, y0: usize, y1: usize, c: [u8; 3]) {
    for y in y0..=y1.min(h.saturating_sub(1)) {
        put(rgb, w, h, x, y, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn grey(w: usize, h: usize) -> Frame {
        Frame::new(w, h, vec![128; w * h * 3], Duration::ZERO).unwrap()
    }

    fn face(x: f32, y: f32, side: f32) -> Detection {
        Detection {
            bbox: [x, y, side, side],
            landmarks: [[x + side * 0.3, y + side * 0.4]; 5],
            score: 0.9,
        }
    }

    fn px(p: &PreviewFrame, x: usize, y: usize) -> [u8; 3] {
        let i = (y * p.width as usize + x) * 3;
        [p.rgb[i], p.rgb[i + 1], p.rgb[i + 2]]
    }

    #[test]
    fn one_face_gets_a_green_frame_at_preview_scale() {
        let p = annotate(&grey(640, 480), &[face(200.0, 100.0, 200.0)], 320);
        assert_eq!((p.width, p.height, p.faces), (320, 240, 1));
        // The box's top-left corner lands at (100, 50) in the half-size preview.
        assert_eq!(px(&p, 100, 50), ONE_FACE);
        assert_eq!(px(&p, 150, 50), ONE_FACE, "top edge");
        assert_eq!(px(&p, 200, 150), ONE_FACE, "bottom-right corner");
        // Inside the box the picture is untouched (a frame, not a fill).
        assert_eq!(px(&p, 180, 120), [128, 128, 128]);
        assert_eq!(px(&p, 5, 5), [128, 128, 128]);
    }

    #[test]
    fn several_faces_are_amber_and_boxes_past_the_edge_are_clipped() {
        let faces = [face(10.0, 10.0, 50.0), face(600.0, 400.0, 300.0)];
        let p = annotate(&grey(640, 480), &faces, 640);
        assert_eq!(p.faces, 2);
        assert_eq!(px(&p, 10, 10), SEVERAL);
        assert_eq!(px(&p, 639, 400), SEVERAL);
    }

    #[test]
    fn no_face_leaves_the_picture_as_it_is() {
        let p = annotate(&grey(100, 80), &[], 320);
        assert_eq!((p.width, p.height, p.faces), (100, 80, 0));
        assert!(p.rgb.iter().all(|&v| v == 128));
    }
}
