//! The windy walk: a cliff gridworld whose wind pushes the agent toward the cliff, with the wind
//! strength ξ as the uncertain parameter of a robust MDP (IWOCS).
//!
//! Geometry as in [`crate::cliff`]: `height` rows and `width` columns, cell (row, col) with row 0
//! at the top is state row·width + col; the start is the bottom-left cell, the goal the
//! bottom-right cell, and the cliff the bottom row's cells strictly between them.
//!
//! One step from a non-terminal state:
//! 1. The agent moves deterministically by the chosen action (0..4 = up, right, down, left,
//!    [`MOVES`]); a move into a wall stays put.
//! 2. If the move entered the goal or a cliff cell, the step ends there. Otherwise the wind
//!    blows: with probability ξ (`wind`) it pushes the agent one cell down. In the top row it
//!    pushes to row 1 like anywhere else; in the bottom row (only the start cell is open
//!    there) the floor is a wall and the agent stays. A push from the row above the cliff
//!    into a cliff cell is a fall; a push from above the goal into the goal reaches it.
//!    Otherwise, with probability `headwind`, a headwind pushes it one cell left (the left
//!    wall holds it); with the remaining probability it stays where it moved. The headwind is
//!    zero by default; [`WindyWalk::with_gusts`] splits one wind strength between the two.
//!
//! The step pays `step_reward`, plus `cliff_reward` if it ends in a cliff cell or `goal_reward`
//! if it ends in the goal. Cliff cells and the goal are terminal and absorbing: every action
//! loops with probability 1 and reward 0.
//!
//! With the defaults (8 × 4, step −1, fall −10, goal +20, meant for γ = 0.95) the short path
//! along the row above the cliff is optimal at the [`NOMINAL_WIND`] 0.01 and up to ξ ≈ 0.024;
//! above that a policy that keeps one more row away from the cliff, where a single push is not a
//! fall, does better. At ξ = 0.5 the nominal policy's value from the start is about −11.9
//! against −2.4 for the optimal one, which costs about 1 (3.3 against 4.3) at the nominal wind.
//! The nominal wind is small because each of the 6 moves along the cliff risks a fall: at
//! ξ = 0.1 the short path falls with probability about 1 − 0.9⁶ ≈ 0.47.

use choicelab_core::{Result, TabularMdp};
use serde::{Deserialize, Serialize};

pub use crate::grid::MOVES;
use crate::grid::{
    absorbing, check_finite, check_probability, CliffGrid, Kind, Outcomes, DOWN, LEFT,
};

/// The uncertainty box of the wind strength ξ.
pub const WIND_RANGE: (f64, f64) = (0.0, 0.5);

/// The nominal wind strength, the model a non-robust planner trusts.
pub const NOMINAL_WIND: f64 = 0.01;

/// The windy walk; [`Default`] is the 8 × 4 grid at the nominal wind.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WindyWalk {
    /// Number of columns (at least 3).
    pub width: usize,
    /// Number of rows (at least 2).
    pub height: usize,
    /// Probability ξ ∈ [0, 1] that the wind pushes the agent one cell down after a move.
    pub wind: f64,
    /// Probability that a headwind pushes the agent one cell left (back toward the start)
    /// instead; wind + headwind ≤ 1. Zero by default.
    pub headwind: f64,
    /// Reward of every move.
    pub step_reward: f64,
    /// Extra reward of a step that ends in a cliff cell (a fall).
    pub cliff_reward: f64,
    /// Extra reward of a step that ends in the goal.
    pub goal_reward: f64,
}

impl Default for WindyWalk {
    /// Width 8, height 4, wind [`NOMINAL_WIND`], step −1, fall −10, goal +20.
    fn default() -> Self {
        Self {
            width: 8,
            height: 4,
            wind: NOMINAL_WIND,
            headwind: 0.0,
            step_reward: -1.0,
            cliff_reward: -10.0,
            goal_reward: 20.0,
        }
    }
}

impl WindyWalk {
    fn grid(&self) -> CliffGrid {
        CliffGrid {
            width: self.width,
            height: self.height,
        }
    }

    /// The same world with wind strength `wind` (checked by [`WindyWalk::mdp`]).
    pub fn with_wind(&self, wind: f64) -> Self {
        Self { wind, ..*self }
    }

    /// The same world with a wind of strength `strength` of which the share `down` blows
    /// down and the rest is headwind (checked by [`WindyWalk::mdp`]).
    pub fn with_gusts(&self, strength: f64, down: f64) -> Self {
        Self {
            wind: strength * down,
            headwind: strength * (1.0 - down),
            ..*self
        }
    }

    /// Rejects width < 3, height < 2, winds outside [0, 1] or summing past 1, and non-finite
    /// rewards.
    pub fn check(&self) -> Result<()> {
        self.grid().check()?;
        check_probability("wind", self.wind)?;
        check_probability("headwind", self.headwind)?;
        check_probability("wind + headwind", self.wind + self.headwind)?;
        check_finite("step_reward", self.step_reward)?;
        check_finite("cliff_reward", self.cliff_reward)?;
        check_finite("goal_reward", self.goal_reward)
    }

    /// The world at its wind as a tabular MDP with 4 actions and rewards per transition.
    pub fn mdp(&self) -> Result<TabularMdp> {
        self.check()?;
        let grid = self.grid();
        let n_actions = MOVES.len();
        let reward = |cell: usize| match grid.kind(cell) {
            Kind::Open => self.step_reward,
            Kind::Cliff => self.step_reward + self.cliff_reward,
            Kind::Goal => self.step_reward + self.goal_reward,
        };
        let mut entries = Vec::new();
        let mut outcomes = Outcomes::default();
        for state in 0..grid.n_states() {
            if grid.is_terminal(state) {
                absorbing(state, n_actions, &mut entries);
                continue;
            }
            for action in 0..n_actions {
                let moved = grid.step(state, action);
                if grid.is_terminal(moved) {
                    outcomes.add(moved, 1.0, reward(moved));
                } else {
                    let pushed = grid.step(moved, DOWN);
                    let held_back = grid.step(moved, LEFT);
                    outcomes.add(moved, 1.0 - self.wind - self.headwind, reward(moved));
                    outcomes.add(pushed, self.wind, reward(pushed));
                    outcomes.add(held_back, self.headwind, reward(held_back));
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
