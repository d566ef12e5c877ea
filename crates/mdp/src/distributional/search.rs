//! The best stationary Markov policy (no stock, no time) for an objective on the return law:
//! exhaustive over deterministic policies when they are few, else seeded coordinate ascent.

use choicelab_core::{rng, Error, Result, Seed, TabularMdp};
use rand::RngExt;
use rayon::prelude::*;

use super::atoms::{check_coverage, check_horizon, Atoms};
use super::evaluation::markov_laws_unchecked;
use super::objective::Objective;
use super::outcomes::Outcomes;
use crate::solution::check_policy;

/// How to search the stationary Markov policies.
#[derive(Debug, Clone)]
pub struct MarkovSearch {
    /// Enumerate every deterministic policy when there are at most this many (counting only
    /// decisions in states reachable from the start).
    pub exhaustive_limit: usize,
    /// Otherwise, coordinate ascent from each of these policies …
    pub starts: Vec<Vec<usize>>,
    /// … and from this many random ones.
    pub random_starts: usize,
    /// Seed of the random starts.
    pub seed: Seed,
}

/// The best policy found, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkovBest {
    /// One action per state.
    pub policy: Vec<usize>,
    /// Its objective value from the start state.
    pub value: f64,
    /// True when every deterministic policy was tried (the value is then the exact optimum
    /// over deterministic stationary policies; with coordinate ascent it is a lower bound).
    pub exhaustive: bool,
    /// Policies evaluated.
    pub evaluated: usize,
}

impl MarkovSearch {
    /// Exhaustive up to 2¹⁶ policies, else ascent from `starts` and 8 random policies.
    pub fn new(starts: Vec<Vec<usize>>, seed: Seed) -> Self {
        Self {
            exhaustive_limit: 1 << 16,
            starts,
            random_starts: 8,
            seed,
        }
    }

    /// Finds the stationary Markov policy maximising `objective` of the return law from
    /// `start` (categorical evaluation on `atoms`, with `horizon` decisions or γ < 1).
    pub fn run(
        &self,
        mdp: &TabularMdp,
        gamma: f64,
        horizon: Option<usize>,
        atoms: &Atoms,
        objective: &Objective,
        start: usize,
    ) -> Result<MarkovBest> {
        objective.check()?;
        check_horizon(gamma, horizon)?;
        check_coverage(atoms, mdp, gamma, horizon)?;
        if start >= mdp.n_states() {
            return Err(Error::parameter(
                "start",
                format!("state {start} out of range 0..{}", mdp.n_states()),
            ));
        }
        for policy in &self.starts {
            check_policy(mdp, policy)?;
        }
        let outcomes = Outcomes::new(mdp);
        let choices = decision_states(&outcomes, start);
        let base: Vec<usize> = (0..mdp.n_states())
            .map(|s| outcomes.feasible(s).next().unwrap_or(0))
            .collect();
        let score = |policy: &[usize]| -> f64 {
            let laws = markov_laws_unchecked(&outcomes, gamma, horizon, atoms, policy);
            objective.of_law(atoms, &laws[start])
        };
        let count = choices
            .iter()
            .try_fold(1usize, |n, (_, actions)| n.checked_mul(actions.len()));
        match count {
            Some(count) if count <= self.exhaustive_limit => {
                let decode = |mut index: usize| {
                    let mut policy = base.clone();
                    for (s, actions) in &choices {
                        policy[*s] = actions[index % actions.len()];
                        index /= actions.len();
                    }
                    policy
                };
                let (index, value) = (0..count)
                    .into_par_iter()
                    .map(|i| (i, score(&decode(i))))
                    .reduce(
                        || (usize::MAX, f64::NEG_INFINITY),
                        |a, b| {
                            if b.1 > a.1 || (b.1 == a.1 && b.0 < a.0) {
                                b
                            } else {
                                a
                            }
                        },
                    );
                Ok(MarkovBest {
                    policy: decode(index),
                    value,
                    exhaustive: true,
                    evaluated: count,
                })
            }
            _ => {
                let mut random = rng(self.seed);
                let mut starts = self.starts.clone();
                for _ in 0..self.random_starts {
                    let mut policy = base.clone();
                    for (s, actions) in &choices {
                        policy[*s] = actions[random.random_range(0..actions.len())];
                    }
                    starts.push(policy);
                }
                let mut best = MarkovBest {
                    policy: base.clone(),
                    value: f64::NEG_INFINITY,
                    exhaustive: false,
                    evaluated: 0,
                };
                for mut policy in starts {
                    let mut value = score(&policy);
                    best.evaluated += 1;
                    loop {
                        let mut improved = false;
                        for (s, actions) in &choices {
                            let current = policy[*s];
                            let trials: Vec<(usize, f64)> = actions
                                .par_iter()
                                .filter(|&&a| a != current)
                                .map(|&a| {
                                    let mut trial = policy.clone();
                                    trial[*s] = a;
                                    (a, score(&trial))
                                })
                                .collect();
                            best.evaluated += trials.len();
                            for (a, trial) in trials {
                                if trial > value + 1e-12 * value.abs().max(1.0)
                                    || value == f64::NEG_INFINITY
                                {
                                    value = trial;
                                    policy[*s] = a;
                                    improved = true;
                                }
                            }
                        }
                        if !improved {
                            break;
                        }
                    }
                    if value > best.value {
                        best.value = value;
                        best.policy = policy;
                    }
                }
                Ok(best)
            }
        }
    }
}

/// States reachable from `start` under some policy that are not absorbing and offer more than
/// one feasible action, with those actions.
fn decision_states(outcomes: &Outcomes, start: usize) -> Vec<(usize, Vec<usize>)> {
    let absorbing = outcomes.absorbing();
    let mut seen = vec![false; outcomes.n_states()];
    let mut stack = vec![start];
    seen[start] = true;
    while let Some(s) = stack.pop() {
        for a in outcomes.feasible(s) {
            for o in outcomes.of(s, a) {
                if o.probability > 0.0 && !seen[o.next] {
                    seen[o.next] = true;
                    stack.push(o.next);
                }
            }
        }
    }
    (0..outcomes.n_states())
        .filter(|&s| seen[s] && !absorbing[s])
        .map(|s| (s, outcomes.feasible(s).collect::<Vec<_>>()))
        .filter(|(_, actions)| actions.len() > 1)
        .collect()
}
