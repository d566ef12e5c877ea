//! Foraging, a homeostasis toy for "keep the collected stock near a target".
//!
//! There is one live state, 0, where episodes start, and a terminal state, 1. Action 0
//! (forage) finds food, reward +1, with probability `food_probability` and otherwise pays 0;
//! action 1 (rest) pays 0. After either action the episode ends with probability
//! `end_probability`: the agent moves to the terminal state, still receiving this step's
//! reward. The terminal state is absorbing: every action loops with probability 1 and reward 0.
//!
//! A policy that sees its stock (the food collected so far) can forage until it holds the
//! target and then rest; a stationary policy on the single live state cannot tell how much it
//! has collected, so it forages or rests at a fixed rate.

use choicelab_core::{Error, Result, TabularMdp};
use serde::{Deserialize, Serialize};

use crate::grid::{absorbing, check_probability};

/// The foraging toy; [`Default`] has food probability 0.8 and end probability 0.05.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Foraging {
    /// Probability that foraging finds food (reward +1).
    pub food_probability: f64,
    /// Probability that the episode ends after a step, in (0, 1].
    pub end_probability: f64,
}

impl Default for Foraging {
    /// Food probability 0.8, end probability 0.05 (20 steps per episode on average).
    fn default() -> Self {
        Self {
            food_probability: 0.8,
            end_probability: 0.05,
        }
    }
}

/// The live state.
const LIVE: usize = 0;
/// The terminal state.
const END: usize = 1;

impl Foraging {
    /// Rejects a food probability outside [0, 1] and an end probability outside (0, 1]; an
    /// episode must end with probability 1 so that undiscounted returns are finite.
    pub fn check(&self) -> Result<()> {
        check_probability("food_probability", self.food_probability)?;
        if !(self.end_probability > 0.0 && self.end_probability <= 1.0) {
            return Err(Error::parameter(
                "end_probability",
                format!("{} is not in (0, 1]", self.end_probability),
            ));
        }
        Ok(())
    }

    /// The toy as a tabular MDP (2 states, 2 actions) with rewards per transition.
    pub fn mdp(&self) -> Result<TabularMdp> {
        self.check()?;
        let (food, end) = (self.food_probability, self.end_probability);
        let (forage, rest) = (0, 1);
        let mut entries = Vec::with_capacity(8);
        for (next, p_next) in [(LIVE, 1.0 - end), (END, end)] {
            for (reward, p_reward) in [(1.0, food), (0.0, 1.0 - food)] {
                entries.push((LIVE, forage, next, p_next * p_reward, reward));
            }
            entries.push((LIVE, rest, next, p_next, 0.0));
        }
        // Impossible outcomes would only widen the range of stocks a planner must cover.
        entries.retain(|e| e.3 > 0.0);
        absorbing(END, 2, &mut entries);
        TabularMdp::from_entries(2, 2, &entries)
    }

    /// The start state (the live state, 0).
    pub fn start(&self) -> usize {
        LIVE
    }

    /// Whether each state is terminal: `[false, true]`.
    pub fn terminal_states(&self) -> Vec<bool> {
        vec![false, true]
    }
}
