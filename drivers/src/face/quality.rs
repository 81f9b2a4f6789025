//! What a live frame shows, and whether it is good enough to compare: exactly one face, big
//! enough, roughly frontal, not blurred. Head pose comes from the five landmarks alone (no
//! extra model): ratios of distances, so they do not depend on how far the face is.

use super::detect::Detection;
use super::embed::Embedding;

/// Head pose proxies from the landmarks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeadPose {
    /// Nose offset from the face's centre line along the eye axis, in eye distances. About 0
    /// frontal; positive when the nose points to the picture's right, which is the subject's
    /// LEFT in an unmirrored camera frame. A flat photo turned about a vertical axis is only
    /// squeezed sideways, which leaves this ratio unchanged: only a 3-D head changes it.
    pub yaw: f32,
    /// Angle of the eye line in degrees (0 = level).
    pub roll_deg: f32,
    /// Nose height between eye line (0) and mouth line (1); about 0.5 frontal.
    pub pitch: f32,
    /// Distance between the eyes in pixels.
    pub eye_distance: f32,
}

impl HeadPose {
    /// `None` when the eyes coincide or the values are not finite.
    pub fn from_landmarks(l: &[[f32; 2]; 5]) -> Option<HeadPose> {
        let [re, le, nose, rm, lm] = *l;
        let (ex, ey) = (le[0] - re[0], le[1] - re[1]);
        let eye_distance = (ex * ex + ey * ey).sqrt();
        if !eye_distance.is_finite() || eye_distance < 1e-3 {
            return None;
        }
        // Unit vectors along the eye line (u) and down the face (v).
        let u = [ex / eye_distance, ey / eye_distance];
        let v = [-u[1], u[0]];
        let dot = |p: [f32; 2], q: [f32; 2]| p[0] * q[0] + p[1] * q[1];
        let centre = [
            (re[0] + le[0] + rm[0] + lm[0]) / 4.0,
            (re[1] + le[1] + rm[1] + lm[1]) / 4.0,
        ];
        let eye_mid = [(re[0] + le[0]) / 2.0, (re[1] + le[1]) / 2.0];
        let mouth_mid = [(rm[0] + lm[0]) / 2.0, (rm[1] + lm[1]) / 2.0];
        let yaw = dot([nose[0] - centre[0], nose[1] - centre[1]], u) / eye_distance;
        let face_height = dot([mouth_mid[0] - eye_mid[0], mouth_mid[1] - eye_mid[1]], v);
        let pitch = if face_height.abs() > 1e-3 {
            dot([nose[0] - eye_mid[0], nose[1] - eye_mid[1]], v) / face_height
        } else {
            f32::NAN
        };
        let roll_deg = ey.atan2(ex).to_degrees();
        let pose = HeadPose {
            yaw,
            roll_deg,
            pitch,
            eye_distance,
        };
        [yaw, roll_deg, pitch]
            .iter()
            .all(|x| x.is_finite())
            .then_some(pose)
    }
}

/// Why a frame cannot be used. Each maps to a hint the citizen sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QualityIssue {
    NoFace,
    SeveralFaces,
    /// The face is too small: move closer.
    TooSmall,
    /// Turned, tilted or nodding: look at the camera.
    NotFrontal,
    /// Blurred: hold still.
    Blurred,
}

/// Thresholds of the gates. Pixel sizes are in the live frame's own pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityConfig {
    /// Smallest face box width accepted (a 640x480 kiosk camera at arm's length sees ~150).
    pub min_face_px: f32,
    /// Other faces at least this wide count as a second person; smaller ones are far-away
    /// passers-by in the hall.
    pub other_face_min_px: f32,
    /// Largest |yaw| (eye distances) still called frontal.
    pub max_yaw: f32,
    /// Largest eye-line tilt in degrees.
    pub max_roll_deg: f32,
    /// Accepted nose height range between eye line and mouth line.
    pub pitch_range: (f32, f32),
    /// Smallest focus measure of the aligned crop.
    pub min_sharpness: f32,
}

impl Default for QualityConfig {
    fn default() -> Self {
        QualityConfig {
            min_face_px: 80.0,
            other_face_min_px: 40.0,
            max_yaw: 0.25,
            max_roll_deg: 15.0,
            pitch_range: (0.2, 0.8),
            min_sharpness: 30.0,
        }
    }
}

/// The one usable face of a frame, analysed.
#[derive(Debug, Clone)]
pub struct Subject {
    pub detection: Detection,
    pub pose: HeadPose,
    pub sharpness: f32,
    pub embedding: Embedding,
}

/// What the engine made of one frame.
#[derive(Debug, Clone)]
pub enum Observation {
    /// Nothing to compare: no face, several faces, too small.
    Rejected(QualityIssue),
    /// Exactly one face of usable size, with pose, focus and embedding.
    Face(Subject),
}

