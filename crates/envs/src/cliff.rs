//! Sutton and Barto's cliff walk (Example 6.6) with slipping: a risky short path along the cliff
//! and a safe long path away from it.
//!
//! The grid has `height` rows and `width` columns; cell (row, col) has row 0 at the top and is
//! state row·width + col. The episode starts in the bottom-left cell (height−1, 0); the goal is
//! the bottom-right cell (height−1, width−1); the cliff is the bottom row's cells strictly
//! between them. For the default 12 × 4 grid:
//!
//! ```text
//! row 0  . . . . . . . . . . . .
//! row 1  . . . . . . . . . . . .
//! row 2  . . . . . . . . . . . .
//! row 3  S C C C C C C C C C C G
//! ```
//!
//! Actions 0..4 are the moves up, right, down, left ([`MOVES`]). With probability 1 − slip the
//! intended move happens; with probability slip one of the 4 moves is drawn uniformly, so the
//! intended move has total probability 1 − slip + slip/4 and each other one slip/4. A move into
//! a wall stays put. Every move pays `step_reward`; entering a cliff cell pays
//! `step_reward + cliff_reward` and ends the episode there (a fall, no restart); entering the
//! goal ends the episode. Cliff cells and the goal are absorbing: every action loops with
//! probability 1 and reward 0.

use choicelab_core::{Result, TabularMdp};
use serde::{Deserialize, Serialize};

pub use crate::grid::MOVES;
use crate::grid::{absorbing, check_finite, check_probability, CliffGrid, Kind, Outcomes};

/// The cliff walk with slipping; [`Default`] is Sutton and Barto's 12 × 4 grid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CliffWorld {
    /// Number of columns (at least 3).
    pub width: usize,
    /// Number of rows (at least 2).
    pub height: usize,
    /// Probability that the move is drawn uniformly among the 4 instead of the intended one.
    pub slip: f64,
    /// Reward of every move.
    pub step_reward: f64,
    /// Extra reward of a move into a cliff cell.
    pub cliff_reward: f64,
}

impl Default for CliffWorld {
    /// Width 12, height 4, slip 0.1, step reward −1, cliff reward −100.
    fn default() -> Self {
        Self {
            width: 12,
            height: 4,
            slip: 0.1,
            step_reward: -1.0,
            cliff_reward: -100.0,
        }
    }
}

impl CliffWorld {
    fn grid(&self) -> CliffGrid {
        CliffGrid {
            width: self.width,
            height: self.height,
        }
    }

    /// Rejects width < 3, height < 2, slip outside [0, 1] and non-finite rewards.
    pub fn check(&self) -> Result<()> {
        self.grid().check()?;
        check_probability("slip", self.slip)?;
        check_finite("step_reward", self.step_reward)?;
        check_finite("cliff_reward", self.cliff_reward)
    }

    /// The world as a tabular MDP with 4 actions and rewards per transition.
    pub fn mdp(&self) -> Result<TabularMdp> {
        self.check()?;
        let grid = self.grid();
        let n_actions = MOVES.len();
        let mut entries = Vec::new();
        let mut outcomes = Outcomes::default();
        for state in 0..grid.n_states() {
            if grid.is_terminal(state) {
                absorbing(state, n_actions, &mut entries);
                continue;
            }
            for action in 0..n_actions {
                for actual in 0..n_actions {
                    let p = if actual == action {
                        1.0 - self.slip + self.slip / 4.0
                    } else {
                        self.slip / 4.0
                    };
                    let next = grid.step(state, actual);
                    let reward = match grid.kind(next) {
                        Kind::Cliff => self.step_reward + self.cliff_reward,
                        Kind::Open | Kind::Goal => self.step_reward,
                    };
                    outcomes.add(next, p, reward);
                }
                outcomes.drain_into(state, action, &mut entries);
            }
        }
        TabularMdp::from_entries(grid.n_states(), n_actions, &entries)
    }

    /// Number of states, width·height.
    pub fn n_states(&self) -> usize {
        self.grid().n_states()
    }

    /// The start state, bottom-left.
    pub fn start(&self) -> usize {
        self.grid().start()
    }

    /// The goal state, bottom-right.
    pub fn goal(&self) -> usize {
        self.grid().goal()
    }

    /// Whether `state` is the goal or a cliff cell (false for a state off the grid).
    pub fn is_terminal(&self, state: usize) -> bool {
        self.grid().is_terminal(state)
    }

    /// Whether each state is terminal, indexed by state.
    pub fn terminal_states(&self) -> Vec<bool> {
        self.grid().terminal_states()
    }
}
