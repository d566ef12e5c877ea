//! A panel of keep-or-replace decisions: per bus and month, the mileage state, whether the
//! engine was replaced, and the state increase since the month before.

use crate::{Error, Location, Result};

/// One bus-month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// Index of the bus in [`Panel::buses`].
    pub bus: u32,
    /// Month, counted from the bus's first.
    pub period: u32,
    /// Discretised mileage since the last replacement.
    pub state: u32,
    /// Whether the engine was replaced this month.
    pub replace: bool,
    /// State increase since the month before (from 0 after a replacement); None in a bus's
    /// first month.
    pub usage: Option<u32>,
}

/// The mileage increments θ₃ estimated from a panel's counts (the transition part of the
/// likelihood, maximised in closed form).
#[derive(Debug, Clone, PartialEq)]
pub struct Increments {
    /// P(the state rises by j), j = 0, 1, ….
    pub probabilities: Vec<f64>,
    /// Their standard errors √(p(1 − p)/N).
    pub std_errors: Vec<f64>,
    /// The transition log-likelihood Σ_j n_j ln p_j.
    pub loglik: f64,
    /// Months counted, N.
    pub n: u64,
}

/// Bus-months over a state space of `n_states` mileage bins, ordered by bus then month.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Bus ids, by index.
    pub buses: Vec<String>,
    /// The observations.
    pub observations: Vec<Observation>,
    /// Number of mileage states; every state is below it.
    pub n_states: usize,
}

impl Panel {
    /// An empty panel over `n_states` states.
    pub fn new(n_states: usize) -> Self {
        Self {
            buses: Vec::new(),
            observations: Vec::new(),
            n_states,
        }
    }

    /// Appends another panel's buses and observations (same state space).
    pub fn extend(&mut self, other: Panel) -> Result<()> {
        if other.n_states != self.n_states {
            return Err(Error::parameter(
                "states",
                format!(
                    "cannot pool panels over {} and {} states",
                    self.n_states, other.n_states
                ),
            ));
        }
        let offset = self.buses.len() as u32;
        self.buses.extend(other.buses);
        self.observations
            .extend(other.observations.into_iter().map(|o| Observation {
                bus: o.bus + offset,
                ..o
            }));
        Ok(())
    }

    /// How often the state rose by 0, 1, 2, … bins (months with a known usage).
    pub fn usage_counts(&self) -> Vec<u64> {
        let mut counts = Vec::new();
        for usage in self.observations.iter().filter_map(|o| o.usage) {
            let usage = usage as usize;
            if counts.len() <= usage {
                counts.resize(usage + 1, 0);
            }
            counts[usage] += 1;
        }
        counts
    }

    /// θ₃ by maximum likelihood: the share of each increment; an error for a panel without
    /// a single known increment.
    pub fn increments(&self) -> Result<Increments> {
        let counts = self.usage_counts();
        let n: u64 = counts.iter().sum();
        if n == 0 {
            return Err(Error::parameter(
                "panel",
                "no bus-months with a known mileage increase: the group is empty",
            ));
        }
        let probabilities: Vec<f64> = counts.iter().map(|&c| c as f64 / n as f64).collect();
        Ok(Increments {
            std_errors: probabilities
                .iter()
                .map(|p| (p * (1.0 - p) / n as f64).sqrt())
                .collect(),
            loglik: counts
                .iter()
                .zip(&probabilities)
                .filter(|(c, _)| **c > 0)
                .map(|(&c, p)| c as f64 * p.ln())
                .sum(),
            probabilities,
            n,
        })
    }

    /// (keeps, replacements) in each state over the months with a known usage.
    pub fn choice_counts(&self) -> Vec<(u64, u64)> {
        let mut counts = vec![(0, 0); self.n_states];
        for o in self.transitions() {
            let cell = &mut counts[o.state as usize];
            if o.replace {
                cell.1 += 1;
            } else {
                cell.0 += 1;
            }
        }
        counts
    }

