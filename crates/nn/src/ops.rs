//! Fused CPU kernels for the dense layers' bias and ReLU.
//!
//! candle differentiates `broadcast_add(bias)` through a strided `sum_keepdim` over the batch
//! and `relu` through a comparison against a fresh zero tensor, a dtype cast and a product.
//! On the small networks of offline RL those two backward passes took about 40% of a training
//! step (perf, BC on Pendulum). Here the forward is one pass, `relu(x + b)`, and the backward
//! is one masking pass and one row-by-row column sum, with the same arithmetic as torch
//! (the ReLU passes gradient where its output is positive).

use candle_core::backend::BackendStorage;
use candle_core::{bail, CpuStorage, CustomOp1, CustomOp2, Layout, Shape, Tensor};

/// `x + b`, followed by a ReLU when `relu`, for `x` of shape `(…, k)` and `b` of shape `(k)`.
pub(crate) fn bias_add(x: &Tensor, bias: &Tensor, relu: bool) -> candle_core::Result<Tensor> {
    x.contiguous()?.apply_op2(bias, BiasAdd { relu })
}

/// The forward of [`bias_add`] and its backward.
struct BiasAdd {
    relu: bool,
}

impl CustomOp2 for BiasAdd {
    fn name(&self) -> &'static str {
        "bias-add"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = contiguous_f32(s1, l1, "bias-add input")?;
        let b = contiguous_f32(s2, l2, "bias-add bias")?;
        let width = last_dim(l1.shape())?;
        if l2.shape().dims() != [width] {
            bail!(
                "bias-add: bias of shape {:?} for inputs of width {width}",
                l2.shape().dims()
            )
        }
        let mut out = Vec::with_capacity(x.len());
        for row in x.chunks_exact(width) {
            if self.relu {
                out.extend(row.iter().zip(b).map(|(v, c)| (v + c).max(0.0)));
            } else {
                out.extend(row.iter().zip(b).map(|(v, c)| v + c));
            }
        }
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    fn bwd(
        &self,
        _x: &Tensor,
        _bias: &Tensor,
        res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let grad = grad_res.contiguous()?;
        let grad_x = if self.relu {
            grad.apply_op2_no_bwd(&res.contiguous()?, &ReluMask)?
        } else {
            grad
        };
        let grad_bias = grad_x.apply_op1_no_bwd(&ColumnSum)?;
        Ok((Some(grad_x), Some(grad_bias)))
    }
}

/// `grad` where the ReLU's output is positive, zero elsewhere.
struct ReluMask;

impl CustomOp2 for ReluMask {
    fn name(&self) -> &'static str {
        "relu-mask"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let grad = contiguous_f32(s1, l1, "relu-mask gradient")?;
        let out = contiguous_f32(s2, l2, "relu-mask output")?;
        if l1.shape() != l2.shape() {
            bail!("relu-mask: shapes {:?} and {:?}", l1.shape(), l2.shape())
        }
        let masked = grad
            .iter()
            .zip(out)
            .map(|(g, o)| if *o > 0.0 { *g } else { 0.0 })
            .collect();
        Ok((CpuStorage::F32(masked), l1.shape().clone()))
    }
}

/// The sum over every leading dimension: `(…, k)` to `(k)`, row by row in order.
struct ColumnSum;

impl CustomOp1 for ColumnSum {
    fn name(&self) -> &'static str {
        "column-sum"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = contiguous_f32(s, l, "column-sum input")?;
        let width = last_dim(l.shape())?;
        let mut sums = vec![0f32; width];
        for row in x.chunks_exact(width) {
            for (acc, v) in sums.iter_mut().zip(row) {
                *acc += v;
            }
        }
        Ok((CpuStorage::F32(sums), Shape::from(width)))
    }
}

/// The f32 elements of a contiguous tensor.
fn contiguous_f32<'a>(
    storage: &'a CpuStorage,
    layout: &Layout,
    what: &str,
) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(values) = storage else {
        bail!("{what}: expected f32, got {:?}", storage.dtype())
    };
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&values[start..end]),
        None => bail!("{what}: not contiguous"),
    }
}

/// The last dimension of a shape of rank at least one, which must be positive.
fn last_dim(shape: &Shape) -> candle_core::Result<usize> {
    match shape.dims().last() {
        Some(&k) if k > 0 => Ok(k),
        _ => bail!(
            "expected a positive last dimension, got shape {:?}",
            shape.dims()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn reference(x: &Tensor, b: &Tensor, relu: bool) -> Tensor {
        let y = x.broadcast_add(b).unwrap();
        if relu {
            y.relu().unwrap()
        } else {
            y
        }
    }

    #[test]
    fn matches_candle_forward_and_gradients() {
        let dev = Device::Cpu;
        let xs: Vec<f32> = (0..15).map(|i| (i as f32 * 0.37).sin()).collect();
        let bs = [0.1f32, -0.2, 0.05];
        let weights: Vec<f32> = (0..15).map(|i| 1.0 + i as f32 * 0.1).collect();
        let w = Tensor::from_vec(weights, (5, 3), &dev).unwrap();
        for relu in [false, true] {
            let x = Var::from_tensor(&Tensor::from_vec(xs.clone(), (5, 3), &dev).unwrap()).unwrap();
            let b = Var::from_tensor(&Tensor::new(&bs, &dev).unwrap()).unwrap();
            let ours = bias_add(x.as_tensor(), b.as_tensor(), relu).unwrap();
            let theirs = reference(x.as_tensor(), b.as_tensor(), relu);
            let diff = (&ours - &theirs).unwrap().abs().unwrap();
            assert!(diff.max_all().unwrap().to_scalar::<f32>().unwrap() < 1e-7);
            let grads_ours = (&ours * &w).unwrap().sum_all().unwrap().backward().unwrap();
            let grads_theirs = (&theirs * &w)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            for v in [&x, &b] {
                let g1 = grads_ours.get(v.as_tensor()).unwrap();
                let g2 = grads_theirs.get(v.as_tensor()).unwrap();
                let gap = (g1 - g2).unwrap().abs().unwrap().max_all().unwrap();
                assert!(gap.to_scalar::<f32>().unwrap() < 1e-5, "relu {relu}");
            }
        }
    }

    #[test]
    fn relu_passes_no_gradient_where_its_output_is_zero() {
        let dev = Device::Cpu;
        let x = Var::from_tensor(&Tensor::new(&[[-1f32, 0.0, 2.0]], &dev).unwrap()).unwrap();
        let b = Var::from_tensor(&Tensor::new(&[0f32, 0.0, 0.0], &dev).unwrap()).unwrap();
        let y = bias_add(x.as_tensor(), b.as_tensor(), true).unwrap();
        let grads = y.sum_all().unwrap().backward().unwrap();
        let gx = grads.get(x.as_tensor()).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(gx, vec![vec![0.0, 0.0, 1.0]]);
        let gb = grads.get(b.as_tensor()).unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(gb, vec![0.0, 0.0, 1.0]);
    }

    #[test]
    fn rejects_a_bias_of_the_wrong_width() {
        let dev = Device::Cpu;
        let x = Tensor::zeros((2, 3), candle_core::DType::F32, &dev).unwrap();
        let b = Tensor::zeros(2, candle_core::DType::F32, &dev).unwrap();
        let err = bias_add(&x, &b, true).unwrap_err().to_string();
        assert!(err.contains("bias of shape [2]"), "{err}");
    }
}
