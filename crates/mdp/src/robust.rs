//! (s,a)-rectangular robust planning, the *dynamic* model: nature picks a transition law from a
//! set around the nominal kernel at every state-action pair and every step,
//! V(s) = max_a min_{p ∈ P_sa} [r(s,a) + γ pᵀV].
//!
//! Three sets: an L1 ball and a KL ball around each nominal row (on the nominal support, as in
//! craam2), and a finite set of models whose rows nature may mix freely across (s,a). When the
//! MDP knows rewards per transition, nature's choice of p moves the expected reward too: the
//! balls then minimise pᵀ(r(s,a,·) + γV).

mod ball;

pub use ball::{worst_case_kl, worst_case_l1};

use choicelab_core::{Error, Result, TabularMdp};

use crate::bellman::{parallel_sweep, parallel_update, q_value, Change};
use crate::driver::{drive, Iterate, Observer, Silent, Stopping};
use crate::solution::{
    check_discount, check_policy, check_positive, initial_values, value_threshold, Solution,
};

/// The adversary's set of transition laws at each state-action pair.
#[derive(Debug, Clone)]
pub enum Nature {
    /// {p on the nominal support : ‖p − p̂‖₁ ≤ radius}.
    L1 {
        /// The L1 radius κ ≥ 0 (2 or more allows any law on the support).
        radius: f64,
    },
    /// {p : KL(p‖p̂) ≤ radius}.
    Kl {
        /// The KL radius κ ≥ 0, in nats.
        radius: f64,
    },
    /// At each (s,a), the row (reward and law) of any of these models; the planned MDP only
    /// fixes the shape and feasibility, so list it too if its own rows belong to the set.
    Models(Vec<TabularMdp>),
}

impl Nature {
    /// Checks that the set is well defined around `mdp`: a finite non-negative radius, or
    /// models with `mdp`'s states, actions and feasible actions.
    pub fn check(&self, mdp: &TabularMdp) -> Result<()> {
        match self {
            Nature::L1 { radius } | Nature::Kl { radius } => ball::check_radius(*radius),
            Nature::Models(models) => {
                if models.is_empty() {
                    return Err(Error::parameter("models", "the set of models is empty"));
                }
                for (i, model) in models.iter().enumerate() {
                    check_same_shape(mdp, model, i)?;
                }
                Ok(())
            }
        }
    }

    /// The robust Q-value min_{p ∈ P_sa} [r(s,a) + γ pᵀv] of a feasible pair (unchecked: call
    /// [`Nature::check`] first).
    fn q(&self, mdp: &TabularMdp, gamma: f64, v: &[f64], s: usize, a: usize) -> f64 {
        match self {
            Nature::L1 { radius } => ball_q(mdp, gamma, v, s, a, |p, value| {
                ball::l1_row(p, value, *radius)
            }),
            Nature::Kl { radius } => ball_q(mdp, gamma, v, s, a, |p, value| {
                ball::kl_row(p, value, *radius)
            }),
            Nature::Models(models) => models
                .iter()
                .map(|model| q_value(model, gamma, v, s, a))
                .fold(f64::INFINITY, f64::min),
        }
    }

    /// The robust Q-value of (s, a); −∞ for an infeasible action (unchecked).
    fn robust_q_value(&self, mdp: &TabularMdp, gamma: f64, v: &[f64], s: usize, a: usize) -> f64 {
        if mdp.is_feasible(s, a) {
            self.q(mdp, gamma, v, s, a)
        } else {
            f64::NEG_INFINITY
        }
    }

    /// max_a of the robust Q-values of `s` and the lowest action attaining it (unchecked).
    fn greedy(&self, mdp: &TabularMdp, gamma: f64, v: &[f64], s: usize) -> (f64, usize) {
        let mut best = (f64::NEG_INFINITY, 0);
        for a in 0..mdp.n_actions() {
            let q = self.robust_q_value(mdp, gamma, v, s, a);
            if q > best.0 {
                best = (q, a);
            }
        }
        best
    }
}

/// The worst case of a ball nature at (s, a): r + γ·worst(v) with expected rewards, or
/// worst(r(s,a,·) + γv) with rewards per transition.
fn ball_q<W>(mdp: &TabularMdp, gamma: f64, v: &[f64], s: usize, a: usize, worst: W) -> f64
where
    W: Fn(&[f64], &dyn Fn(usize) -> f64) -> f64,
{
    let (next, prob) = mdp.transitions(s, a);
    match mdp.transition_rewards(s, a) {
        Some(rewards) => worst(prob, &|k| rewards[k] + gamma * v[next[k] as usize]),
        None => mdp.reward(s, a) + gamma * worst(prob, &|k| v[next[k] as usize]),
    }
}

