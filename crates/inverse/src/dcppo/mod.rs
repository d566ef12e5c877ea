//! DCPPO (Li, Yang & Wang 2023): learn the reward of a human who chooses by the dynamic
//! discrete choice model, then plan pessimistically with it. Finite-horizon, undiscounted,
//! linear in known features φ(s,a).
//!
//! The stages are [`estimate_q`] (maximum likelihood of the human's Q), [`recover_reward`]
//! (Bellman-residual ridge regression) and [`pessimistic_plan`] (PEVI); [`Dcppo`] runs all
//! three. [`LinearDdcWorld`] generates worlds and logged episodes with a planted reward.

pub mod stages;
pub mod world;

use choicelab_core::Result;

pub use stages::{
    estimate_q, pessimistic_plan, recover_reward, theory_beta, Pessimism, PessimisticPlan,
    QEstimate,
};
pub use world::{Episodes, Features, LinearDdcWorld, StepTables, Transition, WorldDesign};

/// The whole DCPPO pipeline's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dcppo {
    /// Ridge penalty of stage 1's logit (also its normalisation: the minimum-norm θ̂).
    pub logit_ridge: f64,
    /// λ of stage 2's reward regression.
    pub reward_ridge: f64,
    /// Stage 3's pessimism.
    pub pessimism: Pessimism,
}

/// What each stage of [`Dcppo::fit`] produced.
#[derive(Debug, Clone)]
pub struct DcppoFit {
    /// Stage 1.
    pub q: QEstimate,
    /// Stage 2: ŵ_h per step.
    pub reward_weights: Vec<Vec<f64>>,
    /// Stage 3.
    pub plan: PessimisticPlan,
}

impl Default for Dcppo {
    fn default() -> Self {
        Self {
            logit_ridge: 1e-3,
            reward_ridge: 1e-3,
            pessimism: Pessimism {
                beta: 1.0,
                ridge: 1e-3,
            },
        }
    }
}

impl Dcppo {
    /// Runs the three stages on `episodes`.
    pub fn fit(&self, features: &Features, episodes: &Episodes) -> Result<DcppoFit> {
        let q = estimate_q(features, episodes, self.logit_ridge)?;
        let reward_weights = recover_reward(features, episodes, &q, self.reward_ridge)?;
        let plan = pessimistic_plan(features, episodes, &reward_weights, self.pessimism)?;
        Ok(DcppoFit {
            q,
            reward_weights,
            plan,
        })
    }
}

impl LinearDdcWorld {
    /// V*_1 − V^π_1 under the planted reward, from the initial distribution.
    pub fn suboptimality(&self, policy: &[Vec<usize>]) -> f64 {
        let rewards = self.rewards();
        let best = self.value_of(&self.optimal_policy(&rewards), &rewards);
        best - self.value_of(policy, &rewards)
    }

    /// Root mean squared error of recovered rewards r̂_h = φᵀŵ_h against the planted ones
    /// (see [`LinearDdcWorld::centred_error`]).
    pub fn reward_error(&self, reward_weights: &[Vec<f64>]) -> f64 {
        let estimates: StepTables = reward_weights
            .iter()
            .map(|w| self.features.linear(w))
            .collect();
        self.centred_error(&estimates, &vec![self.rewards(); self.horizon])
    }

    /// Root mean squared error of stage 1's Q̂_h against the human's Q_h
    /// (see [`LinearDdcWorld::centred_error`]).
    pub fn q_error(&self, q: &QEstimate) -> f64 {
        self.centred_error(&q.tables(&self.features), &self.human().0)
    }

    /// Root mean squared difference of per-step (s,a) tables, weighted by the human's
    /// occupancy of (s,a) at each step, after removing each step's mean difference (the
    /// constant that choices cannot identify); the squares are averaged over the steps.
    pub fn centred_error(&self, estimates: &StepTables, truth: &StepTables) -> f64 {
        let occupancy = self.human_occupancy();
        let total: f64 = estimates
            .iter()
            .zip(truth)
            .zip(&occupancy)
            .map(|((estimate, truth), weights)| {
                let difference: Vec<f64> = estimate.iter().zip(truth).map(|(e, t)| e - t).collect();
                let mean = world::dot(weights, &difference);
                weights
                    .iter()
                    .zip(&difference)
                    .map(|(p, x)| p * (x - mean).powi(2))
                    .sum::<f64>()
            })
            .sum();
        (total / estimates.len().max(1) as f64).sqrt()
    }
}
