//! tract operators written for these two models, where tract's generic path was the
//! bottleneck (measured with a per-op profile on one core):
//!
//! - 3x3 convolutions ([`conv3x3::Conv3x3`]): the depthwise ones of both models (tract's
//!   generic depthwise kernel took over half of YuNet's time) and the first, dense layer of
//!   each (three input channels, where im2col + matrix product wastes most of its work). It
//!   absorbs the batch norm, ReLU/PReLU and 2x2 max pool that follow it, so each plane is
//!   written once.
//! - SFace's PReLU after its 1x1 convolutions ([`prelu::ChannelPrelu`]): tract expands it
//!   into multiply, compare and select, three passes with three buffers; ours is one pass in
//!   place.
//!
//! The loops are in [`kernels`]: plain Rust, built for AVX2 + FMA when the CPU has them.
//! They are wired through tract's own ONNX op register (the same parser, the same graph);
//! any node that does not fit their exact shape goes to tract's standard operator. A test
//! checks both models give the same outputs either way.

pub mod conv3x3;
pub mod kernels;
pub mod prelu;

use std::sync::OnceLock;

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::*;

use conv3x3::new_conv3x3;
use prelu::PreluExpansion;

type Builder = fn(&ParsingContext, &NodeProto) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)>;

/// tract's own Conv builder, for every convolution that is not one of ours.
static TRACT_CONV: OnceLock<Option<Builder>> = OnceLock::new();

/// Dense 3x3 convolutions with at most this many input channels are ours (the models' first
/// layers, on three colour planes); wider ones are matrix products, tract's strength.
const DENSE_MAX_IN: usize = 4;

/// The ONNX loader the face models use: stored intermediate shapes ignored (YuNet pins
/// 640x640 in them), and with `fast` the operators above.
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

/// What a convolution node must be to be ours.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
struct Conv3x3Shape {
    stride: usize,
    depthwise: bool,
    cin: usize,
    cout: usize,
}

/// The shape of a 3x3, padding 1, stride 1 or 2 convolution (bias optional) that is either
/// depthwise (one input channel per group) or dense with few input channels; `None` for any
/// other convolution.
fn conv3x3_shape(ctx: &ParsingContext, node: &NodeProto) -> Option<Conv3x3Shape> {
    let group = attr_int(node, "group").unwrap_or(1);
    let stride = match attr_ints(node, "strides").as_deref() {
        None | Some([1, 1]) => 1,
        Some([2, 2]) => 2,
        _ => return None,
    };
    let ok_attrs = attr_ints(node, "kernel_shape").is_none_or(|k| k == [3, 3])
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
    let w = dims(&node.input[1])?;
    let [cout, per_group, 3, 3] = w[..] else {
        return None;
    };
    let bias_ok = node.input.len() == 2 || dims(&node.input[2]).is_some_and(|d| d == [cout]);
    let (depthwise, cin) = if group > 1 && group == cout && per_group == 1 {
        (true, cout)
    } else if group == 1 && per_group >= 1 && per_group as usize <= DENSE_MAX_IN {
        (false, per_group)
    } else {
        return None;
    };
    bias_ok.then_some(Conv3x3Shape {
        stride,
        depthwise,
        cin: usize::try_from(cin).ok()?,
        cout: usize::try_from(cout).ok()?,
    })
}

fn conv_builder(
    ctx: &ParsingContext,
    node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    if let Some(shape) = conv3x3_shape(ctx, node) {
        return Ok((expand(Conv3x3Expansion(shape)), vec![]));
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

/// The values of a constant fact as f32, when it is one.
fn floats(fact: &TypedFact) -> Option<Vec<f32>> {
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
struct Conv3x3Expansion(Conv3x3Shape);

impl Expansion for Conv3x3Expansion {
    fn name(&self) -> StaticName {
        "Conv3x3".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        if inputs.len() != 2 && inputs.len() != 3 {
            bail!("Conv3x3 takes 2 or 3 inputs, got {}", inputs.len());
        }
        check_output_arity(outputs, 1)?;
        let shape = self.0;
        s.equals(&inputs[0].datum_type, &outputs[0].datum_type)?;
        s.equals(&inputs[0].rank, 4)?;
        s.equals(&outputs[0].rank, 4)?;
        s.equals(&inputs[0].shape[0], &outputs[0].shape[0])?;
        s.equals(&inputs[0].shape[1], shape.cin.to_dim())?;
        s.equals(&outputs[0].shape[1], shape.cout.to_dim())?;
        for axis in [2, 3] {
            if shape.stride == 1 {
                s.equals(&inputs[0].shape[axis], &outputs[0].shape[axis])?;
            } else {
                // (n + 2 - 3) / 2 + 1 = ceil(n / 2) for padding 1, kernel 3, stride 2.
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
        let shape = self.0;
        let x = model.outlet_fact(inputs[0])?.clone();
        let c = nchw_channels(&x)
            .with_context(|| format!("{name}: convolution input is not NCHW f32"))?;
        ensure!(
            c == shape.cin,
            "{name}: {c} input channels, expected {}",
            shape.cin
        );
        let w = floats(model.outlet_fact(inputs[1])?)
            .with_context(|| format!("{name}: weights are not constant"))?;
        let b = match inputs.get(2) {
            Some(b) => floats(model.outlet_fact(*b)?)
                .with_context(|| format!("{name}: bias is not constant"))?,
            None => vec![0.0; shape.cout],
        };
        let op = new_conv3x3(shape.stride, shape.depthwise, shape.cin, shape.cout, &w, &b)
            .with_context(|| format!("{name}: weights do not fit"))?;
        model.wire_node(name, op, &[inputs[0]])
    }
}
