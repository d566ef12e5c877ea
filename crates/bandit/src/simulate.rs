//! Many independent seeded trials of one policy in one world, in parallel, and their regret.

use choicelab_core::{stream_rng, Error, Result, Seed};
use rayon::prelude::*;

use crate::policy::{Environment, Policy};

/// About `points` log-spaced steps in 1..=`horizon`, distinct, ending at `horizon`.
pub fn log_checkpoints(horizon: u64, points: usize) -> Vec<u64> {
    let top = (horizon.max(1) as f64).ln();
    let n = points.max(1);
    let mut steps: Vec<u64> = (1..=n)
        .map(|i| ((top * i as f64 / n as f64).exp().round() as u64).clamp(1, horizon.max(1)))
        .collect();
    steps.push(horizon.max(1));
    steps.dedup();
    steps
}

/// How trials run: horizon, trial count, seed and the steps at which regret is recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    /// Steps per trial.
    pub horizon: u64,
    /// Independent trials.
    pub trials: usize,
    /// Seed: trial i's noise is stream 2i of it, the policy's randomness stream 2i + 1, so
    /// every policy meets the same noise in a trial and no result depends on the thread count.
    pub seed: Seed,
    /// Increasing steps in 1..=horizon after which the cumulative regret is recorded.
    pub checkpoints: Vec<u64>,
}

/// Cumulative regret of each trial at the checkpoints.
#[derive(Debug, Clone, PartialEq)]
pub struct RegretCurve {
    /// The checkpoints (steps played).
    pub steps: Vec<u64>,
    /// Per trial, the cumulative regret at each checkpoint.
    pub trials: Vec<Vec<f64>>,
}

impl RegretCurve {
    /// Mean over trials at each checkpoint.
    pub fn mean(&self) -> Vec<f64> {
        self.columns().map(|c| c.0).collect()
    }

    /// Standard error (sample standard deviation / √n, 0 for one trial) at each checkpoint.
    pub fn stderr(&self) -> Vec<f64> {
        self.columns().map(|c| c.1).collect()
    }

    /// Mean regret at the last checkpoint.
    pub fn final_mean(&self) -> f64 {
        self.mean().last().copied().unwrap_or(0.0)
    }

    /// Standard error at the last checkpoint.
    pub fn final_stderr(&self) -> f64 {
        self.stderr().last().copied().unwrap_or(0.0)
    }

    fn columns(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        let n = self.trials.len() as f64;
        (0..self.steps.len()).map(move |j| {
            let mean = self.trials.iter().map(|t| t[j]).sum::<f64>() / n;
            let var = if n > 1.0 {
                self.trials
                    .iter()
                    .map(|t| (t[j] - mean).powi(2))
                    .sum::<f64>()
                    / (n - 1.0)
            } else {
                0.0
            };
            (mean, (var / n).sqrt())
        })
    }
}

impl Simulation {
    /// `trials` trials of `horizon` steps with `seed`, recorded at ~60 log-spaced checkpoints.
    pub fn new(horizon: u64, trials: usize, seed: Seed) -> Result<Self> {
        let simulation = Self {
            horizon,
            trials,
            seed,
            checkpoints: log_checkpoints(horizon, 60),
        };
        simulation.check()?;
        Ok(simulation)
    }

    fn check(&self) -> Result<()> {
        if self.horizon == 0 || self.trials == 0 {
            return Err(Error::parameter(
                "simulation",
                format!(
                    "need horizon ≥ 1 and trials ≥ 1 (got {}, {})",
                    self.horizon, self.trials
                ),
            ));
        }
        let ordered = self.checkpoints.windows(2).all(|w| w[0] < w[1]);
        let inside = self
            .checkpoints
            .iter()
            .all(|&c| (1..=self.horizon).contains(&c));
        if self.checkpoints.is_empty() || !ordered || !inside {
            return Err(Error::parameter(
                "checkpoints",
                "need increasing steps within 1..=horizon",
            ));
        }
        Ok(())
    }

    /// Runs the trials: each builds a fresh world and policy, plays `horizon` steps and adds up
    /// the regret max(values) − values[arm] of the arms played (expected values, not the
    /// realised rewards). `arms` are the actions given to the world, `values` their expected
    /// values. Trials run in parallel (rayon).
    pub fn run<E, P>(
        &self,
        arms: &[Vec<f64>],
        values: &[f64],
        make_env: impl Fn() -> E + Sync,
        make_policy: impl Fn() -> P + Sync,
    ) -> Result<RegretCurve>
    where
        E: Environment,
        P: Policy,
    {
        let best = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        self.run_against(arms, values, best, make_env, make_policy)
    }

    /// As [`Simulation::run`], with regret measured against `best` rather than max(values): for
    /// a policy whose arms (an expert's allocation) are not the learners' arms.
    pub fn run_against<E, P>(
        &self,
        arms: &[Vec<f64>],
        values: &[f64],
        best: f64,
        make_env: impl Fn() -> E + Sync,
        make_policy: impl Fn() -> P + Sync,
    ) -> Result<RegretCurve>
    where
        E: Environment,
        P: Policy,
    {
        self.check()?;
        if arms.is_empty() || arms.len() != values.len() || !best.is_finite() {
            return Err(Error::parameter(
                "values",
                format!(
                    "need one finite value per arm ({} arms, {} values)",
                    arms.len(),
                    values.len()
                ),
            ));
        }
        let gaps: Vec<f64> = values.iter().map(|v| best - v).collect();
        let trials = (0..self.trials)
            .into_par_iter()
            .map(|trial| {
                let mut env = make_env();
                let mut policy = make_policy();
                env.reset();
                policy.reset();
                self.trial(trial as u64, arms, &gaps, &mut env, &mut policy)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RegretCurve {
            steps: self.checkpoints.clone(),
            trials,
        })
    }

    /// One trial: the allocation-free inner loop.
    fn trial<E: Environment, P: Policy>(
        &self,
        trial: u64,
        arms: &[Vec<f64>],
        gaps: &[f64],
        env: &mut E,
        policy: &mut P,
    ) -> Result<Vec<f64>> {
        let mut noise = stream_rng(self.seed, 2 * trial);
        let mut random = stream_rng(self.seed, 2 * trial + 1);
        let mut recorded = Vec::with_capacity(self.checkpoints.len());
        let mut next = self.checkpoints.iter().copied().peekable();
        let mut regret = 0.0;
        for t in 0..self.horizon {
            let arm = policy.select(t, &mut random);
            let (Some(action), Some(gap)) = (arms.get(arm), gaps.get(arm)) else {
                return Err(Error::parameter(
                    "policy",
                    format!("chose arm {arm} of {} at step {t}", arms.len()),
                ));
            };
            let reward = env.step(action, &mut noise);
            policy.observe(t, arm, reward);
            regret += gap;
            if next.peek() == Some(&(t + 1)) {
                recorded.push(regret);
                next.next();
            }
        }
        Ok(recorded)
    }
}
