//! Distributional value and policy iteration on the stock-augmented MDP.
//!
//! The augmented state is (s, c). Acting in s with stock c, reward r and next state s' lead to
//! (s', (c + r)/γ), so that c₀ + G₀ = γᵗ(c_t + G_t). Each augmented state carries the law η(s, c)
//! of the return G still to come, on a grid of atoms; the greedy step picks the action whose law
//! of r + γG(s', c') maximises E f(c + ·) for the objective's utility f. With a finite horizon
//! the laws and decisions are indexed by stage (backward induction, exact); without one (γ < 1)
//! a stationary policy on (s, c) is found by iterating to the fixed point.

use choicelab_core::{Error, Result, TabularMdp};
use rayon::prelude::*;

use super::atoms::{check_coverage, check_horizon, Atoms};
use super::objective::Objective;
use super::outcomes::Outcomes;
use super::stock::StockGrid;
use crate::driver::{drive, Iterate, Observer, Silent, Stopping};

/// Distributional value iteration or policy iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DistributionalMethod {
    /// Repeated greedy distributional backups (backward induction with a horizon).
    ValueIteration,
    /// Full distributional evaluation of the augmented policy, then greedy improvement, until
    /// the policy is stable (infinite horizon only).
    PolicyIteration,
}

/// The stock-augmented distributional planner: its settings.
#[derive(Debug, Clone)]
pub struct StockAugmented {
    /// Discount γ ∈ [0, 1] (γ = 1 needs a horizon).
    pub gamma: f64,
    /// Number of decisions, or None for an infinite horizon.
    pub horizon: Option<usize>,
    /// The atoms carrying return laws; must cover the MDP's return range.
    pub atoms: Atoms,
    /// The stock grid.
    pub stock: StockGrid,
    /// What to maximise.
    pub objective: Objective,
    /// Value or policy iteration.
    pub method: DistributionalMethod,
    /// Stop (infinite horizon) when no law moves by more than this in Wasserstein-1 distance.
    pub tolerance: f64,
}

/// The value an augmented solution attains from one start state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ObjectiveValue {
    /// The objective's value.
    pub value: f64,
    /// The initial stock c₀ that attains it (for CVaR, −b at the best Rockafellar–Uryasev b).
    pub initial_stock: f64,
}

/// Laws and decisions of the stock-augmented MDP.
#[derive(Debug, Clone)]
pub struct AugmentedSolution {
    /// The discount it was solved with.
    pub gamma: f64,
    /// The horizon it was solved with.
    pub horizon: Option<usize>,
    /// The atoms of its laws.
    pub atoms: Atoms,
    /// Its stock grid.
    pub stock: StockGrid,
    /// The objective it maximises.
    pub objective: Objective,
    /// Sweeps (value iteration, stages with a horizon) or improvement steps (policy iteration).
    pub iterations: usize,
    /// The last Wasserstein-1 change (0 with a horizon).
    pub residual: f64,
    /// Greedy backups (state, stock, successor) of the last sweep, or of all stages with a
    /// horizon, whose next stock fell outside the grid and was clipped.
    pub clipped_backups: usize,
    n_states: usize,
    laws: Vec<f64>,
    policy: Vec<u16>,
}

impl StockAugmented {
    /// Value iteration for `objective` with tolerance 1e-10.
    pub fn new(
        gamma: f64,
        horizon: Option<usize>,
        atoms: Atoms,
        stock: StockGrid,
        objective: Objective,
    ) -> Self {
        Self {
            gamma,
            horizon,
            atoms,
            stock,
            objective,
            method: DistributionalMethod::ValueIteration,
            tolerance: 1e-10,
        }
    }

    /// The same with `method`.
    pub fn method(mut self, method: DistributionalMethod) -> Self {
        self.method = method;
        self
    }

    /// Solves the augmented MDP of `mdp`.
    pub fn solve(&self, mdp: &TabularMdp) -> Result<AugmentedSolution> {
        self.solve_with(mdp, &Stopping::default(), &mut Silent)
    }

