//! Discrete choices among alternatives described by attributes: the long format of choice
//! modelling, one row per (observation, alternative).

use std::ops::Range;

use crate::choices::Items;
use crate::error::{Error, Location, Result};

/// One alternative of an observation, as given to [`ChoiceSets::push`].
#[derive(Debug, Clone, Copy)]
pub struct Alternative<'a> {
    /// The alternative's name (`train`, `car`, …).
    pub name: &'a str,
    /// Whether the decision maker could choose it.
    pub available: bool,
    /// Whether it was chosen; exactly one alternative of an observation is.
    pub chosen: bool,
    /// Its attribute values, in the order of [`ChoiceSets::attributes`].
    pub values: &'a [f64],
}

/// Observed choices from sets of alternatives, stored row-major.
///
/// Each observation has its alternatives (named, numbered in order of first appearance), their
/// availability and numeric attributes, and the one alternative chosen, which is available.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChoiceSets {
    alternatives: Items,
    attributes: Vec<String>,
    ids: Vec<String>,
    /// Rows of observation n: `offsets[n]..offsets[n + 1]`.
    offsets: Vec<usize>,
    row_alternative: Vec<u32>,
    row_available: Vec<bool>,
    /// Row r's attributes: `values[r·A..(r + 1)·A]` for A attributes.
    values: Vec<f64>,
    /// The chosen row of each observation, relative to its first row.
    chosen: Vec<u32>,
}

/// One observation: its alternatives, their availability and attributes, and the choice.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// The observation's id.
    pub id: &'a str,
    /// The alternative of each row (indices into [`ChoiceSets::alternatives`]).
    pub alternatives: &'a [u32],
    /// Whether each row's alternative was available.
    pub available: &'a [bool],
    /// Row-major attribute values, one row per alternative.
    pub values: &'a [f64],
    /// The row of the chosen alternative.
    pub chosen: usize,
}

impl ChoiceSets {
    /// Empty choice sets whose alternatives carry the named numeric attributes.
    pub fn new(attributes: &[&str]) -> Self {
        Self {
            attributes: attributes.iter().map(|a| a.to_string()).collect(),
            offsets: vec![0],
            ..Self::default()
        }
    }

