//! [`Conv3x3`]: a 3x3 convolution with padding 1 and stride 1 or 2, either depthwise or
//! dense with a few input channels (the first layer of each model), on NCHW f32.
//!
//! While tract declutters the graph, the operator absorbs what follows it, so that each
//! plane is written once instead of three or four times:
//! - a per-channel multiply or add by a constant (SFace's batch norms): folded into the
//!   weights and bias;
//! - ReLU (`max(x, 0)`, YuNet) or a per-channel PReLU (SFace): applied to each row in cache;
//! - then, after stride 1, a 2x2 max pool with stride 2 (YuNet): done on pairs of rows.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::binary::TypedBinOp;
use tract_onnx::tract_core::ops::cnn::{MaxPool, PaddingSpec};
use tract_onnx::tract_core::ops::nn::DataFormat;
use tract_onnx::tract_hir::internal::*;

use zeroize::Zeroize;

use super::kernels::{conv3x3_image, Activation, ConvImage};
use super::prelu::ChannelPrelu;
use super::{bits, floats};

/// The activation fused into a [`Conv3x3`]. Slopes are f32 bit patterns (hashable).
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub enum Act {
    Linear,
    Relu,
    Prelu(Vec<u32>),
}

/// See the module documentation. Weights and bias are f32 bit patterns, so the operator is
/// hashable and comparable as tract requires.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub struct Conv3x3 {
    pub(super) stride: usize,
    /// Output channel `c` reads input channel `c` alone; otherwise every input channel.
    pub(super) depthwise: bool,
    pub(super) cin: usize,
    pub(super) cout: usize,
    /// `cout x (1 or cin) x 3 x 3`.
    pub(super) weights: Vec<u32>,
    pub(super) bias: Vec<u32>,
    pub(super) act: Act,
    pub(super) pool: bool,
}

impl Conv3x3 {
    /// Input planes each output channel reads.
    fn per_output(&self) -> usize {
        if self.depthwise {
            1
        } else {
            self.cin
        }
    }

    fn output_hw(&self, h: usize, w: usize) -> (usize, usize) {
        match (self.stride, self.pool) {
            (2, _) => (h.div_ceil(2), w.div_ceil(2)),
            (_, true) => (h / 2, w / 2),
            _ => (h, w),
        }
    }

    /// This operator with the successor `succ` (reading our output `ours`) folded in, when
    /// it is one of the patterns in the module documentation.
    fn absorb(
        &self,
        model: &TypedModel,
        ours: OutletId,
        succ: &TypedNode,
    ) -> TractResult<Option<Conv3x3>> {
        if let Some(pool) = succ.op_as::<MaxPool>() {
            let ok = self.stride == 1 && !self.pool && is_2x2_pool(pool);
            return Ok(ok.then(|| Conv3x3 {
                pool: true,
                ..self.clone()
            }));
        }
        let our_fact = model.outlet_fact(ours)?;
        let same_shape = succ.outputs.len() == 1
            && succ.outputs[0].fact.datum_type == f32::datum_type()
            && succ.outputs[0].fact.shape == our_fact.shape;
        if self.act != Act::Linear || self.pool || !same_shape {
            return Ok(None);
        }
        if let Some(p) = succ.op_as::<ChannelPrelu>() {
            let ok = p.slopes.len() == self.cout;
            return Ok(ok.then(|| Conv3x3 {
                act: Act::Prelu(p.slopes.clone()),
                ..self.clone()
            }));
        }
        let Some(bin) = succ.op_as::<TypedBinOp>() else {
            return Ok(None);
        };
        let other = match succ.inputs.as_slice() {
            [a, b] if *a == ours && *b != ours => *b,
            [a, b] if *b == ours && *a != ours => *a,
            _ => return Ok(None),
        };
        let Some(v) = per_channel_const(model.outlet_fact(other)?, self.cout) else {
            return Ok(None);
        };
        let mut fused = self.clone();
        let per = self.per_output() * 9;
        match bin.0.name() {
            "Mul" => {
                for (co, s) in v.iter().enumerate() {
                    for w in &mut fused.weights[co * per..(co + 1) * per] {
                        *w = (f32::from_bits(*w) * s).to_bits();
                    }
                    fused.bias[co] = (f32::from_bits(fused.bias[co]) * s).to_bits();
                }
            }
            "Add" => {
                for (b, a) in fused.bias.iter_mut().zip(&v) {
                    *b = (f32::from_bits(*b) + a).to_bits();
                }
            }
            "Max" if v.iter().all(|x| *x == 0.0) => fused.act = Act::Relu,
            _ => return Ok(None),
        }
        Ok(Some(fused))
    }
}

fn floats_of(bits: &[u32]) -> Vec<f32> {
    bits.iter().map(|b| f32::from_bits(*b)).collect()
}

