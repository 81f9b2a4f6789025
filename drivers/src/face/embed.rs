//! SFace face embeddings on tract, and cosine similarity. SFace takes the 112x112 aligned
//! crop as RGB 0-255 planar (its normalisation is inside the graph) and returns 128 floats.

use std::path::Path;

use tract_onnx::prelude::*;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::align::{AlignedFace, ALIGNED_SIZE};
use super::{run_and_wipe, FaceError, Plan, PlanState};

/// Length of an SFace embedding.
pub const EMBEDDING_LEN: usize = 128;

/// A unit-length face embedding. Biometric data: never logged, never stored, wiped on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Embedding {
    v: Vec<f32>,
}

impl std::fmt::Debug for Embedding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Embedding(..)")
    }
}

impl Embedding {
    /// Normalises a raw network output; `None` when it is empty, not finite or all zero.
    pub fn from_raw(raw: &[f32]) -> Option<Embedding> {
        let norm = raw.iter().map(|v| v * v).sum::<f32>().sqrt();
        if raw.is_empty() || !norm.is_finite() || norm < 1e-12 {
            return None;
        }
        Some(Embedding {
            v: raw.iter().map(|v| v / norm).collect(),
        })
    }

    pub fn as_slice(&self) -> &[f32] {
        &self.v
    }
}

/// Cosine similarity of two embeddings (a dot product: both are unit length). -1..1; SFace's
/// published same-person threshold is 0.363.
pub fn cosine(a: &Embedding, b: &Embedding) -> f32 {
    if a.v.len() != b.v.len() {
        return -1.0;
    }
    a.v.iter().zip(&b.v).map(|(x, y)| x * y).sum()
}

/// SFace on tract: one plan for the fixed 1x3x112x112 input.
pub struct Recognizer {
    state: PlanState,
}

impl std::fmt::Debug for Recognizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Recognizer(SFace)")
    }
}

impl Recognizer {
    pub fn load(path: &Path, fast_ops: bool) -> Result<Recognizer, FaceError> {
        let s = ALIGNED_SIZE;
        let plan: Plan = super::fast_ops::onnx_loader(fast_ops)
            .model_for_path(path)
            .and_then(|m| m.with_input_fact(0, f32::fact([1, 3, s, s]).into()))
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(|e| FaceError::model(path, e))?;
        Ok(Recognizer {
            state: PlanState::new(&plan)?,
        })
    }

    /// The embedding of an aligned face.
    pub fn embed(&mut self, face: &AlignedFace) -> Result<Embedding, FaceError> {
        let s = ALIGNED_SIZE;
        let plane = s * s;
        let mut input = Tensor::zero::<f32>(&[1, 3, s, s])
            .map_err(|e| FaceError::Inference(format!("SFace input: {e}")))?;
        {
            let mut view = input
                .try_as_plain_ram_mut()
                .map_err(|e| FaceError::Inference(format!("input: {e}")))?;
            let buf = view
                .as_slice_mut::<f32>()
                .map_err(|e| FaceError::Inference(format!("SFace input: {e}")))?;
            for (i, px) in face.rgb.chunks_exact(3).enumerate() {
                buf[i] = px[0] as f32;
                buf[plane + i] = px[1] as f32;
                buf[2 * plane + i] = px[2] as f32;
            }
        }
        let mut out = run_and_wipe(&mut self.state, input, "SFace")?;
        let raw = out
            .first()
            .ok_or_else(|| FaceError::Inference("SFace gave no output".into()))?
            .try_as_plain_ram()
            .and_then(|v| v.as_slice::<f32>())
            .map_err(|e| FaceError::Inference(format!("SFace output: {e}")))?;
        if raw.len() != EMBEDDING_LEN {
            return Err(FaceError::Inference(format!(
                "SFace output has {} values, expected {EMBEDDING_LEN}",
                raw.len()
            )));
        }
        let emb = Embedding::from_raw(raw)
            .ok_or_else(|| FaceError::Inference("SFace output is not a usable vector".into()));
        // The raw output is biometric too: wipe it when we hold the only reference.
        if let Some(v) = out.pop() {
            if let Ok(mut t) = Arc::try_unwrap(v.into_arc_tensor()) {
                t.as_bytes_mut().zeroize();
            }
        }
        emb
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_unit_vectors() {
        let a = Embedding::from_raw(&[3.0, 4.0]).unwrap();
        let b = Embedding::from_raw(&[6.0, 8.0]).unwrap();
        let c = Embedding::from_raw(&[-4.0, 3.0]).unwrap();
        assert!((cosine(&a, &b) - 1.0).abs() < 1e-6);
        assert!(cosine(&a, &c).abs() < 1e-6);
        let short = Embedding::from_raw(&[1.0]).unwrap();
        assert_eq!(cosine(&a, &short), -1.0, "different lengths never match");
    }

    #[test]
    fn unusable_vectors_are_refused() {
        assert!(Embedding::from_raw(&[]).is_none());
        assert!(Embedding::from_raw(&[0.0, 0.0]).is_none());
        assert!(Embedding::from_raw(&[f32::NAN, 1.0]).is_none());
    }

    #[test]
    fn debug_never_prints_the_vector() {
        let a = Embedding::from_raw(&[0.25, 0.5]).unwrap();
        assert_eq!(format!("{a:?}"), "Embedding(..)");
    }
}
