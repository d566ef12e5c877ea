//! Rust's raw bus files: per bus an 11-value header (id, purchase month and year, month, year
//! and odometer of the first and second replacements, month and year the data begin), then
//! monthly odometer readings; one integer per line, one bus after another.

use std::path::Path;

use choicelab_core::{Error, Location, Result};

use choicelab_core::panel::{Observation, Panel};

/// Rows of the header of each bus.
const HEADER: usize = 11;

/// A group of buses as Rust (1987) numbers them (files named as in his data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusGroup {
    /// 1983 Grumman model 870 (`g870.asc`, 15 buses).
    G1,
    /// 1981 Chance RT-50 (`rt50.asc`, 4 buses).
    G2,
    /// 1979 GMC T8H203 (`t8h203.asc`, 48 buses).
    G3,
    /// 1975 GMC A5308 (`a530875.asc`, 37 buses).
    G4,
    /// 1974 GMC A5308 (`a530874.asc`, 12 buses).
    G5,
    /// 1974 GMC A4523 (`a452374.asc`, 10 buses).
    G6,
    /// 1972 GMC A5308 (`a530872.asc`, 18 buses).
    G7,
    /// 1972 GMC A4523 (`a452372.asc`, 18 buses).
    G8,
}

impl BusGroup {
    /// The group numbered 1–8.
    pub fn from_number(number: u32) -> Result<Self> {
        use BusGroup::*;
        [G1, G2, G3, G4, G5, G6, G7, G8]
            .get((number as usize).wrapping_sub(1))
            .copied()
            .ok_or_else(|| Error::parameter("group", format!("bus groups are 1–8, not {number}")))
    }

    /// The file in the `bus/` data folder, and its rows per bus (header included).
    pub fn file(self) -> (&'static str, usize) {
        match self {
            BusGroup::G1 => ("g870.asc", 36),
            BusGroup::G2 => ("rt50.asc", 60),
            BusGroup::G3 => ("t8h203.asc", 81),
            BusGroup::G4 => ("a530875.asc", 128),
            BusGroup::G5 => ("a530874.asc", 137),
            BusGroup::G6 => ("a452374.asc", 137),
            BusGroup::G7 => ("a530872.asc", 137),
            BusGroup::G8 => ("a452372.asc", 137),
        }
    }
}

/// Reads one group's file from the `bus/` folder and builds its panel with mileage bins of
/// `bin_miles` over `n_states` states.
///
/// A replacement is dated to the month whose next reading passes the replacement odometer;
/// mileage is measured from that odometer afterwards. The state increase of the month after
/// a replacement counts the new engine's bin plus one, the convention of Rust's and ruspy's
/// processing, which reproduces their group-4 counts (1682, 2555, 55).
pub fn read_bus_group(
    folder: &Path,
    group: BusGroup,
    bin_miles: f64,
    n_states: usize,
) -> Result<Panel> {
    let (name, rows) = group.file();
    let path = folder.join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let source = path.display().to_string();
    let mut values = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let value: f64 = line.parse().map_err(|_| {
            Error::parse(
                Location::new(&source).line(index as u64 + 1),
                format!("`{line}` is not a number"),
            )
        })?;
        values.push((index as u64 + 1, value));
    }
    if values.is_empty() || values.len() % rows != 0 {
        return Err(Error::invalid(
            Location::new(&source),
            format!(
                "{} values do not make whole buses of {rows} rows",
                values.len()
            ),
        ));
    }
    let mut panel = Panel::new(n_states);
    for column in values.chunks(rows) {
        let header: Vec<f64> = column[..HEADER].iter().map(|v| v.1).collect();
        let readings = &column[HEADER..];
        let bus = panel.buses.len() as u32;
        panel.buses.push(format!("{}", header[0] as i64));
        let replacements = [header[5], header[8]];
        let mut done = 0;
        let mut previous: Option<(u32, bool)> = None;
        for (t, &(line, odometer)) in readings.iter().enumerate() {
            let reset = if done == 0 {
                0.0
            } else {
                replacements[done - 1]
            };
            let miles = odometer - reset;
            let at = || {
                Location::new(&source)
                    .line(line)
                    .field(format!("bus {}", header[0] as i64))
            };
            if miles < 0.0 {
                return Err(Error::invalid(
                    at(),
                    format!("odometer {odometer} is below the last replacement's {reset}"),
                ));
            }
            let state = (miles / bin_miles).floor() as u32;
            if state as usize >= n_states {
                return Err(Error::invalid(
                    at(),
                    format!("mileage {miles} is in bin {state}, beyond the {n_states} states"),
                ));
            }
            let next = readings.get(t + 1).map(|v| v.1);
            let replace = done < 2
                && replacements[done] != 0.0
                && next.is_some_and(|n| n > replacements[done]);
            if replace {
                done += 1;
            }
            let usage = match previous {
                None => None,
                Some((_, true)) => Some(state + 1),
                Some((last, false)) => Some(state.checked_sub(last).ok_or_else(|| {
                    Error::invalid(
                        at(),
                        format!("the state falls from {last} to {state} without a replacement"),
                    )
                })?),
            };
            panel.observations.push(Observation {
                bus,
                period: t as u32,
                state,
                replace,
                usage,
            });
            previous = Some((state, replace));
        }
    }
    Ok(panel)
}
