//! Policy iteration and modified policy iteration.

use choicelab_core::{Result, TabularMdp};

use crate::bellman::{bellman_sweep, greedy_backup, parallel_sweep, policy_sweep, q_value};
use crate::driver::{drive, Iterate, Observer, Silent, Stopping};
use crate::evaluation::{evaluate_into, Evaluation};
use crate::solution::{check_discount, check_positive, initial_values, value_threshold, Solution};

/// Relative margin by which an action must beat the current one to replace it, so that ties
/// and rounding never make policy iteration cycle.
pub const IMPROVEMENT_TOLERANCE: f64 = 1e-10;

/// Howard's policy iteration: exact evaluation, then greedy improvement, until stable.
///
/// The first policy is greedy for the immediate reward. An action replaces the current one only
/// if its Q-value is larger by more than `IMPROVEMENT_TOLERANCE·(1 + |Q|)`; among the best
/// actions the lowest is taken.
#[derive(Debug, Clone)]
pub struct PolicyIteration {
    /// Discount γ in [0, 1).
    pub gamma: f64,
    /// How each policy is evaluated.
    pub evaluation: Evaluation,
}

impl PolicyIteration {
    /// Policy iteration with automatic choice of evaluation.
    pub fn new(gamma: f64) -> Self {
        Self {
            gamma,
            evaluation: Evaluation::Auto,
        }
    }

    /// Solves `mdp` with default stopping and no observer.
    pub fn solve(&self, mdp: &TabularMdp) -> Result<Solution> {
        self.solve_with(mdp, &Stopping::default(), &mut Silent)
    }

    /// Solves `mdp` under `stopping`; the residual of an iteration is ‖TV_π − V_π‖∞.
    pub fn solve_with(
        &self,
        mdp: &TabularMdp,
        stopping: &Stopping,
        observer: &mut dyn Observer,
    ) -> Result<Solution> {
        check_discount(self.gamma)?;
        let n = mdp.n_states();
        let zeros = vec![0.0; n];
        let mut policy = vec![0; n];
        let mut scratch = vec![0.0; n];
        bellman_sweep(mdp, 0.0, &zeros, &mut scratch, &mut policy);
        let mut task = Howard {
            mdp,
            gamma: self.gamma,
            evaluation: self.evaluation,
            values: zeros,
            scratch,
            next_policy: policy.clone(),
            policy,
            changed: usize::MAX,
        };
        let run = drive(&mut task, stopping, observer)?;
        Ok(Solution::from_run(
            task.name(),
            task.values,
            task.policy,
            run,
            None,
        ))
    }
}

struct Howard<'a> {
    mdp: &'a TabularMdp,
    gamma: f64,
    evaluation: Evaluation,
    values: Vec<f64>,
    scratch: Vec<f64>,
    policy: Vec<usize>,
    next_policy: Vec<usize>,
    changed: usize,
}

impl Iterate for Howard<'_> {
    fn name(&self) -> &'static str {
        "policy iteration"
    }

    fn step(&mut self) -> Result<f64> {
        let (mdp, gamma) = (self.mdp, self.gamma);
        evaluate_into(mdp, gamma, &self.policy, self.evaluation, &mut self.values)?;
        let (values, policy) = (&self.values, &self.policy);
        let change = parallel_sweep(values, &mut self.scratch, &mut self.next_policy, |s| {
            let current = q_value(mdp, gamma, values, s, policy[s]);
            let (best, action) = greedy_backup(mdp, gamma, values, s);
            if best > current + IMPROVEMENT_TOLERANCE * (1.0 + current.abs()) {
                (best, action)
            } else {
                (best, policy[s])
            }
        });
        self.changed = self
            .policy
            .iter()
            .zip(&self.next_policy)
            .filter(|(a, b)| a != b)
            .count();
        std::mem::swap(&mut self.policy, &mut self.next_policy);
        Ok(change.sup_norm())
    }

    fn converged(&self, _: f64) -> bool {
        self.changed == 0
    }

    fn tolerance(&self) -> f64 {
        0.0
    }
}

/// Modified policy iteration (Puterman 6.5): a greedy sweep, then `partial_sweeps` sweeps of
/// the greedy policy; stops on the same rule as value iteration, ‖TV − V‖∞ < ε(1−γ)/(2γ).
#[derive(Debug, Clone)]
pub struct ModifiedPolicyIteration {
    /// Discount γ in [0, 1).
    pub gamma: f64,
    /// Target accuracy ε of the returned values in sup norm.
    pub epsilon: f64,
    /// Policy sweeps between two greedy sweeps.
    pub partial_sweeps: usize,
    /// Starting values; zeros when None.
    pub initial: Option<Vec<f64>>,
}

impl ModifiedPolicyIteration {
    /// Modified policy iteration with ε = 1e-6 and 20 partial sweeps.
    pub fn new(gamma: f64) -> Self {
        Self {
            gamma,
            epsilon: 1e-6,
            partial_sweeps: 20,
            initial: None,
        }
    }

    /// The same with accuracy `epsilon`.
    pub fn epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Solves `mdp` with default stopping and no observer.
    pub fn solve(&self, mdp: &TabularMdp) -> Result<Solution> {
        self.solve_with(mdp, &Stopping::default(), &mut Silent)
    }

    /// Solves `mdp` under `stopping`, reporting each greedy sweep's residual.
    pub fn solve_with(
        &self,
        mdp: &TabularMdp,
        stopping: &Stopping,
        observer: &mut dyn Observer,
    ) -> Result<Solution> {
        check_discount(self.gamma)?;
        check_positive("epsilon", self.epsilon)?;
        let values = initial_values(mdp, self.initial.as_deref())?;
        let n = values.len();
        let threshold = value_threshold(self.gamma, self.epsilon);
        let mut task = Modified {
            mdp,
            gamma: self.gamma,
            partial_sweeps: self.partial_sweeps,
            threshold,
            values,
            scratch: vec![0.0; n],
            policy: vec![0; n],
        };
        let run = drive(&mut task, stopping, observer)?;
        Ok(Solution::from_run(
            task.name(),
            task.values,
            task.policy,
            run,
            None,
        ))
    }
}

struct Modified<'a> {
    mdp: &'a TabularMdp,
    gamma: f64,
    partial_sweeps: usize,
    threshold: f64,
    values: Vec<f64>,
    scratch: Vec<f64>,
    policy: Vec<usize>,
}

impl Iterate for Modified<'_> {
    fn name(&self) -> &'static str {
        "modified policy iteration"
    }

    fn step(&mut self) -> Result<f64> {
        let change = bellman_sweep(
            self.mdp,
            self.gamma,
            &self.values,
            &mut self.scratch,
            &mut self.policy,
        );
        std::mem::swap(&mut self.values, &mut self.scratch);
        let residual = change.sup_norm();
        if residual >= self.threshold {
            for _ in 0..self.partial_sweeps {
                policy_sweep(
                    self.mdp,
                    self.gamma,
                    &self.policy,
                    &self.values,
                    &mut self.scratch,
                );
                std::mem::swap(&mut self.values, &mut self.scratch);
            }
        }
        Ok(residual)
    }

    fn converged(&self, residual: f64) -> bool {
        residual < self.threshold
    }

    fn tolerance(&self) -> f64 {
        self.threshold
    }
}
