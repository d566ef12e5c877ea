//! AR2, the autoregressive-bandit baseline of the reference (marcomussi/DLB `AR2Agent`),
//! re-implemented from its definition: rewards are modelled as decaying at rate α between pulls.

use choicelab_core::{Error, Result, Rng};
use rand::RngExt;

use crate::policy::Policy;

/// AR2 with decay α and noise σ over K arms. Epochs last E = ⌈Kα⁻³σ⁻³⌉ steps and open with a
/// round robin (arms K−1 … 0). After it, the estimates r̂ decay by α each step and the pulled
/// arm's becomes αX. The better of the last two pulled arms is the leader; an arm i joins the
/// triggered set once r̂_leader − r̂_i ≤ c₁σ√((α² − α^{2(t−τ_i+1)})/(1−α²)), τ_i its last pull,
/// c₁ = 24c₀, c₀ = √(4 log(1/(ασ)) + 4 log E + 2 log 4K). On odd steps with a triggered arm it
/// plays one triggered earliest (ties at random), otherwise the leader. As in the reference,
/// the triggered set is never cleared and round-robin estimates are α^{K−1}X.
#[derive(Debug, Clone)]
pub struct Ar2 {
    k: usize,
    alpha: f64,
    sigma: f64,
    epoch: u64,
    c1: f64,
    t0: u64,
    s: u64,
    tau: Vec<f64>,
    tau_trig: Vec<f64>,
    triggered: Vec<bool>,
    any_triggered: bool,
    estimates: Vec<f64>,
    last: Option<usize>,
    before_last: Option<usize>,
    ties: Vec<usize>,
}

impl Ar2 {
    /// AR2 over `arms` arms with decay `alpha` ∈ (0, 1) and noise `sigma` > 0.
    pub fn new(arms: usize, alpha: f64, sigma: f64) -> Result<Self> {
        if arms < 2 || !(alpha > 0.0 && alpha < 1.0) || !(sigma > 0.0 && sigma.is_finite()) {
            return Err(Error::parameter(
                "ar2",
                format!("need ≥ 2 arms, α in (0, 1) and σ > 0 (got {arms}, {alpha}, {sigma})"),
            ));
        }
        let k = arms as f64;
        let epoch_f = (k * alpha.powi(-3) * sigma.powi(-3)).ceil();
        let epoch = if epoch_f >= u64::MAX as f64 / 4.0 {
            u64::MAX / 4
        } else {
            epoch_f as u64
        };
        let c0 =
            (4.0 * (1.0 / (alpha * sigma)).ln() + 4.0 * epoch_f.ln() + 2.0 * (4.0 * k).ln()).sqrt();
        let mut policy = Self {
            k: arms,
            alpha,
            sigma,
            epoch,
            c1: 24.0 * c0,
            t0: 1,
            s: 1,
            tau: vec![f64::INFINITY; arms],
            tau_trig: vec![f64::INFINITY; arms],
            triggered: vec![false; arms],
            any_triggered: false,
            estimates: vec![f64::INFINITY; arms],
            last: None,
            before_last: None,
            ties: Vec::with_capacity(arms),
        };
        policy.reset();
        Ok(policy)
    }

    /// The last step of the current epoch's round robin.
    fn round_robin_end(&self) -> u64 {
        (self.k as u64).saturating_add((self.s - 1).saturating_mul(self.epoch))
    }
}

impl Policy for Ar2 {
    fn select(&mut self, _: u64, rng: &mut Rng) -> usize {
        let end = self.round_robin_end();
        let arm = if self.t0 <= end {
            (end - self.t0) as usize
        } else {
            let (last, before) = (self.last.unwrap_or(0), self.before_last.unwrap_or(0));
            let leader = if self.estimates[last] >= self.estimates[before] {
                last
            } else {
                before
            };
            let a2 = self.alpha * self.alpha;
            let t0 = self.t0 as f64;
            for i in 0..self.k {
                if i == leader || self.triggered[i] {
                    continue;
                }
                let gap = self.estimates[leader] - self.estimates[i];
                let spread = (a2 - self.alpha.powf(2.0 * (t0 - self.tau[i] + 1.0))) / (1.0 - a2);
                if gap <= self.c1 * self.sigma * spread.sqrt() {
                    self.triggered[i] = true;
                    self.any_triggered = true;
                    self.tau_trig[i] = t0;
                }
            }
            if self.any_triggered && self.t0 % 2 == 1 {
                let first = self.tau_trig.iter().fold(f64::INFINITY, |a, &b| a.min(b));
                self.ties.clear();
                self.ties
                    .extend((0..self.k).filter(|&i| self.tau_trig[i] == first));
                self.ties[rng.random_range(0..self.ties.len())]
            } else {
                leader
            }
        };
        self.before_last = self.last;
        self.last = Some(arm);
        arm
    }

    fn observe(&mut self, _: u64, arm: usize, reward: f64) {
        if arm >= self.k {
            return;
        }
        self.tau[arm] = self.t0 as f64;
        if self.t0 < self.round_robin_end() {
            self.estimates[arm] = self.alpha.powi(self.k as i32 - 1) * reward;
        } else {
            for (i, r) in self.estimates.iter_mut().enumerate() {
                *r = if i == arm {
                    self.alpha * reward
                } else {
                    *r * self.alpha
                };
            }
            if self.t0.is_multiple_of(self.epoch) {
                self.s += 1;
            }
        }
        self.t0 += 1;
    }

    fn reset(&mut self) {
        self.t0 = 1;
        self.s = 1;
        self.tau.fill(f64::INFINITY);
        self.tau_trig.fill(f64::INFINITY);
        self.triggered.fill(false);
        self.any_triggered = false;
        self.estimates.fill(f64::INFINITY);
        self.last = None;
        self.before_last = None;
    }
}
