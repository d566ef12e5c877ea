//! IWOCS (incremental worst-case search; Zouitine, Geist, Rachelson 2024) for the *static*
//! robust model: nature fixes one kernel T_ξ of a parametric family for a whole episode.
//!
//! The loop grows a set M of worst-case models: solve Q*_i for each model in M, act greedily
//! in Q̂ = min_i Q*_i, search the family for the ξ that hurts that policy most, and add it to M.
//! b = min_{i∈M} V*_i(ρ₀) bounds the static robust value max_π min_ξ V^π_ξ(ρ₀) from above, so
//! once the policy's worst case reaches b − ε it is ε-optimal among all policies against the
//! family as the search sees it (exactly so on a grid). Q̂'s greedy policy is a heuristic: on a
//! family with a duality gap (max–min < min–max) the loop cannot certify and says so.
//! [`exhaustive_static`] gives both sides of that gap by brute force on small cases.

mod exhaustive;
mod search;

pub use exhaustive::{
    exhaustive_static, improve_static_policy, BruteForcePolicy, ExhaustiveStatic, POLICY_LIMIT,
};
pub use search::{static_worst_case, WorstCaseSearch, GRID_LIMIT};

use choicelab_core::{Error, Result, TabularMdp};

use crate::bellman::q_value;
use crate::solution::{check_discount, check_positive};
use crate::value_iteration::ValueIteration;
use search::{check_initial, initial_value};

/// Builds T_ξ from the parameter ξ.
pub type ModelBuilder<'a> = Box<dyn Fn(&[f64]) -> Result<TabularMdp> + Sync + 'a>;

/// A parametric family of MDPs T_ξ, ξ in a box.
pub struct ParametricFamily<'a> {
    /// The family's name, for reports.
    pub name: String,
    /// One label per parameter, for reports.
    pub labels: Vec<String>,
    /// The box: (lower, upper) per parameter.
    pub bounds: Vec<(f64, f64)>,
    /// Builds T_ξ from ξ.
    pub build: ModelBuilder<'a>,
}

impl<'a> ParametricFamily<'a> {
    /// A family named `name` over the box `bounds`, with labels ξ0, ξ1, ….
    pub fn new<F>(name: impl Into<String>, bounds: Vec<(f64, f64)>, build: F) -> Self
    where
        F: Fn(&[f64]) -> Result<TabularMdp> + Sync + 'a,
    {
        Self {
            name: name.into(),
            labels: (0..bounds.len()).map(|i| format!("ξ{i}")).collect(),
            bounds,
            build: Box::new(build),
        }
    }

    /// The same with parameter labels `labels`.
    pub fn with_labels(mut self, labels: Vec<String>) -> Self {
        self.labels = labels;
        self
    }

    /// Checks the box: at least one parameter, finite bounds with lower ≤ upper, one label each.
    pub fn check(&self) -> Result<()> {
        if self.bounds.is_empty() {
            return Err(Error::parameter(
                "bounds",
                format!("family `{}` has no parameter", self.name),
            ));
        }
        if self.labels.len() != self.bounds.len() {
            return Err(Error::parameter(
                "labels",
                format!(
                    "{} labels for {} parameters",
                    self.labels.len(),
                    self.bounds.len()
                ),
            ));
        }
        for (label, &(low, high)) in self.labels.iter().zip(&self.bounds) {
            if !(low.is_finite() && high.is_finite() && low <= high) {
                return Err(Error::parameter(
                    "bounds",
                    format!("[{low}, {high}] for `{label}` is not a finite interval"),
                ));
            }
        }
        Ok(())
    }

    /// T_ξ, after checking that ξ lies in the box.
    pub fn model(&self, xi: &[f64]) -> Result<TabularMdp> {
        if xi.len() != self.bounds.len() {
            return Err(Error::parameter(
                "parameters",
                format!("{} values for {} parameters", xi.len(), self.bounds.len()),
            ));
        }
        for ((x, &(low, high)), label) in xi.iter().zip(&self.bounds).zip(&self.labels) {
            if !(low..=high).contains(x) {
                return Err(Error::parameter(
                    "parameters",
                    format!("`{label}` = {x} lies outside [{low}, {high}]"),
                ));
            }
        }
        (self.build)(xi)
    }
}

/// IWOCS's settings.
#[derive(Debug, Clone)]
pub struct Iwocs {
    /// Discount γ in [0, 1).
    pub gamma: f64,
    /// The initial distribution ρ₀ the values are averaged over.
    pub initial: Vec<f64>,
    /// The nominal parameter, the first model of M.
    pub nominal: Vec<f64>,
    /// The worst-case search.
    pub search: WorstCaseSearch,
    /// The certificate's slack ε; the models are solved to ε/1000.
    pub tolerance: f64,
    /// Most iterations (worst-case searches).
    pub max_iterations: usize,
}

/// Why IWOCS stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IwocsStop {
    /// The policy's worst case reached the bound less ε: ε-optimal against the searched family.
    Certified,
    /// The worst case found was already in M, so the loop could not move on (a duality gap,
    /// or a search that misses the true worst case).
    Stalled,
    /// The iteration limit ran out first.
    MaxIterations,
}

/// One IWOCS iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct IwocsStep {
    /// The greedy policy π_k in Q̂.
    pub policy: Vec<usize>,
    /// The worst-case parameter ξ_{k+1} found for π_k.
    pub worst_parameters: Vec<f64>,
    /// π_k's worst-case value V^{π_k}_{ξ_{k+1}}(ρ₀).
    pub worst_case: f64,
    /// The bound b_k = min_{i∈M} V*_i(ρ₀), an upper bound on the static robust value.
    pub bound: f64,
}

