//! Policy evaluation: V_π solving (I − γP_π) V = r_π, exactly or iteratively.

use choicelab_core::{Error, Result, TabularMdp};
use faer::linalg::solvers::Solve;
use faer::Mat;

use crate::bellman::policy_sweep;
use crate::solution::{check_discount, check_policy};

/// Largest state count evaluated by dense LU under [`Evaluation::Auto`].
pub const DENSE_LIMIT: usize = 2000;

/// How a policy's values are computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Evaluation {
    /// Dense LU for S ≤ [`DENSE_LIMIT`], iterative above.
    Auto,
    /// Dense LU factorisation of I − γP_π (faer); O(S³).
    DenseLu,
    /// Repeated sweeps V ← r_π + γP_πV, stopped by McQueen–Porteus bounds once the error
    /// bound is below `tolerance` (absolute, sup norm).
    Iterative {
        /// Absolute accuracy of the returned values.
        tolerance: f64,
    },
}

impl Evaluation {
    fn resolve(self, n_states: usize, scale: f64) -> Evaluation {
        match self {
            Evaluation::Auto if n_states <= DENSE_LIMIT => Evaluation::DenseLu,
            Evaluation::Auto => Evaluation::Iterative {
                tolerance: 1e-10 * scale.max(1.0),
            },
            other => other,
        }
    }
}

/// Values of `policy` at discount `gamma` (γ < 1).
pub fn evaluate_policy(
    mdp: &TabularMdp,
    gamma: f64,
    policy: &[usize],
    evaluation: Evaluation,
) -> Result<Vec<f64>> {
    check_discount(gamma)?;
    check_policy(mdp, policy)?;
    let mut values = vec![0.0; mdp.n_states()];
    evaluate_into(mdp, gamma, policy, evaluation, &mut values)?;
    Ok(values)
}

/// Evaluates `policy` into `values`, which also serves as the warm start of iterative methods.
pub(crate) fn evaluate_into(
    mdp: &TabularMdp,
    gamma: f64,
    policy: &[usize],
    evaluation: Evaluation,
    values: &mut Vec<f64>,
) -> Result<()> {
    let max_reward = policy
        .iter()
        .enumerate()
        .map(|(s, &a)| mdp.reward(s, a).abs())
        .fold(0.0, f64::max);
    let scale = max_reward / (1.0 - gamma);
    match evaluation.resolve(mdp.n_states(), scale) {
        Evaluation::DenseLu | Evaluation::Auto => {
            *values = dense_evaluation(mdp, gamma, policy)?;
            Ok(())
        }
        Evaluation::Iterative { tolerance } => {
            iterative_evaluation(mdp, gamma, policy, tolerance, values)
        }
    }
}

fn dense_evaluation(mdp: &TabularMdp, gamma: f64, policy: &[usize]) -> Result<Vec<f64>> {
    let n = mdp.n_states();
    let mut system = Mat::<f64>::identity(n, n);
    let mut rhs = Mat::<f64>::zeros(n, 1);
    for (s, &a) in policy.iter().enumerate() {
        let (next, prob) = mdp.transitions(s, a);
        for (&t, &p) in next.iter().zip(prob) {
            system[(s, t as usize)] -= gamma * p;
        }
        rhs[(s, 0)] = mdp.reward(s, a);
    }
    let solution = system.partial_piv_lu().solve(&rhs);
    let values: Vec<f64> = (0..n).map(|s| solution[(s, 0)]).collect();
    if values.iter().any(|v| !v.is_finite()) {
        return Err(Error::Numerical {
            context: "policy evaluation (dense LU)".into(),
            message: "I − γP_π is singular to working precision".into(),
        });
    }
    Ok(values)
}

fn iterative_evaluation(
    mdp: &TabularMdp,
    gamma: f64,
    policy: &[usize],
    tolerance: f64,
    values: &mut Vec<f64>,
) -> Result<()> {
    const MAX_SWEEPS: usize = 1_000_000;
    let mut next = vec![0.0; values.len()];
    // With Δ = T_πV − V, V_π lies between T_πV + γ/(1−γ)·min Δ and T_πV + γ/(1−γ)·max Δ.
    let factor = gamma / (1.0 - gamma);
    for _ in 0..MAX_SWEEPS {
        let change = policy_sweep(mdp, gamma, policy, values, &mut next);
        std::mem::swap(values, &mut next);
        if factor * change.span() / 2.0 < tolerance {
            let shift = factor * (change.max + change.min) / 2.0;
            values.iter_mut().for_each(|v| *v += shift);
            return Ok(());
        }
    }
    Err(Error::NotConverged {
        method: "iterative policy evaluation".into(),
        iterations: MAX_SWEEPS,
        residual: f64::NAN,
        tolerance,
        reason: "sweep limit".into(),
    })
}
