//! Multi-layer perceptrons with seeded initialisation, target copies and Polyak averaging.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, Var};
use choicelab_core::Rng;
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

use crate::error::{Error, Result};
use crate::ops::bias_add;

/// What the last layer's output goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Nothing (Q values, means).
    Identity,
    /// `tanh` (bounded actions).
    Tanh,
}

/// One dense layer: `y = x Wᵀ + b`, `W` of shape `(out, in)` as in torch.
#[derive(Debug, Clone)]
struct Dense {
    weight: Var,
    bias: Var,
}

impl Dense {
    /// `x Wᵀ + b`, through a ReLU when `relu`.
    fn apply(&self, x: &Tensor, relu: bool) -> Result<Tensor> {
        let linear = x.matmul(&self.weight.as_tensor().t()?)?;
        Ok(bias_add(&linear, self.bias.as_tensor(), relu)?)
    }
}

/// A ReLU MLP whose weights are candle variables on the CPU.
#[derive(Debug, Clone)]
pub struct Mlp {
    layers: Vec<Dense>,
    output: Output,
}

/// A tensor of `shape` filled with `U(-bound, bound)` draws from `rng`.
pub fn uniform(rng: &mut Rng, shape: &[usize], bound: f32) -> Result<Tensor> {
    let n = shape.iter().product();
    let values: Vec<f32> = (0..n)
        .map(|_| (rng.random::<f32>() * 2.0 - 1.0) * bound)
        .collect();
    Ok(Tensor::from_vec(values, shape, &Device::Cpu)?)
}

/// A `(rows, cols)` matrix drawn like torch's `nn.init.orthogonal_`: the orthonormal factor
/// `Q` (signs fixed so that `R` has a positive diagonal) of a standard normal matrix from `rng`,
/// transposed when `rows < cols`, times `gain`; computed by modified Gram–Schmidt in f64.
pub fn orthogonal(rng: &mut Rng, rows: usize, cols: usize, gain: f64) -> Result<Tensor> {
    let (long, short) = (rows.max(cols), rows.min(cols));
    let mut vectors: Vec<Vec<f64>> = (0..short)
        .map(|_| (0..long).map(|_| StandardNormal.sample(rng)).collect())
        .collect();
    for j in 0..short {
        let (done, rest) = vectors.split_at_mut(j);
        let v = &mut rest[0];
        for u in done.iter() {
            let dot: f64 = u.iter().zip(v.iter()).map(|(x, y)| x * y).sum();
            v.iter_mut().zip(u).for_each(|(y, x)| *y -= dot * x);
        }
        let norm = v.iter().map(|y| y * y).sum::<f64>().sqrt();
        v.iter_mut().for_each(|y| *y /= norm);
    }
    // The vectors are the columns of a tall (rows ≥ cols) matrix, else its rows.
    let values: Vec<f32> = (0..rows)
        .flat_map(|r| (0..cols).map(move |c| (r, c)))
        .map(|(r, c)| {
            let v = if rows >= cols {
                vectors[c][r]
            } else {
                vectors[r][c]
            };
            (gain * v) as f32
        })
        .collect();
    Ok(Tensor::from_vec(values, (rows, cols), &Device::Cpu)?)
}

impl Mlp {
    /// A network with layer widths `sizes` (input first, output last), ReLU between layers,
    /// initialised like torch's `nn.Linear`: weights and biases `U(±1/√fan_in)`, drawn from
    /// `rng` in layer order (weights row by row, then biases).
    pub fn new(sizes: &[usize], output: Output, rng: &mut Rng) -> Result<Self> {
        if sizes.len() < 2 || sizes.contains(&0) {
            return Err(Error::parameter(
                "sizes",
                format!("need at least two positive widths, got {sizes:?}"),
            ));
        }
        let mut layers = Vec::with_capacity(sizes.len() - 1);
        for pair in sizes.windows(2) {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            let bound = 1.0 / (fan_in as f32).sqrt();
            let weight = Var::from_tensor(&uniform(rng, &[fan_out, fan_in], bound)?)?;
            let bias = Var::from_tensor(&uniform(rng, &[fan_out], bound)?)?;
            layers.push(Dense { weight, bias });
        }
        Ok(Self { layers, output })
    }

    /// Input width.
    pub fn input_dim(&self) -> usize {
        self.layers[0].weight.dims()[1]
    }

    /// Output width.
    pub fn output_dim(&self) -> usize {
        self.layers[self.layers.len() - 1].weight.dims()[0]
    }

    /// The output activation.
    pub fn output(&self) -> Output {
        self.output
    }

