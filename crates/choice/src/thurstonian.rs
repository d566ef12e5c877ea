//! Thurstonian utilities exactly as Utility Engineering's reference code fits them.
//!
//! Each item has raw parameters (μ_i, s_i = ln σ_i²). Every evaluation standardises them:
//! μ̃ = (μ − mean μ)/(sd μ + 1e-5) with the sample standard deviation, σ̃² = e^s/(sd μ + 2e-5)²,
//! and P(A ≻ B) = Φ((μ̃_A − μ̃_B)/√(σ̃_A² + σ̃_B² + 1e-5)). The loss is the mean binary
//! cross-entropy against soft labels, and gradients flow through the standardisation. Because
//! μ̃ is standardised, an item that wins every comparison cannot run off to infinity.

use choicelab_core::{stream_rng, Comparisons, Error, Items, Location, Result, Seed};
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;
use statrs::function::erf::erfc;

use crate::lbfgs::{minimise, LbfgsSettings};

/// Added to the sd of μ before dividing μ by it.
const MU_SCALE_FLOOR: f64 = 1e-5;
/// Added to the sd of μ before dividing σ² by its square (the reference adds 1e-5 twice).
const SIGMA_SCALE_FLOOR: f64 = 2e-5;
/// Added to σ̃_A² + σ̃_B² in every probability.
const VARIANCE_FLOOR: f64 = 1e-5;
/// Fewest records per parallel chunk of the loss.
const MIN_CHUNK: usize = 4096;
/// Most parallel chunks of the loss (each holds two gradients of length N).
const MAX_CHUNKS: usize = 32;

/// Parameters of a Thurstonian fit by L-BFGS on the mean cross-entropy with soft labels.
#[derive(Debug, Clone)]
pub struct Thurstonian {
    /// Stop when the largest gradient component of the mean cross-entropy is below this.
    pub gradient_tolerance: f64,
    /// Stop when the last `window` iterations together lowered the loss by less than this,
    /// relative to max(loss, 1). Items that win or lose every comparison let the loss creep
    /// down forever (their σ shrinks toward 0), so a gradient test alone may never be met.
    pub value_tolerance: f64,
    /// Iterations over which `value_tolerance` is measured.
    pub window: usize,
    /// Most L-BFGS iterations.
    pub max_iterations: usize,
    /// Seed of the starting point, μ and s drawn from N(0, 0.01²) as in the reference.
    pub seed: Seed,
}

impl Default for Thurstonian {
    fn default() -> Self {
        Self {
            gradient_tolerance: 1e-8,
            value_tolerance: 1e-6,
            window: 10,
            max_iterations: 5000,
            seed: 0,
        }
    }
}

/// Fitted Thurstonian utilities in the reference's standardised form: μ̃ (mean 0, sample
/// standard deviation just under 1) and σ̃.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedThurstonian {
    /// The items, by index.
    pub items: Items,
    /// Standardised means μ̃_i.
    pub mu: Vec<f64>,
    /// Standardised spreads σ̃_i > 0.
    pub sigma: Vec<f64>,
    /// Mean cross-entropy (weighted by the comparisons' weights) at the optimum.
    pub loss: f64,
    /// Optimiser iterations (L-BFGS iterations, or Adam epochs).
    pub iterations: usize,
}

impl FittedThurstonian {
    /// P(a preferred to b).
    pub fn prob_prefers(&self, a: u32, b: u32) -> f64 {
        normal_cdf(self.z(a as usize, b as usize))
    }

    fn z(&self, a: usize, b: usize) -> f64 {
        let v = self.sigma[a].powi(2) + self.sigma[b].powi(2) + VARIANCE_FLOOR;
        (self.mu[a] - self.mu[b]) / v.sqrt()
    }

    /// Weighted mean cross-entropy of `data` (soft labels) under the fit.
    pub fn cross_entropy(&self, data: &Comparisons) -> f64 {
        let (mut total, mut weight) = (0.0, 0.0);
        for r in data.records() {
            let tails = Tails::new(self.z(r.first as usize, r.second as usize));
            let y = r.first_share();
            total -= r.weight * (y * tails.log_cdf + (1.0 - y) * tails.log_survival);
            weight += r.weight;
        }
        total / weight
    }
}

impl Thurstonian {
    /// Fits the raw parameters by L-BFGS from the reference's random start.
    pub fn fit(&self, data: &Comparisons) -> Result<FittedThurstonian> {
        check(data)?;
        let settings = LbfgsSettings {
            memory: 10,
            gradient_tolerance: self.gradient_tolerance,
            value_tolerance: self.value_tolerance,
            window: self.window,
            max_iterations: self.max_iterations,
        };
        let objective = |params: &[f64], grad: &mut [f64]| loss_and_gradient(data, params, grad);
        let start = starting_point(data.items().len(), self.seed)?;
        let minimum = minimise(start, settings, &objective)?;
        Ok(standardised(
            data,
            &minimum.x,
            minimum.value,
            minimum.iterations,
        ))
    }
}

