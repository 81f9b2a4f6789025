//! YuNet face detection on tract. The ONNX file stores 640x640 intermediate shapes in its
//! `value_info`; we load it with those ignored so a plan can be built for any input size.
//! Plans are built once per padded input size and kept (a kiosk camera has one size, the
//! card photo another), each with its own reusable state.
//!
//! Pre- and post-processing follow OpenCV's `FaceDetectorYN` (objdetect/face_detect.cpp):
//! pad right/bottom to a multiple of 32 with black, BGR 0-255 planar input, score =
//! sqrt(cls * obj) clamped, box and landmarks decoded per stride (8, 16, 32), then NMS.

use std::collections::HashMap;
use std::path::Path;

use tract_onnx::prelude::*;

use super::image::{bgr_planar_resized, pad32, RgbRef};
use super::{run_and_wipe, FaceError, Plan, PlanState};

const STRIDES: [usize; 3] = [8, 16, 32];

/// One detected face in the coordinates of the picture it was found in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// Left, top, width, height in pixels.
    pub bbox: [f32; 4],
    /// Right eye, left eye, nose tip, right and left mouth corners (the subject's right is
    /// the picture's left), as (x, y): the order of the ArcFace alignment template.
    pub landmarks: [[f32; 2]; 5],
    /// Detector confidence 0..1.
    pub score: f32,
}

impl Detection {
    pub fn area(&self) -> f32 {
        self.bbox[2].max(0.0) * self.bbox[3].max(0.0)
    }

    fn iou(&self, other: &Detection) -> f32 {
        let (ax0, ay0, ax1, ay1) = (
            self.bbox[0],
            self.bbox[1],
            self.bbox[0] + self.bbox[2],
            self.bbox[1] + self.bbox[3],
        );
        let (bx0, by0, bx1, by1) = (
            other.bbox[0],
            other.bbox[1],
            other.bbox[0] + other.bbox[2],
            other.bbox[1] + other.bbox[3],
        );
        let iw = (ax1.min(bx1) - ax0.max(bx0)).max(0.0);
        let ih = (ay1.min(by1) - ay0.max(by0)).max(0.0);
        let inter = iw * ih;
        let union = self.area() + other.area() - inter;
        if union <= 0.0 {
            0.0
        } else {
            inter / union
        }
    }
}

/// Detector settings. The thresholds are OpenCV's sample values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorConfig {
    /// Faces scoring below this are dropped.
    pub score_threshold: f32,
    /// Overlap above which the weaker of two boxes is dropped.
    pub nms_threshold: f32,
    /// Pictures whose longer side exceeds this are scaled down before detection (bilinear),
    /// which bounds the cost; landmarks are mapped back to the original picture and the face
    /// is aligned and embedded from the full-resolution picture. 320 detects a 640x480
    /// camera frame at half size, a quarter of the work: a face at arm's length is still
    /// 75-125 pixels wide there, and the match scores stay within 0.002 of a full-size
    /// detection's (the face benchmark prints the differences).
    pub max_side: usize,
    /// The same bound for the frames of the head-turn challenge
    /// ([`super::FaceEngine::observe_turn`]): 640, full size for a 640x480 camera. A turn is
    /// a change of a few pixels between nose and eyes, and on the demo's synthetic turns
    /// YuNet's landmarks at half size moved only 55-75% as far as at full size, which left
    /// some turns below the threshold. The challenge lasts a second or two, so its
    /// frames can afford the full-size detection.
    pub turn_max_side: usize,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            score_threshold: 0.8,
            nms_threshold: 0.3,
            max_side: 320,
            turn_max_side: 640,
        }
    }
}

/// YuNet on tract, with one plan per padded input size.
pub struct Detector {
    /// The parsed model with its stored shapes ignored, cloned for each new input size.
    template: InferenceModel,
    plans: HashMap<(usize, usize), (PlanState, OutputMap)>,
    config: DetectorConfig,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("plans", &self.plans.keys().collect::<Vec<_>>())
            .field("config", &self.config)
            .finish()
    }
}

/// Where each (kind, stride) output sits in the plan's output list.
#[derive(Debug, Clone, Copy)]
struct OutputMap {
    cls: [usize; 3],
    obj: [usize; 3],
    bbox: [usize; 3],
    kps: [usize; 3],
}

impl Detector {
    pub fn load(
        path: &Path,
        config: DetectorConfig,
        fast_ops: bool,
    ) -> Result<Detector, FaceError> {
        let template = super::fast_ops::onnx_loader(fast_ops)
            .model_for_path(path)
            .map_err(|e| FaceError::model(path, e))?;
        Ok(Detector {
            template,
            plans: HashMap::new(),
            config,
        })
    }

