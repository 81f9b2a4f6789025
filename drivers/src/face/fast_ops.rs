//! Two tract operators written for these two models, where tract's generic path was the
//! bottleneck (measured with a per-op profile on one core):
//!
//! - YuNet's depthwise convolutions (all 3x3, stride 1, padding 1): tract's generic
//!   depthwise kernel took over half of YuNet's time. [`Dw3x3`] runs each channel plane as
//!   nine shifted row updates, which the compiler vectorises.
//! - SFace's PReLU (per-channel slope): tract expands it into multiply, compare and select,
//!   three passes with three buffers, over 40 % of SFace's time. [`ChannelPrelu`] is one
//!   in-place pass.
//!
//! They are wired through tract's own ONNX op register (the same parser, the same graph);
//! any node that does not fit their exact shape goes to tract's standard operator. A test
//! checks both models give the same outputs either way.

use std::sync::OnceLock;

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::*;

type Builder = fn(&ParsingContext, &NodeProto) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)>;

/// tract's own Conv builder, for every convolution that is not a 3x3 depthwise one.
static TRACT_CONV: OnceLock<Option<Builder>> = OnceLock::new();

/// The ONNX loader the face models use: stored intermediate shapes ignored (YuNet pins
/// 640x640 in them), and with `fast` the two operators above.
pub fn onnx_loader(fast: bool) -> tract_onnx::Onnx {
    let mut onnx = tract_onnx::onnx()
        .with_ignore_value_info(true)
        .with_ignore_output_shapes(true);
    if fast {
        TRACT_CONV.get_or_init(|| onnx.op_register.0.get("Conv").copied());
        onnx.op_register.0.insert("Conv".to_string(), conv_builder);
        onnx.op_register
            .0
            .insert("PRelu".to_string(), prelu_builder);
    }
    onnx
}

fn attr_ints(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    node.attribute
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.ints.clone())
}

fn attr_int(node: &NodeProto, name: &str) -> Option<i64> {
    node.attribute.iter().find(|a| a.name == name).map(|a| a.i)
}

/// The stride of a 3x3, padding 1, one-input-channel-per-group convolution (bias optional)
/// with stride 1 or 2, or `None` for any other convolution.
fn dw3x3_stride(ctx: &ParsingContext, node: &NodeProto) -> Option<usize> {
    let group = attr_int(node, "group").unwrap_or(1);
    let stride = match attr_ints(node, "strides").as_deref() {
        None | Some([1, 1]) => 1,
        Some([2, 2]) => 2,
        _ => return None,
    };
    let ok_attrs = group > 1
        && attr_ints(node, "kernel_shape").is_none_or(|k| k == [3, 3])
        && attr_ints(node, "dilations").is_none_or(|d| d == [1, 1])
        && attr_ints(node, "pads").is_some_and(|p| p == [1, 1, 1, 1])
        && attr_int(node, "auto_pad").is_none()
        && (node.input.len() == 2 || node.input.len() == 3);
    if !ok_attrs {
        return None;
    }
    let graph = ctx.model.graph.as_ref()?;
    let dims = |name: &str| {
        graph
            .initializer
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.dims.clone())
    };
    let weights_ok = dims(&node.input[1]).is_some_and(|d| d == [group, 1, 3, 3]);
    let bias_ok = node.input.len() == 2 || dims(&node.input[2]).is_some_and(|d| d == [group]);
    (weights_ok && bias_ok).then_some(stride)
}

fn conv_builder(
    ctx: &ParsingContext,
    node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    if let Some(stride) = dw3x3_stride(ctx, node) {
        return Ok((expand(Dw3x3Expansion { stride }), vec![]));
    }
    match TRACT_CONV.get().copied().flatten() {
        Some(b) => b(ctx, node),
        None => bail!("tract has no Conv operator"),
    }
}

fn prelu_builder(
    _: &ParsingContext,
    _: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    Ok((expand(PreluExpansion), vec![]))
}

fn f32_values(fact: &TypedFact) -> Option<Vec<f32>> {
    let k = fact.konst.as_ref()?;
    let k = k.cast_to::<f32>().ok()?;
    let view = k.try_as_plain_ram().ok()?;
    view.as_slice::<f32>().ok().map(|s| s.to_vec())
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|f| f.to_bits()).collect()
}

/// Channels of an NCHW f32 input, when it is one.
fn nchw_channels(fact: &TypedFact) -> Option<usize> {
    (fact.rank() == 4 && fact.datum_type == f32::datum_type())
        .then(|| fact.shape[1].to_usize().ok())
        .flatten()
}