    /// Adds observation `id`; see [`ChoiceSets::push_located`].
    pub fn push(&mut self, id: &str, rows: &[Alternative<'_>]) -> Result<()> {
        self.push_located(id, rows, |_| {
            Location::new("choice sets").field(format!("observation {id}"))
        })
    }

    /// Adds observation `id`, checking that it has alternatives, that none repeats, that each
    /// has one finite value per attribute, and that exactly one available alternative was
    /// chosen. `locate(k)` says where row k came from, for errors.
    pub fn push_located(
        &mut self,
        id: &str,
        rows: &[Alternative<'_>],
        locate: impl Fn(usize) -> Location,
    ) -> Result<()> {
        if rows.is_empty() {
            return Err(Error::invalid(
                locate(0),
                format!("observation `{id}` has no alternatives"),
            ));
        }
        let chosen: Vec<usize> = (0..rows.len()).filter(|&k| rows[k].chosen).collect();
        match chosen.as_slice() {
            [] => {
                return Err(Error::invalid(
                    locate(0),
                    format!("observation `{id}` has no chosen alternative"),
                ))
            }
            [k] if !rows[*k].available => {
                return Err(Error::invalid(
                    locate(*k),
                    format!(
                        "observation `{id}` chose `{}`, which is not available",
                        rows[*k].name
                    ),
                ))
            }
            [_] => {}
            [first, second, ..] => {
                return Err(Error::invalid(
                    locate(*second),
                    format!(
                        "observation `{id}` chose both `{}` and `{}`",
                        rows[*first].name, rows[*second].name
                    ),
                ))
            }
        }
        for (k, row) in rows.iter().enumerate() {
            if rows[..k].iter().any(|earlier| earlier.name == row.name) {
                return Err(Error::invalid(
                    locate(k),
                    format!("observation `{id}` lists alternative `{}` twice", row.name),
                ));
            }
            if row.values.len() != self.attributes.len() {
                return Err(Error::invalid(
                    locate(k),
                    format!(
                        "{} attribute values given, expected {} ({})",
                        row.values.len(),
                        self.attributes.len(),
                        self.attributes.join(", ")
                    ),
                ));
            }
            if let Some(a) = row.values.iter().position(|v| !v.is_finite()) {
                return Err(Error::invalid(
                    locate(k),
                    format!(
                        "attribute `{}` of alternative `{}` is {}",
                        self.attributes[a], row.name, row.values[a]
                    ),
                ));
            }
        }
        for row in rows {
            let alternative = self.alternatives.intern(row.name);
            self.row_alternative.push(alternative);
            self.row_available.push(row.available);
            self.values.extend_from_slice(row.values);
        }
        self.chosen.push(chosen[0] as u32);
        self.ids.push(id.to_string());
        self.offsets.push(self.row_alternative.len());
        Ok(())
    }

    /// The alternatives, numbered in order of first appearance.
    pub fn alternatives(&self) -> &Items {
        &self.alternatives
    }

    /// The attribute names.
    pub fn attributes(&self) -> &[String] {
        &self.attributes
    }

    /// Number of observations.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no observations.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Total rows (observation, alternative).
    pub fn rows(&self) -> usize {
        self.row_alternative.len()
    }

    /// The rows of observation `n`.
    pub fn row_range(&self, n: usize) -> Range<usize> {
        self.offsets[n]..self.offsets[n + 1]
    }

    /// Observation `n`.
    pub fn observation(&self, n: usize) -> Observation<'_> {
        let rows = self.row_range(n);
        let width = self.attributes.len();
        Observation {
            id: &self.ids[n],
            alternatives: &self.row_alternative[rows.clone()],
            available: &self.row_available[rows.clone()],
            values: &self.values[rows.start * width..rows.end * width],
            chosen: self.chosen[n] as usize,
        }
    }

    /// All observations, in order.
    pub fn observations(&self) -> impl Iterator<Item = Observation<'_>> {
        (0..self.len()).map(|n| self.observation(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(name: &'a str, chosen: bool, values: &'a [f64]) -> Alternative<'a> {
        Alternative {
            name,
            available: true,
            chosen,
            values,
        }
    }

    #[test]
    fn stores_rows_and_choices() {
        let mut sets = ChoiceSets::new(&["time"]);
        sets.push("a", &[row("bus", false, &[1.0]), row("car", true, &[2.0])])
            .unwrap();
        sets.push("b", &[row("car", false, &[3.0]), row("bus", true, &[4.0])])
            .unwrap();
        assert_eq!(sets.len(), 2);
        assert_eq!(sets.rows(), 4);
        let second = sets.observation(1);
        assert_eq!(second.alternatives, &[1, 0]);
        assert_eq!(second.chosen, 1);
        assert_eq!(second.values, &[3.0, 4.0]);
    }

    #[test]
    fn rejects_bad_observations() {
        let mut sets = ChoiceSets::new(&["time"]);
        let none = sets
            .push("x", &[row("bus", false, &[1.0])])
            .unwrap_err()
            .to_string();
        assert!(none.contains("no chosen alternative"), "{none}");
        let twice = sets
            .push("x", &[row("bus", true, &[1.0]), row("car", true, &[1.0])])
            .unwrap_err()
            .to_string();
        assert!(twice.contains("chose both"), "{twice}");
        let repeated = sets
            .push("x", &[row("bus", true, &[1.0]), row("bus", false, &[1.0])])
            .unwrap_err()
            .to_string();
        assert!(repeated.contains("twice"), "{repeated}");
        let unavailable = Alternative {
            available: false,
            ..row("bus", true, &[1.0])
        };
        let err = sets.push("x", &[unavailable]).unwrap_err().to_string();
        assert!(err.contains("not available"), "{err}");
        let nan = sets
            .push("x", &[row("bus", true, &[f64::NAN])])
            .unwrap_err()
            .to_string();
        assert!(nan.contains("attribute `time`"), "{nan}");
        assert!(sets.is_empty());
    }
}
