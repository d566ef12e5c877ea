//! Knox et al.'s delivery gridworld: a board of cells, four deterministic moves, and a reward
//! w·φ(s,a) linear in six transition features [gas, goal, sheep, coin, road block, mud].
//!
//! Cell codes are those of the shipped board JSON (`delivery/` in the data folder): 0 blank,
//! 1 goal, 2 house, 3 sheep, 4 coin, 5 road block, 6 mud, and 7–11 mud with a goal, house,
//! sheep, coin or road block. Houses block movement; goals and sheep are terminal (absorbing,
//! reward 0 from then on). A move into a house stays put and costs gas; a move off the board
//! stays put and costs gas, or mud when the agent stands in mud. These rules reproduce the
//! shipped board's reward function exactly.

use std::path::Path;

use choicelab_core::numeric::dot;
use choicelab_core::{rng, Error, Location, Result, Seed, TabularMdp};
use rand::RngExt;

/// Names of the reward features, in order.
pub const FEATURES: [&str; 6] = ["gas", "goal", "sheep", "coin", "road_block", "mud"];

/// The paper's reward weights on [`FEATURES`].
pub const TRUE_WEIGHTS: [f64; 6] = [-1.0, 50.0, -50.0, 1.0, -1.0, -2.0];

/// The moves (Δrow, Δcol): up, down, left, right, in the shipped data's action order.
pub const MOVES: [(i32, i32); 4] = [(-1, 0), (1, 0), (0, -1), (0, 1)];

/// What a cell holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// An empty road.
    Blank,
    /// The delivery goal (terminal).
    Goal,
    /// A house: cannot be entered.
    House,
    /// A sheep: hitting it ends the episode (terminal).
    Sheep,
    /// A coin.
    Coin,
    /// A road block.
    RoadBlock,
    /// Mud, with whatever else is in the cell.
    Mud(MudCell),
}

/// What a mud cell holds besides mud.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MudCell {
    /// Mud alone.
    Plain,
    /// Mud and the goal.
    Goal,
    /// Mud and a house.
    House,
    /// Mud and a sheep.
    Sheep,
    /// Mud and a coin.
    Coin,
    /// Mud and a road block.
    RoadBlock,
}

impl Cell {
    /// The cell with board code `code` (0–11).
    pub fn from_code(code: u8) -> Option<Self> {
        use Cell::*;
        Some(match code {
            0 => Blank,
            1 => Goal,
            2 => House,
            3 => Sheep,
            4 => Coin,
            5 => RoadBlock,
            6 => Mud(MudCell::Plain),
            7 => Mud(MudCell::Goal),
            8 => Mud(MudCell::House),
            9 => Mud(MudCell::Sheep),
            10 => Mud(MudCell::Coin),
            11 => Mud(MudCell::RoadBlock),
            _ => return None,
        })
    }

    /// The board code of the cell.
    pub fn code(self) -> u8 {
        match self {
            Cell::Blank => 0,
            Cell::Goal => 1,
            Cell::House => 2,
            Cell::Sheep => 3,
            Cell::Coin => 4,
            Cell::RoadBlock => 5,
            Cell::Mud(m) => 6 + m as u8,
        }
    }

    /// Whether the cell cannot be entered.
    pub fn is_blocking(self) -> bool {
        matches!(self, Cell::House | Cell::Mud(MudCell::House))
    }

    /// Whether entering the cell ends the episode.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Cell::Goal | Cell::Sheep | Cell::Mud(MudCell::Goal) | Cell::Mud(MudCell::Sheep)
        )
    }

    /// Whether the cell is muddy.
    pub fn is_mud(self) -> bool {
        matches!(self, Cell::Mud(_))
    }

    /// The features of a move into this (enterable) cell.
    fn entry_features(self) -> [f64; 6] {
        let mut phi = [0.0; 6];
        let (gas, goal, sheep, coin, road_block, mud) = (0, 1, 2, 3, 4, 5);
        match self {
            Cell::Blank => phi[gas] = 1.0,
            Cell::Goal | Cell::Mud(MudCell::Goal) => phi[goal] = 1.0,
            Cell::Sheep | Cell::Mud(MudCell::Sheep) => phi[sheep] = 1.0,
            Cell::Coin => (phi[gas], phi[coin]) = (1.0, 1.0),
            Cell::RoadBlock => (phi[gas], phi[road_block]) = (1.0, 1.0),
            Cell::Mud(MudCell::Plain) => phi[mud] = 1.0,
            Cell::Mud(MudCell::Coin) => (phi[mud], phi[coin]) = (1.0, 1.0),
            Cell::Mud(MudCell::RoadBlock) => (phi[mud], phi[road_block]) = (1.0, 1.0),
            Cell::House | Cell::Mud(MudCell::House) => {}
        }
        phi
    }
}

