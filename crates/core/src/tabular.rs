//! `TabularMdp`: a finite MDP with sparse transitions, and the checks every constructor runs.

use crate::error::{Error, Location, Result};

/// Absolute tolerance on |Σ_s' P(s'|s,a) − 1| accepted by every constructor.
pub const PROBABILITY_SUM_TOLERANCE: f64 = 1e-6;

/// A finite Markov decision process with `S` states and `A` actions.
///
/// Transitions are stored sparse, in compressed rows over state-action pairs (row `s·A + a`).
/// Rewards are expected one-step rewards r(s,a); an infeasible action has reward −∞ and no
/// transitions, as QuantEcon's `DiscreteDP` allows. Every constructor checks that each feasible
/// row is a probability distribution and that each state has a feasible action.
#[derive(Debug, Clone, PartialEq)]
pub struct TabularMdp {
    n_states: usize,
    n_actions: usize,
    row_start: Vec<usize>,
    next_state: Vec<u32>,
    probability: Vec<f64>,
    reward: Vec<f64>,
    /// Reward of each stored transition r(s,a,s'), aligned with `next_state`; None when only
    /// the expected rewards r(s,a) are known.
    transition_reward: Option<Vec<f64>>,
}

/// Transitions as parsed from some source, one entry per (s, a, s') triple, before checking.
///
/// Entries may come in any order; duplicates of the same triple are kept as separate entries
/// (their probabilities add up).
#[derive(Debug, Default)]
pub(crate) struct RawTransitions {
    pub states: Vec<u32>,
    pub actions: Vec<u32>,
    pub next_states: Vec<u32>,
    pub probabilities: Vec<f64>,
    /// Reward r(s,a,s') of each entry, when rewards come per transition (else zeros).
    pub rewards: Vec<f64>,
}

impl RawTransitions {
    pub fn push(&mut self, s: u32, a: u32, next: u32, p: f64, reward: f64) {
        self.states.push(s);
        self.actions.push(a);
        self.next_states.push(next);
        self.probabilities.push(p);
        self.rewards.push(reward);
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }
}

/// How a constructor names the origin of entry `i` and of row (s, a) in its errors.
pub(crate) trait Locate {
    /// The location of raw entry `i`.
    fn entry(&self, i: usize) -> Location;
    /// The location of the source as a whole.
    fn whole(&self) -> Location;
}

impl TabularMdp {
    /// Number of states S.
    pub fn n_states(&self) -> usize {
        self.n_states
    }

    /// Number of actions A.
    pub fn n_actions(&self) -> usize {
        self.n_actions
    }

    /// Number of stored transition entries.
    pub fn nnz(&self) -> usize {
        self.next_state.len()
    }

    /// Expected reward r(s, a); −∞ for an infeasible action.
    pub fn reward(&self, s: usize, a: usize) -> f64 {
        self.reward[s * self.n_actions + a]
    }

    /// All expected rewards, row-major over (s, a).
    pub fn rewards(&self) -> &[f64] {
        &self.reward
    }

    /// Whether action `a` may be taken in state `s`.
    pub fn is_feasible(&self, s: usize, a: usize) -> bool {
        self.reward(s, a) != f64::NEG_INFINITY
    }

    /// Successor states and their probabilities for (s, a).
    #[inline]
    pub fn transitions(&self, s: usize, a: usize) -> (&[u32], &[f64]) {
        let row = s * self.n_actions + a;
        let range = self.row_start[row]..self.row_start[row + 1];
        (&self.next_state[range.clone()], &self.probability[range])
    }

    /// Rewards r(s,a,s') of the successors of (s, a), aligned with [`TabularMdp::transitions`];
    /// None when the MDP knows only expected rewards (every successor then pays r(s,a)).
    #[inline]
    pub fn transition_rewards(&self, s: usize, a: usize) -> Option<&[f64]> {
        let row = s * self.n_actions + a;
        self.transition_reward
            .as_deref()
            .map(|r| &r[self.row_start[row]..self.row_start[row + 1]])
    }

    /// Whether rewards are known per transition (read from a long-format CSV or built by
    /// [`TabularMdp::from_entries`]).
    pub fn has_transition_rewards(&self) -> bool {
        self.transition_reward.is_some()
    }

