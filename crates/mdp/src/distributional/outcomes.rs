//! The outcomes (next state, probability, reward) of every state-action pair, read once from a
//! [`TabularMdp`], and which states are absorbing.

use choicelab_core::TabularMdp;

/// One possible result of taking an action.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// The next state s'.
    pub next: usize,
    /// P(s' | s, a) for this entry.
    pub probability: f64,
    /// The reward r(s, a, s') this entry pays.
    pub reward: f64,
}

/// Every (s, a)'s outcomes in one flat table; rewards per transition where the MDP knows them,
/// else r(s, a) on every successor.
#[derive(Debug, Clone)]
pub struct Outcomes {
    n_actions: usize,
    start: Vec<usize>,
    outcomes: Vec<Outcome>,
    feasible: Vec<bool>,
}

impl Outcomes {
    /// Reads the outcomes of `mdp`.
    pub fn new(mdp: &TabularMdp) -> Self {
        let (n, a_count) = (mdp.n_states(), mdp.n_actions());
        let mut start = Vec::with_capacity(n * a_count + 1);
        let mut outcomes = Vec::with_capacity(mdp.nnz());
        let mut feasible = Vec::with_capacity(n * a_count);
        start.push(0);
        for s in 0..n {
            for a in 0..a_count {
                let (next, prob) = mdp.transitions(s, a);
                let rewards = mdp.transition_rewards(s, a);
                for (k, (&next, &probability)) in next.iter().zip(prob).enumerate() {
                    let reward = rewards.map_or(mdp.reward(s, a), |r| r[k]);
                    outcomes.push(Outcome {
                        next: next as usize,
                        probability,
                        reward,
                    });
                }
                start.push(outcomes.len());
                feasible.push(mdp.is_feasible(s, a));
            }
        }
        Self {
            n_actions: a_count,
            start,
            outcomes,
            feasible,
        }
    }

    /// The outcomes of action `a` in state `s`.
    #[inline]
    pub fn of(&self, s: usize, a: usize) -> &[Outcome] {
        let row = s * self.n_actions + a;
        &self.outcomes[self.start[row]..self.start[row + 1]]
    }

    /// The feasible actions of state `s`.
    pub fn feasible(&self, s: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.n_actions).filter(move |&a| self.feasible[s * self.n_actions + a])
    }

    /// Whether action `a` is feasible in state `s`.
    pub fn is_feasible(&self, s: usize, a: usize) -> bool {
        self.feasible[s * self.n_actions + a]
    }

    /// Number of actions.
    pub fn n_actions(&self) -> usize {
        self.n_actions
    }

    /// Number of states.
    pub fn n_states(&self) -> usize {
        self.feasible.len() / self.n_actions
    }

    /// States that every feasible action keeps in place with reward 0: an episode reaching one
    /// is over.
    pub fn absorbing(&self) -> Vec<bool> {
        (0..self.n_states())
            .map(|s| {
                self.feasible(s).all(|a| {
                    self.of(s, a)
                        .iter()
                        .all(|o| o.next == s && o.reward == 0.0 || o.probability == 0.0)
                })
            })
            .collect()
    }
}