#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct Dw3x3Expansion {
    stride: usize,
}

impl Expansion for Dw3x3Expansion {
    fn name(&self) -> StaticName {
        "Dw3x3".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        if inputs.len() != 2 && inputs.len() != 3 {
            bail!("Dw3x3 takes 2 or 3 inputs, got {}", inputs.len());
        }
        check_output_arity(outputs, 1)?;
        s.equals(&inputs[0].datum_type, &outputs[0].datum_type)?;
        s.equals(&inputs[0].rank, &outputs[0].rank)?;
        s.equals(&inputs[0].shape[0], &outputs[0].shape[0])?;
        s.equals(&inputs[0].shape[1], &outputs[0].shape[1])?;
        if self.stride == 1 {
            s.equals(&inputs[0].shape[2], &outputs[0].shape[2])?;
            s.equals(&inputs[0].shape[3], &outputs[0].shape[3])?;
        } else {
            // (n + 2 - 3) / 2 + 1 = ceil(n / 2) for padding 1, kernel 3, stride 2.
            for axis in [2, 3] {
                s.given(&inputs[0].shape[axis], move |s, d| {
                    s.equals(&outputs[0].shape[axis], d.div_ceil(2))
                })?;
            }
        }
        Ok(())
    }

    fn wire(
        &self,
        name: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        let x = model.outlet_fact(inputs[0])?.clone();
        let c = nchw_channels(&x)
            .with_context(|| format!("{name}: depthwise input is not NCHW f32"))?;
        let w = f32_values(model.outlet_fact(inputs[1])?)
            .with_context(|| format!("{name}: weights are not constant"))?;
        let b = match inputs.get(2) {
            Some(b) => f32_values(model.outlet_fact(*b)?)
                .with_context(|| format!("{name}: bias is not constant"))?,
            None => vec![0.0; c],
        };
        ensure!(
            w.len() == c * 9 && b.len() == c,
            "{name}: {c} channels, {} weights, {} biases",
            w.len(),
            b.len()
        );
        model.wire_node(
            name,
            Dw3x3 {
                stride: self.stride,
                weights: bits(&w),
                bias: bits(&b),
            },
            &[inputs[0]],
        )
    }
}

/// Depthwise 3x3 convolution, stride 1 or 2, zero padding 1, with bias, on NCHW f32.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub struct Dw3x3 {
    stride: usize,
    weights: Vec<u32>,
    bias: Vec<u32>,
}

impl Op for Dw3x3 {
    fn name(&self) -> StaticName {
        "Dw3x3".into()
    }

    op_as_typed_op!();
}

impl EvalOp for Dw3x3 {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let shape: TVec<usize> = x.shape().into();
        ensure!(shape.len() == 4, "Dw3x3 wants NCHW");
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3]);
        ensure!(
            c * 9 == self.weights.len(),
            "Dw3x3: {c} channels for {} weights",
            self.weights.len()
        );
        let view = x.try_as_plain_ram()?;
        let input = view.as_slice::<f32>()?;
        let (oh, ow) = self.output_hw(h, w);
        let mut output = Tensor::zero::<f32>(&[n, c, oh, ow])?;
        if h * w > 0 && oh * ow > 0 {
            let mut out_view = output.try_as_plain_ram_mut()?;
            let out = out_view.as_slice_mut::<f32>()?;
            let planes = input.chunks_exact(h * w).zip(out.chunks_exact_mut(oh * ow));
            for (p, (src, dst)) in planes.enumerate().take(n * c) {
                let ch = p % c;
                let mut k = [0f32; 9];
                for (kv, b) in k.iter_mut().zip(&self.weights[ch * 9..ch * 9 + 9]) {
                    *kv = f32::from_bits(*b);
                }
                let bias = f32::from_bits(self.bias[ch]);
                if self.stride == 1 {
                    dw3x3_plane(src, dst, h, w, &k, bias);
                } else {
                    dw3x3_plane_s2(src, dst, h, w, ow, &k, bias);
                }
            }
        }
        Ok(tvec!(output.into_tvalue()))
    }
}

impl Dw3x3 {
    fn output_hw(&self, h: usize, w: usize) -> (usize, usize) {
        if self.stride == 1 {
            (h, w)
        } else {
            (h.div_ceil(2), w.div_ceil(2))
        }
    }
}

