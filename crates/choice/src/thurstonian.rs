//! Thurstonian utilities as Utility Engineering fits them: each item has a mean μ and a spread
//! σ, and P(A ≻ B) = Φ((μ_A − μ_B)/√(σ_A² + σ_B²)).

use choicelab_core::{Comparisons, Error, Items, Location, Result};
use statrs::function::erf::erfc;

use crate::lbfgs::{minimise, LbfgsSettings};

/// Parameters of a Thurstonian fit by L-BFGS on the mean cross-entropy with soft labels.
#[derive(Debug, Clone)]
pub struct Thurstonian {
    /// Stop when the largest gradient component of the mean cross-entropy is below this.
    pub gradient_tolerance: f64,
    /// Stop when an iteration lowers the loss by less than this, relative to max(loss, 1).
    pub value_tolerance: f64,
    /// Most L-BFGS iterations.
    pub max_iterations: usize,
}

impl Default for Thurstonian {
    fn default() -> Self {
        Self {
            gradient_tolerance: 1e-8,
            value_tolerance: 1e-10,
            max_iterations: 5000,
        }
    }
}

/// Fitted Thurstonian utilities, identified by standardising μ (mean 0, standard deviation 1)
/// and scaling σ by the same factor.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedThurstonian {
    /// The items, by index.
    pub items: Items,
    /// Means μ_i.
    pub mu: Vec<f64>,
    /// Spreads σ_i > 0.
    pub sigma: Vec<f64>,
    /// Mean cross-entropy (weighted by the comparisons' weights) at the optimum.
    pub loss: f64,
    /// L-BFGS iterations.
    pub iterations: usize,
}

impl FittedThurstonian {
    /// P(a preferred to b).
    pub fn prob_prefers(&self, a: u32, b: u32) -> f64 {
        let (a, b) = (a as usize, b as usize);
        let s = (self.sigma[a].powi(2) + self.sigma[b].powi(2)).sqrt();
        normal_cdf((self.mu[a] - self.mu[b]) / s)
    }

    /// Weighted mean cross-entropy of `data` (soft labels) under the fit.
    pub fn cross_entropy(&self, data: &Comparisons) -> f64 {
        let (mut total, mut weight) = (0.0, 0.0);
        for r in data.records() {
            let (a, b) = (r.first as usize, r.second as usize);
            let z =
                (self.mu[a] - self.mu[b]) / (self.sigma[a].powi(2) + self.sigma[b].powi(2)).sqrt();
            let y = r.first_share();
            total -= r.weight * (y * log_normal_cdf(z) + (1.0 - y) * log_normal_cdf(-z));
            weight += r.weight;
        }
        total / weight
    }
}

impl Thurstonian {
    /// Fits (μ, ln σ) for every item from μ = 0, σ = 1.
    pub fn fit(&self, data: &Comparisons) -> Result<FittedThurstonian> {
        let records = data.records();
        if records.is_empty() {
            return Err(Error::invalid(
                Location::new("<comparisons>"),
                "no comparisons to fit",
            ));
        }
        let n = data.items().len();
        let objective = |params: &[f64], grad: &mut [f64]| loss_and_gradient(data, params, grad);
        let settings = LbfgsSettings {
            memory: 10,
            gradient_tolerance: self.gradient_tolerance,
            value_tolerance: self.value_tolerance,
            max_iterations: self.max_iterations,
        };
        let start: Vec<f64> = vec![0.0; 2 * n];
        let minimum = minimise(start, settings, &objective)?;
        Ok(standardised(
            data,
            &minimum.x,
            minimum.value,
            minimum.iterations,
        ))
    }
}

/// The optimiser of the Utility Engineering reference pipeline, kept as a baseline: full-batch
/// Adam (β₁ = 0.9, β₂ = 0.999, ε = 1e-8) on the same loss and parameters, from μ = 0, σ = 1.
pub fn fit_thurstonian_adam(
    data: &Comparisons,
    learning_rate: f64,
    epochs: usize,
) -> Result<FittedThurstonian> {
    if data.records().is_empty() {
        return Err(Error::invalid(
            Location::new("<comparisons>"),
            "no comparisons to fit",
        ));
    }
    let (beta1, beta2, epsilon): (f64, f64, f64) = (0.9, 0.999, 1e-8);
    let size = 2 * data.items().len();
    let (mut params, mut grad) = (vec![0.0; size], vec![0.0; size]);
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

/// Mean cross-entropy of the soft labels at params = (μ, ln σ), and its gradient.
fn loss_and_gradient(data: &Comparisons, params: &[f64], grad: &mut [f64]) -> f64 {
    let n = data.items().len();
    let total_weight: f64 = data.records().iter().map(|r| r.weight).sum();
    grad.iter_mut().for_each(|g| *g = 0.0);
    let (mu, rho) = params.split_at(n);
    let mut loss = 0.0;
    for r in data.records() {
        let (a, b) = (r.first as usize, r.second as usize);
        let (var_a, var_b) = ((2.0 * rho[a]).exp(), (2.0 * rho[b]).exp());
        let s2 = var_a + var_b;
        let s = s2.sqrt();
        let z = (mu[a] - mu[b]) / s;
        let y = r.first_share();
        let w = r.weight / total_weight;
        let tails = Tails::new(z);
        loss -= w * (y * tails.log_cdf + (1.0 - y) * tails.log_survival);
        // dLoss/dz, with the inverse Mills ratios φ(z)/Φ(z) and φ(z)/Φ(−z).
        let dz = -w * (y * tails.mills_cdf - (1.0 - y) * tails.mills_survival);
        grad[a] += dz / s;
        grad[b] -= dz / s;
        grad[n + a] -= dz * z * var_a / s2;
        grad[n + b] -= dz * z * var_b / s2;
    }
    loss
}

/// Identifies a fit by standardising μ (mean 0, standard deviation 1) and scaling σ alike.
fn standardised(
    data: &Comparisons,
    params: &[f64],
    loss: f64,
    iterations: usize,
) -> FittedThurstonian {
    let n = data.items().len();
    let (mu, rho) = params.split_at(n);
    let mean = mu.iter().sum::<f64>() / n as f64;
    let spread = (mu.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
    let scale = if spread > 0.0 { spread } else { 1.0 };
    FittedThurstonian {
        items: data.items().clone(),
        mu: mu.iter().map(|m| (m - mean) / scale).collect(),
        sigma: rho.iter().map(|r| r.exp() / scale).collect(),
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
        let (log_small, mills_small) = if a < 30.0 {
            let small = normal_cdf(-a);
            let density = (-0.5 * a * a).exp() / (2.0 * std::f64::consts::PI).sqrt();
            (small.ln(), density / small)
        } else {
            (log_normal_cdf(-a), mills(-a))
        };
        let small = log_small.exp();
        let log_large = (-small).ln_1p();
        let density = (-0.5 * a * a).exp() / (2.0 * std::f64::consts::PI).sqrt();
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
