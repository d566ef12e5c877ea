//! LinUCB and discounted LinUCB: ridge regression on every step's reward, as if the reward
//! depended on the current arm only.

use choicelab_core::{Error, Result, Rng};
use rand::RngExt;

use crate::dynlin::{flatten, largest_norm, Confidence};
use crate::linalg::{dot, mat_vec, quad, Ridge};
use crate::policy::{argmax, Policy};

/// The width of LinUCB's confidence bonus.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Width {
    /// A constant β.
    Fixed(f64),
    /// β_t of [`Confidence::beta`] with log(1/δ).
    Growing(Confidence, f64),
}

/// LinUCB: after a random first arm, the arm maximising ĥ·u + β‖u‖_{V⁻¹}, with ĥ the ridge
/// regression of every reward on the arm just played.
#[derive(Debug, Clone)]
pub struct LinUcb {
    arms: Vec<f64>,
    d: usize,
    lambda: f64,
    width: Width,
    ridge: Ridge,
}

impl LinUcb {
    /// The reference's `LinUCBAgent`: constant β = θ√λ + σ√(2 log T + d·log((dλ + T·g²)/(dλ))),
    /// with g the daily budget.
    pub fn reference(
        arms: &[Vec<f64>],
        lambda: f64,
        horizon: u64,
        theta: f64,
        sigma: f64,
        budget: f64,
    ) -> Result<Self> {
        let (flat, d) = flatten(arms)?;
        check_lambda(lambda)?;
        let (t, df) = (horizon as f64, d as f64);
        let beta = theta * lambda.sqrt()
            + sigma
                * (2.0 * t.ln() + df * ((df * lambda + t * budget * budget) / (df * lambda)).ln())
                    .sqrt();
        Ok(Self::build(flat, d, lambda, Width::Fixed(beta)))
    }

    /// The reference's `LinearAgent(linucb)`: β_t of `confidence` without the drift term
    /// (c₂ = 0), ridge λ, log(1/δ).
    pub fn with_confidence(
        arms: &[Vec<f64>],
        confidence: Confidence,
        lambda: f64,
        log_inv_delta: f64,
    ) -> Result<Self> {
        let (flat, d) = flatten(arms)?;
        check_lambda(lambda)?;
        let confidence = Confidence {
            c2: 0.0,
            u_max: largest_norm(arms),
            d,
            ..confidence
        };
        Ok(Self::build(
            flat,
            d,
            lambda,
            Width::Growing(confidence, log_inv_delta),
        ))
    }

    fn build(arms: Vec<f64>, d: usize, lambda: f64, width: Width) -> Self {
        Self {
            arms,
            d,
            lambda,
            width,
            ridge: Ridge::new(d, lambda),
        }
    }
}

fn check_lambda(lambda: f64) -> Result<()> {
    if lambda > 0.0 && lambda.is_finite() {
        Ok(())
    } else {
        Err(Error::parameter("lambda", format!("{lambda} is not > 0")))
    }
}

impl Policy for LinUcb {
    fn select(&mut self, t: u64, rng: &mut Rng) -> usize {
        let k = self.arms.len() / self.d;
        if t == 0 {
            return rng.random_range(0..k);
        }
        let beta = match self.width {
            Width::Fixed(beta) => beta,
            Width::Growing(c, log_inv_delta) => c.beta(t, self.lambda, log_inv_delta),
        };
        argmax(
            self.arms
                .chunks_exact(self.d)
                .map(|u| dot(&self.ridge.h, u) + beta * self.ridge.width(u)),
        )
        .unwrap_or(0)
    }

    fn observe(&mut self, _: u64, arm: usize, reward: f64) {
        let d = self.d;
        if let Some(u) = self.arms.get(arm * d..(arm + 1) * d) {
            self.ridge.add(u, reward, 1.0, 0.0);
        }
    }

    fn reset(&mut self) {
        self.ridge.reset(self.lambda);
    }
}