/// Stride 2: output (y, x) centres on input (2y, 2x).
fn dw3x3_plane_s2(
    src: &[f32],
    dst: &mut [f32],
    h: usize,
    w: usize,
    ow: usize,
    k: &[f32; 9],
    bias: f32,
) {
    for (y, orow) in dst.chunks_exact_mut(ow).enumerate() {
        orow.fill(bias);
        for ky in 0..3 {
            let iy = (2 * y + ky) as isize - 1;
            if iy < 0 || iy >= h as isize {
                continue;
            }
            let irow = &src[iy as usize * w..(iy as usize + 1) * w];
            for (x, o) in orow.iter_mut().enumerate() {
                for kx in 0..3 {
                    let ix = (2 * x + kx) as isize - 1;
                    if ix >= 0 && ix < w as isize {
                        *o += k[ky * 3 + kx] * irow[ix as usize];
                    }
                }
            }
        }
    }
}

/// One channel plane: each output row starts at the bias and takes three shifted row updates
/// from each of the three input rows around it.
fn dw3x3_plane(src: &[f32], dst: &mut [f32], h: usize, w: usize, k: &[f32; 9], bias: f32) {
    for y in 0..h {
        let orow = &mut dst[y * w..(y + 1) * w];
        orow.fill(bias);
        for ky in 0..3 {
            let iy = y as isize + ky as isize - 1;
            if iy < 0 || iy >= h as isize {
                continue;
            }
            let irow = &src[iy as usize * w..(iy as usize + 1) * w];
            let (k0, k1, k2) = (k[ky * 3], k[ky * 3 + 1], k[ky * 3 + 2]);
            for (o, i) in orow.iter_mut().zip(irow) {
                *o += k1 * i;
            }
            if w > 1 {
                for (o, i) in orow[1..].iter_mut().zip(&irow[..w - 1]) {
                    *o += k0 * i;
                }
                for (o, i) in orow[..w - 1].iter_mut().zip(&irow[1..]) {
                    *o += k2 * i;
                }
            }
        }
    }
}

impl TypedOp for Dw3x3 {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = &inputs[0].shape;
        ensure!(shape.rank() == 4, "Dw3x3 wants NCHW");
        let mut out: TVec<TDim> = shape.iter().cloned().collect();
        if self.stride == 2 {
            out[2] = out[2].clone().div_ceil(2);
            out[3] = out[3].clone().div_ceil(2);
        }
        Ok(tvec!(inputs[0].datum_type.fact(out)))
    }

    as_op!();
}

#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct PreluExpansion;

impl Expansion for PreluExpansion {
    fn name(&self) -> StaticName {
        "Prelu".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 2)?;
        check_output_arity(outputs, 1)?;
        s.equals(&inputs[0].datum_type, &outputs[0].datum_type)?;
        s.equals(&inputs[0].shape, &outputs[0].shape)?;
        Ok(())
    }

    fn wire(
        &self,
        name: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        let x = model.outlet_fact(inputs[0])?.clone();
        let slope_fact = model.outlet_fact(inputs[1])?.clone();
        let slopes = f32_values(&slope_fact);
        // Per-channel slopes shaped [C,1,1] or [1,C,1,1] (or one slope for all).
        let per_channel = nchw_channels(&x).zip(slopes).filter(|(c, s)| {
            let dims: Vec<usize> = slope_fact
                .shape
                .as_concrete()
                .map(|d| d.to_vec())
                .unwrap_or_default();
            let trailing_ones = dims.iter().rev().take(2).all(|d| *d == 1) && dims.len() >= 3;
            s.len() == 1 || (s.len() == *c && trailing_ones)
        });
        match per_channel {
            Some((c, s)) => {
                let slopes = if s.len() == 1 { vec![s[0]; c] } else { s };
                model.wire_node(
                    name,
                    ChannelPrelu {
                        slopes: bits(&slopes),
                    },
                    &[inputs[0]],
                )
            }
            None => wire_generic_prelu(name, model, inputs),
        }
    }
}

/// tract's own expansion (select(x < 0, x * slope, x)), for shapes the fast op does not fit.
fn wire_generic_prelu(
    name: &str,
    model: &mut TypedModel,
    inputs: &[OutletId],
) -> TractResult<TVec<OutletId>> {
    let a = inputs[0];
    let mut b = inputs[1];
    let rank = model.outlet_fact(a)?.rank();
    while model.outlet_fact(b)?.rank() < rank {
        b = model.wire_node(
            format!("{name}.add-axis-{}", model.outlet_fact(b)?.rank()),
            AxisOp::Add(0),
            &[b],
        )?[0];
    }
    let zero = tensor0(0.0f32)
        .cast_to_dt(model.outlet_fact(a)?.datum_type)?
        .into_owned()
        .broadcast_into_rank(rank)?;
    let ab = model.wire_node(
        format!("{name}.mul"),
        tract_onnx::tract_hir::ops::math::mul(),
        &[a, b],
    )?[0];
    let zero = model.add_const(format!("{name}.zero"), zero)?;
    let test = model.wire_node(
        format!("{name}.test"),
        tract_onnx::tract_core::ops::binary::TypedBinOp(
            tract_onnx::tract_core::ops::logic::comp_gt(),
            None,
        ),
        &[zero, a],
    )?;
    model.wire_node(
        format!("{name}.iff"),
        tract_onnx::tract_core::ops::logic::Iff,
        &[test[0], ab, a],
    )
}

