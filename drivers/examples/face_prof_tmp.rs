use std::collections::HashMap;
use std::time::Instant;
use tract_onnx::prelude::*;
fn prof(path: &str, shape: [usize; 4]) {
    let plan = tract_onnx::onnx().with_ignore_value_info(true).with_ignore_output_shapes(true)
        .model_for_path(path).unwrap()
        .with_input_fact(0, f32::fact(shape).into()).unwrap()
        .into_optimized().unwrap().into_runnable().unwrap();
    let mut state = TypedSimpleState::new(&plan).unwrap();
    let input = Tensor::zero::<f32>(&shape).unwrap();
    for _ in 0..3 { state.run(tvec!(input.clone().into())).unwrap(); }
    let mut acc: HashMap<String, f64> = HashMap::new();
    let t = Instant::now();
    for _ in 0..5 {
        state.run_plan_with_eval(tvec!(input.clone().into()), |ctx, st, node, inp| {
            let t = Instant::now();
            let r = tract_onnx::tract_core::plan::eval(ctx, st, node, inp);
            let name = node.op().name().to_string();
            *acc.entry(name).or_default() += t.elapsed().as_secs_f64() * 1000.0 / 5.0;
            r
        }).unwrap();
    }
    println!("{path} {:?} total {:.1} ms", shape, t.elapsed().as_secs_f64()*1000.0/5.0);
    let mut v: Vec<_> = acc.into_iter().collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (k, ms) in v.iter().take(12) { println!("  {k:40} {ms:.2}"); }
}
fn main() {
    prof("models/face_detection_yunet_2023mar.onnx", [1,3,640,512]);
    prof("models/face_recognition_sface_2021dec.onnx", [1,3,112,112]);
}
