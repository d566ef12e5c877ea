//! The cliff geometry shared by [`crate::cliff`] and [`crate::windy_walk`], and a collector of
//! transition entries.

use choicelab_core::{Error, Result};

/// The moves (Δrow, Δcol) of actions 0..4: up, right, down, left.
pub const MOVES: [(i64, i64); 4] = [(-1, 0), (0, 1), (1, 0), (0, -1)];

/// Action index of the move down (the wind's direction in the windy walk).
pub(crate) const DOWN: usize = 2;
/// The index of the move left in [`MOVES`].
pub(crate) const LEFT: usize = 3;

/// A `width` × `height` grid with the start bottom-left, the goal bottom-right and the cliff
/// between them; states are numbered row·width + col, row 0 at the top.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CliffGrid {
    pub width: usize,
    pub height: usize,
}

/// What a cell of the grid is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Open,
    Cliff,
    Goal,
}

impl CliffGrid {
    /// Rejects a grid too small to hold a start, a cliff cell and a goal below a free row.
    pub fn check(&self) -> Result<()> {
        if self.width < 3 || self.height < 2 {
            return Err(Error::parameter(
                "width, height",
                format!(
                    "need width ≥ 3 and height ≥ 2, got {} × {}",
                    self.width, self.height
                ),
            ));
        }
        if self
            .width
            .checked_mul(self.height)
            .is_none_or(|n| n >= u32::MAX as usize)
        {
            return Err(Error::parameter("width, height", "too many cells"));
        }
        Ok(())
    }

    pub fn n_states(&self) -> usize {
        self.width.saturating_mul(self.height)
    }

    pub fn start(&self) -> usize {
        self.height.saturating_sub(1).saturating_mul(self.width)
    }

    pub fn goal(&self) -> usize {
        self.n_states().saturating_sub(1)
    }

    pub fn kind(&self, state: usize) -> Kind {
        if state == self.goal() {
            Kind::Goal
        } else if state > self.start() && state < self.goal() {
            Kind::Cliff
        } else {
            Kind::Open
        }
    }

    /// Whether `state` is the goal or a cliff cell (false for a state off the grid).
    pub fn is_terminal(&self, state: usize) -> bool {
        state < self.n_states() && self.kind(state) != Kind::Open
    }

    pub fn terminal_states(&self) -> Vec<bool> {
        (0..self.n_states()).map(|s| self.is_terminal(s)).collect()
    }

    /// The cell reached by move `action` from `state`; a move into a wall stays put.
    pub fn step(&self, state: usize, action: usize) -> usize {
        let (row, col) = (state / self.width, state % self.width);
        let (dr, dc) = MOVES[action];
        let (r, c) = (row as i64 + dr, col as i64 + dc);
        if (0..self.height as i64).contains(&r) && (0..self.width as i64).contains(&c) {
            r as usize * self.width + c as usize
        } else {
            state
        }
    }
}

/// The outcomes of one state-action pair, merged by (next state, reward).
#[derive(Debug, Default)]
pub(crate) struct Outcomes(Vec<(usize, f64, f64)>);

impl Outcomes {
    /// Adds probability `p` of moving to `next` with `reward`; zero probabilities are dropped.
    pub fn add(&mut self, next: usize, p: f64, reward: f64) {
        if p == 0.0 {
            return;
        }
        match self
            .0
            .iter_mut()
            .find(|(n, _, r)| *n == next && *r == reward)
        {
            Some(entry) => entry.1 += p,
            None => self.0.push((next, p, reward)),
        }
    }

    /// Appends the outcomes as entries of (state, action).
    pub fn drain_into(
        &mut self,
        state: usize,
        action: usize,
        entries: &mut Vec<(usize, usize, usize, f64, f64)>,
    ) {
        entries.extend(self.0.drain(..).map(|(n, p, r)| (state, action, n, p, r)));
    }
}

/// Entries for absorbing `state`: every action loops with probability 1 and reward 0.
pub(crate) fn absorbing(
    state: usize,
    n_actions: usize,
    entries: &mut Vec<(usize, usize, usize, f64, f64)>,
) {
    entries.extend((0..n_actions).map(|a| (state, a, state, 1.0, 0.0)));
}

/// Rejects a probability parameter outside [0, 1] (or NaN).
pub(crate) fn check_probability(name: &str, value: f64) -> Result<()> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::parameter(
            name,
            format!("{value} is not a probability in [0, 1]"),
        ))
    }
}

/// Rejects a reward that is not finite.
pub(crate) fn check_finite(name: &str, value: f64) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(Error::parameter(name, format!("{value} is not finite")))
    }
}