/// One move's outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// The state after the move.
    pub next: usize,
    /// Its features φ(s,a).
    pub features: [f64; 6],
}

/// A delivery board; states are cells, numbered row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryBoard {
    rows: usize,
    cols: usize,
    cells: Vec<Cell>,
}

/// How [`DeliveryBoard::random`] fills a board: the count of each kind of cell, placed on
/// distinct cells uniformly at random, the mud first and the rest on top of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardDesign {
    /// Board height.
    pub rows: usize,
    /// Board width.
    pub cols: usize,
    /// Mud cells.
    pub mud: usize,
    /// Goals (at least one).
    pub goals: usize,
    /// Houses.
    pub houses: usize,
    /// Sheep.
    pub sheep: usize,
    /// Coins.
    pub coins: usize,
    /// Road blocks.
    pub road_blocks: usize,
}

impl Default for BoardDesign {
    /// The shipped board's make-up: 10 × 10 with 16 mud cells, one goal, 3 houses, 4 sheep,
    /// 6 coins and 5 road blocks.
    fn default() -> Self {
        Self {
            rows: 10,
            cols: 10,
            mud: 16,
            goals: 1,
            houses: 3,
            sheep: 4,
            coins: 6,
            road_blocks: 5,
        }
    }
}

impl DeliveryBoard {
    /// A board from its cells, row-major.
    pub fn new(rows: usize, cols: usize, cells: Vec<Cell>) -> Result<Self> {
        if rows == 0 || cols == 0 || cells.len() != rows * cols {
            return Err(Error::parameter(
                "board",
                format!(
                    "{rows} × {cols} needs {} cells, got {}",
                    rows * cols,
                    cells.len()
                ),
            ));
        }
        Ok(Self { rows, cols, cells })
    }

