//! Benchmark signals: NARMA10 (classic and reservoirpy's shifted recursion), Mackey–Glass, and
//! the scores NRMSE and squared correlation.

use choicelab_core::{Error, Result, Rng};
use rand::RngExt;

/// Which NARMA10 recursion generates the targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Narma {
    /// Atiya & Parlos (2000): y(t+1) = 0.3 y(t) + 0.05 y(t) Σ_{i=0}^{9} y(t−i) +
    /// 1.5 u(t−9) u(t) + 0.1, with y = 0 before t = 10.
    Classic,
    /// reservoirpy 0.4.2's `narma(order=10, a1=0.3, a2=0.05, b=1.5, c=0.1)`: y[t+1] =
    /// 0.3 y[t] + 0.05 y[t] Σ_{i=t−10}^{t−1} y[i] + 1.5 u[t−10] u[t] + 0.1 — the sum skips y[t]
    /// and the input delay is 10. It draws 10 more inputs than targets: target y[t] is paired with input
    /// u[t + 10].
    Reservoirpy,
}

impl Narma {
    /// Inputs drawn Uniform[0, 0.5) needed for `len` targets.
    pub fn inputs_needed(self, len: usize) -> usize {
        match self {
            Narma::Classic => len,
            Narma::Reservoirpy => len + 10,
        }
    }

    /// The targets of the recursion driven by `u` (length [`Narma::inputs_needed`]), and the
    /// inputs aligned with them (the last `len` of `u`).
    pub fn targets(self, u: &[f64]) -> (Vec<f64>, Vec<f64>) {
        match self {
            Narma::Classic => {
                let mut y = vec![0.0; u.len()];
                for t in 9..u.len().saturating_sub(1) {
                    let window: f64 = y[t - 9..=t].iter().sum();
                    y[t + 1] = 0.3 * y[t] + 0.05 * y[t] * window + 1.5 * u[t - 9] * u[t] + 0.1;
                }
                (y, u.to_vec())
            }
            Narma::Reservoirpy => {
                let order = 10;
                let mut y = vec![0.0; u.len()];
                for t in order..u.len().saturating_sub(1) {
                    let window: f64 = y[t - order..t].iter().sum();
                    y[t + 1] = 0.3 * y[t] + 0.05 * y[t] * window + 1.5 * u[t - order] * u[t] + 0.1;
                }
                let start = order.min(u.len());
                (y[start..].to_vec(), u[start..].to_vec())
            }
        }
    }

    /// `len` (input, target) pairs with inputs drawn Uniform[0, 0.5).
    pub fn generate(self, len: usize, rng: &mut Rng) -> (Vec<f64>, Vec<f64>) {
        let u: Vec<f64> = (0..self.inputs_needed(len))
            .map(|_| 0.5 * rng.random::<f64>())
            .collect();
        let (y, u) = self.targets(&u);
        (u, y)
    }

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Narma::Classic => "classic",
            Narma::Reservoirpy => "reservoirpy",
        }
    }
}

/// The Mackey–Glass delay equation dx/dt = a x(t−τ)/(1 + x(t−τ)ⁿ) − b x(t), discretised as
/// reservoirpy 0.4.2 does (`_mg_rk4`): its "RK4" evaluates the delayed term once at the step
/// start and, with h = 1, amounts to x ← x + 0.9215·(a x_τ/(1 + x_τⁿ) − b x) for b = 0.1. The
/// history is x0 + Uniform(−0.1, 0.1) over ⌊τ/h⌋ steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MackeyGlass {
    /// Delay τ (17 gives the classic mildly chaotic series).
    pub tau: f64,
    /// Production rate a.
    pub a: f64,
    /// Decay rate b.
    pub b: f64,
    /// Hill exponent n.
    pub n: f64,
    /// Initial value x0.
    pub x0: f64,
    /// Step h.
    pub h: f64,
}

impl Default for MackeyGlass {
    fn default() -> Self {
        Self {
            tau: 17.0,
            a: 0.2,
            b: 0.1,
            n: 10.0,
            x0: 1.2,
            h: 1.0,
        }
    }
}

impl MackeyGlass {
    /// `len` steps of the series from a random history.
    pub fn generate(&self, len: usize, rng: &mut Rng) -> Result<Vec<f64>> {
        if !(self.tau >= 0.0 && self.h > 0.0 && self.b >= 0.0) {
            return Err(Error::parameter(
                "mackey_glass",
                format!(
                    "need τ ≥ 0, h > 0, b ≥ 0; got τ = {}, h = {}",
                    self.tau, self.h
                ),
            ));
        }
        let history = (self.tau / self.h).floor() as usize;
        let mut xs: Vec<f64> = (0..history)
            .map(|_| self.x0 + 0.2 * (rng.random::<f64>() - 0.5))
            .collect();
        xs.reserve(len);
        let mut x = self.x0;
        let bh = -self.b * self.h;
        for i in history..history + len {
            xs.push(x);
            let delayed = if history > 0 { xs[i - history] } else { 0.0 };
            let k1 = bh * x + self.a * delayed / (1.0 + delayed.powf(self.n));
            let k2 = 2.0 * k1 + bh * k1;
            let k3 = 2.0 * k1 + bh * k2;
            let k4 = k1 + bh * k3;
            x += (k1 + k2 + k3 + k4) / 6.0;
        }
        Ok(xs.split_off(history))
    }
}

/// Root-mean-square error divided by the population standard deviation of the targets.
pub fn nrmse(predicted: &[f64], target: &[f64]) -> f64 {
    let n = target.len().min(predicted.len()) as f64;
    let mse = predicted
        .iter()
        .zip(target)
        .map(|(p, y)| (p - y).powi(2))
        .sum::<f64>()
        / n;
    let mean = target.iter().sum::<f64>() / target.len() as f64;
    let var = target.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / target.len() as f64;
    (mse / var).sqrt()
}

/// The squared Pearson correlation of two equally long vectors (0 if either is constant).
pub fn squared_correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    if saa > 0.0 && sbb > 0.0 {
        sab * sab / (saa * sbb)
    } else {
        0.0
    }
}