/// The gates that need only the detections (run before the costly embedding): returns the
/// index of the subject's face.
pub fn screen(faces: &[Detection], cfg: &QualityConfig) -> Result<usize, QualityIssue> {
    let (idx, subject) = faces
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.area().total_cmp(&b.1.area()))
        .ok_or(QualityIssue::NoFace)?;
    let others = faces
        .iter()
        .enumerate()
        .filter(|(i, f)| *i != idx && f.bbox[2] >= cfg.other_face_min_px)
        .count();
    if others > 0 {
        return Err(QualityIssue::SeveralFaces);
    }
    if subject.bbox[2] < cfg.min_face_px {
        return Err(QualityIssue::TooSmall);
    }
    Ok(idx)
}

/// Whether the subject is good for the 1:1 comparison: frontal and sharp.
pub fn check_for_match(s: &Subject, cfg: &QualityConfig) -> Result<(), QualityIssue> {
    if s.pose.yaw.abs() > cfg.max_yaw {
        return Err(QualityIssue::NotFrontal);
    }
    check_for_turn(s, cfg)
}

/// Whether the subject is good during the head-turn challenge: yaw is free (that is the
/// point), tilt, nod and focus still count.
pub fn check_for_turn(s: &Subject, cfg: &QualityConfig) -> Result<(), QualityIssue> {
    if s.pose.roll_deg.abs() > cfg.max_roll_deg
        || s.pose.pitch < cfg.pitch_range.0
        || s.pose.pitch > cfg.pitch_range.1
    {
        return Err(QualityIssue::NotFrontal);
    }
    if s.sharpness < cfg.min_sharpness {
        return Err(QualityIssue::Blurred);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frontal face: eyes level 40 px apart, nose centred, mouth below.
    pub(crate) fn frontal(x: f32) -> [[f32; 2]; 5] {
        [
            [x, 100.0],
            [x + 40.0, 100.0],
            [x + 20.0, 122.0],
            [x + 5.0, 140.0],
            [x + 35.0, 140.0],
        ]
    }

    fn det(x: f32, w: f32) -> Detection {
        Detection {
            bbox: [x, 50.0, w, w * 1.3],
            landmarks: frontal(x),
            score: 0.95,
        }
    }

    #[test]
    fn frontal_pose_is_centred_and_level() {
        let p = HeadPose::from_landmarks(&frontal(10.0)).unwrap();
        assert!(p.yaw.abs() < 1e-6);
        assert!(p.roll_deg.abs() < 1e-6);
        assert!((p.pitch - 0.55).abs() < 1e-6);
        assert!((p.eye_distance - 40.0).abs() < 1e-6);
    }

    #[test]
    fn nose_to_the_picture_right_is_positive_yaw() {
        let mut l = frontal(0.0);
        l[2][0] += 8.0;
        let p = HeadPose::from_landmarks(&l).unwrap();
        assert!((p.yaw - 0.2).abs() < 1e-6, "{}", p.yaw);
    }

    #[test]
    fn squeezing_a_flat_face_sideways_keeps_yaw() {
        // A photo turned about a vertical axis: every x scaled by 0.6 around x=0.
        let mut l = frontal(0.0);
        l[2][0] += 6.0;
        let before = HeadPose::from_landmarks(&l).unwrap().yaw;
        let squeezed = l.map(|p| [p[0] * 0.6, p[1]]);
        let after = HeadPose::from_landmarks(&squeezed).unwrap().yaw;
        assert!((before - after).abs() < 1e-6);
    }

    #[test]
    fn tilted_face_reports_roll_and_keeps_yaw_zero() {
        let th = 20f32.to_radians();
        let rot = |p: [f32; 2]| {
            [
                p[0] * th.cos() - p[1] * th.sin(),
                p[0] * th.sin() + p[1] * th.cos(),
            ]
        };
        let p = HeadPose::from_landmarks(&frontal(0.0).map(rot)).unwrap();
        assert!((p.roll_deg - 20.0).abs() < 1e-3);
        assert!(p.yaw.abs() < 1e-4);
    }

    #[test]
    fn coincident_eyes_give_no_pose() {
        assert!(HeadPose::from_landmarks(&[[1.0, 1.0]; 5]).is_none());
    }

    #[test]
    fn screening_counts_faces_and_size() {
        let cfg = QualityConfig::default();
        assert_eq!(screen(&[], &cfg), Err(QualityIssue::NoFace));
        assert_eq!(screen(&[det(0.0, 150.0)], &cfg), Ok(0));
        assert_eq!(
            screen(&[det(0.0, 150.0), det(300.0, 120.0)], &cfg),
            Err(QualityIssue::SeveralFaces)
        );
        // A far-away passer-by does not count.
        assert_eq!(screen(&[det(300.0, 20.0), det(0.0, 150.0)], &cfg), Ok(1));
        assert_eq!(screen(&[det(0.0, 60.0)], &cfg), Err(QualityIssue::TooSmall));
    }
}