/// D-LinUCB (Russac, Vernade & Cappé 2019), as the reference's `DLinUCBAgent`: discount γ,
/// λ_t = γ^{−t}λ; V ← γV + uuᵀ + (1−γ)λ_t I, Ṽ ← γ²Ṽ + uuᵀ + (1−γ²)λ_t I, b ← γb + u r;
/// score ĥ·u + β_t √(uᵀV⁻¹ṼV⁻¹u) with
/// β_t = θ√λ_t + σ√(2 log T + d·log(1 + g²(1−γ^{2t})/(dλ_t(1−γ²)))), g the daily budget.
#[derive(Debug, Clone)]
pub struct DLinUcb {
    arms: Vec<f64>,
    d: usize,
    lambda: f64,
    discount: f64,
    log_horizon: f64,
    theta: f64,
    sigma: f64,
    budget: f64,
    ridge: Ridge,
    tilde: Vec<f64>,
    w: Vec<f64>,
}

impl DLinUcb {
    /// D-LinUCB with ridge `lambda` and discount `discount` ∈ (0, 1).
    pub fn new(
        arms: &[Vec<f64>],
        lambda: f64,
        discount: f64,
        horizon: u64,
        theta: f64,
        sigma: f64,
        budget: f64,
    ) -> Result<Self> {
        let (flat, d) = flatten(arms)?;
        check_lambda(lambda)?;
        if !(discount > 0.0 && discount < 1.0) {
            return Err(Error::parameter(
                "discount",
                format!("{discount} is outside (0, 1)"),
            ));
        }
        let mut policy = Self {
            arms: flat,
            d,
            lambda,
            discount,
            log_horizon: (horizon.max(1) as f64).ln(),
            theta,
            sigma,
            budget,
            ridge: Ridge::new(d, lambda),
            tilde: vec![0.0; d * d],
            w: vec![0.0; d],
        };
        policy.reset();
        Ok(policy)
    }

    /// λ_t = γ^{−t}λ.
    fn regulariser(&self, t: u64) -> f64 {
        self.lambda * (-(t as f64) * self.discount.ln()).exp()
    }
}

impl Policy for DLinUcb {
    fn select(&mut self, t: u64, rng: &mut Rng) -> usize {
        let (d, k) = (self.d, self.arms.len() / self.d);
        if t == 0 {
            return rng.random_range(0..k);
        }
        let reg = self.regulariser(t);
        let log_g = self.discount.ln();
        // (1 − γ^{2t}) / (1 − γ²), computed without cancellation.
        let ratio = (2.0 * t as f64 * log_g).exp_m1() / (2.0 * log_g).exp_m1();
        let df = d as f64;
        let beta = self.theta * reg.sqrt()
            + self.sigma
                * (2.0 * self.log_horizon
                    + df * (1.0 + self.budget * self.budget * ratio / (df * reg)).ln())
                .sqrt();
        let mut best = (0, f64::NEG_INFINITY);
        for (i, u) in self.arms.chunks_exact(d).enumerate() {
            mat_vec(&self.ridge.v_inv, u, &mut self.w);
            let score = dot(&self.ridge.h, u) + beta * quad(&self.tilde, &self.w).max(0.0).sqrt();
            if score > best.1 {
                best = (i, score);
            }
        }
        best.0
    }

    fn observe(&mut self, t: u64, arm: usize, reward: f64) {
        let d = self.d;
        let Some(u) = self.arms.get(arm * d..(arm + 1) * d) else {
            return;
        };
        let (g, reg) = (self.discount, self.regulariser(t));
        self.ridge.add(u, reward, g, (1.0 - g) * reg);
        for i in 0..d {
            for j in 0..d {
                self.tilde[i * d + j] = g * g * self.tilde[i * d + j] + u[i] * u[j];
            }
            self.tilde[i * d + i] += (1.0 - g * g) * reg;
        }
    }

    fn reset(&mut self) {
        let d = self.d;
        self.ridge.reset(self.lambda);
        self.tilde.fill(0.0);
        for i in 0..d {
            self.tilde[i * d + i] = self.lambda;
        }
    }
}