    /// Reads a board JSON: an array of rows, each an array of cell codes (integers 0–11,
    /// written as numbers such as `5` or `5.0`), all rows of one length.
    pub fn from_json_str(text: &str, source: &str) -> Result<Self> {
        let at = || Location::new(source);
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Error::parse(at().line(e.line() as u64), e.to_string()))?;
        let rows = value
            .as_array()
            .ok_or_else(|| Error::parse(at(), "expected an array of rows"))?;
        let mut cells = Vec::new();
        let mut width = None;
        for (r, row) in rows.iter().enumerate() {
            let row = row
                .as_array()
                .ok_or_else(|| Error::parse(at().field(format!("row {r}")), "not an array"))?;
            if *width.get_or_insert(row.len()) != row.len() {
                return Err(Error::invalid(
                    at().field(format!("row {r}")),
                    format!("{} cells, but row 0 has {}", row.len(), width.unwrap_or(0)),
                ));
            }
            for (c, code) in row.iter().enumerate() {
                let field = || at().field(format!("row {r}, column {c}"));
                let number = code
                    .as_f64()
                    .ok_or_else(|| Error::parse(field(), format!("`{code}` is not a number")))?;
                let cell = (number.fract() == 0.0 && (0.0..=255.0).contains(&number))
                    .then(|| Cell::from_code(number as u8))
                    .flatten()
                    .ok_or_else(|| {
                        Error::invalid(field(), format!("{number} is not a cell code (0–11)"))
                    })?;
                cells.push(cell);
            }
        }
        Self::new(rows.len(), width.unwrap_or(0), cells)
            .map_err(|e| Error::invalid(at(), e.to_string()))
    }

    /// Reads a board JSON file.
    pub fn from_path(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_json_str(&text, &path.display().to_string())
    }

    /// A random board of `design`'s make-up with `seed`, redrawn (up to 1,000 times) until
    /// a goal can be reached from every enterable cell.
    pub fn random(design: &BoardDesign, seed: Seed) -> Result<Self> {
        let n = design.rows * design.cols;
        let items = design.goals + design.houses + design.sheep + design.coins + design.road_blocks;
        if design.goals == 0 || n == 0 || items > n || design.mud > n {
            return Err(Error::parameter(
                "board design",
                format!(
                    "need a goal, and at most {n} cells of items and of mud, got {items} items \
                     and {} mud",
                    design.mud
                ),
            ));
        }
        let mut rng = rng(seed);
        for _ in 0..1000 {
            let mut cells = vec![Cell::Blank; n];
            for &i in &sample_distinct(&mut rng, n, design.mud) {
                cells[i] = Cell::Mud(MudCell::Plain);
            }
            let kinds = [
                (design.goals, Cell::Goal, MudCell::Goal),
                (design.houses, Cell::House, MudCell::House),
                (design.sheep, Cell::Sheep, MudCell::Sheep),
                (design.coins, Cell::Coin, MudCell::Coin),
                (design.road_blocks, Cell::RoadBlock, MudCell::RoadBlock),
            ];
            let places = sample_distinct(&mut rng, n, items);
            let mut next = places.iter();
            for (count, dry, wet) in kinds {
                for &i in next.by_ref().take(count) {
                    cells[i] = if cells[i].is_mud() {
                        Cell::Mud(wet)
                    } else {
                        dry
                    };
                }
            }
            let board = Self::new(design.rows, design.cols, cells)?;
            if board.goal_reachable_everywhere() {
                return Ok(board);
            }
        }
        Err(Error::parameter(
            "board design",
            "no board in 1,000 draws lets every cell reach a goal; use fewer houses",
        ))
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Number of states (cells).
    pub fn states(&self) -> usize {
        self.cells.len()
    }

    /// The cell of state `state`.
    pub fn cell(&self, state: usize) -> Cell {
        self.cells[state]
    }

    /// The state at (row, col), or None off the board.
    pub fn state_at(&self, row: i64, col: i64) -> Option<usize> {
        if (0..self.rows as i64).contains(&row) && (0..self.cols as i64).contains(&col) {
            Some(row as usize * self.cols + col as usize)
        } else {
            None
        }
    }

    /// (row, col) of a state.
    pub fn position(&self, state: usize) -> (usize, usize) {
        (state / self.cols, state % self.cols)
    }

    /// The cells an episode may start in: neither terminal nor blocking.
    pub fn start_states(&self) -> Vec<usize> {
        (0..self.states())
            .filter(|&s| !self.cells[s].is_terminal() && !self.cells[s].is_blocking())
            .collect()
    }

    /// Move `action` (index into [`MOVES`]) from `state`.
    pub fn step(&self, state: usize, action: usize) -> Step {
        let here = self.cells[state];
        if here.is_terminal() {
            return Step {
                next: state,
                features: [0.0; 6],
            };
        }
        let (row, col) = self.position(state);
        let (dr, dc) = MOVES[action];
        let mut features = [0.0; 6];
        match self.state_at(row as i64 + dr as i64, col as i64 + dc as i64) {
            Some(next) if !self.cells[next].is_blocking() => Step {
                next,
                features: self.cells[next].entry_features(),
            },
            Some(_) => {
                // Into a house: stay and pay gas, even in mud (as the shipped reward function has it).
                features[0] = 1.0;
                Step {
                    next: state,
                    features,
                }
            }
            None => {
                // Off the board: stay and pay for the ground underfoot.
                features[if here.is_mud() { 5 } else { 0 }] = 1.0;
                Step {
                    next: state,
                    features,
                }
            }
        }
    }

    /// The reward w·φ(s,a) of every (state, action), row-major by state.
    pub fn rewards(&self, weights: &[f64; 6]) -> Vec<f64> {
        (0..self.states())
            .flat_map(|s| (0..MOVES.len()).map(move |a| (s, a)))
            .map(|(s, a)| dot(&self.step(s, a).features, weights))
            .collect()
    }

    /// The board as a tabular MDP with reward w·φ; terminal cells absorb with reward 0.
    pub fn to_mdp(&self, weights: &[f64; 6]) -> Result<TabularMdp> {
        let (s, a) = (self.states(), MOVES.len());
        let mut transitions = vec![0.0; s * a * s];
        for state in 0..s {
            for action in 0..a {
                transitions[(state * a + action) * s + self.step(state, action).next] = 1.0;
            }
        }
        TabularMdp::from_dense(s, a, &transitions, &self.rewards(weights))
    }

    /// Whether a goal can be reached from every enterable cell.
    fn goal_reachable_everywhere(&self) -> bool {
        let mut reached: Vec<bool> = self
            .cells
            .iter()
            .map(|c| matches!(c, Cell::Goal | Cell::Mud(MudCell::Goal)))
            .collect();
        let mut frontier: Vec<usize> = (0..self.states()).filter(|&s| reached[s]).collect();
        // Moves are reversible between enterable cells, so search outwards from the goals.
        while let Some(state) = frontier.pop() {
            let (row, col) = self.position(state);
            for (dr, dc) in MOVES {
                if let Some(t) = self.state_at(row as i64 + dr as i64, col as i64 + dc as i64) {
                    let cell = self.cells[t];
                    if !reached[t] && !cell.is_blocking() {
                        reached[t] = true;
                        if !cell.is_terminal() {
                            frontier.push(t);
                        }
                    }
                }
            }
        }
        (0..self.states())
            .all(|s| reached[s] || self.cells[s].is_blocking() || self.cells[s].is_terminal())
    }
}

/// `k` distinct indices below `n`, in random order (a partial Fisher–Yates shuffle).
fn sample_distinct(rng: &mut choicelab_core::Rng, n: usize, k: usize) -> Vec<usize> {
    let mut pool: Vec<usize> = (0..n).collect();
    for i in 0..k.min(n) {
        let j = rng.random_range(i..n);
        pool.swap(i, j);
    }
    pool.truncate(k.min(n));
    pool
}