/// The reference pipeline's optimiser, kept as a baseline: full-batch Adam (β₁ = 0.9,
/// β₂ = 0.999, ε = 1e-8) on the same loss and parameters, from the same random start.
pub fn fit_thurstonian_adam(
    data: &Comparisons,
    learning_rate: f64,
    epochs: usize,
    seed: Seed,
) -> Result<FittedThurstonian> {
    check(data)?;
    let (beta1, beta2, epsilon): (f64, f64, f64) = (0.9, 0.999, 1e-8);
    let mut params = starting_point(data.items().len(), seed)?;
    let size = params.len();
    let mut grad = vec![0.0; size];
    let (mut first, mut second) = (vec![0.0; size], vec![0.0; size]);
    for epoch in 1..=epochs {
        loss_and_gradient(data, &params, &mut grad);
        let (c1, c2) = (
            1.0 - beta1.powi(epoch as i32),
            1.0 - beta2.powi(epoch as i32),
        );
        for k in 0..size {
            first[k] = beta1 * first[k] + (1.0 - beta1) * grad[k];
            second[k] = beta2 * second[k] + (1.0 - beta2) * grad[k] * grad[k];
            params[k] -= learning_rate * (first[k] / c1) / ((second[k] / c2).sqrt() + epsilon);
        }
    }
    let loss = loss_and_gradient(data, &params, &mut grad);
    Ok(standardised(data, &params, loss, epochs))
}

fn check(data: &Comparisons) -> Result<()> {
    if data.records().is_empty() {
        return Err(Error::invalid(
            Location::new("<comparisons>"),
            "no comparisons to fit",
        ));
    }
    if data.items().len() < 2 {
        return Err(Error::invalid(
            Location::new("<comparisons>"),
            "a Thurstonian fit needs at least two items",
        ));
    }
    Ok(())
}

/// μ and s drawn from N(0, 0.01²), as the reference initialises them.
fn starting_point(n: usize, seed: Seed) -> Result<Vec<f64>> {
    let normal = Normal::new(0.0, 0.01).map_err(|e| Error::parameter("start", e.to_string()))?;
    let mut rng = stream_rng(seed, 0);
    Ok((0..2 * n).map(|_| normal.sample(&mut rng)).collect())
}

/// The standardisation of raw μ: mean, sample sd, μ̃ and the two scales.
struct Standardised {
    mean: f64,
    sd: f64,
    mu: Vec<f64>,
    variance: Vec<f64>,
}

impl Standardised {
    fn new(params: &[f64]) -> Self {
        let n = params.len() / 2;
        let (mu, s) = params.split_at(n);
        let mean = mu.iter().sum::<f64>() / n as f64;
        let sd = (mu.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0)).sqrt();
        Standardised {
            mean,
            sd,
            mu: mu
                .iter()
                .map(|m| (m - mean) / (sd + MU_SCALE_FLOOR))
                .collect(),
            variance: s
                .iter()
                .map(|s| s.exp() / (sd + SIGMA_SCALE_FLOOR).powi(2))
                .collect(),
        }
    }
}

/// Mean cross-entropy at raw params = (μ, s), and its gradient through the standardisation.
fn loss_and_gradient(data: &Comparisons, params: &[f64], grad: &mut [f64]) -> f64 {
    let n = data.items().len();
    let total_weight: f64 = data.records().iter().map(|r| r.weight).sum();
    let st = Standardised::new(params);
    // Gradients with respect to the standardised quantities first, summed over fixed chunks
    // of records so that the result does not depend on the thread count.
    let records = data.records();
    let chunk = MIN_CHUNK.max(records.len().div_ceil(MAX_CHUNKS));
    let partials: Vec<(f64, Vec<f64>, Vec<f64>)> = records
        .par_chunks(chunk)
        .map(|part| {
            let mut d_mu = vec![0.0; n];
            let mut d_variance = vec![0.0; n];
            let mut loss = 0.0;
            for r in part {
                let (a, b) = (r.first as usize, r.second as usize);
                let v = st.variance[a] + st.variance[b] + VARIANCE_FLOOR;
                let root = v.sqrt();
                let z = (st.mu[a] - st.mu[b]) / root;
                let y = r.first_share();
                let w = r.weight / total_weight;
                let tails = Tails::new(z);
                loss -= w * (y * tails.log_cdf + (1.0 - y) * tails.log_survival);
                // dLoss/dz, with the inverse Mills ratios φ(z)/Φ(z) and φ(z)/Φ(−z).
                let dz = -w * (y * tails.mills_cdf - (1.0 - y) * tails.mills_survival);
                d_mu[a] += dz / root;
                d_mu[b] -= dz / root;
                let dv = -dz * z / (2.0 * v);
                d_variance[a] += dv;
                d_variance[b] += dv;
            }
            (loss, d_mu, d_variance)
        })
        .collect();
    let mut loss = 0.0;
    let mut d_mu = vec![0.0; n];
    let mut d_variance = vec![0.0; n];
    for (part_loss, part_mu, part_variance) in partials {
        loss += part_loss;
        d_mu.iter_mut().zip(&part_mu).for_each(|(a, b)| *a += b);
        d_variance
            .iter_mut()
            .zip(&part_variance)
            .for_each(|(a, b)| *a += b);
    }
    // Chain rule through μ̃ = (μ − m)/(d + a) and σ̃² = e^s/(d + b)², d the sample sd of μ.
    let (mu, s) = params.split_at(n);
    let scale_mu = st.sd + MU_SCALE_FLOOR;
    let scale_sigma = st.sd + SIGMA_SCALE_FLOOR;
    let mean_d_mu = d_mu.iter().sum::<f64>() / n as f64;
    let along_mu: f64 = d_mu
        .iter()
        .zip(mu)
        .map(|(g, m)| g * (m - st.mean))
        .sum::<f64>();
    let along_variance: f64 = d_variance
        .iter()
        .zip(s)
        .map(|(h, s)| h * s.exp())
        .sum::<f64>();
    // ∂d/∂μ_k = (μ_k − m)/((n − 1)·d); zero when all μ are equal.
    let dsd_factor = if st.sd > 0.0 {
        1.0 / ((n as f64 - 1.0) * st.sd)
    } else {
        0.0
    };
    let d_sd = -along_mu / scale_mu.powi(2) - 2.0 * along_variance / scale_sigma.powi(3);
    for k in 0..n {
        grad[k] = (d_mu[k] - mean_d_mu) / scale_mu + d_sd * (mu[k] - st.mean) * dsd_factor;
        grad[n + k] = d_variance[k] * st.variance[k];
    }
    loss
}

