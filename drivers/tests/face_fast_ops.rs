//! Our tract operators (3x3 convolutions with the batch norm, activation and max pool they
//! absorb, per-channel PReLU) must not change what the models compute: both models run once
//! with tract's standard operators and once with ours, on a real picture, and every output
//! must agree. Needs `scripts/setup.sh` (models + photos).

mod support;

use drivers::face::fast_ops::onnx_loader;
use drivers::face::image::{bgr_planar_resized, RgbRef};
use drivers::face::{align_face, ALIGNED_SIZE};
use support::*;
use tract_onnx::prelude::*;

struct Ran {
    outputs: Vec<Vec<f32>>,
    /// The optimised plan's operator names, one per node.
    ops: Vec<String>,
}

impl Ran {
    fn count(&self, op: &str) -> usize {
        self.ops.iter().filter(|o| o.contains(op)).count()
    }
}

fn run(path: &std::path::Path, fast: bool, shape: [usize; 4], input: &Tensor) -> Ran {
    let plan = onnx_loader(fast)
        .model_for_path(path)
        .unwrap()
        .with_input_fact(0, f32::fact(shape).into())
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    let ops: Vec<String> = plan
        .model()
        .nodes()
        .iter()
        .map(|n| n.op().name().to_string())
        .collect();
    if fast {
        for ours in ["Dw3x3", "Conv3x3"] {
            assert!(
                ops.iter().any(|o| o == ours),
                "our {ours} op was not used: {ops:?}"
            );
        }
    }
    let outputs = plan
        .run(tvec!(input.clone().into_tvalue()))
        .unwrap()
        .iter()
        .map(|t| {
            t.try_as_plain_ram()
                .unwrap()
                .as_slice::<f32>()
                .unwrap()
                .to_vec()
        })
        .collect();
    Ran { outputs, ops }
}

fn assert_close(a: &[Vec<f32>], b: &[Vec<f32>], tol: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: output count");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert_eq!(x.len(), y.len(), "{what}: output {i} length");
        let worst = x
            .iter()
            .zip(y)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0f32, f32::max);
        assert!(worst <= tol, "{what}: output {i} differs by {worst}");
    }
}

#[test]
fn yunet_outputs_are_the_same_with_our_depthwise_op() {
    let models = models_dir();
    let frame = resized(&photo("obama.jpg"), 160, 200);
    let (pw, ph) = (160, 224);
    let mut input = Tensor::zero::<f32>(&[1, 3, ph, pw]).unwrap();
    {
        let mut v = input.try_as_plain_ram_mut().unwrap();
        let img = RgbRef::new(frame.width(), frame.height(), frame.view().data()).unwrap();
        bgr_planar_resized(img, 160, 200, pw, ph, v.as_slice_mut::<f32>().unwrap());
    }
    let path = models.join(drivers::face::models::YUNET_FILE);
    let shape = [1, 3, ph, pw];
    let (plain, fast) = (
        run(&path, false, shape, &input),
        run(&path, true, shape, &input),
    );
    assert_close(&plain.outputs, &fast.outputs, 1e-3, "YuNet");
    // The fusions ran: ReLUs and the max pools right after a convolution are gone.
    assert!(fast.ops.len() < plain.ops.len(), "{:?}", fast.ops);
    assert!(
        fast.count("MaxPool") < plain.count("MaxPool"),
        "no max pool was fused: {:?}",
        fast.ops
    );
}

#[test]
fn sface_outputs_are_the_same_with_our_ops() {
    let models = models_dir();
    let frame = photo("obama2.jpg");
    let mut e = engine();
    let det = e.detect(frame.view()).unwrap()[0];
    let face = align_face(frame.view(), &det.landmarks).unwrap();
    let s = ALIGNED_SIZE;
    let mut input = Tensor::zero::<f32>(&[1, 3, s, s]).unwrap();
    {
        let mut v = input.try_as_plain_ram_mut().unwrap();
        let buf = v.as_slice_mut::<f32>().unwrap();
        for (i, px) in face.rgb.chunks_exact(3).enumerate() {
            for c in 0..3 {
                buf[c * s * s + i] = px[c] as f32;
            }
        }
    }
    let path = models.join(drivers::face::models::SFACE_FILE);
    let shape = [1, 3, s, s];
    let (plain, fast) = (
        run(&path, false, shape, &input),
        run(&path, true, shape, &input),
    );
    assert_close(&plain.outputs, &fast.outputs, 1e-3, "SFace");
    // The fusions ran: the batch norms and PReLUs after each 3x3 convolution are gone.
    assert!(fast.ops.len() < plain.ops.len(), "{:?}", fast.ops);
}