    pub fn config(&self) -> DetectorConfig {
        self.config
    }

    /// Builds (once) the plan for a padded input size. Public so callers can warm up the
    /// sizes they will use before the first citizen arrives.
    pub fn prepare(&mut self, padded_w: usize, padded_h: usize) -> Result<(), FaceError> {
        if self.plans.contains_key(&(padded_w, padded_h)) {
            return Ok(());
        }
        let plan: Plan = self
            .template
            .clone()
            .with_input_fact(0, f32::fact([1, 3, padded_h, padded_w]).into())
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(|e| FaceError::Inference(format!("YuNet plan {padded_w}x{padded_h}: {e}")))?;
        let map = output_map(&plan)?;
        let state = PlanState::new(&plan)?;
        self.plans.insert((padded_w, padded_h), (state, map));
        Ok(())
    }

    /// The detection input size for a picture: scaled so the longer side is at most
    /// `max_side`, then padded to multiples of 32. Returns (scaled w, scaled h, padded w,
    /// padded h).
    pub fn input_size(&self, width: usize, height: usize) -> (usize, usize, usize, usize) {
        input_size(width, height, self.config.max_side)
    }

    /// Finds faces, best first, in the picture's own coordinates.
    pub fn detect(&mut self, img: RgbRef<'_>) -> Result<Vec<Detection>, FaceError> {
        self.detect_within(img, self.config.max_side)
    }

    /// [`Detector::detect`] with the picture scaled to `max_side` at most instead of the
    /// configured size (the head-turn challenge's finer detection).
    pub fn detect_within(
        &mut self,
        img: RgbRef<'_>,
        max_side: usize,
    ) -> Result<Vec<Detection>, FaceError> {
        let (sw, sh, pw, ph) = input_size(img.width(), img.height(), max_side);
        self.prepare(pw, ph)?;
        let mut input = Tensor::zero::<f32>(&[1, 3, ph, pw])
            .map_err(|e| FaceError::Inference(format!("YuNet input: {e}")))?;
        {
            let mut view = input
                .try_as_plain_ram_mut()
                .map_err(|e| FaceError::Inference(format!("input: {e}")))?;
            let buf = view
                .as_slice_mut::<f32>()
                .map_err(|e| FaceError::Inference(format!("YuNet input: {e}")))?;
            bgr_planar_resized(img, sw, sh, pw, ph, buf);
        }
        let (state, map) = self
            .plans
            .get_mut(&(pw, ph))
            .ok_or_else(|| FaceError::Inference("YuNet plan vanished".into()))?;
        let outputs = run_and_wipe(state, input, "YuNet")?;
        let mut faces = decode(&outputs, map, pw, ph, self.config.score_threshold)?;
        faces = nms(faces, self.config.nms_threshold);
        // Back to the caller's picture: undo the scaling (the padding is right/bottom only).
        let (fx, fy) = (
            img.width() as f32 / sw as f32,
            img.height() as f32 / sh as f32,
        );
        for f in &mut faces {
            f.bbox = [
                f.bbox[0] * fx,
                f.bbox[1] * fy,
                f.bbox[2] * fx,
                f.bbox[3] * fy,
            ];
            for p in &mut f.landmarks {
                *p = [p[0] * fx, p[1] * fy];
            }
        }
        Ok(faces)
    }
}

/// The detection input size for a picture: scaled so the longer side is at most `max_side`,
/// then padded to multiples of 32. Returns (scaled w, scaled h, padded w, padded h).
pub(crate) fn input_size(
    width: usize,
    height: usize,
    max_side: usize,
) -> (usize, usize, usize, usize) {
    let longer = width.max(height).max(1);
    let (sw, sh) = if longer > max_side {
        let s = max_side as f32 / longer as f32;
        (
            ((width as f32 * s).round() as usize).max(1),
            ((height as f32 * s).round() as usize).max(1),
        )
    } else {
        (width, height)
    };
    (sw, sh, pad32(sw), pad32(sh))
}

