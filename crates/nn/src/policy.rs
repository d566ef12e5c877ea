//! Policies: deterministic tanh, diagonal Gaussian and tanh-squashed Gaussian.

use candle_core::{Device, Tensor, D};
use choicelab_core::Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::error::{Error, Result};
use crate::mlp::{Mlp, Output};

/// `log(2π) / 2`.
const HALF_LOG_2PI: f64 = 0.918_938_533_204_672_8;

/// A tensor of standard normal draws from `rng`.
pub fn standard_normal(rng: &mut Rng, shape: &[usize]) -> Result<Tensor> {
    let n = shape.iter().product();
    let values: Vec<f32> = (0..n).map(|_| StandardNormal.sample(rng)).collect();
    Ok(Tensor::from_vec(values, shape, &Device::Cpu)?)
}

/// Row-wise log-density of a diagonal Gaussian at `x` (all `(n, d)`), summed to `(n, 1)`.
pub fn gaussian_log_prob(x: &Tensor, mean: &Tensor, log_std: &Tensor) -> Result<Tensor> {
    let z = ((x - mean)? / log_std.exp()?)?;
    let per_dim = ((z.sqr()? * -0.5)? - log_std)?.affine(1.0, -HALF_LOG_2PI)?;
    Ok(per_dim.sum_keepdim(D::Minus1)?)
}

/// `softplus(x) = log(1 + eˣ)`, computed as `relu(x) + log(1 + e^{−|x|})`.
fn softplus(x: &Tensor) -> Result<Tensor> {
    Ok((x.relu()? + (x.abs()?.neg()?.exp()? + 1.0)?.log()?)?)
}

/// Log-density of `a = max_action · tanh(u)` for pre-squash `u ~ N(mean, exp(log_std))`:
/// `log N(u) − Σ log(1 − tanh²u) − d log max_action`, with the stable identity
/// `log(1 − tanh²u) = 2 (log 2 − u − softplus(−2u))`; shape `(n, 1)`.
pub fn tanh_gaussian_log_prob(
    u: &Tensor,
    mean: &Tensor,
    log_std: &Tensor,
    max_action: f64,
) -> Result<Tensor> {
    let base = gaussian_log_prob(u, mean, log_std)?;
    let log_det = ((softplus(&(u * -2.0)?)? + u)?.affine(-2.0, 2.0 * std::f64::consts::LN_2)?)
        .sum_keepdim(D::Minus1)?;
    let d = u.dims()[u.rank() - 1] as f64;
    Ok((base - log_det)?.affine(1.0, -d * max_action.ln())?)
}

/// A deterministic policy `a = max_action · tanh(f(s))` (TD3, BC).
#[derive(Debug, Clone)]
pub struct DeterministicPolicy {
    /// The network, ending in `tanh`.
    pub net: Mlp,
    /// The action bound.
    pub max_action: f64,
}

impl DeterministicPolicy {
    /// A policy network with widths `obs_dim, hidden…, action_dim`.
    pub fn new(
        obs_dim: usize,
        hidden: &[usize],
        action_dim: usize,
        max_action: f64,
        rng: &mut Rng,
    ) -> Result<Self> {
        check_max_action(max_action)?;
        let sizes = widths(obs_dim, hidden, action_dim);
        Ok(Self {
            net: Mlp::new(&sizes, Output::Tanh, rng)?,
            max_action,
        })
    }

    /// Actions for a batch of (already normalised) observations.
    pub fn forward(&self, obs: &Tensor) -> Result<Tensor> {
        Ok((self.net.forward(obs)? * self.max_action)?)
    }
}

/// A diagonal Gaussian policy whose network outputs the mean and the log standard deviation;
/// optionally squashed by `tanh` and scaled by `max_action`.
#[derive(Debug, Clone)]
pub struct GaussianPolicy {
    /// The network, with `2 · action_dim` outputs: mean, then log-std.
    pub net: Mlp,
    /// Lower clamp of the log-std.
    pub log_std_min: f64,
    /// Upper clamp of the log-std.
    pub log_std_max: f64,
    /// Whether actions are `max_action · tanh(u)`.
    pub squashed: bool,
    /// The action bound (used when squashed).
    pub max_action: f64,
}