/// What IWOCS returns.
#[derive(Debug, Clone, PartialEq)]
pub struct IwocsSolution {
    /// The policy with the best worst case over all iterations (ties: the earliest).
    pub policy: Vec<usize>,
    /// Its worst-case value.
    pub worst_case: f64,
    /// The parameter attaining it.
    pub worst_parameters: Vec<f64>,
    /// The last (smallest) bound on the static robust value.
    pub bound: f64,
    /// The parameters of the models in M, in the order they were added.
    pub models: Vec<Vec<f64>>,
    /// Every iteration, in order.
    pub steps: Vec<IwocsStep>,
    /// Why the loop stopped; only [`IwocsStop::Certified`] certifies ε-optimality.
    pub stop: IwocsStop,
}

impl IwocsSolution {
    /// Whether the policy is certified ε-optimal against the searched family.
    pub fn certified(&self) -> bool {
        self.stop == IwocsStop::Certified
    }
}

/// A model of M: its parameter, action count, Q* (row-major over (s, a)) and V*(ρ₀).
struct Solved {
    parameters: Vec<f64>,
    n_actions: usize,
    q: Vec<f64>,
    value: f64,
}

impl Iwocs {
    /// IWOCS from `nominal` with ε = 1e-6 and at most 50 iterations.
    pub fn new(gamma: f64, initial: Vec<f64>, nominal: Vec<f64>, search: WorstCaseSearch) -> Self {
        Self {
            gamma,
            initial,
            nominal,
            search,
            tolerance: 1e-6,
            max_iterations: 50,
        }
    }

    /// Runs the loop on `family`.
    pub fn solve(&self, family: &ParametricFamily<'_>) -> Result<IwocsSolution> {
        check_discount(self.gamma)?;
        check_positive("tolerance", self.tolerance)?;
        if self.max_iterations == 0 {
            return Err(Error::parameter(
                "max_iterations",
                "IWOCS needs at least one iteration",
            ));
        }
        family.check()?;
        let mut models = vec![self.solve_model(family, self.nominal.clone())?];
        let mut steps: Vec<IwocsStep> = Vec::new();
        let mut stop = IwocsStop::MaxIterations;
        for _ in 0..self.max_iterations {
            let policy = envelope_policy(&models)?;
            let (worst_parameters, worst_case) =
                static_worst_case(family, &policy, self.gamma, &self.initial, self.search)?;
            let bound = models.iter().map(|m| m.value).fold(f64::INFINITY, f64::min);
            steps.push(IwocsStep {
                policy,
                worst_parameters: worst_parameters.clone(),
                worst_case,
                bound,
            });
            if worst_case >= bound - self.tolerance {
                stop = IwocsStop::Certified;
                break;
            }
            if models.iter().any(|m| m.parameters == worst_parameters) {
                stop = IwocsStop::Stalled;
                break;
            }
            models.push(self.solve_model(family, worst_parameters)?);
        }
        let mut best = &steps[0];
        for step in &steps[1..] {
            if step.worst_case > best.worst_case {
                best = step;
            }
        }
        Ok(IwocsSolution {
            policy: best.policy.clone(),
            worst_case: best.worst_case,
            worst_parameters: best.worst_parameters.clone(),
            bound: steps[steps.len() - 1].bound,
            models: models.into_iter().map(|m| m.parameters).collect(),
            steps,
            stop,
        })
    }

    /// Solves T_ξ by value iteration to ε/1000 and keeps its Q* and V*(ρ₀).
    fn solve_model(&self, family: &ParametricFamily<'_>, parameters: Vec<f64>) -> Result<Solved> {
        let mdp = family.model(&parameters)?;
        check_initial(&self.initial, mdp.n_states())?;
        let solution = ValueIteration::new(self.gamma)
            .epsilon(self.tolerance * 1e-3)
            .solve(&mdp)?;
        let (n_states, n_actions) = (mdp.n_states(), mdp.n_actions());
        let mut q = Vec::with_capacity(n_states * n_actions);
        for s in 0..n_states {
            for a in 0..n_actions {
                q.push(q_value(&mdp, self.gamma, &solution.values, s, a));
            }
        }
        Ok(Solved {
            parameters,
            n_actions,
            q,
            value: initial_value(&self.initial, &solution.values),
        })
    }
}

/// The greedy policy in Q̂ = min_i Q*_i (ties to the lowest action).
fn envelope_policy(models: &[Solved]) -> Result<Vec<usize>> {
    let n_actions = models[0].n_actions;
    let n_states = models[0].q.len() / n_actions;
    for (i, model) in models.iter().enumerate() {
        if model.n_actions != n_actions || model.q.len() != n_states * n_actions {
            return Err(Error::parameter(
                "family",
                format!(
                    "model {i} (ξ = {:?}) has {} states and {} actions, the nominal {n_states} and {n_actions}",
                    model.parameters,
                    model.q.len() / model.n_actions,
                    model.n_actions
                ),
            ));
        }
    }
    (0..n_states)
        .map(|s| {
            let mut best = (f64::NEG_INFINITY, None);
            for a in 0..n_actions {
                let row = s * n_actions + a;
                let q = models
                    .iter()
                    .map(|m| m.q[row])
                    .fold(f64::INFINITY, f64::min);
                if q > best.0 {
                    best = (q, Some(a));
                }
            }
            best.1.ok_or_else(|| {
                Error::parameter(
                    "family",
                    format!("no action is feasible in state {s} under every model found"),
                )
            })
        })
        .collect()
}
