//! Soft (logit) value iteration: the Bellman equation of agents with i.i.d. Gumbel shocks.

use choicelab_core::{Result, TabularMdp};

use crate::bellman::{parallel_update, q_value};
use crate::driver::{drive, Iterate, Observer, Silent, Stopping};
use crate::solution::{check_discount, check_positive, initial_values, value_threshold};

/// Soft value iteration: V(s) = τ log Σ_a exp(Q(s,a)/τ), Q(s,a) = r(s,a) + γ Σ P(s'|s,a) V(s').
///
/// The log-sum-exp is recentred on max_a Q(s,a), so it neither overflows nor loses the small
/// terms however large the values grow as γ → 1. The soft operator is a γ-contraction, and the
/// stopping rule is value iteration's: ‖V_{k+1} − V_k‖∞ < ε(1−γ)/(2γ).
#[derive(Debug, Clone)]
pub struct SoftValueIteration {
    /// Discount γ in [0, 1).
    pub gamma: f64,
    /// Temperature τ > 0 (the scale of the Gumbel shocks).
    pub temperature: f64,
    /// Target accuracy ε of the returned values in sup norm.
    pub epsilon: f64,
    /// Starting values; zeros when None.
    pub initial: Option<Vec<f64>>,
}

/// The fixed point of the soft Bellman operator and the logit choice rule it implies.
#[derive(Debug, Clone, PartialEq)]
pub struct SoftSolution {
    /// V(s), the expected value before the shocks are seen.
    pub values: Vec<f64>,
    /// Q(s,a) row-major over (s, a); −∞ for infeasible actions.
    pub q_values: Vec<f64>,
    /// π(a|s) = exp((Q(s,a) − V(s))/τ), row-major over (s, a).
    pub choice_probabilities: Vec<f64>,
    /// Sweeps done.
    pub iterations: usize,
    /// Last sup-norm change.
    pub residual: f64,
}

impl SoftValueIteration {
    /// Soft value iteration with ε = 1e-6.
    pub fn new(gamma: f64, temperature: f64) -> Self {
        Self {
            gamma,
            temperature,
            epsilon: 1e-6,
            initial: None,
        }
    }

    /// The same with accuracy `epsilon`.
    pub fn epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Solves `mdp` with default stopping and no observer.
    pub fn solve(&self, mdp: &TabularMdp) -> Result<SoftSolution> {
        self.solve_with(mdp, &Stopping::default(), &mut Silent)
    }

    /// Solves `mdp` under `stopping`, reporting each sweep to `observer`.
    pub fn solve_with(
        &self,
        mdp: &TabularMdp,
        stopping: &Stopping,
        observer: &mut dyn Observer,
    ) -> Result<SoftSolution> {
        check_discount(self.gamma)?;
        check_positive("temperature", self.temperature)?;
        check_positive("epsilon", self.epsilon)?;
        let values = initial_values(mdp, self.initial.as_deref())?;
        let n = values.len();
        let threshold = value_threshold(self.gamma, self.epsilon);
        let mut task = Task {
            mdp,
            gamma: self.gamma,
            temperature: self.temperature,
            threshold,
            values,
            scratch: vec![0.0; n],
        };
        let run = drive(&mut task, stopping, observer)?;
        let a_count = mdp.n_actions();
        let mut q_values = vec![0.0; n * a_count];
        let mut choice_probabilities = vec![0.0; n * a_count];
        for s in 0..n {
            for a in 0..a_count {
                let q = q_value(mdp, self.gamma, &task.values, s, a);
                q_values[s * a_count + a] = q;
            }
            let row = &q_values[s * a_count..(s + 1) * a_count];
            let v = log_sum_exp(row, self.temperature);
            for a in 0..a_count {
                choice_probabilities[s * a_count + a] = ((row[a] - v) / self.temperature).exp();
            }
        }
        Ok(SoftSolution {
            values: task.values,
            q_values,
            choice_probabilities,
            iterations: run.iterations,
            residual: run.residual,
        })
    }
}

/// τ log Σ exp(x/τ), recentred on max x; −∞ entries contribute nothing.
pub fn log_sum_exp(x: &[f64], temperature: f64) -> f64 {
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    let sum: f64 = x.iter().map(|&q| ((q - max) / temperature).exp()).sum();
    max + temperature * sum.ln()
}

struct Task<'a> {
    mdp: &'a TabularMdp,
    gamma: f64,
    temperature: f64,
    threshold: f64,
    values: Vec<f64>,
    scratch: Vec<f64>,
}

impl Iterate for Task<'_> {
    fn name(&self) -> &'static str {
        "soft value iteration"
    }

    fn step(&mut self) -> Result<f64> {
        let (mdp, gamma, temperature, values) =
            (self.mdp, self.gamma, self.temperature, &self.values);
        let change = parallel_update(values, &mut self.scratch, |s| {
            let mut max = f64::NEG_INFINITY;
            let mut sum = 0.0;
            // One pass: rescale the running sum whenever a new maximum appears.
            for a in 0..mdp.n_actions() {
                let q = q_value(mdp, gamma, values, s, a);
                if q == f64::NEG_INFINITY {
                    continue;
                }
                if q > max {
                    sum = sum * ((max - q) / temperature).exp() + 1.0;
                    max = q;
                } else {
                    sum += ((q - max) / temperature).exp();
                }
            }
            max + temperature * sum.ln()
        });
        std::mem::swap(&mut self.values, &mut self.scratch);
        Ok(change.sup_norm())
    }

    fn converged(&self, residual: f64) -> bool {
        residual < self.threshold
    }

    fn tolerance(&self) -> f64 {
        self.threshold
    }
}