    /// Layer widths, input first.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.input_dim()];
        sizes.extend(self.layers.iter().map(|l| l.weight.dims()[0]));
        sizes
    }

    /// Applies the network to a batch `(n, input_dim)`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer.apply(&h, i < last)?;
        }
        Ok(match self.output {
            Output::Identity => h,
            Output::Tanh => h.tanh()?,
        })
    }

    /// Overwrites layer `layer`'s weight `(out, in)` and bias `(out)` (e.g. another
    /// initialisation scheme).
    pub fn set_layer(&self, layer: usize, weight: &Tensor, bias: &Tensor) -> Result<()> {
        let dense = self.layers.get(layer).ok_or_else(|| {
            Error::parameter("layer", format!("{layer} ≥ {} layers", self.layers.len()))
        })?;
        if weight.dims() != dense.weight.dims() || bias.dims() != dense.bias.dims() {
            return Err(Error::parameter(
                "layer",
                format!(
                    "shapes {:?} / {:?} differ from layer {layer}'s {:?} / {:?}",
                    weight.dims(),
                    bias.dims(),
                    dense.weight.dims(),
                    dense.bias.dims()
                ),
            ));
        }
        dense.weight.set(&weight.to_dtype(DType::F32)?)?;
        dense.bias.set(&bias.to_dtype(DType::F32)?)?;
        Ok(())
    }

    /// A copy with its own variables that keeps only the first `k` outputs of the last layer
    /// and ends in `output` (e.g. the mean head of a Gaussian policy as a tanh network).
    pub fn head(&self, k: usize, output: Output) -> Result<Self> {
        if k == 0 || k > self.output_dim() {
            return Err(Error::parameter(
                "k",
                format!("{k} is not in 1..={}", self.output_dim()),
            ));
        }
        let mut copy = self.detached_copy()?;
        copy.output = output;
        if let Some(last) = copy.layers.last_mut() {
            *last = Dense {
                weight: Var::from_tensor(&last.weight.as_tensor().narrow(0, 0, k)?.copy()?)?,
                bias: Var::from_tensor(&last.bias.as_tensor().narrow(0, 0, k)?.copy()?)?,
            };
        }
        Ok(copy)
    }

    /// Applies the network in training mode with inverted dropout: after every hidden ReLU,
    /// each activation is zeroed with probability `p` and the survivors are scaled by
    /// `1 / (1 − p)` (torch's `nn.Dropout`). Masks come from `rng`, layer by layer and row by
    /// row, so the same stream gives the same masks; `p = 0` draws nothing and equals
    /// [`Mlp::forward`].
    pub fn forward_with_dropout(&self, x: &Tensor, p: f64, rng: &mut Rng) -> Result<Tensor> {
        if !(0.0..1.0).contains(&p) {
            return Err(Error::parameter(
                "dropout",
                format!("{p} is outside [0, 1)"),
            ));
        }
        let mut h = x.clone();
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer.apply(&h, i < last)?;
            if i < last && p > 0.0 {
                let keep = (1.0 / (1.0 - p)) as f32;
                let mask: Vec<f32> = (0..h.elem_count())
                    .map(|_| if rng.random::<f64>() < p { 0.0 } else { keep })
                    .collect();
                let mask = Tensor::from_vec(mask, h.dims(), h.device())?;
                h = (h * mask)?;
            }
        }
        Ok(match self.output {
            Output::Identity => h,
            Output::Tanh => h.tanh()?,
        })
    }

    /// The trainable variables, layer by layer (weight, bias).
    pub fn vars(&self) -> Vec<Var> {
        self.layers
            .iter()
            .flat_map(|l| [l.weight.clone(), l.bias.clone()])
            .collect()
    }

    /// A copy with its own variables holding the same values (a target network).
    pub fn detached_copy(&self) -> Result<Self> {
        let layers = self
            .layers
            .iter()
            .map(|l| {
                Ok(Dense {
                    weight: Var::from_tensor(&l.weight.as_tensor().copy()?)?,
                    bias: Var::from_tensor(&l.bias.as_tensor().copy()?)?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            layers,
            output: self.output,
        })
    }

    /// Polyak averaging toward `source`: `θ ← (1 − τ) θ + τ θ_source`.
    pub fn soft_update(&self, source: &Mlp, tau: f64) -> Result<()> {
        if source.sizes() != self.sizes() {
            return Err(Error::parameter(
                "source",
                "networks of different shapes cannot be averaged",
            ));
        }
        for (target, src) in self.vars().iter().zip(source.vars()) {
            let next = ((target.as_tensor() * (1.0 - tau))? + (src.as_tensor() * tau)?)?;
            target.set(&next)?;
        }
        Ok(())
    }

    /// The weights as named tensors `{prefix}.{layer}.weight` / `.bias`.
    pub fn named_tensors(&self, prefix: &str) -> Vec<(String, Tensor)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, l)| {
                [
                    (format!("{prefix}.{i}.weight"), l.weight.as_tensor().clone()),
                    (format!("{prefix}.{i}.bias"), l.bias.as_tensor().clone()),
                ]
            })
            .collect()
    }

    /// Rebuilds a network from tensors named as by [`Mlp::named_tensors`]; `None` when
    /// `prefix.0.weight` is absent, an error when shapes do not chain.
    pub fn from_named_tensors(
        tensors: &HashMap<String, Tensor>,
        prefix: &str,
        output: Output,
    ) -> Result<Option<Self>> {
        let mut layers = Vec::new();
        while let Some(w) = tensors.get(&format!("{prefix}.{}.weight", layers.len())) {
            let name = format!("{prefix}.{}.bias", layers.len());
            let b = tensors
                .get(&name)
                .ok_or_else(|| Error::parameter("checkpoint", format!("`{name}` is missing")))?;
            let (w, b) = (w.to_dtype(DType::F32)?, b.to_dtype(DType::F32)?);
            let fits = w.rank() == 2
                && b.dims() == [w.dims()[0]]
                && layers
                    .last()
                    .is_none_or(|p: &Dense| p.weight.dims()[0] == w.dims()[1]);
            if !fits {
                return Err(Error::parameter(
                    "checkpoint",
                    format!(
                        "layer {prefix}.{} has shapes {:?} / {:?} that do not chain",
                        layers.len(),
                        w.dims(),
                        b.dims()
                    ),
                ));
            }
            layers.push(Dense {
                weight: Var::from_tensor(&w)?,
                bias: Var::from_tensor(&b)?,
            });
        }
        Ok((!layers.is_empty()).then_some(Self { layers, output }))
    }

    /// All weights flattened into one vector (for comparisons and tests).
    pub fn flat_parameters(&self) -> Result<Vec<f32>> {
        let mut out = Vec::new();
        for v in self.vars() {
            out.extend(v.as_tensor().flatten_all()?.to_vec1::<f32>()?);
        }
        Ok(out)
    }
}

