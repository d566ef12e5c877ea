//! The policy and environment interfaces, and the simplest policies.

use choicelab_core::{Error, Result, Rng};

/// A bandit policy over a fixed list of arms, played at steps t = 0, 1, 2, ….
pub trait Policy {
    /// The arm to play at step `t`.
    fn select(&mut self, t: u64, rng: &mut Rng) -> usize;
    /// The reward observed after playing `arm` at step `t`.
    fn observe(&mut self, t: u64, arm: usize, reward: f64);
    /// Forgets everything learnt, as before step 0.
    fn reset(&mut self);
}

impl<P: Policy + ?Sized> Policy for Box<P> {
    fn select(&mut self, t: u64, rng: &mut Rng) -> usize {
        (**self).select(t, rng)
    }
    fn observe(&mut self, t: u64, arm: usize, reward: f64) {
        (**self).observe(t, arm, reward)
    }
    fn reset(&mut self) {
        (**self).reset()
    }
}

/// A world that answers an action (an arm's vector) with a reward.
pub trait Environment {
    /// Puts the world back in its initial state.
    fn reset(&mut self);
    /// Plays `action` for one step and returns the reward; all noise comes from `rng`.
    fn step(&mut self, action: &[f64], rng: &mut Rng) -> f64;
}

/// Always the same arm: the clairvoyant (the best arm) or a fixed expert allocation.
#[derive(Debug, Clone)]
pub struct Fixed {
    arm: usize,
}

impl Fixed {
    /// Always plays `arm`.
    pub fn new(arm: usize) -> Self {
        Self { arm }
    }

    /// The clairvoyant: always the arm of largest value (the first on ties).
    pub fn best(values: &[f64]) -> Result<Self> {
        let arm =
            argmax(values.iter().copied()).ok_or_else(|| Error::parameter("values", "no arms"))?;
        Ok(Self { arm })
    }
}

impl Policy for Fixed {
    fn select(&mut self, _: u64, _: &mut Rng) -> usize {
        self.arm
    }
    fn observe(&mut self, _: u64, _: usize, _: f64) {}
    fn reset(&mut self) {}
}

/// The index of the largest value (the first on ties; NaN never wins, all NaN gives 0), None
/// if empty.
pub(crate) fn argmax(values: impl Iterator<Item = f64>) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    let mut any = false;
    for (i, v) in values.enumerate() {
        any = true;
        if !v.is_nan() && best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i).or(any.then_some(0))
}

/// UCB1 as the reference defines it: each arm once, then the arm of largest
/// mean + scale·√(2 ln t / n), t the number of rewards seen. The reference's scale is
/// `max_reward · σ`.
#[derive(Debug, Clone)]
pub struct Ucb1 {
    scale: f64,
    pulls: Vec<u64>,
    means: Vec<f64>,
    seen: u64,
}

impl Ucb1 {
    /// UCB1 over `arms` arms with exploration scale `scale`.
    pub fn new(arms: usize, scale: f64) -> Result<Self> {
        if arms == 0 || !(scale >= 0.0 && scale.is_finite()) {
            return Err(Error::parameter(
                "ucb1",
                format!("need at least one arm and a scale ≥ 0 (got {arms} arms, scale {scale})"),
            ));
        }
        Ok(Self {
            scale,
            pulls: vec![0; arms],
            means: vec![0.0; arms],
            seen: 0,
        })
    }
}

impl Policy for Ucb1 {
    fn select(&mut self, _: u64, _: &mut Rng) -> usize {
        if let Some(arm) = self.pulls.iter().position(|&n| n == 0) {
            return arm;
        }
        let log_t = (self.seen as f64).ln();
        let scale = self.scale;
        argmax(
            self.means
                .iter()
                .zip(&self.pulls)
                .map(|(m, &n)| m + scale * (2.0 * log_t / n as f64).sqrt()),
        )
        .unwrap_or(0)
    }
    fn observe(&mut self, _: u64, arm: usize, reward: f64) {
        if let (Some(n), Some(m)) = (self.pulls.get_mut(arm), self.means.get_mut(arm)) {
            *n += 1;
            *m += (reward - *m) / *n as f64;
        }
        self.seen += 1;
    }
    fn reset(&mut self) {
        self.pulls.fill(0);
        self.means.fill(0.0);
        self.seen = 0;
    }
}
