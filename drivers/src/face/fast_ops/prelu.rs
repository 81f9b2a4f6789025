//! PReLU with one slope per channel: tract expands ONNX `PRelu` into a multiply, a compare
//! and a select (three passes, three buffers); [`ChannelPrelu`] is one pass in place. After a
//! [`super::conv3x3::Conv3x3`] it is folded into the convolution instead.

use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::*;

use super::kernels::prelu_planes;
use super::{bits, floats, nchw_channels};

#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub(super) struct PreluExpansion;

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
        let slopes = floats(&slope_fact);
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
    pub(super) slopes: Vec<u32>,
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
        // In place when tract hands over the only reference (it does once we are the last
        // reader), else on a copy.
        let mut t = x.into_tensor();
        let shape: TVec<usize> = t.shape().into();
        ensure!(
            shape.len() == 4 && shape[1] == self.slopes.len(),
            "ChannelPrelu wants NCHW with {} channels",
            self.slopes.len()
        );
        let slopes: Vec<f32> = self.slopes.iter().map(|b| f32::from_bits(*b)).collect();
        {
            let mut view = t.try_as_plain_ram_mut()?;
            prelu_planes(view.as_slice_mut::<f32>()?, shape[2] * shape[3], &slopes);
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