    /// Builds an MDP from (state, action, next state, probability, reward r(s,a,s')) entries, in
    /// any order; a state-action pair without entries is infeasible, and r(s,a) is the
    /// probability-weighted reward. Rewards stay known per transition. Entries repeating a
    /// triple are kept apart (their probabilities add up), so one move may pay different rewards.
    pub fn from_entries(
        n_states: usize,
        n_actions: usize,
        entries: &[(usize, usize, usize, f64, f64)],
    ) -> Result<Self> {
        let source = Location::new("<entries>");
        if n_states == 0 || n_actions == 0 || n_states >= u32::MAX as usize {
            return Err(Error::invalid(
                source,
                "need 1 ≤ states < 2^32 − 1 and at least one action",
            ));
        }
        let mut raw = RawTransitions::default();
        for (i, &(s, a, next, p, r)) in entries.iter().enumerate() {
            let id = |v: usize, field: &str, bound: usize| -> Result<u32> {
                if v < bound {
                    Ok(v as u32)
                } else {
                    Err(Error::invalid(
                        Location::new("<entries>").field(format!("entries[{i}].{field}")),
                        format!("{v} out of range 0..{bound}"),
                    ))
                }
            };
            raw.push(
                id(s, "state", n_states)?,
                id(a, "action", n_actions)?,
                id(next, "next", n_states)?,
                p,
                r,
            );
        }
        struct Entries;
        impl Locate for Entries {
            fn entry(&self, i: usize) -> Location {
                Location::new("<entries>").field(format!("entries[{i}]"))
            }
            fn whole(&self) -> Location {
                Location::new("<entries>")
            }
        }
        Self::assemble(n_states, n_actions, raw, None, &Entries)
    }

    /// Raw CSR arrays: row starts (length S·A+1), successor states and probabilities.
    pub fn csr(&self) -> (&[usize], &[u32], &[f64]) {
        (&self.row_start, &self.next_state, &self.probability)
    }

    /// Builds an MDP from dense arrays: `transitions[(s·A + a)·S + s']` = P(s'|s,a) and
    /// `rewards[s·A + a]` = r(s,a), with r = −∞ marking an infeasible action (its
    /// probabilities are then ignored). Zero probabilities are not stored.
    pub fn from_dense(
        n_states: usize,
        n_actions: usize,
        transitions: &[f64],
        rewards: &[f64],
    ) -> Result<Self> {
        let source = Location::new("<dense arrays>");
        let rows = n_states
            .checked_mul(n_actions)
            .ok_or_else(|| Error::invalid(source.clone(), "S·A overflows"))?;
        if n_states == 0 || n_actions == 0 {
            return Err(Error::invalid(
                source,
                "an MDP needs at least one state and one action",
            ));
        }
        if n_states > u32::MAX as usize {
            return Err(Error::invalid(source, "more than 2^32 − 1 states"));
        }
        if transitions.len() != rows * n_states {
            return Err(Error::invalid(
                source.field("transitions"),
                format!(
                    "length {} but S·A·S = {}",
                    transitions.len(),
                    rows * n_states
                ),
            ));
        }
        if rewards.len() != rows {
            return Err(Error::invalid(
                source.field("rewards"),
                format!("length {} but S·A = {}", rewards.len(), rows),
            ));
        }
        let mut raw = RawTransitions::default();
        let mut raw_rewards = Vec::with_capacity(rows);
        for (row, &r) in rewards.iter().enumerate() {
            raw_rewards.push(r);
            if r == f64::NEG_INFINITY {
                continue;
            }
            let (s, a) = (row / n_actions, row % n_actions);
            for (next, &p) in transitions[row * n_states..(row + 1) * n_states]
                .iter()
                .enumerate()
            {
                if p != 0.0 {
                    raw.push(s as u32, a as u32, next as u32, p, 0.0);
                }
            }
        }
        struct Dense;
        impl Locate for Dense {
            fn entry(&self, _: usize) -> Location {
                Location::new("<dense arrays>").field("transitions")
            }
            fn whole(&self) -> Location {
                Location::new("<dense arrays>")
            }
        }
        Self::assemble(n_states, n_actions, raw, Some(raw_rewards), &Dense)
    }

