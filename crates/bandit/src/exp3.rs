//! Exp3 and Batch-Exp3 with the reference's parameters: rewards shifted and scaled into [0, 1]
//! by the bound M, exploration γ = min(1, √(K log K / ((e − 1)·2n/3))) over n rounds, η = γ/K.

use choicelab_core::{draw_index, Error, Result, Rng};

use crate::dynlin::epoch_length;
use crate::policy::Policy;

/// Exp3: sample from p = (1−γ)·softmax(ηG) + γ/K, G the importance-weighted sums of the
/// rescaled rewards (r + 2M)/(4M).
#[derive(Debug, Clone)]
pub struct Exp3 {
    gamma: f64,
    eta: f64,
    bound: f64,
    gains: Vec<f64>,
    probabilities: Vec<f64>,
}

/// The reference's exploration rate for K arms over `rounds` rounds.
fn exploration(k: usize, rounds: f64) -> f64 {
    let k = k as f64;
    (k * k.ln() / ((std::f64::consts::E - 1.0) * 2.0 * rounds / 3.0))
        .sqrt()
        .min(1.0)
}

impl Exp3 {
    /// Exp3 over `arms` arms for `rounds` updates, rewards bounded by |r| ≤ 2·`bound` (M).
    pub fn new(arms: usize, rounds: u64, bound: f64) -> Result<Self> {
        if arms < 2 || rounds == 0 || !(bound > 0.0 && bound.is_finite()) {
            return Err(Error::parameter(
                "exp3",
                format!(
                    "need ≥ 2 arms, ≥ 1 round and a bound M > 0 (got {arms}, {rounds}, {bound})"
                ),
            ));
        }
        let gamma = exploration(arms, rounds as f64);
        let mut policy = Self {
            gamma,
            eta: gamma / arms as f64,
            bound,
            gains: vec![0.0; arms],
            probabilities: vec![0.0; arms],
        };
        policy.reset();
        Ok(policy)
    }

    /// Credits `reward` to `arm` and recomputes the probabilities (max-shifted softmax).
    fn credit(&mut self, arm: usize, reward: f64) {
        let Some(&p) = self.probabilities.get(arm) else {
            return;
        };
        let scaled = (reward + 2.0 * self.bound) / (4.0 * self.bound);
        self.gains[arm] += scaled / p;
        let top = self.gains.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let mut total = 0.0;
        for (q, g) in self.probabilities.iter_mut().zip(&self.gains) {
            *q = (self.eta * (g - top)).exp();
            total += *q;
        }
        let k = self.gains.len() as f64;
        for q in &mut self.probabilities {
            *q = (1.0 - self.gamma) * *q / total + self.gamma / k;
        }
    }
}

impl Policy for Exp3 {
    fn select(&mut self, _: u64, rng: &mut Rng) -> usize {
        draw_index(rng, &self.probabilities)
    }
    fn observe(&mut self, _: u64, arm: usize, reward: f64) {
        self.credit(arm, reward);
    }
    fn reset(&mut self) {
        let k = self.gains.len() as f64;
        self.gains.fill(0.0);
        self.probabilities.fill(1.0 / k);
    }
}

/// The reference's batch size for Batch-Exp3: ⌈log M* / log(1/ρ̄)⌉, with M* the number of
/// DynLin-UCB epochs that cover the horizon (at least 1).
pub fn batch_size(rho_bar: f64, horizon: u64) -> u64 {
    if rho_bar <= 0.0 {
        return 1;
    }
    let (mut epochs, mut covered) = (0u64, 0u64);
    while covered < horizon {
        epochs += 1;
        covered += epoch_length(epochs, rho_bar);
    }
    (((epochs as f64).ln() / (1.0 / rho_bar).ln()).ceil() as u64).max(1)
}

/// Batch-Exp3: Exp3 on batches of `batch` steps; an arm is held for a batch and credited with
/// the batch's mean reward, over T/batch rounds. (The reference's batches start one step off
/// from its credits; here each batch's own rewards are credited.)
#[derive(Debug, Clone)]
pub struct BatchExp3 {
    exp3: Exp3,
    batch: u64,
    arm: usize,
    sum: f64,
    count: u64,
}

impl BatchExp3 {
    /// Batch-Exp3 over `arms` arms, horizon `horizon`, batches of `batch` steps, bound M.
    pub fn new(arms: usize, horizon: u64, batch: u64, bound: f64) -> Result<Self> {
        if batch == 0 {
            return Err(Error::parameter("batch", "must be ≥ 1"));
        }
        let mut exp3 = Exp3::new(arms, 1, bound)?;
        exp3.gamma = exploration(arms, horizon as f64 / batch as f64);
        exp3.eta = exp3.gamma / arms as f64;
        Ok(Self {
            exp3,
            batch,
            arm: 0,
            sum: 0.0,
            count: 0,
        })
    }

    /// The batch length.
    pub fn batch(&self) -> u64 {
        self.batch
    }
}

impl Policy for BatchExp3 {
    fn select(&mut self, _: u64, rng: &mut Rng) -> usize {
        if self.count == 0 {
            self.arm = draw_index(rng, &self.exp3.probabilities);
        }
        self.arm
    }
    fn observe(&mut self, _: u64, arm: usize, reward: f64) {
        self.sum += reward;
        self.count += 1;
        if self.count == self.batch {
            self.exp3.credit(arm, self.sum / self.batch as f64);
            self.sum = 0.0;
            self.count = 0;
        }
    }
    fn reset(&mut self) {
        self.exp3.reset();
        self.sum = 0.0;
        self.count = 0;
    }
}