/// PReLU with one slope per channel on NCHW f32, in place when tract hands over the buffer.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub struct ChannelPrelu {
    slopes: Vec<u32>,
}

impl Op for ChannelPrelu {
    fn name(&self) -> StaticName {
        "ChannelPrelu".into()
    }

    op_as_typed_op!();
}

impl EvalOp for ChannelPrelu {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let mut t = x.into_tensor();
        let shape: TVec<usize> = t.shape().into();
        ensure!(
            shape.len() == 4 && shape[1] == self.slopes.len(),
            "ChannelPrelu wants NCHW with {} channels",
            self.slopes.len()
        );
        let (c, plane) = (shape[1], shape[2] * shape[3]);
        {
            let mut view = t.try_as_plain_ram_mut()?;
            let data = view.as_slice_mut::<f32>()?;
            if plane > 0 {
                for (p, chunk) in data.chunks_exact_mut(plane).enumerate() {
                    let a = f32::from_bits(self.slopes[p % c]);
                    for v in chunk {
                        if *v < 0.0 {
                            *v *= a;
                        }
                    }
                }
            }
        }
        Ok(tvec!(t.into_tvalue()))
    }
}

impl TypedOp for ChannelPrelu {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(inputs[0].datum_type.fact(inputs[0].shape.clone())))
    }

    as_op!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dw3x3_matches_a_direct_convolution() {
        let (h, w) = (4, 5);
        let src: Vec<f32> = (0..h * w).map(|i| (i as f32 * 0.37).sin()).collect();
        let k: [f32; 9] = std::array::from_fn(|i| i as f32 - 4.0);
        let mut fast = vec![0.0; h * w];
        dw3x3_plane(&src, &mut fast, h, w, &k, 0.5);
        check_against_direct(&src, &fast, h, w, 1, &k, 0.5);
        let (oh, ow) = (h.div_ceil(2), w.div_ceil(2));
        let mut fast2 = vec![0.0; oh * ow];
        dw3x3_plane_s2(&src, &mut fast2, h, w, ow, &k, 0.5);
        check_against_direct(&src, &fast2, h, w, 2, &k, 0.5);
    }

    fn check_against_direct(
        src: &[f32],
        fast: &[f32],
        h: usize,
        w: usize,
        stride: usize,
        k: &[f32; 9],
        bias: f32,
    ) {
        let (oh, ow) = (h.div_ceil(stride), w.div_ceil(stride));
        assert_eq!(fast.len(), oh * ow);
        for y in 0..oh as isize {
            for x in 0..ow as isize {
                let mut acc = bias;
                for ky in -1..=1isize {
                    for kx in -1..=1isize {
                        let (iy, ix) = (y * stride as isize + ky, x * stride as isize + kx);
                        if iy >= 0 && iy < h as isize && ix >= 0 && ix < w as isize {
                            acc += k[((ky + 1) * 3 + kx + 1) as usize]
                                * src[(iy * w as isize + ix) as usize];
                        }
                    }
                }
                let got = fast[(y * ow as isize + x) as usize];
                assert!((got - acc).abs() < 1e-5, "({y},{x}): {got} vs {acc}");
            }
        }
    }

    #[test]
    fn channel_prelu_scales_negatives_per_channel() {
        let op = ChannelPrelu {
            slopes: bits(&[0.5, 2.0]),
        };
        let x = Tensor::from_shape(&[1, 2, 1, 2], &[-2.0f32, 3.0, -1.0, 4.0]).unwrap();
        let out = op
            .eval(&EvalContext::out_of_plan(), tvec!(x.into_tvalue()))
            .unwrap();
        let v = out[0]
            .try_as_plain_ram()
            .unwrap()
            .as_slice::<f32>()
            .unwrap()
            .to_vec();
        assert_eq!(v, vec![-1.0, 3.0, -2.0, 4.0]);
    }
}