    /// Builds and checks an MDP from raw entries. With `rewards` = None, r(s,a) is the
    /// probability-weighted sum of the entries' rewards, which are kept per transition, and a
    /// pair without entries is infeasible; with `rewards` given, a −∞ reward marks an
    /// infeasible pair, which must have no entries.
    pub(crate) fn assemble(
        n_states: usize,
        n_actions: usize,
        raw: RawTransitions,
        rewards: Option<Vec<f64>>,
        locate: &dyn Locate,
    ) -> Result<Self> {
        let rows = n_states * n_actions;
        for i in 0..raw.len() {
            let p = raw.probabilities[i];
            if !(0.0..=1.0 + PROBABILITY_SUM_TOLERANCE).contains(&p) {
                return Err(Error::invalid(
                    locate.entry(i),
                    format!("probability {p} is not in [0, 1]"),
                ));
            }
            if (raw.states[i] as usize) >= n_states {
                return Err(Error::invalid(
                    locate.entry(i),
                    format!("state {} out of range 0..{n_states}", raw.states[i]),
                ));
            }
            if (raw.next_states[i] as usize) >= n_states {
                return Err(Error::invalid(
                    locate.entry(i),
                    format!(
                        "next state {} out of range 0..{n_states}",
                        raw.next_states[i]
                    ),
                ));
            }
            if (raw.actions[i] as usize) >= n_actions {
                return Err(Error::invalid(
                    locate.entry(i),
                    format!("action {} out of range 0..{n_actions}", raw.actions[i]),
                ));
            }
            if !raw.rewards[i].is_finite() {
                return Err(Error::invalid(
                    locate.entry(i),
                    format!("reward {} is not finite", raw.rewards[i]),
                ));
            }
        }
        let RawTransitions {
            states,
            actions,
            next_states,
            probabilities,
            rewards: entry_rewards,
        } = raw;
        let row_of = |i: usize| states[i] as usize * n_actions + actions[i] as usize;
        let mut counts = vec![0usize; rows + 1];
        let mut sorted = true;
        for i in 0..states.len() {
            counts[row_of(i) + 1] += 1;
            if i > 0 && row_of(i) < row_of(i - 1) {
                sorted = false;
            }
        }
        for row in 0..rows {
            counts[row + 1] += counts[row];
        }
        let row_start = counts;
        // Each entry's position in the CSR arrays, and the entry at the first position of each row.
        let (mut next_state, mut probability, mut terms, first_entry) = if sorted {
            let first: Vec<usize> = row_start[..rows].to_vec();
            (next_states, probabilities, entry_rewards, first)
        } else {
            let mut fill = row_start.clone();
            let n = states.len();
            let mut next_sorted = vec![0u32; n];
            let mut prob_sorted = vec![0f64; n];
            let mut term_sorted = vec![0f64; n];
            let mut first = vec![usize::MAX; rows];
            for i in 0..n {
                let row = row_of(i);
                let pos = fill[row];
                fill[row] += 1;
                next_sorted[pos] = next_states[i];
                prob_sorted[pos] = probabilities[i];
                term_sorted[pos] = entry_rewards[i];
                if first[row] == usize::MAX {
                    first[row] = i;
                }
            }
            (next_sorted, prob_sorted, term_sorted, first)
        };
        drop(states);
        drop(actions);
        // Canonical order within each row (by next state), so that sums, and thus results,
        // do not depend on the order of the input's rows.
        for row in 0..rows {
            let range = row_start[row]..row_start[row + 1];
            if !next_state[range.clone()].is_sorted() {
                let mut entries: Vec<(u32, f64, f64)> = range
                    .clone()
                    .map(|i| (next_state[i], probability[i], terms[i]))
                    .collect();
                entries.sort_by_key(|e| e.0);
                for (i, (next, p, term)) in range.zip(entries) {
                    (next_state[i], probability[i], terms[i]) = (next, p, term);
                }
            }
        }
        let (reward, transition_reward) = match rewards {
            Some(given) => {
                for (row, &r) in given.iter().enumerate() {
                    let (s, a) = (row / n_actions, row % n_actions);
                    let empty = row_start[row] == row_start[row + 1];
                    if r.is_nan() || r == f64::INFINITY {
                        return Err(Error::invalid(
                            locate.whole().field("reward"),
                            format!("reward of state {s}, action {a} is {r}"),
                        ));
                    }
                    if r == f64::NEG_INFINITY && !empty {
                        return Err(Error::invalid(
                            locate.entry(first_entry[row]),
                            format!("state {s}, action {a} is infeasible (reward −∞) but has transitions"),
                        ));
                    }
                    if r != f64::NEG_INFINITY && empty {
                        return Err(Error::invalid(
                            locate.whole().field("transitions"),
                            format!("state {s}, action {a} has a reward but no transitions"),
                        ));
                    }
                }
                (given, None)
            }
            None => {
                let expected = (0..rows)
                    .map(|row| {
                        let range = row_start[row]..row_start[row + 1];
                        if range.is_empty() {
                            f64::NEG_INFINITY
                        } else {
                            range.map(|i| probability[i] * terms[i]).sum()
                        }
                    })
                    .collect();
                (expected, Some(terms))
            }
        };
        for row in 0..rows {
            let range = row_start[row]..row_start[row + 1];
            if range.is_empty() {
                continue;
            }
            let sum: f64 = probability[range].iter().sum();
            if (sum - 1.0).abs() > PROBABILITY_SUM_TOLERANCE {
                let (s, a) = (row / n_actions, row % n_actions);
                return Err(Error::invalid(
                    locate.entry(first_entry[row]).field("probability"),
                    format!("probabilities of state {s}, action {a} sum to {sum}, not 1"),
                ));
            }
        }
        for s in 0..n_states {
            if reward[s * n_actions..(s + 1) * n_actions]
                .iter()
                .all(|&r| r == f64::NEG_INFINITY)
            {
                return Err(Error::invalid(
                    locate.whole(),
                    format!("state {s} has no feasible action"),
                ));
            }
        }
        Ok(TabularMdp {
            n_states,
            n_actions,
            row_start,
            next_state,
            probability,
            reward,
            transition_reward,
        })
    }

