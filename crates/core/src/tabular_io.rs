//! Readers for tabular MDPs: craam's long-format CSV and a JSON form.

use std::io::Read;
use std::path::Path;

use serde::Deserialize;

use crate::csv_lines::{parse_field, LineReader};
use crate::error::{Error, Location, Result};
use crate::tabular::{Locate, RawTransitions, TabularMdp};

/// The columns of craam's long format, in the order craam writes them.
pub const CSV_COLUMNS: [&str; 5] = [
    "idstatefrom",
    "idaction",
    "idstateto",
    "probability",
    "reward",
];

/// Maps an entry index to the line it came from, storing only where lines are not consecutive
/// (blank lines, quoted line breaks), so large files cost no memory per row.
#[derive(Default)]
struct LineMap {
    source: String,
    jumps: Vec<(usize, u64)>,
}

impl LineMap {
    fn record(&mut self, entry: usize, line: u64) {
        if self.line_of(entry) != line {
            self.jumps.push((entry, line));
        }
    }

    fn line_of(&self, entry: usize) -> u64 {
        let k = self.jumps.partition_point(|&(i, _)| i <= entry);
        match k {
            0 => entry as u64 + 2,
            _ => {
                let (i, line) = self.jumps[k - 1];
                line + (entry - i) as u64
            }
        }
    }
}

impl Locate for LineMap {
    fn entry(&self, i: usize) -> Location {
        Location::new(self.source.clone()).line(self.line_of(i))
    }
    fn whole(&self) -> Location {
        Location::new(self.source.clone())
    }
}