    /// Solves under `stopping`, reporting each sweep or improvement step to `observer`.
    pub fn solve_with(
        &self,
        mdp: &TabularMdp,
        stopping: &Stopping,
        observer: &mut dyn Observer,
    ) -> Result<AugmentedSolution> {
        self.objective.check()?;
        check_horizon(self.gamma, self.horizon)?;
        check_coverage(&self.atoms, mdp, self.gamma, self.horizon)?;
        if !(self.tolerance > 0.0 && self.tolerance.is_finite()) {
            return Err(Error::parameter(
                "tolerance",
                format!("{} must be positive and finite", self.tolerance),
            ));
        }
        if mdp.n_actions() > u16::MAX as usize {
            return Err(Error::parameter(
                "actions",
                "more than 65,535 actions per state",
            ));
        }
        let outcomes = Outcomes::new(mdp);
        let backup = Backup::new(&outcomes, self);
        let n_states = mdp.n_states();
        let size = n_states * self.stock.len() * self.atoms.len();
        let mut zero = vec![0.0; self.atoms.len()];
        self.atoms.project_into(&mut zero, 0.0, 1.0);
        let start: Vec<f64> = zero.iter().copied().cycle().take(size).collect::<Vec<_>>();
        let table = n_states * self.stock.len();
        let mut solution = AugmentedSolution {
            gamma: self.gamma,
            horizon: self.horizon,
            atoms: self.atoms.clone(),
            stock: self.stock.clone(),
            objective: self.objective,
            iterations: 0,
            residual: 0.0,
            clipped_backups: 0,
            n_states,
            laws: start,
            policy: Vec::new(),
        };
        match (self.horizon, self.method) {
            (Some(horizon), DistributionalMethod::ValueIteration) => {
                let mut policy = vec![0u16; horizon * table];
                let mut next = vec![0.0; size];
                for t in (0..horizon).rev() {
                    let sweep = backup.sweep(
                        &solution.laws,
                        &mut next,
                        &mut policy[t * table..(t + 1) * table],
                        None,
                    );
                    std::mem::swap(&mut solution.laws, &mut next);
                    solution.clipped_backups += sweep.clipped;
                    observer.iteration("distributional backward induction", horizon - t, 0.0);
                }
                solution.policy = policy;
                solution.iterations = horizon;
            }
            (Some(_), DistributionalMethod::PolicyIteration) => {
                return Err(Error::parameter(
                    "method",
                    "policy iteration needs an infinite horizon; backward induction is exact",
                ))
            }
            (None, DistributionalMethod::ValueIteration) => {
                let mut task = ValueTask {
                    backup: &backup,
                    tolerance: self.tolerance,
                    next: vec![0.0; size],
                    laws: std::mem::take(&mut solution.laws),
                    policy: vec![0u16; table],
                    clipped: 0,
                };
                let run = drive(&mut task, stopping, observer)?;
                solution.laws = task.laws;
                solution.policy = task.policy;
                solution.iterations = run.iterations;
                solution.residual = run.residual;
                solution.clipped_backups = task.clipped;
            }
            (None, DistributionalMethod::PolicyIteration) => {
                policy_iteration(&backup, self.tolerance, &mut solution, stopping, observer)?;
            }
        }
        Ok(solution)
    }
}

impl AugmentedSolution {
    fn stages(&self) -> usize {
        self.horizon.unwrap_or(1)
    }

    /// The law of G from state `s` with stock `c` (nearest grid stock) at the first stage.
    pub fn law(&self, s: usize, c: f64) -> &[f64] {
        let (i, _) = self.stock.index(c);
        let m = self.atoms.len();
        &self.laws[(s * self.stock.len() + i) * m..][..m]
    }

    /// The action in state `s` with stock `c` after `t` decisions (the last stage's decision
    /// past the horizon; stationary without one).
    pub fn action(&self, t: usize, s: usize, c: f64) -> usize {
        let stage = t.min(self.stages() - 1);
        let (i, _) = self.stock.index(c);
        let table = self.n_states * self.stock.len();
        usize::from(self.policy[stage * table + s * self.stock.len() + i])
    }

    /// E f(c + G) from state `s` with grid stock index `i`.
    fn expected_utility(&self, s: usize, i: usize) -> f64 {
        let c = self.stock.stock(i);
        let m = self.atoms.len();
        self.laws[(s * self.stock.len() + i) * m..][..m]
            .iter()
            .enumerate()
            .map(|(j, &q)| q * self.objective.utility(c + self.atoms.atom(j)))
            .sum()
    }

