//! DynLin-UCB (Mussi, Metelli & Restelli, ICML 2023): hold each arm for an epoch whose length
//! grows with the epoch count, regress the end-of-epoch reward on the arm, act optimistically.

use choicelab_core::{Error, Result, Rng};
use rand::RngExt;

use crate::linalg::{dot, Ridge};
use crate::policy::{argmax, Policy};

/// What DynLin-UCB's confidence width needs to know about the system.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SystemBounds {
    /// ρ̄, an upper bound on the spectral radius of A, in [0, 1).
    pub rho_bar: f64,
    /// θ = ‖1ᵀD‖₂.
    pub theta: f64,
    /// ω = ‖1ᵀC‖₂.
    pub omega: f64,
    /// b = ‖B‖₂.
    pub input_norm: f64,
    /// Φ = max_i ‖Aⁱ‖₂ / ρ(A)ⁱ.
    pub phi: f64,
    /// σ, the standard deviation of the noise.
    pub sigma: f64,
}

impl SystemBounds {
    /// Rejects ρ̄ outside [0, 1) and negative or non-finite bounds.
    pub fn check(&self) -> Result<()> {
        if !(0.0..1.0).contains(&self.rho_bar) {
            return Err(Error::parameter(
                "rho_bar",
                format!("{} is outside [0, 1)", self.rho_bar),
            ));
        }
        let others = [
            self.theta,
            self.omega,
            self.input_norm,
            self.phi,
            self.sigma,
        ];
        if others.iter().any(|x| !(x.is_finite() && *x >= 0.0)) {
            return Err(Error::parameter(
                "bounds",
                format!("θ, ω, b, Φ and σ must be finite and ≥ 0: {self:?}"),
            ));
        }
        Ok(())
    }

    /// The reward bound M = (θ + ωb/(1 − ρ̄))·u_max the reference gives Exp3 and Batch-Exp3.
    pub fn reward_bound(&self, u_max: f64) -> f64 {
        (self.theta + self.omega * self.input_norm / (1.0 - self.rho_bar)) * u_max
    }
}

/// The constants of the width β_t (the reference code's definitions):
/// c₁ = θ + ωbΦ/(1−ρ̄), c₂ = u_max·ω·Φ·(u_max·b/(1−ρ̄) + u_max/(1−ρ̄)),
/// σ̄² = σ²(1 + ω²Φ²/(1−ρ̄²)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Confidence {
    /// c₁.
    pub c1: f64,
    /// c₂ (0 for LinUCB's width, which has no drift term).
    pub c2: f64,
    /// σ̄².
    pub sigma_bar_sq: f64,
    /// u_max, the largest arm norm.
    pub u_max: f64,
    /// The action dimension d.
    pub d: usize,
}

impl Confidence {
    /// The constants for `bounds`, arms of largest norm `u_max`, dimension `d`.
    pub fn new(bounds: &SystemBounds, u_max: f64, d: usize) -> Self {
        let SystemBounds {
            rho_bar: r,
            theta,
            omega,
            input_norm: b,
            phi,
            sigma,
        } = *bounds;
        Self {
            c1: theta + omega * b * phi / (1.0 - r),
            c2: u_max * omega * phi * (u_max * b / (1.0 - r) + u_max / (1.0 - r)),
            sigma_bar_sq: sigma * sigma * (1.0 + omega * omega * phi * phi / (1.0 - r * r)),
            u_max,
            d,
        }
    }

    /// β_t = c₁√λ + (c₂/√λ)·log(e(t+1)) + √(2σ̄²(log(1/δ) + (d/2)·log(1 + t·u_max²/(dλ)))).
    pub fn beta(&self, t: u64, lambda: f64, log_inv_delta: f64) -> f64 {
        let (t, d) = (t as f64, self.d as f64);
        let growth = (1.0 + t * self.u_max * self.u_max / (d * lambda)).ln();
        self.c1 * lambda.sqrt()
            + self.c2 / lambda.sqrt() * (1.0 + (t + 1.0).ln())
            + (2.0 * self.sigma_bar_sq * (log_inv_delta + d / 2.0 * growth)).sqrt()
    }
}

/// The length of DynLin-UCB's epoch m (1-based): 1 + ⌊log m / log(1/ρ̄)⌋, or 1 when ρ̄ = 0.
pub fn epoch_length(m: u64, rho_bar: f64) -> u64 {
    if rho_bar <= 0.0 || m <= 1 {
        return 1;
    }
    1 + ((m as f64).ln() / (1.0 / rho_bar).ln()).floor() as u64
}