impl GaussianPolicy {
    /// A policy with widths `obs_dim, hidden…, 2·action_dim` and log-std clamped to
    /// `[-20, 2]` (the SAC convention).
    pub fn new(
        obs_dim: usize,
        hidden: &[usize],
        action_dim: usize,
        squashed: bool,
        max_action: f64,
        rng: &mut Rng,
    ) -> Result<Self> {
        check_max_action(max_action)?;
        let sizes = widths(obs_dim, hidden, 2 * action_dim);
        Ok(Self {
            net: Mlp::new(&sizes, Output::Identity, rng)?,
            log_std_min: -20.0,
            log_std_max: 2.0,
            squashed,
            max_action,
        })
    }

    /// Action width.
    pub fn action_dim(&self) -> usize {
        self.net.output_dim() / 2
    }

    /// Mean and clamped log-std of the (pre-squash) Gaussian, each `(n, action_dim)`.
    pub fn distribution(&self, obs: &Tensor) -> Result<(Tensor, Tensor)> {
        let out = self.net.forward(obs)?;
        let a = self.action_dim();
        let mean = out.narrow(1, 0, a)?;
        let log_std = out
            .narrow(1, a, a)?
            .clamp(self.log_std_min, self.log_std_max)?;
        Ok((mean, log_std))
    }

    /// A reparameterised sample and its log-probability `(n, 1)`, noise drawn from `rng`.
    pub fn sample(&self, obs: &Tensor, rng: &mut Rng) -> Result<(Tensor, Tensor)> {
        let (mean, log_std) = self.distribution(obs)?;
        let eps = standard_normal(rng, mean.dims())?;
        let u = (&mean + (log_std.exp()? * eps)?)?;
        if self.squashed {
            let logp = tanh_gaussian_log_prob(&u, &mean, &log_std, self.max_action)?;
            Ok(((u.tanh()? * self.max_action)?, logp))
        } else {
            let logp = gaussian_log_prob(&u, &mean, &log_std)?;
            Ok((u, logp))
        }
    }

    /// Log-probability `(n, 1)` of given actions; squashed actions are mapped back through
    /// `atanh`, clipped to `±(1 − 1e-6)` of the bound.
    pub fn log_prob(&self, obs: &Tensor, actions: &Tensor) -> Result<Tensor> {
        let (mean, log_std) = self.distribution(obs)?;
        if !self.squashed {
            return gaussian_log_prob(actions, &mean, &log_std);
        }
        let y = (actions / self.max_action)?.clamp(-1.0 + 1e-6, 1.0 - 1e-6)?;
        // atanh(y) = ½ (log(1 + y) − log(1 − y))
        let u = (((&y + 1.0)?.log()? - (y.neg()? + 1.0)?.log()?)? * 0.5)?;
        tanh_gaussian_log_prob(&u, &mean, &log_std, self.max_action)
    }

    /// The deterministic action: the mean, squashed if the policy is.
    pub fn mode(&self, obs: &Tensor) -> Result<Tensor> {
        let (mean, _) = self.distribution(obs)?;
        if self.squashed {
            Ok((mean.tanh()? * self.max_action)?)
        } else {
            Ok(mean)
        }
    }
}

fn widths(input: usize, hidden: &[usize], output: usize) -> Vec<usize> {
    let mut sizes = vec![input];
    sizes.extend_from_slice(hidden);
    sizes.push(output);
    sizes
}

fn check_max_action(max_action: f64) -> Result<()> {
    if max_action.is_finite() && max_action > 0.0 {
        Ok(())
    } else {
        Err(Error::parameter(
            "max_action",
            format!("{max_action} is not a positive number"),
        ))
    }
}
