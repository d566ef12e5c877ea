//! Observed choices: pairwise comparisons (hard, tied or soft) and choices from sets.

use std::collections::HashMap;

use crate::error::{Error, Location, Result};

/// Items named by strings, numbered in order of first appearance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Items {
    names: Vec<String>,
    lookup: HashMap<String, u32>,
}

impl Items {
    /// Items named "0", "1", …, "n−1".
    pub fn numbered(n: usize) -> Self {
        let mut items = Items::default();
        for i in 0..n {
            items.intern(&i.to_string());
        }
        items
    }

    /// The index of `name`, adding it if new.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.lookup.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.to_string());
        self.lookup.insert(name.to_string(), i);
        i
    }

    /// The index of `name`, if known.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.lookup.get(name).copied()
    }

    /// The name of item `i`.
    pub fn name(&self, i: u32) -> &str {
        &self.names[i as usize]
    }

    /// All names, by index.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// How a comparison of `first` with `second` came out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// `first` was preferred.
    First,
    /// `second` was preferred.
    Second,
    /// Neither was preferred.
    Tie,
    /// P(first preferred to second), a soft label in [0, 1].
    Probability(f64),
}

/// One pairwise comparison, with a weight (a count, or an importance).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// The first item.
    pub first: u32,
    /// The second item.
    pub second: u32,
    /// The outcome.
    pub outcome: Outcome,
    /// Weight (1 for a single observation; a count for aggregated rows).
    pub weight: f64,
}

impl Comparison {
    /// The share of the weight won by `first`: 1, 0, ½ for a tie, or the soft label.
    pub fn first_share(&self) -> f64 {
        match self.outcome {
            Outcome::First => 1.0,
            Outcome::Second => 0.0,
            Outcome::Tie => 0.5,
            Outcome::Probability(p) => p,
        }
    }
}

/// Pairwise comparisons among named items.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comparisons {
    items: Items,
    records: Vec<Comparison>,
}

impl Comparisons {
    /// No comparisons among `items`.
    pub fn new(items: Items) -> Self {
        Self {
            items,
            records: Vec::new(),
        }
    }

    /// Hard comparisons among `n` numbered items, each given as (winner, loser).
    pub fn from_wins(n: usize, wins: &[(u32, u32)]) -> Result<Self> {
        let mut data = Self::new(Items::numbered(n));
        for (k, &(winner, loser)) in wins.iter().enumerate() {
            data.push(winner, loser, Outcome::First, 1.0)
                .map_err(|e| relocate(e, Location::new("<pairs>").field(format!("[{k}]"))))?;
        }
        Ok(data)
    }

    /// Adds a comparison, checking ids, the outcome and the weight.
    pub fn push(&mut self, first: u32, second: u32, outcome: Outcome, weight: f64) -> Result<()> {
        let at = Location::new("<comparisons>");
        let n = self.items.len() as u32;
        if first >= n || second >= n {
            return Err(Error::invalid(
                at.field("item"),
                format!("item {} out of range 0..{n}", first.max(second)),
            ));
        }
        if first == second {
            return Err(Error::invalid(
                at.field("item"),
                format!("item `{}` is compared with itself", self.items.name(first)),
            ));
        }
        if let Outcome::Probability(p) = outcome {
            if !(0.0..=1.0).contains(&p) {
                return Err(Error::invalid(
                    at.field("probability"),
                    format!("label {p} is outside [0, 1]"),
                ));
            }
        }
        if !(weight > 0.0 && weight.is_finite()) {
            return Err(Error::invalid(
                at.field("weight"),
                format!("weight {weight} must be positive and finite"),
            ));
        }
        self.records.push(Comparison {
            first,
            second,
            outcome,
            weight,
        });
        Ok(())
    }

    /// The items.
    pub fn items(&self) -> &Items {
        &self.items
    }

    /// The comparisons.
    pub fn records(&self) -> &[Comparison] {
        &self.records
    }
}

/// A choice of `winner` from `winner` plus `others`.
#[derive(Debug, Clone, PartialEq)]
pub struct SetChoice {
    /// The chosen item.
    pub winner: u32,
    /// The items not chosen (at least one).
    pub others: Vec<u32>,
}

/// Choices from sets among named items: top-1 choices, or rankings decomposed into them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SetChoices {
    items: Items,
    choices: Vec<SetChoice>,
}

impl SetChoices {
    /// No choices among `items`.
    pub fn new(items: Items) -> Self {
        Self {
            items,
            choices: Vec::new(),
        }
    }

    /// Adds a top-1 choice of `winner` over `others`.
    pub fn push(&mut self, winner: u32, others: &[u32]) -> Result<()> {
        let at = Location::new("<choices>");
        let n = self.items.len() as u32;
        if others.is_empty() {
            return Err(Error::invalid(
                at.field("others"),
                "a choice needs an alternative",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for &i in std::iter::once(&winner).chain(others) {
            if i >= n {
                return Err(Error::invalid(
                    at.field("item"),
                    format!("item {i} out of range 0..{n}"),
                ));
            }
            if !seen.insert(i) {
                return Err(Error::invalid(
                    at.field("item"),
                    format!(
                        "item `{}` appears twice in one choice set",
                        self.items.name(i)
                    ),
                ));
            }
        }
        self.choices.push(SetChoice {
            winner,
            others: others.to_vec(),
        });
        Ok(())
    }

    /// Adds a (full or partial) ranking, best first, as its successive top-1 choices.
    pub fn push_ranking(&mut self, ranking: &[u32]) -> Result<()> {
        if ranking.len() < 2 {
            return Err(Error::invalid(
                Location::new("<rankings>"),
                "a ranking needs at least two items",
            ));
        }
        for k in 0..ranking.len() - 1 {
            self.push(ranking[k], &ranking[k + 1..])?;
        }
        Ok(())
    }

    /// Top-1 choices among `n` numbered items, each given as (winner, others).
    pub fn from_top1(n: usize, choices: &[(u32, Vec<u32>)]) -> Result<Self> {
        let mut data = Self::new(Items::numbered(n));
        for (winner, others) in choices {
            data.push(*winner, others)?;
        }
        Ok(data)
    }

    /// Rankings among `n` numbered items, best first.
    pub fn from_rankings(n: usize, rankings: &[Vec<u32>]) -> Result<Self> {
        let mut data = Self::new(Items::numbered(n));
        for ranking in rankings {
            data.push_ranking(ranking)?;
        }
        Ok(data)
    }

    /// The items.
    pub fn items(&self) -> &Items {
        &self.items
    }

    /// The choices.
    pub fn choices(&self) -> &[SetChoice] {
        &self.choices
    }
}

/// The same error with an `Invalid` one moved to `at` (records checked in memory, then placed
/// at the input they came from).
pub(crate) fn relocate(error: Error, at: Location) -> Error {
    match error {
        Error::Invalid { message, .. } => Error::Invalid { at, message },
        other => other,
    }
}