    /// The objective's optimal value from state `s`, with the initial stock that attains it:
    /// the best Rockafellar–Uryasev level on the grid for CVaR, else the stock that absorbs
    /// the threshold or target (which must lie on the grid).
    pub fn evaluate(&self, s: usize) -> Result<ObjectiveValue> {
        if s >= self.n_states {
            return Err(Error::parameter(
                "state",
                format!("{s} out of range 0..{}", self.n_states),
            ));
        }
        match self.objective {
            Objective::Cvar { alpha } => {
                let mut best = ObjectiveValue {
                    value: f64::NEG_INFINITY,
                    initial_stock: f64::NAN,
                };
                for i in 0..self.stock.len() {
                    let c0 = self.stock.stock(i);
                    let value = -c0 + self.expected_utility(s, i) / alpha;
                    if value > best.value {
                        best = ObjectiveValue {
                            value,
                            initial_stock: c0,
                        };
                    }
                }
                Ok(best)
            }
            objective => {
                let c0 = objective.initial_stock().unwrap_or(0.0);
                let (i, _) = self.stock.index(c0);
                let off = (self.stock.stock(i) - c0).abs();
                if off > 1e-9 * self.stock.step().max(1.0) && self.stock.len() > 1 {
                    return Err(Error::parameter(
                        "stock grid",
                        format!(
                            "the initial stock {c0} of {} is not on the grid [{}, {}]",
                            objective.name(),
                            self.stock.lo(),
                            self.stock.hi()
                        ),
                    ));
                }
                let utility = self.expected_utility(s, i);
                let value = match objective {
                    Objective::Expectation => utility - self.stock.stock(i),
                    _ => utility,
                };
                Ok(ObjectiveValue {
                    value,
                    initial_stock: c0,
                })
            }
        }
    }
}

/// What one sweep reports.
#[derive(Default)]
struct SweepReport {
    /// Largest Wasserstein-1 change of a law.
    change: f64,
    /// Backups whose next stock was clipped.
    clipped: usize,
    /// Augmented states whose action changed (policy improvement).
    changed_actions: usize,
}

/// The distributional backup of augmented states, with the utility of every (stock, atom).
struct Backup<'a> {
    outcomes: &'a Outcomes,
    atoms: &'a Atoms,
    stock: &'a StockGrid,
    gamma: f64,
    utility: Vec<f64>,
}

impl<'a> Backup<'a> {
    fn new(outcomes: &'a Outcomes, settings: &'a StockAugmented) -> Self {
        let (atoms, stock) = (&settings.atoms, &settings.stock);
        let utility = (0..stock.len())
            .flat_map(|i| {
                (0..atoms.len())
                    .map(move |j| settings.objective.utility(stock.stock(i) + atoms.atom(j)))
            })
            .collect();
        Self {
            outcomes,
            atoms,
            stock,
            gamma: settings.gamma,
            utility,
        }
    }

    /// The law of r + γG(s', c') for action `a` from (s, stock i), into `out`; returns the
    /// number of clipped next stocks.
    fn law_of(&self, laws: &[f64], s: usize, i: usize, a: usize, out: &mut [f64]) -> usize {
        let (m, c_count) = (self.atoms.len(), self.stock.len());
        out.fill(0.0);
        let c = self.stock.stock(i);
        let mut clipped = 0;
        for o in self.outcomes.of(s, a) {
            let j = if self.gamma > 0.0 {
                let (j, off) = self.stock.index((c + o.reward) / self.gamma);
                clipped += usize::from(off && o.probability > 0.0);
                j
            } else {
                i
            };
            let next = &laws[(o.next * c_count + j) * m..][..m];
            self.atoms
                .push_forward(out, next, o.reward, self.gamma, o.probability);
        }
        clipped
    }

    fn score(&self, i: usize, law: &[f64]) -> f64 {
        let m = self.atoms.len();
        law.iter()
            .zip(&self.utility[i * m..(i + 1) * m])
            .map(|(q, u)| q * u)
            .sum()
    }