/// A 2x2 max pool with stride 2 and no padding on NCHW, as YuNet has.
fn is_2x2_pool(p: &MaxPool) -> bool {
    let s = &p.pool_spec;
    p.with_index_outputs.is_none()
        && s.data_format == DataFormat::NCHW
        && s.kernel_shape.as_slice() == [2, 2]
        && s.strides.as_deref() == Some(&[2, 2][..])
        && s.dilations
            .as_ref()
            .is_none_or(|d| d.iter().all(|v| *v == 1))
        && matches!(s.padding, PaddingSpec::Valid)
}

/// The values of a constant shaped `[1, C, 1, 1]` (or `[1, 1, 1, 1]`, repeated), one per
/// channel.
fn per_channel_const(fact: &TypedFact, c: usize) -> Option<Vec<f32>> {
    if fact.datum_type != f32::datum_type() {
        return None;
    }
    let dims = fact.shape.as_concrete()?;
    let ok = dims.len() == 4 && dims[0] == 1 && dims[2] == 1 && dims[3] == 1;
    if !ok || (dims[1] != c && dims[1] != 1) {
        return None;
    }
    let v = floats(fact)?;
    match v.len() {
        1 => Some(vec![v[0]; c]),
        n if n == c => Some(v),
        _ => None,
    }
}

impl Op for Conv3x3 {
    fn name(&self) -> StaticName {
        if self.depthwise {
            "Dw3x3".into()
        } else {
            "Conv3x3".into()
        }
    }

    op_as_typed_op!();
}

impl EvalOp for Conv3x3 {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let shape: TVec<usize> = x.shape().into();
        ensure!(
            shape.len() == 4 && shape[1] == self.cin,
            "{} wants NCHW with {} channels, got {shape:?}",
            self.name(),
            self.cin
        );
        let per = self.per_output();
        ensure!(
            self.weights.len() == self.cout * per * 9 && self.bias.len() == self.cout,
            "{}: {} weights and {} biases for {} outputs",
            self.name(),
            self.weights.len(),
            self.bias.len(),
            self.cout
        );
        let (n, h, w) = (shape[0], shape[2], shape[3]);
        let (oh, ow) = self.output_hw(h, w);
        let mut output = Tensor::zero::<f32>(&[n, self.cout, oh, ow])?;
        if n * h * w == 0 || oh * ow == 0 {
            return Ok(tvec!(output.into_tvalue()));
        }
        let kernels: Vec<[f32; 9]> = self
            .weights
            .chunks_exact(9)
            .map(|k| std::array::from_fn(|i| f32::from_bits(k[i])))
            .collect();
        let bias = floats_of(&self.bias);
        let slopes = match &self.act {
            Act::Prelu(s) => floats_of(s),
            _ => Vec::new(),
        };
        let act = match &self.act {
            Act::Linear => Activation::Linear,
            Act::Relu => Activation::Relu,
            Act::Prelu(_) => Activation::Prelu(&slopes),
        };
        {
            let view = x.try_as_plain_ram()?;
            let input = view.as_slice::<f32>()?;
            let mut out_view = output.try_as_plain_ram_mut()?;
            let out = out_view.as_slice_mut::<f32>()?;
            let (image, out_image) = (self.cin * h * w, self.cout * oh * ow);
            for (src, dst) in input
                .chunks_exact(image)
                .zip(out.chunks_exact_mut(out_image))
            {
                let job = ConvImage {
                    input: src,
                    cin: self.cin,
                    h,
                    w,
                    stride: self.stride,
                    pool: self.pool,
                    depthwise: self.depthwise,
                    kernels: &kernels,
                    bias: &bias,
                    act,
                };
                ensure!(
                    conv3x3_image(&job, dst),
                    "{}: sizes do not fit ({shape:?})",
                    self.name()
                );
            }
        }
        // The input is an activation of a face (for the first layer, the picture itself,
        // normalised). When we are its last reader tract would free it unwiped: wipe it.
        if let Ok(mut t) = Arc::try_unwrap(x.into_arc_tensor()) {
            t.as_bytes_mut().zeroize();
        }
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for Conv3x3 {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = &inputs[0].shape;
        ensure!(shape.rank() == 4, "{} wants NCHW", self.name());
        let mut out: TVec<TDim> = shape.iter().cloned().collect();
        out[1] = self.cout.into();
        for d in &mut out[2..] {
            *d = match (self.stride, self.pool) {
                (2, _) => d.clone().div_ceil(2),
                (_, true) => match d.to_usize() {
                    Ok(v) => (v / 2).into(),
                    Err(_) => d.clone() / 2,
                },
                _ => d.clone(),
            };
        }
        Ok(tvec!(inputs[0].datum_type.fact(out)))
    }

    fn declutter(
        &self,
        model: &TypedModel,
        node: &TypedNode,
    ) -> TractResult<Option<TypedModelPatch>> {
        let ours = OutletId::new(node.id, 0);
        if model.output_outlets()?.contains(&ours) {
            return Ok(None);
        }
        let Some(succ) = model.single_succ(node.id)? else {
            return Ok(None);
        };
        match self.absorb(model, ours, succ)? {
            Some(op) => TypedModelPatch::fuse_with_next(model, node, op).map(Some),
            None => Ok(None),
        }
    }