    /// Months with a known usage: the observations that enter the likelihood.
    pub fn transitions(&self) -> impl Iterator<Item = &Observation> {
        self.observations.iter().filter(|o| o.usage.is_some())
    }

    /// Replacements in the panel.
    pub fn replacements(&self) -> usize {
        self.observations.iter().filter(|o| o.replace).count()
    }

    /// Reads a panel CSV with header `bus,period,state,replace` (replace 0 or 1), rows of one
    /// bus in increasing period. Usage is the state increase, from 0 after a replacement.
    pub fn from_csv_str(text: &str, source: &str, n_states: usize) -> Result<Self> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let (header_line, header) = lines.next().ok_or_else(|| {
            Error::parse(
                Location::new(source).line(1),
                "empty file: expected the header bus,period,state,replace",
            )
        })?;
        let columns: Vec<&str> = header.split(',').map(str::trim).collect();
        let position = |name: &str| {
            columns.iter().position(|c| *c == name).ok_or_else(|| {
                Error::parse(
                    Location::new(source)
                        .line(header_line as u64 + 1)
                        .field(name),
                    format!("the header lacks column `{name}`; expected bus,period,state,replace"),
                )
            })
        };
        let (bus_at, period_at, state_at, replace_at) = (
            position("bus")?,
            position("period")?,
            position("state")?,
            position("replace")?,
        );
        let mut panel = Panel::new(n_states);
        let mut previous: Option<(String, u32, u32, bool)> = None;
        for (index, line) in lines {
            let line_number = index as u64 + 1;
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let at = |k: usize| Location::new(source).line(line_number).field(columns[k]);
            if fields.len() != columns.len() {
                return Err(Error::parse(
                    Location::new(source).line(line_number),
                    format!(
                        "row has {} fields, expected {}",
                        fields.len(),
                        columns.len()
                    ),
                ));
            }
            let number = |k: usize| -> Result<u32> {
                fields[k].parse::<u32>().map_err(|_| {
                    Error::parse(at(k), format!("`{}` is not a whole number ≥ 0", fields[k]))
                })
            };
            let bus = fields[bus_at].to_string();
            let (period, state) = (number(period_at)?, number(state_at)?);
            let replace = match fields[replace_at] {
                "0" => false,
                "1" => true,
                other => {
                    return Err(Error::parse(
                        at(replace_at),
                        format!("`{other}` is not 0 or 1"),
                    ))
                }
            };
            if state as usize >= n_states {
                return Err(Error::invalid(
                    at(state_at),
                    format!(
                        "state {state} is out of range: the model has {n_states} states (0..{})",
                        n_states - 1
                    ),
                ));
            }
            let usage = match &previous {
                Some((last_bus, last_period, last_state, last_replace)) if *last_bus == bus => {
                    if period != last_period + 1 {
                        return Err(Error::invalid(
                            at(period_at),
                            format!("bus `{bus}` jumps from period {last_period} to {period}; periods must be consecutive"),
                        ));
                    }
                    let from = if *last_replace { 0 } else { *last_state };
                    if state < from {
                        return Err(Error::invalid(
                            at(state_at),
                            format!("bus `{bus}`'s state falls from {from} to {state} without a replacement"),
                        ));
                    }
                    Some(state - from)
                }
                _ => {
                    if panel.buses.contains(&bus) {
                        return Err(Error::invalid(
                            at(bus_at),
                            format!("bus `{bus}`'s rows are not contiguous"),
                        ));
                    }
                    panel.buses.push(bus.clone());
                    None
                }
            };
            panel.observations.push(Observation {
                bus: (panel.buses.len() - 1) as u32,
                period,
                state,
                replace,
                usage,
            });
            previous = Some((bus, period, state, replace));
        }
        if panel.observations.is_empty() {
            return Err(Error::invalid(
                Location::new(source),
                "the panel has no rows",
            ));
        }
        Ok(panel)
    }
}