    /// Builds an MDP from CSR parts that the caller guarantees valid (used by generators).
    pub(crate) fn from_checked_parts(
        n_states: usize,
        n_actions: usize,
        row_start: Vec<usize>,
        next_state: Vec<u32>,
        probability: Vec<f64>,
        reward: Vec<f64>,
    ) -> Self {
        debug_assert_eq!(row_start.len(), n_states * n_actions + 1);
        debug_assert_eq!(reward.len(), n_states * n_actions);
        TabularMdp {
            n_states,
            n_actions,
            row_start,
            next_state,
            probability,
            reward,
            transition_reward: None,
        }
    }

    /// The same MDP with states renamed: old state `s` becomes `permutation[s]`.
    pub fn relabel_states(&self, permutation: &[usize]) -> Result<Self> {
        let s_count = self.n_states;
        let mut seen = vec![false; s_count];
        if permutation.len() != s_count
            || permutation
                .iter()
                .any(|&p| p >= s_count || std::mem::replace(&mut seen[p], true))
        {
            return Err(Error::parameter(
                "permutation",
                format!("not a permutation of 0..{s_count}"),
            ));
        }
        let mut inverse = vec![0usize; s_count];
        for (old, &new) in permutation.iter().enumerate() {
            inverse[new] = old;
        }
        let a_count = self.n_actions;
        let mut row_start = Vec::with_capacity(s_count * a_count + 1);
        row_start.push(0);
        let mut next_state = Vec::with_capacity(self.nnz());
        let mut probability = Vec::with_capacity(self.nnz());
        let mut reward = Vec::with_capacity(s_count * a_count);
        let mut transition_reward = self
            .transition_reward
            .as_ref()
            .map(|r| Vec::with_capacity(r.len()));
        for &old in &inverse {
            for a in 0..a_count {
                let (next, prob) = self.transitions(old, a);
                next_state.extend(next.iter().map(|&n| permutation[n as usize] as u32));
                probability.extend_from_slice(prob);
                if let (Some(out), Some(rewards)) =
                    (transition_reward.as_mut(), self.transition_rewards(old, a))
                {
                    out.extend_from_slice(rewards);
                }
                row_start.push(next_state.len());
                reward.push(self.reward(old, a));
            }
        }
        let mut relabelled =
            Self::from_checked_parts(s_count, a_count, row_start, next_state, probability, reward);
        relabelled.transition_reward = transition_reward;
        Ok(relabelled)
    }
}
