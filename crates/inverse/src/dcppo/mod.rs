//! DCPPO (Li, Yang & Wang 2023): learn the reward of a human who chooses by the dynamic
//! discrete choice model, then plan pessimistically with it. Finite-horizon, undiscounted,
//! linear in known features φ(s,a).
//!
//! The stages are [`estimate_q`] (maximum likelihood of the human's Q), [`recover_reward`]
//! (Bellman-residual ridge regression) and [`pessimistic_plan`] (PEVI); [`Dcppo`] runs all
//! three. [`LinearDdcWorld`] (from `choicelab-envs`) generates worlds and logged episodes with
//! a planted reward.

pub mod stages;

use choicelab_core::Result;

pub use choicelab_envs::linear_ddc::{
    Episodes, Features, LinearDdcWorld, StepTables, Transition, WorldDesign,
};
pub use stages::{
    estimate_q, pessimistic_plan, recover_reward, theory_beta, Pessimism, PessimisticPlan,
    QEstimate,
};

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
