//! RiverSwim with a current: a one-parameter perturbation family of the shared RiverSwim MDP for
//! robust planning (IWOCS).
//!
//! The nominal model is the data folder's `riverswim/riverswim_mdp.csv` (read with
//! [`TabularMdp::from_csv_path`]): 6 states in a row, action 0 swims left (to s − 1, or stays in
//! state 0 and pays 5) and action 1 swims right. Action 1's outcomes in state s are
//! - *forward*: to s + 1; in the last state, staying, which pays 10,000;
//! - *back*: to s − 1; in state 0, staying;
//! - *stay*: to s, in the middle states only.
//!
//! The file's numbers are: state 0, back (stay) 0.7 and forward 0.3; middle states, stay 0.6,
//! forward 0.3 and back 0.1; last state, forward (stay, +10,000) 0.3 and back 0.7.
//!
//! A current ξ moves probability ξ from the forward outcome to the back outcome of action 1 in
//! every state: forward 0.3 − ξ, back 0.7 + ξ (state 0 and the last state) or 0.1 + ξ (middle
//! states), stay unchanged. Each outcome keeps its reward, and every nominal entry is kept (with
//! probability 0 at ξ = 0.3), so every model of the family has the nominal's support. ξ = 0 is
//! the nominal model; ξ must lie in [0, 0.3], the smallest forward probability.

use choicelab_core::{Error, Location, Result, TabularMdp};

/// The uncertainty box of the current ξ: up to 0.25, where swimming right still moves forward
/// with probability 0.05 (the support stays the nominal's). At γ = 0.99 swimming right stays
/// optimal everywhere up to ξ ≈ 0.15 and swimming left becomes optimal in state 0 near 0.175;
/// at 0.25 the nominal policy (always right) is worth about 0.8 from state 0 against 500 for
/// the optimal one (always left in the first four states).
pub const CURRENT_RANGE: (f64, f64) = (0.0, 0.25);

/// The RiverSwim MDP `nominal` under current `current` (see the module doc); rewards per
/// transition are kept. Errors if `nominal` does not have RiverSwim's shape or `current` is
/// outside [0, smallest forward probability].
pub fn perturbed_river_swim(nominal: &TabularMdp, current: f64) -> Result<TabularMdp> {
    let (n, forward) = check_shape(nominal)?;
    if !(0.0..=forward).contains(&current) {
        return Err(Error::parameter(
            "current",
            format!(
                "{current} is outside [0, {forward}]: the current moves probability from the \
                 forward outcome of swimming right, which has probability {forward} at least"
            ),
        ));
    }
    let mut entries = Vec::with_capacity(nominal.nnz());
    for s in 0..n {
        for a in 0..2 {
            let (next, probability) = nominal.transitions(s, a);
            let rewards = nominal.transition_rewards(s, a);
            for (i, (&to, &p)) in next.iter().zip(probability).enumerate() {
                let to = to as usize;
                let shift = if a == 0 {
                    0.0
                } else if to == forward_of(s, n) {
                    -current
                } else if to == back_of(s) {
                    current
                } else {
                    0.0
                };
                let reward = rewards.map_or(nominal.reward(s, a), |r| r[i]);
                entries.push((s, a, to, p + shift, reward));
            }
        }
    }
    TabularMdp::from_entries(n, 2, &entries)
}

/// The forward successor of swimming right from `s` in a river of `n` states.
fn forward_of(s: usize, n: usize) -> usize {
    (s + 1).min(n - 1)
}

/// The back successor of swimming right from `s`.
fn back_of(s: usize) -> usize {
    s.saturating_sub(1)
}

/// Checks that `mdp` is RiverSwim (6 states, 2 actions, left deterministic, right with one entry
/// per outcome, forward and back both present) and returns the number of states and the
/// smallest forward probability.
fn check_shape(mdp: &TabularMdp) -> Result<(usize, f64)> {
    let at = || Location::new("<RiverSwim>");
    let n = mdp.n_states();
    if n != 6 || mdp.n_actions() != 2 {
        return Err(Error::invalid(
            at(),
            format!(
                "not RiverSwim: need 6 states and 2 actions, got {n} states and {} actions",
                mdp.n_actions()
            ),
        ));
    }
    let mut smallest_forward = f64::INFINITY;
    for s in 0..n {
        let (next, probability) = mdp.transitions(s, 0);
        if next != [back_of(s) as u32] || probability != [1.0] {
            return Err(Error::invalid(
                at().field(format!("state {s}, action 0")),
                format!(
                    "not RiverSwim: swimming left must go to state {} with probability 1, got \
                     successors {next:?} with probabilities {probability:?}",
                    back_of(s)
                ),
            ));
        }
        let (next, probability) = mdp.transitions(s, 1);
        let (forward, back) = (forward_of(s, n), back_of(s));
        let allowed = |to: usize| to == forward || to == back || to == s;
        let count = |target: usize| next.iter().filter(|&&to| to as usize == target).count();
        let has_duplicates = next.windows(2).any(|w| w[0] == w[1]);
        if next.iter().any(|&to| !allowed(to as usize))
            || has_duplicates
            || count(forward) != 1
            || count(back) != 1
        {
            return Err(Error::invalid(
                at().field(format!("state {s}, action 1")),
                format!(
                    "not RiverSwim: swimming right must have one forward outcome (state \
                     {forward}), one back outcome (state {back}) and at most a stay, got \
                     successors {next:?}"
                ),
            ));
        }
        let p_forward = next
            .iter()
            .zip(probability)
            .find(|(&to, _)| to as usize == forward)
            .map_or(0.0, |(_, &p)| p);
        smallest_forward = smallest_forward.min(p_forward);
    }
    Ok((n, smallest_forward))
}