/// The largest Euclidean norm of the arms.
pub(crate) fn largest_norm(arms: &[Vec<f64>]) -> f64 {
    arms.iter().map(|u| dot(u, u).sqrt()).fold(0.0, f64::max)
}

/// Checks arms are non-empty and of one dimension; returns them flattened and d.
pub(crate) fn flatten(arms: &[Vec<f64>]) -> Result<(Vec<f64>, usize)> {
    let d = arms.first().map_or(0, Vec::len);
    if d == 0
        || arms
            .iter()
            .any(|u| u.len() != d || u.iter().any(|x| !x.is_finite()))
    {
        return Err(Error::parameter(
            "arms",
            "need at least one arm, all of one positive dimension with finite entries",
        ));
    }
    Ok((arms.concat(), d))
}

/// DynLin-UCB. Epoch m holds one arm for [`epoch_length`]`(m, ρ̄)` steps; only the reward of
/// an epoch's last step enters the ridge regression (λ), since the earlier ones still carry the
/// previous arm's state. The next arm maximises ĥ·u + β_t‖u‖_{V⁻¹}, with β_t from
/// [`Confidence::beta`] at the step t where the epoch starts. The first epoch plays a random
/// arm. (The reference's first epoch is one step longer than the schedule, as it counts its
/// first reward from step 1; here every epoch follows the schedule.)
#[derive(Debug, Clone)]
pub struct DynLinUcb {
    arms: Vec<f64>,
    d: usize,
    lambda: f64,
    log_inv_delta: f64,
    rho_bar: f64,
    confidence: Confidence,
    ridge: Ridge,
    epoch: u64,
    left: u64,
    arm: usize,
}

impl DynLinUcb {
    /// DynLin-UCB over `arms` with ridge `lambda` and log(1/δ) = `log_inv_delta` (the
    /// reference: λ = 1 and log T, or λ = log T and log T with δ = 1/T).
    pub fn new(
        arms: &[Vec<f64>],
        bounds: &SystemBounds,
        lambda: f64,
        log_inv_delta: f64,
    ) -> Result<Self> {
        bounds.check()?;
        if !(lambda > 0.0 && lambda.is_finite() && log_inv_delta.is_finite()) {
            return Err(Error::parameter(
                "lambda",
                format!("need λ > 0 and a finite log(1/δ) (got {lambda}, {log_inv_delta})"),
            ));
        }
        let (flat, d) = flatten(arms)?;
        Ok(Self {
            confidence: Confidence::new(bounds, largest_norm(arms), d),
            ridge: Ridge::new(d, lambda),
            arms: flat,
            d,
            lambda,
            log_inv_delta,
            rho_bar: bounds.rho_bar,
            epoch: 0,
            left: 0,
            arm: 0,
        })
    }

    /// The current epoch (1-based; 0 before the first step).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The current estimate ĥ of the steady-state gain.
    pub fn estimate(&self) -> &[f64] {
        &self.ridge.h
    }

    /// The optimistic arm at step t.
    fn optimistic(&self, t: u64) -> usize {
        let beta = self.confidence.beta(t, self.lambda, self.log_inv_delta);
        argmax(
            self.arms
                .chunks_exact(self.d)
                .map(|u| dot(&self.ridge.h, u) + beta * self.ridge.width(u)),
        )
        .unwrap_or(0)
    }
}

impl Policy for DynLinUcb {
    fn select(&mut self, t: u64, rng: &mut Rng) -> usize {
        if self.left == 0 {
            self.epoch += 1;
            self.left = epoch_length(self.epoch, self.rho_bar);
            let k = self.arms.len() / self.d;
            self.arm = if self.epoch == 1 {
                rng.random_range(0..k)
            } else {
                self.optimistic(t)
            };
        }
        self.arm
    }

    fn observe(&mut self, _: u64, arm: usize, reward: f64) {
        self.left = self.left.saturating_sub(1);
        if self.left == 0 {
            let d = self.d;
            if let Some(u) = self.arms.get(arm * d..(arm + 1) * d) {
                self.ridge.add(u, reward, 1.0, 0.0);
            }
        }
    }

    fn reset(&mut self) {
        self.ridge.reset(self.lambda);
        self.epoch = 0;
        self.left = 0;
        self.arm = 0;
    }
}