fn check_same_shape(mdp: &TabularMdp, model: &TabularMdp, i: usize) -> Result<()> {
    if model.n_states() != mdp.n_states() || model.n_actions() != mdp.n_actions() {
        return Err(Error::parameter(
            "models",
            format!(
                "model {i} has {} states and {} actions, the MDP {} and {}",
                model.n_states(),
                model.n_actions(),
                mdp.n_states(),
                mdp.n_actions()
            ),
        ));
    }
    for s in 0..mdp.n_states() {
        for a in 0..mdp.n_actions() {
            if model.is_feasible(s, a) != mdp.is_feasible(s, a) {
                return Err(Error::parameter(
                    "models",
                    format!(
                        "model {i} disagrees with the MDP on whether action {a} is feasible in state {s}"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// One robust Bellman sweep `v_out = T_robust v`, `policy` greedy (ties to the lowest action);
/// parallel, the same bits at any thread count.
pub fn robust_sweep(
    mdp: &TabularMdp,
    gamma: f64,
    nature: &Nature,
    v: &[f64],
    v_out: &mut [f64],
    policy: &mut [usize],
) -> Result<Change> {
    nature.check(mdp)?;
    let n = mdp.n_states();
    if v.len() != n || v_out.len() != n || policy.len() != n {
        return Err(Error::parameter(
            "values",
            format!(
                "need {n} entries in v, v_out and policy, got {}, {} and {}",
                v.len(),
                v_out.len(),
                policy.len()
            ),
        ));
    }
    Ok(parallel_sweep(v, v_out, policy, |s| {
        nature.greedy(mdp, gamma, v, s)
    }))
}

/// Robust value iteration for the dynamic (s,a)-rectangular model, with the stopping rule of
/// [`crate::ValueIteration`]: values within ε/2 of the robust fixed point (the robust Bellman
/// operator is a γ-contraction too).
#[derive(Debug, Clone)]
pub struct RobustValueIteration {
    /// Discount γ in [0, 1).
    pub gamma: f64,
    /// Target accuracy ε of the returned values in sup norm.
    pub epsilon: f64,
    /// The adversary's set.
    pub nature: Nature,
}

impl RobustValueIteration {
    /// Robust value iteration against `nature` with discount `gamma` and ε = 1e-6.
    pub fn new(gamma: f64, nature: Nature) -> Self {
        Self {
            gamma,
            epsilon: 1e-6,
            nature,
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

    /// Solves `mdp` under `stopping`, reporting each sweep to `observer`.
    pub fn solve_with(
        &self,
        mdp: &TabularMdp,
        stopping: &Stopping,
        observer: &mut dyn Observer,
    ) -> Result<Solution> {
        check_discount(self.gamma)?;
        check_positive("epsilon", self.epsilon)?;
        self.nature.check(mdp)?;
        let values = initial_values(mdp, None)?;
        let mut task = Task {
            mdp,
            gamma: self.gamma,
            nature: &self.nature,
            policy: None,
            threshold: value_threshold(self.gamma, self.epsilon),
            scratch: vec![0.0; values.len()],
            actions: vec![0; values.len()],
            values,
        };
        let run = drive(&mut task, stopping, observer)?;
        Ok(Solution::from_run(
            task.name(),
            task.values,
            task.actions,
            run,
            None,
        ))
    }
}

/// The robust value of a fixed stationary `policy`: the fixed point of
/// V(s) = min_{p ∈ P_{s,π(s)}} [r(s,π(s)) + γ pᵀV], within `tolerance` in sup norm.
pub fn evaluate_robust_policy(
    mdp: &TabularMdp,
    gamma: f64,
    policy: &[usize],
    nature: &Nature,
    tolerance: f64,
) -> Result<Vec<f64>> {
    check_discount(gamma)?;
    check_positive("tolerance", tolerance)?;
    check_policy(mdp, policy)?;
    nature.check(mdp)?;
    let values = initial_values(mdp, None)?;
    let mut task = Task {
        mdp,
        gamma,
        nature,
        policy: Some(policy),
        threshold: value_threshold(gamma, tolerance),
        scratch: vec![0.0; values.len()],
        actions: vec![0; values.len()],
        values,
    };
    drive(&mut task, &Stopping::default(), &mut Silent)?;
    Ok(task.values)
}

/// Robust value iteration's state: with a policy, robust policy evaluation.
struct Task<'a> {
    mdp: &'a TabularMdp,
    gamma: f64,
    nature: &'a Nature,
    policy: Option<&'a [usize]>,
    threshold: f64,
    values: Vec<f64>,
    scratch: Vec<f64>,
    actions: Vec<usize>,
}

impl Iterate for Task<'_> {
    fn name(&self) -> &'static str {
        match self.policy {
            None => "robust value iteration",
            Some(_) => "robust policy evaluation",
        }
    }

    fn step(&mut self) -> Result<f64> {
        let (mdp, gamma, nature, v) = (self.mdp, self.gamma, self.nature, &self.values);
        let change = match self.policy {
            None => parallel_sweep(v, &mut self.scratch, &mut self.actions, |s| {
                nature.greedy(mdp, gamma, v, s)
            }),
            Some(policy) => parallel_update(v, &mut self.scratch, |s| {
                nature.q(mdp, gamma, v, s, policy[s])
            }),
        };
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