    as_op!();
}

/// Builds the operator from constant weights `[cout, 1 or cin, 3, 3]` and bias `[cout]`.
pub(super) fn new_conv3x3(
    stride: usize,
    depthwise: bool,
    cin: usize,
    cout: usize,
    weights: &[f32],
    bias: &[f32],
) -> TractResult<Conv3x3> {
    let per = if depthwise { 1 } else { cin };
    ensure!(
        (!depthwise || cin == cout) && weights.len() == cout * per * 9 && bias.len() == cout,
        "3x3 convolution: {cin} in, {cout} out, {} weights, {} biases",
        weights.len(),
        bias.len()
    );
    Ok(Conv3x3 {
        stride,
        depthwise,
        cin,
        cout,
        weights: bits(weights),
        bias: bits(bias),
        act: Act::Linear,
        pool: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::tract_core::ops::cnn::PoolSpec;
    use tract_onnx::tract_core::ops::math;

    fn consts(model: &mut TypedModel, name: &str, v: &[f32]) -> OutletId {
        let t = Tensor::from_shape(&[1, v.len(), 1, 1], v).unwrap();
        model.add_const(name, t).unwrap()
    }

    fn values(outputs: TVec<TValue>) -> Vec<f32> {
        outputs[0]
            .try_as_plain_ram()
            .unwrap()
            .as_slice::<f32>()
            .unwrap()
            .to_vec()
    }

    /// conv (with a bias) -> x scale -> + shift -> max(x, 0) -> 2x2 max pool, the shapes
    /// YuNet and SFace have, on a picture small enough to follow.
    fn chain() -> TypedModel {
        let mut m = TypedModel::default();
        let x = m.add_source("x", f32::fact([1, 2, 4, 6])).unwrap();
        let w: Vec<f32> = (0..18).map(|i| (i as f32 - 8.0) * 0.125).collect();
        let conv = new_conv3x3(1, true, 2, 2, &w, &[0.5, -1.0]).unwrap();
        let mut y = m.wire_node("conv", conv, &[x]).unwrap()[0];
        let scale = consts(&mut m, "scale", &[2.0, -0.5]);
        y = m.wire_node("mul", math::mul(), &[y, scale]).unwrap()[0];
        let shift = consts(&mut m, "shift", &[0.25, 0.75]);
        y = m.wire_node("add", math::add(), &[shift, y]).unwrap()[0];
        let zero = consts(&mut m, "zero", &[0.0]);
        y = m.wire_node("relu", math::max(), &[y, zero]).unwrap()[0];
        let pool = MaxPool {
            pool_spec: PoolSpec {
                data_format: DataFormat::NCHW,
                kernel_shape: tvec![2, 2],
                padding: PaddingSpec::Valid,
                dilations: None,
                strides: Some(tvec![2, 2]),
                input_channels: 2,
                output_channels: 2,
            },
            with_index_outputs: None,
        };
        y = m.wire_node("pool", pool, &[y]).unwrap()[0];
        m.select_output_outlets(&[y]).unwrap();
        m
    }

    #[test]
    fn scale_shift_relu_and_pool_fold_into_the_convolution() {
        let input: Vec<f32> = (0..48).map(|i| ((i * 5) as f32 * 0.41).sin()).collect();
        let x = Tensor::from_shape(&[1, 2, 4, 6], &input).unwrap();
        let plain = chain().into_runnable().unwrap();
        let want = values(plain.run(tvec!(x.clone().into_tvalue())).unwrap());
        let fused = chain().into_decluttered().unwrap();
        let ops: Vec<String> = fused
            .nodes()
            .iter()
            .map(|n| n.op().name().to_string())
            .collect();
        assert_eq!(
            ops,
            vec!["Source", "Dw3x3"],
            "everything folded into one node"
        );
        let got = values(
            fused
                .into_runnable()
                .unwrap()
                .run(tvec!(x.into_tvalue()))
                .unwrap(),
        );
        assert_eq!(got.len(), 2 * 2 * 3);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-5, "{got:?} vs {want:?}");
        }
    }

    #[test]
    fn a_shared_output_is_not_fused() {
        let mut m = TypedModel::default();
        let x = m.add_source("x", f32::fact([1, 1, 3, 3])).unwrap();
        let conv = new_conv3x3(2, false, 1, 1, &[1.0; 9], &[0.0]).unwrap();
        let y = m.wire_node("conv", conv, &[x]).unwrap()[0];
        let zero = consts(&mut m, "zero", &[0.0]);
        let r = m.wire_node("relu", math::max(), &[y, zero]).unwrap()[0];
        // The convolution's output is read by the ReLU and is a model output too.
        m.select_output_outlets(&[y, r]).unwrap();
        let ops: Vec<String> = m
            .into_decluttered()
            .unwrap()
            .nodes()
            .iter()
            .map(|n| n.op().name().to_string())
            .collect();
        assert!(ops.iter().any(|o| o == "Max"), "{ops:?}");
    }
}