impl TabularMdp {
    /// Reads an MDP from a file, choosing the format by extension (`.csv` or `.json`).
    pub fn from_path(path: &Path) -> Result<Self> {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("json") => Self::from_json_path(path),
            _ => Self::from_csv_path(path),
        }
    }

    /// Reads craam's long-format CSV (`idstatefrom,idaction,idstateto,probability,reward`,
    /// header required, columns in any order). S and A are one more than the largest ids seen;
    /// a state-action pair with no rows is infeasible. r(s,a) = Σ_s' P(s'|s,a)·r(s,a,s'), and the
    /// rewards r(s,a,s') stay known per transition ([`TabularMdp::transition_rewards`]).
    pub fn from_csv_path(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        Self::from_csv_reader(file, &path.display().to_string())
    }

    /// Reads craam's long-format CSV from any reader; `name` names the source in errors.
    ///
    /// Fields are separated by commas and may be wrapped in double quotes; blank lines are
    /// skipped (and still counted, so errors name the true line).
    pub fn from_csv_reader(reader: impl Read, name: &str) -> Result<Self> {
        let mut lines_in = LineReader::new(reader, name);
        let whole = || Location::new(name);
        let header = lines_in.header(&CSV_COLUMNS.join(","))?;
        let header_line = lines_in.line();
        let mut index = [0usize; 5];
        for (k, column) in CSV_COLUMNS.iter().enumerate() {
            index[k] = header.iter().position(|h| h == column).ok_or_else(|| {
                Error::parse(
                    whole().line(header_line).field(*column),
                    format!(
                        "missing column `{column}` in header; expected {}",
                        CSV_COLUMNS.join(",")
                    ),
                )
            })?;
        }
        let mut raw = RawTransitions::default();
        let mut lines = LineMap {
            source: name.to_string(),
            jumps: Vec::new(),
        };
        let (mut max_state, mut max_action) = (0u32, 0u32);
        while let Some((line, row)) = lines_in.next_record()? {
            if row.len() != header.len() {
                return Err(Error::parse(
                    whole().line(line),
                    format!("row has {} fields, expected {}", row.len(), header.len()),
                ));
            }
            let at = |k: usize| move || Location::new(name).line(line).field(CSV_COLUMNS[k]);
            let id = |k: usize| -> Result<u32> {
                let value: i64 = parse_field(row[index[k]], at(k), "an integer id")?;
                u32::try_from(value)
                    .ok()
                    .filter(|&v| v < u32::MAX)
                    .ok_or_else(|| Error::invalid(at(k)(), format!("id {value} out of range")))
            };
            let s = id(0)?;
            let a = id(1)?;
            let next = id(2)?;
            let p: f64 = parse_field(row[index[3]], at(3), "a number")?;
            let r: f64 = parse_field(row[index[4]], at(4), "a number")?;
            if p.is_nan() || p < 0.0 {
                return Err(Error::invalid(
                    at(3)(),
                    format!("probability {p} is negative or NaN"),
                ));
            }
            if !r.is_finite() {
                return Err(Error::invalid(at(4)(), format!("reward {r} is not finite")));
            }
            lines.record(raw.len(), line);
            max_state = max_state.max(s).max(next);
            max_action = max_action.max(a);
            raw.push(s, a, next, p, r);
        }
        if raw.len() == 0 {
            return Err(Error::parse(
                whole().line(lines_in.line() + 1),
                "no transition rows after the header",
            ));
        }
        Self::assemble(
            max_state as usize + 1,
            max_action as usize + 1,
            raw,
            None,
            &lines,
        )
    }

    /// Reads the JSON form of an MDP from a file; see [`TabularMdp::from_json_str`].
    pub fn from_json_path(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_json_str(&text, &path.display().to_string())
    }

    /// Reads the JSON form of an MDP:
    ///
    /// ```json
    /// {"states": 2, "actions": 2,
    ///  "rewards": [[5, 10], [-1, null]],
    ///  "transitions": [{"state": 0, "action": 0, "next": [0, 1], "probability": [0.5, 0.5]},
    ///                  {"state": 0, "action": 1, "next": [1], "probability": [1]},
    ///                  {"state": 1, "action": 0, "next": [1], "probability": [1]}]}
    /// ```
    ///
    /// `rewards[s][a]` is r(s,a); `null` marks an infeasible action, which has no transitions.
    pub fn from_json_str(text: &str, name: &str) -> Result<Self> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Row {
            state: i64,
            action: i64,
            next: Vec<i64>,
            probability: Vec<f64>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Form {
            states: usize,
            actions: usize,
            rewards: Vec<Vec<Option<f64>>>,
            transitions: Vec<Row>,
        }
        let form: Form = serde_json::from_str(text)
            .map_err(|e| Error::parse(Location::new(name).line(e.line() as u64), e.to_string()))?;
        let at = |field: String| Location::new(name).field(field);
        if form.states == 0 || form.actions == 0 || form.states >= u32::MAX as usize {
            return Err(Error::invalid(
                at("states".into()),
                "need 1 ≤ states < 2^32 − 1 and actions ≥ 1",
            ));
        }
        if form.rewards.len() != form.states {
            return Err(Error::invalid(
                at("rewards".into()),
                format!(
                    "{} rows, expected states = {}",
                    form.rewards.len(),
                    form.states
                ),
            ));
        }
        let mut rewards = Vec::with_capacity(form.states * form.actions);
        for (s, row) in form.rewards.iter().enumerate() {
            if row.len() != form.actions {
                return Err(Error::invalid(
                    at(format!("rewards[{s}]")),
                    format!("{} entries, expected actions = {}", row.len(), form.actions),
                ));
            }
            rewards.extend(row.iter().map(|r| r.unwrap_or(f64::NEG_INFINITY)));
        }
        let mut raw = RawTransitions::default();
        let mut entry_row = Vec::new();
        for (k, row) in form.transitions.iter().enumerate() {
            if row.next.len() != row.probability.len() {
                return Err(Error::invalid(
                    at(format!("transitions[{k}].probability")),
                    format!(
                        "{} probabilities for {} next states",
                        row.probability.len(),
                        row.next.len()
                    ),
                ));
            }
            let id = |v: i64, field: &str, bound: usize| -> Result<u32> {
                usize::try_from(v)
                    .ok()
                    .filter(|&v| v < bound)
                    .map(|v| v as u32)
                    .ok_or_else(|| {
                        Error::invalid(
                            at(format!("transitions[{k}].{field}")),
                            format!("{v} out of range 0..{bound}"),
                        )
                    })
            };
            let s = id(row.state, "state", form.states)?;
            let a = id(row.action, "action", form.actions)?;
            for (&next, &p) in row.next.iter().zip(&row.probability) {
                let next = id(next, "next", form.states)?;
                entry_row.push(k);
                raw.push(s, a, next, p, 0.0);
            }
        }
        struct JsonLocate<'a> {
            name: &'a str,
            entry_row: Vec<usize>,
        }
        impl Locate for JsonLocate<'_> {
            fn entry(&self, i: usize) -> Location {
                Location::new(self.name).field(format!("transitions[{}]", self.entry_row[i]))
            }
            fn whole(&self) -> Location {
                Location::new(self.name)
            }
        }
        Self::assemble(
            form.states,
            form.actions,
            raw,
            Some(rewards),
            &JsonLocate { name, entry_row },
        )
    }
}