/// Maps YuNet's twelve outputs (`cls_8`, `obj_16`, `bbox_32`, `kps_8`...) by name, so a
/// re-ordered export still decodes right.
fn output_map(plan: &Plan) -> Result<OutputMap, FaceError> {
    let model = plan.model();
    let mut names = Vec::new();
    for outlet in model
        .output_outlets()
        .map_err(|e| FaceError::Inference(e.to_string()))?
    {
        let name = model
            .outlet_label(*outlet)
            .map(str::to_string)
            .unwrap_or_else(|| model.node(outlet.node).name.clone());
        names.push(name);
    }
    let find = |kind: &str, stride: usize| -> Result<usize, FaceError> {
        let want = format!("{kind}_{stride}");
        names.iter().position(|n| *n == want).ok_or_else(|| {
            FaceError::Inference(format!(
                "YuNet model has no output {want} (outputs: {names:?}); is it the 2023mar file?"
            ))
        })
    };
    let mut map = OutputMap {
        cls: [0; 3],
        obj: [0; 3],
        bbox: [0; 3],
        kps: [0; 3],
    };
    for (i, s) in STRIDES.iter().enumerate() {
        map.cls[i] = find("cls", *s)?;
        map.obj[i] = find("obj", *s)?;
        map.bbox[i] = find("bbox", *s)?;
        map.kps[i] = find("kps", *s)?;
    }
    Ok(map)
}

fn decode(
    outputs: &TVec<TValue>,
    map: &OutputMap,
    pw: usize,
    ph: usize,
    threshold: f32,
) -> Result<Vec<Detection>, FaceError> {
    let view = |i: usize, per: usize, cells: usize| -> Result<&[f32], FaceError> {
        let t = outputs
            .get(i)
            .ok_or_else(|| FaceError::Inference(format!("YuNet output {i} missing")))?;
        let s = t
            .try_as_plain_ram()
            .and_then(|v| v.as_slice::<f32>())
            .map_err(|e| FaceError::Inference(format!("YuNet output {i}: {e}")))?;
        if s.len() != per * cells {
            return Err(FaceError::Inference(format!(
                "YuNet output {i} has {} values, expected {}",
                s.len(),
                per * cells
            )));
        }
        Ok(s)
    };
    let mut faces = Vec::new();
    for (k, &stride) in STRIDES.iter().enumerate() {
        let (cols, rows) = (pw / stride, ph / stride);
        let cells = cols * rows;
        let cls = view(map.cls[k], 1, cells)?;
        let obj = view(map.obj[k], 1, cells)?;
        let bbox = view(map.bbox[k], 4, cells)?;
        let kps = view(map.kps[k], 10, cells)?;
        let st = stride as f32;
        for idx in 0..cells {
            let score = (cls[idx].clamp(0.0, 1.0) * obj[idx].clamp(0.0, 1.0)).sqrt();
            if score < threshold || !score.is_finite() {
                continue;
            }
            let (r, c) = ((idx / cols) as f32, (idx % cols) as f32);
            let b = &bbox[idx * 4..idx * 4 + 4];
            let cx = (c + b[0]) * st;
            let cy = (r + b[1]) * st;
            let w = b[2].exp() * st;
            let h = b[3].exp() * st;
            let mut landmarks = [[0.0f32; 2]; 5];
            for (n, p) in landmarks.iter_mut().enumerate() {
                *p = [
                    (kps[idx * 10 + 2 * n] + c) * st,
                    (kps[idx * 10 + 2 * n + 1] + r) * st,
                ];
            }
            if !(w.is_finite() && h.is_finite()) {
                continue;
            }
            faces.push(Detection {
                bbox: [cx - w / 2.0, cy - h / 2.0, w, h],
                landmarks,
                score,
            });
        }
    }
    Ok(faces)
}

/// Greedy non-maximum suppression, best score first (OpenCV's `NMSBoxes`).
fn nms(mut faces: Vec<Detection>, threshold: f32) -> Vec<Detection> {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::new();
    for f in faces {
        if kept.iter().all(|k| k.iou(&f) <= threshold) {
            kept.push(f);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x: f32, y: f32, w: f32, score: f32) -> Detection {
        Detection {
            bbox: [x, y, w, w],
            landmarks: [[0.0; 2]; 5],
            score,
        }
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes_and_separate_ones() {
        let faces = vec![
            det(0.0, 0.0, 10.0, 0.8),
            det(1.0, 1.0, 10.0, 0.95),
            det(50.0, 50.0, 10.0, 0.9),
        ];
        let kept = nms(faces, 0.3);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].score, 0.95);
        assert_eq!(kept[1].score, 0.9);
    }

    #[test]
    fn iou_of_disjoint_and_identical_boxes() {
        let a = det(0.0, 0.0, 10.0, 1.0);
        assert_eq!(a.iou(&a), 1.0);
        assert_eq!(a.iou(&det(20.0, 0.0, 10.0, 1.0)), 0.0);
    }
}