/// `n` networks of the same shape (an ensemble of Q functions), each with its own draws.
#[derive(Debug, Clone)]
pub struct Ensemble {
    members: Vec<Mlp>,
}

impl Ensemble {
    /// `n` members with widths `sizes`, initialised one after another from `rng`.
    pub fn new(n: usize, sizes: &[usize], output: Output, rng: &mut Rng) -> Result<Self> {
        if n == 0 {
            return Err(Error::parameter("ensemble size", "must be positive"));
        }
        let members = (0..n)
            .map(|_| Mlp::new(sizes, output, rng))
            .collect::<Result<_>>()?;
        Ok(Self { members })
    }

    /// An ensemble of given networks, which must all have the same widths.
    pub fn from_members(members: Vec<Mlp>) -> Result<Self> {
        let Some(first) = members.first() else {
            return Err(Error::parameter("ensemble size", "must be positive"));
        };
        if members.iter().any(|m| m.sizes() != first.sizes()) {
            return Err(Error::parameter("members", "networks of different shapes"));
        }
        Ok(Self { members })
    }

    /// The members.
    pub fn members(&self) -> &[Mlp] {
        &self.members
    }

    /// Every member's output on `x`.
    pub fn forward_all(&self, x: &Tensor) -> Result<Vec<Tensor>> {
        self.members.iter().map(|m| m.forward(x)).collect()
    }

    /// The element-wise minimum over members (clipped double-Q style).
    pub fn min(&self, x: &Tensor) -> Result<Tensor> {
        let outs = self.forward_all(x)?;
        let mut min = outs[0].clone();
        for o in &outs[1..] {
            min = min.minimum(o)?;
        }
        Ok(min)
    }

    /// The trainable variables of all members.
    pub fn vars(&self) -> Vec<Var> {
        self.members.iter().flat_map(Mlp::vars).collect()
    }

    /// Target copies of every member.
    pub fn detached_copy(&self) -> Result<Self> {
        let members = self
            .members
            .iter()
            .map(Mlp::detached_copy)
            .collect::<Result<_>>()?;
        Ok(Self { members })
    }

    /// Polyak averaging of every member toward the matching member of `source`.
    pub fn soft_update(&self, source: &Ensemble, tau: f64) -> Result<()> {
        if source.members.len() != self.members.len() {
            return Err(Error::parameter("source", "ensembles of different sizes"));
        }
        for (t, s) in self.members.iter().zip(&source.members) {
            t.soft_update(s, tau)?;
        }
        Ok(())
    }

    /// Named tensors `{prefix}.{member}.{layer}.weight`.
    pub fn named_tensors(&self, prefix: &str) -> Vec<(String, Tensor)> {
        self.members
            .iter()
            .enumerate()
            .flat_map(|(k, m)| m.named_tensors(&format!("{prefix}.{k}")))
            .collect()
    }
}
