//! Bellman backups and parallel sweeps over states.
//!
//! Each state's backup reads only the previous value vector, so a sweep gives the same bits on
//! any number of threads; the reductions (max, min) are exact.

use choicelab_core::TabularMdp;
use rayon::prelude::*;

/// States handed to one rayon task.
const CHUNK: usize = 2048;

/// r(s,a) + γ Σ P(s'|s,a) v(s'); −∞ for an infeasible action.
#[inline]
pub fn q_value(mdp: &TabularMdp, gamma: f64, v: &[f64], s: usize, a: usize) -> f64 {
    let r = mdp.reward(s, a);
    if r == f64::NEG_INFINITY {
        return r;
    }
    let (next, prob) = mdp.transitions(s, a);
    let mut expected = 0.0;
    for (&n, &p) in next.iter().zip(prob) {
        expected += p * v[n as usize];
    }
    r + gamma * expected
}

/// The greedy backup of state `s`: max_a Q(s,a) and the lowest action attaining it.
#[inline]
pub fn greedy_backup(mdp: &TabularMdp, gamma: f64, v: &[f64], s: usize) -> (f64, usize) {
    let mut best = (f64::NEG_INFINITY, 0);
    for a in 0..mdp.n_actions() {
        let q = q_value(mdp, gamma, v, s, a);
        if q > best.0 {
            best = (q, a);
        }
    }
    best
}

/// Range of the change `new − old` made by a sweep.
#[derive(Debug, Clone, Copy)]
pub struct Change {
    /// Largest entry of new − old.
    pub max: f64,
    /// Smallest entry of new − old.
    pub min: f64,
}

impl Change {
    const EMPTY: Change = Change {
        max: f64::NEG_INFINITY,
        min: f64::INFINITY,
    };

    /// ‖new − old‖∞.
    pub fn sup_norm(&self) -> f64 {
        self.max.abs().max(self.min.abs())
    }

    /// span(new − old) = max − min.
    pub fn span(&self) -> f64 {
        self.max - self.min
    }

    fn merge(self, other: Change) -> Change {
        Change {
            max: self.max.max(other.max),
            min: self.min.min(other.min),
        }
    }

    fn add(&mut self, delta: f64) {
        self.max = self.max.max(delta);
        self.min = self.min.min(delta);
    }
}

/// Writes `update(s)` into `v_out[s]` for every state, in parallel, and returns the range of
/// `v_out − v_old`. `update` also yields an action, stored in `policy`.
pub fn parallel_sweep<F>(
    v_old: &[f64],
    v_out: &mut [f64],
    policy: &mut [usize],
    update: F,
) -> Change
where
    F: Fn(usize) -> (f64, usize) + Sync,
{
    v_out
        .par_chunks_mut(CHUNK)
        .zip(policy.par_chunks_mut(CHUNK))
        .enumerate()
        .map(|(chunk, (values, actions))| {
            let base = chunk * CHUNK;
            let mut change = Change::EMPTY;
            for (i, (value, action)) in values.iter_mut().zip(actions.iter_mut()).enumerate() {
                let s = base + i;
                let (new, a) = update(s);
                change.add(new - v_old[s]);
                *value = new;
                *action = a;
            }
            change
        })
        .reduce(|| Change::EMPTY, Change::merge)
}

/// One Jacobi Bellman sweep: `v_out = T v`, `policy` greedy with respect to `v`.
pub fn bellman_sweep(
    mdp: &TabularMdp,
    gamma: f64,
    v: &[f64],
    v_out: &mut [f64],
    policy: &mut [usize],
) -> Change {
    parallel_sweep(v, v_out, policy, |s| greedy_backup(mdp, gamma, v, s))
}

/// Writes `update(s)` into `v_out[s]` for every state, in parallel, and returns the range of
/// `v_out − v_old`.
pub fn parallel_update<F>(v_old: &[f64], v_out: &mut [f64], update: F) -> Change
where
    F: Fn(usize) -> f64 + Sync,
{
    v_out
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map(|(chunk, values)| {
            let base = chunk * CHUNK;
            let mut change = Change::EMPTY;
            for (i, value) in values.iter_mut().enumerate() {
                let new = update(base + i);
                change.add(new - v_old[base + i]);
                *value = new;
            }
            change
        })
        .reduce(|| Change::EMPTY, Change::merge)
}

/// One sweep of a fixed policy: `v_out = T_π v`.
pub fn policy_sweep(
    mdp: &TabularMdp,
    gamma: f64,
    policy: &[usize],
    v: &[f64],
    v_out: &mut [f64],
) -> Change {
    parallel_update(v, v_out, |s| q_value(mdp, gamma, v, s, policy[s]))
}

/// One in-place Gauss–Seidel sweep (sequential by nature): each state's backup sees the values
/// already updated in this sweep. Returns the range of the change.
pub fn gauss_seidel_sweep(
    mdp: &TabularMdp,
    gamma: f64,
    v: &mut [f64],
    policy: &mut [usize],
) -> Change {
    let mut change = Change::EMPTY;
    for s in 0..mdp.n_states() {
        let (new, a) = greedy_backup(mdp, gamma, v, s);
        change.add(new - v[s]);
        v[s] = new;
        policy[s] = a;
    }
    change
}
