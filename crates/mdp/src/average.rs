//! Relative value iteration for the average-reward criterion.

use choicelab_core::{Error, Result, TabularMdp};

use crate::bellman::bellman_sweep;
use crate::driver::{drive, Iterate, Observer, Silent, Stopping};
use crate::solution::{check_positive, Solution};

/// Relative value iteration (undiscounted): h ← T h − (T h)(reference), stopping when
/// span(T h − h) < ε. The gain (average reward per step) lies between min and max of T h − h;
/// the midpoint is returned, so it is within ε/2. Converges for unichain aperiodic MDPs; on
/// periodic ones it reports non-convergence.
#[derive(Debug, Clone)]
pub struct RelativeValueIteration {
    /// Target span of T h − h.
    pub epsilon: f64,
    /// The state whose relative value is pinned to 0.
    pub reference_state: usize,
}

impl RelativeValueIteration {
    /// Relative value iteration with ε = 1e-6 and reference state 0.
    pub fn new() -> Self {
        Self {
            epsilon: 1e-6,
            reference_state: 0,
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

    /// Solves `mdp` under `stopping`; the residual of a sweep is span(T h − h).
    pub fn solve_with(
        &self,
        mdp: &TabularMdp,
        stopping: &Stopping,
        observer: &mut dyn Observer,
    ) -> Result<Solution> {
        check_positive("epsilon", self.epsilon)?;
        if self.reference_state >= mdp.n_states() {
            return Err(Error::parameter(
                "reference_state",
                format!("{} is not a state", self.reference_state),
            ));
        }
        let n = mdp.n_states();
        let mut task = Task {
            mdp,
            epsilon: self.epsilon,
            reference: self.reference_state,
            values: vec![0.0; n],
            scratch: vec![0.0; n],
            policy: vec![0; n],
            gain: 0.0,
        };
        let run = drive(&mut task, stopping, observer)?;
        let gain = Some(task.gain);
        Ok(Solution::from_run(
            task.name(),
            task.values,
            task.policy,
            run,
            gain,
        ))
    }
}

impl Default for RelativeValueIteration {
    fn default() -> Self {
        Self::new()
    }
}

struct Task<'a> {
    mdp: &'a TabularMdp,
    epsilon: f64,
    reference: usize,
    values: Vec<f64>,
    scratch: Vec<f64>,
    policy: Vec<usize>,
    gain: f64,
}

impl Iterate for Task<'_> {
    fn name(&self) -> &'static str {
        "relative value iteration"
    }

    fn step(&mut self) -> Result<f64> {
        let change = bellman_sweep(
            self.mdp,
            1.0,
            &self.values,
            &mut self.scratch,
            &mut self.policy,
        );
        self.gain = (change.max + change.min) / 2.0;
        let pin = self.scratch[self.reference];
        for (h, &t) in self.values.iter_mut().zip(&self.scratch) {
            *h = t - pin;
        }
        Ok(change.span())
    }

    fn converged(&self, residual: f64) -> bool {
        residual < self.epsilon
    }

    fn tolerance(&self) -> f64 {
        self.epsilon
    }
}
