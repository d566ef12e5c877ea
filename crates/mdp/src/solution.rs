//! What planners return, and the parameter checks they share.

use choicelab_core::{Error, Result, TabularMdp};

use crate::driver::Run;

/// A stationary solution: values, a deterministic policy and how it was reached.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// The method that produced it.
    pub method: &'static str,
    /// V(s) (for relative value iteration, the relative values h(s) with h(reference) = 0).
    pub values: Vec<f64>,
    /// The chosen action per state (ties go to the lowest action).
    pub policy: Vec<usize>,
    /// Iterations done (sweeps, or improvement steps for policy iteration).
    pub iterations: usize,
    /// The last residual the stopping rule saw.
    pub residual: f64,
    /// Average reward per step, for average-reward methods.
    pub gain: Option<f64>,
}

impl Solution {
    pub(crate) fn from_run(
        method: &'static str,
        values: Vec<f64>,
        policy: Vec<usize>,
        run: Run,
        gain: Option<f64>,
    ) -> Self {
        Solution {
            method,
            values,
            policy,
            iterations: run.iterations,
            residual: run.residual,
            gain,
        }
    }
}

/// The sup-norm change below which a γ-contraction's iterate is within ε/2 of its fixed point:
/// ε(1−γ)/(2γ) (any change will do when γ = 0).
pub(crate) fn value_threshold(gamma: f64, epsilon: f64) -> f64 {
    if gamma > 0.0 {
        epsilon * (1.0 - gamma) / (2.0 * gamma)
    } else {
        f64::INFINITY
    }
}

pub(crate) fn check_discount(gamma: f64) -> Result<()> {
    if !(0.0..1.0).contains(&gamma) {
        return Err(Error::parameter(
            "gamma",
            format!("discount {gamma} must be in [0, 1) for an infinite horizon"),
        ));
    }
    Ok(())
}

pub(crate) fn check_positive(name: &str, value: f64) -> Result<()> {
    if !(value > 0.0 && value.is_finite()) {
        return Err(Error::parameter(
            name,
            format!("{value} must be positive and finite"),
        ));
    }
    Ok(())
}

pub(crate) fn initial_values(mdp: &TabularMdp, initial: Option<&[f64]>) -> Result<Vec<f64>> {
    match initial {
        None => Ok(vec![0.0; mdp.n_states()]),
        Some(v) if v.len() == mdp.n_states() && v.iter().all(|x| x.is_finite()) => Ok(v.to_vec()),
        Some(v) => Err(Error::parameter(
            "initial values",
            format!(
                "need {} finite values, got {} (finite: {})",
                mdp.n_states(),
                v.len(),
                v.iter().all(|x| x.is_finite())
            ),
        )),
    }
}

/// Checks that `policy` names a feasible action in every state.
pub fn check_policy(mdp: &TabularMdp, policy: &[usize]) -> Result<()> {
    if policy.len() != mdp.n_states() {
        return Err(Error::parameter(
            "policy",
            format!("{} actions for {} states", policy.len(), mdp.n_states()),
        ));
    }
    for (s, &a) in policy.iter().enumerate() {
        if a >= mdp.n_actions() || !mdp.is_feasible(s, a) {
            return Err(Error::parameter(
                "policy",
                format!("action {a} is not feasible in state {s}"),
            ));
        }
    }
    Ok(())
}