    /// Backs up every augmented state from `laws` into `next`. With `fixed`, each state takes
    /// its fixed action; else the greedy one (kept when `keep` and within rounding of the best),
    /// written to `policy`.
    fn sweep(
        &self,
        laws: &[f64],
        next: &mut [f64],
        policy: &mut [u16],
        fixed: Option<&[u16]>,
    ) -> SweepReport {
        let (m, c_count) = (self.atoms.len(), self.stock.len());
        let step = self.atoms.step();
        next.par_chunks_mut(c_count * m)
            .zip(policy.par_chunks_mut(c_count))
            .enumerate()
            .map(|(s, (state_laws, actions))| {
                let mut scratch = vec![0.0; m];
                let mut report = SweepReport::default();
                for i in 0..c_count {
                    let out = &mut state_laws[i * m..(i + 1) * m];
                    let previous_action = actions[i];
                    if let Some(fixed) = fixed {
                        let a = usize::from(fixed[s * c_count + i]);
                        report.clipped += self.law_of(laws, s, i, a, out);
                    } else {
                        let mut best = f64::NEG_INFINITY;
                        for a in self.outcomes.feasible(s) {
                            report.clipped += self.law_of(laws, s, i, a, &mut scratch);
                            let value = self.score(i, &scratch);
                            // Near-ties go to the lowest action, so rounding cannot flip them.
                            if best == f64::NEG_INFINITY
                                || value > best + 1e-12 * best.abs().max(1.0)
                            {
                                best = value;
                                out.copy_from_slice(&scratch);
                                actions[i] = a as u16;
                            }
                        }
                        report.changed_actions += usize::from(actions[i] != previous_action);
                    }
                    let old = &laws[(s * c_count + i) * m..][..m];
                    let (mut cdf_gap, mut distance) = (0.0, 0.0);
                    for (new, old) in out.iter().zip(old) {
                        cdf_gap += new - old;
                        distance += f64::abs(cdf_gap);
                    }
                    report.change = report.change.max(distance * step);
                }
                report
            })
            .reduce(SweepReport::default, |a, b| SweepReport {
                change: a.change.max(b.change),
                clipped: a.clipped + b.clipped,
                changed_actions: a.changed_actions + b.changed_actions,
            })
    }
}

struct ValueTask<'a> {
    backup: &'a Backup<'a>,
    tolerance: f64,
    laws: Vec<f64>,
    next: Vec<f64>,
    policy: Vec<u16>,
    clipped: usize,
}

impl Iterate for ValueTask<'_> {
    fn name(&self) -> &'static str {
        "distributional value iteration"
    }

    fn step(&mut self) -> Result<f64> {
        let report = self
            .backup
            .sweep(&self.laws, &mut self.next, &mut self.policy, None);
        std::mem::swap(&mut self.laws, &mut self.next);
        self.clipped = report.clipped;
        Ok(report.change)
    }

    fn converged(&self, residual: f64) -> bool {
        residual < self.tolerance
    }

    fn tolerance(&self) -> f64 {
        self.tolerance
    }
}

/// Policy iteration: evaluate the augmented policy to the tolerance, improve, repeat until no
/// action changes.
fn policy_iteration(
    backup: &Backup,
    tolerance: f64,
    solution: &mut AugmentedSolution,
    stopping: &Stopping,
    observer: &mut dyn Observer,
) -> Result<()> {
    const MAX_EVALUATION_SWEEPS: usize = 10_000_000;
    let mut next = vec![0.0; solution.laws.len()];
    let table = solution.n_states * solution.stock.len();
    let mut policy = vec![0u16; table];
    let mut scratch_policy = vec![0u16; table];
    // The first policy is greedy with respect to the zero-return laws.
    backup.sweep(&solution.laws, &mut next, &mut policy, None);
    for improvement in 1..=stopping.max_iterations {
        let mut evaluated = false;
        for _ in 0..MAX_EVALUATION_SWEEPS {
            let report = backup.sweep(
                &solution.laws,
                &mut next,
                &mut scratch_policy,
                Some(&policy),
            );
            std::mem::swap(&mut solution.laws, &mut next);
            if report.change < tolerance {
                evaluated = true;
                break;
            }
        }
        if !evaluated {
            return Err(Error::NotConverged {
                method: "distributional policy evaluation".into(),
                iterations: MAX_EVALUATION_SWEEPS,
                residual: f64::NAN,
                tolerance,
                reason: "sweep limit".into(),
            });
        }
        scratch_policy.copy_from_slice(&policy);
        let report = backup.sweep(&solution.laws, &mut next, &mut scratch_policy, None);
        solution.clipped_backups = report.clipped;
        observer.iteration(
            "distributional policy iteration",
            improvement,
            report.changed_actions as f64,
        );
        if report.changed_actions == 0 {
            solution.iterations = improvement;
            solution.residual = report.change;
            solution.policy = policy;
            return Ok(());
        }
        std::mem::swap(&mut policy, &mut scratch_policy);
    }
    Err(Error::NotConverged {
        method: "distributional policy iteration".into(),
        iterations: stopping.max_iterations,
        residual: f64::NAN,
        tolerance,
        reason: "improvement limit".into(),
    })
}
