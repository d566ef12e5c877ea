//! Finite-horizon backward induction.

use choicelab_core::{Error, Result, TabularMdp};

use crate::bellman::bellman_sweep;
use crate::solution::initial_values;

/// Backward induction over `horizon` stages with discount γ ∈ [0, 1].
#[derive(Debug, Clone)]
pub struct FiniteHorizon {
    /// Discount γ in [0, 1].
    pub gamma: f64,
    /// Number of decision stages N ≥ 1.
    pub horizon: usize,
    /// Terminal values V_N; zeros when None.
    pub terminal: Option<Vec<f64>>,
}

/// Values and decisions of every stage: stage t has N − t decisions left.
#[derive(Debug, Clone, PartialEq)]
pub struct FiniteHorizonSolution {
    /// `values[t][s]` for t = 0..=N; `values[N]` is the terminal value.
    pub values: Vec<Vec<f64>>,
    /// `policy[t][s]` for t = 0..N (ties go to the lowest action).
    pub policy: Vec<Vec<usize>>,
}

impl FiniteHorizon {
    /// Backward induction with zero terminal values.
    pub fn new(gamma: f64, horizon: usize) -> Self {
        Self {
            gamma,
            horizon,
            terminal: None,
        }
    }

    /// Solves `mdp` by N Bellman sweeps from the terminal values.
    pub fn solve(&self, mdp: &TabularMdp) -> Result<FiniteHorizonSolution> {
        if !(0.0..=1.0).contains(&self.gamma) {
            return Err(Error::parameter(
                "gamma",
                format!("discount {} must be in [0, 1]", self.gamma),
            ));
        }
        if self.horizon == 0 {
            return Err(Error::parameter("horizon", "must be at least 1"));
        }
        let n = mdp.n_states();
        let mut values = vec![vec![0.0; n]; self.horizon + 1];
        values[self.horizon] = initial_values(mdp, self.terminal.as_deref())?;
        let mut policy = vec![vec![0; n]; self.horizon];
        for t in (0..self.horizon).rev() {
            let (head, tail) = values.split_at_mut(t + 1);
            bellman_sweep(mdp, self.gamma, &tail[0], &mut head[t], &mut policy[t]);
        }
        Ok(FiniteHorizonSolution { values, policy })
    }
}