/// The reported form of a fit: μ̃ and σ̃ = √σ̃².
fn standardised(
    data: &Comparisons,
    params: &[f64],
    loss: f64,
    iterations: usize,
) -> FittedThurstonian {
    let st = Standardised::new(params);
    FittedThurstonian {
        items: data.items().clone(),
        mu: st.mu,
        sigma: st.variance.iter().map(|v| v.sqrt()).collect(),
        loss,
        iterations,
    }
}

/// Φ(z).
pub(crate) fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// ln Φ(z), ln Φ(−z), φ(z)/Φ(z) and φ(z)/Φ(−z) from one complementary error function.
struct Tails {
    log_cdf: f64,
    log_survival: f64,
    mills_cdf: f64,
    mills_survival: f64,
}

impl Tails {
    #[inline]
    fn new(z: f64) -> Self {
        let a = z.abs();
        // The smaller tail Φ(−|z|) is computed directly; the larger as its complement.
        let density = (-0.5 * a * a).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let (log_small, mills_small) = if a < 30.0 {
            let small = normal_cdf(-a);
            (small.ln(), density / small)
        } else {
            (log_normal_cdf(-a), mills(-a))
        };
        let small = log_small.exp();
        let log_large = (-small).ln_1p();
        let mills_large = density / (1.0 - small);
        if z >= 0.0 {
            Tails {
                log_cdf: log_large,
                log_survival: log_small,
                mills_cdf: mills_large,
                mills_survival: mills_small,
            }
        } else {
            Tails {
                log_cdf: log_small,
                log_survival: log_large,
                mills_cdf: mills_small,
                mills_survival: mills_large,
            }
        }
    }
}

/// ln Φ(z), accurate far into the lower tail.
fn log_normal_cdf(z: f64) -> f64 {
    if z > -30.0 {
        normal_cdf(z).ln()
    } else {
        // Mills' asymptotic series: Φ(z) ≈ φ(z)/(−z)·(1 − 1/z² + 3/z⁴).
        let z2 = z * z;
        -0.5 * z2 - (-z).ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
            + (1.0 - 1.0 / z2 + 3.0 / (z2 * z2)).ln()
    }
}

/// The inverse Mills ratio φ(z)/Φ(z), accurate far into the lower tail.
fn mills(z: f64) -> f64 {
    if z > -30.0 {
        let density = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
        density / normal_cdf(z)
    } else {
        let z2 = z * z;
        -z / (1.0 - 1.0 / z2 + 3.0 / (z2 * z2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use choicelab_core::Outcome;

    #[test]
    fn gradient_matches_finite_differences() {
        let mut data = Comparisons::new(Items::numbered(4));
        for (a, b, y) in [
            (0, 1, 0.7),
            (1, 2, 0.4),
            (2, 3, 0.9),
            (3, 0, 0.2),
            (0, 2, 1.0),
        ] {
            data.push(a, b, Outcome::Probability(y), 1.5).unwrap();
        }
        let params = [0.3, -0.2, 0.5, -0.9, 0.1, -0.4, 0.2, 0.0];
        let mut grad = [0.0; 8];
        loss_and_gradient(&data, &params, &mut grad);
        let mut scratch = [0.0; 8];
        for k in 0..8 {
            let h = 1e-6;
            let (mut up, mut down) = (params, params);
            up[k] += h;
            down[k] -= h;
            let numeric = (loss_and_gradient(&data, &up, &mut scratch)
                - loss_and_gradient(&data, &down, &mut scratch))
                / (2.0 * h);
            assert!(
                (numeric - grad[k]).abs() < 1e-7,
                "∂/∂p{k}: {numeric} vs {}",
                grad[k]
            );
        }
    }
}
